"""The official SDK's own virtual environment, for the benchmarks only.

``fish-audio-sdk`` is never a dependency of the integration, and it is not installed into
the project's test venv either: it lives in ``.cache/bench-sdk`` (git-ignored), created on
demand from ``benchmarks/requirements.txt``. The SDK worker runs with that interpreter.

Why a separate venv: pip's resolver would only *add* packages to the test venv today
(``fish-audio-sdk``, ``httpx-ws``, ``wsproto``; httpx, pydantic, anyio and ormsgpack are
already satisfied), but any future pin change on either side could make it upgrade or
downgrade a Home Assistant pin, and a test venv with the SDK in it would also let a test
import the SDK by accident. A venv of its own cannot disturb the tests.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "benchmarks" / "requirements.txt"
VENV = ROOT / ".cache" / "bench-sdk"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".requirements.sha256"


def _wanted() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def _ready() -> bool:
    return PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == _wanted()


def _install() -> None:
    base = getattr(sys, "_base_executable", sys.executable)
    if not PYTHON.exists():
        print(f"==> Creating {VENV.relative_to(ROOT)} for fish-audio-sdk (benchmarks only)")
        subprocess.run([base, "-m", "venv", str(VENV)], check=True)  # noqa: S603 - fixed
    print(f"==> Installing {REQUIREMENTS.relative_to(ROOT)} into {VENV.relative_to(ROOT)}")
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            str(PYTHON),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(REQUIREMENTS),
        ],
        check=True,
    )
    STAMP.write_text(_wanted() + "\n")


def sdk_python(*, install: bool) -> tuple[str | None, str]:
    """Return the interpreter that can import the SDK, or None and why not.

    Args:
        install: Create or update ``.cache/bench-sdk`` when it is missing or stale.

    Returns:
        (path of a python that imports ``fishaudio``, or None; a note for the report)
    """
    if not _ready() and install:
        try:
            _install()
        except (OSError, subprocess.CalledProcessError) as err:
            return None, f"could not install the SDK into {VENV}: {err}"
    if _ready():
        return str(PYTHON), f"SDK venv {VENV.relative_to(ROOT)}"
    if importlib.util.find_spec("fishaudio") is not None:
        return sys.executable, "SDK found in the current interpreter"
    return None, (
        "fish-audio-sdk is not installed (it lives in .cache/bench-sdk, created by "
        "`scripts/bench`); SDK figures skipped"
    )
