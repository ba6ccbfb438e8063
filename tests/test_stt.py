"""Tests of the speech-to-text entity, against the Fish Audio emulator over loopback HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from decimal import Decimal
import io
import logging
from typing import Any
import wave

from aiohttp import ClientSession
from homeassistant.components import stt
from homeassistant.components.assist_pipeline import (
    AudioSettings,
    PipelineEvent,
    PipelineEventType,
    async_pipeline_from_audio_stream,
)
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from yarl import URL

from custom_components.fish_audio_suite.api import ASR_MAX_BYTES
from custom_components.fish_audio_suite.audio import PCMFormat, pcm_to_wav, wav_duration
from custom_components.fish_audio_suite.const import (
    CONF_STT_LANGUAGE_MODE,
    DOMAIN,
    ISSUE_INSUFFICIENT_CREDIT,
    STT_LANGUAGE_AUTO,
    STT_LANGUAGE_PIPELINE,
    SUPPORTED_LANGUAGES,
    USAGE_REFRESH_DELAY,
)
from custom_components.fish_audio_suite.stt import (
    STREAM_IDLE_TIMEOUT,
    SUPPORTED_SAMPLE_RATES,
    api_language,
)
from emulator import FishAudioEmulator
from emulator.audio import OggOpusStream, ogg_page, pcm_samples, render_file

from .conftest import PCM_16K_MONO, TEST_API_KEY, async_assist_pipeline

pytestmark = pytest.mark.usefixtures("init_integration")

type ClientFactory = Any  # the hass_client fixture's factory

TRANSCRIPT = "Turn on the kitchen lights."
OGG_OPUS = stt.SpeechMetadata(
    language="en",
    format=stt.AudioFormats.OGG,
    codec=stt.AudioCodecs.OPUS,
    bit_rate=stt.AudioBitRates.BITRATE_16,
    sample_rate=stt.AudioSampleRates.SAMPLERATE_48000,
    channel=stt.AudioChannels.CHANNEL_MONO,
)
# Assist pipelines stream 10 ms chunks of 16 kHz 16-bit mono PCM.
PIPELINE_CHUNK_BYTES = 320


@pytest.fixture(autouse=True)
def transcript(emulator: FishAudioEmulator) -> str:
    """What the emulator hears in any audio."""
    emulator.state.asr_text = TRANSCRIPT
    return TRANSCRIPT


def _entity_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    entity_id = er.async_get(hass).async_get_entity_id("stt", DOMAIN, f"{entry.entry_id}_stt")
    assert entity_id is not None
    return entity_id


def _entity(hass: HomeAssistant, entry: MockConfigEntry) -> stt.SpeechToTextEntity:
    entity = stt.async_get_speech_to_text_entity(hass, _entity_id(hass, entry))
    assert entity is not None
    return entity


def _pcm(seconds: float, sample_rate: int = 16000, channels: int = 1) -> bytes:
    """Speech-like 16-bit PCM (channels identical)."""
    mono = pcm_samples(sample_rate, int(seconds * sample_rate))
    if channels == 1:
        return mono
    frames = memoryview(mono).cast("h")
    return b"".join(frames[i : i + 1].tobytes() * channels for i in range(len(frames)))


async def _stream(data: bytes, chunk: int = PIPELINE_CHUNK_BYTES) -> AsyncIterator[bytes]:
    for start in range(0, len(data), chunk):
        yield data[start : start + chunk]


def _asr_requests(emulator: FishAudioEmulator) -> list[Any]:
    return [r for r in emulator.requests if r.method == "POST" and r.path == "/v1/asr"]


def _sent_wav(emulator: FishAudioEmulator) -> tuple[wave._wave_params, bytes]:
    audio = _asr_requests(emulator)[-1].decoded["audio"]
    with wave.open(io.BytesIO(audio), "rb") as wav:
        return wav.getparams(), wav.readframes(wav.getnframes())


def _header(**fields: Any) -> dict[str, str]:
    values = {
        "format": "wav",
        "codec": "pcm",
        "sample_rate": 16000,
        "bit_rate": 16,
        "channel": 1,
        "language": "en-US",
        **fields,
    }
    return {"X-Speech-Content": "; ".join(f"{key}={value}" for key, value in values.items())}


async def _post(
    hass: HomeAssistant,
    hass_client: ClientFactory,
    entry: MockConfigEntry,
    body: bytes,
    **fields: Any,
) -> tuple[int, Any]:
    client: ClientSession = await hass_client()
    response = await client.post(
        f"/api/stt/{_entity_id(hass, entry)}", data=body, headers=_header(**fields)
    )
    if response.status != 200:
        return response.status, None
    return response.status, await response.json()


# --- the entity -------------------------------------------------------------------------------


async def test_entity(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """One entity per account, on the account device, with a translated name."""
    entity_id = _entity_id(hass, init_integration)
    assert entity_id == "stt.fish_audio_speech_to_text"
    registry_entry = er.async_get(hass).async_get(entity_id)
    assert registry_entry is not None
    assert registry_entry.translation_key == "speech_to_text"
    assert registry_entry.device_id is not None
    device = dr.async_get(hass).async_get(registry_entry.device_id)
    assert device is not None
    assert device.identifiers == {(DOMAIN, init_integration.entry_id)}
    assert device.model == "Account"
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes["friendly_name"] == "Fish Audio Speech-to-text"

    entity = _entity(hass, init_integration)
    assert entity.supported_languages == SUPPORTED_LANGUAGES
    assert {"en", "en-US", "de", "zh-CN"} <= set(entity.supported_languages)
    assert entity.supported_formats == [stt.AudioFormats.WAV, stt.AudioFormats.OGG]
    assert entity.supported_codecs == [stt.AudioCodecs.PCM, stt.AudioCodecs.OPUS]
    assert entity.supported_bit_rates == [stt.AudioBitRates.BITRATE_16]
    assert entity.supported_sample_rates == SUPPORTED_SAMPLE_RATES
    assert stt.AudioSampleRates.SAMPLERATE_16000 in entity.supported_sample_rates
    assert entity.supported_channels == [
        stt.AudioChannels.CHANNEL_MONO,
        stt.AudioChannels.CHANNEL_STEREO,
    ]


@pytest.mark.parametrize(
    ("fields", "supported"),
    [
        ({}, True),
        ({"format": "ogg", "codec": "opus", "sample_rate": 48000}, True),
        ({"channel": 2, "sample_rate": 44100}, True),
        ({"format": "wav", "codec": "opus"}, False),  # no such file
        ({"format": "ogg", "codec": "pcm"}, False),
        ({"sample_rate": 8000}, False),
        ({"sample_rate": 22000}, False),  # really 22050: wrapping would detune it
        ({"bit_rate": 24}, False),
        ({"language": "tlh"}, False),
    ],
)
async def test_check_metadata(
    hass: HomeAssistant,
    *,
    hass_client: ClientFactory,
    init_integration: MockConfigEntry,
    emulator: FishAudioEmulator,
    fields: dict[str, Any],
    supported: bool,
) -> None:
    """Home Assistant's HTTP view refuses (415) what the entity does not support."""
    status, _ = await _post(hass, hass_client, init_integration, b"", **fields)
    assert (status != 415) is supported
    assert not _asr_requests(emulator)


@pytest.mark.parametrize(
    ("tag", "language"),
    [("en-US", "en"), ("en_GB", "en"), ("pt-BR", "pt"), ("zh", "zh"), ("DE", "de"), ("", None)],
)
def test_api_language(tag: str, language: str | None) -> None:
    assert api_language(tag) == language


# --- success paths ----------------------------------------------------------------------------


async def test_http_headerless_pcm_is_wrapped(
    hass: HomeAssistant,
    hass_client: ClientFactory,
    init_integration: MockConfigEntry,
    emulator: FishAudioEmulator,
) -> None:
    """The HTTP endpoint with raw PCM labelled WAV: a correct WAV file reaches the API."""
    pcm = _pcm(2.0)
    status, result = await _post(hass, hass_client, init_integration, pcm)

    assert status == 200
    assert result == {"text": TRANSCRIPT, "result": "success"}
    params, frames = _sent_wav(emulator)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 16000)
    assert params.nframes == 32000
    assert frames == pcm
    request = _asr_requests(emulator)[-1]
    assert request.decoded["language"] == "en"
    assert request.decoded["ignore_timestamps"] is True
    assert request.headers["Authorization"] == f"Bearer {TEST_API_KEY}"


@pytest.mark.parametrize(
    ("sample_rate", "channels"), [(16000, 2), (32000, 1), (44100, 2), (48000, 1)]
)
async def test_http_rates_and_channels(
    hass: HomeAssistant,
    *,
    hass_client: ClientFactory,
    init_integration: MockConfigEntry,
    emulator: FishAudioEmulator,
    sample_rate: int,
    channels: int,
) -> None:
    """The WAV header carries the announced rate and channels, so the pitch is right."""
    pcm = _pcm(1.5, sample_rate, channels)
    status, result = await _post(
        hass,
        hass_client,
        init_integration,
        pcm,
        sample_rate=sample_rate,
        channel=channels,
    )

    assert status == 200
    assert result["result"] == "success"
    params, frames = _sent_wav(emulator)
    assert (params.nchannels, params.framerate) == (channels, sample_rate)
    assert params.nframes == int(1.5 * sample_rate)
    assert frames == pcm


async def test_http_riff_file_passes_unchanged(
    hass: HomeAssistant,
    hass_client: ClientFactory,
    init_integration: MockConfigEntry,
    emulator: FishAudioEmulator,
) -> None:
    """A complete WAV file (here with a LIST chunk) is sent as it is, not wrapped again."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(_pcm(1.2))
    data = buffer.getvalue()
    data = data[:36] + b"LIST\x04\x00\x00\x00INFO" + data[36:]
    data = data[:4] + (len(data) - 8).to_bytes(4, "little") + data[8:]

    status, result = await _post(hass, hass_client, init_integration, data)

    assert status == 200
    assert result["result"] == "success"
    assert _asr_requests(emulator)[-1].decoded["audio"] == data


async def test_http_ogg_opus_passes_unchanged(
    hass: HomeAssistant,
    hass_client: ClientFactory,
    init_integration: MockConfigEntry,
    emulator: FishAudioEmulator,
) -> None:
    data = b"".join(render_file("opus", 2.0))
    status, result = await _post(
        hass,
        hass_client,
        init_integration,
        data,
        format="ogg",
        codec="opus",
        sample_rate=48000,
        language="de-DE",
    )

    assert status == 200
    assert result == {"text": TRANSCRIPT, "result": "success"}
    request = _asr_requests(emulator)[-1]
    assert request.decoded["audio"] == data
    assert request.decoded["language"] == "de"


async def test_http_silence_without_newlines(
    hass: HomeAssistant,
    hass_client: ClientFactory,
    init_integration: MockConfigEntry,
    emulator: FishAudioEmulator,
) -> None:
    """Digital silence has no newline byte: reading the body by lines would fail past 128 KiB."""
    silence = bytes(16000 * 2 * 5)  # 5 s, 160 KB
    status, result = await _post(hass, hass_client, init_integration, silence)

    assert status == 200
    assert result["result"] == "success"
    params, frames = _sent_wav(emulator)
    assert params.nframes == 16000 * 5
    assert frames == silence


async def test_pipeline_shaped_stream(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: FishAudioEmulator
) -> None:
    """10 ms chunks of headerless PCM, as an Assist pipeline streams them."""
    pcm = _pcm(3.0)
    entity = _entity(hass, init_integration)

    result = await entity.internal_async_process_audio_stream(PCM_16K_MONO, _stream(pcm))

    assert result == stt.SpeechResult(TRANSCRIPT, stt.SpeechResultState.SUCCESS)
    params, frames = _sent_wav(emulator)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 16000)
    assert frames == pcm
    assert len(_asr_requests(emulator)) == 1
    # The entity's state is the time of its last use.
    state = hass.states.get(entity.entity_id)
    assert state is not None
    assert dt_util.parse_datetime(state.state) is not None


async def test_usage_refreshes_credit(
    hass: HomeAssistant, init_integration: MockConfigEntry, emulator: FishAudioEmulator
) -> None:
    """A transcription costs credit: the credit sensor refreshes shortly after."""

    def credit_calls() -> int:
        return sum(1 for r in emulator.requests if r.path == "/wallet/self/api-credit")

    before = credit_calls()
    result = await _entity(hass, init_integration).async_process_audio_stream(
        PCM_16K_MONO, _stream(_pcm(2.0))
    )
    assert result.result == stt.SpeechResultState.SUCCESS
    await hass.async_block_till_done()
    assert credit_calls() == before  # debounced: not at once

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=USAGE_REFRESH_DELAY + 1))
    await hass.async_block_till_done()
    assert credit_calls() == before + 1


@pytest.mark.parametrize(
    ("mode", "language", "sent"),
    [
        (STT_LANGUAGE_PIPELINE, "en-US", "en"),
        (STT_LANGUAGE_PIPELINE, "zh-TW", "zh"),
        (STT_LANGUAGE_AUTO, "en-US", None),
        (STT_LANGUAGE_AUTO, "ja", None),
    ],
)
async def test_language_modes(
    hass: HomeAssistant,
    *,
    init_integration: MockConfigEntry,
    emulator: FishAudioEmulator,
    mode: str,
    language: str,
    sent: str | None,
) -> None:
    """The option decides: the pipeline's base language, or none (the server detects it)."""
    hass.config_entries.async_update_entry(
        init_integration, options={**init_integration.options, CONF_STT_LANGUAGE_MODE: mode}
    )
    await hass.async_block_till_done()  # the entry reloads with the new option

    metadata = stt.SpeechMetadata(**{**PCM_16K_MONO.__dict__, "language": language})
    result = await _entity(hass, init_integration).async_process_audio_stream(
        metadata, _stream(_pcm(1.5))
    )

    assert result.result == stt.SpeechResultState.SUCCESS
    decoded = _asr_requests(emulator)[-1].decoded
    assert decoded.get("language") == sent
    assert ("language" in decoded) is (sent is not None)


# --- failures ---------------------------------------------------------------------------------


async def _transcribe(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    data: bytes,
    metadata: stt.SpeechMetadata = PCM_16K_MONO,
) -> stt.SpeechResult:
    return await _entity(hass, entry).async_process_audio_stream(metadata, _stream(data))


def _assert_failed(
    result: stt.SpeechResult, caplog: pytest.LogCaptureFixture, *reasons: str
) -> None:
    assert result == stt.SpeechResult(None, stt.SpeechResultState.ERROR)
    # Our own records only: on a loaded machine asyncio's debug mode logs slow callbacks too.
    records = [
        r
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("custom_components." + DOMAIN)
    ]
    assert records, "a failure must say why in the log"
    message = records[-1].getMessage()
    for reason in reasons:
        assert reason in message
    assert TEST_API_KEY not in caplog.text
    assert "Bearer" not in caplog.text


@pytest.mark.parametrize("seconds", [0.02, 0.5, 0.999])
async def test_short_command_is_padded(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: FishAudioEmulator,
    seconds: float,
) -> None:
    """A short command after VAD ("stop") is padded with silence to the API's minimum."""
    audio = _pcm(seconds)
    result = await _transcribe(hass, init_integration, audio)

    assert result.result is stt.SpeechResultState.SUCCESS
    (request,) = _asr_requests(emulator)
    sent = request.decoded["audio"]
    assert wav_duration(sent) == pytest.approx(1.05, abs=1e-4)
    frames = len(audio) - len(audio) % 2
    assert sent[44 : 44 + frames] == audio[:frames]  # the speech itself, unchanged
    assert not any(sent[44 + frames :])  # then silence


@pytest.mark.parametrize(("rate", "channels"), [(16000, 1), (44100, 2)])
async def test_short_wav_file_is_padded(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: FishAudioEmulator,
    rate: int,
    channels: int,
) -> None:
    """A complete WAV upload under a second is rebuilt with silence after its samples."""
    pcm = PCMFormat(sample_rate=rate, channels=channels)
    samples = bytes(range(256)) * (pcm.byte_rate // 2 // 256)  # half a second
    wav = pcm_to_wav(samples, pcm)
    # A RIFF file is sent as it is whatever the pipeline's label says: its header rules.
    result = await _transcribe(hass, init_integration, wav)

    assert result.result is stt.SpeechResultState.SUCCESS
    sent = _asr_requests(emulator)[0].decoded["audio"]
    assert wav_duration(sent) == pytest.approx(1.05, abs=1e-4)
    assert sent[44 : 44 + len(samples)] == samples


async def test_too_large_stops_reading(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: FishAudioEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Past 20 MB the stream is no longer read (an endless stream costs at most the cap)."""
    megabyte = bytes(1024 * 1024)
    consumed = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal consumed
        while True:
            consumed += 1
            yield megabyte

    result = await _entity(hass, init_integration).async_process_audio_stream(
        PCM_16K_MONO, endless()
    )

    _assert_failed(result, caplog, "larger than")
    assert consumed == ASR_MAX_BYTES // len(megabyte) + 1
    assert not _asr_requests(emulator)


async def test_stalled_stream(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    emulator: FishAudioEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A source that stops sending without closing gets an error result, not a hang."""
    never = asyncio.Event()

    async def stalled() -> AsyncIterator[bytes]:
        yield _pcm(1.0)
        await never.wait()
        yield b""  # pragma: no cover

    task = hass.async_create_task(
        _entity(hass, init_integration).async_process_audio_stream(PCM_16K_MONO, stalled())
    )
    await asyncio.sleep(0)
    assert not task.done()
    # A stall is noticed between one and one and a half idle bounds after the last chunk.
    async_fire_time_changed(
        hass, dt_util.utcnow() + timedelta(seconds=STREAM_IDLE_TIMEOUT * 1.5 + 1)
    )
    result = await task

    _assert_failed(result, caplog, "no audio arrived for 30 s")
    assert not _asr_requests(emulator)


def _short_ogg() -> bytes:
    ogg = OggOpusStream()
    return ogg.header() + ogg_page(
        [b"\xf8\xff\xfe"], serial=0x46495348, sequence=2, granule=24000, flags=4
    )


def _hour_of_ogg() -> bytes:
    # Ogg Opus is small enough to pass the size limit with more than an hour of audio.
    ogg = OggOpusStream()
    return ogg.header() + ogg_page(
        [b"\xf8\xff\xfe"], serial=0x46495348, sequence=2, granule=3601 * 48000, flags=4
    )


# Audio refused before anything is sent: (the stream, its metadata, what the failure's log
# line says, what the log says besides).
NOT_SENT: dict[str, tuple[Callable[[], AsyncIterator[bytes]], stt.SpeechMetadata, str, str]] = {
    # No audio at all: a clear result without asking the server.
    "no audio": (lambda: _stream(_pcm(0.0)), PCM_16K_MONO, "not attempted", "no audio"),
    # Ogg/Opus cannot be padded without re-encoding.
    "short Ogg": (
        lambda: _stream(_short_ogg()), OGG_OPUS, "not attempted", "shorter than the 1 s"
    ),
    "over an hour": (
        lambda: _stream(_hour_of_ogg()), OGG_OPUS, "longer than the 3600 s", ""
    ),
    "Ogg label on other audio": (
        lambda: _stream(_pcm(2.0)), OGG_OPUS, "not an Ogg stream", ""
    ),
    # PCM at exactly the limit is too large once the WAV header is in front of it.
    "too large once wrapped": (
        lambda: _stream(bytes(ASR_MAX_BYTES), chunk=1024 * 1024),
        PCM_16K_MONO, f"{ASR_MAX_BYTES + 44} bytes", "",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", NOT_SENT)
async def test_refused_before_sending_then_recovery(
    hass: HomeAssistant,
    *,
    init_integration: MockConfigEntry,
    emulator: FishAudioEmulator,
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    """Audio the API cannot take is an error result with the reason in the log, and nothing
    is sent; the next good command is transcribed."""
    stream, metadata, reason, logged = NOT_SENT[case]
    entity = _entity(hass, init_integration)

    result = await entity.async_process_audio_stream(metadata, stream())

    _assert_failed(result, caplog, reason)
    assert logged in caplog.text
    assert not _asr_requests(emulator)
    result = await _transcribe(hass, init_integration, _pcm(1.5))
    assert result == stt.SpeechResult(TRANSCRIPT, stt.SpeechResultState.SUCCESS)


def _refuse_key(emulator: FishAudioEmulator) -> None:
    del emulator.state.api_keys[TEST_API_KEY]


def _preset(name: str) -> Callable[[FishAudioEmulator], None]:
    def inject(emulator: FishAudioEmulator) -> None:
        emulator.faults.preset("POST /v1/asr", name, times=None)

    return inject


def _clear(emulator: FishAudioEmulator) -> None:
    emulator.faults.clear()


# What the server does: (the fault, how it goes away, the status of each request the client
# made (429 and 503 are retried), what the failure's log line says, what it starts: "reauth"
# for a refused key, "credit issue" for a 402). "connection refused" stops the emulator
# instead.
type Fault = Callable[[FishAudioEmulator], None]
type ServerFault = tuple[Fault | None, Fault, tuple[int, ...], tuple[str, ...], str | None]
SERVER_FAULTS: dict[str, ServerFault] = {
    # The key was revoked: the user is asked for a new key.
    "key revoked": (
        _refuse_key, lambda emulator: emulator.state.add_api_key(TEST_API_KEY),
        (401,), ("401", "reauthentication started"), "reauth",
    ),
    "no credit (402)": (
        lambda emulator: setattr(emulator.state, "credit", Decimal(0)),
        lambda emulator: setattr(emulator.state, "credit", Decimal(10)),
        (402,), ("402", "out of API credit"), "credit issue",
    ),
    "403": (_preset("403"), _clear, (403,), ("Speech-to-text failed", "403"), None),
    "422": (_preset("422-list"), _clear, (422,), ("Speech-to-text failed", "422"), None),
    "429": (_preset("429"), _clear, (429,) * 4, ("Speech-to-text failed", "429"), None),
    "500": (_preset("500"), _clear, (500,), ("Speech-to-text failed", "500"), None),
    "503": (_preset("503"), _clear, (503,) * 4, ("Speech-to-text failed", "503"), None),
    "200 text/html": (
        _preset("200-html"), _clear, (200,), ("Speech-to-text failed", "text/html"), None
    ),
    "connection refused": (None, _clear, (), ("Speech-to-text failed",), None),
}  # fmt: skip


@pytest.mark.parametrize("case", SERVER_FAULTS)
async def test_server_fault_then_recovery(
    hass: HomeAssistant,
    *,
    init_integration: MockConfigEntry,
    emulator: FishAudioEmulator,
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    """A failure of the server or the network (after the client's retries) is an error result
    whose log line says why, with its one consequence (reauth, the credit repair issue, or
    none); with the fault gone the next transcription succeeds."""
    inject, restore, answered, reasons, starts = SERVER_FAULTS[case]
    issue_id = f"{ISSUE_INSUFFICIENT_CREDIT}_{init_integration.entry_id}"
    port = URL(emulator.base_url).port
    if inject is None:
        await emulator.stop()
    else:
        inject(emulator)

    result = await _transcribe(hass, init_integration, _pcm(1.5))
    await hass.async_block_till_done()

    _assert_failed(result, caplog, *reasons)
    assert tuple(r.status for r in _asr_requests(emulator)) == answered
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == (
        [SOURCE_REAUTH] if starts == "reauth" else []
    )
    assert all(flow["context"]["entry_id"] == init_integration.entry_id for flow in flows)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert (issue is not None) is (starts == "credit issue")
    if issue is not None:
        assert issue.translation_key == ISSUE_INSUFFICIENT_CREDIT

    if inject is None:
        await emulator.start(port=port)
    else:
        restore(emulator)
    result = await _transcribe(hass, init_integration, _pcm(1.5))
    assert result == stt.SpeechResult(TRANSCRIPT, stt.SpeechResultState.SUCCESS)


# --- an Assist pipeline: our speech-to-text in, our text-to-speech out ------------------------


async def test_assist_pipeline_stt_to_tts(
    hass: HomeAssistant,
    hass_client: ClientFactory,
    init_integration: MockConfigEntry,
    emulator: FishAudioEmulator,
) -> None:
    """A voice command runs through a real Assist pipeline with both of our entities."""
    tts_ids = [
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), init_integration.entry_id)
        if e.domain == "tts"
    ]
    assert len(tts_ids) == 1
    pipeline = await async_assist_pipeline(hass, init_integration, tts_ids[0], "Fish Audio")
    events: list[PipelineEvent] = []
    pcm = _pcm(2.0)

    await async_pipeline_from_audio_stream(
        hass,
        context=Context(),
        event_callback=events.append,
        stt_metadata=stt.SpeechMetadata(
            language="",  # the pipeline fills in its own
            format=stt.AudioFormats.WAV,
            codec=stt.AudioCodecs.PCM,
            bit_rate=stt.AudioBitRates.BITRATE_16,
            sample_rate=stt.AudioSampleRates.SAMPLERATE_16000,
            channel=stt.AudioChannels.CHANNEL_MONO,
        ),
        stt_stream=_stream(pcm),
        pipeline_id=pipeline.id,
        # Keep every chunk: voice activity detection would cut the synthetic "speech".
        audio_settings=AudioSettings(is_vad_enabled=False),
    )

    by_type = {event.type: event.data for event in events}
    assert PipelineEventType.ERROR not in by_type, by_type.get(PipelineEventType.ERROR)
    assert by_type[PipelineEventType.STT_END] == {"stt_output": {"text": TRANSCRIPT}}
    params, frames = _sent_wav(emulator)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 16000)
    assert params.nframes == 32000
    assert frames == pcm
    assert _asr_requests(emulator)[-1].decoded["language"] == "en"

    intent = by_type[PipelineEventType.INTENT_END]
    assert intent is not None
    speech = intent["intent_output"]["response"]["speech"]["plain"]["speech"]
    assert speech
    tts_end = by_type[PipelineEventType.TTS_END]
    assert tts_end is not None
    url = tts_end["tts_output"]["url"]

    # Home Assistant synthesizes when the satellite fetches the reply.
    client: ClientSession = await hass_client()
    response = await client.get(url)
    assert response.status == 200
    audio = await response.read()
    assert audio
    tts_requests = [r for r in emulator.requests if r.method == "POST" and r.path == "/v1/tts"]
    assert len(tts_requests) == 1
    assert tts_requests[0].decoded["text"] == speech
    # The pipeline speaks with the voice it picked from our entity's voice list.
    assert pipeline.tts_voice is not None
    assert tts_requests[0].decoded["reference_id"] == pipeline.tts_voice
    assert audio[:3] == b"ID3" or audio[:2] == b"\xff\xfb"  # MP3, the voice's format
