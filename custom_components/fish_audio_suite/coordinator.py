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
        # Credit seen when the API last answered 402; the repair issue stays until it rises.
        self._credit_at_402: Decimal | None = None

    async def _async_update_data(self) -> AccountData:
        """Fetch credit and package."""
        with _account_errors():
            credit = await self.client.get_credit()
            package = await self.client.get_package()
        self._async_update_credit_issue(credit.credit)
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
        """Record that the API refused a call for lack of credit (HTTP 402)."""
        credit = self.data.credit.credit if self.data else Decimal(0)
        self._credit_at_402 = credit
        self._async_create_credit_issue(credit)
        self.async_note_usage()

    @callback
    def async_note_usage(self) -> None:
        """Refresh credit soon after usage (debounced)."""
        self.hass.async_create_task(
            self.async_request_refresh(), f"{DOMAIN} credit refresh", eager_start=False
        )

    @callback
    def _async_update_credit_issue(self, credit: Decimal) -> None:
        if self._credit_at_402 is not None and credit > self._credit_at_402:
            self._credit_at_402 = None  # topped up since the refusal
        if credit < self.low_credit_threshold or self._credit_at_402 is not None:
            self._async_create_credit_issue(credit)
        else:
            ir.async_delete_issue(self.hass, DOMAIN, self._issue_id)

    @callback
    def _async_create_credit_issue(self, credit: Decimal) -> None:
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
                "credit": f"{credit:.2f}",
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
        with _account_errors():
            page = await self.client.list_voices(self_only=True, page_size=OWN_VOICES_LIMIT)
        return page.items
