"""Error mapping shared by the entities and the actions of Fish Audio Suite."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
)
from .const import DOMAIN
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
