"""Smoke runs of the user-level benchmark (``scripts/bench hass``) and of its ffmpeg
experiment (``scripts/bench ffmpeg``), so that they cannot rot.

It starts the emulator and a real ``hass`` with tiny sizes and one repetition, exactly as the
measured run does; only the shape of the result is checked (every row, a first byte no later
than the last), never a speed. Core's ``fish_audio`` is part of it when its SDK is in
``.cache/bench-hass-sdk`` (``scripts/bench hass`` puts it there); a fresh clone reports why
that column is missing instead of installing anything during a test.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import run_benchmark

pytestmark = pytest.mark.timeout(600)


@pytest.mark.skipif(
    importlib.util.find_spec("hass_frontend") is None,
    reason="Home Assistant cannot start without home-assistant-frontend (see tests/e2e)",
)
def test_hass_latency_smoke(tmp_path: Path) -> None:
    """One repetition through a real Home Assistant: every row has a plausible figure."""
    out = tmp_path / "result.json"
    done = run_benchmark("benchmarks.hass_latency", "--json", str(out), timeout=540)
    result: dict[str, Any] = json.loads(out.read_text())
    who = ["ours", "floor"] + ([] if result["builtin_note"] else ["builtin"])
    tts = {f"{case}/{name}" for case in ("mp3", "wav16k") for name in who}
    assist = {f"assist/{name}" for name in who}  # the floor: the same deltas, live WebSocket
    assert set(result["summaries"]) == tts | assist
    for key, metrics in result["summaries"].items():
        assert metrics["first"]["n"] == 1
        if key in tts:  # from one request: the first byte cannot come after the last
            assert 0 < metrics["first"]["median"] <= metrics["last"]["median"], key
    for key in assist:  # audio only after the first delta, and the last one after the last
        assert result["summaries"][key]["first"]["median"] > 0, key
        assert result["summaries"][key]["last"]["median"] > 0, key
    for key in tts - {"mp3/floor", "wav16k/floor"}:
        assert result["cpu_per_audio_minute_s"][key] >= 0
        assert all(sample["audio_s"] > 0 for sample in result["samples"][key])
    if result["builtin_note"]:
        assert "fish-audio-sdk" in result["builtin_note"]
    assert "| mp3 | ours |" in done.stdout


def test_ha_ffmpeg_smoke() -> None:
    """The ffmpeg experiment (``scripts/bench ffmpeg``) runs every release's command to a WAV."""
    done = run_benchmark("benchmarks.ha_ffmpeg", timeout=120)
    rows = [line for line in done.stdout.splitlines() if line.startswith("| 2026.")]
    assert len(rows) == 5  # each ran and wrote 16 kHz mono 16-bit WAV (checked by the module)
