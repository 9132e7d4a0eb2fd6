"""Every metric of METHODOLOGY.md §3, as pure functions of sums and factors: null in, null out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from functools import lru_cache
from typing import Literal

from trials import units
from trials.factors import Factors
from trials.models import EquipmentClass, Technology


class Activity(StrEnum):
    """What a class's work is counted in (METHODOLOGY.md §2); the stored column it is read from."""

    hour = "hour"
    move = "move"
    teu = "teu"
    km = "km"


PRIMARY_ACTIVITY: dict[EquipmentClass, Activity] = {
    EquipmentClass.drayage_truck: Activity.km,
    EquipmentClass.yard_tractor: Activity.hour,
    EquipmentClass.rtg_crane: Activity.move,
    EquipmentClass.sts_crane: Activity.move,
    EquipmentClass.straddle_carrier: Activity.move,
    EquipmentClass.top_handler: Activity.move,
    EquipmentClass.reach_stacker: Activity.move,
    EquipmentClass.forklift: Activity.move,
    EquipmentClass.tug: Activity.hour,
    EquipmentClass.harbor_craft: Activity.hour,
    EquipmentClass.ferry: Activity.hour,
}

#: Technologies with no combustion on board: their tank-to-wheel emissions are exactly 0.
NO_COMBUSTION = frozenset({Technology.battery_electric, Technology.hydrogen_fuel_cell, Technology.grid_electric})
#: Technologies that burn diesel; for all others a missing diesel figure means none was burnt.
BURNS_DIESEL = frozenset({Technology.hybrid_diesel_electric, Technology.diesel})

#: The canonical keys of METHODOLOGY.md §3, in its order, with their units.
METRIC_UNITS: dict[str, str] = {
    "operating_hours": "h",
    "energy_kwh": "kWh",
    "hydrogen_kg": "kg",
    "diesel_l": "L",
    "final_energy_kwh": "kWh",
    "kwh_per_hour": "kWh/h",
    "kwh_per_move": "kWh/move",
    "kwh_per_teu": "kWh/TEU",
    "kwh_per_km": "kWh/km",
    "baseline_diesel_l": "L",
    "diesel_displaced_l": "L",
    "efficiency_ratio": "×",
    "ghg_ttw_kg": "kg CO2e",
    "ghg_wtw_kg": "kg CO2e",
    "baseline_ghg_ttw_kg": "kg CO2e",
    "baseline_ghg_wtw_kg": "kg CO2e",
    "ghg_ttw_avoided_kg": "kg CO2e",
    "ghg_wtw_avoided_kg": "kg CO2e",
    "ghg_wtw_reduction_pct": "%",
    "nox_avoided_kg": "kg",
    "pm25_avoided_kg": "kg",
    "availability_pct": "%",
    "reported_ghg_avoided_kg": "kg CO2e",
    "reported_vs_computed_pct": "%",
    "data_coverage_pct": "%",
}
METRIC_KEYS: tuple[str, ...] = tuple(METRIC_UNITS)
#: Beyond this gap between a source's own avoided-emissions figure and ours, the figure is flagged.
REPORTED_GAP_FLAG_PCT = 10.0

Number = float | None


#: The summed field each activity unit is counted in.
_ACTIVITY_FIELDS: dict[Activity, str] = {
    Activity.hour: "operating_hours",
    Activity.move: "moves",
    Activity.teu: "teu",
    Activity.km: "distance_km",
}


@dataclass(frozen=True)
class Totals:
    """Sums over a set of measurements; None where no measurement carried the field."""

    operating_hours: Number = None
    energy_kwh: Number = None
    hydrogen_kg: Number = None
    diesel_l: Number = None
    distance_km: Number = None
    moves: Number = None
    teu: Number = None
    scheduled_hours: Number = None
    downtime_hours: Number = None
    reported_ghg_avoided_kg: Number = None

    def activity(self, activity: Activity) -> Number:
        """Give the amount of work done, counted in the given activity unit."""
        value: Number = getattr(self, _ACTIVITY_FIELDS[activity])
        return value


#: The sums a trial's metrics need, in Totals' order: what every query sums and every rollup keeps.
TOTALS_FIELDS: tuple[str, ...] = tuple(item.name for item in fields(Totals))


@dataclass(frozen=True)
class TrialInputs:
    """Everything one trial's metrics depend on, already summed by the query layer."""

    equipment_class: EquipmentClass
    technology: Technology
    trial: Totals
    baseline: Totals = field(default_factory=Totals)  # of the trial's baseline units
    energy_kwh_by_year: Mapping[int, float] = field(default_factory=dict)  # trial units, for each year's grid factor
    grid_region: str = ""
    declared_rate: Number = None  # as declared on the trial, in declared_unit
    declared_unit: str | None = None  # e.g. "L/h", "gal/mi"
    rated_power_kw: Number = None
    load_factor: Number = None  # the trial's own, else the factor set's class default
    market_factor_kg_per_kwh: Number = None
    hydrogen_pathway: str | None = None
    days_covered: int = 0
    days_in_period: int = 0


@dataclass(frozen=True)
class Baseline:
    """The diesel rate a trial is compared against, and how it was found (METHODOLOGY.md §3)."""

    method: Literal["measured", "declared"]
    litres_per_activity: float
    activity: Activity


@dataclass(frozen=True)
class MetricsResult:
    """Values by canonical key, with the baseline and factor set used, so every figure can say how it was made."""

    values: dict[str, Number]
    baseline: Baseline | None
    factor_set: str
    basis: Literal["location", "market"]
    flags: tuple[str, ...] = ()


def total(values: Iterable[Number]) -> Number:
    """Sum the values present; a sum with no values at all is None, never 0."""
    present = [value for value in values if value is not None]
    return sum(present) if present else None


def ratio(numerator: Number, denominator: Number) -> Number:
    """Divide, or None when either side is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def difference(minuend: Number, subtrahend: Number) -> Number:
    """Subtract, or None when either side is missing."""
    return None if minuend is None or subtrahend is None else minuend - subtrahend


def times(*factors: Number) -> Number:
    """Multiply, or None when any factor is missing."""
    product = 1.0
    for value in factors:
        if value is None:
            return None
        product *= value
    return product


def percent(part: Number, whole: Number) -> Number:
    """Express part as a percentage of whole."""
    share = ratio(part, whole)
    return None if share is None else 100 * share


_ACTIVITY_WORDS: dict[str, Activity] = {
    "move": Activity.move,
    "moves": Activity.move,
    "lift": Activity.move,
    "lifts": Activity.move,
    "teu": Activity.teu,
}


@lru_cache(maxsize=256)
def parse_rate_unit(unit: str) -> tuple[float, Activity]:
    """Read a declared rate's unit ('L/h', 'gal/mi', 'L/move') as a factor to litres per activity unit."""
    match = re.fullmatch(r"\s*([^/]+?)\s*/\s*([^/]+?)\s*", unit)
    if match is None:
        raise units.UnknownUnitError(f"a baseline rate unit looks like 'L/h' or 'gal/mi', not {unit!r}")
    volume, per = match.groups()
    to_litres = units.factor(volume, "L")
    word = per.lower()
    if word in _ACTIVITY_WORDS:
        return to_litres, _ACTIVITY_WORDS[word]
    kind = units.kind_of(per)
    if kind == "time":
        return to_litres / units.factor(per, "h"), Activity.hour
    if kind == "distance":
        return to_litres / units.factor(per, "km"), Activity.km
    raise units.UnknownUnitError(f"a baseline rate is per hour, km, mile, move or TEU, not per {per!r}")


def baseline_rate(inputs: TrialInputs) -> Baseline | None:
    """Prefer the rate measured on baseline units; fall back to the rate declared on the trial."""
    primary = PRIMARY_ACTIVITY[inputs.equipment_class]
    measured = ratio(inputs.baseline.diesel_l, inputs.baseline.activity(primary))
    if measured is not None:
        return Baseline("measured", measured, primary)
    if inputs.declared_rate is None or not inputs.declared_unit:
        return None
    to_litres, activity = parse_rate_unit(inputs.declared_unit)
    return Baseline("declared", inputs.declared_rate * to_litres, activity)


def final_energy_kwh(energy_kwh: Number, hydrogen_kg: Number, diesel_l: Number) -> Number:
    """Add every energy carrier present, at its lower heating value."""
    return total(
        [
            energy_kwh,
            times(hydrogen_kg, units.HYDROGEN_KWH_PER_KG),
            times(diesel_l, units.DIESEL_KWH_PER_L),
        ]
    )


def grid_ghg_kg(inputs: TrialInputs, factors: Factors, basis: Literal["location", "market"]) -> Number:
    """Weigh each year's electricity by that year's grid factor, or all of it by the trial's market-based factor."""
    if not inputs.energy_kwh_by_year:
        return None
    if basis == "market":
        return times(sum(inputs.energy_kwh_by_year.values()), inputs.market_factor_kg_per_kwh)
    kg = 0.0
    for year, kwh in inputs.energy_kwh_by_year.items():
        term = times(kwh, factors.grid(inputs.grid_region, year))
        if term is None:  # a year without any grid factor of the region: the whole figure is n/a
            return None
        kg += term
    return kg


def pollutant_kg(power_kw: Number, load_factor: Number, hours: Number, g_per_kwh: Number) -> Number:
    """EPA inventory method E = P × LF × A × EF, in kg (EPA-420-B-22-011)."""
    grams = times(power_kw, load_factor, hours, g_per_kwh)
    return None if grams is None else grams / 1000


def trial_tailpipe_share(technology: Technology, diesel_l: Number, baseline_diesel_l: Number) -> Number:
    """Share of the baseline's tailpipe pollutants the trial still emits: 0 without combustion, else by fuel."""
    if technology in NO_COMBUSTION:
        return 0.0
    if technology in BURNS_DIESEL:
        return ratio(diesel_l, baseline_diesel_l)
    return None  # hydrogen combustion emits NOx by a method METHODOLOGY.md does not give: n/a, not 0


def compute(inputs: TrialInputs, factors: Factors, basis: Literal["location", "market"] = "location") -> MetricsResult:
    """Compute every canonical metric of one trial (METHODOLOGY.md §3-5)."""
    t = inputs.trial
    diesel_burnt = t.diesel_l if t.diesel_l is not None or inputs.technology in BURNS_DIESEL else 0.0
    final = final_energy_kwh(t.energy_kwh, t.hydrogen_kg, t.diesel_l)
    baseline = baseline_rate(inputs)
    baseline_diesel = times(baseline.litres_per_activity, t.activity(baseline.activity)) if baseline else None

    ghg_ttw = 0.0 if inputs.technology in NO_COMBUSTION else times(diesel_burnt, factors.diesel_ttw_kg_per_l)
    ghg_wtw = total(
        [
            grid_ghg_kg(inputs, factors, basis),
            times(t.hydrogen_kg, factors.hydrogen(inputs.hydrogen_pathway)),
            times(t.diesel_l, factors.diesel_wtw_kg_per_l),
        ]
    )
    baseline_ttw = times(baseline_diesel, factors.diesel_ttw_kg_per_l)
    baseline_wtw = times(baseline_diesel, factors.diesel_wtw_kg_per_l)
    ghg_wtw_avoided = difference(baseline_wtw, ghg_wtw)

    load = inputs.load_factor if inputs.load_factor is not None else factors.load_factors.get(inputs.equipment_class)
    share = trial_tailpipe_share(inputs.technology, diesel_burnt, baseline_diesel)

    def avoided_pollutant(g_per_kwh: float) -> Number:
        """Baseline pollutant minus what the trial still emits of it."""
        base = pollutant_kg(inputs.rated_power_kw, load, t.operating_hours, g_per_kwh)
        return difference(base, times(base, share))

    reported_gap = percent(difference(t.reported_ghg_avoided_kg, ghg_wtw_avoided), ghg_wtw_avoided)
    values: dict[str, Number] = {
        "operating_hours": t.operating_hours,
        "energy_kwh": t.energy_kwh,
        "hydrogen_kg": t.hydrogen_kg,
        "diesel_l": t.diesel_l,
        "final_energy_kwh": final,
        "kwh_per_hour": ratio(final, t.operating_hours),
        "kwh_per_move": ratio(final, t.moves),
        "kwh_per_teu": ratio(final, t.teu),
        "kwh_per_km": ratio(final, t.distance_km),
        "baseline_diesel_l": baseline_diesel,
        "diesel_displaced_l": difference(baseline_diesel, diesel_burnt),
        "efficiency_ratio": ratio(times(baseline_diesel, units.DIESEL_KWH_PER_L), final),
        "ghg_ttw_kg": ghg_ttw,
        "ghg_wtw_kg": ghg_wtw,
        "baseline_ghg_ttw_kg": baseline_ttw,
        "baseline_ghg_wtw_kg": baseline_wtw,
        "ghg_ttw_avoided_kg": difference(baseline_ttw, ghg_ttw),
        "ghg_wtw_avoided_kg": ghg_wtw_avoided,
        "ghg_wtw_reduction_pct": percent(ghg_wtw_avoided, baseline_wtw),
        "nox_avoided_kg": avoided_pollutant(factors.nox_g_per_kwh),
        "pm25_avoided_kg": avoided_pollutant(factors.pm25_g_per_kwh),
        "availability_pct": percent(difference(t.scheduled_hours, t.downtime_hours), t.scheduled_hours),
        "reported_ghg_avoided_kg": t.reported_ghg_avoided_kg,
        "reported_vs_computed_pct": reported_gap,
        "data_coverage_pct": percent(float(inputs.days_covered), float(inputs.days_in_period) or None),
    }
    flags = (
        ("reported_vs_computed_pct",) if reported_gap is not None and abs(reported_gap) > REPORTED_GAP_FLAG_PCT else ()
    )
    return MetricsResult(values=values, baseline=baseline, factor_set=factors.set_name, basis=basis, flags=flags)
