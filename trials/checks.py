"""The trust checks of METHODOLOGY.md §7.5: one function per rule, each giving a plain-words reason or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from trials import units
from trials.metrics import (
    NO_COMBUSTION,
    PRIMARY_ACTIVITY,
    REPORTED_GAP_FLAG_PCT,
    Activity,
    Basis,
    MetricsResult,
    TrialInputs,
    ratio,
)
from trials.models import BaselineKind, EquipmentClass, HydrogenPathway, PlausibleRange, Technology, TrialStatus


class Level(StrEnum):
    """How much a check matters: `exclude` keeps the trial out of totals and rankings."""

    exclude = "exclude"
    warn = "warn"
    info = "info"


@dataclass(frozen=True)
class Check:
    """One trust check that fired for a trial: its code, level and the reason in plain words."""

    code: str
    level: Level
    message: str

    def as_json(self) -> dict[str, str]:
        """The check as the API and CLI give it."""
        return {"code": self.code, "level": self.level.value, "message": self.message}


#: Plausible ranges by (class, quantity): low, high and the unit they are in (METHODOLOGY.md §8).
Ranges = Mapping[tuple[EquipmentClass, str], PlausibleRange]

STALE_AFTER_DAYS = 45
MIN_PAIRED_SHARE_PCT = 90.0
MIN_COVERAGE_PCT = 80.0
MAX_ENGINE_EFFICIENCY = 0.45
POLLUTANT_METHODS_RATIO = 2.0
#: Battery and fuel-cell machines convert energy better than diesel: below 1x their figures are suspect.
EFFICIENT_DRIVES = frozenset({Technology.battery_electric, Technology.hydrogen_fuel_cell})


@dataclass(frozen=True)
class Subject:
    """What the checks look at: a trial's inputs, its result, its status and the basis figures are shown on."""

    inputs: TrialInputs
    result: MetricsResult
    status: TrialStatus
    basis: Basis
    ranges: Ranges


def _number(value: float, unit: str = "") -> str:
    """Write a figure as people read it: three significant digits at most, thousands separated."""
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"
    return f"{text} {unit}".strip()


def _range_text(found: PlausibleRange) -> str:
    """A range as people read it, with its source."""
    return f"{_number(found.low)}-{_number(found.high, found.unit)} ({found.source})"


def no_baseline(s: Subject) -> Check | None:
    """No comparison: avoided figures are n/a and the trial stays out of avoided totals."""
    inputs = s.inputs
    if inputs.baseline_kind == BaselineKind.none:
        return Check(
            "no_baseline",
            Level.info,
            "No baseline: nothing to compare with, so no emissions avoided are "
            "claimed and the trial is left out of avoided-emission totals.",
        )
    if s.result.baseline is None:
        rate = inputs.declared_rate
        if rate is not None and rate <= 0:
            reason = f"the declared baseline rate of {_number(rate, inputs.declared_unit or '')} is not above 0"
        elif rate is not None:
            reason = f"the declared baseline unit {inputs.declared_unit!r} is not per hour, move, TEU or km"
        else:
            reason = "neither a declared rate nor baseline units with paired data"
        return Check(
            "no_baseline",
            Level.info,
            f"No usable baseline ({reason}): avoided figures are n/a and the "
            "trial is left out of avoided-emission totals.",
        )
    return None


def no_market_factor(s: Subject) -> Check | None:
    """On the market basis a trial without a market-based factor has no figures to add."""
    if s.basis != "market" or s.inputs.market_factor_kg_per_kwh is not None:
        return None
    return Check(
        "no_market_factor",
        Level.exclude,
        "No market-based electricity factor (such as a renewable power "
        "contract): its market-based figures are n/a and it is left out of market-based totals.",
    )


def _out_of_range(s: Subject, quantity: str, rate: float | None, what: str) -> str | None:
    """Say how a rate per unit of primary activity falls outside its class's plausible range, if it does."""
    found = s.ranges.get((s.inputs.equipment_class, quantity))
    if found is None or rate is None or found.low <= rate <= found.high:
        return None
    return f"{what} of {_number(rate, found.unit)} is outside the plausible {_range_text(found)}"


def baseline_out_of_range(s: Subject) -> Check | None:
    """A baseline rate outside §8 makes every avoided figure suspect."""
    baseline = s.result.baseline
    if baseline is None or baseline.activity != PRIMARY_ACTIVITY[s.inputs.equipment_class]:
        return None
    quantity = "diesel_l" if baseline.kind == BaselineKind.diesel else "energy_kwh"
    reason = _out_of_range(s, quantity, baseline.rate, f"The {baseline.method} baseline rate")
    return None if reason is None else Check("baseline_out_of_range", Level.warn, reason + ".")


def intensity_out_of_range(s: Subject) -> Check | None:
    """The trial's own energy per unit of work outside §8: a unit or a meter is likely wrong."""
    paired = s.inputs.trial.paired(PRIMARY_ACTIVITY[s.inputs.equipment_class])
    reasons = [
        _out_of_range(s, "energy_kwh", ratio(paired.energy_kwh, paired.activity), "Electricity per unit of work"),
        _out_of_range(s, "hydrogen_kg", ratio(paired.hydrogen_kg, paired.activity), "Hydrogen per unit of work"),
    ]
    if s.inputs.technology not in NO_COMBUSTION:  # a hybrid burns less than diesel: only its top is checked
        diesel = ratio(paired.diesel_l, paired.activity)
        found = s.ranges.get((s.inputs.equipment_class, "diesel_l"))
        if diesel is not None and found is not None and diesel > found.high:
            reasons.append(
                f"Diesel per unit of work of {_number(diesel, found.unit)} is above the plausible {_range_text(found)}"
            )
    found_reasons = [reason for reason in reasons if reason]
    return Check("intensity_out_of_range", Level.warn, "; ".join(found_reasons) + ".") if found_reasons else None


def engine_efficiency_impossible(s: Subject) -> Check | None:
    """A diesel engine turns at most about 45 % of its fuel into work: a lower fuel rate is not believable."""
    baseline, power, load = s.result.baseline, s.inputs.rated_power_kw, s.result.load_factor
    if baseline is None or baseline.kind != BaselineKind.diesel or baseline.activity != Activity.hour:
        return None
    if power is None or load is None:
        return None
    efficiency = power * load / (baseline.rate * units.DIESEL_KWH_PER_L)
    if efficiency <= MAX_ENGINE_EFFICIENCY:
        return None
    return Check(
        "engine_efficiency_impossible",
        Level.warn,
        f"A {_number(power, 'kW')} engine at load factor "
        f"{load:.2f} would turn {efficiency:.0%} of {_number(baseline.rate, 'L/h')} of diesel into work; no "
        "diesel engine does better than about 45 %, so the baseline rate is too low.",
    )


def efficiency_below_one(s: Subject) -> Check | None:
    """A battery or fuel cell machine that uses more energy than diesel would is suspect."""
    value = s.result.values.get("efficiency_ratio")
    if s.inputs.technology not in EFFICIENT_DRIVES or value is None or value >= 1:
        return None
    return Check(
        "efficiency_below_one",
        Level.warn,
        f"It uses more energy than its baseline ({value:.2f}x as "
        "efficient); battery and fuel-cell machines are expected to be 1.5-6x as efficient as diesel.",
    )


def measured_baseline_thin(s: Subject) -> Check | None:
    """A baseline measured on under 30 unit-days rests on little data."""
    baseline = s.result.baseline
    if baseline is None or not baseline.thin:
        return None
    days = s.inputs.baseline.unit_days or 0
    used = "the declared rate is used instead" if baseline.method == "declared" else "no declared rate to fall back on"
    return Check(
        "measured_baseline_thin",
        Level.warn,
        f"The baseline units were measured on only {days:,.0f} unit-days (under 30): {used}.",
    )


def unpaired_rows(s: Subject) -> Check | None:
    """Work without energy beside it cannot be compared: under 90 % paired, comparisons rest on part of the work."""
    share = s.result.values.get("paired_share_pct")
    if share is None or share >= MIN_PAIRED_SHARE_PCT:
        return None
    return Check(
        "unpaired_rows",
        Level.warn,
        f"Only {share:.0f} % of the work has energy recorded on the same rows; comparisons use that part only.",
    )


def stale(s: Subject) -> Check | None:
    """An active trial that stopped reporting more than 45 days ago."""
    lag = s.result.values.get("days_since_data")
    if s.status != TrialStatus.active or lag is None or lag <= STALE_AFTER_DAYS:
        return None
    last = s.result.last_data_date
    return Check("stale", Level.warn, f"Active, but its last data are from {last:%d %b %Y}, {lag:.0f} days ago.")


def low_coverage(s: Subject) -> Check | None:
    """Under 80 % of planned unit-days with data: totals understate the fleet."""
    coverage = s.result.values.get("data_coverage_pct")
    if coverage is None or coverage >= MIN_COVERAGE_PCT:
        return None
    return Check(
        "low_coverage", Level.warn, f"Data cover {coverage:.0f} % of the planned unit-days up to the last data date."
    )


def reported_gap(s: Subject) -> Check | None:
    """The source's own avoided figure more than 10 % from ours."""
    gap = s.result.values.get("reported_vs_computed_pct")
    if gap is None or abs(gap) <= REPORTED_GAP_FLAG_PCT:
        return None
    return Check(
        "reported_gap",
        Level.warn,
        f"The source's own avoided-emissions figure is {abs(gap):.0f} % "
        f"{'above' if gap > 0 else 'below'} the computed one.",
    )


def pollutant_methods_disagree(s: Subject) -> Check | None:
    """The engine method and the fuel method of §7.7 more than 2x apart: power, load factor or rate is off."""
    engine, fuel = s.result.pollutant_estimates
    if not engine or not fuel:
        return None
    spread = max(engine, fuel) / min(engine, fuel)
    if spread <= POLLUTANT_METHODS_RATIO:
        return None
    return Check(
        "pollutant_methods_disagree",
        Level.warn,
        f"The NOx estimate from rated power and hours and the one from the baseline's fuel differ {spread:.1f}x.",
    )


def single_unit(s: Subject) -> Check | None:
    """One machine is an anecdote, not a fleet."""
    if s.inputs.units_planned != 1:
        return None
    return Check("single_unit", Level.info, "One trial unit: results describe a single machine.")


def hydrogen_pathway_assumed(s: Subject) -> Check | None:
    """Grey hydrogen assumed when the pathway is not given."""
    if s.inputs.trial.hydrogen_kg is None or s.inputs.hydrogen_pathway not in (None, HydrogenPathway.grey):
        return None
    return Check(
        "hydrogen_pathway_assumed",
        Level.info,
        "Hydrogen is taken as grey (made from natural gas, 11 kg CO2e per kg) because no other pathway was given.",
    )


def factor_year_missing(s: Subject) -> Check | None:
    """Electricity of a year the factor set has no grid factor for took another year's."""
    borrowed = {year: used for year, used in s.result.factor_years.items() if year != used}
    if not borrowed:
        return None
    said = ", ".join(f"{year} took {used}'s" for year, used in sorted(borrowed.items()))
    return Check("factor_year_missing", Level.info, f"No grid factor for every year in the factor set: {said}.")


RULES: tuple[Callable[[Subject], Check | None], ...] = (
    no_baseline,
    no_market_factor,
    baseline_out_of_range,
    intensity_out_of_range,
    engine_efficiency_impossible,
    efficiency_below_one,
    measured_baseline_thin,
    unpaired_rows,
    stale,
    low_coverage,
    reported_gap,
    pollutant_methods_disagree,
    single_unit,
    hydrogen_pathway_assumed,
    factor_year_missing,
)


def trial_checks(inputs: TrialInputs, result: MetricsResult, *, status: TrialStatus, ranges: Ranges) -> list[Check]:
    """Run every trust check of METHODOLOGY.md §7.5 on one trial's result, most serious first."""
    subject = Subject(inputs, result, status, result.basis, ranges)
    found = [check for rule in RULES if (check := rule(subject)) is not None]
    order = list(Level)
    return sorted(found, key=lambda check: order.index(check.level))


def with_checks(inputs: TrialInputs, result: MetricsResult, *, status: TrialStatus, ranges: Ranges) -> MetricsResult:
    """The result with its trust checks, as every page, the API, the CLI and reports show it."""
    return replace(result, checks=tuple(trial_checks(inputs, result, status=status, ranges=ranges)))


def ranges_by_class(rows: Iterable[PlausibleRange]) -> dict[tuple[EquipmentClass, str], PlausibleRange]:
    """Index plausible ranges by class and quantity, as the checks look them up."""
    return {(row.equipment_class, row.quantity): row for row in rows}


def counts_in_totals(checks: Iterable[Check], *, avoided: bool) -> bool:
    """Whether a trial's figures go into totals and rankings: never with an `exclude` check, and avoided totals
    also leave out trials without a baseline."""
    listed = list(checks)
    if any(check.level == Level.exclude for check in listed):
        return False
    return not (avoided and any(check.code == "no_baseline" for check in listed))
