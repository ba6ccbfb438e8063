"""Tests of the audio assembly helpers (pure: no Home Assistant, no network)."""

from __future__ import annotations

import asyncio
import io
import struct
from typing import TYPE_CHECKING
import wave

import pytest

from custom_components.fish_audio_suite.api import ASR_MAX_BYTES, ASR_MAX_SECONDS
from custom_components.fish_audio_suite.audio import (
    WAV_HEADER_SIZE,
    AudioLimitError,
    AudioStalledError,
    AudioTooLargeError,
    AudioTooLongError,
    AudioTooShortError,
    PCMFormat,
    check_asr_limits,
    is_ogg,
    is_wav,
    ogg_duration,
    pad_pcm,
    pad_wav,
    pcm_to_wav,
    probe_duration,
    read_capped,
    wav_duration,
    wav_header,
)
from emulator.audio import ogg_page, render_file

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


def _frames(count: int, channels: int = 1) -> bytes:
    """Return ``count`` frames of distinct 16-bit samples (a ramp), so order is checkable."""
    return struct.pack(f"<{count * channels}h", *(i % 30000 for i in range(count * channels)))


def _read_wav(data: bytes) -> tuple[wave._wave_params, bytes]:
    with wave.open(io.BytesIO(data), "rb") as wav:
        return wav.getparams(), wav.readframes(wav.getnframes())


@pytest.mark.parametrize(
    ("sample_rate", "channels"), [(16000, 1), (16000, 2), (44100, 1), (48000, 2)]
)
def test_pcm_to_wav_is_a_valid_wav(sample_rate: int, channels: int) -> None:
    pcm = _frames(sample_rate // 10, channels)
    data = pcm_to_wav(pcm, PCMFormat(sample_rate=sample_rate, channels=channels))

    params, frames = _read_wav(data)
    assert params.nchannels == channels
    assert params.framerate == sample_rate
    assert params.sampwidth == 2
    assert params.nframes == sample_rate // 10
    assert frames == pcm
    assert len(data) == WAV_HEADER_SIZE + len(pcm)
    assert is_wav(data)
    assert wav_duration(data) == pytest.approx(0.1)


def test_pcm_to_wav_drops_a_partial_frame() -> None:
    """A stream cut mid-frame must not make the data chunk a non-whole number of frames."""
    pcm = _frames(100, channels=2)
    data = pcm_to_wav(pcm + b"\x01\x02\x03", PCMFormat(sample_rate=16000, channels=2))

    params, frames = _read_wav(data)
    assert params.nframes == 100
    assert frames == pcm
    assert struct.unpack_from("<I", data, 4)[0] == len(data) - 8  # RIFF size


def test_pcm_to_wav_accepts_bytearray_and_memoryview() -> None:
    pcm = _frames(10)
    fmt = PCMFormat(sample_rate=16000)
    assert pcm_to_wav(bytearray(pcm), fmt) == pcm_to_wav(memoryview(pcm), fmt)
    assert pcm_to_wav(pcm, fmt) == wav_header(len(pcm), fmt) + pcm


def test_pcm_format() -> None:
    fmt = PCMFormat(sample_rate=48000, channels=2)
    assert fmt.frame_size == 4
    assert fmt.byte_rate == 192000
    assert fmt.duration(96000) == 0.5
    with pytest.raises(ValueError):
        PCMFormat(sample_rate=0)
    with pytest.raises(ValueError):
        PCMFormat(sample_rate=16000, channels=0)


async def _chunks(chunks: list[bytes], consumed: list[int]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        consumed.append(len(chunk))
        yield chunk


async def test_read_capped_joins_chunks_in_order() -> None:
    consumed: list[int] = []
    chunks = [b"ab", b"", b"cde", b"f" * 1000]
    assert await read_capped(_chunks(chunks, consumed), max_bytes=1005) == b"".join(chunks)
    assert len(consumed) == 4


async def test_read_capped_stops_reading_past_the_cap() -> None:
    """An endless stream costs at most the cap: reading stops at the first byte too many."""
    consumed: list[int] = []
    chunks = [b"x" * 100] * 50
    with pytest.raises(AudioTooLargeError) as exc:
        await read_capped(_chunks(chunks, consumed), max_bytes=250)
    assert len(consumed) == 3
    assert exc.value.value == 300
    assert exc.value.limit == 250


async def test_read_capped_gives_up_on_a_stalled_stream() -> None:
    """A source that stops sending without ending the stream cannot hold the reader."""
    never = asyncio.Event()

    async def stalled() -> AsyncIterator[bytes]:
        yield b"abcd"
        await never.wait()
        yield b"never"  # pragma: no cover

    with pytest.raises(AudioStalledError, match="4 bytes before"):
        await read_capped(stalled(), max_bytes=100, idle_timeout=0.01)


async def test_read_capped_keeps_a_slow_stream() -> None:
    """A stream that never pauses as long as the bound is read whole, however long it runs."""

    async def trickle() -> AsyncIterator[bytes]:
        for _ in range(12):  # 12 x 50 ms: twice the 300 ms bound in all, gaps a sixth of it
            await asyncio.sleep(0.05)
            yield b"ab"

    assert await read_capped(trickle(), max_bytes=100, idle_timeout=0.3) == b"ab" * 12


async def test_read_capped_notices_a_stall_after_flowing() -> None:
    """The bound is re-armed as chunks flow, and still fires when they stop."""
    never = asyncio.Event()

    # The chunks flow for longer than the first deadline (1.5 x 0.3 s), each gap a sixth of
    # the bound, so a loaded machine's late wake-ups cannot pass for a stall.
    async def flow_then_stall() -> AsyncIterator[bytes]:
        for _ in range(10):
            await asyncio.sleep(0.05)
            yield b"x"
        await never.wait()
        yield b"never"  # pragma: no cover

    with pytest.raises(AudioStalledError, match="10 bytes before"):
        await read_capped(flow_then_stall(), max_bytes=100, idle_timeout=0.3)


def test_wav_duration_walks_chunks() -> None:
    """Extra chunks (LIST, odd-sized with padding) before the data chunk are skipped."""
    pcm = _frames(8000)
    fmt = PCMFormat(sample_rate=16000)
    fmt_chunk = wav_header(0, fmt)[12:36]
    odd = b"LIST" + struct.pack("<I", 3) + b"abc\x00"  # padded to an even size
    data_chunk = b"data" + struct.pack("<I", len(pcm)) + pcm
    body = b"WAVE" + odd + fmt_chunk + data_chunk
    data = b"RIFF" + struct.pack("<I", len(body)) + body
    assert wav_duration(data) == pytest.approx(0.5)
    assert probe_duration(data) == pytest.approx(0.5)


@pytest.mark.parametrize("size", [0, 0xFFFFFFFF, 10**9])
def test_wav_duration_of_a_streamed_header(size: int) -> None:
    """Writers that stream put 0 / 0xFFFFFFFF (or a guess) as sizes: count what is there."""
    pcm = _frames(16000)
    header = bytearray(wav_header(len(pcm), PCMFormat(sample_rate=16000)))
    struct.pack_into("<I", header, 40, size)
    assert wav_duration(bytes(header) + pcm) == pytest.approx(1.0)


def test_wav_duration_unknown() -> None:
    pcm = _frames(100)
    no_fmt = b"RIFF" + struct.pack("<I", 12 + len(pcm)) + b"WAVE"
    no_fmt += b"data" + struct.pack("<I", len(pcm)) + pcm
    assert wav_duration(no_fmt) is None
    assert wav_duration(wav_header(0, PCMFormat(sample_rate=16000))[:36]) is None  # no data
    assert wav_duration(pcm) is None
    assert not is_wav(b"RIFF\x00\x00\x00\x00AVI ")


def test_ogg_opus_duration() -> None:
    data = b"".join(render_file("opus", 2.0))
    assert is_ogg(data)
    assert not is_wav(data)
    assert ogg_duration(data) == pytest.approx(2.0, abs=0.03)
    assert probe_duration(data) == ogg_duration(data)


def test_ogg_duration_of_a_truncated_stream() -> None:
    """A stream cut mid-page counts the whole pages before the cut."""
    data = b"".join(render_file("opus", 3.0))
    assert 0 < (ogg_duration(data[: len(data) // 2]) or 0) < 3.0
    # Cut inside the segment table of the last audio page (the trailer page follows it).
    last_audio = data.rfind(b"OggS", 0, data.rfind(b"OggS"))
    assert data[last_audio + 26] > 1
    cut = ogg_duration(data[: last_audio + 28])
    assert cut == ogg_duration(data[:last_audio])
    assert cut is not None
    assert cut < (ogg_duration(data) or 0)


def _vorbis_stream(rate: int, samples: int) -> bytes:
    ident = b"\x01vorbis" + struct.pack("<IBIiii", 0, 1, rate, 0, 0, 0) + b"\xb8\x01"
    return ogg_page([ident], serial=7, sequence=0, granule=0, flags=0x02) + ogg_page(
        [b"\x00" * 10], serial=7, sequence=1, granule=samples, flags=0x04
    )


def test_ogg_vorbis_duration() -> None:
    assert ogg_duration(_vorbis_stream(44100, 44100 * 3)) == pytest.approx(3.0)


def test_ogg_duration_ignores_other_streams_and_open_pages() -> None:
    """Only the first logical stream counts; a page where no packet ends (-1) is skipped."""
    data = b"".join(render_file("opus", 2.0))
    end = data.rfind(b"OggS")
    other = ogg_page([b"x"], serial=99, sequence=0, granule=48000 * 100, flags=2)
    open_page = ogg_page([b"\xff" * 255], serial=0x46495348, sequence=50, granule=-1)
    assert ogg_duration(data[:end] + other + open_page) == pytest.approx(2.0, abs=0.03)


def test_ogg_duration_unknown() -> None:
    first_page_only = b"".join(render_file("opus", 1.0))
    assert ogg_duration(first_page_only[: first_page_only.find(b"OggS", 4)]) is None
    flac = ogg_page([b"\x7fFLAC" + b"\x00" * 40], serial=1, sequence=0, granule=0, flags=2)
    assert ogg_duration(flac + flac) is None
    headers_only = b"".join(render_file("opus", 1.0))
    headers_only = headers_only[: headers_only.find(b"OggS", headers_only.find(b"OpusTags"))]
    assert ogg_duration(headers_only) == 0  # header pages only: no audio yet
    assert ogg_duration(b"RIFF....WAVE") is None
    assert ogg_duration(b"OggS" + b"\x00" * 30) is None  # a table past the end
    assert probe_duration(b"\xff\xfb\x90\x00" * 100) is None  # MP3: the server checks it


def test_check_asr_limits_accepts_the_boundaries() -> None:
    check_asr_limits(ASR_MAX_BYTES, 1.0)
    check_asr_limits(100, ASR_MAX_SECONDS)
    check_asr_limits(100, None)  # unknown duration: only the size can be checked


@pytest.mark.parametrize(
    ("size", "duration", "error", "value"),
    [
        (0, None, AudioTooShortError, 0),
        (0, 5.0, AudioTooShortError, 0),
        (100, 0.99, AudioTooShortError, 0.99),
        (ASR_MAX_BYTES + 1, 10.0, AudioTooLargeError, ASR_MAX_BYTES + 1),
        (ASR_MAX_BYTES + 1, None, AudioTooLargeError, ASR_MAX_BYTES + 1),
        (100, ASR_MAX_SECONDS + 1, AudioTooLongError, ASR_MAX_SECONDS + 1),
    ],
)
def test_check_asr_limits_rejects(
    size: int, duration: float | None, error: type[AudioLimitError], value: float
) -> None:
    with pytest.raises(error) as exc:
        check_asr_limits(size, duration)
    assert isinstance(exc.value, ValueError)
    assert exc.value.value == value
    assert str(exc.value)


def test_check_asr_limits_custom_limits() -> None:
    with pytest.raises(AudioTooShortError, match="2 s"):
        check_asr_limits(10, 1.5, min_seconds=2)
    with pytest.raises(AudioTooLargeError):
        check_asr_limits(11, None, max_bytes=10)
    with pytest.raises(AudioTooLongError):
        check_asr_limits(10, 61, max_seconds=60)


def test_pad_pcm_appends_whole_frames_of_silence() -> None:
    pcm = PCMFormat(sample_rate=8000, channels=2)
    data = b"\x01\x02\x03\x04" * 100 + b"\x05"  # 100 frames and a partial one
    padded = pad_pcm(data, pcm, 0.1)
    assert len(padded) == 800 * 4
    assert bytes(padded[:400]) == data[:400]
    assert not any(bytes(padded[400:]))
    long_enough = b"\x01" * 3200
    assert pad_pcm(long_enough, pcm, 0.1) is long_enough


def _wav_with(fmt: bytes, *, data_first: bool = False) -> bytes:
    chunks = [
        b"fmt " + struct.pack("<I", len(fmt)) + fmt,
        b"data" + struct.pack("<I", 4) + b"ab\0\0",
    ]
    if data_first:
        chunks.reverse()
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize(
    ("wav", "padded"),
    [
        (_wav_with(struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)), True),
        (_wav_with(struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 8)), False),  # unsigned
        (_wav_with(struct.pack("<HHIIHH", 3, 1, 8000, 32000, 4, 32)), False),  # float
        (_wav_with(struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16), data_first=True), False),
        (b"RIFF\0\0\0\0WAVE", False),  # no chunks
        (b"OggS" + bytes(40), False),
    ],
)
def test_pad_wav(wav: bytes, padded: bool) -> None:
    result = pad_wav(wav, 0.5)
    if not padded:
        assert result is None
        return
    assert result is not None
    assert wav_duration(result) == pytest.approx(0.5)
    assert result[WAV_HEADER_SIZE : WAV_HEADER_SIZE + 4] == b"ab\0\0"
