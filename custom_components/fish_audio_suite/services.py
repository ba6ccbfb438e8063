"""Actions of Fish Audio Suite: voice library, transcription and synthesis to a file.

Registered once in ``async_setup``; every action names the account with ``config_entry_id``.

Files are read and written through ``files.py``, the file-system security boundary; all
of an action's files are read before its first API call, so a rejected file never leaves a
half-done change behind (no voice created without its samples).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
import contextlib
from dataclasses import replace
from functools import partial
import hashlib
from pathlib import Path
import re
from typing import TYPE_CHECKING, Any, Final, cast

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import ATTR_CONFIG_ENTRY_ID, ATTR_ENTITY_ID, Platform
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import config_validation as cv, entity_registry as er
from homeassistant.helpers.service import async_register_admin_service
import voluptuous as vol

from .api import (
    ASR_MAX_BYTES,
    CREATE_MAX_VOICES,
    PAGE_SIZE_MAX,
    VOICE_DESIGN_COUNT_MAX,
    VOICE_DESIGN_INSTRUCTION_MAX,
    VOICE_DESIGN_REFERENCE_TEXT_MAX,
    VOICE_DESIGN_SPEED_MAX,
    ReferenceAudio,
    Timeline,
    TTSOptions,
    VoiceDesignCandidate,
)
from .const import CONF_MODEL, DOMAIN, SUBTITLE_FORMATS, SubtitleFormat
from .helpers import (
    api_errors,
    as_fish_speech,
    async_load_modules,
    coerce_int,
    invalid,
    is_fish_speech,
)
from .usage import async_record_asr, async_record_tts, async_record_voice_design
from .voice_settings import (
    not_for_model,
    settings_in,
    synthesize_fields,
    tts_options,
    voice_defaults,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine

    from .coordinator import FishAudioConfigEntry
    from .files import OutputFile

# What only the actions use, loaded when the first action runs (a setup that never calls one
# never imports them): the file-system boundary, the subtitle writer and the audio probe
# (`transcribe` records the audio's duration).
ACTION_MODULES = ("files", "subtitles", "audio")

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

# The client refuses other ids; checking here gives the user a translated error instead.
# Used with fullmatch: "$" also matches before a trailing newline.
_VOICE_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,128}")

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


def _get_entry(call: ServiceCall) -> FishAudioConfigEntry:
    """Return the loaded account entry the call names."""
    entry_id: str = call.data[ATTR_CONFIG_ENTRY_ID]
    entry = call.hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise invalid("config_entry_not_found", entry_id=entry_id)
    if entry.state is not ConfigEntryState.LOADED:
        raise invalid("config_entry_not_loaded", account=entry.title)
    return cast("FishAudioConfigEntry", entry)


def _voice_id(call: ServiceCall) -> str:
    """Return the call's voice id, refused early when it cannot be a Fish Audio id."""
    voice_id: str = call.data[ATTR_VOICE_ID]
    if not _VOICE_ID_RE.fullmatch(voice_id):
        raise invalid("invalid_voice_id", voice_id=voice_id)
    return voice_id


async def _async_refresh_voices(entry: FishAudioConfigEntry) -> None:
    """Re-list the account's own voices after a change (voice picker, Assist's voice list).

    The change itself has succeeded by now, so a failed refresh must not fail the action (a
    user would retry and clone the voice twice): the coordinator logs it and retries on its
    interval.
    """
    await entry.runtime_data.voices.async_refresh()


# ------------------------------------------------------------------------ files


async def _async_read_cover(hass: HomeAssistant, call: ServiceCall) -> bytes | None:
    """Read the call's cover image, if it names one."""
    if (cover := call.data.get(ATTR_COVER_IMAGE)) is None:
        return None
    from .files import async_read_files  # noqa: PLC0415 - ACTION_MODULES

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
        raise invalid("audio_count", count=str(len(audio)), max=str(CREATE_MAX_VOICES))
    if texts is not None and len(texts) != len(audio):
        raise invalid("texts_count_mismatch", audio=str(len(audio)), texts=str(len(texts)))
    # Everything is read and checked before the API is called: no voice without its samples.
    from .files import async_read_files  # noqa: PLC0415 - ACTION_MODULES

    samples = await async_read_files(hass, audio, SAMPLE_MAX_BYTES)
    if sum(len(sample) for sample in samples) > SAMPLES_TOTAL_MAX_BYTES:
        raise invalid("audio_too_large", max_mb=f"{SAMPLES_TOTAL_MAX_BYTES / _MB:g}")
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
    await _async_refresh_voices(entry)
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
        raise invalid("nothing_to_update", voice_id=voice_id)
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
    await _async_refresh_voices(entry)


async def _async_transcribe(call: ServiceCall) -> ServiceResponse:
    """Transcribe an audio file."""
    entry = _get_entry(call)
    from .files import async_read_files  # noqa: PLC0415 - ACTION_MODULES

    (audio,) = await async_read_files(call.hass, [call.data[ATTR_AUDIO]], ASR_MAX_BYTES)
    runtime = entry.runtime_data
    with api_errors(entry):
        result = await runtime.client.asr(
            audio,
            language=call.data.get(ATTR_LANGUAGE),
            include_timestamps=call.data[ATTR_INCLUDE_TIMESTAMPS],
        )
    async_record_asr(entry, audio, result)
    runtime.coordinator.async_note_usage()
    return {
        "text": result.text,
        "duration": result.duration,
        "segments": [segment.as_dict() for segment in result.segments],
    }


def entity_voice(call: ServiceCall, entry: ConfigEntry[Any]) -> dict[str, Any]:
    """Return the settings of the voice the call's ``entity_id`` speaks with (none: empty).

    Both backends' ``synthesize`` start from it; the entity must be a TTS entity of ``entry``.
    """
    settings: dict[str, Any] = {}
    if (entity_id := call.data.get(ATTR_ENTITY_ID)) is not None:
        registry_entry = er.async_get(call.hass).async_get(entity_id)
        if (
            registry_entry is None
            or registry_entry.platform != DOMAIN
            or registry_entry.domain != Platform.TTS
        ):
            raise invalid("not_a_voice_entity", entity_id=entity_id)
        # The TTS entity's unique id is its voice subentry's id (entity.py).
        subentry = entry.subentries.get(registry_entry.unique_id)
        if registry_entry.config_entry_id != entry.entry_id or subentry is None:
            raise invalid("entity_not_in_entry", entity_id=entity_id, account=entry.title)
        settings.update(subentry.data)
    return settings


def _voice_settings(call: ServiceCall, entry: FishAudioConfigEntry) -> dict[str, Any]:
    """Return the synthesis settings: the TTS entity's voice, changed by explicit fields."""
    settings = entity_voice(call, entry)
    given = settings_in(call.data)
    model = str({**voice_defaults(), **settings, **given}[CONF_MODEL])
    if (setting := not_for_model(given, model)) is not None:
        raise invalid("setting_not_for_model", setting=setting.key, model=model)
    settings.update(given)
    return settings


async def _async_references(call: ServiceCall) -> tuple[ReferenceAudio, ...]:
    """Read the call's reference recordings (instant clone), one transcript per recording."""
    audio: list[str] | None = call.data.get(ATTR_REFERENCE_AUDIO)
    texts: list[str] | None = call.data.get(ATTR_REFERENCE_TEXT)
    if audio is None:
        if texts is not None:
            raise invalid("reference_text_without_audio")
        return ()
    if texts is None or len(texts) != len(audio):
        raise invalid(
            "reference_text_count",
            audio=str(len(audio)),
            texts=str(0 if texts is None else len(texts)),
        )
    if len(audio) > CREATE_MAX_VOICES:
        raise invalid("audio_count", count=str(len(audio)), max=str(CREATE_MAX_VOICES))
    # The same allow-list, symlink and size rules as create_voice (files.py).
    from .files import async_read_files  # noqa: PLC0415 - ACTION_MODULES

    samples = await async_read_files(call.hass, audio, SAMPLE_MAX_BYTES)
    if sum(len(sample) for sample in samples) > REFERENCES_TOTAL_MAX_BYTES:
        raise invalid("audio_too_large", max_mb=f"{REFERENCES_TOTAL_MAX_BYTES / _MB:g}")
    return tuple(
        ReferenceAudio(audio=sample, text=text) for sample, text in zip(samples, texts, strict=True)
    )


def _apply_references(options: TTSOptions, references: tuple[ReferenceAudio, ...]) -> TTSOptions:
    """Replace the voice with the call's reference recordings, if it gives any.

    Dialogue speakers are a voice setting (voice_settings.py), already in `options`.
    """
    if options.speakers and references:
        raise invalid("speakers_with_references")
    if references:
        return replace(options, reference_id=None, references=references)
    return options


def _subtitles_output(hass: HomeAssistant, audio: OutputFile, fmt: SubtitleFormat) -> OutputFile:
    """Open the subtitle file beside the audio: same name, the format's suffix (executor)."""
    from .files import open_output  # noqa: PLC0415 - ACTION_MODULES

    target = audio.target.with_suffix(f".{fmt}")
    if target == audio.target:
        raise invalid("subtitles_same_file", path=str(target))
    return open_output(hass, str(target))


async def _async_timed_audio(
    chunks: AsyncGenerator[Any], timeline: Timeline
) -> AsyncGenerator[bytes]:
    """Yield the audio of a timestamp stream, keeping its alignments in `timeline`."""
    async with contextlib.aclosing(chunks) as events:
        async for event in events:
            timeline.add(event)
            yield event.audio


async def _async_synthesize(call: ServiceCall) -> ServiceResponse:
    """Speak a message into an audio file under an allowed directory."""
    from .files import async_write_stream, open_output, write_failed  # noqa: PLC0415 - ACTION_MODULES
    from .subtitles import build_cues, render  # noqa: PLC0415 - ACTION_MODULES

    hass = call.hass
    entry = _get_entry(call)
    message: str = call.data[ATTR_MESSAGE]
    if not message.strip():
        raise invalid("empty_message")
    try:
        options = tts_options(_voice_settings(call, entry))
    except ValueError as err:
        raise invalid("invalid_voice_settings", error=str(err)) from err
    references = await _async_references(call)
    options = _apply_references(options, references)
    fmt: SubtitleFormat | None = call.data.get(ATTR_SUBTITLES)
    runtime = entry.runtime_data
    timeline = Timeline()
    # Built (and its input checked by the client) before any file exists; it sends nothing
    # until it is read.
    with api_errors(entry):
        chunks: AsyncGenerator[bytes] = (
            runtime.client.tts(message, options, chunk_size=TTS_CHUNK_BYTES)
            if fmt is None
            else _async_timed_audio(runtime.client.tts_with_timestamps(message, options), timeline)
        )
    # The targets are checked and their temporary files created before any audio is paid for.
    output = await hass.async_add_executor_job(open_output, hass, call.data[ATTR_FILENAME])
    subtitles: OutputFile | None = None
    if fmt is not None:
        try:
            subtitles = await hass.async_add_executor_job(_subtitles_output, hass, output, fmt)
        except BaseException:
            await hass.async_add_executor_job(output.discard)
            raise
    try:
        with api_errors(entry, voice_id=options.reference_id):
            size = await async_write_stream(hass, output, chunks)
    except BaseException:
        if subtitles is not None:
            await hass.async_add_executor_job(subtitles.discard)
        raise
    async_record_tts(entry, options.model, message)
    runtime.coordinator.async_note_usage()
    response: dict[str, Any] = {"path": str(output.target), "format": options.format, "bytes": size}
    if subtitles is not None and fmt is not None:
        document = render(build_cues(timeline.segments()), fmt).encode()
        try:
            await hass.async_add_executor_job(subtitles.commit, document)
        except OSError as err:
            await hass.async_add_executor_job(subtitles.discard)
            raise write_failed(subtitles.target, err) from err
        response["subtitles"] = str(subtitles.target)
    return response


# Candidate ids come from the server and become file names: only safe characters survive.
_SAFE_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # fullmatch: no trailing newline


def _audio_extension(audio: bytes) -> str:
    """Return the file extension of candidate audio (the API does not name its format)."""
    if audio[:4] == b"RIFF" and audio[8:12] == b"WAVE":
        return "wav"
    if audio[:4] == b"OggS":
        return "ogg"
    if audio[:4] == b"fLaC":
        return "flac"
    return "mp3"


def _candidate_name(candidate: VoiceDesignCandidate) -> str:
    safe = candidate.id if _SAFE_NAME_RE.fullmatch(candidate.id) else None
    if safe is None:
        safe = hashlib.sha256(candidate.id.encode()).hexdigest()[:32]
    return f"fish_audio_voice_{candidate.index}_{safe}.{_audio_extension(candidate.audio)}"


def _write_candidates(
    hass: HomeAssistant, folder: str, candidates: tuple[VoiceDesignCandidate, ...]
) -> list[Path]:
    """Write every candidate into `folder`, atomically, all or none (executor)."""
    from .files import open_output  # noqa: PLC0415 - ACTION_MODULES

    outputs: list[OutputFile] = []
    try:
        outputs.extend(
            open_output(hass, str(Path(folder) / _candidate_name(candidate)))
            for candidate in candidates
        )
        for output, candidate in zip(outputs, candidates, strict=True):
            output.commit(candidate.audio)
    except BaseException:
        for output in outputs:
            output.discard()
        raise
    return [output.target for output in outputs]


def _check_folder(hass: HomeAssistant, folder: str) -> None:
    """Refuse a folder that is not an allowed, existing directory (executor)."""
    path = Path(folder)
    if not path.is_absolute() or not hass.config.is_allowed_path(folder):
        raise invalid("path_not_allowed", path=folder)
    if not path.is_dir():
        raise invalid("directory_not_found", path=folder)


async def _async_design_voice(call: ServiceCall) -> ServiceResponse:
    """Design voices from a description and save the candidates for create_voice."""
    hass = call.hass
    entry = _get_entry(call)
    folder: str = call.data[ATTR_FOLDER]
    # Checked before the (billed) generation: a wrong folder must not cost anything.
    await hass.async_add_executor_job(_check_folder, hass, folder)
    runtime = entry.runtime_data
    with api_errors(entry):
        candidates = await runtime.client.design_voice(
            call.data[ATTR_INSTRUCTION],
            reference_text=call.data.get(ATTR_REFERENCE_TEXT),
            language=call.data.get(ATTR_LANGUAGE),
            count=call.data.get(ATTR_COUNT),
            speed=call.data.get(ATTR_SPEED),
            seed=call.data.get(ATTR_SEED),
        )
    async_record_voice_design(entry)
    runtime.coordinator.async_note_usage()
    try:
        paths = await hass.async_add_executor_job(_write_candidates, hass, folder, candidates)
    except OSError as err:
        from .files import write_failed  # noqa: PLC0415 - ACTION_MODULES

        raise write_failed(folder, err) from err
    return {
        "candidates": [
            {
                "id": candidate.id,
                "path": str(path),
                "duration": candidate.duration_ms / 1000,
                "sample_rate": candidate.sample_rate,
            }
            for candidate, path in zip(candidates, paths, strict=True)
        ]
    }


def _for_backend(
    service: str, handler: Callable[[ServiceCall], Awaitable[ServiceResponse]]
) -> Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]:
    """Run an action for a Fish Audio account, or its counterpart for a Fish Speech server."""

    async def dispatch(call: ServiceCall) -> ServiceResponse:
        entry = _get_entry(call)
        await async_load_modules(call.hass, *ACTION_MODULES)
        if is_fish_speech(entry):
            from . import fish_speech_services  # noqa: PLC0415 - loaded with the entry

            local = fish_speech_services.HANDLERS[service]
            return await local(call, as_fish_speech(entry))
        return await handler(call)

    return dispatch


# Every action: its handler, its schema (None: built from the voice-settings table when
# registered), what it answers, and whether only an administrator may call it (changing the
# voice library and writing files on the server).
_ACTIONS: Final[
    tuple[
        tuple[
            str,
            Callable[[ServiceCall], Awaitable[ServiceResponse]],
            vol.Schema | None,
            SupportsResponse,
            bool,
        ],
        ...,
    ]
] = (
    (SERVICE_LIST_VOICES, _async_list_voices, LIST_VOICES_SCHEMA, SupportsResponse.ONLY, False),
    (SERVICE_GET_VOICE, _async_get_voice, VOICE_ID_SCHEMA, SupportsResponse.ONLY, False),
    (SERVICE_TRANSCRIBE, _async_transcribe, TRANSCRIBE_SCHEMA, SupportsResponse.ONLY, False),
    (
        SERVICE_CREATE_VOICE,
        _async_create_voice,
        CREATE_VOICE_SCHEMA,
        SupportsResponse.OPTIONAL,
        True,
    ),
    (SERVICE_UPDATE_VOICE, _async_update_voice, UPDATE_VOICE_SCHEMA, SupportsResponse.NONE, True),
    (SERVICE_DELETE_VOICE, _async_delete_voice, VOICE_ID_SCHEMA, SupportsResponse.NONE, True),
    (SERVICE_SYNTHESIZE, _async_synthesize, None, SupportsResponse.OPTIONAL, True),
    (
        SERVICE_DESIGN_VOICE,
        _async_design_voice,
        DESIGN_VOICE_SCHEMA,
        SupportsResponse.OPTIONAL,
        True,
    ),
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions of Fish Audio Suite (once, from ``async_setup``)."""
    for service, handler, schema, response, admin in _ACTIONS:
        register = (
            partial(async_register_admin_service, hass) if admin else hass.services.async_register
        )
        register(
            DOMAIN,
            service,
            _for_backend(service, handler),
            schema=synthesize_schema() if schema is None else schema,
            supports_response=response,
        )
