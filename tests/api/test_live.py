"""Wire-level tests of live TTS over the `/v1/tts/live` WebSocket against the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Self

from aiohttp import WSMsgType, web
import ormsgpack
import pytest

from custom_components.fish_audio_suite import api
from custom_components.fish_audio_suite.api import (
    FishAudioAuthenticationError,
    FishAudioClient,
    FishAudioConnectionError,
    FishAudioInsufficientCreditError,
    FishAudioServerError,
    FishAudioTimeoutError,
    FishAudioWebSocketError,
    FlushPolicy,
    TTSOptions,
)

from .helpers import API_KEY, USER_AGENT, assert_no_secret, drain, free_port

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable

    from emulator import FishAudioEmulator

NO_FLUSH = FlushPolicy(enabled=False)


async def chunks(parts: Iterable[str | float]) -> AsyncIterator[str]:
    """Yield text parts; a number is a pause of that many seconds."""
    for part in parts:
        if isinstance(part, str):
            yield part
        else:
            await asyncio.sleep(part)


async def speak(
    client: FishAudioClient,
    parts: Iterable[str | float],
    *,
    options: TTSOptions | None = None,
    flush: FlushPolicy | None = None,
) -> list[bytes]:
    stream = client.tts_live(chunks(parts), options or TTSOptions(), flush=flush)
    async with contextlib.aclosing(stream):
        return [audio async for audio in stream]


def client_events(emulator: FishAudioEmulator, index: int = 0) -> list[dict[str, Any]]:
    """The client's events without their arrival stamps."""
    return [
        {k: v for k, v in event.items() if k != "monotonic"}
        for event in emulator.ws_sessions[index].events
    ]


def kinds(emulator: FishAudioEmulator, index: int = 0) -> list[str]:
    return [event["event"] for event in client_events(emulator, index)]


async def assert_connections_closed(emulator: FishAudioEmulator) -> None:
    """The emulator soon holds no open connection: the client closed what it opened.

    The harness also fails a test that leaves a timer behind (aiohttp 3.14's heartbeat did,
    after every client-initiated close); this counts the connections themselves.
    """
    async with asyncio.timeout(2):
        while emulator.open_connections:
            await asyncio.sleep(0.01)


async def test_live_wire(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    voice = next(iter(emulator.state.voices))
    options = TTSOptions(model="s2-pro", reference_id=voice, speed=1.1)
    audio = await speak(client, ["Hello there. ", "How are you ", "today?"], options=options)
    assert audio
    assert b"".join(audio)[:2] == b"\xff\xfb"
    (session,) = emulator.ws_sessions
    assert session.headers["Authorization"] == f"Bearer {API_KEY}"
    assert session.headers["User-Agent"] == USER_AGENT
    assert session.headers["model"] == "s2-pro"
    assert "Sec-WebSocket-Protocol" not in session.headers
    events = client_events(emulator)
    start = events[0]
    assert start == {"event": "start", "request": options.to_request("", include_none=True)}
    # The start request carries every field, None as nil, in the SDK's order (fish-audio-sdk 1.3.0).
    assert list(start["request"]) == [
        "text", "chunk_length", "format", "sample_rate", "mp3_bitrate", "opus_bitrate",
        "references", "reference_id", "normalize", "latency", "prosody", "top_p", "temperature",
    ]  # fmt: skip
    assert start["request"]["sample_rate"] is None
    assert start["request"]["text"] == ""
    # The first sentence is flushed at once; the rest goes with stop.
    assert events[1:] == [
        {"event": "text", "text": "Hello there. "},
        {"event": "flush"},
        {"event": "text", "text": "How are you "},
        {"event": "text", "text": "today?"},
        {"event": "stop"},
    ]
    assert session.audio_bytes == len(b"".join(audio))
    assert session.sent[-1]["event"] == "finish"


async def test_live_start_frame_bytes(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    await speak(client, ["Hi."], flush=NO_FLUSH)
    start = client_events(emulator)[0]
    packed = ormsgpack.packb(start)
    # SDK 1.3.0 packs: 82 a5 "event" a5 "start" a7 "request" + map of the request, "text" first.
    assert packed.startswith(b"\x82\xa5event\xa5start\xa7request\x8d\xa4text\xa0")


async def test_live_no_flush_policy(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    assert await speak(client, ["One. ", "Two. ", "Three."], flush=NO_FLUSH)
    assert kinds(emulator) == ["start", "text", "text", "text", "stop"]


async def test_live_empty_stream(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    assert await speak(client, ["", ""]) == []
    assert kinds(emulator) == ["start", "stop"]


async def test_live_first_audio_before_text_ends(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    """Flushing the first sentence gets audio to the consumer while the LLM still writes."""
    second_part_at: list[float] = []

    async def text() -> AsyncIterator[str]:
        yield "The first sentence arrives quickly. "
        await asyncio.sleep(0.8)
        second_part_at.append(time.monotonic())
        yield "The rest comes much later."

    first_audio_at: float | None = None
    async with contextlib.aclosing(client.tts_live(text(), TTSOptions())) as stream:
        async for _ in stream:
            if first_audio_at is None:
                first_audio_at = time.monotonic()
    assert first_audio_at is not None
    assert first_audio_at < second_part_at[0]


async def test_live_without_flush_waits_for_stop(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    stop_sent: list[float] = []

    async def text() -> AsyncIterator[str]:
        yield "The first sentence arrives quickly. "
        await asyncio.sleep(0.5)
        stop_sent.append(time.monotonic())
        yield "Short."

    first_audio_at: float | None = None
    async with contextlib.aclosing(client.tts_live(text(), TTSOptions(), flush=NO_FLUSH)) as stream:
        async for _ in stream:
            first_audio_at = first_audio_at or time.monotonic()
    # Below chunk_length the server synthesises nothing until stop.
    assert first_audio_at is not None
    assert first_audio_at >= stop_sent[0]


async def test_live_flush_on_pause(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    await speak(client, ["First. ", "Second one is here.", 0.6, " Third."])
    events = emulator.ws_sessions[0].events
    assert [e["event"] for e in events] == [
        "start", "text", "flush", "text", "flush", "text", "stop",
    ]  # fmt: skip
    # The second flush came after the 0.3 s pause that followed "here.", not at once.
    gap = events[4]["monotonic"] - events[3]["monotonic"]
    assert 0.25 <= gap < 0.6


async def test_live_no_flush_on_pause_mid_sentence(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    await speak(client, ["First. ", "Pi is 3.", 0.5, "14 exactly"])
    assert kinds(emulator) == ["start", "text", "flush", "text", "flush", "text", "stop"]
    # "3." at the end of the buffer counted as a sentence end only after the pause.
    await speak(client, ["First. ", "Pi is 3.", "14 exactly", 0.5, " and more"])
    assert kinds(emulator, 1) == ["start", "text", "flush", "text", "text", "text", "stop"]


async def test_live_flush_on_min_chars(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    policy = FlushPolicy(first_sentence=False, pause=5.0, min_chars=20)
    await speak(client, ["one two three four ", "five six, seven", " eight"], flush=policy)
    assert client_events(emulator)[1:] == [
        {"event": "text", "text": "one two three four "},
        {"event": "text", "text": "five six, "},
        {"event": "flush"},
        {"event": "text", "text": "seven"},
        {"event": "text", "text": " eight"},
        {"event": "stop"},
    ]


async def test_live_split_inside_chunk(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    await speak(client, ["Hi there.", " How", " are you?"])
    assert client_events(emulator)[1:] == [
        {"event": "text", "text": "Hi there."},
        {"event": "text", "text": " "},
        {"event": "flush"},
        {"event": "text", "text": "How"},
        {"event": "text", "text": " are you?"},
        {"event": "stop"},
    ]


async def test_live_cjk(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    await speak(client, ["你好。我是", "鱼。"])
    assert client_events(emulator)[1:4] == [
        {"event": "text", "text": "你好。"},
        {"event": "flush"},
        {"event": "text", "text": "我是"},
    ]


async def test_live_long_text_gap(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    """Gaps longer than the receive bound and several heartbeats do not break the stream."""
    async with make_client(request_timeout=0.3, live_heartbeat=0.1) as client:
        audio = await speak(client, ["Start. ", 1.0, "Still here after a long pause."])
    assert audio
    assert kinds(emulator)[-1] == "stop"
    await assert_connections_closed(emulator)


class PingPeer:
    """A WebSocket server that records ping and pong frames and answers none on its own.

    The emulator answers pings as every aiohttp server does; a dead peer (a NAT that dropped
    the mapping, a server that hung) does not, which only a peer of its own can show.
    """

    def __init__(self, *, answer_pings: bool, ping_client: bool = False) -> None:
        self.answer_pings = answer_pings
        self.ping_client = ping_client
        self.frames: list[WSMsgType] = []
        self.pong_seen = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        if self.ping_client:
            await ws.ping(b"server-ping")
        async for message in ws:
            self.frames.append(message.type)
            if message.type is WSMsgType.PING and self.answer_pings:
                await ws.pong(message.data)
            elif message.type is WSMsgType.PONG and message.data == b"server-ping":
                self.pong_seen.set()
        return ws

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get("/v1/tts/live", self._handler)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


async def test_live_dead_peer_detected(socket_enabled: None) -> None:
    """A peer that answers no ping ends the stream within heartbeat * 1.5, with a ping sent."""
    forever = asyncio.Event()

    async def text() -> AsyncIterator[str]:
        yield "Hello there."
        await forever.wait()  # an LLM still thinking: only the heartbeat can notice
        yield "never"  # pragma: no cover

    async with (
        PingPeer(answer_pings=False) as peer,
        FishAudioClient(API_KEY, base_url=peer.url, live_heartbeat=0.1) as client,
    ):
        start = time.monotonic()
        with pytest.raises(FishAudioWebSocketError, match="no answer to ping"):
            await drain(client.tts_live(text(), TTSOptions()), [])
        assert 0.15 <= time.monotonic() - start < 1
    assert WSMsgType.PING in peer.frames


async def test_live_pings_answered_and_alive_peer_kept(socket_enabled: None) -> None:
    """Pongs keep a quiet stream alive, and the server's own ping is answered."""
    release = asyncio.Event()

    async def text() -> AsyncIterator[str]:
        yield "Hello there."
        await release.wait()

    async with (
        PingPeer(answer_pings=True, ping_client=True) as peer,
        FishAudioClient(
            API_KEY, base_url=peer.url, live_heartbeat=0.05, request_timeout=0.2
        ) as client,
    ):
        stream = client.tts_live(text(), TTSOptions())
        consumer = asyncio.create_task(drain(stream, []))
        await asyncio.wait_for(peer.pong_seen.wait(), 2)
        await asyncio.sleep(0.5)  # ten heartbeats: every ping answered, nothing ends
        assert not consumer.done()
        assert peer.frames.count(WSMsgType.PING) >= 3
        release.set()
        # The peer never sends `finish`: the receive bound after the text ends applies.
        with pytest.raises(FishAudioTimeoutError):
            await consumer


@pytest.mark.parametrize(
    ("mode", "kwargs", "server_message"),
    [
        ("finish-error", {}, None),
        ("close", {}, None),
        ("text-frame", {}, None),
        ("malformed", {}, None),
        ("non-map", {}, None),
        ("error-event", {}, "Concurrency limit exceeded"),
        ("finish-error", {"after_audio_chunks": 1}, None),
        ("close", {"after_audio_chunks": 1}, None),
    ],
)
async def test_live_stream_failures(
    client: FishAudioClient,
    emulator: FishAudioEmulator,
    mode: str,
    kwargs: dict[str, Any],
    server_message: str | None,
) -> None:
    emulator.faults.ws(mode, **kwargs)
    received: list[bytes] = []
    stream = client.tts_live(chunks(["Hello there. ", "More text here."]), TTSOptions())
    with pytest.raises(FishAudioWebSocketError) as err:
        await drain(stream, received)
    if server_message is not None:
        assert err.value.server_message == server_message
    if kwargs.get("after_audio_chunks"):
        assert received
    assert_no_secret(err.value)
    # Nothing is retried once the stream is open.
    assert len(emulator.ws_sessions) == 1
    await assert_connections_closed(emulator)


async def test_live_unknown_events_are_ignored(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    emulator.faults.ws("unknown-events")
    assert await speak(client, ["Hello there. ", "Bye."])


async def test_live_never_finish(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    emulator.faults.ws("never-finish")
    async with make_client(request_timeout=0.3) as client:
        start = time.monotonic()
        with pytest.raises(FishAudioTimeoutError):
            await speak(client, ["Hello there."])
    assert time.monotonic() - start < 2
    await assert_connections_closed(emulator)


@pytest.mark.parametrize(
    ("mode", "cls", "status"),
    [
        ("reject-401", FishAudioAuthenticationError, 401),
        ("reject-402", FishAudioInsufficientCreditError, 402),
    ],
)
async def test_live_handshake_rejected(
    client: FishAudioClient,
    emulator: FishAudioEmulator,
    mode: str,
    cls: type[Exception],
    status: int,
) -> None:
    emulator.faults.ws(mode)
    with pytest.raises(cls) as err:
        await speak(client, ["Hello."])
    assert err.value.status == status  # type: ignore[attr-defined]
    assert err.value.__cause__ is None
    assert err.value.__context__ is None
    assert_no_secret(err.value)


async def test_live_wrong_key(make_client: Callable[..., FishAudioClient]) -> None:
    async with make_client(api_key="wrong-key") as client:
        with pytest.raises(FishAudioAuthenticationError) as err:
            await speak(client, ["Hello."])
    assert "wrong-key" not in str(err.value)


async def test_live_handshake_retried(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    emulator.faults.preset("GET /v1/tts/live", "503", times=1)
    assert await speak(client, ["Hello there."])
    assert len(emulator.ws_sessions) == 1


async def test_live_handshake_server_error(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    emulator.faults.preset("GET /v1/tts/live", "500", times=None)
    with pytest.raises(FishAudioServerError):
        await speak(client, ["Hello there."])


async def test_live_text_iterator_error_propagates(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    async def text() -> AsyncIterator[str]:
        yield "Hello there. "
        await asyncio.sleep(0.1)
        raise ConnectionResetError("the LLM went away")

    with pytest.raises(ConnectionResetError, match="the LLM went away"):
        await drain(client.tts_live(text(), TTSOptions()), [])
    await assert_connections_closed(emulator)
    assert emulator.ws_sessions[0].closed is not None


async def test_live_text_type_error(client: FishAudioClient) -> None:
    async def text() -> AsyncIterator[str]:
        yield b"bytes"  # type: ignore[misc]

    with pytest.raises(TypeError, match="text chunks must be str"):
        await drain(client.tts_live(text(), TTSOptions()), [])


async def test_live_consumer_aclose_closes_at_once(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    forever = asyncio.Event()

    async def text() -> AsyncIterator[str]:
        yield "Hello there, this is the first sentence. "
        # Ends a sentence: the sender now waits for more text with a pause timer running.
        yield "And a second one."
        await forever.wait()  # an LLM that never finishes
        yield "never"  # pragma: no cover

    stream = client.tts_live(text(), TTSOptions())
    async with contextlib.aclosing(stream):
        assert await anext(stream)
        assert emulator.open_connections == 1
        start = time.monotonic()
    assert time.monotonic() - start < 0.5
    await assert_connections_closed(emulator)
    assert emulator.ws_sessions[0].closed is not None
    assert kinds(emulator)[-1] != "stop"


async def test_live_consumer_cancel(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    got_audio = asyncio.Event()

    async def consume() -> None:
        async def text() -> AsyncIterator[str]:
            yield "Hello there, this is the first sentence. "
            await asyncio.sleep(30)
            yield "never"  # pragma: no cover

        async with contextlib.aclosing(client.tts_live(text(), TTSOptions())) as stream:
            async for _ in stream:
                got_audio.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(got_audio.wait(), 5)
    assert emulator.open_connections == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await assert_connections_closed(emulator)
    assert emulator.ws_sessions[0].closed is not None


async def test_live_connection_refused(make_client: Callable[..., FishAudioClient]) -> None:
    async with make_client(base_url=f"http://127.0.0.1:{free_port()}", max_retries=1) as client:
        with pytest.raises(FishAudioConnectionError) as err:
            await speak(client, ["Hello."])
    assert not isinstance(err.value, FishAudioTimeoutError)


async def test_live_handshake_timeout(socket_enabled: None) -> None:
    """A server that accepts TCP but never answers the upgrade (the emulator cannot)."""
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with FishAudioClient(
            API_KEY, base_url=f"http://127.0.0.1:{port}", request_timeout=0.2
        ) as client:
            start = time.monotonic()
            with pytest.raises(FishAudioTimeoutError):
                await speak(client, ["Hello."])
            assert time.monotonic() - start < 1
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
    assert len(accepted) == 1  # a timeout is not retried


async def test_live_holds_the_concurrency_slot(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    async with make_client(max_concurrency=1) as client:
        release = asyncio.Event()

        async def slow_text() -> AsyncIterator[str]:
            yield "Hello there. "
            await release.wait()

        stream = client.tts_live(slow_text(), TTSOptions())
        async with contextlib.aclosing(stream):
            assert await anext(stream)
            credit = asyncio.create_task(client.get_credit())
            await asyncio.sleep(0.2)
            assert not credit.done()  # queued behind the open stream
            release.set()
            async for _ in stream:
                pass
        assert (await credit).user_id == "user-1"


class _ImportRecorder:
    """A meta path finder that records which thread looks for a module, and finds nothing."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.threads: list[int] = []

    def find_spec(self, name: str, *_: object) -> None:
        if name == self.name:
            self.threads.append(threading.get_ident())


async def test_live_module_is_loaded_off_the_loop(
    client: FishAudioClient, emulator: FishAudioEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """live.py is imported by the first live stream, in the executor: reading its file in the
    event loop would block it. The client's import does not load it."""
    name = f"{api.__name__}.live"
    recorder = _ImportRecorder(name)
    monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(api, "live", api.live)  # restored with the module after the test
    monkeypatch.setattr(sys, "meta_path", [recorder, *sys.meta_path])
    assert await speak(client, ["Hello there."])
    assert name in sys.modules
    assert len(recorder.threads) == 1
    assert recorder.threads[0] != threading.get_ident()
    # Loaded once: the next stream imports nothing.
    assert await speak(client, ["Hello again."])
    assert len(recorder.threads) == 1
