"""Scoped loading for the dashboard: rollups through trials/, metrics through trials.metrics.compute, into Tables."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sqlmodel import Session

from app.dashboard.state import ViewState
from app.dashboard.table import Table
from trials import metrics, registry, units
from trials.checks import Level, counts_in_totals
from trials.factors import list_factor_sets
from trials.metrics import (
    METRIC_KEYS,
    PRIMARY_ACTIVITY,
    MetricsResult,
    total,
)
from trials.models import Port, Trial, TrialStatus, UnitRole
from trials.periods import Period, month_text
from trials.queries import (
    default_factor_rows,
    get_trial,
    import_batch_files,
    list_plausible_ranges,
    list_ports,
    list_trials,
)
from trials.reference import RANGE_COLUMNS, range_rows
from trials.results import (
    Calculator,
    TrialResult,
    buckets,
    calculator,
    monthly_results,
    trial_results,
)
from trials.rollup_sums import DayRow, daily_rows
from trials.scope import Scope
from trials.unit_sums import measurement_page

#: Rows of a trial's measurements shown per page of its provenance table.
PROVENANCE_PAGE = 50


#: One trial in view with its metrics over the view's period.
TrialRow = TrialResult


def _ports(session: Session) -> dict[str, Port]:
    """The partner ports by UN/LOCODE."""
    return {port.locode: port for port in list_ports(session=session)}


def trials_in_view(*, session: Session, scope: Scope, state: ViewState) -> list[Trial]:
    """The trials the viewer may see that pass the view's filters."""
    return [trial for trial in list_trials(session=session, scope=scope) if state.shows(trial)]


def trial_years(*, session: Session, scope: Scope, as_of: date) -> list[int]:
    """The calendar years the viewer's trials run in, up to the as-of day: the years a period preset may name."""
    years: set[int] = set()
    for trial in list_trials(session=session, scope=scope):
        last = min(trial.end_date or as_of, as_of)
        years.update(range(trial.start_date.year, last.year + 1))
    return sorted(years)


def trial_rows(
    *,
    session: Session,
    scope: Scope,
    state: ViewState,
    as_of: date,
    basis: Literal["location", "market"] = "location",
    calc: Calculator | None = None,
) -> list[TrialRow]:
    """Every trial in view with its metrics over the view's period, with its trust checks (trials.results)."""
    trials = trials_in_view(session=session, scope=scope, state=state)
    return trial_results(
        session=session, scope=scope, trials=trials, period=state.period, basis=basis, factors=calc, as_of=as_of
    )


def left_out(rows: Sequence[TrialRow]) -> list[tuple[str, str]]:
    """The trials whose avoided emissions are not in the totals, with the reasons in plain words (METHODOLOGY.md
    §7.5): every headline says "from N of M trials", and these are the M - N."""
    return [(row.trial.code, reason) for row in rows if (reason := left_out_reason(row.result)) is not None]


def left_out_reason(result: MetricsResult) -> str | None:
    """Why a trial's avoided emissions are not in the totals, in plain words; None when they are."""
    if result.values["ghg_wtw_avoided_kg"] is not None and counts_in_totals(result.checks, avoided=True):
        return None
    reasons = [check.message for check in result.checks if check.level != Level.info or check.code == "no_baseline"]
    return " ".join(reasons) or "No data in this period."


def _sum_metric(rows: Sequence[TrialRow], key: str) -> tuple[float | None, int]:
    """Add a metric over trials, skipping n/a ones, and say how many trials had it."""
    values = [row.result.values[key] for row in rows]
    return total(values), sum(value is not None for value in values)


def _scaled(value: float | None, divisor: float) -> float | None:
    """Show a quantity in a larger unit (kWh as MWh, kg as t), keeping n/a."""
    return None if value is None else value / divisor


HEADLINE_COLUMNS = ("figure", "value", "unit", "trials_with_data", "trials")


def headline_table(rows: Sequence[TrialRow]) -> Table:
    """The overview's headline figures, each with how many trials it stands on."""
    trials = len(rows)
    energy, energy_n = _sum_metric(rows, "final_energy_kwh")
    diesel, diesel_n = _sum_metric(rows, "diesel_displaced_l")
    ghg, ghg_n = _sum_metric(rows, "ghg_wtw_avoided_kg")
    nox, nox_n = _sum_metric(rows, "nox_avoided_kg")
    active = sum(row.trial.status == TrialStatus.active for row in rows)
    units = sum(row.units for row in rows)
    words = registry.METRICS
    return Table(
        HEADLINE_COLUMNS,
        [
            (
                f"{registry.label(TrialStatus.active, capital=True)} trials",
                active,
                registry.noun(active, "trial"),
                trials,
                trials,
            ),
            (registry.label(UnitRole.trial, 2, capital=True), units, registry.noun(units, "unit"), trials, trials),
            (words["final_energy_kwh"].label, _scaled(energy, 1000), "MWh", energy_n, trials),
            (words["diesel_displaced_l"].label, diesel, words["diesel_displaced_l"].unit, diesel_n, trials),
            (words["ghg_wtw_avoided_kg"].label, _scaled(ghg, 1000), "t CO2e", ghg_n, trials),
            (words["nox_avoided_kg"].label, nox, words["nox_avoided_kg"].unit, nox_n, trials),
        ],
    )


def data_span(rows: Sequence[TrialRow]) -> tuple[date, date] | None:
    """The first and last day with trial data among the trials in view."""
    firsts = [row.data.first_day for row in rows if row.data.first_day is not None]
    lasts = [row.data.last_day for row in rows if row.data.last_day is not None]
    return (min(firsts), max(lasts)) if firsts and lasts else None


MAP_COLUMNS = ("port", "name", "lat", "lon", "trials", "ghg_wtw_avoided_t", "trials_with_data")


def port_map_table(rows: Sequence[TrialRow]) -> Table:
    """Avoided well-to-wheel emissions per port, for the map."""
    by_port: dict[str, list[TrialRow]] = defaultdict(list)
    for row in rows:
        by_port[row.port.locode].append(row)
    table_rows = []
    for locode, port_rows in sorted(by_port.items()):
        avoided, with_data = _sum_metric(port_rows, "ghg_wtw_avoided_kg")
        port = port_rows[0].port
        table_rows.append((locode, port.name, port.lat, port.lon, len(port_rows), _scaled(avoided, 1000), with_data))
    return Table(MAP_COLUMNS, table_rows)


MONTHLY_COLUMNS = ("month", "port", "ghg_wtw_avoided_t", "trials_with_data")


def monthly_avoided_table(*, session: Session, scope: Scope, state: ViewState) -> Table:
    """Avoided well-to-wheel emissions per month and port: each trial's month computed on its own, then added."""
    trials = trials_in_view(session=session, scope=scope, state=state)
    months = monthly_results(session=session, scope=scope, trials=trials, period=state.period, data_only=True)
    cells: dict[tuple[int, str], list[float | None]] = defaultdict(list)
    for trial in trials:
        for month, (_inputs, result) in months.get(trial.id or 0, {}).items():
            cells[(month, trial.port_locode)].append(result.values["ghg_wtw_avoided_kg"])
    return Table(
        MONTHLY_COLUMNS,
        [
            (month_text(month), port, _scaled(total(values), 1000), _present(values))
            for (month, port), values in sorted(cells.items())
        ],
    )


def _present(values: Iterable[float | None]) -> int:
    """Count the values that are not n/a."""
    return sum(value is not None for value in values)


# Trials


TRIAL_COLUMNS = (
    "code",
    "name",
    "port",
    "equipment_class",
    "technology",
    "status",
    "units",
    "energy_per_activity",
    "energy_unit",
    "ghg_wtw_reduction_pct",
    "ghg_wtw_avoided_t",
    "data_coverage_pct",
    "checks",
    "check_reasons",
    "check_level",
)


def checks_summary(result: MetricsResult) -> tuple[str, str, str]:
    """A trial's trust checks in a few words, the reasons in full, and how grave they are: left out of the totals,
    its warnings, or passing ('' for the level)."""
    reason = left_out_reason(result)
    if reason is not None:
        return registry.label(Level.exclude, capital=True), reason, Level.exclude.value
    warnings = [check.message for check in result.checks if check.level == Level.warn]
    if warnings:
        return registry.counted(len(warnings), "warning").capitalize(), " ".join(warnings), Level.warn.value
    return "Passes", "", ""


def trials_table(rows: Sequence[TrialRow]) -> Table:
    """One row per trial in view with its key figures over the period, in words; the rest is on the trial's page."""
    found = []
    for row in rows:
        trial, values = row.trial, row.result.values
        key = f"kwh_per_{PRIMARY_ACTIVITY[trial.equipment_class].value}"
        found.append(
            (
                trial.code,
                trial.name,
                row.port.name,
                registry.label(trial.equipment_class, 2, capital=True),
                registry.label(trial.technology, capital=True),
                registry.label(trial.status, capital=True),
                row.units,
                values[key],
                registry.METRICS[key].unit,
                values["ghg_wtw_reduction_pct"],
                _scaled(values["ghg_wtw_avoided_kg"], 1000),
                values["data_coverage_pct"],
                *checks_summary(row.result),
            )
        )
    return Table(TRIAL_COLUMNS, found)


@dataclass(frozen=True)
class TrialDetail:
    """One trial's page: its row, both bases' metrics, and its day-by-day rollups."""

    row: TrialRow
    market: MetricsResult | None  # shown beside location-based figures when the trial has a market-based factor
    days: list[DayRow]
    calc: Calculator  # with the factor set its figures were computed with


def factor_sets(session: Session) -> list[tuple[str, bool]]:
    """Every stored factor set's name, and whether it is the default, oldest first."""
    return [(factor_set.name, factor_set.is_default) for factor_set, _rows in list_factor_sets(session)]


def trial_detail(*, session: Session, scope: Scope, code: str, state: ViewState, as_of: date) -> TrialDetail | None:
    """A visible trial's figures over the view's period, with the view's factor set (the default unless one is
    named: an unknown name is refused by the caller); a trial outside the scope is as absent as a missing one."""
    trial = get_trial(session=session, scope=scope, code=code)
    if trial is None or trial.id is None:
        return None
    calc = calculator(session, state.factors)
    (row,) = trial_results(session=session, scope=scope, trials=[trial], period=state.period, factors=calc, as_of=as_of)
    market = calc.compute(row.data.inputs, "market") if trial.market_factor_g_per_kwh is not None else None
    days = daily_rows(session=session, scope=scope, trial=trial, period=state.period)
    return TrialDetail(row, market, days, calc)


def metrics_table(detail: TrialDetail) -> Table:
    """Every metric of the trial with its unit (per the class's unit of work: 'kg CO2e per operating hour'),
    location-based and (if declared) market-based side by side."""
    location, market = detail.row.result.values, detail.market.values if detail.market else None
    equipment_class = detail.row.trial.equipment_class
    return Table(
        ("metric", "location_based", "market_based", "unit"),
        [
            (key, location[key], market[key] if market else None, registry.METRICS[key].unit_for(equipment_class))
            for key in METRIC_KEYS
        ],
    )


SERIES_COLUMNS = (
    "period_start",
    "final_energy_kwh",
    "activity",
    "activity_unit",
    "ghg_kg",
    "baseline_ghg_kg",
    "availability_pct",
    "downtime_hours",
    "charging_sessions",
    "energy_kwh",
    "data_coverage_pct",
)


def series_table(detail: TrialDetail, state: ViewState, as_of: date) -> Table:
    """The trial's figures per day, week or month, each computed by trials.metrics from that bucket's sums."""
    activity = PRIMARY_ACTIVITY[detail.row.trial.equipment_class]
    rows = []
    row = detail.row
    days = detail.days
    for bucket in buckets(trial=row.trial, port=row.port, days=days, grain=state.grain, as_of=as_of, calc=detail.calc):
        values = bucket.result.values
        rows.append(
            (
                bucket.start.isoformat(),
                values["final_energy_kwh"],
                bucket.inputs.trial.activity(activity),
                registry.label(activity, 2),
                values[f"ghg_{state.ghg}_kg"],
                values[f"baseline_ghg_{state.ghg}_kg"],
                values["availability_pct"],
                bucket.inputs.trial.downtime_hours,
                bucket.charging_sessions,
                values["energy_kwh"],
                values["data_coverage_pct"],
            )
        )
    return Table(SERIES_COLUMNS, rows)


def calendar_table(detail: TrialDetail, as_of: date, period: Period) -> Table:
    """Each day of the trial period so far (within the view's months): whether a trial unit's data cover it."""
    trial = detail.row.trial
    first = max(day for day in (trial.start_date, period.first_day) if day is not None)
    last = min(day for day in (trial.end_date, as_of, period.last_day) if day is not None)
    covered = {row.day for row in detail.days if row.role == UnitRole.trial}
    rows = []
    day = first
    while day <= last:
        rows.append((day.isoformat(), int(day in covered)))
        day += timedelta(days=1)
    return Table(("day", "covered"), rows)


PROVENANCE_COLUMNS = (
    "period_start",
    "period_end",
    "unit",
    "role",
    "operating_hours",
    "energy_kwh",
    "hydrogen_kg",
    "diesel_l",
    "distance_km",
    "moves",
    "import_batch",
    "file",
    "sheet",
    "row",
)


def provenance_table(*, session: Session, scope: Scope, code: str, state: ViewState, page: int) -> tuple[Table, int]:
    """One page of a visible trial's measurements in the view's months, with the batch, file, sheet and row each
    came from; and how many there are."""
    trial = get_trial(session=session, scope=scope, code=code)
    if trial is None:
        return Table(PROVENANCE_COLUMNS), 0
    found, count = measurement_page(
        session=session, scope=scope, trial=trial, period=state.period, offset=page * PROVENANCE_PAGE,
        limit=PROVENANCE_PAGE,
    )  # fmt: skip
    batches = {m.row.import_batch_id for m in found if m.row.import_batch_id is not None}
    files = import_batch_files(session=session, scope=scope, trial=trial, batch_ids=batches)
    rows = [
        (
            m.row.period_start.isoformat(),
            m.row.period_end.isoformat(),
            m.unit,
            registry.label(m.role),
            m.row.operating_hours,
            m.row.energy_kwh,
            m.row.hydrogen_kg,
            m.row.diesel_l,
            m.row.distance_km,
            m.row.moves,
            m.row.import_batch_id,
            files.get(m.row.import_batch_id) if m.row.import_batch_id is not None else None,
            m.row.source_sheet,
            m.row.source_row,
        )
        for m in found
    ]
    return Table(PROVENANCE_COLUMNS, rows), count


# Methodology, in words from the registry, with the factor set the numbers use


CONSTANTS = (
    ("Diesel energy content (lower heating value)", units.DIESEL_KWH_PER_L, "kWh/L"),
    ("Hydrogen energy content (lower heating value)", units.HYDROGEN_KWH_PER_KG, "kWh/kg"),
    ("Nautical mile", units.KM_PER_NMI, "km"),
    ("Reported against computed: flagged beyond", metrics.REPORTED_GAP_FLAG_PCT, "%"),
)


@dataclass(frozen=True)
class Methodology:
    """Everything the methodology page lists, in words: the metrics, activities, constants, factors and ranges."""

    formulas: Table
    activities: Table
    constants: Table
    factor_set: str
    factors: Table
    ranges: Table


def methodology(*, session: Session) -> Methodology:
    """Collect every metric (what it tells, how it is made), constant, factor and plausible range behind the figures,
    each in words from the registry, with its source."""
    set_name, factor_rows = default_factor_rows(session=session)
    return Methodology(
        formulas=Table(
            ("Metric", "Unit", "What it tells", "How it is made"),
            [(m.label, m.unit, m.summary, m.formula) for m in registry.METRICS.values()],
        ),
        activities=Table(
            ("Equipment class", "Counted per"),
            [
                (registry.label(cls, 2, capital=True), registry.label(activity))
                for cls, activity in PRIMARY_ACTIVITY.items()
            ],
        ),
        constants=Table(("Constant", "Value", "Unit"), list(CONSTANTS)),
        factor_set=set_name,
        factors=Table(
            ("Factor", "For", "Year", "Value", "Unit", "Scope", "Source"),
            [
                (
                    registry.factor_label(f.key),
                    registry.label(f.region) if f.region else "",
                    f.year or "every year",
                    f.value,
                    f.unit,
                    registry.scope_label(f.scope),
                    f.source,
                )
                for f in factor_rows
            ],
        ),
        ranges=Table(RANGE_COLUMNS, list(range_rows(list_plausible_ranges(session=session)))),
    )
