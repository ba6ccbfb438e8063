"""CPU time of importing the client package (``api/``) alone, inside Home Assistant.

Usage: ``.venv/bin/python -m benchmarks.import_api [--reps 15]``; prints the median and the
p10-p90 spread in milliseconds.

``benchmarks.import_time`` measures all our modules; this isolates the client's share with
the steadier of its two figures. Every repetition is a fresh interpreter (bytecode cached,
as there) that imports Home Assistant's core and the test harness, then everything the
client package pulls in that is not ours (the list is read from a first run), and then
times ``import custom_components.fish_audio_suite.api`` with ``time.process_time``. The
integration's own package is replaced by an empty module with the same path first: its
``__init__`` imports the Home Assistant side, which is not the client's.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import sys

from .import_time import PACKAGE, cpu_line, cpu_samples, run_python

__all__ = ["PACKAGE", "PREPARE", "main", "measure", "run_python"]

PREPARE = (
    "import sys, types, importlib; "
    "import homeassistant.core, pytest_homeassistant_custom_component.common; "
    "import custom_components; "
    f"package = types.ModuleType({PACKAGE!r}); "
    "package.__path__ = [custom_components.__path__[0] + '/fish_audio_suite']; "
    f"sys.modules[{PACKAGE!r}] = package; "
)
_DEPENDENCIES_CODE = PREPARE + (
    f"before = set(sys.modules); import {PACKAGE}.api; "
    "print('\\n'.join(sorted(name for name in set(sys.modules) - before "
    f"if not name.startswith({PACKAGE!r}))))"
)
_CPU_CODE = PREPARE + (
    "import time; [importlib.import_module(name) for name in sys.stdin.read().split()]; "
    f"start = time.process_time(); import {PACKAGE}.api; print(time.process_time() - start)"
)


def measure(python: str, reps: int) -> list[float]:
    """Milliseconds of CPU the client package's import takes, one per fresh interpreter."""
    return cpu_samples(python, _DEPENDENCIES_CODE, _CPU_CODE, reps)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.import_api", description=__doc__)
    parser.add_argument("--reps", type=int, default=15, help="fresh interpreters (default 15)")
    args = parser.parse_args(argv)
    print(cpu_line("api/ alone", measure(sys.executable, args.reps), digits=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
