"""Error handling shared by the entities and the actions of Fish Audio Suite, and the backend.

Two parts, as peblar keeps them: `translate_error` is a pure mapping from a client error to
the translated Home Assistant error; `async_handle_error` does what an error calls for (reauth,
the credit repair issue), in this one place that every context (TTS, STT, actions) uses.

Which backend an entry is (`is_fish_speech`) is told here too: the self-hosted Fish Speech
modules are imported only for entries of that backend (`async_load_fish_speech`), so a setup
with Fish Audio accounts only never loads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final, cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers.importlib import async_import_module
import voluptuous as vol

# The client's exception tree, by its module: the error table below names every class.
from .api import exceptions as errors
from .const import BACKEND_FISH_AUDIO, BACKEND_FISH_SPEECH, CONF_BACKEND, DOMAIN

if TYPE_CHECKING:
    from .coordinator import FishAudioConfigEntry
    from .fish_speech import FishSpeechConfigEntry

# What an entry of a self-hosted Fish Speech server runs on: its setup and error mapping, its
# TTS entity and its actions (and through them its client).
FISH_SPEECH_MODULES: Final = ("fish_speech", "fish_speech_tts", "fish_speech_services")


def is_fish_speech(entry: ConfigEntry[Any]) -> bool:
    """Return whether ``entry`` is a self-hosted Fish Speech server (not Fish Audio's API)."""
    return bool(entry.data.get(CONF_BACKEND, BACKEND_FISH_AUDIO) == BACKEND_FISH_SPEECH)


def as_fish_speech(entry: ConfigEntry[Any]) -> FishSpeechConfigEntry:
    """Return ``entry`` typed as a Fish Speech entry (checked by ``is_fish_speech`` first)."""
    return cast("FishSpeechConfigEntry", entry)


async def async_load_modules(hass: HomeAssistant, *names: str) -> None:
    """Import modules of this package in the executor, once (no file reads on the loop).

    For code only some setups or calls need: the functions that use it import it after this.
    """
    for name in names:
        await async_import_module(hass, f"{__package__}.{name}")


async def async_load_fish_speech(hass: HomeAssistant) -> None:
    """Import the Fish Speech modules (an entry of that backend is being set up)."""
    await async_load_modules(hass, *FISH_SPEECH_MODULES)


# The translation key of each client error; the first class the error is an instance of wins,
# so a subclass comes before its base. A 404 for a named voice is `voice_not_found` instead.
ERROR_KEYS: Final[tuple[tuple[type[errors.FishAudioError], str], ...]] = (
    (errors.FishAudioAuthenticationError, "auth_failed"),
    (errors.FishAudioInsufficientCreditError, "insufficient_credit"),
    (errors.FishAudioNotFoundError, "not_found"),
    (errors.FishAudioPermissionError, "permission_denied"),
    (errors.FishAudioRateLimitError, "rate_limited"),
    (errors.FishAudioRequestError, "invalid_request"),
    (errors.FishAudioServerError, "server_error"),
    (errors.FishAudioResponseError, "invalid_request"),  # a status the tree has no class for
    (errors.FishAudioTimeoutError, "timeout"),
    (errors.FishAudioConnectionError, "cannot_connect"),
    (errors.FishAudioWebSocketError, "stream_failed"),
    (errors.FishAudioTextStreamError, "text_stream_failed"),
    (errors.FishAudioInvalidResponseError, "invalid_response"),
    (errors.FishAudioError, "unexpected_error"),  # a client error of a kind added later
)


def translate_error(
    err: errors.FishAudioError, *, voice_id: str | None = None
) -> HomeAssistantError:
    """Return the translated Home Assistant error for a client error (no side effects).

    The client's messages never hold the API key, so they are safe to show.
    """
    key = next(key for cls, key in ERROR_KEYS if isinstance(err, cls))
    placeholders: dict[str, str] = {"error": str(err)}
    if isinstance(err, errors.FishAudioNotFoundError) and voice_id:
        key = "voice_not_found"
        placeholders["voice_id"] = voice_id
    if isinstance(err, errors.FishAudioResponseError):
        placeholders["message"] = err.message
        placeholders["status"] = str(err.status)
    return HomeAssistantError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def invalid(key: str, **placeholders: str) -> ServiceValidationError:
    """Return the translated validation error ``key`` (the user's input is wrong)."""
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


@callback
def async_handle_error(entry: FishAudioConfigEntry, err: errors.FishAudioError) -> str | None:
    """Do what a client error calls for; return what was done, for a log line, if anything.

    An authentication failure starts reauth; a refusal for lack of credit raises the credit
    repair issue (and refreshes the credit soon).
    """
    if isinstance(err, errors.FishAudioAuthenticationError):
        entry.async_start_reauth(entry.runtime_data.coordinator.hass)
        return "Fish Audio refused the API key, reauthentication started"
    if isinstance(err, errors.FishAudioInsufficientCreditError):
        entry.runtime_data.coordinator.async_payment_required()
        return "the account is out of API credit, see the repair issue"
    return None


@contextmanager
def entry_errors(
    auth_key: str, failure: type[HomeAssistantError], failure_key: str
) -> Iterator[None]:
    """Map client errors while an entry sets up or refreshes: reauth, or ``failure``.

    A refused key raises ``ConfigEntryAuthFailed`` (Home Assistant starts reauth); any other
    client error the given failure (``UpdateFailed``, ``ConfigEntryNotReady``: retried).
    """
    try:
        yield
    except errors.FishAudioAuthenticationError as err:
        raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key=auth_key) from err
    except errors.FishAudioError as err:
        raise failure(
            translation_domain=DOMAIN,
            translation_key=failure_key,
            translation_placeholders={"error": str(err)},
        ) from err


@contextmanager
def api_errors(entry: FishAudioConfigEntry, *, voice_id: str | None = None) -> Iterator[None]:
    """Handle client errors raised in the block and raise them translated.

    The client raises ValueError for input it refuses to send (text that is not valid
    Unicode, an id that cannot be one): the user's input, so a validation error. Its
    message is the client's own words, never server text.
    """
    try:
        yield
    except errors.FishAudioError as err:
        async_handle_error(entry, err)
        raise translate_error(err, voice_id=voice_id) from err
    except ValueError as err:
        raise invalid("invalid_input", error=str(err)) from err


def coerce_int(value: Any) -> int:
    """Voluptuous validator: an integer, refusing what int() cannot hold (inf, nan).

    vol.Coerce(int) lets OverflowError (int(float("inf"))) escape as a raw exception.
    """
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError) as err:
        raise vol.Invalid(f"expected an integer, got {str(value)[:20]!r}") from err
