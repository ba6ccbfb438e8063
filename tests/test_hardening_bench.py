"""Smoke run of benchmarks/hardening.py, so that it cannot rot (no speed is asserted)."""

from __future__ import annotations

import json

from .conftest import run_benchmark


def test_hardening_benchmark_smoke() -> None:
    result = run_benchmark("benchmarks.hardening", timeout=240)
    figures = json.loads(result.stdout)
    adaptive, fixed = figures["burst"]
    assert adaptive["mode"].startswith("adaptive")
    assert fixed["mode"].startswith("fixed")
    for row in (adaptive, fixed):
        assert row["succeeded"] + row["failed"] == row["calls"]
    soak = figures["soak"]
    assert sum(soak["outcomes"].values()) == soak["calls"]
    # Leaks are facts, not speeds: nothing may be left behind after the soak.
    assert soak["tasks_left"] == 0
    assert soak["slots_held"] == 0
