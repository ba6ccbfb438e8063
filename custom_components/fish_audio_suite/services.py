"""Actions of Fish Audio Suite: their names, fields, limits and schemas, and their registration.

Registered once in ``async_setup`` (the schemas are needed then); every action names the
account with ``config_entry_id``. The handlers are in ``service_handlers.py`` (a Fish Speech
server's in ``fish_speech_services.py``): loaded with the first action call, with what only
they use (``ACTION_MODULES``), so a setup that never calls an action never imports them.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Final, cast

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_CONFIG_ENTRY_ID, ATTR_ENTITY_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.service import async_register_admin_service
import voluptuous as vol

from .api import (
    PAGE_SIZE_MAX,
    VOICE_DESIGN_COUNT_MAX,
    VOICE_DESIGN_INSTRUCTION_MAX,
    VOICE_DESIGN_REFERENCE_TEXT_MAX,
    VOICE_DESIGN_SPEED_MAX,
)
from .const import DOMAIN, SUBTITLE_FORMATS
from .helpers import as_fish_speech, async_load_modules, coerce_int, invalid, is_fish_speech
from .voice_settings import synthesize_fields

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from .coordinator import FishAudioConfigEntry

# What only the actions use, loaded when the first action runs (a setup that never calls one
# never imports them): the handlers (with the file-system boundary and the subtitle writer
# they import) and the audio probe (`transcribe` records the audio's duration).
ACTION_MODULES = ("service_handlers", "audio")

SERVICE_LIST_VOICES = "list_voices"
SERVICE_GET_VOICE = "get_voice"
SERVICE_CREATE_VOICE = "create_voice"
SERVICE_UPDATE_VOICE = "update_voice"
SERVICE_DELETE_VOICE = "delete_voice"
SERVICE_TRANSCRIBE = "transcribe"
SERVICE_SYNTHESIZE = "synthesize"
SERVICE_DESIGN_VOICE = "design_voice"

# Field names (public interface: automations use them).
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
ATTR_REFERENCE_AUDIO = "reference_audio"
ATTR_REFERENCE_TEXT = "reference_text"
ATTR_SUBTITLES = "subtitles"
ATTR_INSTRUCTION = "instruction"
ATTR_COUNT = "count"
ATTR_SEED = "seed"
ATTR_SPEED = "speed"
ATTR_FOLDER = "folder"

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
# Inline references travel in the request body; Fish Audio asks for 10-30 s of speech, which
# is well under a megabyte or two per clip. The total bounds the body of one request.
REFERENCES_TOTAL_MAX_BYTES = 20 * 1024 * 1024

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
            coerce_int, vol.Range(min=1, max=PAGE_SIZE_MAX)
        ),
        vol.Optional(ATTR_PAGE_NUMBER, default=1): vol.All(coerce_int, vol.Range(min=1)),
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


def synthesize_schema() -> vol.Schema:
    """Return the `synthesize` schema: its own fields and every voice setting of the table."""
    return BASE_SCHEMA.extend(
        {
            vol.Optional(ATTR_ENTITY_ID): cv.entity_id,
            vol.Required(ATTR_MESSAGE): cv.string,
            vol.Required(ATTR_FILENAME): cv.string,
            **synthesize_fields(),
            vol.Optional(ATTR_REFERENCE_AUDIO): vol.All(_STRING_LIST, vol.Length(min=1)),
            vol.Optional(ATTR_REFERENCE_TEXT): vol.All(_STRING_LIST, vol.Length(min=1)),
            vol.Optional(ATTR_SUBTITLES): vol.In(SUBTITLE_FORMATS),
        }
    )


DESIGN_VOICE_SCHEMA = BASE_SCHEMA.extend(
    {
        vol.Required(ATTR_INSTRUCTION): vol.All(
            cv.string, vol.Length(min=1, max=VOICE_DESIGN_INSTRUCTION_MAX)
        ),
        vol.Optional(ATTR_REFERENCE_TEXT): vol.All(
            cv.string, vol.Length(max=VOICE_DESIGN_REFERENCE_TEXT_MAX)
        ),
        vol.Optional(ATTR_LANGUAGE): cv.string,
        vol.Optional(ATTR_COUNT): vol.All(coerce_int, vol.Range(min=1, max=VOICE_DESIGN_COUNT_MAX)),
        vol.Optional(ATTR_SPEED): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=VOICE_DESIGN_SPEED_MAX, min_included=False)
        ),
        vol.Optional(ATTR_SEED): coerce_int,
        vol.Required(ATTR_FOLDER): cv.string,
    }
)


# ------------------------------------------------------------------- preconditions


def get_entry(call: ServiceCall) -> FishAudioConfigEntry:
    """Return the loaded account entry the call names."""
    entry_id: str = call.data[ATTR_CONFIG_ENTRY_ID]
    entry = call.hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise invalid("config_entry_not_found", entry_id=entry_id)
    if entry.state is not ConfigEntryState.LOADED:
        raise invalid("config_entry_not_loaded", account=entry.title)
    return cast("FishAudioConfigEntry", entry)


def _for_backend(service: str) -> Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]:
    """Run an action's handler for a Fish Audio account, or for a Fish Speech server."""

    async def dispatch(call: ServiceCall) -> ServiceResponse:
        entry = get_entry(call)
        await async_load_modules(call.hass, *ACTION_MODULES)
        if is_fish_speech(entry):
            from . import fish_speech_services  # noqa: PLC0415 - loaded with the entry

            local = fish_speech_services.HANDLERS[service]
            return await local(call, as_fish_speech(entry))
        from . import service_handlers  # noqa: PLC0415 - ACTION_MODULES, just above

        return await service_handlers.HANDLERS[service](call)

    return dispatch


# Every action: its schema (None: built from the voice-settings table when registered), what
# it answers, and whether only an administrator may call it (changing the voice library and
# writing files on the server). Its handler is `service_handlers.HANDLERS[name]`.
_ACTIONS: Final[tuple[tuple[str, vol.Schema | None, SupportsResponse, bool], ...]] = (
    (SERVICE_LIST_VOICES, LIST_VOICES_SCHEMA, SupportsResponse.ONLY, False),
    (SERVICE_GET_VOICE, VOICE_ID_SCHEMA, SupportsResponse.ONLY, False),
    (SERVICE_TRANSCRIBE, TRANSCRIBE_SCHEMA, SupportsResponse.ONLY, False),
    (SERVICE_CREATE_VOICE, CREATE_VOICE_SCHEMA, SupportsResponse.OPTIONAL, True),
    (SERVICE_UPDATE_VOICE, UPDATE_VOICE_SCHEMA, SupportsResponse.NONE, True),
    (SERVICE_DELETE_VOICE, VOICE_ID_SCHEMA, SupportsResponse.NONE, True),
    (SERVICE_SYNTHESIZE, None, SupportsResponse.OPTIONAL, True),
    (SERVICE_DESIGN_VOICE, DESIGN_VOICE_SCHEMA, SupportsResponse.OPTIONAL, True),
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions of Fish Audio Suite (once, from ``async_setup``)."""
    for service, schema, response, admin in _ACTIONS:
        register = (
            partial(async_register_admin_service, hass) if admin else hass.services.async_register
        )
        register(
            DOMAIN,
            service,
            _for_backend(service),
            schema=synthesize_schema() if schema is None else schema,
            supports_response=response,
        )
