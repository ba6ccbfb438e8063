"""Tests of the entry lifecycle, the coordinator and the credit repair issue."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from types import MappingProxyType

from homeassistant.components import tts
from homeassistant.config_entries import ConfigEntryState, ConfigSubentry
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.fish_audio_suite.const import (
    CONF_BASE_URL,
    CONF_LOW_CREDIT_THRESHOLD,
    DOMAIN,
    SUBENTRY_VOICE,
)
from emulator import FishAudioEmulator

from .conftest import TEST_API_KEY, TRANSLATIONS, user_error_key, voice_subentry_data

pytestmark = pytest.mark.usefixtures("socket_enabled")


def _credit_issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"insufficient_credit_{entry.entry_id}")


async def test_setup_and_unload_repeatedly(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """The entry loads, unloads and reloads cleanly, several times."""
    assert init_integration.state is ConfigEntryState.LOADED
    runtime = init_integration.runtime_data
    assert runtime.coordinator.data.credit.credit == emulator.state.credit
    assert runtime.voices.data  # the account's own voices, for Assist's voice picker
    for _ in range(3):
        assert await hass.config_entries.async_reload(init_integration.entry_id)
        await hass.async_block_till_done()
        assert init_integration.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    # The key went only in the Authorization header.
    assert all(
        TEST_API_KEY not in r.path and TEST_API_KEY not in str(r.query) for r in emulator.requests
    )


async def test_devices(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The account and each voice have a device of their own."""
    device_registry = dr.async_get(hass)
    devices = dr.async_entries_for_config_entry(device_registry, init_integration.entry_id)
    # Which subentry a device belongs to, read from its entities: the entity registry's
    # `config_subentry_id` is public on every supported version, while the device's own
    # `config_entries_subentries` is deprecated from 2026.10.
    device_ids: dict[str | None, set[str | None]] = {}
    for entity in er.async_entries_for_config_entry(er.async_get(hass), init_integration.entry_id):
        device_ids.setdefault(entity.config_subentry_id, set()).add(entity.device_id)
    by_subentry: dict[str | None, dr.DeviceEntry] = {}
    for subentry_id, ids in device_ids.items():
        (device_id,) = ids  # every entity of a subentry is on that subentry's one device
        assert device_id is not None
        device = device_registry.async_get(device_id)
        assert device is not None
        by_subentry[subentry_id] = device
    assert len(devices) == 2
    assert {d.id for d in devices} == {d.id for d in by_subentry.values()}
    (subentry,) = init_integration.subentries.values()
    assert by_subentry[None].name == "Fish Audio"
    assert by_subentry[None].entry_type is dr.DeviceEntryType.SERVICE
    assert by_subentry[subentry.subentry_id].name == subentry.title


def _setup_reason(key: str) -> str:
    """The start of the translated text a failed setup shows (before the client's words)."""
    return TRANSLATIONS["exceptions"][key]["message"].split("{error}")[0].rstrip(".")


# A failure at start: (the route and what it answers, or None for a revoked key; the state;
# the translated error the entry shows and what it says besides; what it starts: "reauth"
# for a refused key, "credit issue" for a 402). Server errors and the voice list (needed
# for Assist) make Home Assistant retry later.
SETUP_FAULTS: dict[str, tuple[tuple[str, str] | None, ConfigEntryState, str, str, str | None]] = {
    "account 500": (
        ("GET /wallet/self/api-credit", "500"), ConfigEntryState.SETUP_RETRY,
        "update_failed", "HTTP 500", None,
    ),
    "account 503": (
        ("GET /wallet/self/api-credit", "503"), ConfigEntryState.SETUP_RETRY,
        "update_failed", "HTTP 503", None,
    ),
    "voices 500": (
        ("GET /model", "500"), ConfigEntryState.SETUP_RETRY, "update_failed", "HTTP 500", None
    ),
    # Refused at the first read: the issue has no credit to show yet.
    "account 402": (
        ("GET /wallet/self/api-credit", "402"), ConfigEntryState.SETUP_RETRY,
        "update_failed", "HTTP 402", "credit issue",
    ),
    "voices 401": (
        ("GET /model", "401-json"), ConfigEntryState.SETUP_ERROR, "auth_failed", "", "reauth"
    ),
    "key revoked": (None, ConfigEntryState.SETUP_ERROR, "auth_failed", "", "reauth"),
}  # fmt: skip


@pytest.mark.parametrize("case", SETUP_FAULTS)
async def test_setup_fault_then_recovery(
    hass: HomeAssistant, emulator: FishAudioEmulator, config_entry: MockConfigEntry, case: str
) -> None:
    """A failure at start leaves the entry retrying or asking for a new key, with its
    translated reason; with the cause gone the entry loads."""
    answer, state, key, says, starts = SETUP_FAULTS[case]
    if answer is None:
        emulator.state.revoke_api_key(TEST_API_KEY)
    else:
        emulator.faults.preset(*answer, times=None)
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is state
    assert config_entry.reason is not None
    assert config_entry.reason.startswith(_setup_reason(key))
    assert says in config_entry.reason
    assert TEST_API_KEY not in config_entry.reason
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == (["reauth"] if starts == "reauth" else [])
    issue = _credit_issue(hass, config_entry)
    assert (issue is not None) is (starts == "credit issue")
    if issue is not None:
        assert issue.translation_placeholders is not None
        assert issue.translation_placeholders["credit"] == "?"

    emulator.faults.clear()
    emulator.state.add_api_key(TEST_API_KEY)
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    assert _credit_issue(hass, config_entry) is None  # a good read after the refusal
    await hass.config_entries.async_unload(config_entry.entry_id)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {CONF_BASE_URL: "http://user:secret-pass@127.0.0.1:1"},
            "base_url must not contain a user name or password",
        ),
        (
            {CONF_API_KEY: "key\nwith a newline"},
            "api_key must be a non-empty printable ASCII string",
        ),
    ],
)
async def test_setup_refuses_unusable_stored_data(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    data: dict[str, str],
    error: str,
) -> None:
    """Stored data the client refuses (written by hand, or before the flow refused it) is a
    translated setup error, not retried for ever, with nothing sent and no secret shown."""
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, data={**config_entry.data, **data})
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert config_entry.reason is not None
    message = TRANSLATIONS["exceptions"]["invalid_account_data"]["message"]
    # Home Assistant shows the translated text (without its final full stop).
    assert config_entry.reason.rstrip(".") == message.format(error=error).rstrip(".")
    assert "secret-pass" not in config_entry.reason + caplog.text
    assert "with a newline" not in config_entry.reason + caplog.text
    assert not emulator.requests
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)


async def test_lost_and_back_logged_once(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A lost connection is logged once, however long it lasts, and once when back."""
    coordinator = init_integration.runtime_data.coordinator
    emulator.faults.preset("GET /wallet/self/api-credit", "500", times=None)
    for _ in range(3):
        await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert not coordinator.last_update_success
    state = hass.states.get("sensor.fish_audio_api_credit")
    assert state is not None
    assert state.state == "unavailable"
    assert caplog.text.count("Error fetching fish_audio_suite data") == 1
    emulator.faults.clear()
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert caplog.text.count("Fetching fish_audio_suite data recovered") == 1
    assert TEST_API_KEY not in caplog.text


async def test_auth_lost_while_running(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
) -> None:
    """A key revoked while running starts reauth at the next poll."""
    emulator.state.revoke_api_key(TEST_API_KEY)
    await init_integration.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]


async def test_low_credit_issue(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
) -> None:
    """Credit under the threshold raises a repair issue; a top-up clears it."""
    issues = ir.async_get(hass)
    issue_id = f"insufficient_credit_{init_integration.entry_id}"
    coordinator = init_integration.runtime_data.coordinator
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    emulator.state.credit = Decimal("0.40")
    await coordinator.async_refresh()
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "insufficient_credit"
    assert issue.learn_more_url
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["credit"] == "0.40"
    assert issue.translation_placeholders["threshold"] == "1.00"
    emulator.state.credit = Decimal("25")
    await coordinator.async_refresh()
    assert issues.async_get_issue(DOMAIN, issue_id) is None


async def test_threshold_option(
    hass: HomeAssistant, emulator: FishAudioEmulator, config_entry: MockConfigEntry
) -> None:
    """The threshold comes from the options."""
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, options={CONF_LOW_CREDIT_THRESHOLD: 50.0})
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"insufficient_credit_{config_entry.entry_id}"
    )
    assert issue is not None  # 10.00 USD is under 50
    await hass.config_entries.async_unload(config_entry.entry_id)


async def _speak(hass: HomeAssistant) -> bytes:
    """A paid call: speak through Home Assistant's TTS manager (the voice uses s2.1-pro)."""
    media_id = tts.generate_media_source_id(
        hass, "Hello there.", engine="tts.narrator_text_to_speech", cache=False
    )
    return (await tts.async_get_media_source_audio(hass, media_id))[1]


async def test_credit_issue_clears_on_a_top_up_below_the_old_credit(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """Drained between polls (10 -> 0), topped up to 5: the issue clears at the next read."""
    coordinator = init_integration.runtime_data.coordinator
    emulator.state.credit = Decimal(0)
    with pytest.raises(HomeAssistantError) as err:
        await _speak(hass)
    assert err.value.translation_key == "insufficient_credit"
    await hass.async_block_till_done()
    assert _credit_issue(hass, init_integration) is not None
    emulator.state.credit = Decimal(5)  # less than the 10 polled before the refusal
    await coordinator.async_refresh()
    assert _credit_issue(hass, init_integration) is None


async def test_credit_issue_clears_when_a_paid_call_succeeds(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A 402 raises the issue even above the threshold; the next paid success clears it."""
    emulator.faults.preset("POST /v1/tts", "402")
    with pytest.raises(HomeAssistantError):
        await _speak(hass)
    assert _credit_issue(hass, init_integration) is not None
    assert await _speak(hass)  # no poll in between
    assert _credit_issue(hass, init_integration) is None


async def test_credit_issue_ignores_a_read_from_before_the_refusal(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A credit read already on its way when the 402 came proves nothing about the top-up."""
    coordinator = init_integration.runtime_data.coordinator
    emulator.faults.latency("GET /wallet/self/api-credit", first_byte=0.3, times=1)
    refresh = hass.async_create_task(coordinator.async_refresh())
    await asyncio.sleep(0.1)
    emulator.faults.preset("POST /v1/tts", "402")
    with pytest.raises(HomeAssistantError):
        await _speak(hass)
    await refresh
    assert _credit_issue(hass, init_integration) is not None
    await coordinator.async_refresh()  # a read after the refusal, credit above threshold
    assert _credit_issue(hass, init_integration) is None


@pytest.mark.parametrize(
    "credit",
    [
        '"' + "9" * 1_000_000 + '"',  # a million digits: abs() of it overflows the context
        '"-' + "9" * 1_000_000 + '"',
        "1e999999",
        '"1000000000000"',  # exactly the bound
        '"NaN"',
    ],
    ids=["million digits", "minus a million digits", "huge exponent", "a trillion", "NaN"],
)
async def test_implausible_credit_is_refused(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry, credit: str
) -> None:
    """An implausible credit is the translated `invalid_response`, never a sensor value or the
    issue's text; the next plausible read recovers."""
    coordinator = init_integration.runtime_data.coordinator
    body = '{"_id": "c", "user_id": "user-1", "credit": ' + credit + "}"
    emulator.faults.http(
        "GET /wallet/self/api-credit", 200, body=body, content_type="application/json"
    )
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert user_error_key(coordinator.last_exception) == "invalid_response"
    assert coordinator.data.credit.credit == Decimal(10)  # the last good value is kept

    emulator.faults.clear()
    await coordinator.async_refresh()
    assert coordinator.last_update_success


async def test_voice_devices_follow_subentries(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Adding a voice adds its device and entity at once; removing it removes both."""
    entities = er.async_get(hass)

    def voice_device() -> dr.DeviceEntry | None:
        devices = dr.async_entries_for_config_entry(dr.async_get(hass), init_integration.entry_id)
        return next((d for d in devices if (DOMAIN, subentry.subentry_id) in d.identifiers), None)

    subentry = ConfigSubentry(
        data=MappingProxyType(voice_subentry_data(name="Butler")),
        subentry_type=SUBENTRY_VOICE,
        title="Butler",
        unique_id=None,
    )
    hass.config_entries.async_add_subentry(init_integration, subentry)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    device = voice_device()
    assert device is not None
    assert device.name == "Butler"
    entity_id = entities.async_get_entity_id("tts", DOMAIN, subentry.subentry_id)
    assert entity_id == "tts.butler_text_to_speech"
    assert hass.states.get(entity_id) is not None

    hass.config_entries.async_remove_subentry(init_integration, subentry.subentry_id)
    await hass.async_block_till_done()
    assert voice_device() is None
    assert entities.async_get_entity_id("tts", DOMAIN, subentry.subentry_id) is None
    assert hass.states.get(entity_id) is None


# A failed update of a running entry: (which coordinator, the route and the preset it
# answers, the translated error a user meets, what it starts). Server errors and unusable
# answers: tests/test_fault_table.py, for every operation.
COORDINATOR_FAULTS: dict[str, tuple[str, str, str, str, str | None]] = {
    "credit 401": (
        "coordinator", "GET /wallet/self/api-credit", "401-json", "auth_failed", "reauth"
    ),
    "voices 401": ("voices", "GET /model", "401-json", "auth_failed", "reauth"),
    # A 402 from the wallet endpoints themselves, or from the voice list, raises the issue.
    "credit 402": (
        "coordinator", "GET /wallet/self/api-credit", "402", "insufficient_credit", "credit issue"
    ),
    "package 402": (
        "coordinator", "GET /wallet/self/package", "402", "insufficient_credit", "credit issue"
    ),
    "voices 402": ("voices", "GET /model", "402", "insufficient_credit", "credit issue"),
}  # fmt: skip


@pytest.mark.parametrize("case", COORDINATOR_FAULTS)
async def test_coordinator_fault_then_recovery(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
    case: str,
) -> None:
    """A failed update is its translated error with its one consequence (reauth or the credit
    repair issue) and keeps the last good data; the next good read recovers and ends it."""
    name, route, preset, key, starts = COORDINATOR_FAULTS[case]
    runtime = init_integration.runtime_data
    coordinator = getattr(runtime, name)
    before = coordinator.data
    emulator.faults.preset(route, preset, times=None)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert not coordinator.last_update_success
    assert user_error_key(coordinator.last_exception) == key
    assert coordinator.data == before  # the last good value is kept
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == (["reauth"] if starts == "reauth" else [])
    issue = _credit_issue(hass, init_integration)
    assert (issue is not None) is (starts == "credit issue")
    if issue is not None:
        assert issue.translation_placeholders is not None
        assert issue.translation_placeholders["credit"] == "10.00"  # the last read

    emulator.faults.clear()
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert coordinator.data
    if coordinator is not runtime.coordinator:
        await runtime.coordinator.async_refresh()  # the next credit read ends the refusal
    assert _credit_issue(hass, init_integration) is None
