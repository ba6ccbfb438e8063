"""The one exception tree of the Fish Audio client.

No message ever contains the API key or request headers: aiohttp's own response errors
carry the Authorization header in their text, so they are never chained or re-raised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


class FishAudioError(Exception):
    """Base class of every error raised by the Fish Audio client."""


class FishAudioConnectionError(FishAudioError):
    """The server could not be reached, or the connection broke mid-answer.

    Attributes:
        retryable: Whether the request can safely be sent again: only when it cannot
            have reached the server (the connection was never established).
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        """Initialise the error.

        Args:
            message: What went wrong (never server headers).
            retryable: True when the request cannot have been sent.
        """
        super().__init__(message)
        self.retryable = retryable


class FishAudioTimeoutError(FishAudioConnectionError):
    """A bounded wait (connect, read, WebSocket receive) expired."""


class FishAudioResponseError(FishAudioError):
    """The server answered with a non-success HTTP status (or rejected a WebSocket).

    Attributes:
        status: The HTTP status code.
        message: The server's error text, sanitised and truncated.
        details: Validation items (`{"loc", "msg", "type", ...}`) of a 422 answer.
        reason: The optional `reason` field of the server's JSON error body.
        retry_after: Seconds the server asked to wait (Retry-After; a 429 gives it), or None.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        details: Sequence[Mapping[str, Any]] = (),
        reason: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """Initialise the error.

        Args:
            status: The HTTP status code.
            message: The server's error text (already sanitised by the caller).
            details: Validation items of a 422 answer.
            reason: The `reason` field of the JSON error body, if any.
            retry_after: Seconds from the Retry-After header, or None.
        """
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        self.details: list[dict[str, Any]] = [dict(item) for item in details]
        self.reason = reason
        self.retry_after = retry_after


class FishAudioAuthenticationError(FishAudioResponseError):
    """401: the API key is missing, wrong or revoked."""


class FishAudioInsufficientCreditError(FishAudioResponseError):
    """402: the account has no API credit left for this model."""


class FishAudioPermissionError(FishAudioResponseError):
    """403: the key may not do this (for example, edit another account's voice)."""


class FishAudioNotFoundError(FishAudioResponseError):
    """404: the voice (or other resource) does not exist."""


class FishAudioRateLimitError(FishAudioResponseError):
    """429: too many (concurrent) requests; ``retry_after`` says how long to wait, if known."""


class FishAudioRequestError(FishAudioResponseError):
    """400, 409, 413, 422 and other 4xx: the request itself was refused."""


class FishAudioServerError(FishAudioResponseError):
    """5xx, or a success status whose body is unusable (see the client docs)."""


class FishAudioInvalidResponseError(FishAudioError):
    """A success answer the client cannot use: not JSON, the wrong shape or type, too big.

    The server accepted (and may have billed) the request, so it is never retried.
    """


class FishAudioTextStreamError(FishAudioError):
    """The text of a live stream broke a bound: too long, or it stopped arriving.

    The text comes from the caller (an LLM writing a reply), not from the server; the stream
    is ended so that it cannot hold its connection and concurrency slot for ever.
    """


class FishAudioWebSocketError(FishAudioError):
    """A live TTS stream ended badly after the WebSocket was opened.

    Attributes:
        server_message: Text the server gave with the failure (finish `message`, or the
            `error` of an in-band error event), or None.
        close_code: The WebSocket close code, when the stream ended by a close.
    """

    def __init__(
        self,
        message: str,
        *,
        server_message: str | None = None,
        close_code: int | None = None,
    ) -> None:
        """Initialise the error.

        Args:
            message: What went wrong, in the client's words.
            server_message: Text the server gave with the failure, if any.
            close_code: The WebSocket close code, if the stream ended by a close.
        """
        super().__init__(f"{message}: {server_message}" if server_message else message)
        self.server_message = server_message
        self.close_code = close_code


class FishSpeechNotServerError(FishAudioResponseError):
    """The address answers, but not as a Fish Speech server (no ``/v1/health`` of its kind)."""
