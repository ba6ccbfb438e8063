"""Answers the emulator cannot give: broken HTTP, redirects, a bare 101.

A tiny raw TCP server inside the test plays the misbehaving peer. aiohttp reports broken HTTP
as ClientResponseError, whose repr prints the request headers, Authorization included: the
client's exception must not carry or chain it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable

import pytest

from custom_components.fish_audio_suite.api import (
    FishAudioClient,
    FishAudioConnectionError,
    FishAudioRequestError,
    FishAudioWebSocketError,
    TTSOptions,
)

from .conftest import FAST_RETRY
from .helpers import API_KEY, assert_no_secret, drain


class RawServer:
    """Answer every connection with fixed bytes, counting connections."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.connections = 0
        self.requests: list[bytes] = []
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        self.requests.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(self.answer)
        await writer.drain()
        writer.close()

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        for writer in self._writers:
            writer.close()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


@pytest.fixture
async def raw_client(
    socket_enabled: None,
) -> AsyncGenerator[Callable[[bytes], Awaitable[tuple[FishAudioClient, RawServer]]]]:
    servers: list[RawServer] = []
    clients: list[FishAudioClient] = []

    async def factory(answer: bytes) -> tuple[FishAudioClient, RawServer]:
        server = RawServer(answer)
        servers.append(server)
        client = FishAudioClient(
            API_KEY, base_url=await server.start(), max_retries=1, **FAST_RETRY
        )
        clients.append(client)
        return client, server

    yield factory
    for client in clients:
        await client.close()
    for server in servers:
        await server.stop()


GARBAGE = b"THIS IS NOT HTTP\r\n\r\n"


async def test_garbage_answer_rest(
    raw_client: Callable[..., Awaitable[tuple[FishAudioClient, RawServer]]],
) -> None:
    client, server = await raw_client(GARBAGE)
    with pytest.raises(FishAudioConnectionError) as err:
        await client.get_credit()
    assert_no_secret(err.value)
    assert err.value.__context__ is None
    assert server.connections == 1  # the request was sent: never retried


async def test_garbage_answer_tts(
    raw_client: Callable[..., Awaitable[tuple[FishAudioClient, RawServer]]],
) -> None:
    client, _ = await raw_client(GARBAGE)
    with pytest.raises(FishAudioConnectionError) as err:
        await drain(client.tts("Hello", TTSOptions()), [])
    assert_no_secret(err.value)
    assert err.value.__context__ is None


async def test_garbage_answer_live(
    raw_client: Callable[..., Awaitable[tuple[FishAudioClient, RawServer]]],
) -> None:
    client, _ = await raw_client(GARBAGE)
    with pytest.raises(FishAudioConnectionError) as err:
        await drain(client.tts_live(_text(), TTSOptions()), [])
    assert_no_secret(err.value)
    assert err.value.__context__ is None


async def test_bare_101_is_a_websocket_error(
    raw_client: Callable[..., Awaitable[tuple[FishAudioClient, RawServer]]],
) -> None:
    client, server = await raw_client(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
    with pytest.raises(FishAudioWebSocketError) as err:
        await drain(client.tts_live(_text(), TTSOptions()), [])
    assert_no_secret(err.value)
    assert err.value.__context__ is None
    assert server.connections == 1
    assert b"GET /v1/tts/live " in server.requests[0]


async def test_redirects_are_not_followed(
    raw_client: Callable[..., Awaitable[tuple[FishAudioClient, RawServer]]],
) -> None:
    """The key must never travel to another origin."""
    answer = (
        b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:9/steal\r\nContent-Length: 0\r\n\r\n"
    )
    client, server = await raw_client(answer)
    with pytest.raises(FishAudioRequestError) as err:
        await client.get_credit()
    assert err.value.status == 302
    with pytest.raises(FishAudioRequestError):
        await drain(client.tts("Hello", TTSOptions()), [])
    assert server.connections == 2


async def _text() -> AsyncGenerator[str]:
    yield "Hello."
