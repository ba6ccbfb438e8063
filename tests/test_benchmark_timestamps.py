"""Smoke run of benchmarks/timestamps.py, so that it cannot rot (no speed is asserted)."""

from __future__ import annotations

import pytest

from benchmarks.timestamps import run


@pytest.mark.usefixtures("socket_enabled")
async def test_timestamp_benchmark_runs() -> None:
    result = await run(3.0, 1)
    assert result["audio_bytes"] > 0
    assert result["sse_bytes"] > result["audio_bytes"]  # base64 and JSON around the audio
    assert result["words"] > 0
    assert result["decode_ms_per_mb"] > 0
    assert result["join_ms_per_mb"] >= 0
