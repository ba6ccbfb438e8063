"""Long-term statistics of the usage sensors, compiled by a real recorder (SQLite in memory).

In a module of its own: the recorder must start before Home Assistant, so this module's
autouse fixture asks for it ahead of the custom-integration switch that starts `hass`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from datetime import timedelta
from typing import Any

from homeassistant.components import stt
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import (
    list_statistic_ids,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
    get_start_time,
)

from emulator.audio import pcm_samples

from .conftest import PCM_16K_MONO
from .test_usage import (
    CHARACTERS,
    COST,
    DURATION,
    HTTP_MESSAGE,
    PER_BYTE,
    PER_SECOND,
    STT_ENTITY,
    USAGE_SENSORS,
    speak,
    utf8_bytes,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> Generator[None]:
    """Start the recorder first, then let Home Assistant load the integration."""
    return


@pytest.mark.usefixtures("emulator")
async def test_long_term_statistics(
    recorder_mock: Recorder, hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """The recorder compiles statistics (a sum) for each total: the statistics graph works."""
    first = get_start_time(dt_util.utcnow())  # the 5-minute period the sensors start in
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    await speak(hass, HTTP_MESSAGE)
    stt_entity = stt.async_get_speech_to_text_entity(hass, STT_ENTITY)
    assert stt_entity is not None
    pcm = pcm_samples(16000, 40000)  # 2.5 s
    result = await stt_entity.internal_async_process_audio_stream(PCM_16K_MONO, _once(pcm))
    assert result.result is stt.SpeechResultState.SUCCESS
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)

    # Every period from the sensors' start to now (a real clock: the test may cross one).
    start = first
    while start <= dt_util.utcnow():
        do_adhoc_statistics(hass, start=start)
        start += timedelta(minutes=5)
    await async_wait_recording_done(hass)

    def read() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        ids = list_statistic_ids(hass, set(USAGE_SENSORS))
        stats = statistics_during_period(
            hass, first, None, set(USAGE_SENSORS), "5minute", None, {"state", "sum"}
        )
        return ids, stats

    ids, stats = await recorder_mock.async_add_executor_job(read)
    assert {item["statistic_id"]: item["has_sum"] for item in ids} == dict.fromkeys(
        USAGE_SENSORS, True
    )
    units = {item["statistic_id"]: item["statistics_unit_of_measurement"] for item in ids}
    assert units == {CHARACTERS: "characters", DURATION: "s", COST: "USD"}
    cost = float(PER_BYTE * utf8_bytes(HTTP_MESSAGE) + PER_SECOND * 3)
    expected = {CHARACTERS: len(HTTP_MESSAGE), DURATION: 2.5, COST: cost}
    for entity_id, value in expected.items():
        last = stats[entity_id][-1]
        assert last["state"] == pytest.approx(value)
        assert last["sum"] == pytest.approx(value)
    await hass.config_entries.async_unload(config_entry.entry_id)
