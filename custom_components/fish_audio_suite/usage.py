"""Usage and estimated cost of a Fish Audio account, counted by the integration.

Every billed call that succeeded is recorded here, once, by a one-line hook at its call site
(`async_record_tts`, `async_record_asr`, `async_record_voice_design`). A failed or refused call
raises before its hook runs, and a message Home Assistant replays from its TTS cache never
reaches the entity, so neither counts. The counts are kept per model, in Home Assistant's
storage (one file per account), so a restart, a reload or a disabled sensor loses nothing:
the tracker outlives reloads in memory and its delayed save is flushed when Home Assistant
stops.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
import math
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, LOGGER

if TYPE_CHECKING:
    from .api import ASRResult
    from .coordinator import FishAudioConfigEntry


class Unit(StrEnum):
    """What a model is billed by."""

    UTF8_BYTE = "utf8_byte"  # of the text sent (text-to-speech)
    AUDIO_SECOND = "audio_second"  # of the audio sent, rounded up per request (ASR)
    REQUEST = "request"  # one call, whatever it returns (voice design)


class Price:
    """The published price of one model.

    Like `TextSize` and `ModelUsage` below, a plain slotted class: a NamedTuple or dataclass
    costs 0.1-0.5 ms of import (benchmarks/README.md).
    """

    __slots__ = ("unit", "usd_per_unit")

    def __init__(self, unit: Unit, usd_per_unit: Decimal) -> None:
        """Record the price."""
        self.unit = unit
        self.usd_per_unit = usd_per_unit


# Fish Audio's published prices, the one place they live (update both constants together).
PRICES_SOURCE: Final = (
    "https://docs.fish.audio/developer-guide/models-pricing/pricing-and-rate-limits"
)
PRICES_DATE: Final = "2026-08"
ASR_MODEL: Final = "transcribe-1"
VOICE_DESIGN_MODEL: Final = "voice-design-1"
_TTS_PAID: Final = Price(Unit.UTF8_BYTE, Decimal(15) / 1_000_000)  # $15 per million bytes
PRICES: Final[dict[str, Price]] = {
    "s2.1-pro": _TTS_PAID,
    "s2.1-pro-free": Price(Unit.UTF8_BYTE, Decimal(0)),  # fair-use limits, no guarantees
    "s2-pro": _TTS_PAID,
    "s1": _TTS_PAID,
    ASR_MODEL: Price(Unit.AUDIO_SECOND, Decimal("0.36") / 3600),  # $0.36 per audio hour
    VOICE_DESIGN_MODEL: Price(Unit.REQUEST, Decimal("0.01")),
}

STORAGE_VERSION: Final = 1
# Long enough to batch a burst of announcements into one write, short enough that a crash
# loses little (Home Assistant's own registries use the same delay).
SAVE_DELAY: Final = 10.0

DATA_USAGE: HassKey[dict[str, UsageTracker]] = HassKey(f"{DOMAIN}_usage")


class TextSize:
    """The size of text sent for speech: characters, and the UTF-8 bytes it is billed by.

    This and `ModelUsage` are plain slotted classes, not dataclasses: nothing compares or
    prints them, and each dataclass costs 0.3-0.5 ms of import (its generated methods are
    compiled when the module loads; benchmarks/README.md).
    """

    __slots__ = ("characters", "utf8_bytes")

    def __init__(self, characters: int = 0, utf8_bytes: int = 0) -> None:
        """Start from the given counts (none by default)."""
        self.characters = characters
        self.utf8_bytes = utf8_bytes

    @classmethod
    def of(cls, text: str) -> TextSize:
        """Return the size of `text`."""
        return cls(len(text), len(text.encode()))

    def add(self, text: str) -> None:
        """Count `text` too (a chunk of a message still being written)."""
        self.characters += len(text)
        self.utf8_bytes += len(text.encode())


class ModelUsage:
    """What one model was used for.

    `cost` holds only priced use: a call to a model missing from PRICES adds its units but
    no cost, and marks the model unpriced instead of guessing.
    """

    __slots__ = ("characters", "cost", "priced", "requests", "seconds", "utf8_bytes")

    def __init__(
        self,
        *,
        requests: int = 0,
        characters: int = 0,
        utf8_bytes: int = 0,
        seconds: float = 0.0,
        cost: Decimal | None = None,
        priced: bool = True,
    ) -> None:
        """Start from the given counters (none by default)."""
        self.requests = requests
        self.characters = characters
        self.utf8_bytes = utf8_bytes
        self.seconds = seconds
        self.cost = Decimal(0) if cost is None else cost
        self.priced = priced

    def as_dict(self) -> dict[str, Any]:
        """Return the counters, JSON-ready (the cost as an exact decimal string)."""
        return {
            "requests": self.requests,
            "characters": self.characters,
            "utf8_bytes": self.utf8_bytes,
            "seconds": self.seconds,
            "cost": str(self.cost),
            "priced": self.priced,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ModelUsage:
        """Build from stored counters.

        Raises:
            ValueError: The data is not what `as_dict` writes.
        """
        try:
            usage = cls(
                requests=int(data["requests"]),
                characters=int(data["characters"]),
                utf8_bytes=int(data["utf8_bytes"]),
                seconds=float(data["seconds"]),
                cost=Decimal(str(data["cost"])),
                priced=bool(data["priced"]),
            )
        except (KeyError, TypeError, ValueError, InvalidOperation) as err:
            raise ValueError(f"invalid usage record: {err!r}") from err
        if min(usage.requests, usage.characters, usage.utf8_bytes, usage.seconds) < 0 or not (
            usage.cost.is_finite() and usage.cost >= 0 and math.isfinite(usage.seconds)
        ):
            raise ValueError("invalid usage record: negative or not finite")
        return usage


class UsageTracker:
    """The usage counters of one account, per model, saved in Home Assistant's storage."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Initialise empty counters (see `async_load`)."""
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.usage.{entry_id}"
        )
        self.models: dict[str, ModelUsage] = {}
        self.since: datetime = dt_util.utcnow()
        self._listeners: list[CALLBACK_TYPE] = []

    async def async_load(self) -> None:
        """Read the saved counters; a damaged record is dropped with a warning."""
        stored = await self._store.async_load()
        if not isinstance(stored, dict):
            return
        if isinstance(since := stored.get("since"), str) and (
            parsed := dt_util.parse_datetime(since)
        ):
            self.since = parsed
        models = stored.get("models")
        for model, data in (models if isinstance(models, dict) else {}).items():
            try:
                self.models[str(model)] = ModelUsage.from_dict(data)
            except ValueError as err:
                LOGGER.warning("Usage counters of model %s dropped: %s", model, err)

    async def async_remove(self) -> None:
        """Delete the saved counters (the account was removed)."""
        await self._store.async_remove()

    @property
    def characters(self) -> int:
        """Return the characters synthesised, all models."""
        return sum(usage.characters for usage in self.models.values())

    @property
    def seconds(self) -> float:
        """Return the seconds of audio transcribed."""
        return round(sum((usage.seconds for usage in self.models.values()), 0.0), 3)

    @property
    def cost(self) -> Decimal:
        """Return the estimated cost in USD of all priced use."""
        return sum((usage.cost for usage in self.models.values()), Decimal(0))

    @property
    def unpriced_models(self) -> list[str]:
        """Return the models used whose price is not known (their cost is not counted)."""
        return sorted(model for model, usage in self.models.items() if not usage.priced)

    def model(self, model: str) -> ModelUsage:
        """Return the counters of `model` (zero if it was never used)."""
        return self.models.get(model) or ModelUsage()

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` after every change; return the function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def async_record(
        self,
        model: str,
        unit: Unit,
        *,
        text: TextSize | None = None,
        seconds: float = 0.0,
    ) -> None:
        """Record one billed call of `model` and charge it at the model's published price."""
        usage = self.models.setdefault(model, ModelUsage())
        usage.requests += 1
        billed = 1
        if text is not None:
            usage.characters += text.characters
            usage.utf8_bytes += text.utf8_bytes
            billed = text.utf8_bytes
        if unit is Unit.AUDIO_SECOND:
            usage.seconds = round(usage.seconds + seconds, 3)
            billed = math.ceil(round(seconds, 3))  # 2.0000001 s is 2 s, not 3
        price = PRICES.get(model)
        if price is None or price.unit is not unit:
            usage.priced = False
        else:
            usage.cost += price.usd_per_unit * billed
        self._store.async_delay_save(self.as_dict, SAVE_DELAY)
        for listener in list(self._listeners):
            listener()

    def as_dict(self) -> dict[str, Any]:
        """Return the counters as saved (and shown in diagnostics)."""
        return {
            "since": self.since.isoformat(),
            "models": {model: usage.as_dict() for model, usage in sorted(self.models.items())},
        }


async def async_get_tracker(hass: HomeAssistant, entry_id: str) -> UsageTracker:
    """Return the account's tracker, loading it the first time.

    It is kept for the life of Home Assistant, not of the entry: a call that ends while the
    entry reloads then counts in the same counters, and no stale copy can overwrite them.
    """
    trackers = hass.data.setdefault(DATA_USAGE, {})
    if (tracker := trackers.get(entry_id)) is None:
        tracker = UsageTracker(hass, entry_id)
        await tracker.async_load()
        trackers[entry_id] = tracker
    return tracker


async def async_remove_tracker(hass: HomeAssistant, entry_id: str) -> None:
    """Forget an account's counters and delete their file."""
    tracker = hass.data.get(DATA_USAGE, {}).pop(entry_id, None)
    if tracker is None:
        tracker = UsageTracker(hass, entry_id)  # never loaded since start: the file remains
    await tracker.async_remove()


# ------------------------------------------------------------------ hooks at billed calls


@callback
def async_record_tts(entry: FishAudioConfigEntry, model: str, text: str | TextSize) -> None:
    """Record text-to-speech that Fish Audio delivered (HTTP, live WebSocket or a file)."""
    size = text if isinstance(text, TextSize) else TextSize.of(text)
    entry.runtime_data.usage.async_record(model, Unit.UTF8_BYTE, text=size)
    _async_paid_call_succeeded(entry, model)


@callback
def async_record_asr(entry: FishAudioConfigEntry, audio: bytes, result: ASRResult) -> None:
    """Record a transcription: the audio's own duration, else the one the server states.

    The server's `duration` is in seconds per the API reference (a comment in the
    SDK says milliseconds), so it is used only when the audio's header
    does not tell (MP3 and other formats the `transcribe` action passes on as they are).
    """
    # Both callers (the STT entity, the transcribe action) load audio.py before they have
    # audio to send; it is not imported with the integration.
    from .audio import probe_duration  # noqa: PLC0415

    seconds = probe_duration(audio)
    if seconds is None:
        seconds = max(result.duration, 0.0)
    entry.runtime_data.usage.async_record(ASR_MODEL, Unit.AUDIO_SECOND, seconds=seconds)
    _async_paid_call_succeeded(entry, ASR_MODEL)


@callback
def async_record_voice_design(entry: FishAudioConfigEntry) -> None:
    """Record one voice-design request (billed per request, whatever the candidate count)."""
    entry.runtime_data.usage.async_record(VOICE_DESIGN_MODEL, Unit.REQUEST)
    _async_paid_call_succeeded(entry, VOICE_DESIGN_MODEL)


@callback
def _async_paid_call_succeeded(entry: FishAudioConfigEntry, model: str) -> None:
    """Tell the credit repair issue that a paid call went through (free models prove nothing)."""
    price = PRICES.get(model)
    if price is None or price.usd_per_unit > 0:  # a model without a price is billed
        entry.runtime_data.coordinator.async_paid_call_succeeded()


def price_table() -> dict[str, Any]:
    """Return the price table with its source, as diagnostics show it."""
    return {
        "source": PRICES_SOURCE,
        "as_of": PRICES_DATE,
        "usd_per_unit": {
            model: {"unit": str(price.unit), "usd": str(price.usd_per_unit)}
            for model, price in PRICES.items()
        },
    }


def models_billed_by(unit: Unit, *, paid_only: bool = False) -> list[str]:
    """Return the priced models billed by `unit` (only those that cost money if asked)."""
    return [
        model
        for model, price in PRICES.items()
        if price.unit is unit and (price.usd_per_unit > 0 or not paid_only)
    ]
