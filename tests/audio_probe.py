"""What a clip really is, read from its bytes: container, sample rate, channels, sample size.

Shared by the harness tests and the end-to-end test (which loads no harness), so that both
judge what Home Assistant delivered the same way: from the file's own headers, not from the
extension an engine claimed.
"""

from __future__ import annotations

import io
import struct
from typing import NamedTuple

from mutagen.mp3 import MP3


class Clip(NamedTuple):
    """A clip's format as its headers state it; None where the format has no such field."""

    format: str
    rate: int | None
    channels: int | None
    sample_bytes: int | None = None
    kbps: int | None = None  # MP3 only

    def matches(self, expected: Clip) -> bool:
        """Return whether this clip is `expected` in every field `expected` states."""
        return all(want is None or got == want for got, want in zip(self, expected, strict=True))


def probe(audio: bytes) -> Clip:
    """Return the format of `audio`: WAV, FLAC, Ogg Opus, MP3, or headerless PCM.

    Raises:
        AssertionError: A RIFF, FLAC or Ogg file without the header that describes it.
    """
    if audio[:4] == b"RIFF" and audio[8:12] == b"WAVE":
        pos = 12  # chunks follow the RIFF header, word aligned
        while pos + 8 <= len(audio):
            chunk, size = struct.unpack_from("<4sI", audio, pos)
            if chunk == b"fmt ":
                _tag, channels, rate, _byte_rate, _align, bits = struct.unpack_from(
                    "<HHIIHH", audio, pos + 8
                )
                return Clip("wav", rate, channels, bits // 8)
            pos += 8 + size + size % 2
        raise AssertionError("a WAV file without a fmt chunk")
    if audio[:4] == b"fLaC":
        # STREAMINFO, the first metadata block: after 10 bytes of block and frame sizes,
        # 20 bits of rate, 3 of channels - 1, 5 of bits per sample - 1 (RFC 9639, 8.2).
        packed = int.from_bytes(audio[18:26], "big")
        bits = ((packed >> 36) & 0x1F) + 1
        return Clip("flac", packed >> 44, ((packed >> 41) & 0x7) + 1, bits // 8)
    if audio[:4] == b"OggS":
        # The first page holds only the identification header (RFC 7845, 5.1): its channel
        # count; Opus always decodes at 48 kHz.
        head = audio.find(b"OpusHead")
        assert head > 0, "an Ogg stream that is not Opus"
        return Clip("opus", 48000, audio[head + 9])
    if audio[:3] == b"ID3" or (len(audio) > 1 and audio[0] == 0xFF and audio[1] & 0xE0 == 0xE0):
        info = MP3(io.BytesIO(audio)).info
        return Clip("mp3", info.sample_rate, info.channels, None, info.bitrate // 1000)
    return Clip("pcm", None, None)
