"""Models: tolerant parsing, JSON-ready dumps, TTSOptions validation and wire order."""

from __future__ import annotations

import copy
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime
from decimal import Decimal
import json
from typing import Any

import pytest

from custom_components.fish_audio_suite.api import (
    ASRResult,
    ASRSegment,
    Credit,
    FlushPolicy,
    Package,
    ReferenceAudio,
    TimestampEvent,
    TTSOptions,
    Voice,
    VoiceDesignCandidate,
    VoicePage,
)
from custom_components.fish_audio_suite.api.models import _Model

from ..conftest import VOICE_KEYS

# A full OpenAPI `GET /wallet/self/api-credit` body, credit as a string.
CREDIT = {
    "_id": "c1",
    "user_id": "user1",
    "credit": "12.3400",
    "cumulative_top_up": "20",
    "created_at": "2025-01-01T00:00:00Z",
    "updated_at": "2025-01-01T00:00:00Z",
    "has_phone_sha256": False,
    "has_free_credit": None,
}


def test_credit() -> None:
    credit = Credit.from_dict(CREDIT)
    assert credit.id == "c1"
    assert credit.credit == Decimal("12.3400")
    assert credit.cumulative_top_up == Decimal(20)
    assert credit.has_free_credit is None
    assert credit.has_phone_sha256 is False
    assert credit.created_at == datetime(2025, 1, 1, tzinfo=UTC)
    data = credit.as_dict()
    assert data["credit"] == "12.3400"
    assert data["created_at"] == "2025-01-01T00:00:00+00:00"
    json.dumps(data)


def test_credit_tolerance() -> None:
    credit = Credit.from_dict(
        {
            "id": "x",
            "user_id": 7,
            "credit": 0.1,
            "cumulative_top_up": "n/a",
            "created_at": "bad",
            "extra": 1,
        }
    )
    assert credit.id == "x"
    assert credit.user_id == "7"
    assert credit.credit == Decimal("0.1")
    assert credit.cumulative_top_up is None
    assert credit.created_at is None
    assert credit.as_dict()["cumulative_top_up"] is None


@pytest.mark.parametrize(
    "data",
    [
        {"credit": "1"},
        {"user_id": "u"},
        {"user_id": "u", "credit": "abc"},
        {"user_id": "u", "credit": True},
        {"user_id": "u", "credit": "NaN"},
    ],
)
def test_credit_invalid(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Credit.from_dict(data)


def test_package() -> None:
    package = Package.from_dict(
        {
            "user_id": "u",
            "type": "plus",
            "total": "100",
            "balance": 40,
            "finished_at": "2026-01-01T00:00:00+00:00",
            "billing_period": "monthly",
            "stripe_price_id": "ignored",
        }
    )
    assert package.id is None  # OpenAPI `GET /wallet/self/package` has no _id
    assert (package.total, package.balance, package.extra_balance) == (100, 40, 0)
    assert package.finished_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert package.as_dict()["finished_at"] == "2026-01-01T00:00:00+00:00"
    json.dumps(package.as_dict())
    with pytest.raises(ValueError):
        Package.from_dict({"type": "plus"})


def test_voice_tolerance() -> None:
    voice = Voice.from_dict(
        {
            "id": "v1",
            "title": "T",
            "train_mode": "full",
            "tags": "single",
            "languages": ["en", None, "zh"],
            "samples": [{"title": "s", "audio": "a.mp3"}, "junk"],
            "author": {"nickname": "no id"},
            "like_count": "many",
            "task_count": True,
            "liked": "yes",
            "unknown": {"nested": 1},
        }
    )
    assert voice.id == "v1"
    assert voice.train_mode == "full"
    assert voice.tags == ("single",)
    assert voice.languages == ("en", "zh")
    assert voice.samples[0].audio == "a.mp3"
    assert len(voice.samples) == 1
    assert voice.author is None
    assert (voice.like_count, voice.task_count, voice.liked) == (0, 0, False)
    data = voice.as_dict()
    assert set(data) >= VOICE_KEYS
    json.dumps(data)
    with pytest.raises(ValueError):
        Voice.from_dict({"title": "no id"})


def test_voice_page() -> None:
    page = VoicePage.from_dict(
        {
            "total": 2,
            "items": [{"_id": "a", "author": {"_id": "u", "nickname": "n"}}, 5],
            "has_more": False,
        }
    )
    assert page.total == 2
    assert [item.id for item in page.items] == ["a"]
    assert page.items[0].author is not None
    assert page.items[0].author.as_dict() == {"id": "u", "nickname": "n", "avatar": ""}
    assert page.has_more is False
    assert VoicePage.from_dict({"total": 0, "items": None}).items == ()
    json.dumps(page.as_dict())


def test_asr_result() -> None:
    result = ASRResult.from_dict(
        {
            "text": "hello",
            "duration": 1.5,
            "segments": [{"text": "hello", "start": 0, "end": "1.5"}, None],
            "language_code": "en",
        }
    )
    assert result.language == "en"
    assert result.segments[0].end == 1.5
    assert ASRResult.from_dict({"text": "x", "duration": "inf", "language": "zh"}).duration == 0.0
    assert ASRResult.from_dict({"text": "x", "duration": None}).language is None
    json.dumps(result.as_dict())


# The body Home Assistant's fish_audio tts.py puts on the wire via SDK 1.1.0, key for key.
HA_BODY_KEYS = [
    "text", "chunk_length", "format", "mp3_bitrate", "opus_bitrate", "references",
    "reference_id", "normalize", "latency", "prosody", "top_p", "temperature",
]  # fmt: skip


def test_tts_request_http_order() -> None:
    request = TTSOptions(reference_id="voice").to_request("Hi", include_none=False)
    assert list(request) == HA_BODY_KEYS
    assert request == {
        "text": "Hi",
        "chunk_length": 200,
        "format": "mp3",
        "mp3_bitrate": 128,
        "opus_bitrate": 32,
        "references": [],
        "reference_id": "voice",
        "normalize": True,
        "latency": "balanced",
        "prosody": {"speed": 1.0, "volume": 0.0},
        "top_p": 0.7,
        "temperature": 0.7,
    }


def test_tts_request_ws_sends_nil() -> None:
    request = TTSOptions(speed=2, volume=-3).to_request("", include_none=True)
    assert list(request) == [
        "text", "chunk_length", "format", "sample_rate", "mp3_bitrate", "opus_bitrate",
        "references", "reference_id", "normalize", "latency", "prosody", "top_p", "temperature",
    ]  # fmt: skip
    assert request["sample_rate"] is None
    assert request["reference_id"] is None
    assert request["prosody"] == {"speed": 2.0, "volume": -3.0}
    assert isinstance(request["prosody"]["speed"], float)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"model": ""},
        {"reference_id": ""},
        {"format": "flac"},
        {"format": "mp3", "sample_rate": 48000},
        {"format": "opus", "sample_rate": 44100},
        {"mp3_bitrate": 96},
        {"opus_bitrate": 33},
        {"latency": "fast"},
        {"speed": 0.4},
        {"speed": 2.01},
        {"speed": True},
        {"volume": 21},
        {"temperature": -0.1},
        {"top_p": 1.5},
        {"chunk_length": 99},
        {"chunk_length": 301},
    ],
)
def test_tts_options_invalid(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        TTSOptions(**kwargs)


@pytest.mark.parametrize("kwargs", [{"normalize": 1}, {"chunk_length": 150.0}])
def test_tts_options_wrong_type(kwargs: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        TTSOptions(**kwargs)


def test_tts_options_valid_edges() -> None:
    options = TTSOptions(
        model="s1", format="opus", sample_rate=48000, opus_bitrate=24000, latency="low",
        speed=0.5, volume=20, temperature=0, top_p=1, chunk_length=300, normalize=False,
    )  # fmt: skip
    assert options.to_request("x", include_none=False)["sample_rate"] == 48000
    assert options.as_dict()["opus_bitrate"] == 24000
    json.dumps(options.as_dict())


def test_request_settings_are_frozen_values_checked_on_every_copy() -> None:
    """TTSOptions, ReferenceAudio and FlushPolicy behave as frozen keyword-only values; a
    copy with changes (`copy.replace`, as Home Assistant's side makes) is checked again."""
    reference = ReferenceAudio(audio=b"RIFF", text="Hi")
    options = TTSOptions(reference_id="voice", references=(reference,))
    assert options == TTSOptions(
        reference_id="voice", references=(ReferenceAudio(audio=b"RIFF", text="Hi"),)
    )
    assert hash(options) == hash(TTSOptions(reference_id="voice", references=(reference,)))
    assert options != TTSOptions(reference_id="other")
    assert repr(reference) == "ReferenceAudio(audio=b'RIFF', text='Hi')"
    faster = copy.replace(options, speed=1.5)
    assert (faster.speed, faster.reference_id, options.speed) == (1.5, "voice", 1.0)
    with pytest.raises(ValueError, match="speed"):
        copy.replace(options, speed=9.0)
    with pytest.raises(ValueError, match="pause"):
        copy.replace(FlushPolicy(), pause=-1.0)
    with pytest.raises(FrozenInstanceError):
        options.speed = 2.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        TTSOptions("s1")  # type: ignore[call-arg]
    assert reference.as_dict() == {"audio": "<4 bytes>", "text": "Hi"}


# --- the declarative models themselves (`_Model`, `wire`) ---


def test_answer_models_are_frozen_values() -> None:
    segment = ASRSegment.from_dict({"text": "a", "start": "0.5", "end": 1})
    assert segment == ASRSegment(text="a", start=0.5, end=1.0)
    assert segment != ASRSegment(text="b", start=0.5, end=1.0)
    assert segment != ("a", 0.5, 1.0)
    assert hash(segment) == hash(ASRSegment(text="a", start=0.5, end=1.0))
    assert repr(segment) == "ASRSegment(text='a', start=0.5, end=1.0)"
    with pytest.raises(FrozenInstanceError):
        segment.text = "b"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del segment.text


def test_answer_model_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match="user_id"):
        Credit(credit=Decimal(1))  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected"):
        ASRSegment(text="a", speaker=1)  # type: ignore[call-arg]


def test_a_field_no_reader_knows_is_refused_at_class_creation() -> None:
    with pytest.raises(TypeError, match="no reader"):

        class Odd(_Model):
            values: list[int] = []  # noqa: RUF012 - the point of the test


def test_the_first_id_that_is_not_null_wins() -> None:
    assert Voice.from_dict({"_id": None, "id": "v"}).id == "v"
    assert Voice.from_dict({"_id": "a", "id": "b"}).id == "a"


@pytest.mark.parametrize(
    ("data", "audio", "seq", "offset"),
    [
        ({"audio_base64": ""}, b"", 0, 0.0),
        ({"audio_base64": "aGk=", "chunk_seq": -3, "chunk_audio_offset_sec": -1}, b"hi", 0, 0.0),
        (
            {"audio_base64": "aGk=", "chunk_seq": "2", "chunk_audio_offset_sec": "1.5"},
            b"hi",
            2,
            1.5,
        ),
    ],
)
def test_timestamp_event(data: dict[str, Any], audio: bytes, seq: int, offset: float) -> None:
    event = TimestampEvent.from_dict(data)
    assert (event.audio, event.chunk_seq, event.chunk_audio_offset) == (audio, seq, offset)
    assert event.as_dict()["audio"] == f"<{len(audio)} bytes>"


@pytest.mark.parametrize("raw", [None, 5, "not base64!"])
def test_timestamp_event_without_usable_audio(raw: Any) -> None:
    with pytest.raises(ValueError, match="audio_base64"):
        TimestampEvent.from_dict({"audio_base64": raw})


def test_voice_design_candidate_needs_audio() -> None:
    candidate = VoiceDesignCandidate.from_dict({"id": "c", "audio_base64": "aGk=", "index": -1})
    assert (candidate.audio, candidate.index, candidate.text) == (b"hi", 0, None)
    with pytest.raises(ValueError, match="audio_base64"):
        VoiceDesignCandidate.from_dict({"id": "c", "audio_base64": ""})
