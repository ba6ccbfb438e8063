"""What the user hears: TTS latency through a real Home Assistant, ours vs core's ``fish_audio``.

``scripts/bench hass`` (or ``python -m benchmarks.hass_latency``) starts the project's emulator
and a real ``hass`` process (this venv's Home Assistant) with, in the same instance, Fish Audio
Suite and Home Assistant's built-in ``fish_audio`` integration. The built-in one reaches the
emulator only through ``benchmarks/hass_hook/fish_audio_bench_hook``, a benchmark-only custom
component that gives the SDK's constructor the emulator's base URL; its SDK
(``fish-audio-sdk``, the version core's manifest pins) is installed with ``pip --target`` into
``.cache/bench-hass-sdk`` and put on the ``hass`` process's ``PYTHONPATH`` only, never into
``.venv``.

Per repetition, interleaved (ours, built-in, floor) so machine noise hits all three alike:

1. ``POST /api/tts_get_url`` with a message never spoken before (a cold cache), then ``GET``
   the returned ``/api/tts_proxy/...`` URL: time from the first request to the first and to
   the last audio byte, mp3;
2. the same with a satellite's preferred format (wav, 16 kHz, mono, 16-bit), which makes Home
   Assistant convert with ffmpeg;

3. an Assist pipeline (``assist_pipeline/run``, intent to TTS) whose conversation agent
   streams an LLM-like reply: the first audio byte after the agent's first delta, the last
   after its last delta;

and the floor: the same text straight from the emulator (raw aiohttp, no Home Assistant);
for Assist, the very deltas the agent streamed in that repetition, on the same schedule,
sent by the raw client of ``benchmarks.worker`` (``Floor``) to the live WebSocket with one
flush at the first sentence end. CPU: the ``hass`` process's user+system time, with the
ffmpeg children it reaped, across each request, divided by the minutes of audio it served.
Nothing here is asserted by a test: the smoke run (``--smoke``) only checks that the path
works.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import io
import json
import os
from pathlib import Path
import shutil
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any
import wave

import aiohttp
import homeassistant
from mutagen.mp3 import MP3

from scripts.demo import (
    HomeAssistantApi,
    add_account,
    free_port,
    launch_emulator,
    launch_hass,
    prepare_config_dir,
)

from .common import ANNOUNCEMENT, API_KEY, LLM_REPLY, paced_text, summarize
from .worker import Floor

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

ROOT = Path(__file__).resolve().parent.parent
HOOK = ROOT / "benchmarks" / "hass_hook" / "fish_audio_bench_hook"
# One folder per virtual environment: what core's SDK needs beyond a venv differs by Home
# Assistant release (2026.2.3 and 2026.10.4 lack fish-audio-sdk, httpx-ws and wsproto;
# 2026.11.0 ships neither httpx nor pydantic either).
SDK_DIR = (
    ROOT
    / ".cache"
    / "bench-hass-sdk"
    / f"{Path(sys.prefix).name}-py{sys.version_info.major}{sys.version_info.minor}"
)
BUILTIN_MANIFEST = (
    Path(homeassistant.__file__).parent / "components" / "fish_audio" / "manifest.json"
)
BUILTIN = "fish_audio"
OURS = "fish_audio_suite"
WAV_16K = {
    "preferred_format": "wav",
    "preferred_sample_rate": 16000,
    "preferred_sample_channels": 1,
    "preferred_sample_bytes": 2,
}
CLK_TCK = os.sysconf("SC_CLK_TCK")
READ_TIMEOUT = aiohttp.ClientTimeout(total=120)
AGENT = "conversation.bench_streaming_agent"  # benchmarks/hass_hook: streams LLM_REPLY
DELTA_MS = 30


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip", *args, "--quiet", "--disable-pip-version-check"]
    return subprocess.run(command, check=False, capture_output=True, text=True)  # noqa: S603


def _missing_requirements() -> tuple[list[str], str | None]:
    """What core's ``fish_audio`` requires that this venv lacks, as pinned ``name==version``.

    Home Assistant would pip-install its manifest's requirements at startup; the benchmark
    starts ``hass`` with ``--skip-pip`` so nothing lands in the venv. pip resolves the
    manifest against the venv (``--dry-run --report``) and names only what it would add; a
    package it would replace instead is refused, because on ``PYTHONPATH`` it would shadow
    the venv's own copy for Home Assistant itself.
    """
    if not BUILTIN_MANIFEST.exists():
        return [], f"this Home Assistant has no {BUILTIN} integration"
    requirements = json.loads(BUILTIN_MANIFEST.read_text())["requirements"]
    done = _pip("install", "--dry-run", "--report", "-", *requirements)
    if done.returncode != 0:
        return [], f"pip could not resolve {requirements}: {done.stderr.strip()[-300:]}"
    wanted = [item["metadata"] for item in json.loads(done.stdout)["install"]]
    replaced = [meta["name"] for meta in wanted if _installed(meta["name"])]
    if replaced:
        return [], f"{requirements} would replace this venv's {replaced}"
    return [f"{meta['name']}=={meta['version']}" for meta in wanted], None


def _installed(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def ensure_sdk(*, install: bool) -> str | None:
    """Return None when the built-in integration's SDK is importable from SDK_DIR, else why not."""
    if (SDK_DIR / "fishaudio" / "__init__.py").exists():
        return None
    if not install:
        return f"fish-audio-sdk not in {SDK_DIR.relative_to(ROOT)} (run `scripts/bench hass`)"
    missing, why_not = _missing_requirements()
    if why_not is not None:
        return why_not
    done = _pip("install", "--no-deps", "--target", str(SDK_DIR), *missing)
    return None if done.returncode == 0 else f"pip could not install {missing}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all threads) and its reaped children.

    The children count: Home Assistant's format conversion is an ffmpeg subprocess, which
    asyncio reaps when it exits (``cutime``/``cstime`` in /proc/<pid>/stat, proc(5)).
    """
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / CLK_TCK


def audio_seconds(body: bytes, fmt: str) -> float:
    """Duration of an mp3 or wav clip.

    A wav that ffmpeg writes to a pipe cannot say its length in its header (ffmpeg leaves the
    sizes at their maximum), so the duration comes from the bytes after the ``data`` chunk.
    """
    if fmt != "wav":
        return float(MP3(io.BytesIO(body)).info.length)
    with wave.open(io.BytesIO(body)) as clip:
        frame_bytes = clip.getnchannels() * clip.getsampwidth()
        rate = clip.getframerate()
    offset = 12  # RIFF header; then chunks of (4-byte id, 4-byte little-endian size, data)
    while body[offset : offset + 4] != b"data":
        offset += 8 + int.from_bytes(body[offset + 4 : offset + 8], "little")
    return (len(body) - offset - 8) / frame_bytes / rate


async def through_hass(
    api: HomeAssistantApi, hass_pid: int, entity: str, message: str, options: dict[str, Any]
) -> dict[str, float]:
    """Ask Home Assistant for a TTS URL and read it; times from the first request."""
    cpu0 = cpu_seconds(hass_pid)
    t0 = time.perf_counter()
    answer = await api.call(
        "POST",
        "/api/tts_get_url",
        {"engine_id": entity, "message": message, "language": "en", "options": options},
    )
    first: float | None = None
    body = bytearray()
    async with api.session.get(f"{api.base_url}{answer['path']}", timeout=READ_TIMEOUT) as response:
        if response.status != 200:
            raise RuntimeError(f"{entity}: tts_proxy answered {response.status}")
        async for chunk in response.content.iter_any():
            if first is None:
                first = time.perf_counter()
            body += chunk
    last = time.perf_counter()
    cpu = cpu_seconds(hass_pid) - cpu0
    fmt = "wav" if options.get("preferred_format") == "wav" else "mp3"
    seconds = audio_seconds(bytes(body), fmt)
    if fmt == "wav":
        with wave.open(io.BytesIO(bytes(body))) as clip:
            if (clip.getframerate(), clip.getnchannels(), clip.getsampwidth()) != (16000, 1, 2):
                raise RuntimeError(f"{entity}: wav is not 16 kHz mono 16-bit")
    if first is None:
        raise RuntimeError(f"{entity}: no audio")
    return {"first": first - t0, "last": last - t0, "audio_s": seconds, "cpu_s": cpu}


async def floor(
    session: aiohttp.ClientSession, emulator_url: str, voice: str, message: str, fmt: str
) -> dict[str, float]:
    """The same text straight from the emulator: what any client must wait for."""
    body: dict[str, Any] = {"text": message, "reference_id": voice, "format": fmt}
    if fmt == "wav":
        body["sample_rate"] = 16000
    t0 = time.perf_counter()
    first: float | None = None
    async with session.post(
        f"{emulator_url}/v1/tts",
        json=body,
        headers={"Authorization": f"Bearer {API_KEY}", "model": "s1"},
        timeout=READ_TIMEOUT,
    ) as response:
        if response.status != 200:
            raise RuntimeError(f"emulator answered {response.status}")
        async for _chunk in response.content.iter_any():
            if first is None:
                first = time.perf_counter()
    if first is None:
        raise RuntimeError("emulator: no audio")
    return {"first": first - t0, "last": time.perf_counter() - t0}


async def floor_assist(
    emulator_url: str, voice: str, deltas: list[str], interval: float
) -> dict[str, float]:
    """The agent's deltas, on its schedule, straight to the emulator's live WebSocket.

    The raw client of the client-level floor (``benchmarks.worker.Floor``: aiohttp and
    ormsgpack, no retries or heuristics) flushes once, at the first sentence end, as our
    default flush policy does: the earliest any client can have the first audio.
    """
    sent: list[float] = []

    async def deltas_sent() -> AsyncIterator[str]:
        async for delta in paced_text(deltas, interval, time.monotonic()):
            sent.append(time.monotonic())  # handed to the sender the moment it is "written"
            yield delta

    client = Floor()
    await client.open(emulator_url)
    first: float | None = None
    try:
        async with asyncio.timeout(120):
            async for chunk in client.live(deltas_sent(), voice, "mp3", "first"):
                if chunk and first is None:
                    first = time.monotonic()
        last = time.monotonic()
    finally:
        await client.close()
    if first is None:
        raise RuntimeError("emulator live: no audio")
    return {"first": first - sent[0], "last": last - sent[-1]}


async def add_builtin(api: HomeAssistantApi) -> str:
    """Add core's fish_audio (its own config and subentry flows); return its TTS entity."""
    flow = await api.call("POST", "/api/config/config_entries/flow", {"handler": BUILTIN})
    flow = await api.flow_step(flow, {"api_key": API_KEY})
    if flow.get("type") != "create_entry":
        raise RuntimeError(f"fish_audio config flow: {flow}")
    entry_id = flow["result"]["entry_id"]
    await _wait_loaded(api, BUILTIN, entry_id)
    sub = await api.call(
        "POST", "/api/config/config_entries/subentries/flow", {"handler": [entry_id, "tts"]}
    )
    path = f"/api/config/config_entries/subentries/flow/{sub['flow_id']}"
    sub = await api.call("POST", path, {})
    if sub.get("step_id") != "model":
        raise RuntimeError(f"fish_audio subentry flow: {sub}")
    voices = next(f for f in sub["data_schema"] if f["name"] == "voice_id")
    voice = voices["selector"]["select"]["options"][0]["value"]
    sub = await api.call(
        "POST",
        path,
        {"voice_id": voice, "backend": "s1", "latency": "balanced", "name": "Builtin"},
    )
    if sub.get("type") != "create_entry":
        raise RuntimeError(f"fish_audio subentry flow: {sub}")
    async with asyncio.timeout(60):
        while not (entities := await api.integration_entities(BUILTIN)):  # noqa: ASYNC110
            await asyncio.sleep(0.5)  # another process: nothing to wait on but its API
    return next(e for e in entities if e.startswith("tts."))


async def _wait_loaded(api: HomeAssistantApi, domain: str, entry_id: str) -> None:
    async with asyncio.timeout(60):
        while True:
            entries = await api.entries(domain)
            if any(e["entry_id"] == entry_id and e["state"] == "loaded" for e in entries):
                return
            await asyncio.sleep(0.5)


async def add_pipeline(api: HomeAssistantApi, name: str, tts_entity: str, stt_entity: str) -> str:
    """Create an Assist pipeline: the streaming agent, then ``tts_entity``; return its id."""
    voices = await api.websocket(
        {"type": "tts/engine/voices", "engine_id": tts_entity, "language": "en"}
    )
    voice = voices["voices"][0]["voice_id"] if voices.get("voices") else None
    pipeline = await api.websocket(
        {
            "type": "assist_pipeline/pipeline/create",
            "name": name,
            "language": "en",
            "conversation_engine": AGENT,
            "conversation_language": "en",
            "stt_engine": stt_entity,
            "stt_language": "en",
            "tts_engine": tts_entity,
            "tts_language": "en",
            "tts_voice": voice,
            "wake_word_entity": None,
            "wake_word_id": None,
        }
    )
    pipeline_id: str = pipeline["id"]
    return pipeline_id


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def _read_stream(api: HomeAssistantApi, url: str) -> tuple[float, float]:
    """Read a pipeline's TTS URL; monotonic times of its first and last byte."""
    first: float | None = None
    full = url if url.startswith("http") else f"{api.base_url}{url}"
    async with api.session.get(full, timeout=READ_TIMEOUT) as response:
        if response.status != 200:
            raise RuntimeError(f"pipeline TTS URL answered {response.status}")
        async for _chunk in response.content.iter_any():
            if first is None:
                first = time.monotonic()
    if first is None:
        raise RuntimeError("pipeline TTS: no audio")
    return first, time.monotonic()


async def through_assist(
    api: HomeAssistantApi, pipeline_id: str, agent_log: Path, text: str
) -> tuple[dict[str, float], dict[str, Any]]:
    """Run text -> streaming agent -> TTS; read the TTS URL as soon as run-start names it.

    Returns the first audio byte after the agent's first delta and the last audio byte after
    its last delta (the agent writes its delta times, CLOCK_MONOTONIC, to ``agent_log``), and
    the agent's log line (its deltas and their interval).
    The agent ends its reply with ``text``, so no two runs share a TTS cache entry.
    """
    lines_before = len(await asyncio.to_thread(_lines, agent_log))
    reader: asyncio.Task[tuple[float, float]] | None = None
    ws_url = api.base_url.replace("http", "ws", 1) + "/api/websocket"
    async with asyncio.timeout(120), api.session.ws_connect(ws_url) as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": api.token})
        await ws.receive_json()
        await ws.send_json(
            {
                "id": 1,
                "type": "assist_pipeline/run",
                "start_stage": "intent",
                "end_stage": "tts",
                "input": {"text": text},
                "pipeline": pipeline_id,
            }
        )
        while True:
            message = await ws.receive_json()
            event = message.get("event") or {}
            if message.get("type") == "result" and not message.get("success"):
                raise RuntimeError(f"assist_pipeline/run: {message.get('error')}")
            if event.get("type") == "run-start":
                url = event["data"]["tts_output"]["url"]
                reader = asyncio.create_task(_read_stream(api, url))
            if event.get("type") == "error":
                raise RuntimeError(f"pipeline error: {event.get('data')}")
            if event.get("type") == "run-end":
                break
        if reader is None:
            raise RuntimeError("the pipeline named no TTS URL")
        first_audio, last_audio = await reader
    new = (await asyncio.to_thread(_lines, agent_log))[lines_before:]
    if len(new) != 1:
        raise RuntimeError(f"the agent logged {len(new)} replies for one run")
    agent = json.loads(new[0])
    return {
        "first": first_audio - agent["first_delta"],
        "last": last_audio - agent["last_delta"],
    }, agent


async def _measure_assist(
    api: HomeAssistantApi,
    engines: dict[str, str],
    *,
    emulator: tuple[str, str],
    agent_log: Path,
    reps: int,
    samples: dict[str, list[dict[str, float]]],
) -> None:
    """Case 3: one pipeline per engine, then the floor, interleaved per repetition."""
    emulator_url, voice = emulator
    stt = next(e for e in await api.integration_entities() if e.startswith("stt."))
    pipelines = {
        name: await add_pipeline(api, f"Bench {name}", entity, stt)
        for name, entity in engines.items()
    }
    for rep in range(reps):
        agents: dict[str, dict[str, Any]] = {}
        for name, pipeline_id in pipelines.items():
            result, agents[name] = await through_assist(
                api, pipeline_id, agent_log, f"Run {rep} {name}."
            )
            samples.setdefault(f"assist/{name}", []).append(result)
        # The floor: the deltas ours was streamed in this repetition, on their schedule.
        ours = agents["ours"]
        samples.setdefault("assist/floor", []).append(
            await floor_assist(emulator_url, voice, ours["deltas"], ours["interval"])
        )


def _config_dir(base: Path, port: int) -> Path:
    config_dir = base / "config"
    prepare_config_dir(config_dir, port=port)
    shutil.copytree(HOOK, config_dir / "custom_components" / HOOK.name)
    configuration = config_dir / "configuration.yaml"
    configuration.write_text(configuration.read_text() + "fish_audio_bench_hook:\n")
    return config_dir


async def run(
    reps: int, *, smoke: bool, latency_ms: int, chunk_delay_ms: int, segment_latency_ms: int
) -> dict[str, Any]:
    """Start everything, measure, stop; return samples and summaries."""
    builtin_note = ensure_sdk(install=not smoke)
    message_base = "Short test." if smoke else ANNOUNCEMENT
    samples: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="hass-latency-") as tmp:
        base = Path(tmp)
        hass_port, emulator_port = free_port(), free_port()
        config_dir = _config_dir(base, hass_port)
        async with contextlib.AsyncExitStack() as stack:
            out = stack.enter_context((base / "processes.out").open("wb"))
            session = await stack.enter_async_context(aiohttp.ClientSession())
            emulator_url = await launch_emulator(
                stack,
                session,
                emulator_port,
                api_key=API_KEY,
                output=out,
                extra_args=(
                    "--latency-ms",
                    str(latency_ms),
                    "--chunk-delay-ms",
                    str(chunk_delay_ms),
                    "--segment-latency-ms",
                    str(segment_latency_ms),
                    "--credit",
                    "1000000",
                ),
            )
            os.environ["FISH_AUDIO_BENCH_BASE_URL"] = emulator_url
            agent_log = base / "agent.jsonl"
            os.environ["FISH_AUDIO_BENCH_REPLY"] = "Done." if smoke else LLM_REPLY
            os.environ["FISH_AUDIO_BENCH_DELTA_MS"] = str(DELTA_MS)
            os.environ["FISH_AUDIO_BENCH_AGENT_LOG"] = str(agent_log)
            # The SDK is on the hass process's path only (it inherits this environment).
            previous = os.environ.get("PYTHONPATH")
            if builtin_note is None:
                os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(SDK_DIR), previous) if p)
            try:
                hass, api = await launch_hass(
                    stack, session, config_dir, port=hass_port, skip_pip=True, output=out
                )
            finally:
                if previous is None:
                    os.environ.pop("PYTHONPATH", None)
                else:
                    os.environ["PYTHONPATH"] = previous
            await api.onboard(
                name="Bench",
                username="bench",
                password="bench-pw",  # noqa: S106 - loopback benchmark instance
                complete=False,
            )
            await api.wait_running()
            entry = await add_account(api, base_url=emulator_url, api_key=API_KEY)
            await api.wait_entry_loaded(entry["entry_id"])
            engines = {
                "ours": next(e for e in await api.integration_entities() if e.startswith("tts."))
            }
            if builtin_note is None:
                engines["builtin"] = await add_builtin(api)
            voices = (
                await (
                    await session.get(
                        f"{emulator_url}/model", headers={"Authorization": f"Bearer {API_KEY}"}
                    )
                ).json()
            )["items"]
            voice = voices[0]["_id"]
            # One warm-up each: connection pools and lazy imports, as in a running instance.
            for name, entity in engines.items():
                await through_hass(api, hass.pid, entity, f"Warm up {name}.", {})
            for rep in range(reps):
                for case, options, fmt in (("mp3", {}, "mp3"), ("wav16k", WAV_16K, "wav")):
                    message = f"{message_base} Run {rep} {case}."
                    for name, entity in engines.items():
                        result = await through_hass(
                            api, hass.pid, entity, f"{message} {name}", options
                        )
                        samples.setdefault(f"{case}/{name}", []).append(result)
                    samples.setdefault(f"{case}/floor", []).append(
                        await floor(session, emulator_url, voice, message, fmt)
                    )
            await _measure_assist(
                api,
                engines,
                emulator=(emulator_url, voice),
                agent_log=agent_log,
                reps=reps,
                samples=samples,
            )
    summaries = {
        key: {
            metric: summarize(
                [s[metric] * (1000 if metric in ("first", "last") else 1) for s in runs]
            ).as_dict()
            for metric in ("first", "last")
        }
        for key, runs in samples.items()
    }
    cpu = {
        key: sum(s["cpu_s"] for s in runs) / (sum(s["audio_s"] for s in runs) / 60)
        for key, runs in samples.items()
        if "cpu_s" in runs[0]
    }
    return {
        "summaries": summaries,
        "cpu_per_audio_minute_s": cpu,
        "builtin_note": builtin_note,
        "reps": reps,
        "samples": samples,
    }


def table(result: dict[str, Any]) -> str:
    """The figures as a Markdown table."""
    header = "| case | who | first byte ms (p10-p90) | last byte ms (p10-p90) | CPU s / audio min |"
    lines = [
        header,
        "|---|---|---|---|---|",
    ]
    for key, metrics in result["summaries"].items():
        case, who = key.split("/")
        cells = [
            f"{m['median']:.0f} ({m['p10']:.0f}-{m['p90']:.0f})"
            for m in (metrics["first"], metrics["last"])
        ]
        cpu = result["cpu_per_audio_minute_s"].get(key)
        lines.append(
            f"| {case} | {who} | {cells[0]} | {cells[1]} | {'' if cpu is None else f'{cpu:.2f}'} |"
        )
    lines.append(
        "\nassist: first = first audio byte after the agent's first delta, last = last audio "
        "byte after its last delta (the tail)"
    )
    if result["builtin_note"]:
        lines.append(f"\nbuilt-in fish_audio skipped: {result['builtin_note']}")
    return "\n".join(lines)


def main() -> None:
    """Command line: ``python -m benchmarks.hass_latency [--reps N] [--smoke] [--json FILE]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=11)
    parser.add_argument("--smoke", action="store_true", help="1 repetition, no SDK install")
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--chunk-delay-ms", type=int, default=50)
    # As the client-level benchmark (benchmarks/runner.py): each live synthesis segment costs.
    parser.add_argument("--segment-latency-ms", type=int, default=300)
    parser.add_argument("--json", type=Path, help="also write the samples here")
    args = parser.parse_args()
    result = asyncio.run(
        run(
            1 if args.smoke else args.reps,
            smoke=args.smoke,
            latency_ms=args.latency_ms,
            chunk_delay_ms=args.chunk_delay_ms,
            segment_latency_ms=args.segment_latency_ms,
        )
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print(table(result))


if __name__ == "__main__":
    main()
