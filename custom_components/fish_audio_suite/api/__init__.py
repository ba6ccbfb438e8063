"""Pure async client for the Fish Audio API: no Home Assistant import anywhere.

Everything a caller needs is re-exported here. The self-hosted Fish Speech client
(``fish_speech.py``) is loaded on first use of one of its names: a setup without such a server
never pays for importing it. The live WebSocket stream (``live.py``) is loaded by the client,
in the executor, when the first live stream starts.
"""

from typing import TYPE_CHECKING, Any

from ._errors import sanitise
from .client import FishAudioClient, is_voice_id
from .const import (
    ASR_MAX_BYTES,
    ASR_MAX_SECONDS,
    ASR_MIN_SECONDS,
    CREATE_MAX_VOICES,
    DEFAULT_BASE_URL,
    EARLY_STOP_THRESHOLD_RANGE,
    FORMATS,
    LATENCIES,
    MAX_NEW_TOKENS_RANGE,
    MIN_CHUNK_LENGTH_RANGE,
    MODELS,
    MP3_BITRATES,
    NAME_MAX,
    OPUS_BITRATES_BPS,
    PAGE_SIZE_MAX,
    PROSODY_SPEED_RANGE,
    PROSODY_VOLUME_RANGE,
    REPETITION_PENALTY_RANGE,
    S2_MODELS,
    SAMPLE_RATES,
    SAMPLING_RANGE,
    VOICE_DESIGN_COUNT_MAX,
    VOICE_DESIGN_INSTRUCTION_MAX,
    VOICE_DESIGN_REFERENCE_TEXT_MAX,
    VOICE_DESIGN_SPEED_MAX,
    __version__,
)
from .exceptions import (
    FishAudioAuthenticationError,
    FishAudioConnectionError,
    FishAudioError,
    FishAudioInsufficientCreditError,
    FishAudioInvalidResponseError,
    FishAudioNotFoundError,
    FishAudioPermissionError,
    FishAudioRateLimitError,
    FishAudioRequestError,
    FishAudioResponseError,
    FishAudioServerError,
    FishAudioTextStreamError,
    FishAudioTimeoutError,
    FishAudioWebSocketError,
    FishSpeechNotServerError,
)
from .models import (
    ASRResult,
    ASRSegment,
    AudioFormat,
    Credit,
    FlushPolicy,
    Latency,
    Package,
    ReferenceAudio,
    Timeline,
    TimestampAlignment,
    TimestampEvent,
    TTSOptions,
    Voice,
    VoiceAuthor,
    VoiceDesignCandidate,
    VoicePage,
    VoiceSample,
)

if TYPE_CHECKING:
    from .fish_speech import FishSpeechClient, FishSpeechTTSOptions

_LAZY = frozenset({"FishSpeechClient", "FishSpeechTTSOptions"})


def __getattr__(name: str) -> Any:
    """Return a name of the Fish Speech client, importing it on first use."""
    if name in _LAZY:
        from . import fish_speech  # noqa: PLC0415 - on first use only, see the docstring

        return getattr(fish_speech, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ASR_MAX_BYTES",
    "ASR_MAX_SECONDS",
    "ASR_MIN_SECONDS",
    "CREATE_MAX_VOICES",
    "DEFAULT_BASE_URL",
    "EARLY_STOP_THRESHOLD_RANGE",
    "FORMATS",
    "LATENCIES",
    "MAX_NEW_TOKENS_RANGE",
    "MIN_CHUNK_LENGTH_RANGE",
    "MODELS",
    "MP3_BITRATES",
    "NAME_MAX",
    "OPUS_BITRATES_BPS",
    "PAGE_SIZE_MAX",
    "PROSODY_SPEED_RANGE",
    "PROSODY_VOLUME_RANGE",
    "REPETITION_PENALTY_RANGE",
    "S2_MODELS",
    "SAMPLE_RATES",
    "SAMPLING_RANGE",
    "VOICE_DESIGN_COUNT_MAX",
    "VOICE_DESIGN_INSTRUCTION_MAX",
    "VOICE_DESIGN_REFERENCE_TEXT_MAX",
    "VOICE_DESIGN_SPEED_MAX",
    "ASRResult",
    "ASRSegment",
    "AudioFormat",
    "Credit",
    "FishAudioAuthenticationError",
    "FishAudioClient",
    "FishAudioConnectionError",
    "FishAudioError",
    "FishAudioInsufficientCreditError",
    "FishAudioInvalidResponseError",
    "FishAudioNotFoundError",
    "FishAudioPermissionError",
    "FishAudioRateLimitError",
    "FishAudioRequestError",
    "FishAudioResponseError",
    "FishAudioServerError",
    "FishAudioTextStreamError",
    "FishAudioTimeoutError",
    "FishAudioWebSocketError",
    "FishSpeechClient",
    "FishSpeechNotServerError",
    "FishSpeechTTSOptions",
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
    "__version__",
    "is_voice_id",
    "sanitise",
]
