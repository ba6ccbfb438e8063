"""``POST /v1/tts/stream/with-timestamp``: audio as Server-Sent Events with word timings.

What the OpenAPI file specifies (``TTSTimestampStreamEvent``): each SSE ``message`` carries one
JSON payload with one base64 audio chunk (``audio_base64``), the text of the content chunk it
belongs to (``content``), the chunk's number (``chunk_seq``), the chunk's start in the whole
audio (``chunk_audio_offset_sec``) and ``alignment``: the latest *cumulative* snapshot of the
chunk's word segments (times relative to the chunk), or null before the first one. A client
replaces the snapshot it holds for a ``chunk_seq``; it never appends. Concatenating every
``audio_base64`` in order gives the complete file.

The emulator splits long text into content chunks at sentence ends (up to ``chunk_length``
characters each), spreads each chunk's words over its audio in proportion to their length, and
sends each audio piece with the snapshot of the words spoken by the end of that piece.
"""

from __future__ import annotations

from dataclasses import dataclass
import re
from typing import Any, Final

from .server import SENTENCE

# Spoken words: expression cues ("[happy]", "(excited)") and speaker tags are not spoken.
_NOT_SPOKEN: Final = re.compile(r"<\|[^|]*\|>|\[[^\]]*\]")
# The vendor's example keeps ASCII apostrophes ("can't") and drops other punctuation.
_WORD_CHARS: Final = re.compile(r"[^\w']+")
# Share of a word's slot that is voiced; the rest is the pause before the next word.
_VOICED: Final = 0.85


@dataclass(frozen=True, slots=True)
class ContentChunk:
    """One content chunk: its spoken text and its word timings (seconds from its start)."""

    seq: int
    content: str
    seconds: float
    offset: float
    words: tuple[dict[str, Any], ...]

    def snapshot(self, upto: float) -> dict[str, Any] | None:
        """Return the alignment of the words spoken by ``upto`` seconds (None: none yet)."""
        words = [w for w in self.words if w["end"] <= upto + 1e-9]
        if not words:
            return None
        return {"segments": words, "audio_duration": round(min(upto, self.seconds), 3)}


def spoken_text(text: str) -> str:
    """Return ``text`` without speaker tags and bracketed cues, whitespace collapsed."""
    return " ".join(_NOT_SPOKEN.sub(" ", text).split())


def split_content(text: str, chunk_length: int) -> list[str]:
    """Split spoken text into content chunks of whole sentences, up to ``chunk_length`` each.

    A single sentence longer than ``chunk_length`` becomes a chunk of its own.
    """
    chunks: list[str] = []
    current = ""
    for sentence in (s.strip() for s in SENTENCE.findall(text)):
        if not sentence:
            continue
        if current and len(current) + 1 + len(sentence) > chunk_length:
            chunks.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}" if current else sentence
    if current:
        chunks.append(current)
    return chunks


def word_timings(content: str, seconds: float) -> tuple[dict[str, Any], ...]:
    """Spread the words of ``content`` over ``seconds``, in proportion to their length."""
    words = [w for w in (_WORD_CHARS.sub("", token) for token in content.split()) if w]
    total = sum(len(w) + 1 for w in words)
    timings: list[dict[str, Any]] = []
    start = 0.0
    for word in words:
        slot = seconds * (len(word) + 1) / total
        timings.append(
            {"text": word, "start": round(start, 3), "end": round(start + slot * _VOICED, 3)}
        )
        start += slot
    return tuple(timings)


def plan_chunks(text: str, chunk_length: int, seconds_for: Any) -> list[ContentChunk]:
    """Return the content chunks of ``text`` with their durations and word timings.

    Args:
        text: The request's text.
        chunk_length: The request's ``chunk_length``.
        seconds_for: A callable giving the audio length of a chunk's text.
    """
    chunks: list[ContentChunk] = []
    offset = 0.0
    for seq, content in enumerate(split_content(spoken_text(text), chunk_length)):
        # Whole 10 ms steps: a whole number of samples at every rate the API offers, so the
        # chunks add up exactly to the length announced in a WAV header.
        seconds = max(0.01, round(float(seconds_for(content)), 2))
        chunks.append(
            ContentChunk(
                seq=seq,
                content=content,
                seconds=seconds,
                offset=round(offset, 3),
                words=word_timings(content, seconds),
            )
        )
        offset += seconds
    return chunks


def sse_event(payload: bytes) -> bytes:
    """Frame one JSON payload as a Server-Sent Events message (``data:`` line, blank line)."""
    return b"data: " + payload + b"\n\n"
