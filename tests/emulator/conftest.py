"""Fixtures of the emulator's own tests: HTTP sessions (the emulators are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import aiohttp
import pytest

from ..conftest import TEST_API_KEY as API_KEY

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
