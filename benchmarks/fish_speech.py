"""Self-hosted Fish Speech: time to first audio for an LLM reply, sentence by sentence or not.

A Fish Speech server takes no incremental text, so the client either waits for the whole
reply and makes one request, or synthesizes complete sentences as they are written
(``FishSpeechClient.tts_sentences``). Against the emulator's Fish Speech mode with a cost
per sentence (a small GPU takes seconds; ``--sentence-ms``), this measures both: time to
first audio, time to last audio and the number of requests, for the same LLM reply (the
main benchmark's, at its pace). A complete message (``tts.speak``) is measured too,
streamed WAV and whole MP3.

Usage: ``.venv/bin/python -m benchmarks.fish_speech [--repeat N] [--sentence-ms MS]``.
Prints a Markdown table. Only latency is measured: the emulator's cost per sentence
dominates and the CPU is not the question here.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable
import contextlib
import time

from custom_components.fish_audio_suite.api import FishSpeechClient, FishSpeechTTSOptions
from emulator import FishSpeechEmulator

from .common import ANNOUNCEMENT, LLM_REPLY, Summary, llm_deltas, paced_text, summarize

DELTA_INTERVAL = 0.03  # the main benchmark's LLM pace (75 deltas, about 2.2 s)


async def _whole_text(text: AsyncIterator[str]) -> str:
    return "".join([part async for part in text])


async def _measure(
    stream: Callable[[float], AsyncGenerator[bytes]],
) -> tuple[float, float]:
    """Return (first audio, last audio) in seconds from the start of the LLM's text."""
    start = time.monotonic()
    first: float | None = None
    async with contextlib.aclosing(stream(start)) as audio:
        async for _chunk in audio:
            first = first or time.monotonic()
    assert first is not None  # noqa: S101 - the emulator always speaks
    return first - start, time.monotonic() - start


async def run(repeat: int, sentence_seconds: float) -> dict[str, tuple[Summary, int]]:
    """Run every figure ``repeat`` times; return each summary and its requests per run."""
    server = FishSpeechEmulator(sentence_latency=sentence_seconds)
    await server.start()
    deltas = llm_deltas(LLM_REPLY)
    wav, mp3 = FishSpeechTTSOptions(), FishSpeechTTSOptions(format="mp3")
    samples: dict[str, list[float]] = {}
    requests: dict[str, int] = {}
    try:
        async with contextlib.AsyncExitStack() as stack:
            client = FishSpeechClient(server.base_url)
            stack.push_async_callback(client.close)

            async def sentences(start: float) -> AsyncGenerator[bytes]:
                text = paced_text(deltas, DELTA_INTERVAL, start)
                async for chunk in client.tts_sentences(text, wav):
                    yield chunk

            async def wait_then_speak(start: float) -> AsyncGenerator[bytes]:
                text = await _whole_text(paced_text(deltas, DELTA_INTERVAL, start))
                async for chunk in client.tts(text, wav):
                    yield chunk

            async def complete_wav(start: float) -> AsyncGenerator[bytes]:
                async for chunk in client.tts(ANNOUNCEMENT, wav):
                    yield chunk

            async def complete_mp3(start: float) -> AsyncGenerator[bytes]:
                async for chunk in client.tts(ANNOUNCEMENT, mp3):
                    yield chunk

            figures = {
                "LLM reply, sentence by sentence": sentences,
                "LLM reply, whole text then one request": wait_then_speak,
                "complete message, streamed WAV": complete_wav,
                "complete message, whole MP3": complete_mp3,
            }
            for name, stream in figures.items():
                for _ in range(repeat):
                    before = len(server.requests)
                    first, last = await _measure(stream)
                    samples.setdefault(f"{name}: first audio", []).append(first)
                    samples.setdefault(f"{name}: last audio", []).append(last)
                    requests[name] = len(server.requests) - before
    finally:
        await server.stop()
    return {
        key: (summarize(values), requests[key.rsplit(":", 1)[0]]) for key, values in samples.items()
    }


def table(results: dict[str, tuple[Summary, int]]) -> str:
    """Return the results as a Markdown table (milliseconds)."""
    lines = [
        "| Figure | median ms | p10-p90 ms | requests |",
        "|---|---:|---:|---:|",
    ]
    for name, (summary, count) in results.items():
        lines.append(
            f"| {name} | {summary.median * 1e3:.0f} | "
            f"{summary.p10 * 1e3:.0f}-{summary.p90 * 1e3:.0f} | {count} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fish_speech")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sentence-ms", type=float, default=800.0)
    args = parser.parse_args()
    results = asyncio.run(run(args.repeat, args.sentence_ms / 1000))
    print(
        f"Fish Speech emulator: {args.sentence_ms:g} ms per sentence; LLM reply "
        f"{len(LLM_REPLY)} chars in {len(llm_deltas(LLM_REPLY))} deltas every "
        f"{DELTA_INTERVAL * 1e3:g} ms; complete message {len(ANNOUNCEMENT)} chars; "
        f"{args.repeat} runs each.\n"
    )
    print(table(results))


if __name__ == "__main__":
    main()
