"""Our own modules' import time inside Home Assistant: self time from ``-X importtime``.

Usage: ``.venv/bin/python -m benchmarks.import_time [--reps 15]``; prints the median and the
p10-p90 spread of the total, and each module's median; then the same import's CPU time.

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
- Wall time counts waiting for a core: on a loaded machine (other processes on the two
  cores) the self times swing by several times. The second figure is CPU time
  (``time.process_time``) of the same import after everything it pulls in from Home
  Assistant and the libraries has been imported first (the list is read from a first run):
  the CPU our own modules take, steady under load.
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


_DEPENDENCIES_CODE = (
    "import sys; import homeassistant.core, pytest_homeassistant_custom_component.common; "
    "before = set(sys.modules); from benchmarks.ha_setup import import_ours; import_ours(); "
    "print('\\n'.join(sorted(name for name in set(sys.modules) - before "
    f"if not name.startswith({PACKAGE!r}))))"
)
_CPU_CODE = (
    "import sys, time, importlib; "
    "import homeassistant.core, pytest_homeassistant_custom_component.common; "
    "from benchmarks.ha_setup import import_ours; "
    "[importlib.import_module(name) for name in sys.stdin.read().split()]; "
    "start = time.process_time(); import_ours(); print(time.process_time() - start)"
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


def run_python(python: str, code: str, stdin: str = "", *, importtime: bool = False) -> str:
    """Run `code` in a fresh interpreter, bytecode allowed; return its standard output, or
    with `importtime` its ``-X importtime`` report (standard error)."""
    done = subprocess.run(  # noqa: S603 - our own code, fixed arguments
        [python, *(["-X", "importtime"] if importtime else []), "-c", code],
        input=stdin,
        cwd=ROOT,
        env=bytecode_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stderr if importtime else done.stdout


def warm_up(python: str) -> None:
    """Run the import once so that every module's bytecode is cached (figures discarded)."""
    run_python(python, _CODE)


def measure(python: str, reps: int) -> list[dict[str, int]]:
    """Self times of our modules in `reps` fresh interpreters, after a warm-up."""
    warm_up(python)
    return [own_self_times(run_python(python, _CODE, importtime=True)) for _ in range(reps)]


def cpu_samples(python: str, dependencies_code: str, cpu_code: str, reps: int) -> list[float]:
    """Milliseconds of CPU `cpu_code` reports, one per fresh interpreter.

    A first run of `dependencies_code` lists what the import pulls in that is not ours (and
    writes the bytecode); `cpu_code` imports that list, then times our import.
    """
    deps = run_python(python, dependencies_code)
    return [float(run_python(python, cpu_code, deps).split()[-1]) * 1000 for _ in range(reps)]


def measure_cpu(python: str, reps: int) -> list[float]:
    """Milliseconds of CPU our import takes with its dependencies imported before it."""
    return cpu_samples(python, _DEPENDENCIES_CODE, _CPU_CODE, reps)


def cpu_line(what: str, samples: Sequence[float], digits: int = 1) -> str:
    """Return the line that reports the CPU figure of `what`."""
    cpu = summarize(samples)
    return (
        f"{what}, CPU with the dependencies loaded first: median {cpu.median:.{digits}f} ms "
        f"(p10 {cpu.p10:.{digits}f}, p90 {cpu.p90:.{digits}f}; {cpu.n} runs)"
    )


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
    print(cpu_line("own modules", measure_cpu(sys.executable, args.reps)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
