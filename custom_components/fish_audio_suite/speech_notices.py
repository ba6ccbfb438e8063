"""What the UI says about a failed "Say", where Home Assistant's player says nothing.

Home Assistant's media browser (*Media → Text-to-speech*, 2026.2 to 2026.11) plays the audio
URL it was given; when making the audio fails it shows no error (the spinner stops or spins),
so the reason would only be in the log. Of the failures a user can act on:

- a refused key starts reauthentication and no credit raises the credit repair issue
  (`helpers.async_handle_error`, for every context);
- a voice Fish Audio no longer has (deleted, or made private) raises a repair issue for that
  voice: reconfigure it. It is removed once the voice speaks again (or the entry reloads);
- a rate limit, a server error, a timeout or no connection posts one persistent notification
  per account with the translated reason: wait and try again. The next failure replaces it;
  it is removed once the account speaks again.

Actions and Assist show the error text themselves; these are for speech only.
"""

from __future__ import annotations

from typing import Final

from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import CONF_NAME
from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir, translation

from .api import (
    FishAudioConnectionError,
    FishAudioError,
    FishAudioNotFoundError,
    FishAudioRateLimitError,
    FishAudioRequestError,
    FishAudioServerError,
    FishAudioTimeoutError,
)
from .const import CONF_VOICE_ID, DOMAIN
from .coordinator import FishAudioConfigEntry

ISSUE_VOICE_NOT_FOUND: Final = "voice_not_found"
# Failures that pass: the service is busy or out of reach (a connection error covers both a
# refused connection and a stream that broke off).
TRANSIENT: Final = (
    FishAudioRateLimitError,
    FishAudioServerError,
    FishAudioTimeoutError,
    FishAudioConnectionError,
)


def voice_issue_id(subentry: ConfigSubentry) -> str:
    """Return the repair issue id of a voice that Fish Audio no longer has."""
    return f"{ISSUE_VOICE_NOT_FOUND}_{subentry.subentry_id}"


def notification_id(entry: FishAudioConfigEntry) -> str:
    """Return the id of the account's persistent notification about failed speech."""
    return f"{DOMAIN}_speech_failed_{entry.entry_id}"


async def async_explain_failure(
    entry: FishAudioConfigEntry,
    subentry: ConfigSubentry,
    error: HomeAssistantError,
    reference_id: str | None,
) -> None:
    """Show the user why the voice could not speak, where they can do something about it."""
    cause = error.__cause__
    if not isinstance(cause, FishAudioError):
        return
    hass = entry.runtime_data.coordinator.hass
    voice = str(subentry.data.get(CONF_NAME) or subentry.title)
    configured = str(subentry.data.get(CONF_VOICE_ID) or "")
    if (
        isinstance(cause, (FishAudioNotFoundError, FishAudioRequestError))
        and reference_id
        and reference_id == configured
        and await _voice_is_gone(entry, configured)
    ):
        # Only the voice's own setting: an id given for one call is the caller's to fix.
        ir.async_create_issue(
            hass,
            DOMAIN,
            voice_issue_id(subentry),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_VOICE_NOT_FOUND,
            translation_placeholders={
                "voice": voice,
                "voice_id": configured,
                "account": entry.title,
            },
        )
    elif isinstance(cause, TRANSIENT) and error.translation_key:
        texts = await translation.async_get_translations(
            hass, hass.config.language, "exceptions", {DOMAIN}
        )
        prefix = f"component.{DOMAIN}.exceptions"
        reason = texts[f"{prefix}.{error.translation_key}.message"].format(
            **(error.translation_placeholders or {})
        )
        message = texts[f"{prefix}.speech_failed.message"].format(voice=voice, reason=reason)
        persistent_notification.async_create(
            hass, message, title=entry.title, notification_id=notification_id(entry)
        )


async def _voice_is_gone(entry: FishAudioConfigEntry, voice_id: str) -> bool:
    """Return whether Fish Audio says it has no such voice.

    Fish Audio answers an unknown voice with 400, like other bad input, or 404 (its errors
    page); asking for the voice tells the cases apart (one request, only after a failure).
    """
    try:
        await entry.runtime_data.client.get_voice(voice_id)
    except FishAudioNotFoundError:
        return True
    except FishAudioError:
        return False  # cannot tell now: no issue rather than a wrong one
    return False


@callback
def async_spoke(entry: FishAudioConfigEntry, subentry: ConfigSubentry) -> None:
    """Remove what an earlier failure of this voice and account showed: it works again."""
    hass = entry.runtime_data.coordinator.hass
    ir.async_delete_issue(hass, DOMAIN, voice_issue_id(subentry))
    persistent_notification.async_dismiss(hass, notification_id(entry))
