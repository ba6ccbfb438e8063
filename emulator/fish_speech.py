"""The emulator's Fish Speech mode: the self-hosted Fish Speech server's HTTP API.

It behaves as the open-source server (``tools/api_server.py`` of fishaudio/fish-speech) does,
quirks included, so that the integration's second backend is tested against what that server
really answers rather than against what our client sends:

- Started with an API key, every route (``/v1/health`` too) needs ``Authorization: Bearer``;
  a refused token is ``401 {"statusCode": 401, "message": "Invalid token", "error":
  "Unauthorized"}``. Every error has that ``{statusCode, message, error}`` shape.
- Request bodies are msgpack, JSON or multipart; any other Content-Type is 415.
- The ``/v1/references/*`` endpoints answer msgpack unless ``?format=json`` or an ``Accept``
  header that names JSON but not msgpack asks for JSON.
- ``/v1/tts`` validates like the server's pydantic model (unknown fields ignored), refuses
  text over ``max_text_length`` (400) and streaming in a format other than WAV (400). A
  streamed answer is **headerless** 16-bit mono PCM although its Content-Type says
  ``audio/wav``. A whole answer is a complete WAV or MP3 file; ``pcm`` and ``opus`` fail with
  500 (the server writes files with soundfile, which has no such format names).
- An unknown ``reference_id`` does not fail: an empty reference folder is created and the text
  is spoken without a reference; a later ``add`` with that id then answers 409.
- Synthesis is slow: ``sentence_latency`` seconds pass before each sentence's audio, the way a
  small GPU takes seconds per sentence.

Where the server's behaviour was inferred rather than read (the status of a body that fails
validation: 422, the framework's default), the code says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
import io
import logging
import re
import time
from typing import Any, Final
import wave

from aiohttp import web
from multidict import MultiDict
import ormsgpack

from .audio import Mp3Stream, pcm_samples
from .bodies import BodyError, decode_body
from .server import SENTENCE, Handler, LoopbackServer, Route, bearer_token, record_of
from .state import RecordedRequest

_LOGGER = logging.getLogger(__name__)

# The current codec's rate (fish-speech's S2-Pro and openaudio-s1-mini decoders).
SAMPLE_RATE: Final = 44100
# Body types the server reads (tools/server/api_utils.py: MsgPackRequest.data); the compare
# is exact, so application/x-msgpack is refused like any other type.
BODY_TYPES: Final = frozenset({"application/msgpack", "application/json", "multipart/form-data"})
MSGPACK: Final = "application/msgpack"
REFERENCE_ID: Final = re.compile(r"^[a-zA-Z0-9\-_ ]+$")
REFERENCE_ID_MAX: Final = 255


def error_response(
    status: int, message: str | None = None, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Return the server's error body ``{statusCode, message, error}``."""
    phrase = HTTPStatus(status).phrase
    body = {"statusCode": status, "message": message, "error": phrase}
    return web.json_response(body, status=status, headers=headers)


def sentences(text: str) -> list[str]:
    """Split ``text`` into sentences (at least one)."""
    # The engine splits long text into sentences; so does the emulator, to cost each one.
    found = [s for s in SENTENCE.findall(text) if s.strip()]
    return found or [text]


def wav_file(pcm: bytes, sample_rate: int = SAMPLE_RATE) -> bytes:
    """Return ``pcm`` (s16le mono) as a complete WAV file with exact sizes."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)
    return buffer.getvalue()


@dataclass(slots=True)
class Reference:
    """A stored reference voice: ``references/<id>/sample.wav`` and ``sample.lab``.

    ``audio`` is None for the empty folder an unknown ``reference_id`` leaves behind.
    """

    audio: bytes | None
    text: str | None


class TtsRequestError(ValueError):
    """A /v1/tts body that the server's request model refuses."""


_TTS_DEFAULTS: Final[dict[str, Any]] = {
    "chunk_length": 200,
    "format": "wav",
    "latency": "normal",
    "references": [],
    "reference_id": None,
    "seed": None,
    "use_memory_cache": "off",
    "normalize": True,
    "streaming": False,
    "max_new_tokens": 1024,
    "top_p": 0.8,
    "repetition_penalty": 1.1,
    "temperature": 0.8,
}
_CHOICES: Final[dict[str, tuple[str, ...]]] = {
    "format": ("wav", "pcm", "mp3", "opus"),
    "latency": ("normal", "balanced"),
    "use_memory_cache": ("on", "off"),
}
_FLOAT_RANGES: Final[dict[str, tuple[float, float]]] = {
    "top_p": (0.1, 1.0),
    "repetition_penalty": (0.9, 2.0),
    "temperature": (0.1, 1.0),
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_tts(data: Any) -> dict[str, Any]:
    """Return the ServeTTSRequest fields of ``data`` with defaults; unknown fields are ignored.

    Raises:
        TtsRequestError: A field the request model refuses, as "field: reason".
    """
    if not isinstance(data, Mapping):
        raise TtsRequestError("body: Input should be a valid dictionary")
    fields = {**_TTS_DEFAULTS, **{k: v for k, v in data.items() if k in _TTS_DEFAULTS}}
    if not isinstance(data.get("text"), str):
        raise TtsRequestError("text: Field required" if "text" not in data else "text: str")
    fields["text"] = data["text"]
    # chunk_length is a strict int: "200" or 200.0 are refused.
    chunk = fields["chunk_length"]
    if not _is_int(chunk) or not 100 <= chunk <= 1000:
        raise TtsRequestError("chunk_length: Input should be an integer from 100 to 1000")
    for name, choices in _CHOICES.items():
        if fields[name] not in choices:
            raise TtsRequestError(f"{name}: Input should be one of {', '.join(choices)}")
    for name, (low, high) in _FLOAT_RANGES.items():
        value = fields[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TtsRequestError(f"{name}: Input should be a valid number")
        if not low <= value <= high:
            raise TtsRequestError(f"{name}: Input should be from {low} to {high}")
    for name in ("seed",):
        if fields[name] is not None and not _is_int(fields[name]):
            raise TtsRequestError(f"{name}: Input should be a valid integer")
    if not _is_int(fields["max_new_tokens"]):
        raise TtsRequestError("max_new_tokens: Input should be a valid integer")
    for name in ("normalize", "streaming"):
        if not isinstance(fields[name], bool):
            raise TtsRequestError(f"{name}: Input should be a valid boolean")
    if fields["reference_id"] is not None and not isinstance(fields["reference_id"], str):
        raise TtsRequestError("reference_id: Input should be a valid string")
    references = fields["references"]
    if not isinstance(references, list) or not all(
        isinstance(r, Mapping) and isinstance(r.get("audio"), bytes | str) and "text" in r
        for r in references
    ):
        raise TtsRequestError("references: Input should be a list of {audio, text}")
    return fields


def wants_json(request: web.Request) -> bool:
    """Whether a /v1/references/* answer is JSON rather than the default msgpack."""
    query = request.query.get("format", "").strip().lower()
    if query in {"json", "application/json", "msgpack", "application/msgpack"}:
        return query == "json"
    accept = request.headers.get("Accept", "").strip().lower()
    return "application/json" in accept and "application/msgpack" not in accept


class FishSpeechEmulator(LoopbackServer):
    """A local Fish Speech server with full request records.

    Use it in-process (``await emu.start()`` then ``emu.base_url``) or as a process
    (``python -m emulator --fish-speech``). ``references`` holds the stored voices (tests may
    edit it), ``requests`` every HTTP request as received.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        max_text_length: int = 0,
        sentence_latency: float = 0.0,
        audio_seconds_per_char: float = 0.06,
        piece_seconds: float = 0.25,
        references: Mapping[str, tuple[bytes, str]] | None = None,
    ) -> None:
        """Initialise the emulator (nothing listens until ``start()``).

        Args:
            api_key: The server's ``--api-key``; None: no authentication at all.
            max_text_length: The server's ``--max-text-length`` (0: no limit, its default).
            sentence_latency: Seconds of synthesis before each sentence's audio.
            audio_seconds_per_char: Seconds of audio per character of text.
            piece_seconds: Seconds of audio per streamed chunk.
            references: Stored reference voices: id -> (audio, transcript).
        """
        self.api_key = api_key
        self.max_text_length = max_text_length
        self.sentence_latency = sentence_latency
        self.audio_seconds_per_char = audio_seconds_per_char
        self.piece_seconds = piece_seconds
        self.references: dict[str, Reference] = {
            ref_id: Reference(audio, text) for ref_id, (audio, text) in (references or {}).items()
        }
        # Monotonic time at which each sentence's audio was written (benchmarks, tests).
        self.sentence_times: list[float] = []
        super().__init__()

    # --- lifecycle --------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """Return the server's routes (tools/api_server.py) and the control API's."""
        return [
            ("GET", "/v1/health", self._health),
            ("POST", "/v1/health", self._health),
            ("POST", "/v1/tts", self._tts),
            ("POST", "/v1/references/add", self._add),
            ("GET", "/v1/references/list", self._list),
            ("DELETE", "/v1/references/delete", self._delete),
            ("POST", "/v1/references/update", self._update),
            ("GET", "/_emulator/state", self._control_state),
        ]

    # --- cross-cutting: auth, body type -----------------------------------------------------

    async def answer(
        self, request: web.Request, handler: Handler, record: RecordedRequest
    ) -> web.StreamResponse:
        """Refuse a missing or wrong token, else answer (the body is decoded by the route)."""
        response = self._refusal(request, record)
        if response is not None:
            return response
        try:
            return await handler(request)
        except web.HTTPException as exc:  # the router's 404 and 405
            return error_response(exc.status, exc.reason)

    def _refusal(self, request: web.Request, record: RecordedRequest) -> web.Response | None:
        """Return a 401 for a missing or wrong token (when the server has a key)."""
        if self.api_key is None:
            return None
        token = bearer_token(request)
        if token is None or token != self.api_key:
            return error_response(401, "Invalid token")
        record.api_key = token
        return None

    @staticmethod
    def _body(request: web.Request) -> Any:
        """Return the decoded body, or the server's 415/400 answer as a ``web.Response``."""
        record = record_of(request)
        if request.content_type not in BODY_TYPES:
            return error_response(415, None, {"Accept": ", ".join(sorted(BODY_TYPES))})
        try:
            decoded = decode_body(record.content_type, record.body)
        except BodyError as err:
            return error_response(400, str(err))
        record.decoded, record.parts = decoded.value, decoded.parts
        return decoded.value

    def _fields(self, request: web.Request) -> Mapping[str, Any] | web.Response:
        """Return the body's fields (a form's or a map's), or an error answer."""
        data = self._body(request)
        if isinstance(data, web.Response):
            return data
        return data if isinstance(data, Mapping) else {}

    def _answer(
        self, request: web.Request, data: Mapping[str, Any], status: int = 200
    ) -> web.Response:
        """Answer a /v1/references/* call in msgpack, or JSON when the caller asks for it."""
        if wants_json(request):
            return web.json_response(dict(data))
        return web.Response(body=ormsgpack.packb(dict(data)), content_type=MSGPACK)

    # --- health -------------------------------------------------------------------------------

    async def _health(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok"})

    # --- TTS ----------------------------------------------------------------------------------

    async def _tts(self, request: web.Request) -> web.StreamResponse:
        data = self._body(request)
        if isinstance(data, web.Response):
            return data
        if isinstance(data, MultiDict):  # a form: its fields as the model would see them
            data = dict(data.items())
        try:
            fields = validate_tts(data)
        except TtsRequestError as err:
            # Inferred: the framework's status for a body its model refuses.
            return error_response(422, str(err))
        text: str = fields["text"]
        if self.max_text_length > 0 and len(text) > self.max_text_length:
            return error_response(400, f"Text is too long, max length is {self.max_text_length}")
        if fields["streaming"] and fields["format"] != "wav":
            return error_response(400, "Streaming only supports WAV format")
        reference_id = fields["reference_id"]
        if reference_id is not None and reference_id not in self.references:
            # The server's quirk: it makes an empty folder and speaks without a reference.
            self.references[reference_id] = Reference(None, None)
        if fields["format"] in ("pcm", "opus") and not fields["streaming"]:
            await self.wait(self.sentence_latency * len(sentences(text)))
            return error_response(500, "Failed to generate speech")
        headers = {"Content-Disposition": f"attachment; filename=audio.{fields['format']}"}
        content_type = "audio/mpeg" if fields["format"] == "mp3" else "audio/wav"
        if fields["streaming"]:
            return await self._stream(request, text, headers)
        # Not streaming: the whole clip is made first, then written in one piece.
        if not await self.wait(self.sentence_latency * len(sentences(text))):
            return error_response(500, "Failed to generate speech")
        seconds = self._seconds(text)
        if fields["format"] == "mp3":
            stream = Mp3Stream(SAMPLE_RATE, 128)
            body = b"".join(stream.render(seconds, seconds))
        else:
            body = wav_file(pcm_samples(SAMPLE_RATE, round(seconds * SAMPLE_RATE)))
        self.sentence_times.append(time.monotonic())
        return web.Response(body=body, headers={**headers, "Content-Type": content_type})

    def _seconds(self, text: str) -> float:
        return max(0.2, len(text) * self.audio_seconds_per_char)

    async def _stream(
        self, request: web.Request, text: str, headers: Mapping[str, str]
    ) -> web.StreamResponse:
        """Stream headerless PCM, one sentence at a time (the engine drops its WAV header)."""
        response = web.StreamResponse(headers={**headers, "Content-Type": "audio/wav"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        offset = 0
        try:
            for sentence in sentences(text):
                if not await self.wait(self.sentence_latency):
                    # Stopping: the connection drops mid-answer, as a server shut down does.
                    if request.transport is not None:
                        request.transport.close()
                    break
                self.sentence_times.append(time.monotonic())
                frames = round(self._seconds(sentence) * SAMPLE_RATE)
                per_piece = max(1, round(self.piece_seconds * SAMPLE_RATE))
                while frames > 0:
                    count = min(per_piece, frames)
                    # The signal continues across sentences, as one voice would.
                    await response.write(pcm_samples(SAMPLE_RATE, count, offset))
                    offset += count
                    frames -= count
        except ConnectionError:
            _LOGGER.debug("Client went away during a Fish Speech stream")
        return response

    # --- references ---------------------------------------------------------------------------

    @staticmethod
    def _bad_id(value: Any, name: str) -> web.Response | None:
        """Return a 400 unless ``value`` is a valid reference id."""
        if isinstance(value, str) and REFERENCE_ID.match(value) and len(value) <= REFERENCE_ID_MAX:
            return None
        return error_response(400, f"Invalid {name}")

    def _refuse_add(self, fields: Mapping[str, Any]) -> web.Response | None:
        ref_id, audio, text = fields.get("id"), fields.get("audio"), fields.get("text")
        if (bad := self._bad_id(ref_id, "id")) is not None:
            return bad
        if not isinstance(audio, bytes) or not audio:
            return error_response(400, "Audio file is required")
        if not isinstance(text, str) or not text.strip():
            return error_response(400, "Reference text is required")
        if ref_id in self.references:
            return error_response(409, f"Reference ID '{ref_id}' already exists")
        return None

    async def _add(self, request: web.Request) -> web.StreamResponse:
        fields = self._fields(request)
        if isinstance(fields, web.Response):
            return fields
        if (refused := self._refuse_add(fields)) is not None:
            return refused
        ref_id = str(fields["id"])
        self.references[ref_id] = Reference(fields["audio"], fields["text"])
        return self._answer(
            request,
            {"success": True, "message": f"Reference voice '{ref_id}' added successfully",
             "reference_id": ref_id},
        )  # fmt: skip

    async def _list(self, request: web.Request) -> web.StreamResponse:
        # Only folders that hold audio and a transcript are listed.
        ids = sorted(ref_id for ref_id, ref in self.references.items() if ref.audio is not None)
        return self._answer(
            request,
            {"success": True, "reference_ids": ids,
             "message": f"Found {len(ids)} reference voices"},
        )  # fmt: skip

    async def _delete(self, request: web.Request) -> web.StreamResponse:
        fields = self._fields(request)
        if isinstance(fields, web.Response):
            return fields
        ref_id = fields.get("reference_id")
        if (bad := self._bad_id(ref_id, "reference_id")) is not None:
            return bad
        if ref_id not in self.references:
            return error_response(404, f"Reference ID '{ref_id}' not found")
        del self.references[ref_id]
        return self._answer(
            request,
            {"success": True, "message": f"Reference voice '{ref_id}' deleted successfully",
             "reference_id": ref_id},
        )  # fmt: skip

    async def _update(self, request: web.Request) -> web.StreamResponse:
        fields = self._fields(request)
        if isinstance(fields, web.Response):
            return fields
        old, new = fields.get("old_reference_id"), fields.get("new_reference_id")
        for value, name in ((old, "old_reference_id"), (new, "new_reference_id")):
            if (bad := self._bad_id(value, name)) is not None:
                return bad
        if old not in self.references:
            return error_response(404, f"Reference ID '{old}' not found")
        if new in self.references:
            return error_response(409, f"Reference ID '{new}' already exists")
        self.references[str(new)] = self.references.pop(str(old))
        return self._answer(
            request,
            {"success": True,
             "message": f"Reference voice renamed from '{old}' to '{new}' successfully",
             "old_reference_id": old, "new_reference_id": new},
        )  # fmt: skip

    # --- control API (unauthenticated; only ever bound to loopback) ----------------------------

    async def _control_state(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {
                "base_url": self.base_url,
                "mode": "fish-speech",
                "references": {
                    ref_id: {"audio_bytes": len(ref.audio or b""), "text": ref.text}
                    for ref_id, ref in self.references.items()
                },
                "requests": len(self.requests),
            }
        )


def demo_references() -> dict[str, tuple[bytes, str]]:
    """Return two stored voices for the demo (a second of the emulator's signal each)."""
    audio = wav_file(pcm_samples(SAMPLE_RATE, SAMPLE_RATE))
    return {
        "narrator": (audio, "This is the narrator's reference recording."),
        "kitchen-speaker": (audio, "A calm voice for the kitchen."),
    }
