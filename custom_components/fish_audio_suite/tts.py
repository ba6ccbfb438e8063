"""Text-to-speech of Fish Audio Suite: one streaming TTS entity per voice subentry."""

from __future__ import annotations

import asyncio
import contextlib
from copy import replace
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from homeassistant.components import tts as ha_tts
from homeassistant.components.tts import (
    ATTR_PREFERRED_FORMAT,
    ATTR_PREFERRED_SAMPLE_BYTES,
    ATTR_PREFERRED_SAMPLE_CHANNELS,
    ATTR_PREFERRED_SAMPLE_RATE,
    TextToSpeechEntity,
    TTSAudioResponse,
    TtsAudioType,
    Voice,
)
from homeassistant.const import CONF_API_KEY, MAJOR_VERSION, MINOR_VERSION
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util.async_ import create_eager_task

from .api import (
    MP3_BITRATES,
    NAME_MAX,
    OPUS_BITRATES_BPS,
    SAMPLE_RATES,
    FlushPolicy,
    TTSOptions,
    sanitise,
)
from .const import (
    CONF_FORMAT,
    CONF_MODEL,
    CONF_VOICE_ID,
    DEFAULT_LANGUAGE,
    DOMAIN,
    SUBENTRY_VOICE,
    SUPPORTED_LANGUAGES,
)
from .entity import FishAudioVoiceEntity
from .helpers import api_errors, as_fish_speech, is_fish_speech
from .speech_notices import async_explain_failure, async_spoke
from .usage import TextSize, async_record_tts
from .voice_settings import (
    call_values,
    not_for_model,
    per_call_settings,
    subentry_settings,
    tts_options,
    voice_defaults,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Mapping

    from homeassistant.components.tts.entity import TTSAudioRequest
    from homeassistant.config_entries import ConfigSubentry
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .coordinator import FishAudioConfigEntry

# No limit here: the client already queues requests behind a semaphore sized to the
# account's concurrency limit, and a limit on the entity would only serialise `tts.speak`
# calls, each of which waits for a media player rather than for Fish Audio.
PARALLEL_UPDATES = 0

# The formats Fish Audio produces, as Home Assistant names them (the file extension).
_EXTENSIONS: Final = {"mp3": "mp3", "wav": "wav", "opus": "opus", "pcm": "pcm"}
PREFERRED_SAMPLE_OPTIONS: Final = (
    ATTR_PREFERRED_SAMPLE_RATE,
    ATTR_PREFERRED_SAMPLE_CHANNELS,
    ATTR_PREFERRED_SAMPLE_BYTES,
)
# Newer Home Assistant releases (2026.10 and 2026.11 have it, 2026.2 not) add the TTS option
# `preferred_bitrate` (kbps, for satellites whose decoders need a constant bitrate). Detected,
# not assumed: where the tts component lacks it the option is not offered, and Home Assistant
# refuses it as it refuses any option an engine does not list.
PREFERRED_BITRATE: Final = "preferred_bitrate"
HAS_PREFERRED_BITRATE: Final = hasattr(ha_tts, "ATTR_PREFERRED_BITRATE")
# Before 2026.11 Home Assistant runs ffmpeg whenever a preferred sample rate, channel count,
# sample size or (2026.10) bitrate is given, even one the engine made itself; 2026.11 converts
# only for options the engine does not list, or audio in another format than the one asked
# (tts `_async_generate_tts_audio` in each release).
CONVERTS_HANDLED_OPTIONS: Final = (MAJOR_VERSION, MINOR_VERSION) < (2026, 11)
_CONVERTS_FOR: Final = (*PREFERRED_SAMPLE_OPTIONS, PREFERRED_BITRATE)


def configured_first(voices: list[Voice], configured: str, title: str) -> list[Voice]:
    """Return ``voices`` with the configured one first, named as listed or ``title``.

    A pipeline with no voice chosen uses the first one. The configured voice may be missing
    from the list (a public voice, not among the account's own).
    """
    if not configured:
        return voices
    name = next((voice.name for voice in voices if voice.voice_id == configured), None)
    others = [voice for voice in voices if voice.voice_id != configured]
    return [Voice(configured, name or title), *others]


def with_bitrate(request: TTSOptions, kbps: int) -> TTSOptions | None:
    """Return `request` made at `kbps`, or None when Fish Audio cannot make that bitrate.

    Fish Audio's `mp3_bitrate` is in kbps, `opus_bitrate` in bps (openapi.json, TTSRequest);
    only the values the API lists can be made. Other formats have no bitrate.
    """
    if request.format == "mp3" and kbps in MP3_BITRATES:
        return replace(request, mp3_bitrate=kbps)
    if request.format == "opus" and kbps * 1000 in OPUS_BITRATES_BPS:
        return replace(request, opus_bitrate=kbps * 1000)
    return None


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FishAudioConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up one text-to-speech entity per voice subentry."""
    local = is_fish_speech(entry)
    if local:
        from .fish_speech_tts import FishSpeechTTSEntity  # noqa: PLC0415 - loaded with the entry
    for subentry in entry.subentries.values():
        if subentry.subentry_type == SUBENTRY_VOICE:
            entity: TextToSpeechEntity = (
                FishSpeechTTSEntity(as_fish_speech(entry), subentry)
                if local
                else FishAudioTTSEntity(entry, subentry)
            )
            async_add_entities([entity], config_subentry_id=subentry.subentry_id)


class _Synthesis(NamedTuple):
    """The request settings of one call and the audio format it produces."""

    options: TTSOptions
    extension: str


async def _next_chunk(chunks: AsyncIterator[str]) -> str | None:
    """Return the next text chunk, or None at the end of the message."""
    try:
        return await anext(chunks)
    except StopAsyncIteration:
        return None


class _IncomingMessage:
    """The text Home Assistant hands to the engine: a complete message or one being written.

    Which path a message takes is decided from the message generator itself, without waiting
    for an LLM. Home Assistant hands a complete message (`tts.speak`, an Assist reply that was
    short or finished before speech started) as a generator that yields everything at once
    and then ends without suspending. An Assist pipeline that streams an LLM reply hands a
    generator over a queue: its first chunk (the 60-odd characters the pipeline gathered
    before it started streaming) is there at once, the next ones only as the LLM writes them.

    So the first chunk is awaited, then every further chunk is read only while it is already
    available: each read runs as an eager task, which finishes synchronously when the
    generator has the chunk or has ended. If the generator ends that way, the message is
    complete and goes over HTTP. The first read that would have to wait means the text is
    still being written: the message goes over the live WebSocket, and the pending read is
    handed on rather than cancelled (cancelling it would end the pipeline's generator); it is
    cancelled only when the consumer stops listening.
    """

    def __init__(self, chunks: AsyncIterator[str], max_chars: int) -> None:
        """Initialise the reader; more than `max_chars` at once goes live (and is refused)."""
        self._chunks = chunks
        self._max_chars = max_chars
        self._pending: asyncio.Task[str | None] | None = None
        self.sent = TextSize()  # what `text` handed on: the text billed

    async def read_available(self) -> tuple[str, asyncio.Task[str | None] | None]:
        """Read the text available now.

        Returns:
            The text read so far, and the read still waiting for more text; None when the
            text read is the complete message.
        """
        parts: list[str] = []
        size = 0
        chunk = await _next_chunk(self._chunks)
        while chunk is not None:
            parts.append(chunk)
            size += len(chunk)
            task = create_eager_task(_next_chunk(self._chunks), name=f"{DOMAIN} tts text")
            # A generator that never suspends and never ends would keep this loop (and the
            # event loop) busy for ever: past the live stream's text cap it is handed to the
            # live stream, whose cap ends it with a translated error.
            if not task.done() or size > self._max_chars:
                self._pending = task
                return "".join(parts), task
            chunk = task.result()
        return "".join(parts), None

    async def text(self, head: str, pending: asyncio.Task[str | None]) -> AsyncGenerator[str]:
        """Yield `head`, then the rest of the message as it is written."""
        self.sent.add(head)
        yield head
        chunk = await pending
        while chunk is not None:
            if chunk:
                self.sent.add(chunk)
                yield chunk
            chunk = await _next_chunk(self._chunks)

    async def aclose(self) -> None:
        """Stop a read still pending (the consumer stopped listening), close the text."""
        if (task := self._pending) is not None:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            elif not task.cancelled():
                task.exception()  # retrieved: a failure nobody awaited is not logged as lost
        # A stream that ended early (a bound, an error) leaves the text generator suspended:
        # close it now so that the LLM behind it stops, not at garbage collection. Its own
        # clean-up errors must not hide the error the stream ended with.
        if (aclose := getattr(self._chunks, "aclose", None)) is not None:
            with contextlib.suppress(Exception):
                await aclose()


class FishAudioTTSEntity(FishAudioVoiceEntity, TextToSpeechEntity):
    """Speaks with one voice: its settings are the default options."""

    _attr_translation_key = "text_to_speech"
    _attr_supported_languages = SUPPORTED_LANGUAGES
    _attr_default_language = DEFAULT_LANGUAGE

    def __init__(self, entry: FishAudioConfigEntry, subentry: ConfigSubentry) -> None:
        """Initialise the entity from the voice's settings."""
        super().__init__(entry, subentry)
        settings = {**voice_defaults(), **subentry.data}
        self._format = str(settings[CONF_FORMAT])
        # Every setting is a default option, so it is part of Home Assistant's cache key:
        # reconfiguring the voice can never replay audio made with the old settings. The
        # preferred format defaults to the voice's format: without it Home Assistant would
        # transcode every clip to MP3.
        self._attr_default_options = {
            **{s.per_call_key: settings[s.key] for s in subentry_settings() if s.key in settings},
            ATTR_PREFERRED_FORMAT: self._format,
        }

    @property
    def supported_options(self) -> list[str]:
        """Return the per-call options: every voice setting, and Home Assistant's hints.

        The voice settings come from the table (`voice` is the API's
        reference_id). The `preferred_*` options are Home Assistant's hints (an Assist
        satellite asks for 16 kHz mono 16-bit WAV): the API makes every format it knows at
        several rates, always mono 16-bit; `preferred_bitrate` where Home Assistant has it.
        """
        hints = [ATTR_PREFERRED_FORMAT, *PREFERRED_SAMPLE_OPTIONS]
        if HAS_PREFERRED_BITRATE:
            hints.append(PREFERRED_BITRATE)
        return [*per_call_settings(), *hints]

    @callback
    def async_get_supported_voices(self, language: str) -> list[Voice]:
        """Return the account's voices for Assist's voice picker.

        Every language is offered every voice: the S2 models speak any voice in any
        supported language.
        """
        voices = [Voice(voice.id, voice.title) for voice in self.entry.runtime_data.voices.data]
        configured = str(self.subentry.data.get(CONF_VOICE_ID) or "")
        # A title stored by an older release is cleaned like the server's names.
        stored = sanitise(self.subentry.title, self.entry.data.get(CONF_API_KEY), limit=NAME_MAX)
        return configured_first(voices, configured, stored)

    async def async_stream_tts_audio(self, request: TTSAudioRequest) -> TTSAudioResponse:
        """Stream speech for a message, complete or still being written.

        The language is not sent: Fish Audio reads it from the text.
        """
        synthesis = self._synthesis(request.options)
        return TTSAudioResponse(synthesis.extension, self._audio(request.message_gen, synthesis))

    async def async_get_tts_audio(
        self, message: str, language: str, options: dict[str, Any]
    ) -> TtsAudioType:
        """Return speech for a complete message in one piece (over HTTP)."""
        synthesis = self._synthesis(options)
        data = b"".join([chunk async for chunk in self._audio(message, synthesis)])
        return synthesis.extension, data

    def _synthesis(self, options: Mapping[str, Any]) -> _Synthesis:
        """Validate the options of a call and build its request settings.

        Raises:
            ServiceValidationError: An option has a value the API would refuse.
        """
        merged = {**(self.default_options or {}), **options}
        values = call_values(merged)
        model = str(values.get(CONF_MODEL, voice_defaults()[CONF_MODEL]))
        if (refused := not_for_model(values, model)) is not None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="setting_not_for_model",
                translation_placeholders={"setting": refused.per_call_key, "model": model},
            )
        audio_format, extension = self._format_for(values[CONF_FORMAT], merged)
        try:
            request = tts_options({**values, CONF_FORMAT: audio_format})
        except ValueError as err:
            # Each value passed its own check; a combination can still be refused (a
            # sample rate the format does not offer).
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_voice_settings",
                translation_placeholders={"error": str(err)},
            ) from err
        rate = _as_int(merged.get(ATTR_PREFERRED_SAMPLE_RATE))
        if rate in SAMPLE_RATES[audio_format]:
            # Made at the requested rate: nothing left to convert (2026.11), or a conversion
            # that only copies the samples.
            request = replace(request, sample_rate=rate)
        bitrate = _as_int(merged.get(PREFERRED_BITRATE))
        if bitrate is not None and (native := with_bitrate(request, bitrate)) is not None:
            request = native
        return _Synthesis(request, extension)

    def _format_for(self, requested: str, merged: Mapping[str, Any]) -> tuple[str, str]:
        """Pick the format Fish Audio makes, and its extension.

        Home Assistant delivers `preferred_format` (the voice's format unless the caller
        asked for another) and converts with ffmpeg when the engine's extension differs, or
        (before 2026.11) whenever a preferred sample option is given. A caller that asks for
        audio Fish Audio makes itself gets it directly, so there is nothing to convert;
        audio it cannot make is made in another format, so that Home Assistant converts it
        with every option asked for; otherwise `format` is what Fish Audio sends.

        Raises:
            ServiceValidationError: Raw PCM that Home Assistant would have to convert.
        """
        preferred = merged.get(ATTR_PREFERRED_FORMAT)
        audio_format = requested
        if isinstance(preferred, str) and preferred != self._format and preferred in _EXTENSIONS:
            audio_format = str(preferred)
        converts = _EXTENSIONS[audio_format] != preferred or (
            CONVERTS_HANDLED_OPTIONS and any(merged.get(key) is not None for key in _CONVERTS_FOR)
        )
        if not converts and not _made_as_asked(audio_format, merged):
            # 2026.11 leaves audio in the asked format alone, as made: in another format
            # (lossless WAV where it can be), Home Assistant converts it as asked.
            converts = True
            audio_format = "mp3" if audio_format == "wav" else "wav"
        if converts and preferred == "pcm":
            # ffmpeg has no `pcm` muxer: Home Assistant's conversion to raw PCM always fails.
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="pcm_not_convertible"
            )
        if audio_format == "pcm" and converts:
            # Headerless samples cannot be identified by ffmpeg: WAV carries the same
            # samples with the header that describes them.
            audio_format = "wav"
        if audio_format == "opus" and converts:
            # Home Assistant names ffmpeg's input format by the extension (`-f opus`), and
            # ffmpeg has no demuxer of that name (Opus comes in Ogg): MP3 it reads.
            audio_format = "mp3"
        bitrate = _as_int(merged.get(PREFERRED_BITRATE))
        if audio_format == "mp3" and bitrate is not None and bitrate not in MP3_BITRATES:
            # A bitrate Fish Audio does not make: it makes WAV, and Home Assistant encodes the
            # MP3 at exactly the bitrate asked for (it converts whenever the format differs).
            audio_format = "wav"
        if (
            audio_format == "wav"
            and CONVERTS_HANDLED_OPTIONS
            and any(merged.get(key) is not None for key in PREFERRED_SAMPLE_OPTIONS)
        ):
            # ffmpeg runs anyway, and it writes its first output sooner from MP3 than from a
            # WAV stream, which it reads ahead into (1.3 s of audio against 2.0-5.6 s with
            # the arguments of 2026.2 and 2026.10; benchmarks/README.md, the wav 16 kHz case).
            audio_format = "mp3"
        return audio_format, _EXTENSIONS[audio_format]

    async def _audio(
        self, message: str | AsyncIterator[str], synthesis: _Synthesis
    ) -> AsyncGenerator[bytes]:
        """Yield the audio of a message; a failure is also explained in the UI.

        Home Assistant's player shows no error of its own (see speech_notices.py).
        """
        try:
            async with contextlib.aclosing(self._speech(message, synthesis)) as speech:
                async for chunk in speech:
                    yield chunk
        except HomeAssistantError as err:
            await async_explain_failure(
                self.entry, self.subentry, err, synthesis.options.reference_id
            )
            raise

    async def _speech(
        self, message: str | AsyncIterator[str], synthesis: _Synthesis
    ) -> AsyncGenerator[bytes]:
        """Yield the audio of a message as Fish Audio sends it.

        Raises:
            HomeAssistantError: Translated; the client's errors are mapped (and reauth or
                the credit repair issue started) by `api_errors`.
        """
        runtime = self.entry.runtime_data
        incoming: _IncomingMessage | None = None
        try:
            pending: asyncio.Task[str | None] | None = None
            if isinstance(message, str):
                text = message
            else:
                incoming = _IncomingMessage(message, runtime.client.live_text_max_chars)
                text, pending = await incoming.read_available()
            source: AsyncGenerator[bytes]
            billed: str | TextSize = text
            # The client checks its input as the stream is built (text it cannot send).
            with api_errors(self.entry, voice_id=synthesis.options.reference_id):
                if incoming is not None and pending is not None:
                    billed = incoming.sent
                    source = runtime.client.tts_live(
                        incoming.text(text, pending), synthesis.options, flush=FlushPolicy()
                    )
                elif text.strip():
                    source = runtime.client.tts(text, synthesis.options)
                else:
                    raise HomeAssistantError(
                        translation_domain=DOMAIN, translation_key="empty_message"
                    )
            try:
                with api_errors(self.entry, voice_id=synthesis.options.reference_id):
                    # aclosing: a consumer that stops listening releases the HTTP response
                    # or closes the WebSocket at once instead of at garbage collection.
                    async with contextlib.aclosing(source) as audio:
                        async for chunk in audio:
                            yield chunk
                # Only a stream delivered to its end counts (see usage.py).
                async_record_tts(self.entry, synthesis.options.model, billed)
                async_spoke(self.entry, self.subentry)
            finally:
                # Fish Audio bills the call: refresh the credit sensors soon (debounced).
                runtime.coordinator.async_note_usage()
        finally:
            if incoming is not None:
                await incoming.aclose()


def _made_as_asked(audio_format: str, merged: Mapping[str, Any]) -> bool:
    """Return whether Fish Audio makes `audio_format` exactly as the call's options ask.

    Fish Audio's audio is mono, at the rates of SAMPLE_RATES, MP3 at MP3_BITRATES. A sample
    size is never a reason to convert: Fish Audio's samples are 16-bit, and so are Home
    Assistant's conversions (it passes ffmpeg a sample format for 2 bytes only); nor is a
    bitrate for any format but MP3, the only one Home Assistant applies it to (tts
    `_async_convert_audio`).
    """
    rate = _as_int(merged.get(ATTR_PREFERRED_SAMPLE_RATE))
    channels = _as_int(merged.get(ATTR_PREFERRED_SAMPLE_CHANNELS))
    bitrate = _as_int(merged.get(PREFERRED_BITRATE))
    return (
        (rate is None or rate in SAMPLE_RATES[audio_format])
        and channels in (None, 1)
        and (audio_format != "mp3" or bitrate is None or bitrate in MP3_BITRATES)
    )


def _as_int(value: Any) -> int | None:
    """Return `value` as an int, or None (Home Assistant rejects a bad rate itself)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
