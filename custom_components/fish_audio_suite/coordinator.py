"""Account data (credit and package) for Fish Audio Suite, polled by one coordinator."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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
    # The account's own voices as last listed (voice picker, Assist's voice list); listed in
    # the coordinator's setup and again after the voice actions change them.
    voices: list[Voice] = field(default_factory=list)


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

    async def _async_setup(self) -> None:
        """List the account's voices once, within the first refresh.

        Running here gives the voice list the same error handling as the account data: an
        authentication failure starts reauth, anything else retries setup later.
        """
        with _account_errors():
            page = await self.client.list_voices(self_only=True, page_size=OWN_VOICES_LIMIT)
        self.config_entry.runtime_data.voices = list(page.items)

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
