"""One ``/v1/tts/live`` session: the server's text buffer, synthesis segments and faults.

The real server buffers text and synthesises a *segment* whenever the buffer reaches
``chunk_length`` characters, on ``flush``, and on ``stop``; each segment costs time before its
first audio. The emulator models exactly that, with ``segment_latency`` as the cost, so a
client's flush policy has a measurable effect on time to first audio and on total time.

Two tasks run per session: the receiver (the request handler itself) reads and records client
events and cuts segments; the synthesiser (an emulator-owned task) turns segments into audio
events in order. Text keeps arriving while a segment is being synthesised, as it does live.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import Enum, auto
import logging
import time
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web
import ormsgpack

from .audio import open_stream
from .const import CHUNK_DELAY_KEY
from .faults import CONCURRENCY_MESSAGE, WsFault
from .validation import validate_tts

if TYPE_CHECKING:
    from .app import FishAudioEmulator
    from .audio import AudioStream
    from .state import Account, RecordedWebSocket
    from .validation import TtsSettings

_LOGGER = logging.getLogger(__name__)

# Frames that look like an audio event to a careless client but are not valid.
_MALFORMED_FRAME = b"\xc1\xc1 not msgpack"
_NON_MAP_FRAME = ormsgpack.packb(["audio", b"\x00"])


class _Outcome(Enum):
    """How the receiver ended."""

    STOPPED = auto()  # the client sent stop: let the synthesiser finish
    ENDED = auto()  # the session is over (protocol error, fault or client close)


class _SessionEndedError(Exception):
    """Raised inside the synthesiser when a fault ends the session."""


@dataclass(frozen=True, slots=True)
class _Segment:
    """One unit of synthesis cut from the text buffer."""

    text: str
    speed: float
    stream: AudioStream


class LiveSession:
    """Serve one live TTS WebSocket until it closes."""

    def __init__(
        self,
        emulator: FishAudioEmulator,
        *,
        request: web.Request,
        ws: web.WebSocketResponse,
        record: RecordedWebSocket,
        account: Account,
        fault: WsFault | None,
    ) -> None:
        """Initialise the session (the handshake is already done)."""
        self._emu = emulator
        self._request = request
        self._ws = ws
        self._record = record
        self._account = account
        self._fault = fault
        self._fault_struck = False
        self._settings: TtsSettings | None = None
        self._stream: AudioStream | None = None
        self._buffer = ""
        # None marks the stop: send the trailer and the finish.
        self._queue: asyncio.Queue[_Segment | None] = asyncio.Queue()
        self._audio_sent = 0
        self._header_sent = False

    async def run(self) -> None:
        """Receive, synthesise and close; never leaves a task behind."""
        synthesiser = self._emu.spawn(
            self._synthesise(), f"fish-audio-emulator live synthesis {id(self)}"
        )
        try:
            if await self._receive() is _Outcome.STOPPED:
                # Keep reading while the synthesiser works, so that a client that gives up is
                # noticed at once; the synthesiser closes the socket after its finish event.
                await self._drain()
        except ConnectionError:
            _LOGGER.debug("Live TTS client went away")
        finally:
            synthesiser.cancel()
            await asyncio.gather(synthesiser, return_exceptions=True)
            await self._ws.close()
            self._record.close_code = self._ws.close_code
            self._record.closed = time.monotonic()
            self._record.done.set()

    # --- receiving ----------------------------------------------------------------------------

    async def _receive(self) -> _Outcome:
        async for message in self._ws:
            now = time.monotonic()
            if message.type is WSMsgType.TEXT:
                self._record.events.append(
                    {"event": None, "text_frame": message.data, "monotonic": now}
                )
                await self._protocol_error("Frames must be binary msgpack maps, not text")
                return _Outcome.ENDED
            if message.type is not WSMsgType.BINARY:  # ERROR: the connection broke
                break
            try:
                data = ormsgpack.unpackb(message.data)
            except ormsgpack.MsgpackDecodeError:
                data = None
            if not isinstance(data, dict):
                self._record.events.append({"event": None, "raw": message.data, "monotonic": now})
                await self._protocol_error("Frames must be msgpack maps")
                return _Outcome.ENDED
            self._record.events.append({**data, "monotonic": now})
            outcome = await self._handle(data)
            if outcome is not None:
                return outcome
        return _Outcome.ENDED

    async def _handle(self, data: dict[str, Any]) -> _Outcome | None:
        event = data.get("event")
        if self._settings is None:
            if event != "start":
                await self._protocol_error("The first event must be 'start'")
                return _Outcome.ENDED
            return await self._start(data.get("request"))
        if event == "start":
            await self._protocol_error("'start' may only be sent once")
            return _Outcome.ENDED
        if event == "text":
            text = data.get("text")
            if not isinstance(text, str):
                await self._protocol_error("'text' must be a string")
                return _Outcome.ENDED
            self._buffer += text
            self._cut_full_chunks(self._settings)
        elif event == "flush":
            self._cut(self._settings, "flush")
        elif event == "stop":
            self._cut(self._settings, "stop")
            self._queue.put_nowait(None)
            return _Outcome.STOPPED
        # Unknown events are ignored, as the AsyncAPI document asks of both sides.
        return None

    async def _start(self, request: Any) -> _Outcome | None:
        settings, errors = validate_tts(
            request, model=self._record.model, prefix=("request",), require_text=False
        )
        if settings is None:
            details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
            await self._protocol_error(f"Invalid start request: {details}")
            return _Outcome.ENDED
        ids = () if settings.references else settings.reference_ids
        missing = self._emu.unknown_reference(self._account, ids)
        if missing is not None:
            await self._protocol_error(f"Reference model not found: {missing}")
            return _Outcome.ENDED
        self._record.request = request
        self._settings = settings
        self._buffer = settings.text
        self._cut_full_chunks(settings)
        return None

    def _cut_full_chunks(self, settings: TtsSettings) -> None:
        size = settings.chunk_length
        while len(self._buffer) >= size:
            self._enqueue(settings, self._buffer[:size], "chunk_length")
            self._buffer = self._buffer[size:]

    def _cut(self, settings: TtsSettings, reason: str) -> None:
        if self._buffer:
            self._enqueue(settings, self._buffer, reason)
            self._buffer = ""

    def _enqueue(self, settings: TtsSettings, text: str, reason: str) -> None:
        if self._stream is None:
            self._stream = open_stream(
                settings.format, sample_rate=settings.sample_rate, mp3_bitrate=settings.mp3_bitrate
            )
        self._record.segments.append(
            {"text": text, "reason": reason, "monotonic": time.monotonic()}
        )
        self._queue.put_nowait(_Segment(text, settings.speed, self._stream))

    async def _drain(self) -> None:
        """Record what the client sends until it closes."""
        async for message in self._ws:
            if message.type is WSMsgType.BINARY:
                try:
                    data = ormsgpack.unpackb(message.data)
                except ormsgpack.MsgpackDecodeError:
                    data = {"event": None, "raw": message.data}
                if isinstance(data, dict):
                    self._record.events.append({**data, "monotonic": time.monotonic()})

    async def _protocol_error(self, message: str) -> None:
        """End the session the way the server reports a bad request: finish/error."""
        await self._send({"event": "finish", "reason": "error", "message": message})

    # --- synthesising -------------------------------------------------------------------------

    async def _synthesise(self) -> None:
        try:
            while (segment := await self._queue.get()) is not None:
                await self._synthesise_segment(segment)
            # A stream that produced audio is closed properly (Ogg needs its end-of-stream page).
            if self._stream is not None and (trailer := self._stream.trailer()):
                await self._send_audio(self._stream, trailer)
            if await self._finish():
                await self._ws.close()
        except _SessionEndedError:
            await self._ws.close()
        except ConnectionError:
            _LOGGER.debug("Live TTS client went away during synthesis")

    async def _synthesise_segment(self, segment: _Segment) -> None:
        await self._emu.pause(self._emu.segment_latency)
        self._emu.charge_tts(self._account, self._record.model, segment.text)
        seconds = self._emu.audio_seconds(segment.text, segment.speed)
        pieces = segment.stream.render(seconds, self._emu.piece_seconds)
        for index, piece in enumerate(pieces):
            if index:
                await self._emu.pause(self._request[CHUNK_DELAY_KEY])
            await self._send_audio(segment.stream, piece)

    async def _send_audio(self, stream: AudioStream, audio: bytes) -> None:
        if not self._header_sent:
            audio = stream.header() + audio
            self._header_sent = True
        if await self._strike():
            return
        await self._send({"event": "audio", "audio": audio}, size=len(audio))
        self._audio_sent += 1

    async def _finish(self) -> bool:
        """Send the finish event; return False when a fault withholds it (never-finish)."""
        if await self._strike(at_finish=True):
            return False
        await self._send({"event": "finish", "reason": "stop"})
        return True

    async def _strike(self, *, at_finish: bool = False) -> bool:
        """Apply the session's fault if it is due; return True when the audio/finish is replaced.

        Raises:
            _SessionEndedError: The fault ends the session.
        """
        fault = self._fault
        if fault is None or self._fault_struck:
            return False
        if not at_finish and self._audio_sent < fault.after_audio_chunks:
            return False
        mode = fault.mode
        if mode == "unknown-events":
            await self._send({"event": "log", "level": "info", "message": "segment synthesised"})
            await self._send({"event": "future-event", "payload": {"x": 1}})
            return False
        if mode in ("endless", "trickle"):
            self._fault_struck = True
            await self._never_ending(fault)
        if mode == "never-finish":
            # Audio flows normally; only the finish is withheld.
            if at_finish:
                self._fault_struck = True
                return True
            return False
        self._fault_struck = True
        if mode == "finish-error":
            event: dict[str, Any] = {"event": "finish", "reason": "error"}
            if fault.message is not None:
                event["message"] = fault.message
            await self._send(event)
            raise _SessionEndedError
        if mode == "error-event":
            await self._send(
                {
                    "event": "error",
                    "error": fault.message or CONCURRENCY_MESSAGE,
                    "max_concurrency": 5,
                }
            )
            raise _SessionEndedError
        if mode == "close":
            self._record.sent.append(
                {"event": "<connection dropped>", "monotonic": time.monotonic()}
            )
            if self._request.transport is not None:
                self._request.transport.close()
            raise _SessionEndedError
        # text-frame, malformed, non-map: one bad frame in place of this audio event.
        if mode == "text-frame":
            await self._ws.send_str('{"event": "audio", "audio": ""}')
        else:
            await self._ws.send_bytes(_MALFORMED_FRAME if mode == "malformed" else _NON_MAP_FRAME)
        self._record.sent.append({"event": f"<{mode}>", "monotonic": time.monotonic()})
        return not at_finish

    async def _never_ending(self, fault: WsFault) -> None:
        """Send audio events for ever (fast, or one small one per interval); never a finish.

        Only the first is recorded: the record must not grow without bound too.
        """
        self._record.sent.append({"event": f"<{fault.mode}>", "monotonic": time.monotonic()})
        trickle = fault.mode == "trickle"
        frame = ormsgpack.packb({"event": "audio", "audio": b"\0" * (16 if trickle else 65536)})
        while True:
            if trickle:
                await self._emu.pause(fault.interval)
            else:
                await asyncio.sleep(0)
            await self._ws.send_bytes(frame)

    async def _send(self, event: dict[str, Any], *, size: int | None = None) -> None:
        await self._ws.send_bytes(ormsgpack.packb(event))
        entry = {k: v for k, v in event.items() if k != "audio"}
        if size is not None:
            entry["size"] = size
        entry["monotonic"] = time.monotonic()
        self._record.sent.append(entry)
