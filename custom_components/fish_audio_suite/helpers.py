"""Error mapping shared by the entities and the actions of Fish Audio Suite."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from homeassistant.exceptions import HomeAssistantError

from .api import (
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
    FishAudioTimeoutError,
    FishAudioWebSocketError,
    TTSOptions,
)
from .const import (
    CONF_FORMAT,
    CONF_LATENCY,
    CONF_MODEL,
    CONF_NORMALIZE,
    CONF_SPEED,
    CONF_TEMPERATURE,
    CONF_TOP_P,
    CONF_VOICE_ID,
    CONF_VOLUME,
    DOMAIN,
    VOICE_DEFAULTS,
)
from .coordinator import FishAudioConfigEntry


def translate_error(
    entry: FishAudioConfigEntry, err: FishAudioError, *, voice_id: str | None = None
) -> HomeAssistantError:
    """Return the translated Home Assistant error for a client error.

    Also does what the error calls for: an authentication failure starts reauth, and a
    refusal for lack of credit raises the credit repair issue. The client's messages never
    hold the API key, so they are safe to show.
    """
    key: str
    placeholders: dict[str, str] = {"error": str(err)}
    match err:
        case FishAudioAuthenticationError():
            entry.async_start_reauth(entry.runtime_data.coordinator.hass)
            key = "auth_failed"
        case FishAudioInsufficientCreditError():
            entry.runtime_data.coordinator.async_payment_required()
            key = "insufficient_credit"
        case FishAudioNotFoundError() if voice_id:
            key = "voice_not_found"
            placeholders["voice_id"] = voice_id
        case FishAudioNotFoundError():
            key = "not_found"
        case FishAudioPermissionError():
            key = "permission_denied"
        case FishAudioRateLimitError():
            key = "rate_limited"
        case FishAudioRequestError():
            key = "invalid_request"
        case FishAudioServerError():
            key = "server_error"
        case FishAudioResponseError():  # a status the tree has no class for
            key = "invalid_request"
        case FishAudioTimeoutError():
            key = "timeout"
        case FishAudioConnectionError():
            key = "cannot_connect"
        case FishAudioWebSocketError():
            key = "stream_failed"
        case FishAudioInvalidResponseError():
            key = "invalid_response"
        case _:
            key = "unexpected_error"
    if isinstance(err, FishAudioResponseError):
        placeholders["message"] = err.message
        placeholders["status"] = str(err.status)
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


@contextmanager
def api_errors(entry: FishAudioConfigEntry, *, voice_id: str | None = None) -> Iterator[None]:
    """Turn client errors raised in the block into translated Home Assistant errors."""
    try:
        yield
    except FishAudioError as err:
        raise translate_error(entry, err, voice_id=voice_id) from err


def tts_options(settings: Mapping[str, Any]) -> TTSOptions:
    """Build the request settings from voice settings (subentry data and per-call options).

    Missing settings take the voice defaults; an empty voice id means Fish Audio's default
    voice. Raises ValueError for a value the API would refuse.
    """
    merged = {**VOICE_DEFAULTS, **settings}
    return TTSOptions(
        model=str(merged[CONF_MODEL]),
        reference_id=str(merged[CONF_VOICE_ID]) or None,
        format=merged[CONF_FORMAT],
        latency=merged[CONF_LATENCY],
        speed=float(merged[CONF_SPEED]),
        volume=float(merged[CONF_VOLUME]),
        temperature=float(merged[CONF_TEMPERATURE]),
        top_p=float(merged[CONF_TOP_P]),
        normalize=bool(merged[CONF_NORMALIZE]),
    )
