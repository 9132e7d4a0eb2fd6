"""Every metric of METHODOLOGY.md §3, as pure functions of sums and factors: null in, null out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from operator import attrgetter
from typing import TYPE_CHECKING, Literal, NamedTuple

from trials import units
from trials.arithmetic import Number, difference, percent, ratio, strict_total, times, total
from trials.baselines import ACTIVITY_FIELDS, Activity, parse_rate_unit
from trials.factors import Factors
from trials.models import (
    ENERGY_CARRIERS,
    BaselineKind,
    EquipmentClass,
    HydrogenPathway,
    Technology,
    paired_name,
)
from trials.pollutants import BURNS_DIESEL, NO_COMBUSTION, baseline_pollutants, load_factor, trial_tailpipe_share

if TYPE_CHECKING:
    from trials.checks import Check

# re-exported: pages and reports name activities, missing-aware arithmetic and technologies through metrics
__all__ = [
    "BURNS_DIESEL",
    "NO_COMBUSTION",
    "Activity",
    "Number",
    "difference",
    "parse_rate_unit",
    "percent",
    "ratio",
    "strict_total",
    "times",
    "total",
]


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

#: The canonical keys of METHODOLOGY.md §3 (v2), in its order, with their units.
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
    "baseline_energy_kwh": "kWh",
    "energy_saved_kwh": "kWh",
    "efficiency_ratio": "×",
    "ghg_ttw_kg": "kg CO2e",
    "ghg_wtw_kg": "kg CO2e",
    "baseline_ghg_ttw_kg": "kg CO2e",
    "baseline_ghg_wtw_kg": "kg CO2e",
    "ghg_ttw_avoided_kg": "kg CO2e",
    "ghg_wtw_avoided_kg": "kg CO2e",
    "ghg_wtw_reduction_pct": "%",
    "ghg_wtw_avoided_per_activity_kg": "kg CO2e per activity unit",
    "unit_years": "unit-years",
    "ghg_wtw_avoided_per_unit_year_kg": "kg CO2e per unit-year",
    "nox_avoided_kg": "kg",
    "pm25_avoided_kg": "kg",
    "availability_pct": "%",
    "reported_ghg_avoided_kg": "kg CO2e",
    "reported_vs_computed_pct": "%",
    "data_coverage_pct": "%",
    "paired_share_pct": "%",
    "days_since_data": "days",
}
METRIC_KEYS: tuple[str, ...] = tuple(METRIC_UNITS)
#: Beyond this gap between a source's own avoided-emissions figure and ours, the figure is flagged.
REPORTED_GAP_FLAG_PCT = 10.0
#: Days in a year of service, for unit-years (METHODOLOGY.md §3).
DAYS_PER_YEAR = 365.25
Basis = Literal["location", "market"]


@dataclass(frozen=True)
class Totals:
    """Sums over a set of measurements; None where no measurement carried the field.

    The p_ fields are the same sums over the rows paired on an activity (METHODOLOGY.md §7.2)."""

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
    unit_days: Number = None
    p_operating_hours: Number = None
    p_operating_hours_energy_kwh: Number = None
    p_operating_hours_hydrogen_kg: Number = None
    p_operating_hours_diesel_l: Number = None
    p_moves: Number = None
    p_moves_energy_kwh: Number = None
    p_moves_hydrogen_kg: Number = None
    p_moves_diesel_l: Number = None
    p_teu: Number = None
    p_teu_energy_kwh: Number = None
    p_teu_hydrogen_kg: Number = None
    p_teu_diesel_l: Number = None
    p_distance_km: Number = None
    p_distance_km_energy_kwh: Number = None
    p_distance_km_hydrogen_kg: Number = None
    p_distance_km_diesel_l: Number = None

    def activity(self, activity: Activity) -> Number:
        """Give the amount of work done, counted in the given activity unit."""
        value: Number = getattr(self, ACTIVITY_FIELDS[activity])
        return value

    def paired(self, activity: Activity) -> Carriers:
        """Give the work and the energy carriers on the rows paired on an activity."""
        return Carriers(*_PAIRED_SUMS[activity](self))


class Carriers(NamedTuple):
    """Work done and the energy each carrier gave for it, on the same rows (a tuple: a unit spread makes tens of
    thousands, and a frozen dataclass takes several times as long to build)."""

    activity: Number
    energy_kwh: Number
    hydrogen_kg: Number
    diesel_l: Number


#: Each activity's paired sums, work first and then each carrier in Carriers' order, read in one call (a unit
#: spread computes thousands of results).
_PAIRED_SUMS = {
    activity: attrgetter(paired_name(name), *(paired_name(name, carrier) for carrier in ENERGY_CARRIERS))
    for activity, name in ACTIVITY_FIELDS.items()
}

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
    hydrogen_kg_by_year: Mapping[int, float] = field(default_factory=dict)  # trial units, for electrolytic hydrogen
    grid_region: str = ""
    baseline_kind: BaselineKind = BaselineKind.diesel
    declared_rate: Number = None  # as declared on the trial, in declared_unit
    declared_unit: str | None = None  # e.g. "L/h", "gal/mi", "kWh/move"
    rated_power_kw: Number = None
    load_factor: Number = None  # the trial's own, else the factor set's class default
    market_factor_kg_per_kwh: Number = None
    hydrogen_pathway: str | None = None
    hydrogen_factor_kg_per_kg: Number = None  # declared pathway's own factor
    baseline_engine: str | None = None
    units_planned: int | None = None  # planned trial units (else the units seen), for unit-day coverage
    days_covered: int = 0  # days in the window with a trial unit's data
    days_in_period: int = 0  # days from the window's start to the last data date (§7.4)
    last_data_date: date | None = None  # latest day with trial-unit data, up to as-of
    as_of: date | None = None


@dataclass(frozen=True)
class Baseline:
    """What a trial is compared against, per activity unit, and how it was found (METHODOLOGY.md §7.1)."""

    kind: BaselineKind
    method: Literal["measured", "declared"]
    rate: float  # litres of diesel (kind diesel) or kWh (kind electric) per activity unit
    activity: Activity
    thin: bool = False  # measured on fewer than MEASURED_BASELINE_MIN_UNIT_DAYS baseline unit-days

    @property
    def litres_per_activity(self) -> float | None:
        """The rate in litres of diesel, for a diesel baseline."""
        return self.rate if self.kind == BaselineKind.diesel else None


@dataclass(frozen=True)
class MetricsResult:
    """Values by canonical key, with the baseline and factors used, so every figure can say how it was made."""

    values: dict[str, Number]
    baseline: Baseline | None
    factor_set: str
    basis: Basis
    flags: tuple[str, ...] = ()
    last_data_date: date | None = None
    factor_years: Mapping[int, int] = field(default_factory=dict)  # data year -> grid factor year used
    hydrogen_factor_kg_per_kg: Number = None  # the factor the trial's hydrogen took, when it has any
    pollutant_estimates: tuple[Number, Number] = (None, None)  # baseline NOx by P x LF x A, and fuel-based, kg
    load_factor: Number = None  # the trial's own, else the factor set's class default
    clean_hydrogen: bool = False  # its hydrogen meets the US clean-hydrogen threshold (§7.6)
    checks: tuple[Check, ...] = ()  # the trust checks of METHODOLOGY.md §7.5, added by the query layer

    def as_json(self) -> dict[str, object]:
        """Give the §3 keys as JSON values (last_data_date as an ISO date) and the trust checks beside them."""
        found: dict[str, object] = dict(self.values)
        found["last_data_date"] = None if self.last_data_date is None else self.last_data_date.isoformat()
        found["checks"] = [check.as_json() for check in self.checks]
        return found


#: Under this many baseline unit-days a measured baseline is thin (METHODOLOGY.md §7.1).
MEASURED_BASELINE_MIN_UNIT_DAYS = 30


def declared_baseline(inputs: TrialInputs) -> Baseline | None:
    """The rate declared on the trial, when it is one §7.1 accepts (> 0, per unit of work); else none."""
    if inputs.declared_rate is None or not inputs.declared_unit or inputs.declared_rate <= 0:
        return None
    try:
        to_amount, activity = parse_rate_unit(inputs.declared_unit, inputs.baseline_kind)
    except ValueError:  # stored before v2's rules: treated as no baseline, and flagged by the checks
        return None
    return Baseline(inputs.baseline_kind, "declared", inputs.declared_rate * to_amount, activity)


def measured_baseline(inputs: TrialInputs) -> Baseline | None:
    """The rate of the baseline units' paired rows: diesel (or kWh) over the primary activity on the same rows."""
    primary = PRIMARY_ACTIVITY[inputs.equipment_class]
    paired = inputs.baseline.paired(primary)
    amount = paired.diesel_l if inputs.baseline_kind == BaselineKind.diesel else paired.energy_kwh
    rate = ratio(amount, paired.activity)
    if rate is None or rate <= 0:
        return None
    thin = (inputs.baseline.unit_days or 0) < MEASURED_BASELINE_MIN_UNIT_DAYS
    return Baseline(inputs.baseline_kind, "measured", rate, primary, thin)


def baseline_rate(inputs: TrialInputs) -> Baseline | None:
    """Prefer a measured rate; a thin one gives way to a declared rate if there is one (METHODOLOGY.md §7.1)."""
    if inputs.baseline_kind == BaselineKind.none:
        return None
    measured, declared = measured_baseline(inputs), declared_baseline(inputs)
    if measured is not None and measured.thin and declared is not None:
        return Baseline(declared.kind, declared.method, declared.rate, declared.activity, thin=True)
    return measured or declared


def final_energy_kwh(energy_kwh: Number, hydrogen_kg: Number, diesel_l: Number) -> Number:
    """Add every energy carrier present, at its lower heating value; None when none is (written out, not with
    total(): it runs several times for each of a unit spread's thousands of results)."""
    if energy_kwh is None and hydrogen_kg is None and diesel_l is None:
        return None
    kwh = 0.0
    if energy_kwh is not None:
        kwh += energy_kwh
    if hydrogen_kg is not None:
        kwh += hydrogen_kg * units.HYDROGEN_KWH_PER_KG
    if diesel_l is not None:
        kwh += diesel_l * units.DIESEL_KWH_PER_L
    return kwh


def weighted_grid_factor(by_year: Mapping[int, float], inputs: TrialInputs, factors: Factors, basis: Basis) -> Number:
    """Give the grid factor, kg/kWh, of an amount spread over years: each year's share at that year's factor
    (METHODOLOGY.md §7.3), or the trial's market-based factor; None where a factor is missing."""
    if basis == "market":
        return inputs.market_factor_kg_per_kwh
    if not by_year:
        return None
    weight = sum(by_year.values())
    if weight == 0:  # nothing to weigh: any year's factor gives the same 0 kg
        return factors.grid(inputs.grid_region, max(by_year))
    kg = 0.0
    for year, amount in by_year.items():
        term = times(amount, factors.grid(inputs.grid_region, year))
        if term is None:  # a year without any grid factor of the region: n/a
            return None
        kg += term
    return kg / weight


def factor_years(inputs: TrialInputs, factors: Factors) -> dict[int, int]:
    """Name, for each year with electricity or hydrogen, the year whose grid factor it took (METHODOLOGY.md §7.3)."""
    years = set(inputs.energy_kwh_by_year) | set(inputs.hydrogen_kg_by_year)
    found = {year: factors.grid_year(inputs.grid_region, year) for year in sorted(years)}
    return {year: used for year, used in found.items() if used is not None}


def hydrogen_factor(inputs: TrialInputs, factors: Factors, basis: Basis) -> Number:
    """Give the trial's hydrogen factor, kg CO2e/kg, by its pathway (METHODOLOGY.md §7.6); grey when unknown."""
    if inputs.hydrogen_pathway == HydrogenPathway.declared:
        return inputs.hydrogen_factor_kg_per_kg
    if inputs.hydrogen_pathway == HydrogenPathway.electrolytic_grid:
        grid = weighted_grid_factor(inputs.hydrogen_kg_by_year, inputs, factors, basis)
        return times(factors.electrolysis_kwh_per_kg, grid)
    return factors.hydrogen(inputs.hydrogen_pathway)


def meets_clean_hydrogen(kg_per_kg: Number, factors: Factors) -> bool:
    """Whether hydrogen's factor is at or under the US clean-hydrogen threshold of the set (4.0 kg CO2e/kg, §7.6)."""
    threshold = factors.hydrogen("clean")
    return kg_per_kg is not None and threshold is not None and kg_per_kg <= threshold


class CarrierFactors(NamedTuple):
    """The well-to-wheel factor each energy carrier of one trial takes on one basis: kg CO2e per kWh of
    electricity (its years weighted), per kg of hydrogen (by its pathway) and per litre of diesel; None: missing."""

    electricity: Number
    hydrogen: Number
    diesel: float


def carrier_factors(inputs: TrialInputs, factors: Factors, basis: Basis) -> CarrierFactors:
    """Find a trial's carrier factors once: every well-to-wheel figure of one computation takes the same ones."""
    return CarrierFactors(
        weighted_grid_factor(inputs.energy_kwh_by_year, inputs, factors, basis),
        hydrogen_factor(inputs, factors, basis),
        factors.diesel_wtw_kg_per_l,
    )


def wtw_kg(carriers: Carriers, factors: CarrierFactors) -> Number:
    """Well-to-wheel emissions of the energy given, kg CO2e: every carrier present at its factor, none dropped."""
    terms: list[Number] = []
    if carriers.energy_kwh is not None:
        terms.append(times(carriers.energy_kwh, factors.electricity))
    if carriers.hydrogen_kg is not None:
        terms.append(times(carriers.hydrogen_kg, factors.hydrogen))
    if carriers.diesel_l is not None:
        terms.append(times(carriers.diesel_l, factors.diesel))
    return strict_total(terms) if terms else None


def ttw_kg(diesel_l: Number, technology: Technology, factors: Factors) -> Number:
    """Tank-to-wheel CO2 of the diesel burnt, for every technology (a battery machine's genset counts, §3); none
    burnt is 0 unless the technology burns diesel and gave no figure."""
    if diesel_l is None:
        return None if technology in BURNS_DIESEL else 0.0
    return diesel_l * factors.diesel_ttw_kg_per_l


def coverage_pct(inputs: TrialInputs) -> Number:
    """Unit-days with data over planned unit-days up to the last data date (METHODOLOGY.md §7.4)."""
    planned = times(float(inputs.units_planned) if inputs.units_planned else None, float(inputs.days_in_period))
    return percent(inputs.trial.unit_days, planned or None)


def days_since(last: date | None, as_of: date | None) -> Number:
    """Days from the last data to as-of: the reporting lag (METHODOLOGY.md §7.4)."""
    return None if last is None or as_of is None else float((as_of - last).days)


def compute(inputs: TrialInputs, factors: Factors, basis: Basis = "location") -> MetricsResult:
    """Compute every canonical metric of one trial (METHODOLOGY.md §3-5 and the trust rules of §7)."""
    t = inputs.trial
    primary = PRIMARY_ACTIVITY[inputs.equipment_class]
    final = final_energy_kwh(t.energy_kwh, t.hydrogen_kg, t.diesel_l)
    baseline = baseline_rate(inputs)
    compared = t.paired(baseline.activity if baseline else primary)
    compared_final = final_energy_kwh(compared.energy_kwh, compared.hydrogen_kg, compared.diesel_l)
    compared_diesel = compared.diesel_l if compared.diesel_l is not None or inputs.technology in BURNS_DIESEL else 0.0
    diesel = baseline is not None and baseline.kind == BaselineKind.diesel
    baseline_amount = times(baseline.rate, compared.activity) if baseline else None
    baseline_diesel = baseline_amount if diesel else None
    baseline_energy = None if baseline is None else times(baseline_amount, units.DIESEL_KWH_PER_L if diesel else 1.0)
    per_carrier = carrier_factors(inputs, factors, basis)
    if baseline is None:
        baseline_ttw = baseline_wtw = None
    elif diesel:
        baseline_ttw = times(baseline_amount, factors.diesel_ttw_kg_per_l)
        baseline_wtw = times(baseline_amount, factors.diesel_wtw_kg_per_l)
    else:
        baseline_ttw = 0.0
        baseline_wtw = times(baseline_amount, per_carrier.electricity)
    compared_wtw = wtw_kg(compared, per_carrier)
    compared_ttw = ttw_kg(compared.diesel_l, inputs.technology, factors)
    ghg_wtw_avoided = difference(baseline_wtw, compared_wtw)

    pollutants = baseline_pollutants(inputs, factors, t.paired(Activity.hour).activity, baseline_diesel)
    share = trial_tailpipe_share(inputs.technology, compared_diesel, baseline_diesel)

    def avoided_pollutant(base: Number) -> Number:
        """Baseline pollutant minus what the trial still emits of it; 0 against an electric baseline."""
        if baseline is None:
            return None
        if not diesel:
            return 0.0
        return difference(base, times(base, share))

    unit_years = ratio(t.unit_days, DAYS_PER_YEAR)
    hydrogen_kg_per_kg = per_carrier.hydrogen if t.hydrogen_kg is not None else None
    reported_gap = percent(difference(t.reported_ghg_avoided_kg, ghg_wtw_avoided), ghg_wtw_avoided)
    values: dict[str, Number] = {
        "operating_hours": t.operating_hours,
        "energy_kwh": t.energy_kwh,
        "hydrogen_kg": t.hydrogen_kg,
        "diesel_l": t.diesel_l,
        "final_energy_kwh": final,
        **{key: intensity(t, activity) for key, activity in INTENSITY_KEYS.items()},
        "baseline_diesel_l": baseline_diesel,
        "diesel_displaced_l": difference(baseline_diesel, compared_diesel),
        "baseline_energy_kwh": None if diesel else baseline_amount,
        "energy_saved_kwh": None if diesel else difference(baseline_amount, compared_final),
        "efficiency_ratio": ratio(baseline_energy, compared_final),
        "ghg_ttw_kg": ttw_kg(t.diesel_l, inputs.technology, factors),
        "ghg_wtw_kg": wtw_kg(Carriers(None, t.energy_kwh, t.hydrogen_kg, t.diesel_l), per_carrier),
        "baseline_ghg_ttw_kg": baseline_ttw,
        "baseline_ghg_wtw_kg": baseline_wtw,
        "ghg_ttw_avoided_kg": difference(baseline_ttw, compared_ttw),
        "ghg_wtw_avoided_kg": ghg_wtw_avoided,
        "ghg_wtw_reduction_pct": percent(ghg_wtw_avoided, baseline_wtw),
        "ghg_wtw_avoided_per_activity_kg": ratio(ghg_wtw_avoided, compared.activity),
        "unit_years": unit_years,
        "ghg_wtw_avoided_per_unit_year_kg": ratio(ghg_wtw_avoided, unit_years),
        "nox_avoided_kg": avoided_pollutant(pollutants.nox),
        "pm25_avoided_kg": avoided_pollutant(pollutants.pm25),
        "availability_pct": percent(difference(t.scheduled_hours, t.downtime_hours), t.scheduled_hours),
        "reported_ghg_avoided_kg": t.reported_ghg_avoided_kg,
        "reported_vs_computed_pct": reported_gap,
        "data_coverage_pct": coverage_pct(inputs),
        "paired_share_pct": percent(t.paired(primary).activity, t.activity(primary)),
        "days_since_data": days_since(inputs.last_data_date, inputs.as_of),
    }
    flags = (
        ("reported_vs_computed_pct",) if reported_gap is not None and abs(reported_gap) > REPORTED_GAP_FLAG_PCT else ()
    )
    return MetricsResult(
        values=values,
        baseline=baseline,
        factor_set=factors.set_name,
        basis=basis,
        flags=flags,
        last_data_date=inputs.last_data_date,
        factor_years=factor_years(inputs, factors),
        hydrogen_factor_kg_per_kg=hydrogen_kg_per_kg,
        clean_hydrogen=meets_clean_hydrogen(hydrogen_kg_per_kg, factors),
        pollutant_estimates=(pollutants.nox_engine, pollutants.nox_fuel),
        load_factor=load_factor(inputs, factors),
    )


#: The intensity keys and the activity each divides by.
INTENSITY_KEYS: dict[str, Activity] = {
    "kwh_per_hour": Activity.hour,
    "kwh_per_move": Activity.move,
    "kwh_per_teu": Activity.teu,
    "kwh_per_km": Activity.km,
}


def intensity(t: Totals, activity: Activity) -> Number:
    """Final energy per unit of work, on the rows that carry both (METHODOLOGY.md §7.2)."""
    paired = t.paired(activity)
    return ratio(final_energy_kwh(paired.energy_kwh, paired.hydrogen_kg, paired.diesel_l), paired.activity)
