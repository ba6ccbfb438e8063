"""Audio assembly for speech-to-text uploads: buffering, WAV wrapping, duration probing.

Pure Python (aiohttp only for one type check), no Home Assistant import; shared by the
speech-to-text entity and the ``transcribe`` action. Everything here runs in time linear in
the size of the audio, and nothing copies the audio more than once after it is collected:

- :func:`read_capped` collects an async stream of chunks into one ``bytearray`` (amortised
  O(1) appends) and stops reading as soon as the cap is passed, so an endless stream costs at
  most the cap in memory.
- :func:`pcm_to_wav` puts a RIFF/WAVE header in front of headerless PCM (what an Assist
  pipeline streams) in one copy.
- :func:`probe_duration` reads the duration of a WAV or Ogg file from its headers and page
  granule positions without decoding audio, so limits can be checked before an upload.
- :func:`check_asr_limits` compares size and duration with the API's limits and raises an
  :class:`AudioLimitError` subclass that says which limit and by how much.

:class:`AudioFormatError` is for callers that find audio not matching its announced format;
:class:`AudioStalledError` is what :func:`read_capped` raises when a stream goes quiet.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import math
import struct
from typing import TYPE_CHECKING

from aiohttp import StreamReader

from .api.const import ASR_MAX_BYTES, ASR_MAX_SECONDS, ASR_MIN_SECONDS

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, Iterator

# A canonical PCM WAV header: RIFF descriptor (12) + "fmt " chunk (8 + 16) + "data" header (8).
WAV_HEADER_SIZE = 44
_WAVE_FORMAT_PCM = 1
# RIFF sizes are 32-bit; writers that stream (size unknown when the header is written) put
# 0 or 0xFFFFFFFF there, so the real size is whatever follows.
_RIFF_SIZE_UNKNOWN = (0, 0xFFFFFFFF)
# Opus always counts granule positions at 48 kHz, whatever the input rate (RFC 7845 §4).
_OPUS_GRANULE_RATE = 48000
_OGG_PAGE_HEADER_SIZE = 27


class AudioLimitError(ValueError):
    """Audio outside the limits of the speech-to-text API.

    Attributes:
        value: The measured size (bytes) or duration (seconds).
        limit: The limit it breaks, in the same unit.
    """

    def __init__(self, message: str, *, value: float, limit: float) -> None:
        """Initialise the error with the measured value and the limit it breaks."""
        super().__init__(message)
        self.value = value
        self.limit = limit


class AudioTooLargeError(AudioLimitError):
    """More bytes than the API accepts in one upload."""


class AudioTooLongError(AudioLimitError):
    """Longer than the API transcribes in one call."""


class AudioTooShortError(AudioLimitError):
    """Shorter than the API transcribes (including no audio at all)."""


class AudioFormatError(ValueError):
    """Audio that is not in the format it was announced in."""


class AudioStalledError(TimeoutError):
    """An audio stream sent nothing for longer than its idle timeout."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PCMFormat:
    """The layout of headerless little-endian PCM audio.

    Attributes:
        sample_rate: Frames per second.
        channels: Interleaved channels per frame.
        sample_width: Bytes per sample (2 for 16-bit).
    """

    sample_rate: int
    channels: int = 1
    sample_width: int = 2

    def __post_init__(self) -> None:
        """Reject layouts no WAV header can describe."""
        if self.sample_rate <= 0 or self.channels <= 0 or self.sample_width <= 0:
            raise ValueError("sample_rate, channels and sample_width must be positive")

    @property
    def frame_size(self) -> int:
        """Bytes per frame (one sample of every channel)."""
        return self.channels * self.sample_width

    @property
    def byte_rate(self) -> int:
        """Bytes per second."""
        return self.sample_rate * self.frame_size

    def duration(self, size: int) -> float:
        """Return the duration in seconds of ``size`` bytes of audio in this layout."""
        return size / self.byte_rate


async def read_capped(
    stream: AsyncIterable[bytes], *, max_bytes: int, idle_timeout: float | None = None
) -> bytearray:
    """Collect an audio stream into one buffer, in time and memory linear in its size.

    Args:
        stream: The chunks, in order.
        max_bytes: The most bytes accepted.
        idle_timeout: Seconds a chunk may take to arrive, or None to wait as long as the
            stream does. A bound on each wait, not on the whole stream: a long recording
            that keeps flowing is never cut. A stall is noticed between one and one and a
            half times this after the last chunk.

    Returns:
        All chunks joined.

    Raises:
        AudioTooLargeError: as soon as the stream passes ``max_bytes``; the rest of the
            stream is not read.
        AudioStalledError: no chunk (nor the end) arrived within ``idle_timeout``.
    """
    if isinstance(stream, StreamReader):
        # An HTTP request body (Home Assistant's STT view passes `request.content`): plain
        # iteration would split it at newline bytes and fail on a "line" over 128 KiB, which
        # a second of digital silence is; read whatever has arrived instead.
        stream = stream.iter_any()
    buffer = bytearray()
    loop = asyncio.get_running_loop()
    # One timeout for the whole read, pushed back only when a chunk arrives after half the
    # bound has passed: a timer per chunk (50 a second from a pipeline) cost more CPU than
    # the buffering itself (benchmarks/README.md). After any chunk at least `idle_timeout`
    # remains, so a stream that keeps flowing is never cut.
    grace = math.inf if idle_timeout is None else idle_timeout * 1.5
    rearm_after = math.inf if idle_timeout is None else idle_timeout / 2
    armed_at = loop.time()
    try:
        async with asyncio.timeout_at(
            None if idle_timeout is None else armed_at + grace
        ) as deadline:
            async for chunk in stream:
                buffer.extend(chunk)  # grows in place: amortised O(len(chunk)), no full copy
                if len(buffer) > max_bytes:
                    raise AudioTooLargeError(
                        f"audio is larger than {max_bytes} bytes",
                        value=len(buffer),
                        limit=max_bytes,
                    )
                if (now := loop.time()) - armed_at >= rearm_after:
                    armed_at = now
                    deadline.reschedule(now + grace)
    except TimeoutError:
        raise AudioStalledError(
            f"no audio arrived for {idle_timeout:g} s ({len(buffer)} bytes before)"
        ) from None
    return buffer


def wav_header(data_size: int, pcm: PCMFormat) -> bytes:
    """Return a canonical 44-byte PCM WAV header for ``data_size`` bytes of audio.

    Args:
        data_size: Size of the PCM data that follows the header.
        pcm: The layout of that data.

    Returns:
        The header.
    """
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        WAV_HEADER_SIZE - 8 + data_size,
        b"WAVE",
        b"fmt ",
        16,
        _WAVE_FORMAT_PCM,
        pcm.channels,
        pcm.sample_rate,
        pcm.byte_rate,
        pcm.frame_size,
        pcm.sample_width * 8,
        b"data",
        data_size,
    )


def pcm_to_wav(data: bytes | bytearray | memoryview, pcm: PCMFormat) -> bytes:
    """Wrap headerless PCM in a WAV file, in one copy.

    A trailing partial frame (a stream cut mid-sample) is dropped, so the data size is always
    a whole number of frames as the format requires.

    Args:
        data: The PCM audio.
        pcm: Its layout.

    Returns:
        A complete WAV file.
    """
    view = memoryview(data)
    size = len(view) - len(view) % pcm.frame_size
    return b"".join((wav_header(size, pcm), view[:size]))


def pad_pcm(
    data: bytes | bytearray | memoryview, pcm: PCMFormat, seconds: float
) -> bytes | bytearray | memoryview:
    """Append silence to signed PCM so that it lasts at least ``seconds`` (whole frames).

    A short command ("stop", "lights off") after the pipeline's voice activity detection
    can be under the API's one-second minimum (API reference); silence after it changes
    nothing in the transcript. Audio that is long enough is returned as it is.
    """
    frames = math.ceil(seconds * pcm.sample_rate)
    missing = frames * pcm.frame_size - (len(data) - len(data) % pcm.frame_size)
    if missing <= 0:
        return data
    # Zero is silence for signed samples (16-bit and wider; 8-bit WAV is unsigned).
    return b"".join((memoryview(data)[: len(data) - len(data) % pcm.frame_size], bytes(missing)))


def pad_wav(data: bytes | bytearray, seconds: float) -> bytes | None:
    """Return a PCM WAV file padded with silence to at least ``seconds``, or None.

    None: not a WAV file whose samples are signed PCM of 16 bits or more (compressed or
    8-bit data cannot be padded with zero bytes).
    """
    fmt: PCMFormat | None = None
    for chunk_id, body, chunk_size in _riff_chunks(data):
        if chunk_id == b"fmt " and chunk_size >= 16 and body + 16 <= len(data):
            tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", data, body)
            if tag != _WAVE_FORMAT_PCM or bits < 16 or bits % 8 or not channels or not rate:
                return None
            fmt = PCMFormat(sample_rate=rate, channels=channels, sample_width=bits // 8)
        elif chunk_id == b"data":
            if fmt is None:
                return None
            samples = memoryview(data)[body : body + _data_size(data, body, chunk_size)]
            return pcm_to_wav(pad_pcm(samples, fmt, seconds), fmt)
    return None


def _riff_chunks(data: bytes | bytearray) -> Iterator[tuple[bytes, int, int]]:
    """Yield each chunk of a RIFF/WAVE file: its id, where its body starts, its stated size.

    Nothing for data that is not a RIFF/WAVE file; chunks are padded to even sizes.
    """
    if not is_wav(data):
        return
    offset = 12
    while offset + 8 <= len(data):
        chunk_size = int(struct.unpack_from("<I", data, offset + 4)[0])
        yield bytes(data[offset : offset + 4]), offset + 8, chunk_size
        offset += 8 + chunk_size + (chunk_size & 1)


def _data_size(data: bytes | bytearray, body: int, chunk_size: int) -> int:
    """Return the size of a ``data`` chunk's samples.

    All the bytes present when the stated size is unknown (0 or 0xFFFFFFFF, written by
    streaming writers) or runs past the end of the file.
    """
    available = len(data) - body
    return available if chunk_size in _RIFF_SIZE_UNKNOWN or chunk_size > available else chunk_size


def is_wav(data: bytes | bytearray) -> bool:
    """Return whether ``data`` starts like a RIFF/WAVE file."""
    return data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def is_ogg(data: bytes | bytearray) -> bool:
    """Return whether ``data`` starts like an Ogg stream (first page's capture pattern)."""
    return data[:4] == b"OggS"


def wav_duration(data: bytes | bytearray) -> float | None:
    """Return the duration of a WAV file from its headers, or None if they are unreadable.

    Walks the RIFF chunks for ``fmt `` (byte rate) and ``data`` (size). A data size of 0 or
    0xFFFFFFFF (written by streaming writers) or one past the end of the file counts the bytes
    actually present.

    Args:
        data: The whole file.

    Returns:
        Seconds, or None if the file has no usable ``fmt `` / ``data`` chunks.
    """
    byte_rate: int | None = None
    for chunk_id, body, chunk_size in _riff_chunks(data):
        if chunk_id == b"fmt " and chunk_size >= 16 and body + 16 <= len(data):
            byte_rate = int(struct.unpack_from("<I", data, body + 8)[0])
        elif chunk_id == b"data":
            if not byte_rate:
                return None
            return _data_size(data, body, chunk_size) / byte_rate
    return None


def ogg_duration(data: bytes | bytearray) -> float | None:
    """Return the duration of an Ogg Opus or Ogg Vorbis stream, or None if unknown.

    Walks the pages (linear in the number of pages, no decoding) and takes the last granule
    position of the first logical stream: samples at 48 kHz minus the pre-skip for Opus
    (RFC 7845), samples at the stream's rate for Vorbis. A truncated last page ends the walk
    with the pages read so far.

    Args:
        data: The whole stream.

    Returns:
        Seconds, or None for other codecs or an unreadable stream.
    """
    if not is_ogg(data):
        return None
    serial: int | None = None
    rate: int | None = None
    pre_skip = 0
    granule = -1
    offset = 0
    while offset + _OGG_PAGE_HEADER_SIZE <= len(data) and data[offset : offset + 4] == b"OggS":
        page_granule, page_serial = struct.unpack_from("<qI", data, offset + 6)
        segments = data[offset + 26]
        table_end = offset + _OGG_PAGE_HEADER_SIZE + segments
        if table_end > len(data):
            break
        body_end = table_end + sum(data[offset + _OGG_PAGE_HEADER_SIZE : table_end])
        if body_end > len(data):
            break
        if serial is None:  # the first page holds the codec's identification header
            serial = page_serial
            head = bytes(data[table_end : table_end + 19])
            if head.startswith(b"OpusHead") and len(head) >= 12:
                rate = _OPUS_GRANULE_RATE
                (pre_skip,) = struct.unpack_from("<H", head, 10)
            elif head.startswith(b"\x01vorbis") and len(head) >= 16:
                (rate,) = struct.unpack_from("<I", head, 12)
            else:
                return None
        elif page_serial == serial and page_granule != -1:  # -1: no packet ends on the page
            granule = page_granule
        offset = body_end
    if not rate or granule < 0:
        return None
    return max(granule - pre_skip, 0) / rate


def probe_duration(data: bytes | bytearray) -> float | None:
    """Return the duration of a WAV or Ogg (Opus, Vorbis) file, or None if not known.

    Other formats (MP3, M4A ...) return None: the API checks their duration itself.
    """
    if is_wav(data):
        return wav_duration(data)
    if is_ogg(data):
        return ogg_duration(data)
    return None


def check_asr_limits(
    size: int,
    duration: float | None,
    *,
    max_bytes: int = ASR_MAX_BYTES,
    max_seconds: float = ASR_MAX_SECONDS,
    min_seconds: float = ASR_MIN_SECONDS,
) -> None:
    """Check an upload against the speech-to-text API's limits (API reference, speech-to-text).

    Args:
        size: The upload's size in bytes.
        duration: Its duration in seconds, or None if unknown (only size is then checked;
            the server judges the rest).
        max_bytes: Largest upload.
        max_seconds: Longest audio.
        min_seconds: Shortest audio.

    Raises:
        AudioTooShortError: empty, or shorter than ``min_seconds``.
        AudioTooLargeError: larger than ``max_bytes``.
        AudioTooLongError: longer than ``max_seconds``.
    """
    if size == 0:
        raise AudioTooShortError("no audio", value=0, limit=min_seconds)
    if size > max_bytes:
        raise AudioTooLargeError(
            f"audio is {size} bytes, more than the {max_bytes} bytes the API accepts",
            value=size,
            limit=max_bytes,
        )
    if duration is None:
        return
    if duration < min_seconds:
        raise AudioTooShortError(
            f"audio is {duration:.2f} s long, shorter than the {min_seconds:g} s the API needs",
            value=duration,
            limit=min_seconds,
        )
    if duration > max_seconds:
        raise AudioTooLongError(
            f"audio is {duration:.0f} s long, longer than the {max_seconds:g} s the API accepts",
            value=duration,
            limit=max_seconds,
        )
