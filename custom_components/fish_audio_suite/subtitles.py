"""Subtitles (SubRip and WebVTT) from the timed words of the timestamp stream.

Words are grouped into cues of at most one short line (42 characters, the common subtitle
line length) and a few seconds; a cue starts with its first word and ends with its last, so
the subtitles follow exactly the timing the API reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from .api import ASRSegment
from .const import SubtitleFormat

CUE_MAX_CHARS: Final = 42
CUE_MAX_SECONDS: Final = 6.0


@dataclass(frozen=True, slots=True)
class Cue:
    """One subtitle: text shown from `start` to `end` (seconds)."""

    start: float
    end: float
    text: str


def build_cues(
    segments: Sequence[ASRSegment],
    *,
    max_chars: int = CUE_MAX_CHARS,
    max_seconds: float = CUE_MAX_SECONDS,
) -> list[Cue]:
    """Group timed words into cues.

    Args:
        segments: Words (or longer segments) with absolute times, in order.
        max_chars: Longest cue text; a longer single segment becomes a cue of its own.
        max_seconds: Longest cue duration.

    Returns:
        The cues, in order.
    """
    cues: list[Cue] = []
    words: list[ASRSegment] = []

    def close() -> None:
        if words:
            text = " ".join(word.text for word in words)
            cues.append(Cue(words[0].start, max(words[-1].end, words[0].start), text))
            words.clear()

    for segment in segments:
        # Server text: one line, and never the cue-timing arrow that would end a cue early.
        text = " ".join(segment.text.split()).replace("-->", "->")
        if not text:
            continue
        if words and (
            len(" ".join(w.text for w in words)) + 1 + len(text) > max_chars
            or segment.end - words[0].start > max_seconds
        ):
            close()
        words.append(ASRSegment(text=text, start=segment.start, end=segment.end))
    close()
    return cues


def _timestamp(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def render(cues: Sequence[Cue], fmt: SubtitleFormat) -> str:
    """Return the cues as a SubRip (`srt`) or WebVTT (`vtt`) document."""
    if fmt == "srt":
        blocks = [
            f"{index}\n{_timestamp(c.start, ',')} --> {_timestamp(c.end, ',')}\n{c.text}\n"
            for index, c in enumerate(cues, start=1)
        ]
        return "\n".join(blocks)
    blocks = [f"{_timestamp(c.start, '.')} --> {_timestamp(c.end, '.')}\n{c.text}\n" for c in cues]
    return "\n".join(["WEBVTT\n", *blocks])
