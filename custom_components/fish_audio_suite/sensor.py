"""Credit and package sensors of a Fish Audio account."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import AccountData, FishAudioConfigEntry, FishAudioCoordinator
from .entity import FishAudioAccountEntity

# Read-only from coordinator data: no request is made per entity.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class FishAudioSensorEntityDescription(SensorEntityDescription):
    """Describes a Fish Audio sensor."""

    value_fn: Callable[[AccountData], Decimal | int | datetime | None]
    # Package sensors exist only for accounts that have a subscription package.
    needs_package: bool = False


SENSORS: tuple[FishAudioSensorEntityDescription, ...] = (
    FishAudioSensorEntityDescription(
        key="api_credit",
        translation_key="api_credit",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="USD",
        suggested_display_precision=2,
        value_fn=lambda data: data.credit.credit,
    ),
    FishAudioSensorEntityDescription(
        key="cumulative_top_up",
        translation_key="cumulative_top_up",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="USD",
        suggested_display_precision=2,
        entity_registry_enabled_default=False,
        value_fn=lambda data: data.credit.cumulative_top_up,
    ),
    FishAudioSensorEntityDescription(
        key="package_balance",
        translation_key="package_balance",
        needs_package=True,
        value_fn=lambda data: data.package.balance if data.package else None,
    ),
    FishAudioSensorEntityDescription(
        key="package_total",
        translation_key="package_total",
        needs_package=True,
        entity_registry_enabled_default=False,
        value_fn=lambda data: data.package.total if data.package else None,
    ),
    FishAudioSensorEntityDescription(
        key="package_ends",
        translation_key="package_ends",
        device_class=SensorDeviceClass.TIMESTAMP,
        needs_package=True,
        entity_registry_enabled_default=False,
        value_fn=lambda data: data.package.finished_at if data.package else None,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FishAudioConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the account's sensors."""
    coordinator = entry.runtime_data.coordinator
    has_package = coordinator.data.package is not None
    async_add_entities(
        FishAudioSensorEntity(coordinator, description)
        for description in SENSORS
        if has_package or not description.needs_package
    )


class FishAudioSensorEntity(FishAudioAccountEntity, SensorEntity):
    """A value of the account."""

    entity_description: FishAudioSensorEntityDescription

    def __init__(
        self, coordinator: FishAudioCoordinator, description: FishAudioSensorEntityDescription
    ) -> None:
        """Initialise the sensor."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def available(self) -> bool:
        """Return whether the value is known (a package can end while we run)."""
        if self.entity_description.needs_package and self.coordinator.data.package is None:
            return False
        return super().available

    @property
    def native_value(self) -> Decimal | int | datetime | None:
        """Return the value."""
        return self.entity_description.value_fn(self.coordinator.data)
