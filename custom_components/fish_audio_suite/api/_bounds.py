"""Bounds on what the client reads and waits for: the one place for body caps and deadlines.

Every answer is read through `read_capped` (JSON, error bodies) or metered by an
`AudioBudget` (audio streams), so a server that announces 10 GB, never stops sending or
trickles one byte at a time cannot hold memory or a concurrency slot for long. Other
endpoints added to the client reuse these helpers instead of reading bodies themselves.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

from .exceptions import FishAudioInvalidResponseError, FishAudioTimeoutError

if TYPE_CHECKING:
    import aiohttp

    from .models import TTSOptions

# A page of 100 voices with their samples is a few hundred KiB (OpenAPI, GET /model); an
# ASR answer for the 60 min maximum with timestamps stays well below this as well.
JSON_MAX_BYTES: Final = 8 * 1024 * 1024
# Only the first ERROR_MESSAGE_MAX characters of an error body are ever shown; more is
# read only so that a JSON body can still be parsed.
ERROR_BODY_MAX_BYTES: Final = 64 * 1024
_READ_PIECE: Final = 65536

# What a clip can legitimately be. The API documents no maximum text length or audio
# length (OpenAPI TTSRequest), so the bound is generous: half a second per character (speech
# is about 15 characters a second; CJK about 5), plus ten seconds, at the slowest speed the
# API accepts (0.5), at the largest byte rate a format can have (API reference, TTS: wav/pcm at
# 44.1 kHz 16-bit, counted as stereo; 320 kbit/s for the compressed formats).
AUDIO_SECONDS_PER_CHAR: Final = 0.5
AUDIO_SECONDS_BASE: Final = 10.0
_SPEED_MIN: Final = 0.5
_PCM_DEFAULT_RATE: Final = 44100
_COMPRESSED_BYTES_PER_SECOND: Final = 40000
_HEADER_SLACK: Final = 64 * 1024

# Minimum throughput of an audio stream once its headers arrived: every byte received
# earns this many seconds of further waiting, on top of one request timeout. The slowest
# real format (opus at 24 kbit/s, played in real time) delivers 3000 bytes a second; a
# server below a tenth of that for longer than the timeout is broken or hostile.
MIN_BYTES_PER_SECOND: Final = 300.0


def audio_seconds_max(chars: int, speed: float = 1.0) -> float:
    """Return the longest audio `chars` characters of text can legitimately give."""
    return (AUDIO_SECONDS_BASE + chars * AUDIO_SECONDS_PER_CHAR) / max(min(speed, 1.0), _SPEED_MIN)


def audio_bytes_max(chars: int, options: TTSOptions) -> int:
    """Return the most bytes of audio `chars` characters of text can legitimately give."""
    if options.format in ("wav", "pcm"):
        rate = (options.sample_rate or _PCM_DEFAULT_RATE) * 2 * 2
    else:
        rate = _COMPRESSED_BYTES_PER_SECOND
    return int(audio_seconds_max(chars, options.speed) * rate) + _HEADER_SLACK


class AudioBudget:
    """Meter one audio stream: a byte cap, a total deadline and a minimum throughput.

    Only the time spent waiting for the server counts, not the time the consumer takes
    with each piece (a player reading in real time must not trip the bound).

    Args:
        max_bytes: The most audio the stream may deliver.
        deadline: The longest total wait for the server, in seconds.
        grace: Seconds of waiting allowed before any throughput is required.
    """

    def __init__(self, max_bytes: int, deadline: float, grace: float) -> None:
        """Start the meter."""
        self.max_bytes = max_bytes
        self.deadline = deadline
        self._grace = grace
        self.received = 0
        self.waited = 0.0
        self._started: float | None = None

    def wait_left(self) -> float:
        """Seconds the next wait may take before a bound is crossed (at least a little)."""
        earned = self._grace + self.received / MIN_BYTES_PER_SECOND
        return max(min(self.deadline, earned) - self.waited, 0.001)

    def begin_wait(self) -> None:
        """Note that a wait for the server starts now."""
        self._started = time.monotonic()

    def end_wait(self, size: int) -> None:
        """Account for a wait that ended with `size` bytes of audio.

        Raises:
            FishAudioInvalidResponseError: More audio than the text can give.
        """
        if self._started is not None:
            self.waited += time.monotonic() - self._started
            self._started = None
        self.received += size
        if self.received > self.max_bytes:
            raise FishAudioInvalidResponseError(
                f"The audio exceeds the {self.max_bytes} bytes this text can give"
            )

    def timeout_error(self) -> FishAudioTimeoutError:
        """Return the error for a wait that ran out (total deadline or throughput)."""
        if self.waited + 0.001 >= self.deadline:
            return FishAudioTimeoutError(
                f"The audio stream took longer than its {self.deadline:.0f} s deadline"
            )
        return FishAudioTimeoutError("The audio stream is too slow (the server trickles)")


def stream_budget(
    chars: int, options: TTSOptions, request_timeout: float, *, size_factor: int = 1
) -> AudioBudget:
    """Return the budget of a stream synthesising `chars` characters.

    The deadline allows the server two seconds per second of the longest clip (slower than
    real time is what a struggling server does), plus one request timeout. `size_factor`
    widens the byte cap for an encoded stream (base64 audio in JSON events).
    """
    return AudioBudget(
        audio_bytes_max(chars, options) * size_factor,
        request_timeout + 2 * audio_seconds_max(chars, options.speed),
        request_timeout,
    )


# What is certainly not audio: a page, a document or an error in a text format. The API
# declares no type for audio answers (OpenAPI, TTS responses), so audio is refused only when
# its type is one of these, and a type the integration has never seen (application/ogg,
# audio/x-whatever, application/octet-stream) is still played.
NOT_AUDIO_TYPES: Final = (
    "text/",
    "application/json",
    "+json",
    "application/xml",
    "+xml",
    "application/xhtml+xml",
    "application/javascript",
    "application/ecmascript",
)


def _matches(mime: str, item: str) -> bool:
    """Tell whether `mime` is `item`: a family ("text/"), a suffix ("+json") or exact."""
    if item.endswith("/"):
        return mime.startswith(item)
    if item.startswith("+"):
        return mime.endswith(item)
    return mime == item


def check_content_type(
    response: aiohttp.ClientResponse,
    allowed: tuple[str, ...] = (),
    *,
    denied: tuple[str, ...] = (),
) -> None:
    """Refuse a success answer whose declared type is not `allowed`, or is `denied`.

    With `allowed` the answer must be one of those types (JSON endpoints, which declare
    theirs); with `denied` only those types are refused (audio, whose type the API does not
    declare). An entry ending in "/" is a family ("audio/"), one starting with "+" a
    structured suffix ("+json"). A missing Content-Type is accepted (aiohttp reports it as
    application/octet-stream).

    Raises:
        FishAudioInvalidResponseError: The answer is of another type (an HTML portal page).
    """
    mime = response.content_type.lower()
    if denied:
        refused = any(_matches(mime, item) for item in denied)
    else:
        refused = not any(_matches(mime, item) for item in allowed)
        if mime.endswith("+json") and "application/json" in allowed:
            refused = False
    if not refused:
        return
    # The type is server text: keep it short and printable.
    shown = "".join(ch for ch in mime[:64] if ch.isprintable())
    raise FishAudioInvalidResponseError(f"Unexpected content type {shown!r}")


async def read_capped(
    response: aiohttp.ClientResponse, limit: int, *, truncate: bool = False
) -> bytes:
    """Read a body of at most `limit` bytes, without buffering more than that.

    Args:
        response: The answer whose body to read.
        limit: The largest body accepted.
        truncate: Keep the first `limit` bytes of a longer body and drop the rest (error
            bodies) instead of failing.

    Raises:
        FishAudioInvalidResponseError: The body is larger than `limit` (not truncating).
    """
    length = response.content_length
    if length is not None and length > limit and not truncate:
        raise FishAudioInvalidResponseError(
            f"The answer announces {length} bytes, more than the {limit} accepted"
        )
    body = bytearray()
    while len(body) <= limit:
        piece = await response.content.read(min(_READ_PIECE, limit + 1 - len(body)))
        if not piece:
            return bytes(body)
        body += piece
    if truncate:
        return bytes(body[:limit])
    raise FishAudioInvalidResponseError(f"The answer is larger than the {limit} bytes accepted")
