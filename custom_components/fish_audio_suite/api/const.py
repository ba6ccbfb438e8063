"""Constants of the Fish Audio client: endpoints, limits and the reasons for defaults.

Every value that comes from the vendor's protocol says where: the API reference
(https://docs.fish.audio/api-reference, with its OpenAPI file openapi.json for REST and
asyncapi.yml for the live WebSocket) or the official Python SDK, fish-audio-sdk 1.3.0
(https://github.com/fishaudio/fish-audio-python).
"""

from __future__ import annotations

from typing import Any, Final

# Kept equal to manifest.json's "version": the User-Agent tells Fish Audio which release of
# the integration sent a request, which is what their support asks for first.
__version__: Final = "0.1.0"

DEFAULT_BASE_URL: Final = "https://api.fish.audio"

# Paths are absolute and, unlike TTS, carry no /v1 prefix for models and wallet (OpenAPI paths).
PATH_TTS: Final = "/v1/tts"
PATH_TTS_LIVE: Final = "/v1/tts/live"
PATH_TTS_TIMESTAMPS: Final = "/v1/tts/stream/with-timestamp"
PATH_VOICE_DESIGN: Final = "/v1/voice-design"
PATH_ASR: Final = "/v1/asr"
PATH_MODEL: Final = "/model"
PATH_CREDIT: Final = "/wallet/self/api-credit"
PATH_PACKAGE: Final = "/wallet/self/package"

CONTENT_TYPE_MSGPACK: Final = "application/msgpack"
CONTENT_TYPE_FORM: Final = "application/x-www-form-urlencoded"
CONTENT_TYPE_JSON: Final = "application/json"

# TTS backends sent in the `model` header (OpenAPI, TTS endpoint); the server falls back to
# s2.1-pro for unknown names, so the client forwards any string and these are the known ones.
MODELS: Final = ("s2.1-pro", "s2.1-pro-free", "s2-pro", "s1")
DEFAULT_MODEL: Final = "s2.1-pro"
# Fastest first, as a user weighs them: low, balanced (the SDK's default), normal (best quality).
LATENCIES: Final = ("low", "balanced", "normal")
FORMATS: Final = ("mp3", "wav", "opus", "pcm")
# Allowed sample rates per format (API reference, text-to-speech); None in a request means
# "the format's default".
SAMPLE_RATES: Final[dict[str, tuple[int, ...]]] = {
    "mp3": (32000, 44100),
    "wav": (8000, 16000, 24000, 32000, 44100),
    "pcm": (8000, 16000, 24000, 32000, 44100),
    "opus": (48000,),
}
# Bounds of the request's numeric settings (OpenAPI TTSRequest, ProsodyControl): prosody
# speed and volume (dB), sampling.
PROSODY_SPEED_RANGE: Final = (0.5, 2.0)
PROSODY_VOLUME_RANGE: Final = (-20.0, 20.0)
SAMPLING_RANGE: Final = (0.0, 1.0)  # temperature and top_p
CHUNK_LENGTH_RANGE: Final = (100, 300)
MP3_BITRATES: Final = (64, 128, 192)
# Conflict: the SDK sends kbps (32), the newer OpenAPI file says bps (32000). Both are
# accepted by the server, so both are accepted here; -1000 means "automatic".
OPUS_BITRATES: Final = (-1000, 24, 32, 48, 64, 24000, 32000, 48000, 64000)
# The enum the current OpenAPI file documents (bps); what the integration offers.
OPUS_BITRATES_BPS: Final = (-1000, 24000, 32000, 48000, 64000)
# Models that take multi-speaker dialogue and loudness normalisation (OpenAPI TTSRequest and
# ProsodyControl: the S2 family; on s1 normalize_loudness "has no effect").
S2_MODELS: Final = ("s2.1-pro", "s2.1-pro-free", "s2-pro")
VISIBILITIES: Final = ("public", "unlist", "private")
# The advanced TTS fields of SDK 1.3 (its TTSConfig). The API gives max_new_tokens no upper bound;
# 4096 tokens per text chunk is four times the default, far beyond any useful chunk.
MAX_NEW_TOKENS_MAX: Final = 4096
MAX_NEW_TOKENS_RANGE: Final = (1, MAX_NEW_TOKENS_MAX)
MIN_CHUNK_LENGTH_RANGE: Final = (0, 100)
EARLY_STOP_THRESHOLD_RANGE: Final = (0.0, 1.0)
# The API documents no bounds for repetition_penalty (default 1.2; above 1 repeats less).
# This range brackets the default widely and keeps a typo (12) from reaching the server.
REPETITION_PENALTY_RANGE: Final = (0.5, 2.0)

# Voice design (OpenAPI `VoiceDesignRequest`): the `model` header's only value, and limits.
VOICE_DESIGN_MODEL: Final = "voice-design-1"
VOICE_DESIGN_INSTRUCTION_MAX: Final = 2000
VOICE_DESIGN_REFERENCE_TEXT_MAX: Final = 150
VOICE_DESIGN_COUNT_MAX: Final = 4
VOICE_DESIGN_SPEED_MAX: Final = 3.0
SORT_BY: Final = ("score", "task_count", "created_at")

# Limits the API reference documents (speech-to-text, voice creation, rate limits). Checked
# client-side so that a doomed upload fails at once instead of after sending 20 MB.
ASR_MAX_BYTES: Final = 20 * 1024 * 1024
ASR_MAX_SECONDS: Final = 3600
ASR_MIN_SECONDS: Final = 1
CREATE_MAX_VOICES: Final = 20
CREATE_MAX_TEXTS: Final = 20
PAGE_SIZE_MAX: Final = 100

# Timeouts (seconds). The SDK uses 240 s for everything, which leaves a voice assistant
# hanging for four minutes on a dead network; 30 s bounds every REST call and each read of a
# stream (a per-read bound, not a total one: a long clip can take minutes to stream).
DEFAULT_REQUEST_TIMEOUT: Final = 30.0
# WebSocket keepalive: httpx-ws (the SDK) pings every 20 s. A ping keeps NAT/proxy
# state alive across multi-second gaps in LLM text and detects a dead peer.
LIVE_HEARTBEAT: Final = 20.0
# Bounds on the text of one live stream, so that an LLM that never ends cannot hold a
# connection and a slot for ever. The API documents no maximum text length (OpenAPI
# TTSRequest); a live stream speaks one assistant reply, which its LLM's max_tokens setting
# caps at a few thousand tokens. 20,000 characters is about 5,000 tokens of English and over
# 20 minutes of speech: more than any spoken reply, and with it the stream's byte cap and
# total deadline are finite (_bounds.py).
LIVE_TEXT_MAX_CHARS: Final = 20_000
# Longest wait for the next piece of text. An LLM pauses while it calls a tool (a script, a
# web search) and speaks on afterwards; a minute of silence from it is a hung agent.
LIVE_TEXT_TIMEOUT: Final = 60.0
# How long closing a WebSocket may wait for the server's close frame: the Go SDK notes the
# server often closes without one (fish-audio-go), and aclose() must return promptly.
LIVE_CLOSE_TIMEOUT: Final = 2.0
# Audio events are small, but aiohttp's 4 MiB default would kill a stream on one large
# frame; the server is trusted more than that, without being unbounded.
LIVE_MAX_MSG_SIZE: Final = 32 * 1024 * 1024

# Retry policy: the API reference asks clients to retry 429 and 5xx with exponential
# backoff. 500 is left out: it usually means the request itself breaks the server.
DEFAULT_MAX_RETRIES: Final = 3
DEFAULT_MAX_CONCURRENCY: Final = (
    5  # the Starter plan's concurrent-request limit (API reference, rate limits)
)
RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})
RETRY_BACKOFF_BASE: Final = 0.5
RETRY_BACKOFF_MAX: Final = 8.0
# A server asking for minutes is better answered with an error the user sees than a hang.
RETRY_AFTER_MAX: Final = 30.0

# Server-provided text copied into exception messages is cut to this many characters so a
# stray HTML error page cannot flood logs and the UI.
ERROR_MESSAGE_MAX: Final = 500
# Server-provided names (voice titles, author names) are cut to this many characters: a
# picker label, a device name or an entry in Assist's voice list is one short line.
NAME_MAX: Final = 100

# Largest piece of HTTP audio read at once. A read returns whatever has arrived (up to this), so
# it never delays the first audio; a larger size only means fewer reads, and each read arms a
# timeout: at 4 KiB that timer churn made CPU per MB 1.8x the floor's (benchmarks/README.md).
TTS_READ_SIZE: Final = 65536
# Largest Server-Sent Events message accepted from the timestamp stream: one message holds one
# audio chunk as base64 plus its text and alignment; the vendor's example chunks are a few KiB.
SSE_EVENT_MAX: Final = 8 * 1024 * 1024

# A self-hosted Fish Speech server (api/fish_speech.py): what it makes and the bounds of its
# request model (fish_speech/utils/schema.py: ServeTTSRequest of fishaudio/fish-speech). Here,
# not in the client, so that the integration's forms read them without loading the client.
# max_new_tokens has no bound there: 0 means "until the model stops", and the cap keeps a
# typo from running for minutes.
SPEECH_FORMATS: Final = ("wav", "mp3")  # soundfile has no pcm/opus writer: the server fails
# The server's defaults (ServeTTSRequest): FishSpeechTTSOptions's, and the voice form's.
SPEECH_DEFAULTS: Final[dict[str, Any]] = {
    "format": "wav",
    "temperature": 0.8,
    "top_p": 0.8,
    "repetition_penalty": 1.1,
    "max_new_tokens": 1024,
    "chunk_length": 200,
}
SPEECH_SETTING_RANGES: Final[dict[str, tuple[float, float]]] = {
    "temperature": (0.1, 1.0),
    "top_p": (0.1, 1.0),
    "repetition_penalty": (0.9, 2.0),
    "max_new_tokens": (0, 8192),
    "chunk_length": (100, 1000),
}
