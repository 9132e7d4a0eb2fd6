"""A trial's metric inputs from summed rollup rows: its settings with the sums, by year where a factor depends on it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from trials.metrics import TOTALS_FIELDS, Totals, TrialInputs, total
from trials.models import BaselineKind, EquipmentClass, Port, Technology, Trial, UnitRole
from trials.periods import Period


def totals_of(rows: Iterable[Mapping[str, Any]]) -> Totals:
    """Add up rollup rows into the sums a metric needs; a field no row carried stays None."""
    listed = list(rows)
    if len(listed) == 1:  # most months hold one row per role: no adding up to do
        return Totals(**{name: as_float(listed[0][name]) for name in TOTALS_FIELDS})
    return Totals(**{name: total([as_float(row[name]) for row in listed]) for name in TOTALS_FIELDS})


def as_float(value: Any) -> float | None:
    """Turn a database sum (an int, or a Decimal on PostgreSQL) into a float."""
    return None if value is None else float(value)


class YearEnergy(dict[int, float]):
    """Electricity by calendar year, hashable so that identical metric inputs are recognised; never changed once
    built (as every TrialInputs field)."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))


def energy_by_year(rows: Iterable[Mapping[str, Any]], name: str = "energy_kwh") -> YearEnergy:
    """Electricity (or another carrier) of trial-unit rows by calendar year (rows carry `year`), for each year's grid
    factor."""
    found: dict[int, list[float | None]] = defaultdict(list)
    for row in rows:
        if row["role"] == UnitRole.trial and row[name] is not None:
            found[int(row["year"])].append(as_float(row[name]))
    return YearEnergy({year: sum(v for v in values if v is not None) for year, values in found.items()})


def inputs_for(
    trial: Trial,
    port: Port | None,
    *,
    trial_totals: Totals,
    baseline_totals: Totals,
    energy_kwh_by_year: Mapping[int, float],
    hydrogen_kg_by_year: Mapping[int, float] | None = None,
    days_covered: int = 0,
    days_in_period: int = 0,
    last_data_date: date | None = None,
    as_of: date | None = None,
    units_seen: int | None = None,
) -> TrialInputs:
    """Gather one trial's settings and already summed figures into the inputs of trials.metrics.compute; choices as
    their enums even on a trial just built from plain text, since remembered results are found by equal inputs."""
    return TrialInputs(
        equipment_class=EquipmentClass(trial.equipment_class),
        technology=Technology(trial.technology),
        trial=trial_totals,
        baseline=baseline_totals,
        energy_kwh_by_year=energy_kwh_by_year,
        hydrogen_kg_by_year=YearEnergy() if hydrogen_kg_by_year is None else hydrogen_kg_by_year,
        grid_region=port.grid_region if port else "",
        baseline_kind=BaselineKind(trial.baseline_kind),
        declared_rate=trial.baseline_rate,
        declared_unit=trial.baseline_unit,
        rated_power_kw=trial.rated_power_kw,
        load_factor=trial.load_factor,
        market_factor_kg_per_kwh=None if (market := trial.market_factor_g_per_kwh) is None else market / 1000,
        hydrogen_pathway=trial.hydrogen_pathway,
        hydrogen_factor_kg_per_kg=trial.hydrogen_factor_kg_per_kg,
        baseline_engine=trial.baseline_engine,
        units_planned=trial.units_planned or units_seen,
        days_covered=days_covered,
        days_in_period=days_in_period,
        last_data_date=last_data_date,
        as_of=as_of,
    )


def reporting_window(window: tuple[date, date] | None, last_day: date | None) -> tuple[date, date] | None:
    """The window cut at the last day with data, so reporting lag is not counted as gaps (METHODOLOGY.md §7.4)."""
    if window is None or last_day is None or last_day < window[0]:
        return None
    return window[0], min(window[1], last_day)


def coverage_window(trial: Trial, period: Period, as_of: date) -> tuple[date, date] | None:
    """The days of the trial period so far that fall in the period, or None when there are none."""
    first = max(d for d in (trial.start_date, period.first_day) if d is not None)
    last = min(d for d in (trial.end_date, as_of, period.last_day) if d is not None)
    return (first, last) if first <= last else None


def settings_of(trial: Trial, port: Port | None) -> TrialInputs:
    """A trial's metric inputs without any sums: its settings alone, to which each period's sums are added."""
    return inputs_for(trial, port, trial_totals=Totals(), baseline_totals=Totals(), energy_kwh_by_year=YearEnergy())
