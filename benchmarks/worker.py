"""One benchmark worker process: runs every task of a plan with one client implementation.

Usage: ``python -m benchmarks.worker <ours|sdk|floor>`` with the JSON plan on stdin; the
results are printed as one JSON line on stdout. A worker holds one client (and one
connection pool) for its whole plan, like a running Home Assistant does, and nothing else
runs in its process, so process CPU time and tracemalloc figures belong to that client.

Module level is standard library only: the SDK worker runs in a virtual environment that
has the vendor SDK and neither aiohttp nor Home Assistant. Each implementation imports its
own stack lazily.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
import contextlib
import gc
import json
import re
import sys
import time
import tracemalloc
from typing import Any, Protocol

from .common import API_KEY, paced_text

WARM_UP = "Warming up."
MODEL = "s2.1-pro-free"  # free in the emulator: no credit runs out however long the run


def request_body(text: str, voice_id: str, *, fmt: str) -> dict[str, Any]:
    """The TTS request Home Assistant 2026.11's fish_audio ``tts.py`` sends through SDK 1.1.0."""
    return {
        "text": text,
        "chunk_length": 200,
        "format": fmt,
        "mp3_bitrate": 128,
        "opus_bitrate": 32,
        "references": [],
        "reference_id": voice_id,
        "normalize": True,
        "latency": "balanced",
        "prosody": {"speed": 1.0, "volume": 0.0},
        "top_p": 0.7,
        "temperature": 0.7,
    }


class Impl(Protocol):
    """What each client implementation provides to the measurements."""

    name: str

    async def open(self, base_url: str) -> None:
        """Create the client for `base_url`."""

    async def close(self) -> None:
        """Release the client."""

    def http(self, text: str, voice_id: str, fmt: str) -> AsyncIterator[bytes]:
        """Synthesise a complete message over HTTP, yielding audio as the caller gets it."""

    def live(
        self, text: AsyncIterator[str], voice_id: str, fmt: str, flush: str
    ) -> AsyncIterator[bytes]:
        """Synthesise streamed text over the live WebSocket (`flush`: none|first|every)."""


class Ours:
    """`custom_components.fish_audio_suite.api.FishAudioClient` on a shared session."""

    name = "ours"

    def __init__(self) -> None:
        import aiohttp

        from custom_components.fish_audio_suite import api

        self._aiohttp = aiohttp
        self._api = api
        self._session: Any = None
        self._client: Any = None

    async def open(self, base_url: str) -> None:
        # Home Assistant hands the client its shared session; do the same.
        self._session = self._aiohttp.ClientSession()
        self._client = self._api.FishAudioClient(API_KEY, session=self._session, base_url=base_url)

    async def close(self) -> None:
        await self._client.close()
        await self._session.close()

    def _options(self, voice_id: str, fmt: Any) -> Any:
        return self._api.TTSOptions(
            model=MODEL, reference_id=voice_id, format=fmt, latency="balanced"
        )

    async def http(self, text: str, voice_id: str, fmt: str) -> AsyncIterator[bytes]:
        stream = self._client.tts(text, self._options(voice_id, fmt))
        async with contextlib.aclosing(stream):
            async for chunk in stream:
                yield chunk

    async def live(
        self, text: AsyncIterator[str], voice_id: str, fmt: str, flush: str
    ) -> AsyncIterator[bytes]:
        policy_class = self._api.FlushPolicy
        policy = {
            "none": policy_class(enabled=False),
            "first": policy_class(),
            # Flush at every sentence end: no pause needed, no size threshold.
            "every": policy_class(pause=0.0, min_chars=10**9),
        }[flush]
        stream = self._client.tts_live(text, self._options(voice_id, fmt), flush=policy)
        async with contextlib.aclosing(stream):
            async for chunk in stream:
                yield chunk


class Sdk:
    """`fish-audio-sdk` 1.1.0 used the way Home Assistant core's `fish_audio` uses it."""

    name = "sdk"

    def __init__(self) -> None:
        import fishaudio

        self._fishaudio = fishaudio
        self._client: Any = None

    async def open(self, base_url: str) -> None:
        self._client = self._fishaudio.AsyncFishAudio(api_key=API_KEY, base_url=base_url)

    async def close(self) -> None:
        await self._client.close()

    async def http(self, text: str, voice_id: str, fmt: str) -> AsyncIterator[bytes]:
        # Home Assistant's async_get_tts_audio: one convert() call, which returns the
        # whole clip (fish-audio-sdk 1.x reads the body before it returns).
        audio = await self._client.tts.convert(
            text=text,
            reference_id=voice_id,
            latency="balanced",
            speed=1.0,
            model=MODEL,
            format=fmt,
        )
        yield audio

    async def live(
        self, text: AsyncIterator[str], voice_id: str, fmt: str, flush: str
    ) -> AsyncIterator[bytes]:
        if flush != "none":
            raise ValueError("Home Assistant core never flushes")
        # Home Assistant 2026.11's async_stream_tts_audio: every text chunk becomes a
        # TextEvent, no FlushEvent.
        stream = self._client.tts.stream_websocket(
            text, reference_id=voice_id, latency="balanced", speed=1.0, model=MODEL, format=fmt
        )
        async with contextlib.aclosing(stream):
            async for chunk in stream:
                yield chunk


# A sentence end inside a delta, or at its end: the floor's whole flush heuristic.
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


class Floor:
    """Raw aiohttp + ormsgpack: the least protocol work that gets the audio."""

    name = "floor"

    def __init__(self) -> None:
        import aiohttp
        import ormsgpack

        self._aiohttp = aiohttp
        self._packb = ormsgpack.packb
        self._unpackb = ormsgpack.unpackb
        self._session: Any = None
        self._base_url = ""

    async def open(self, base_url: str) -> None:
        self._session = self._aiohttp.ClientSession()
        self._base_url = base_url

    async def close(self) -> None:
        await self._session.close()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {API_KEY}", "model": MODEL}

    async def http(self, text: str, voice_id: str, fmt: str) -> AsyncIterator[bytes]:
        headers = {**self._headers(), "Content-Type": "application/msgpack"}
        body = self._packb(request_body(text, voice_id, fmt=fmt))
        async with self._session.post(
            f"{self._base_url}/v1/tts", data=body, headers=headers
        ) as response:
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
            async for chunk in response.content.iter_any():
                yield chunk

    async def live(
        self, text: AsyncIterator[str], voice_id: str, fmt: str, flush: str
    ) -> AsyncIterator[bytes]:
        packb, unpackb = self._packb, self._unpackb
        async with self._session.ws_connect(
            f"{self._base_url}/v1/tts/live", headers=self._headers()
        ) as ws:
            start = {"event": "start", "request": {**request_body("", voice_id, fmt=fmt)}}
            await ws.send_bytes(packb(start))

            async def sender() -> None:
                flushed = False
                async for delta in text:
                    await ws.send_bytes(packb({"event": "text", "text": delta}))
                    wanted = flush == "every" or (flush == "first" and not flushed)
                    if wanted and _SENTENCE_END.search(delta):
                        await ws.send_bytes(packb({"event": "flush"}))
                        flushed = True
                await ws.send_bytes(packb({"event": "stop"}))

            task = asyncio.create_task(sender())
            try:
                async for message in ws:
                    data = unpackb(message.data)
                    event = data.get("event")
                    if event == "audio":
                        yield data["audio"]
                    elif event == "finish":
                        if data.get("reason") != "stop":
                            raise RuntimeError("finish/error")
                        break
                await task
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


IMPLS: dict[str, type[Ours | Sdk | Floor]] = {"ours": Ours, "sdk": Sdk, "floor": Floor}


# ---------------------------------------------------------------------------- measurements


async def _all_at_once(text: str, size: int = 200) -> AsyncIterator[str]:
    for index in range(0, len(text), size):
        yield text[index : index + size]


async def _consume(stream: AsyncIterator[bytes], t0: float) -> tuple[float, float, int]:
    """Return (first audio, last audio) seconds after `t0` and the byte count."""
    first = -1.0
    total = 0
    async for chunk in stream:
        if chunk:
            if first < 0:
                first = time.perf_counter() - t0
            total += len(chunk)
    return first, time.perf_counter() - t0, total


async def task_http(impl: Impl, task: dict[str, Any]) -> dict[str, Any]:
    """Time to first and last audio byte of a complete message over HTTP."""
    await _consume(impl.http(WARM_UP, task["voice_id"], task["format"]), 0.0)
    first, last, size = [], [], 0
    for _ in range(task["reps"]):
        t0 = time.perf_counter()
        f, total, size = await _consume(
            impl.http(task["text"], task["voice_id"], task["format"]), t0
        )
        first.append(f)
        last.append(total)
    return {"first": first, "last": last, "bytes": size}


async def task_live(impl: Impl, task: dict[str, Any]) -> dict[str, Any]:
    """Time to first and last audio of LLM-paced text over the live WebSocket."""
    deltas: Sequence[str] = task["deltas"]

    async def once() -> tuple[float, float, int]:
        t0 = time.perf_counter()
        text = paced_text(deltas, task["interval"], time.monotonic())
        stream = impl.live(text, task["voice_id"], task["format"], task["flush"])
        return await _consume(stream, t0)

    # Warm-up (connection pool, lazy imports, code paths) with a short text.
    warm = impl.live(paced_text([WARM_UP], 0.0, 0.0), task["voice_id"], task["format"], "none")
    await _consume(warm, 0.0)
    first, last, size = [], [], 0
    for _ in range(task["reps"]):
        f, total, size = await once()
        first.append(f)
        last.append(total)
    return {"first": first, "last": last, "bytes": size}


def _stream_for(impl: Impl, task: dict[str, Any]) -> AsyncIterator[bytes]:
    if task["transport"] == "http":
        return impl.http(task["text"], task["voice_id"], task["format"])
    return impl.live(_all_at_once(task["text"]), task["voice_id"], task["format"], "none")


async def task_cpu(impl: Impl, task: dict[str, Any]) -> dict[str, Any]:
    """Process CPU seconds per MB of audio (this process holds only the client)."""
    await _consume(_stream_for(impl, {**task, "text": WARM_UP}), 0.0)  # warm-up
    per_mb, wall, size = [], [], 0
    for _ in range(task["reps"]):
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        _, _, size = await _consume(_stream_for(impl, task), w0)
        cpu = time.process_time() - c0
        wall.append(time.perf_counter() - w0)
        per_mb.append(cpu / (size / 1e6))
    return {"cpu_s_per_mb": per_mb, "wall": wall, "bytes": size}


async def task_mem(impl: Impl, task: dict[str, Any]) -> dict[str, Any]:
    """Peak traced memory of the consuming side while a long clip streams through."""
    await _consume(_stream_for(impl, {**task, "text": WARM_UP}), 0.0)  # warm-up, untraced
    peaks, size = [], 0
    for _ in range(task["reps"]):
        gc.collect()
        tracemalloc.start()
        base, _ = tracemalloc.get_traced_memory()
        _, _, size = await _consume(_stream_for(impl, task), time.perf_counter())
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peaks.append(float(peak - base))
    return {"peak_bytes": peaks, "bytes": size}


def _versions() -> dict[str, str]:
    from importlib import metadata

    found = {}
    for name in ("aiohttp", "ormsgpack", "fish-audio-sdk", "httpx", "httpx-ws", "pydantic"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


TASKS = {"http": task_http, "live": task_live, "cpu": task_cpu, "mem": task_mem}


async def run(impl_name: str, plan: list[dict[str, Any]]) -> dict[str, Any]:
    """Run every task of `plan`; a failing task reports its error instead of numbers."""
    impl: Any = IMPLS[impl_name]()
    results: dict[str, Any] = {"__env__": _versions()}
    current_url = None
    try:
        for task in plan:
            if task["url"] != current_url:
                if current_url is not None:
                    await impl.close()
                await impl.open(task["url"])
                current_url = task["url"]
            try:
                results[task["id"]] = await TASKS[task["kind"]](impl, task)
            except Exception as err:  # noqa: BLE001 - reported in the table, run continues
                results[task["id"]] = {"error": f"{type(err).__name__}: {err}"[:300]}
    finally:
        if current_url is not None:
            await impl.close()
    return results


def main() -> None:
    """Entry point."""
    impl_name = sys.argv[1]
    plan = json.loads(sys.stdin.read())
    try:
        results = asyncio.run(run(impl_name, plan))
    except Exception as err:  # noqa: BLE001 - e.g. the implementation cannot be imported
        results = {"__error__": f"{type(err).__name__}: {err}"[:300]}
    sys.stdout.write(json.dumps(results) + "\n")


if __name__ == "__main__":
    main()
