"""A failed "Say" is explained where the user looks: a repair issue or a notification.

Home Assistant's media browser shows no error of its own (README, Troubleshooting); these run
the integration in Home Assistant against the emulator and check what Settings and
Notifications then hold, and that both go once the voice speaks again.
"""

from __future__ import annotations

from homeassistant.components import tts
from homeassistant.components.persistent_notification import _async_get_or_create_notifications
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.fish_audio_suite.const import CONF_VOICE_ID, DOMAIN
from emulator import FishAudioEmulator

from .conftest import TEST_VOICE_NAME, TEST_VOICE_SUBENTRY_ID

ENTITY_ID = "tts.narrator_text_to_speech"
NOTIFICATION = f"{DOMAIN}_speech_failed_"

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def _say(hass: HomeAssistant, **options: str) -> None:
    """Speak through Home Assistant's TTS manager, as Media → Text-to-speech does."""
    media_id = tts.generate_media_source_id(
        hass, "Hello there.", engine=ENTITY_ID, options=options or None, cache=False
    )
    await tts.async_get_media_source_audio(hass, media_id)


def _notifications(hass: HomeAssistant) -> dict[str, str]:
    return {
        key: value["message"]
        for key, value in _async_get_or_create_notifications(hass).items()
        if key.startswith(NOTIFICATION)
    }


def _voice_issue(hass: HomeAssistant) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"voice_not_found_{TEST_VOICE_SUBENTRY_ID}")


@pytest.mark.parametrize("status", [400, 404])  # the vendor's errors page names both
async def test_a_voice_fish_audio_no_longer_has_is_a_repair_issue(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
    status: int,
) -> None:
    """The configured voice was deleted: a repair issue names it; speaking again clears it."""
    voice_id = init_integration.subentries[TEST_VOICE_SUBENTRY_ID].data[CONF_VOICE_ID]
    deleted = emulator.state.voices.pop(voice_id)
    emulator.state.unknown_reference_status = status
    with pytest.raises(HomeAssistantError):
        await _say(hass)
    # Asked: is the voice gone, or was the request bad for another reason?
    assert [r.path for r in emulator.requests if r.method == "GET"][-1] == f"/model/{voice_id}"
    issue = _voice_issue(hass)
    assert issue is not None
    assert issue.translation_key == "voice_not_found"
    assert issue.translation_placeholders == {
        "voice": TEST_VOICE_NAME,
        "voice_id": voice_id,
        "account": init_integration.title,
    }
    assert not _notifications(hass)  # not a passing failure
    emulator.state.voices[voice_id] = deleted
    await _say(hass)
    assert _voice_issue(hass) is None


async def test_a_bad_request_for_a_voice_that_exists_is_no_issue(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A 400 for another reason: the voice is still there, so no repair issue."""
    emulator.faults.http("POST /v1/tts", 400, body={"message": "bad"}, times=None)
    with pytest.raises(HomeAssistantError):
        await _say(hass)
    assert _voice_issue(hass) is None
    # Nor when Fish Audio cannot say whether the voice exists.
    emulator.faults.http("GET /model/*", 500, times=None)
    with pytest.raises(HomeAssistantError):
        await _say(hass)
    assert _voice_issue(hass) is None


async def test_an_unknown_voice_for_one_call_is_the_callers(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A voice id given for one call only: the error says it, no repair issue."""
    emulator.state.unknown_reference_status = 404
    with pytest.raises(HomeAssistantError):
        await _say(hass, voice="0123456789abcdef0123456789abcdef")
    assert _voice_issue(hass) is None
    assert not _notifications(hass)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (429, "Fish Audio is limiting requests right now."),
        (500, "Fish Audio had a server error (HTTP 500)."),
    ],
)
async def test_a_busy_or_failing_server_is_a_notification(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
    status: int,
    reason: str,
) -> None:
    """Rate limit or server error: one notification with the translated reason, then gone."""
    emulator.faults.http(
        "POST /v1/tts", status, body={"message": "busy"}, headers={"Retry-After": "0"}, times=None
    )
    for _attempt in range(2):  # a second failure replaces the notice, it does not add one
        with pytest.raises(HomeAssistantError):
            await _say(hass)
    ((key, message),) = _notifications(hass).items()
    assert key == f"{NOTIFICATION}{init_integration.entry_id}"
    assert message.startswith(f"{TEST_VOICE_NAME} could not speak: {reason}")
    assert message.endswith("This notice disappears once Fish Audio speaks again.")
    assert _voice_issue(hass) is None
    emulator.faults.clear()
    await _say(hass)
    assert not _notifications(hass)


async def test_the_notification_in_the_language_of_home_assistant(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """The notice is written in Home Assistant's language, the reason too."""
    hass.config.language = "de"
    emulator.faults.http("POST /v1/tts", 503, headers={"Retry-After": "0"}, times=None)
    with pytest.raises(HomeAssistantError):
        await _say(hass)
    (message,) = _notifications(hass).values()
    assert message.startswith(f"{TEST_VOICE_NAME} konnte nicht sprechen: ")
    assert "could not" not in message
    assert "Fish Audio" in message
