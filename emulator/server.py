"""What both emulators are as servers: aiohttp on loopback, every request recorded as received.

`FishAudioEmulator` (the vendor's API) and `FishSpeechEmulator` (the self-hosted server's API)
answer different protocols, each in its own module; what they share here is only the plumbing
under the protocol: a route table behind one middleware, starting on a free port, stopping at
once (a stop cuts what is still streaming, as a real outage does), waits that end with the
stop, and the record of every API request (the control API under ``/_emulator/`` is not
recorded). How a request is authorised, delayed or refused stays in each emulator.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import re
import time
from typing import Final, cast

from aiohttp import web
from multidict import CIMultiDict, MultiDict

from .const import CLIENT_MAX_SIZE, CONTROL_PREFIX
from .state import RecordedRequest

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
type Route = tuple[str, str, Handler]

_RECORD: Final = "emulator.record"
_BEARER: Final = re.compile(r"^\s*Bearer\s+(\S+)\s*$", re.IGNORECASE)
# Both services speak text sentence by sentence; this is where the emulators cut it.
SENTENCE: Final = re.compile("[^.!?\u3002\uff01\uff1f]+[.!?\u3002\uff01\uff1f]*")


def bearer_token(request: web.Request) -> str | None:
    """Return the token of ``Authorization: Bearer <token>``, or None."""
    match = _BEARER.match(request.headers.get("Authorization", ""))
    return match.group(1) if match else None


def record_of(request: web.Request) -> RecordedRequest:
    """Return the record the middleware made of ``request``."""
    return cast("RecordedRequest", request[_RECORD])


class LoopbackServer:
    """An aiohttp server for tests: ``await start()``, then ``base_url``; ``requests`` records.

    A subclass names its routes (``routes()``) and answers each API request in ``answer()``,
    which the middleware calls after recording it.
    """

    def __init__(self) -> None:
        """Initialise (nothing listens until ``start()``)."""
        self.requests: list[RecordedRequest] = []
        self.base_url = ""
        self.app = self.make_app()
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()

    def routes(self) -> list[Route]:
        """Return the (method, path, handler) table, the control API's routes included."""
        raise NotImplementedError

    async def answer(
        self, request: web.Request, handler: Handler, record: RecordedRequest
    ) -> web.StreamResponse:
        """Answer an API request (already recorded) the way the emulated server does."""
        raise NotImplementedError

    # --- lifecycle --------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """Return a new application serving this emulator (e.g. for ``aiohttp`` test clients)."""
        app = web.Application(middlewares=[self._middleware], client_max_size=CLIENT_MAX_SIZE)
        for method, path, handler in self.routes():
            app.router.add_route(method, path, handler)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (port 0: a free one) and set ``base_url``."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        if self.app.frozen:  # started and stopped before: an application runs only once
            self.app = self.make_app()
        self._stopping = asyncio.Event()
        # A short shutdown grace: anything still streaming at stop() is cut, as a real outage is.
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self.base_url = f"http://{host}:{runner.addresses[0][1]}"

    async def stop(self) -> None:
        """Stop listening; whatever is still running ends at once."""
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        self._stopping.set()
        await self._end_open_work()
        await runner.cleanup()

    async def _end_open_work(self) -> None:
        """End what the server runs beside its requests (nothing here), before it stops."""

    async def wait(self, delay: float) -> bool:
        """Sleep ``delay`` seconds; return False at once if the emulator stops meanwhile."""
        if delay <= 0:
            return True
        try:
            async with asyncio.timeout(delay):
                await self._stopping.wait()
        except TimeoutError:
            return True
        return False

    @property
    def open_connections(self) -> int:
        """The TCP connections the server holds open now, HTTP and WebSocket alike.

        Tests count them to show that a client really closed what it opened.
        """
        server = self._runner.server if self._runner is not None else None
        return 0 if server is None else len(server.connections)

    # --- every request ----------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query_string=request.query_string,
            query=MultiDict(request.query),
            headers=CIMultiDict(request.headers),
            body=await request.read(),
            content_type=request.headers.get("Content-Type", ""),
            time=time.monotonic(),
        )
        self.requests.append(record)
        request[_RECORD] = record
        response = await self.answer(request, handler, record)
        if record.status is None:
            record.status = response.status
        return response
