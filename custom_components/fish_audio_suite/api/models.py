"""Typed models of Fish Audio answers and of the TTS request settings (HTTP and live).

Parsing is tolerant, as the SDK's is (the vendor's OpenAPI file marks most fields optional):
missing optional fields get defaults, unknown fields are ignored, and ids are read from `_id`
or `id`. `as_dict()` returns JSON-ready data: datetimes as ISO 8601 strings and Decimal
amounts as strings (a float would turn "12.34" into 12.339999...).

Every answer model is declared once, as its fields: a field's type says how the server's
value is read (`_READERS`), `wire()` names another reader or wire key where the type alone
does not say it, and one decoder (`_Model.from_dict`) reads them all. A value that is
missing or not usable leaves the field's default; a field without a default is required
and its absence is a `ValueError`. The models and the request settings (`TTSOptions`,
`ReferenceAudio`, `FlushPolicy`) are plain frozen classes (`_Frozen`) rather than dataclasses:
`@dataclass` writes and compiles code for every class at import (0.4-1.0 ms each, measured in
benchmarks/README.md), `_Frozen` needs none. Copy one with changes by `copy.replace`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import FrozenInstanceError
from datetime import datetime
from decimal import Decimal, InvalidOperation
import inspect
import math
from typing import Any, ClassVar, Literal, Self, dataclass_transform

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

# What a reader returns for a value it cannot use: the field keeps its default.
_UNUSABLE: Any = object()
_MISSING: Any = object()

type _Reader = Callable[[Any], Any]


def _text(value: Any) -> Any:
    return _UNUSABLE if value is None else str(value)


def _integer(value: Any) -> Any:
    # OverflowError (1e999) is left to the caller: the client reports it as unusable.
    if isinstance(value, bool):
        return _UNUSABLE
    try:
        return int(value)
    except (TypeError, ValueError):
        return _UNUSABLE


def _count(value: Any) -> Any:
    result = _integer(value)
    return result if result is _UNUSABLE else max(0, result)


def _real(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return _UNUSABLE
    try:
        result = float(value)
    except (TypeError, ValueError):
        return _UNUSABLE
    return result if math.isfinite(result) else _UNUSABLE


def _seconds(value: Any) -> Any:
    result = _real(value)
    return result if result is _UNUSABLE else max(0.0, result)


def _flag(value: Any) -> Any:
    return value if isinstance(value, bool) else _UNUSABLE


def _amount(value: Any) -> Any:
    # str() first: Decimal(0.1) would keep the float's binary error.
    if value is None or isinstance(value, bool):
        return _UNUSABLE
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return _UNUSABLE
    return result if result.is_finite() else _UNUSABLE


def _moment(value: Any) -> Any:
    if not isinstance(value, str) or not value:
        return _UNUSABLE
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return _UNUSABLE


def _texts(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value if item is not None)
    return _UNUSABLE


def _base64(value: Any) -> Any:
    if not isinstance(value, str):
        return _UNUSABLE
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        return _UNUSABLE


def _base64_nonempty(value: Any) -> Any:
    return _base64(value) if value else _UNUSABLE


def _many(model: type[_Model]) -> _Reader:
    """Read a list of objects as a tuple of `model`; an item's ValueError is the list's."""

    def read(value: Any) -> Any:
        if not isinstance(value, list):
            return _UNUSABLE
        return tuple(model.from_dict(item) for item in value if isinstance(item, Mapping))

    return read


def _one(model: type[_Model]) -> _Reader:
    """Read an object as `model`, or keep the default when it is not one."""

    def read(value: Any) -> Any:
        if not isinstance(value, Mapping):
            return _UNUSABLE
        try:
            return model.from_dict(value)
        except ValueError:
            return _UNUSABLE

    return read


# How a field of each type is read when `wire()` does not say otherwise.
_READERS: dict[str, _Reader] = {
    "str": _text,
    "str | None": _text,
    "int": _integer,
    "float": _real,
    "bool": _flag,
    "bool | None": _flag,
    "Decimal": _amount,
    "Decimal | None": _amount,
    "datetime | None": _moment,
    "tuple[str, ...]": _texts,
}


# _Wire and the field records are slotted classes, not NamedTuples: creating a NamedTuple
# class costs about 0.13 ms at import, a plain class a tenth of it (benchmarks/README.md).
class _Wire:
    """How one field is read: which reader, from which keys (the first not null wins)."""

    __slots__ = ("default", "keys", "read")

    def __init__(self, read: _Reader | None, keys: tuple[str, ...], default: Any) -> None:
        self.read = read
        self.keys = keys
        self.default = default


class _Field:
    """One declared field of a frozen value: its name and default (_MISSING: required)."""

    __slots__ = ("default", "name")

    def __init__(self, name: str, default: Any) -> None:
        self.name = name
        self.default = default


class _WireField(_Field):
    """A field of an answer model, with the wire keys and the reader it is decoded by."""

    __slots__ = ("keys", "read")

    def __init__(self, name: str, keys: tuple[str, ...], read: _Reader, default: Any) -> None:
        self.name = name
        self.default = default
        self.keys = keys
        self.read = read


def wire(
    read: _Reader | None = None, *, key: str | tuple[str, ...] = (), default: Any = _MISSING
) -> Any:
    """Declare a field that another reader or another wire key reads.

    Args:
        read: The reader, when the field's type does not say it.
        key: The key(s) on the wire, when not the field's name (the first not null wins).
        default: The value when the server sends none that is usable; none: required.

    Returns:
        The declaration (the class turns it into the field's default).
    """
    return _Wire(read, (key,) if isinstance(key, str) else key, default)


def _jsonable(value: Any) -> Any:
    if isinstance(value, _Frozen):
        return value.as_dict()
    if isinstance(value, tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        # Audio: its size, not its bytes.
        return f"<{len(value)} bytes>"
    return value


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(wire,))
class _Frozen:
    """A frozen value with keyword-only fields, declared as annotated class attributes.

    What a frozen keyword-only dataclass gives (value equality and hash, repr, `copy.replace`,
    `__post_init__` checks), without the code `@dataclass` writes and compiles per class.
    """

    _fields: ClassVar[tuple[_Field, ...]] = ()

    def __init_subclass__(cls) -> None:
        """Collect the fields from the class's annotations, in order."""
        super().__init_subclass__()
        found = []
        for name, annotation in inspect.get_annotations(cls).items():
            if annotation.startswith("ClassVar"):
                continue
            declared = cls.__dict__.get(name, _MISSING)
            if isinstance(declared, _Wire):
                read, keys, default = declared.read, declared.keys, declared.default
                # The declaration's default replaces it (none: no class attribute at all).
                if default is _MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, default)
            else:
                read, keys, default = None, (), declared
            found.append(cls._declare(name, annotation, read, keys, default))
        cls._fields = tuple(found)

    @classmethod
    def _declare(
        cls, name: str, annotation: str, read: _Reader | None, keys: tuple[str, ...], default: Any
    ) -> _Field:
        """Return the field a declaration makes: a value keeps only its name and default."""
        return _Field(name, default)

    def __init__(self, **values: Any) -> None:
        """Set every field from a keyword or its default, then check them."""
        state = vars(self)
        for field in self._fields:
            value = values.pop(field.name, field.default)
            if value is _MISSING:
                raise TypeError(f"{type(self).__name__}() missing argument {field.name!r}")
            state[field.name] = value
        if values:
            raise TypeError(f"{type(self).__name__}() got unexpected arguments {sorted(values)}")
        self.__post_init__()

    def __post_init__(self) -> None:
        """Check the values once set (a subclass's own rules; none here)."""

    def __replace__(self, **changes: Any) -> Self:
        """Return a copy with `changes` applied (what `copy.replace` calls)."""
        state = vars(self)
        return type(self)(**{field.name: state[field.name] for field in self._fields} | changes)

    def _values(self) -> tuple[Any, ...]:
        state = vars(self)
        return tuple(state[field.name] for field in self._fields)

    def as_dict(self) -> dict[str, Any]:
        """Return JSON-ready data (amounts and datetimes as strings, audio as its size)."""
        state = vars(self)
        return {field.name: _jsonable(state[field.name]) for field in self._fields}

    def __setattr__(self, name: str, value: Any) -> None:
        """Refuse: the value is frozen."""
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        """Refuse: the value is frozen."""
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        """Equal when of the same class with equal fields."""
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        """Hash of the fields, as a frozen dataclass's."""
        return hash(self._values())

    def __repr__(self) -> str:
        """Show the class and its fields."""
        state = vars(self)
        shown = ", ".join(f"{field.name}={state[field.name]!r}" for field in self._fields)
        return f"{type(self).__name__}({shown})"


class _Model(_Frozen):
    """A frozen model of a server answer, read from JSON by its declared fields."""

    _fields: ClassVar[tuple[_WireField, ...]] = ()

    @classmethod
    def _declare(
        cls, name: str, annotation: str, read: _Reader | None, keys: tuple[str, ...], default: Any
    ) -> _WireField:
        """Return the field with its reader (refused at class creation when there is none)."""
        read = read or _READERS.get(annotation)
        if read is None:
            raise TypeError(f"{cls.__name__}.{name}: no reader for {annotation}")
        return _WireField(name, keys or (name,), read, default)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the server's JSON.

        Args:
            data: The decoded JSON object.

        Returns:
            The parsed model.

        Raises:
            ValueError: A required field is missing or not usable.
        """
        values: dict[str, Any] = {}
        for field in cls._fields:
            raw = None
            for key in field.keys:
                if (raw := data.get(key)) is not None:
                    break
            value = field.read(raw)
            if value is not _UNUSABLE:
                values[field.name] = value
            elif field.default is _MISSING:
                raise ValueError(f"missing or unusable {field.keys[0]}")
        return cls(**values)


# The `_id` of a document (OpenAPI), which some answers spell `id`.
_ID = ("_id", "id")


class Credit(_Model):
    """API credit of the account (`GET /wallet/self/api-credit`)."""

    id: str | None = wire(key=_ID, default=None)
    user_id: str
    credit: Decimal
    cumulative_top_up: Decimal | None = None
    has_free_credit: bool | None = None
    has_phone_sha256: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Package(_Model):
    """Platform (subscription) package of the account (`GET /wallet/self/package`)."""

    id: str | None = wire(key=_ID, default=None)
    user_id: str
    type: str = ""
    total: int = 0
    balance: int = 0
    extra_balance: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    finished_at: datetime | None = None
    billing_period: str | None = None
    current_period_end: datetime | None = None


class VoiceAuthor(_Model):
    """Author of a voice model."""

    id: str = wire(key=_ID)
    nickname: str = ""
    avatar: str = ""


class VoiceSample(_Model):
    """A sample clip of a voice model."""

    title: str = ""
    text: str = ""
    task_id: str = ""
    audio: str = ""


class Voice(_Model):
    """A voice model (OpenAPI `ModelEntity`)."""

    id: str = wire(key=_ID)
    type: str = "tts"
    title: str = ""
    description: str = ""
    cover_image: str = ""
    # Any string: the server also has "full" voices, which the official SDK chokes on.
    train_mode: str = "fast"
    state: str = ""
    tags: tuple[str, ...] = ()
    samples: tuple[VoiceSample, ...] = wire(_many(VoiceSample), default=())
    languages: tuple[str, ...] = ()
    visibility: str = ""
    lock_visibility: bool = False
    like_count: int = 0
    mark_count: int = 0
    shared_count: int = 0
    task_count: int = 0
    liked: bool = False
    marked: bool = False
    # An author without an id is no author.
    author: VoiceAuthor | None = wire(_one(VoiceAuthor), default=None)
    created_at: datetime | None = None
    updated_at: datetime | None = None


class VoicePage(_Model):
    """One page of `GET /model` (an item without an id makes the page unusable)."""

    total: int = 0
    items: tuple[Voice, ...] = wire(_many(Voice), default=())
    has_more: bool | None = None


class ASRSegment(_Model):
    """A timed piece of a transcript (seconds)."""

    text: str = ""
    start: float = 0.0
    end: float = 0.0


class ASRResult(_Model):
    """Result of `POST /v1/asr`.

    `duration` is passed on as the server states it: seconds per the API docs, although the
    SDK's comment says milliseconds.
    """

    text: str = ""
    duration: float = 0.0
    segments: tuple[ASRSegment, ...] = wire(_many(ASRSegment), default=())
    language: str | None = wire(key=("language", "language_code"), default=None)


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value!r}")


def _check_choice(name: str, value: object, choices: tuple[object, ...]) -> None:
    if isinstance(value, bool) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


class ReferenceAudio(_Frozen):
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


class TTSOptions(_Frozen):
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


class FlushPolicy(_Frozen):
    """When the live stream asks the server to synthesise the text buffered so far.

    Each flush makes the server synthesise a separate segment. Flushing the first sentence at
    once is what cuts the time to first audio; flushing every sentence can lengthen the tail
    when a segment is costly, so later sentences are flushed only on a pause in the text or
    once enough text is buffered.

    Attributes:
        first_sentence: Flush the first complete sentence immediately.
        pause: Later sentences: flush when no new text arrived for this many seconds after
            a sentence end.
        min_chars: ... or when this much text was sent since the last flush and it ends at
            a sentence or clause boundary.
        enabled: False never flushes (what the SDK and Home Assistant core do).
    """

    first_sentence: bool = True
    pause: float = 0.3
    min_chars: int = 120
    enabled: bool = True

    def __post_init__(self) -> None:
        """Validate the settings."""
        if self.pause < 0:
            raise ValueError("pause must not be negative")
        if self.min_chars < 1:
            raise ValueError("min_chars must be at least 1")


class TimestampAlignment(_Model):
    """A cumulative snapshot of one content chunk's timing (seconds from the chunk's start)."""

    segments: tuple[ASRSegment, ...] = wire(_many(ASRSegment), default=())
    audio_duration: float = 0.0


class TimestampEvent(_Model):
    """One message of `POST /v1/tts/stream/with-timestamp` (`TTSTimestampStreamEvent`).

    `alignment` replaces the previous snapshot for the same `chunk_seq`; it is None before
    the server has one. `audio_base64` may be empty (a message without audio), not absent.
    """

    audio: bytes = wire(_base64, key="audio_base64")
    content: str = ""
    chunk_seq: int = wire(_count, default=0)
    chunk_audio_offset: float = wire(_seconds, key="chunk_audio_offset_sec", default=0.0)
    alignment: TimestampAlignment | None = wire(_one(TimestampAlignment), default=None)


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


class VoiceDesignCandidate(_Model):
    """One designed voice (`VoiceDesignCandidate` of `POST /v1/voice-design`)."""

    id: str = wire(key=_ID)
    index: int = wire(_count, default=0)
    audio: bytes = wire(_base64_nonempty, key="audio_base64")
    sample_rate: int = wire(_count, default=0)
    duration_ms: int = wire(_count, default=0)
    text: str | None = None
    instruct: str | None = None
    language: str | None = None


__all__ = [
    "ASRResult",
    "ASRSegment",
    "AudioFormat",
    "Credit",
    "FlushPolicy",
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
