"""Our own modules' import time inside Home Assistant: self time from ``-X importtime``.

Usage: ``.venv/bin/python -m benchmarks.import_time [--reps 15]``; prints the median and the
p10-p90 spread of the total, and each module's median.

Every repetition is a fresh interpreter that first imports Home Assistant's core and the test
harness (``benchmarks.ha_setup``'s first phase: what is loaded before any integration), then
our package, its config flow and platform modules as Home Assistant does at startup
(``import_ours``). Only the lines of our own modules count, each with its *self* time: the
Home Assistant modules they pull in are not ours.

Two things would inflate the figures, so both are ruled out:

- ``PYTHONDONTWRITEBYTECODE`` (some shells set it) makes every import compile its source
  instead of loading the cached bytecode, which triples our figures. The subprocesses run
  without it, after one discarded warm-up run that writes the bytecode, as Home Assistant
  finds it after its first start.
- ``importlib.import_module`` bypasses ``-X importtime``'s report (CPython logs only the
  import statement's path), so a module imported that way shows no line of its own and its
  self time is silently dropped; ``import_ours`` uses ``__import__``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import os
import re
import statistics
import subprocess
import sys

from .common import summarize
from .sdk_env import ROOT

PACKAGE = "custom_components.fish_audio_suite"
_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|\s+(.*)$")
_CODE = (
    "import homeassistant.core, pytest_homeassistant_custom_component.common; "
    "from benchmarks.ha_setup import import_ours; import_ours()"
)


def bytecode_env() -> dict[str, str]:
    """Return this process's environment with bytecode caching allowed."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def own_self_times(stderr: str) -> dict[str, int]:
    """Microseconds of self import time of each of our modules in ``-X importtime`` output."""
    times: dict[str, int] = {}
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if match and (name := match.group(3).strip()).startswith(PACKAGE):
            times[name] = times.get(name, 0) + int(match.group(1))
    return times


def warm_up(python: str) -> None:
    """Run the import once so that every module's bytecode is cached (figures discarded)."""
    subprocess.run(  # noqa: S603 - our own code, fixed arguments
        [python, "-c", _CODE], cwd=ROOT, env=bytecode_env(), capture_output=True, check=True
    )


def measure(python: str, reps: int) -> list[dict[str, int]]:
    """Self times of our modules in `reps` fresh interpreters, after a warm-up."""
    warm_up(python)
    runs = []
    for _ in range(reps):
        done = subprocess.run(  # noqa: S603 - our own code, fixed arguments
            [python, "-X", "importtime", "-c", _CODE],
            cwd=ROOT,
            env=bytecode_env(),
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        runs.append(own_self_times(done.stderr))
    return runs


def report(runs: Sequence[dict[str, int]]) -> str:
    """Return the total's median and spread and each module's median, in milliseconds."""
    total = summarize([sum(run.values()) / 1000 for run in runs])
    names = sorted({name for run in runs for name in run})
    medians = {name: statistics.median(run.get(name, 0) for run in runs) / 1000 for name in names}
    head = f"own modules, self time: median {total.median:.1f} ms"
    spread = f"p10 {total.p10:.1f}, p90 {total.p90:.1f}; {total.n} runs, {len(names)} modules"
    lines = [f"{head} ({spread})"]
    for name, value in sorted(medians.items(), key=lambda item: -item[1]):
        lines.append(f"  {value:6.2f}  {name.removeprefix(PACKAGE) or '(package)'}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.import_time", description=__doc__)
    parser.add_argument("--reps", type=int, default=15, help="fresh interpreters (default 15)")
    args = parser.parse_args(argv)
    print(report(measure(sys.executable, args.reps)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
