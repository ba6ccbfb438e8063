"""Tests of the text-to-speech entity, against the Fish Audio emulator over loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from datetime import timedelta
import io
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import conversation, media_source, tts
from homeassistant.components.assist_pipeline import PipelineEvent, PipelineEventType
from homeassistant.components.tts.const import DATA_COMPONENT, DOMAIN as TTS_DOMAIN
from homeassistant.components.tts.entity import TTSAudioRequest
from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import (
    chat_session,
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from mutagen.mp3 import MP3
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator, WebSocketGenerator

from custom_components.fish_audio_suite.api import TTSOptions
from custom_components.fish_audio_suite.const import (
    DOMAIN,
    ISSUE_INSUFFICIENT_CREDIT,
    SUBENTRY_VOICE,
    SUPPORTED_LANGUAGES,
    USAGE_REFRESH_DELAY,
    VOICES_UPDATE_INTERVAL,
)
from custom_components.fish_audio_suite.tts import (
    CONVERTS_HANDLED_OPTIONS,
    HAS_PREFERRED_BITRATE,
    FishAudioTTSEntity,
    with_bitrate,
)
from emulator import FishAudioEmulator, RecordedRequest
from emulator.voices import SEED_VOICE_IDS

from .audio_probe import Clip
from .conftest import (
    async_assist_pipeline,
    async_proxy_clip,
    async_spoken_reply,
    streaming_agent,
    voice_subentry_data,
)

ENTITY_ID = "tts.narrator_text_to_speech"
OWN_VOICE = SEED_VOICE_IDS["own_private"]
SENTENCE = "Hello from Home Assistant. This is Fish Audio speaking."

pytestmark = pytest.mark.usefixtures("socket_enabled")


def _entity(hass: HomeAssistant, entity_id: str = ENTITY_ID) -> FishAudioTTSEntity:
    entity = hass.data[DATA_COMPONENT].get_entity(entity_id)
    assert isinstance(entity, FishAudioTTSEntity)
    return entity


def _tts_requests(emulator: FishAudioEmulator) -> list[RecordedRequest]:
    return [r for r in emulator.requests if r.method == "POST" and r.path == "/v1/tts"]


async def _speak(hass: HomeAssistant, message: str = SENTENCE, **options: Any) -> bytes:
    """Speak a complete message through Home Assistant's TTS manager (joined)."""
    media_id = tts.generate_media_source_id(
        hass, message, engine=ENTITY_ID, options=options or None, cache=False
    )
    _extension, data = await tts.async_get_media_source_audio(hass, media_id)
    return data


async def _collect(stream: tts.ResultStream) -> bytes:
    return b"".join([chunk async for chunk in stream.async_stream_result()])


async def _once(text: str) -> AsyncGenerator[str]:
    yield text


async def _stream_with(hass: HomeAssistant, options: dict[str, Any]) -> tuple[str, bytes]:
    """Stream one sentence with the entity's defaults and ``options``; its extension and audio."""
    entity = _entity(hass)
    assert entity.default_options is not None
    response = await entity.async_stream_tts_audio(
        TTSAudioRequest("en", {**entity.default_options, **options}, _once(SENTENCE))
    )
    return response.extension, b"".join([chunk async for chunk in response.data_gen])


async def _drain(audio: AsyncGenerator[bytes]) -> None:
    async for _chunk in audio:
        pass


def _translation_key(err: pytest.ExceptionInfo[HomeAssistantError]) -> str | None:
    return err.value.translation_key


# --------------------------------------------------------------------------- the entity


async def test_entity(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """One entity per voice, on the voice's own device, with a translated name."""
    subentry = next(iter(init_integration.subentries.values()))
    entity_entry = er.async_get(hass).async_get(ENTITY_ID)
    assert entity_entry is not None
    assert entity_entry.unique_id == subentry.subentry_id
    assert entity_entry.translation_key == "text_to_speech"
    assert entity_entry.config_subentry_id == subentry.subentry_id
    device = dr.async_get(hass).async_get(entity_entry.device_id or "")
    assert device is not None
    assert device.identifiers == {(DOMAIN, subentry.subentry_id)}
    assert device.name == "Narrator"
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    assert state.attributes["friendly_name"] == "Narrator Text-to-speech"

    entity = _entity(hass)
    assert entity.name == "Text-to-speech"  # HA 2026.2 refuses a TTS engine without a name
    assert entity.supported_languages == SUPPORTED_LANGUAGES
    assert entity.default_language == "en"
    assert entity.supported_options == [
        "voice",
        "model",
        "latency",
        "speed",
        "volume",
        "temperature",
        "top_p",
        "normalize",
        "format",
        "normalize_loudness",
        "mp3_bitrate",
        "opus_bitrate",
        "sample_rate",
        "speakers",
        "max_new_tokens",
        "repetition_penalty",
        "min_chunk_length",
        "condition_on_previous_chunks",
        "early_stop_threshold",
        "preferred_format",
        "preferred_sample_rate",
        "preferred_sample_channels",
        "preferred_sample_bytes",
        *(["preferred_bitrate"] if HAS_PREFERRED_BITRATE else []),
    ]
    assert entity.default_options == {
        "voice": OWN_VOICE,
        "model": "s2.1-pro",
        "latency": "balanced",
        "speed": 1.0,
        "volume": 0.0,
        "temperature": 0.7,
        "top_p": 0.7,
        "normalize": True,
        "format": "mp3",
        "normalize_loudness": True,
        "mp3_bitrate": 128,
        "opus_bitrate": -1000,
        "preferred_format": "mp3",
    }


async def test_entity_per_voice(hass: HomeAssistant, emulator: FishAudioEmulator) -> None:
    """Each voice subentry gets an entity; other subentry types get none."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Fish Audio",
        unique_id="user-1",
        data={"api_key": "test-key", "base_url": emulator.base_url},
        subentries_data=[
            {"subentry_type": "voice", "data": voice_subentry_data(), "title": "Narrator"},
            {
                "subentry_type": "voice",
                "data": voice_subentry_data(name="Kitchen", format="wav"),
                "title": "Kitchen",
            },
            {"subentry_type": "other", "data": {}, "title": "Other"},
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    ids = sorted(
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.domain == "tts"
    )
    assert ids == ["tts.kitchen_text_to_speech", "tts.narrator_text_to_speech"]
    kitchen = _entity(hass, "tts.kitchen_text_to_speech")
    assert kitchen.default_options is not None
    assert kitchen.default_options["voice"] == ""  # Fish Audio's default voice
    assert kitchen.default_options["preferred_format"] == "wav"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_supported_voices(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    init_integration: MockConfigEntry,
) -> None:
    """Assist's voice picker lists the account's own voices, the configured one first.

    A pipeline with no voice chosen speaks with the first voice listed.
    """
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "tts/engine/voices", "engine_id": ENTITY_ID, "language": "de-DE"}
    )
    msg = await client.receive_json()
    assert msg["success"]
    (subentry,) = init_integration.subentries.values()
    configured = subentry.data["voice_id"]
    own = [{"voice_id": v.id, "name": v.title} for v in init_integration.runtime_data.voices.data]
    assert sorted(v["name"] for v in own) == ["My Kitchen Voice", "My Shared Voice"]
    first = next(v for v in own if v["voice_id"] == configured)
    # The rest keep the API's order.
    assert msg["result"]["voices"] == [first, *(v for v in own if v is not first)]


@pytest.mark.parametrize(
    "voice_settings",
    [
        voice_subentry_data(voice_id=SEED_VOICE_IDS["own_private"]),
        voice_subentry_data(voice_id=SEED_VOICE_IDS["own_public"]),
    ],
)
async def test_supported_voices_configured_first(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Whichever own voice is configured, it leads the list, with its own title."""
    (subentry,) = init_integration.subentries.values()
    voices = _entity(hass).async_get_supported_voices("en")
    assert voices[0].voice_id == subentry.data["voice_id"]
    assert voices[0].name in {"My Kitchen Voice", "My Shared Voice"}
    assert len(voices) == 2


@pytest.mark.parametrize(
    "voice_settings", [voice_subentry_data(voice_id=SEED_VOICE_IDS["narrator"])]
)
async def test_supported_voices_public_voice(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A public voice configured for the entity is offered too, first."""
    voices = _entity(hass).async_get_supported_voices("en")
    assert voices[0].voice_id == SEED_VOICE_IDS["narrator"]
    assert voices[0].name == "Narrator"
    assert {v.voice_id for v in voices[1:]} == {
        SEED_VOICE_IDS["own_private"],
        SEED_VOICE_IDS["own_public"],
    }


# --------------------------------------------------------------------------- complete messages


async def test_speak_to_media_player(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
) -> None:
    """`tts.speak` plays the emulator's audio, fetched through the TTS proxy URL."""
    assert await async_setup_component(hass, "media_source", {})
    calls = async_mock_service(hass, "media_player", "play_media")
    await hass.services.async_call(
        TTS_DOMAIN,
        "speak",
        {
            "entity_id": ENTITY_ID,
            "media_player_entity_id": "media_player.kitchen",
            "message": SENTENCE,
        },
        blocking=True,
    )
    assert len(calls) == 1
    media = await media_source.async_resolve_media(hass, calls[0].data["media_content_id"], None)
    assert media.url.startswith("/api/tts_proxy/")
    assert media.url.endswith(".mp3")
    assert media.mime_type == "audio/mpeg"

    client = await hass_client()
    response = await client.get(media.url)
    assert response.status == 200
    audio = await response.read()
    assert audio[:3] == b"ID3" or audio[:2] == b"\xff\xfb"
    assert len(audio) > 1000

    # One HTTP request with the voice's settings; no WebSocket for a complete message.
    [request] = _tts_requests(emulator)
    assert request.headers["model"] == "s2.1-pro"
    assert request.decoded is not None
    assert request.decoded["text"] == SENTENCE
    assert request.decoded["reference_id"] == OWN_VOICE
    assert request.decoded["format"] == "mp3"
    assert request.decoded["latency"] == "balanced"
    # S2: loudness normalisation is sent as the voice has it (on by default).
    assert request.decoded["prosody"] == {"speed": 1.0, "volume": 0.0, "normalize_loudness": True}
    assert not emulator.ws_sessions
    # The entity's state records the last synthesis.
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    assert state.state not in ("unknown", "unavailable")


async def test_per_call_options(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """Per-call options reach the request; YAML strings are accepted for numbers."""
    await _speak(
        hass,
        voice=SEED_VOICE_IDS["narrator"],
        model="s1",
        latency="low",
        speed="1.5",
        volume=-3,
        temperature=0.2,
        top_p=0.9,
        normalize="off",
    )
    [request] = _tts_requests(emulator)
    assert request.headers["model"] == "s1"
    decoded = request.decoded
    assert decoded is not None
    assert decoded["reference_id"] == SEED_VOICE_IDS["narrator"]
    assert decoded["latency"] == "low"
    assert decoded["prosody"] == {"speed": 1.5, "volume": -3.0}
    assert decoded["temperature"] == 0.2
    assert decoded["top_p"] == 0.9
    assert decoded["normalize"] is False


async def test_default_voice(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """An empty voice is Fish Audio's default voice: no reference_id is sent."""
    await _speak(hass, voice="")
    [request] = _tts_requests(emulator)
    assert request.decoded is not None
    assert "reference_id" not in request.decoded


async def test_cache_and_reconfigure(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """The cache replays a message; a reconfigured voice never gets the old audio."""

    async def speak_cached() -> bytes:
        media_id = tts.generate_media_source_id(hass, SENTENCE, engine=ENTITY_ID, cache=True)
        return (await tts.async_get_media_source_audio(hass, media_id))[1]

    first = await speak_cached()
    assert await speak_cached() == first
    assert len(_tts_requests(emulator)) == 1  # served from Home Assistant's cache

    subentry = next(iter(init_integration.subentries.values()))
    hass.config_entries.async_update_subentry(
        init_integration, subentry, data={**subentry.data, "speed": 1.25}
    )
    await hass.async_block_till_done()  # the update listener reloads the entry
    assert _entity(hass).default_options is not None
    assert _entity(hass).default_options["speed"] == 1.25  # type: ignore[index]

    await speak_cached()
    requests = _tts_requests(emulator)
    assert len(requests) == 2
    assert requests[1].decoded is not None
    assert requests[1].decoded["prosody"]["speed"] == 1.25


@pytest.mark.parametrize(
    ("voice_settings", "options", "magic", "extension", "request_format", "sample_rate"),
    [
        # The voice's format is delivered as is.
        (voice_subentry_data(format="wav"), {}, b"RIFF", "wav", "wav", None),
        (voice_subentry_data(format="opus"), {}, b"OggS", "opus", "opus", None),
        (voice_subentry_data(format="pcm"), {}, None, "pcm", "pcm", None),
        # A container Fish Audio makes itself is asked for directly, at the asked rate.
        (voice_subentry_data(), {"preferred_format": "wav"}, b"RIFF", "wav", "wav", None),
        # A satellite's WAV at a rate: made as asked where Home Assistant then leaves it alone
        # (2026.11); as MP3 where it runs ffmpeg anyway (2026.2, 2026.10): ffmpeg starts on an
        # MP3 stream sooner than on a WAV one (benchmarks/README.md).
        (
            voice_subentry_data(),
            {"preferred_format": "wav", "preferred_sample_rate": 16000},
            *(
                (b"", "mp3", "mp3", None)
                if CONVERTS_HANDLED_OPTIONS
                else (b"RIFF", "wav", "wav", 16000)
            ),
        ),
        (
            voice_subentry_data(),
            {"preferred_format": "mp3", "preferred_sample_rate": 16000},
            b"",
            "mp3",
            "mp3",
            None,  # not an MP3 rate: Home Assistant resamples (2026.11: from 16 kHz WAV)
        ),
        # Otherwise `format` is what Fish Audio sends and Home Assistant converts.
        (voice_subentry_data(), {"format": "wav"}, b"RIFF", "wav", "wav", None),
        (voice_subentry_data(), {"preferred_format": "flac"}, b"", "mp3", "mp3", None),
        # ffmpeg cannot read Opus by that name (`-f opus`): Home Assistant converts MP3.
        (voice_subentry_data(format="opus"), {"preferred_format": "flac"}, b"", "mp3", "mp3", None),
        # Raw PCM cannot be converted (no header): WAV carries the same samples.
        (
            voice_subentry_data(format="pcm"),
            {"preferred_format": "flac"},
            b"RIFF",
            "wav",
            "wav",
            None,
        ),
    ],
)
async def test_formats(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
    options: dict[str, Any],
    magic: bytes | None,
    extension: str,
    request_format: str,
    sample_rate: int | None,
) -> None:
    """The extension returned is the format Fish Audio actually produced."""
    made, audio = await _stream_with(hass, options)
    assert made == extension
    assert audio
    if magic:
        assert audio.startswith(magic)
    elif magic is None:  # headerless samples
        assert audio[:4] not in (b"RIFF", b"OggS", b"ID3\x03")
    [request] = _tts_requests(emulator)
    assert request.decoded is not None
    assert request.decoded["format"] == request_format
    assert request.decoded.get("sample_rate") == sample_rate


async def test_preferred_bitrate_offered_where_home_assistant_has_it(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Offered where Home Assistant's tts component has the option (2026.10.4 does, 2026.2.3 not).

    Where it is missing Home Assistant refuses an option an engine does not list, so it never
    reaches the entity; the end-to-end test shows a real Home Assistant handing it over.
    """
    offered = "preferred_bitrate" in _entity(hass).supported_options
    assert offered is hasattr(tts, "ATTR_PREFERRED_BITRATE")
    assert offered is HAS_PREFERRED_BITRATE


@pytest.mark.parametrize(
    ("voice_settings", "options", "extension", "fields"),
    [
        # A bitrate Fish Audio makes is made there (mp3_bitrate in kbps, opus_bitrate in bps).
        (voice_subentry_data(), {"preferred_bitrate": 64}, "mp3", {"mp3_bitrate": 64}),
        (voice_subentry_data(), {"preferred_bitrate": "192"}, "mp3", {"mp3_bitrate": 192}),
        # Before 2026.11 Home Assistant converts for a bitrate too, and cannot read Opus:
        # WAV, which it encodes to Opus (2026.11 leaves Opus at 48 kbps alone: the end-to-end
        # test, and test_with_bitrate).
        (
            voice_subentry_data(format="opus"),
            {"preferred_bitrate": 48},
            "wav",
            {"format": "wav"},
        ),
        # Another MP3 bitrate: WAV from Fish Audio, which Home Assistant encodes at that rate.
        (voice_subentry_data(), {"preferred_bitrate": 96}, "wav", {"format": "wav"}),
        # A format without a bitrate: the voice's own setting.
        (voice_subentry_data(format="wav"), {"preferred_bitrate": 64}, "wav", {"format": "wav"}),
        (voice_subentry_data(), {"preferred_bitrate": None}, "mp3", {"mp3_bitrate": 128}),
    ],
)
async def test_preferred_bitrate(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
    options: dict[str, Any],
    extension: str,
    fields: dict[str, Any],
) -> None:
    """preferred_bitrate (kbps) becomes Fish Audio's own bitrate where the API has it."""
    made, audio = await _stream_with(hass, options)
    assert made == extension
    [request] = _tts_requests(emulator)
    assert request.decoded is not None
    assert {key: request.decoded[key] for key in fields} == fields
    if extension == "mp3":
        assert MP3(io.BytesIO(audio)).info.bitrate == fields["mp3_bitrate"] * 1000


@pytest.mark.parametrize(
    ("audio_format", "kbps", "fields"),
    [
        ("mp3", 64, {"mp3_bitrate": 64}),
        ("mp3", 96, None),
        ("opus", 48, {"opus_bitrate": 48000}),
        ("opus", 40, None),
        ("wav", 64, None),
    ],
)
def test_with_bitrate(audio_format: str, kbps: int, fields: dict[str, int] | None) -> None:
    """Only the bitrates Fish Audio lists are made there (mp3 in kbps, opus in bps)."""
    made = with_bitrate(TTSOptions(format=audio_format), kbps)  # type: ignore[arg-type]
    if fields is None:
        assert made is None
    else:
        assert made is not None
        assert {key: getattr(made, key) for key in fields} == fields


@pytest.mark.parametrize("voice_settings", [voice_subentry_data(format="wav")])
async def test_wav_through_the_proxy(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
) -> None:
    """A WAV voice is served as WAV: Home Assistant does not transcode it to MP3."""
    stream = tts.async_create_stream(hass, ENTITY_ID)
    assert stream.extension == "wav"
    stream.async_set_message(SENTENCE)
    client = await hass_client()
    response = await client.get(stream.url)
    assert response.status == 200
    assert response.content_type == "audio/x-wav"
    assert (await response.read()).startswith(b"RIFF")


_SATELLITE_WAV = {
    "preferred_format": "wav",
    "preferred_sample_rate": 16000,
    "preferred_sample_channels": 1,
    "preferred_sample_bytes": 2,
}
_VOICE_PE_FLAC = {**_SATELLITE_WAV, "preferred_format": "flac", "preferred_sample_rate": 48000}
_BITRATE = pytest.mark.skipif(
    not HAS_PREFERRED_BITRATE, reason="Home Assistant 2026.2 has no preferred_bitrate"
)


@pytest.mark.parametrize(
    ("voice_settings", "options", "expected"),
    [
        (voice_subentry_data(), _SATELLITE_WAV, Clip("wav", 16000, 1, 2)),
        (voice_subentry_data(), _VOICE_PE_FLAC, Clip("flac", 48000, 1, 2)),
        # Rates Fish Audio's MP3 does not come at (SAMPLE_RATES) and one it does.
        (voice_subentry_data(), {"preferred_sample_rate": 16000}, Clip("mp3", 16000, 1)),
        (voice_subentry_data(), {"preferred_sample_rate": 32000}, Clip("mp3", 32000, 1)),
        (
            voice_subentry_data(),
            {"preferred_format": "wav", "preferred_sample_rate": 22050},
            Clip("wav", 22050, 1, 2),
        ),
        # Fish Audio is mono: Home Assistant makes the two channels.
        (
            voice_subentry_data(),
            {**_SATELLITE_WAV, "preferred_sample_channels": 2},
            Clip("wav", 16000, 2, 2),
        ),
        # Home Assistant's conversion writes 16-bit samples whatever the size asked.
        (
            voice_subentry_data(),
            {"preferred_format": "wav", "preferred_sample_bytes": 4},
            Clip("wav", 44100, 1, 2),
        ),
        # ffmpeg reads neither Opus by that name (`-f opus`: asked for Opus, the conversion
        # failed and the proxy answered 500) nor headerless PCM: MP3 and WAV it reads.
        (voice_subentry_data(format="opus"), {"preferred_format": "flac"}, Clip("flac", 44100, 1)),
        (
            voice_subentry_data(format="opus"),
            {"preferred_sample_rate": 48000},
            Clip("opus", 48000, 1),
        ),
        (voice_subentry_data(format="pcm"), {"preferred_format": "flac"}, Clip("flac", 44100, 1)),
        pytest.param(
            voice_subentry_data(format="opus"),
            {"preferred_bitrate": 48},
            Clip("opus", 48000, 1),
            marks=_BITRATE,
        ),
        pytest.param(
            voice_subentry_data(),
            {"preferred_bitrate": 96},
            Clip("mp3", 44100, 1, None, 96),
            marks=_BITRATE,
        ),
    ],
)
async def test_formats_through_the_proxy(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    *,
    init_integration: MockConfigEntry,
    options: dict[str, Any],
    expected: Clip,
) -> None:
    """What Home Assistant's proxy serves is what was asked, read from the file's headers.

    Home Assistant's own conversion (its real ffmpeg) makes what Fish Audio cannot; these
    releases (2026.2, 2026.10) run it for every sample option. 2026.11, which runs it only
    for audio made in another format, is the end-to-end test's (tests/e2e, FORMAT_CASES).
    """
    clip = await async_proxy_clip(hass, hass_client, ENTITY_ID, SENTENCE, options)
    assert clip.matches(expected), clip


@pytest.mark.parametrize("voice_settings", [voice_subentry_data(format="pcm")])
async def test_pcm_that_would_be_converted(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """Raw PCM with a sample option is refused in words: ffmpeg cannot write raw PCM.

    These releases convert whenever a sample option is given (2026.11 only for audio that
    Fish Audio cannot make, and makes 16 kHz PCM itself).
    """
    with pytest.raises(ServiceValidationError) as err:
        await _speak(hass, preferred_sample_rate=16000)
    assert _translation_key(err) == "pcm_not_convertible"
    assert not _tts_requests(emulator)
    assert await _speak(hass)  # without the option, the PCM comes as made


async def test_get_tts_audio(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """The one-piece API works too, over HTTP."""
    extension, data = await _entity(hass).async_get_tts_audio(SENTENCE, "en", {})
    assert extension == "mp3"
    assert data
    assert len(_tts_requests(emulator)) == 1
    assert not emulator.ws_sessions


async def test_complete_message_in_chunks_uses_http(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A message whose chunks are all there at once is complete: one HTTP request."""

    async def chunks() -> AsyncGenerator[str]:
        for word in SENTENCE.split(" "):
            yield word + " "

    stream = tts.async_create_stream(hass, ENTITY_ID)
    stream.async_set_message_stream(chunks())
    assert await _collect(stream)
    [request] = _tts_requests(emulator)
    assert request.decoded is not None
    assert request.decoded["text"] == SENTENCE + " "
    assert not emulator.ws_sessions


async def test_usage_refreshes_credit(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Each synthesis refreshes the credit sensors soon after (debounced)."""
    await _speak(hass)
    await _speak(hass, "A second message.")
    freezer.tick(timedelta(seconds=USAGE_REFRESH_DELAY + 1))
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done()
    paths = [r.path for r in emulator.requests]
    last_tts = max(i for i, path in enumerate(paths) if path == "/v1/tts")
    # The credit was read again after the last synthesis.
    assert "/wallet/self/api-credit" in paths[last_tts:]


# --------------------------------------------------------------------------- streaming


async def test_streaming_text(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """Text still being written goes over the WebSocket; audio comes before the text ends."""
    deltas = [
        "Sure, here is the weather. ",
        "Today it is sunny ",
        "with a light breeze, ",
        "and tonight it will be clear. ",
        "Enjoy your day!",
    ]
    text_done = asyncio.Event()
    gap = 0.3

    async def llm() -> AsyncGenerator[str]:
        for index, delta in enumerate(deltas):
            if index:
                await asyncio.sleep(gap)
            yield delta
        text_done.set()

    # As the Assist pipeline does it: a stream created first, the message stream set later.
    stream = tts.async_create_stream(hass, ENTITY_ID, language="en")
    assert stream.supports_streaming_input
    start = time.monotonic()
    stream.async_set_message_stream(llm())
    first_audio: float | None = None
    audio_before_text_done = False
    chunks: list[bytes] = []
    async with asyncio.timeout(10):
        async for chunk in stream.async_stream_result():
            if first_audio is None:
                first_audio = time.monotonic() - start
                audio_before_text_done = not text_done.is_set()
            chunks.append(chunk)
    assert audio_before_text_done
    assert first_audio is not None
    assert first_audio < gap * (len(deltas) - 1)
    assert b"".join(chunks)[:3] == b"ID3" or chunks[0][:2] == b"\xff\xfb"

    assert not _tts_requests(emulator)
    [session] = emulator.ws_sessions
    events = [e["event"] for e in session.events]
    assert events[0] == "start"
    assert events[-1] == "stop"
    assert session.request is not None
    assert session.request["reference_id"] == OWN_VOICE
    texts = [e for e in session.events if e["event"] == "text"]
    assert "".join(e["text"] for e in texts) == "".join(deltas)
    # The first sentence is flushed at once, before the next text arrives...
    first_flush = events.index("flush")
    assert session.events[first_flush - 1]["text"].endswith("weather. ")
    assert session.events[first_flush]["monotonic"] < texts[1]["monotonic"]
    assert session.segments[0]["reason"] == "flush"
    assert session.segments[0]["text"] == deltas[0]
    # ...and the first audio left the server before the LLM had finished writing.
    first_sent = next(s for s in session.sent if s.get("event") == "audio")
    assert first_sent["monotonic"] < texts[-1]["monotonic"]


async def test_pipeline_style_queue(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A queue-fed message (what the Assist pipeline hands over) is streamed live."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    queue.put_nowait("The pipeline gathered these first sixty-odd characters already. ")

    async def from_queue() -> AsyncGenerator[str]:
        while (text := await queue.get()) is not None:
            yield text

    entity = _entity(hass)
    assert entity.default_options is not None
    response = await entity.async_stream_tts_audio(
        TTSAudioRequest("en", dict(entity.default_options), from_queue())
    )
    audio = response.data_gen
    first = await asyncio.wait_for(anext(audio), 5)  # audio before the LLM wrote more
    assert first
    queue.put_nowait("")  # empty deltas are not sent
    queue.put_nowait("And then some more.")
    queue.put_nowait(None)
    rest = [chunk async for chunk in audio]
    assert rest or first
    [session] = emulator.ws_sessions
    texts = [e["text"] for e in session.events if e["event"] == "text"]
    assert texts == [
        "The pipeline gathered these first sixty-odd characters already. ",
        "And then some more.",
    ]


def _stalling_llm(first: str, cancelled: asyncio.Event) -> Callable[[], AsyncGenerator[str]]:
    """Return an LLM stand-in that writes ``first``, then waits until cancelled (and says so)."""

    async def llm() -> AsyncGenerator[str]:
        yield first
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        yield "never"  # pragma: no cover

    return llm


async def test_consumer_stops_early(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A consumer that stops listening closes the WebSocket and the pending text read."""
    cancelled = asyncio.Event()
    slow_llm = _stalling_llm("First sentence is here. ", cancelled)

    entity = _entity(hass)
    assert entity.default_options is not None
    response = await entity.async_stream_tts_audio(
        TTSAudioRequest("en", dict(entity.default_options), slow_llm())
    )
    audio = response.data_gen
    assert await asyncio.wait_for(anext(audio), 5)
    async with asyncio.timeout(5):
        await audio.aclose()
        [session] = emulator.ws_sessions
        await session.wait_closed()
    assert cancelled.is_set()
    assert session.closed is not None


async def test_http_consumer_stops_early(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """Closing the audio of a complete message early releases the HTTP response."""
    emulator.chunk_delay = 0.2
    entity = _entity(hass)
    assert entity.default_options is not None
    response = await entity.async_stream_tts_audio(
        TTSAudioRequest("en", dict(entity.default_options), _once(SENTENCE * 4))
    )
    audio = response.data_gen
    assert await asyncio.wait_for(anext(audio), 5)
    async with asyncio.timeout(1):
        await audio.aclose()


async def test_text_generator_error(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """An error in the text stream reaches the consumer, and the socket is closed."""

    class LLMError(Exception):
        pass

    async def failing_llm() -> AsyncGenerator[str]:
        yield "A first sentence. "
        await asyncio.sleep(0.05)
        raise LLMError

    entity = _entity(hass)
    assert entity.default_options is not None
    response = await entity.async_stream_tts_audio(
        TTSAudioRequest("en", dict(entity.default_options), failing_llm())
    )
    with pytest.raises(LLMError):
        await asyncio.wait_for(_drain(response.data_gen), 5)
    [session] = emulator.ws_sessions
    await session.wait_closed()


async def test_error_while_reading_ready_text(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """An error raised by the text stream before any wait propagates as is."""

    class LLMError(Exception):
        pass

    async def failing() -> AsyncGenerator[str]:
        yield "Hello. "
        raise LLMError

    entity = _entity(hass)
    assert entity.default_options is not None
    response = await entity.async_stream_tts_audio(
        TTSAudioRequest("en", dict(entity.default_options), failing())
    )
    with pytest.raises(LLMError):
        await anext(response.data_gen)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("options", "translation_key"),
    [
        ({"speed": 3}, "invalid_option_range"),
        ({"speed": "fast"}, "invalid_option_range"),
        ({"speed": True}, "invalid_option_range"),
        ({"speed": None}, "invalid_option_range"),
        ({"volume": -21}, "invalid_option_range"),
        ({"temperature": 1.5}, "invalid_option_range"),
        ({"top_p": float("nan")}, "invalid_option_range"),
        ({"model": "s9"}, "invalid_option_choice"),
        ({"latency": "instant"}, "invalid_option_choice"),
        ({"format": "flac"}, "invalid_option_choice"),
        ({"normalize": "maybe"}, "invalid_option_boolean"),
        ({"voice": ["a", "b"]}, "invalid_option_text"),
    ],
)
async def test_invalid_options(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
    options: dict[str, Any],
    translation_key: str,
) -> None:
    """A bad option value is refused with a translated error, before any request."""
    with pytest.raises(ServiceValidationError) as err:
        await _speak(hass, **options)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == translation_key
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders["option"] == next(iter(options))
    assert str(err.value)  # the message is rendered from translations/en.json
    assert not _tts_requests(emulator)

    # The one-piece API validates the same way.
    with pytest.raises(ServiceValidationError):
        await _entity(hass).async_get_tts_audio(SENTENCE, "en", options)


async def test_unknown_option(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """An option the entity does not know is refused by Home Assistant."""
    with pytest.raises(HomeAssistantError, match="Invalid options"):
        tts.async_create_stream(hass, ENTITY_ID, options={"pitch": 2})


async def test_empty_message(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """Nothing to say is a translated error, not a request."""

    async def nothing() -> AsyncGenerator[str]:
        for _ in ():
            yield ""

    stream = tts.async_create_stream(hass, ENTITY_ID)
    stream.async_set_message_stream(nothing())
    with pytest.raises(HomeAssistantError) as err:
        await _collect(stream)
    assert _translation_key(err) == "empty_message"
    with pytest.raises(HomeAssistantError) as err:
        await _entity(hass).async_get_tts_audio("   ", "en", {})
    assert _translation_key(err) == "empty_message"
    assert not _tts_requests(emulator)


# --------------------------------------------------------------------------- errors


async def test_auth_error_starts_reauth(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A refused key is a translated error and starts the reauth flow."""
    emulator.faults.preset("POST /v1/tts", "401-plain")
    with pytest.raises(HomeAssistantError) as err:
        await _speak(hass)
    assert _translation_key(err) == "auth_failed"
    assert "test-key" not in str(err.value)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_insufficient_credit_raises_issue(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A refusal for lack of credit is a translated error and a repair issue."""
    emulator.faults.preset("POST /v1/tts", "402")
    with pytest.raises(HomeAssistantError) as err:
        await _speak(hass)
    assert _translation_key(err) == "insufficient_credit"
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"{ISSUE_INSUFFICIENT_CREDIT}_{init_integration.entry_id}"
    )
    assert issue is not None


async def test_unknown_voice(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """An unknown voice (404) is named in the error."""
    emulator.state.unknown_reference_status = 404
    with pytest.raises(HomeAssistantError) as err:
        await _speak(hass, voice="0123456789abcdef0123456789abcdef")
    assert _translation_key(err) == "voice_not_found"
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders["voice_id"] == "0123456789abcdef0123456789abcdef"
    assert "0123456789abcdef0123456789abcdef" in str(err.value)


async def test_unknown_voice_bad_request(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """An unknown voice answered with 400 carries the server's message, which names it."""
    with pytest.raises(HomeAssistantError) as err:
        await _speak(hass, voice="0123456789abcdef0123456789abcdef")
    assert _translation_key(err) == "invalid_request"
    assert "0123456789abcdef0123456789abcdef" in str(err.value)


async def test_rate_limited_after_retries(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """Rate limiting that outlasts the retries is a translated error."""
    emulator.faults.http(
        "POST /v1/tts", 429, body={"message": "busy"}, headers={"Retry-After": "0"}, times=None
    )
    with pytest.raises(HomeAssistantError) as err:
        await _speak(hass)
    assert _translation_key(err) == "rate_limited"
    assert len(_tts_requests(emulator)) == 4  # the first try and three retries


async def test_transient_error_is_retried(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A 429 before any audio is retried and the user gets the audio."""
    emulator.faults.http("POST /v1/tts", 429, headers={"Retry-After": "0"}, times=1)
    assert await _speak(hass)
    assert len(_tts_requests(emulator)) == 2


async def test_http_stream_broken(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A connection dropped mid-audio is a translated error, not a short clip."""
    emulator.faults.truncate("POST /v1/tts", after_bytes=600)
    with pytest.raises(HomeAssistantError) as err:
        await _speak(hass, message=SENTENCE * 3)
    assert _translation_key(err) == "cannot_connect"


async def _stream_live(hass: HomeAssistant) -> bytes:
    """Stream a slowly written message through the TTS manager."""

    async def llm() -> AsyncGenerator[str]:
        yield "A first sentence. "
        await asyncio.sleep(0.05)
        yield "And a second one."

    stream = tts.async_create_stream(hass, ENTITY_ID)
    stream.async_set_message_stream(llm())
    async with asyncio.timeout(10):
        return await _collect(stream)


@pytest.mark.parametrize(
    ("mode", "after_audio_chunks"),
    [
        ("finish-error", 0),
        ("finish-error", 1),
        ("close", 1),
        ("error-event", 0),
        ("malformed", 0),
        ("non-map", 0),
        ("text-frame", 0),
    ],
)
async def test_live_stream_errors(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
    mode: str,
    after_audio_chunks: int,
) -> None:
    """A live stream that ends badly ends with a translated error; nothing hangs."""
    emulator.faults.ws(mode, after_audio_chunks=after_audio_chunks, message="model overloaded")
    with pytest.raises(HomeAssistantError) as err:
        await _stream_live(hass)
    assert _translation_key(err) == "stream_failed"
    [session] = emulator.ws_sessions
    await session.wait_closed()


async def test_live_unknown_events_ignored(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """Events the integration does not know are ignored; the audio completes."""
    emulator.faults.ws("unknown-events")
    assert await _stream_live(hass)


@pytest.mark.parametrize(
    ("mode", "key"), [("reject-401", "auth_failed"), ("reject-402", "insufficient_credit")]
)
async def test_live_handshake_refused(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
    mode: str,
    key: str,
) -> None:
    """A refused WebSocket handshake maps like HTTP: reauth, or the credit issue."""
    emulator.faults.ws(mode)
    with pytest.raises(HomeAssistantError) as err:
        await _stream_live(hass)
    assert _translation_key(err) == key
    if key == "auth_failed":
        flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    else:
        assert ir.async_get(hass).async_get_issue(
            DOMAIN, f"{ISSUE_INSUFFICIENT_CREDIT}_{init_integration.entry_id}"
        )


async def test_live_refused_while_text_is_written(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A refused stream ends at once, and the read waiting on the LLM is stopped."""
    cancelled = asyncio.Event()
    stalled_llm = _stalling_llm("A first sentence. ", cancelled)

    emulator.faults.ws("reject-402")
    stream = tts.async_create_stream(hass, ENTITY_ID)
    stream.async_set_message_stream(stalled_llm())
    with pytest.raises(HomeAssistantError) as err:
        await asyncio.wait_for(_collect(stream), 5)
    assert _translation_key(err) == "insufficient_credit"
    assert cancelled.is_set()


@pytest.mark.parametrize("suspends", [True, False])
async def test_live_endless_text_ends_and_releases_its_slot(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
    client_options: Callable[..., None],
    suspends: bool,
) -> None:
    """An LLM that never ends (awaiting between chunks, or never suspending at all) is cut
    off at the live stream's text cap with a translated error, its slot released; the
    next reply is spoken."""
    client_options(live_text_max_chars=400)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    closed = asyncio.Event()

    async def endless_llm() -> AsyncGenerator[str]:
        try:
            while True:
                yield "and on and on, "
                if suspends:
                    await asyncio.sleep(0)
        finally:
            closed.set()

    stream = tts.async_create_stream(hass, ENTITY_ID)
    stream.async_set_message_stream(endless_llm())
    with pytest.raises(HomeAssistantError) as err:
        async with asyncio.timeout(30):  # a hang guard, not a speed
            await _collect(stream)
    assert _translation_key(err) == "text_stream_failed"
    assert "400 characters" in str(err.value)
    assert closed.is_set()
    assert init_integration.runtime_data.client.slots.in_use == 0
    [session] = emulator.ws_sessions
    await session.wait_closed()
    sent = "".join(e["text"] for e in session.events if e["event"] == "text")
    assert len(sent) <= 400
    assert await _stream_live(hass)


async def test_live_stalled_text_ends_and_releases_its_slot(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
    client_options: Callable[..., None],
) -> None:
    """An LLM that stops writing mid-reply: the wait for its next chunk is bounded."""
    client_options(live_text_timeout=0.3)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    cancelled = asyncio.Event()
    stream = tts.async_create_stream(hass, ENTITY_ID)
    stream.async_set_message_stream(_stalling_llm("A first sentence, ", cancelled)())
    with pytest.raises(HomeAssistantError) as err:
        async with asyncio.timeout(30):  # a hang guard, not a speed
            await _collect(stream)
    assert _translation_key(err) == "text_stream_failed"
    assert "no new text" in str(err.value)
    assert cancelled.is_set()
    assert init_integration.runtime_data.client.slots.in_use == 0
    assert await _stream_live(hass)


async def test_live_unknown_voice(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """An unknown voice on the live stream is a translated error (the server's finish)."""
    subentry = next(iter(init_integration.subentries.values()))
    hass.config_entries.async_update_subentry(
        init_integration,
        subentry,
        data={**subentry.data, "voice_id": "0123456789abcdef0123456789abcdef"},
    )
    await hass.async_block_till_done()
    with pytest.raises(HomeAssistantError) as err:
        await _stream_live(hass)
    assert _translation_key(err) == "stream_failed"
    assert "0123456789abcdef0123456789abcdef" in str(err.value)


async def test_assist_pipeline_streams_llm_reply(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
) -> None:
    """A real Assist pipeline streaming an LLM reply: our entity speaks it over the WebSocket.

    Only the LLM is stood in for (Home Assistant's conversation call); the pipeline, its
    text queue, the TTS manager and our entity are the real ones.
    """
    pipeline = await async_assist_pipeline(hass, init_integration, ENTITY_ID, "LLM")
    deltas = [
        "Here is a long answer from the language model, ",
        "long enough for the pipeline to stream it. ",
        "It keeps writing ",
        "while the voice already speaks.",
    ]
    written = asyncio.Event()

    async def llm() -> AsyncGenerator[conversation.AssistantContentDeltaDict]:
        yield {"role": "assistant"}
        for delta in deltas:
            yield {"content": delta}
            await asyncio.sleep(0.2)
        written.set()

    events: list[PipelineEvent] = []
    with (
        streaming_agent(llm, "".join(deltas)),
        chat_session.async_get_chat_session(hass) as session,
    ):
        pipeline_input = await async_spoken_reply(hass, pipeline, session, events.append)
        await pipeline_input.execute()

    by_type = {event.type: event.data for event in events}
    assert PipelineEventType.ERROR not in by_type, by_type.get(PipelineEventType.ERROR)
    run_start = by_type[PipelineEventType.RUN_START]
    assert run_start is not None
    assert run_start["tts_output"]["stream_response"] is True
    assert written.is_set()

    client = await hass_client()
    response = await client.get(run_start["tts_output"]["url"])
    assert response.status == 200
    assert await response.read()
    # Streamed over the WebSocket, never as one HTTP request, with the whole reply.
    assert not _tts_requests(emulator)
    [session_record] = emulator.ws_sessions
    texts = [e for e in session_record.events if e["event"] == "text"]
    assert "".join(e["text"] for e in texts) == "".join(deltas)
    assert len(texts) > 1  # the first batch, then the deltas as the LLM wrote them
    first_audio = next(s for s in session_record.sent if s.get("event") == "audio")
    assert first_audio["monotonic"] < texts[-1]["monotonic"]


@pytest.mark.parametrize("voice_settings", [voice_subentry_data(voice_id="")])
async def test_supported_voices_default_voice(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """On Fish Audio's default voice, the account's voices keep the API's order."""
    voices = _entity(hass).async_get_supported_voices("en")
    assert [v.voice_id for v in voices] == [v.id for v in init_integration.runtime_data.voices.data]


async def test_voices_made_elsewhere_reach_assist(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A voice made on fish.audio shows within the voices' interval, or when the picker opens."""
    own = next(v for v in emulator.state.voices.values() if v["_id"] == OWN_VOICE)

    def make(voice_id: str, title: str) -> None:
        emulator.state.voices[voice_id] = {**own, "_id": voice_id, "title": title}

    def offered() -> set[str]:
        return {v.voice_id for v in _entity(hass).async_get_supported_voices("en")}

    make("a" * 32, "Made on the website")
    assert "a" * 32 not in offered()
    async_fire_time_changed(hass, dt_util.utcnow() + VOICES_UPDATE_INTERVAL)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert "a" * 32 in offered()

    # Opening the voice picker lists the own voices anyway: Assist's list follows at once.
    make("b" * 32, "Made a moment ago")
    result = await hass.config_entries.subentries.async_init(
        (init_integration.entry_id, SUBENTRY_VOICE), context={"source": SOURCE_USER}
    )
    await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert "b" * 32 in offered()


@pytest.mark.parametrize(
    ("preset", "key"),
    [
        ("401-json", "auth_failed"),
        ("402", "insufficient_credit"),
        ("403", "permission_denied"),
        ("422-list", "invalid_request"),
        # 429, 500, 503 and unusable answers: tests/test_fault_table.py, for every operation.
    ],
)
async def test_speech_faults_then_recovery(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
    preset: str,
    key: str,
) -> None:
    """Each refusal is its translated error; the next call, the fault gone, speaks."""
    emulator.faults.preset("POST /v1/tts", preset, times=None)
    with pytest.raises(HomeAssistantError) as err:
        await _speak(hass)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    emulator.faults.clear()
    assert await _speak(hass)
