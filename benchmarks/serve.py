"""Run Fish Audio emulators in their own process, so their CPU is never counted.

Usage: ``python -m benchmarks.serve '<json list of emulator settings>'``. Starts one
emulator per settings dict on 127.0.0.1 (free ports), prints one JSON line
``{"urls": [...], "ignored": {...}}`` and serves until its stdin closes (the runner holds
the pipe; if the runner dies the emulators go with it).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
from typing import Any

from .common import API_KEY


def _emulator_class() -> type[Any]:
    try:
        from emulator import FishAudioEmulator
    except ImportError:  # the package may not re-export it (yet)
        from emulator.app import FishAudioEmulator
    return FishAudioEmulator


def _own_voice(emulator: Any) -> str | None:
    """A voice of the benchmark account (all clients synthesise with the same one)."""
    user_id = getattr(emulator.state, "user_id", "user-1")
    voices = list(emulator.state.voices.values())
    own = [v for v in voices if v.get("author", {}).get("_id") == user_id]
    public = [v for v in voices if v.get("visibility") == "public"]
    chosen = (own or public or [None])[0]
    return None if chosen is None else str(chosen["_id"])


async def _serve(configs: list[dict[str, Any]]) -> None:
    cls = _emulator_class()
    accepted = set(inspect.signature(cls).parameters)
    emulators = []
    ignored: dict[str, list[str]] = {}
    for index, config in enumerate(configs):
        kwargs = {key: value for key, value in config.items() if key in accepted}
        if missing := sorted(set(config) - accepted):
            ignored[str(index)] = missing
        emulator = cls(api_keys=(API_KEY,), **kwargs)
        await emulator.start("127.0.0.1", 0)
        emulators.append(emulator)
    ready = {
        "urls": [e.base_url for e in emulators],
        "voice_ids": [_own_voice(e) for e in emulators],
        "ignored": ignored,
    }
    print(json.dumps(ready), flush=True)
    loop = asyncio.get_running_loop()
    # Blocks in a thread until the runner closes our stdin.
    await loop.run_in_executor(None, sys.stdin.read)
    for emulator in emulators:
        await emulator.stop()


def main() -> None:
    """Entry point."""
    asyncio.run(_serve(json.loads(sys.argv[1])))


if __name__ == "__main__":
    main()
