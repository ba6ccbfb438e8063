"""Typed models of Fish Audio answers and of the TTS request settings.

Parsing is tolerant, as the SDK's is (the vendor's OpenAPI file marks most fields optional):
missing optional fields get defaults, unknown fields are ignored, and ids are read from `_id`
or `id`. `as_dict()` returns JSON-ready data: datetimes as ISO 8601 strings and Decimal
amounts as strings (a float would turn "12.34" into 12.339999...).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal, InvalidOperation
import math
from typing import Any, Literal, Self, cast

from .const import (
    CHUNK_LENGTH_RANGE,
    DEFAULT_MODEL,
    EARLY_STOP_THRESHOLD_RANGE,
    FORMATS,
    LATENCIES,
    MAX_NEW_TOKENS_RANGE,
    MIN_CHUNK_LENGTH_RANGE,
    MP3_BITRATES,
    OPUS_BITRATES,
    PROSODY_SPEED_RANGE,
    PROSODY_VOLUME_RANGE,
    REPETITION_PENALTY_RANGE,
    S2_MODELS,
    SAMPLE_RATES,
    SAMPLING_RANGE,
)

type AudioFormat = Literal["mp3", "wav", "opus", "pcm"]
type Latency = Literal["low", "normal", "balanced"]


def _id(data: Mapping[str, Any]) -> str | None:
    value = data.get("_id", data.get("id"))
    return str(value) if value is not None else None


def _required_id(data: Mapping[str, Any]) -> str:
    if (value := _id(data)) is None:
        raise ValueError("missing _id")
    return value


def _str(data: Mapping[str, Any], key: str, default: str = "") -> str:
    value = data.get(key)
    return default if value is None else str(value)


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def _int(data: Mapping[str, Any], key: str, default: int = 0) -> int:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _float(data: Mapping[str, Any], key: str, default: float = 0.0) -> float:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return default
    try:
        result = float(value)
    except (TypeError, ValueError):
        return default
    return result if math.isfinite(result) else default


def _opt_bool(data: Mapping[str, Any], key: str) -> bool | None:
    value = data.get(key)
    return value if isinstance(value, bool) else None


def _bool(data: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = data.get(key)
    return value if isinstance(value, bool) else default


def _decimal(value: Any) -> Decimal:
    # str() first: Decimal(0.1) would keep the float's binary error.
    if value is None or isinstance(value, bool):
        raise ValueError("not a decimal amount")
    try:
        result = Decimal(str(value))
    except InvalidOperation as err:
        raise ValueError("not a decimal amount") from err
    if not result.is_finite():
        raise ValueError("not a finite amount")
    return result


def _opt_decimal(value: Any) -> Decimal | None:
    try:
        return _decimal(value)
    except ValueError:
        return None


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _str_tuple(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value if item is not None)
    return ()


class _JsonModel:
    """A model whose JSON form is its fields, in order, made JSON-ready.

    Amounts (Decimal) become strings so "12.3400" stays exact, datetimes ISO 8601 strings,
    tuples lists, and nested models their own JSON form.
    """

    __slots__ = ()

    def as_dict(self) -> dict[str, Any]:
        """Return JSON-ready data."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(cast("Any", self))}


def _jsonable(value: Any) -> Any:
    if isinstance(value, _JsonModel):
        return value.as_dict()
    if isinstance(value, tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Credit(_JsonModel):
    """API credit of the account (`GET /wallet/self/api-credit`)."""

    id: str | None = None
    user_id: str
    credit: Decimal
    cumulative_top_up: Decimal | None = None
    has_free_credit: bool | None = None
    has_phone_sha256: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the server's JSON.

        Args:
            data: The decoded JSON object.

        Returns:
            The parsed model.

        Raises:
            ValueError: `user_id` or `credit` is missing or not usable.
        """
        if data.get("user_id") is None:
            raise ValueError("missing user_id")
        return cls(
            id=_id(data),
            user_id=str(data["user_id"]),
            credit=_decimal(data.get("credit")),
            cumulative_top_up=_opt_decimal(data.get("cumulative_top_up")),
            has_free_credit=_opt_bool(data, "has_free_credit"),
            has_phone_sha256=_opt_bool(data, "has_phone_sha256"),
            created_at=_datetime(data.get("created_at")),
            updated_at=_datetime(data.get("updated_at")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Package(_JsonModel):
    """Platform (subscription) package of the account (`GET /wallet/self/package`)."""

    id: str | None = None
    user_id: str
    type: str
    total: int
    balance: int
    extra_balance: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None
    billing_period: str | None = None
    current_period_end: datetime | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the server's JSON.

        Args:
            data: The decoded JSON object.

        Returns:
            The parsed model.

        Raises:
            ValueError: `user_id` is missing.
        """
        if data.get("user_id") is None:
            raise ValueError("missing user_id")
        return cls(
            id=_id(data),
            user_id=str(data["user_id"]),
            type=_str(data, "type"),
            total=_int(data, "total"),
            balance=_int(data, "balance"),
            extra_balance=_int(data, "extra_balance"),
            created_at=_datetime(data.get("created_at")),
            updated_at=_datetime(data.get("updated_at")),
            finished_at=_datetime(data.get("finished_at")),
            billing_period=_opt_str(data, "billing_period"),
            current_period_end=_datetime(data.get("current_period_end")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceAuthor(_JsonModel):
    """Author of a voice model."""

    id: str
    nickname: str = ""
    avatar: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the server's JSON.

        Args:
            data: The decoded `author` object.

        Returns:
            The parsed model.

        Raises:
            ValueError: The author has no id.
        """
        return cls(
            id=_required_id(data),
            nickname=_str(data, "nickname"),
            avatar=_str(data, "avatar"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceSample(_JsonModel):
    """A sample clip of a voice model."""

    title: str = ""
    text: str = ""
    task_id: str = ""
    audio: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the server's JSON.

        Args:
            data: The decoded sample object.

        Returns:
            The parsed model.
        """
        return cls(
            title=_str(data, "title"),
            text=_str(data, "text"),
            task_id=_str(data, "task_id"),
            audio=_str(data, "audio"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Voice(_JsonModel):
    """A voice model (OpenAPI `ModelEntity`)."""

    id: str
    type: str = "tts"
    title: str = ""
    description: str = ""
    cover_image: str = ""
    # Any string: the server also has "full" voices, which the official SDK chokes on.
    train_mode: str = "fast"
    state: str = ""
    tags: tuple[str, ...] = ()
    samples: tuple[VoiceSample, ...] = ()
    languages: tuple[str, ...] = ()
    visibility: str = ""
    lock_visibility: bool = False
    like_count: int = 0
    mark_count: int = 0
    shared_count: int = 0
    task_count: int = 0
    liked: bool = False
    marked: bool = False
    author: VoiceAuthor | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the server's JSON.

        Args:
            data: The decoded voice object.

        Returns:
            The parsed model.

        Raises:
            ValueError: The voice has no id.
        """
        author = data.get("author")
        samples = data.get("samples")
        return cls(
            id=_required_id(data),
            type=_str(data, "type", "tts"),
            title=_str(data, "title"),
            description=_str(data, "description"),
            cover_image=_str(data, "cover_image"),
            train_mode=_str(data, "train_mode", "fast"),
            state=_str(data, "state"),
            tags=_str_tuple(data.get("tags")),
            samples=tuple(
                VoiceSample.from_dict(item)
                for item in (samples if isinstance(samples, list) else ())
                if isinstance(item, Mapping)
            ),
            languages=_str_tuple(data.get("languages")),
            visibility=_str(data, "visibility"),
            lock_visibility=_bool(data, "lock_visibility"),
            like_count=_int(data, "like_count"),
            mark_count=_int(data, "mark_count"),
            shared_count=_int(data, "shared_count"),
            task_count=_int(data, "task_count"),
            liked=_bool(data, "liked"),
            marked=_bool(data, "marked"),
            author=(
                VoiceAuthor.from_dict(author)
                if isinstance(author, Mapping) and _id(author) is not None
                else None
            ),
            created_at=_datetime(data.get("created_at")),
            updated_at=_datetime(data.get("updated_at")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class VoicePage(_JsonModel):
    """One page of `GET /model`."""

    total: int = 0
    items: tuple[Voice, ...] = ()
    has_more: bool | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the server's JSON.

        Args:
            data: The decoded page object.

        Returns:
            The parsed model.

        Raises:
            ValueError: An item has no id.
        """
        items = data.get("items")
        return cls(
            total=_int(data, "total"),
            items=tuple(
                Voice.from_dict(item)
                for item in (items if isinstance(items, list) else ())
                if isinstance(item, Mapping)
            ),
            has_more=_opt_bool(data, "has_more"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ASRSegment(_JsonModel):
    """A timed piece of a transcript (seconds)."""

    text: str = ""
    start: float = 0.0
    end: float = 0.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the server's JSON.

        Args:
            data: The decoded segment object.

        Returns:
            The parsed model.
        """
        return cls(text=_str(data, "text"), start=_float(data, "start"), end=_float(data, "end"))


@dataclass(frozen=True, slots=True, kw_only=True)
class ASRResult(_JsonModel):
    """Result of `POST /v1/asr`.

    `duration` is passed on as the server states it: seconds per the API docs, although the
    SDK's comment says milliseconds.
    """

    text: str = ""
    duration: float = 0.0
    segments: tuple[ASRSegment, ...] = ()
    language: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the server's JSON.

        Args:
            data: The decoded result object.

        Returns:
            The parsed model.
        """
        segments = data.get("segments")
        language = data.get("language")
        if language is None:
            language = data.get("language_code")
        return cls(
            text=_str(data, "text"),
            duration=_float(data, "duration"),
            segments=tuple(
                ASRSegment.from_dict(item)
                for item in (segments if isinstance(segments, list) else ())
                if isinstance(item, Mapping)
            ),
            language=str(language) if language is not None else None,
        )


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value!r}")


def _check_choice(name: str, value: object, choices: tuple[object, ...]) -> None:
    if isinstance(value, bool) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceAudio(_JsonModel):
    """A recording and its transcript for zero-shot cloning (OpenAPI `ReferenceAudio`).

    Sent inline as msgpack binary, which is why the client never sends TTS as JSON.
    """

    audio: bytes
    text: str

    def __post_init__(self) -> None:
        """Refuse an empty recording or a transcript that is not text."""
        if not isinstance(self.audio, bytes) or not self.audio:
            raise ValueError("reference audio must be non-empty bytes")
        if not isinstance(self.text, str):
            raise TypeError("reference text must be a string")

    def as_dict(self) -> dict[str, Any]:
        """Return JSON-ready data: the size of the audio, not its bytes."""
        return {"audio": f"<{len(self.audio)} bytes>", "text": self.text}


@dataclass(frozen=True, slots=True, kw_only=True)
class TTSOptions(_JsonModel):
    """Settings of a TTS request (HTTP, with timestamps, and live), validated on creation.

    Defaults are the SDK's (fish-audio-sdk 1.3.0 TTSConfig), except the model: s2.1-pro,
    the vendor's recommended model and the server's own fallback. Settings left None are not
    sent, so the server applies its own default. `opus_bitrate` takes both documented enums
    (kbps as the SDK sends, bps as the OpenAPI file now says, -1000 automatic).

    Raises:
        ValueError: A setting is outside the range the API accepts.
    """

    model: str = DEFAULT_MODEL
    reference_id: str | None = None
    # Multi-speaker dialogue: one voice id per `<|speaker:N|>` index (S2 models).
    speakers: tuple[str, ...] = ()
    # Zero-shot cloning: recordings to speak like, instead of a saved voice.
    references: tuple[ReferenceAudio, ...] = ()
    format: AudioFormat = "mp3"
    sample_rate: int | None = None
    mp3_bitrate: int = 128
    opus_bitrate: int = 32
    latency: Latency = "balanced"
    speed: float = 1.0
    volume: float = 0.0
    normalize_loudness: bool | None = None
    temperature: float = 0.7
    top_p: float = 0.7
    normalize: bool = True
    chunk_length: int = 200
    # The advanced fields of SDK 1.3 (its TTSConfig); None leaves the server's default.
    max_new_tokens: int | None = None
    repetition_penalty: float | None = None
    min_chunk_length: int | None = None
    condition_on_previous_chunks: bool | None = None
    early_stop_threshold: float | None = None

    def __post_init__(self) -> None:
        """Validate every setting (conservative in what we send)."""
        if not isinstance(self.model, str) or not self.model:
            raise ValueError("model must be a non-empty string")
        if self.reference_id is not None and (
            not isinstance(self.reference_id, str) or not self.reference_id
        ):
            raise ValueError("reference_id must be a non-empty string or None")
        self._check_speakers()
        if not isinstance(self.references, tuple) or not all(
            isinstance(ref, ReferenceAudio) for ref in self.references
        ):
            raise TypeError("references must be a tuple of ReferenceAudio")
        _check_choice("format", self.format, FORMATS)
        if self.sample_rate is not None:
            _check_choice("sample_rate", self.sample_rate, SAMPLE_RATES[self.format])
        _check_choice("mp3_bitrate", self.mp3_bitrate, MP3_BITRATES)
        _check_choice("opus_bitrate", self.opus_bitrate, OPUS_BITRATES)
        _check_choice("latency", self.latency, LATENCIES)
        _check_range("speed", self.speed, *PROSODY_SPEED_RANGE)
        _check_range("volume", self.volume, *PROSODY_VOLUME_RANGE)
        _check_range("temperature", self.temperature, *SAMPLING_RANGE)
        _check_range("top_p", self.top_p, *SAMPLING_RANGE)
        for name in ("normalize", "normalize_loudness", "condition_on_previous_chunks"):
            value = getattr(self, name)
            if not isinstance(value, bool) and not (value is None and name != "normalize"):
                raise TypeError(f"{name} must be a bool")
        if not isinstance(self.chunk_length, int) or isinstance(self.chunk_length, bool):
            raise TypeError("chunk_length must be an int")
        _check_range("chunk_length", self.chunk_length, *CHUNK_LENGTH_RANGE)
        for name, (low, high) in (("max_new_tokens", MAX_NEW_TOKENS_RANGE),
                                  ("min_chunk_length", MIN_CHUNK_LENGTH_RANGE)):  # fmt: skip
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise TypeError(f"{name} must be an int")
            if value is not None:
                _check_range(name, value, low, high)
        if self.repetition_penalty is not None:
            _check_range("repetition_penalty", self.repetition_penalty, *REPETITION_PENALTY_RANGE)
        if self.early_stop_threshold is not None:
            _check_range(
                "early_stop_threshold", self.early_stop_threshold, *EARLY_STOP_THRESHOLD_RANGE
            )

    def _check_speakers(self) -> None:
        if not isinstance(self.speakers, tuple) or not all(
            isinstance(voice, str) and voice for voice in self.speakers
        ):
            raise ValueError("speakers must be a tuple of voice ids")
        if not self.speakers:
            return
        # The speakers replace the voice (reference_id is not sent), but not recordings.
        if self.references:
            raise ValueError("speakers and references exclude each other: give only one")
        if self.model not in S2_MODELS:
            raise ValueError(f"multi-speaker dialogue needs an S2 model, not {self.model}")

    def to_request(self, text: str, *, include_none: bool) -> dict[str, Any]:
        """Build the TTSRequest map, keys in the SDK's wire order (fish-audio-sdk 1.3.0).

        `prosody` is always sent, as Home Assistant's calls through the SDK do. The advanced
        fields and `normalize_loudness` are sent only when set (their wire types are not
        nullable, so even the live `start` event leaves them out rather than sending nil).

        Args:
            text: The text to speak ("" for the live `start` event).
            include_none: Send unset optional fields as nil (the WebSocket `start` event)
                instead of omitting them (HTTP).

        Returns:
            The request map, ready for msgpack.
        """
        prosody: dict[str, Any] = {"speed": float(self.speed), "volume": float(self.volume)}
        if self.normalize_loudness is not None:
            prosody["normalize_loudness"] = self.normalize_loudness
        request: dict[str, Any] = {
            "text": text,
            "chunk_length": int(self.chunk_length),
            "format": self.format,
            "sample_rate": self.sample_rate,
            "mp3_bitrate": int(self.mp3_bitrate),
            "opus_bitrate": int(self.opus_bitrate),
            "references": [{"audio": ref.audio, "text": ref.text} for ref in self.references],
            "reference_id": list(self.speakers) if self.speakers else self.reference_id,
            "normalize": self.normalize,
            "latency": self.latency,
            # float(): msgpack must carry float64 even when the caller passed an int.
            "prosody": prosody,
            "top_p": float(self.top_p),
            "temperature": float(self.temperature),
        }
        if not include_none:
            request = {key: value for key, value in request.items() if value is not None}
        advanced: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "repetition_penalty": (
                None if self.repetition_penalty is None else float(self.repetition_penalty)
            ),
            "min_chunk_length": self.min_chunk_length,
            "condition_on_previous_chunks": self.condition_on_previous_chunks,
            "early_stop_threshold": (
                None if self.early_stop_threshold is None else float(self.early_stop_threshold)
            ),
        }
        request.update((key, value) for key, value in advanced.items() if value is not None)
        return request


@dataclass(frozen=True, slots=True, kw_only=True)
class TimestampAlignment(_JsonModel):
    """A cumulative snapshot of one content chunk's timing (seconds from the chunk's start)."""

    segments: tuple[ASRSegment, ...] = ()
    audio_duration: float = 0.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the server's JSON (`TTSTimestampAlignment`).

        Args:
            data: The decoded alignment object.

        Returns:
            The parsed model.
        """
        segments = data.get("segments")
        return cls(
            segments=tuple(
                ASRSegment.from_dict(item)
                for item in (segments if isinstance(segments, list) else ())
                if isinstance(item, Mapping)
            ),
            audio_duration=_float(data, "audio_duration"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TimestampEvent(_JsonModel):
    """One message of `POST /v1/tts/stream/with-timestamp` (`TTSTimestampStreamEvent`).

    `alignment` replaces the previous snapshot for the same `chunk_seq`; it is None before
    the server has one.
    """

    audio: bytes
    content: str = ""
    chunk_seq: int = 0
    chunk_audio_offset: float = 0.0
    alignment: TimestampAlignment | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from one SSE payload.

        Args:
            data: The decoded JSON payload.

        Returns:
            The parsed event.

        Raises:
            ValueError: `audio_base64` is missing or not base64.
        """
        raw = data.get("audio_base64")
        if not isinstance(raw, str):
            raise ValueError("missing audio_base64")  # noqa: TRY004 - the parser's contract
        try:
            audio = base64.b64decode(raw, validate=True)
        except binascii.Error as err:
            raise ValueError("audio_base64 is not base64") from err
        alignment = data.get("alignment")
        return cls(
            audio=audio,
            content=_str(data, "content"),
            chunk_seq=max(0, _int(data, "chunk_seq")),
            chunk_audio_offset=max(0.0, _float(data, "chunk_audio_offset_sec")),
            alignment=(
                TimestampAlignment.from_dict(alignment) if isinstance(alignment, Mapping) else None
            ),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return JSON-ready data: the size of the audio, not its bytes."""
        return {
            "audio": f"<{len(self.audio)} bytes>",
            "content": self.content,
            "chunk_seq": self.chunk_seq,
            "chunk_audio_offset": self.chunk_audio_offset,
            "alignment": None if self.alignment is None else self.alignment.as_dict(),
        }


class Timeline:
    """The latest alignment per content chunk, turned into absolute segments.

    Feed every `TimestampEvent` in order; a newer snapshot for a `chunk_seq` replaces the
    older one, as the API asks (it is cumulative, never a delta).
    """

    __slots__ = ("_chunks",)

    def __init__(self) -> None:
        """Start with no chunks."""
        self._chunks: dict[int, tuple[float, TimestampAlignment]] = {}

    def add(self, event: TimestampEvent) -> None:
        """Keep the event's snapshot if it has one."""
        if event.alignment is not None:
            self._chunks[event.chunk_seq] = (event.chunk_audio_offset, event.alignment)

    def segments(self) -> list[ASRSegment]:
        """Return every segment with times from the start of the whole audio, in order."""
        result: list[ASRSegment] = []
        for seq in sorted(self._chunks):
            offset, alignment = self._chunks[seq]
            result.extend(
                ASRSegment(text=s.text, start=offset + s.start, end=offset + s.end)
                for s in alignment.segments
            )
        return result


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceDesignCandidate(_JsonModel):
    """One designed voice (`VoiceDesignCandidate` of `POST /v1/voice-design`)."""

    id: str
    index: int = 0
    audio: bytes
    sample_rate: int = 0
    duration_ms: int = 0
    text: str | None = None
    instruct: str | None = None
    language: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the server's JSON.

        Args:
            data: The decoded candidate object.

        Returns:
            The parsed model.

        Raises:
            ValueError: The id or the audio is missing, or the audio is not base64.
        """
        raw = data.get("audio_base64")
        if not isinstance(raw, str) or not raw:
            raise ValueError("missing audio_base64")
        try:
            audio = base64.b64decode(raw, validate=True)
        except binascii.Error as err:
            raise ValueError("audio_base64 is not base64") from err
        return cls(
            id=_required_id(data),
            index=max(0, _int(data, "index")),
            audio=audio,
            sample_rate=max(0, _int(data, "sample_rate")),
            duration_ms=max(0, _int(data, "duration_ms")),
            text=_opt_str(data, "text"),
            instruct=_opt_str(data, "instruct"),
            language=_opt_str(data, "language"),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return JSON-ready data: the size of the audio, not its bytes."""
        return {
            "id": self.id,
            "index": self.index,
            "audio": f"<{len(self.audio)} bytes>",
            "sample_rate": self.sample_rate,
            "duration_ms": self.duration_ms,
            "text": self.text,
            "instruct": self.instruct,
            "language": self.language,
        }


__all__ = [
    "ASRResult",
    "ASRSegment",
    "AudioFormat",
    "Credit",
    "Latency",
    "Package",
    "ReferenceAudio",
    "TTSOptions",
    "Timeline",
    "TimestampAlignment",
    "TimestampEvent",
    "Voice",
    "VoiceAuthor",
    "VoiceDesignCandidate",
    "VoicePage",
    "VoiceSample",
]
