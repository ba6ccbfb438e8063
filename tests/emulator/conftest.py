"""Fixtures of the emulator's own tests: HTTP sessions and custom-configured emulators."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from emulator import FishAudioEmulator

API_KEY = "test-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[aiohttp.ClientSession]:
    """A client session that sends the test key on every request."""
    async with aiohttp.ClientSession(headers=AUTH) as http:
        yield http


@pytest.fixture
async def anonymous(socket_enabled: None) -> AsyncGenerator[aiohttp.ClientSession]:
    """A client session without credentials."""
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
async def make_emulator(
    socket_enabled: None,
) -> AsyncGenerator[Callable[..., Awaitable[FishAudioEmulator]]]:
    """Return a factory of started emulators with custom settings, all stopped afterwards."""
    started: list[FishAudioEmulator] = []

    async def factory(**kwargs: Any) -> FishAudioEmulator:
        emu = FishAudioEmulator(**kwargs)
        await emu.start()
        started.append(emu)
        return emu

    yield factory
    for emu in started:
        await emu.stop()
