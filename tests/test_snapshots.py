"""Snapshots of every entity and device of an account: sensor, STT and TTS platforms.

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

from emulator import FishAudioEmulator, PackageState

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
