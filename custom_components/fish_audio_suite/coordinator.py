"""Account data of Fish Audio Suite: credit and package, and the account's voices.

One coordinator per kind of data (as peblar keeps several in its runtime data): credit
changes with usage and is polled every few minutes; the voice list changes rarely and is
polled seldom, and refreshed after each voice action and whenever the voice picker lists it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api import Credit, FishAudioClient, FishAudioInsufficientCreditError, Package, Voice
from .const import (
    BILLING_URL,
    CONF_LOW_CREDIT_THRESHOLD,
    DEFAULT_LOW_CREDIT_THRESHOLD,
    DOMAIN,
    ISSUE_INSUFFICIENT_CREDIT,
    LOGGER,
    OWN_VOICES_LIMIT,
    UPDATE_INTERVAL,
    USAGE_REFRESH_DELAY,
    VOICES_UPDATE_INTERVAL,
)
from .helpers import entry_errors
from .usage import UsageTracker


class AccountData:
    """What the coordinator knows about the account (a slotted class: cheap to import)."""

    __slots__ = ("credit", "package")

    def __init__(self, *, credit: Credit, package: Package | None) -> None:
        """Hold the credit and the package (None: the account has none)."""
        self.credit = credit
        self.package = package


class FishAudioRuntimeData:
    """Runtime data of an account entry.

    A plain slotted class, not a dataclass: nothing compares or prints it, and a dataclass
    costs about half a millisecond of import (benchmarks/README.md).
    """

    __slots__ = ("client", "coordinator", "usage", "voices")

    def __init__(
        self,
        *,
        client: FishAudioClient,
        coordinator: FishAudioCoordinator,
        usage: UsageTracker,
        voices: FishAudioVoicesCoordinator,
    ) -> None:
        """Hold the entry's client, coordinators and usage counters."""
        self.client = client
        self.coordinator = coordinator
        self.usage = usage  # what billed calls used and cost (usage.py)
        self.voices = voices


type FishAudioConfigEntry = ConfigEntry[FishAudioRuntimeData]


class _AccountDataCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """Reads one kind of account data with the account's client.

    A refused key starts reauth, any other client error fails the update; a refusal for
    lack of credit (HTTP 402, the account endpoints too) raises the credit repair issue.
    """

    config_entry: FishAudioConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: FishAudioConfigEntry,
        client: FishAudioClient,
        **kwargs: Any,
    ) -> None:
        """Initialise the coordinator (``kwargs``: its name, interval, debouncer)."""
        super().__init__(hass, LOGGER, config_entry=entry, **kwargs)
        self.client = client

    async def _async_update_data(self) -> DataT:
        try:
            with entry_errors("auth_failed", UpdateFailed, "update_failed"):
                return await self._async_fetch()
        except UpdateFailed as err:
            if isinstance(err.__cause__, FishAudioInsufficientCreditError):
                self._credit_coordinator().async_payment_required()
            raise

    async def _async_fetch(self) -> DataT:
        """Read the data (client errors are mapped by the caller)."""
        raise NotImplementedError

    def _credit_coordinator(self) -> FishAudioCoordinator:
        return self.config_entry.runtime_data.coordinator


class FishAudioCoordinator(_AccountDataCoordinator[AccountData]):
    """Polls the account's API credit and subscription package."""

    def __init__(
        self, hass: HomeAssistant, entry: FishAudioConfigEntry, client: FishAudioClient
    ) -> None:
        """Initialise the coordinator."""
        super().__init__(
            hass,
            entry,
            client,
            name=DOMAIN,
            update_interval=UPDATE_INTERVAL,
            # Many calls in a burst (an automation announcing in every room) make one refresh.
            request_refresh_debouncer=Debouncer(
                hass, LOGGER, cooldown=USAGE_REFRESH_DELAY, immediate=False
            ),
        )
        # When the API last refused a call for lack of credit (HTTP 402, any endpoint), on
        # the loop's clock; None once that is over. The repair issue stays while it is set.
        self._refused_at: float | None = None

    async def _async_fetch(self) -> AccountData:
        """Fetch credit and package."""
        started = self.hass.loop.time()
        credit = await self.client.get_credit()
        package = await self.client.get_package()
        self._async_update_credit_issue(credit.credit, read_at=started)
        return AccountData(credit=credit, package=package)

    def _credit_coordinator(self) -> FishAudioCoordinator:
        return self

    @property
    def low_credit_threshold(self) -> Decimal:
        """Return the credit below which the repair issue is raised."""
        value = self.config_entry.options.get(
            CONF_LOW_CREDIT_THRESHOLD, DEFAULT_LOW_CREDIT_THRESHOLD
        )
        return Decimal(str(value))

    @callback
    def async_payment_required(self) -> None:
        """Record that the API refused a call for lack of credit (HTTP 402, any endpoint)."""
        self._refused_at = self.hass.loop.time()
        self._async_create_credit_issue(self.data.credit.credit if self.data else None)
        self.async_note_usage()

    @callback
    def async_paid_call_succeeded(self) -> None:
        """A billed call went through: whatever the last refusal was, it is over."""
        if self._refused_at is None:
            return
        self._refused_at = None
        if self.data is None or self.data.credit.credit >= self.low_credit_threshold:
            ir.async_delete_issue(self.hass, DOMAIN, self._issue_id)

    @callback
    def async_note_usage(self) -> None:
        """Refresh credit soon after usage (debounced)."""
        self.hass.async_create_task(
            self.async_request_refresh(), f"{DOMAIN} credit refresh", eager_start=False
        )

    @callback
    def _async_update_credit_issue(self, credit: Decimal, *, read_at: float) -> None:
        """Raise or clear the issue from a credit read that started at `read_at`.

        A read that started after the refusal and shows credit at or above the threshold
        ends the refusal (the user topped up), whatever the credit was before; a read that
        was already on its way when the refusal came proves nothing.
        """
        low = credit < self.low_credit_threshold
        if self._refused_at is not None and not low and read_at > self._refused_at:
            self._refused_at = None
        if low or self._refused_at is not None:
            self._async_create_credit_issue(credit)
        else:
            ir.async_delete_issue(self.hass, DOMAIN, self._issue_id)

    @callback
    def _async_create_credit_issue(self, credit: Decimal | None) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            learn_more_url=BILLING_URL,
            translation_key=ISSUE_INSUFFICIENT_CREDIT,
            translation_placeholders={
                "account": self.config_entry.title,
                # Unknown before the first read (a 402 at setup).
                "credit": "?" if credit is None else f"{credit:.2f}",
                "threshold": f"{self.low_credit_threshold:.2f}",
                "billing_url": BILLING_URL,
            },
        )

    @property
    def _issue_id(self) -> str:
        return f"{ISSUE_INSUFFICIENT_CREDIT}_{self.config_entry.entry_id}"


class FishAudioVoicesCoordinator(_AccountDataCoordinator[tuple[Voice, ...]]):
    """Lists the account's own voices (Assist's voice list, diagnostics)."""

    def __init__(
        self, hass: HomeAssistant, entry: FishAudioConfigEntry, client: FishAudioClient
    ) -> None:
        """Initialise the coordinator."""
        super().__init__(
            hass, entry, client, name=f"{DOMAIN} voices", update_interval=VOICES_UPDATE_INTERVAL
        )

    async def _async_fetch(self) -> tuple[Voice, ...]:
        """List the own voices (one page: the API's largest)."""
        page = await self.client.list_voices(self_only=True, page_size=OWN_VOICES_LIMIT)
        return page.items
