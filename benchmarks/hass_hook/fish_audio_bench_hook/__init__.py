"""Benchmark-only: point Home Assistant's built-in ``fish_audio`` at the local emulator.

``benchmarks/hass_latency.py`` copies this folder into the benchmark's own configuration
directory, never into a user's, and it is no part of the product. Core's ``fish_audio``
creates ``AsyncFishAudio(api_key=...)`` without a base URL (its ``__init__.py`` and
``config_flow.py``), so the SDK would talk to api.fish.audio; this hook gives the SDK's
constructor the emulator's address as its default before that integration is set up. Home
Assistant's loader imports this module in its executor, so the SDK import blocks no loop.

It also adds ``conversation.bench_streaming_agent``: a conversation agent that streams an
LLM-like reply (``FISH_AUDIO_BENCH_REPLY`` and the question, split into small deltas every
``FISH_AUDIO_BENCH_DELTA_MS``) and appends the monotonic times of its first and last delta,
the deltas and their interval to ``FISH_AUDIO_BENCH_AGENT_LOG`` (one JSON line per reply;
CLOCK_MONOTONIC is one clock for every process of the machine, so the benchmark compares
them with its own, and replays the same deltas on the same schedule for its floor).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import functools
import json
import os
from pathlib import Path
import time
from typing import Any, Literal

from homeassistant.components import conversation
from homeassistant.components.conversation.const import DATA_COMPONENT
from homeassistant.core import HomeAssistant
from homeassistant.helpers.typing import ConfigType

try:
    import fishaudio
except ImportError:  # the SDK is not on this hass's path: only the agent is wanted
    fishaudio = None

DOMAIN = "fish_audio_bench_hook"
BASE_URL_ENV = "FISH_AUDIO_BENCH_BASE_URL"
REPLY_ENV = "FISH_AUDIO_BENCH_REPLY"
DELTA_MS_ENV = "FISH_AUDIO_BENCH_DELTA_MS"
AGENT_LOG_ENV = "FISH_AUDIO_BENCH_AGENT_LOG"
DELTA_CHARS = (2, 5, 3, 8, 4, 6, 2, 7)  # token-sized pieces, a fixed pattern


def _patch_sdk() -> None:
    original_init = fishaudio.AsyncFishAudio.__init__

    @functools.wraps(original_init)
    def init_with_emulator(self: Any, *args: Any, **kwargs: Any) -> None:
        # Only a default: a caller that names a base URL keeps it.
        kwargs.setdefault("base_url", os.environ[BASE_URL_ENV])
        original_init(self, *args, **kwargs)

    fishaudio.AsyncFishAudio.__init__ = init_with_emulator


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Install the patch (YAML ``fish_audio_bench_hook:``, set up before any config flow)."""
    if fishaudio is not None:
        if BASE_URL_ENV not in os.environ:
            return False  # never guess an address: without it the SDK would reach the vendor
        _patch_sdk()
    await hass.data[DATA_COMPONENT].async_add_entities([StreamingAgent()])
    return True


def _deltas(text: str) -> list[str]:
    pieces, start, index = [], 0, 0
    while start < len(text):
        size = DELTA_CHARS[index % len(DELTA_CHARS)]
        pieces.append(text[start : start + size])
        start, index = start + size, index + 1
    return pieces


class StreamingAgent(conversation.ConversationEntity):
    """Streams a fixed reply at an LLM's pace, whatever was asked."""

    _attr_supports_streaming = True
    _attr_name = "Bench streaming agent"
    _attr_unique_id = "fish_audio_bench_streaming_agent"
    entity_id = "conversation.bench_streaming_agent"

    @property
    def supported_languages(self) -> Literal["*"]:
        """Every language: the reply is fixed."""
        return "*"

    async def _async_handle_message(
        self, user_input: conversation.ConversationInput, chat_log: conversation.ChatLog
    ) -> conversation.ConversationResult:
        interval = int(os.environ.get(DELTA_MS_ENV, "30")) / 1000
        # The question ends the reply: every run is a new message for the TTS cache.
        reply = f"{os.environ.get(REPLY_ENV, 'Nothing to say.')} {user_input.text}"
        deltas = _deltas(reply)
        times: dict[str, Any] = {"deltas": deltas, "interval": interval}

        async def stream() -> AsyncIterator[dict[str, Any]]:
            yield {"role": "assistant"}
            start = time.monotonic()
            for number, delta in enumerate(deltas):
                # An absolute schedule: an LLM does not wait for its consumers.
                await asyncio.sleep(max(0.0, start + number * interval - time.monotonic()))
                times.setdefault("first_delta", time.monotonic())
                times["last_delta"] = time.monotonic()
                yield {"content": delta}

        async for _content in chat_log.async_add_delta_content_stream(self.entity_id, stream()):
            pass
        if log := os.environ.get(AGENT_LOG_ENV):
            line = json.dumps(times) + "\n"
            await self.hass.async_add_executor_job(_append, Path(log), line)
        return conversation.async_get_result_from_chat_log(user_input, chat_log)


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(line)
