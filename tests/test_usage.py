"""Tests of the usage and cost sensors, against the Fish Audio emulator over loopback.

The emulator charges the account's credit by the vendor's published prices (per UTF-8 byte of
text, per second of ASR audio rounded up), so the integration's estimate is checked against
what the "server" billed, not only against numbers worked out here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
from decimal import Decimal
import math
from pathlib import Path
from typing import Any

from homeassistant.components import tts
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.fish_audio_suite.api import MODELS, ASRResult
from custom_components.fish_audio_suite.const import DOMAIN
from custom_components.fish_audio_suite.usage import (
    ASR_MODEL,
    DATA_USAGE,
    PRICES,
    SAVE_DELAY,
    STORAGE_VERSION,
    VOICE_DESIGN_MODEL,
    TextSize,
    Unit,
    async_record_asr,
    async_record_tts,
    async_record_voice_design,
)
from emulator import FishAudioEmulator
from emulator.audio import pcm_samples

from .conftest import assert_disabled_by_integration, async_setup_with_sensors_enabled, wav_bytes

pytestmark = pytest.mark.usefixtures("socket_enabled")

TTS_ENTITY = "tts.narrator_text_to_speech"
STT_ENTITY = "stt.fish_audio_speech_to_text"
CHARACTERS = "sensor.fish_audio_synthesized_characters"
DURATION = "sensor.fish_audio_transcribed_duration"
COST = "sensor.fish_audio_estimated_cost"
USAGE_SENSORS = (CHARACTERS, DURATION, COST)
# Non-ASCII on purpose: Fish Audio bills UTF-8 bytes, so bytes and characters differ.
HTTP_MESSAGE = "Grüße aus Köln: das Licht im Flur ist an."
LIVE_PARTS = ("Ein erster Satz. ", "Und ein zweiter, schöner.")
FILE_MESSAGE = "Die Waschmaschine ist fertig."
PER_BYTE = Decimal(15) / 1_000_000
PER_SECOND = Decimal("0.36") / 3600


def utf8_bytes(*texts: str) -> int:
    return sum(len(text.encode()) for text in texts)


def _storage_key(entry: MockConfigEntry) -> str:
    return f"{DOMAIN}.usage.{entry.entry_id}"


def _value(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


async def speak(hass: HomeAssistant, message: str, *, cache: bool = False, **options: Any) -> None:
    """Speak a complete message through Home Assistant's TTS manager (HTTP path)."""
    media_id = tts.generate_media_source_id(
        hass, message, engine=TTS_ENTITY, options=options or None, cache=cache
    )
    await tts.async_get_media_source_audio(hass, media_id)


async def _stream_live(hass: HomeAssistant, *parts: str) -> None:
    """Stream a message still being written (the live WebSocket path)."""

    async def llm() -> AsyncGenerator[str]:
        for index, part in enumerate(parts):
            if index:
                await asyncio.sleep(0.05)  # the LLM is still writing: the live path
            yield part

    stream = tts.async_create_stream(hass, TTS_ENTITY)
    stream.async_set_message_stream(llm())
    async with asyncio.timeout(10):
        async for _chunk in stream.async_stream_result():
            pass


async def transcribe_http(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, pcm: bytes
) -> str:
    """Send headerless 16 kHz mono PCM to the STT entity's HTTP API; return the result."""
    client = await hass_client()
    response = await client.post(
        f"/api/stt/{STT_ENTITY}",
        data=pcm,
        headers={
            "X-Speech-Content": "format=wav; codec=pcm; sample_rate=16000; bit_rate=16; "
            "channel=1; language=en-US"
        },
    )
    assert response.status == 200
    return str((await response.json())["result"])


async def _action(hass: HomeAssistant, service: str, data: dict[str, Any]) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )


# ------------------------------------------------------------------------- the sensors


async def test_sensors(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Three totals on the account device, kept in long-term statistics; breakdown off."""
    registry = er.async_get(hass)
    expected = {
        CHARACTERS: (None, SensorStateClass.TOTAL_INCREASING, "characters", "0"),
        DURATION: (SensorDeviceClass.DURATION, SensorStateClass.TOTAL_INCREASING, "s", "0.0"),
        COST: (SensorDeviceClass.MONETARY, SensorStateClass.TOTAL, "USD", "0"),
    }
    for entity_id, (device_class, state_class, unit, value) in expected.items():
        entity = registry.async_get(entity_id)
        assert entity is not None
        device = dr.async_get(hass).async_get(entity.device_id or "")
        assert device is not None
        assert device.identifiers == {(DOMAIN, init_integration.entry_id)}  # the account
        assert entity.disabled_by is None
        state = hass.states.get(entity_id)
        assert state is not None
        assert state.attributes.get("device_class") == device_class
        assert state.attributes["state_class"] == state_class
        assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == unit
        assert state.state == value

    breakdown = sorted(
        entity.entity_id
        for entity in er.async_entries_for_config_entry(registry, init_integration.entry_id)
        if entity.translation_key in ("model_synthesized_characters", "model_estimated_cost")
    )
    assert breakdown == [
        "sensor.fish_audio_estimated_cost_s1",
        "sensor.fish_audio_estimated_cost_s2_1_pro",
        "sensor.fish_audio_estimated_cost_s2_pro",
        "sensor.fish_audio_estimated_cost_transcribe_1",
        "sensor.fish_audio_estimated_cost_voice_design_1",
        "sensor.fish_audio_synthesized_characters_s1",
        "sensor.fish_audio_synthesized_characters_s2_1_pro",
        "sensor.fish_audio_synthesized_characters_s2_1_pro_free",
        "sensor.fish_audio_synthesized_characters_s2_pro",
    ]
    assert_disabled_by_integration(hass, *breakdown)


async def test_counts_mixed_calls(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
    allowed_dir: Path,
) -> None:
    """HTTP, live, STT and every billed action count; failed and refused calls don't.

    The estimate equals what the emulator took from the credit (it bills by the published
    prices), to the last decimal.
    """
    credit_before = emulator.state.credit
    entry_id = init_integration.entry_id

    await speak(hass, HTTP_MESSAGE)
    await _stream_live(hass, *LIVE_PARTS)
    assert await transcribe_http(hass, hass_client, pcm_samples(16000, 24000)) == "success"  # 1.5 s
    (allowed_dir / "memo.wav").write_bytes(wav_bytes(2.25))
    await _action(
        hass, "transcribe", {"config_entry_id": entry_id, "audio": str(allowed_dir / "memo.wav")}
    )
    await _action(
        hass,
        "synthesize",
        {
            "config_entry_id": entry_id,
            "entity_id": TTS_ENTITY,
            "message": FILE_MESSAGE,
            "filename": str(allowed_dir / "done.mp3"),
        },
    )
    design = {"config_entry_id": entry_id, "instruction": "Calm", "folder": str(allowed_dir)}
    await _action(hass, "design_voice", design)
    assert len(emulator.ws_sessions) == 1  # the live path was taken once

    # Refused and failed calls: nothing is billed, nothing counts.
    emulator.faults.http("POST /v1/tts", 402)
    with pytest.raises(HomeAssistantError):
        await speak(hass, "Refused for lack of credit.")
    emulator.faults.ws("reject-402")
    with pytest.raises(HomeAssistantError):
        await _stream_live(hass, "Refused ", "as well.")
    emulator.faults.http("POST /v1/tts", 500, times=None)
    with pytest.raises(HomeAssistantError):
        await _action(
            hass,
            "synthesize",
            {
                "config_entry_id": entry_id,
                "message": "A server error.",
                "filename": str(allowed_dir / "failed.mp3"),
            },
        )
    emulator.faults.clear()
    emulator.faults.http("POST /v1/asr", 500, times=None)
    assert await transcribe_http(hass, hass_client, pcm_samples(16000, 32000)) == "error"
    with pytest.raises(HomeAssistantError):
        await _action(
            hass,
            "transcribe",
            {"config_entry_id": entry_id, "audio": str(allowed_dir / "memo.wav")},
        )
    emulator.faults.clear()
    emulator.faults.http("POST /v1/voice-design", 402)
    with pytest.raises(HomeAssistantError):
        await _action(hass, "design_voice", design)
    await hass.async_block_till_done()

    characters = len(HTTP_MESSAGE) + len("".join(LIVE_PARTS)) + len(FILE_MESSAGE)
    billed_bytes = utf8_bytes(HTTP_MESSAGE, *LIVE_PARTS, FILE_MESSAGE)
    assert billed_bytes > characters  # the test would not tell bytes from characters otherwise
    # 1.5 s and 2.25 s of audio, each rounded up; one voice design.
    cost = PER_BYTE * billed_bytes + PER_SECOND * (2 + 3) + Decimal("0.01")
    assert _value(hass, CHARACTERS) == str(characters)
    assert float(_value(hass, DURATION)) == pytest.approx(3.75)
    assert Decimal(_value(hass, COST)) == cost
    assert credit_before - emulator.state.credit == cost

    usage = init_integration.runtime_data.usage
    assert usage.model("s2.1-pro").requests == 3
    assert usage.model("s2.1-pro").utf8_bytes == billed_bytes
    assert usage.model(ASR_MODEL).requests == 2
    assert usage.model(VOICE_DESIGN_MODEL).requests == 1
    assert usage.unpriced_models == []


async def test_free_model_and_breakdown(
    hass: HomeAssistant, emulator: FishAudioEmulator, config_entry: MockConfigEntry
) -> None:
    """The free model counts characters at no cost; per-model sensors show the split."""
    await async_setup_with_sensors_enabled(
        hass,
        config_entry,
        "synthesized_characters_s2.1-pro-free",
        "estimated_cost_s2.1-pro",
        "estimated_cost_s1",
    )

    credit_before = emulator.state.credit
    await speak(hass, "Kostenlos gesprochen.", model="s2.1-pro-free")
    await speak(hass, HTTP_MESSAGE)
    await hass.async_block_till_done()

    assert _value(hass, "sensor.fish_audio_synthesized_characters_s2_1_pro_free") == str(
        len("Kostenlos gesprochen.")
    )
    assert _value(hass, CHARACTERS) == str(len("Kostenlos gesprochen.") + len(HTTP_MESSAGE))
    assert Decimal(
        _value(hass, "sensor.fish_audio_estimated_cost_s2_1_pro")
    ) == PER_BYTE * utf8_bytes(HTTP_MESSAGE)
    assert Decimal(_value(hass, "sensor.fish_audio_estimated_cost_s1")) == 0
    assert Decimal(_value(hass, COST)) == PER_BYTE * utf8_bytes(HTTP_MESSAGE)
    assert credit_before - emulator.state.credit == PER_BYTE * utf8_bytes(HTTP_MESSAGE)
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_cached_replay_counts_nothing(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """Home Assistant's TTS cache answers a repeat without calling the entity: no count."""
    await speak(hass, HTTP_MESSAGE, cache=True)
    await speak(hass, HTTP_MESSAGE, cache=True)
    await hass.async_block_till_done()
    tts_requests = [r for r in emulator.requests if r.method == "POST" and r.path == "/v1/tts"]
    assert len(tts_requests) == 1
    assert _value(hass, CHARACTERS) == str(len(HTTP_MESSAGE))
    assert init_integration.runtime_data.usage.model("s2.1-pro").requests == 1


async def test_stream_cut_off_counts_nothing(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A stream that breaks off with an error is a failed call: it counts nothing."""
    emulator.faults.truncate("POST /v1/tts", after_bytes=600)
    with pytest.raises(HomeAssistantError):
        await speak(hass, HTTP_MESSAGE * 3)
    emulator.faults.ws("finish-error", after_audio_chunks=1)
    with pytest.raises(HomeAssistantError):
        await _stream_live(hass, *LIVE_PARTS)
    assert _value(hass, CHARACTERS) == "0"
    assert Decimal(_value(hass, COST)) == 0


# ------------------------------------------------------------- restart, reload, removal


async def test_saved_and_restored_after_restart(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
) -> None:
    """The counters are saved shortly after use and read back by a fresh start."""
    await speak(hass, HTTP_MESSAGE)
    await hass.async_block_till_done()
    key = _storage_key(init_integration)
    assert key not in hass_storage  # a burst of calls makes one write, a moment later

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=SAVE_DELAY + 1))
    await hass.async_block_till_done()
    saved = hass_storage[key]
    assert saved["version"] == STORAGE_VERSION
    assert saved["data"]["models"]["s2.1-pro"] == {
        "requests": 1,
        "characters": len(HTTP_MESSAGE),
        "utf8_bytes": utf8_bytes(HTTP_MESSAGE),
        "seconds": 0.0,
        "cost": str(PER_BYTE * utf8_bytes(HTTP_MESSAGE)),
        "priced": True,
    }

    # A restart: the entry unloads, and the new process has nothing in memory.
    await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    hass.data.pop(DATA_USAGE)
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    assert _value(hass, CHARACTERS) == str(len(HTTP_MESSAGE))
    assert Decimal(_value(hass, COST)) == PER_BYTE * utf8_bytes(HTTP_MESSAGE)

    await speak(hass, FILE_MESSAGE)
    await hass.async_block_till_done()
    assert _value(hass, CHARACTERS) == str(len(HTTP_MESSAGE) + len(FILE_MESSAGE))


async def test_restored_from_storage(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    emulator: FishAudioEmulator,
    config_entry: MockConfigEntry,
) -> None:
    """Saved counters (as an earlier run left them) are shown at start; bad records dropped."""
    hass_storage[_storage_key(config_entry)] = {
        "version": STORAGE_VERSION,
        "minor_version": 1,
        "key": _storage_key(config_entry),
        "data": {
            "since": "2026-09-01T08:00:00+00:00",
            "models": {
                "s2.1-pro": {
                    "requests": 40,
                    "characters": 5000,
                    "utf8_bytes": 5200,
                    "seconds": 0.0,
                    "cost": "0.078",
                    "priced": True,
                },
                ASR_MODEL: {
                    "requests": 12,
                    "characters": 0,
                    "utf8_bytes": 0,
                    "seconds": 30.5,
                    "cost": "0.0036",
                    "priced": True,
                },
                "broken": {"requests": -1},
                "negative": {
                    "requests": 1,
                    "characters": 0,
                    "utf8_bytes": 0,
                    "seconds": 0.0,
                    "cost": "-5",
                    "priced": True,
                },
            },
        },
    }
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert _value(hass, CHARACTERS) == "5000"
    assert float(_value(hass, DURATION)) == 30.5
    assert Decimal(_value(hass, COST)) == Decimal("0.0816")
    usage = config_entry.runtime_data.usage
    assert sorted(usage.models) == ["s2.1-pro", ASR_MODEL]
    assert usage.since == datetime.fromisoformat("2026-09-01T08:00:00+00:00")
    await hass.config_entries.async_unload(config_entry.entry_id)


@pytest.mark.parametrize("data", [{"since": "yesterday", "models": ["s1"]}, ["not", "a", "map"]])
async def test_damaged_storage_starts_empty(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    emulator: FishAudioEmulator,
    config_entry: MockConfigEntry,
    data: Any,
) -> None:
    """Saved data of the wrong shape is not trusted: the counters start at zero."""
    key = _storage_key(config_entry)
    hass_storage[key] = {"version": STORAGE_VERSION, "minor_version": 1, "key": key, "data": data}
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert _value(hass, CHARACTERS) == "0"
    assert config_entry.runtime_data.usage.models == {}
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_reload_in_the_middle_of_a_stream(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A stream that ends while the entry reloads counts in the same, kept counters."""
    await speak(hass, HTTP_MESSAGE)
    release = asyncio.Event()

    async def llm() -> AsyncGenerator[str]:
        yield LIVE_PARTS[0]
        await release.wait()
        yield LIVE_PARTS[1]

    stream = tts.async_create_stream(hass, TTS_ENTITY)
    stream.async_set_message_stream(llm())
    audio = stream.async_stream_result()
    first = await asyncio.wait_for(anext(audio), 10)  # the live stream is under way
    assert first

    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    release.set()
    async with asyncio.timeout(10):
        async for _chunk in audio:
            pass
    await hass.async_block_till_done()

    assert _value(hass, CHARACTERS) == str(len(HTTP_MESSAGE) + len("".join(LIVE_PARTS)))
    assert Decimal(_value(hass, COST)) == PER_BYTE * utf8_bytes(HTTP_MESSAGE, *LIVE_PARTS)


async def test_removed_entry_deletes_its_counters(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
) -> None:
    """Removing the account deletes its saved counters (also when never loaded since)."""
    await speak(hass, HTTP_MESSAGE)
    await init_integration.runtime_data.usage._store.async_save({"models": {}})
    assert _storage_key(init_integration) in hass_storage
    await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    assert _storage_key(init_integration) not in hass_storage
    assert init_integration.entry_id not in hass.data[DATA_USAGE]

    other = MockConfigEntry(domain=DOMAIN, data={}, state=None)
    other.add_to_hass(hass)
    hass_storage[_storage_key(other)] = {"version": 1, "key": _storage_key(other), "data": {}}
    await hass.config_entries.async_remove(other.entry_id)
    await hass.async_block_till_done()
    assert _storage_key(other) not in hass_storage


# --------------------------------------------------------------- statistics, diagnostics


async def test_diagnostics_include_counters(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
) -> None:
    """Diagnostics show the counters per model and the price table with its source."""
    await speak(hass, HTTP_MESSAGE)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    usage = diagnostics["usage"]
    assert usage["models"]["s2.1-pro"]["utf8_bytes"] == utf8_bytes(HTTP_MESSAGE)
    assert usage["prices"]["as_of"] == "2026-08"
    assert usage["prices"]["source"].startswith("https://docs.fish.audio/")


# ------------------------------------------------------------------ the price table


def test_every_model_has_a_price() -> None:
    """Each model the voice settings offer is priced, so no use is left uncosted."""
    assert set(MODELS) <= {m for m, p in PRICES.items() if p.unit is Unit.UTF8_BYTE}
    assert PRICES["s2.1-pro"].usd_per_unit * 1_000_000 == 15
    assert PRICES["s2.1-pro-free"].usd_per_unit == 0
    assert PRICES[ASR_MODEL].usd_per_unit * 3600 == Decimal("0.36")
    assert PRICES[VOICE_DESIGN_MODEL].usd_per_unit == Decimal("0.01")


async def test_unpriced_model_and_other_hooks(
    hass: HomeAssistant, emulator: FishAudioEmulator, init_integration: MockConfigEntry
) -> None:
    """A model missing from the price table counts its text, but no guessed cost.

    Also: voice design costs per request, ASR rounds up per call and falls back to the
    server's duration when the audio's own is not readable (e.g. MP3).
    """
    entry = init_integration
    async_record_tts(entry, "s9-ultra", TextSize.of("Zukunftsmusik."))
    async_record_voice_design(entry)
    async_record_asr(entry, b"ID3 not a wav", ASRResult(text="", duration=61.2))
    async_record_asr(entry, wav_bytes(1.0), ASRResult(text="", duration=99.0))
    await hass.async_block_till_done()

    usage = entry.runtime_data.usage
    assert usage.model("s9-ultra").characters == len("Zukunftsmusik.")
    assert usage.model("s9-ultra").cost == 0
    assert usage.unpriced_models == ["s9-ultra"]
    assert usage.seconds == pytest.approx(62.2)
    assert usage.model(ASR_MODEL).cost == PER_SECOND * (62 + 1)
    assert usage.model(VOICE_DESIGN_MODEL).cost == Decimal("0.01")
    state = hass.states.get(COST)
    assert state is not None
    assert Decimal(state.state) == PER_SECOND * 63 + Decimal("0.01")
    assert state.attributes["unpriced_models"] == ["s9-ultra"]
    assert _value(hass, CHARACTERS) == str(len("Zukunftsmusik."))
    assert math.isclose(float(_value(hass, DURATION)), 62.2)
