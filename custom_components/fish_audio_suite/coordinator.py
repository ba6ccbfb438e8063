"""Account data of Fish Audio Suite: credit and package, and the account's voices.

One coordinator per kind of data (as peblar keeps several in its runtime data): credit
changes with usage and is polled every few minutes; the voice list changes rarely and is
polled seldom, and refreshed after each voice action and whenever the voice picker lists it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api import (
    Credit,
    FishAudioAuthenticationError,
    FishAudioClient,
    FishAudioError,
    FishAudioInsufficientCreditError,
    Package,
    Voice,
)
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
from .usage import UsageTracker


@dataclass(frozen=True, slots=True)
class AccountData:
    """What the coordinator knows about the account."""

    credit: Credit
    package: Package | None


@dataclass(slots=True)
class FishAudioRuntimeData:
    """Runtime data of an account entry."""

    client: FishAudioClient
    coordinator: FishAudioCoordinator
    usage: UsageTracker  # what billed calls used and cost (usage.py)
    voices: FishAudioVoicesCoordinator


type FishAudioConfigEntry = ConfigEntry[FishAudioRuntimeData]


@contextmanager
def _account_errors() -> Iterator[None]:
    """Map client errors while reading the account: reauth, or fail this update."""
    try:
        yield
    except FishAudioAuthenticationError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="auth_failed"
        ) from err
    except FishAudioError as err:
        raise UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="update_failed",
            translation_placeholders={"error": str(err)},
        ) from err


class FishAudioCoordinator(DataUpdateCoordinator[AccountData]):
    """Polls the account's API credit and subscription package."""

    config_entry: FishAudioConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: FishAudioConfigEntry, client: FishAudioClient
    ) -> None:
        """Initialise the coordinator."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=DOMAIN,
            update_interval=UPDATE_INTERVAL,
            # Many calls in a burst (an automation announcing in every room) make one refresh.
            request_refresh_debouncer=Debouncer(
                hass, LOGGER, cooldown=USAGE_REFRESH_DELAY, immediate=False
            ),
        )
        self.client = client
        # When the API last refused a call for lack of credit (HTTP 402, any endpoint), on
        # the loop's clock; None once that is over. The repair issue stays while it is set.
        self._refused_at: float | None = None

    async def _async_update_data(self) -> AccountData:
        """Fetch credit and package."""
        started = self.hass.loop.time()
        try:
            with _account_errors():
                credit = await self.client.get_credit()
                package = await self.client.get_package()
        except UpdateFailed as err:
            if isinstance(err.__cause__, FishAudioInsufficientCreditError):
                self.async_payment_required()  # a 402 from the account endpoints too
            raise
        self._async_update_credit_issue(credit.credit, read_at=started)
        return AccountData(credit=credit, package=package)

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


class FishAudioVoicesCoordinator(DataUpdateCoordinator[tuple[Voice, ...]]):
    """Lists the account's own voices (Assist's voice list, diagnostics)."""

    config_entry: FishAudioConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: FishAudioConfigEntry, client: FishAudioClient
    ) -> None:
        """Initialise the coordinator."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} voices",
            update_interval=VOICES_UPDATE_INTERVAL,
        )
        self.client = client

    async def _async_update_data(self) -> tuple[Voice, ...]:
        """List the own voices (one page: the API's largest)."""
        try:
            with _account_errors():
                page = await self.client.list_voices(self_only=True, page_size=OWN_VOICES_LIMIT)
        except UpdateFailed as err:
            if isinstance(err.__cause__, FishAudioInsufficientCreditError):
                self.config_entry.runtime_data.coordinator.async_payment_required()
            raise
        return page.items
