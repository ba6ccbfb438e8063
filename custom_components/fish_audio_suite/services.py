"""Actions of Fish Audio Suite: voice library, transcription and synthesis to a file.

Registered once in ``async_setup``; every action names the account with ``config_entry_id``.

Files are read and written through ``files.py``, the file-system security boundary; all
of an action's files are read before its first API call, so a rejected file never leaves a
half-done change behind (no voice created without its samples).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_CONFIG_ENTRY_ID, ATTR_ENTITY_ID, Platform
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, entity_registry as er
from homeassistant.helpers.service import async_register_admin_service
import voluptuous as vol

from .api import ASR_MAX_BYTES, CREATE_MAX_VOICES, PAGE_SIZE_MAX, FishAudioError, Voice
from .const import (
    CONF_FORMAT,
    CONF_LATENCY,
    CONF_MODEL,
    CONF_NORMALIZE,
    CONF_SPEED,
    CONF_TEMPERATURE,
    CONF_TOP_P,
    CONF_VOICE_ID,
    CONF_VOLUME,
    DOMAIN,
    FORMATS,
    LATENCIES,
    LOGGER,
    MODELS,
    OWN_VOICES_LIMIT,
    SPEED_RANGE,
    VOLUME_RANGE,
)
from .files import async_read_files, async_write_stream, open_output
from .helpers import api_errors, tts_options

if TYPE_CHECKING:
    from .coordinator import FishAudioConfigEntry

SERVICE_LIST_VOICES = "list_voices"
SERVICE_GET_VOICE = "get_voice"
SERVICE_CREATE_VOICE = "create_voice"
SERVICE_UPDATE_VOICE = "update_voice"
SERVICE_DELETE_VOICE = "delete_voice"
SERVICE_TRANSCRIBE = "transcribe"
SERVICE_SYNTHESIZE = "synthesize"

# Field names (DESIGN.md section 6: public interface).
ATTR_SELF_ONLY = "self_only"
ATTR_TITLE = "title"
ATTR_TAGS = "tags"
ATTR_LANGUAGE = "language"
ATTR_SORT_BY = "sort_by"
ATTR_PAGE_SIZE = "page_size"
ATTR_PAGE_NUMBER = "page_number"
ATTR_VOICE_ID = "voice_id"
ATTR_AUDIO = "audio"
ATTR_TEXTS = "texts"
ATTR_DESCRIPTION = "description"
ATTR_VISIBILITY = "visibility"
ATTR_ENHANCE_AUDIO_QUALITY = "enhance_audio_quality"
ATTR_COVER_IMAGE = "cover_image"
ATTR_INCLUDE_TIMESTAMPS = "include_timestamps"
ATTR_MESSAGE = "message"
ATTR_FILENAME = "filename"

SORT_BY_OPTIONS = ["task_count", "score", "created_at"]
VISIBILITY_OPTIONS = ["private", "unlist", "public"]
DEFAULT_PAGE_SIZE = 10  # the API's and the SDK's default page

# Fish Audio asks for 10 s to a few minutes of clean speech per sample; a three-minute mono
# 44.1 kHz WAV is about 16 MB, so 20 MB (the API's ASR limit) covers any sensible sample. The
# total bounds what one action holds in memory (20 samples at the cap would be 400 MB).
SAMPLE_MAX_BYTES = 20 * 1024 * 1024
SAMPLES_TOTAL_MAX_BYTES = 50 * 1024 * 1024
# Cover images are shown as small thumbnails; anything bigger is a mistake, not a cover.
COVER_IMAGE_MAX_BYTES = 5 * 1024 * 1024
TTS_CHUNK_BYTES = 64 * 1024

# The client refuses other ids; checking here gives the user a translated error instead.
_VOICE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")

_MB = 1024 * 1024

_STRING_LIST = vol.All(cv.ensure_list, [cv.string])

BASE_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})

LIST_VOICES_SCHEMA = BASE_SCHEMA.extend(
    {
        vol.Optional(ATTR_SELF_ONLY, default=True): cv.boolean,
        vol.Optional(ATTR_TITLE): cv.string,
        vol.Optional(ATTR_TAGS): _STRING_LIST,
        vol.Optional(ATTR_LANGUAGE): _STRING_LIST,
        vol.Optional(ATTR_SORT_BY, default="task_count"): vol.In(SORT_BY_OPTIONS),
        vol.Optional(ATTR_PAGE_SIZE, default=DEFAULT_PAGE_SIZE): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=PAGE_SIZE_MAX)
        ),
        vol.Optional(ATTR_PAGE_NUMBER, default=1): vol.All(vol.Coerce(int), vol.Range(min=1)),
    }
)
VOICE_ID_SCHEMA = BASE_SCHEMA.extend({vol.Required(ATTR_VOICE_ID): cv.string})
CREATE_VOICE_SCHEMA = BASE_SCHEMA.extend(
    {
        vol.Required(ATTR_TITLE): vol.All(cv.string, vol.Length(min=1)),
        vol.Required(ATTR_AUDIO): _STRING_LIST,
        vol.Optional(ATTR_TEXTS): _STRING_LIST,
        vol.Optional(ATTR_DESCRIPTION): cv.string,
        vol.Optional(ATTR_TAGS): _STRING_LIST,
        vol.Optional(ATTR_VISIBILITY, default="private"): vol.In(VISIBILITY_OPTIONS),
        vol.Optional(ATTR_ENHANCE_AUDIO_QUALITY, default=True): cv.boolean,
        vol.Optional(ATTR_COVER_IMAGE): cv.string,
    }
)
UPDATE_VOICE_SCHEMA = VOICE_ID_SCHEMA.extend(
    {
        vol.Optional(ATTR_TITLE): vol.All(cv.string, vol.Length(min=1)),
        vol.Optional(ATTR_DESCRIPTION): cv.string,
        vol.Optional(ATTR_TAGS): _STRING_LIST,
        vol.Optional(ATTR_VISIBILITY): vol.In(VISIBILITY_OPTIONS),
        vol.Optional(ATTR_COVER_IMAGE): cv.string,
    }
)
TRANSCRIBE_SCHEMA = BASE_SCHEMA.extend(
    {
        vol.Required(ATTR_AUDIO): cv.string,
        vol.Optional(ATTR_LANGUAGE): cv.string,
        vol.Optional(ATTR_INCLUDE_TIMESTAMPS, default=True): cv.boolean,
    }
)
SYNTHESIZE_SCHEMA = BASE_SCHEMA.extend(
    {
        vol.Optional(ATTR_ENTITY_ID): cv.entity_id,
        vol.Required(ATTR_MESSAGE): cv.string,
        vol.Required(ATTR_FILENAME): cv.string,
        vol.Optional(CONF_VOICE_ID): cv.string,
        vol.Optional(CONF_MODEL): vol.In(MODELS),
        vol.Optional(CONF_LATENCY): vol.In(LATENCIES),
        vol.Optional(CONF_SPEED): vol.All(
            vol.Coerce(float), vol.Range(min=SPEED_RANGE[0], max=SPEED_RANGE[1])
        ),
        vol.Optional(CONF_VOLUME): vol.All(
            vol.Coerce(float), vol.Range(min=VOLUME_RANGE[0], max=VOLUME_RANGE[1])
        ),
        vol.Optional(CONF_TEMPERATURE): vol.All(vol.Coerce(float), vol.Range(min=0, max=1)),
        vol.Optional(CONF_TOP_P): vol.All(vol.Coerce(float), vol.Range(min=0, max=1)),
        vol.Optional(CONF_NORMALIZE): cv.boolean,
        vol.Optional(CONF_FORMAT): vol.In(FORMATS),
    }
)
_VOICE_SETTINGS = (
    CONF_VOICE_ID,
    CONF_MODEL,
    CONF_LATENCY,
    CONF_SPEED,
    CONF_VOLUME,
    CONF_TEMPERATURE,
    CONF_TOP_P,
    CONF_NORMALIZE,
    CONF_FORMAT,
)


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    """Return a translated validation error."""
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


# ------------------------------------------------------------------- preconditions


def _get_entry(call: ServiceCall) -> FishAudioConfigEntry:
    """Return the loaded account entry the call names."""
    entry_id: str = call.data[ATTR_CONFIG_ENTRY_ID]
    entry = call.hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise _invalid("config_entry_not_found", entry_id=entry_id)
    if entry.state is not ConfigEntryState.LOADED:
        raise _invalid("config_entry_not_loaded", account=entry.title)
    return cast("FishAudioConfigEntry", entry)


def _voice_id(call: ServiceCall) -> str:
    """Return the call's voice id, refused early when it cannot be a Fish Audio id."""
    voice_id: str = call.data[ATTR_VOICE_ID]
    if not _VOICE_ID_RE.match(voice_id):
        raise _invalid("invalid_voice_id", voice_id=voice_id)
    return voice_id


async def _async_refresh_voices(
    entry: FishAudioConfigEntry,
    *,
    added: Voice | None = None,
    removed: str | None = None,
) -> None:
    """Re-list the account's own voices after a change (voice picker, Assist's voice list).

    The change itself has succeeded by now, so a failed refresh must not fail the action (a
    user would retry and clone the voice twice): the cached list is patched instead.
    """
    runtime = entry.runtime_data
    try:
        page = await runtime.client.list_voices(self_only=True, page_size=OWN_VOICES_LIMIT)
    except FishAudioError as err:
        LOGGER.warning("Could not refresh the voice list of %s: %s", entry.title, err)
        voices = [voice for voice in runtime.voices if voice.id != removed]
        if added is not None:
            voices.append(added)
        runtime.voices = voices
        return
    runtime.voices = list(page.items)


# ------------------------------------------------------------------------ files


async def _async_read_cover(hass: HomeAssistant, call: ServiceCall) -> bytes | None:
    """Read the call's cover image, if it names one."""
    if (cover := call.data.get(ATTR_COVER_IMAGE)) is None:
        return None
    return (await async_read_files(hass, [cover], COVER_IMAGE_MAX_BYTES))[0]


# ------------------------------------------------------------------------- actions


async def _async_list_voices(call: ServiceCall) -> ServiceResponse:
    """List voices: the account's own by default, or the public library."""
    entry = _get_entry(call)
    with api_errors(entry):
        page = await entry.runtime_data.client.list_voices(
            self_only=call.data[ATTR_SELF_ONLY],
            title=call.data.get(ATTR_TITLE),
            tags=call.data.get(ATTR_TAGS),
            language=call.data.get(ATTR_LANGUAGE),
            sort_by=call.data[ATTR_SORT_BY],
            page_size=call.data[ATTR_PAGE_SIZE],
            page_number=call.data[ATTR_PAGE_NUMBER],
        )
    return {"total": page.total, "voices": [voice.as_dict() for voice in page.items]}


async def _async_get_voice(call: ServiceCall) -> ServiceResponse:
    """Return one voice."""
    entry = _get_entry(call)
    voice_id = _voice_id(call)
    with api_errors(entry, voice_id=voice_id):
        voice = await entry.runtime_data.client.get_voice(voice_id)
    return {"voice": voice.as_dict()}


async def _async_create_voice(call: ServiceCall) -> ServiceResponse:
    """Clone a voice from audio samples."""
    hass = call.hass
    entry = _get_entry(call)
    audio: list[str] = call.data[ATTR_AUDIO]
    texts: list[str] | None = call.data.get(ATTR_TEXTS)
    if not 1 <= len(audio) <= CREATE_MAX_VOICES:
        raise _invalid("audio_count", count=str(len(audio)), max=str(CREATE_MAX_VOICES))
    if texts is not None and len(texts) != len(audio):
        raise _invalid("texts_count_mismatch", audio=str(len(audio)), texts=str(len(texts)))
    # Everything is read and checked before the API is called: no voice without its samples.
    samples = await async_read_files(hass, audio, SAMPLE_MAX_BYTES)
    if sum(len(sample) for sample in samples) > SAMPLES_TOTAL_MAX_BYTES:
        raise _invalid("audio_too_large", max_mb=f"{SAMPLES_TOTAL_MAX_BYTES / _MB:g}")
    cover_image = await _async_read_cover(hass, call)
    with api_errors(entry):
        voice = await entry.runtime_data.client.create_voice(
            title=call.data[ATTR_TITLE],
            voices=samples,
            texts=texts or None,
            description=call.data.get(ATTR_DESCRIPTION),
            tags=call.data.get(ATTR_TAGS),
            cover_image=cover_image,
            visibility=call.data[ATTR_VISIBILITY],
            enhance_audio_quality=call.data[ATTR_ENHANCE_AUDIO_QUALITY],
        )
    await _async_refresh_voices(entry, added=voice)
    return {"voice": voice.as_dict()}


async def _async_update_voice(call: ServiceCall) -> None:
    """Change a voice's title, description, tags, visibility or cover image."""
    hass = call.hass
    entry = _get_entry(call)
    voice_id = _voice_id(call)
    changes = {
        key: call.data[key]
        for key in (ATTR_TITLE, ATTR_DESCRIPTION, ATTR_TAGS, ATTR_VISIBILITY, ATTR_COVER_IMAGE)
        if key in call.data
    }
    if not changes:
        raise _invalid("nothing_to_update", voice_id=voice_id)
    cover_image = await _async_read_cover(hass, call)
    with api_errors(entry, voice_id=voice_id):
        await entry.runtime_data.client.update_voice(
            voice_id,
            title=changes.get(ATTR_TITLE),
            description=changes.get(ATTR_DESCRIPTION),
            visibility=changes.get(ATTR_VISIBILITY),
            tags=changes.get(ATTR_TAGS),
            cover_image=cover_image,
        )
    await _async_refresh_voices(entry)


async def _async_delete_voice(call: ServiceCall) -> None:
    """Delete a voice."""
    entry = _get_entry(call)
    voice_id = _voice_id(call)
    with api_errors(entry, voice_id=voice_id):
        await entry.runtime_data.client.delete_voice(voice_id)
    await _async_refresh_voices(entry, removed=voice_id)


async def _async_transcribe(call: ServiceCall) -> ServiceResponse:
    """Transcribe an audio file."""
    entry = _get_entry(call)
    (audio,) = await async_read_files(call.hass, [call.data[ATTR_AUDIO]], ASR_MAX_BYTES)
    runtime = entry.runtime_data
    with api_errors(entry):
        result = await runtime.client.asr(
            audio,
            language=call.data.get(ATTR_LANGUAGE),
            include_timestamps=call.data[ATTR_INCLUDE_TIMESTAMPS],
        )
    runtime.coordinator.async_note_usage()
    return {
        "text": result.text,
        "duration": result.duration,
        "segments": [segment.as_dict() for segment in result.segments],
    }


def _voice_settings(call: ServiceCall, entry: FishAudioConfigEntry) -> dict[str, Any]:
    """Return the synthesis settings: the TTS entity's voice, changed by explicit fields."""
    settings: dict[str, Any] = {}
    if (entity_id := call.data.get(ATTR_ENTITY_ID)) is not None:
        registry_entry = er.async_get(call.hass).async_get(entity_id)
        if (
            registry_entry is None
            or registry_entry.platform != DOMAIN
            or registry_entry.domain != Platform.TTS
        ):
            raise _invalid("not_a_voice_entity", entity_id=entity_id)
        # The TTS entity's unique id is its voice subentry's id (entity.py).
        subentry = entry.subentries.get(registry_entry.unique_id)
        if registry_entry.config_entry_id != entry.entry_id or subentry is None:
            raise _invalid("entity_not_in_entry", entity_id=entity_id, account=entry.title)
        settings.update(subentry.data)
    settings.update({key: call.data[key] for key in _VOICE_SETTINGS if key in call.data})
    return settings


async def _async_synthesize(call: ServiceCall) -> ServiceResponse:
    """Speak a message into an audio file under an allowed directory."""
    hass = call.hass
    entry = _get_entry(call)
    message: str = call.data[ATTR_MESSAGE]
    if not message.strip():
        raise _invalid("empty_message")
    try:
        options = tts_options(_voice_settings(call, entry))
    except ValueError as err:
        raise _invalid("invalid_voice_settings", error=str(err)) from err
    # The target is checked and its temporary file created before any audio is paid for.
    output = await hass.async_add_executor_job(open_output, hass, call.data[ATTR_FILENAME])
    runtime = entry.runtime_data
    chunks = runtime.client.tts(message, options, chunk_size=TTS_CHUNK_BYTES)
    with api_errors(entry, voice_id=options.reference_id):
        size = await async_write_stream(hass, output, chunks)
    runtime.coordinator.async_note_usage()
    return {"path": str(output.target), "format": options.format, "bytes": size}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions of Fish Audio Suite (once, from ``async_setup``)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_LIST_VOICES,
        _async_list_voices,
        schema=LIST_VOICES_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_VOICE,
        _async_get_voice,
        schema=VOICE_ID_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_TRANSCRIBE,
        _async_transcribe,
        schema=TRANSCRIBE_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    # Changing the voice library and writing files on the server are for administrators.
    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_CREATE_VOICE,
        _async_create_voice,
        schema=CREATE_VOICE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    async_register_admin_service(
        hass, DOMAIN, SERVICE_UPDATE_VOICE, _async_update_voice, schema=UPDATE_VOICE_SCHEMA
    )
    async_register_admin_service(
        hass, DOMAIN, SERVICE_DELETE_VOICE, _async_delete_voice, schema=VOICE_ID_SCHEMA
    )
    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_SYNTHESIZE,
        _async_synthesize,
        schema=SYNTHESIZE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
