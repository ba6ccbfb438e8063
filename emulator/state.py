"""Mutable state of the emulator and the records of what clients sent.

Tests change the state directly (``emu.state.credit = Decimal(0)``, ``del emu.state.api_keys[k]``)
and assert on the records (``emu.requests``, ``emu.ws_sessions``), so everything here is plain
data with no locking: it is only ever touched from the event loop.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterable, Mapping
import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from multidict import CIMultiDict, MultiDict

from .voices import seed_voices

# Fixed timestamps keep the seed data and the default wallet stable for snapshot tests.
_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def isoformat(value: datetime) -> str:
    """Return ``value`` as the API writes dates: ISO 8601 with a ``Z`` suffix."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(slots=True, kw_only=True)
class PackageState:
    """A subscription package (platform credit), as ``GET /wallet/{id}/package`` returns it."""

    id: str = "pkg-1"
    type: str = "plus"
    total: int = 1_000_000
    balance: int = 750_000
    extra_balance: int = 0
    billing_period: str | None = "monthly"
    created_at: datetime = _EPOCH
    updated_at: datetime = _EPOCH
    # Non-null: every fish-audio-sdk generation requires it (1.3.0 `Package`).
    finished_at: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    current_period_end: datetime | None = datetime(2026, 1, 1, tzinfo=UTC)

    def as_json(self, user_id: str) -> dict[str, Any]:
        """Return the wire form for the account ``user_id``."""
        return {
            "_id": self.id,
            "user_id": user_id,
            "type": self.type,
            "total": self.total,
            "balance": self.balance,
            "extra_balance": self.extra_balance,
            "created_at": isoformat(self.created_at),
            "updated_at": isoformat(self.updated_at),
            "finished_at": isoformat(self.finished_at),
            "billing_period": self.billing_period,
            "current_period_end": (
                None if self.current_period_end is None else isoformat(self.current_period_end)
            ),
            "cancel_at_period_end": False,
            "has_used_trial": False,
        }


@dataclass(slots=True, kw_only=True)
class Account:
    """One Fish Audio account: its API credit wallet and optional package."""

    user_id: str
    credit: Decimal = Decimal("10.00")
    cumulative_top_up: Decimal = Decimal("20.00")
    package: PackageState | None = None
    nickname: str = "Emulated user"
    has_phone_sha256: bool = False
    has_free_credit: bool = False
    created_at: datetime = _EPOCH
    updated_at: datetime = _EPOCH

    def credit_json(self, *, check_free_credit: bool) -> dict[str, Any]:
        """Return the wire form of ``GET /wallet/{id}/api-credit``."""
        return {
            "_id": f"credit-{self.user_id}",
            "user_id": self.user_id,
            "credit": str(self.credit),
            "cumulative_top_up": str(self.cumulative_top_up),
            "created_at": isoformat(self.created_at),
            "updated_at": isoformat(self.updated_at),
            "has_phone_sha256": self.has_phone_sha256,
            # Null unless asked (OpenAPI `GET /wallet/self/api-credit`, check_free_credit).
            "has_free_credit": self.has_free_credit if check_free_credit else None,
        }


class EmulatorState:
    """Accounts, keys and voices of the emulated service.

    ``api_keys`` maps each valid key to the user id of its account, so a second key can belong to
    a *different* account (``state.add_api_key("other", user_id="user-2")``); removing a key
    simulates revocation (its next request gets 401). ``credit``, ``cumulative_top_up`` and
    ``package`` are shortcuts to the primary account (``user_id``).
    """

    def __init__(
        self,
        *,
        api_keys: Iterable[str] = ("test-key",),
        user_id: str = "user-1",
        credit: Decimal = Decimal("10.00"),
        package: PackageState | None = None,
        seed_voices: bool = True,
    ) -> None:
        """Initialise the state; ``reset()`` returns to exactly this."""
        self._initial_keys = tuple(api_keys)
        self._initial_user = user_id
        self._initial_credit = credit
        self._initial_package = package
        self._seed = seed_voices
        self.api_keys: dict[str, str] = {}
        self.accounts: dict[str, Account] = {}
        self.voices: dict[str, dict[str, Any]] = {}
        self.user_id = user_id
        self.asr_text: str | None = None
        self.asr_language: str = "en"
        # 401 body: plain text as the live API answers, or the JSON of the vendor's errors page.
        self.auth_error_style: Literal["plain", "json"] = "plain"
        # 422 body: top-level array (SKILL-API) or {"detail": [...]} (JS SDK notes).
        self.validation_error_shape: Literal["list", "detail"] = "list"
        # An unknown reference_id is a 400 per the vendor's errors page; 404 is also plausible.
        self.unknown_reference_status: int = 400
        self.voice_counter = 0
        self.reset()

    def reset(self) -> None:
        """Restore the state given to the constructor (seed voices included)."""
        self.user_id = self._initial_user
        self.api_keys = dict.fromkeys(self._initial_keys, self._initial_user)
        self.accounts = {
            self._initial_user: Account(
                user_id=self._initial_user,
                credit=self._initial_credit,
                package=copy.copy(self._initial_package),
            )
        }
        self.voices = seed_voices(self._initial_user) if self._seed else {}
        self.asr_text = None
        self.asr_language = "en"
        self.auth_error_style = "plain"
        self.validation_error_shape = "list"
        self.unknown_reference_status = 400
        self.voice_counter = 0

    def account(self, user_id: str) -> Account:
        """Return the account ``user_id``, creating it with default values if needed."""
        if user_id not in self.accounts:
            self.accounts[user_id] = Account(user_id=user_id, nickname=f"User {user_id}")
        return self.accounts[user_id]

    def add_api_key(
        self, key: str, *, user_id: str | None = None, credit: Decimal | None = None
    ) -> Account:
        """Make ``key`` valid for ``user_id`` (the primary account by default).

        Args:
            key: The API key.
            user_id: The account it belongs to; created when new.
            credit: Set that account's credit, if given.
        """
        account = self.account(user_id or self.user_id)
        if credit is not None:
            account.credit = credit
        self.api_keys[key] = account.user_id
        return account

    def revoke_api_key(self, key: str) -> None:
        """Make ``key`` invalid: its next request is answered 401."""
        self.api_keys.pop(key, None)

    @property
    def primary(self) -> Account:
        """The account of ``user_id``."""
        return self.account(self.user_id)

    @property
    def credit(self) -> Decimal:
        """API credit of the primary account, in USD."""
        return self.primary.credit

    @credit.setter
    def credit(self, value: Decimal) -> None:
        self.primary.credit = Decimal(value)

    @property
    def cumulative_top_up(self) -> Decimal:
        """Cumulative top-up of the primary account, in USD."""
        return self.primary.cumulative_top_up

    @cumulative_top_up.setter
    def cumulative_top_up(self, value: Decimal) -> None:
        self.primary.cumulative_top_up = Decimal(value)

    @property
    def package(self) -> PackageState | None:
        """Package of the primary account, or None when it has none (the API answers 404)."""
        return self.primary.package

    @package.setter
    def package(self, value: PackageState | None) -> None:
        self.primary.package = value

    def as_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable snapshot for the control API."""
        return {
            "user_id": self.user_id,
            "credit": str(self.credit),
            "cumulative_top_up": str(self.cumulative_top_up),
            "package": None if self.package is None else self.package.as_json(self.user_id),
            "api_keys": dict(self.api_keys),
            "accounts": {
                uid: {
                    "credit": str(acc.credit),
                    "cumulative_top_up": str(acc.cumulative_top_up),
                    "has_package": acc.package is not None,
                }
                for uid, acc in self.accounts.items()
            },
            "voices": list(self.voices.values()),
            "asr_text": self.asr_text,
            "auth_error_style": self.auth_error_style,
            "validation_error_shape": self.validation_error_shape,
            "unknown_reference_status": self.unknown_reference_status,
        }


@dataclass(frozen=True, slots=True)
class RecordedPart:
    """One part of a multipart body, in the order it arrived."""

    name: str | None
    filename: str | None
    content_type: str | None
    data: bytes
    headers: CIMultiDict[str] = field(default_factory=CIMultiDict)

    @property
    def text(self) -> str:
        """The data decoded as UTF-8 (for form fields)."""
        return self.data.decode("utf-8", errors="replace")


@dataclass(slots=True, kw_only=True)
class RecordedRequest:
    """One HTTP request exactly as the emulator received it.

    ``headers`` is case-insensitive and keeps repeated headers; ``query`` keeps repeated keys in
    order (``rec.query.getall("tag")``); ``decoded`` is the body decoded by content type: msgpack
    and JSON to Python values, urlencoded and multipart to a ``MultiDict`` (files as bytes).
    """

    method: str
    path: str
    query_string: str
    query: MultiDict[str]
    headers: CIMultiDict[str]
    body: bytes
    content_type: str
    decoded: Any = None
    decode_error: str | None = None
    parts: list[RecordedPart] = field(default_factory=list)
    api_key: str | None = None
    user_id: str | None = None
    time: float = 0.0
    status: int | None = None

    @property
    def model(self) -> str | None:
        """The ``model`` header, if sent."""
        return self.headers.get("model")

    def as_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable form for the control API (bytes as base64)."""
        return {
            "method": self.method,
            "path": self.path,
            "query_string": self.query_string,
            "query": [[k, v] for k, v in self.query.items()],
            "headers": [[k, v] for k, v in self.headers.items()],
            "body_base64": base64.b64encode(self.body).decode("ascii"),
            "content_type": self.content_type,
            "decoded": jsonable(self.decoded),
            "decode_error": self.decode_error,
            "parts": [
                {
                    "name": p.name,
                    "filename": p.filename,
                    "content_type": p.content_type,
                    "data_base64": base64.b64encode(p.data).decode("ascii"),
                }
                for p in self.parts
            ],
            "user_id": self.user_id,
            "time": self.time,
            "status": self.status,
        }


@dataclass(slots=True, kw_only=True)
class RecordedWebSocket:
    """One ``/v1/tts/live`` connection.

    ``events`` are the client's messages in arrival order, each the decoded map plus a
    ``"monotonic"`` key (``time.monotonic()`` at arrival). ``sent`` are the server's messages
    (audio as ``{"event": "audio", "size": n}``), also stamped. ``segments`` are the synthesis
    units the server cut from the text buffer: ``{"text", "reason", "monotonic"}`` with reason
    ``chunk_length``, ``flush`` or ``stop``.
    """

    headers: CIMultiDict[str]
    api_key: str | None = None
    user_id: str | None = None
    model: str = "s2.1-pro"
    opened: float = 0.0
    closed: float | None = None
    request: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None
    fault: str | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event, repr=False, compare=False)

    async def wait_closed(self) -> None:
        """Wait (at most 10 s) until the server side of the session has recorded its close.

        The client usually sees the close a moment before the server's handler has recorded
        it, so tests that assert on ``close_code`` or ``closed`` wait here first.
        """
        async with asyncio.timeout(10):
            await self.done.wait()

    @property
    def audio_bytes(self) -> int:
        """Total audio bytes sent."""
        return sum(int(m.get("size", 0)) for m in self.sent if m.get("event") == "audio")

    def as_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable form for the control API."""
        return {
            "headers": [[k, v] for k, v in self.headers.items()],
            "user_id": self.user_id,
            "model": self.model,
            "opened": self.opened,
            "closed": self.closed,
            "request": jsonable(self.request),
            "events": jsonable(self.events),
            "sent": jsonable(self.sent),
            "segments": jsonable(self.segments),
            "close_code": self.close_code,
            "fault": self.fault,
        }


def jsonable(value: Any) -> Any:
    """Return ``value`` with bytes replaced by ``{"base64": ...}`` and mappings made plain."""
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, MultiDict):
        return [[k, jsonable(v)] for k, v in value.items()]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal | datetime):
        return str(value)
    return value
