"""The self-hosted Fish Speech backend: setup, runtime data, voices and errors of such an entry.

A Fish Speech server (the open model behind Fish Audio, run at home) speaks, stores reference
voices and nothing else: no speech-to-text, no account or credit, no live WebSocket, no voice
search. An entry for one (``backend: fish_speech``) sets up only the TTS
platform, and the actions it cannot serve refuse with a translated error naming the reason.

Imported only for entries of this backend (``helpers.async_load_fish_speech``) and by the
config flow, whose server steps load the client before they use it: the client module
(``api/fish_speech.py``) is imported inside ``make_client``, after that loading.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady, HomeAssistantError, ServiceValidationError
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from yarl import URL

from . import helpers
from .api import FishAudioAuthenticationError, FishAudioError
from .const import BACKEND_FISH_SPEECH, CONF_BASE_URL, DOMAIN, LOGGER

if TYPE_CHECKING:
    from .api.fish_speech import FishSpeechClient

# Only speech: the sensor (credit) and STT platforms need the cloud.
PLATFORMS: Final = [Platform.TTS]
DEFAULT_TITLE: Final = "Fish Speech"
# The server's own default address (tools/api_server.py --listen): a hint in the form.
EXAMPLE_URL: Final = "http://192.168.1.20:8080"


@dataclass(slots=True)
class FishSpeechRuntimeData:
    """Runtime data of a Fish Speech entry."""

    hass: HomeAssistant
    client: FishSpeechClient
    # The server's stored reference voices as last listed (voice picker, Assist's voice list,
    # the check that refuses an unknown id before synthesis).
    references: list[str] = field(default_factory=list)


type FishSpeechConfigEntry = ConfigEntry[FishSpeechRuntimeData]


def server_unique_id(base_url: str) -> str:
    """Return a stable id of the server at ``base_url``.

    The server has no identity of its own (no account, no serial), so its address is it:
    scheme, host (case-folded) and port (explicit or the scheme's), plus a proxy's path.
    """
    url = URL(base_url)
    path = url.path.rstrip("/")
    return f"{BACKEND_FISH_SPEECH}:{url.scheme}://{(url.host or '').lower()}:{url.port}{path}"


def server_title(base_url: str) -> str:
    """Return the entry title for a server: its host and port."""
    url = URL(base_url)
    return f"{DEFAULT_TITLE} ({url.host}:{url.port})"


def make_client(hass: HomeAssistant, data: dict[str, Any] | Any) -> FishSpeechClient:
    """Return a client for entry (or form) data, on Home Assistant's shared session.

    The caller has loaded the client off the event loop (``helpers.async_load_fish_speech``).
    """
    from .api.fish_speech import FishSpeechClient  # noqa: PLC0415 - see the docstring

    return FishSpeechClient(
        data[CONF_BASE_URL],
        api_key=data.get(CONF_API_KEY) or None,
        session=async_get_clientsession(hass),
    )


async def async_setup_entry(hass: HomeAssistant, entry: FishSpeechConfigEntry) -> None:
    """Check the server and list its voices; then set up text-to-speech.

    Raises:
        ConfigEntryAuthFailed: The server refused the key (reauth).
        ConfigEntryNotReady: The server is not reachable yet (retried later).
    """
    client = make_client(hass, entry.data)
    with helpers.entry_errors("local_auth_failed", ConfigEntryNotReady, "local_unavailable"):
        await client.health()
        references = await client.list_references()
    entry.runtime_data = FishSpeechRuntimeData(hass=hass, client=client, references=references)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)


async def async_unload_entry(hass: HomeAssistant, entry: FishSpeechConfigEntry) -> bool:
    """Unload the TTS platform."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


# The one error table (helpers.ERROR_KEYS) says what kind an error is; a server's entry shows
# the same kinds in words that name the server instead of Fish Audio. Kinds a server cannot
# produce (credit, live stream) keep their key.
_LOCAL_KEYS: Final = {
    "auth_failed": "local_auth_failed",
    "voice_not_found": "local_voice_not_found",
    "not_found": "local_invalid_request",
    "permission_denied": "local_invalid_request",
    "rate_limited": "local_invalid_request",
    "invalid_request": "local_invalid_request",
    "server_error": "local_server_error",
    "timeout": "local_timeout",
    "cannot_connect": "local_cannot_connect",
    "invalid_response": "local_invalid_response",
    "unexpected_error": "local_unexpected_error",
}


def translate_error(
    entry: FishSpeechConfigEntry, err: FishAudioError, *, voice_id: str | None = None
) -> HomeAssistantError:
    """Return the translated error for a client error of a Fish Speech entry (no side effects).

    The kind comes from the integration's one error table; the key is the server's wording.
    """
    base = helpers.translate_error(err, voice_id=voice_id)
    key = str(base.translation_key)
    placeholders = {**(base.translation_placeholders or {}), "account": entry.title}
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=_LOCAL_KEYS.get(key, key),
        translation_placeholders=placeholders,
    )


@contextmanager
def speech_errors(entry: FishSpeechConfigEntry, *, voice_id: str | None = None) -> Iterator[None]:
    """Turn client errors raised in the block into translated Home Assistant errors.

    A refused key starts reauth. Input the client refuses to send is a validation error.
    """
    try:
        yield
    except FishAudioError as err:
        if isinstance(err, FishAudioAuthenticationError):
            entry.async_start_reauth(entry.runtime_data.hass)
        raise translate_error(entry, err, voice_id=voice_id) from err
    except ValueError as err:
        raise helpers.invalid("invalid_input", error=str(err)) from err


async def async_check_reference(entry: FishSpeechConfigEntry, reference_id: str) -> None:
    """Refuse a reference id the server does not store, before anything is synthesized.

    The server itself would not fail: it speaks with no reference and leaves an empty folder
    that blocks adding a voice of that name later. The cached list is refreshed once on a
    miss (a voice may have been added with another tool since).

    Raises:
        ServiceValidationError: The server has no such voice.
        HomeAssistantError: The list could not be read.
    """
    runtime = entry.runtime_data
    if reference_id in runtime.references:
        return
    with speech_errors(entry):
        runtime.references = await runtime.client.list_references()
    if reference_id not in runtime.references:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="local_voice_not_found",
            translation_placeholders={"voice_id": reference_id, "account": entry.title},
        )


async def async_refresh_references(entry: FishSpeechConfigEntry) -> None:
    """Re-list the server's voices after a change; a failure keeps the old list."""
    runtime = entry.runtime_data
    try:
        runtime.references = await runtime.client.list_references()
    except FishAudioError as err:
        LOGGER.warning("Could not refresh the voice list of %s: %s", entry.title, err)


def not_supported(
    feature: str, entry: ConfigEntry[Any], **placeholders: str
) -> ServiceValidationError:
    """Return the error for a feature a self-hosted server does not have.

    One translation key per refusal (``not_supported_locally_<feature>``): a translated
    message with an English phrase as its placeholder would read half in English.
    """
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=f"not_supported_locally_{feature}",
        translation_placeholders={**placeholders, "account": entry.title},
    )
