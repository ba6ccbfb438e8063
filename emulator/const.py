"""Constants of the emulated service, from https://docs.fish.audio (API reference and guides)."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

# OpenAPI `POST /v1/tts`, the `model` header. Anything else (missing, unknown, deprecated)
# falls back to the default.
MODELS: Final = frozenset({"s2.1-pro", "s2.1-pro-free", "s2-pro", "s1"})
DEFAULT_MODEL: Final = "s2.1-pro"
FREE_MODELS: Final = frozenset({"s2.1-pro-free"})

# The vendor's pricing page (linked in README.md, Usage and cost): $15 per million UTF-8 bytes
# of text; ASR $0.36 per hour, rounded up to seconds.
TTS_PRICE_PER_BYTE: Final = Decimal(15) / Decimal(1_000_000)
ASR_PRICE_PER_SECOND: Final = Decimal("0.36") / Decimal(3600)
# Voice design: $0.01 per request, whatever the number of candidates (the vendor's pricing page).
DESIGN_PRICE_PER_REQUEST: Final = Decimal("0.01")

# ASR file limits (https://docs.fish.audio/features/speech-to-text).
ASR_MAX_BYTES: Final = 20 * 1024 * 1024
ASR_MIN_SECONDS: Final = 1.0
ASR_MAX_SECONDS: Final = 3600.0

# OpenAPI `GET /model` (page_size) and `POST /model` (voices, texts) limits.
PAGE_SIZE_MAX: Final = 100
CREATE_MAX_VOICES: Final = 20
CREATE_MAX_TEXTS: Final = 20
SORT_KEYS: Final = ("score", "task_count", "created_at")
VISIBILITIES: Final = ("public", "unlist", "private")

# Request bodies up to this size are read, so that the 20 MB ASR limit is enforced by the API
# answer (413 JSON) rather than by aiohttp's own 1 MiB default.
CLIENT_MAX_SIZE: Final = 64 * 1024 * 1024
# Generous: a WebSocket start event may carry inline reference audio.
WS_MAX_MSG_SIZE: Final = 64 * 1024 * 1024

CONTROL_PREFIX: Final = "/_emulator/"

# Per-request value (seconds between streamed chunks) set by the middleware, read by handlers.
CHUNK_DELAY_KEY: Final = "fish_audio_emulator.chunk_delay"

DEFAULT_TRANSCRIPT: Final = (
    "Hello from the Fish Audio emulator. This transcript is always the same."
)
