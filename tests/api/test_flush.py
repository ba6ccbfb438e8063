"""Sentence-boundary detection of the live flush policy."""

from __future__ import annotations

import pytest

from custom_components.fish_audio_suite.api import FlushPolicy
from custom_components.fish_audio_suite.api.live import ends_sentence, split_points


@pytest.mark.parametrize(
    ("text", "clauses", "points"),
    [
        ("Hello there. How", False, [13]),
        ("Hello there.", False, []),  # may still become "there.com": wait for a pause
        ("Pi is 3.14 today", False, []),
        ("Wait... what? Yes!  ", False, [8, 14, 20]),
        ('He said "Hi." Then', False, [14]),
        ("line one\nline two", False, [9]),
        ("你好。我是鱼！", False, [3, 7]),  # noqa: RUF001
        ("one, two; three: four", False, []),
        ("one, two; three: four", True, [5, 10, 17]),
        ("一，二、三", True, [2, 4]),  # noqa: RUF001
        ("", False, []),
    ],
)
def test_split_points(text: str, clauses: bool, points: list[int]) -> None:
    assert split_points(text, clauses=clauses) == points


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello.", True),
        ("Hello. ", True),
        ("Hello?)", True),
        ("Really…", True),
        ("好。", True),
        ("Hello\n", True),
        ("Hello", False),
        ("Hello, ", False),
        ("   ", False),
        ("", False),
        ('"', False),
    ],
)
def test_ends_sentence(text: str, expected: bool) -> None:
    assert ends_sentence(text) is expected


def test_flush_policy_defaults_and_validation() -> None:
    policy = FlushPolicy()
    assert (policy.first_sentence, policy.pause, policy.min_chars, policy.enabled) == (
        True,
        0.3,
        120,
        True,
    )
    with pytest.raises(ValueError):
        FlushPolicy(pause=-1)
    with pytest.raises(ValueError):
        FlushPolicy(min_chars=0)
