"""Server-provided names (voice titles, author names, language codes) reach the UI sanitised.

A hostile or broken server could give a voice a title holding the API key, newlines that
forge log lines, control characters, a lone surrogate (which Home Assistant cannot store as
JSON) or 10,000 characters. Every place a title is shown gets one clean, short line: the
voice picker, the subentry and device names, Assist's voice list and the log.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.fish_audio_suite.api import NAME_MAX, FishAudioClient, sanitise
from custom_components.fish_audio_suite.const import CONF_VOICE_ID, DOMAIN, SUBENTRY_VOICE
from emulator import FishAudioEmulator

from .conftest import TEST_API_KEY, TEST_USER_ID, voice_form

pytestmark = pytest.mark.usefixtures("socket_enabled")

EVIL = (
    f"Evil\nWARNING forged log line, key {TEST_API_KEY} Bearer abc\r\x1b[31m\x00\x85"
    "\u2028\u202eesrever\ud800 end "
)
EVIL_TITLE = EVIL + "x" * 10_000
EVIL_PREFIX = "Evil WARNING forged log line, key **REDACTED** Bearer **REDACTED**"


def _device(hass: HomeAssistant, entry_id: str, subentry_id: str) -> dr.DeviceEntry:
    """The device of a voice (looked up as every supported release allows)."""
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry_id)
    return next(d for d in devices if (DOMAIN, subentry_id) in d.identifiers)


def assert_clean(text: str) -> None:
    """One printable line, without the key, of at most NAME_MAX characters."""
    assert text.startswith(EVIL_PREFIX)
    assert TEST_API_KEY not in text
    assert text.isprintable()
    text.encode()  # no lone surrogate: Home Assistant can store and send it as JSON
    assert len(text) <= NAME_MAX


@pytest.fixture
def evil_voice(emulator: FishAudioEmulator) -> dict[str, Any]:
    """The account's first own voice, with a hostile title, author name and language."""
    voice = next(v for v in emulator.state.voices.values() if v["author"]["_id"] == TEST_USER_ID)
    voice["title"] = EVIL_TITLE
    voice["author"]["nickname"] = EVIL_TITLE
    voice["languages"] = ["en\nWARNING"]
    return voice


def test_sanitise_makes_one_short_line() -> None:
    assert_clean(sanitise(EVIL_TITLE, TEST_API_KEY, limit=NAME_MAX))
    assert sanitise("Plain title (en)") == "Plain title (en)"
    assert sanitise("😀 émoji and 中文") == "😀 émoji and 中文"


async def test_client_cleans_the_names_it_returns(
    emulator: FishAudioEmulator, evil_voice: dict[str, Any]
) -> None:
    async with FishAudioClient(TEST_API_KEY, base_url=emulator.base_url) as client:
        page = await client.list_voices(self_only=True)
        listed = next(v for v in page.items if v.id == evil_voice["_id"])
        got = await client.get_voice(evil_voice["_id"])
    for voice in (listed, got):
        assert_clean(voice.title)
        assert voice.author is not None
        assert_clean(voice.author.nickname)
        assert voice.languages == ("en WARNING",)


async def test_names_reach_the_ui_clean(
    hass: HomeAssistant,
    *,
    evil_voice: dict[str, Any],
    init_integration: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Picker labels, the subentry title, the device name and Assist's voice list."""
    caplog.set_level(logging.DEBUG)
    # Assist's voice list (the voices coordinator read the title at setup).
    ws = await hass_ws_client(hass)
    await ws.send_json_auto_id(
        {"type": "tts/engine/voices", "engine_id": "tts.narrator_text_to_speech", "language": "en"}
    )
    msg = await ws.receive_json()
    assert msg["success"]
    [name] = [v["name"] for v in msg["result"]["voices"] if v["voice_id"] == evil_voice["_id"]]
    assert_clean(name)

    # The voice picker, then a voice subentry made from the voice.
    result = await hass.config_entries.subentries.async_init(
        (init_integration.entry_id, SUBENTRY_VOICE), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["step_id"] == "voice"
    picker = next(
        selector for key, selector in result["data_schema"].schema.items() if key == CONF_VOICE_ID
    )
    [label] = [o["label"] for o in picker.config["options"] if o["value"] == evil_voice["_id"]]
    assert EVIL_PREFIX in label
    assert TEST_API_KEY not in label
    assert label.isprintable()
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], voice_form(**{CONF_VOICE_ID: evil_voice["_id"]})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    subentry = next(s for s in init_integration.subentries.values() if s.title.startswith("Evil"))
    assert_clean(subentry.title)
    device = _device(hass, init_integration.entry_id, subentry.subentry_id)
    assert device.name is not None
    assert_clean(device.name)
    # Stored as JSON by Home Assistant without error, and nothing forged in the log.
    json.dumps(subentry.as_dict(), ensure_ascii=False).encode()
    assert "\nWARNING forged" not in caplog.text
    assert TEST_API_KEY not in caplog.text


async def test_a_stored_hostile_title_is_cleaned(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    config_entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A title stored by an older release (before the client cleaned names)."""
    config_entry.add_to_hass(hass)
    (subentry,) = config_entry.subentries.values()
    # Without the lone surrogate: Home Assistant itself could not have stored that.
    stored = EVIL_TITLE.replace("\ud800", "")
    hass.config_entries.async_update_subentry(config_entry, subentry, title=stored)
    emulator.state.voices.pop(subentry.data[CONF_VOICE_ID])  # not in the list: stored title
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    device = _device(hass, config_entry.entry_id, subentry.subentry_id)
    assert device.name is not None
    assert_clean(device.name)
    ws = await hass_ws_client(hass)
    entity_id = next(state.entity_id for state in hass.states.async_all("tts"))
    await ws.send_json_auto_id(
        {"type": "tts/engine/voices", "engine_id": entity_id, "language": "en"}
    )
    msg = await ws.receive_json()
    assert msg["success"]
    assert_clean(msg["result"]["voices"][0]["name"])
    await hass.config_entries.async_unload(config_entry.entry_id)
