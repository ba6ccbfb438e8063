"""A local emulator of the Fish Audio API for tests, benchmarks and the demo mode.

It speaks the protocol of https://docs.fish.audio/api-reference (or, as
``FishSpeechEmulator``, a self-hosted Fish Speech server's API) on loopback (REST, msgpack,
multipart and the live TTS WebSocket), records every request byte-exact, and injects faults on
demand.
"""

from .app import FishAudioEmulator
from .faults import PRESETS, WS_MODES, FaultInjector
from .fish_speech import FishSpeechEmulator
from .state import (
    Account,
    EmulatorState,
    PackageState,
    RecordedPart,
    RecordedRequest,
    RecordedWebSocket,
)

__all__ = [
    "PRESETS",
    "WS_MODES",
    "Account",
    "EmulatorState",
    "FaultInjector",
    "FishAudioEmulator",
    "FishSpeechEmulator",
    "PackageState",
    "RecordedPart",
    "RecordedRequest",
    "RecordedWebSocket",
]
