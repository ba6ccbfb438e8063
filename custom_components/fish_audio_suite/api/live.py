"""Live TTS over the `/v1/tts/live` WebSocket (the vendor's asyncapi.yml).

Text is forwarded the moment it arrives and flushed at sentence boundaries, so the first
audio does not wait for the server's `chunk_length` buffer. A sender task writes
start/text/flush/stop while the generator body reads audio; every way a stream can end
badly is turned into one of the client's exceptions, and no task outlives the generator.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
import logging
import time
from typing import TYPE_CHECKING, Any

import aiohttp
import ormsgpack

from ._bounds import AudioBudget, audio_bytes_max, audio_seconds_max, stream_budget
from ._errors import sanitise
from .exceptions import (
    FishAudioInvalidResponseError,
    FishAudioTextStreamError,
    FishAudioTimeoutError,
    FishAudioWebSocketError,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable

    from .models import FlushPolicy, TTSOptions

_LOGGER = logging.getLogger(__name__)

# Terminators that end a sentence only when whitespace follows ("3.14", "v1.2" are not
# sentence ends). At the very end of the buffered text they count only once the text has
# paused, because the next chunk may turn "3." into "3.14".
_SOFT_SENTENCE_ENDS = frozenset(".!?…")
# CJK punctuation is never followed by a space, and a newline is itself the boundary.
_HARD_SENTENCE_ENDS = frozenset("。！？；\n")  # noqa: RUF001 - CJK on purpose
_SOFT_CLAUSE_MARKS = frozenset(",;:")
_HARD_CLAUSE_MARKS = frozenset("，、：")  # noqa: RUF001 - CJK on purpose
# Quotes and brackets that may close a sentence: `He said "Hi." Then` ends after the quote.
_CLOSERS = frozenset("\"')]}”’»」』")  # noqa: RUF001 - typographic quotes on purpose

_EVENT_STOP = ormsgpack.packb({"event": "stop"})
_EVENT_FLUSH = ormsgpack.packb({"event": "flush"})


@dataclass(frozen=True, slots=True, kw_only=True)
class TextBounds:
    """What the caller's text of one live stream may do (api/const.py has the defaults).

    Attributes:
        max_chars: The most text the stream accepts; with it the audio that can come back,
            and so the stream's byte cap and deadline, are finite.
        timeout: Longest wait for the next text chunk.
        deadline: Longest time from the start until the text ended.
    """

    max_chars: int
    timeout: float
    deadline: float


def text_bounds(
    max_chars: int, timeout: float, options: TTSOptions, request_timeout: float
) -> TextBounds:
    """Return the bounds of a live stream's text.

    The text must end within the total deadline of the longest text accepted (one request
    timeout plus twice the longest audio it can give, _bounds.py): a reply that takes
    longer to write than its speech can take to play is not one the stream should wait for.
    """
    return TextBounds(
        max_chars=max_chars,
        timeout=timeout,
        deadline=request_timeout + 2 * audio_seconds_max(max_chars, options.speed),
    )


def _skip(text: str, index: int, chars: frozenset[str] | None) -> int:
    """Return the first index at or after `index` whose char is not in `chars` (None: space)."""
    while index < len(text) and (text[index].isspace() if chars is None else text[index] in chars):
        index += 1
    return index


def split_points(text: str, *, clauses: bool = False) -> list[int]:
    """Find where `text` may be split after a sentence (or clause) end.

    Args:
        text: The text buffered since the last flush.
        clauses: Also split after clause marks (commas, semicolons, colons).

    Returns:
        Ascending indexes just past each boundary and the whitespace that follows it.
    """
    points: list[int] = []
    for index, char in enumerate(text):
        hard = char in _HARD_SENTENCE_ENDS or (clauses and char in _HARD_CLAUSE_MARKS)
        soft = char in _SOFT_SENTENCE_ENDS or (clauses and char in _SOFT_CLAUSE_MARKS)
        if not hard and not soft:
            continue
        end = _skip(text, index + 1, _CLOSERS)
        if soft and (end >= len(text) or not text[end].isspace()):
            continue
        point = _skip(text, end, None)
        if not points or points[-1] != point:
            points.append(point)
    return points


def ends_sentence(text: str) -> bool:
    """Tell whether `text` ends (trailing whitespace aside) with a sentence terminator.

    Args:
        text: The text buffered since the last flush.

    Returns:
        True when the text ends with a newline, or its last visible character (closing
        quotes and brackets aside) ends a sentence.
    """
    body = text.rstrip()
    if not body:
        return False
    if "\n" in text[len(body) :]:
        return True
    body = body.rstrip("".join(_CLOSERS))
    return bool(body) and (body[-1] in _SOFT_SENTENCE_ENDS or body[-1] in _HARD_SENTENCE_ENDS)


async def _anext(iterator: AsyncIterator[str]) -> str:
    return await anext(iterator)


class _SendFailedError(Exception):
    """A frame could not be written: the socket is closing or gone."""


class _Sender:
    """Forward the caller's text to the WebSocket, applying the flush policy."""

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        text: AsyncIterable[str],
        policy: FlushPolicy,
        bounds: TextBounds,
    ) -> None:
        self._ws = ws
        self._text = text
        self._policy = policy
        self._bounds = bounds
        self._pending = ""  # text sent since the last flush
        self._flushed = False
        self._received = 0  # text taken from the caller, sent or not
        self._ends_at = time.monotonic() + bounds.deadline
        self.chars = 0  # text sent so far: what bounds the audio that may come back

    async def run(self) -> None:
        """Send every text chunk, then `stop`.

        A send that fails because the socket went away ends the sender quietly: the receiver
        sees the close (or the server's finish/error) and reports the real reason. Errors of
        the caller's text iterator propagate.
        """
        try:
            await self._run()
        except _SendFailedError:
            _LOGGER.debug("Live TTS: the socket went away while sending")

    async def _run(self) -> None:
        iterator = aiter(self._text)
        try:
            await self._forward(iterator)
        except BaseException:
            # Given up before the text ended (a bound, a send failure, a cancel): the
            # caller's generator (an LLM's reply) is closed now, not at garbage collection.
            if (aclose := getattr(iterator, "aclose", None)) is not None:
                with contextlib.suppress(Exception):
                    await aclose()
            raise
        await self._send(_EVENT_STOP)

    async def _forward(self, iterator: AsyncIterator[str]) -> None:
        while True:
            try:
                chunk = await self._next(iterator)
            except StopAsyncIteration:
                return
            if not isinstance(chunk, str):
                raise TypeError(f"text chunks must be str, got {type(chunk).__name__}")
            if chunk:
                await self._on_chunk(chunk)

    async def _next(self, iterator: AsyncIterator[str]) -> str:
        """Wait for the next chunk, flushing if the text pauses after a sentence end.

        The wait is bounded (TextBounds): by the longest pause the text may take, and by
        what is left of the text's deadline.

        Raises:
            FishAudioTextStreamError: No text came within the bound.
        """
        policy = self._policy
        flush_at = (
            policy.pause
            if policy.enabled and self._pending and ends_sentence(self._pending)
            else None
        )
        left = self._ends_at - time.monotonic()
        limit = min(self._bounds.timeout, left)
        # The wait must be bounded without cancelling the caller's generator mid-step
        # unless the stream ends anyway (cancelling would finalise it), so it runs in its
        # own task.
        step = asyncio.create_task(_anext(iterator), name="fish_audio_live_text")
        try:
            if flush_at is not None and flush_at < limit:
                done, _ = await asyncio.wait((step,), timeout=flush_at)
                if not done:
                    await self._flush()
                limit -= flush_at
            done, _ = await asyncio.wait((step,), timeout=max(limit, 0.0))
            if not done:
                if left <= self._bounds.timeout:
                    raise FishAudioTextStreamError(
                        f"the text did not end within {self._bounds.deadline:.0f} s"
                    )
                raise FishAudioTextStreamError(f"no new text for {self._bounds.timeout:g} s")
            return step.result()
        finally:
            if not step.done():
                step.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await step

    async def _on_chunk(self, chunk: str) -> None:
        self._received += len(chunk)
        if self._received > self._bounds.max_chars:
            raise FishAudioTextStreamError(
                f"the text is longer than the {self._bounds.max_chars} characters"
                " a live stream accepts"
            )
        combined = self._pending + chunk
        split = self._split_point(combined)
        if split is None:
            await self._send_text(chunk)
            self._pending = combined
            return
        cut = max(split - len(self._pending), 0)
        if cut:
            await self._send_text(chunk[:cut])
        await self._flush()
        rest = chunk[cut:]
        if rest:
            await self._send_text(rest)
        self._pending = rest

    def _split_point(self, combined: str) -> int | None:
        policy = self._policy
        if not policy.enabled:
            return None
        if policy.first_sentence and not self._flushed:
            points = split_points(combined)
            if points:
                return points[0]
        if len(combined) >= policy.min_chars:
            points = [p for p in split_points(combined, clauses=True) if p >= policy.min_chars]
            if points:
                return points[-1]
        return None

    async def _send(self, frame: bytes) -> None:
        # Only transport errors of our own sends are caught: a ConnectionError raised by the
        # caller's text iterator (an LLM's connection) must reach the consumer as it is.
        try:
            await self._ws.send_bytes(frame)
        except (aiohttp.ClientError, ConnectionError) as err:
            raise _SendFailedError from err

    async def _send_text(self, text: str) -> None:
        try:
            frame = ormsgpack.packb({"event": "text", "text": text})
        except TypeError:  # ormsgpack.MsgpackEncodeError: a lone surrogate from the caller
            raise ValueError("text contains characters that are not valid Unicode") from None
        await self._send(frame)
        self.chars += len(text)

    async def _flush(self) -> None:
        await self._send(_EVENT_FLUSH)
        self._pending = ""
        self._flushed = True


def _decode(message: aiohttp.WSMessage) -> dict[str, Any]:
    """Decode one server frame, or raise the stream's failure."""
    if message.type is aiohttp.WSMsgType.BINARY:
        try:
            data = ormsgpack.unpackb(message.data)
        except ormsgpack.MsgpackDecodeError:
            raise FishAudioWebSocketError("Malformed frame on the live TTS stream") from None
        if not isinstance(data, dict):
            raise FishAudioWebSocketError("Malformed frame on the live TTS stream (not a map)")
        return data
    if message.type is aiohttp.WSMsgType.TEXT:
        raise FishAudioWebSocketError("Unexpected text frame on the live TTS stream")
    if message.type is aiohttp.WSMsgType.ERROR:
        # aiohttp reports a protocol violation (or a lost connection) this way.
        raise FishAudioWebSocketError(f"Live TTS connection lost ({type(message.data).__name__})")
    # CLOSE, CLOSING or CLOSED: a close before `finish` is a failure (as the SDK treats it).
    raise FishAudioWebSocketError(
        "Live TTS stream closed before it finished",
        close_code=message.data if isinstance(message.data, int) else None,
    )


async def _receive(ws: aiohttp.ClientWebSocketResponse) -> aiohttp.WSMessage:
    try:
        return await ws.receive()
    except (aiohttp.ClientError, ConnectionError) as err:
        raise FishAudioWebSocketError(
            f"Live TTS connection lost ({type(err).__name__})", close_code=ws.close_code
        ) from err


def _optional_text(value: Any, secret: str | None) -> str | None:
    # Server text, like HTTP error bodies: key removed, one line, length capped.
    text = sanitise(str(value), secret) if value is not None and value != "" else ""
    return text or None


def _audio_or_end(data: dict[str, Any], secret: str | None = None) -> bytes | None:
    """Interpret one server event.

    Returns:
        The audio of an `audio` event (b"" when there is none to yield), or None once the
        stream finished cleanly.

    Raises:
        FishAudioWebSocketError: The event reports a failure.
    """
    event = data.get("event")
    if event == "audio":
        audio = data.get("audio")
        return bytes(audio) if isinstance(audio, bytes | bytearray | memoryview) else b""
    if event == "finish":
        if data.get("reason") == "error":
            raise FishAudioWebSocketError(
                "Live TTS stream ended with an error",
                server_message=_optional_text(data.get("message"), secret),
            )
        # "stop", or a reason this client does not know: the stream is complete.
        return None
    if event == "error":
        raise FishAudioWebSocketError(
            "Live TTS stream reported an error",
            server_message=_optional_text(data.get("error") or data.get("message"), secret),
        )
    # Unknown events (`log`, ...) are ignored, as the AsyncAPI file asks.
    return b""


class _Receiver:
    """Read server frames while the sender runs; bound the wait once it is done.

    The connection is kept alive here, not by aiohttp's `heartbeat`: aiohttp 3.14 re-arms
    its heartbeat timer when data arrives during a client-initiated close, so a stream that
    was cancelled, closed early or failed left a timer (and the response it holds) behind.
    Here the check only runs inside the wait for a frame and ends with it: after `heartbeat`
    seconds without a frame a ping is sent, and without any frame `heartbeat / 2` seconds
    later the connection is declared lost. Pings and pongs are answered and consumed here
    (the socket is opened with `autoping=False`).
    """

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        sender: asyncio.Task[None],
        receive_timeout: float,
        budget_after_text: Callable[[], AudioBudget],
        heartbeat: float | None,
    ) -> None:
        self._ws = ws
        self._sender = sender
        self._receive_timeout = receive_timeout
        self._budget_after_text = budget_after_text
        self._budget: AudioBudget | None = None
        self._heartbeat = heartbeat
        self._pinged = False
        self.pending: asyncio.Task[aiohttp.WSMessage] | None = None

    async def next(self) -> aiohttp.WSMessage:
        """Return the next frame that is not a ping or pong."""
        while True:
            message = await self._frame()
            self._pinged = False  # any frame shows the peer is alive
            if message.type is aiohttp.WSMsgType.PING:
                with contextlib.suppress(aiohttp.ClientError, ConnectionError):
                    await self._ws.pong(message.data)
            elif message.type is not aiohttp.WSMsgType.PONG:
                return message

    async def _frame(self) -> aiohttp.WSMessage:
        """Return the next frame, raising the sender's failure as soon as it happens."""
        while not self._sender.done():
            if self.pending is None:
                self.pending = asyncio.create_task(
                    _receive(self._ws), name="fish_audio_live_receive"
                )
            done, _ = await asyncio.wait(
                (self.pending, self._sender),
                timeout=self._idle_bound(),
                return_when=asyncio.FIRST_COMPLETED,
            )
            if self.pending.done():
                message, self.pending = self.pending.result(), None
                return message
            if not done:
                await self._on_idle()
        # Re-raises an error of the caller's text iterator.
        self._sender.result()
        if self._budget is None:
            # All text is known now, and with it the longest audio that can legitimately
            # come: from here on the rest must arrive within a total deadline and at a
            # minimum throughput, like an HTTP stream (_bounds.py), or it is cut off.
            self._budget = self._budget_after_text()
        budget = self._budget
        limit = min(self._receive_timeout, budget.wait_left())
        budget.begin_wait()
        try:
            async with asyncio.timeout(limit):
                message = await (self.pending or _receive(self._ws))
        except TimeoutError:
            if limit < self._receive_timeout:
                raise budget.timeout_error() from None
            raise FishAudioTimeoutError(
                "No answer on the live TTS stream after the text ended"
            ) from None
        finally:
            self.pending = None
        # Only the time is counted here; the audio is counted once decoded (count_audio), so
        # msgpack framing around a trickle of tiny events does not pass for throughput.
        budget.end_wait(0)
        return message

    def count_audio(self, size: int) -> None:
        """Credit `size` bytes of audio to the budget once the text ended."""
        if self._budget is not None:
            self._budget.end_wait(size)

    def _idle_bound(self) -> float | None:
        if self._heartbeat is None:
            return None
        return self._heartbeat / 2 if self._pinged else self._heartbeat

    async def _on_idle(self) -> None:
        """No frame for a while: ping, or give up if the last ping went unanswered."""
        if self._pinged:
            raise FishAudioWebSocketError(
                "Live TTS connection lost (no answer to ping)", close_code=self._ws.close_code
            )
        self._pinged = True
        # A ping that cannot be written means the socket is going away: the pending
        # receive reports that, or the next idle bound does.
        with contextlib.suppress(aiohttp.ClientError, ConnectionError):
            await self._ws.ping()


async def stream_live(
    ws: aiohttp.ClientWebSocketResponse,
    text: AsyncIterable[str],
    options: TTSOptions,
    policy: FlushPolicy,
    *,
    receive_timeout: float,
    bounds: TextBounds,
    secret: str | None = None,
    heartbeat: float | None = None,
) -> AsyncGenerator[bytes]:
    """Run one live TTS exchange on an open WebSocket, yielding audio as it arrives.

    The WebSocket is owned from here on: it is closed when the generator ends, however it
    ends, and the helper tasks are cancelled and awaited first.

    Args:
        ws: The open WebSocket to /v1/tts/live.
        text: The caller's text chunks.
        options: The TTS settings for the `start` event.
        policy: When to send `flush` events.
        receive_timeout: Longest wait for a server frame once all text was sent. While text
            is still being sent there is no such bound (a slow LLM must not trip it); the
            heartbeat detects a dead peer meanwhile, and `bounds` bound the text itself
            (its length, the wait for each chunk, its end). Once the text ended, the
            whole rest of the stream must also finish within one receive_timeout plus
            twice the longest audio the text can give (_bounds.py).
        bounds: The bounds of the caller's text (text_bounds).
        secret: The API key, removed from server text put into errors.
        heartbeat: Seconds without a frame, while text is still being sent, before a ping
            (None: no pings). Open the socket with `heartbeat=None, autoping=False`: pings
            and pongs are handled here, and aiohttp's own heartbeat would outlive the stream.

    Yields:
        Audio bytes in the requested format.

    Raises:
        FishAudioWebSocketError: The server reported an error or the stream broke.
        FishAudioTimeoutError: The server went quiet after all text was sent.
        FishAudioTextStreamError: The text is too long, stopped arriving or did not end in
            time.
        FishAudioInvalidResponseError: More audio than the text sent can give (an
            endless stream).
    """
    sender_task: asyncio.Task[None] | None = None
    receiver: _Receiver | None = None
    try:
        start = {"event": "start", "request": options.to_request("", include_none=True)}
        try:
            await ws.send_bytes(ormsgpack.packb(start))
        except (aiohttp.ClientError, ConnectionError):
            raise FishAudioWebSocketError("Live TTS stream closed before it started") from None
        sender = _Sender(ws, text, policy, bounds)
        sender_task = asyncio.create_task(sender.run(), name="fish_audio_live_sender")
        receiver = _Receiver(
            ws,
            sender_task,
            receive_timeout,
            # Frames carry msgpack framing beside the audio: their cap is the caller's.
            lambda: stream_budget(sender.chars, options, receive_timeout, size_factor=2),
            heartbeat,
        )
        received = 0
        while (audio := _audio_or_end(_decode(await receiver.next()), secret)) is not None:
            received += len(audio)
            receiver.count_audio(len(audio))
            if received > (cap := audio_bytes_max(sender.chars, options)):
                raise FishAudioInvalidResponseError(
                    f"The live audio exceeds the {cap} bytes the text sent can give"
                )
            if audio:
                yield audio
    finally:
        tasks = [
            task
            for task in (receiver.pending if receiver else None, sender_task)
            if task is not None
        ]
        try:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks)
            for task in tasks:
                # Mark failures as retrieved: the one that mattered was raised above.
                if not task.cancelled():
                    task.exception()
        finally:
            await ws.close()
