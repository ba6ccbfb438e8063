"""The platform settings through the TTS entity and the voice form, against the emulator.

Loudness, bitrates and sample rate as voice settings (form, default_options: the cache key,
the request), dialogue speakers and the advanced fields per call, and the refusals: a setting
the model does not take names the model; a sample rate the format does not offer is refused
before anything is sent.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components import tts
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.fish_audio_suite.const import SUBENTRY_VOICE
from custom_components.fish_audio_suite.voice_settings import SECTION_ADVANCED, SPEAKERS_MAX
from emulator import FishAudioEmulator
from emulator.voices import SEED_VOICE_IDS

from .conftest import assert_translated, voice_form, voice_subentry_data

pytestmark = pytest.mark.usefixtures("socket_enabled")

ENTITY_ID = "tts.narrator_text_to_speech"
NARRATOR = SEED_VOICE_IDS["narrator"]
ENERGETIC = SEED_VOICE_IDS["energetic"]
DIALOGUE = "<|speaker:0|>[cheerful] Dinner is ready!<|speaker:1|>Coming down now."


def _bodies(emulator: FishAudioEmulator) -> list[dict[str, Any]]:
    return [r.decoded for r in emulator.requests if r.method == "POST" and r.path == "/v1/tts"]


async def _speak(hass: HomeAssistant, message: str = "Hello there.", **options: Any) -> bytes:
    media_id = tts.generate_media_source_id(
        hass, message, engine=ENTITY_ID, options=options or None, cache=False
    )
    return (await tts.async_get_media_source_audio(hass, media_id))[1]


def _entity(hass: HomeAssistant) -> Any:
    return hass.data[tts.DATA_COMPONENT].get_entity(ENTITY_ID)


@pytest.fixture
def voice_settings(emulator: FishAudioEmulator) -> dict[str, Any]:
    """A voice with every platform setting changed from its default."""
    return voice_subentry_data(
        voice_id=NARRATOR,
        model="s2-pro",
        format="wav",
        normalize_loudness=False,
        mp3_bitrate=64,
        opus_bitrate=24000,
        sample_rate=16000,
    )


async def test_voice_settings_reach_the_request_and_the_cache_key(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    entity = _entity(hass)
    # Every subentry setting is a default option: part of Home Assistant's cache key.
    for key, value in {
        "normalize_loudness": False,
        "mp3_bitrate": 64,
        "opus_bitrate": 24000,
        "sample_rate": 16000,
    }.items():
        assert entity.default_options[key] == value
    audio = await _speak(hass)
    assert audio[:4] == b"RIFF"
    (body,) = _bodies(emulator)
    assert body["prosody"]["normalize_loudness"] is False
    assert (body["mp3_bitrate"], body["opus_bitrate"], body["sample_rate"]) == (64, 24000, 16000)
    # Per call, every one can be changed (YAML strings accepted for numbers).
    await _speak(hass, format="mp3", sample_rate="32000", mp3_bitrate="192",
                 normalize_loudness=True)  # fmt: skip
    body = _bodies(emulator)[-1]
    assert (body["format"], body["sample_rate"], body["mp3_bitrate"]) == ("mp3", 32000, 192)
    assert body["prosody"]["normalize_loudness"] is True


async def test_cache_key_changes_with_a_platform_setting(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A changed bitrate is not answered from the cache of the old one."""
    for bitrate in (64, 128, 64):
        media_id = tts.generate_media_source_id(
            hass, "Cached words.", engine=ENTITY_ID, options={"mp3_bitrate": bitrate}
        )
        await tts.async_get_media_source_audio(hass, media_id)
    assert [body["mp3_bitrate"] for body in _bodies(emulator)] == [64, 128]


async def test_dialogue_and_advanced_fields_per_call(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    await _speak(
        hass,
        DIALOGUE,
        speakers=[NARRATOR, ENERGETIC],
        max_new_tokens="512",
        repetition_penalty=1.3,
        min_chunk_length=20,
        condition_on_previous_chunks="off",
        early_stop_threshold=0.9,
    )
    (body,) = _bodies(emulator)
    assert body["reference_id"] == [NARRATOR, ENERGETIC]
    assert body["max_new_tokens"] == 512
    assert body["repetition_penalty"] == 1.3
    assert body["min_chunk_length"] == 20
    assert body["condition_on_previous_chunks"] is False
    assert body["early_stop_threshold"] == 0.9


@pytest.mark.parametrize(
    ("options", "key", "placeholders"),
    [
        ({"model": "s1", "normalize_loudness": True, "speakers": [NARRATOR, ENERGETIC]},
         "setting_not_for_model",
         {"setting": "speakers", "model": "s1"}),
        ({"model": "s1"}, "setting_not_for_model",  # the voice's normalize_loudness: off
         {"setting": "normalize_loudness", "model": "s1"}),
        ({"speakers": ["not an id!"]}, "invalid_option_voices", {"max": str(SPEAKERS_MAX)}),
        ({"speakers": [NARRATOR] * (SPEAKERS_MAX + 1)}, "invalid_option_voices", {}),
        ({"max_new_tokens": 1.5}, "invalid_option_range", {"option": "max_new_tokens"}),
        ({"max_new_tokens": 0}, "invalid_option_range", {"min": "1", "max": "4096"}),
        ({"opus_bitrate": 32}, "invalid_option_choice", {"option": "opus_bitrate"}),
        ({"sample_rate": 22050}, "invalid_option_choice", {"option": "sample_rate"}),
        ({"format": "opus"}, "invalid_voice_settings", {}),  # 16000 Hz is not an Opus rate
    ],
)  # fmt: skip
async def test_refused_before_sending(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
    options: dict[str, Any],
    key: str,
    placeholders: dict[str, str],
) -> None:
    emulator.requests.clear()
    with pytest.raises(ServiceValidationError) as err:
        await _speak(hass, DIALOGUE, **options)
    assert_translated(err.value, key, **placeholders)
    assert not _bodies(emulator)


async def test_live_stream_carries_the_settings(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A message still being written goes over the WebSocket with the same settings."""
    import asyncio  # noqa: PLC0415 - only this test streams

    async def text() -> Any:
        yield "<|speaker:0|>First line, written at once. "
        await asyncio.sleep(0.3)
        yield "<|speaker:1|>The second arrives later."

    stream = tts.async_create_stream(
        hass, ENTITY_ID, options={"speakers": [NARRATOR, ENERGETIC], "max_new_tokens": 256}
    )
    stream.async_set_message_stream(text())
    audio = b"".join([chunk async for chunk in stream.async_stream_result()])
    assert audio
    (session,) = emulator.ws_sessions
    request = session.request
    assert request is not None
    assert request["reference_id"] == [NARRATOR, ENERGETIC]
    assert request["max_new_tokens"] == 256
    assert request["prosody"]["normalize_loudness"] is False
    assert (request["sample_rate"], request["mp3_bitrate"]) == (16000, 64)


async def test_form_offers_the_settings_and_checks_the_rate(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_VOICE), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["step_id"] == "voice"
    # The collapsed section starts from its settings' defaults (the frontend shows the
    # section's default, so {} would show the bitrates unset); the rate may stay empty.
    (marker,) = (m for m in result["data_schema"].schema if m == SECTION_ADVANCED)
    defaults = marker.default()
    assert (defaults["mp3_bitrate"], defaults["opus_bitrate"]) == ("128", "-1000")
    assert defaults["temperature"] == 0.7
    assert "sample_rate" not in defaults
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], voice_form(name="Phone", format="mp3", sample_rate="8000")
    )
    assert result["errors"] == {"base": "sample_rate_not_for_format"}
    assert result["description_placeholders"] == {"format": "mp3", "rates": "32000, 44100"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        voice_form(name="Phone", format="wav", sample_rate="8000", opus_bitrate="48000"),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["sample_rate"] == 8000
    assert result["data"]["opus_bitrate"] == 48000
    assert result["data"]["normalize_loudness"] is True
    await hass.async_block_till_done()
    # Without a rate, the format's default: nothing stored, nothing sent.
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_VOICE), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], voice_form(name="Plain")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "sample_rate" not in result["data"]
    await hass.async_block_till_done()
