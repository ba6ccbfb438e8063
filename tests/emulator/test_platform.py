"""The emulator's newer platform endpoints and fields, checked against the OpenAPI spec.

Timestamped TTS (Server-Sent Events with cumulative alignments per chunk), voice design
(candidates with base64 audio), multi-speaker rules, inline references over msgpack only, and
the prosody and advanced fields.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
from typing import Any
import wave

import aiohttp
from mutagen.mp3 import MP3
import ormsgpack
import pytest

from emulator import FishAudioEmulator
from emulator.timestamps import split_content, spoken_text, word_timings
from emulator.voices import SEED_VOICE_IDS

NARRATOR = SEED_VOICE_IDS["narrator"]
ENERGETIC = SEED_VOICE_IDS["energetic"]
MSGPACK = {"Content-Type": "application/msgpack"}
DIALOGUE = "<|speaker:0|>Good morning!<|speaker:1|>Good morning! How are you?"


async def post_tts(
    session: aiohttp.ClientSession,
    emu: FishAudioEmulator,
    body: dict[str, Any],
    *,
    model: str = "s2-pro",
    path: str = "/v1/tts",
    as_json: bool = False,
) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if as_json else ormsgpack.packb(body)
    headers = {"Content-Type": "application/json" if as_json else "application/msgpack"}
    headers["model"] = model
    async with session.post(f"{emu.base_url}{path}", data=data, headers=headers) as resp:
        return resp.status, await resp.read()


def sse_payloads(raw: bytes) -> list[dict[str, Any]]:
    """Parse an SSE body strictly: every message is one `data:` line and a blank line."""
    assert raw.endswith(b"\n\n")
    messages = raw[:-2].split(b"\n\n")
    payloads = []
    for message in messages:
        assert message.startswith(b"data: ")
        assert b"\n" not in message
        payloads.append(json.loads(message[len(b"data: ") :]))
    return payloads


# --- multi-speaker ------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["s2-pro", "s2.1-pro", "s2.1-pro-free"])
async def test_dialogue_on_s2_models(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession, model: str
) -> None:
    body = {"text": DIALOGUE, "reference_id": [NARRATOR, ENERGETIC]}
    status, audio = await post_tts(session, emulator, body, model=model)
    assert status == 200
    assert audio[:2] == b"\xff\xfb"


async def test_dialogue_refused_on_s1(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    body = {"text": DIALOGUE, "reference_id": [NARRATOR, ENERGETIC]}
    status, data = await post_tts(session, emulator, body, model="s1")
    assert status == 422
    (error,) = json.loads(data)
    assert error["loc"] == ["body", "reference_id"]
    assert "s1" in error["msg"]


@pytest.mark.parametrize(
    "text",
    [
        "No tags at all.",
        "<|speaker:0|>Only the first speaker talks.",
        "<|speaker:0|>One<|speaker:1|>two<|speaker:2|>three: more tags than speakers.",
        "<|speaker:0|>One<|speaker:2|>skips speaker 1.",
    ],
)
async def test_dialogue_needs_one_tag_per_speaker(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession, text: str
) -> None:
    body = {"text": text, "reference_id": [NARRATOR, ENERGETIC]}
    status, data = await post_tts(session, emulator, body)
    assert status == 422
    assert json.loads(data)[0]["loc"] == ["body", "text"]


async def test_dialogue_reference_groups_must_match_ids(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    ref = {"audio": b"RIFF", "text": "a"}
    body = {"text": DIALOGUE, "reference_id": ["a", "b", "c"], "references": [[ref], [ref]]}
    status, data = await post_tts(session, emulator, body)
    assert status == 422
    assert any(e["loc"] == ["body", "references"] for e in json.loads(data))
    # Mixing the two forms is refused.
    body = {"text": "hi", "references": [[ref], ref]}
    status, data = await post_tts(session, emulator, body)
    assert status == 422
    assert json.loads(data)[0]["loc"] == ["body", "references"]


async def test_single_id_list_is_one_speaker(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    status, _ = await post_tts(
        session, emulator, {"text": "hi", "reference_id": [NARRATOR]}, model="s1"
    )
    assert status == 200


async def test_live_start_refuses_dialogue_on_s1(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    url = f"{emulator.base_url}/v1/tts/live"
    async with session.ws_connect(url, headers={"model": "s1"}) as ws:
        request = {"text": "", "reference_id": [NARRATOR, ENERGETIC]}
        await ws.send_bytes(ormsgpack.packb({"event": "start", "request": request}))
        reply = ormsgpack.unpackb((await ws.receive()).data)
    assert reply["event"] == "finish"
    assert reply["reason"] == "error"
    assert "s1" in reply["message"]


# --- inline references, prosody and advanced fields --------------------------------------------


async def test_inline_references_need_msgpack(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    body = {"text": "hi", "references": [{"audio": "UklGRg==", "text": "ref"}]}
    status, data = await post_tts(session, emulator, body, as_json=True)
    assert status == 422
    (error,) = json.loads(data)
    assert error["loc"] == ["body", "references"]
    assert "MessagePack" in error["msg"]
    # The same over msgpack, audio as binary, is accepted; so is JSON without references.
    status, _ = await post_tts(
        session, emulator, {"text": "hi", "references": [{"audio": b"RIFF", "text": "ref"}]}
    )
    assert status == 200
    status, _ = await post_tts(session, emulator, {"text": "hi", "references": []}, as_json=True)
    assert status == 200


async def test_normalize_loudness_accepted_on_every_model(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    # OpenAPI ProsodyControl: on s1 it "is accepted but has no effect".
    for model in ("s1", "s2.1-pro"):
        body = {"text": "hi", "prosody": {"speed": 1.0, "normalize_loudness": False}}
        status, _ = await post_tts(session, emulator, body, model=model)
        assert status == 200
    status, data = await post_tts(
        session, emulator, {"text": "hi", "prosody": {"normalize_loudness": "yes"}}
    )
    assert status == 422
    assert json.loads(data)[0]["loc"] == ["body", "prosody", "normalize_loudness"]


async def test_bitrates_and_sample_rate(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    body = {"text": "hello there " * 5, "mp3_bitrate": 64, "sample_rate": 32000}
    status, audio = await post_tts(session, emulator, body)
    assert status == 200
    info = MP3(io.BytesIO(audio)).info
    assert (info.bitrate, info.sample_rate) == (64000, 32000)
    for bitrate in (-1000, 24000, 64000):
        status, _ = await post_tts(
            session, emulator, {"text": "hi", "format": "opus", "opus_bitrate": bitrate}
        )
        assert status == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_new_tokens", 0),
        ("max_new_tokens", "many"),
        ("repetition_penalty", "high"),
        ("min_chunk_length", 101),
        ("condition_on_previous_chunks", "no"),
        ("early_stop_threshold", 1.5),
    ],
)
async def test_advanced_fields_validated(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession, field: str, value: Any
) -> None:
    status, data = await post_tts(session, emulator, {"text": "hi", field: value})
    assert status == 422
    assert json.loads(data)[0]["loc"] == ["body", field]


async def test_advanced_fields_accepted(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    body = {
        "text": "hi",
        "max_new_tokens": 512,
        "repetition_penalty": 1.1,
        "min_chunk_length": 0,
        "condition_on_previous_chunks": False,
        "early_stop_threshold": 0.5,
    }
    status, _ = await post_tts(session, emulator, body)
    assert status == 200


# --- timestamps ---------------------------------------------------------------------------------

TS_PATH = "/v1/tts/stream/with-timestamp"
LONG_TEXT = (
    "[happy] I can't believe it's been this long. It feels like forever since we last talked. "
    "I've missed hearing your voice, your stories, the little things you used to say. "
    "How have you been? Seeing you again makes me realise how much I missed you."
)


async def test_timestamp_stream_framing_and_alignment(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    emulator.piece_seconds = 0.5
    body = {"text": LONG_TEXT, "chunk_length": 100, "format": "wav", "sample_rate": 16000}
    headers = {**MSGPACK, "model": "s2.1-pro"}
    async with session.post(
        f"{emulator.base_url}{TS_PATH}", data=ormsgpack.packb(body), headers=headers
    ) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/event-stream"
        assert resp.headers["Transfer-Encoding"] == "chunked"
        raw = await resp.read()
    events = sse_payloads(raw)
    for event in events:
        assert set(event) == {
            "audio_base64", "content", "alignment", "chunk_seq", "chunk_audio_offset_sec",
        }  # fmt: skip
    audio = b"".join(base64.b64decode(e["audio_base64"]) for e in events)
    with wave.open(io.BytesIO(audio)) as wav:
        assert wav.getframerate() == 16000
        total = wav.getnframes() / 16000
    seqs = [e["chunk_seq"] for e in events]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) >= 3  # long text: several content chunks
    assert "[happy]" not in events[0]["content"]
    # Per chunk: snapshots are cumulative (each extends the previous), the last is complete.
    offsets: dict[int, float] = {}
    finals: dict[int, dict[str, Any]] = {}
    for seq in sorted(set(seqs)):
        chunk = [e for e in events if e["chunk_seq"] == seq]
        assert len(chunk) >= 2  # more than one audio piece: snapshots grow
        assert len({e["content"] for e in chunk}) == 1
        assert len({e["chunk_audio_offset_sec"] for e in chunk}) == 1
        previous: list[dict[str, Any]] = []
        for event in chunk:
            segments = [] if event["alignment"] is None else event["alignment"]["segments"]
            assert segments[: len(previous)] == previous
            previous = segments
        final = chunk[-1]["alignment"]
        words = [w.strip(".,?!") for w in chunk[0]["content"].split()]
        assert [s["text"] for s in final["segments"]] == [w for w in words if w]
        offsets[seq] = chunk[0]["chunk_audio_offset_sec"]
        finals[seq] = final
    # Chunks follow each other in the audio; the last one ends where the audio ends.
    ordered = sorted(offsets)
    for seq, following in itertools.pairwise(ordered):
        assert offsets[following] == pytest.approx(
            offsets[seq] + finals[seq]["audio_duration"], abs=0.01
        )
    last = ordered[-1]
    assert offsets[last] + finals[last]["audio_duration"] == pytest.approx(total, abs=0.01)
    for final in finals.values():
        starts = [s["start"] for s in final["segments"]]
        assert starts == sorted(starts)
        assert all(s["end"] <= final["audio_duration"] + 1e-6 for s in final["segments"])


async def test_timestamp_stream_accepts_json_and_checks_like_tts(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    status, raw = await post_tts(
        session, emulator, {"text": "Hello there."}, path=TS_PATH, as_json=True
    )
    assert status == 200
    events = sse_payloads(raw)
    assert {event["chunk_seq"] for event in events} == {0}
    assert [s["text"] for s in events[-1]["alignment"]["segments"]] == ["Hello", "there"]
    audio = b"".join(base64.b64decode(event["audio_base64"]) for event in events)
    assert MP3(io.BytesIO(audio)).info.length > 0
    status, _ = await post_tts(
        session, emulator, {"text": DIALOGUE, "reference_id": [NARRATOR, ENERGETIC]},
        path=TS_PATH, model="s1",
    )  # fmt: skip
    assert status == 422
    status, _ = await post_tts(
        session, emulator, {"text": "hi", "reference_id": "nope"}, path=TS_PATH
    )
    assert status == 400


def test_alignment_helpers() -> None:
    assert spoken_text("<|speaker:0|>[whisper] Hi   there") == "Hi there"
    assert split_content("One. Two. Three.", 8) == ["One.", "Two.", "Three."]
    assert split_content("A very long sentence without a break", 5) == [
        "A very long sentence without a break"
    ]
    assert word_timings("", 1.0) == ()


# --- voice design -------------------------------------------------------------------------------

DESIGN = {"Content-Type": "application/json", "model": "voice-design-1"}


async def design(
    session: aiohttp.ClientSession,
    emu: FishAudioEmulator,
    body: Any,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    async with session.post(
        f"{emu.base_url}/v1/voice-design", data=json.dumps(body), headers=headers or DESIGN
    ) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_voice_design_candidates(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    body = {
        "instruction": "Warm, confident studio narrator with a natural tone",
        "reference_text": "Welcome to Fish Audio.",
        "language": "en",
        "n": 3,
        "speed": 1,
        "num_step": 32,
        "guidance_scale": 2,
        "instruct_guidance_scale": 0,
        "seed": 42,
    }
    status, data = await design(session, emulator, body)
    assert status == 200
    assert set(data) == {"candidates"}
    candidates = data["candidates"]
    assert [c["index"] for c in candidates] == [0, 1, 2]
    assert len({c["id"] for c in candidates}) == 3
    for candidate in candidates:
        with wave.open(io.BytesIO(base64.b64decode(candidate["audio_base64"]))) as wav:
            assert wav.getframerate() == candidate["sample_rate"]
            duration_ms = round(wav.getnframes() * 1000 / wav.getframerate())
        assert candidate["duration_ms"] == duration_ms
        assert candidate["text"] == "Welcome to Fish Audio."
        assert candidate["language"] == "en"
    # Same request and seed, same candidates.
    _, again = await design(session, emulator, body)
    assert [c["id"] for c in again["candidates"]] == [c["id"] for c in candidates]
    _, default = await design(session, emulator, {"instruction": "Calm"})
    assert len(default["candidates"]) == 2  # the API's default n


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "instruction"]),
        ({"instruction": ""}, ["body", "instruction"]),
        ({"instruction": "x" * 2001}, ["body", "instruction"]),
        ({"instruction": "x", "reference_text": "y" * 151}, ["body", "reference_text"]),
        ({"instruction": "x", "n": 5}, ["body", "n"]),
        ({"instruction": "x", "speed": 0}, ["body", "speed"]),
        ({"instruction": "x", "speed": 3.5}, ["body", "speed"]),
        ({"instruction": "x", "seed": "s"}, ["body", "seed"]),
        ({"instruction": "x", "count": 2}, ["body", "count"]),
        (["instruction"], ["body"]),
    ],
)
async def test_voice_design_validation(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession, body: Any, loc: list[str]
) -> None:
    status, data = await design(session, emulator, body)
    assert status == 422
    assert data[0]["loc"] == loc


async def test_voice_design_model_header_content_type_and_credit(
    emulator: FishAudioEmulator, session: aiohttp.ClientSession
) -> None:
    body = {"instruction": "Calm"}
    status, data = await design(session, emulator, body, {"Content-Type": "application/json"})
    assert (status, data[0]["loc"], data[0]["type"]) == (422, ["header", "model"], "missing")
    status, data = await design(
        session, emulator, body, {"Content-Type": "application/json", "model": "s1"}
    )
    assert (status, data[0]["type"]) == (422, "literal_error")
    async with session.post(
        f"{emulator.base_url}/v1/voice-design",
        data=ormsgpack.packb(body),
        headers={**MSGPACK, "model": "voice-design-1"},
    ) as resp:
        assert resp.status == 415
    async with session.post(
        f"{emulator.base_url}/v1/voice-design", data=b"{", headers=DESIGN
    ) as resp:
        assert resp.status == 422
    emulator.state.credit = 0
    status, data = await design(session, emulator, body)
    assert status == 402
