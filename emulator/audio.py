"""Audio the emulator sends: real, decodable files built without any codec library.

Every format is produced by a stateful *stream* object, because the live WebSocket sends one
continuous file in several synthesis segments (an Ogg stream keeps its page sequence and granule
position across segments) while HTTP sends a whole file at once.

- ``wav``: RIFF/WAVE, PCM signed 16-bit little-endian, mono, at the requested rate. The signal is
  a quiet, speech-like voiced buzz (a few harmonics under a syllable envelope), so a person
  listening to the demo hears that audio is flowing and a spectrum shows something.
- ``pcm``: the same samples without a header.
- ``mp3``: MPEG-1 Layer III frames with correct headers (bitrate, sample rate, padding) and an
  all-zero side info and main data section, which every decoder plays as digital silence. Encoding
  a tone would need a real MP3 encoder, which we neither ship nor download.
- ``opus``: an Ogg Opus file (RFC 7845): ``OpusHead`` and ``OpusTags`` pages, then 20 ms silent
  CELT packets (``F8 FF FE``), with correct granule positions and Ogg CRCs. Silent for the same
  reason as MP3.
"""

from __future__ import annotations

from functools import cache
import math
import struct
from typing import TYPE_CHECKING, Final, Literal, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterator

type AudioFormat = Literal["mp3", "wav", "pcm", "opus"]

FORMATS: Final[tuple[AudioFormat, ...]] = ("mp3", "wav", "pcm", "opus")

# API reference, text-to-speech (https://docs.fish.audio/api-reference).
SAMPLE_RATES: Final[dict[str, tuple[int, ...]]] = {
    "wav": (8000, 16000, 24000, 32000, 44100),
    "pcm": (8000, 16000, 24000, 32000, 44100),
    "mp3": (32000, 44100),
    "opus": (48000,),
}
DEFAULT_SAMPLE_RATES: Final[dict[str, int]] = {
    "wav": 44100,
    "pcm": 44100,
    "mp3": 44100,
    "opus": 48000,
}

CONTENT_TYPES: Final[dict[str, str]] = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "pcm": "application/octet-stream",
    "opus": "audio/ogg",
}

# Quiet on purpose: the demo plays this through real speakers (about -16 dBFS peak).
_AMPLITUDE: Final = 0.16 * 32767
# One loop of the speech-like signal: four 250 ms "syllables". Every syllable starts and ends at
# zero amplitude, so the loop can be tiled without clicks.
_LOOP_SECONDS: Final = 1.0
_SYLLABLES: Final[tuple[float, ...]] = (140.0, 180.0, 160.0, 120.0)


@cache
def _speech_loop(sample_rate: int) -> bytes:
    """Return one second of the speech-like signal as s16le mono PCM (cached per rate)."""
    total = int(sample_rate * _LOOP_SECONDS)
    per_syllable = total // len(_SYLLABLES)
    voiced = int(per_syllable * 0.8)  # the rest of each syllable is a short pause
    samples: list[int] = []
    for pitch in _SYLLABLES:
        step = 2.0 * math.pi * pitch / sample_rate
        for i in range(per_syllable):
            if i >= voiced:
                samples.append(0)
                continue
            envelope = math.sin(math.pi * i / voiced)
            phase = step * i
            # A falling spectrum of harmonics sounds like a vowel rather than a beep.
            value = math.sin(phase) + 0.5 * math.sin(2 * phase) + 0.25 * math.sin(3 * phase)
            samples.append(int(_AMPLITUDE * envelope * value / 1.75))
    samples.extend([0] * (total - len(samples)))
    return struct.pack(f"<{len(samples)}h", *samples)


def pcm_samples(sample_rate: int, frames: int, offset: int = 0) -> bytes:
    """Return ``frames`` samples of the speech-like signal as s16le mono PCM.

    Args:
        sample_rate: Samples per second.
        frames: Number of samples to return.
        offset: Sample index to start from, so consecutive calls continue the signal.
    """
    loop = _speech_loop(sample_rate)
    loop_frames = len(loop) // 2
    start = (offset % loop_frames) * 2
    needed = frames * 2
    # Tile the cached loop instead of computing samples: this runs on the event loop.
    repeats = (start + needed) // len(loop) + 1
    return (loop * repeats)[start : start + needed]


def wav_header(sample_rate: int, data_bytes: int | None) -> bytes:
    """Return a 44-byte RIFF/WAVE header for s16le mono PCM.

    Args:
        sample_rate: Samples per second.
        data_bytes: Size of the PCM data, or None for a stream of unknown length. Streams use
            ``0xFFFFFFFF`` in both size fields, the convention ffmpeg and most players accept.
    """
    if data_bytes is None:
        riff_size = data_size = 0xFFFFFFFF
    else:
        riff_size, data_size = 36 + data_bytes, data_bytes
    return (
        b"RIFF"
        + struct.pack("<I", riff_size)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", data_size)
    )


# --- MP3 --------------------------------------------------------------------------------------

_MP3_BITRATE_INDEX: Final[dict[int, int]] = {
    32: 1, 40: 2, 48: 3, 56: 4, 64: 5, 80: 6, 96: 7, 112: 8,
    128: 9, 160: 10, 192: 11, 224: 12, 256: 13, 320: 14,
}  # fmt: skip
_MP3_RATE_INDEX: Final[dict[int, int]] = {44100: 0, 48000: 1, 32000: 2}
MP3_SAMPLES_PER_FRAME: Final = 1152
# MPEG-1 mono side information is 17 bytes; all zero means "no main data": silence.
_MP3_MONO_SIDE_INFO: Final = 17


def mp3_frame(bitrate_kbps: int, sample_rate: int, *, padding: bool) -> bytes:
    """Return one silent MPEG-1 Layer III mono frame.

    Args:
        bitrate_kbps: A Layer III bitrate (32..320).
        sample_rate: 32000, 44100 or 48000.
        padding: Whether the frame carries the padding byte (keeps the average bitrate exact).
    """
    header = struct.pack(
        ">I",
        (0x7FF << 21)  # frame sync
        | (0b11 << 19)  # MPEG-1
        | (0b01 << 17)  # Layer III
        | (1 << 16)  # no CRC
        | (_MP3_BITRATE_INDEX[bitrate_kbps] << 12)
        | (_MP3_RATE_INDEX[sample_rate] << 10)
        | (int(padding) << 9)
        | (0b11 << 6)  # single channel
        | (1 << 2),  # "original" bit, as encoders set it
    )
    size = 144 * bitrate_kbps * 1000 // sample_rate + int(padding)
    return header + bytes(size - len(header))


# --- Ogg Opus ---------------------------------------------------------------------------------

# A CELT-only, fullband, 20 ms, mono frame whose range-coded payload decodes as the silence flag.
OPUS_SILENT_PACKET: Final = b"\xf8\xff\xfe"
OPUS_SAMPLES_PER_PACKET: Final = 960  # 20 ms at 48 kHz, the granule clock of Ogg Opus
OPUS_PRE_SKIP: Final = 312  # what libopus encoders report
_OGG_PACKETS_PER_PAGE: Final = 50  # one second per page


@cache
def _ogg_crc_table() -> tuple[int, ...]:
    """Return the CRC-32 table of Ogg (polynomial 0x04C11DB7, not reflected)."""
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return tuple(table)


def ogg_crc(data: bytes) -> int:
    """Return the Ogg page checksum of ``data`` (initial value 0, no final XOR)."""
    table = _ogg_crc_table()
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[((crc >> 24) & 0xFF) ^ byte]
    return crc


def ogg_page(
    packets: list[bytes], *, serial: int, sequence: int, granule: int, flags: int = 0
) -> bytes:
    """Return one Ogg page holding whole ``packets`` (each shorter than 255 * 255 bytes).

    Args:
        packets: Complete packets to store on this page.
        serial: Bitstream serial number.
        sequence: Page sequence number.
        granule: Granule position after the last packet that ends on this page.
        flags: Header type flags (0x02 beginning of stream, 0x04 end of stream).
    """
    lacing = bytearray()
    for packet in packets:
        full, rest = divmod(len(packet), 255)
        lacing.extend(b"\xff" * full)
        lacing.append(rest)
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, serial, sequence, 0, len(lacing))
    page = bytearray(header + bytes(lacing) + b"".join(packets))
    struct.pack_into("<I", page, 22, ogg_crc(bytes(page)))
    return bytes(page)


# --- Streams ----------------------------------------------------------------------------------


class AudioStream(Protocol):
    """One audio file produced in pieces."""

    def header(self) -> bytes:
        """Return the bytes that open the file (may be empty)."""

    def render(self, seconds: float, piece_seconds: float) -> list[bytes]:
        """Return about ``seconds`` of audio, split into pieces of about ``piece_seconds``."""

    def trailer(self) -> bytes:
        """Return the bytes that close the file (may be empty)."""


def _piece_counts(total: int, per_piece: int) -> Iterator[int]:
    """Yield how many units go into each piece (at least one piece when ``total`` > 0)."""
    per_piece = max(1, per_piece)
    while total > 0:
        count = min(per_piece, total)
        total -= count
        yield count


class PcmStream:
    """Headerless s16le mono PCM, or WAV when ``wav`` is set."""

    def __init__(self, sample_rate: int, *, wav: bool, total_seconds: float | None) -> None:
        """Initialise the stream.

        Args:
            sample_rate: Samples per second.
            wav: Whether to emit a RIFF header.
            total_seconds: The whole file's length when known (HTTP), or None for a live stream.
        """
        self._rate = sample_rate
        self._wav = wav
        self._total = None if total_seconds is None else self.frames_for(total_seconds)
        self._offset = 0

    def frames_for(self, seconds: float) -> int:
        """Return the number of samples in ``seconds`` of audio."""
        return max(1, round(seconds * self._rate))

    def header(self) -> bytes:
        """Return the RIFF header (WAV) or nothing (PCM)."""
        if not self._wav:
            return b""
        return wav_header(self._rate, None if self._total is None else self._total * 2)

    def render(self, seconds: float, piece_seconds: float) -> list[bytes]:
        """Return the next ``seconds`` of samples in pieces."""
        pieces = []
        for count in _piece_counts(self.frames_for(seconds), self.frames_for(piece_seconds)):
            pieces.append(pcm_samples(self._rate, count, self._offset))
            self._offset += count
        return pieces

    def trailer(self) -> bytes:
        """Return nothing: PCM and WAV need no trailer."""
        return b""


class Mp3Stream:
    """Silent MPEG-1 Layer III frames."""

    def __init__(self, sample_rate: int, bitrate_kbps: int) -> None:
        """Initialise the stream.

        Args:
            sample_rate: 32000 or 44100 (48000 also works).
            bitrate_kbps: 64, 128 or 192 as the API allows.
        """
        self._rate = sample_rate
        self._bitrate = bitrate_kbps
        # Padding bookkeeping as in encoders: the remainder of 144 * bitrate / rate accumulates.
        self._slot_remainder = 0

    def header(self) -> bytes:
        """Return nothing: an MP3 stream is just frames."""
        return b""

    def _frame(self) -> bytes:
        self._slot_remainder += 144 * self._bitrate * 1000 % self._rate
        padding = self._slot_remainder >= self._rate
        if padding:
            self._slot_remainder -= self._rate
        return mp3_frame(self._bitrate, self._rate, padding=padding)

    def render(self, seconds: float, piece_seconds: float) -> list[bytes]:
        """Return whole frames covering ``seconds``, grouped into pieces."""
        frame_seconds = MP3_SAMPLES_PER_FRAME / self._rate
        frames = max(1, math.ceil(seconds / frame_seconds))
        per_piece = max(1, round(piece_seconds / frame_seconds))
        return [
            b"".join(self._frame() for _ in range(count))
            for count in _piece_counts(frames, per_piece)
        ]

    def trailer(self) -> bytes:
        """Return nothing: MP3 needs no trailer."""
        return b""


class OggOpusStream:
    """An Ogg Opus file of silent 20 ms packets."""

    def __init__(self, serial: int = 0x46495348) -> None:
        """Initialise the stream.

        Args:
            serial: Ogg bitstream serial number (deterministic by default: "FISH").
        """
        self._serial = serial
        self._sequence = 0
        # Granule positions count every decoded sample, pre-skip included (RFC 7845 §4).
        self._granule = 0

    def _page(self, packets: list[bytes], granule: int, flags: int = 0) -> bytes:
        page = ogg_page(
            packets, serial=self._serial, sequence=self._sequence, granule=granule, flags=flags
        )
        self._sequence += 1
        return page

    def header(self) -> bytes:
        """Return the identification and comment header pages."""
        opus_head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, OPUS_PRE_SKIP, 48000, 0, 0)
        vendor = b"fish-audio-emulator"
        opus_tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
        return self._page([opus_head], 0, flags=0x02) + self._page([opus_tags], 0)

    def render(self, seconds: float, piece_seconds: float) -> list[bytes]:
        """Return audio pages covering ``seconds``; one piece holds whole pages."""
        seconds_per_packet = OPUS_SAMPLES_PER_PACKET / 48000
        packets = max(1, math.ceil(seconds / seconds_per_packet))
        per_piece = max(1, round(piece_seconds / seconds_per_packet))
        pieces = []
        for count in _piece_counts(packets, per_piece):
            pages = []
            for page_count in _piece_counts(count, _OGG_PACKETS_PER_PAGE):
                self._granule += page_count * OPUS_SAMPLES_PER_PACKET
                pages.append(self._page([OPUS_SILENT_PACKET] * page_count, self._granule))
            pieces.append(b"".join(pages))
        return pieces

    def trailer(self) -> bytes:
        """Return the end-of-stream page.

        It carries one more 20 ms packet because a page without a completed packet may not
        carry a granule position, and the last granule position is what gives the length.
        """
        self._granule += OPUS_SAMPLES_PER_PACKET
        return self._page([OPUS_SILENT_PACKET], self._granule, flags=0x04)


def open_stream(
    fmt: AudioFormat,
    *,
    sample_rate: int | None = None,
    mp3_bitrate: int = 128,
    total_seconds: float | None = None,
) -> AudioStream:
    """Return a stream producing ``fmt``.

    Args:
        fmt: One of ``mp3``, ``wav``, ``pcm``, ``opus``.
        sample_rate: Samples per second, or None for the format's default.
        mp3_bitrate: MP3 bitrate in kbps.
        total_seconds: The final length when known in advance (lets WAV write exact sizes).
    """
    rate = sample_rate or DEFAULT_SAMPLE_RATES[fmt]
    if fmt == "mp3":
        return Mp3Stream(rate, mp3_bitrate)
    if fmt == "opus":
        return OggOpusStream()
    return PcmStream(rate, wav=fmt == "wav", total_seconds=total_seconds)


def render_file(
    fmt: AudioFormat,
    seconds: float,
    *,
    sample_rate: int | None = None,
    mp3_bitrate: int = 128,
    piece_seconds: float = 0.5,
) -> list[bytes]:
    """Return a whole audio file of about ``seconds``, split into streamable pieces.

    The header travels with the first piece and the trailer with the last, so that every piece
    is a realistic network chunk and their concatenation is a valid file.
    """
    stream = open_stream(
        fmt, sample_rate=sample_rate, mp3_bitrate=mp3_bitrate, total_seconds=seconds
    )
    # Header first: Ogg pages are numbered in the order they are produced.
    header = stream.header()
    pieces = stream.render(seconds, piece_seconds)
    pieces[0] = header + pieces[0]
    pieces[-1] += stream.trailer()
    return pieces


def wav_duration(data: bytes) -> float | None:
    """Return the duration in seconds of a RIFF/WAVE file, or None if it is not one.

    Walks the chunk list rather than assuming a 44-byte header, because many writers add LIST or
    fact chunks. A streaming size (``0xFFFFFFFF``) is replaced by the bytes actually present.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos = 12
    byte_rate = 0
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        size: int = struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if chunk_id == b"fmt " and size >= 16 and body + 16 <= len(data):
            _, channels, rate, byte_rate, _, _ = struct.unpack_from("<HHIIHH", data, body)
            byte_rate = byte_rate or rate * channels * 2
        elif chunk_id == b"data":
            if not byte_rate:
                return None
            available = len(data) - body
            return min(size, available) / byte_rate
        pos = body + size + (size & 1)
    return None


def ogg_opus_duration(data: bytes) -> float | None:
    """Return the duration of an Ogg Opus file from its last granule position, or None."""
    if not data.startswith(b"OggS") or b"OpusHead" not in data[:64]:
        return None
    head = data.index(b"OpusHead")
    pre_skip: int = struct.unpack_from("<H", data, head + 10)[0]
    last = data.rfind(b"OggS")
    granule: int = struct.unpack_from("<q", data, last + 6)[0]
    return max(0, granule - pre_skip) / 48000


_MP3_BITRATES_V1_L3: Final = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MP3_RATES_V1: Final = (44100, 48000, 32000)


def mp3_duration(data: bytes) -> float | None:
    """Return the duration of MPEG-1 Layer III data by walking its frame headers, or None.

    Skips an ID3v2 tag. Stops at the first byte that is not a frame header, so trailing junk
    shortens the result rather than failing.
    """
    pos = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = data[6] << 21 | data[7] << 14 | data[8] << 7 | data[9]
        pos = 10 + size
    frames = 0
    rate = 0
    while pos + 4 <= len(data):
        (word,) = struct.unpack_from(">I", data, pos)
        if word >> 21 != 0x7FF or (word >> 17) & 0b1111 != 0b1101:  # MPEG-1 Layer III only
            break
        bitrate_index = (word >> 12) & 0xF
        rate_index = (word >> 10) & 0b11
        if bitrate_index in (0, 15) or rate_index == 3:
            break
        rate = _MP3_RATES_V1[rate_index]
        pos += 144 * _MP3_BITRATES_V1_L3[bitrate_index] * 1000 // rate + ((word >> 9) & 1)
        frames += 1
    if not frames:
        return None
    return frames * MP3_SAMPLES_PER_FRAME / rate


def audio_duration(data: bytes) -> float | None:
    """Return the duration of WAV, Ogg Opus or MP3 ``data``, or None when unrecognised."""
    for probe in (wav_duration, ogg_opus_duration, mp3_duration):
        if (seconds := probe(data)) is not None:
            return seconds
    return None
