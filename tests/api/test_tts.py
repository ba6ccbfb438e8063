"""Wire-level tests of HTTP TTS (`POST /v1/tts`) against the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

import ormsgpack
import pytest

from custom_components.fish_audio_suite.api import (
    FishAudioAuthenticationError,
    FishAudioClient,
    FishAudioConnectionError,
    FishAudioInsufficientCreditError,
    FishAudioInvalidResponseError,
    FishAudioRateLimitError,
    FishAudioRequestError,
    FishAudioServerError,
    FishAudioTimeoutError,
    TTSOptions,
)

from .helpers import API_KEY, USER_AGENT, assert_no_secret, drain, free_port

if TYPE_CHECKING:
    from collections.abc import Callable

    from emulator import FishAudioEmulator

ROUTE = "POST /v1/tts"
TEXT = "Hello from the emulator, this is a test sentence long enough for several chunks."


async def collect(client: FishAudioClient, options: TTSOptions, **kwargs: int) -> list[bytes]:
    async with contextlib.aclosing(client.tts(TEXT, options, **kwargs)) as stream:
        return [chunk async for chunk in stream]


def voice_id(emulator: FishAudioEmulator) -> str:
    return next(iter(emulator.state.voices))


async def test_tts_wire(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    options = TTSOptions(model="s2-pro", reference_id=voice_id(emulator))
    audio = b"".join(await collect(client, options))
    assert audio[:2] == b"\xff\xfb" or audio[:3] == b"ID3"
    (rec,) = emulator.requests
    assert (rec.method, rec.path) == ("POST", "/v1/tts")
    assert rec.headers["Authorization"] == f"Bearer {API_KEY}"
    assert rec.headers["User-Agent"] == USER_AGENT
    assert rec.headers["model"] == "s2-pro"
    assert rec.headers["Content-Type"] == "application/msgpack"
    expected = {
        "text": TEXT,
        "chunk_length": 200,
        "format": "mp3",
        "mp3_bitrate": 128,
        "opus_bitrate": 32,
        "references": [],
        "reference_id": voice_id(emulator),
        "normalize": True,
        "latency": "balanced",
        "prosody": {"speed": 1.0, "volume": 0.0},
        "top_p": 0.7,
        "temperature": 0.7,
    }
    decoded = ormsgpack.unpackb(rec.body)
    assert decoded == expected
    # Key order of Home Assistant's body (fish_audio tts.py via SDK 1.1.0), byte for byte.
    assert list(decoded) == list(expected)
    assert rec.body == ormsgpack.packb(expected)
    assert rec.body[:1] == b"\x8c"  # fixmap of 12 keys: None fields are omitted
    assert rec.body[1:6] == b"\xa4text"


async def test_tts_wav_with_sample_rate(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    options = TTSOptions(format="wav", sample_rate=16000, speed=1.5, volume=-3)
    audio = b"".join(await collect(client, options))
    assert audio[:4] == b"RIFF"
    assert audio[8:12] == b"WAVE"
    decoded = ormsgpack.unpackb(emulator.requests[0].body)
    assert decoded["sample_rate"] == 16000
    assert list(decoded)[:5] == ["text", "chunk_length", "format", "sample_rate", "mp3_bitrate"]
    assert decoded["prosody"] == {"speed": 1.5, "volume": -3.0}
    assert "reference_id" not in decoded
    assert emulator.requests[0].headers["model"] == "s2.1-pro"


@pytest.mark.parametrize("fmt", ["pcm", "opus"])
async def test_tts_other_formats(client: FishAudioClient, fmt: str) -> None:
    audio = b"".join(await collect(client, TTSOptions(format=fmt)))  # type: ignore[arg-type]
    assert audio
    if fmt == "opus":
        assert audio[:4] == b"OggS"


async def test_tts_is_incremental(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    emulator.faults.latency(ROUTE, first_byte=0.0, per_chunk=0.15)
    arrivals: list[float] = []
    async with contextlib.aclosing(client.tts(TEXT, TTSOptions(), chunk_size=256)) as stream:
        async for chunk in stream:
            assert 0 < len(chunk) <= 256
            arrivals.append(time.monotonic())
    assert len(arrivals) >= 3
    # The first audio is handed over while the server is still producing the rest.
    assert arrivals[-1] - arrivals[0] >= 0.15


async def test_tts_early_close_releases_at_once(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    emulator.faults.latency(ROUTE, first_byte=0.0, per_chunk=0.5, times=1)
    async with make_client(max_concurrency=1) as client:
        stream = client.tts(TEXT * 3, TTSOptions(), chunk_size=64)
        async with contextlib.aclosing(stream):
            assert await anext(stream)
            start = time.monotonic()
        assert time.monotonic() - start < 0.2
        # The semaphore was released: the next stream starts at once.
        chunks = await collect(client, TTSOptions())
    assert chunks


async def test_tts_validation(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    with pytest.raises(ValueError):
        client.tts("  ", TTSOptions())
    with pytest.raises(ValueError):
        client.tts("x", TTSOptions(), chunk_size=0)
    assert emulator.requests == []


def _preset(name: str) -> Callable[[FishAudioEmulator], None]:
    def inject(emulator: FishAudioEmulator) -> None:
        emulator.faults.preset(ROUTE, name, times=None)

    return inject


# Faults before any audio: (the fault; the client's options; the error; how many requests
# were made (429 is retried, the rest is not)).
TTS_FAULTS: dict[
    str, tuple[Callable[[FishAudioEmulator], None], dict[str, float], type[Exception], int]
] = {
    "401": (_preset("401-plain"), {}, FishAudioAuthenticationError, 1),
    "402": (_preset("402"), {}, FishAudioInsufficientCreditError, 1),
    "422": (_preset("422-detail"), {}, FishAudioRequestError, 1),
    "500": (_preset("500"), {}, FishAudioServerError, 1),
    "429 until the retries run out": (_preset("429"), {}, FishAudioRateLimitError, 4),
    # The 200 arrived, so the text may have been billed: a retry would bill it twice.
    "dropped before the audio": (
        lambda emulator: emulator.faults.truncate(ROUTE, after_bytes=0, times=None),
        {}, FishAudioConnectionError, 1,
    ),
    "200 without a body": (
        lambda emulator: emulator.faults.http(
            ROUTE, 200, body=b"", content_type="audio/mpeg", times=None
        ),
        {}, FishAudioInvalidResponseError, 1,
    ),
    "no header in time": (
        lambda emulator: emulator.faults.latency(ROUTE, first_byte=1.0, times=None),
        {"request_timeout": 0.2}, FishAudioTimeoutError, 1,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", TTS_FAULTS)
async def test_tts_fault_then_recovery(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator, case: str
) -> None:
    """Each fault is its error with no audio and no secret in it, after the requests it
    deserves; with the fault gone the same client speaks."""
    inject, options, cls, requests = TTS_FAULTS[case]
    inject(emulator)
    received: list[bytes] = []
    async with make_client(**options) as client:
        with pytest.raises(cls) as err:
            async with contextlib.aclosing(client.tts(TEXT, TTSOptions())) as stream:
                received.extend([chunk async for chunk in stream])
        assert received == []
        assert_no_secret(err.value)
        assert len(emulator.requests) == requests

        emulator.faults.clear()
        assert await collect(client, TTSOptions())


async def test_tts_zero_credit(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    emulator.state.credit = 0  # type: ignore[assignment]
    with pytest.raises(FishAudioInsufficientCreditError):
        await collect(client, TTSOptions(model="s1"))
    # The free model still works on an empty wallet.
    assert await collect(client, TTSOptions(model="s2.1-pro-free"))


async def test_tts_unknown_voice(client: FishAudioClient) -> None:
    with pytest.raises(FishAudioRequestError):
        await collect(client, TTSOptions(reference_id="0" * 32))


@pytest.mark.parametrize("preset", ["429", "502", "503", "504"])
async def test_tts_retried_before_audio(
    client: FishAudioClient, emulator: FishAudioEmulator, preset: str
) -> None:
    emulator.faults.preset(ROUTE, preset, times=2)
    assert await collect(client, TTSOptions())
    assert len(emulator.requests) == 3
    assert emulator.requests[0].body == emulator.requests[2].body


async def test_tts_drop_after_audio_is_not_retried(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    emulator.faults.truncate(ROUTE, after_bytes=600)
    received: list[bytes] = []
    stream = client.tts(TEXT * 4, TTSOptions(), chunk_size=128)
    with pytest.raises(FishAudioConnectionError):
        await drain(stream, received)
    assert 0 < len(b"".join(received)) <= 600
    assert len(emulator.requests) == 1


async def test_tts_read_timeout_is_per_chunk(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    # 0.1 s between chunks passes a 0.3 s bound, however long the whole clip takes...
    emulator.faults.latency(ROUTE, first_byte=0.0, per_chunk=0.1)
    async with make_client(request_timeout=0.3) as client:
        start = time.monotonic()
        assert await collect(client, TTSOptions(), chunk_size=128)
        assert time.monotonic() - start > 0.3
        # ... while a 1 s silence mid-stream does not.
        emulator.faults.clear()
        emulator.faults.latency(ROUTE, first_byte=0.0, per_chunk=1.0)
        received: list[bytes] = []
        with pytest.raises(FishAudioTimeoutError):
            async with contextlib.aclosing(client.tts(TEXT, TTSOptions())) as stream:
                received.extend([chunk async for chunk in stream])
    assert len(emulator.requests) == 2


async def test_tts_connection_refused(make_client: Callable[..., FishAudioClient]) -> None:
    async with make_client(base_url=f"http://127.0.0.1:{free_port()}", max_retries=1) as client:
        with pytest.raises(FishAudioConnectionError) as err:
            await collect(client, TTSOptions())
    assert_no_secret(err.value)


async def test_tts_streams_share_the_limit(
    make_client: Callable[..., FishAudioClient], emulator: FishAudioEmulator
) -> None:
    emulator.faults.latency(ROUTE, first_byte=0.2, times=None)
    async with make_client(max_concurrency=1) as client:
        start = time.monotonic()
        await asyncio.gather(collect(client, TTSOptions()), collect(client, TTSOptions()))
    assert time.monotonic() - start >= 0.4


# The API declares no type for audio (OpenAPI, TTS responses): what is certainly not audio is
# refused, anything else is played.
@pytest.mark.parametrize(
    "content_type",
    [
        "audio/mpeg",
        "audio/x-some-new-codec",
        "application/ogg",
        "application/octet-stream",
        "binary/octet-stream",
        "video/ogg",
        "video/webm",
    ],
)
async def test_tts_plays_any_type_that_may_be_audio(
    client: FishAudioClient, emulator: FishAudioEmulator, content_type: str
) -> None:
    emulator.faults.http(ROUTE, 200, body=b"\xff\xfb audio", content_type=content_type)
    assert b"".join(await collect(client, TTSOptions())) == b"\xff\xfb audio"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html",
        "text/plain",
        "TEXT/HTML",
        "application/json",
        "application/problem+json",
        "application/xml",
        "application/xhtml+xml",
        "image/svg+xml",
        "application/javascript",
    ],
)
async def test_tts_refuses_what_is_certainly_not_audio(
    client: FishAudioClient, emulator: FishAudioEmulator, content_type: str
) -> None:
    emulator.faults.http(ROUTE, 200, body=b"<html>portal</html>", content_type=content_type)
    with pytest.raises(FishAudioInvalidResponseError, match="content type"):
        await collect(client, TTSOptions())
    # A 200 may have been billed: never retried.
    assert len(emulator.requests) == 1
