"""Compare's data: one class's trials side by side per unit of its activity, what each stands on (baseline,
hydrogen, units, days, trust checks), the spread of their units and the grid behind their reductions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from sqlmodel import Session

from app.dashboard.data import TrialRow, trial_rows, trials_in_view
from app.dashboard.state import ViewState, compare_key
from app.dashboard.table import Table
from trials import registry
from trials.baselines import RATE_AMOUNT_UNIT
from trials.checks import Check, Level
from trials.metrics import MEASURED_BASELINE_MIN_UNIT_DAYS, METRIC_KEYS, PRIMARY_ACTIVITY, MetricsResult, TrialInputs
from trials.models import BaselineKind, EquipmentClass, HydrogenPathway, Technology, Trial
from trials.results import Calculator, calculator, unit_results
from trials.rollup_sums import PeriodData
from trials.scope import Scope
from trials.unit_sums import units_with_data

#: Technologies that run on hydrogen, whose figures depend on its pathway.
HYDROGEN_TECHNOLOGIES = frozenset({Technology.hydrogen_fuel_cell, Technology.hydrogen_combustion})


COMPARE_COLUMNS = (
    "port",
    "port_name",
    "trial",
    "technology",
    "value",
    "unit",
    "units_with_data",
    "days_with_data",
    "final_energy_kwh",
    "activity",
    "activity_unit",
    "baseline",
    "hydrogen",
    "grid_kg_per_kwh",
    "factor_set",
    "basis",
    "checks",
)
SPREAD_COLUMNS = ("port", "port_name", "trial", "technology", "unit_id", "value", "unit")
GRID_COLUMNS = (
    "port",
    "port_name",
    "trial",
    "technology",
    "grid_g_per_kwh",
    "grid_year",
    "ghg_wtw_reduction_pct",
    "days_with_data",
)


@dataclass(frozen=True)
class Comparison:
    """The compare page's trial-level data for one class, metric and scope: bars and the grid-intensity scatter."""

    metric_key: str | None
    bars: Table
    grid: Table
    checks: dict[str, tuple[Check, ...]] = field(default_factory=dict)  # by trial code: the badges of its row


def baseline_text(result: MetricsResult, trial: Trial) -> str:
    """Say in words what a result was compared against: the kind of machine, its rate, measured or declared, and
    where a declared rate came from."""
    baseline = result.baseline
    if baseline is None and trial.baseline_kind == BaselineKind.none:
        return "No baseline: nothing is compared, so no emissions avoided are claimed."
    if baseline is None:
        return (
            "No usable baseline yet, so every comparison is n/a: add baseline units with their energy and work, or"
            " declare a rate above 0 per hour, move, TEU or km."
        )
    rate = f"{baseline.rate:,.2f} {RATE_AMOUNT_UNIT[baseline.kind]} per {registry.label(baseline.activity)}"
    if baseline.method == "measured":
        how = "measured on its baseline units" + (
            f" (thin: under {MEASURED_BASELINE_MIN_UNIT_DAYS} unit-days)" if baseline.thin else ""
        )
        unused = (
            f" The declared rate ({trial.baseline_rate:g} {trial.baseline_unit}) is not used."
            if (trial.baseline_rate is not None)
            else ""
        )
    else:
        how = "declared" + (f" ({trial.baseline_source})" if trial.baseline_source else ", with no source given")
        unused = " The baseline units' own rate is thin, so the declared rate is used." if baseline.thin else ""
    return f"{registry.label(baseline.kind, capital=True)}, {how}: {rate}.{unused}"


def hydrogen_text(result: MetricsResult, trial: Trial) -> str:
    """Say which hydrogen the figures assume and its factor, for a trial that uses hydrogen; empty otherwise."""
    if result.values["hydrogen_kg"] is None and trial.technology not in HYDROGEN_TECHNOLOGIES:
        return ""
    if trial.hydrogen_pathway:
        pathway = registry.label(trial.hydrogen_pathway, capital=True)
    else:
        pathway = f"Not stated, taken as {registry.label(HydrogenPathway.grey)}"
    factor = result.hydrogen_factor_kg_per_kg
    said = "no factor (no hydrogen data)" if factor is None else f"{factor:,.2f} kg CO2e per kg"
    source = f", source: {trial.hydrogen_factor_source}" if trial.hydrogen_factor_source else ""
    clean = "; meets the US clean-hydrogen threshold" if result.clean_hydrogen else ""
    return f"{pathway}, {said}{source}{clean}."


def _checks_text(result: MetricsResult) -> str:
    """The trust checks above info, in plain words, for a hover: what to weigh before comparing."""
    return " ".join(check.message for check in result.checks if check.level != Level.info)


def _grid_year(inputs: TrialInputs, data: PeriodData) -> int | None:
    """The latest year of the trial's electricity, whose grid factor weighs most recent use."""
    if inputs.energy_kwh_by_year:
        return max(inputs.energy_kwh_by_year)
    return data.last_day.year if data.last_day else None


def busiest_class(trials: Sequence[Trial]) -> EquipmentClass | None:
    """The class with the most trials, the first in the list of classes on a tie; None without trials."""
    counts = Counter(trial.equipment_class for trial in trials)
    return max(EquipmentClass, key=lambda cls: counts[cls]) if counts else None


def compare_state(*, session: Session, scope: Scope, state: ViewState) -> ViewState:
    """The view Compare shows: the chosen class, else the class with the most trials in view."""
    if state.equipment_class is not None:
        return state
    return replace(state, equipment_class=busiest_class(trials_in_view(session=session, scope=scope, state=state)))


def _class_rows(
    session: Session, scope: Scope, state: ViewState, as_of: date, calc: Calculator
) -> tuple[str | None, list[TrialRow]]:
    """The chosen metric's key for the chosen class, and the class's trials in view; nothing without a class."""
    if state.equipment_class is None:
        return None, []
    rows = trial_rows(session=session, scope=scope, state=state, as_of=as_of, basis=state.basis, calc=calc)
    return state.metric_key(state.equipment_class), rows


def comparison(*, session: Session, scope: Scope, state: ViewState, as_of: date) -> Comparison:
    """Trials of the chosen class side by side, per unit of the class's primary activity, each with its n."""
    calc = calculator(session)
    key, rows = _class_rows(session, scope, state, as_of, calc)
    if state.equipment_class is None:
        return Comparison(None, Table(COMPARE_COLUMNS), Table(GRID_COLUMNS))
    activity = PRIMARY_ACTIVITY[state.equipment_class]
    units = units_with_data(session=session, scope=scope, trials=[row.trial for row in rows], period=state.period)
    unit_label = registry.METRICS[key].unit_for(state.equipment_class) if key else ""
    bars, grid = [], []
    for row in rows:
        inputs, trial = row.data.inputs, row.trial
        year = _grid_year(inputs, row.data)
        grid_factor = calc.factors.grid(inputs.grid_region, year) if year else None
        bars.append(
            (
                trial.port_locode,
                row.port.name,
                trial.code,
                trial.technology.value,
                row.result.values[key] if key else None,
                unit_label,
                units.get(trial.id or 0, 0),
                row.data.days_with_data,
                row.result.values["final_energy_kwh"],
                inputs.trial.activity(activity),
                registry.label(activity, 2),
                baseline_text(row.result, trial),
                hydrogen_text(row.result, trial),
                grid_factor,
                row.result.factor_set,
                row.result.basis,
                _checks_text(row.result),
            )
        )
        grid.append(
            (
                trial.port_locode,
                row.port.name,
                trial.code,
                trial.technology.value,
                None if grid_factor is None else grid_factor * 1000,
                year,
                row.result.values["ghg_wtw_reduction_pct"],
                row.data.days_with_data,
            )
        )
    checks = {row.trial.code: row.result.checks for row in rows}
    return Comparison(key, Table(COMPARE_COLUMNS, bars), Table(GRID_COLUMNS, grid), checks)


def unit_spread(*, session: Session, scope: Scope, state: ViewState, as_of: date) -> Table:
    """Every unit's result on the chosen metric, per trial of the chosen class: the spread behind each bar."""
    calc = calculator(session)
    key, rows = _class_rows(session, scope, state, as_of, calc)
    if key is None:
        return Table(SPREAD_COLUMNS)
    trials = {row.trial.id or 0: row.trial for row in rows}
    port_names = {row.port.locode: row.port.name for row in rows}
    per_unit = unit_results(
        session=session, scope=scope, results=rows, period=state.period, basis=state.basis, keys=METRIC_KEYS,
        factors=calc,
    )  # fmt: skip
    order = {trial_id: index for index, trial_id in enumerate(trials)}  # as the bars: by port, then trial
    per_unit = sorted(per_unit, key=lambda unit: (order[unit[0]], unit[1]))
    position = METRIC_KEYS.index(key)
    unit_of_value = registry.METRICS[key].unit_for(state.equipment_class)
    return Table(
        SPREAD_COLUMNS,
        [
            (
                trials[trial_id].port_locode,
                port_names[trials[trial_id].port_locode],
                trials[trial_id].code,
                trials[trial_id].technology.value,
                unit,
                values[position],
                unit_of_value,
            )
            for trial_id, unit, values in per_unit
        ],
    )


def metric_label(state: ViewState) -> str:
    """The chosen metric's name for the view's class, from the registry (which names its GHG scope)."""
    equipment_class = state.equipment_class or EquipmentClass.yard_tractor
    key = state.metric_key(equipment_class) or compare_key(state.metric, equipment_class, "wtw")
    return registry.METRICS[key].label if key else state.metric
