"""Smoke run of the benchmark suite, so that it cannot rot.

The suite runs in subprocesses (emulator, one worker per client, Home Assistant setup) with
tiny sizes and one repetition. Only the shape of the results is checked: every row is
there and has a figure. Speed is never asserted here (timed tests are flaky by nature);
`scripts/bench` is where the figures are produced.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import run_benchmark

CLIENT_ROWS = [
    "tts_http.first",
    "tts_http.last",
    "live_none.first",
    "live_none.last",
    "live_first.first",
    "live_first.last",
    "live_every.first",
    "live_every.last",
    "cpu_http",
    "cpu_ws",
    "mem_http_small",
    "mem_http_large",
    "mem_ws_small",
    "mem_ws_large",
    "import_client",
]
STT_ROWS = ["stt_60s_20ms", "stt_60s_100ms", "stt_120s_20ms"]
HA_ROWS = [
    "ha_core",
    "import_integration",
    "import_platforms",
    "own_import_self",
    "ha_components",
    "setup_entry",
]
CLIENT_TASKS = ["tts_http", "live_none", "live_first", "live_every", "cpu_http", "cpu_ws"]
CLIENT_TASKS += ["mem_http_small", "mem_http_large", "mem_ws_small", "mem_ws_large"]
STREAM_TASKS = [task for task in CLIENT_TASKS if task != "import_client"]
CLIENT_TASKS += ["import_client"]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run `python -m benchmarks --smoke` once and return its JSON results."""
    out = tmp_path_factory.mktemp("bench")
    done = run_benchmark(
        "benchmarks",
        "--sdk",
        "auto",
        "--output",
        str(out / "RESULTS.md"),
        "--json",
        str(out / "results.json"),
        timeout=120,
    )
    results: dict[str, Any] = json.loads((out / "results.json").read_text())
    results["stdout"] = done.stdout
    results["markdown_file"] = (out / "RESULTS.md").read_text()
    return results


def test_every_row_is_in_the_table(smoke: dict[str, Any]) -> None:
    """The table lists every figure, in the JSON and in the markdown."""
    assert smoke["profile"] == "smoke"
    assert smoke["rows"] == CLIENT_ROWS
    assert smoke["stt_rows"] == STT_ROWS
    assert smoke["ha_rows"] == HA_ROWS
    markdown = smoke["markdown_file"]
    assert markdown == smoke["markdown"]
    for heading in ("## TTS client", "## STT", "## Integration", "**Machine:**"):
        assert heading in markdown
    # Every client row and every STT/HA row is one markdown table line.
    table_lines = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert len(table_lines) >= 3 + len(CLIENT_ROWS) + len(STT_ROWS) + len(HA_ROWS)


def test_our_client_and_the_floor_produce_figures(smoke: dict[str, Any]) -> None:
    """Ours and the floor ran every task without an error and streamed audio."""
    for impl in ("ours", "floor"):
        results = smoke["results"][impl]
        assert "__error__" not in results, results
        for task in CLIENT_TASKS:
            assert "error" not in results[task], (impl, task, results[task])
        for task in STREAM_TASKS:
            assert results[task]["bytes"] > 0, (impl, task)


def test_stt_and_home_assistant_figures(smoke: dict[str, Any]) -> None:
    """STT buffering measured our audio module; the entry set up in Home Assistant."""
    stt = smoke["stt"]
    assert isinstance(stt, dict), stt
    assert "read_capped" in stt["__note__"]
    for row in STT_ROWS:
        assert {"ours", "join", "concat"} <= set(stt[row])
    ha = smoke["ha"]
    assert isinstance(ha, dict), ha
    for row in HA_ROWS:
        assert ha["samples"][row], row
    assert ha["samples"]["entities"][0] >= 1


def test_sdk_figures(smoke: dict[str, Any]) -> None:
    """The official SDK's figures, when the benchmark SDK venv exists."""
    sdk = smoke["results"]["sdk"]
    if isinstance(sdk, str):
        assert "SDK skipped" in smoke["markdown"]
        pytest.skip(
            "fish-audio-sdk is not installed for the benchmarks (.cache/bench-sdk): run "
            "scripts/bench once to include the SDK in this smoke test"
        )
    assert "__error__" not in sdk, sdk
    for task in CLIENT_TASKS:
        if task in ("live_first", "live_every"):
            assert task not in sdk  # Home Assistant core never flushes
            continue
        assert "error" not in sdk[task], (task, sdk[task])
        if task in STREAM_TASKS:
            assert sdk[task]["bytes"] > 0, task
    assert sdk["__env__"]["fish-audio-sdk"] == "1.1.0"


@pytest.mark.usefixtures("socket_enabled")
async def test_fish_speech_benchmark_smoke() -> None:
    """The Fish Speech figures exist; sentence by sentence makes one request per batch."""
    from benchmarks.fish_speech import run, table  # noqa: PLC0415 - imports the client

    results = await run(1, 0.0)
    assert len(results) == 8
    requests = {name.rsplit(":", 1)[0]: count for name, (_summary, count) in results.items()}
    assert requests["LLM reply, whole text then one request"] == 1
    assert requests["LLM reply, sentence by sentence"] > 1
    assert table(results).count("\n") == 9
