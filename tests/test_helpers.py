"""The error mapping: a pure table from client error to translated error, tested as one."""

from __future__ import annotations

import pytest

from custom_components.fish_audio_suite.api import (
    FishAudioAuthenticationError,
    FishAudioConnectionError,
    FishAudioError,
    FishAudioInsufficientCreditError,
    FishAudioInvalidResponseError,
    FishAudioNotFoundError,
    FishAudioPermissionError,
    FishAudioRateLimitError,
    FishAudioRequestError,
    FishAudioResponseError,
    FishAudioServerError,
    FishAudioTimeoutError,
    FishAudioWebSocketError,
)
from custom_components.fish_audio_suite.const import DOMAIN
from custom_components.fish_audio_suite.helpers import ERROR_KEYS, translate_error

from .conftest import TRANSLATIONS


@pytest.mark.parametrize(
    ("err", "key"),
    [
        (FishAudioAuthenticationError(401, "bad key"), "auth_failed"),
        (FishAudioInsufficientCreditError(402, "no credit"), "insufficient_credit"),
        (FishAudioNotFoundError(404, "no such thing"), "not_found"),
        (FishAudioPermissionError(403, "not yours"), "permission_denied"),
        (FishAudioRateLimitError(429, "slow down", retry_after=2.0), "rate_limited"),
        (FishAudioRequestError(422, "text too long"), "invalid_request"),
        (FishAudioServerError(503, "busy"), "server_error"),
        (FishAudioResponseError(418, "teapot"), "invalid_request"),
        (FishAudioTimeoutError("read timed out"), "timeout"),
        (FishAudioConnectionError("refused"), "cannot_connect"),
        (FishAudioWebSocketError("closed mid-stream", close_code=1011), "stream_failed"),
        (FishAudioInvalidResponseError("not JSON"), "invalid_response"),
        (FishAudioError("a kind added later"), "unexpected_error"),
    ],
)
def test_translate_error(err: FishAudioError, key: str) -> None:
    """Each kind of client error has its translated key, with the server's text."""
    translated = translate_error(err)
    assert translated.translation_domain == DOMAIN
    assert translated.translation_key == key
    placeholders = translated.translation_placeholders or {}
    assert placeholders["error"] == str(err)
    if isinstance(err, FishAudioResponseError):
        assert placeholders["status"] == str(err.status)
        assert placeholders["message"] == err.message
    TRANSLATIONS["exceptions"][key]["message"].format(**placeholders)


def test_every_entry_of_the_table_is_reachable() -> None:
    """No entry is shadowed by an earlier one (a base class listed before a subclass)."""
    for index, (cls, _key) in enumerate(ERROR_KEYS):
        assert not any(issubclass(cls, earlier) for earlier, _ in ERROR_KEYS[:index])


def test_unknown_voice_names_the_voice() -> None:
    """A 404 for a named voice says which voice; without a name it stays generic."""
    err = FishAudioNotFoundError(404, "Not Found")
    translated = translate_error(err, voice_id="abc")
    assert translated.translation_key == "voice_not_found"
    assert (translated.translation_placeholders or {})["voice_id"] == "abc"
    assert translate_error(FishAudioServerError(500, "x"), voice_id="abc").translation_key == (
        "server_error"
    )
