"""Client for a self-hosted Fish Speech server (fish-speech's ``tools/api_server.py``).

The open model behind Fish Audio ships its own HTTP server; what it speaks differs from the
cloud API in ways a client has to handle (read from its code: `tools/server/views.py`,
`tools/server/api_utils.py` and `fish_speech/utils/schema.py` of fishaudio/fish-speech):

- One model, fixed when the server starts: no ``model`` header, no prosody (speed, volume),
  no sample rate, no bitrates. Sampling settings are the server's own (``ServeTTSRequest``).
- Errors are JSON ``{statusCode, message, error}``; ``_errors.error_from_response`` reads the
  ``message``, so the cloud client's exception tree maps them unchanged.
- The ``/v1/references/*`` endpoints answer msgpack unless asked for JSON: both are decoded,
  by the answer's Content-Type.
- A streamed answer (``streaming: true``, WAV only) is **headerless** 16-bit mono PCM although
  it says ``audio/wav``: this client puts a WAV header in front, so callers get a real file.
- An unknown ``reference_id`` does not fail on the server (it speaks without a reference and
  leaves an empty folder behind): callers check the id against ``list_references`` first.
- No incremental text input: ``tts_sentences`` synthesizes text that is still being written
  one batch of sentences at a time, so the first sentence plays while the rest is written.
- No ASR, no WebSocket, no account or credit, no voice search.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable
import contextlib
from dataclasses import dataclass
import json
import logging
import re
import struct
from typing import Any, Final, Literal

import aiohttp
import ormsgpack
from yarl import URL

from ._bounds import NOT_AUDIO_TYPES, check_content_type, read_capped
from ._errors import sanitise
from .client import HTTPClientBase
from .const import (
    CONTENT_TYPE_MSGPACK,
    DEFAULT_REQUEST_TIMEOUT,
    SPEECH_DEFAULTS,
    SPEECH_FORMATS,
    SPEECH_SETTING_RANGES,
    TTS_READ_SIZE,
)
from .exceptions import (
    FishAudioConnectionError,
    FishAudioInvalidResponseError,
    FishAudioResponseError,
    FishAudioServerError,
    FishAudioTimeoutError,
    FishSpeechNotServerError,
)

_LOGGER = logging.getLogger(__name__)

PATH_HEALTH: Final = "/v1/health"
PATH_TTS: Final = "/v1/tts"
PATH_REFERENCES_ADD: Final = "/v1/references/add"
PATH_REFERENCES_LIST: Final = "/v1/references/list"
PATH_REFERENCES_DELETE: Final = "/v1/references/delete"
PATH_REFERENCES_UPDATE: Final = "/v1/references/update"

# The rate of the codec every current Fish Speech model decodes with (S2-Pro, s1-mini). The
# server never says it (its streamed PCM has no header), so the WAV header states this one.
SAMPLE_RATE: Final = 44100
# The formats and setting bounds live in const.py, which the integration's forms read without
# loading this client.
FORMATS: Final = SPEECH_FORMATS
SETTING_RANGES: Final = SPEECH_SETTING_RANGES
INTEGER_SETTINGS: Final = frozenset({"max_new_tokens", "chunk_length"})
REFERENCE_ID_MAX: Final = 255
_REFERENCE_ID: Final = re.compile(r"^[a-zA-Z0-9\-_ ]+$")

# A whole clip is made before its first byte is sent, at seconds per sentence on a small GPU:
# waiting for the answer's headers gets much longer than a REST call.
DEFAULT_SYNTHESIS_TIMEOUT: Final = 180.0
# Bounds of one synthesis, whatever the server does: total time and bytes of audio (about
# 20 minutes of 44.1 kHz 16-bit mono).
STREAM_DEADLINE: Final = 900.0
AUDIO_MAX_BYTES: Final = 100 * 1024 * 1024
# Answers other than audio are a few hundred bytes; a reference list of thousands of ids fits.
ANSWER_MAX_BYTES: Final = 1024 * 1024
# A reference recording: about 10-30 s of speech is what the model uses.
REFERENCE_AUDIO_MAX_BYTES: Final = 20 * 1024 * 1024
# The server runs one synthesis per worker (one by default): more at once only queue there,
# where no deadline of ours applies. They queue here instead, each wait bounded.
DEFAULT_MAX_CONCURRENCY: Final = 2

# A sentence ends at . ! ? … followed by white space (so "3.14" and "e.g." mid-word do not
# split), at the CJK full stops, or at a line break.
_SENTENCE_END: Final = re.compile(r"[.!?\u2026][\"')\]\u201d\u2019]*\s+|[\u3002\uff01\uff1f]+|\n+")

type SpeechFormat = Literal["wav", "mp3"]


def check_reference_id(reference_id: str) -> str:
    """Return ``reference_id`` if the server accepts it as a reference (folder) name.

    Raises:
        ValueError: Empty, too long, or with characters other than letters, digits, ``-``,
            ``_`` and spaces.
    """
    if (
        not isinstance(reference_id, str)
        or len(reference_id) > REFERENCE_ID_MAX
        or not _REFERENCE_ID.fullmatch(reference_id)
    ):
        raise ValueError("reference ids are 1-255 letters, digits, spaces, '-' or '_'")
    return reference_id


def wav_stream_header(sample_rate: int = SAMPLE_RATE) -> bytes:
    """Return a RIFF/WAVE header for 16-bit mono PCM of unknown length.

    Both size fields are 0xFFFFFFFF, the streaming convention ffmpeg and players accept.
    """
    return (
        b"RIFF"
        + struct.pack("<I", 0xFFFFFFFF)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", 0xFFFFFFFF)
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}")


@dataclass(frozen=True, slots=True, kw_only=True)
class FishSpeechTTSOptions:
    """Settings a Fish Speech server takes (its ServeTTSRequest), validated on creation.

    Defaults are the server's own. ``reference_id`` None is the model's default voice.

    Raises:
        ValueError: A setting the server's request model would refuse.
    """

    reference_id: str | None = None
    format: SpeechFormat = SPEECH_DEFAULTS["format"]
    temperature: float = SPEECH_DEFAULTS["temperature"]
    top_p: float = SPEECH_DEFAULTS["top_p"]
    repetition_penalty: float = SPEECH_DEFAULTS["repetition_penalty"]
    max_new_tokens: int = SPEECH_DEFAULTS["max_new_tokens"]
    chunk_length: int = SPEECH_DEFAULTS["chunk_length"]
    seed: int | None = None

    def __post_init__(self) -> None:
        """Check every setting against the server's bounds."""
        if self.reference_id is not None:
            check_reference_id(self.reference_id)
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}")
        for name, (low, high) in SETTING_RANGES.items():
            value = getattr(self, name)
            if name in INTEGER_SETTINGS and not _is_int(value):
                raise TypeError(f"{name} must be an integer")  # the server's int is strict
            _check_range(name, value, low, high)
        if self.seed is not None and not _is_int(self.seed):
            raise TypeError("seed must be an integer or None")

    def to_request(self, text: str, *, streaming: bool) -> dict[str, Any]:
        """Return the ServeTTSRequest map for ``text``, ready for msgpack."""
        request: dict[str, Any] = {
            "text": text,
            "format": self.format,
            "streaming": streaming,
            "temperature": float(self.temperature),
            "top_p": float(self.top_p),
            "repetition_penalty": float(self.repetition_penalty),
            "max_new_tokens": self.max_new_tokens,
            "chunk_length": self.chunk_length,
            "seed": self.seed,
            "reference_id": self.reference_id,
            # The server keeps a reference's encoded tokens in memory only when asked:
            # without it every call re-encodes the reference recording.
            "use_memory_cache": "on" if self.reference_id else "off",
        }
        return request


def split_sentences(text: str) -> tuple[str, str]:
    """Split ``text`` after its last complete sentence: (complete sentences, the rest)."""
    end = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
    return text[:end], text[end:]


class _TextBuffer:
    """Text still being written, read into a buffer in the background.

    Synthesis and writing overlap: the next request takes every sentence written meanwhile.
    """

    def __init__(self, text: AsyncIterable[str]) -> None:
        self._parts: list[str] = []
        self._changed = asyncio.Event()
        self.ended = False
        self._task = asyncio.ensure_future(self._read(text))

    async def _read(self, text: AsyncIterable[str]) -> None:
        try:
            async for chunk in text:
                if chunk:
                    self._parts.append(chunk)
                    self._changed.set()
        finally:
            self.ended = True
            self._changed.set()

    async def next_batch(self) -> str | None:
        """Return the complete sentences written so far, waiting for one.

        At the end of the text, the rest; None once everything has been taken.
        """
        while True:
            buffered = "".join(self._parts)
            if self.ended:
                if self._task.done() and not self._task.cancelled():
                    self._task.result()  # the text's own failure ends the stream
                self._parts = []
                return buffered if buffered.strip() else None
            complete, rest = split_sentences(buffered)
            if complete.strip():
                self._parts = [rest] if rest else []
                return complete
            self._changed.clear()
            await self._changed.wait()

    async def aclose(self) -> None:
        """Stop reading (the consumer stopped listening)."""
        if not self._task.done():
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class FishSpeechClient(HTTPClientBase):
    """Client for one self-hosted Fish Speech server.

    Every call is bounded: REST calls by ``request_timeout``, the wait for a synthesis's first
    byte by ``synthesis_timeout``, each later read by ``request_timeout``, a whole stream by
    ``STREAM_DEADLINE`` and ``AUDIO_MAX_BYTES``. At most ``max_concurrency`` calls run at once;
    the wait for a turn counts against the call's own bound.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        session: aiohttp.ClientSession | None = None,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        synthesis_timeout: float = DEFAULT_SYNTHESIS_TIMEOUT,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        stream_deadline: float = STREAM_DEADLINE,
        user_agent: str | None = None,
    ) -> None:
        """Initialise the client.

        Args:
            base_url: The server's origin, e.g. ``http://192.168.1.20:8080`` (a path prefix
                of a reverse proxy is kept).
            api_key: The server's ``--api-key``, or None for a server without one.
            session: A shared aiohttp session (Home Assistant's); the client creates, and
                later closes, its own when None.
            request_timeout: Seconds for a REST call and for each read of a stream.
            synthesis_timeout: Seconds for a synthesis's answer to start.
            max_concurrency: Calls running at once; more wait their turn.
            stream_deadline: Seconds one synthesis may take in all.
            user_agent: Replaces the default User-Agent.

        Raises:
            ValueError: An argument is out of range.
        """
        url = URL(base_url.rstrip("/"))
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("base_url must be an http(s) URL")
        if min(request_timeout, synthesis_timeout, stream_deadline) <= 0 or max_concurrency < 1:
            raise ValueError("timeouts and max_concurrency must be positive")
        super().__init__(url, api_key or None, session, user_agent)
        self._request_timeout = request_timeout
        self._synthesis_timeout = synthesis_timeout
        self._stream_deadline = stream_deadline
        self._semaphore = asyncio.Semaphore(max_concurrency)

    # ---------------------------------------------------------------- plumbing

    def _connection_error(self, err: BaseException, what: str) -> FishAudioConnectionError:
        """Wrap a transport error without aiohttp's text of the request (its headers)."""
        if isinstance(err, TimeoutError):
            return FishAudioTimeoutError(f"Timeout while {what}")
        if isinstance(err, aiohttp.ClientResponseError):
            return FishAudioConnectionError(f"Invalid HTTP answer while {what}")
        return FishAudioConnectionError(
            f"Error while {what}: {type(err).__name__}: {sanitise(str(err), self._api_key)}"
        )

    async def _call(
        self,
        method: str,
        path: str,
        *,
        data: bytes | aiohttp.FormData | None = None,
        content_type: str | None = None,
    ) -> tuple[str, bytes]:
        """Send one REST request; return the answer's Content-Type and body."""
        what = f"{method} {path}"
        headers = {**self._headers, "Accept": CONTENT_TYPE_MSGPACK}
        if content_type is not None:
            headers["Content-Type"] = content_type
        try:
            async with (
                asyncio.timeout(self._request_timeout),
                self._semaphore,
                self._get_session().request(
                    method,
                    self._url(path),
                    data=data,
                    headers=headers,
                    raise_for_status=False,
                    # Not following redirects keeps the key on the server it was meant for.
                    allow_redirects=False,
                ) as response,
            ):
                if not 200 <= response.status < 300:
                    raise await self._answer_error(response)
                body = await read_capped(response, ANSWER_MAX_BYTES)
                kind = response.content_type
        except (TimeoutError, aiohttp.ClientError) as err:
            raise self._connection_error(err, f"calling {what}") from None
        _LOGGER.debug("%s -> %d bytes", what, len(body))
        return kind, body

    async def _call_map(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Send a request whose answer is a msgpack or JSON map; return the map."""
        kind, body = await self._call(method, path, **kwargs)
        try:
            data = ormsgpack.unpackb(body) if "msgpack" in kind else json.loads(body)
        except (ormsgpack.MsgpackDecodeError, ValueError):
            raise FishAudioInvalidResponseError(f"Unreadable answer to {method} {path}") from None
        if not isinstance(data, dict):
            raise FishAudioInvalidResponseError(f"Unexpected answer to {method} {path}")
        if data.get("success") is False:  # a 2xx that reports a failure in its body
            message = sanitise(str(data.get("message") or "refused"), self._api_key)
            raise FishAudioServerError(200, message)
        return data

    # ------------------------------------------------------------------ health

    async def health(self) -> None:
        """Check that the address is a Fish Speech server that accepts the key.

        Raises:
            FishAudioAuthenticationError: The server refused the key (or wants one).
            FishSpeechNotServerError: Something answers, but not a Fish Speech server.
            FishAudioConnectionError: Nothing answers (refused, unreachable, timed out).
            FishAudioServerError: The server failed (5xx).
        """
        try:
            kind, body = await self._call("GET", PATH_HEALTH)
        except FishAudioResponseError as err:
            if err.status in (401, 403) or err.status >= 500:
                raise
            raise FishSpeechNotServerError(err.status, err.message) from None
        try:
            data = json.loads(body) if kind == "application/json" else None
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("status") != "ok":
            raise FishSpeechNotServerError(200, "No Fish Speech health answer at this address")

    # -------------------------------------------------------------- references

    async def list_references(self) -> list[str]:
        """Return the ids of the stored reference voices (those with audio and transcript)."""
        data = await self._call_map("GET", PATH_REFERENCES_LIST)
        ids = data.get("reference_ids")
        if not isinstance(ids, list) or not all(isinstance(item, str) for item in ids):
            raise FishAudioInvalidResponseError("Unexpected reference list")
        # The names become picker labels and voice names: only those the server can be
        # asked for again (check_reference_id) are kept, so no newline or control
        # character from the server reaches the UI or a log line.
        return [
            item for item in ids if _REFERENCE_ID.fullmatch(item) and len(item) <= REFERENCE_ID_MAX
        ]

    async def add_reference(self, reference_id: str, audio: bytes, text: str) -> None:
        """Store a reference voice: one recording and its transcript (multipart).

        Never retried: a retry after a lost answer would meet its own 409.

        Raises:
            ValueError: Bad id, empty or oversized audio, or an empty transcript.
        """
        check_reference_id(reference_id)
        if not audio or len(audio) > REFERENCE_AUDIO_MAX_BYTES:
            raise ValueError(f"audio must hold 1..{REFERENCE_AUDIO_MAX_BYTES} bytes")
        if not text.strip():
            raise ValueError("the transcript must not be empty")
        form = aiohttp.FormData(quote_fields=False)
        form.add_field("id", reference_id)
        # The server saves every upload as sample.wav, whatever its name.
        form.add_field(
            "audio", audio, filename="sample.wav", content_type="application/octet-stream"
        )
        form.add_field("text", text)
        await self._call_map("POST", PATH_REFERENCES_ADD, data=form)

    async def delete_reference(self, reference_id: str) -> None:
        """Delete a reference voice."""
        body = ormsgpack.packb({"reference_id": check_reference_id(reference_id)})
        await self._call_map(
            "DELETE", PATH_REFERENCES_DELETE, data=body, content_type=CONTENT_TYPE_MSGPACK
        )

    async def rename_reference(self, old_reference_id: str, new_reference_id: str) -> None:
        """Rename a reference voice (the only change the server can make to one)."""
        body = ormsgpack.packb(
            {
                "old_reference_id": check_reference_id(old_reference_id),
                "new_reference_id": check_reference_id(new_reference_id),
            }
        )
        await self._call_map(
            "POST", PATH_REFERENCES_UPDATE, data=body, content_type=CONTENT_TYPE_MSGPACK
        )

    # --------------------------------------------------------------------- TTS

    def tts(
        self, text: str, options: FishSpeechTTSOptions, *, streaming: bool | None = None
    ) -> AsyncGenerator[bytes]:
        """Synthesize ``text``, yielding audio as it arrives.

        WAV is streamed by default (``streaming: true``): its headerless PCM is yielded after
        a WAV header of ours. MP3 cannot be streamed by the server: the whole file comes once
        it is made. Wrap the generator in ``contextlib.aclosing()``.

        Args:
            text: The text to speak.
            options: The settings.
            streaming: Force streaming on or off (only WAV streams).

        Returns:
            An async iterator of audio bytes: one WAV or MP3 file.
        """
        if not text.strip():
            raise ValueError("text must not be empty")
        stream = options.format == "wav" if streaming is None else streaming
        if stream and options.format != "wav":
            raise ValueError("only WAV can be streamed")
        return self._tts(text, options, stream, header=stream)

    async def _tts(
        self, text: str, options: FishSpeechTTSOptions, streaming: bool, *, header: bool
    ) -> AsyncGenerator[bytes]:
        payload = ormsgpack.packb(options.to_request(text, streaming=streaming))
        headers = {**self._headers, "Content-Type": CONTENT_TYPE_MSGPACK}
        session = self._get_session()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._stream_deadline
        try:
            async with asyncio.timeout(self._synthesis_timeout):
                await self._semaphore.acquire()
        except TimeoutError:
            raise FishAudioTimeoutError("Timeout while waiting to synthesize") from None
        try:
            try:
                async with asyncio.timeout(self._synthesis_timeout):
                    response = await session.post(
                        self._url(PATH_TTS),
                        data=payload,
                        headers=headers,
                        raise_for_status=False,
                        allow_redirects=False,
                    )
                    if not 200 <= response.status < 300:
                        try:
                            raise await self._answer_error(response)
                        finally:
                            response.close()
            except (TimeoutError, aiohttp.ClientError) as err:
                raise self._connection_error(err, "requesting speech") from None
            try:
                # An HTML portal page or a JSON error with 200 is not speech.
                check_content_type(response, denied=NOT_AUDIO_TYPES)
                yielded = False
                async for chunk in self._audio(response, deadline):
                    if header and not yielded:
                        yield wav_stream_header()
                    yielded = True
                    yield chunk
                if not yielded:
                    raise FishAudioInvalidResponseError("The server returned no audio")
            finally:
                response.close()  # drops the connection when the consumer stopped early
        finally:
            self._semaphore.release()

    async def _audio(
        self, response: aiohttp.ClientResponse, deadline: float
    ) -> AsyncGenerator[bytes]:
        """Yield the body in pieces, each read bounded, the whole bounded in time and size."""
        loop = asyncio.get_running_loop()
        size = 0
        while True:
            wait = min(self._request_timeout, deadline - loop.time())
            try:
                async with asyncio.timeout(max(wait, 0)):
                    chunk = await response.content.read(TTS_READ_SIZE)
            except (TimeoutError, aiohttp.ClientError) as err:
                raise self._connection_error(err, "reading speech") from None
            if not chunk:
                return
            size += len(chunk)
            if size > AUDIO_MAX_BYTES:
                raise FishAudioInvalidResponseError("The audio is larger than any reply should be")
            yield chunk

    def tts_sentences(
        self, text: AsyncIterable[str], options: FishSpeechTTSOptions
    ) -> AsyncGenerator[bytes]:
        """Synthesize text that is still being written, sentence by sentence, as one file.

        The server takes no incremental text, so the first complete sentence is synthesized
        at once and every later request takes all the sentences written meanwhile (while the
        server is busy, the text keeps being read). WAV is one stream (one header, then each
        request's PCM); MP3 is each request's file in turn (MP3 frames concatenate).

        Returns:
            An async iterator of audio bytes.
        """
        return self._tts_sentences(text, options)

    async def _tts_sentences(
        self, text: AsyncIterable[str], options: FishSpeechTTSOptions
    ) -> AsyncGenerator[bytes]:
        buffer = _TextBuffer(text)
        streaming = options.format == "wav"
        header = streaming
        try:
            while (batch := await buffer.next_batch()) is not None:
                async with contextlib.aclosing(
                    self._tts(batch.strip(), options, streaming, header=header)
                ) as audio:
                    async for chunk in audio:
                        header = False
                        yield chunk
        finally:
            await buffer.aclose()
