"""Asynchronous client for the Fish Audio API (OpenAPI file, SDK)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Mapping, Sequence
import contextlib
from copy import replace
from decimal import Decimal
import importlib
import json
import logging
import random
import re
import sys
from typing import TYPE_CHECKING, Any, Protocol, Self
from urllib.parse import urlencode

import aiohttp
import ormsgpack
from yarl import URL

from ._bounds import (
    ERROR_BODY_MAX_BYTES,
    JSON_MAX_BYTES,
    NOT_AUDIO_TYPES,
    AudioBudget,
    check_content_type,
    read_capped,
    stream_budget,
)
from ._errors import error_from_response, sanitise
from ._limiter import SlotLimiter
from .const import (
    ASR_MAX_BYTES,
    CONTENT_TYPE_FORM,
    CONTENT_TYPE_JSON,
    CONTENT_TYPE_MSGPACK,
    CREATE_MAX_TEXTS,
    CREATE_MAX_VOICES,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_REQUEST_TIMEOUT,
    LIVE_CLOSE_TIMEOUT,
    LIVE_HEARTBEAT,
    LIVE_MAX_MSG_SIZE,
    LIVE_TEXT_MAX_CHARS,
    LIVE_TEXT_TIMEOUT,
    NAME_MAX,
    PAGE_SIZE_MAX,
    PATH_ASR,
    PATH_CREDIT,
    PATH_MODEL,
    PATH_PACKAGE,
    PATH_TTS,
    PATH_TTS_LIVE,
    PATH_TTS_TIMESTAMPS,
    PATH_VOICE_DESIGN,
    RETRY_AFTER_MAX,
    RETRY_BACKOFF_BASE,
    RETRY_BACKOFF_MAX,
    RETRY_STATUSES,
    SORT_BY,
    SSE_EVENT_MAX,
    TTS_READ_SIZE,
    VISIBILITIES,
    VOICE_DESIGN_COUNT_MAX,
    VOICE_DESIGN_INSTRUCTION_MAX,
    VOICE_DESIGN_MODEL,
    VOICE_DESIGN_REFERENCE_TEXT_MAX,
    VOICE_DESIGN_SPEED_MAX,
    __version__,
)
from .exceptions import (
    FishAudioConnectionError,
    FishAudioError,
    FishAudioInvalidResponseError,
    FishAudioNotFoundError,
    FishAudioRateLimitError,
    FishAudioResponseError,
    FishAudioTimeoutError,
    FishAudioWebSocketError,
)
from .models import (
    ASRResult,
    Credit,
    FlushPolicy,
    Package,
    TimestampEvent,
    TTSOptions,
    Voice,
    VoiceDesignCandidate,
    VoicePage,
)

if TYPE_CHECKING:
    from types import TracebackType

    # Only the type checker needs it (a Protocol class costs 0.06 ms at import); the bound
    # of `_parse`'s type parameter is evaluated lazily.
    class _Model(Protocol):
        @classmethod
        def from_dict(cls, data: Mapping[str, Any]) -> Self: ...


_LOGGER = logging.getLogger(__name__)

# The patterns are strings that `re` compiles on first use and keeps in its cache:
# compiling them at import cost 0.15 ms (benchmarks/README.md).
# Voice ids are 32 hex digits; anything else that could escape the path segment
# ("/", "..", "?") is refused before it reaches a URL. Always used with fullmatch: "$"
# would also match before a trailing newline.
_VOICE_ID = r"[A-Za-z0-9_-]{1,128}"
CREDIT_MAX = Decimal(10) ** 12
_API_KEY = r"[\x21-\x7e]{1,1024}"
# A header value (the `model` name) must not carry anything that could split headers.
_HEADER_VALUE = r"[\x21-\x7e]{1,64}"
# What a JSON answer may be (the API declares application/json on every JSON endpoint).
_JSON_TYPES = ("application/json",)
# The timestamped stream is Server-Sent Events (OpenAPI); its audio is base64 in JSON with
# the alignments beside it, so it may be several times the raw audio's size.
_SSE_TYPES = ("text/event-stream",)
_SSE_SIZE_FACTOR = 4

type _Body = bytes | Callable[[], aiohttp.FormData] | None


def _parse[M: _Model](model: type[M], data: Any) -> M:
    """Build a model from JSON; a shape the models cannot use is the server's fault."""
    if not isinstance(data, Mapping):
        raise FishAudioInvalidResponseError(f"Unexpected answer shape: {type(data).__name__}")
    try:
        return model.from_dict(data)
    except (KeyError, TypeError, ValueError, OverflowError, RecursionError) as err:
        # OverflowError: 1e999 in an integer field; the text is ours, not the server's.
        raise FishAudioInvalidResponseError(
            f"Unexpected answer from the server: {type(err).__name__}"
        ) from None


def _decode_json(raw: bytes | str, what: str) -> Any:
    """Decode a JSON answer; anything undecodable is an unusable answer, never a raw error."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        # RecursionError: a deeply nested document.
        raise FishAudioInvalidResponseError(f"Invalid JSON in the answer to {what}") from None


def check_text(value: str, name: str) -> str:
    """Refuse text that cannot be sent: not a str, or not encodable as UTF-8.

    A lone surrogate (from a broken template or a pasted emoji half) would otherwise raise
    deep inside msgpack, FormData or urlencode, after other parts of the call began.

    Raises:
        TypeError: The value is not text.
        ValueError: The text cannot be sent.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be text")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError(f"{name} contains characters that are not valid Unicode") from None
    return value


def _bool(value: bool) -> str:
    # aiohttp refuses bool query values and the API expects lowercase words.
    return "true" if value else "false"


def _as_list(value: Sequence[str] | str | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def _check_texts(values: Sequence[str] | str | None, name: str) -> list[str]:
    return [check_text(value, name) for value in _as_list(values)]


def is_voice_id(value: object) -> bool:
    """Return whether ``value`` has the shape of a Fish Audio voice (model) id.

    The one check of the id's shape: the client refuses other ids before any request, and the
    integration's actions and schemas use it to refuse them early with a translated error.
    """
    return isinstance(value, str) and re.fullmatch(_VOICE_ID, value) is not None


def _check_voice_id(voice_id: str) -> str:
    if not is_voice_id(voice_id):
        raise ValueError("voice_id must be a Fish Audio model id")
    return voice_id


class HTTPClientBase:
    """What both clients (Fish Audio's API, a Fish Speech server) do alike with HTTP.

    The origin (a proxy's path prefix kept), the session (Home Assistant's shared one, or
    one of its own that it closes), the key kept out of ``repr``, the User-Agent, and the
    exception for a non-success answer.
    """

    def __init__(
        self,
        base_url: URL,
        api_key: str | None,
        session: aiohttp.ClientSession | None,
        user_agent: str | None,
    ) -> None:
        """Initialise the shared state; ``base_url`` has been checked by the client."""
        self._base_url = base_url
        self._api_key = api_key
        self._session = session
        self._close_session = session is None
        self._headers = {} if api_key is None else {"Authorization": f"Bearer {api_key}"}
        self._headers["User-Agent"] = (
            user_agent
            or f"fish-audio-suite/{__version__} (+home-assistant) aiohttp/{aiohttp.__version__}"
        )

    def __repr__(self) -> str:
        """Describe the client without its key."""
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @property
    def base_url(self) -> str:
        """The origin requests go to."""
        return str(self._base_url)

    async def close(self) -> None:
        """Close the session, only if the client created it."""
        if self._session is not None and self._close_session:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        """Use the client as an async context manager."""
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the client on leaving the context."""
        await self.close()

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._close_session = True
        return self._session

    def _url(self, path: str) -> URL:
        # A proxy or regional endpoint may serve the API under a path prefix: keep it.
        return self._base_url.with_path(self._base_url.path.rstrip("/") + path)

    async def _answer_error(self, response: aiohttp.ClientResponse) -> Exception:
        """Return the exception for a non-success answer (its body read capped)."""
        raw = await read_capped(response, ERROR_BODY_MAX_BYTES, truncate=True)
        return error_from_response(
            response.status,
            raw,
            retry_after=response.headers.get("Retry-After"),
            secret=self._api_key,
        )


class FishAudioClient(HTTPClientBase):
    """Client for the Fish Audio REST and live WebSocket API.

    Every request is bounded by `request_timeout` (the wait for a concurrency slot by
    `slot_timeout`), limited to a concurrency learned from the server's 429s and never
    above `max_concurrency` (a burst queues instead of failing; see _limiter.py), and
    retried with backoff only where the server cannot have accepted the work: 429/502/
    503/504 answers and connections that were never established. Nothing is retried once
    a success status was seen. Bodies are size-capped and streams have a total deadline
    (_bounds.py).
    """

    def __init__(
        self,
        api_key: str,
        *,
        session: aiohttp.ClientSession | None = None,
        base_url: str = DEFAULT_BASE_URL,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_retries: int = DEFAULT_MAX_RETRIES,
        user_agent: str | None = None,
        retry_backoff: float = RETRY_BACKOFF_BASE,
        retry_backoff_max: float = RETRY_BACKOFF_MAX,
        retry_after_max: float = RETRY_AFTER_MAX,
        live_heartbeat: float = LIVE_HEARTBEAT,
        live_text_timeout: float = LIVE_TEXT_TIMEOUT,
        live_text_max_chars: int = LIVE_TEXT_MAX_CHARS,
        slot_timeout: float | None = None,
        adaptive_concurrency: bool = True,
    ) -> None:
        """Initialise the client.

        Args:
            api_key: The Fish Audio API key.
            session: A shared aiohttp session (Home Assistant's); the client creates, and
                later closes, its own when None.
            base_url: The API origin; the WebSocket uses the same origin.
            request_timeout: Seconds allowed for a REST call, for the handshake and the
                headers of a stream, and for each read of a stream.
            max_concurrency: Requests and streams running at once; more wait their turn.
            max_retries: Retries after the first attempt (0 disables retrying).
            user_agent: Replaces the default User-Agent.
            retry_backoff: First backoff delay in seconds; doubled per retry, with jitter.
            retry_backoff_max: Cap of the backoff delay.
            retry_after_max: Cap applied to a server's Retry-After.
            live_heartbeat: Seconds between WebSocket pings on live streams.
            live_text_timeout: Longest wait for the next text chunk of a live stream.
            live_text_max_chars: The most text one live stream accepts.
            slot_timeout: Longest wait for a concurrency slot (default: request_timeout).
            adaptive_concurrency: Learn the account's real limit from 429s (_limiter.py).

        Raises:
            ValueError: An argument is out of range.
        """
        if not isinstance(api_key, str) or not re.fullmatch(_API_KEY, api_key):
            # It travels in a header: control or non-ASCII characters cannot be sent.
            raise ValueError("api_key must be a non-empty printable ASCII string")
        if request_timeout <= 0 or max_concurrency < 1 or max_retries < 0:
            raise ValueError("request_timeout, max_concurrency or max_retries out of range")
        if live_text_timeout <= 0 or live_text_max_chars < 1:
            raise ValueError("live_text_timeout or live_text_max_chars out of range")
        try:
            url = URL(check_text(base_url, "base_url").rstrip("/"))
        except (TypeError, ValueError) as err:
            raise ValueError(f"base_url is not a URL: {type(err).__name__}") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("base_url must be an http(s) URL")
        if url.user is not None or url.password is not None:
            # aiohttp would send them as Basic auth next to the key; a URL is also shown
            # in the UI and logs, where a password must not be.
            raise ValueError("base_url must not contain a user name or password")
        super().__init__(url, api_key, session, user_agent)
        self._api_key: str = api_key
        self._request_timeout = request_timeout
        self._max_retries = max_retries
        self._retry_backoff = retry_backoff
        self._retry_backoff_max = retry_backoff_max
        self._retry_after_max = retry_after_max
        self._live_heartbeat = live_heartbeat
        self._live_text_timeout = live_text_timeout
        self._live_text_max_chars = live_text_max_chars
        self._slot_timeout = request_timeout if slot_timeout is None else slot_timeout
        self._slots = SlotLimiter(max_concurrency, adaptive=adaptive_concurrency)

    @property
    def live_text_max_chars(self) -> int:
        """The most text one live stream accepts."""
        return self._live_text_max_chars

    @property
    def slots(self) -> SlotLimiter:
        """The concurrency slots (their learned limit, for diagnostics and tests)."""
        return self._slots

    # ---------------------------------------------------------------- plumbing

    def _retry_delay(self, err: FishAudioError, attempt: int) -> float | None:
        """Seconds to wait before retrying after `err`, or None when it must not be retried.

        Only errors that prove the server did not take the work are retried: 429/502/503/
        504 answers and connection errors marked retryable (the request never left). A
        success status, however broken its body, may have been billed. Timeouts are not
        retried either: the wait budget is spent, and retrying would turn a 30 s bound
        into minutes for a user waiting on a voice answer.
        """
        if attempt >= self._max_retries or isinstance(err, FishAudioTimeoutError):
            return None
        if isinstance(err, FishAudioResponseError):
            if err.status not in RETRY_STATUSES:
                return None
        elif not (isinstance(err, FishAudioConnectionError) and err.retryable):
            return None
        if isinstance(err, FishAudioRateLimitError) and err.retry_after is not None:
            return min(err.retry_after, self._retry_after_max)
        # Exponential backoff with "equal jitter": half fixed, half random, so clients that
        # failed together do not retry together.
        delay = min(self._retry_backoff * 2.0**attempt, self._retry_backoff_max)
        return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - not cryptographic

    def _connection_error(
        self, err: Exception, what: str, *, answered: bool = True, billed: bool = True
    ) -> FishAudioConnectionError:
        """Wrap a transport error; its text holds no headers (those errors are excluded).

        Args:
            err: The transport error.
            what: What the client was doing, for the message.
            answered: A status line had arrived: the server has the request.
            billed: The request costs money, so only proof that the server did not take
                it makes it retryable.

        The proofs: a connection never established (refused, DNS), or one the server
        closed without a word before any status (what a pooled keep-alive connection that
        the server dropped while idle gives; a server that accepted work answers a status
        first). Anything else, a reset mid-send or a broken body, may have been billed.
        """
        if isinstance(err, TimeoutError):
            return FishAudioTimeoutError(f"Timeout while {what}")
        retryable = isinstance(err, aiohttp.ClientConnectorError) or (
            not answered and (not billed or isinstance(err, aiohttp.ServerDisconnectedError))
        )
        return FishAudioConnectionError(
            f"Error while {what}: {type(err).__name__}: {sanitise(str(err), self._api_key)}",
            retryable=retryable,
        )

    @staticmethod
    def _protocol_error(what: str) -> FishAudioConnectionError:
        """Error for an answer that is not valid HTTP.

        aiohttp reports it as a ClientResponseError, whose repr prints the request headers,
        Authorization included: only this fixed text is kept, and it is never chained.
        """
        return FishAudioConnectionError(f"Invalid HTTP answer while {what}")

    def _status_error(self, status: int, headers: Mapping[str, str] | None) -> Exception:
        """Error for a refused WebSocket handshake, built from its status only.

        aiohttp's WSServerHandshakeError prints the request headers, Authorization
        included, so nothing else of it is kept (never chained). Its body is not available.
        """
        if status == 101:
            return FishAudioWebSocketError("Invalid WebSocket handshake answer")
        if status < 400:
            # A page instead of an upgrade (a captive portal, a proxy without WebSocket
            # support): not a refusal of the request, an answer the client cannot use.
            return FishAudioInvalidResponseError(
                f"The server answered the live TTS handshake with HTTP {status}"
            )
        retry_after = headers.get("Retry-After") if headers else None
        return error_from_response(status, b"", retry_after=retry_after, secret=self._api_key)

    async def _with_retries[T](
        self, operation: Callable[[], Awaitable[T]], *, idempotent: bool, what: str
    ) -> T:
        attempt = 0
        while True:
            try:
                # A retry queues first: it already waited its turn once.
                async with self._slots.slot(max_wait=self._slot_timeout, first=attempt > 0):
                    return await self._metered(operation)
            except FishAudioError as err:
                delay = self._retry_delay(err, attempt) if idempotent else None
                if delay is None:
                    raise
                _LOGGER.debug(
                    "Retrying %s in %.2f s after %s (retry %d of %d)",
                    what,
                    delay,
                    type(err).__name__,
                    attempt + 1,
                    self._max_retries,
                )
            attempt += 1
            await asyncio.sleep(delay)

    async def _metered[T](self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run `operation` in a held slot, teaching the limiter from its outcome."""
        try:
            result = await operation()
        except FishAudioRateLimitError:
            self._slots.on_rate_limited()
            raise
        self._slots.on_success()
        return result

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        body: _Body = None,
        content_type: str | None = None,
        idempotent: bool = True,
        billed: bool = False,
        allow_empty: bool = False,
        extra_headers: Mapping[str, str] | None = None,
        max_bytes: int = JSON_MAX_BYTES,
    ) -> Any:
        """Send one REST request (with retries) and return its decoded JSON answer.

        Args:
            method: The HTTP method.
            path: The absolute API path.
            params: Query parameters; repeated keys are allowed.
            body: Raw bytes, a FormData factory (rebuilt per attempt: aiohttp consumes
                FormData), or None.
            content_type: Content-Type for a bytes body.
            idempotent: Whether the request may be retried at all.
            billed: The server charges for the request: a connection error is retried
                only when the connection was never established.
            allow_empty: Return None for an empty body instead of failing.
            extra_headers: Headers added to the client's own (the `model` header).
            max_bytes: The largest answer accepted.

        Returns:
            The decoded JSON (None for an empty body when allowed).
        """
        what = f"{method} {path}"

        async def once() -> bytes:
            return await self._request_once(
                method,
                path,
                params=params,
                body=body,
                content_type=content_type,
                extra_headers=extra_headers,
                billed=billed,
                max_bytes=max_bytes,
            )

        raw = await self._with_retries(once, idempotent=idempotent, what=what)
        if not raw.strip():
            if allow_empty:
                return None
            raise FishAudioInvalidResponseError(f"Empty answer to {what}")
        return _decode_json(raw, what)

    async def _request_once(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | None,
        body: _Body,
        content_type: str | None,
        extra_headers: Mapping[str, str] | None = None,
        billed: bool = False,
        max_bytes: int = JSON_MAX_BYTES,
    ) -> bytes:
        headers = {**self._headers, **(extra_headers or {})}
        data: bytes | aiohttp.FormData | None
        if callable(body):
            data = body()
        else:
            data = body
            if content_type is not None:
                headers["Content-Type"] = content_type
        session = self._get_session()
        status_error: Exception | None = None
        status: int | None = None
        what = f"calling {method} {path}"
        try:
            async with (
                asyncio.timeout(self._request_timeout),
                session.request(
                    method,
                    self._url(path),
                    params=params,
                    data=data,
                    headers=headers,
                    raise_for_status=False,
                    # The API never redirects; not following keeps the key on its origin.
                    allow_redirects=False,
                ) as response,
            ):
                status = response.status
                retry_after = response.headers.get("Retry-After")
                if not 200 <= status < 300:
                    raw = await read_capped(response, ERROR_BODY_MAX_BYTES, truncate=True)
                    if not response.content.at_eof():
                        response.close()  # the rest of a long error body is not read
                    status_error = error_from_response(
                        status, raw, retry_after=retry_after, secret=self._api_key
                    )
                else:
                    raw = await self._read_json_body(response, max_bytes)
        except aiohttp.ClientResponseError:
            # With raise_for_status off this means an answer that is not valid HTTP.
            status_error = self._protocol_error(what)
        except (TimeoutError, aiohttp.ClientError) as err:
            raise self._connection_error(
                err, what, answered=status is not None, billed=billed
            ) from None
        if status_error is not None:
            raise status_error
        _LOGGER.debug("%s %s -> %s (%d bytes)", method, path, status, len(raw))
        return raw

    @staticmethod
    async def _read_json_body(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
        """Read a success body: JSON (or empty), at most `max_bytes`."""
        try:
            raw = await read_capped(response, max_bytes)
            if raw.strip():
                check_content_type(response, _JSON_TYPES)
        except FishAudioInvalidResponseError:
            # Drop the connection: the rest of an oversize body must not be read.
            response.close()
            raise
        return raw

    # ------------------------------------------------------------------ wallet

    async def get_credit(self, *, check_free_credit: bool | None = None) -> Credit:
        """Return the account's API credit (`GET /wallet/self/api-credit`).

        Args:
            check_free_credit: Ask the server to fill in `has_free_credit`.

        Returns:
            The credit; its `user_id` identifies the account.
        """
        params = (
            None if check_free_credit is None else [("check_free_credit", _bool(check_free_credit))]
        )
        data = await self._request("GET", PATH_CREDIT, params=params)
        credit = _parse(Credit, data)
        # A balance of 50 million digits (or NaN) would flow into sensors and the repair
        # issue's text: no real account holds a trillion dollars. copy_abs, not abs(): abs()
        # rounds to the context's precision, which overflows for an exponent past its Emax.
        if not credit.credit.is_finite() or credit.credit.copy_abs() >= CREDIT_MAX:
            raise FishAudioInvalidResponseError(
                "The credit in the answer is not a plausible amount"
            )
        return credit

    async def get_package(self) -> Package | None:
        """Return the account's platform package (`GET /wallet/self/package`).

        Returns:
            The package, or None when the account has none (404, or an empty/null body).
        """
        try:
            data = await self._request("GET", PATH_PACKAGE, allow_empty=True)
        except FishAudioNotFoundError:
            return None
        if data is None:
            return None
        return _parse(Package, data)

    # ------------------------------------------------------------------ voices

    async def list_voices(
        self,
        *,
        page_size: int = 10,
        page_number: int = 1,
        title: str | None = None,
        tags: Sequence[str] | str | None = None,
        self_only: bool = False,
        author_id: str | None = None,
        language: Sequence[str] | str | None = None,
        title_language: Sequence[str] | str | None = None,
        sort_by: str = "task_count",
    ) -> VoicePage:
        """List voice models (`GET /model`), in the SDK's query order.

        Args:
            page_size: Items per page, 1..100.
            page_number: Page to return, from 1.
            title: Case-insensitive title filter.
            tags: Tag filter(s); all must match. Sent as repeated `tag=`.
            self_only: Only the account's own voices.
            author_id: Only this author's voices (ignored by the server with self_only).
            language: Language filter(s), repeated `language=`.
            title_language: Title language filter(s), repeated `title_language=`.
            sort_by: "score", "task_count" or "created_at".

        Returns:
            One page of voices.
        """
        if not 1 <= page_size <= PAGE_SIZE_MAX or page_number < 1:
            raise ValueError(f"page_size must be 1..{PAGE_SIZE_MAX} and page_number >= 1")
        if sort_by not in SORT_BY:
            raise ValueError(f"sort_by must be one of {SORT_BY}")
        tags, language = _check_texts(tags, "tags"), _check_texts(language, "language")
        title_language = _check_texts(title_language, "title_language")
        if title is not None:
            check_text(title, "title")
        if author_id is not None:
            check_text(author_id, "author_id")
        params: list[tuple[str, str]] = [
            ("page_size", str(page_size)),
            ("page_number", str(page_number)),
        ]
        if title is not None:
            params.append(("title", title))
        params.extend(("tag", tag) for tag in _as_list(tags))
        params.append(("self", _bool(self_only)))
        if author_id is not None:
            params.append(("author_id", author_id))
        params.extend(("language", item) for item in _as_list(language))
        params.extend(("title_language", item) for item in _as_list(title_language))
        params.append(("sort_by", sort_by))
        data = await self._request("GET", PATH_MODEL, params=params)
        page = _parse(VoicePage, data)
        return replace(page, items=tuple(self._named(voice) for voice in page.items))

    async def get_voice(self, voice_id: str) -> Voice:
        """Return one voice model (`GET /model/{id}`).

        Args:
            voice_id: The model id.

        Returns:
            The voice.
        """
        path = f"{PATH_MODEL}/{_check_voice_id(voice_id)}"
        return self._named(_parse(Voice, await self._request("GET", path)))

    async def create_voice(
        self,
        *,
        title: str,
        voices: Sequence[bytes],
        texts: Sequence[str] | None = None,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        cover_image: bytes | None = None,
        visibility: str = "private",
        enhance_audio_quality: bool = True,
    ) -> Voice:
        """Clone a voice (`POST /model`, multipart in the SDK's part order).

        Never retried: a retry after a lost answer could create the voice twice.

        Args:
            title: The voice's name.
            voices: 1..20 audio samples.
            texts: Transcripts of the samples (the server runs ASR when absent).
            description: Free text.
            tags: Tags.
            cover_image: Image bytes.
            visibility: "private" (default), "unlist" or "public".
            enhance_audio_quality: Let the server clean up the samples.

        Returns:
            The created voice.
        """
        if not title:
            raise ValueError("title must not be empty")
        check_text(title, "title")
        texts, tags = _check_texts(texts, "texts"), _check_texts(tags, "tags")
        if description is not None:
            check_text(description, "description")
        if not 1 <= len(voices) <= CREATE_MAX_VOICES or not all(voices):
            raise ValueError(f"voices must hold 1..{CREATE_MAX_VOICES} non-empty samples")
        if texts is not None and len(texts) > CREATE_MAX_TEXTS:
            raise ValueError(f"at most {CREATE_MAX_TEXTS} texts are accepted")
        if visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {VISIBILITIES}")

        def form() -> aiohttp.FormData:
            data = aiohttp.FormData(quote_fields=False)
            data.add_field("title", title)
            if description is not None:
                data.add_field("description", description)
            data.add_field("visibility", visibility)
            data.add_field("type", "tts")
            data.add_field("train_mode", "fast")
            for text in texts or ():
                data.add_field("texts", text)
            for tag in tags or ():
                data.add_field("tags", tag)
            data.add_field("enhance_audio_quality", _bool(enhance_audio_quality))
            for sample in voices:
                data.add_field(
                    "voices", sample, filename="upload", content_type="application/octet-stream"
                )
            if cover_image is not None:
                data.add_field(
                    "cover_image",
                    cover_image,
                    filename="upload",
                    content_type="application/octet-stream",
                )
            return data

        data = await self._request("POST", PATH_MODEL, body=form, idempotent=False)
        return self._named(_parse(Voice, data))

    def _named(self, voice: Voice) -> Voice:
        """Return `voice` with the names it shows sanitised (_errors.sanitise).

        Titles, author names and language codes become picker labels, subentry, device
        and entity names, Assist's voice list and log lines: one short line each, without
        the key, control characters or lone surrogates.
        """
        key = self._api_key
        author = voice.author
        return replace(
            voice,
            title=sanitise(voice.title, key, limit=NAME_MAX),
            languages=tuple(sanitise(code, key, limit=16) for code in voice.languages),
            author=author
            and replace(author, nickname=sanitise(author.nickname, key, limit=NAME_MAX)),
        )

    async def update_voice(
        self,
        voice_id: str,
        *,
        title: str | None = None,
        description: str | None = None,
        visibility: str | None = None,
        tags: Sequence[str] | None = None,
        cover_image: bytes | None = None,
    ) -> None:
        """Change a voice (`PATCH /model/{id}`); only the given fields are sent.

        Sent url-encoded, or multipart when a cover image is given.

        Args:
            voice_id: The model id.
            title: New name.
            description: New description.
            visibility: "private", "unlist" or "public".
            tags: New tags (replacing the old ones).
            cover_image: New cover image bytes.
        """
        path = f"{PATH_MODEL}/{_check_voice_id(voice_id)}"
        if visibility is not None and visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {VISIBILITIES}")
        fields: list[tuple[str, str]] = []
        if title is not None:
            fields.append(("title", check_text(title, "title")))
        if description is not None:
            fields.append(("description", check_text(description, "description")))
        if visibility is not None:
            fields.append(("visibility", visibility))
        fields.extend(("tags", tag) for tag in _check_texts(tags, "tags"))
        if not fields and cover_image is None:
            raise ValueError("nothing to update")
        if cover_image is None:
            await self._request(
                "PATCH",
                path,
                body=urlencode(fields).encode(),
                content_type=CONTENT_TYPE_FORM,
                allow_empty=True,
            )
            return
        image = cover_image

        def form() -> aiohttp.FormData:
            data = aiohttp.FormData(quote_fields=False)
            for name, value in fields:
                data.add_field(name, value)
            data.add_field(
                "cover_image", image, filename="upload", content_type="application/octet-stream"
            )
            return data

        await self._request("PATCH", path, body=form, allow_empty=True)

    async def delete_voice(self, voice_id: str) -> None:
        """Delete a voice (`DELETE /model/{id}`).

        Args:
            voice_id: The model id.
        """
        path = f"{PATH_MODEL}/{_check_voice_id(voice_id)}"
        await self._request("DELETE", path, allow_empty=True)

    async def design_voice(
        self,
        instruction: str,
        *,
        reference_text: str | None = None,
        language: str | None = None,
        count: int | None = None,
        speed: float | None = None,
        seed: int | None = None,
    ) -> tuple[VoiceDesignCandidate, ...]:
        """Design voices from a description (`POST /v1/voice-design`, JSON, OpenAPI spec).

        Sent with the header `model: voice-design-1`; only the given fields are sent. Never
        retried: each call generates (and may bill) new candidates.

        Args:
            instruction: What the voice sounds like, 1..2000 characters.
            reference_text: What the candidates say, at most 150 characters.
            language: BCP-47 language hint ("en", "zh" ...).
            count: Candidates to generate, 1..4 (the API's `n`; its default is 2).
            speed: Speaking speed of the candidates, above 0 and at most 3.
            seed: Makes the generation repeatable.

        Returns:
            The candidates, each with its audio decoded.
        """
        if not isinstance(instruction, str) or not instruction.strip():
            raise ValueError("instruction must not be empty")
        if len(instruction) > VOICE_DESIGN_INSTRUCTION_MAX:
            raise ValueError(f"instruction must be at most {VOICE_DESIGN_INSTRUCTION_MAX} chars")
        if reference_text is not None and len(reference_text) > VOICE_DESIGN_REFERENCE_TEXT_MAX:
            raise ValueError(
                f"reference_text must be at most {VOICE_DESIGN_REFERENCE_TEXT_MAX} characters"
            )
        if count is not None and (
            isinstance(count, bool) or not 1 <= count <= VOICE_DESIGN_COUNT_MAX
        ):
            raise ValueError(f"count must be between 1 and {VOICE_DESIGN_COUNT_MAX}")
        if speed is not None and not 0 < speed <= VOICE_DESIGN_SPEED_MAX:
            raise ValueError(f"speed must be above 0 and at most {VOICE_DESIGN_SPEED_MAX}")
        payload: dict[str, Any] = {"instruction": instruction}
        optional = {
            "reference_text": reference_text,
            "language": language,
            "n": count,
            "speed": None if speed is None else float(speed),
            "seed": seed,
        }
        payload.update((key, value) for key, value in optional.items() if value is not None)
        data = await self._request(
            "POST",
            PATH_VOICE_DESIGN,
            body=json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(),
            content_type=CONTENT_TYPE_JSON,
            idempotent=False,
            extra_headers={"model": VOICE_DESIGN_MODEL},
            # Up to four candidates, each with its audio in base64.
            max_bytes=4 * JSON_MAX_BYTES,
        )
        candidates = data.get("candidates") if isinstance(data, Mapping) else None
        if not isinstance(candidates, list):
            raise FishAudioInvalidResponseError("Unexpected answer from the server: no candidates")
        return tuple(_parse(VoiceDesignCandidate, item) for item in candidates)

    # --------------------------------------------------------------------- ASR

    async def asr(
        self, audio: bytes, *, language: str | None = None, include_timestamps: bool = True
    ) -> ASRResult:
        """Transcribe audio (`POST /v1/asr`, msgpack `{audio, ignore_timestamps[, language]}`).

        Args:
            audio: The audio file's bytes (wav, mp3, ogg ...), at most 20 MB.
            language: Language hint ("en", "zh" ...); the server detects it when None.
            include_timestamps: Ask for timed segments.

        Returns:
            The transcript.
        """
        if not audio:
            raise ValueError("audio must not be empty")
        if len(audio) > ASR_MAX_BYTES:
            raise ValueError(f"audio must be at most {ASR_MAX_BYTES} bytes")
        payload: dict[str, Any] = {"audio": audio, "ignore_timestamps": not include_timestamps}
        if language is not None:
            payload["language"] = check_text(language, "language")
        data = await self._request(
            "POST",
            PATH_ASR,
            body=ormsgpack.packb(payload),
            content_type=CONTENT_TYPE_MSGPACK,
            billed=True,
        )
        return _parse(ASRResult, data)

    # --------------------------------------------------------------------- TTS

    def tts(
        self, text: str, options: TTSOptions, *, chunk_size: int = TTS_READ_SIZE
    ) -> AsyncGenerator[bytes]:
        """Synthesise `text` over HTTP (`POST /v1/tts`), yielding audio as it arrives.

        Errors are detected before the first byte is yielded. 429/502/503/504 answers and
        connections that were never established are retried; nothing is retried once the
        server answered with a success status (it may have billed the text). The answer
        must be audio (not text/html), at most what the text can legitimately give, and
        arrive within a total deadline at a minimum throughput (_bounds.py); a 200 without
        audio raises FishAudioInvalidResponseError: callers would otherwise play silence.
        Wrap the generator in `contextlib.aclosing()`; closing it early drops the HTTP
        connection at once.

        Args:
            text: The text to speak.
            options: The TTS settings.
            chunk_size: Largest piece of audio yielded at once.

        Returns:
            An async iterator of audio bytes in `options.format`.
        """
        if not isinstance(text, str) or not text.strip():
            raise ValueError("text must not be empty")
        check_text(text, "text")
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        self._check_model(options)
        return self._tts(text, options, chunk_size)

    @staticmethod
    def _check_model(options: TTSOptions) -> None:
        # The model travels in a header: a newline there would split the request.
        if not re.fullmatch(_HEADER_VALUE, options.model):
            raise ValueError("model must be a model name")
        if options.reference_id is not None:
            _check_voice_id(options.reference_id)

    async def _tts(self, text: str, options: TTSOptions, chunk_size: int) -> AsyncGenerator[bytes]:
        async with contextlib.aclosing(
            self._post_stream(PATH_TTS, text, options, chunk_size)
        ) as stream:
            async for chunk in stream:
                yield chunk

    async def _post_stream(
        self,
        path: str,
        text: str,
        options: TTSOptions,
        chunk_size: int,
        *,
        content_types: tuple[str, ...] | None = None,
        size_factor: int = 1,
    ) -> AsyncGenerator[bytes]:
        """POST a TTS request to `path` and yield the raw answer as it arrives.

        Retried only before a success status arrived; an answer without a byte is an
        error. The answer must be of one of `content_types` (None: audio, any type that is
        not certainly something else, _bounds.NOT_AUDIO_TYPES) and stays within the audio
        budget of the text (_bounds.py), times `size_factor` for an encoded stream.
        """
        payload = ormsgpack.packb(options.to_request(text, include_none=False))
        headers = {
            **self._headers,
            "model": options.model,
            "Content-Type": CONTENT_TYPE_MSGPACK,
        }
        attempt = 0
        while True:
            answered = False
            try:
                async with self._slots.slot(max_wait=self._slot_timeout, first=attempt > 0):
                    response = await self._metered(
                        lambda: self._open_tts(payload, headers, path, content_types)
                    )
                    answered = True
                    budget = stream_budget(
                        len(text), options, self._request_timeout, size_factor=size_factor
                    )
                    try:
                        while chunk := await self._read_chunk(response, chunk_size, budget):
                            yield chunk
                    finally:
                        # Drops the connection when the consumer stopped early.
                        response.close()
                    if not budget.received:
                        raise FishAudioInvalidResponseError("The server returned no audio")
                    return
            except FishAudioError as err:
                delay = None if answered else self._retry_delay(err, attempt)
                if delay is None:
                    raise
                _LOGGER.debug("Retrying TTS in %.2f s after %s", delay, type(err).__name__)
            attempt += 1
            await asyncio.sleep(delay)

    async def _open_tts(
        self,
        payload: bytes,
        headers: Mapping[str, str],
        path: str = PATH_TTS,
        content_types: tuple[str, ...] | None = None,
    ) -> aiohttp.ClientResponse:
        """POST the TTS request and return the response once its status is known good."""
        session = self._get_session()
        response: aiohttp.ClientResponse | None = None
        status_error: Exception | None = None
        try:
            async with asyncio.timeout(self._request_timeout):
                response = await session.post(
                    self._url(path),
                    data=payload,
                    headers=headers,
                    raise_for_status=False,
                    allow_redirects=False,
                )
                if not 200 <= response.status < 300:
                    status_error = await self._answer_error(response)
                elif content_types is None:
                    check_content_type(response, denied=NOT_AUDIO_TYPES)
                else:
                    check_content_type(response, content_types)
        except aiohttp.ClientResponseError:
            status_error = self._protocol_error("requesting TTS")
        except (TimeoutError, aiohttp.ClientError) as err:
            if response is not None:
                response.close()
            # TTS is billed: retried only when the server cannot have taken it.
            raise self._connection_error(
                err, "requesting TTS", answered=response is not None
            ) from None
        except BaseException:
            if response is not None:
                response.close()
            raise
        if status_error is not None:
            if response is not None:
                response.close()
            raise status_error
        assert response is not None  # noqa: S101 - set whenever no error was recorded
        return response

    async def _read_chunk(
        self, response: aiohttp.ClientResponse, chunk_size: int, budget: AudioBudget
    ) -> bytes:
        """Read the next piece of a stream, within its budget of bytes and time."""
        limit = min(self._request_timeout, budget.wait_left())
        budget.begin_wait()
        try:
            async with asyncio.timeout(limit):
                chunk = await response.content.read(chunk_size)
        except TimeoutError:
            if limit < self._request_timeout:
                raise budget.timeout_error() from None
            raise self._connection_error(TimeoutError(), "reading TTS audio") from None
        except aiohttp.ClientError as err:
            raise self._connection_error(err, "reading TTS audio") from None
        budget.end_wait(len(chunk))
        return chunk

    def tts_with_timestamps(self, text: str, options: TTSOptions) -> AsyncGenerator[TimestampEvent]:
        """Synthesise `text` with word timings (`POST /v1/tts/stream/with-timestamp`).

        The answer is a Server-Sent Events stream (OpenAPI `TTSTimestampStreamEvent`): each
        message carries one base64 audio chunk and the latest cumulative alignment of its
        content chunk. Events are yielded as they arrive; feed them to a `Timeline` for the
        final segments, and join their `audio` for the file. Retried like `tts()`, only before
        the first byte. Each message is capped at SSE_EVENT_MAX bytes. Wrap the generator in
        `contextlib.aclosing()`.

        Args:
            text: The text to speak.
            options: The TTS settings.

        Returns:
            An async iterator of the stream's events.
        """
        if not text or not text.strip():
            raise ValueError("text must not be empty")
        return self._tts_with_timestamps(text, options)

    async def _tts_with_timestamps(
        self, text: str, options: TTSOptions
    ) -> AsyncGenerator[TimestampEvent]:
        events = 0
        async with contextlib.aclosing(
            _sse_messages(
                self._post_stream(
                    PATH_TTS_TIMESTAMPS,
                    text,
                    options,
                    TTS_READ_SIZE,
                    content_types=_SSE_TYPES,
                    size_factor=_SSE_SIZE_FACTOR,
                )
            )
        ) as messages:
            async for message in messages:
                event = _parse(TimestampEvent, _decode_json(message, "the timestamp stream"))
                events += 1
                yield event
        if not events:
            raise FishAudioInvalidResponseError("The server returned no audio")

    def tts_live(
        self,
        text: AsyncIterable[str],
        options: TTSOptions,
        *,
        flush: FlushPolicy | None = None,
    ) -> AsyncGenerator[bytes]:
        """Synthesise streamed text over the `/v1/tts/live` WebSocket.

        Text is forwarded as it arrives and flushed per `flush` (default FlushPolicy());
        audio is yielded as the server sends it. The handshake is retried like an
        idempotent request (no text has been read yet then); the stream itself never is.
        Wrap the generator in `contextlib.aclosing()`; closing it early closes the socket.

        Args:
            text: The text chunks, for example an LLM's reply as it is generated.
            options: The TTS settings.
            flush: When to ask the server to synthesise the buffered text.

        Returns:
            An async iterator of audio bytes in `options.format`.
        """
        self._check_model(options)
        return self._tts_live(text, options, flush or FlushPolicy())

    async def _tts_live(
        self, text: AsyncIterable[str], options: TTSOptions, flush: FlushPolicy
    ) -> AsyncGenerator[bytes]:
        # A live stream takes a slot from the live share only (_limiter.py): the rest stay
        # free for calls that do not wait on an LLM.
        await _import_in_executor(f"{__package__}.live")
        from .live import stream_live, text_bounds  # noqa: PLC0415 - loaded just above

        async with self._slots.slot(max_wait=self._slot_timeout, live=True):
            ws = await self._ws_connect_with_retries(options)
            async with contextlib.aclosing(
                stream_live(
                    ws,
                    text,
                    options,
                    flush,
                    receive_timeout=self._request_timeout,
                    bounds=text_bounds(
                        self._live_text_max_chars,
                        self._live_text_timeout,
                        options,
                        self._request_timeout,
                    ),
                    secret=self._api_key,
                    heartbeat=self._live_heartbeat,
                )
            ) as audio:
                async for chunk in audio:
                    yield chunk

    async def _ws_connect_with_retries(
        self, options: TTSOptions
    ) -> aiohttp.ClientWebSocketResponse:
        # The slot is already held by the stream, so retry here without queueing again.
        attempt = 0
        while True:
            try:
                return await self._metered(lambda: self._ws_connect(options))
            except FishAudioError as err:
                delay = self._retry_delay(err, attempt)
                if delay is None:
                    raise
                _LOGGER.debug("Retrying live TTS in %.2f s after %s", delay, type(err).__name__)
            attempt += 1
            await asyncio.sleep(delay)

    async def _ws_connect(self, options: TTSOptions) -> aiohttp.ClientWebSocketResponse:
        session = self._get_session()
        status_error: Exception | None = None
        try:
            async with asyncio.timeout(self._request_timeout):
                return await session.ws_connect(
                    self._url(PATH_TTS_LIVE),
                    headers={**self._headers, "model": options.model},
                    # The stream keeps the connection alive itself (stream_live): aiohttp's
                    # heartbeat can outlive a closed socket on aiohttp 3.14.
                    heartbeat=None,
                    autoping=False,
                    max_msg_size=LIVE_MAX_MSG_SIZE,
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=LIVE_CLOSE_TIMEOUT),
                )
        except aiohttp.WSServerHandshakeError as err:
            # A refused handshake maps like the same HTTP status.
            status_error = self._status_error(err.status, err.headers)
        except aiohttp.ClientResponseError:
            status_error = self._protocol_error("opening the live TTS stream")
        except (TimeoutError, aiohttp.ClientError) as err:
            # No text has been sent before the handshake completes: nothing can be billed.
            raise self._connection_error(
                err, "opening the live TTS stream", answered=False, billed=False
            ) from None
        # Raised outside the except block so the aiohttp error is not even __context__.
        raise status_error


async def _import_in_executor(name: str) -> None:
    """Import module `name` in the executor, once: reading its file would block the loop.

    What only one kind of call needs (live.py: the live WebSocket stream) is loaded when the
    first such call is made, not with the client (about 1.3 ms of import, benchmarks/README.md).
    """
    if name not in sys.modules:
        await asyncio.get_running_loop().run_in_executor(None, importlib.import_module, name)


async def _sse_messages(raw: AsyncIterable[bytes]) -> AsyncGenerator[str]:
    """Yield the `data` of each Server-Sent Events message in `raw` (WHATWG SSE framing).

    Lines end in LF or CRLF; `data:` lines of one message are joined with newlines; a blank
    line ends a message; comments (`:`) and other fields (`event`, `id`, `retry`) are
    skipped; a message the stream ends in the middle of is dropped, as the standard says. A
    message larger than SSE_EVENT_MAX is refused rather than buffered.
    """
    buffer = bytearray()
    data: list[bytes] = []
    size = 0
    async for chunk in raw:
        buffer += chunk
        while (end := buffer.find(b"\n")) >= 0:
            line = bytes(buffer[:end]).removesuffix(b"\r")
            del buffer[: end + 1]
            if not line:
                if data:
                    yield b"\n".join(data).decode("utf-8", errors="replace")
                data, size = [], 0
                continue
            field, _, value = line.partition(b":")
            if field == b"data":
                value = value.removeprefix(b" ")
                size += len(value)
                data.append(value)
        if size + len(buffer) > SSE_EVENT_MAX:
            raise FishAudioInvalidResponseError("A timestamp stream message is too large")
