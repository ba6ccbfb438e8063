"""Speech-to-text entity of a Fish Audio account (Fish Audio ASR, `POST /v1/asr`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from homeassistant.components.stt import (
    AudioBitRates,
    AudioChannels,
    AudioCodecs,
    AudioFormats,
    AudioSampleRates,
    SpeechMetadata,
    SpeechResult,
    SpeechResultState,
    SpeechToTextEntity,
)
from homeassistant.core import HomeAssistant, callback

from .api import ASR_MAX_BYTES, ASR_MIN_SECONDS, FishAudioError
from .const import (
    CONF_STT_LANGUAGE_MODE,
    DEFAULT_STT_LANGUAGE_MODE,
    LOGGER,
    STT_LANGUAGE_AUTO,
    SUPPORTED_LANGUAGES,
)
from .entity import account_device_info
from .helpers import async_handle_error, async_load_modules
from .usage import async_record_asr

if TYPE_CHECKING:
    from collections.abc import AsyncIterable

    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .coordinator import FishAudioConfigEntry

# Each transcription is one independent API call; the client's own concurrency limit queues a
# burst, so two satellites speaking at once must not wait for each other here as well.
PARALLEL_UPDATES = 0

# The server decodes and resamples any rate itself, so these are the rates whose names in
# Home Assistant are exact and that carry the full speech band (the models work at 16 kHz and
# above). Headerless PCM is wrapped with the announced rate, so a mislabelled rate would
# change the pitch: HA's 11000/22000 stand for 11025/22050 Hz, and 18900/37800 are CD-ROM XA
# rates no microphone produces. 8 kHz telephone audio lacks the upper half of the speech band
# and is left to engines trained for it.
SUPPORTED_SAMPLE_RATES = [
    AudioSampleRates.SAMPLERATE_16000,
    AudioSampleRates.SAMPLERATE_32000,
    AudioSampleRates.SAMPLERATE_44100,
    AudioSampleRates.SAMPLERATE_48000,
]
# The pairs that describe real audio: WAV carries PCM, Ogg carries Opus.
_FORMAT_CODECS = {AudioFormats.WAV: AudioCodecs.PCM, AudioFormats.OGG: AudioCodecs.OPUS}
_SAMPLE_WIDTH = 2  # 16-bit, the only bit rate offered
# Clips shorter than the API's minimum (API reference) are padded with silence to this,
# a little over it so that a server measuring the decoded audio differently still accepts.
# Ogg/Opus cannot be padded without re-encoding: a short one is refused with a clear log.
_PADDED = ASR_MIN_SECONDS + 0.05
# Assist pipelines send a chunk every 10 ms and end the stream themselves (silence detection),
# but an HTTP upload's body has no read timeout of its own: a client that stops sending
# without closing would hold the entity for ever. Half a minute without a byte is a dead source.
STREAM_IDLE_TIMEOUT = 30.0


def _error_result() -> SpeechResult:
    """Return a failed result (a new one each time: SpeechResult is mutable)."""
    return SpeechResult(None, SpeechResultState.ERROR)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FishAudioConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the account's speech-to-text entity."""
    async_add_entities([FishAudioSpeechToTextEntity(entry)])


def api_language(language: str) -> str | None:
    """Return the base language the API takes for a Home Assistant language tag.

    ``en-US``, ``en_US`` and ``EN`` all give ``en``; an empty tag gives None (detect).
    """
    base = re.split(r"[-_]", language.strip(), maxsplit=1)[0].lower()
    return base or None


class FishAudioSpeechToTextEntity(SpeechToTextEntity):
    """Transcribes Assist and HTTP audio with Fish Audio."""

    _attr_has_entity_name = True
    _attr_translation_key = "speech_to_text"

    def __init__(self, entry: FishAudioConfigEntry) -> None:
        """Initialise the entity on the account device."""
        self.entry = entry
        self._attr_unique_id = f"{entry.entry_id}_stt"
        self._attr_device_info = account_device_info(entry)

    @property
    def supported_languages(self) -> list[str]:
        """Return the languages, in every form a pipeline may ask for."""
        return SUPPORTED_LANGUAGES

    @property
    def supported_formats(self) -> list[AudioFormats]:
        """Return the containers: WAV (or headerless PCM labelled WAV) and Ogg."""
        return [AudioFormats.WAV, AudioFormats.OGG]

    @property
    def supported_codecs(self) -> list[AudioCodecs]:
        """Return the codecs: PCM in WAV, Opus in Ogg."""
        return [AudioCodecs.PCM, AudioCodecs.OPUS]

    @property
    def supported_bit_rates(self) -> list[AudioBitRates]:
        """Return the sample sizes: 16-bit, what every Assist source produces."""
        return [AudioBitRates.BITRATE_16]

    @property
    def supported_sample_rates(self) -> list[AudioSampleRates]:
        """Return the sample rates (see SUPPORTED_SAMPLE_RATES for the choice)."""
        return SUPPORTED_SAMPLE_RATES

    @property
    def supported_channels(self) -> list[AudioChannels]:
        """Return the channel layouts: mono and stereo."""
        return [AudioChannels.CHANNEL_MONO, AudioChannels.CHANNEL_STEREO]

    @callback
    def check_metadata(self, metadata: SpeechMetadata) -> bool:
        """Accept only format/codec pairs that exist: PCM in WAV, Opus in Ogg."""
        return (
            super().check_metadata(metadata) and _FORMAT_CODECS[metadata.format] == metadata.codec
        )

    async def async_process_audio_stream(
        self, metadata: SpeechMetadata, stream: AsyncIterable[bytes]
    ) -> SpeechResult:
        """Collect the audio, send it to Fish Audio and return the transcript."""
        # The audio checks load with the first transcription (off the event loop), not with
        # Home Assistant.
        await async_load_modules(self.hass, "audio")
        from .audio import AudioFormatError, AudioLimitError, AudioStalledError  # noqa: PLC0415

        try:
            audio = await self._async_read_audio(metadata, stream)
        except (AudioLimitError, AudioFormatError, AudioStalledError) as err:
            LOGGER.warning("Speech-to-text not attempted: %s", err)
            return _error_result()

        language: str | None = None
        mode = self.entry.options.get(CONF_STT_LANGUAGE_MODE, DEFAULT_STT_LANGUAGE_MODE)
        if mode != STT_LANGUAGE_AUTO:
            language = api_language(metadata.language)

        runtime = self.entry.runtime_data
        try:
            # Timestamps are of no use to Assist; without them the server does less work.
            result = await runtime.client.asr(audio, language=language, include_timestamps=False)
        except FishAudioError as err:
            # Assist only takes a result state: no translated error to raise, so the log line
            # says why, and what was done about it (reauth, the credit repair issue).
            done = async_handle_error(self.entry, err)
            LOGGER.error("Speech-to-text failed: %s%s", err, f"; {done}" if done else "")
            return _error_result()

        async_record_asr(self.entry, audio, result)
        runtime.coordinator.async_note_usage()
        LOGGER.debug("Transcribed %.1f s of audio, language %s", result.duration, result.language)
        return SpeechResult(result.text, SpeechResultState.SUCCESS)

    async def _async_read_audio(
        self, metadata: SpeechMetadata, stream: AsyncIterable[bytes]
    ) -> bytes:
        """Collect the stream into the file the API takes, checked against its limits.

        Raises:
            AudioLimitError: too short, too long or too large.
            AudioFormatError: audio labelled Ogg that is not an Ogg stream.
            AudioStalledError: the stream went quiet (see STREAM_IDLE_TIMEOUT).
        """
        from .audio import (  # noqa: PLC0415 - loaded by async_process_audio_stream
            AudioFormatError,
            PCMFormat,
            check_asr_limits,
            is_ogg,
            is_wav,
            ogg_duration,
            pad_pcm,
            pad_wav,
            pcm_to_wav,
            read_capped,
            wav_duration,
        )

        data = await read_capped(stream, max_bytes=ASR_MAX_BYTES, idle_timeout=STREAM_IDLE_TIMEOUT)
        duration: float | None
        if metadata.format == AudioFormats.OGG:
            if data and not is_ogg(data):
                raise AudioFormatError("audio labelled Ogg/Opus is not an Ogg stream")
            audio = bytes(data)
            duration = ogg_duration(data)
        elif is_wav(data):
            # A complete WAV file (an HTTP client uploading a recording): sent as it is,
            # unless it is too short and can be padded.
            audio = bytes(data)
            duration = wav_duration(data)
            if duration and duration < ASR_MIN_SECONDS and (padded := pad_wav(data, _PADDED)):
                audio, duration = padded, wav_duration(padded)
        else:
            # Headerless PCM, what Assist pipelines stream with the WAV label.
            pcm = PCMFormat(
                sample_rate=int(metadata.sample_rate),
                channels=int(metadata.channel),
                sample_width=_SAMPLE_WIDTH,
            )
            samples: bytes | bytearray | memoryview = data
            if data and pcm.duration(len(data)) < ASR_MIN_SECONDS:
                samples = pad_pcm(data, pcm, _PADDED)
            duration = pcm.duration(len(samples))
            audio = pcm_to_wav(samples, pcm) if samples else b""
        check_asr_limits(len(audio), duration)
        return audio
