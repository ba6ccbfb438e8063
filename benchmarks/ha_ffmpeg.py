"""How long Home Assistant's ffmpeg conversion waits before its first output, by input format.

``scripts/bench ffmpeg`` (or ``python -m benchmarks.ha_ffmpeg``) answers one question of the
user-level benchmark (``hass_latency.py``, the wav 16 kHz case): when a satellite asks for
16 kHz mono 16-bit WAV, Home Assistant pipes the engine's audio through ffmpeg, and the first
byte it can serve is ffmpeg's first output. It feeds one clip, rendered by the emulator's own
encoder (``emulator.audio.render_file``: the bytes ``/v1/tts`` sends), into the ``ffmpeg`` on
``PATH`` with the exact arguments each Home Assistant release builds in
``homeassistant/components/tts`` (``_async_convert_audio``), in 0.1 s pieces at ``--pace``
times real time, and reports how many seconds of audio ffmpeg had been given when it wrote
its first byte. At real time (``--pace 1``) that is the wait a listener has on top of the
engine's own first byte.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import subprocess
import time
import wave

from emulator.audio import render_file

from .common import summarize

# What every release asks of ffmpeg for 16 kHz mono 16-bit WAV out of a stream; `-f <in>` first.
_OUT = ["-f", "wav", "-ar", "16000", "-ac", "1", "-sample_fmt", "s16"]
_BITEXACT = ["-fflags", "+bitexact"]  # 2026.10 and 2026.11 add it; it changes no timing
# (case, engine's format, input arguments, output arguments): the releases' own commands.
VARIANTS = (
    ("2026.2.3: MP3 from the engine", "mp3", ["-f", "mp3"], _OUT),
    ("2026.2.3: WAV 16 kHz from the engine", "wav", ["-f", "wav"], _OUT),
    ("2026.10.4: MP3 from the engine", "mp3", ["-f", "mp3"], _OUT + _BITEXACT),
    (
        "2026.10.4: WAV 16 kHz from the engine (-probesize 32)",
        "wav",
        ["-f", "wav", "-probesize", "32"],
        _OUT + _BITEXACT,
    ),
    ("2026.11.0: MP3 from the engine", "mp3", ["-f", "mp3"], _OUT + _BITEXACT),
)
PIECE_SECONDS = 0.1
TIMEOUT = 120.0


def ffmpeg_version() -> str:
    """The version of the ``ffmpeg`` on PATH (the one Home Assistant would run)."""
    done = subprocess.run(
        ["ffmpeg", "-version"],  # noqa: S607 - Home Assistant runs the one on PATH too
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.match(r"ffmpeg version (\S+)", done.stdout)
    return found.group(1) if found else "unknown"


async def first_output(
    pieces: list[bytes], in_args: list[str], out_args: list[str], pace: float
) -> tuple[float, bytes]:
    """Feed ``pieces`` (0.1 s of audio each) at ``pace`` x real time; audio seconds fed first.

    Returns the seconds of audio written to ffmpeg's stdin when its first output byte came,
    and the whole output (checked by the caller).
    """
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", *in_args, "-i", "pipe:0"]
    process = await asyncio.create_subprocess_exec(
        *command,
        *out_args,
        "pipe:1",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    stdin, stdout = process.stdin, process.stdout
    if stdin is None or stdout is None:  # both were asked for as pipes
        raise RuntimeError("ffmpeg has no pipes")
    fed = 0

    async def feed() -> None:
        nonlocal fed
        start = time.monotonic()
        for index, piece in enumerate(pieces):
            # An absolute schedule, like a server streaming at a steady rate.
            await asyncio.sleep(max(0.0, start + index * PIECE_SECONDS / pace - time.monotonic()))
            stdin.write(piece)
            await stdin.drain()
            fed = index + 1
        stdin.close()

    feeder = asyncio.create_task(feed())
    output = bytearray()
    fed_at_first: float | None = None
    try:
        async with asyncio.timeout(TIMEOUT):
            while chunk := await stdout.read(65536):
                if fed_at_first is None:
                    fed_at_first = fed * PIECE_SECONDS
                output += chunk
            await feeder
            await process.wait()
    finally:
        feeder.cancel()
        if process.returncode is None:
            process.kill()
            await process.wait()
    if process.returncode != 0 or fed_at_first is None:
        raise RuntimeError(f"ffmpeg failed ({process.returncode}): {command}")
    return fed_at_first, bytes(output)


def _check(output: bytes) -> None:
    with wave.open(io.BytesIO(output)) as clip:
        if (clip.getframerate(), clip.getnchannels(), clip.getsampwidth()) != (16000, 1, 2):
            raise RuntimeError("ffmpeg did not write 16 kHz mono 16-bit WAV")


async def run(seconds: float, reps: int, pace: float) -> dict[str, dict[str, float]]:
    """Every variant, ``reps`` times interleaved; summaries of the audio seconds fed first."""
    clips = {
        "mp3": render_file("mp3", seconds, piece_seconds=PIECE_SECONDS),
        "wav": render_file("wav", seconds, sample_rate=16000, piece_seconds=PIECE_SECONDS),
    }
    samples: dict[str, list[float]] = {}
    for _ in range(reps):
        for case, fmt, in_args, out_args in VARIANTS:
            fed, output = await first_output(clips[fmt], in_args, out_args, pace)
            _check(output)
            samples.setdefault(case, []).append(fed)
    return {case: summarize(values).as_dict() for case, values in samples.items()}


def main() -> None:
    """Command line: ``python -m benchmarks.ha_ffmpeg [--seconds S] [--reps N] [--pace X]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the clip")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--pace", type=float, default=1.0, help="x real time (1: a steady stream)")
    parser.add_argument("--smoke", action="store_true", help="a 1 s clip at 20x, once")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.reps, args.pace = 1.0, 1, 20.0
    result = asyncio.run(run(args.seconds, args.reps, args.pace))
    print(
        f"ffmpeg {ffmpeg_version()}; a {args.seconds:g} s clip fed at {args.pace:g}x real time "
        f"in {PIECE_SECONDS:g} s pieces, {args.reps} repetitions"
    )
    print("| Home Assistant: engine's audio | audio fed before ffmpeg's first output, s |")
    print("|---|---:|")
    for case, summary in result.items():
        print(f"| {case} | {summary['median']:.2f} ({summary['p10']:.2f}-{summary['p90']:.2f}) |")


if __name__ == "__main__":
    main()
