"""The voice settings of Fish Audio Suite: one table, and everything derived from it.

Each entry says what a setting is (key, type, range or choices, default), who takes it
(models, backends), where it is offered (the voice subentry, its collapsed advanced section,
or per call only) and which `TTSOptions` field carries it to the client. The subentry form,
the per-call option checks of the TTS entity, the `synthesize` action's schema, the entity's
`default_options` and the request builder (`tts_options`) are all derived from `VOICE_SETTINGS`:
adding a setting is one entry here plus its translations.

The bounds themselves are the client's (`api/const.py`), which checks every request it sends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, Literal

from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

# The client's constants (what the API takes and its bounds), read as `api_const.NAME`.
from .api import TTSOptions, const as api_const, is_voice_id
from .const import (
    BACKEND_FISH_AUDIO,
    BACKEND_FISH_SPEECH,
    CONF_FORMAT,
    CONF_MODEL,
    CONF_VOICE_ID,
    DOMAIN,
)
from .helpers import coerce_int

if TYPE_CHECKING:
    from .api.fish_speech import FishSpeechTTSOptions

# "integer": a whole number in a range; "voices": a list of voice ids (dialogue speakers).
type SettingKind = Literal["voice", "choice", "number", "integer", "boolean", "voices"]
type SettingValue = str | float | int | bool

# Every rate some format takes (API reference, text-to-speech); the format's own list is
# checked when both are known.
ALL_SAMPLE_RATES: Final = tuple(
    sorted({rate for rates in api_const.SAMPLE_RATES.values() for rate in rates})
)
# Voices in one dialogue: the API documents no limit; more than a handful in one clip is a
# mistake, and each is a voice the server must load.
SPEAKERS_MAX: Final = 10
_ONLY_CLOUD: Final = frozenset({BACKEND_FISH_AUDIO})
_S2: Final = frozenset(api_const.S2_MODELS)

# Home Assistant's `tts.speak` option for the voice (homeassistant.components.tts.ATTR_VOICE),
# spelled out so that the config flow does not import the TTS component.
ATTR_VOICE: Final = "voice"
ALL_BACKENDS: Final = frozenset({BACKEND_FISH_AUDIO, BACKEND_FISH_SPEECH})
# A self-hosted Fish Speech server takes what its request model has (ServeTTSRequest): the
# sampling settings with bounds of its own, wav or mp3, a seed; its `latency` and
# `normalize` are accepted and unused, so they are not offered.
_ONLY_LOCAL: Final = frozenset({BACKEND_FISH_SPEECH})
# Its defaults are the server's own (SPEECH_DEFAULTS, the client's FishSpeechTTSOptions's).
# The voice form's collapsed section (less-used fields sit in a collapsed section).
SECTION_ADVANCED: Final = "advanced"


class VoiceSetting:
    """One voice setting: what it is, who takes it, where it is offered. Read-only by use.

    A plain slotted class: with fifteen fields a NamedTuple (the table's earlier form) costs
    about 0.2 ms of import, a frozen dataclass several times that, this class a twentieth
    (benchmarks/README.md, import time). Built by keyword only.
    """

    __slots__ = (
        "advanced",
        "backends",
        "call_key",
        "choices",
        "default",
        "high",
        "key",
        "kind",
        "low",
        "models",
        "option",
        "step",
        "subentry",
        "translated_choices",
        "unit",
    )

    def __init__(
        self,
        *,
        key: str,
        kind: SettingKind,
        default: SettingValue | None,
        option: str,
        call_key: str | None = None,
        choices: tuple[SettingValue, ...] = (),
        translated_choices: bool = True,
        low: float = 0.0,
        high: float = 0.0,
        step: float = 1.0,
        unit: str | None = None,
        models: frozenset[str] | None = None,
        backends: frozenset[str] = ALL_BACKENDS,
        advanced: bool = False,
        subentry: bool = True,
    ) -> None:
        """Describe the setting (the table below is the only place that builds them)."""
        self.key = key  # subentry data and `synthesize` field (public names)
        self.kind = kind
        self.default = default
        self.option = option  # the TTSOptions field that carries it to the client
        self.call_key = call_key  # the `tts.speak` option, when it differs from `key`
        self.choices = choices
        # Choices named through the `selector` translations; hassfest refuses a dot in a key.
        self.translated_choices = translated_choices
        self.low = low
        self.high = high
        self.step = step
        self.unit = unit
        self.models = models  # None: every model
        self.backends = backends
        self.advanced = advanced  # in the form's collapsed section
        self.subentry = subentry  # False: per-call only (not in the form nor default_options)

    def __repr__(self) -> str:
        """Name the setting (test reports, logs)."""
        return f"VoiceSetting({self.key!r})"

    @property
    def per_call_key(self) -> str:
        """Return the key of the setting in `tts.speak` options."""
        return self.call_key or self.key

    def takes(self, model: str) -> bool:
        """Return whether the model takes this setting."""
        return self.models is None or model in self.models


VOICE_SETTINGS: Final[tuple[VoiceSetting, ...]] = (
    # An empty voice id is Fish Audio's default voice; per call the key is HA's `voice`.
    VoiceSetting(
        key=CONF_VOICE_ID, call_key=ATTR_VOICE, kind="voice", default="", option="reference_id"
    ),
    # A self-hosted server serves the one model it was started with: no model to choose.
    VoiceSetting(
        key=CONF_MODEL,
        kind="choice",
        choices=api_const.MODELS,
        translated_choices=False,  # s2.1-pro: the field's description names the models
        default="s2.1-pro",  # the vendor's recommended model and the server's fallback
        option="model",
        backends=frozenset({BACKEND_FISH_AUDIO}),
    ),
    VoiceSetting(
        key="latency",
        kind="choice",
        choices=api_const.LATENCIES,
        default="balanced",  # the SDK's default: the server's "normal" adds delay
        option="latency",
        backends=_ONLY_CLOUD,
    ),
    VoiceSetting(
        key="speed",
        kind="number",
        low=api_const.PROSODY_SPEED_RANGE[0],
        high=api_const.PROSODY_SPEED_RANGE[1],
        step=0.05,
        default=1.0,
        option="speed",
        backends=frozenset({BACKEND_FISH_AUDIO}),  # Fish Speech has no prosody
    ),
    VoiceSetting(
        key="volume",
        kind="number",
        low=api_const.PROSODY_VOLUME_RANGE[0],
        high=api_const.PROSODY_VOLUME_RANGE[1],
        step=0.5,
        unit="dB",
        default=0.0,
        option="volume",
        backends=frozenset({BACKEND_FISH_AUDIO}),
    ),
    VoiceSetting(
        key="temperature",
        kind="number",
        low=api_const.SAMPLING_RANGE[0],
        high=api_const.SAMPLING_RANGE[1],
        step=0.05,
        default=0.7,
        option="temperature",
        advanced=True,
        backends=_ONLY_CLOUD,
    ),
    VoiceSetting(
        key="top_p",
        kind="number",
        low=api_const.SAMPLING_RANGE[0],
        high=api_const.SAMPLING_RANGE[1],
        step=0.05,
        default=0.7,
        option="top_p",
        advanced=True,
        backends=_ONLY_CLOUD,
    ),
    VoiceSetting(
        key="normalize",
        kind="boolean",
        default=True,
        option="normalize",
        advanced=True,
        backends=_ONLY_CLOUD,
    ),
    VoiceSetting(
        key=CONF_FORMAT,
        kind="choice",
        choices=api_const.FORMATS,
        default="mp3",  # every media player plays it
        option="format",
        backends=_ONLY_CLOUD,
    ),
    # --- a self-hosted Fish Speech server (the same keys where the meaning is the same)
    VoiceSetting(
        key=CONF_FORMAT,
        kind="choice",
        choices=api_const.SPEECH_FORMATS,
        default=api_const.SPEECH_DEFAULTS["format"],  # wav: the server streams only WAV
        option="format",
        backends=_ONLY_LOCAL,
    ),
    *(
        VoiceSetting(
            key=key,
            kind="integer" if isinstance(api_const.SPEECH_DEFAULTS[key], int) else "number",
            low=low,
            high=high,
            step=1 if isinstance(api_const.SPEECH_DEFAULTS[key], int) else 0.05,
            default=api_const.SPEECH_DEFAULTS[key],
            option=key,
            advanced=True,
            backends=_ONLY_LOCAL,
        )
        for key, (low, high) in api_const.SPEECH_SETTING_RANGES.items()
    ),
    # No default: random unless the voice fixes it (same text, same sound).
    VoiceSetting(
        key="seed",
        kind="integer",
        low=0,
        high=2**31 - 1,
        default=None,
        option="seed",
        advanced=True,
        backends=_ONLY_LOCAL,
    ),
    # Consistent loudness between voices; the S2 family only (on s1 it has no effect).
    VoiceSetting(
        key="normalize_loudness",
        kind="boolean",
        default=True,
        option="normalize_loudness",
        models=_S2,
        backends=_ONLY_CLOUD,
    ),
    VoiceSetting(
        key="mp3_bitrate",
        kind="choice",
        choices=api_const.MP3_BITRATES,
        translated_choices=False,  # numbers; the description gives the unit (kbit/s)
        default=128,
        option="mp3_bitrate",
        advanced=True,
        backends=_ONLY_CLOUD,
    ),
    VoiceSetting(
        key="opus_bitrate",
        kind="choice",
        choices=api_const.OPUS_BITRATES_BPS,
        translated_choices=False,  # numbers in bit/s; -1000 is automatic
        default=-1000,
        option="opus_bitrate",
        advanced=True,
        backends=_ONLY_CLOUD,
    ),
    # None: the format's own default rate (44.1 kHz, 48 kHz for opus).
    VoiceSetting(
        key="sample_rate",
        kind="choice",
        choices=ALL_SAMPLE_RATES,
        translated_choices=False,
        default=None,
        option="sample_rate",
        advanced=True,
        backends=_ONLY_CLOUD,
    ),
    # Per call only: a dialogue's voices, one per `<|speaker:N|>` tag.
    VoiceSetting(
        key="speakers",
        kind="voices",
        default=None,
        option="speakers",
        models=_S2,
        backends=_ONLY_CLOUD,
        subentry=False,
    ),
    # The advanced request fields of SDK 1.3, per call only; None leaves the server's default.
    VoiceSetting(
        key="max_new_tokens",
        kind="integer",
        low=api_const.MAX_NEW_TOKENS_RANGE[0],
        high=api_const.MAX_NEW_TOKENS_RANGE[1],
        default=None,
        option="max_new_tokens",
        backends=_ONLY_CLOUD,
        subentry=False,
    ),
    VoiceSetting(
        key="repetition_penalty",
        kind="number",
        low=api_const.REPETITION_PENALTY_RANGE[0],
        high=api_const.REPETITION_PENALTY_RANGE[1],
        default=None,
        option="repetition_penalty",
        backends=_ONLY_CLOUD,
        subentry=False,
    ),
    VoiceSetting(
        key="min_chunk_length",
        kind="integer",
        low=api_const.MIN_CHUNK_LENGTH_RANGE[0],
        high=api_const.MIN_CHUNK_LENGTH_RANGE[1],
        default=None,
        option="min_chunk_length",
        backends=_ONLY_CLOUD,
        subentry=False,
    ),
    VoiceSetting(
        key="condition_on_previous_chunks",
        kind="boolean",
        default=None,
        option="condition_on_previous_chunks",
        backends=_ONLY_CLOUD,
        subentry=False,
    ),
    VoiceSetting(
        key="early_stop_threshold",
        kind="number",
        low=api_const.EARLY_STOP_THRESHOLD_RANGE[0],
        high=api_const.EARLY_STOP_THRESHOLD_RANGE[1],
        default=None,
        option="early_stop_threshold",
        backends=_ONLY_CLOUD,
        subentry=False,
    ),
)


# Consumers call the functions below rather than read VOICE_SETTINGS when they are imported,
# so each of them sees the table as it is (a test adds an entry and checks them all).


def settings_for(backend: str = BACKEND_FISH_AUDIO) -> tuple[VoiceSetting, ...]:
    """Return the settings a backend takes (a key appears once per backend)."""
    return tuple(setting for setting in VOICE_SETTINGS if backend in setting.backends)


def per_call_settings(backend: str = BACKEND_FISH_AUDIO) -> dict[str, VoiceSetting]:
    """Return every setting of a backend by its `tts.speak` option key."""
    return {setting.per_call_key: setting for setting in settings_for(backend)}


def subentry_settings(backend: str = BACKEND_FISH_AUDIO) -> tuple[VoiceSetting, ...]:
    """Return the settings a voice subentry of a backend stores."""
    return tuple(setting for setting in settings_for(backend) if setting.subentry)


def voice_defaults(backend: str = BACKEND_FISH_AUDIO) -> dict[str, SettingValue]:
    """Return every subentry setting of a backend with its default."""
    return {
        setting.key: setting.default
        for setting in subentry_settings(backend)
        if setting.default is not None
    }


# The defaults of the table as shipped: a voice's settings start from these.
VOICE_DEFAULTS: Final = voice_defaults()


# ---------------------------------------------------------------------- validation


def _number(low: float, high: float) -> Callable[[Any], float]:
    """Return a validator for a number in [low, high] (YAML may hand over a string)."""

    def validate(value: Any) -> float:
        if isinstance(value, bool):  # float(True) is 1.0: not what the user meant
            raise vol.Invalid("not a number")
        try:
            number = float(value)
        except (TypeError, ValueError) as err:
            raise vol.Invalid("not a number") from err
        if not low <= number <= high:  # also rejects NaN
            raise vol.Invalid("out of range")
        return number

    return validate


def _integer(low: float, high: float) -> Callable[[Any], int]:
    """Return a validator for a whole number in [low, high] ("512" and 512.0 accepted)."""
    number = _number(low, high)

    def validate(value: Any) -> int:
        result = number(value)
        if not result.is_integer():
            raise vol.Invalid("not a whole number")
        return int(result)

    return validate


def _voice_id(value: str) -> str:
    """Return a voice id of the API's shape (the client refuses others), or refuse it."""
    if not is_voice_id(value):
        raise vol.Invalid("not a Fish Audio voice id")
    return value


# A dialogue's voice ids.
_VOICE_IDS: Final = vol.All(
    cv.ensure_list,
    [vol.All(cv.string, _voice_id)],
    vol.Length(min=1, max=SPEAKERS_MAX),
)


def validator(setting: VoiceSetting) -> Callable[[Any], Any]:
    """Return the validator of a setting's value (per-call options, `synthesize`)."""
    match setting.kind:
        case "choice" if all(isinstance(choice, int) for choice in setting.choices):
            # Numeric choices (bitrates): the form and YAML may hand over "128".
            return vol.All(coerce_int, vol.In(setting.choices))
        case "choice":
            return vol.In(setting.choices)
        case "number":
            return _number(setting.low, setting.high)
        case "integer":
            return _integer(setting.low, setting.high)
        case "boolean":
            return cv.boolean
        case "voices":
            return _VOICE_IDS
        case "voice":
            return cv.string


def invalid_value_error(setting: VoiceSetting) -> tuple[str, dict[str, str]]:
    """Return the translation key and placeholders that explain a refused value."""
    match setting.kind:
        case "choice":
            return "invalid_option_choice", {
                "choices": ", ".join(str(choice) for choice in setting.choices)
            }
        case "number" | "integer":
            return "invalid_option_range", {"min": f"{setting.low:g}", "max": f"{setting.high:g}"}
        case "boolean":
            return "invalid_option_boolean", {}
        case "voices":
            return "invalid_option_voices", {"max": str(SPEAKERS_MAX)}
        case "voice":
            return "invalid_option_text", {}


def call_values(options: Mapping[str, Any], backend: str = BACKEND_FISH_AUDIO) -> dict[str, Any]:
    """Return the voice settings a TTS call's options give (by setting key), each checked.

    ``options`` are the entity's default options with the call's own on top; a per-call-only
    setting the call does not give is left out.

    Raises:
        ServiceValidationError: A value its setting does not take, naming option and value.
    """
    values: dict[str, Any] = {}
    for key, setting in per_call_settings(backend).items():
        if key not in options:
            continue
        try:
            values[setting.key] = validator(setting)(options[key])
        except vol.Invalid as err:
            translation_key, placeholders = invalid_value_error(setting)
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key=translation_key,
                translation_placeholders={
                    "option": key,
                    "value": str(options[key]),
                    **placeholders,
                },
            ) from err
    return values


def settings_in(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the voice settings that ``data`` (an action call's fields) gives."""
    return {setting.key: data[setting.key] for setting in VOICE_SETTINGS if setting.key in data}


def not_for_model(settings: Mapping[str, Any], model: str) -> VoiceSetting | None:
    """Return a setting given a non-default value that the model does not take, if any."""
    for setting in VOICE_SETTINGS:
        if (
            not setting.takes(model)
            and setting.key in settings
            and settings[setting.key] != setting.default
        ):
            return setting
    return None


def synthesize_fields() -> dict[Any, Any]:
    """Return the voice-setting fields of the `synthesize` action's schema.

    One action serves every backend: a key two backends share is checked here as the cloud
    takes it (the wider bounds), and again by the chosen backend's request builder.
    """
    fields: dict[str, Callable[[Any], Any]] = {}
    for setting in VOICE_SETTINGS:
        fields.setdefault(setting.key, validator(setting))
    return {vol.Optional(key): check for key, check in fields.items()}


# ------------------------------------------------------------------ request builder


def tts_options(settings: Mapping[str, Any]) -> TTSOptions:
    """Build the request settings from voice settings (subentry data and per-call options).

    Missing settings take their defaults; an empty voice id means Fish Audio's default
    voice. A setting the chosen model does not take is not sent.

    Raises:
        ValueError: A value the API would refuse.
    """
    merged = {**voice_defaults(), **settings}
    model = str(merged[CONF_MODEL])
    fields: dict[str, Any] = {}
    for setting in settings_for(BACKEND_FISH_AUDIO):
        value = merged.get(setting.key)
        if value is None or not setting.takes(model):
            continue
        match setting.kind:
            case "voice":
                fields[setting.option] = str(value) or None
            case "number":
                fields[setting.option] = float(value)
            case "integer":
                fields[setting.option] = int(value)
            case "boolean":
                fields[setting.option] = bool(value)
            case "voices":
                fields[setting.option] = tuple(str(voice) for voice in value)
            case "choice":
                fields[setting.option] = value
    return TTSOptions(**fields)


def speech_options(settings: Mapping[str, Any]) -> FishSpeechTTSOptions:
    """Build a Fish Speech server's request settings from voice settings.

    Missing settings take the server's defaults; an empty voice id is the model's default
    voice (no reference).

    Raises:
        ValueError: A value the server would refuse (TypeError: a count that is not whole).
    """
    from .api.fish_speech import FishSpeechTTSOptions  # noqa: PLC0415 - its entries load it

    merged = {**voice_defaults(BACKEND_FISH_SPEECH), **settings}
    fields: dict[str, Any] = {}
    for setting in settings_for(BACKEND_FISH_SPEECH):
        value = merged.get(setting.key)
        if value is None:
            continue
        match setting.kind:
            case "voice":
                fields[setting.option] = str(value) or None
            case "number":
                fields[setting.option] = float(value)
            case "integer":
                number = float(value)
                if not number.is_integer():
                    raise TypeError(f"{setting.key} must be a whole number")
                fields[setting.option] = int(number)
            case _:
                fields[setting.option] = value
    return FishSpeechTTSOptions(**fields)
