"""Scoped loading for the dashboard: rollups through trials/, metrics through trials.metrics.compute, into Tables."""

from __future__ import annotations

import ast
import inspect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Literal

from sqlmodel import Session

from app.dashboard.calc import MEMO_SIZE, Calculator, Remembered, calculator
from app.dashboard.state import METRICS, Grain, ViewState
from app.dashboard.table import Table
from trials import metrics, units
from trials.baselines import RATE_AMOUNT_UNIT
from trials.checks import Level, counts_in_totals, ranges_by_class, with_checks
from trials.metrics import METRIC_KEYS, METRIC_UNITS, PRIMARY_ACTIVITY, MetricsResult, TrialInputs, total
from trials.models import Port, Trial, TrialStatus, UnitRole
from trials.queries import (
    default_factor_rows,
    get_trial,
    import_batch_files,
    list_plausible_ranges,
    list_ports,
    list_trials,
)
from trials.reference import RANGE_COLUMNS, range_rows
from trials.rollups import (
    DayRow,
    MonthRow,
    Period,
    PeriodData,
    daily_rows,
    energy_by_year,
    inputs_for,
    measurement_page,
    month_inputs,
    monthly_sums,
    period_data,
    rollup_stamps,
    settings_of,
    totals_of,
    trial_unit_counts,
    unit_data,
    units_with_data,
)
from trials.scope import Scope

#: Rows of a trial's measurements shown per page of its provenance table.
PROVENANCE_PAGE = 50


@dataclass(frozen=True)
class TrialRow:
    """One trial in view with its metrics over the view's period."""

    trial: Trial
    port: Port
    data: PeriodData
    result: MetricsResult
    units: int  # trial units, not baseline units


def _ports(session: Session) -> dict[str, Port]:
    """The partner ports by UN/LOCODE."""
    return {port.locode: port for port in list_ports(session=session)}


def trials_in_view(*, session: Session, scope: Scope, state: ViewState) -> list[Trial]:
    """The trials the viewer may see that pass the view's filters."""
    return [trial for trial in list_trials(session=session, scope=scope) if state.shows(trial)]


def trial_rows(
    *,
    session: Session,
    scope: Scope,
    state: ViewState,
    as_of: date,
    basis: Literal["location", "market"] = "location",
    calc: Calculator | None = None,
) -> list[TrialRow]:
    """Every trial in view with its metrics over the view's period, computed from rollup sums."""
    trials = trials_in_view(session=session, scope=scope, state=state)
    unit_counts = trial_unit_counts(session=session, scope=scope, trials=trials)
    data = period_data(
        session=session, scope=scope, trials=trials, period=state.period, as_of=as_of, unit_counts=unit_counts
    )
    ports = _ports(session)
    calc = calc or calculator(session)
    ranges = ranges_by_class(list_plausible_ranges(session=session))
    rows = []
    for trial in trials:
        assert trial.id is not None
        found = data[trial.id]
        result = with_checks(found.inputs, calc.compute(found.inputs, basis), status=trial.status, ranges=ranges)
        rows.append(TrialRow(trial, ports[trial.port_locode], found, result, unit_counts.get(trial.id, 0)))
    return rows


def left_out(rows: Sequence[TrialRow]) -> list[tuple[str, str]]:
    """The trials whose avoided emissions are not in the totals, with the reasons in plain words (METHODOLOGY.md
    §7.5): every headline says "from N of M trials", and these are the M - N."""
    found = []
    for row in rows:
        if row.result.values["ghg_wtw_avoided_kg"] is not None and counts_in_totals(row.result.checks, avoided=True):
            continue
        reasons = [
            check.message for check in row.result.checks if check.level != Level.info or check.code == "no_baseline"
        ]
        found.append((row.trial.code, " ".join(reasons) or "No data in this period."))
    return found


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
    return Table(
        HEADLINE_COLUMNS,
        [
            ("Active trials", active, "trials", trials, trials),
            ("Units deployed", sum(row.units for row in rows), "units", trials, trials),
            ("Energy used", _scaled(energy, 1000), "MWh", energy_n, trials),
            ("Diesel displaced", diesel, "L", diesel_n, trials),
            ("GHG avoided, well-to-wheel", _scaled(ghg, 1000), "t CO2e", ghg_n, trials),
            ("NOx avoided (estimated)", nox, "kg", nox_n, trials),
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


@dataclass(frozen=True)
class _TrialMonths:
    """One trial's monthly figures to compute, equal to another exactly when its settings, rows and factors are."""

    key: tuple[Any, ...]
    settings: TrialInputs = field(compare=False)
    rows: tuple[MonthRow, ...] = field(compare=False)
    calc: Calculator = field(compare=False)


@lru_cache(maxsize=MEMO_SIZE // 10)
def _avoided_by_month(job: _TrialMonths) -> dict[int, float | None]:
    """A trial's avoided well-to-wheel emissions month by month, each month computed on its own sums."""
    inputs = month_inputs(job.settings, job.rows)
    return {month: job.calc.compute(month_input).values["ghg_wtw_avoided_kg"] for month, month_input in inputs.items()}


def monthly_avoided_table(*, session: Session, scope: Scope, state: ViewState) -> Table:
    """Avoided well-to-wheel emissions per month and port: each trial's month computed on its own, then added."""
    trials = trials_in_view(session=session, scope=scope, state=state)
    sums = monthly_sums(session=session, scope=scope, trials=trials, period=state.period)
    ports, calc = _ports(session), calculator(session)
    cells: dict[tuple[int, str], list[float | None]] = defaultdict(list)
    for trial in trials:
        settings = settings_of(trial, ports.get(trial.port_locode))
        rows = sums.get(trial.id or 0, ())
        for month, avoided in _avoided_by_month(
            _TrialMonths((calc.factors_key, settings, rows), settings, rows, calc)
        ).items():
            cells[(month, trial.port_locode)].append(avoided)
    return Table(
        MONTHLY_COLUMNS,
        [
            (f"{month // 100:04d}-{month % 100:02d}", port, _scaled(total(values), 1000), _present(values))
            for (month, port), values in sorted(cells.items())
        ],
    )


def _present(values: Iterable[float | None]) -> int:
    """Count the values that are not n/a."""
    return sum(value is not None for value in values)


# Compare


COMPARE_COLUMNS = (
    "port",
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
    "grid_kg_per_kwh",
    "factor_set",
    "basis",
    "checks",
)
SPREAD_COLUMNS = ("port", "trial", "technology", "unit_id", "value", "unit")
GRID_COLUMNS = ("port", "trial", "technology", "grid_g_per_kwh", "grid_year", "ghg_wtw_reduction_pct", "days_with_data")


@dataclass(frozen=True)
class Comparison:
    """The compare page's trial-level data for one class, metric and scope: bars and the grid-intensity scatter."""

    metric_key: str | None
    bars: Table
    grid: Table


def baseline_text(result: MetricsResult, trial: Trial) -> str:
    """Say which baseline a result used and where it came from."""
    baseline = result.baseline
    if baseline is None:
        return "no baseline"
    source = f", {trial.baseline_source}" if baseline.method == "declared" and trial.baseline_source else ""
    thin = " (the measured one is thin)" if baseline.thin else ""
    amount = RATE_AMOUNT_UNIT[baseline.kind]
    rate = f"{baseline.rate:,.3f} {amount}/{baseline.activity.value}"
    return f"{baseline.kind.value}, {baseline.method}{thin}: {rate}{source}"


def _checks_text(result: MetricsResult) -> str:
    """The trust checks above info, in plain words, for a hover: what to weigh before comparing."""
    return " ".join(check.message for check in result.checks if check.level != Level.info)


def _grid_year(inputs: TrialInputs, data: PeriodData) -> int | None:
    """The latest year of the trial's electricity, whose grid factor weighs most recent use."""
    if inputs.energy_kwh_by_year:
        return max(inputs.energy_kwh_by_year)
    return data.last_day.year if data.last_day else None


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
    unit_label = METRIC_UNITS[key] if key else ""
    bars, grid = [], []
    for row in rows:
        inputs, trial = row.data.inputs, row.trial
        year = _grid_year(inputs, row.data)
        grid_factor = calc.factors.grid(inputs.grid_region, year) if year else None
        bars.append(
            (
                trial.port_locode,
                trial.code,
                trial.technology.value,
                row.result.values[key] if key else None,
                unit_label,
                units.get(trial.id or 0, 0),
                row.data.days_with_data,
                row.result.values["final_energy_kwh"],
                inputs.trial.activity(activity),
                activity.value,
                baseline_text(row.result, trial),
                grid_factor,
                row.result.factor_set,
                row.result.basis,
                _checks_text(row.result),
            )
        )
        grid.append(
            (
                trial.port_locode,
                trial.code,
                trial.technology.value,
                None if grid_factor is None else grid_factor * 1000,
                year,
                row.result.values["ghg_wtw_reduction_pct"],
                row.data.days_with_data,
            )
        )
    return Comparison(key, Table(COMPARE_COLUMNS, bars), Table(GRID_COLUMNS, grid))


#: Each unit's (trial id, unit id, values in METRIC_KEYS order): 2,664 units of a class take 0.1 s to compute at 10
#: million rows, so a few classes' worth is kept for switching metrics and GHG scopes (about 2 MB each).
UnitResults = list[tuple[int, str, tuple[float | None, ...]]]
_unit_results: Remembered[UnitResults] = Remembered(size=16)


def _computed_units(
    session: Session, scope: Scope, trials: Sequence[Trial], baselines: Mapping[int, TrialInputs], state: ViewState,
    calc: Calculator,
) -> UnitResults:  # fmt: skip
    """Every unit's metrics over the view's period, remembered until the trials' rollups are rebuilt (their stamps
    are in the key, with their settings and baselines, the period, the basis and the factors)."""
    stamps = rollup_stamps(session=session, scope=scope, trials=trials)
    key = (
        tuple((trial.id, stamps[trial.id or 0], baselines[trial.id or 0]) for trial in trials),
        state.period,
        state.basis,
        calc.factors_key,
    )

    def compute() -> UnitResults:
        per_unit = unit_data(session=session, scope=scope, trials=trials, period=state.period, baselines=baselines)
        return [
            (unit.trial_id, unit.unit, tuple(map(calc.compute_fresh(unit.inputs, state.basis).values.get, METRIC_KEYS)))
            for unit in per_unit
        ]

    return _unit_results.get(key, compute)


def unit_spread(*, session: Session, scope: Scope, state: ViewState, as_of: date) -> Table:
    """Every unit's result on the chosen metric, per trial of the chosen class: the spread behind each bar."""
    calc = calculator(session)
    key, rows = _class_rows(session, scope, state, as_of, calc)
    if key is None:
        return Table(SPREAD_COLUMNS)
    baselines = {row.trial.id or 0: row.data.inputs for row in rows}
    trials = {row.trial.id or 0: row.trial for row in rows}
    per_unit = _computed_units(session, scope, list(trials.values()), baselines, state, calc)
    order = {trial_id: index for index, trial_id in enumerate(trials)}  # as the bars: by port, then trial
    per_unit = sorted(per_unit, key=lambda unit: (order[unit[0]], unit[1]))
    position = METRIC_KEYS.index(key)
    return Table(
        SPREAD_COLUMNS,
        [
            (
                trials[trial_id].port_locode,
                trials[trial_id].code,
                trials[trial_id].technology.value,
                unit,
                values[position],
                METRIC_UNITS[key],
            )
            for trial_id, unit, values in per_unit
        ],
    )


def metric_label(state: ViewState) -> str:
    """The chosen metric's name, with its GHG scope where it has one."""
    choice = METRICS[state.metric]
    scoped = "{ghg}" in choice.key or choice.ghg_scopes == ("wtw",)
    return f"{choice.label} ({state.ghg.upper()})" if scoped else choice.label


# Trials


TRIAL_COLUMNS = (
    "code",
    "name",
    "port",
    "equipment_class",
    "technology",
    "status",
    "start_date",
    "end_date",
    "units",
    "energy_per_activity",
    "activity_unit",
    "efficiency_ratio",
    "ghg_wtw_reduction_pct",
    "ghg_wtw_avoided_t",
    "availability_pct",
    "data_coverage_pct",
    "baseline",
)


def trials_table(rows: Sequence[TrialRow]) -> Table:
    """One row per trial in view with its key metrics over the period."""
    found = []
    for row in rows:
        trial, values = row.trial, row.result.values
        activity = PRIMARY_ACTIVITY[trial.equipment_class]
        found.append(
            (
                trial.code,
                trial.name,
                trial.port_locode,
                trial.equipment_class.value,
                trial.technology.value,
                trial.status.value,
                trial.start_date.isoformat(),
                trial.end_date.isoformat() if trial.end_date else None,
                row.units,
                values[f"kwh_per_{activity.value}"],
                f"kWh/{activity.value}",
                values["efficiency_ratio"],
                values["ghg_wtw_reduction_pct"],
                _scaled(values["ghg_wtw_avoided_kg"], 1000),
                values["availability_pct"],
                values["data_coverage_pct"],
                row.result.baseline.method if row.result.baseline else None,
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


def trial_detail(*, session: Session, scope: Scope, code: str, state: ViewState, as_of: date) -> TrialDetail | None:
    """A visible trial's figures over the view's period; a trial outside the scope is as absent as a missing one."""
    trial = get_trial(session=session, scope=scope, code=code)
    if trial is None or trial.id is None:
        return None
    calc = calculator(session)
    data = period_data(session=session, scope=scope, trials=[trial], period=state.period, as_of=as_of)[trial.id]
    units_count = trial_unit_counts(session=session, scope=scope, trials=[trial]).get(trial.id, 0)
    port = _ports(session)[trial.port_locode]
    row = TrialRow(trial, port, data, calc.compute(data.inputs), units_count)
    market = calc.compute(data.inputs, "market") if trial.market_factor_g_per_kwh is not None else None
    days = daily_rows(session=session, scope=scope, trial=trial, period=state.period)
    return TrialDetail(row, market, days, calc)


def metrics_table(detail: TrialDetail) -> Table:
    """Every metric of the trial with its unit, location-based and (if declared) market-based side by side."""
    location, market = detail.row.result.values, detail.market.values if detail.market else None
    return Table(
        ("metric", "location_based", "market_based", "unit"),
        [(key, location[key], market[key] if market else None, METRIC_UNITS[key]) for key in METRIC_KEYS],
    )


def bucket_start(day: date, grain: Grain) -> date:
    """The first day of the day, ISO week or month a day falls in."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def _bucket_end(start: date, grain: Grain) -> date:
    """The last day of the bucket that starts on a day."""
    if grain == "week":
        return start + timedelta(days=6)
    if grain == "month":
        return (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return start


@dataclass(frozen=True)
class Bucket:
    """One day, week or month of a trial: its metric inputs and the sums no metric uses (charging sessions)."""

    start: date
    inputs: TrialInputs
    charging_sessions: float | None


def buckets(detail: TrialDetail, grain: Grain, as_of: date) -> list[Bucket]:
    """Group the trial's daily rollups by day, week or month, with each bucket's coverage of the trial period."""
    trial = detail.row.trial
    window_last = min(day for day in (trial.end_date, as_of) if day is not None)
    grouped: dict[date, list[DayRow]] = defaultdict(list)
    for day_row in detail.days:
        grouped[bucket_start(day_row.day, grain)].append(day_row)
    found = []
    for start, rows in sorted(grouped.items()):
        first, last = max(start, trial.start_date), min(_bucket_end(start, grain), window_last)
        own = [r for r in rows if r.role == UnitRole.trial]
        covered = sum(first <= r.day <= last for r in own)
        inputs = inputs_for(
            trial,
            detail.row.port,
            trial_totals=totals_of(r.sums for r in own),
            baseline_totals=totals_of(r.sums for r in rows if r.role == UnitRole.baseline),
            energy_kwh_by_year=energy_by_year(
                {"role": r.role, "year": r.day.year, "energy_kwh": r.sums["energy_kwh"]} for r in rows
            ),
            days_covered=covered if first <= last else 0,
            days_in_period=(last - first).days + 1 if first <= last else 0,
        )
        found.append(Bucket(start, inputs, total(r.sums["charging_sessions"] for r in own)))
    return found


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
    for bucket in buckets(detail, state.grain, as_of):
        values = detail.calc.compute(bucket.inputs).values
        rows.append(
            (
                bucket.start.isoformat(),
                values["final_energy_kwh"],
                bucket.inputs.trial.activity(activity),
                activity.value,
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
            m.role.value,
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


# Methodology, generated from the code and the factor set the numbers use


def metric_formulas() -> dict[str, str]:
    """Each metric's expression exactly as trials.metrics.compute evaluates it, read from its source."""
    tree = ast.parse(inspect.getsource(metrics.compute))
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "values":
            assert isinstance(node.value, ast.Dict)
            return {
                key.value: ast.unparse(value)
                for key, value in zip(node.value.keys, node.value.values, strict=True)
                if isinstance(key, ast.Constant) and isinstance(key.value, str)
            }
    raise LookupError("trials.metrics.compute no longer assigns `values: dict[...] = {...}`")


#: The helpers the formulas are written with; their docstrings say how each treats n/a.
HELPERS = (
    metrics.total,
    metrics.ratio,
    metrics.difference,
    metrics.times,
    metrics.percent,
    metrics.final_energy_kwh,
    metrics.baseline_rate,
    metrics.intensity,
    metrics.weighted_grid_factor,
    metrics.hydrogen_factor,
    metrics.wtw_kg,
    metrics.ttw_kg,
    metrics.pollutant_kg,
    metrics.fuel_based_pollutant_kg,
    metrics.trial_tailpipe_share,
)
CONSTANTS = (
    ("Diesel energy content (LHV)", units.DIESEL_KWH_PER_L, "kWh/L", "trials.units.DIESEL_KWH_PER_L"),
    ("Hydrogen energy content (LHV)", units.HYDROGEN_KWH_PER_KG, "kWh/kg", "trials.units.HYDROGEN_KWH_PER_KG"),
    ("Nautical mile", units.KM_PER_NMI, "km", "trials.units.KM_PER_NMI"),
    ("Reported vs computed flag", metrics.REPORTED_GAP_FLAG_PCT, "%", "trials.metrics.REPORTED_GAP_FLAG_PCT"),
)


@dataclass(frozen=True)
class Methodology:
    """Everything the methodology page lists, from the code and the default factor set."""

    formulas: Table
    helpers: Table
    activities: Table
    constants: Table
    factor_set: str
    factors: Table
    ranges: Table


def methodology(*, session: Session) -> Methodology:
    """Collect every formula, helper, constant, factor and plausible range (with its source) behind the figures."""
    formulas = metric_formulas()
    set_name, factor_rows = default_factor_rows(session=session)
    return Methodology(
        formulas=Table(
            ("metric", "unit", "formula"), [(key, METRIC_UNITS[key], formulas.get(key, "")) for key in METRIC_KEYS]
        ),
        helpers=Table(("function", "rule"), [(helper.__name__, inspect.getdoc(helper) or "") for helper in HELPERS]),
        activities=Table(
            ("equipment_class", "primary_activity"),
            [(cls.value, activity.value) for cls, activity in PRIMARY_ACTIVITY.items()],
        ),
        constants=Table(("constant", "value", "unit", "defined_in"), list(CONSTANTS)),
        factor_set=set_name,
        factors=Table(
            ("key", "region", "year", "value", "unit", "scope", "source"),
            [(f.key, f.region, f.year or None, f.value, f.unit, f.scope, f.source) for f in factor_rows],
        ),
        ranges=Table(RANGE_COLUMNS, list(range_rows(list_plausible_ranges(session=session)))),
    )
