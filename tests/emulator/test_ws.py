"""Live TTS over the WebSocket ``/v1/tts/live``: buffering, segments, audio, faults."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal
import io
import time
from typing import Any

import aiohttp
from mutagen.mp3 import MP3
from mutagen.oggopus import OggOpus
import ormsgpack
import pytest

from emulator import FishAudioEmulator
from emulator.audio import wav_duration

from ..conftest import EmulatorFactory
from .conftest import AUTH

START = {
    "event": "start",
    "request": {
        "text": "",
        "chunk_length": 100,
        "format": "mp3",
        "sample_rate": None,
        "mp3_bitrate": 128,
        "opus_bitrate": 32,
        "references": [],
        "reference_id": None,
        "normalize": True,
        "latency": "balanced",
        "prosody": {"speed": 1.0, "volume": 0.0},
        "top_p": 0.7,
        "temperature": 0.7,
    },
}


def start_event(**request: Any) -> dict[str, Any]:
    return {"event": "start", "request": {**START["request"], **request}}


@dataclass
class Result:
    """What a client saw on one live session."""

    audio: bytearray = field(default_factory=bytearray)
    events: list[dict[str, Any]] = field(default_factory=list)
    first_audio: float | None = None
    other: list[aiohttp.WSMessage] = field(default_factory=list)
    close_code: int | None = None


async def collect(ws: aiohttp.ClientWebSocketResponse) -> Result:
    result = Result()
    async for message in ws:
        if message.type is not aiohttp.WSMsgType.BINARY:
            result.other.append(message)
            continue
        try:
            event = ormsgpack.unpackb(message.data)
        except ormsgpack.MsgpackDecodeError:
            result.other.append(message)
            continue
        if not isinstance(event, dict):
            result.other.append(message)
            continue
        result.events.append(event)
        if event.get("event") == "audio":
            if result.first_audio is None:
                result.first_audio = time.monotonic()
            result.audio.extend(event["audio"])
    result.close_code = ws.close_code
    return result


async def run_session(
    session: aiohttp.ClientSession,
    emu: FishAudioEmulator,
    events: list[dict[str, Any] | bytes | str],
    *,
    model: str | None = "s2-pro",
    gap: float = 0.0,
) -> Result:
    headers = {"model": model} if model else {}
    async with session.ws_connect(f"{emu.base_url}/v1/tts/live", headers=headers) as ws:
        reader = asyncio.ensure_future(collect(ws))
        for event in events:
            if isinstance(event, str):
                await ws.send_str(event)
            elif isinstance(event, bytes):
                await ws.send_bytes(event)
            else:
                await ws.send_bytes(ormsgpack.packb(event))
            if gap:
                await asyncio.sleep(gap)
        return await reader


def kinds(result: Result) -> list[str]:
    return [e["event"] for e in result.events]


async def test_full_session(emulator: FishAudioEmulator, session: aiohttp.ClientSession) -> None:
    text = "Hello there. " * 20  # 260 characters
    result = await run_session(
        session,
        emulator,
        [START, {"event": "text", "text": text}, {"event": "flush"}, {"event": "stop"}],
    )
    assert kinds(result)[-1] == "finish"
    assert result.events[-1] == {"event": "finish", "reason": "stop"}
    assert result.close_code == 1000
    assert MP3(io.BytesIO(bytes(result.audio))).info.length == pytest.approx(260 * 0.06, abs=0.1)

    (record,) = emulator.ws_sessions
    await record.wait_closed()
    assert record.close_code == 1000
    assert record.model == "s2-pro"
    assert record.headers["Authorization"] == AUTH["Authorization"]
    assert record.request == START["request"]
    assert [e["event"] for e in record.events] == ["start", "text", "flush", "stop"]
    times = [e["monotonic"] for e in record.events]
    assert times == sorted(times)
    assert [(s["reason"], len(s["text"])) for s in record.segments] == [
        ("chunk_length", 100),
        ("chunk_length", 100),
        ("flush", 60),
    ]
    assert "".join(s["text"] for s in record.segments) == text
    assert record.sent[-1]["event"] == "finish"
    assert record.audio_bytes == len(result.audio)
    assert record.closed is not None
    assert emulator.requests[0].status == 101
    assert emulator.state.credit == Decimal("10.00") - Decimal(15) * 260 / 1_000_000


async def test_buffer_is_synthesised_on_stop(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    result = await run_session(
        session,
        emulator,
        [start_event(text="Initial "), {"event": "text", "text": "words."}, {"event": "stop"}],
    )
    assert kinds(result)[-1] == "finish"
    assert [(s["reason"], s["text"]) for s in emulator.ws_sessions[0].segments] == [
        ("stop", "Initial words.")
    ]


async def test_empty_stream_completes(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    result = await run_session(session, emulator, [START, {"event": "stop"}], model=None)
    assert kinds(result) == ["finish"]
    assert emulator.ws_sessions[0].model == "s2.1-pro"
    assert emulator.ws_sessions[0].segments == []


async def test_flush_cuts_time_to_first_audio(
    make_emulator: EmulatorFactory, session: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(segment_latency=0.1)
    sentence = {"event": "text", "text": "A first sentence. "}
    rest = [{"event": "text", "text": "More words follow here. "} for _ in range(4)]

    async def measure(events: list[dict[str, Any] | bytes | str]) -> float:
        start = time.monotonic()
        result = await run_session(session, emu, events, gap=0.2)
        assert result.first_audio is not None
        return result.first_audio - start

    without = await measure([START, sentence, *rest, {"event": "stop"}])
    with_flush = await measure([START, sentence, {"event": "flush"}, *rest, {"event": "stop"}])
    # Without a flush nothing is synthesised until stop (text < chunk_length): about 1 s +
    # 0.1 s against 0.3 s; gaps this wide keep a loaded machine's delays from closing it.
    assert with_flush < without - 0.3
    assert with_flush >= 0.1  # a segment still costs its latency


@pytest.mark.parametrize("fmt", ["opus", "wav", "pcm"])
async def test_live_formats_are_one_decodable_file(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession, fmt: str
) -> None:
    result = await run_session(
        session,
        emulator,
        [
            start_event(format=fmt, sample_rate=None if fmt == "opus" else 16000),
            {"event": "text", "text": "x" * 50},
            {"event": "flush"},
            {"event": "text", "text": "y" * 25},
            {"event": "stop"},
        ],
    )
    audio = bytes(result.audio)
    if fmt == "opus":
        assert OggOpus(io.BytesIO(audio)).info.length == pytest.approx(4.5, abs=0.05)
    elif fmt == "wav":
        assert wav_duration(audio) == pytest.approx(4.5, abs=0.01)
    else:
        assert len(audio) == 16000 * 2 * 4.5


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([{"event": "text", "text": "hi"}], "The first event must be 'start'"),
        ([start_event(chunk_length=50)], "Invalid start request: request.chunk_length"),
        ([{"event": "start"}], "Invalid start request: request: Input should be a valid dict"),
        ([start_event(reference_id="nope")], "Reference model not found: nope"),
        ([START, START], "'start' may only be sent once"),
        ([START, {"event": "text", "text": 5}], "'text' must be a string"),
        ([START, "text frame"], "Frames must be binary msgpack maps, not text"),
        ([START, b"\xc1\xc1"], "Frames must be msgpack maps"),
        ([START, ormsgpack.packb([1])], "Frames must be msgpack maps"),
    ],
)
async def test_protocol_errors_finish_with_error(
    emulator: FishAudioEmulator,
    session: aiohttp.ClientSession,
    events: list[dict[str, Any] | bytes | str],
    message: str,
) -> None:
    result = await run_session(session, emulator, events)
    assert result.events[-1]["event"] == "finish"
    assert result.events[-1]["reason"] == "error"
    assert result.events[-1]["message"].startswith(message)
    await emulator.ws_sessions[0].wait_closed()


async def test_unknown_client_events_are_ignored(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    result = await run_session(
        session, emulator, [START, {"event": "ping"}, {"text": "no event"}, {"event": "stop"}]
    )
    assert kinds(result) == ["finish"]
    assert len(emulator.ws_sessions[0].events) == 4


async def test_handshake_refusals(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession, anonymous: aiohttp.ClientSession
) -> None:
    url = f"{emulator.base_url}/v1/tts/live"
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await anonymous.ws_connect(url)
    assert err.value.status == 401
    emulator.state.credit = Decimal(0)
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await session.ws_connect(url, headers={"model": "s1"})
    assert err.value.status == 402
    async with session.ws_connect(url, headers={"model": "s2.1-pro-free"}) as ws:
        await ws.send_bytes(ormsgpack.packb(START))
        await ws.send_bytes(ormsgpack.packb({"event": "stop"}))
        assert kinds(await collect(ws)) == ["finish"]
    async with session.get(url) as resp:  # a plain GET is not an upgrade
        assert resp.status == 400


@pytest.mark.parametrize(("mode", "status"), [("reject-401", 401), ("reject-402", 402)])
async def test_reject_faults(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession, mode: str, status: int
) -> None:
    emulator.faults.ws(mode)
    async with session.get(
        f"{emulator.base_url}/v1/tts/live",
        headers={"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                 "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="},
    ) as resp:  # fmt: skip
        assert resp.status == status
        assert (await resp.json())["status"] == status
    assert emulator.ws_sessions == []


TEXT_EVENTS: list[dict[str, Any] | bytes | str] = [
    START,
    {"event": "text", "text": "z" * 120},
    {"event": "stop"},
]


async def test_finish_error_fault(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    emulator.faults.ws("finish-error", after_audio_chunks=1, message="synthesis failed")
    result = await run_session(session, emulator, TEXT_EVENTS)
    assert kinds(result) == ["audio", "finish"]
    assert result.events[-1] == {
        "event": "finish",
        "reason": "error",
        "message": "synthesis failed",
    }
    assert emulator.ws_sessions[0].fault == "finish-error"
    # Used up: the next session is normal.
    assert kinds(await run_session(session, emulator, TEXT_EVENTS))[-1] == "finish"


async def test_finish_error_without_message_at_finish(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    emulator.faults.ws("finish-error", after_audio_chunks=100)
    result = await run_session(session, emulator, TEXT_EVENTS)
    assert result.events[-1] == {"event": "finish", "reason": "error"}
    assert "audio" in kinds(result)


async def test_close_fault(emulator: FishAudioEmulator, session: aiohttp.ClientSession) -> None:
    emulator.faults.ws("close", after_audio_chunks=1)
    result = await run_session(session, emulator, TEXT_EVENTS)
    assert kinds(result) == ["audio"]
    # No close frame: the client sees an abnormal closure.
    assert result.close_code == 1006
    await emulator.ws_sessions[0].wait_closed()


async def test_unknown_events_fault(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    emulator.faults.ws("unknown-events", times=None)
    result = await run_session(session, emulator, TEXT_EVENTS)
    assert kinds(result)[-1] == "finish"
    assert result.events[-1]["reason"] == "stop"
    assert {"log", "future-event", "audio"} <= set(kinds(result))
    assert MP3(io.BytesIO(bytes(result.audio))).info.length == pytest.approx(7.2, abs=0.1)


@pytest.mark.parametrize(
    ("mode", "frame_type"),
    [
        ("text-frame", aiohttp.WSMsgType.TEXT),
        ("malformed", aiohttp.WSMsgType.BINARY),
        ("non-map", aiohttp.WSMsgType.BINARY),
    ],
)
async def test_bad_frame_faults(
    emulator: FishAudioEmulator,
    session: aiohttp.ClientSession,
    mode: str,
    frame_type: aiohttp.WSMsgType,
) -> None:
    emulator.faults.ws(mode, after_audio_chunks=1)
    result = await run_session(session, emulator, TEXT_EVENTS)
    (bad,) = result.other
    assert bad.type is frame_type
    assert kinds(result)[0] == "audio"
    assert kinds(result)[-1] == "finish"


async def test_bad_frame_fault_at_finish(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    emulator.faults.ws("malformed", after_audio_chunks=50)
    result = await run_session(session, emulator, [START, {"event": "stop"}])
    assert len(result.other) == 1
    assert kinds(result) == ["finish"]


async def test_error_event_fault(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    emulator.faults.ws("error-event")
    result = await run_session(session, emulator, TEXT_EVENTS)
    assert result.events == [
        {"event": "error", "error": "Concurrency limit exceeded", "max_concurrency": 5}
    ]
    assert result.audio == b""


async def _receive_until_silent(ws: aiohttp.ClientWebSocketResponse, events: list[str]) -> None:
    while True:
        message = await ws.receive(timeout=0.3)
        events.append(ormsgpack.unpackb(message.data)["event"])


async def test_never_finish_fault(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    emulator.faults.ws("never-finish")
    url = f"{emulator.base_url}/v1/tts/live"
    async with session.ws_connect(url) as ws:
        for event in TEXT_EVENTS:
            await ws.send_bytes(ormsgpack.packb(event))
        events: list[str] = []
        with pytest.raises(TimeoutError):
            await _receive_until_silent(ws, events)
        assert len(events) >= 2
        assert set(events) == {"audio"}  # audio, but no finish
        await ws.send_bytes(ormsgpack.packb({"event": "ping"}))
        await ws.send_bytes(b"\xc1")
        await ws.send_str("text")
        await ws.close()
    record = emulator.ws_sessions[0]
    await record.wait_closed()
    assert record.events[-2]["event"] == "ping"
    assert record.events[-1]["event"] is None
    assert all(m["event"] != "finish" for m in record.sent)


async def test_client_closing_early_ends_the_session(
    make_emulator: EmulatorFactory, session: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(segment_latency=5.0)
    async with session.ws_connect(f"{emu.base_url}/v1/tts/live") as ws:
        await ws.send_bytes(ormsgpack.packb(START))
        await ws.send_bytes(ormsgpack.packb({"event": "text", "text": "q" * 150}))
        await ws.send_bytes(ormsgpack.packb({"event": "stop"}))
    record = emu.ws_sessions[0]
    await record.wait_closed()
    assert record.sent == []


async def test_client_going_away_mid_audio(
    make_emulator: EmulatorFactory, session: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(chunk_delay=0.05)
    async with session.ws_connect(f"{emu.base_url}/v1/tts/live") as ws:
        await ws.send_bytes(ormsgpack.packb(START))
        await ws.send_bytes(ormsgpack.packb({"event": "text", "text": "q" * 300}))
        await ws.receive()
    await emu.ws_sessions[0].wait_closed()


async def test_stop_closes_live_sessions(
    make_emulator: EmulatorFactory, session: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(segment_latency=5.0)
    ws = await session.ws_connect(f"{emu.base_url}/v1/tts/live")
    await ws.send_bytes(ormsgpack.packb(START))
    await ws.send_bytes(ormsgpack.packb({"event": "text", "text": "q" * 150}))
    await asyncio.sleep(0.05)
    start = time.monotonic()
    await emu.stop()
    assert time.monotonic() - start < 2
    result = await collect(ws)
    assert result.close_code == 1001
    assert emu.ws_sessions[0].done.is_set()


async def test_stop_during_never_finish(
    make_emulator: EmulatorFactory, session: aiohttp.ClientSession
) -> None:
    emu = await make_emulator()
    emu.faults.ws("never-finish")
    ws = await session.ws_connect(f"{emu.base_url}/v1/tts/live")
    await ws.send_bytes(ormsgpack.packb(START))
    await ws.send_bytes(ormsgpack.packb({"event": "stop"}))
    await asyncio.sleep(0.05)
    await emu.stop()
    assert (await collect(ws)).close_code == 1001


async def test_ws_sessions_as_json(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    await run_session(
        session,
        emulator,
        [start_event(references=[{"audio": b"\x01", "text": "t"}]), {"event": "stop"}],
    )
    async with session.get(f"{emulator.base_url}/_emulator/ws") as resp:
        (dumped,) = await resp.json()
    assert dumped["request"]["references"][0]["audio"] == {"base64": "AQ=="}
    assert [e["event"] for e in dumped["events"]] == ["start", "stop"]
