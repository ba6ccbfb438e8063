"""The actions of Fish Audio Suite for a self-hosted Fish Speech server.

Where the server can, an action does the same job on it: ``list_voices`` lists the stored
reference voices (ids only: the server keeps nothing else about them), ``create_voice``
stores one recording with its transcript, ``update_voice`` renames, ``delete_voice``
deletes, ``synthesize`` writes speech to a file. What the server has no endpoint for
(``get_voice``'s details, the public library's search, ``transcribe``, ``design_voice``) and
fields it cannot store (description, tags, visibility, cover image) are refused with a
translated error that names what is missing, instead of being silently dropped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from homeassistant.core import ServiceCall, ServiceResponse

from .api.fish_speech import check_reference_id
from .const import BACKEND_FISH_SPEECH
from .files import async_read_files, async_write_stream, open_output
from .fish_speech import (
    FishSpeechConfigEntry,
    async_check_reference,
    async_refresh_references,
    not_supported,
    speech_errors,
)
from .helpers import invalid
from .service_handlers import entity_voice
from .voice_settings import settings_for, settings_in, speech_options

type Handler = Callable[[ServiceCall, FishSpeechConfigEntry], Awaitable[ServiceResponse]]

# A reference recording: 10-30 s of speech is what the model uses; a few minutes of WAV is the
# most anyone should send.
REFERENCE_MAX_BYTES: Final = 20 * 1024 * 1024
# What a refused action needs: the end of its translation key (exceptions.not_supported_locally_*).
FEATURE_DETAILS: Final = "voice_details"
FEATURE_SEARCH: Final = "voice_library"
FEATURE_ASR: Final = "speech_to_text"
FEATURE_DESIGN: Final = "voice_design"


def _reference_id(value: str) -> str:
    """Return ``value`` as a reference id, or refuse it with a translated error."""
    try:
        return check_reference_id(value)
    except ValueError:
        raise invalid("invalid_reference_id", voice_id=value) from None


def _refuse_fields(call: ServiceCall, entry: FishSpeechConfigEntry, *fields: str) -> None:
    """Refuse fields the server cannot store (given explicitly, not a schema default)."""
    for name in fields:
        if name in call.data:
            raise not_supported("field", entry, field=name)


async def _list_voices(call: ServiceCall, entry: FishSpeechConfigEntry) -> ServiceResponse:
    if not call.data.get("self_only", True):
        raise not_supported(FEATURE_SEARCH, entry)
    _refuse_fields(call, entry, "tags", "language")
    runtime = entry.runtime_data
    with speech_errors(entry):
        runtime.references = await runtime.client.list_references()
    ids = runtime.references
    if title := str(call.data.get("title") or "").casefold():
        ids = [ref for ref in ids if title in ref.casefold()]
    size, number = int(call.data.get("page_size", 10)), int(call.data.get("page_number", 1))
    page = ids[(number - 1) * size : number * size]
    return {"total": len(ids), "voices": [{"id": ref, "title": ref} for ref in page]}


async def _create_voice(call: ServiceCall, entry: FishSpeechConfigEntry) -> ServiceResponse:
    reference_id = _reference_id(call.data["title"])
    _refuse_fields(call, entry, "description", "tags", "cover_image")
    if call.data.get("visibility", "private") != "private":
        raise not_supported("public_voice", entry)
    audio: list[str] = call.data["audio"]
    texts: list[str] = call.data.get("texts") or []
    # The server stores exactly one recording and the words spoken in it.
    if len(audio) != 1 or len(texts) != 1 or not texts[0].strip():
        raise invalid("one_recording_and_transcript", count=str(len(audio)))
    (recording,) = await async_read_files(call.hass, audio, REFERENCE_MAX_BYTES)
    with speech_errors(entry):
        await entry.runtime_data.client.add_reference(reference_id, recording, texts[0])
    await async_refresh_references(entry)
    return {"voice": {"id": reference_id, "title": reference_id}}


async def _update_voice(call: ServiceCall, entry: FishSpeechConfigEntry) -> ServiceResponse:
    old = _reference_id(call.data["voice_id"])
    _refuse_fields(call, entry, "description", "tags", "visibility", "cover_image")
    if "title" not in call.data:
        raise invalid("nothing_to_update", voice_id=old)
    new = _reference_id(call.data["title"])
    with speech_errors(entry, voice_id=old):
        await entry.runtime_data.client.rename_reference(old, new)
    await async_refresh_references(entry)
    return None


async def _delete_voice(call: ServiceCall, entry: FishSpeechConfigEntry) -> ServiceResponse:
    reference_id = _reference_id(call.data["voice_id"])
    with speech_errors(entry, voice_id=reference_id):
        await entry.runtime_data.client.delete_reference(reference_id)
    await async_refresh_references(entry)
    return None


def _voice_settings(call: ServiceCall, entry: FishSpeechConfigEntry) -> dict[str, Any]:
    """Return the settings of a ``synthesize`` call: the entity's voice, then the fields."""
    settings = entity_voice(call, entry)
    given = settings_in(call.data)
    # Voice settings the table gives only the cloud (model, speed, volume ...).
    local = {setting.key for setting in settings_for(BACKEND_FISH_SPEECH)}
    _refuse_fields(call, entry, *(key for key in given if key not in local))
    settings.update(given)
    return settings


async def _synthesize(call: ServiceCall, entry: FishSpeechConfigEntry) -> ServiceResponse:
    message: str = call.data["message"]
    if not message.strip():
        raise invalid("empty_message")
    try:
        options = speech_options(_voice_settings(call, entry))
    except (TypeError, ValueError) as err:
        raise invalid("invalid_voice_settings", error=str(err)) from err
    if options.reference_id:
        await async_check_reference(entry, options.reference_id)
    output = await call.hass.async_add_executor_job(open_output, call.hass, call.data["filename"])
    chunks = entry.runtime_data.client.tts(message, options)
    with speech_errors(entry, voice_id=options.reference_id):
        size = await async_write_stream(call.hass, output, chunks)
    return {"path": str(output.target), "format": options.format, "bytes": size}


def _refuse(feature: str) -> Handler:
    async def handler(call: ServiceCall, entry: FishSpeechConfigEntry) -> ServiceResponse:
        raise not_supported(feature, entry)

    return handler


HANDLERS: Final[dict[str, Handler]] = {
    "list_voices": _list_voices,
    "get_voice": _refuse(FEATURE_DETAILS),
    "create_voice": _create_voice,
    "update_voice": _update_voice,
    "delete_voice": _delete_voice,
    "transcribe": _refuse(FEATURE_ASR),
    "design_voice": _refuse(FEATURE_DESIGN),
    "synthesize": _synthesize,
}
