"""Run the emulator as a process: ``python -m emulator --host 127.0.0.1 --port 8099``.

``--fish-speech`` runs the self-hosted Fish Speech server's API instead of Fish Audio's.
Prints the base URL on its own line (scripts read it) and runs until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
from decimal import Decimal, InvalidOperation
import signal
import sys
from typing import TYPE_CHECKING

from .app import FishAudioEmulator
from .fish_speech import FishSpeechEmulator, demo_references

if TYPE_CHECKING:
    from collections.abc import Sequence


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a decimal number: {value!r}") from None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m emulator", description="Local emulator of the Fish Audio API."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (keep it loopback)")
    parser.add_argument("--port", type=int, default=8099, help="port (0: any free port)")
    parser.add_argument(
        "--api-key", action="append", dest="api_keys", help="valid API key (repeatable)"
    )
    parser.add_argument("--user-id", default="user-1", help="user id of the account")
    parser.add_argument("--credit", type=_decimal, default=Decimal("10.00"), help="API credit")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay before every answer's first byte"
    )
    parser.add_argument(
        "--chunk-delay-ms", type=float, default=0.0, help="delay between streamed audio chunks"
    )
    parser.add_argument(
        "--segment-latency-ms",
        type=float,
        default=0.0,
        help="cost of each live TTS synthesis segment",
    )
    parser.add_argument(
        "--max-concurrency", type=int, default=None, help="simultaneous requests per key"
    )
    parser.add_argument(
        "--seed-voices",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="start with the seed voice library",
    )
    parser.add_argument(
        "--fish-speech",
        action="store_true",
        help="emulate a self-hosted Fish Speech server (--api-key optional, at most one)",
    )
    parser.add_argument(
        "--max-text-length", type=int, default=0, help="Fish Speech: longest text (0: any)"
    )
    parser.add_argument(
        "--sentence-latency-ms",
        type=float,
        default=0.0,
        help="Fish Speech: synthesis time per sentence",
    )
    return parser.parse_args(argv)


def build(args: argparse.Namespace) -> FishAudioEmulator | FishSpeechEmulator:
    """Return an emulator configured from parsed arguments."""
    if args.fish_speech:
        if args.api_keys and len(args.api_keys) > 1:
            raise SystemExit("a Fish Speech server takes at most one --api-key")
        return FishSpeechEmulator(
            api_key=args.api_keys[0] if args.api_keys else None,
            max_text_length=args.max_text_length,
            sentence_latency=args.sentence_latency_ms / 1000,
            references=demo_references() if args.seed_voices else None,
        )
    return FishAudioEmulator(
        api_keys=args.api_keys or ("test-key",),
        user_id=args.user_id,
        credit=args.credit,
        latency=args.latency_ms / 1000,
        chunk_delay=args.chunk_delay_ms / 1000,
        segment_latency=args.segment_latency_ms / 1000,
        max_concurrency=args.max_concurrency,
        seed_voices=args.seed_voices,
    )


async def serve(
    emulator: FishAudioEmulator | FishSpeechEmulator, host: str, port: int, stop: asyncio.Event
) -> None:
    """Run ``emulator`` until ``stop`` is set."""
    await emulator.start(host, port)
    try:
        sys.stdout.write(f"{emulator.base_url}\n")
        sys.stdout.flush()
        await stop.wait()
    finally:
        await emulator.stop()


async def _main(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        await serve(build(args), args.host, args.port, stop)
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m emulator``."""
    asyncio.run(_main(parse_args(argv)))


if __name__ == "__main__":
    main()
