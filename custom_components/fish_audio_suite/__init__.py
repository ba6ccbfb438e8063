"""The Fish Audio Suite integration: text-to-speech, speech-to-text, voices and credit."""

from __future__ import annotations

from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .api import FishAudioAuthenticationError, FishAudioClient, FishAudioError
from .const import CONF_BASE_URL, DEFAULT_BASE_URL, DOMAIN, OWN_VOICES_LIMIT, PLATFORMS
from .coordinator import FishAudioConfigEntry, FishAudioCoordinator, FishAudioRuntimeData
from .services import async_setup_services

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once, whatever the number of accounts."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: FishAudioConfigEntry) -> bool:
    """Set up a Fish Audio account from a config entry."""
    client = FishAudioClient(
        entry.data[CONF_API_KEY],
        session=async_get_clientsession(hass),
        base_url=entry.data.get(CONF_BASE_URL, DEFAULT_BASE_URL),
    )
    coordinator = FishAudioCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    try:
        # The voice list feeds Assist's voice picker; the credit call above already proved
        # the key, so a failure here is transient.
        page = await client.list_voices(self_only=True, page_size=OWN_VOICES_LIMIT)
    except FishAudioAuthenticationError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="auth_failed"
        ) from err
    except FishAudioError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="update_failed",
            translation_placeholders={"error": str(err)},
        ) from err
    entry.runtime_data = FishAudioRuntimeData(
        client=client, coordinator=coordinator, voices=list(page.items)
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # Subentries (voices) and options change what the platforms set up: reload on change.
    entry.async_on_unload(entry.add_update_listener(_async_update_listener))
    return True


async def _async_update_listener(hass: HomeAssistant, entry: FishAudioConfigEntry) -> None:
    """Reload the entry after its voices or options changed."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: FishAudioConfigEntry) -> bool:
    """Unload a config entry (the client uses Home Assistant's shared session)."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
