"""Text-to-speech from a self-hosted Fish Speech server: one entity per voice subentry.

A complete message is one streamed request (WAV: the server's headerless PCM behind a header
of ours) or one whole MP3. Text still being written (an LLM reply in an Assist pipeline) is
synthesized sentence by sentence as it arrives, because the server takes no incremental
text: the first sentence plays while the LLM is still writing the next ones.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.tts import (
    ATTR_PREFERRED_FORMAT,
    TextToSpeechEntity,
    TTSAudioResponse,
    TtsAudioType,
    Voice,
)
from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo

from .api import FishSpeechTTSOptions
from .api.const import SPEECH_FORMATS
from .const import (
    BACKEND_FISH_SPEECH,
    CONF_FORMAT,
    CONF_VOICE_ID,
    DEFAULT_LANGUAGE,
    DOMAIN,
    SUPPORTED_LANGUAGES,
)
from .fish_speech import async_check_reference, speech_errors
from .tts import configured_first
from .voice_settings import (
    call_values,
    per_call_settings,
    speech_options,
    subentry_settings,
    voice_defaults,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Mapping

    from homeassistant.components.tts.entity import TTSAudioRequest
    from homeassistant.config_entries import ConfigSubentry

    from .fish_speech import FishSpeechConfigEntry

MANUFACTURER: Final = "Fish Speech (self-hosted)"


def supported_options() -> list[str]:
    """Return the per-call options this server takes: the table's, and `preferred_format`.

    The server makes WAV and MP3 at its model's rate only (44.1 kHz mono 16-bit, no
    bitrate setting). Home Assistant's other preferences (sample rate, channels, size,
    bitrate) are not listed, so Home Assistant converts whenever one is given: listed,
    2026.11 would deliver the server's own audio unconverted (tts `_async_generate_tts_audio`).
    """
    return [*per_call_settings(BACKEND_FISH_SPEECH), ATTR_PREFERRED_FORMAT]


class FishSpeechTTSEntity(TextToSpeechEntity):
    """Speaks with one voice of a Fish Speech server: its settings are the default options."""

    _attr_has_entity_name = True
    _attr_translation_key = "text_to_speech"
    # The model speaks the languages of Fish Audio's: the same list.
    _attr_supported_languages = SUPPORTED_LANGUAGES
    _attr_default_language = DEFAULT_LANGUAGE

    def __init__(self, entry: FishSpeechConfigEntry, subentry: ConfigSubentry) -> None:
        """Initialise the entity from the voice's settings."""
        self.entry = entry
        self.subentry = subentry
        self._attr_unique_id = subentry.subentry_id
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, subentry.subentry_id)},
            name=subentry.title,
            manufacturer=MANUFACTURER,
            model="Voice",
            entry_type=DeviceEntryType.SERVICE,
        )
        settings = {**voice_defaults(BACKEND_FISH_SPEECH), **subentry.data}
        self._format = str(settings[CONF_FORMAT])
        # Every setting is a default option, so part of Home Assistant's cache key.
        self._attr_default_options = {
            s.per_call_key: settings[s.key]
            for s in subentry_settings(BACKEND_FISH_SPEECH)
            if settings.get(s.key) is not None
        }
        self._attr_default_options[ATTR_PREFERRED_FORMAT] = self._format

    @property
    def supported_options(self) -> list[str]:
        """Return the options a call may give (read from the table when asked)."""
        return supported_options()

    @callback
    def async_get_supported_voices(self, language: str) -> list[Voice]:
        """Return the server's stored voices, the configured one first."""
        configured = str(self.subentry.data.get(CONF_VOICE_ID) or "")
        voices = [Voice(ref, ref) for ref in self.entry.runtime_data.references]
        return configured_first(voices, configured, configured)

    async def async_stream_tts_audio(self, request: TTSAudioRequest) -> TTSAudioResponse:
        """Stream speech for a message, complete or still being written."""
        options = self._options(request.options)
        return TTSAudioResponse(options.format, self._audio(request.message_gen, options))

    async def async_get_tts_audio(
        self, message: str, language: str, options: dict[str, Any]
    ) -> TtsAudioType:
        """Return speech for a complete message in one piece."""
        request = self._options(options)

        async def text() -> AsyncGenerator[str]:
            yield message

        data = b"".join([chunk async for chunk in self._audio(text(), request)])
        return request.format, data

    def _options(self, options: Mapping[str, Any]) -> FishSpeechTTSOptions:
        """Validate the options of a call and build its request settings.

        Raises:
            ServiceValidationError: An option has a value the server would refuse.
        """
        merged = {**(self.default_options or {}), **options}
        request = speech_options(
            call_values(merged, BACKEND_FISH_SPEECH)
        )  # valid by construction: every value was checked
        preferred = merged.get(ATTR_PREFERRED_FORMAT)
        # preferred_format is the voice's format unless a caller (an Assist satellite) asked
        # for another: made in that format, Home Assistant has nothing to convert.
        if preferred != self._format and preferred in SPEECH_FORMATS:
            request = replace(request, format=preferred)
        return request

    async def _audio(
        self, message: AsyncIterator[str], options: FishSpeechTTSOptions
    ) -> AsyncGenerator[bytes]:
        """Yield the audio of a message as the server makes it.

        Raises:
            HomeAssistantError: Translated, for an unknown voice or a failed synthesis.
        """
        if options.reference_id:
            await async_check_reference(self.entry, options.reference_id)
        client = self.entry.runtime_data.client
        produced = False
        with speech_errors(self.entry, voice_id=options.reference_id):
            async with contextlib.aclosing(client.tts_sentences(message, options)) as audio:
                async for chunk in audio:
                    produced = True
                    yield chunk
        if not produced:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="empty_message")
