"""Credit, package and usage sensors of a Fish Audio account."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import AccountData, FishAudioConfigEntry, FishAudioCoordinator
from .entity import FishAudioAccountEntity, account_device_info
from .usage import Unit, UsageTracker, models_billed_by

# Read-only from coordinator data: no request is made per entity.
PARALLEL_UPDATES = 0


class FishAudioSensor[SourceT]:
    """A Fish Audio sensor: Home Assistant's description and where its value comes from.

    Not a subclass of SensorEntityDescription: each such class costs about a millisecond of
    import time (Home Assistant builds a frozen and a thawed dataclass for it). Not a
    NamedTuple either (about 0.1 ms, a generic one): a plain slotted class costs a tenth of
    that (benchmarks/README.md, import time).
    """

    __slots__ = ("description", "needs_package", "value_fn")

    def __init__(
        self,
        description: SensorEntityDescription,
        value_fn: Callable[[SourceT], Decimal | int | float | datetime | None],
        *,
        needs_package: bool = False,
    ) -> None:
        """Pair the description with its value."""
        self.description = description
        # Reads the value from the account data or the usage counters.
        self.value_fn = value_fn
        # Package sensors exist only for accounts that have a subscription package.
        self.needs_package = needs_package


SENSORS: tuple[FishAudioSensor[AccountData], ...] = (
    FishAudioSensor(
        SensorEntityDescription(
            key="api_credit",
            translation_key="api_credit",
            device_class=SensorDeviceClass.MONETARY,
            # `total` (a monetary sensor may take no other): a balance that goes down with use
            # and up with a top-up, with history graphs and long-term statistics.
            state_class=SensorStateClass.TOTAL,
            native_unit_of_measurement="USD",
            suggested_display_precision=2,
        ),
        value_fn=lambda data: data.credit.credit,
    ),
    FishAudioSensor(
        SensorEntityDescription(
            key="cumulative_top_up",
            translation_key="cumulative_top_up",
            device_class=SensorDeviceClass.MONETARY,
            state_class=SensorStateClass.TOTAL,
            native_unit_of_measurement="USD",
            suggested_display_precision=2,
            entity_registry_enabled_default=False,
        ),
        value_fn=lambda data: data.credit.cumulative_top_up,
    ),
    FishAudioSensor(
        SensorEntityDescription(
            key="package_balance",
            translation_key="package_balance",
        ),
        value_fn=lambda data: data.package.balance if data.package else None,
        needs_package=True,
    ),
    FishAudioSensor(
        SensorEntityDescription(
            key="package_total",
            translation_key="package_total",
            entity_registry_enabled_default=False,
        ),
        value_fn=lambda data: data.package.total if data.package else None,
        needs_package=True,
    ),
    FishAudioSensor(
        SensorEntityDescription(
            key="package_ends",
            translation_key="package_ends",
            device_class=SensorDeviceClass.TIMESTAMP,
            entity_registry_enabled_default=False,
        ),
        value_fn=lambda data: data.package.finished_at if data.package else None,
        needs_package=True,
    ),
)


# A usage sensor: a total counted by the integration (usage.py).
type FishAudioUsageSensor = FishAudioSensor[UsageTracker]


# Totals for long-term statistics (public names). A monetary sensor may
# only be `total`; the others only ever grow.
USAGE_SENSORS: tuple[FishAudioUsageSensor, ...] = (
    FishAudioSensor(
        SensorEntityDescription(
            key="synthesized_characters",
            translation_key="synthesized_characters",
            state_class=SensorStateClass.TOTAL_INCREASING,
        ),
        value_fn=lambda usage: usage.characters,
    ),
    FishAudioSensor(
        SensorEntityDescription(
            key="transcribed_duration",
            translation_key="transcribed_duration",
            device_class=SensorDeviceClass.DURATION,
            native_unit_of_measurement=UnitOfTime.SECONDS,
            state_class=SensorStateClass.TOTAL_INCREASING,
            suggested_display_precision=1,
        ),
        value_fn=lambda usage: usage.seconds,
    ),
    FishAudioSensor(
        SensorEntityDescription(
            key="estimated_cost",
            translation_key="estimated_cost",
            device_class=SensorDeviceClass.MONETARY,
            native_unit_of_measurement="USD",
            state_class=SensorStateClass.TOTAL,
            # A sentence costs a fraction of a cent: two decimals would show $0.00 for weeks.
            suggested_display_precision=4,
        ),
        value_fn=lambda usage: usage.cost,
    ),
)


def _model_characters(model: str) -> FishAudioUsageSensor:
    return FishAudioSensor(
        SensorEntityDescription(
            key=f"synthesized_characters_{model}",
            translation_key="model_synthesized_characters",
            translation_placeholders={"model": model},
            state_class=SensorStateClass.TOTAL_INCREASING,
            entity_registry_enabled_default=False,
        ),
        value_fn=lambda usage: usage.model(model).characters,
    )


def _model_cost(model: str) -> FishAudioUsageSensor:
    return FishAudioSensor(
        SensorEntityDescription(
            key=f"estimated_cost_{model}",
            translation_key="model_estimated_cost",
            translation_placeholders={"model": model},
            device_class=SensorDeviceClass.MONETARY,
            native_unit_of_measurement="USD",
            state_class=SensorStateClass.TOTAL,
            suggested_display_precision=4,
            entity_registry_enabled_default=False,
        ),
        value_fn=lambda usage: usage.model(model).cost if usage.model(model).priced else None,
    )


# The per-model breakdown, disabled by default: characters per speech model, and cost per
# model that costs money (the free model's is always zero).
MODEL_USAGE_SENSORS: tuple[FishAudioUsageSensor, ...] = (
    *(_model_characters(model) for model in models_billed_by(Unit.UTF8_BYTE)),
    *(_model_cost(model) for unit in Unit for model in models_billed_by(unit, paid_only=True)),
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
        FishAudioSensorEntity(coordinator, sensor)
        for sensor in SENSORS
        if has_package or not sensor.needs_package
    )
    async_add_entities(
        FishAudioUsageSensorEntity(entry, sensor)
        for sensor in (*USAGE_SENSORS, *MODEL_USAGE_SENSORS)
    )


class FishAudioSensorEntity(FishAudioAccountEntity, SensorEntity):
    """A value of the account."""

    def __init__(
        self, coordinator: FishAudioCoordinator, sensor: FishAudioSensor[AccountData]
    ) -> None:
        """Initialise the sensor."""
        super().__init__(coordinator, sensor.description.key)
        self.entity_description = sensor.description
        self._sensor = sensor

    @property
    def available(self) -> bool:
        """Return whether the value is known (a package can end while we run)."""
        if self._sensor.needs_package and self.coordinator.data.package is None:
            return False
        return super().available

    @property
    def native_value(self) -> Decimal | int | float | datetime | None:
        """Return the value."""
        return self._sensor.value_fn(self.coordinator.data)


class FishAudioUsageSensorEntity(SensorEntity):
    """A usage total of the account, counted locally: available whatever the API does."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, entry: FishAudioConfigEntry, sensor: FishAudioUsageSensor) -> None:
        """Initialise the sensor."""
        self.entity_description = sensor.description
        self._value_fn = sensor.value_fn
        self._usage = entry.runtime_data.usage
        self._attr_unique_id = f"{entry.entry_id}_{sensor.description.key}"
        self._attr_device_info = account_device_info(entry)

    async def async_added_to_hass(self) -> None:
        """Follow the counters."""
        self.async_on_remove(self._usage.async_add_listener(self.async_write_ha_state))

    @property
    def native_value(self) -> Decimal | int | float | datetime | None:
        """Return the total."""
        return self._value_fn(self._usage)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Name the models whose use the cost leaves out (their price is not known)."""
        if self.entity_description.key == "estimated_cost" and (
            unpriced := self._usage.unpriced_models
        ):
            return {"unpriced_models": unpriced}
        return None
