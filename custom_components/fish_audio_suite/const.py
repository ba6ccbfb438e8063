"""Constants of the Fish Audio Suite integration."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

from homeassistant.const import Platform

DOMAIN: Final = "fish_audio_suite"
LOGGER = logging.getLogger(__package__)

PLATFORMS: Final = [Platform.SENSOR, Platform.STT, Platform.TTS]

# Account entry data (DESIGN.md section 4: public names).
CONF_BASE_URL: Final = "base_url"
DEFAULT_BASE_URL: Final = "https://api.fish.audio"

# Account entry options.
CONF_STT_LANGUAGE_MODE: Final = "stt_language_mode"
STT_LANGUAGE_AUTO: Final = "auto"
STT_LANGUAGE_PIPELINE: Final = "pipeline"
STT_LANGUAGE_MODES: Final = [STT_LANGUAGE_PIPELINE, STT_LANGUAGE_AUTO]
# The API treats the language as a hint; passing the pipeline's language is what most users
# expect (an English pipeline should not transcribe as another language on a short utterance).
DEFAULT_STT_LANGUAGE_MODE: Final = STT_LANGUAGE_PIPELINE
CONF_LOW_CREDIT_THRESHOLD: Final = "low_credit_threshold"
DEFAULT_LOW_CREDIT_THRESHOLD: Final = 1.0  # USD: about 66 000 characters of paid speech

# Voice subentry (DESIGN.md section 4: public names).
SUBENTRY_VOICE: Final = "voice"
CONF_NAME: Final = "name"
CONF_VOICE_ID: Final = "voice_id"
CONF_MODEL: Final = "model"
CONF_LATENCY: Final = "latency"
CONF_SPEED: Final = "speed"
CONF_VOLUME: Final = "volume"
CONF_TEMPERATURE: Final = "temperature"
CONF_TOP_P: Final = "top_p"
CONF_NORMALIZE: Final = "normalize"
CONF_FORMAT: Final = "format"

MODELS: Final = ["s2.1-pro", "s2.1-pro-free", "s2-pro", "s1"]
LATENCIES: Final = ["low", "normal", "balanced"]
FORMATS: Final = ["mp3", "wav", "opus", "pcm"]

DEFAULT_MODEL: Final = "s2.1-pro"  # the vendor's recommended model and the server's fallback
DEFAULT_LATENCY: Final = "balanced"  # the SDK's default: the server's "normal" adds delay
DEFAULT_SPEED: Final = 1.0
DEFAULT_VOLUME: Final = 0.0
DEFAULT_TEMPERATURE: Final = 0.7
DEFAULT_TOP_P: Final = 0.7
DEFAULT_NORMALIZE: Final = True
DEFAULT_FORMAT: Final = "mp3"  # every media player plays it

SPEED_RANGE: Final = (0.5, 2.0)
VOLUME_RANGE: Final = (-20.0, 20.0)

# Every subentry setting with its default: the TTS entity's default_options, so all of them are
# part of Home Assistant's TTS cache key and a changed setting never replays stale audio.
VOICE_DEFAULTS: Final[dict[str, str | float | bool]] = {
    CONF_VOICE_ID: "",
    CONF_MODEL: DEFAULT_MODEL,
    CONF_LATENCY: DEFAULT_LATENCY,
    CONF_SPEED: DEFAULT_SPEED,
    CONF_VOLUME: DEFAULT_VOLUME,
    CONF_TEMPERATURE: DEFAULT_TEMPERATURE,
    CONF_TOP_P: DEFAULT_TOP_P,
    CONF_NORMALIZE: DEFAULT_NORMALIZE,
    CONF_FORMAT: DEFAULT_FORMAT,
}

# Credit and package change only through usage, ours or another client's; every few minutes is
# enough for a dashboard, and usage through this integration triggers an extra refresh.
UPDATE_INTERVAL: Final = timedelta(minutes=5)
# Usage is billed a moment after the request ends; refresh shortly after, debounced.
USAGE_REFRESH_DELAY: Final = 10.0

# The public voices shown in the picker next to the account's own ones.
POPULAR_VOICES_COUNT: Final = 30
OWN_VOICES_LIMIT: Final = 100  # the API's maximum page size

BILLING_URL: Final = "https://fish.audio/app/billing/"
ISSUE_INSUFFICIENT_CREDIT: Final = "insufficient_credit"

# Languages the Fish Audio models speak (vendor docs: S2 family), in the forms Home Assistant
# uses. A pipeline offers an engine only if its language list holds the pipeline's language
# exactly, so the regional forms HA's own language picker produces are listed too.
BASE_LANGUAGES: Final = [
    "ar", "bg", "ca", "cs", "da", "de", "el", "en", "es", "et", "fa", "fi", "fr", "he", "hi",
    "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "nb", "nl", "no", "pl", "pt", "ro",
    "ru", "sk", "sl", "sr", "sv", "sw", "th", "tr", "uk", "ur", "vi", "zh",
]  # fmt: skip
REGIONAL_LANGUAGES: Final = [
    "ar-AE", "ar-SA", "ca-ES", "cs-CZ", "da-DK", "de-AT", "de-CH", "de-DE", "el-GR", "en-AU",
    "en-CA", "en-GB", "en-IE", "en-IN", "en-NZ", "en-US", "en-ZA", "es-AR", "es-ES", "es-MX",
    "es-US", "fi-FI", "fr-BE", "fr-CA", "fr-CH", "fr-FR", "he-IL", "hi-IN", "hu-HU", "id-ID",
    "it-IT", "ja-JP", "ko-KR", "nb-NO", "nl-BE", "nl-NL", "pl-PL", "pt-BR", "pt-PT", "ro-RO",
    "ru-RU", "sk-SK", "sv-SE", "th-TH", "tr-TR", "uk-UA", "vi-VN", "zh-CN", "zh-HK", "zh-TW",
]  # fmt: skip
SUPPORTED_LANGUAGES: Final = sorted({*BASE_LANGUAGES, *REGIONAL_LANGUAGES})
DEFAULT_LANGUAGE: Final = "en"
