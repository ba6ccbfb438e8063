"""A self-hosted Fish Speech server as a second backend, end to end against the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
import time
from typing import Any

import aiohttp
from homeassistant.components import tts
from homeassistant.components.tts import DATA_COMPONENT
from homeassistant.components.tts.entity import TTSAudioRequest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_API_KEY, Platform
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
import ormsgpack
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.fish_audio_suite.api import (
    FishAudioConnectionError,
    FishAudioError,
    FishAudioInvalidResponseError,
    FishAudioNotFoundError,
    FishAudioRequestError,
    FishAudioResponseError,
    FishAudioServerError,
    FishAudioTimeoutError,
    FishSpeechClient,
)
from custom_components.fish_audio_suite.api.fish_speech import wav_stream_header
from custom_components.fish_audio_suite.const import (
    BACKEND_FISH_AUDIO,
    BACKEND_FISH_SPEECH,
    CONF_BACKEND,
    CONF_BASE_URL,
    CONF_NAME,
    CONF_VOICE_ID,
    DOMAIN,
    SUBENTRY_VOICE,
)
from custom_components.fish_audio_suite.diagnostics import async_get_config_entry_diagnostics
from custom_components.fish_audio_suite.fish_speech import (
    async_refresh_references,
    server_unique_id,
    speech_errors,
    translate_error,
)
from custom_components.fish_audio_suite.fish_speech_tts import FishSpeechTTSEntity
from custom_components.fish_audio_suite.voice_settings import (
    SECTION_ADVANCED,
    subentry_settings,
    voice_defaults,
)
from emulator import FishAudioEmulator, FishSpeechEmulator
from emulator.audio import mp3_duration
from emulator.fish_speech import demo_references, wav_file

from .audio_probe import Clip
from .conftest import FishSpeechFactory, async_proxy_clip

pytestmark = pytest.mark.usefixtures("socket_enabled")

KEY = "home-server-key"
ENTITY_ID = "tts.narrator_text_to_speech"
SENTENCE = "Hello from the house. This stays at home."
VOICE_DEFAULTS = voice_defaults(BACKEND_FISH_SPEECH)


def _form(**values: Any) -> dict[str, Any]:
    """Return voice form input as the frontend submits it (less-used settings nested)."""
    flat = {**VOICE_DEFAULTS, **values}
    advanced = {
        s.key: flat.pop(s.key)
        for s in subentry_settings(BACKEND_FISH_SPEECH)
        if s.advanced and s.key in flat
    }
    return {**flat, SECTION_ADVANCED: advanced}


@pytest.fixture
async def speech(make_fish_speech: FishSpeechFactory) -> FishSpeechEmulator:
    """A Fish Speech server (emulated) with two stored voices and no key."""
    return await make_fish_speech(references=demo_references(), audio_seconds_per_char=0.01)


def _entry(emu: FishSpeechEmulator, *, key: str | None = None, **voice: Any) -> MockConfigEntry:
    data: dict[str, Any] = {CONF_BACKEND: BACKEND_FISH_SPEECH, CONF_BASE_URL: emu.base_url}
    if key:
        data[CONF_API_KEY] = key
    return MockConfigEntry(
        domain=DOMAIN,
        title="Fish Speech (127.0.0.1)",
        unique_id=server_unique_id(emu.base_url),
        version=1,
        minor_version=2,
        data=data,
        subentries_data=[
            {
                "subentry_type": SUBENTRY_VOICE,
                "data": {**VOICE_DEFAULTS, CONF_NAME: "Narrator", CONF_VOICE_ID: "narrator",
                         **voice},
                "title": "Narrator",
                "unique_id": None,
            }
        ],
    )  # fmt: skip


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def local_entry(
    hass: HomeAssistant, speech: FishSpeechEmulator
) -> AsyncGenerator[MockConfigEntry]:
    """A loaded Fish Speech entry with one voice (the stored "narrator")."""
    entry = await _setup(hass, _entry(speech))
    assert entry.state is ConfigEntryState.LOADED
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


def _tts_bodies(emu: FishSpeechEmulator) -> list[dict[str, Any]]:
    return [ormsgpack.unpackb(r.body) for r in emu.requests if r.path == "/v1/tts"]


# ---------------------------------------------------------------------------- config flow


async def _start(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert "fish_speech" in result["menu_options"]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "fish_speech"}
    )


async def test_flow_without_voice(hass: HomeAssistant, speech: FishSpeechEmulator) -> None:
    """The third path creates a `fish_speech` entry, its id stable for the server."""
    result = await _start(hass)
    assert result["step_id"] == "fish_speech"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_URL: speech.base_url.upper().replace("HTTP", "http") + "/"}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "fish_speech_menu"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "fish_speech_finish"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    port = speech.base_url.rsplit(":", 1)[1]
    assert result["title"] == f"Fish Speech (127.0.0.1:{port})"
    assert result["data"] == {CONF_BACKEND: BACKEND_FISH_SPEECH, CONF_BASE_URL: speech.base_url}
    assert result["result"].unique_id == f"fish_speech:http://127.0.0.1:{port}"
    assert [r.path for r in speech.requests][:2] == ["/v1/health", "/v1/references/list"]
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    # Only speech: no credit sensors and no speech-to-text for a self-hosted server.
    platforms = {
        e.domain for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    }
    assert platforms <= {Platform.TTS}

    again = await _start(hass)
    again = await hass.config_entries.flow.async_configure(
        again["flow_id"], {CONF_BASE_URL: speech.base_url}
    )
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_configured"


async def test_flow_with_first_voice(hass: HomeAssistant, speech: FishSpeechEmulator) -> None:
    """The first voice picks from the server's stored voices; an unknown one is refused."""
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_URL: speech.base_url}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "fish_speech_voice"}
    )
    assert result["step_id"] == "fish_speech_voice"
    schema = result["data_schema"].schema
    offered = {str(key) for key in schema}
    # Only what the server takes (the table's marks): no model, latency, speed or volume.
    assert offered == {"name", "voice_id", "format", SECTION_ADVANCED}
    advanced = next(key for key in schema if str(key) == SECTION_ADVANCED)
    assert {str(key) for key in schema[advanced].schema.schema} == {
        "temperature", "top_p", "repetition_penalty", "max_new_tokens", "chunk_length",
        "seed"}  # fmt: skip
    voice_key = next(key for key in schema if str(key) == CONF_VOICE_ID)
    options = schema[voice_key].config["options"]
    assert [o["value"] for o in options] == ["kitchen-speaker", "narrator"]
    refused = await hass.config_entries.flow.async_configure(
        result["flow_id"], _form(voice_id="ghost")
    )
    assert refused["errors"] == {CONF_VOICE_ID: "reference_not_found"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _form(voice_id="kitchen-speaker", max_new_tokens=512.0)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (subentry,) = result["result"].subentries.values()
    assert subentry.title == "kitchen-speaker"
    assert subentry.data["max_new_tokens"] == 512
    assert isinstance(subentry.data["max_new_tokens"], int)
    await hass.async_block_till_done()


async def test_flow_default_voice_needs_no_reference(
    hass: HomeAssistant, speech: FishSpeechEmulator
) -> None:
    """An empty voice is the model's default voice."""
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_URL: speech.base_url}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "fish_speech_voice"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"format": "mp3", SECTION_ADVANCED: {"seed": 42.0}}
    )
    (subentry,) = result["result"].subentries.values()
    assert subentry.title == "Default voice"
    # In another language, the translated title (strings.json, selector.flow_text).
    hass.config.language = "fr"
    entry = result["result"]
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "voice"), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"format": "wav"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Voix par défaut"
    assert subentry.data[CONF_VOICE_ID] == ""
    assert subentry.data["seed"] == 42
    await hass.async_block_till_done()


async def test_flow_tells_failures_apart(
    hass: HomeAssistant, emulator: FishAudioEmulator, make_fish_speech: FishSpeechFactory
) -> None:
    """Unreachable, a refused key and a server that is not Fish Speech are told apart."""
    server = await make_fish_speech(api_key=KEY)
    result = await _start(hass)
    flow_id = result["flow_id"]
    for user_input, error in (
        ({CONF_BASE_URL: "ftp://nas.local"}, {CONF_BASE_URL: "invalid_url"}),
        ({CONF_BASE_URL: server.base_url}, {"base": "server_refused_key"}),
        ({CONF_BASE_URL: server.base_url, CONF_API_KEY: "wrong"},
         {"base": "server_refused_key"}),
        # The Fish Audio emulator answers, but it is not a Fish Speech server.
        ({CONF_BASE_URL: emulator.base_url, CONF_API_KEY: "test-key"},
         {"base": "not_fish_speech"}),
        ({CONF_BASE_URL: "http://127.0.0.1:9"}, {"base": "server_unreachable"}),
    ):  # fmt: skip
        result = await hass.config_entries.flow.async_configure(flow_id, user_input)
        assert result["errors"] == error, user_input
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_BASE_URL: server.base_url, CONF_API_KEY: f"  {KEY} "}
    )
    assert result["step_id"] == "fish_speech_menu"
    assert server.requests[-1].headers["Authorization"] == f"Bearer {KEY}"


async def test_flow_server_failure_and_unexpected(
    hass: HomeAssistant, speech: FishSpeechEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failing server and an unexpected error are reported as such."""

    async def failing(self: FishSpeechClient) -> list[str]:
        raise FishAudioServerError(500, "disk full")

    result = await _start(hass)
    monkeypatch.setattr(FishSpeechClient, "list_references", failing)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_URL: speech.base_url}
    )
    assert result["errors"] == {"base": "server_failed"}

    async def broken(self: FishSpeechClient) -> list[str]:
        raise RuntimeError("bug")

    monkeypatch.setattr(FishSpeechClient, "list_references", broken)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_URL: speech.base_url}
    )
    assert result["errors"] == {"base": "unknown"}


async def test_reconfigure_moves_the_unique_id(
    hass: HomeAssistant, local_entry: MockConfigEntry, make_fish_speech: FishSpeechFactory
) -> None:
    """Reconfigure changes address and key; the id follows; a taken address aborts."""
    other = await make_fish_speech(api_key=KEY, references=demo_references())
    taken = MockConfigEntry(
        domain=DOMAIN, unique_id="fish_speech:http://10.0.0.9:8080",
        data={CONF_BACKEND: BACKEND_FISH_SPEECH, CONF_BASE_URL: "http://10.0.0.9:8080"},
        version=1, minor_version=2,
    )  # fmt: skip
    taken.add_to_hass(hass)
    result = await local_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "fish_speech_reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_URL: "not a url"}
    )
    assert result["errors"] == {CONF_BASE_URL: "invalid_url"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_URL: other.base_url}
    )
    assert result["errors"] == {"base": "server_refused_key"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_URL: other.base_url, CONF_API_KEY: KEY}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert local_entry.unique_id == server_unique_id(other.base_url)
    assert local_entry.data[CONF_API_KEY] == KEY
    assert local_entry.state is ConfigEntryState.LOADED

    result = await local_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_URL: "http://10.0.0.9:8080"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    # The same address again (only the key changes) keeps the id.
    result = await local_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BASE_URL: other.base_url + "/", CONF_API_KEY: KEY}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()


async def test_refused_key_starts_reauth(
    hass: HomeAssistant, make_fish_speech: FishSpeechFactory
) -> None:
    """A key the server refuses at setup starts reauth; the new key loads the entry."""
    server = await make_fish_speech(api_key=KEY, references=demo_references())
    entry = await _setup(hass, _entry(server, key="old-key"))
    assert entry.state is ConfigEntryState.SETUP_ERROR
    (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["step_id"] == "fish_speech_reauth"
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["errors"] == {"base": "server_refused_key"}
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {CONF_API_KEY: KEY})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_API_KEY] == KEY
    await hass.config_entries.async_unload(entry.entry_id)


async def test_reauth_to_no_key(
    hass: HomeAssistant, speech: FishSpeechEmulator, local_entry: MockConfigEntry
) -> None:
    """An empty key in reauth means the server no longer uses one."""
    hass.config_entries.async_update_entry(
        local_entry, data={**local_entry.data, CONF_API_KEY: "stale"}
    )
    await hass.async_block_till_done()
    result = await local_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["reason"] == "reauth_successful"
    assert CONF_API_KEY not in local_entry.data


# ------------------------------------------------------------------- setup and migration


async def test_setup_not_ready(hass: HomeAssistant, speech: FishSpeechEmulator) -> None:
    """A server that is down at start is retried later."""
    entry = _entry(speech)
    await speech.stop()
    await _setup(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_old_entries_become_fish_audio(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """An entry made before backends existed is migrated to `fish_audio` (1.2)."""
    assert init_integration.minor_version == 2
    assert init_integration.data[CONF_BACKEND] == BACKEND_FISH_AUDIO


async def test_newer_entries_refused(hass: HomeAssistant, speech: FishSpeechEmulator) -> None:
    """An entry written by a newer major version is not guessed at."""
    entry = MockConfigEntry(domain=DOMAIN, version=2, data=_entry(speech).data)
    await _setup(hass, entry)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR


async def test_diagnostics(hass: HomeAssistant, local_entry: MockConfigEntry) -> None:
    """Diagnostics of a server show its address and how many voices, never a key."""
    diagnostics = await async_get_config_entry_diagnostics(hass, local_entry)
    assert diagnostics["references"] == 2
    assert diagnostics["base_url"] == local_entry.data[CONF_BASE_URL]


# ---------------------------------------------------------------------- voice subentries


async def test_subentry_add_and_reconfigure(
    hass: HomeAssistant, speech: FishSpeechEmulator, local_entry: MockConfigEntry
) -> None:
    """Voices are picked from a fresh list; reconfigure keeps only the server's settings."""
    speech.references["Garden"] = speech.references["narrator"]
    result = await hass.config_entries.subentries.async_init(
        (local_entry.entry_id, SUBENTRY_VOICE), context={"source": SOURCE_USER}
    )
    assert result["step_id"] == "local_voice"
    voice_key = next(k for k in result["data_schema"].schema if str(k) == CONF_VOICE_ID)
    listed = [o["value"] for o in result["data_schema"].schema[voice_key].config["options"]]
    assert listed == ["Garden", "kitchen-speaker", "narrator"]
    # Deleted on the server while the form was open: refused, not stored.
    local_entry.runtime_data.references.remove("narrator")
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_VOICE_ID: "narrator"}
    )
    assert result["errors"] == {CONF_VOICE_ID: "reference_not_found"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_VOICE_ID: "Garden", CONF_NAME: "Garden voice"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    garden = next(s for s in local_entry.subentries.values() if s.title == "Garden voice")
    assert hass.states.get("tts.garden_voice_text_to_speech") is not None

    result = await local_entry.start_subentry_reconfigure_flow(hass, garden.subentry_id)
    assert result["step_id"] == "local_voice"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], _form(**{**garden.data, "temperature": 0.3})
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert local_entry.subentries[garden.subentry_id].data["temperature"] == 0.3


async def test_subentry_needs_a_loaded_reachable_server(
    hass: HomeAssistant, speech: FishSpeechEmulator, local_entry: MockConfigEntry
) -> None:
    """Adding a voice aborts while the entry is not loaded or the server is down."""
    await speech.stop()
    result = await hass.config_entries.subentries.async_init(
        (local_entry.entry_id, SUBENTRY_VOICE), context={"source": SOURCE_USER}
    )
    assert result["reason"] == "cannot_connect"
    await hass.config_entries.async_unload(local_entry.entry_id)
    result = await hass.config_entries.subentries.async_init(
        (local_entry.entry_id, SUBENTRY_VOICE), context={"source": SOURCE_USER}
    )
    assert result["reason"] == "entry_not_loaded"


# ------------------------------------------------------------------------------- TTS


def _entity(hass: HomeAssistant) -> FishSpeechTTSEntity:
    entity = hass.data[DATA_COMPONENT].get_entity(ENTITY_ID)
    assert isinstance(entity, FishSpeechTTSEntity)
    return entity


async def _speak(hass: HomeAssistant, message: str = SENTENCE, **options: Any) -> bytes:
    media_id = tts.generate_media_source_id(
        hass, message, engine=ENTITY_ID, options=options or None, cache=False
    )
    _extension, data = await tts.async_get_media_source_audio(hass, media_id)
    return data


async def test_speak_streams_wav(
    hass: HomeAssistant, speech: FishSpeechEmulator, local_entry: MockConfigEntry
) -> None:
    """A complete message is one streamed request; the PCM arrives behind our WAV header."""
    entity = _entity(hass)
    assert set(entity.default_options or {}) == {
        "voice", "format", "temperature", "top_p", "repetition_penalty", "max_new_tokens",
        "chunk_length", "preferred_format"}  # fmt: skip
    request = TTSAudioRequest("en", dict(entity.default_options or {}), _once(SENTENCE))
    response = await entity.async_stream_tts_audio(request)
    assert response.extension == "wav"
    audio = b"".join([chunk async for chunk in response.data_gen])
    assert audio.startswith(wav_stream_header())
    (body,) = _tts_bodies(speech)
    assert body["text"] == SENTENCE
    assert body["streaming"] is True
    assert body["reference_id"] == "narrator"
    assert body["use_memory_cache"] == "on"
    # The voice list for Assist: the stored voices, the configured one first.
    assert [v.voice_id for v in entity.async_get_supported_voices("en")] == [
        "narrator", "kitchen-speaker"]  # fmt: skip


async def test_speak_mp3_not_streamed(
    hass: HomeAssistant, speech: FishSpeechEmulator, local_entry: MockConfigEntry
) -> None:
    """MP3 asked for is made whole (the server streams only WAV)."""
    audio = await _speak(hass, format="mp3", preferred_format="mp3", seed=7)
    assert mp3_duration(audio)
    (body,) = _tts_bodies(speech)
    assert body["format"] == "mp3"
    assert body["streaming"] is False
    assert body["seed"] == 7
    extension, data = await _entity(hass).async_get_tts_audio(
        "Short one.", "en", {"format": "mp3", "voice": ""}
    )
    assert extension == "mp3"
    assert mp3_duration(data)
    assert _tts_bodies(speech)[-1]["reference_id"] is None


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {
                "preferred_format": "wav",
                "preferred_sample_rate": 16000,
                "preferred_sample_channels": 1,
                "preferred_sample_bytes": 2,
            },
            Clip("wav", 16000, 1, 2),
        ),
        ({"preferred_format": "mp3", "preferred_sample_rate": 16000}, Clip("mp3", 16000, 1)),
        ({"preferred_sample_channels": 2}, Clip("wav", 44100, 2, 2)),
    ],
)
async def test_satellite_formats_converted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    *,
    local_entry: MockConfigEntry,
    options: dict[str, Any],
    expected: Clip,
) -> None:
    """The server makes 44.1 kHz mono only: Home Assistant converts to what was asked.

    The sample options are not the entity's, so every release converts for them (2026.11
    too, which leaves alone audio made in the asked format: the end-to-end test).
    """
    assert not {"preferred_sample_rate", "preferred_sample_channels"} & set(
        _entity(hass).supported_options
    )
    clip = await async_proxy_clip(hass, hass_client, ENTITY_ID, SENTENCE, options)
    assert clip.matches(expected), clip


async def test_unknown_voice_refused_before_synthesis(
    hass: HomeAssistant, speech: FishSpeechEmulator, local_entry: MockConfigEntry
) -> None:
    """An id the server does not store is refused; the server is never asked to speak."""
    with pytest.raises(HomeAssistantError) as err:
        await _speak(hass, voice="ghost")
    assert err.value.translation_key == "local_voice_not_found"
    assert not _tts_bodies(speech)
    assert "ghost" not in speech.references  # no empty folder left behind
    # A voice added on the server since setup is found by refreshing the list once.
    speech.references["New"] = speech.references["narrator"]
    await _speak(hass, voice="New")
    assert _tts_bodies(speech)[-1]["reference_id"] == "New"


async def test_options_checked(
    hass: HomeAssistant, speech: FishSpeechEmulator, local_entry: MockConfigEntry
) -> None:
    """Per-call options are the server's; values out of its bounds are refused."""
    entity = _entity(hass)
    for options, key in (
        ({"temperature": 0.05}, "invalid_option_range"),
        ({"max_new_tokens": 10.5}, "invalid_option_range"),
        ({"format": "opus"}, "invalid_option_choice"),
        ({"seed": True}, "invalid_option_range"),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await entity.async_stream_tts_audio(TTSAudioRequest("en", options, _once("Hi.")))
        assert err.value.translation_key == key
    with pytest.raises(HomeAssistantError):  # Home Assistant refuses options we do not take
        await _speak(hass, speed=1.5)
    assert not _tts_bodies(speech)


async def test_server_errors_translated(
    hass: HomeAssistant, speech: FishSpeechEmulator, local_entry: MockConfigEntry
) -> None:
    """The server's refusals and outages come back translated."""
    speech.max_text_length = 5
    with pytest.raises(HomeAssistantError) as err:
        await _speak(hass)
    assert err.value.translation_key == "local_invalid_request"
    assert "Text is too long" in str(err.value.translation_placeholders)
    await speech.stop()
    with pytest.raises(HomeAssistantError) as err:
        await _speak(hass, voice="")
    assert err.value.translation_key == "local_cannot_connect"


async def test_empty_message(hass: HomeAssistant, local_entry: MockConfigEntry) -> None:
    """Text without words makes no request and a translated error."""
    entity = _entity(hass)
    response = await entity.async_stream_tts_audio(
        TTSAudioRequest("en", dict(entity.default_options or {}), _once("   "))
    )
    with pytest.raises(HomeAssistantError) as err:
        async for _chunk in response.data_gen:
            pass
    assert err.value.translation_key == "empty_message"


async def _once(text: str) -> AsyncGenerator[str]:
    yield text


async def test_llm_text_sentence_by_sentence(
    hass: HomeAssistant, make_fish_speech: FishSpeechFactory
) -> None:
    """Text still being written plays its first sentence while the rest is written."""
    server = await make_fish_speech(
        references=demo_references(), sentence_latency=0.05, audio_seconds_per_char=0.005
    )
    entry = await _setup(hass, _entry(server))
    try:
        written_at: list[float] = []

        async def llm() -> AsyncGenerator[str]:
            for part in ("The first sentence is here. ", "Then a second", " one. And the end."):
                written_at.append(time.monotonic())
                yield part
                await asyncio.sleep(0.3)

        entity = _entity(hass)
        response = await entity.async_stream_tts_audio(
            TTSAudioRequest("en", dict(entity.default_options or {}), llm())
        )
        first_audio = None
        async for _chunk in response.data_gen:
            first_audio = first_audio or time.monotonic()
        assert first_audio is not None
        assert first_audio < written_at[1] + 0.1  # before the LLM's second sentence
        # Each request takes the complete sentences written by then; the tail comes last.
        assert [b["text"] for b in _tts_bodies(server)] == [
            "The first sentence is here.", "Then a second one.", "And the end."]  # fmt: skip
    finally:
        await hass.config_entries.async_unload(entry.entry_id)


async def test_bad_reauth_on_auth_error_at_use(
    hass: HomeAssistant, speech: FishSpeechEmulator, local_entry: MockConfigEntry
) -> None:
    """A key refused while speaking starts reauth."""
    speech.api_key = "changed"
    with pytest.raises(HomeAssistantError) as err:
        await _speak(hass, voice="")
    assert err.value.translation_key == "local_auth_failed"
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]


# ---------------------------------------------------------------------------- actions


async def _call(hass: HomeAssistant, service: str, entry: MockConfigEntry, **data: Any) -> Any:
    return await hass.services.async_call(
        DOMAIN,
        service,
        {"config_entry_id": entry.entry_id, **data},
        blocking=True,
        return_response=service
        in ("list_voices", "get_voice", "transcribe", "create_voice", "synthesize"),
    )


async def test_voice_actions(
    hass: HomeAssistant, speech: FishSpeechEmulator, local_entry: MockConfigEntry, tmp_path: Path
) -> None:
    """List (ids only), create from one recording, rename and delete map to the server."""
    listed = await _call(hass, "list_voices", local_entry)
    assert listed == {
        "total": 2,
        "voices": [{"id": "kitchen-speaker", "title": "kitchen-speaker"},
                   {"id": "narrator", "title": "narrator"}],
    }  # fmt: skip
    filtered = await _call(hass, "list_voices", local_entry, title="KITCHEN", page_size=1)
    assert filtered["voices"] == [{"id": "kitchen-speaker", "title": "kitchen-speaker"}]

    hass.config.allowlist_external_dirs = {str(tmp_path)}
    recording = tmp_path / "me.wav"
    recording.write_bytes(wav_file(b"\0\1" * 1000))
    created = await _call(
        hass, "create_voice", local_entry, title="My voice", audio=[str(recording)],
        texts=["This is what I said."],
    )  # fmt: skip
    assert created == {"voice": {"id": "My voice", "title": "My voice"}}
    assert speech.references["My voice"].text == "This is what I said."
    await _call(hass, "update_voice", local_entry, voice_id="My voice", title="Our voice")
    assert "Our voice" in speech.references
    await _call(hass, "delete_voice", local_entry, voice_id="Our voice")
    assert "Our voice" not in speech.references
    assert "Our voice" not in local_entry.runtime_data.references

    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "delete_voice", local_entry, voice_id="Our voice")
    assert err.value.translation_key == "local_voice_not_found"


async def test_voice_actions_refusals(
    hass: HomeAssistant, speech: FishSpeechEmulator, local_entry: MockConfigEntry, tmp_path: Path
) -> None:
    """What the server cannot do is refused with a translated error that names it."""
    refused = "not_supported_locally"
    for service, data, key, placeholders in (
        ("get_voice", {"voice_id": "narrator"}, f"{refused}_voice_details", {}),
        ("transcribe", {"audio": "/media/x.wav"}, f"{refused}_speech_to_text", {}),
        ("design_voice", {"instruction": "A calm voice.", "folder": str(tmp_path)},
         f"{refused}_voice_design", {}),
        ("list_voices", {"self_only": False}, f"{refused}_voice_library", {}),
        ("list_voices", {"tags": ["calm"]}, f"{refused}_field", {"field": "tags"}),
        ("create_voice", {"title": "A", "audio": ["/a.wav"], "texts": ["x"],
                          "description": "d"}, f"{refused}_field", {"field": "description"}),
        ("create_voice", {"title": "A", "audio": ["/a.wav"], "texts": ["x"],
                          "visibility": "public"}, f"{refused}_public_voice", {}),
        ("create_voice", {"title": "A", "audio": ["/a.wav", "/b.wav"], "texts": ["x", "y"]},
         "one_recording_and_transcript", {"count": "2"}),
        ("create_voice", {"title": "A", "audio": ["/a.wav"]}, "one_recording_and_transcript",
         {"count": "1"}),
        ("create_voice", {"title": "bad/name", "audio": ["/a.wav"], "texts": ["x"]},
         "invalid_reference_id", {"voice_id": "bad/name"}),
        ("update_voice", {"voice_id": "narrator", "tags": ["x"]}, f"{refused}_field",
         {"field": "tags"}),
        ("update_voice", {"voice_id": "narrator"}, "nothing_to_update", {"voice_id": "narrator"}),
        ("delete_voice", {"voice_id": "a/b"}, "invalid_reference_id", {"voice_id": "a/b"}),
    ):  # fmt: skip
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, service, local_entry, **data)
        assert err.value.translation_key == key, (service, data)
        # Each refusal has its own key; only the account and a field's name are filled in.
        expected = (
            {**placeholders, "account": local_entry.title}
            if key.startswith(refused)
            else placeholders
        )
        assert err.value.translation_placeholders == expected, (service, data)
    assert not [r for r in speech.requests if r.method != "GET"]


async def test_synthesize_to_file(
    hass: HomeAssistant, speech: FishSpeechEmulator, local_entry: MockConfigEntry, tmp_path: Path
) -> None:
    """`synthesize` writes the server's speech; cloud-only settings are refused."""
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    target = tmp_path / "hello.wav"
    result = await _call(
        hass, "synthesize", local_entry, entity_id=ENTITY_ID, message="Hello.",
        filename=str(target), temperature=0.5,
    )  # fmt: skip
    assert result["format"] == "wav"
    assert target.read_bytes().startswith(wav_stream_header())
    assert _tts_bodies(speech)[-1]["temperature"] == 0.5
    for data, key in (
        ({"speed": 1.5}, "not_supported_locally_field"),
        ({"voice_id": "ghost"}, "local_voice_not_found"),
        ({"entity_id": "tts.nothing"}, "not_a_voice_entity"),
        ({"message": "  "}, "empty_message"),
        ({"temperature": 0.05}, "invalid_voice_settings"),  # below this server's 0.1
    ):
        call = {"message": "Hi.", "filename": str(tmp_path / "x.wav"), **data}
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, "synthesize", local_entry, **call)
        assert err.value.translation_key == key, data


async def test_cloud_entry_unchanged(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A Fish Audio entry still has its sensors and speech-to-text."""
    domains = {
        e.domain
        for e in er.async_entries_for_config_entry(er.async_get(hass), init_integration.entry_id)
    }
    assert {Platform.SENSOR, Platform.STT, Platform.TTS} <= domains


async def test_session_not_closed(hass: HomeAssistant, local_entry: MockConfigEntry) -> None:
    """The entry uses Home Assistant's shared session, which unloading leaves open."""
    client = local_entry.runtime_data.client
    await hass.config_entries.async_unload(local_entry.entry_id)
    assert isinstance(client._get_session(), aiohttp.ClientSession)
    assert not client._get_session().closed


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (FishAudioServerError(500, "Failed to generate speech"), "local_server_error"),
        (FishAudioRequestError(400, "Text is too long"), "local_invalid_request"),
        (FishAudioResponseError(418, "teapot"), "local_invalid_request"),
        (FishAudioTimeoutError("Timeout while reading speech"), "local_timeout"),
        (FishAudioConnectionError("refused"), "local_cannot_connect"),
        (FishAudioInvalidResponseError("Unexpected content type"), "local_invalid_response"),
        (FishAudioError("odd"), "local_unexpected_error"),
        (FishAudioNotFoundError(404, "gone"), "local_invalid_request"),  # no voice named
    ],
)
async def test_error_mapping(
    hass: HomeAssistant, local_entry: MockConfigEntry, error: Exception, key: str
) -> None:
    """Every client error of a server maps to a translated error that names the server."""
    translated = translate_error(local_entry, error)  # type: ignore[arg-type]
    assert translated.translation_key == key
    assert translated.translation_placeholders is not None
    assert translated.translation_placeholders["account"] == local_entry.title


async def test_refresh_failure_keeps_the_list(
    hass: HomeAssistant,
    speech: FishSpeechEmulator,
    local_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A voice list that cannot be re-read after a change keeps the last one, with a warning."""
    await speech.stop()
    await async_refresh_references(local_entry)  # type: ignore[arg-type]
    assert local_entry.runtime_data.references == ["kitchen-speaker", "narrator"]
    assert "Could not refresh the voice list" in caplog.text


async def test_refused_input_is_a_validation_error(
    hass: HomeAssistant, local_entry: MockConfigEntry
) -> None:
    """Input the client refuses to send is the user's: a translated validation error."""
    with pytest.raises(ServiceValidationError) as err, speech_errors(local_entry):  # type: ignore[arg-type]
        raise ValueError("reference ids are 1-255 letters, digits, spaces, '-' or '_'")
    assert err.value.translation_key == "invalid_input"
