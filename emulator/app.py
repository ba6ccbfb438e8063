"""The emulator's aiohttp application: REST routes, the live WebSocket and the control API."""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from collections.abc import Awaitable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
import json
import logging
import math
import time
from typing import Any, Final, cast

from aiohttp import web
from multidict import CIMultiDict, MultiDict

from .audio import CONTENT_TYPES, audio_duration, open_stream, render_file
from .bodies import MSGPACK_TYPES, BodyError, decode_body
from .const import (
    ASR_MAX_BYTES,
    ASR_MAX_SECONDS,
    ASR_MIN_SECONDS,
    ASR_PRICE_PER_SECOND,
    CHUNK_DELAY_KEY,
    CREATE_MAX_TEXTS,
    CREATE_MAX_VOICES,
    DEFAULT_MODEL,
    DEFAULT_TRANSCRIPT,
    DESIGN_PRICE_PER_REQUEST,
    FREE_MODELS,
    MODELS,
    PAGE_SIZE_MAX,
    SORT_KEYS,
    TTS_PRICE_PER_BYTE,
    VISIBILITIES,
    WS_MAX_MSG_SIZE,
)
from .design import DESIGN_MODEL, design_candidates, validate_design
from .faults import (
    CONCURRENCY_MESSAGE,
    INSUFFICIENT_CREDIT_MESSAGE,
    NO_PERMISSION_TEXT,
    PRESETS,
    FaultInjector,
    StreamFault,
)
from .live import LiveSession
from .server import SENTENCE, Handler, LoopbackServer, Route, bearer_token, record_of
from .state import Account, EmulatorState, PackageState, RecordedRequest, RecordedWebSocket
from .timestamps import plan_chunks, sse_event
from .validation import ErrorList, TtsSettings, query_error, validate_tts
from .voices import make_voice, voice_id_for

_LOGGER = logging.getLogger(__name__)

_ACCOUNT: Final = "fish_audio_emulator.account"

# What a never-ending answer announces: 10 GiB, far beyond anything a client should buffer.
_HUGE_LENGTH: Final = 10 * 1024**3


class EmulatorStoppingError(Exception):
    """The emulator is shutting down: streams end at once instead of finishing."""


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Return a JSON response."""
    return web.json_response(data, status=status, headers=headers)


def api_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    """Return the API's standard JSON error ``{"status", "message"}``."""
    return json_response({"status": status, "message": message}, status, headers)


def resolve_model(header: str | None) -> str:
    """Return the model a ``model`` header selects (unknown or missing: the default)."""
    return header if header in MODELS else DEFAULT_MODEL


def _account_of(request: web.Request) -> Account:
    return cast("Account", request[_ACCOUNT])


def _drop_connection(request: web.Request) -> None:
    """Close the TCP connection without finishing the response (no final chunk, no close frame)."""
    if request.transport is not None:
        request.transport.close()


def _as_bool(value: Any) -> bool | None:
    """Return a boolean from a JSON/msgpack bool or a form string, or None if it is neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    return None


def _fields(decoded: Any) -> MultiDict[Any] | None:
    """Return body fields as a MultiDict (lists in JSON/msgpack become repeated keys)."""
    if isinstance(decoded, MultiDict):
        return decoded
    if isinstance(decoded, Mapping):
        fields: MultiDict[Any] = MultiDict()
        for key, value in decoded.items():
            for item in value if isinstance(value, list) else [value]:
                fields.add(str(key), item)
        return fields
    return None


class FishAudioEmulator(LoopbackServer):
    """A local Fish Audio server with scripted faults and full request records.

    Use it in-process (``await emu.start()`` then ``emu.base_url``) or as a process
    (``python -m emulator``). Everything is reachable from tests: ``state`` (accounts, keys,
    voices), ``faults``, ``requests`` (every HTTP request) and ``ws_sessions`` (every live TTS
    connection).
    """

    def __init__(
        self,
        *,
        api_keys: Iterable[str] = ("test-key",),
        user_id: str = "user-1",
        credit: Decimal = Decimal("10.00"),
        package: PackageState | None = None,
        latency: float = 0.0,
        chunk_delay: float = 0.0,
        audio_seconds_per_char: float = 0.06,
        seed_voices: bool = True,
        max_concurrency: int | None = None,
        segment_latency: float = 0.0,
        piece_seconds: float = 0.5,
    ) -> None:
        """Initialise the emulator (nothing listens until ``start()``).

        Args:
            api_keys: Valid API keys, all belonging to ``user_id``.
            user_id: The primary account.
            credit: API credit of the primary account, in USD.
            package: The primary account's subscription package, or None (404).
            latency: Seconds before the first byte of every API answer.
            chunk_delay: Seconds between streamed audio chunks.
            audio_seconds_per_char: Seconds of audio per character of text (at speed 1).
            seed_voices: Whether to start with the seed voice library.
            max_concurrency: Simultaneous requests allowed per key (None: unlimited); more get 429.
            segment_latency: Seconds each live TTS synthesis segment takes before its audio.
            piece_seconds: Seconds of audio per streamed chunk.
        """
        self.state = EmulatorState(
            api_keys=api_keys,
            user_id=user_id,
            credit=credit,
            package=package,
            seed_voices=seed_voices,
        )
        self.faults = FaultInjector()
        self.ws_sessions: list[RecordedWebSocket] = []
        self.latency = latency
        self.chunk_delay = chunk_delay
        self.audio_seconds_per_char = audio_seconds_per_char
        self.max_concurrency = max_concurrency
        self.segment_latency = segment_latency
        self.piece_seconds = piece_seconds
        self._inflight: Counter[str] = Counter()
        self._websockets: set[web.WebSocketResponse] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        super().__init__()

    # --- lifecycle --------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """Return the API's routes (its OpenAPI and AsyncAPI paths) and the control API's."""
        return [
            ("POST", "/v1/tts", self._tts),
            ("GET", "/v1/tts/live", self._tts_live),
            ("POST", "/v1/tts/stream/with-timestamp", self._tts_with_timestamp),
            ("POST", "/v1/voice-design", self._voice_design),
            ("POST", "/v1/asr", self._asr),
            ("GET", "/model", self._list_voices),
            ("POST", "/model", self._create_voice),
            ("GET", "/model/{voice_id}", self._get_voice),
            ("PATCH", "/model/{voice_id}", self._update_voice),
            ("DELETE", "/model/{voice_id}", self._delete_voice),
            ("GET", "/wallet/{user_id}/api-credit", self._credit),
            ("GET", "/wallet/{user_id}/package", self._package),
            ("GET", "/_emulator/state", self._control_state),
            ("GET", "/_emulator/requests", self._control_requests),
            ("GET", "/_emulator/ws", self._control_ws),
            ("POST", "/_emulator/faults", self._control_add_fault),
            ("DELETE", "/_emulator/faults", self._control_clear_faults),
            ("POST", "/_emulator/reset", self._control_reset),
            ("POST", "/_emulator/credit", self._control_credit),
        ]

    async def _end_open_work(self) -> None:
        """End every stream and live session and cancel every task."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for ws in list(self._websockets):
            await ws.close(code=1001, message=b"emulator stopping")

    def reset(self) -> None:
        """Clear the records and faults and restore the initial state."""
        self.requests.clear()
        self.ws_sessions.clear()
        self.faults.clear()
        self.state.reset()

    async def pause(self, delay: float) -> None:
        """Sleep ``delay`` seconds; raise ``EmulatorStoppingError`` once the emulator stops."""
        if not await self.wait(delay):
            raise EmulatorStoppingError

    def spawn(self, coro: Awaitable[None], name: str) -> asyncio.Task[None]:
        """Start a task owned by the emulator (cancelled by ``stop()``)."""
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- cross-cutting: record, faults, latency, auth, concurrency ---------------------------

    async def answer(
        self, request: web.Request, handler: Handler, record: RecordedRequest
    ) -> web.StreamResponse:
        """Decode the body into the record, then apply faults, latency, auth and limits."""
        self._decode(record)
        try:
            return await self._dispatch(request, handler, record)
        except web.HTTPException as exc:  # the router's 404 and 405
            allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
            return api_error(exc.status, exc.reason, allow)
        except EmulatorStoppingError:
            return api_error(503, "Service is shutting down")

    @staticmethod
    def _decode(record: RecordedRequest) -> None:
        try:
            decoded = decode_body(record.content_type, record.body)
        except BodyError as err:
            decoded, record.decode_error = decode_body("", b""), str(err)
        record.decoded, record.parts = decoded.value, decoded.parts

    async def _dispatch(
        self, request: web.Request, handler: Handler, record: RecordedRequest
    ) -> web.StreamResponse:
        method, path = request.method, request.path
        latency = self.faults.take_latency(method, path)
        request[CHUNK_DELAY_KEY] = self.chunk_delay if latency is None else latency.per_chunk
        first_byte = self.latency + (0.0 if latency is None else latency.first_byte)

        early = self._refusal(request, record)
        if early is not None:
            await self.pause(first_byte)
            return early
        key = cast("str", record.api_key)
        if self.max_concurrency is not None and self._inflight[key] >= self.max_concurrency:
            return api_error(429, CONCURRENCY_MESSAGE, {"Retry-After": "1"})
        # The request holds its slot while it waits: the latency is server processing time.
        self._inflight[key] += 1
        try:
            await self.pause(first_byte)
            if (stream := self.faults.take_stream(method, path)) is not None:
                return await self._send_stream_fault(request, stream)
            response = await handler(request)
        finally:
            self._inflight[key] -= 1
            if not self._inflight[key]:
                del self._inflight[key]

        if (
            isinstance(response, web.Response)
            and not response.prepared
            and (truncate := self.faults.take_truncate(method, path)) is not None
        ):
            return await self._send_truncated(request, response, truncate.after_bytes)
        return response

    def _refusal(self, request: web.Request, record: RecordedRequest) -> web.Response | None:
        """Return an injected fault or a 401; otherwise note the caller's key and account."""
        if (fault := self.faults.take_http(request.method, request.path)) is not None:
            headers = {"Content-Type": fault.content_type, **fault.headers}
            return web.Response(status=fault.status, body=fault.body, headers=headers)
        key = bearer_token(request)
        user_id = self.state.api_keys.get(key) if key else None
        if key is None or user_id is None:
            if self.state.auth_error_style == "json":
                return api_error(401, "Invalid Token")
            return web.Response(status=401, text=NO_PERMISSION_TEXT)
        record.api_key, record.user_id = key, user_id
        request[_ACCOUNT] = self.state.account(user_id)
        return None

    async def _send_stream_fault(
        self, request: web.Request, fault: StreamFault
    ) -> web.StreamResponse:
        """Answer 200 and send a body that never ends properly (until the client leaves)."""
        tts = request.path == "/v1/tts"
        content_type = fault.content_type or ("audio/mpeg" if tts else "application/json")
        response = web.StreamResponse(headers={"Content-Type": content_type})
        if fault.mode == "huge-length":
            response.content_length = _HUGE_LENGTH
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        record_of(request).status = 200
        # Audio-like bytes for TTS, JSON whitespace (a valid prefix of any document) else.
        filler = b"\xff" if tts else b" "
        piece = filler * 65536
        try:
            while True:
                if fault.mode == "trickle":
                    await self.pause(fault.interval)
                    await response.write(filler)
                else:
                    await response.write(piece)
                    # A tiny pause lets other requests run and ends the loop on stop().
                    await self.pause(0.0001)
        except EmulatorStoppingError:
            _drop_connection(request)
        except ConnectionError:
            _LOGGER.debug("Client went away during a never-ending answer")
        return response

    @staticmethod
    async def _send_truncated(
        request: web.Request, response: web.Response, after_bytes: int
    ) -> web.StreamResponse:
        body = cast("bytes", response.body or b"")
        partial = web.StreamResponse(status=response.status, headers=response.headers)
        # Announce the full length so the client knows the body ended early.
        partial.content_length = len(body)
        await partial.prepare(request)
        await partial.write(body[:after_bytes])
        _drop_connection(request)
        return partial

    # --- shared checks ------------------------------------------------------------------------

    def validation_error(self, errors: ErrorList) -> web.Response:
        """Return a 422 in the configured shape."""
        body: Any = errors if self.state.validation_error_shape == "list" else {"detail": errors}
        return json_response(body, 422)

    @staticmethod
    def parse_error(message: str) -> web.Response:
        """Return the plain-text answer to a body that cannot be parsed."""
        return web.Response(status=422, text=message)

    def check_credit(self, account: Account, model: str) -> web.Response | None:
        """Return a 402 when a paid model is used with no credit left."""
        if model not in FREE_MODELS and account.credit <= 0:
            return api_error(402, INSUFFICIENT_CREDIT_MESSAGE)
        return None

    def unknown_reference(self, account: Account, reference_ids: Iterable[str]) -> str | None:
        """Return the first reference id that ``account`` cannot use, if any."""
        for voice_id in reference_ids:
            voice = self.state.voices.get(voice_id)
            if voice is None or (
                voice["visibility"] == "private" and voice["author"]["_id"] != account.user_id
            ):
                return voice_id
        return None

    def audio_seconds(self, text: str, speed: float) -> float:
        """Return the audio length for ``text`` (never less than 0.2 s, as real clips aren't)."""
        return max(0.2, len(text) * self.audio_seconds_per_char / speed)

    @staticmethod
    def charge_tts(account: Account, model: str, text: str) -> None:
        """Take the price of synthesising ``text`` from ``account``."""
        if model not in FREE_MODELS:
            account.credit -= TTS_PRICE_PER_BYTE * len(text.encode())
            account.updated_at = datetime.now(UTC)

    # --- TTS ----------------------------------------------------------------------------------

    def _tts_request(self, request: web.Request) -> tuple[TtsSettings, str, Account] | web.Response:
        """Decode and check a TTS request body (shared by /v1/tts and its timestamp variant)."""
        record, account = record_of(request), _account_of(request)
        if record.decode_error is not None:
            return self.parse_error(record.decode_error)
        mime = request.content_type
        if record.body and mime not in MSGPACK_TYPES and mime != "application/json":
            return api_error(415, f"Unsupported content type {mime!r}: use msgpack or JSON")
        model = resolve_model(request.headers.get("model"))
        settings, errors = validate_tts(
            record.decoded if record.body else {},
            model=model,
            json_body=bool(record.body) and mime == "application/json",
        )
        if settings is None:
            return self.validation_error(errors)
        # With inline references the ids only label the speakers (zero-shot dialogue).
        ids = () if settings.references else settings.reference_ids
        if (missing := self.unknown_reference(account, ids)) is not None:
            return api_error(
                self.state.unknown_reference_status, f"Reference model not found: {missing}"
            )
        if (refused := self.check_credit(account, model)) is not None:
            return refused
        return settings, model, account

    async def _tts(self, request: web.Request) -> web.StreamResponse:
        checked = self._tts_request(request)
        if isinstance(checked, web.Response):
            return checked
        settings, model, account = checked
        record = record_of(request)
        pieces = self._render(settings)
        self.charge_tts(account, model, settings.text)
        truncate = self.faults.take_truncate(request.method, request.path)

        response = web.StreamResponse(headers={"Content-Type": CONTENT_TYPES[settings.format]})
        response.enable_chunked_encoding()
        await response.prepare(request)
        record.status = response.status
        sent = 0
        try:
            for index, piece in enumerate(pieces):
                if index:
                    await self.pause(request[CHUNK_DELAY_KEY])
                if truncate is not None and sent + len(piece) >= truncate.after_bytes:
                    await response.write(piece[: truncate.after_bytes - sent])
                    _drop_connection(request)
                    return response
                await response.write(piece)
                sent += len(piece)
        except EmulatorStoppingError:
            _drop_connection(request)
        except ConnectionError:
            _LOGGER.debug("Client went away during a TTS stream")
        return response

    async def _tts_with_timestamp(self, request: web.Request) -> web.StreamResponse:
        """Stream audio as SSE messages with cumulative word alignments per content chunk."""
        checked = self._tts_request(request)
        if isinstance(checked, web.Response):
            return checked
        settings, model, account = checked
        record = record_of(request)
        chunks = plan_chunks(
            settings.text,
            settings.chunk_length,
            lambda content: self.audio_seconds(content, settings.speed),
        )
        stream = open_stream(
            settings.format,
            sample_rate=settings.sample_rate,
            mp3_bitrate=settings.mp3_bitrate,
            total_seconds=sum(chunk.seconds for chunk in chunks),
        )
        # One continuous file across the chunks: header with the first piece, trailer last.
        planned: list[tuple[Any, bytes, float]] = []
        for chunk in chunks:
            pieces = stream.render(chunk.seconds, self.piece_seconds)
            for index, piece in enumerate(pieces):
                upto = (
                    chunk.seconds
                    if index == len(pieces) - 1
                    else min(chunk.seconds, (index + 1) * self.piece_seconds)
                )
                planned.append((chunk, piece, upto))
        if planned:
            first_chunk, first_piece, first_upto = planned[0]
            planned[0] = (first_chunk, stream.header() + first_piece, first_upto)
            last_chunk, last_piece, last_upto = planned[-1]
            planned[-1] = (last_chunk, last_piece + stream.trailer(), last_upto)
        self.charge_tts(account, model, settings.text)

        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        response.enable_chunked_encoding()
        await response.prepare(request)
        record.status = response.status
        try:
            for index, (chunk, piece, upto) in enumerate(planned):
                if index:
                    await self.pause(request[CHUNK_DELAY_KEY])
                payload = {
                    "audio_base64": base64.b64encode(piece).decode("ascii"),
                    "content": chunk.content,
                    "alignment": chunk.snapshot(upto),
                    "chunk_seq": chunk.seq,
                    "chunk_audio_offset_sec": chunk.offset,
                }
                await response.write(sse_event(json.dumps(payload).encode()))
        except EmulatorStoppingError:
            _drop_connection(request)
        except ConnectionError:
            _LOGGER.debug("Client went away during a timestamped TTS stream")
        return response

    async def _voice_design(self, request: web.Request) -> web.StreamResponse:
        """Design voices from a description: candidates with base64 audio."""
        record, account = record_of(request), _account_of(request)
        model = request.headers.get("model")
        if model != DESIGN_MODEL:
            return self.validation_error(
                [
                    {
                        "loc": ["header", "model"],
                        "msg": f"Input should be '{DESIGN_MODEL}'",
                        "type": "literal_error" if model else "missing",
                        "input": model,
                    }
                ]
            )
        if request.content_type != "application/json":
            return api_error(415, f"Unsupported content type {request.content_type!r}: use JSON")
        if record.decode_error is not None:
            return self.parse_error(record.decode_error)
        settings, errors = validate_design(record.decoded)
        if settings is None:
            return self.validation_error(errors)
        if (refused := self.check_credit(account, DESIGN_MODEL)) is not None:
            return refused
        account.credit -= DESIGN_PRICE_PER_REQUEST
        account.updated_at = datetime.now(UTC)
        return json_response(
            {"candidates": design_candidates(settings, self.audio_seconds_per_char)}
        )

    def _render(self, settings: TtsSettings) -> list[bytes]:
        return render_file(
            settings.format,
            self.audio_seconds(settings.text, settings.speed),
            sample_rate=settings.sample_rate,
            mp3_bitrate=settings.mp3_bitrate,
            piece_seconds=self.piece_seconds,
        )

    async def _tts_live(self, request: web.Request) -> web.StreamResponse:
        account = _account_of(request)
        ws = web.WebSocketResponse(max_msg_size=WS_MAX_MSG_SIZE, timeout=2.0)
        if not ws.can_prepare(request).ok:
            return api_error(400, "Expected a WebSocket upgrade")
        fault = self.faults.take_ws()
        if fault is not None and fault.mode in ("reject-401", "reject-402"):
            status, body, _, _ = PRESETS["401-json" if fault.mode == "reject-401" else "402"]
            return json_response(body, status)
        model = resolve_model(request.headers.get("model"))
        if (refused := self.check_credit(account, model)) is not None:
            return refused
        await ws.prepare(request)
        record_of(request).status = 101
        recorded = RecordedWebSocket(
            headers=CIMultiDict(request.headers),
            api_key=record_of(request).api_key,
            user_id=account.user_id,
            model=model,
            opened=time.monotonic(),
            fault=None if fault is None else fault.mode,
        )
        self.ws_sessions.append(recorded)
        self._websockets.add(ws)
        try:
            await LiveSession(
                self, request=request, ws=ws, record=recorded, account=account, fault=fault
            ).run()
        finally:
            self._websockets.discard(ws)
        return ws

    # --- ASR ----------------------------------------------------------------------------------

    async def _asr(self, request: web.Request) -> web.StreamResponse:
        record, account = record_of(request), _account_of(request)
        if record.decode_error is not None:
            return self.parse_error(record.decode_error)
        if request.content_type == "application/json":
            return api_error(415, "JSON is not supported here: send msgpack or multipart/form-data")
        fields = _fields(record.decoded) or MultiDict()
        audio = fields.get("audio")
        language = fields.get("language")
        ignore = _as_bool(fields.get("ignore_timestamps", True))
        errors: ErrorList = []
        if not isinstance(audio, bytes):
            kind = "missing" if audio is None else "bytes_type"
            errors.append(
                {
                    "loc": ["body", "audio"],
                    "msg": "Audio bytes required",
                    "type": kind,
                    "in": "body",
                }
            )
        if language is not None and (not isinstance(language, str) or not language):
            errors.append(
                {
                    "loc": ["body", "language"],
                    "msg": "Input should be a valid string",
                    "type": "string_type",
                }
            )
        if ignore is None:
            errors.append(
                {
                    "loc": ["body", "ignore_timestamps"],
                    "msg": "Input should be a valid boolean",
                    "type": "bool_type",
                }
            )
        if errors or not isinstance(audio, bytes) or ignore is None:
            return self.validation_error(errors)
        if len(audio) > ASR_MAX_BYTES:
            return api_error(413, "Audio file is too large: the limit is 20 MB")
        seconds = _duration_of(audio)
        if seconds < ASR_MIN_SECONDS:
            return api_error(422, "Audio is too short: at least 1 second is required")
        if seconds > ASR_MAX_SECONDS:
            return api_error(422, "Audio is too long: the limit is 60 minutes")
        if (refused := self.check_credit(account, "transcribe-1")) is not None:
            return refused
        account.credit -= ASR_PRICE_PER_SECOND * math.ceil(seconds)
        text = self.state.asr_text or DEFAULT_TRANSCRIPT
        return json_response(
            {
                "text": text,
                "duration": round(seconds, 3),
                "segments": [] if ignore else _segments(text, seconds),
                "language": language or self.state.asr_language,
            }
        )

    # --- voices -------------------------------------------------------------------------------

    async def _list_voices(self, request: web.Request) -> web.StreamResponse:
        account = _account_of(request)
        query = request.query
        errors: ErrorList = []
        page_size = _query_int(
            query, "page_size", default=10, lo=1, hi=PAGE_SIZE_MAX, errors=errors
        )
        page_number = _query_int(query, "page_number", default=1, lo=1, hi=None, errors=errors)
        self_only = _as_bool(query.get("self", "false"))
        if self_only is None:
            errors.append(
                query_error("self", "Input should be a valid boolean", "bool_type", query["self"])
            )
        sort_by = query.get("sort_by", "score")
        if sort_by not in SORT_KEYS:
            errors.append(
                query_error(
                    "sort_by", "Input should be 'score', 'task_count' or 'created_at'",
                    "literal_error", sort_by,
                )
            )  # fmt: skip
        if errors:
            return self.validation_error(errors)

        title = query.get("title", "").casefold()
        tags = query.getall("tag", [])
        languages = set(query.getall("language", []))
        author_id = query.get("author_id")
        voices = []
        for voice in self.state.voices.values():
            owner = voice["author"]["_id"]
            if self_only:
                if owner != account.user_id:
                    continue
            elif voice["visibility"] != "public" or (author_id and owner != author_id):
                continue
            if title and title not in voice["title"].casefold():
                continue
            if not all(tag in voice["tags"] for tag in tags):
                continue
            if languages and not languages.intersection(voice["languages"]):
                continue
            voices.append(voice)
        sort_field = {"score": "like_count", "task_count": "task_count"}.get(sort_by, "created_at")
        voices.sort(key=lambda v: v[sort_field], reverse=True)
        start = (page_number - 1) * page_size
        return json_response(
            {
                "total": len(voices),
                "items": voices[start : start + page_size],
                "has_more": start + page_size < len(voices),
                "total_is_exact": True,
            }
        )

    def _voice_for(
        self, request: web.Request, *, write: bool
    ) -> tuple[dict[str, Any] | None, web.Response | None]:
        voice_id = request.match_info["voice_id"]
        voice = self.state.voices.get(voice_id)
        if voice is None:
            return None, api_error(404, f"Model not found: {voice_id}")
        own = voice["author"]["_id"] == _account_of(request).user_id
        if not own and (write or voice["visibility"] == "private"):
            return None, api_error(403, "You do not have permission to access this model")
        return voice, None

    async def _get_voice(self, request: web.Request) -> web.StreamResponse:
        voice, error = self._voice_for(request, write=False)
        return error or json_response(voice)

    async def _delete_voice(self, request: web.Request) -> web.StreamResponse:
        voice, error = self._voice_for(request, write=True)
        if voice is None:
            return cast("web.Response", error)
        del self.state.voices[voice["_id"]]
        return web.Response(status=200)

    async def _create_voice(self, request: web.Request) -> web.StreamResponse:
        record, account = record_of(request), _account_of(request)
        if record.decode_error is not None:
            return self.parse_error(record.decode_error)
        fields = _fields(record.decoded) or MultiDict()
        errors: ErrorList = []

        def fail(name: str, msg: str, kind: str = "value_error") -> None:
            errors.append({"loc": ["body", name], "msg": msg, "type": kind, "in": "body"})

        title = fields.get("title")
        if not isinstance(title, str) or not title.strip():
            fail("title", "Field required", "missing")
        description = fields.get("description", "")
        visibility = fields.get("visibility", "public")
        if visibility not in VISIBILITIES:
            fail("visibility", "Input should be 'public', 'unlist' or 'private'", "literal_error")
        if fields.get("type", "tts") not in ("tts", "svc"):
            fail("type", "Input should be 'svc' or 'tts'", "literal_error")
        train_mode = fields.get("train_mode", "fast")
        if train_mode not in ("fast", "full"):
            fail("train_mode", "Input should be 'fast' or 'full'", "literal_error")
        texts = [t for t in fields.getall("texts", []) if isinstance(t, str)]
        if len(texts) > CREATE_MAX_TEXTS:
            fail("texts", f"At most {CREATE_MAX_TEXTS} texts are allowed", "too_long")
        tags = [t for t in fields.getall("tags", []) if isinstance(t, str)]
        if _as_bool(fields.get("enhance_audio_quality", True)) is None:
            fail("enhance_audio_quality", "Input should be a valid boolean", "bool_type")
        samples = fields.getall("voices", [])
        if not samples or not all(isinstance(s, bytes) and s for s in samples):
            fail("voices", "At least one audio file is required", "missing")
        elif len(samples) > CREATE_MAX_VOICES:
            fail("voices", f"At most {CREATE_MAX_VOICES} audio files are allowed", "too_long")
        cover = fields.get("cover_image")
        if visibility == "public" and not isinstance(cover, bytes):
            fail("cover_image", "A cover image is required for public models", "missing")
        if errors:
            return self.validation_error(errors)

        self.state.voice_counter += 1
        voice_id = voice_id_for(self.state.voice_counter)
        voice = make_voice(
            voice_id=voice_id,
            title=cast("str", title),
            author_id=account.user_id,
            author_nickname=account.nickname,
            description=str(description),
            visibility=str(visibility),
            tags=tags,
            texts=texts,
            train_mode=str(train_mode),
            cover_image=f"coverimage/{voice_id}" if isinstance(cover, bytes) else "",
        )
        self.state.voices[voice_id] = voice
        return json_response(voice, 201)

    async def _update_voice(self, request: web.Request) -> web.StreamResponse:
        record = record_of(request)
        if record.decode_error is not None:
            return self.parse_error(record.decode_error)
        voice, error = self._voice_for(request, write=True)
        if voice is None:
            return cast("web.Response", error)
        fields = _fields(record.decoded) or MultiDict()
        errors: ErrorList = []
        if "visibility" in fields and fields["visibility"] not in VISIBILITIES:
            errors.append(
                {
                    "loc": ["body", "visibility"],
                    "msg": "Input should be 'public', 'unlist' or 'private'",
                    "type": "literal_error",
                    "in": "body",
                }
            )
        if "title" in fields and (not isinstance(fields["title"], str) or not fields["title"]):
            errors.append(
                {"loc": ["body", "title"], "msg": "Title must not be empty", "type": "value_error"}
            )
        if errors:
            return self.validation_error(errors)
        for name in ("title", "description", "visibility"):
            if name in fields:
                voice[name] = str(fields[name])
        if "tags" in fields:
            voice["tags"] = [str(tag) for tag in fields.getall("tags")]
        if isinstance(fields.get("cover_image"), bytes):
            voice["cover_image"] = f"coverimage/{voice['_id']}"
        voice["updated_at"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        return web.Response(status=200)

    # --- wallet -------------------------------------------------------------------------------

    def _wallet_account(self, request: web.Request) -> Account | web.Response:
        account = _account_of(request)
        if request.match_info["user_id"] not in ("self", account.user_id):
            return api_error(403, "You can only read your own wallet")
        return account

    async def _credit(self, request: web.Request) -> web.StreamResponse:
        account = self._wallet_account(request)
        if isinstance(account, web.Response):
            return account
        check = _as_bool(request.query.get("check_free_credit", "false"))
        return json_response(account.credit_json(check_free_credit=bool(check)))

    async def _package(self, request: web.Request) -> web.StreamResponse:
        account = self._wallet_account(request)
        if isinstance(account, web.Response):
            return account
        if account.package is None:
            return api_error(404, "Package not found")
        return json_response(account.package.as_json(account.user_id))

    # --- control API (unauthenticated; only ever bound to loopback) ----------------------------

    async def _control_state(self, request: web.Request) -> web.StreamResponse:
        return json_response(
            {
                "base_url": self.base_url,
                **self.state.as_json(),
                "faults": self.faults.as_json(),
                "requests": len(self.requests),
                "ws_sessions": len(self.ws_sessions),
            }
        )

    async def _control_requests(self, request: web.Request) -> web.StreamResponse:
        return json_response([r.as_json() for r in self.requests])

    async def _control_ws(self, request: web.Request) -> web.StreamResponse:
        return json_response([s.as_json() for s in self.ws_sessions])

    async def _control_add_fault(self, request: web.Request) -> web.StreamResponse:
        try:
            spec = await request.json()
        except ValueError as err:
            return api_error(400, f"Invalid JSON: {err}")
        if not isinstance(spec, dict):
            return api_error(400, "A JSON object is required")
        try:
            self.faults.apply_json(spec)
        except (ValueError, TypeError) as err:
            return api_error(400, str(err))
        return json_response(self.faults.as_json())

    async def _control_clear_faults(self, request: web.Request) -> web.StreamResponse:
        self.faults.clear()
        return json_response([])

    async def _control_reset(self, request: web.Request) -> web.StreamResponse:
        self.reset()
        return json_response({"status": "reset"})

    async def _control_credit(self, request: web.Request) -> web.StreamResponse:
        try:
            data = await request.json()
            credit = Decimal(str(data["credit"]))
        except (ValueError, TypeError, KeyError, InvalidOperation):
            return api_error(400, 'Send {"credit": "<decimal>"[, "user_id": "..."]}')
        account = self.state.account(str(data.get("user_id") or self.state.user_id))
        account.credit = credit
        return json_response(account.credit_json(check_free_credit=False))


def _duration_of(audio: bytes) -> float:
    """Return the audio length; unknown containers are taken as 16 kHz 16-bit mono PCM."""
    seconds = audio_duration(audio)
    return len(audio) / 32000 if seconds is None else seconds


def _segments(text: str, seconds: float) -> list[dict[str, Any]]:
    """Split ``text`` into sentences spread over ``seconds`` in proportion to their length."""
    sentences = [s.strip() for s in SENTENCE.findall(text) if s.strip()] or [text]
    total = sum(len(s) for s in sentences) or 1
    segments, start = [], 0.0
    for sentence in sentences:
        end = start + seconds * len(sentence) / total
        segments.append({"text": sentence, "start": round(start, 3), "end": round(end, 3)})
        start = end
    return segments


def _query_int(
    query: Mapping[str, str],
    name: str,
    *,
    default: int,
    lo: int,
    hi: int | None,
    errors: ErrorList,
) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        errors.append(query_error(name, "Input should be a valid integer", "int_type", raw))
        return default
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        errors.append(query_error(name, f"Input should be {bound}", "value_error", raw))
        return default
    return value
