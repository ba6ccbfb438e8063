"""Turn a failed HTTP answer into the client's exception: the only place that does so.

The server answers errors in several shapes (OpenAPI error schemas): JSON `{status, message,
reason}`, JSON `{"detail": ...}`, a top-level JSON array of validation items (422), or plain
text (an observed 401). All of them are accepted here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
import json
import math
import re
from typing import Any

from .const import ERROR_MESSAGE_MAX
from .exceptions import (
    FishAudioAuthenticationError,
    FishAudioInsufficientCreditError,
    FishAudioNotFoundError,
    FishAudioPermissionError,
    FishAudioRateLimitError,
    FishAudioRequestError,
    FishAudioResponseError,
    FishAudioServerError,
)

REDACTED = "**REDACTED**"

# Pattern strings: `re` compiles them on first use and caches them (compiling both at
# import cost 0.17 ms, benchmarks/README.md).
# Control characters would let a hostile body forge extra log lines; C1 controls, Unicode's
# line and paragraph separators and the bidirectional overrides (which reorder what a name
# appears to say) are dropped with them.
_CONTROL = r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+"
# Bearer tokens in server text are hidden even when they are not our key (a proxy might
# echo the request).
_BEARER = r"(?i)bearer\s+\S+"

_STATUS_CLASSES: dict[int, type[FishAudioResponseError]] = {
    401: FishAudioAuthenticationError,
    402: FishAudioInsufficientCreditError,
    403: FishAudioPermissionError,
    404: FishAudioNotFoundError,
    429: FishAudioRateLimitError,
}


def sanitise(text: str, secret: str | None = None, *, limit: int = ERROR_MESSAGE_MAX) -> str:
    """Make server text safe for a log line, an exception message or the UI.

    The one function for every server-provided text: error bodies, WebSocket reasons, and
    names (voice titles, author names) shown in the UI, the Assist voice list and logs.

    Args:
        text: The raw text.
        secret: The API key, removed wherever it appears.
        limit: The most characters kept (NAME_MAX for names).

    Returns:
        One line, without the secret or bearer tokens, control characters or lone
        surrogates (which Home Assistant could not store or send as JSON), cut to `limit`.
    """
    # A lone surrogate (JSON's "\ud800" decodes to one) cannot be encoded as UTF-8.
    text = text.encode("utf-8", "replace").decode("utf-8")
    if secret:
        text = text.replace(secret, REDACTED)
    text = re.sub(_BEARER, f"Bearer {REDACTED}", text)
    text = re.sub(_CONTROL, " ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parse a Retry-After header value.

    Args:
        value: The header value: delta-seconds (a float is tolerated) or an HTTP date.
        now: The current time, for tests; defaults to the real clock.

    Returns:
        Seconds to wait (never negative), or None when absent or unparseable.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 850/asctime forms parse as naive: they mean GMT.
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def _format_loc(loc: Any) -> str:
    if isinstance(loc, list | tuple):
        return ".".join(str(part) for part in loc)
    return str(loc) if loc is not None else ""


def _validation_items(items: list[Any]) -> tuple[list[dict[str, Any]], str]:
    """Return the dict items of a 422 list and their joined "loc: msg" text."""
    details = [dict(item) for item in items if isinstance(item, Mapping)]
    texts: list[str] = []
    for item in details:
        loc = _format_loc(item.get("loc"))
        msg = str(item.get("msg", item.get("message", "")))
        texts.append(f"{loc}: {msg}" if loc else msg)
    texts.extend(str(item) for item in items if not isinstance(item, Mapping))
    return details, "; ".join(text for text in texts if text)


def parse_error_body(body: bytes) -> tuple[str, list[dict[str, Any]], str | None]:
    """Extract message, validation details and reason from an error body.

    Args:
        body: The raw response body.

    Returns:
        A (message, details, reason) tuple; the message is not yet sanitised.
    """
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        return text, [], None
    if isinstance(data, list):
        details, message = _validation_items(data)
        return message, details, None
    if isinstance(data, Mapping):
        reason = data.get("reason")
        reason = str(reason) if reason is not None else None
        value = data.get("message")
        if value is None:
            value = data.get("detail")
        if isinstance(value, list):
            details, message = _validation_items(value)
            return message, details, reason
        if value is not None:
            return str(value), [], reason
        return text, [], reason
    # A bare JSON string or number: show it as the server wrote it.
    return str(data), [], None


def error_from_response(
    status: int,
    body: bytes,
    *,
    retry_after: str | None = None,
    secret: str | None = None,
) -> FishAudioResponseError:
    """Build the exception for a non-success answer.

    Args:
        status: The HTTP status code.
        body: The response body (may be empty).
        retry_after: The Retry-After header, if any.
        secret: The API key, so that it can never leak through server text.

    Returns:
        The FishAudioResponseError subclass for the status.
    """
    message, details, reason = parse_error_body(body)
    message = sanitise(message, secret)
    if reason is not None:
        reason = sanitise(reason, secret)
    if not message:
        try:
            message = HTTPStatus(status).phrase
        except ValueError:
            message = "Unexpected response"
    if status == 429:
        return FishAudioRateLimitError(
            status,
            message,
            details=details,
            reason=reason,
            retry_after=parse_retry_after(retry_after),
        )
    if status >= 500:
        cls: type[FishAudioResponseError] = FishAudioServerError
    else:
        cls = _STATUS_CLASSES.get(status, FishAudioRequestError)
    return cls(status, message, details=details, reason=reason)
