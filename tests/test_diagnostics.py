"""Tests of the config entry diagnostics."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from .conftest import TEST_API_KEY, TEST_USER_ID

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """Diagnostics hold the account and voices, never the key or the user id."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    text = json.dumps(diagnostics)
    assert TEST_API_KEY not in text
    assert TEST_USER_ID not in text
    assert diagnostics["entry"]["data"]["api_key"] == "**REDACTED**"
    assert diagnostics["account"]["credit"]["credit"]
    assert diagnostics["voices"]
    # Ids, timestamps and the emulator's port change from run to run.
    assert diagnostics == snapshot(
        exclude=props(
            "entry_id",
            "subentry_id",
            "created_at",
            "modified_at",
            "base_url",
            "voice_id",
            "since",
        )
    )
