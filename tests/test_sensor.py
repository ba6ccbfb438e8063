"""Tests of the credit and package sensors."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from emulator import FishAudioEmulator, PackageState

from .conftest import assert_disabled_by_integration, async_setup_with_sensors_enabled

pytestmark = pytest.mark.usefixtures("socket_enabled")

USAGE_TRANSLATION_KEYS = {
    "synthesized_characters",
    "transcribed_duration",
    "estimated_cost",
    "model_synthesized_characters",
    "model_estimated_cost",
}

PACKAGE = PackageState(
    type="pro",
    total=1000,
    balance=640,
    finished_at=datetime(2026, 12, 31, tzinfo=UTC),
)


async def test_sensors_without_package(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
) -> None:
    """An account without a package has credit sensors only."""
    registry = er.async_get(hass)
    entries = er.async_entries_for_config_entry(registry, init_integration.entry_id)
    # The usage sensors are tested in test_usage.py.
    sensors = sorted(
        e.entity_id
        for e in entries
        if e.domain == "sensor" and e.translation_key not in USAGE_TRANSLATION_KEYS
    )
    assert sensors == ["sensor.fish_audio_api_credit", "sensor.fish_audio_cumulative_top_up"]
    state = hass.states.get("sensor.fish_audio_api_credit")
    assert state is not None
    assert Decimal(state.state) == emulator.state.credit
    # Its registry entry and attributes are in test_snapshots.py.
    assert_disabled_by_integration(hass, "sensor.fish_audio_cumulative_top_up")


async def test_sensors_with_package(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    config_entry: MockConfigEntry,
) -> None:
    """An account with a package gets its balance; it turns unavailable if it ends."""
    emulator.state.package = PACKAGE
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    state = hass.states.get("sensor.fish_audio_package_balance")
    assert state is not None
    assert state.state == "640"
    assert_disabled_by_integration(
        hass, "sensor.fish_audio_package_total", "sensor.fish_audio_package_ends"
    )

    emulator.state.credit = Decimal("3.21")
    emulator.state.package = None
    await config_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    state = hass.states.get("sensor.fish_audio_package_balance")
    assert state is not None
    assert state.state == "unavailable"
    credit = hass.states.get("sensor.fish_audio_api_credit")
    assert credit is not None
    assert credit.state == "3.21"
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_disabled_sensors_values(
    hass: HomeAssistant, emulator: FishAudioEmulator, config_entry: MockConfigEntry
) -> None:
    """Enabled by the user, the less-used sensors show their values."""
    emulator.state.package = PACKAGE
    await async_setup_with_sensors_enabled(
        hass, config_entry, "cumulative_top_up", "package_total", "package_ends"
    )
    values = {
        key: hass.states.get(f"sensor.fish_audio_{key}")
        for key in ("cumulative_top_up", "package_total", "package_ends")
    }
    assert all(values.values())
    assert Decimal(values["cumulative_top_up"].state) == emulator.state.cumulative_top_up  # type: ignore[union-attr]
    assert values["package_total"].state == "1000"  # type: ignore[union-attr]
    assert values["package_ends"].state == "2026-12-31T00:00:00+00:00"  # type: ignore[union-attr]
    await hass.config_entries.async_unload(config_entry.entry_id)
