"""Reference data in plain words: the plausible ranges of METHODOLOGY.md §8 and the notes that go with the factors."""

from __future__ import annotations

from collections.abc import Iterable

from trials.models import EquipmentClass, PlausibleRange

#: Each equipment class as people name it.
EQUIPMENT_CLASS_LABELS: dict[EquipmentClass, str] = {
    EquipmentClass.drayage_truck: "Drayage truck",
    EquipmentClass.yard_tractor: "Yard tractor",
    EquipmentClass.rtg_crane: "RTG crane",
    EquipmentClass.sts_crane: "STS crane",
    EquipmentClass.straddle_carrier: "Straddle carrier",
    EquipmentClass.top_handler: "Top handler",
    EquipmentClass.reach_stacker: "Reach stacker",
    EquipmentClass.forklift: "Forklift",
    EquipmentClass.tug: "Tug",
    EquipmentClass.harbor_craft: "Harbor craft",
    EquipmentClass.ferry: "Ferry",
}
#: What a range bounds, in words, in the order §8 lists them.
RANGE_QUANTITY_LABELS = {"diesel_l": "Diesel", "energy_kwh": "Electricity", "hydrogen_kg": "Hydrogen"}
#: The activity units of the ranges' units ("L/h", "kWh/move") in words.
_PER = {"h": "hour", "km": "km", "move": "move", "nmi": "nautical mile", "teu": "TEU"}

RANGE_COLUMNS = ("Equipment class", "Quantity", "Plausible range", "Source")
EFFICIENCY_EXPECTATION = (
    "A battery or fuel-cell machine is expected to be 1.5-6× as energy-efficient as its diesel baseline."
)
RANGES_INTRO = (
    "Rates per unit of the class's primary activity that an analyst would expect; outside them a trust check warns."
)
#: METHODOLOGY.md §7.6: what the diesel tank-to-wheel factor leaves out.
DIESEL_TTW_NOTE = (
    "Diesel's tank-to-wheel factor counts CO2 only; combustion CH4 and N2O (under 1 % of CO2e) are not counted."
)


def per_unit(unit: str) -> str:
    """Say a rate's unit in words: 'kWh/move' as 'kWh per move', 'L/h' as 'L per hour'."""
    amount, _slash, activity = unit.partition("/")
    return f"{amount} per {_PER.get(activity, activity)}" if activity else unit


def describe_range(row: PlausibleRange) -> str:
    """Say a range with its unit, e.g. '4-14 L per hour'."""
    return f"{row.low:,g}-{row.high:,g} {per_unit(row.unit)}"


def range_rows(ranges: Iterable[PlausibleRange]) -> list[tuple[str, str, str, str]]:
    """The ranges as rows of RANGE_COLUMNS, in words, ready for a page or a sheet."""
    return [
        (
            EQUIPMENT_CLASS_LABELS[row.equipment_class],
            RANGE_QUANTITY_LABELS.get(row.quantity, row.quantity),
            describe_range(row),
            row.source,
        )
        for row in ranges
    ]
