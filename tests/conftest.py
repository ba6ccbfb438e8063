"""Shared fixtures: the Fish Audio emulator and a configured account against it."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.fish_audio_suite.api import FishAudioClient
from custom_components.fish_audio_suite.const import (
    CONF_BASE_URL,
    CONF_VOICE_ID,
    DOMAIN,
    SUBENTRY_VOICE,
    VOICE_DEFAULTS,
)
from emulator import FishAudioEmulator

TEST_API_KEY = "test-key"
TEST_USER_ID = "user-1"
# A voice the emulator seeds for the test account (see emulator/voices.py).
TEST_VOICE_NAME = "Narrator"


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the client's real retry logic but make its backoff sleeps tiny."""
    defaults = FishAudioClient.__init__.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "retry_backoff", 0.01)
    monkeypatch.setitem(defaults, "retry_backoff_max", 0.02)
    monkeypatch.setitem(defaults, "retry_after_max", 0.05)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> Generator[None]:
    """Let Home Assistant load custom_components/fish_audio_suite in every test."""
    return


@pytest.fixture(autouse=True)
def tts_cache_dir(tmp_path: Path) -> Generator[Path]:
    """Keep Home Assistant's TTS file cache in the test's own directory.

    By default it lives in the harness's shared configuration directory, where a reply cached
    by one run would answer the next one without asking the emulator.
    """
    with patch("homeassistant.components.tts._init_tts_cache_dir", return_value=str(tmp_path)):
        yield tmp_path


@pytest.fixture
async def emulator(socket_enabled: None) -> AsyncGenerator[FishAudioEmulator]:
    """The Fish Audio emulator on a free loopback port, stopped after the test."""
    emu = FishAudioEmulator()
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


def voice_subentry_data(**overrides: Any) -> dict[str, Any]:
    """Return the data of a voice subentry with the defaults, changed by ``overrides``."""
    return {**VOICE_DEFAULTS, "name": TEST_VOICE_NAME, **overrides}


@pytest.fixture
def voice_settings(emulator: FishAudioEmulator) -> dict[str, Any]:
    """Data of the voice subentry the test account starts with: the first own voice."""
    own = [v for v in emulator.state.voices.values() if v["author"]["_id"] == TEST_USER_ID]
    return voice_subentry_data(**{CONF_VOICE_ID: own[0]["_id"]} if own else {})


@pytest.fixture
def config_entry(emulator: FishAudioEmulator, voice_settings: dict[str, Any]) -> MockConfigEntry:
    """An account entry against the emulator, with one voice."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Fish Audio",
        unique_id=TEST_USER_ID,
        data={CONF_API_KEY: TEST_API_KEY, CONF_BASE_URL: emulator.base_url},
        subentries_data=[
            {
                "subentry_type": SUBENTRY_VOICE,
                "data": voice_settings,
                "title": TEST_VOICE_NAME,
                "unique_id": None,
            }
        ],
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> AsyncGenerator[MockConfigEntry]:
    """Set the account up in Home Assistant; unload it at the end of the test."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    yield config_entry
    if config_entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(config_entry.entry_id)
        await hass.async_block_till_done()
