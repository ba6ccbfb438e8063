"""The emulator's Fish Speech mode answers as the self-hosted server's code does."""

from __future__ import annotations

import asyncio
import io
import json
import time
from typing import Any
import wave

import aiohttp
import ormsgpack
import pytest

from emulator import FishSpeechEmulator
from emulator.__main__ import build, parse_args
from emulator.audio import mp3_duration
from emulator.fish_speech import SAMPLE_RATE, demo_references, sentences, wav_file

from ..conftest import FishSpeechFactory

KEY = "speech-key"
MSGPACK = {"Content-Type": "application/msgpack"}


def _tts(**fields: Any) -> bytes:
    return ormsgpack.packb({"text": "Hello there.", **fields})


async def test_auth_on_every_route(
    make_fish_speech: FishSpeechFactory, anonymous: aiohttp.ClientSession
) -> None:
    """With a key, every route (health included) refuses a missing or wrong token."""
    emu = await make_fish_speech(api_key=KEY)
    calls = [
        ("GET", "/v1/health"),
        ("POST", "/v1/health"),
        ("POST", "/v1/tts"),
        ("GET", "/v1/references/list"),
        ("POST", "/v1/references/add"),
        ("DELETE", "/v1/references/delete"),
        ("POST", "/v1/references/update"),
    ]
    for method, path in calls:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            async with anonymous.request(method, emu.base_url + path, headers=headers) as resp:
                assert resp.status == 401, (method, path)
                assert await resp.json() == {
                    "statusCode": 401,
                    "message": "Invalid token",
                    "error": "Unauthorized",
                }
    good = {"Authorization": f"Bearer {KEY}"}
    async with anonymous.get(f"{emu.base_url}/v1/health", headers=good) as resp:
        assert resp.status == 200
        assert await resp.json() == {"status": "ok"}
    assert emu.requests[-1].api_key == KEY


async def test_no_key_no_auth(
    make_fish_speech: FishSpeechFactory, anonymous: aiohttp.ClientSession
) -> None:
    """Without a key the server takes any request, whatever Authorization says."""
    emu = await make_fish_speech()
    async with anonymous.post(
        f"{emu.base_url}/v1/health", headers={"Authorization": "Bearer anything"}
    ) as resp:
        assert resp.status == 200


async def test_unknown_route_error_shape(
    make_fish_speech: FishSpeechFactory, anonymous: aiohttp.ClientSession
) -> None:
    """Router errors have the same shape; the control API needs no key."""
    emu = await make_fish_speech(api_key=KEY)
    async with anonymous.get(
        f"{emu.base_url}/v1/asr", headers={"Authorization": f"Bearer {KEY}"}
    ) as resp:
        assert resp.status == 404
        body = await resp.json()
        assert body["statusCode"] == 404
        assert body["error"] == "Not Found"
    async with anonymous.get(f"{emu.base_url}/_emulator/state") as resp:
        state = await resp.json()
    assert state["mode"] == "fish-speech"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-msgpack", None])
async def test_other_bodies_415(
    make_fish_speech: FishSpeechFactory, anonymous: aiohttp.ClientSession, content_type: str | None
) -> None:
    """Only msgpack, JSON and multipart bodies are read."""
    emu = await make_fish_speech()
    headers = {"Content-Type": content_type} if content_type else {}
    for path in ("/v1/tts", "/v1/references/add", "/v1/references/update"):
        async with anonymous.post(
            emu.base_url + path, data=b"\x81\xa4text\xa2hi", headers=headers
        ) as resp:
            assert resp.status == 415
            body = await resp.json()
            assert body["statusCode"] == 415
            assert body["error"] == "Unsupported Media Type"
            assert "application/msgpack" in resp.headers["Accept"]


async def test_undecodable_body_400(
    make_fish_speech: FishSpeechFactory, anonymous: aiohttp.ClientSession
) -> None:
    """A body that is not what its type says is refused."""
    emu = await make_fish_speech()
    async with anonymous.post(
        f"{emu.base_url}/v1/tts", data=b"{", headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 400


async def test_streaming_is_headerless_pcm(
    make_fish_speech: FishSpeechFactory, anonymous: aiohttp.ClientSession
) -> None:
    """A streamed answer says audio/wav but carries raw 16-bit PCM at 44.1 kHz."""
    emu = await make_fish_speech(audio_seconds_per_char=0.01)
    text = "One sentence. And a second one!"
    async with anonymous.post(
        f"{emu.base_url}/v1/tts", data=_tts(text=text, streaming=True), headers=MSGPACK
    ) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "audio/wav"
        assert resp.headers["Content-Disposition"] == "attachment; filename=audio.wav"
        body = await resp.read()
    assert not body.startswith(b"RIFF")
    # Each sentence lasts at least 0.2 s, as real clips do.
    expected = sum(round(max(0.2, len(s) * 0.01) * SAMPLE_RATE) for s in sentences(text))
    assert len(body) == expected * 2
    assert len(emu.sentence_times) == 2


async def test_streaming_other_formats_refused(
    make_fish_speech: FishSpeechFactory, anonymous: aiohttp.ClientSession
) -> None:
    """Streaming is WAV only."""
    emu = await make_fish_speech()
    async with anonymous.post(
        f"{emu.base_url}/v1/tts", data=_tts(streaming=True, format="mp3"), headers=MSGPACK
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["message"] == "Streaming only supports WAV format"


async def test_whole_wav_and_mp3(
    make_fish_speech: FishSpeechFactory, anonymous: aiohttp.ClientSession
) -> None:
    """Not streaming: a complete WAV (exact sizes) or MP3 file; pcm and opus fail."""
    emu = await make_fish_speech(audio_seconds_per_char=0.02)
    async with anonymous.post(f"{emu.base_url}/v1/tts", data=_tts(), headers=MSGPACK) as resp:
        assert resp.headers["Content-Type"] == "audio/wav"
        body = await resp.read()
    with wave.open(io.BytesIO(body)) as clip:
        assert clip.getframerate() == SAMPLE_RATE
        assert clip.getnchannels() == 1
        assert clip.getnframes() == round(0.24 * SAMPLE_RATE)
    async with anonymous.post(
        f"{emu.base_url}/v1/tts", json={"text": "Hello there.", "format": "mp3"}
    ) as resp:
        assert resp.headers["Content-Type"] == "audio/mpeg"
        duration = mp3_duration(await resp.read())
    assert duration == pytest.approx(0.24, abs=0.03)
    for fmt in ("pcm", "opus"):
        async with anonymous.post(
            f"{emu.base_url}/v1/tts", data=_tts(format=fmt), headers=MSGPACK
        ) as resp:
            assert resp.status == 500
            assert (await resp.json())["message"] == "Failed to generate speech"


async def test_text_length_limit(
    make_fish_speech: FishSpeechFactory, anonymous: aiohttp.ClientSession
) -> None:
    """--max-text-length refuses longer text with 400."""
    emu = await make_fish_speech(max_text_length=5)
    async with anonymous.post(
        f"{emu.base_url}/v1/tts", data=_tts(text="123456"), headers=MSGPACK
    ) as r:
        assert r.status == 400
        assert (await r.json())["message"] == "Text is too long, max length is 5"
    async with anonymous.post(
        f"{emu.base_url}/v1/tts", data=_tts(text="12345"), headers=MSGPACK
    ) as r:
        assert r.status == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("chunk_length", 99),
        ("chunk_length", "200"),
        ("chunk_length", 200.0),
        ("top_p", 0.05),
        ("repetition_penalty", 2.5),
        ("temperature", True),
        ("format", "flac"),
        ("latency", "low"),
        ("use_memory_cache", True),
        ("seed", 1.5),
        ("max_new_tokens", "many"),
        ("streaming", "yes"),
        ("reference_id", 5),
        ("references", [{"audio": 1}]),
    ],
)
async def test_tts_validation(
    make_fish_speech: FishSpeechFactory, anonymous: aiohttp.ClientSession, field: str, value: Any
) -> None:
    """Fields outside the request model's bounds are refused in the error shape."""
    emu = await make_fish_speech()
    async with anonymous.post(
        f"{emu.base_url}/v1/tts", data=_tts(**{field: value}), headers=MSGPACK
    ) as resp:
        assert resp.status == 422
        body = await resp.json()
    assert body["message"].startswith(field)
    assert body["statusCode"] == 422


async def test_tts_validation_of_the_body(
    make_fish_speech: FishSpeechFactory, anonymous: aiohttp.ClientSession
) -> None:
    """A body without text, or not a map, is refused; unknown fields are ignored."""
    emu = await make_fish_speech()
    for payload in ({"speed": 1.2}, [1, 2], {"text": 5}):
        async with anonymous.post(
            f"{emu.base_url}/v1/tts", data=ormsgpack.packb(payload), headers=MSGPACK
        ) as resp:
            assert resp.status == 422
    async with anonymous.post(
        f"{emu.base_url}/v1/tts", data=_tts(speed=1.2, prosody={"volume": 3}), headers=MSGPACK
    ) as resp:
        assert resp.status == 200
    form = aiohttp.FormData({"text": "Hi."}, default_to_multipart=True)
    async with anonymous.post(f"{emu.base_url}/v1/tts", data=form) as resp:
        assert resp.status == 200  # a multipart form's text field is a string like any other
    async with anonymous.post(f"{emu.base_url}/v1/tts", data={"text": "Hi."}) as resp:
        assert resp.status == 415  # url-encoded is not among the types the server reads


async def test_unknown_reference_quirk(
    make_fish_speech: FishSpeechFactory, anonymous: aiohttp.ClientSession
) -> None:
    """An unknown reference id speaks anyway, leaving an empty folder that blocks `add`."""
    emu = await make_fish_speech()
    async with anonymous.post(
        f"{emu.base_url}/v1/tts", data=_tts(reference_id="ghost"), headers=MSGPACK
    ) as resp:
        assert resp.status == 200
    async with anonymous.get(f"{emu.base_url}/v1/references/list?format=json") as resp:
        assert (await resp.json())["reference_ids"] == []
    form = aiohttp.FormData()
    form.add_field("id", "ghost")
    form.add_field("audio", b"RIFF....", filename="ghost.wav")
    form.add_field("text", "Boo.")
    async with anonymous.post(f"{emu.base_url}/v1/references/add", data=form) as resp:
        assert resp.status == 409


async def test_references_msgpack_by_default(
    make_fish_speech: FishSpeechFactory, anonymous: aiohttp.ClientSession
) -> None:
    """The references endpoints answer msgpack unless JSON is asked for."""
    emu = await make_fish_speech(references=demo_references())
    url = f"{emu.base_url}/v1/references/list"
    async with anonymous.get(url) as resp:
        assert resp.headers["Content-Type"] == "application/msgpack"
        listed = ormsgpack.unpackb(await resp.read())
    assert listed == {
        "success": True,
        "reference_ids": ["kitchen-speaker", "narrator"],
        "message": "Found 2 reference voices",
    }
    for query, headers in (
        ("?format=json", {}),
        ("", {"Accept": "application/json"}),
    ):
        async with anonymous.get(url + query, headers=headers) as resp:
            assert resp.content_type == "application/json"
            assert json.loads(await resp.read()) == listed
    for query, headers in (
        ("?format=msgpack", {"Accept": "application/json"}),
        ("", {"Accept": "application/json, application/msgpack"}),
    ):
        async with anonymous.get(url + query, headers=headers) as resp:
            assert resp.content_type == "application/msgpack"


async def test_add_rename_delete(
    make_fish_speech: FishSpeechFactory, anonymous: aiohttp.ClientSession
) -> None:
    """The reference library: add (multipart), rename, delete, with their refusals."""
    emu = await make_fish_speech()
    base = f"{emu.base_url}/v1/references"
    audio = wav_file(b"\0\0" * 100)

    def form(ref_id: str, *, text: str = "What I said.", data: bytes = audio) -> aiohttp.FormData:
        out = aiohttp.FormData()
        out.add_field("id", ref_id)
        out.add_field("audio", data, filename="clip.mp3", content_type="audio/mpeg")
        out.add_field("text", text)
        return out

    async with anonymous.post(f"{base}/add", data=form("Living room")) as resp:
        assert resp.status == 200
        assert ormsgpack.unpackb(await resp.read())["reference_id"] == "Living room"
    assert emu.references["Living room"].audio == audio
    assert emu.references["Living room"].text == "What I said."
    for bad, status in (
        (form("Living room"), 409),
        (form("../etc"), 400),
        (form("x" * 256), 400),
        (form("ok", text=" "), 400),
        (form("ok", data=b""), 400),
    ):
        async with anonymous.post(f"{base}/add", data=bad) as resp:
            assert resp.status == status
            assert (await resp.json())["statusCode"] == status

    async def update(old: str, new: str) -> int:
        payload = ormsgpack.packb({"old_reference_id": old, "new_reference_id": new})
        async with anonymous.post(f"{base}/update", data=payload, headers=MSGPACK) as resp:
            return resp.status

    assert await update("Living room", "Lounge") == 200
    assert set(emu.references) == {"Lounge"}
    assert await update("Living room", "Den") == 404
    assert await update("Lounge", "Lounge") == 409
    assert await update("Lounge", "a/b") == 400

    async def delete(ref_id: Any) -> int:
        async with anonymous.delete(f"{base}/delete", json={"reference_id": ref_id}) as resp:
            return resp.status

    assert await delete("Nope") == 404
    assert await delete(None) == 400
    assert await delete("Lounge") == 200
    assert emu.references == {}


async def test_slow_synthesis_per_sentence(
    make_fish_speech: FishSpeechFactory, anonymous: aiohttp.ClientSession
) -> None:
    """Each sentence costs sentence_latency before its audio, streamed or not."""
    emu = await make_fish_speech(sentence_latency=0.05)
    text = "First. Second. Third."
    started = time.monotonic()
    async with anonymous.post(
        f"{emu.base_url}/v1/tts", data=_tts(text=text, streaming=True), headers=MSGPACK
    ) as resp:
        first = await resp.content.readany()
        first_at = time.monotonic()
        await resp.read()
    assert first
    assert first_at - started >= 0.05
    times = emu.sentence_times
    assert len(times) == 3
    assert times[2] - times[0] >= 0.1
    started = time.monotonic()
    async with anonymous.post(
        f"{emu.base_url}/v1/tts", data=_tts(text=text), headers=MSGPACK
    ) as resp:
        await resp.read()
    assert time.monotonic() - started >= 0.15


async def test_stop_during_synthesis(
    make_fish_speech: FishSpeechFactory, anonymous: aiohttp.ClientSession
) -> None:
    """Stopping cuts a synthesis in progress instead of waiting for it."""
    emu = await make_fish_speech(sentence_latency=5.0)
    started = time.monotonic()

    async def stream() -> None:
        with pytest.raises(aiohttp.ClientPayloadError):
            async with anonymous.post(
                f"{emu.base_url}/v1/tts", data=_tts(streaming=True), headers=MSGPACK
            ) as resp:
                await resp.read()

    async def whole() -> int:
        async with anonymous.post(f"{emu.base_url}/v1/tts", data=_tts(), headers=MSGPACK) as resp:
            return resp.status

    tasks = [asyncio.create_task(stream()), asyncio.create_task(whole())]
    await asyncio.sleep(0.1)
    await emu.stop()
    results = await asyncio.gather(*tasks)
    assert results[1] == 500
    assert time.monotonic() - started < 4


def test_command_line() -> None:
    """`python -m emulator --fish-speech` builds this mode, seeded with two voices."""
    emu = build(
        parse_args(["--fish-speech", "--api-key", "k", "--max-text-length", "9",
                    "--sentence-latency-ms", "250"])
    )  # fmt: skip
    assert isinstance(emu, FishSpeechEmulator)
    assert emu.api_key == "k"
    assert emu.max_text_length == 9
    assert emu.sentence_latency == 0.25
    assert set(emu.references) == set(demo_references())
    bare = build(parse_args(["--fish-speech", "--no-seed-voices"]))
    assert isinstance(bare, FishSpeechEmulator)
    assert bare.api_key is None
    assert bare.references == {}
    with pytest.raises(SystemExit):
        build(parse_args(["--fish-speech", "--api-key", "a", "--api-key", "b"]))


async def test_restart(make_fish_speech: FishSpeechFactory) -> None:
    """An emulator can be started again after stop, but not twice at once."""
    emu = await make_fish_speech()
    with pytest.raises(RuntimeError):
        await emu.start()
    await emu.stop()
    await emu.stop()
    await emu.start()
    assert emu.base_url


async def test_port_taken(make_fish_speech: FishSpeechFactory) -> None:
    """A second server on a taken port fails to start and can start elsewhere."""
    emu = await make_fish_speech()
    other = FishSpeechEmulator()
    port = int(emu.base_url.rsplit(":", 1)[1])
    with pytest.raises(OSError, match="address"):
        await other.start("127.0.0.1", port)
    await other.start()
    await other.stop()


async def test_client_leaves_mid_stream(
    make_fish_speech: FishSpeechFactory, anonymous: aiohttp.ClientSession
) -> None:
    """A client that stops listening ends the stream without an error on the server."""
    emu = await make_fish_speech(audio_seconds_per_char=2.0, piece_seconds=0.01)
    async with anonymous.post(
        f"{emu.base_url}/v1/tts", data=_tts(streaming=True), headers=MSGPACK
    ) as resp:
        assert await resp.content.readany()
        resp.close()
    await asyncio.sleep(0.2)
    assert emu.requests[-1].status == 200
