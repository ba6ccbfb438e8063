"""The voice-settings table: every consumer follows it, and its entries are coherent.

The consumer test adds an entry (an S2-only, advanced `mp3_bitrate` setting: a field the client
already sends, so the request shows the value) and checks that the subentry form, the per-call
checks, the `synthesize` schema, `default_options` and the request builder all pick it up,
with a translated error naming the model for a model that does not take it.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from homeassistant.components import tts
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, section
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.fish_audio_suite import voice_settings
from custom_components.fish_audio_suite.api import MODELS, FishSpeechTTSOptions, TTSOptions
from custom_components.fish_audio_suite.const import DOMAIN, SUBENTRY_VOICE
from custom_components.fish_audio_suite.voice_settings import (
    ATTR_VOICE,
    SECTION_ADVANCED,
    VOICE_SETTINGS,
    VoiceSetting,
    tts_options,
)
from emulator import FishAudioEmulator
from emulator.fish_speech import demo_references

from .conftest import TRANSLATIONS, FishSpeechFactory, assert_translated, voice_form

pytestmark = pytest.mark.usefixtures("socket_enabled")

ENTITY_ID = "tts.narrator_text_to_speech"
S2_MODELS = frozenset(model for model in MODELS if model.startswith("s2"))
NEW_SETTING = VoiceSetting(
    key="mp3_bitrate",
    kind="choice",
    choices=(64, 128, 192),
    default=128,
    option="mp3_bitrate",
    models=S2_MODELS,
    advanced=True,
)


@pytest.fixture
def extended_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """The table with one more entry, before the integration is set up."""
    # The real mp3_bitrate entry (every model) gives way to the S2-only test entry.
    table = tuple(setting for setting in VOICE_SETTINGS if setting.key != NEW_SETTING.key)
    monkeypatch.setattr(voice_settings, "VOICE_SETTINGS", (*table, NEW_SETTING))


def _tts_bodies(emulator: FishAudioEmulator) -> list[dict[str, Any]]:
    return [r.decoded for r in emulator.requests if r.method == "POST" and r.path == "/v1/tts"]


async def _speak(hass: HomeAssistant, **options: Any) -> None:
    media_id = tts.generate_media_source_id(
        hass, "Hello there.", engine=ENTITY_ID, options=options or None, cache=False
    )
    await tts.async_get_media_source_audio(hass, media_id)


def test_attr_voice_is_home_assistants() -> None:
    """The per-call voice key is Home Assistant's own (spelled out to keep tts unimported)."""
    assert ATTR_VOICE == tts.ATTR_VOICE


def test_table_is_coherent() -> None:
    """Keys are unique per backend, defaults pass their own check, options are fields of the
    backend's request settings (TTSOptions, or FishSpeechTTSOptions for a local server)."""
    option_classes = {"fish_audio": TTSOptions, "fish_speech": FishSpeechTTSOptions}
    for backend, options_class in option_classes.items():
        keys = [setting.key for setting in voice_settings.settings_for(backend)]
        assert len(keys) == len(set(keys))
        option_fields = set(inspect.get_annotations(options_class))
        assert all(s.option in option_fields for s in voice_settings.settings_for(backend))
    for setting in VOICE_SETTINGS:
        if setting.default is not None:
            assert voice_settings.validator(setting)(setting.default) == setting.default
        if setting.kind == "choice" and setting.default is not None:
            assert setting.default in setting.choices
    # Latency choices in the order their help text explains them.
    latency = next(setting for setting in VOICE_SETTINGS if setting.key == "latency")
    assert latency.choices == ("low", "balanced", "normal")


def test_every_setting_translated() -> None:
    """Each subentry setting has a label and help text in the form (or its section)."""
    step = TRANSLATIONS["config_subentries"]["voice"]["step"]["voice"]
    advanced = step["sections"][SECTION_ADVANCED]
    assert TRANSLATIONS["config"]["step"]["voice"] == step | {
        "title": TRANSLATIONS["config"]["step"]["voice"]["title"]
    }
    for setting in voice_settings.subentry_settings():
        where = advanced if setting.advanced else step
        assert setting.key in where["data"]
        assert setting.key in where["data_description"]
        if setting.kind == "choice" and setting.translated_choices:
            options = TRANSLATIONS["selector"][setting.key]["options"]
            assert list(options) == [str(choice) for choice in setting.choices]


def test_request_builder_drops_settings_a_model_does_not_take(extended_table: None) -> None:
    """An S2-only setting is sent to S2 models and left out for S1."""
    assert tts_options({"model": "s2-pro", "mp3_bitrate": 64}).mp3_bitrate == 64
    assert tts_options({"model": "s1", "mp3_bitrate": 64}).mp3_bitrate == 128  # the client's


@pytest.mark.usefixtures("extended_table")
async def test_every_consumer_sees_a_new_entry(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    config_entry: MockConfigEntry,
    allowed_dir: Path,
) -> None:
    """Form, per-call checks, synthesize schema, default_options and request builder."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    # The subentry form offers it in the collapsed section and stores the table's type.
    result = await hass.config_entries.subentries.async_init(
        (config_entry.entry_id, SUBENTRY_VOICE), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["step_id"] == "voice"
    advanced = result["data_schema"].schema[SECTION_ADVANCED]
    assert isinstance(advanced, section)
    assert advanced.options == {"collapsed": True}
    (selector,) = (v for k, v in advanced.schema.schema.items() if k == "mp3_bitrate")
    assert selector.config["options"] == ["64", "128", "192"]
    # S1 does not take it: a translated form error that names the model; then it recovers.
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], voice_form(name="Old", model="s1", mp3_bitrate="192")
    )
    assert result["errors"] == {"base": "setting_not_for_model"}
    assert result["description_placeholders"] == {"setting": "mp3_bitrate", "model": "s1"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], voice_form(name="Crisp", mp3_bitrate="192")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["mp3_bitrate"] == 192
    await hass.async_block_till_done()

    # The entity takes it per call and as a default option (so in the cache key).
    entity = hass.data[tts.DATA_COMPONENT].get_entity(ENTITY_ID)
    assert "mp3_bitrate" in entity.supported_options
    assert entity.default_options["mp3_bitrate"] == 128
    await _speak(hass, mp3_bitrate=64)
    assert _tts_bodies(emulator)[-1]["mp3_bitrate"] == 64
    with pytest.raises(ServiceValidationError) as err:
        await _speak(hass, mp3_bitrate=100)
    assert_translated(err.value, "invalid_option_choice", option="mp3_bitrate")
    with pytest.raises(ServiceValidationError) as err:
        await _speak(hass, model="s1", mp3_bitrate=64)
    assert_translated(err.value, "setting_not_for_model", setting="mp3_bitrate", model="s1")
    await _speak(hass, model="s1")  # recovers: the default is simply not sent
    assert _tts_bodies(emulator)[-1]["mp3_bitrate"] == 128

    # The synthesize action's schema checks it, and the request carries it.
    data = {
        "config_entry_id": config_entry.entry_id,
        "message": "Hello there.",
        "filename": str(allowed_dir / "x.mp3"),
    }
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(
            DOMAIN, "synthesize", {**data, "mp3_bitrate": 100}, blocking=True
        )
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "synthesize", {**data, "model": "s1", "mp3_bitrate": 64}, blocking=True
        )
    assert_translated(err.value, "setting_not_for_model", setting="mp3_bitrate", model="s1")
    await hass.services.async_call(
        DOMAIN, "synthesize", {**data, "mp3_bitrate": "192"}, blocking=True
    )
    assert _tts_bodies(emulator)[-1]["mp3_bitrate"] == 192
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_form_offers_what_the_backend_takes(
    hass: HomeAssistant, make_fish_speech: FishSpeechFactory
) -> None:
    """A self-hosted Fish Speech entry is not offered model, speed or volume."""
    server = await make_fish_speech(references=demo_references())
    entry = MockConfigEntry(
        domain=DOMAIN,
        version=1,
        minor_version=2,
        data={"backend": "fish_speech", "base_url": server.base_url},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_VOICE), context={"source": SOURCE_USER}
    )
    fields = {str(key) for key in result["data_schema"].schema}
    assert {"name", "voice_id", "format"} <= fields
    assert not fields & {"model", "speed", "volume"}
    await hass.config_entries.async_unload(entry.entry_id)
