"""No kind of call starves another, through real Assist pipelines inside Home Assistant.

Several Assist pipelines run at once with a conversation agent that streams its reply slowly
(it writes the first sentence, then stalls): each reply is spoken over a live stream that
holds a slot from the live share (api/_limiter.py) while the LLM writes. Meanwhile
speech-to-text, a complete-message announcement, an action and the credit refresh must
still complete. Only the LLM is stood in for (Home Assistant's conversation call); the
pipelines, their text queues, the TTS manager, the TTS proxy view and the integration are
the real ones, against the emulator over loopback. Completion is guarded against a hang,
never timed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Any

from homeassistant.components import conversation, stt, tts
from homeassistant.components.assist_pipeline import PipelineEvent, PipelineEventType
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.helpers import chat_session
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.fish_audio_suite.const import DOMAIN
from emulator import FishAudioEmulator

from .conftest import (
    async_assist_pipeline,
    async_spoken_reply,
    make_wav,
    streaming_agent,
    transcribe_pcm,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

TTS_ENTITY = "tts.narrator_text_to_speech"
# More replies than the whole default limit of 5: without a share kept for the other kinds,
# the live streams would take every slot. Three (5 - 2) hold the live share, three wait.
PIPELINES = 6
LIVE_SHARE = 3
# A hang guard only: generous, so that a loaded machine never trips it.
HANG_GUARD = 60.0
FIRST = "Here is the first sentence of a long answer, long enough to start speaking it. "
REST = "And this is the rest, written once the model got going again."


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(HANG_GUARD):
        while not condition():
            await asyncio.sleep(0.01)


async def test_live_replies_do_not_starve_other_calls(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    emulator: FishAudioEmulator,
    init_integration: MockConfigEntry,
    tmp_path: Any,
) -> None:
    """Assist replies waiting on a slow LLM hold the live share; the rest still runs."""
    pipeline = await async_assist_pipeline(hass, init_integration, TTS_ENTITY, "Slow LLM")
    release = asyncio.Event()

    async def slow_llm() -> AsyncGenerator[conversation.AssistantContentDeltaDict]:
        yield {"role": "assistant"}
        yield {"content": FIRST}
        await release.wait()  # the model stalls mid-reply
        yield {"content": REST}

    http = await hass_client()

    async def assist(events: list[PipelineEvent]) -> bytes:
        """One Assist run, its reply fetched as a satellite does while it is written."""
        urls: asyncio.Queue[str] = asyncio.Queue()

        def on_event(event: PipelineEvent) -> None:
            events.append(event)
            if event.type is PipelineEventType.RUN_START and event.data:
                urls.put_nowait(event.data["tts_output"]["url"])

        with chat_session.async_get_chat_session(hass) as session:
            pipeline_input = await async_spoken_reply(hass, pipeline, session, on_event)
            run = asyncio.create_task(pipeline_input.execute())
            response = await http.get(await urls.get())
            assert response.status == 200
            audio = await response.read()
            await run
        return audio

    client = init_integration.runtime_data.client
    coordinator = init_integration.runtime_data.coordinator
    with streaming_agent(slow_llm, FIRST + REST):
        runs_events: list[list[PipelineEvent]] = [[] for _ in range(PIPELINES)]
        runs = [asyncio.create_task(assist(events)) for events in runs_events]
        # The live share is full and the other replies wait for it (bounded); every live
        # stream is waiting for its LLM.
        await _until(
            lambda: (
                client.slots.live_in_use == LIVE_SHARE
                and client.slots.waiting == PIPELINES - LIVE_SHARE
                and len(emulator.ws_sessions) == LIVE_SHARE
                and all(
                    any(e["event"] == "text" for e in session.events)
                    for session in emulator.ws_sessions
                )
            )
        )

        async with asyncio.timeout(HANG_GUARD):
            transcript, announcement, voices, _ = await asyncio.gather(
                transcribe_pcm(hass, init_integration, make_wav(tmp_path / "command.wav")[44:]),
                _announce(hass),
                hass.services.async_call(
                    DOMAIN,
                    "list_voices",
                    {"config_entry_id": init_integration.entry_id},
                    blocking=True,
                    return_response=True,
                ),
                coordinator.async_refresh(),
            )
        assert transcript.result is stt.SpeechResultState.SUCCESS
        assert announcement
        assert voices is not None
        assert voices["voices"]
        assert coordinator.last_update_success
        assert not release.is_set()  # all of that while the replies were still being written
        assert client.slots.live_in_use == LIVE_SHARE

        release.set()
        async with asyncio.timeout(HANG_GUARD):
            replies = await asyncio.gather(*runs)
    assert all(replies)
    for events in runs_events:
        assert not [e for e in events if e.type is PipelineEventType.ERROR]
    assert len(emulator.ws_sessions) == PIPELINES
    for session in emulator.ws_sessions:
        text = "".join(e["text"] for e in session.events if e["event"] == "text")
        assert text == FIRST + REST
    assert client.slots.in_use == 0
    assert init_integration.data[CONF_API_KEY]  # the account is still the one set up


async def _announce(hass: HomeAssistant) -> bytes:
    """A complete message, as tts.speak has it made."""
    media_id = tts.generate_media_source_id(
        hass, "The washing machine has finished.", engine=TTS_ENTITY, cache=False
    )
    _extension, data = await tts.async_get_media_source_audio(hass, media_id)
    return data
