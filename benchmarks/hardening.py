"""Hardening benchmarks: a burst against a lower account limit, and a soak under random faults.

    .venv/bin/python -m benchmarks.hardening            # full run (~1-2 minutes)
    .venv/bin/python -m benchmarks.hardening --smoke    # tiny sizes (tests/test_benchmarks.py)

Both run the client (`FishAudioClient`) against the project's emulator on loopback in one
process. Nothing here is asserted by a timed test: the figures go to HARDENING.md by hand.

- **burst**: N concurrent complete-message TTS calls; the emulator allows 3 at a time per
  key (an account shared with another app), each call takes 50 ms of server time, a 429
  carries `Retry-After: 1` as the emulator's preset does. Our client (max 5, adaptive)
  against the same client with learning off (a fixed limit of 5). Figures: calls that
  succeeded, 429 answers the server sent, wall time, and the learned limit at the end.
- **soak**: M calls, 10 at a time, each a random operation (credit, voice list, HTTP TTS,
  ASR, live TTS) with a random fault (none half the time; 500, 429, a 200 broken off, a
  200 text/html page, a trickle, an endless answer, 10 GiB announced, an endless or
  trickling or dropped live stream). Figures: traced memory after the first tenth and at
  the end (the emulator's request records are cleared as it goes), tasks still alive,
  open file descriptors before and after, slots held, connections left in the pool.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import json
from pathlib import Path
import random
import time
import tracemalloc
from typing import Any
import wave

import aiohttp

from custom_components.fish_audio_suite.api import FishAudioClient, FishAudioError, TTSOptions
from emulator import FishAudioEmulator

TEXT = "The washing machine has finished and the back door is open."


def _wav(seconds: float) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * int(seconds * 16000))
    return buffer.getvalue()


async def _tts(client: FishAudioClient) -> int:
    size = 0
    async with contextlib.aclosing(client.tts(TEXT, TTSOptions())) as stream:
        async for chunk in stream:
            size += len(chunk)
    return size


async def _words() -> Any:
    for word in ("Hello ", "from ", "the ", "soak."):
        await asyncio.sleep(0.002)
        yield word


async def _live(client: FishAudioClient) -> int:
    size = 0
    async with contextlib.aclosing(client.tts_live(_words(), TTSOptions())) as stream:
        async for chunk in stream:
            size += len(chunk)
    return size


async def burst(calls: int, *, adaptive: bool) -> dict[str, Any]:
    """Run `calls` concurrent TTS calls against an account limit of 3."""
    emulator = FishAudioEmulator(max_concurrency=3)
    await emulator.start()
    emulator.faults.latency("POST /v1/tts", first_byte=0.05, times=None)
    try:
        async with (
            aiohttp.ClientSession() as session,
            FishAudioClient(
                "test-key",
                session=session,
                base_url=emulator.base_url,
                max_concurrency=5,
                adaptive_concurrency=adaptive,
                slot_timeout=300,
            ) as client,
        ):
            start = time.perf_counter()
            results = await asyncio.gather(
                *(_tts(client) for _ in range(calls)), return_exceptions=True
            )
            elapsed = time.perf_counter() - start
            limit = client.slots.limit
    finally:
        await emulator.stop()
    return {
        "mode": "adaptive (ours)" if adaptive else "fixed limit 5",
        "calls": calls,
        "succeeded": sum(1 for r in results if isinstance(r, int) and r > 0),
        "failed": sum(1 for r in results if isinstance(r, BaseException)),
        "status_429": sum(1 for r in emulator.requests if r.status == 429),
        "seconds": round(elapsed, 2),
        "learned_limit": round(limit, 2),
    }


def _inject(emulator: FishAudioEmulator, route: str, fault: str) -> None:
    faults = emulator.faults
    match fault:
        case "500":
            faults.preset(route, "500")
        case "429":
            faults.preset(route, "429")
        case "broken":
            faults.truncate(route, after_bytes=3)
        case "html":
            faults.preset(route, "200-html")
        case "trickle":
            faults.stream(route, "trickle", interval=0.05)
        case "endless":
            faults.stream(route, "endless")
        case "huge":
            faults.stream(route, "huge-length")


_OPERATIONS = ("credit", "voices", "tts", "asr", "live")
_ROUTES = {
    "credit": "GET /wallet/self/api-credit",
    "voices": "GET /model",
    "tts": "POST /v1/tts",
    "asr": "POST /v1/asr",
}
_HTTP_FAULTS = ("500", "429", "broken", "html", "trickle", "endless", "huge")
_WS_FAULTS = ("endless", "trickle", "close", "finish-error")


async def _one(
    client: FishAudioClient, emulator: FishAudioEmulator, rng: random.Random, audio: bytes
) -> str:
    operation = rng.choice(_OPERATIONS)
    faulty = rng.random() < 0.5
    if faulty and operation == "live":
        emulator.faults.ws(rng.choice(_WS_FAULTS), interval=0.1)
    elif faulty:
        _inject(emulator, _ROUTES[operation], rng.choice(_HTTP_FAULTS))
    try:
        match operation:
            case "credit":
                await client.get_credit()
            case "voices":
                await client.list_voices()
            case "tts":
                await _tts(client)
            case "asr":
                await client.asr(audio)
            case _:
                await _live(client)
    except FishAudioError as err:
        return type(err).__name__
    return "ok"


def _fds() -> int:
    fd_dir = Path("/proc/self/fd")  # Linux; -1 elsewhere
    return len(list(fd_dir.iterdir())) if fd_dir.is_dir() else -1


async def soak(calls: int, seed: int = 13) -> dict[str, Any]:
    """Run `calls` random operations under random faults, 10 at a time."""
    rng = random.Random(seed)
    emulator = FishAudioEmulator()
    await emulator.start()
    audio = _wav(1.5)
    outcomes: dict[str, int] = {}
    tracemalloc.start()
    fds_before = _fds()
    tasks_before = set(asyncio.all_tasks())
    early = 0
    try:
        async with (
            aiohttp.ClientSession() as session,
            FishAudioClient(
                "test-key",
                session=session,
                base_url=emulator.base_url,
                request_timeout=0.5,
                # The faults are what is measured, not the queue: slots wait long enough.
                slot_timeout=30,
                retry_backoff=0.01,
                retry_backoff_max=0.02,
                retry_after_max=0.02,
            ) as client,
        ):
            start = time.perf_counter()
            done = 0
            while done < calls:
                batch = min(10, calls - done)
                for outcome in await asyncio.gather(
                    *(_one(client, emulator, rng, audio) for _ in range(batch))
                ):
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
                done += batch
                emulator.faults.clear()
                emulator.requests.clear()
                emulator.ws_sessions.clear()
                if done == max(calls // 10, 10):
                    gc.collect()
                    early = tracemalloc.get_traced_memory()[0]
            elapsed = time.perf_counter() - start
            slots = client.slots.in_use
            pooled = len(getattr(session.connector, "_conns", {}))
            await asyncio.sleep(0.1)  # let closed sockets finish closing
        gc.collect()
        end = tracemalloc.get_traced_memory()[0]
        await asyncio.sleep(1.0)  # the emulator's handlers notice gone clients on their next write
        left = [t for t in asyncio.all_tasks() if t not in tasks_before]
        names = sorted(str(t.get_coro()).split(" ")[2] for t in left)
    finally:
        tracemalloc.stop()
        await emulator.stop()
    return {
        "calls": calls,
        "seconds": round(elapsed, 1),
        "outcomes": dict(sorted(outcomes.items())),
        "traced_kib_after_first_tenth": round(early / 1024),
        "traced_kib_at_end": round(end / 1024),
        "tasks_left": len(left),
        "tasks_left_coroutines": names,
        "slots_held": slots,
        "pool_keys_left": pooled,
        "fds_before": fds_before,
        "fds_after": _fds(),
    }


async def main(smoke: bool) -> dict[str, Any]:
    """Run both benchmarks and return their figures."""
    calls = 20 if smoke else 200
    return {
        "burst": [await burst(calls, adaptive=True), await burst(calls, adaptive=False)],
        "soak": await soak(30 if smoke else 1000),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.smoke)), indent=2))
