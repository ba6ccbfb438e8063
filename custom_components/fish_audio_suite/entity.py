"""Base entities of Fish Audio Suite."""

from __future__ import annotations

from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import CONF_API_KEY
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api import NAME_MAX, sanitise
from .const import DOMAIN
from .coordinator import FishAudioConfigEntry, FishAudioCoordinator

MANUFACTURER = "Fish Audio"
CONFIGURATION_URL = "https://fish.audio/app/api-keys/"


def account_device_info(entry: FishAudioConfigEntry) -> DeviceInfo:
    """Return the device of the account (credit sensors, speech-to-text)."""
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        manufacturer=MANUFACTURER,
        model="Account",
        entry_type=DeviceEntryType.SERVICE,
        configuration_url=CONFIGURATION_URL,
    )


def voice_device_info(subentry: ConfigSubentry, secret: str | None = None) -> DeviceInfo:
    """Return the device of one voice subentry (one text-to-speech entity).

    `secret` (the account's key) is removed from the name should a stored title hold it.
    """
    return DeviceInfo(
        identifiers={(DOMAIN, subentry.subentry_id)},
        # Titles come from the server's voice title (cleaned by the client since it shows
        # names); one stored by an older release is cleaned here as well.
        name=sanitise(subentry.title, secret, limit=NAME_MAX),
        manufacturer=MANUFACTURER,
        model=str(subentry.data.get("model") or "Voice"),
        entry_type=DeviceEntryType.SERVICE,
    )


class FishAudioAccountEntity(CoordinatorEntity[FishAudioCoordinator]):
    """An entity on the account device, fed by the coordinator."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: FishAudioCoordinator, key: str) -> None:
        """Initialise the entity."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{key}"
        self._attr_device_info = account_device_info(entry)


class FishAudioVoiceEntity(Entity):
    """An entity on a voice subentry's device."""

    _attr_has_entity_name = True

    def __init__(self, entry: FishAudioConfigEntry, subentry: ConfigSubentry) -> None:
        """Initialise the entity."""
        self.entry = entry
        self.subentry = subentry
        self._attr_unique_id = subentry.subentry_id
        self._attr_device_info = voice_device_info(subentry, entry.data.get(CONF_API_KEY))
