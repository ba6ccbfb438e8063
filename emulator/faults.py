"""Fault injection: scripted failures for the next requests or WebSocket sessions.

A route is ``"METHOD /path"`` with shell-style wildcards in the path (``"GET /model/*"``), a bare
path matching any method (``"/v1/tts"``), or ``"*"`` for every API route. Control routes
(``/_emulator/...``) are never affected. ``times`` is how many matching requests a fault applies
to (None: until cleared). When several faults match, the oldest one wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from http import HTTPStatus
import json
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

# Texts as the live API answers them (of these the vendor documents only the concurrency one).
INSUFFICIENT_CREDIT_MESSAGE: Final = (
    "Insufficient API credit. API credit is managed independently from platform credit. "
    "Please visit https://fish.audio/app/api-keys/ to top up."
)
NO_PERMISSION_TEXT: Final = "No permission -- see authorization schemes"
CONCURRENCY_MESSAGE: Final = "Concurrency limit exceeded"

_VALIDATION_ITEM: Final = {
    "loc": ["body", "text"],
    "msg": "Field required",
    "type": "missing",
    "in": "body",
}

# name -> (status, body, content type, headers)
PRESETS: Final[
    dict[str, tuple[int, bytes | str | dict[str, Any] | list[Any], str, dict[str, str]]]
] = {
    "401-plain": (401, NO_PERMISSION_TEXT, "text/plain", {}),
    "401-json": (401, {"status": 401, "message": "Invalid Token"}, "application/json", {}),
    "402": (402, {"status": 402, "message": INSUFFICIENT_CREDIT_MESSAGE}, "application/json", {}),
    "403": (403, {"status": 403, "message": "Permission denied"}, "application/json", {}),
    "404": (404, {"status": 404, "message": "Not Found"}, "application/json", {}),
    "422-list": (422, [_VALIDATION_ITEM], "application/json", {}),
    "422-detail": (422, {"detail": [_VALIDATION_ITEM]}, "application/json", {}),
    "429": (
        429,
        {"status": 429, "message": CONCURRENCY_MESSAGE},
        "application/json",
        {"Retry-After": "1"},
    ),
    "500": (500, {"status": 500, "message": "Internal Server Error"}, "application/json", {}),
    # Gateways in front of the API answer with HTML, not the API's JSON: clients must cope.
    "502": (
        502,
        "<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>",
        "text/html",
        {},
    ),
    "503": (
        503,
        {"status": 503, "message": "Service is under high load, please retry later"},
        "application/json",
        {},
    ),
    "504": (504, "Gateway Timeout", "text/plain", {}),
    # Success answers a client cannot use: a captive portal or broken proxy, a hostile
    # server nesting JSON past any parser's recursion limit, a number no integer can hold.
    "200-html": (
        200,
        "<html><head><title>Sign in</title></head><body>Wi-Fi login</body></html>",
        "text/html",
        {},
    ),
    "200-deep-json": (200, b"[" * 100_000 + b"]" * 100_000, "application/json", {}),
    "200-overflow": (
        200,
        b'{"_id": "x", "user_id": "user-1", "credit": "1", "total": 1e999, "balance": 1e999}',
        "application/json",
        {},
    ),
}

# Success answers that never end properly (see ``FaultInjector.stream``).
STREAM_MODES: Final = frozenset({"trickle", "endless", "huge-length"})

WS_MODES: Final = frozenset(
    {
        "finish-error",
        "close",
        "unknown-events",
        "text-frame",
        "malformed",
        "non-map",
        "error-event",
        "never-finish",
        "endless",
        "trickle",
        "reject-401",
        "reject-402",
    }
)


def route_matches(route: str, method: str, path: str) -> bool:
    """Return whether the fault ``route`` applies to a request ``method path``."""
    if route == "*":
        return True
    want_method, sep, want_path = route.partition(" ")
    if not sep:
        return fnmatchcase(path, route)
    return want_method.upper() in ("*", method.upper()) and fnmatchcase(path, want_path.strip())


def _check_times(times: int | None) -> None:
    if times is not None and times < 1:
        raise ValueError("times must be None or at least 1")


@dataclass(slots=True, kw_only=True)
class _Fault:
    route: str
    remaining: int | None

    def consume(self) -> None:
        if self.remaining is not None:
            self.remaining -= 1

    @property
    def spent(self) -> bool:
        return self.remaining is not None and self.remaining <= 0


@dataclass(slots=True, kw_only=True)
class HttpFault(_Fault):
    """Answer matching requests with a fixed status and body instead of the real handler."""

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class LatencyFault(_Fault):
    """Delay the first byte of matching answers, and each streamed audio chunk."""

    first_byte: float
    per_chunk: float


@dataclass(slots=True, kw_only=True)
class TruncateFault(_Fault):
    """Send the status, headers and ``after_bytes`` of the body, then drop the connection."""

    after_bytes: int


@dataclass(slots=True, kw_only=True)
class StreamFault(_Fault):
    """Answer 200 and then never end properly (see ``FaultInjector.stream``)."""

    mode: str
    interval: float
    content_type: str | None


@dataclass(slots=True, kw_only=True)
class WsFault(_Fault):
    """Misbehave on the next ``/v1/tts/live`` sessions (see ``FaultInjector.ws``)."""

    mode: str
    message: str | None
    after_audio_chunks: int
    interval: float = 0.5


def _encode_body(
    status: int, body: bytes | str | Mapping[str, Any] | list[Any] | None, content_type: str | None
) -> tuple[bytes, str]:
    if body is None:
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        body = {"status": status, "message": phrase}
    if isinstance(body, bytes):
        return body, content_type or "application/octet-stream"
    if isinstance(body, str):
        return body.encode(), content_type or "text/plain"
    return json.dumps(body).encode(), content_type or "application/json"


class FaultInjector:
    """The scripted faults of one emulator."""

    def __init__(self) -> None:
        """Initialise with no faults."""
        self._http: list[HttpFault] = []
        self._latency: list[LatencyFault] = []
        self._truncate: list[TruncateFault] = []
        self._stream: list[StreamFault] = []
        self._ws: list[WsFault] = []

    def http(
        self,
        route: str,
        status: int,
        *,
        body: bytes | str | Mapping[str, Any] | list[Any] | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        times: int | None = 1,
    ) -> None:
        """Answer matching requests with ``status`` and ``body``.

        Args:
            route: Which requests (see the module docstring).
            status: HTTP status to answer with.
            body: bytes or str (sent as is), dict or list (sent as JSON), or None for the API's
                standard ``{"status", "message"}`` JSON.
            content_type: Content type; derived from the body type when None.
            headers: Extra response headers (e.g. ``Retry-After``).
            times: Number of requests to fail; None for all until cleared.
        """
        _check_times(times)
        data, ctype = _encode_body(status, body, content_type)
        self._http.append(
            HttpFault(
                route=route,
                remaining=times,
                status=status,
                body=data,
                content_type=ctype,
                headers=dict(headers or {}),
            )
        )

    def preset(self, route: str, name: str, *, times: int | None = 1) -> None:
        """Answer matching requests with a named realistic error (see ``PRESETS``)."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; known: {', '.join(sorted(PRESETS))}")
        status, body, content_type, headers = PRESETS[name]
        self.http(route, status, body=body, content_type=content_type, headers=headers, times=times)

    def latency(
        self, route: str, first_byte: float, per_chunk: float = 0.0, *, times: int | None = None
    ) -> None:
        """Delay matching answers by ``first_byte`` seconds and streamed chunks by ``per_chunk``.

        These add to the emulator's own ``latency`` and replace its ``chunk_delay``.
        """
        _check_times(times)
        if first_byte < 0 or per_chunk < 0:
            raise ValueError("delays must not be negative")
        self._latency.append(
            LatencyFault(route=route, remaining=times, first_byte=first_byte, per_chunk=per_chunk)
        )

    def truncate(
        self, route: str = "POST /v1/tts", *, after_bytes: int, times: int | None = 1
    ) -> None:
        """Drop the connection after ``after_bytes`` of the body of matching answers."""
        _check_times(times)
        if after_bytes < 0:
            raise ValueError("after_bytes must not be negative")
        self._truncate.append(TruncateFault(route=route, remaining=times, after_bytes=after_bytes))

    def stream(
        self,
        route: str,
        mode: str,
        *,
        interval: float = 0.5,
        content_type: str | None = None,
        times: int | None = 1,
    ) -> None:
        """Answer matching requests with a 200 whose body never ends properly.

        Modes: ``trickle`` (one byte every ``interval`` seconds, for ever: beats any per-read
        timeout), ``endless`` (a chunked body sent as fast as the client reads, for ever),
        ``huge-length`` (``Content-Length`` of 10 GiB announced, then bytes as fast as the
        client reads). The body is audio-like bytes for ``/v1/tts`` and JSON whitespace
        elsewhere, so only a bound on time or size ends it. The request holds a concurrency
        slot of the emulator meanwhile, as a real server's would.

        Args:
            route: Which requests (see the module docstring).
            mode: One of the modes above.
            interval: Seconds between bytes of a trickle.
            content_type: Content type (default: ``audio/mpeg`` for TTS, else JSON).
            times: Number of requests to affect; None for all until cleared.
        """
        _check_times(times)
        if mode not in STREAM_MODES:
            raise ValueError(
                f"unknown stream mode {mode!r}; known: {', '.join(sorted(STREAM_MODES))}"
            )
        if interval < 0:
            raise ValueError("interval must not be negative")
        self._stream.append(
            StreamFault(
                route=route,
                remaining=times,
                mode=mode,
                interval=interval,
                content_type=content_type,
            )
        )

    def ws(
        self,
        mode: str,
        *,
        times: int | None = 1,
        after_audio_chunks: int = 0,
        message: str | None = None,
        interval: float = 0.5,
    ) -> None:
        """Misbehave on the next live TTS sessions.

        Modes: ``finish-error`` (``{"event":"finish","reason":"error"}``, with ``message`` if
        given, then close), ``close`` (drop the TCP connection without a close frame),
        ``unknown-events`` (``log`` and unknown events interleaved; the stream still completes),
        ``text-frame`` / ``malformed`` / ``non-map`` (one text frame, undecodable bytes or a
        msgpack list in place of an audio event, then carry on), ``error-event`` (in-band
        ``{"event":"error","error":"Concurrency limit exceeded"}`` then close), ``never-finish``
        (audio but no finish after ``stop``; the socket stays open), ``endless`` (audio events
        as fast as the client reads, for ever, never a finish), ``trickle`` (a 16-byte audio
        event every ``interval`` seconds, for ever), ``reject-401`` /
        ``reject-402`` (handshake refused with that status and a JSON body).

        Args:
            mode: One of the modes above.
            times: Number of sessions to affect; None for all until cleared.
            after_audio_chunks: Audio events sent normally before the fault strikes. If the
                session ends with fewer, the fault strikes at the finish instead.
            message: Text for ``finish-error`` and ``error-event``.
            interval: Seconds between the events of a ``trickle``.
        """
        _check_times(times)
        if mode not in WS_MODES:
            raise ValueError(f"unknown ws mode {mode!r}; known: {', '.join(sorted(WS_MODES))}")
        self._ws.append(
            WsFault(
                route="GET /v1/tts/live",
                remaining=times,
                mode=mode,
                message=message,
                after_audio_chunks=after_audio_chunks,
                interval=interval,
            )
        )

    def clear(self) -> None:
        """Remove every fault."""
        self._http.clear()
        self._latency.clear()
        self._truncate.clear()
        self._stream.clear()
        self._ws.clear()

    @staticmethod
    def _take[F: _Fault](faults: list[F], method: str, path: str) -> F | None:
        for fault in faults:
            if route_matches(fault.route, method, path):
                fault.consume()
                if fault.spent:
                    faults.remove(fault)
                return fault
        return None

    def take_http(self, method: str, path: str) -> HttpFault | None:
        """Return (and use up once) the HTTP fault for this request, if any."""
        return self._take(self._http, method, path)

    def take_latency(self, method: str, path: str) -> LatencyFault | None:
        """Return (and use up once) the latency fault for this request, if any."""
        return self._take(self._latency, method, path)

    def take_truncate(self, method: str, path: str) -> TruncateFault | None:
        """Return (and use up once) the truncation fault for this request, if any."""
        return self._take(self._truncate, method, path)

    def take_stream(self, method: str, path: str) -> StreamFault | None:
        """Return (and use up once) the never-ending answer for this request, if any."""
        return self._take(self._stream, method, path)

    def take_ws(self) -> WsFault | None:
        """Return (and use up once) the fault for a new live TTS session, if any."""
        return self._take(self._ws, "GET", "/v1/tts/live")

    def as_json(self) -> list[dict[str, Any]]:
        """Return the pending faults for the control API."""
        pending: list[dict[str, Any]] = [
            {"kind": "http", "route": f.route, "status": f.status, "times": f.remaining}
            for f in self._http
        ]
        pending += [
            {
                "kind": "latency",
                "route": f.route,
                "first_byte": f.first_byte,
                "per_chunk": f.per_chunk,
                "times": f.remaining,
            }
            for f in self._latency
        ]
        pending += [
            {
                "kind": "truncate",
                "route": f.route,
                "after_bytes": f.after_bytes,
                "times": f.remaining,
            }
            for f in self._truncate
        ]
        pending += [
            {"kind": "stream", "route": f.route, "mode": f.mode, "times": f.remaining}
            for f in self._stream
        ]
        pending += [
            {
                "kind": "ws",
                "mode": f.mode,
                "after_audio_chunks": f.after_audio_chunks,
                "times": f.remaining,
            }
            for f in self._ws
        ]
        return pending

    def apply_json(self, spec: Mapping[str, Any]) -> None:
        """Add a fault described as JSON (the control API's ``POST /_emulator/faults``).

        ``kind`` selects ``http``, ``preset``, ``latency``, ``truncate``, ``stream``, ``ws`` or
        ``clear``; when absent it is inferred from the fields (``mode`` -> ws, ``stream`` ->
        stream (its value is the mode), ``preset``/``name`` -> preset,
        ``after_bytes`` -> truncate, ``first_byte`` -> latency, ``status`` -> http).

        Raises:
            ValueError: The spec is incomplete or names an unknown preset or mode.
        """
        kind = spec.get("kind") or _infer_kind(spec)
        times = spec.get("times", 1)
        route = str(spec.get("route", "*"))
        try:
            if kind == "clear":
                self.clear()
            elif kind == "ws":
                self.ws(
                    str(spec["mode"]),
                    times=times,
                    after_audio_chunks=int(spec.get("after_audio_chunks", 0)),
                    message=spec.get("message"),
                    interval=float(spec.get("interval", 0.5)),
                )
            elif kind == "stream":
                self.stream(
                    route,
                    str(spec["stream"]),
                    interval=float(spec.get("interval", 0.5)),
                    content_type=spec.get("content_type"),
                    times=times,
                )
            elif kind == "preset":
                self.preset(route, str(spec.get("preset") or spec["name"]), times=times)
            elif kind == "truncate":
                self.truncate(
                    str(spec.get("route", "POST /v1/tts")),
                    after_bytes=int(spec["after_bytes"]),
                    times=times,
                )
            elif kind == "latency":
                self.latency(
                    route,
                    float(spec["first_byte"]),
                    float(spec.get("per_chunk", 0.0)),
                    times=spec.get("times"),
                )
            elif kind == "http":
                self.http(
                    route,
                    int(spec["status"]),
                    body=spec.get("body"),
                    content_type=spec.get("content_type"),
                    headers=spec.get("headers"),
                    times=times,
                )
            else:
                raise ValueError(f"unknown fault kind {kind!r}")
        except KeyError as err:
            raise ValueError(f"missing field {err.args[0]!r}") from None


def _infer_kind(spec: Mapping[str, Any]) -> str:
    for key, kind in (
        ("clear", "clear"),
        ("mode", "ws"),
        ("stream", "stream"),
        ("preset", "preset"),
        ("name", "preset"),
        ("after_bytes", "truncate"),
        ("first_byte", "latency"),
        ("status", "http"),
    ):
        if key in spec:
            return kind
    raise ValueError("cannot tell the fault kind: give 'kind'")
