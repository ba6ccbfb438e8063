"""Constants of the Fish Audio Suite integration."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final, Literal

from homeassistant.const import Platform

DOMAIN: Final = "fish_audio_suite"
LOGGER = logging.getLogger(__package__)

PLATFORMS: Final = [Platform.SENSOR, Platform.STT, Platform.TTS]

# Account entry data (public names: automations and stored entries use them).
CONF_BASE_URL: Final = "base_url"
# Which server an entry talks to ; entries without the key are Fish Audio's cloud.
CONF_BACKEND: Final = "backend"
BACKEND_FISH_AUDIO: Final = "fish_audio"
BACKEND_FISH_SPEECH: Final = "fish_speech"
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

# Voice subentry (public names: automations and stored entries use them).
SUBENTRY_VOICE: Final = "voice"
CONF_NAME: Final = "name"
# The voice settings that code refers to by name; every setting, with its range and default,
# is an entry of the table in voice_settings.py.
CONF_VOICE_ID: Final = "voice_id"
CONF_MODEL: Final = "model"
CONF_FORMAT: Final = "format"
CONF_SAMPLE_RATE: Final = "sample_rate"

# Credit and package change only through usage, ours or another client's; every few minutes is
# enough for a dashboard, and usage through this integration triggers an extra refresh.
UPDATE_INTERVAL: Final = timedelta(minutes=5)
# The account's voices change only when someone makes or deletes one: our actions refresh the
# list at once, so the interval only bounds how long a voice made on fish.audio takes to show.
VOICES_UPDATE_INTERVAL: Final = timedelta(minutes=30)
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

# The subtitle formats `synthesize` writes (subtitles.py): here, so that the action's schema
# does not load the writer.
type SubtitleFormat = Literal["srt", "vtt"]
SUBTITLE_FORMATS: Final[tuple[SubtitleFormat, ...]] = ("srt", "vtt")
