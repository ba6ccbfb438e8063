"""Inside Home Assistant, every fault a server or a network can produce x every operation.

The client-level table (tests/api/test_hardening.py) checks the client's exceptions; this one
runs the integration in Home Assistant against the emulator (a real server on loopback) and
checks what a user meets: for each fault and each operation that talks to Fish Audio (the
TTS entity with a complete message and with text still being written, speech-to-text, every
action that calls the network, both coordinators), the operation ends with the right
translated error, `synthesize` and `design_voice` leave no partial file, no concurrency slot
stays held, and with the fault cleared the same operation succeeds.

Speech-to-text has no error to translate (Assist takes a result state only): its cells check
the error state and that the log line says why without the key.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
import logging
from pathlib import Path
from typing import Any

from homeassistant.components import stt, tts
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from yarl import URL

from custom_components.fish_audio_suite.const import DOMAIN
from emulator import FishAudioEmulator
from emulator.voices import SEED_VOICE_IDS

from .conftest import TEST_API_KEY, make_wav, transcribe_pcm, user_error_key

pytestmark = pytest.mark.usefixtures("socket_enabled")

TTS_ENTITY = "tts.narrator_text_to_speech"
# A trickle beats any per-read timeout; its cells run with a short request timeout, since
# that bound (and the throughput it earns) is what they test.
TRICKLE_TIMEOUT = 1.0
# A hang guard only: a cell that does not end at all fails instead of blocking the suite.
HANG_GUARD = 60.0


@dataclass(frozen=True, slots=True)
class Table:
    """What one cell works with."""

    hass: HomeAssistant
    entry: MockConfigEntry
    emulator: FishAudioEmulator
    inputs: Path  # files the operations read
    outputs: Path  # where synthesize and design_voice write


# ------------------------------------------------------------------------------ operations


async def _speak(t: Table) -> None:
    """A complete message through Home Assistant's TTS manager (what tts.speak plays)."""
    media_id = tts.generate_media_source_id(
        t.hass, "Hello from the fault table.", engine=TTS_ENTITY, cache=False
    )
    _extension, data = await tts.async_get_media_source_audio(t.hass, media_id)
    assert data


async def _live(t: Table) -> None:
    """A reply still being written (an Assist LLM): the live WebSocket."""

    async def llm() -> AsyncGenerator[str]:
        yield "A first sentence. "
        await asyncio.sleep(0.05)
        yield "And a second one."

    stream = tts.async_create_stream(t.hass, TTS_ENTITY)
    stream.async_set_message_stream(llm())
    assert b"".join([chunk async for chunk in stream.async_stream_result()])


async def _stt(t: Table) -> None:
    result = await transcribe_pcm(t.hass, t.entry, make_wav(t.inputs / "stt.wav")[44:])
    if result.result is not stt.SpeechResultState.SUCCESS:
        raise _SpeechFailedError
    assert result.text


class _SpeechFailedError(Exception):
    """Speech-to-text gave an error result (its only way to fail)."""


def _action(
    service: str, data: Callable[[Table], dict[str, Any]]
) -> Callable[[Table], Awaitable[None]]:
    async def run(t: Table) -> None:
        await t.hass.services.async_call(
            DOMAIN,
            service,
            {"config_entry_id": t.entry.entry_id, **data(t)},
            blocking=True,
            return_response=service not in ("update_voice", "delete_voice"),
        )

    return run


def _coordinator(name: str) -> Callable[[Table], Awaitable[None]]:
    async def run(t: Table) -> None:
        coordinator = getattr(t.entry.runtime_data, name)
        await coordinator.async_refresh()
        if not coordinator.last_update_success:
            assert coordinator.last_exception is not None
            raise coordinator.last_exception
        assert coordinator.data

    return run


_DELETED: list[str] = []


def _delete_data(t: Table) -> dict[str, Any]:
    # A delete broken off after the server did it cannot be repeated on the same voice: each
    # attempt deletes another of the account's voices.
    voice = next(
        v["_id"]
        for v in t.emulator.state.voices.values()
        if v["author"]["_id"] == "user-1" and v["_id"] not in _DELETED
    )
    _DELETED.append(voice)
    return {"voice_id": voice}


# name -> (the route its network call takes, the call)
OPERATIONS: dict[str, tuple[str, Callable[[Table], Awaitable[None]]]] = {
    "tts.speak": ("POST /v1/tts", _speak),
    "tts streaming": ("GET /v1/tts/live", _live),
    "stt": ("POST /v1/asr", _stt),
    "synthesize": (
        "POST /v1/tts",
        _action("synthesize", lambda t: {"message": "Hi.", "filename": str(t.outputs / "a.mp3")}),
    ),
    "transcribe": (
        "POST /v1/asr",
        _action("transcribe", lambda t: {"audio": str(t.inputs / "speech.wav")}),
    ),
    "list_voices": ("GET /model", _action("list_voices", lambda t: {})),
    "get_voice": (
        "GET /model/*",
        _action("get_voice", lambda t: {"voice_id": SEED_VOICE_IDS["own_private"]}),
    ),
    "create_voice": (
        "POST /model",
        _action(
            "create_voice",
            lambda t: {"title": "Kitchen", "audio": [str(t.inputs / "speech.wav")]},
        ),
    ),
    "update_voice": (
        "PATCH /model/*",
        _action(
            "update_voice", lambda t: {"voice_id": SEED_VOICE_IDS["own_private"], "title": "New"}
        ),
    ),
    "delete_voice": ("DELETE /model/*", _action("delete_voice", _delete_data)),
    "design_voice": (
        "POST /v1/voice-design",
        _action(
            "design_voice",
            lambda t: {"instruction": "A calm narrator", "count": 1, "folder": str(t.outputs)},
        ),
    ),
    "account coordinator": ("GET /wallet/self/*", _coordinator("coordinator")),
    "voices coordinator": ("GET /model", _coordinator("voices")),
}
_LIVE_ROUTE = OPERATIONS["tts streaming"][0]


# ----------------------------------------------------------------------------------- faults


def _trickle(emulator: FishAudioEmulator, route: str) -> None:
    if route == _LIVE_ROUTE:
        emulator.faults.ws("trickle", interval=0.15, times=None)
    else:
        emulator.faults.stream(route, "trickle", interval=0.05, times=None)


def _endless(emulator: FishAudioEmulator, route: str) -> None:
    if route == _LIVE_ROUTE:
        emulator.faults.ws("endless", times=None)
    else:
        emulator.faults.stream(route, "endless", times=None)


def _broken_off(emulator: FishAudioEmulator, route: str) -> None:
    if route == _LIVE_ROUTE:
        emulator.faults.ws("close", after_audio_chunks=1, times=None)
    else:
        emulator.faults.truncate(route, after_bytes=7, times=None)


def _preset(name: str) -> Callable[[FishAudioEmulator, str], None]:
    def inject(emulator: FishAudioEmulator, route: str) -> None:
        emulator.faults.preset(route, name, times=None)

    return inject


# name -> (inject, the translation key it ends with; the live stream's where it differs).
# "connection refused" stops the emulator instead (see the test).
FAULTS: dict[str, tuple[Callable[[FishAudioEmulator, str], None] | None, str, str]] = {
    "trickle": (_trickle, "timeout", "timeout"),
    "endless": (_endless, "invalid_response", "invalid_response"),
    "huge Content-Length": (
        lambda emulator, route: emulator.faults.stream(route, "huge-length", times=None),
        "invalid_response",
        "invalid_response",  # a 200 instead of the upgrade: the handshake's answer
    ),
    "200 text/html": (_preset("200-html"), "invalid_response", "invalid_response"),
    "200 broken off": (_broken_off, "cannot_connect", "stream_failed"),
    "200 deep JSON": (_preset("200-deep-json"), "invalid_response", "invalid_response"),
    "429": (_preset("429"), "rate_limited", "rate_limited"),
    "500": (_preset("500"), "server_error", "server_error"),
    "503": (_preset("503"), "server_error", "server_error"),
    "connection refused": (None, "cannot_connect", "cannot_connect"),
}


# PATCH and DELETE answer 200 with an empty body (OpenAPI; the vendor's SDK ignores it):
# there is nothing to break off after the status line, so the answer is complete.
NO_BODY = {("200 broken off", "update_voice"), ("200 broken off", "delete_voice")}


@pytest.fixture
async def table(
    hass: HomeAssistant,
    *,
    emulator: FishAudioEmulator,
    config_entry: MockConfigEntry,
    allowed_dir: Path,
    client_options: Callable[..., None],
    request: pytest.FixtureRequest,
) -> AsyncGenerator[Table]:
    """The account set up in Home Assistant (short timeouts for a trickle cell)."""
    _DELETED.clear()
    if "trickle" in request.node.callspec.params.get("fault", ""):
        client_options(request_timeout=TRICKLE_TIMEOUT)
    inputs, outputs = allowed_dir / "in", allowed_dir / "out"
    inputs.mkdir()
    outputs.mkdir()
    make_wav(inputs / "speech.wav")
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    yield Table(hass, config_entry, emulator, inputs, outputs)
    await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("fault", list(FAULTS))
async def test_fault_then_recovery(
    table: Table, caplog: pytest.LogCaptureFixture, fault: str, operation: str
) -> None:
    """One cell: the fault, its translated error, nothing left behind, then recovery."""
    if (fault, operation) in NO_BODY:
        pytest.skip("the answer has no body to break off")
    route, run = OPERATIONS[operation]
    inject, key, live_key = FAULTS[fault]
    emulator = table.emulator
    port = URL(emulator.base_url).port
    if inject is None:
        await emulator.stop()
    else:
        inject(emulator, route)
    caplog.set_level(logging.DEBUG)

    with pytest.raises((HomeAssistantError, _SpeechFailedError)) as err:
        async with asyncio.timeout(HANG_GUARD):
            await run(table)
    if operation == "stt":
        failed = [r for r in caplog.records if r.getMessage().startswith("Speech-to-text failed")]
        assert failed, "a failure must say why in the log"
    else:
        assert user_error_key(err.value) == (live_key if route == _LIVE_ROUTE else key)
    assert TEST_API_KEY not in str(err.value)
    assert TEST_API_KEY not in caplog.text
    assert not list(table.outputs.iterdir()), "no partial file"
    client = table.entry.runtime_data.client
    assert client.slots.in_use == 0
    assert client.slots.waiting == 0

    # Recovery: the fault gone, the same operation succeeds.
    if inject is None:
        await emulator.start(port=port)
    else:
        emulator.faults.clear()
    async with asyncio.timeout(HANG_GUARD):
        await run(table)
    assert client.slots.in_use == 0
