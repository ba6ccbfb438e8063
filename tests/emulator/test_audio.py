"""The emulator's audio is real: decodable by independent decoders, with the right length."""

from __future__ import annotations

import io
from pathlib import Path
import shutil
import struct
import subprocess
import wave

from mutagen.mp3 import MP3
from mutagen.oggopus import OggOpus
import pytest

from emulator.audio import (
    FORMATS,
    OggOpusStream,
    audio_duration,
    mp3_duration,
    mp3_frame,
    ogg_crc,
    ogg_opus_duration,
    open_stream,
    pcm_samples,
    render_file,
    wav_duration,
    wav_header,
)


def _bitwise_ogg_crc(data: bytes) -> int:
    """Reference Ogg CRC, bit by bit (independent of the table-driven one)."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else crc << 1
    return crc & 0xFFFFFFFF


@pytest.mark.parametrize("rate", [8000, 16000, 24000, 32000, 44100])
def test_wav_is_decodable_at_every_rate(rate: int) -> None:
    data = b"".join(render_file("wav", 2.0, sample_rate=rate))
    with wave.open(io.BytesIO(data)) as wav:
        assert wav.getframerate() == rate
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        assert wav.getnframes() == rate * 2
        frames = wav.readframes(wav.getnframes())
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    # Audible but quiet: a signal, not silence, and well below full scale.
    assert 1000 < max(samples) < 8000
    assert wav_duration(data) == pytest.approx(2.0)


def test_pcm_is_headerless_and_continuous() -> None:
    pieces = render_file("pcm", 1.0, sample_rate=16000, piece_seconds=0.25)
    assert len(pieces) == 4
    assert all(len(piece) == 8000 for piece in pieces)
    data = b"".join(pieces)
    assert not data.startswith(b"RIFF")
    # Consecutive pieces continue the same signal.
    assert data == pcm_samples(16000, 16000)
    assert pcm_samples(16000, 10, offset=16000) == pcm_samples(16000, 10)


@pytest.mark.parametrize(("rate", "bitrate"), [(44100, 128), (32000, 64), (44100, 192)])
def test_mp3_is_decodable(rate: int, bitrate: int) -> None:
    data = b"".join(render_file("mp3", 3.0, sample_rate=rate, mp3_bitrate=bitrate))
    info = MP3(io.BytesIO(data)).info
    assert info.sample_rate == rate
    assert info.channels == 1
    assert info.bitrate == bitrate * 1000
    assert info.length == pytest.approx(3.0, abs=0.05)
    assert mp3_duration(data) == pytest.approx(3.0, abs=0.05)
    # Padding keeps the average bitrate exact, as an encoder does.
    assert len(data) * 8 / mp3_duration(data) == pytest.approx(bitrate * 1000, rel=0.01)


def test_mp3_frame_header() -> None:
    frame = mp3_frame(128, 44100, padding=False)
    assert frame[:4] == b"\xff\xfb\x90\xc4"
    assert len(frame) == 417
    assert len(mp3_frame(128, 44100, padding=True)) == 418


def test_ogg_opus_is_decodable() -> None:
    data = b"".join(render_file("opus", 2.5))
    info = OggOpus(io.BytesIO(data)).info
    assert info.channels == 1
    assert info.length == pytest.approx(2.5, abs=0.02)
    assert ogg_opus_duration(data) == pytest.approx(2.5, abs=0.02)


def test_ogg_pages_have_correct_crcs() -> None:
    data = b"".join(render_file("opus", 1.2))
    pos = 0
    pages = 0
    while pos < len(data):
        assert data[pos : pos + 4] == b"OggS"
        segments = data[pos + 26]
        size = 27 + segments + sum(data[pos + 27 : pos + 27 + segments])
        page = bytearray(data[pos : pos + size])
        stored = struct.unpack_from("<I", page, 22)[0]
        page[22:26] = b"\0\0\0\0"
        assert stored == _bitwise_ogg_crc(bytes(page)) == ogg_crc(bytes(page))
        flags = page[5]
        if pages == 0:
            assert flags == 0x02  # beginning of stream
        pos += size
        pages += 1
    assert flags == 0x04  # the last page ends the stream
    assert pages >= 4


def test_live_ogg_stream_spans_segments() -> None:
    stream = OggOpusStream()
    data = (
        stream.header()
        + b"".join(stream.render(1.0, 0.5))
        + b"".join(stream.render(0.6, 0.5))
        + stream.trailer()
    )
    assert OggOpus(io.BytesIO(data)).info.length == pytest.approx(1.6, abs=0.02)


def test_streaming_wav_header_uses_unknown_sizes() -> None:
    stream = open_stream("wav", sample_rate=8000)
    header = stream.header()
    assert header[4:8] == b"\xff\xff\xff\xff"
    data = header + b"".join(stream.render(1.0, 0.5)) + stream.trailer()
    # The stream convention is read as "everything present".
    assert wav_duration(data) == pytest.approx(1.0)
    assert open_stream("pcm").header() == b""


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_has_a_duration_probe_or_is_pcm(fmt: str) -> None:
    data = b"".join(render_file(fmt, 1.5))  # type: ignore[arg-type]
    duration = audio_duration(data)
    if fmt == "pcm":
        assert duration is None
    else:
        assert duration == pytest.approx(1.5, abs=0.05)


def test_duration_probes_reject_other_data() -> None:
    assert wav_duration(b"RIFF\0\0\0\0WAVX") is None
    assert wav_duration(wav_header(8000, 0)[:36] + b"data\0\0\0\0"[:4]) is None
    # A data chunk before any fmt chunk cannot be timed.
    assert wav_duration(b"RIFF\x10\0\0\0WAVEdata\x04\0\0\0abcd") is None
    assert ogg_opus_duration(b"OggS" + bytes(60)) is None
    assert mp3_duration(b"\xff\xfb\x00\x00" + bytes(100)) is None  # "free" bitrate
    assert mp3_duration(b"not audio") is None
    assert audio_duration(b"\x00" * 100) is None


def test_wav_duration_skips_extra_chunks() -> None:
    pcm = pcm_samples(8000, 8000)
    header = wav_header(8000, len(pcm))
    extra = b"LIST" + struct.pack("<I", 3) + b"abc\0"  # odd size: padded
    data = header[:36] + extra + header[36:] + pcm
    assert wav_duration(data) == pytest.approx(1.0)


def test_mp3_duration_skips_id3() -> None:
    frames = b"".join(render_file("mp3", 1.0))
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + bytes(10)
    assert mp3_duration(tag + frames) == mp3_duration(frames)


OPUSINFO = shutil.which("opusinfo")
MPG123 = shutil.which("mpg123")


# Real decoders, when the machine has them (Debian: opus-tools, mpg123); fixed arguments only.
@pytest.mark.skipif(OPUSINFO is None, reason="opus-tools not installed")
def test_opusinfo_accepts_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a.opus"
    path.write_bytes(b"".join(render_file("opus", 1.0)))
    result = subprocess.run(  # noqa: S603
        [str(OPUSINFO), str(path)], capture_output=True, text=True, check=False, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout
    assert "Playback length: 0m:01" in result.stdout


@pytest.mark.skipif(MPG123 is None, reason="mpg123 not installed")
def test_mpg123_decodes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a.mp3"
    path.write_bytes(b"".join(render_file("mp3", 1.0)))
    out = tmp_path / "a.wav"
    result = subprocess.run(  # noqa: S603
        [str(MPG123), "-q", "-w", str(out), str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    with wave.open(str(out)) as decoded:
        assert decoded.getnframes() / decoded.getframerate() == pytest.approx(1.0, abs=0.1)
