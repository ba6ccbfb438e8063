"""Wire tests of the platform features: dialogue, inline references, loudness, bitrates,
advanced fields, timestamped TTS (Server-Sent Events) and voice design.

Bytes on the wire are checked against the vendor's spec (OpenAPI `TTSRequest`,
`TTSStreamWithTimestampRequest`, `VoiceDesignRequest`; AsyncAPI `WebSocketTTSRequest`).
"""

from __future__ import annotations

import base64
import contextlib
import io
import itertools
import json
from typing import TYPE_CHECKING, Any
import wave

import ormsgpack
import pytest

from custom_components.fish_audio_suite.api import (
    FishAudioClient,
    FishAudioInvalidResponseError,
    FishAudioRequestError,
    FishAudioServerError,
    ReferenceAudio,
    Timeline,
    TimestampEvent,
    TTSOptions,
    VoiceDesignCandidate,
)
from custom_components.fish_audio_suite.api.const import SSE_EVENT_MAX

from .helpers import API_KEY, USER_AGENT, wav_bytes

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from emulator import FishAudioEmulator

NARRATOR = "802e3bc2b27e49c2995d23ef70e6ac89"
ENERGETIC = "7f2c4a1e9b8d4c3fa6e5d2c1b0a99887"
DIALOGUE = "<|speaker:0|>Good morning!<|speaker:1|>Good morning! How are you?"
TS_ROUTE = "POST /v1/tts/stream/with-timestamp"
REF = ReferenceAudio(audio=b"x", text="")


async def collect(client: FishAudioClient, text: str, options: TTSOptions) -> bytes:
    async with contextlib.aclosing(client.tts(text, options)) as stream:
        return b"".join([chunk async for chunk in stream])


async def events_of(
    client: FishAudioClient, text: str, options: TTSOptions | None = None
) -> list[TimestampEvent]:
    stream = client.tts_with_timestamps(text, options or TTSOptions())
    async with contextlib.aclosing(stream):
        return [event async for event in stream]


# --- request building ---------------------------------------------------------------------------


def test_request_with_every_new_field() -> None:
    ref = ReferenceAudio(audio=b"RIFFxxxxWAVE", text="ref text")
    options = TTSOptions(
        model="s2-pro",
        references=(ref,),
        format="opus",
        sample_rate=48000,
        opus_bitrate=64000,
        normalize_loudness=False,
        max_new_tokens=512,
        repetition_penalty=1,
        min_chunk_length=0,
        condition_on_previous_chunks=False,
        early_stop_threshold=0,
    )
    request = options.to_request("clone", include_none=False)
    # The order of SDK 1.3's TTSRequest fields, the advanced fields last.
    assert list(request) == [
        "text", "chunk_length", "format", "sample_rate", "mp3_bitrate", "opus_bitrate",
        "references", "normalize", "latency", "prosody", "top_p", "temperature",
        "max_new_tokens", "repetition_penalty", "min_chunk_length",
        "condition_on_previous_chunks", "early_stop_threshold",
    ]  # fmt: skip
    assert request["references"] == [{"audio": b"RIFFxxxxWAVE", "text": "ref text"}]
    assert request["prosody"] == {"speed": 1.0, "volume": 0.0, "normalize_loudness": False}
    packed = ormsgpack.packb(request)
    # msgpack bin 8 (c4) for the audio, float64 (cb) for the float fields.
    assert b"\xa5audio\xc4\x0cRIFFxxxxWAVE" in packed
    assert b"\xb2repetition_penalty\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00" in packed
    assert b"\xb4early_stop_threshold\xcb" + b"\x00" * 8 in packed
    assert b"\xaemax_new_tokens\xcd\x02\x00" in packed
    assert b"\xbccondition_on_previous_chunks\xc2" in packed


def test_speakers_become_a_reference_id_list() -> None:
    options = TTSOptions(model="s2.1-pro", speakers=(NARRATOR, ENERGETIC))
    request = options.to_request(DIALOGUE, include_none=False)
    assert request["reference_id"] == [NARRATOR, ENERGETIC]
    assert b"\xacreference_id\x92\xd9\x20" + NARRATOR.encode() in ormsgpack.packb(request)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"model": "s1", "speakers": (NARRATOR, ENERGETIC)}, ValueError),
        ({"speakers": (NARRATOR,), "references": (REF,)}, ValueError),
        ({"speakers": (NARRATOR, "")}, ValueError),
        ({"speakers": [NARRATOR]}, ValueError),
        ({"references": [ReferenceAudio(audio=b"x", text="")]}, TypeError),
        ({"normalize_loudness": "yes"}, TypeError),
        ({"condition_on_previous_chunks": 1}, TypeError),
        ({"max_new_tokens": 0}, ValueError),
        ({"max_new_tokens": 1.5}, TypeError),
        ({"min_chunk_length": 101}, ValueError),
        ({"repetition_penalty": 0.4}, ValueError),
        ({"early_stop_threshold": 1.1}, ValueError),
    ],
)
def test_new_options_invalid(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        TTSOptions(**kwargs)


def test_reference_audio_checks_and_summary() -> None:
    with pytest.raises(ValueError):
        ReferenceAudio(audio=b"", text="t")
    with pytest.raises(TypeError):
        ReferenceAudio(audio=b"a", text=None)  # type: ignore[arg-type]
    options = TTSOptions(references=(ReferenceAudio(audio=b"abc", text="t"),))
    assert options.as_dict()["references"] == [{"audio": "<3 bytes>", "text": "t"}]
    json.dumps(options.as_dict())


# --- HTTP wire ----------------------------------------------------------------------------------


async def test_dialogue_wire(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    options = TTSOptions(model="s2-pro", speakers=(NARRATOR, ENERGETIC), normalize_loudness=True)
    assert await collect(client, DIALOGUE, options)
    (rec,) = emulator.requests
    assert rec.headers["model"] == "s2-pro"
    assert rec.body == ormsgpack.packb(options.to_request(DIALOGUE, include_none=False))
    assert rec.decoded["reference_id"] == [NARRATOR, ENERGETIC]
    assert rec.decoded["prosody"]["normalize_loudness"] is True
    assert rec.status == 200


async def test_inline_reference_wire(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    sample = wav_bytes(1.0)
    options = TTSOptions(references=(ReferenceAudio(audio=sample, text="Hello."),))
    assert await collect(client, "Speak like me.", options)
    (rec,) = emulator.requests
    assert rec.headers["Content-Type"] == "application/msgpack"
    assert rec.decoded["references"] == [{"audio": sample, "text": "Hello."}]
    assert "reference_id" not in rec.decoded
    # bin 16 (c5) with the length, then the file's bytes.
    assert b"\xa5audio\xc5" + len(sample).to_bytes(2, "big") + sample[:4] in rec.body


async def test_bitrates_and_advanced_fields_wire(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    options = TTSOptions(
        mp3_bitrate=192, sample_rate=32000, max_new_tokens=2048, min_chunk_length=20
    )
    audio = await collect(client, "Some words to say.", options)
    assert audio[:2] == b"\xff\xfb"
    (rec,) = emulator.requests
    assert rec.decoded["mp3_bitrate"] == 192
    assert rec.decoded["sample_rate"] == 32000
    assert rec.decoded["max_new_tokens"] == 2048
    assert rec.decoded["min_chunk_length"] == 20
    assert "repetition_penalty" not in rec.decoded  # unset: the server's default


async def test_dialogue_refused_by_the_server_is_a_request_error(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    options = TTSOptions(model="s2-pro", speakers=(NARRATOR, ENERGETIC))
    with pytest.raises(FishAudioRequestError) as err:
        await collect(client, "No speaker tags here.", options)
    assert err.value.status == 422


# --- live wire ----------------------------------------------------------------------------------


async def test_live_start_carries_the_new_fields(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    options = TTSOptions(
        model="s2.1-pro",
        speakers=(NARRATOR, ENERGETIC),
        normalize_loudness=False,
        repetition_penalty=1.3,
        early_stop_threshold=0.8,
    )

    async def text() -> AsyncIterator[str]:
        yield DIALOGUE

    stream = client.tts_live(text(), options)
    async with contextlib.aclosing(stream):
        assert [chunk async for chunk in stream]
    start = emulator.ws_sessions[0].events[0]
    request = start["request"]
    assert request == options.to_request("", include_none=True)
    assert request["reference_id"] == [NARRATOR, ENERGETIC]
    assert request["prosody"] == {"speed": 1.0, "volume": 0.0, "normalize_loudness": False}
    assert request["sample_rate"] is None  # nullable: sent as nil, as the SDK does
    # Not nullable in the AsyncAPI schema: unset advanced fields are left out, never nil.
    assert "max_new_tokens" not in request
    assert list(request)[-2:] == ["repetition_penalty", "early_stop_threshold"]


# --- timestamps ---------------------------------------------------------------------------------


async def test_timestamps_wire_and_timeline(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    text = "First sentence is here. The second one follows it. And a third to finish."
    options = TTSOptions(format="wav", sample_rate=16000, chunk_length=100)
    emulator.piece_seconds = 0.4
    events = await events_of(client, text, options)
    (rec,) = emulator.requests
    assert (rec.method, rec.path) == ("POST", "/v1/tts/stream/with-timestamp")
    assert rec.headers["Authorization"] == f"Bearer {API_KEY}"
    assert rec.headers["User-Agent"] == USER_AGENT
    assert rec.headers["model"] == options.model
    assert rec.headers["Content-Type"] == "application/msgpack"
    assert rec.body == ormsgpack.packb(options.to_request(text, include_none=False))
    assert len(events) > 2
    audio = b"".join(event.audio for event in events)
    with wave.open(io.BytesIO(audio)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    timeline = Timeline()
    for event in events:
        timeline.add(event)
    segments = timeline.segments()
    words = [w.strip(".") for w in text.split()]
    assert [s.text for s in segments] == words
    assert segments[-1].end <= seconds + 1e-6
    assert all(a.start <= b.start for a, b in itertools.pairwise(segments))
    assert segments[-1].end > seconds * 0.8


def sse(*payloads: dict[str, Any] | str) -> bytes:
    return b"".join(
        b"data: " + (p if isinstance(p, str) else json.dumps(p)).encode() + b"\n\n"
        for p in payloads
    )


def event(seq: int, offset: float, words: list[tuple[str, float, float]] | None) -> dict[str, Any]:
    return {
        "audio_base64": base64.b64encode(f"audio{seq}".encode()).decode(),
        "content": "x",
        "alignment": None
        if words is None
        else {
            "segments": [{"text": t, "start": s, "end": e} for t, s, e in words],
            "audio_duration": 1.0,
        },
        "chunk_seq": seq,
        "chunk_audio_offset_sec": offset,
    }


async def test_timeline_replaces_snapshots(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    body = sse(
        event(0, 0.0, None),
        event(0, 0.0, [("One", 0.0, 0.3)]),
        event(0, 0.0, [("One", 0.0, 0.3), ("two", 0.4, 0.7)]),
        event(1, 1.0, [("Three", 0.1, 0.5)]),
    )
    emulator.faults.http(TS_ROUTE, 200, body=body, content_type="text/event-stream")
    events = await events_of(client, "One two. Three.")
    assert [e.audio for e in events] == [b"audio0"] * 3 + [b"audio1"]
    assert events[0].alignment is None
    timeline = Timeline()
    for item in events:
        timeline.add(item)
    assert [(s.text, s.start, s.end) for s in timeline.segments()] == [
        ("One", 0.0, 0.3),
        ("two", 0.4, 0.7),
        ("Three", 1.1, 1.5),
    ]
    json.dumps(events[-1].as_dict())


async def test_sse_framing_variants(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    payload = json.dumps(event(0, 0.0, [("Hi", 0.0, 0.2)]))
    half = len(payload) // 2
    # CRLF line ends, a comment, an event name, an id, and data split over two lines.
    body = (
        b": keep-alive\r\n\r\n"
        b"event: message\r\nid: 1\r\ndata: "
        + payload[:half].encode()
        + b"\r\ndata:"
        + payload[half:].encode()
        + b"\r\n\r\n"
        + b"data: "
        + payload.encode()
    )
    emulator.faults.http(TS_ROUTE, 200, body=body, content_type="text/event-stream")
    with pytest.raises(FishAudioInvalidResponseError):
        # The two data lines are joined with a newline, which splits a JSON string: invalid.
        await events_of(client, "Hi")
    # A message cut off by the end of the stream (no blank line) is dropped (WHATWG SSE).
    body = b": c\n\ndata: " + payload.encode() + b"\r\n\r\ndata: " + payload.encode()
    emulator.faults.http(TS_ROUTE, 200, body=body, content_type="text/event-stream")
    events = await events_of(client, "Hi")
    assert len(events) == 1
    assert events[0].alignment is not None
    assert events[0].alignment.segments[0].text == "Hi"


@pytest.mark.parametrize(
    "body",
    [
        b"",  # no audio at all
        b": only a comment\n\n",
        b"data: not json\n\n",
        b"data: [1, 2]\n\n",
        b'data: {"content": "no audio"}\n\n',
        b'data: {"audio_base64": "***"}\n\n',
    ],
)
async def test_timestamp_stream_bad_answers(
    client: FishAudioClient, emulator: FishAudioEmulator, body: bytes
) -> None:
    emulator.faults.http(TS_ROUTE, 200, body=body, content_type="text/event-stream")
    with pytest.raises(FishAudioInvalidResponseError):
        await events_of(client, "Hi")


async def test_timestamp_message_too_large(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    # A "message" that never ends: refused at the cap instead of buffered to the end.
    body = b"data: " + b"A" * (SSE_EVENT_MAX + 1024)
    emulator.faults.http(TS_ROUTE, 200, body=body, content_type="text/event-stream")
    with pytest.raises(FishAudioInvalidResponseError, match=r"too large|exceeds"):
        await events_of(client, "Hi")


async def test_timestamp_errors_and_empty_text(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    with pytest.raises(ValueError):
        client.tts_with_timestamps("  ", TTSOptions())
    options = TTSOptions(reference_id="00000000000000000000000000000000")
    with pytest.raises(FishAudioRequestError) as err:
        await events_of(client, "Hi", options)
    assert err.value.status == 400


# --- voice design -------------------------------------------------------------------------------


async def test_design_voice_wire(client: FishAudioClient, emulator: FishAudioEmulator) -> None:
    candidates = await client.design_voice(
        "Warm, confident studio narrator",
        reference_text="Welcome to Fish Audio.",
        language="en",
        count=3,
        speed=1,
        seed=42,
    )
    (rec,) = emulator.requests
    assert (rec.method, rec.path) == ("POST", "/v1/voice-design")
    assert rec.headers["model"] == "voice-design-1"
    assert rec.headers["Content-Type"] == "application/json"
    assert rec.headers["Authorization"] == f"Bearer {API_KEY}"
    assert rec.body == (
        b'{"instruction":"Warm, confident studio narrator",'
        b'"reference_text":"Welcome to Fish Audio.","language":"en","n":3,"speed":1.0,"seed":42}'
    )
    assert [c.index for c in candidates] == [0, 1, 2]
    for candidate in candidates:
        assert isinstance(candidate, VoiceDesignCandidate)
        with wave.open(io.BytesIO(candidate.audio)) as wav:
            assert wav.getframerate() == candidate.sample_rate
        assert candidate.duration_ms > 0
        assert candidate.text == "Welcome to Fish Audio."
        assert json.loads(json.dumps(candidate.as_dict()))["audio"].endswith("bytes>")


async def test_design_voice_minimal_and_not_retried(
    client: FishAudioClient, emulator: FishAudioEmulator
) -> None:
    candidates = await client.design_voice("Ünïcode whisper")
    assert len(candidates) == 2
    assert emulator.requests[0].body == '{"instruction":"Ünïcode whisper"}'.encode()
    emulator.faults.http("POST /v1/voice-design", 503, times=1)
    with pytest.raises(FishAudioServerError):
        await client.design_voice("Calm")
    assert len(emulator.requests) == 2  # a generation is never repeated behind the user's back


@pytest.mark.parametrize(
    "kwargs",
    [
        {"instruction": " "},
        {"instruction": "x" * 2001},
        {"instruction": "x", "reference_text": "y" * 151},
        {"instruction": "x", "count": 0},
        {"instruction": "x", "count": 5},
        {"instruction": "x", "count": True},
        {"instruction": "x", "speed": 0},
        {"instruction": "x", "speed": 3.1},
    ],
)
async def test_design_voice_invalid(client: FishAudioClient, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        await client.design_voice(**kwargs)


@pytest.mark.parametrize(
    "body",
    [
        {"items": []},
        {"candidates": [{"index": 0, "audio_base64": "UklGRg=="}]},
        {"candidates": [{"id": "a", "audio_base64": ""}]},
        {"candidates": [{"id": "a", "audio_base64": "@@"}]},
        {"candidates": ["nope"]},
        [1],
    ],
)
async def test_design_voice_bad_answers(
    client: FishAudioClient, emulator: FishAudioEmulator, body: Any
) -> None:
    emulator.faults.http("POST /v1/voice-design", 200, body=body)
    with pytest.raises(FishAudioInvalidResponseError):
        await client.design_voice("Calm")
