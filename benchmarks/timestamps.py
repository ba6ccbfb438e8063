"""Client cost of the timestamp stream (`tts_with_timestamps`), in a process of its own.

Usage: ``python -m benchmarks.timestamps [--seconds S] [--reps N]``; prints one JSON line.

The emulator renders S seconds of 44.1 kHz WAV as a `/v1/tts/stream/with-timestamp` answer
(one SSE message per 0.5 s piece, audio in base64, a cumulative word alignment in each); the
body is captured once, then the client's own code turns it back into audio and timed words
(`_sse_messages` framing, JSON, `TimestampEvent` with its base64 decoding, `Timeline`) from
memory, in 64 KiB pieces as a socket delivers them. The network and the server are left out,
so the figure is the client's work alone: CPU per MB of audio, next to the copy the plain
HTTP path makes (joining the same audio from the same pieces).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
import json
import sys
import time
from typing import Any

PIECE = 65536


async def _pieces(raw: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(raw), PIECE):
        yield raw[start : start + PIECE]


async def _capture(seconds: float) -> tuple[bytes, int]:
    """Return an SSE body for about ``seconds`` of audio, and the number of characters."""
    import aiohttp
    import ormsgpack

    from custom_components.fish_audio_suite.api import TTSOptions
    from emulator import FishAudioEmulator

    # The emulator speaks 0.06 s per character.
    text = ("The quick brown fox jumps over the lazy dog. " * int(seconds / 2.7 + 1)).strip()
    emulator = FishAudioEmulator(piece_seconds=0.5)
    await emulator.start()
    try:
        options = TTSOptions(format="wav", sample_rate=44100)
        body = ormsgpack.packb(options.to_request(text, include_none=False))
        headers = {"Authorization": "Bearer test-key", "Content-Type": "application/msgpack"}
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{emulator.base_url}/v1/tts/stream/with-timestamp", data=body, headers=headers
            ) as response,
        ):
            return await response.read(), len(text)
    finally:
        await emulator.stop()


async def _decode(raw: bytes) -> tuple[int, int]:
    """Run the client's decoding over ``raw``; return audio bytes and timed words."""
    from custom_components.fish_audio_suite.api import Timeline, TimestampEvent
    from custom_components.fish_audio_suite.api.client import _sse_messages

    timeline = Timeline()
    audio = 0
    async for message in _sse_messages(_pieces(raw)):
        event = TimestampEvent.from_dict(json.loads(message))
        timeline.add(event)
        audio += len(event.audio)
    return audio, len(timeline.segments())


async def _join(raw: bytes) -> int:
    """The plain path's work on the same pieces: keep and join them."""
    return len(b"".join([piece async for piece in _pieces(raw)]))


async def run(seconds: float, reps: int) -> dict[str, Any]:
    """Measure; the best of ``reps`` runs of each (the least disturbed by other processes)."""
    raw, chars = await _capture(seconds)
    decode: list[float] = []
    join: list[float] = []
    audio = words = 0
    for _ in range(reps):
        start = time.process_time()
        audio, words = await _decode(raw)
        decode.append(time.process_time() - start)
        start = time.process_time()
        await _join(raw)
        join.append(time.process_time() - start)
    megabytes = audio / 1e6
    return {
        "characters": chars,
        "sse_bytes": len(raw),
        "audio_bytes": audio,
        "words": words,
        "decode_ms_per_mb": min(decode) * 1000 / megabytes,
        "join_ms_per_mb": min(join) * 1000 / megabytes,
        "reps": reps,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the measurement as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=100.0)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(run(args.seconds, args.reps))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
