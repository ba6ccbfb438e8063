"""The import-time benchmark counts every one of our modules, and what stays unloaded.

`benchmarks.import_time` reads `-X importtime`'s report; a module imported through
`importlib.import_module` has no line there, so a benchmark that imported that way lost the
package's, the config flow's and the platforms' own time. These tests run it for real (two
fresh interpreters) and check which of our modules it saw. Speed is never asserted here.
"""

from __future__ import annotations

import os
import sys

import pytest

from benchmarks import import_time

PACKAGE = import_time.PACKAGE
# What Home Assistant imports at startup for an entry of Fish Audio's cloud: the package, the
# config flow and diagnostics (preloaded platforms) and every platform module.
LOADED = {"", ".config_flow", ".diagnostics", ".sensor", ".stt", ".tts", ".services", ".api.client"}
# What only a self-hosted Fish Speech entry (or a flow that sets one up), an action, a live
# text stream or the first transcription needs: loaded when it is used.
LAZY = {
    ".audio",
    ".fish_speech",
    ".fish_speech_flow",
    ".api.fish_speech",
    ".api.live",
    ".fish_speech_tts",
    ".fish_speech_services",
    ".files",
    ".subtitles",
}


@pytest.fixture(scope="module")
def runs() -> list[dict[str, int]]:
    """One measured run of the benchmark (after its warm-up run)."""
    return import_time.measure(sys.executable, 1)


def test_every_module_home_assistant_loads_is_counted(runs: list[dict[str, int]]) -> None:
    """The package, the config flow and the platforms have their own lines."""
    names = {name.removeprefix(PACKAGE) for name in runs[0]}
    assert names >= LOADED
    assert all(value >= 0 for value in runs[0].values())
    assert f"own modules, self time: median {sum(runs[0].values()) / 1000:.1f} ms" in (
        import_time.report(runs)
    )


def test_backend_and_action_code_is_not_loaded_at_startup(runs: list[dict[str, int]]) -> None:
    """Cloud-only startup imports none of the Fish Speech stack, the actions' modules, audio."""
    names = {name.removeprefix(PACKAGE) for name in runs[0]}
    assert not names & LAZY


def test_bytecode_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A shell's PYTHONDONTWRITEBYTECODE does not reach the measured interpreters."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = import_time.bytecode_env()
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["PATH"] == os.environ["PATH"]


def test_parsing_sums_only_our_self_times() -> None:
    """Self time (first column) of our modules only; other modules are not ours."""
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       120 |        120 |   homeassistant.components.tts",
            f"import time:       300 |        900 |   {PACKAGE}.tts",
            f"import time:        50 |       2000 | {PACKAGE}",
        ]
    )
    assert import_time.own_self_times(stderr) == {f"{PACKAGE}.tts": 300, PACKAGE: 50}


def test_cpu_figure_is_measured() -> None:
    """The CPU figure (dependencies imported first) comes from a real run of our import."""
    (sample,) = import_time.measure_cpu(sys.executable, 1)
    assert sample > 0
