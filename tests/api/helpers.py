"""Helpers shared by the client's wire tests."""

from __future__ import annotations

import contextlib
import socket
from typing import TYPE_CHECKING

import aiohttp

from custom_components.fish_audio_suite.api import __version__

from ..conftest import wav_bytes  # noqa: F401 - re-exported: the tests have one WAV maker

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

API_KEY = "test-key"
USER_AGENT = f"fish-audio-suite/{__version__} (+home-assistant) aiohttp/{aiohttp.__version__}"


def free_port() -> int:
    """Return a loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_no_secret(err: BaseException) -> None:
    """The API key and the Authorization header never show in an error."""
    texts = [str(err), repr(err), *(str(arg) for arg in err.args)]
    for text in texts:
        assert API_KEY not in text
        assert "Authorization" not in text
    # aiohttp's response errors print the request headers: they are never chained.
    assert err.__cause__ is None or not isinstance(err.__cause__, aiohttp.ClientResponseError)
    assert err.__context__ is None or not isinstance(err.__context__, aiohttp.ClientResponseError)


async def drain(stream: AsyncGenerator[bytes], into: list[bytes]) -> None:
    """Consume an audio stream in aclosing(), keeping what arrived before an error."""
    async with contextlib.aclosing(stream):
        async for chunk in stream:
            into.append(chunk)  # noqa: PERF401 - keep the chunks that came before a failure
