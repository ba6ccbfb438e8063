"""Snapshots of every entity and device: an account's sensor, STT and TTS platforms, and a
self-hosted Fish Speech server's TTS.

`snapshot_platform` (the harness's, as Home Assistant core's integrations use it) compares each
entity's registry entry and state with `snapshots/test_snapshots.ambr`; the devices are
compared beside it. One platform is set up at a time, as the helper asks, with every entity
enabled (some are disabled by default), and the account has a package so the package sensors
exist.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC, datetime
from unittest.mock import PropertyMock, patch

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.fish_audio_suite.const import (
    BACKEND_FISH_SPEECH,
    CONF_BACKEND,
    CONF_BASE_URL,
    CONF_VOICE_ID,
    DOMAIN,
    SUBENTRY_VOICE,
)
from custom_components.fish_audio_suite.voice_settings import voice_defaults
from emulator import FishAudioEmulator, PackageState
from emulator.fish_speech import demo_references

from .conftest import FishSpeechFactory

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
def all_enabled() -> Generator[None]:
    """Every entity enabled, also those the integration disables by default."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.mark.usefixtures("all_enabled")
@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.STT, Platform.TTS])
async def test_platform(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    config_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    """Every entity of the platform and every device of the account, as Home Assistant has them."""
    emulator.state.package = PackageState(
        type="pro", total=1000, balance=640, finished_at=datetime(2026, 12, 31, tzinfo=UTC)
    )
    config_entry.add_to_hass(hass)
    with patch("custom_components.fish_audio_suite.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()
        await snapshot_platform(hass, er.async_get(hass), snapshot, config_entry.entry_id)
        devices = dr.async_entries_for_config_entry(dr.async_get(hass), config_entry.entry_id)
        assert devices
        for device in sorted(devices, key=lambda device: sorted(device.identifiers)):
            assert device == snapshot(name=f"{platform}-device-{device.name}")
        assert await hass.config_entries.async_unload(config_entry.entry_id)


@pytest.mark.usefixtures("all_enabled")
async def test_fish_speech_platform(
    hass: HomeAssistant, make_fish_speech: FishSpeechFactory, snapshot: SnapshotAssertion
) -> None:
    """A Fish Speech server's voice: its TTS entity and its device (the address, whose port
    changes at every run, is only in the entry, which the snapshots leave out)."""
    server = await make_fish_speech(references=demo_references())
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Fish Speech (127.0.0.1)",
        version=1,
        minor_version=2,
        data={CONF_BACKEND: BACKEND_FISH_SPEECH, CONF_BASE_URL: server.base_url},
        subentries_data=[
            {
                "subentry_type": SUBENTRY_VOICE,
                "data": {
                    **voice_defaults(BACKEND_FISH_SPEECH),
                    "name": "Narrator",
                    CONF_VOICE_ID: "narrator",
                },
                "title": "Narrator",
                "subentry_id": "01KB0FASF1SHSPEECHV01CE001",
                "unique_id": None,
            }
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await snapshot_platform(hass, er.async_get(hass), snapshot, entry.entry_id)
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert device == snapshot(name="fish_speech-device")
    assert await hass.config_entries.async_unload(entry.entry_id)
