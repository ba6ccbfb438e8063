"""The README's usage examples work as pasted: card, utility meter and budget automation.

The YAML blocks are read from README.md itself. The utility meter and the automation run in
Home Assistant against the integration's real cost sensor; the dashboard card, which only the
frontend reads, is checked against the card's config schema in the installed frontend bundle.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
import re
from typing import Any

import hass_frontend
from homeassistant.core import HomeAssistant, State
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import parse_yaml
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from .test_usage import COST, HTTP_MESSAGE, PER_BYTE, speak, utf8_bytes

pytestmark = pytest.mark.usefixtures("socket_enabled")

README = Path(__file__).parent.parent / "README.md"
METER = "sensor.fish_audio_monthly_cost"
HOURLY = "sensor.fish_audio_hourly_characters"


def _state(hass: HomeAssistant, entity_id: str) -> State:
    state = hass.states.get(entity_id)
    assert state is not None
    return state


def _usage_blocks() -> list[Any]:
    """Return the YAML blocks of the README's "Usage and cost" section, parsed."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### Usage and cost", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    return [parse_yaml(block) for block in re.findall(r"```yaml\n(.*?)```", section, re.S)]


def _block(key: str, value: Any = None) -> dict[str, Any]:
    matches = [
        block
        for block in _usage_blocks()
        if isinstance(block, dict) and key in block and value in (None, block[key])
    ]
    assert len(matches) == 1, f"one README block with {key}"
    return matches[0]


# The utility meter's monthly reset timer is its own, and on Home Assistant 2026.10 it is still
# scheduled when the test's Home Assistant stops: allowed, ours are checked everywhere else.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_budget_meter_and_automation(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The utility meters follow the usage sensors; the automations notify over the limits."""
    notify = async_mock_service(hass, "notify", "mobile_app_phone")
    assert await async_setup_component(hass, "utility_meter", _block("utility_meter"))
    assert await async_setup_component(hass, "automation", _block("automation"))
    await hass.async_block_till_done()
    assert hass.states.get(METER) is not None

    await speak(hass, HTTP_MESSAGE)
    await hass.async_block_till_done()
    meter = hass.states.get(METER)
    assert meter is not None
    assert Decimal(meter.state) == PER_BYTE * utf8_bytes(HTTP_MESSAGE)
    assert meter.attributes["unit_of_measurement"] == "USD"
    assert not notify  # far below the budget

    # The month's total passes 5 USD (calibrated rather than spending it on the emulator).
    await hass.services.async_call(
        "utility_meter", "calibrate", {"entity_id": METER, "value": "5.0123"}, blocking=True
    )
    await hass.async_block_till_done()
    [call] = notify
    assert call.data["title"] == "Fish Audio budget"
    assert call.data["message"] == "Fish Audio has cost about 5.01 USD this month."

    # A script that loops: the hour's characters pass 20 000.
    assert Decimal(_state(hass, HOURLY).state) == len(HTTP_MESSAGE)
    await hass.services.async_call(
        "utility_meter", "calibrate", {"entity_id": HOURLY, "value": "20001"}, blocking=True
    )
    await hass.async_block_till_done()
    [_, call] = notify
    assert call.data["title"] == "Fish Audio"
    assert call.data["message"] == (
        "20001 characters spoken this hour: is a script or automation looping?"
    )


def _card_schema() -> str:
    """Return the statistics-graph card's config struct from the installed frontend."""
    bundle = Path(hass_frontend.where()) / "frontend_latest"
    for path in sorted(bundle.glob("*.js")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if "chart_type:" not in text or "stat_types:" not in text:
            continue
        for match in re.finditer(r"\{entities:", text):
            # The stat types are a constant declared just before the struct that uses them.
            struct = text[max(match.start() - 400, 0) : match.start() + 1500]
            if "stat_types:" in struct and "days_to_show:" in struct and "chart_type:" in struct:
                return struct
    pytest.fail("the statistics-graph card's schema is not in the frontend bundle")


def test_dashboard_card_matches_the_frontend() -> None:
    """Every key and value of the README's card is one the card's schema accepts."""
    card = _block("type", "statistics-graph")
    struct = _card_schema()
    for key in card:
        if key != "type":
            assert re.search(rf"[{{,]{key}:", struct), f"{key} is not a card option"
    assert f'"{card["period"]}"' in struct
    assert f'"{card["chart_type"]}"' in struct
    for stat_type in card["stat_types"]:
        assert f'"{stat_type}"' in struct
    assert isinstance(card["days_to_show"], int)
    assert card["entities"] == [COST]
