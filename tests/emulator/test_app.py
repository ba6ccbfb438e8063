"""REST behaviour of the emulator, exercised over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
from decimal import Decimal
import io
import json
import time
from typing import Any
import wave

import aiohttp
from multidict import MultiDict
from mutagen.mp3 import MP3
from mutagen.oggopus import OggOpus
import ormsgpack
import pytest

from emulator import FishAudioEmulator, PackageState
from emulator.audio import render_file
from emulator.voices import SEED_VOICE_IDS

from ..conftest import EmulatorFactory
from .conftest import API_KEY

MSGPACK = {"Content-Type": "application/msgpack"}
NARRATOR = SEED_VOICE_IDS["narrator"]
OWN_PRIVATE = SEED_VOICE_IDS["own_private"]


async def tts(
    session: aiohttp.ClientSession,
    emu: FishAudioEmulator,
    body: dict[str, Any],
    *,
    model: str | None = "s2-pro",
) -> tuple[int, bytes, aiohttp.ClientResponse]:
    headers = dict(MSGPACK)
    if model is not None:
        headers["model"] = model
    async with session.post(
        f"{emu.base_url}/v1/tts", data=ormsgpack.packb(body), headers=headers
    ) as resp:
        return resp.status, await resp.read(), resp


# --- TTS ----------------------------------------------------------------------------------------


async def test_tts_mp3_streams_real_audio_and_records_the_request(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    body = {
        "text": "Hello there, general.",
        "chunk_length": 200,
        "format": "mp3",
        "mp3_bitrate": 128,
        "opus_bitrate": 32,
        "references": [],
        "reference_id": NARRATOR,
        "normalize": True,
        "latency": "balanced",
        "prosody": {"speed": 1.0, "volume": 0.0},
        "top_p": 0.7,
        "temperature": 0.7,
    }
    status, data, resp = await tts(session, emulator, body)
    assert status == 200
    assert resp.headers["Content-Type"] == "audio/mpeg"
    assert resp.headers["Transfer-Encoding"] == "chunked"
    info = MP3(io.BytesIO(data)).info
    assert info.length == pytest.approx(21 * 0.06, abs=0.05)

    (record,) = emulator.requests
    assert record.method == "POST"
    assert record.path == "/v1/tts"
    assert record.headers["authorization"] == f"Bearer {API_KEY}"
    assert record.model == "s2-pro"
    assert record.decoded == body
    assert list(record.decoded) == list(body)  # wire order kept
    assert ormsgpack.unpackb(record.body) == body
    assert record.user_id == "user-1"
    assert record.status == 200


@pytest.mark.parametrize(
    ("fmt", "rate", "content_type"),
    [("wav", 16000, "audio/wav"), ("pcm", 8000, "application/octet-stream")],
)
async def test_tts_pcm_formats(
    emulator: FishAudioEmulator,
    session: aiohttp.ClientSession,
    fmt: str,
    rate: int,
    content_type: str,
) -> None:
    text = "x" * 50  # 3 seconds at 0.06 s per character
    status, data, resp = await tts(
        session, emulator, {"text": text, "format": fmt, "sample_rate": rate}
    )
    assert status == 200
    assert resp.headers["Content-Type"] == content_type
    if fmt == "wav":
        with wave.open(io.BytesIO(data)) as wav:
            assert wav.getframerate() == rate
            assert wav.getnframes() == rate * 3
    else:
        assert len(data) == rate * 3 * 2


async def test_tts_opus_and_speed(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    status, data, resp = await tts(
        session,
        emulator,
        {"text": "y" * 50, "format": "opus", "opus_bitrate": 32000, "prosody": {"speed": 2.0}},
    )
    assert status == 200
    assert resp.headers["Content-Type"] == "audio/ogg"
    # Twice the speed, half the audio.
    assert OggOpus(io.BytesIO(data)).info.length == pytest.approx(1.5, abs=0.05)


async def test_tts_accepts_json_and_nil_fields(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    body = {"text": "hi", "sample_rate": None, "reference_id": None, "prosody": None, "extra": 1}
    async with session.post(f"{emulator.base_url}/v1/tts", json=body) as resp:
        assert resp.status == 200
        assert (await resp.read())[:2] == b"\xff\xfb"
    assert emulator.requests[0].decoded == body
    assert emulator.requests[0].model is None


async def test_tts_streams_in_several_chunks_with_delay(
    make_emulator: EmulatorFactory, session: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(chunk_delay=0.05)
    chunks: list[bytes] = []
    arrivals: list[float] = []
    async with session.post(
        f"{emu.base_url}/v1/tts",
        data=ormsgpack.packb({"text": "z" * 30, "format": "mp3"}),
        headers=MSGPACK,
    ) as resp:
        async for chunk in resp.content.iter_any():
            chunks.append(chunk)
            arrivals.append(time.monotonic())
    assert len(chunks) >= 3  # 1.8 s of audio in 0.5 s pieces
    assert arrivals[-1] - arrivals[0] >= 0.05 * (len(chunks) - 1) * 0.8
    assert MP3(io.BytesIO(b"".join(chunks))).info.length == pytest.approx(1.8, abs=0.05)


async def test_tts_latency_delays_the_first_byte(
    make_emulator: EmulatorFactory, session: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(latency=0.15)
    start = time.monotonic()
    status, _, _ = await tts(session, emu, {"text": "hi"})
    assert status == 200
    assert time.monotonic() - start >= 0.15


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("chunk_length", 99, "greater_than_equal"),
        ("chunk_length", 301, "less_than_equal"),
        ("chunk_length", "200", "int_type"),
        ("chunk_length", True, "int_type"),
        ("format", "flac", "literal_error"),
        ("latency", "fast", "literal_error"),
        ("mp3_bitrate", 96, "literal_error"),
        ("opus_bitrate", 16, "literal_error"),
        ("sample_rate", 22050, "value_error"),
        ("top_p", 1.5, "less_than_equal"),
        ("temperature", -0.1, "greater_than_equal"),
        ("temperature", "hot", "float_type"),
        ("normalize", "yes", "bool_type"),
        ("text", 5, "string_type"),
        ("min_chunk_length", 101, "less_than_equal"),
        ("prosody", "fast", "dict_type"),
        ("reference_id", 5, "string_type"),
        ("references", "x", "list_type"),
        ("references", [{"audio": "not bytes", "text": "t"}], "model_type"),
    ],
)
async def test_tts_validation(
    emulator: FishAudioEmulator,
    session: aiohttp.ClientSession,
    field: str,
    value: Any,
    kind: str,
) -> None:
    status, data, resp = await tts(session, emulator, {"text": "hi", field: value})
    assert status == 422
    assert resp.headers["Content-Type"].startswith("application/json")
    errors = json.loads(data)
    assert isinstance(errors, list)  # top-level array by default
    assert errors[0]["type"] == kind
    assert errors[0]["loc"][:2] == ["body", field]
    assert emulator.state.credit == Decimal("10.00")  # nothing charged


@pytest.mark.parametrize(
    ("prosody", "kind"),
    [({"speed": 0.4}, "greater_than_equal"), ({"volume": 21}, "less_than_equal")],
)
async def test_tts_prosody_validation(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession, prosody: Any, kind: str
) -> None:
    status, data, _ = await tts(session, emulator, {"text": "hi", "prosody": prosody})
    assert status == 422
    error = json.loads(data)[0]
    assert error["type"] == kind
    assert error["loc"][:2] == ["body", "prosody"]


async def test_tts_accepts_both_opus_enums_and_integral_floats(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    for bitrate in (-1000, 24, 64, 24000, 64000):
        status, _, _ = await tts(
            session, emulator, {"text": "hi", "format": "opus", "opus_bitrate": bitrate}
        )
        assert status == 200
    status, _, _ = await tts(session, emulator, {"text": "hi", "chunk_length": 200.0})
    assert status == 200


async def test_tts_missing_text_and_detail_shape(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    status, data, _ = await tts(session, emulator, {"format": "mp3"})
    assert status == 422
    assert json.loads(data)[0]["type"] == "missing"
    emulator.state.validation_error_shape = "detail"
    status, data, _ = await tts(session, emulator, {"format": "mp3"})
    assert status == 422
    assert json.loads(data)["detail"][0]["loc"] == ["body", "text"]


async def test_tts_body_shape_errors(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    url = f"{emulator.base_url}/v1/tts"
    async with session.post(url, data=b"\xc1\xc1", headers=MSGPACK) as resp:
        assert resp.status == 422
        assert resp.content_type == "text/plain"
        assert "msgpack" in await resp.text()
    async with session.post(url, data=ormsgpack.packb([1, 2]), headers=MSGPACK) as resp:
        assert resp.status == 422
        assert (await resp.json())[0]["type"] == "dict_type"
    async with session.post(url, data=b"text=hi", headers={"Content-Type": "text/plain"}) as resp:
        assert resp.status == 415
    async with session.post(url) as resp:  # no body at all
        assert resp.status == 422
    assert emulator.requests[0].decode_error is not None


async def test_tts_unknown_reference(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    status, data, _ = await tts(session, emulator, {"text": "hi", "reference_id": "nope"})
    assert status == 400
    assert json.loads(data) == {"status": 400, "message": "Reference model not found: nope"}
    emulator.state.unknown_reference_status = 404
    status, _, _ = await tts(session, emulator, {"text": "hi", "reference_id": ["nope"]})
    assert status == 404
    # Multi-speaker ids are fine, and with per-speaker inline references any id labels one.
    status, _, _ = await tts(
        session,
        emulator,
        {"text": "<|speaker:0|>hi<|speaker:1|>ho", "reference_id": [NARRATOR, OWN_PRIVATE]},
    )
    assert status == 200
    status, _, _ = await tts(
        session,
        emulator,
        {
            "text": "<|speaker:0|>hi<|speaker:1|>ho",
            "reference_id": ["alice", "bob"],
            "references": [[{"audio": b"RIFF", "text": "a"}], [{"audio": b"RIFF", "text": "b"}]],
        },
    )
    assert status == 200


async def test_tts_other_accounts_private_voice_is_unknown(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    emulator.state.add_api_key("other-key", user_id="user-2")
    status, _, _ = await tts(session, emulator, {"text": "hi", "reference_id": OWN_PRIVATE})
    assert status == 200
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer other-key"}) as other:
        status, _, _ = await tts(other, emulator, {"text": "hi", "reference_id": OWN_PRIVATE})
    assert status == 400


async def test_tts_credit_is_charged_per_utf8_byte(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    text = "héllo"  # 6 UTF-8 bytes
    await tts(session, emulator, {"text": text}, model="s1")
    assert emulator.state.credit == Decimal("10.00") - Decimal(15) * 6 / 1_000_000
    await tts(session, emulator, {"text": text}, model="s2.1-pro-free")
    assert emulator.state.credit == Decimal("10.00") - Decimal(15) * 6 / 1_000_000


async def test_tts_insufficient_credit(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    emulator.state.credit = Decimal(0)
    for model in ("s2.1-pro", "s1", "speech-1.5", None):
        status, data, _ = await tts(session, emulator, {"text": "hi"}, model=model)
        assert status == 402
        assert json.loads(data)["message"].startswith("Insufficient API credit")
    status, _, _ = await tts(session, emulator, {"text": "hi"}, model="s2.1-pro-free")
    assert status == 200


async def test_tts_client_going_away_is_quiet(
    make_emulator: EmulatorFactory, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    emu = await make_emulator(chunk_delay=0.05)
    async with session.post(
        f"{emu.base_url}/v1/tts",
        data=ormsgpack.packb({"text": "w" * 100}),
        headers=MSGPACK,
    ) as resp:
        await resp.content.readany()
        resp.close()
    await asyncio.sleep(0.2)
    assert "Error handling request" not in caplog.text


async def test_stop_cuts_streams_in_progress(
    make_emulator: EmulatorFactory, session: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(chunk_delay=5.0)
    async with session.post(
        f"{emu.base_url}/v1/tts", data=ormsgpack.packb({"text": "w" * 100}), headers=MSGPACK
    ) as resp:
        await resp.content.readany()
        start = time.monotonic()
        await emu.stop()
        assert time.monotonic() - start < 2
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()


async def test_stop_during_first_byte_latency(
    make_emulator: EmulatorFactory, session: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(latency=5.0)
    request = asyncio.ensure_future(session.get(f"{emu.base_url}/wallet/self/api-credit"))
    await asyncio.sleep(0.1)
    await emu.stop()
    resp = await request
    assert resp.status == 503
    resp.release()


# --- auth and concurrency -------------------------------------------------------------------------


async def test_auth_failures(emulator: FishAudioEmulator, anonymous: aiohttp.ClientSession) -> None:
    url = f"{emulator.base_url}/wallet/self/api-credit"
    async with anonymous.get(url) as resp:
        assert resp.status == 401
        assert await resp.text() == "No permission -- see authorization schemes"
    async with anonymous.get(url, headers={"Authorization": "Bearer wrong"}) as resp:
        assert resp.status == 401
    async with anonymous.get(url, headers={"Authorization": "Basic dGVzdC1rZXk="}) as resp:
        assert resp.status == 401
    emulator.state.auth_error_style = "json"
    async with anonymous.get(url) as resp:
        assert resp.status == 401
        assert await resp.json() == {"status": 401, "message": "Invalid Token"}
    # The key is recognised case-insensitively on the scheme, exactly on the token.
    async with anonymous.get(url, headers={"Authorization": f"bearer {API_KEY}"}) as resp:
        assert resp.status == 200
    assert emulator.requests[0].api_key is None


async def test_revoked_key_and_second_account(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    url = f"{emulator.base_url}/wallet/self/api-credit"
    other = emulator.state.add_api_key("key-2", user_id="user-2", credit=Decimal("1.5"))
    assert other.user_id == "user-2"
    async with session.get(url, headers={"Authorization": "Bearer key-2"}) as resp:
        data = await resp.json()
    assert data["user_id"] == "user-2"
    assert data["credit"] == "1.5"
    emulator.state.revoke_api_key(API_KEY)
    async with session.get(url) as resp:
        assert resp.status == 401


async def test_concurrency_limit(
    make_emulator: EmulatorFactory, session: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(max_concurrency=1, latency=0.2)
    url = f"{emu.base_url}/wallet/self/api-credit"

    async def get() -> tuple[int, str | None]:
        async with session.get(url) as resp:
            return resp.status, resp.headers.get("Retry-After")

    results = await asyncio.gather(get(), get())
    assert sorted(results) == [(200, None), (429, "1")]
    assert await get() == (200, None)  # the slot is free again


async def test_unknown_route_and_method(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    async with session.get(f"{emulator.base_url}/v2/nothing") as resp:
        assert resp.status == 404
        assert (await resp.json())["status"] == 404
    async with session.put(f"{emulator.base_url}/model") as resp:
        assert resp.status == 405
    assert [r.status for r in emulator.requests] == [404, 405]


# --- wallet -------------------------------------------------------------------------------------


async def test_credit(emulator: FishAudioEmulator, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{emulator.base_url}/wallet/self/api-credit") as resp:
        data = await resp.json()
    assert data == {
        "_id": "credit-user-1",
        "user_id": "user-1",
        "credit": "10.00",
        "cumulative_top_up": "20.00",
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
        "has_phone_sha256": False,
        "has_free_credit": None,
    }
    async with session.get(
        f"{emulator.base_url}/wallet/user-1/api-credit", params={"check_free_credit": "true"}
    ) as resp:
        assert (await resp.json())["has_free_credit"] is False
    async with session.get(f"{emulator.base_url}/wallet/user-9/api-credit") as resp:
        assert resp.status == 403
    emulator.state.cumulative_top_up = Decimal(5)
    assert emulator.state.cumulative_top_up == Decimal(5)


async def test_package(emulator: FishAudioEmulator, session: aiohttp.ClientSession) -> None:
    url = f"{emulator.base_url}/wallet/self/package"
    async with session.get(url) as resp:
        assert resp.status == 404
        assert await resp.json() == {"status": 404, "message": "Package not found"}
    emulator.state.package = PackageState(balance=5, current_period_end=None)
    async with session.get(url) as resp:
        data = await resp.json()
    assert data["_id"] == "pkg-1"
    assert data["user_id"] == "user-1"
    assert data["balance"] == 5
    assert data["finished_at"] == "2026-01-01T00:00:00Z"
    assert data["current_period_end"] is None
    async with session.get(f"{emulator.base_url}/wallet/someone/package") as resp:
        assert resp.status == 403


async def test_package_from_constructor(
    make_emulator: EmulatorFactory, session: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(package=PackageState(total=10), credit=Decimal("0.5"))
    async with session.get(f"{emu.base_url}/wallet/self/package") as resp:
        assert (await resp.json())["total"] == 10
    emu.state.package = None
    emu.reset()
    assert emu.state.package is not None
    assert emu.state.credit == Decimal("0.5")


# --- ASR ----------------------------------------------------------------------------------------


def _wav(seconds: float, rate: int = 16000) -> bytes:
    return b"".join(render_file("wav", seconds, sample_rate=rate))


async def asr(
    session: aiohttp.ClientSession, emu: FishAudioEmulator, body: dict[str, Any]
) -> tuple[int, Any]:
    async with session.post(
        f"{emu.base_url}/v1/asr", data=ormsgpack.packb(body), headers=MSGPACK
    ) as resp:
        if resp.content_type == "application/json":
            return resp.status, await resp.json()
        return resp.status, await resp.text()


async def test_asr_msgpack(emulator: FishAudioEmulator, session: aiohttp.ClientSession) -> None:
    status, data = await asr(
        session, emulator, {"audio": _wav(2.5), "ignore_timestamps": False, "language": "de"}
    )
    assert status == 200
    assert data["duration"] == 2.5
    assert data["language"] == "de"
    assert data["text"].startswith("Hello from the Fish Audio emulator.")
    assert [s["text"] for s in data["segments"]] == [
        "Hello from the Fish Audio emulator.",
        "This transcript is always the same.",
    ]
    assert data["segments"][0]["start"] == 0
    assert data["segments"][-1]["end"] == pytest.approx(2.5)
    # $0.36 per hour, rounded up to whole seconds: 3 s.
    assert emulator.state.credit == Decimal("10.00") - Decimal("0.0003")


async def test_asr_multipart_and_custom_text(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    emulator.state.asr_text = "Turn on the lights"
    form = aiohttp.FormData()
    form.add_field("audio", _wav(1.2), filename="audio.wav", content_type="audio/wav")
    form.add_field("ignore_timestamps", "true")
    async with session.post(f"{emulator.base_url}/v1/asr", data=form) as resp:
        data = await resp.json()
    assert data == {"text": "Turn on the lights", "duration": 1.2, "segments": [], "language": "en"}
    (record,) = emulator.requests
    assert [p.name for p in record.parts] == ["audio", "ignore_timestamps"]
    assert record.parts[0].filename == "audio.wav"
    assert record.parts[0].content_type == "audio/wav"
    assert record.parts[1].text == "true"


async def test_asr_other_containers(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    for fmt in ("mp3", "opus"):
        audio = b"".join(render_file(fmt, 2.0))  # type: ignore[arg-type]
        status, data = await asr(session, emulator, {"audio": audio, "ignore_timestamps": True})
        assert status == 200
        assert data["duration"] == pytest.approx(2.0, abs=0.05)
    # Unknown bytes are timed as 16 kHz 16-bit PCM.
    status, data = await asr(session, emulator, {"audio": bytes(64000), "ignore_timestamps": True})
    assert data["duration"] == 2.0


async def test_asr_limits_and_errors(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    status, data = await asr(session, emulator, {"audio": _wav(0.5)})
    assert (status, data["message"]) == (422, "Audio is too short: at least 1 second is required")
    status, data = await asr(session, emulator, {"audio": bytes(20 * 1024 * 1024 + 1)})
    assert status == 413
    status, data = await asr(session, emulator, {"audio": bytes(20 * 1024 * 1024)})
    assert status == 200  # 20 MB of raw PCM is only ~11 minutes
    status, data = await asr(session, emulator, {"ignore_timestamps": False})
    assert status == 422
    assert data[0]["loc"] == ["body", "audio"]
    status, data = await asr(
        session, emulator, {"audio": "text", "language": 5, "ignore_timestamps": "x"}
    )
    assert status == 422
    assert {e["loc"][1] for e in data} == {"audio", "language", "ignore_timestamps"}
    async with session.post(f"{emulator.base_url}/v1/asr", json={"audio": "AAAA"}) as resp:
        assert resp.status == 415
    async with session.post(f"{emulator.base_url}/v1/asr", data=b"\xc1", headers=MSGPACK) as resp:
        assert resp.status == 422
        assert resp.content_type == "text/plain"


async def test_asr_too_long(emulator: FishAudioEmulator, session: aiohttp.ClientSession) -> None:
    # A header claiming 1 byte per second makes a small file claim more than an hour.
    header = bytearray(b"".join(render_file("wav", 0.1, sample_rate=8000))[:44])
    header[28:32] = (1).to_bytes(4, "little")  # byte rate: 1 byte per second
    header[40:44] = b"\xff\xff\xff\xff"  # streaming size: all 4000 bytes present count
    status, data = await asr(session, emulator, {"audio": bytes(header) + bytes(4000)})
    assert status == 422
    assert data["message"] == "Audio is too long: the limit is 60 minutes"


async def test_asr_insufficient_credit(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    emulator.state.credit = Decimal("-0.01")
    status, _data = await asr(session, emulator, {"audio": _wav(1.0)})
    assert status == 402


# --- voices -------------------------------------------------------------------------------------


async def list_voices(
    session: aiohttp.ClientSession, emu: FishAudioEmulator, params: list[tuple[str, str]]
) -> tuple[int, Any]:
    async with session.get(f"{emu.base_url}/model", params=params) as resp:
        return resp.status, await resp.json()


async def test_list_public_voices_sorted(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    status, data = await list_voices(
        session,
        emulator,
        [("page_size", "10"), ("page_number", "1"), ("self", "false"), ("sort_by", "task_count")],
    )
    assert status == 200
    assert data["total"] == 5  # four public voices of others and the user's public one
    assert data["has_more"] is False
    assert data["total_is_exact"] is True
    counts = [v["task_count"] for v in data["items"]]
    assert counts == sorted(counts, reverse=True)
    for voice in data["items"]:
        assert voice["visibility"] == "public"
        assert voice["train_mode"] == "fast"
        assert voice["state"] == "trained"
        assert set(voice["author"]) == {"_id", "nickname", "avatar"}
    _, by_score = await list_voices(session, emulator, [])
    likes = [v["like_count"] for v in by_score["items"]]
    assert likes == sorted(likes, reverse=True)
    _, by_date = await list_voices(session, emulator, [("sort_by", "created_at")])
    dates = [v["created_at"] for v in by_date["items"]]
    assert dates == sorted(dates, reverse=True)


async def test_list_filters(emulator: FishAudioEmulator, session: aiohttp.ClientSession) -> None:
    _, own = await list_voices(session, emulator, [("self", "true")])
    assert {v["_id"] for v in own["items"]} == {OWN_PRIVATE, SEED_VOICE_IDS["own_public"]}
    _, data = await list_voices(session, emulator, [("tag", "male"), ("tag", "energetic")])
    assert [v["title"] for v in data["items"]] == ["Anime Hero"]
    _, data = await list_voices(session, emulator, [("language", "zh"), ("language", "ja")])
    assert {v["title"] for v in data["items"]} == {"Calm Mandarin", "Anime Hero"}
    _, data = await list_voices(session, emulator, [("title", "NARRATOR")])
    assert [v["_id"] for v in data["items"]] == [NARRATOR]
    _, data = await list_voices(session, emulator, [("author_id", "author-zh")])
    assert [v["title"] for v in data["items"]] == ["Calm Mandarin"]
    _, data = await list_voices(session, emulator, [("self", "true"), ("author_id", "author-zh")])
    assert data["total"] == 2  # author_id is ignored with self=true
    assert emulator.requests[1].query.getall("tag") == ["male", "energetic"]
    assert emulator.requests[1].query_string == "tag=male&tag=energetic"


async def test_list_pagination(emulator: FishAudioEmulator, session: aiohttp.ClientSession) -> None:
    _, first = await list_voices(session, emulator, [("page_size", "2"), ("sort_by", "task_count")])
    _, third = await list_voices(
        session, emulator, [("page_size", "2"), ("page_number", "3"), ("sort_by", "task_count")]
    )
    assert first["total"] == third["total"] == 5
    assert len(first["items"]) == 2
    assert first["has_more"] is True
    assert len(third["items"]) == 1
    assert third["has_more"] is False


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ([("page_size", "0")], "page_size"),
        ([("page_size", "101")], "page_size"),
        ([("page_number", "x")], "page_number"),
        ([("self", "maybe")], "self"),
        ([("sort_by", "name")], "sort_by"),
    ],
)
async def test_list_validation(
    emulator: FishAudioEmulator,
    session: aiohttp.ClientSession,
    params: list[tuple[str, str]],
    field: str,
) -> None:
    status, data = await list_voices(session, emulator, params)
    assert status == 422
    assert data[0]["loc"] == ["query", field]


async def test_get_voice(emulator: FishAudioEmulator, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{emulator.base_url}/model/{NARRATOR}") as resp:
        voice = await resp.json()
    assert voice["_id"] == NARRATOR
    assert voice["samples"][0]["text"] == "In the beginning, there was sound."
    async with session.get(f"{emulator.base_url}/model/missing") as resp:
        assert resp.status == 404
        assert await resp.json() == {"status": 404, "message": "Model not found: missing"}
    emulator.state.voices[NARRATOR]["visibility"] = "private"
    async with session.get(f"{emulator.base_url}/model/{NARRATOR}") as resp:
        assert resp.status == 403


async def test_create_voice_multipart(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    form = aiohttp.FormData()
    for name, value in [
        ("title", "My Voice"),
        ("description", "d"),
        ("visibility", "private"),
        ("type", "tts"),
        ("train_mode", "fast"),
        ("texts", "one"),
        ("texts", "two"),
        ("tags", "x"),
        ("enhance_audio_quality", "true"),
    ]:
        form.add_field(name, value)
    form.add_field(
        "voices", b"RIFF\r\n\r\n--one", filename="upload", content_type="application/octet-stream"
    )
    form.add_field(
        "voices", b"\x00\x01", filename="upload", content_type="application/octet-stream"
    )
    form.add_field("cover_image", b"\x89PNG", filename="upload")
    async with session.post(f"{emulator.base_url}/model", data=form) as resp:
        assert resp.status == 201
        voice = await resp.json()
    assert voice["title"] == "My Voice"
    assert voice["author"]["_id"] == "user-1"
    assert voice["state"] == "trained"
    assert voice["tags"] == ["x"]
    assert [s["text"] for s in voice["samples"]] == ["one", "two"]
    assert voice["cover_image"] == f"coverimage/{voice['_id']}"
    assert emulator.state.voices[voice["_id"]] == voice
    (record,) = emulator.requests
    assert [p.name for p in record.parts] == [
        "title", "description", "visibility", "type", "train_mode", "texts", "texts", "tags",
        "enhance_audio_quality", "voices", "voices", "cover_image",
    ]  # fmt: skip
    assert record.parts[9].data == b"RIFF\r\n\r\n--one"  # byte-exact, even with CRLFs
    assert record.parts[9].filename == "upload"
    assert record.parts[9].content_type == "application/octet-stream"
    assert record.decoded.getall("texts") == ["one", "two"]
    # Ids are deterministic, so snapshots stay stable.
    async with session.post(f"{emulator.base_url}/model", data=form) as resp:
        second = await resp.json()
    assert second["_id"] != voice["_id"]


async def test_create_voice_msgpack_and_validation(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    url = f"{emulator.base_url}/model"
    body = {"title": "Packed", "voices": [b"a", b"b"], "visibility": "unlist", "train_mode": "full"}
    async with session.post(url, data=ormsgpack.packb(body), headers=MSGPACK) as resp:
        assert resp.status == 201
        assert (await resp.json())["train_mode"] == "full"
    bad = {
        "visibility": "everyone",
        "type": "music",
        "train_mode": "slow",
        "texts": ["t"] * 21,
        "enhance_audio_quality": "sometimes",
    }
    async with session.post(url, data=ormsgpack.packb(bad), headers=MSGPACK) as resp:
        assert resp.status == 422
        fields = [e["loc"][1] for e in await resp.json()]
    assert fields == [
        "title", "visibility", "type", "train_mode", "texts", "enhance_audio_quality", "voices",
    ]  # fmt: skip
    too_many = {"title": "t", "voices": [b"a"] * 21, "visibility": "private"}
    async with session.post(url, data=ormsgpack.packb(too_many), headers=MSGPACK) as resp:
        assert (await resp.json())[0]["loc"] == ["body", "voices"]
    public = {"title": "t", "voices": [b"a"]}  # public by default: a cover image is required
    async with session.post(url, data=ormsgpack.packb(public), headers=MSGPACK) as resp:
        assert (await resp.json())[0]["loc"] == ["body", "cover_image"]
    boundary = {"Content-Type": "multipart/form-data; boundary=xyz"}
    async with session.post(url, data=b"no boundary here", headers=boundary) as resp:
        assert resp.status == 422
        assert resp.content_type == "text/plain"


async def test_update_voice(emulator: FishAudioEmulator, session: aiohttp.ClientSession) -> None:
    url = f"{emulator.base_url}/model/{OWN_PRIVATE}"
    async with session.patch(
        url, data=[("title", "New"), ("visibility", "unlist"), ("tags", "t1"), ("tags", "t2")]
    ) as resp:
        assert resp.status == 200
        assert await resp.read() == b""
    voice = emulator.state.voices[OWN_PRIVATE]
    assert (voice["title"], voice["visibility"], voice["tags"]) == ("New", "unlist", ["t1", "t2"])
    assert emulator.requests[0].content_type == "application/x-www-form-urlencoded"
    assert emulator.requests[0].decoded == MultiDict(
        [("title", "New"), ("visibility", "unlist"), ("tags", "t1"), ("tags", "t2")]
    )
    form = aiohttp.FormData()
    form.add_field("description", "with cover")
    form.add_field("cover_image", b"\x89PNG", filename="upload")
    async with session.patch(url, data=form) as resp:
        assert resp.status == 200
    assert voice["description"] == "with cover"
    assert voice["cover_image"] == f"coverimage/{OWN_PRIVATE}"
    async with session.patch(url, data={"visibility": "all", "title": ""}) as resp:
        assert resp.status == 422
        assert [e["loc"][1] for e in await resp.json()] == ["visibility", "title"]
    async with session.patch(f"{emulator.base_url}/model/{NARRATOR}", data={"title": "x"}) as resp:
        assert resp.status == 403
    async with session.patch(f"{emulator.base_url}/model/zzz", data={"title": "x"}) as resp:
        assert resp.status == 404
    async with session.patch(
        url, data=b"%zz=&&", headers={"Content-Type": "application/x-www-form-urlencoded"}
    ) as resp:
        assert resp.status == 422


async def test_delete_voice(emulator: FishAudioEmulator, session: aiohttp.ClientSession) -> None:
    async with session.delete(f"{emulator.base_url}/model/{NARRATOR}") as resp:
        assert resp.status == 403
    async with session.delete(f"{emulator.base_url}/model/{OWN_PRIVATE}") as resp:
        assert resp.status == 200
    assert OWN_PRIVATE not in emulator.state.voices
    async with session.delete(f"{emulator.base_url}/model/{OWN_PRIVATE}") as resp:
        assert resp.status == 404


async def test_no_seed_voices(
    make_emulator: EmulatorFactory, session: aiohttp.ClientSession
) -> None:
    emu = await make_emulator(seed_voices=False)
    status, data = await list_voices(session, emu, [("self", "true")])
    assert (status, data["total"], data["items"]) == (200, 0, [])


# --- control API and lifecycle ------------------------------------------------------------------


async def test_control_api(emulator: FishAudioEmulator, anonymous: aiohttp.ClientSession) -> None:
    base = f"{emulator.base_url}/_emulator"
    async with anonymous.post(f"{base}/credit", json={"credit": "0"}) as resp:
        assert (await resp.json())["credit"] == "0"
    assert emulator.state.credit == 0
    async with anonymous.post(f"{base}/credit", json={"credit": "x"}) as resp:
        assert resp.status == 400
    async with anonymous.post(
        f"{base}/faults", json={"route": "GET /model", "preset": "503"}
    ) as resp:
        assert (await resp.json())[0]["status"] == 503
    for bad in (b"[", b"[1]", b'{"kind": "nope"}', b'{"route": "*"}', b'{"mode": "bogus"}'):
        async with anonymous.post(f"{base}/faults", data=bad) as resp:
            assert resp.status == 400, bad
    async with anonymous.get(
        f"{emulator.base_url}/model", headers={"Authorization": f"Bearer {API_KEY}"}
    ) as resp:
        assert resp.status == 503
    async with anonymous.post(f"{base}/faults", json={"kind": "ws", "mode": "close"}) as resp:
        assert resp.status == 200
    async with anonymous.delete(f"{base}/faults") as resp:
        assert await resp.json() == []
    async with anonymous.get(f"{base}/state") as resp:
        state = await resp.json()
    assert state["base_url"] == emulator.base_url
    assert state["credit"] == "0"
    assert state["requests"] == 1  # control calls are not recorded
    assert len(state["voices"]) == 6
    async with anonymous.get(f"{base}/requests") as resp:
        (request,) = await resp.json()
    assert request["path"] == "/model"
    assert request["status"] == 503
    async with anonymous.get(f"{base}/ws") as resp:
        assert await resp.json() == []
    async with anonymous.post(f"{base}/reset") as resp:
        assert resp.status == 200
    assert emulator.state.credit == Decimal("10.00")
    assert emulator.requests == []


async def test_requests_as_json_round_trip(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    form = aiohttp.FormData()
    form.add_field("voices", b"\x00\xff", filename="upload")
    await session.post(f"{emulator.base_url}/model", data=form)
    await tts(session, emulator, {"text": "hi", "references": [{"audio": b"\x01", "text": "t"}]})
    dumped = json.loads(json.dumps([r.as_json() for r in emulator.requests]))
    assert dumped[0]["parts"][0]["data_base64"] == "AP8="
    assert dumped[1]["decoded"]["references"][0]["audio"] == {"base64": "AQ=="}
    assert dumped[1]["status"] == 200
    assert json.dumps(emulator.state.as_json())


async def test_lifecycle(socket_enabled: None) -> None:
    emu = FishAudioEmulator()
    await emu.stop()  # not started: nothing to do
    await emu.start()
    with pytest.raises(RuntimeError):
        await emu.start()
    port = int(emu.base_url.rsplit(":", 1)[1])
    await emu.stop()
    await emu.start()  # a stopped emulator can start again, with a fresh application
    try:
        other = FishAudioEmulator()
        with pytest.raises(OSError):
            await other.start(port=int(emu.base_url.rsplit(":", 1)[1]))
    finally:
        await emu.stop()
    assert port > 0
