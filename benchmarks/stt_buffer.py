"""Cost of assembling Assist pipeline audio for an STT upload, in a process of its own.

Usage: ``python -m benchmarks.stt_buffer '<json list of cases>'`` where a case is
``{"id", "seconds", "chunk_ms", "reps", "quadratic_reps"}``; prints one JSON line.

Pipeline audio is headerless 16 kHz 16-bit mono PCM delivered as an async stream of small
chunks. Each approach reads the whole stream and wraps it as a WAV file:

- ``ours``: ``custom_components.fish_audio_suite.audio.read_capped`` (one ``bytearray``
  grown in place) + ``pcm_to_wav`` (one copy), exactly what ``stt.py`` does;
- ``join``: a list of chunks and one ``b"".join`` (the textbook linear pattern);
- ``concat``: ``data += chunk`` on ``bytes``, which copies everything received so far on
  every chunk: quadratic.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import gc
import inspect
import json
import sys
import time
from typing import Any

SAMPLE_RATE = 16000
SAMPLE_WIDTH = 2


async def _stream(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def _approaches() -> tuple[dict[str, Callable[[list[bytes]], Awaitable[bytes]]], str]:
    """Return the approaches and a note saying where ``ours`` came from."""
    try:
        from custom_components.fish_audio_suite.api.const import ASR_MAX_BYTES
        from custom_components.fish_audio_suite.audio import PCMFormat, pcm_to_wav, read_capped
    except ImportError as err:  # audio.py not there: measure the O(n) bytearray pattern
        note = f"audio.py not importable ({err}); 'ours' is the bytearray pattern"

        def wrap(data: bytes | bytearray) -> bytes:
            return b"RIFF" + bytes(40) + data

        async def ours_fallback(chunks: list[bytes]) -> bytes:
            buffer = bytearray()
            async for chunk in _stream(chunks):
                buffer.extend(chunk)
            return wrap(buffer)

        ours: Callable[[list[bytes]], Awaitable[bytes]] = ours_fallback
    else:
        # The per-chunk idle bound stt.py passes (30 s): part of what a chunk costs us.
        idle: dict[str, float] = {}
        try:
            from custom_components.fish_audio_suite.stt import STREAM_IDLE_TIMEOUT
        except ImportError:
            pass
        else:
            if "idle_timeout" in inspect.signature(read_capped).parameters:
                idle["idle_timeout"] = STREAM_IDLE_TIMEOUT
        note = (
            "`audio.read_capped("
            + ", ".join(f"{k}={v!r}" for k, v in {"max_bytes": ASR_MAX_BYTES, **idle}.items())
            + ")` + `pcm_to_wav`, as `stt.py` calls them"
        )
        pcm = PCMFormat(sample_rate=SAMPLE_RATE, channels=1, sample_width=SAMPLE_WIDTH)

        def wrap(data: bytes | bytearray) -> bytes:
            return pcm_to_wav(data, pcm)

        async def ours_real(chunks: list[bytes]) -> bytes:
            return wrap(await read_capped(_stream(chunks), max_bytes=ASR_MAX_BYTES, **idle))

        ours = ours_real

    async def join(chunks: list[bytes]) -> bytes:
        parts = [chunk async for chunk in _stream(chunks)]
        return wrap(b"".join(parts))

    async def concat(chunks: list[bytes]) -> bytes:
        data = b""
        async for chunk in _stream(chunks):
            data += chunk
        return wrap(data)

    return {"ours": ours, "join": join, "concat": concat}, note


def run(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Time every approach on every case (seconds per assembly)."""
    approaches, note = _approaches()
    results: dict[str, Any] = {"__note__": note}
    loop = asyncio.new_event_loop()
    try:
        for case in cases:
            chunk_bytes = SAMPLE_RATE * SAMPLE_WIDTH * case["chunk_ms"] // 1000
            count = round(case["seconds"] * 1000 / case["chunk_ms"])
            # Distinct objects, as a pipeline delivers them.
            chunks = [bytes([index % 251]) * chunk_bytes for index in range(count)]
            expected = chunk_bytes * count
            case_result: dict[str, Any] = {"chunks": count, "chunk_bytes": chunk_bytes}
            for name, approach in approaches.items():
                reps = case["quadratic_reps"] if name == "concat" else case["reps"]
                samples = []
                for _ in range(reps):
                    gc.collect()
                    start = time.perf_counter()
                    wav = loop.run_until_complete(approach(chunks))
                    samples.append(time.perf_counter() - start)
                    if len(wav) < expected:
                        raise RuntimeError(f"{name} lost audio")
                    del wav
                case_result[name] = samples
            results[case["id"]] = case_result
    finally:
        loop.close()
    return results


def main() -> None:
    """Entry point."""
    sys.stdout.write(json.dumps(run(json.loads(sys.argv[1]))) + "\n")


if __name__ == "__main__":
    main()
