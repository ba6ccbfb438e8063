"""The Fish Speech client on the wire: exact bytes against the emulator's Fish Speech mode."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
import contextlib
import io
import struct
import time
from typing import Any
import wave

from aiohttp import web
import ormsgpack
import pytest

from custom_components.fish_audio_suite.api import (
    FishAudioAuthenticationError,
    FishAudioConnectionError,
    FishAudioInvalidResponseError,
    FishAudioNotFoundError,
    FishAudioRequestError,
    FishAudioServerError,
    FishAudioTimeoutError,
    FishSpeechClient,
    FishSpeechNotServerError,
    FishSpeechTTSOptions,
)
from custom_components.fish_audio_suite.api.fish_speech import (
    SAMPLE_RATE,
    check_reference_id,
    split_sentences,
    wav_stream_header,
)
from emulator.audio import mp3_duration

from ..conftest import FishSpeechFactory
from .helpers import USER_AGENT, free_port

KEY = "speech-secret"


@contextlib.asynccontextmanager
async def client_for(url: str, **kwargs: Any) -> AsyncIterator[FishSpeechClient]:
    """A client with its own session, closed at the end."""
    client = FishSpeechClient(url, **kwargs)
    try:
        yield client
    finally:
        await client.close()


async def collect(stream: AsyncGenerator[bytes]) -> bytes:
    """Return everything a stream yields."""
    async with contextlib.aclosing(stream):
        return b"".join([chunk async for chunk in stream])


async def test_health_headers(make_fish_speech: FishSpeechFactory) -> None:
    """Health sends the key as a bearer token and our User-Agent; no key, no header."""
    emu = await make_fish_speech(api_key=KEY)
    async with client_for(emu.base_url, api_key=KEY) as client:
        await client.health()
        assert KEY not in repr(client)
        assert client.base_url == emu.base_url
    record = emu.requests[-1]
    assert (record.method, record.path) == ("GET", "/v1/health")
    assert record.headers["Authorization"] == f"Bearer {KEY}"
    assert record.headers["User-Agent"] == USER_AGENT
    open_server = await make_fish_speech()
    async with client_for(open_server.base_url) as client:
        await client.health()
    assert "Authorization" not in open_server.requests[-1].headers


async def test_health_tells_failures_apart(
    make_fish_speech: FishSpeechFactory, socket_enabled: None
) -> None:
    """A refused key, a server that is not Fish Speech, and no server at all differ."""
    emu = await make_fish_speech(api_key=KEY)
    async with client_for(emu.base_url, api_key="wrong") as client:
        with pytest.raises(FishAudioAuthenticationError) as refused:
            await client.health()
    assert refused.value.message == "Invalid token"
    assert "wrong" not in str(refused.value)
    async with client_for(emu.base_url) as client:
        with pytest.raises(FishAudioAuthenticationError):
            await client.health()
    async with client_for(f"http://127.0.0.1:{free_port()}") as client:
        with pytest.raises(FishAudioConnectionError):
            await client.health()

    async def other(request: web.Request) -> web.Response:
        if request.path == "/api/v1/health":
            return web.Response(text="<html>ok</html>", content_type="text/html")
        if request.path == "/json/v1/health":
            return web.json_response({"status": "fine"})
        if request.path == "/badjson/v1/health":
            return web.Response(text="{", content_type="application/json")
        if request.path == "/broken/v1/health":
            return web.json_response({"detail": "boom"}, status=503)
        return web.json_response({"detail": "Not Found"}, status=404)

    async with _raw_server(other) as url:
        for prefix in ("", "/api", "/json", "/badjson"):
            async with client_for(url + prefix) as client:
                with pytest.raises(FishSpeechNotServerError):
                    await client.health()
        async with client_for(url + "/broken") as client:
            with pytest.raises(FishAudioServerError) as broken:
                await client.health()
        assert not isinstance(broken.value, FishSpeechNotServerError)


@contextlib.asynccontextmanager
async def _raw_server(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[str]:
    """A bare aiohttp server answering everything with ``handler``."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    # A client that gave up cancels its handler: aiohttp 3.14's cleanup no longer cancels a
    # handler whose connection is already gone, and it would outlive the test.
    runner = web.AppRunner(app, shutdown_timeout=0.1, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_tts_request_bytes(make_fish_speech: FishSpeechFactory) -> None:
    """The TTS body is msgpack of exactly the server's fields, in our order."""
    emu = await make_fish_speech(references={"Kitchen": (b"RIFF", "hi")})
    options = FishSpeechTTSOptions(
        reference_id="Kitchen",
        temperature=0.5,
        top_p=0.9,
        repetition_penalty=1.2,
        max_new_tokens=512,
        chunk_length=300,
        seed=7,
    )
    async with client_for(emu.base_url) as client:
        await collect(client.tts("Hello.", options))
    record = emu.requests[-1]
    assert record.path == "/v1/tts"
    assert record.headers["Content-Type"] == "application/msgpack"
    assert record.body == ormsgpack.packb(
        {
            "text": "Hello.",
            "format": "wav",
            "streaming": True,
            "temperature": 0.5,
            "top_p": 0.9,
            "repetition_penalty": 1.2,
            "max_new_tokens": 512,
            "chunk_length": 300,
            "seed": 7,
            "reference_id": "Kitchen",
            "use_memory_cache": "on",
        }
    )
    async with client_for(emu.base_url) as client:
        await collect(client.tts("Hi.", FishSpeechTTSOptions(format="mp3")))
    sent = ormsgpack.unpackb(emu.requests[-1].body)
    assert sent["streaming"] is False
    assert sent["reference_id"] is None
    assert sent["use_memory_cache"] == "off"
    assert sent["temperature"] == 0.8  # the server's own defaults


async def test_streamed_wav_gets_a_header(make_fish_speech: FishSpeechFactory) -> None:
    """Headerless streamed PCM becomes a WAV stream: our header, then the server's bytes."""
    emu = await make_fish_speech(audio_seconds_per_char=0.02)
    async with client_for(emu.base_url) as client:
        audio = await collect(client.tts("A first sentence. A second one.", FishSpeechTTSOptions()))
    header = wav_stream_header()
    assert audio.startswith(header)
    assert len(header) == 44
    assert struct.unpack("<I", header[24:28]) == (SAMPLE_RATE,)
    pcm = audio[44:]
    assert not pcm.startswith(b"RIFF")
    assert len(pcm) == round(0.34 * SAMPLE_RATE) * 2 + round(0.28 * SAMPLE_RATE) * 2
    with wave.open(io.BytesIO(header + pcm[: 2 * 100])) as clip:  # players read it
        assert clip.getframerate() == SAMPLE_RATE


async def test_whole_files(make_fish_speech: FishSpeechFactory) -> None:
    """Not streamed: the server's WAV or MP3 file as it is."""
    emu = await make_fish_speech()
    async with client_for(emu.base_url) as client:
        wav_audio = await collect(client.tts("Hello.", FishSpeechTTSOptions(), streaming=False))
        mp3_audio = await collect(client.tts("Hello.", FishSpeechTTSOptions(format="mp3")))
        with pytest.raises(ValueError, match="WAV"):
            client.tts("Hi", FishSpeechTTSOptions(format="mp3"), streaming=True)
        with pytest.raises(ValueError, match="empty"):
            client.tts("  ", FishSpeechTTSOptions())
    with wave.open(io.BytesIO(wav_audio)) as clip:
        assert clip.getnframes() == round(0.36 * SAMPLE_RATE)
    assert mp3_duration(mp3_audio) == pytest.approx(0.36, abs=0.03)


async def test_tts_refusals(make_fish_speech: FishSpeechFactory) -> None:
    """The server's 400s come back as request errors with its message."""
    emu = await make_fish_speech(max_text_length=10, api_key=KEY)
    async with client_for(emu.base_url, api_key=KEY) as client:
        with pytest.raises(FishAudioRequestError) as too_long:
            await collect(client.tts("This text is too long.", FishSpeechTTSOptions()))
    assert too_long.value.status == 400
    assert too_long.value.message == "Text is too long, max length is 10"
    async with client_for(emu.base_url, api_key="nope") as client:
        with pytest.raises(FishAudioAuthenticationError):
            await collect(client.tts("Hi.", FishSpeechTTSOptions()))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"format": "pcm"},
        {"temperature": 0.05},
        {"top_p": 1.5},
        {"repetition_penalty": 0.5},
        {"chunk_length": 50},
        {"max_new_tokens": -1},
        {"reference_id": "a/b"},
        {"reference_id": ""},
    ],
)
def test_options_bounds(kwargs: dict[str, Any]) -> None:
    """Values the server's model would refuse are refused before sending."""
    with pytest.raises(ValueError):
        FishSpeechTTSOptions(**kwargs)


@pytest.mark.parametrize("kwargs", [{"chunk_length": 200.0}, {"seed": "1"}, {"seed": True}])
def test_options_strict_ints(kwargs: dict[str, Any]) -> None:
    """The server's integers are strict."""
    with pytest.raises(TypeError):
        FishSpeechTTSOptions(**kwargs)


def test_reference_ids() -> None:
    """Reference ids are the server's folder names."""
    assert check_reference_id("Living room_2-b") == "Living room_2-b"
    for bad in ("", "x" * 256, "../x", "café"):
        with pytest.raises(ValueError, match="reference ids"):
            check_reference_id(bad)


async def test_references_on_the_wire(make_fish_speech: FishSpeechFactory) -> None:
    """List, add (multipart), rename and delete send what the server reads."""
    emu = await make_fish_speech(api_key=KEY)
    async with client_for(emu.base_url, api_key=KEY) as client:
        assert await client.list_references() == []
        await client.add_reference("Kitchen", b"RIFFdata", "What I said.")
        assert await client.list_references() == ["Kitchen"]
        await client.rename_reference("Kitchen", "Lounge")
        await client.delete_reference("Lounge")
        assert await client.list_references() == []
    listed, add, _, rename, delete, _ = emu.requests
    assert listed.headers["Accept"] == "application/msgpack"
    assert [(p.name, p.filename, p.content_type) for p in add.parts] == [
        ("id", None, "text/plain; charset=utf-8"),
        ("audio", "sample.wav", "application/octet-stream"),
        ("text", None, "text/plain; charset=utf-8"),
    ]
    assert [p.data for p in add.parts] == [b"Kitchen", b"RIFFdata", b"What I said."]
    assert (rename.method, rename.path) == ("POST", "/v1/references/update")
    assert rename.body == ormsgpack.packb(
        {"old_reference_id": "Kitchen", "new_reference_id": "Lounge"}
    )
    assert (delete.method, delete.path) == ("DELETE", "/v1/references/delete")
    assert delete.body == ormsgpack.packb({"reference_id": "Lounge"})
    assert delete.headers["Content-Type"] == "application/msgpack"


async def test_reference_errors(make_fish_speech: FishSpeechFactory) -> None:
    """409, 404 and bad input map to the exception tree or fail before sending."""
    emu = await make_fish_speech(references={"Kitchen": (b"RIFF", "hi")})
    async with client_for(emu.base_url) as client:
        with pytest.raises(FishAudioRequestError) as exists:
            await client.add_reference("Kitchen", b"RIFF", "again")
        assert exists.value.status == 409
        with pytest.raises(FishAudioNotFoundError):
            await client.delete_reference("Nope")
        with pytest.raises(FishAudioNotFoundError):
            await client.rename_reference("Nope", "Other")
        count = len(emu.requests)
        for call in (
            client.add_reference("bad/id", b"RIFF", "text"),
            client.add_reference("trailing newline\n", b"RIFF", "text"),
            client.add_reference("ok", b"", "text"),
            client.add_reference("ok", b"RIFF", " "),
            client.delete_reference("../x"),
        ):
            with pytest.raises(ValueError):
                await call
        assert len(emu.requests) == count


async def test_json_answers_and_bad_answers(socket_enabled: None) -> None:
    """JSON answers are read as well; unreadable or failed ones are the server's fault."""
    answers: dict[str, web.Response] = {
        "/json/v1/references/list": web.json_response({"reference_ids": ["a"]}),
        # Names no request could carry (a newline, a control character, a path, too long)
        # never reach the picker or a log line.
        "/names/v1/references/list": web.json_response(
            {"reference_ids": ["Kitchen", "a\n", "b\x1b[31m", "../x", "x" * 256, "y" * 255]}
        ),
        "/garbage/v1/references/list": web.Response(
            body=b"\xc1", content_type="application/msgpack"
        ),
        "/list/v1/references/list": web.json_response([1]),
        "/ids/v1/references/list": web.json_response({"reference_ids": [1]}),
        "/failed/v1/references/list": web.json_response({"success": False, "message": "disk"}),
        "/huge/v1/references/list": web.Response(
            body=b" " * (1024 * 1024 + 1), content_type="application/json"
        ),
    }

    async def handler(request: web.Request) -> web.Response:
        return answers[request.path]

    async with _raw_server(handler) as url:
        async with client_for(url + "/json") as client:
            assert await client.list_references() == ["a"]
        async with client_for(url + "/names") as client:
            assert await client.list_references() == ["Kitchen", "y" * 255]
        for prefix, error, match in (
            ("/garbage", FishAudioInvalidResponseError, "Unreadable"),
            ("/list", FishAudioInvalidResponseError, "Unexpected answer"),
            ("/ids", FishAudioInvalidResponseError, "Unexpected reference list"),
            ("/failed", FishAudioServerError, "disk"),
            ("/huge", FishAudioInvalidResponseError, "more than the 1048576"),
        ):
            async with client_for(url + prefix) as client:
                with pytest.raises(error, match=match):
                    await client.list_references()


async def test_tts_bad_streams(socket_enabled: None) -> None:
    """Not audio, no audio, a stall and a stream past the deadline are all bounded errors."""

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.path == "/html/v1/tts":
            return web.Response(text="<html/>", content_type="text/html")
        if request.path == "/empty/v1/tts":
            return web.Response(body=b"", content_type="audio/wav")
        response = web.StreamResponse(headers={"Content-Type": "audio/wav"})
        await response.prepare(request)
        await response.write(b"\0\0" * 100)
        if request.path == "/trickle/v1/tts":
            for _ in range(100):
                await asyncio.sleep(0.05)
                await response.write(b"\0\0")
        await asyncio.sleep(10)
        return response

    options = FishSpeechTTSOptions()
    async with _raw_server(handler) as url:
        async with client_for(url + "/html") as client:
            with pytest.raises(FishAudioInvalidResponseError, match="content type"):
                await collect(client.tts("Hi.", options))
        async with client_for(url + "/empty") as client:
            with pytest.raises(FishAudioInvalidResponseError, match="no audio"):
                await collect(client.tts("Hi.", options))
        async with client_for(url + "/stall", request_timeout=0.2) as client:
            with pytest.raises(FishAudioTimeoutError):
                await collect(client.tts("Hi.", options))
        async with client_for(url + "/trickle", stream_deadline=0.5) as client:
            started = time.monotonic()
            with pytest.raises(FishAudioTimeoutError):
                await collect(client.tts("Hi.", options))
            assert time.monotonic() - started < 2
        async with client_for(url + "/stall", synthesis_timeout=0.2, max_concurrency=1) as client:
            first = client.tts("Hi.", options)
            await anext(first)  # holds the only slot
            with pytest.raises(FishAudioTimeoutError, match="waiting"):
                await collect(client.tts("Hi.", options))
            await first.aclose()


async def test_synthesis_timeout(make_fish_speech: FishSpeechFactory) -> None:
    """A whole clip that takes longer than the synthesis bound fails with a timeout."""
    emu = await make_fish_speech(sentence_latency=1.0)
    async with client_for(emu.base_url, synthesis_timeout=0.2) as client:
        with pytest.raises(FishAudioTimeoutError):
            await collect(client.tts("Hi.", FishSpeechTTSOptions(format="mp3")))


def test_constructor_checks() -> None:
    """Bad URLs and bounds are refused."""
    for url in ("ftp://x", "http://", "nothing"):
        with pytest.raises(ValueError, match="URL"):
            FishSpeechClient(url)
    with pytest.raises(ValueError, match="positive"):
        FishSpeechClient("http://x", request_timeout=0)
    with pytest.raises(ValueError, match="positive"):
        FishSpeechClient("http://x", max_concurrency=0)


async def test_path_prefix_kept(make_fish_speech: FishSpeechFactory, socket_enabled: None) -> None:
    """A reverse proxy's path prefix stays in every URL."""
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response({"status": "ok"})

    async with _raw_server(handler) as url, client_for(url + "/fish/") as client:
        await client.health()
    assert seen == ["/fish/v1/health"]


def test_split_sentences() -> None:
    """Sentences end at . ! ? … before a space, at CJK stops and at line breaks."""
    assert split_sentences("Hello there. How") == ("Hello there. ", "How")
    assert split_sentences("Pi is 3.14 and") == ("", "Pi is 3.14 and")
    assert split_sentences('He said "yes." Then') == ('He said "yes." ', "Then")
    assert split_sentences("你好。世界") == ("你好。", "世界")
    assert split_sentences("Line one\nLine two") == ("Line one\n", "Line two")
    assert split_sentences("Wait! Really? Yes") == ("Wait! Really? ", "Yes")
    assert split_sentences("Done.") == ("", "Done.")  # no space yet: maybe "Done.5"


async def _llm(parts: list[tuple[float, str]]) -> AsyncGenerator[str]:
    for delay, text in parts:
        await asyncio.sleep(delay)
        yield text


async def test_sentences_first_plays_while_the_rest_is_written(
    make_fish_speech: FishSpeechFactory,
) -> None:
    """The first sentence is synthesized at once; later ones are batched as written."""
    emu = await make_fish_speech(sentence_latency=0.05, audio_seconds_per_char=0.005)
    parts = [
        (0.0, "The first sentence"),
        (0.0, " ends here. The second"),
        (0.3, " is slow. A third. A fourth"),
        (0.3, " and the tail"),
    ]
    started = time.monotonic()
    first_audio: float | None = None
    chunks: list[bytes] = []
    async with client_for(emu.base_url) as client:
        stream = client.tts_sentences(_llm(parts), FishSpeechTTSOptions())
        async with contextlib.aclosing(stream):
            async for chunk in stream:
                first_audio = first_audio or time.monotonic()
                chunks.append(chunk)
    assert first_audio is not None
    assert first_audio - started < 0.3  # before the LLM wrote its second sentence
    texts = [ormsgpack.unpackb(r.body)["text"] for r in emu.requests]
    assert texts == ["The first sentence ends here.", "The second is slow. A third.",
                     "A fourth and the tail"]  # fmt: skip
    audio = b"".join(chunks)
    assert audio.startswith(wav_stream_header())
    assert audio.count(b"RIFF") == 1  # one WAV stream, not three files


async def test_sentences_mp3_and_empty(make_fish_speech: FishSpeechFactory) -> None:
    """MP3 is one whole file per batch; text without words makes no request."""
    emu = await make_fish_speech()
    async with client_for(emu.base_url) as client:
        audio = await collect(
            client.tts_sentences(
                _llm([(0, "One. "), (0.05, "Two.")]), FishSpeechTTSOptions(format="mp3")
            )
        )
        assert mp3_duration(audio) is not None
        assert await collect(client.tts_sentences(_llm([(0, "  ")]), FishSpeechTTSOptions())) == b""
    assert [ormsgpack.unpackb(r.body)["streaming"] for r in emu.requests] == [False, False]


async def test_sentences_stop_early_and_text_failure(make_fish_speech: FishSpeechFactory) -> None:
    """A consumer that stops ends the text reader; a failing text generator fails the stream."""
    emu = await make_fish_speech(audio_seconds_per_char=0.5)
    cancelled = asyncio.Event()

    async def endless() -> AsyncGenerator[str]:
        try:
            yield "First sentence. "
            while True:
                await asyncio.sleep(0.01)
                yield "more "
        finally:
            cancelled.set()

    async def broken() -> AsyncGenerator[str]:
        yield "Hello"
        raise RuntimeError("LLM failed")

    async with client_for(emu.base_url) as client:
        stream = client.tts_sentences(endless(), FishSpeechTTSOptions())
        assert await anext(stream)
        await stream.aclose()
        await asyncio.wait_for(cancelled.wait(), 1)
        with pytest.raises(RuntimeError, match="LLM failed"):
            await collect(client.tts_sentences(broken(), FishSpeechTTSOptions()))
