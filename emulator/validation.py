"""Validation of request fields, reporting errors the way the API's pydantic layer does.

Each error is ``{"loc", "msg", "type", "input", ["ctx"]}``; the caller wraps the list in the
configured 422 shape (a top-level array, or ``{"detail": [...]}``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
import re
from typing import Any, Final, cast

from .audio import DEFAULT_SAMPLE_RATES, FORMATS, SAMPLE_RATES, AudioFormat

LATENCIES: Final = ("low", "normal", "balanced")
MP3_BITRATES: Final = (64, 128, 192)
# Both documented enums: kbps (what the SDK sends) and bps (the newer OpenAPI file).
OPUS_BITRATES: Final = (-1000, 24, 32, 48, 64, 24000, 32000, 48000, 64000)
# Multi-speaker dialogue is an S2-family feature (OpenAPI TTSRequest: "not s1").
MULTI_SPEAKER_MODELS: Final = frozenset({"s2-pro", "s2.1-pro", "s2.1-pro-free"})
# `<|speaker:N|>` marks where speaker N (an index into reference_id) starts talking.
SPEAKER_TAG: Final = re.compile(r"<\|speaker:(\d+)\|>")

type ErrorList = list[dict[str, Any]]


def _error(
    loc: tuple[str, ...], msg: str, kind: str, value: Any, ctx: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"loc": list(loc), "msg": msg, "type": kind, "input": _safe(value)}
    if ctx:
        error["ctx"] = dict(ctx)
    return error


def _safe(value: Any) -> Any:
    """Return ``value`` in a JSON-serialisable form (bytes are summarised)."""
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict):
        return {str(k): _safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe(v) for v in value]
    return value


class Validator:
    """Collects errors while reading fields from a request map."""

    def __init__(self, data: Mapping[str, Any], prefix: tuple[str, ...] = ("body",)) -> None:
        """Initialise over ``data``, with ``prefix`` at the start of every error location."""
        self.data = data
        self.prefix = prefix
        self.errors: ErrorList = []

    def fail(self, name: str, msg: str, kind: str, value: Any, **ctx: Any) -> None:
        """Record an error for field ``name``."""
        self.errors.append(_error((*self.prefix, *name.split(".")), msg, kind, value, ctx))

    def string(
        self, name: str, default: str | None = None, *, required: bool = False
    ) -> str | None:
        """Return a string field."""
        value = self.data.get(name)
        if value is None:
            if required:
                self.fail(name, "Field required", "missing", self.data.get(name))
            return default
        if not isinstance(value, str):
            self.fail(name, "Input should be a valid string", "string_type", value)
            return default
        return value

    def integer(self, name: str, default: int, lo: int | None = None, hi: int | None = None) -> int:
        """Return an integer field within ``lo``..``hi`` (booleans are not integers)."""
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                self.fail(name, "Input should be a valid integer", "int_type", value)
                return default
        return cast("int", self._range(name, value, lo, hi, default))

    def number(
        self, name: str, default: float, lo: float | None = None, hi: float | None = None
    ) -> float:
        """Return a float field (ints accepted) within ``lo``..``hi``."""
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(name, "Input should be a valid number", "float_type", value)
            return default
        return float(self._range(name, value, lo, hi, default))

    def _range(
        self, name: str, value: float, lo: float | None, hi: float | None, default: float
    ) -> float:
        if lo is not None and value < lo:
            self.fail(
                name,
                f"Input should be greater than or equal to {lo}",
                "greater_than_equal",
                value,
                ge=lo,
            )
            return default
        if hi is not None and value > hi:
            self.fail(
                name, f"Input should be less than or equal to {hi}", "less_than_equal", value, le=hi
            )
            return default
        return value

    def boolean(self, name: str, default: bool) -> bool:
        """Return a boolean field."""
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(name, "Input should be a valid boolean", "bool_type", value)
            return default
        return value

    def choice[T](self, name: str, default: T, allowed: Collection[T]) -> T:
        """Return a field that must be one of ``allowed``."""
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or value not in allowed:
            expected = ", ".join(repr(a) for a in allowed)
            self.fail(
                name, f"Input should be {expected}", "literal_error", value, expected=expected
            )
            return default
        return cast("T", value)


@dataclass(frozen=True, slots=True, kw_only=True)
class TtsSettings:
    """A validated TTS request."""

    text: str
    format: AudioFormat
    sample_rate: int
    mp3_bitrate: int
    opus_bitrate: int
    chunk_length: int
    latency: str
    speed: float
    volume: float
    reference_ids: tuple[str, ...]
    references: int
    normalize: bool
    normalize_loudness: bool
    temperature: float
    top_p: float
    speakers: int


def validate_tts(
    data: Any,
    *,
    model: str,
    prefix: tuple[str, ...] = ("body",),
    require_text: bool = True,
    json_body: bool = False,
) -> tuple[TtsSettings | None, ErrorList]:
    """Validate a ``TTSRequest`` map (HTTP body or WebSocket ``start.request``).

    Optional fields may be absent or nil (the WebSocket start event sends nil); unknown fields are
    ignored, as the real server does. Multi-speaker requests (``reference_id`` or ``references``
    given per speaker) are refused on models outside the S2 family, and, when the text is known
    (HTTP), unless the text's ``<|speaker:N|>`` tags name exactly speakers 0..n-1. Inline
    ``references`` are refused in a JSON body: they need msgpack's binary type.

    Args:
        data: The request map.
        model: The model the ``model`` header selected (after the fallback).
        prefix: The start of every error location.
        require_text: Whether ``text`` must be present (not in a live start event).
        json_body: Whether the map came from a JSON body.

    Returns:
        The settings, or None and the list of errors.
    """
    if not isinstance(data, Mapping):
        return None, [_error(prefix, "Input should be a valid dictionary", "dict_type", data)]
    v = Validator(data, prefix)
    text = v.string("text", "", required=require_text) or ""
    fmt = v.choice("format", "mp3", FORMATS)
    sample_rate = v.integer("sample_rate", DEFAULT_SAMPLE_RATES[fmt])
    if sample_rate not in SAMPLE_RATES[fmt]:
        allowed = ", ".join(str(rate) for rate in SAMPLE_RATES[fmt])
        v.fail(
            "sample_rate",
            f"Sample rate {sample_rate} is not supported for {fmt}; use one of {allowed}",
            "value_error",
            sample_rate,
        )
    mp3_bitrate = v.choice("mp3_bitrate", 128, MP3_BITRATES)
    opus_bitrate = v.choice("opus_bitrate", -1000, OPUS_BITRATES)
    chunk_length = v.integer("chunk_length", 300, 100, 300)
    latency = v.choice("latency", "normal", LATENCIES)
    normalize = v.boolean("normalize", default=True)
    temperature = v.number("temperature", 0.7, 0.0, 1.0)
    top_p = v.number("top_p", 0.7, 0.0, 1.0)
    v.integer("max_new_tokens", 1024, 1)
    v.number("repetition_penalty", 1.2, 0.0)
    v.integer("min_chunk_length", 50, 0, 100)
    v.boolean("condition_on_previous_chunks", default=True)
    v.number("early_stop_threshold", 1.0, 0.0, 1.0)

    speed, volume, normalize_loudness = _prosody(v, data.get("prosody"))
    reference_ids = _reference_ids(v, data.get("reference_id"))
    if json_body and data.get("references"):
        v.fail(
            "references",
            "Inline references carry raw audio: send the request as MessagePack, not JSON",
            "value_error",
            data.get("references"),
        )
        count, groups = 0, 0
    else:
        count, groups = _references(v, data.get("references"))
    speakers = _speakers(v, data, model, text if require_text else None, groups)

    if v.errors:
        return None, v.errors
    return (
        TtsSettings(
            text=text,
            format=fmt,
            sample_rate=sample_rate,
            mp3_bitrate=mp3_bitrate,
            opus_bitrate=opus_bitrate,
            chunk_length=chunk_length,
            latency=latency,
            speed=speed,
            volume=volume,
            reference_ids=reference_ids,
            references=count,
            normalize=normalize,
            normalize_loudness=normalize_loudness,
            temperature=temperature,
            top_p=top_p,
            speakers=speakers,
        ),
        [],
    )


def _speakers(
    v: Validator, data: Mapping[str, Any], model: str, text: str | None, groups: int
) -> int:
    """Return the number of speakers (1 unless multi-speaker) after checking its rules.

    Two or more ids in a list ``reference_id``, or two or more per-speaker ``references``
    groups, ask for dialogue; a list of one id is a single speaker.
    """
    reference_id = data.get("reference_id")
    count = len(reference_id) if isinstance(reference_id, list) else 0
    count = max(count, groups)
    if count < 2:
        return 1
    if model not in MULTI_SPEAKER_MODELS:
        v.fail(
            "reference_id",
            f"Multi-speaker synthesis is only available with the S2 family, not {model}",
            "value_error",
            reference_id,
        )
        return count
    if groups and isinstance(reference_id, list) and groups != len(reference_id):
        v.fail(
            "references",
            f"{groups} speaker reference groups for {len(reference_id)} reference ids",
            "value_error",
            groups,
        )
    if text is not None:
        used = {int(index) for index in SPEAKER_TAG.findall(text)}
        if used != set(range(count)):
            v.fail(
                "text",
                f"The text must tag each of the {count} speakers with <|speaker:0|> to "
                f"<|speaker:{count - 1}|>; found tags for {sorted(used) or 'none'}",
                "value_error",
                text,
            )
    return count


def _prosody(v: Validator, prosody: Any) -> tuple[float, float, bool]:
    """Return (speed, volume, normalize_loudness) from an optional ``prosody`` map.

    ``normalize_loudness`` is accepted on every model; on s1 it has no effect (OpenAPI
    ProsodyControl).
    """
    if prosody is None:
        return 1.0, 0.0, True
    if not isinstance(prosody, Mapping):
        v.fail("prosody", "Input should be a valid dictionary", "dict_type", prosody)
        return 1.0, 0.0, True
    pv = Validator(prosody, (*v.prefix, "prosody"))
    speed = pv.number("speed", 1.0, 0.5, 2.0)
    volume = pv.number("volume", 0.0, -20.0, 20.0)
    loudness = pv.boolean("normalize_loudness", default=True)
    v.errors += pv.errors
    return speed, volume, loudness


def _reference_ids(v: Validator, reference_id: Any) -> tuple[str, ...]:
    """Return the voice ids of ``reference_id`` (a string, or a list for multi-speaker)."""
    if reference_id is None:
        return ()
    if isinstance(reference_id, str):
        return (reference_id,)
    if isinstance(reference_id, list) and all(isinstance(r, str) for r in reference_id):
        return tuple(reference_id)
    v.fail("reference_id", "Input should be a valid string", "string_type", reference_id)
    return ()


def _references(v: Validator, references: Any) -> tuple[int, int]:
    """Validate inline references; return how many there are and how many speaker groups.

    The groups are 0 for the single-speaker form (a list of maps).
    """
    if references is None:
        return 0, 0
    if not isinstance(references, list):
        v.fail("references", "Input should be a valid list", "list_type", references)
        return 0, 0
    # Each item is {audio: bin, text: str}, or a list of those for multi-speaker.
    flat = [r for item in references for r in (item if isinstance(item, list) else [item])]
    for index, ref in enumerate(flat):
        if not (
            isinstance(ref, Mapping)
            and isinstance(ref.get("audio"), bytes)
            and isinstance(ref.get("text"), str)
        ):
            v.fail(
                f"references.{index}",
                "Reference must be a map with bytes 'audio' and string 'text'",
                "model_type",
                ref,
            )
    groups = sum(1 for item in references if isinstance(item, list))
    if groups and groups != len(references):
        v.fail(
            "references",
            "Use one form: a list of references, or a list of per-speaker lists",
            "value_error",
            references,
        )
    return len(flat), groups


def query_error(name: str, msg: str, kind: str, value: Any) -> dict[str, Any]:
    """Return one validation error located in the query string."""
    return _error(("query", name), msg, kind, value)
