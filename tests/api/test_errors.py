"""Error-body parsing and status mapping (custom_components/fish_audio_suite/api/_errors.py)."""

from __future__ import annotations

from datetime import UTC, datetime
import json

import pytest

from custom_components.fish_audio_suite.api import (
    FishAudioAuthenticationError,
    FishAudioInsufficientCreditError,
    FishAudioNotFoundError,
    FishAudioPermissionError,
    FishAudioRateLimitError,
    FishAudioRequestError,
    FishAudioResponseError,
    FishAudioServerError,
)
from custom_components.fish_audio_suite.api._errors import (
    REDACTED,
    error_from_response,
    parse_error_body,
    parse_retry_after,
    sanitise,
)
from custom_components.fish_audio_suite.api.const import ERROR_MESSAGE_MAX

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("5", 5.0),
        (" 0.5 ", 0.5),
        ("-3", 0.0),
        ("nan", None),
        ("inf", None),
        ("soon", None),
        ("Thu, 01 Jan 2026 00:00:10 GMT", 10.0),
        # A "-0000" zone parses as a naive datetime: it still means GMT.
        ("Thu, 01 Jan 2026 00:00:04 -0000", 4.0),
        ("Wed, 31 Dec 2025 23:59:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_uses_the_clock() -> None:
    assert parse_retry_after("Thu, 01 Jan 2015 00:00:00 GMT") == 0.0


def test_sanitise() -> None:
    assert sanitise("key sk-123 leaked", "sk-123") == f"key {REDACTED} leaked"
    assert sanitise("Authorization: Bearer abc.def", None) == f"Authorization: Bearer {REDACTED}"
    assert sanitise("line1\r\nline2\x00", None) == "line1 line2"
    long = sanitise("x" * 2000, None)
    assert len(long) == ERROR_MESSAGE_MAX
    assert long.endswith("…")


@pytest.mark.parametrize(
    ("body", "message", "details", "reason"),
    [
        (
            b"No permission -- see authorization schemes",
            "No permission -- see authorization schemes",
            [],
            None,
        ),
        (
            b'{"status":402,"message":"Insufficient","reason":"credit"}',
            "Insufficient",
            [],
            "credit",
        ),
        (b'{"detail":"Not here"}', "Not here", [], None),
        (
            b'{"detail":[{"loc":["body","text"],"msg":"Field required","type":"missing"}]}',
            "body.text: Field required",
            [{"loc": ["body", "text"], "msg": "Field required", "type": "missing"}],
            None,
        ),
        (
            b'[{"loc":["body","chunk_length"],"msg":"too big"},{"msg":"no loc"},"odd"]',
            "body.chunk_length: too big; no loc; odd",
            [{"loc": ["body", "chunk_length"], "msg": "too big"}, {"msg": "no loc"}],
            None,
        ),
        (
            b'[{"loc":"query","message":"bad"}]',
            "query: bad",
            [{"loc": "query", "message": "bad"}],
            None,
        ),
        (b'{"status":500}', '{"status":500}', [], None),
        (b'"just a string"', "just a string", [], None),
        (b"42", "42", [], None),
        (b"\xff\xfe broken", "\ufffd\ufffd broken", [], None),
    ],
)
def test_parse_error_body(
    body: bytes, message: str, details: list[dict[str, object]], reason: str | None
) -> None:
    assert parse_error_body(body) == (message, details, reason)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, FishAudioRequestError),
        (401, FishAudioAuthenticationError),
        (402, FishAudioInsufficientCreditError),
        (403, FishAudioPermissionError),
        (404, FishAudioNotFoundError),
        (409, FishAudioRequestError),
        (413, FishAudioRequestError),
        (422, FishAudioRequestError),
        (429, FishAudioRateLimitError),
        (500, FishAudioServerError),
        (503, FishAudioServerError),
        (599, FishAudioServerError),
        (304, FishAudioRequestError),
    ],
)
def test_status_mapping(status: int, cls: type[FishAudioResponseError]) -> None:
    err = error_from_response(status, b"")
    assert type(err) is cls
    assert err.status == status
    assert err.message  # the reason phrase stands in for an empty body
    assert str(err) == f"HTTP {status}: {err.message}"


def test_unknown_status_without_body() -> None:
    assert error_from_response(599, b"").message == "Unexpected response"
    assert error_from_response(404, b"  ").message == "Not Found"


def test_rate_limit_retry_after() -> None:
    err = error_from_response(429, b'{"message":"slow down"}', retry_after="7")
    assert isinstance(err, FishAudioRateLimitError)
    assert err.retry_after == 7.0
    assert error_from_response(429, b"").retry_after is None  # type: ignore[attr-defined]


def test_secret_never_leaks() -> None:
    body = json.dumps({"message": "bad key test-key", "reason": "key test-key"}).encode()
    err = error_from_response(401, body, secret="test-key")
    assert "test-key" not in str(err)
    assert "test-key" not in repr(err)
    assert err.reason == f"key {REDACTED}"
