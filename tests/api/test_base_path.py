"""A custom endpoint may serve the API under a path prefix (a reverse proxy)."""

from __future__ import annotations

from aiohttp import web
import pytest

from custom_components.fish_audio_suite.api import (
    FishAudioClient,
    FishAudioNotFoundError,
    TTSOptions,
)

from .conftest import API_KEY, FAST_RETRY


async def test_path_prefix_is_kept(socket_enabled: None) -> None:
    """REST calls and the live WebSocket go below the base URL's path."""
    seen: list[str] = []

    async def record(request: web.Request) -> web.StreamResponse:
        seen.append(request.path)
        if request.path.endswith("/api-credit"):
            return web.json_response({"_id": "c", "user_id": "u", "credit": "1"})
        return web.json_response({"status": 404, "message": "Not Found"}, status=404)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with FishAudioClient(
            API_KEY, base_url=f"http://127.0.0.1:{port}/fish/", max_retries=0, **FAST_RETRY
        ) as client:
            assert client.base_url == f"http://127.0.0.1:{port}/fish"
            assert (await client.get_credit()).user_id == "u"

            async def text():  # type: ignore[no-untyped-def]
                yield "hi"

            with pytest.raises(FishAudioNotFoundError):
                async for _ in client.tts_live(text(), TTSOptions()):
                    pass
    finally:
        await runner.cleanup()
    assert seen == ["/fish/wallet/self/api-credit", "/fish/v1/tts/live"]
