"""Handlers of the actions of a Fish Audio account (registered in ``services.py``).

Loaded with the first action call (``services.ACTION_MODULES``), not with the integration.
Files are read and written through ``files.py``, the file-system security boundary; all of
an action's files are read before its first API call, so a rejected file never leaves a
half-done change behind (no voice created without its samples).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
import contextlib
from copy import replace
import hashlib
from pathlib import Path
import re
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import ATTR_ENTITY_ID, Platform
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse
from homeassistant.helpers import entity_registry as er

from .api import (
    ASR_MAX_BYTES,
    CREATE_MAX_VOICES,
    ReferenceAudio,
    Timeline,
    TTSOptions,
    VoiceDesignCandidate,
    is_voice_id,
)
from .const import CONF_MODEL, DOMAIN, SubtitleFormat
from .files import OutputFile, async_read_files, async_write_stream, open_output, write_failed
from .helpers import api_errors, invalid
from .services import (
    ATTR_AUDIO,
    ATTR_COUNT,
    ATTR_COVER_IMAGE,
    ATTR_DESCRIPTION,
    ATTR_ENHANCE_AUDIO_QUALITY,
    ATTR_FILENAME,
    ATTR_FOLDER,
    ATTR_INCLUDE_TIMESTAMPS,
    ATTR_INSTRUCTION,
    ATTR_LANGUAGE,
    ATTR_MESSAGE,
    ATTR_PAGE_NUMBER,
    ATTR_PAGE_SIZE,
    ATTR_REFERENCE_AUDIO,
    ATTR_REFERENCE_TEXT,
    ATTR_SEED,
    ATTR_SELF_ONLY,
    ATTR_SORT_BY,
    ATTR_SPEED,
    ATTR_SUBTITLES,
    ATTR_TAGS,
    ATTR_TEXTS,
    ATTR_TITLE,
    ATTR_VISIBILITY,
    ATTR_VOICE_ID,
    COVER_IMAGE_MAX_BYTES,
    REFERENCES_TOTAL_MAX_BYTES,
    SAMPLE_MAX_BYTES,
    SAMPLES_TOTAL_MAX_BYTES,
    SERVICE_CREATE_VOICE,
    SERVICE_DELETE_VOICE,
    SERVICE_DESIGN_VOICE,
    SERVICE_GET_VOICE,
    SERVICE_LIST_VOICES,
    SERVICE_SYNTHESIZE,
    SERVICE_TRANSCRIBE,
    SERVICE_UPDATE_VOICE,
    TTS_CHUNK_BYTES,
    get_entry,
)
from .subtitles import build_cues, render
from .usage import async_record_asr, async_record_tts, async_record_voice_design
from .voice_settings import not_for_model, settings_in, tts_options, voice_defaults

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .coordinator import FishAudioConfigEntry

_MB = 1024 * 1024


def _voice_id(call: ServiceCall) -> str:
    """Return the call's voice id, refused early when it cannot be a Fish Audio id."""
    voice_id: str = call.data[ATTR_VOICE_ID]
    # The client refuses other ids; checking here gives the user a translated error.
    if not is_voice_id(voice_id):
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
    return (await async_read_files(hass, [cover], COVER_IMAGE_MAX_BYTES))[0]


# ------------------------------------------------------------------------- actions


async def _async_list_voices(call: ServiceCall) -> ServiceResponse:
    """List voices: the account's own by default, or the public library."""
    entry = get_entry(call)
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
    entry = get_entry(call)
    voice_id = _voice_id(call)
    with api_errors(entry, voice_id=voice_id):
        voice = await entry.runtime_data.client.get_voice(voice_id)
    return {"voice": voice.as_dict()}


async def _async_create_voice(call: ServiceCall) -> ServiceResponse:
    """Clone a voice from audio samples."""
    hass = call.hass
    entry = get_entry(call)
    audio: list[str] = call.data[ATTR_AUDIO]
    texts: list[str] | None = call.data.get(ATTR_TEXTS)
    if not 1 <= len(audio) <= CREATE_MAX_VOICES:
        raise invalid("audio_count", count=str(len(audio)), max=str(CREATE_MAX_VOICES))
    if texts is not None and len(texts) != len(audio):
        raise invalid("texts_count_mismatch", audio=str(len(audio)), texts=str(len(texts)))
    # Everything is read and checked before the API is called: no voice without its samples.
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
    entry = get_entry(call)
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
    entry = get_entry(call)
    voice_id = _voice_id(call)
    with api_errors(entry, voice_id=voice_id):
        await entry.runtime_data.client.delete_voice(voice_id)
    await _async_refresh_voices(entry)


async def _async_transcribe(call: ServiceCall) -> ServiceResponse:
    """Transcribe an audio file."""
    entry = get_entry(call)
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
    hass = call.hass
    entry = get_entry(call)
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
    entry = get_entry(call)
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


# Each action's handler, by the name `services.py` registers it under.
HANDLERS: Final[dict[str, Callable[[ServiceCall], Awaitable[ServiceResponse]]]] = {
    SERVICE_LIST_VOICES: _async_list_voices,
    SERVICE_GET_VOICE: _async_get_voice,
    SERVICE_TRANSCRIBE: _async_transcribe,
    SERVICE_CREATE_VOICE: _async_create_voice,
    SERVICE_UPDATE_VOICE: _async_update_voice,
    SERVICE_DELETE_VOICE: _async_delete_voice,
    SERVICE_SYNTHESIZE: _async_synthesize,
    SERVICE_DESIGN_VOICE: _async_design_voice,
}
