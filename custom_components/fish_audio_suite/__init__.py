"""The Fish Audio Suite integration: text-to-speech, speech-to-text, voices and credit."""

from __future__ import annotations

from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .api import FishAudioClient
from .const import (
    BACKEND_FISH_AUDIO,
    CONF_BACKEND,
    CONF_BASE_URL,
    DEFAULT_BASE_URL,
    DOMAIN,
    LOGGER,
    PLATFORMS,
)
from .coordinator import (
    FishAudioConfigEntry,
    FishAudioCoordinator,
    FishAudioRuntimeData,
    FishAudioVoicesCoordinator,
)
from .helpers import as_fish_speech, async_load_fish_speech, is_fish_speech
from .services import async_setup_services
from .usage import async_get_tracker, async_remove_tracker

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once, whatever the number of accounts."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: FishAudioConfigEntry) -> bool:
    """Set up a Fish Audio account (or a self-hosted Fish Speech server) from a config entry."""
    if is_fish_speech(entry):
        await async_load_fish_speech(hass)
        from . import fish_speech  # noqa: PLC0415 - loaded just above, off the event loop

        await fish_speech.async_setup_entry(hass, as_fish_speech(entry))
        entry.async_on_unload(entry.add_update_listener(_async_update_listener))
        return True
    try:
        client = FishAudioClient(
            entry.data[CONF_API_KEY],
            session=async_get_clientsession(hass),
            base_url=entry.data.get(CONF_BASE_URL, DEFAULT_BASE_URL),
        )
    except ValueError as err:
        # Stored data the client refuses to send (an address with `user:pass@`, a key no
        # header can carry: written by hand or before the flow refused them). Retrying cannot
        # help, so no ConfigEntryNotReady; the client's message names the field, never its value.
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="invalid_account_data",
            translation_placeholders={"error": str(err)},
        ) from err
    coordinator = FishAudioCoordinator(hass, entry, client)
    voices = FishAudioVoicesCoordinator(hass, entry, client)
    usage = await async_get_tracker(hass, entry.entry_id)
    entry.runtime_data = FishAudioRuntimeData(
        client=client, coordinator=coordinator, usage=usage, voices=voices
    )
    # Reads the account and its voices; reauth or a later retry when that fails.
    await coordinator.async_config_entry_first_refresh()
    await voices.async_config_entry_first_refresh()
    # A coordinator polls only while something listens. No entity shows the voices (Assist
    # and the picker read them when asked), so the entry itself keeps the polling alive.
    entry.async_on_unload(voices.async_add_listener(_voices_changed))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # Subentries (voices) and options change what the platforms set up: reload on change.
    entry.async_on_unload(entry.add_update_listener(_async_update_listener))
    return True


@callback
def _voices_changed() -> None:
    """Nothing to update: the voice list is read where it is needed."""


async def _async_update_listener(hass: HomeAssistant, entry: FishAudioConfigEntry) -> None:
    """Reload the entry after its voices or options changed."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: FishAudioConfigEntry) -> bool:
    """Unload a config entry (the client uses Home Assistant's shared session)."""
    if is_fish_speech(entry):
        from . import fish_speech  # noqa: PLC0415 - loaded by its setup

        return await fish_speech.async_unload_entry(hass, as_fish_speech(entry))
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: FishAudioConfigEntry) -> None:
    """Delete the usage counters of a removed account."""
    await async_remove_tracker(hass, entry.entry_id)


async def async_migrate_entry(hass: HomeAssistant, entry: FishAudioConfigEntry) -> bool:
    """Migrate an entry: 1.1 entries (all Fish Audio's API) gain ``backend: fish_audio``."""
    if entry.version > 1:
        return False  # made by a newer release: refuse rather than guess
    if entry.minor_version < 2:
        data = {CONF_BACKEND: BACKEND_FISH_AUDIO, **entry.data}
        hass.config_entries.async_update_entry(entry, data=data, minor_version=2)
        LOGGER.debug("Migrated %s to version 1.2", entry.title)
    return True
