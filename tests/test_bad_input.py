"""Bad input at the integration's edges: a translated refusal, never a raw exception, nothing sent.

Each case is input a user, an automation or a template can really produce (a NUL byte in a
path, a lone surrogate from a broken template, `.inf` from YAML, a voice id pasted with its
newline); the emulator records that no request reached it and no file was left behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from homeassistant.components import tts
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.fish_audio_suite.const import DOMAIN
from emulator import FishAudioEmulator

from .conftest import make_wav

OWN_PRIVATE = "0f0e0d0c0b0a09080706050403020100"
SURROGATE = "Hello \ud800 world"


def _cases(allowed: Path) -> list[tuple[str, dict[str, Any], str | None]]:
    """(action, data, translation key or None for a schema refusal)."""
    wav = str(allowed / "sample.wav")
    return [
        ("list_voices", {"page_size": float("inf")}, None),
        ("list_voices", {"page_number": float("nan")}, None),
        ("list_voices", {"title": SURROGATE}, "invalid_input"),
        ("list_voices", {"tags": ["ok", "\udfff"]}, "invalid_input"),
        ("get_voice", {"voice_id": OWN_PRIVATE + "\n"}, "invalid_voice_id"),
        ("delete_voice", {"voice_id": "../wallet/self"}, "invalid_voice_id"),
        ("create_voice", {"title": SURROGATE, "audio": [wav]}, "invalid_input"),
        ("create_voice", {"title": "T", "audio": [wav], "texts": [SURROGATE]}, "invalid_input"),
        ("create_voice", {"title": "T", "audio": [f"{allowed}/a\0.wav"]}, "path_not_allowed"),
        ("update_voice", {"voice_id": OWN_PRIVATE, "title": SURROGATE}, "invalid_input"),
        ("transcribe", {"audio": f"{allowed}/a\0b.wav"}, "path_not_allowed"),
        ("transcribe", {"audio": wav, "language": "\ud800"}, "invalid_input"),
        (
            "synthesize",
            {"message": SURROGATE, "filename": str(allowed / "out.mp3")},
            "invalid_input",
        ),
        ("synthesize", {"message": "Hi", "filename": f"{allowed}/o\0.mp3"}, "path_not_allowed"),
        ("synthesize", {"message": "Hi", "filename": str(allowed / "o.mp3"), "speed": "inf"}, None),
        # A speaker id of another shape, even one only a trailing newline away from an id.
        (
            "synthesize",
            {"message": "Hi", "filename": str(allowed / "o.mp3"), "speakers": [OWN_PRIVATE + "\n"]},
            None,
        ),
        (
            "design_voice",
            {"instruction": "Calm", "seed": float("inf"), "folder": str(allowed)},
            None,
        ),
    ]


@pytest.mark.parametrize("index", range(17))
async def test_bad_action_input_is_refused_before_sending(
    hass: HomeAssistant,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
    allowed_dir: Path,
    index: int,
) -> None:
    make_wav(allowed_dir / "sample.wav")
    cases = _cases(allowed_dir)
    assert len(cases) == 17
    service, data, key = cases[index]
    before = set(allowed_dir.iterdir())
    sent = len(emulator.requests)
    # A schema refusal is voluptuous' own (Home Assistant translates it for the UI).
    expected = (vol.Invalid, ServiceValidationError) if key is None else ServiceValidationError
    with pytest.raises(expected) as err:
        await hass.services.async_call(
            DOMAIN,
            service,
            {"config_entry_id": init_integration.entry_id, **data},
            blocking=True,
            return_response=service in ("list_voices", "get_voice", "transcribe", "design_voice")
            or service in ("create_voice", "synthesize"),
        )
    if key is not None:
        assert isinstance(err.value, ServiceValidationError)
        assert err.value.translation_domain == DOMAIN
        assert err.value.translation_key == key
        assert "\0" not in str(err.value.translation_placeholders)
    assert len(emulator.requests) == sent  # nothing was sent
    assert set(allowed_dir.iterdir()) == before  # and no file left behind


async def test_llm_text_that_cannot_be_sent(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """An LLM reply streamed into the live path with a lone surrogate: translated, not raw."""

    async def llm() -> AsyncGenerator[str]:
        yield "Hello there. "
        await asyncio.sleep(0.05)
        yield SURROGATE

    stream = tts.async_create_stream(hass, "tts.narrator_text_to_speech")
    stream.async_set_message_stream(llm())

    async def consume() -> None:
        async with asyncio.timeout(10):
            async for _chunk in stream.async_stream_result():
                pass

    with pytest.raises(HomeAssistantError) as err:
        await consume()
    assert err.value.translation_key == "invalid_input"
    texts = [e.get("text") for e in emulator.ws_sessions[-1].events if e["event"] == "text"]
    assert texts == ["Hello there. "]  # the refused chunk never left


async def test_tts_message_with_a_surrogate_is_not_a_raw_error(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A complete message: Home Assistant's TTS manager cleans it before it reaches us."""
    media_id = tts.generate_media_source_id(
        hass, SURROGATE, engine="tts.narrator_text_to_speech", cache=False
    )
    await tts.async_get_media_source_audio(hass, media_id)
    (request,) = [r for r in emulator.requests if r.path == "/v1/tts"]
    assert "\ud800" not in request.decoded["text"]
