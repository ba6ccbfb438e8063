"""Diagnostics of a Fish Audio account entry."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant

from .api import __version__ as client_version
from .coordinator import FishAudioConfigEntry
from .helpers import as_fish_speech, is_fish_speech
from .usage import price_table

# The key is a secret; the user id (and wallet ids, which embed it) identify the person.
TO_REDACT = {CONF_API_KEY, "user_id", "unique_id", "_id", "id"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: FishAudioConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    if is_fish_speech(entry):
        local = as_fish_speech(entry).runtime_data
        return {
            "entry": async_redact_data(entry.as_dict(), TO_REDACT),
            "client_version": client_version,
            "base_url": local.client.base_url,
            "references": len(local.references),
        }
    runtime = entry.runtime_data
    data = runtime.coordinator.data
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "client_version": client_version,
        "base_url": runtime.client.base_url,
        "account": {
            "credit": async_redact_data(data.credit.as_dict(), TO_REDACT),
            "package": async_redact_data(data.package.as_dict(), TO_REDACT)
            if data.package
            else None,
        },
        "voices": [
            {"title": voice.title, "state": voice.state, "languages": list(voice.languages)}
            for voice in runtime.voices.data
        ],
        "last_update_success": runtime.coordinator.last_update_success,
        "usage": {**runtime.usage.as_dict(), "prices": price_table()},
    }
