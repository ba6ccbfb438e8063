"""Pieces shared by the benchmark runner and its worker processes.

Standard library only: the SDK worker imports this module from a separate virtual
environment that has the vendor SDK and nothing of Home Assistant or aiohttp.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, field
import random
import statistics
import time
from typing import Any

API_KEY = "bench-key"

# An Assist-style LLM reply (~340 characters). The first sentence ends at character 89: a
# first-sentence flush lets the server start on it long before the 200-character
# `chunk_length` buffer would fill.
LLM_REPLY = (
    "The living room lights are now off and the thermostat is set to 20 degrees for the "
    "night. Tomorrow looks sunny with a high of 24, so you may want to open the blinds "
    "early. Your next event is a dentist appointment at 9:30, and the dishwasher finished "
    "about ten minutes ago. Shall I remind you about the appointment an hour before it "
    "starts?"
)
FIRST_SENTENCE_END = LLM_REPLY.index(". ") + 1

# A complete message, as `tts.speak` sends it.
ANNOUNCEMENT = (
    "Good morning. It is seven o'clock, the outside temperature is 12 degrees and rain is "
    "expected after lunch, so take an umbrella. The washing machine will finish in twenty "
    "minutes."
)


def llm_deltas(text: str, *, seed: int = 7, low: int = 2, high: int = 8) -> list[str]:
    """Split `text` into token-sized deltas (2-8 characters), deterministically."""
    rng = random.Random(seed)
    deltas: list[str] = []
    index = 0
    while index < len(text):
        size = rng.randint(low, high)
        deltas.append(text[index : index + size])
        index += size
    return deltas


async def paced_text(deltas: Sequence[str], interval: float, start: float) -> AsyncIterator[str]:
    """Yield delta `i` at `start + i * interval` (monotonic clock), like an LLM does.

    The schedule is absolute: the LLM produces text whether or not the TTS client has pulled
    the previous delta yet, so a client that is slow to start sees a backlog, not a delay.
    """
    for index, delta in enumerate(deltas):
        delay = start + index * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        yield delta


def text_for_bytes(target_bytes: float, bytes_per_second: float, seconds_per_char: float) -> str:
    """Return a text whose synthesis is about `target_bytes` of audio (emulator scale)."""
    chars = max(20, round(target_bytes / bytes_per_second / seconds_per_char))
    sentence = "Streaming audio must never be held whole in memory. "
    return (sentence * (chars // len(sentence) + 1))[:chars].rstrip() + "."


@dataclass
class Summary:
    """Median and spread of a list of samples."""

    median: float
    p10: float
    p90: float
    n: int
    samples: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dict."""
        return asdict(self)


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Linear-interpolated percentile of already sorted values."""
    if not sorted_values:
        raise ValueError("no samples")
    if len(sorted_values) == 1:
        return sorted_values[0]
    position = fraction * (len(sorted_values) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def summarize(samples: Sequence[float]) -> Summary:
    """Summarise samples as median and p10-p90."""
    ordered = sorted(samples)
    return Summary(
        median=statistics.median(ordered),
        p10=percentile(ordered, 0.10),
        p90=percentile(ordered, 0.90),
        n=len(ordered),
        samples=list(samples),
    )
