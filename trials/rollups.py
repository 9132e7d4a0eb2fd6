"""Daily and monthly rollups of measurements, kept current by the importer, and scoped reads of them.

Dashboards read these small tables instead of scanning raw measurements: one row per trial, role and day (or
month), and per unit and month. `refresh_rollups` rebuilds a set of trials' rows inside the caller's transaction,
so an import (or its undo) and its rollups land together or not at all.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from trials.metrics import TOTALS_FIELDS, Totals, TrialInputs, total
from trials.models import (
    MEASURED_NUMBERS,
    PAIRED_NUMBERS,
    PERIOD_NUMBERS,
    DailyRollup,
    Measurement,
    MonthlyRollup,
    Port,
    RollupStamp,
    Trial,
    Unit,
    UnitRole,
    UnitRunningTotal,
)
from trials.pieces import derived_columns, pieces
from trials.scope import Scope

#: Every measured number the rollups sum, with a count of the rows that carried it, then the paired sums.
ROLLUP_FIELDS: tuple[str, ...] = MEASURED_NUMBERS + PERIOD_NUMBERS + PAIRED_NUMBERS
#: Every field of a trial's metric inputs.
INPUT_FIELDS: tuple[str, ...] = tuple(item.name for item in fields(TrialInputs))
#: Trials rebuilt per statement: keeps IN lists well inside every database's bound-parameter limit.
CHUNK_TRIALS = 500

_measurement = Measurement.__table__  # type: ignore[attr-defined]
_unit = Unit.__table__  # type: ignore[attr-defined]
_daily = DailyRollup.__table__  # type: ignore[attr-defined]
_monthly = MonthlyRollup.__table__  # type: ignore[attr-defined]
_running = UnitRunningTotal.__table__  # type: ignore[attr-defined]
_trial = Trial.__table__  # type: ignore[attr-defined]
_stamp = RollupStamp.__table__  # type: ignore[attr-defined]


def month_key(column: Any) -> ColumnElement[int]:
    """A date column's month as year * 100 + month, in SQL both SQLite and PostgreSQL run."""
    return sa.cast(sa.extract("year", column) * 100 + sa.extract("month", column), sa.Integer)


def month_of(day: date) -> int:
    """A date's month as year * 100 + month, the key the monthly rollups use."""
    return day.year * 100 + day.month


def month_start(month: int) -> date:
    """The first day of a month key."""
    return date(month // 100, month % 100, 1)


def month_end(month: int) -> date:
    """The last day of a month key."""
    following = month_start(month) + timedelta(days=32)
    return following.replace(day=1) - timedelta(days=1)


def _sums(
    source: sa.TableClause | sa.Table | sa.Subquery,
    counts: Sequence[str] = (),
    derived: Mapping[str, ColumnElement[Any]] | None = None,
) -> list[ColumnElement[Any]]:
    """Sum every rollup field of a source, with its count: counted in measurement pieces (with their derived
    columns), or summed from rollup rows."""
    columns: list[ColumnElement[Any]] = []
    for name in ROLLUP_FIELDS:
        value = derived[name] if derived and name in derived else source.c[name]
        columns.append(sa.func.sum(value))
        count_of = f"n_{name}"
        columns.append(sa.func.sum(source.c[count_of]) if count_of in counts else sa.func.count(value))
    return columns


_SUM_COLUMNS: list[str] = [name for field in ROLLUP_FIELDS for name in (field, f"n_{field}")]


def refresh_rollups(session: Session, trial_ids: Iterable[int]) -> None:
    """Rebuild these trials' rollups from their measurements, in the caller's transaction (import, undo, backfill)."""
    ids = sorted(set(trial_ids))
    if not ids:
        return
    session.flush()
    connection = session.connection()
    for start in range(0, len(ids), CHUNK_TRIALS):
        chunk = ids[start : start + CHUNK_TRIALS]
        for table in (_running, _monthly, _daily):
            connection.execute(sa.delete(table).where(table.c.trial_id.in_(chunk)))
        connection.execute(sa.delete(_stamp).where(_stamp.c.trial_id.in_(chunk)))
        stamp = sa.literal(secrets.randbits(62), sa.BigInteger)  # for the trials still there (an undo deletes some)
        existing = sa.select(_trial.c.id, stamp).where(_trial.c.id.in_(chunk))
        connection.execute(sa.insert(_stamp).from_select(["trial_id", "stamp"], existing))
        _insert_daily(connection, chunk)
        _insert_monthly(connection, chunk)
        _insert_running_totals(connection, chunk)


def _insert_daily(connection: sa.Connection, ids: list[int]) -> None:
    """One row per trial, role and start day with its sums, then a row for every further day a period covers.

    Pieces that start on the same day are nested ranges, so the days they cover are those up to the group's latest
    end: one grouped read of the measurement pieces gives the sums and the days alike."""
    p = pieces(_measurement.c.trial_id.in_(ids))
    grouped = sa.select(
        p.c.trial_id,
        p.c.role,
        p.c.period_start,
        sa.func.max(p.c.period_end),
        sa.func.sum(p.c.first),
        *_sums(p, derived=derived_columns(p)),
    ).group_by(p.c.trial_id, p.c.role, p.c.period_start)
    columns = ["trial_id", "role", "day", "measurements", *_SUM_COLUMNS]
    days: list[dict[str, Any]] = []
    further: set[tuple[int, Any, date]] = set()
    for trial_id, role, start, end, *sums in connection.execute(grouped).all():
        days.append(dict(zip(columns, (trial_id, role, _day(start), *sums), strict=True)))
        start, end = _day(start), _day(end)
        further.update((trial_id, role, start + timedelta(days=offset)) for offset in range(1, (end - start).days))
    further -= {(day["trial_id"], day["role"], day["day"]) for day in days}
    empty = {name: 0 if name.startswith("n_") else None for name in _SUM_COLUMNS}
    days.extend({"trial_id": t, "role": r, "day": d, "measurements": 0, **empty} for t, r, d in sorted(further))
    if days:
        connection.execute(sa.insert(_daily), days)


def _day(value: date | str) -> date:
    """A piece's date as a date: SQLite gives the dates a union computes as their ISO text."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def _insert_monthly(connection: sa.Connection, ids: list[int]) -> None:
    """Sum the daily rows by month: every daily row is a day covered."""
    d = _daily
    month = month_key(d.c.day)
    grouped = (
        sa.select(
            d.c.trial_id,
            d.c.role,
            month,
            sa.func.sum(d.c.measurements),
            *_sums(d, counts=[f"n_{name}" for name in ROLLUP_FIELDS]),
            sa.func.count(),
            sa.func.min(d.c.day),
            sa.func.max(d.c.day),
        )
        .where(d.c.trial_id.in_(ids))
        .group_by(d.c.trial_id, d.c.role, month)
    )
    columns = ["trial_id", "role", "month", "measurements", *_SUM_COLUMNS, "days_covered", "first_day", "last_day"]
    connection.execute(sa.insert(_monthly).from_select(columns, grouped))


def _insert_running_totals(connection: sa.Connection, ids: list[int]) -> None:
    """Sum each unit's measurement pieces by month of their start, then add them up month after month."""
    p = pieces(_measurement.c.trial_id.in_(ids))
    month = month_key(p.c.period_start)
    sums = [column.label(name) for column, name in zip(_sums(p, derived=derived_columns(p)), _SUM_COLUMNS, strict=True)]
    by_month = (
        sa.select(
            p.c.trial_id,
            p.c.unit_id,
            month.label("month"),
            p.c.role,
            sa.func.sum(p.c.first).label("measurements"),
            *sums,
        )
        .group_by(p.c.trial_id, p.c.unit_id, month, p.c.role)
        .subquery()
    )
    running = sa.select(
        by_month.c.trial_id,
        by_month.c.unit_id,
        by_month.c.month,
        by_month.c.role,
        *[
            sa.func.sum(by_month.c[name]).over(partition_by=by_month.c.unit_id, order_by=by_month.c.month)
            for name in ("measurements", *_SUM_COLUMNS)
        ],
    )
    columns = ["trial_id", "unit_id", "month", "role", "measurements", *_SUM_COLUMNS]
    connection.execute(sa.insert(_running).from_select(columns, running))


# Reading, always for trials the viewer may see.


@dataclass(frozen=True)
class Period:
    """Whole calendar months to look at, both ends included; None leaves that end open."""

    first_month: int | None = None
    last_month: int | None = None

    @property
    def first_day(self) -> date | None:
        """The first day of the first month, if the period has a start."""
        return None if self.first_month is None else month_start(self.first_month)

    @property
    def last_day(self) -> date | None:
        """The last day of the last month, if the period has an end."""
        return None if self.last_month is None else month_end(self.last_month)

    def months(self, column: Any) -> ColumnElement[bool]:
        """A WHERE clause keeping a month-key column within the period."""
        clauses: list[ColumnElement[bool]] = []
        if self.first_month is not None:
            clauses.append(column >= self.first_month)
        if self.last_month is not None:
            clauses.append(column <= self.last_month)
        return sa.and_(sa.true(), *clauses)

    def days(self, column: Any) -> ColumnElement[bool]:
        """A WHERE clause keeping a date column within the period."""
        clauses: list[ColumnElement[bool]] = []
        if self.first_day is not None:
            clauses.append(column >= self.first_day)
        if self.last_day is not None:
            clauses.append(column <= self.last_day)
        return sa.and_(sa.true(), *clauses)


ALL_TIME = Period()


def totals_of(rows: Iterable[Mapping[str, Any]]) -> Totals:
    """Add up rollup rows into the sums a metric needs; a field no row carried stays None."""
    listed = list(rows)
    if len(listed) == 1:  # most months hold one row per role: no adding up to do
        return Totals(**{name: _float(listed[0][name]) for name in TOTALS_FIELDS})
    return Totals(**{name: total([_float(row[name]) for row in listed]) for name in TOTALS_FIELDS})


def _float(value: Any) -> float | None:
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
            found[int(row["year"])].append(_float(row[name]))
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
    """Gather one trial's settings and already summed figures into the inputs of trials.metrics.compute."""
    return TrialInputs(
        equipment_class=trial.equipment_class,
        technology=trial.technology,
        trial=trial_totals,
        baseline=baseline_totals,
        energy_kwh_by_year=energy_kwh_by_year,
        hydrogen_kg_by_year=YearEnergy() if hydrogen_kg_by_year is None else hydrogen_kg_by_year,
        grid_region=port.grid_region if port else "",
        baseline_kind=trial.baseline_kind,
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


def _sum_rows(table: sa.Table, keys: Sequence[ColumnElement[Any]], where: ColumnElement[bool]) -> sa.Select[Any]:
    """Sum a rollup table's fields by the given keys."""
    sums = [sa.func.sum(table.c[name]).label(f"sum_{name}") for name in ROLLUP_FIELDS]
    return sa.select(*keys, *sums).where(where).group_by(*keys)


def _unprefixed(row: sa.Row[Any]) -> dict[str, Any]:
    """A summed row's values by field name."""
    return {key.removeprefix("sum_"): value for key, value in row._mapping.items()}


@dataclass(frozen=True)
class PeriodData:
    """One trial's inputs over a period, with the figures that say how much data stand behind them."""

    inputs: TrialInputs
    first_day: date | None  # first and last day with data in the period
    last_day: date | None
    days_with_data: int  # days a trial unit's measurement covers, in the period


def period_data(
    *,
    session: Session,
    scope: Scope,
    trials: Sequence[Trial],
    period: Period = ALL_TIME,
    as_of: date,
    unit_counts: Mapping[int, int] | None = None,
) -> dict[int, PeriodData]:
    """Each visible trial's metric inputs over the period from the monthly rollups; over all time, trial_inputs'.

    Nothing after as-of is counted (METHODOLOGY.md §7.3): months after its month are left out, and the days of its
    month after it are taken off with the daily rollups. unit_counts: trial_unit_counts', when the caller has them."""
    ids = scope.visible_ids(trials)
    if not ids:
        return {}
    cut = Period(period.first_month, min(period.last_month or month_of(as_of), month_of(as_of)))
    r = _monthly
    year = (r.c.month // 100).label("year")
    query = _sum_rows(r, [r.c.trial_id, r.c.role, year], r.c.trial_id.in_(ids) & cut.months(r.c.month))
    query = query.add_columns(
        *[sa.func.sum(r.c[f"n_{name}"]).label(f"sum_n_{name}") for name in ROLLUP_FIELDS],
        sa.func.sum(r.c.days_covered).label("days_covered"),
        sa.func.min(r.c.first_day).label("first_day"),
        sa.func.max(r.c.last_day).label("last_day"),
    )
    rows = [_unprefixed(row) for row in session.execute(query)]
    # Only data dated after as-of in its own month need taking off: none, nearly always (as-of is today).
    tail = _after_as_of(session, ids, cut, as_of) if any(row["last_day"] > as_of for row in rows) else {}
    by_trial: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for found_row in rows:
        key = (found_row["trial_id"], found_row["role"])
        if found_row["year"] == as_of.year and key in tail:
            found_row = _less(found_row, tail[key])
        by_trial[found_row["trial_id"]].append(found_row)
    ports = {port.locode: port for port in session.exec(select(Port))}
    units_seen = (
        unit_counts if unit_counts is not None else trial_unit_counts(session=session, scope=scope, trials=trials)
    )
    found: dict[int, PeriodData] = {}
    for trial in trials:
        assert trial.id is not None
        rows = by_trial.get(trial.id, [])
        on_trial = [row for row in rows if row["role"] == UnitRole.trial]
        window = coverage_window(trial, period, as_of)
        first_day = min((row["first_day"] for row in on_trial), default=None)
        last_day = max((row["last_day"] for row in on_trial), default=None)
        if last_day is not None and last_day > as_of:
            last_day = _last_day_by(session, trial.id, as_of)
        with_data = sum(int(row["days_covered"]) for row in on_trial)
        covered = with_data
        if window and first_day and last_day and (first_day < window[0] or last_day > window[1]):
            covered -= _days_outside(session, trial.id, period, window)
        reporting = reporting_window(window, last_day)
        inputs = inputs_for(
            trial,
            ports.get(trial.port_locode),
            trial_totals=totals_of(on_trial),
            baseline_totals=totals_of(row for row in rows if row["role"] == UnitRole.baseline),
            energy_kwh_by_year=energy_by_year(rows),
            hydrogen_kg_by_year=energy_by_year(rows, "hydrogen_kg"),
            days_covered=covered if window else 0,
            days_in_period=(reporting[1] - reporting[0]).days + 1 if reporting else 0,
            last_data_date=last_day,
            as_of=as_of,
            units_seen=units_seen.get(trial.id),
        )
        found[trial.id] = PeriodData(
            inputs=inputs,
            first_day=first_day,
            last_day=last_day,
            days_with_data=with_data,
        )
    return found


def _after_as_of(
    session: Session, ids: Sequence[int], period: Period, as_of: date
) -> dict[tuple[int, Any], dict[str, Any]]:
    """The sums and counts of the days of as-of's month after as-of, by trial and role, when that month is in the
    period: what the monthly rollups hold that as-of leaves out."""
    month = month_of(as_of)
    if as_of == month_end(month) or (period.first_month is not None and period.first_month > month):
        return {}
    d = _daily
    sums = [sa.func.sum(d.c[name]).label(name) for name in ROLLUP_FIELDS]
    counts = [sa.func.sum(d.c[f"n_{name}"]).label(f"n_{name}") for name in ROLLUP_FIELDS]
    query = (
        sa.select(d.c.trial_id, d.c.role, *sums, *counts)
        .where(d.c.trial_id.in_(ids), d.c.day > as_of, d.c.day <= month_end(month))
        .group_by(d.c.trial_id, d.c.role)
    )
    return {(row.trial_id, row.role): dict(row._mapping) for row in session.execute(query)}


def _less(row: dict[str, Any], tail: Mapping[str, Any]) -> dict[str, Any]:
    """A month's sums without the tail's; a field no remaining row carried is None again."""
    kept = dict(row)
    for name in ROLLUP_FIELDS:
        count = int(row[f"n_{name}"] or 0) - int(tail[f"n_{name}"] or 0)
        kept[f"n_{name}"] = count
        kept[name] = None if count == 0 else _float(row[name]) - (_float(tail[name]) or 0.0)  # type: ignore[operator]
    return kept


def _last_day_by(session: Session, trial_id: int, as_of: date) -> date | None:
    """The last day up to as-of that a trial unit's data cover."""
    d = _daily
    query = sa.select(sa.func.max(d.c.day)).where(
        d.c.trial_id == trial_id, d.c.role == UnitRole.trial, d.c.day <= as_of
    )
    found = session.execute(query).scalar_one()
    return None if found is None else _day(found)


def _days_outside(session: Session, trial_id: int, period: Period, window: tuple[date, date]) -> int:
    """Count a trial's covered days in the period but outside its own period so far (data before its start, after
    its end or dated in the future): a few index seeks, run only for the rare trial whose data stray so."""
    d = _daily
    query = sa.select(sa.func.count()).where(
        d.c.trial_id == trial_id,
        d.c.role == UnitRole.trial,
        period.days(d.c.day),
        sa.or_(d.c.day < window[0], d.c.day > window[1]),
    )
    return int(session.execute(query).scalar_one())


#: One month of one role of a trial, as monthly_sums gives it: (month, role, *TOTALS_FIELDS); hashable.
MonthRow = tuple[Any, ...]


def monthly_sums(
    *, session: Session, scope: Scope, trials: Sequence[Trial], period: Period = ALL_TIME
) -> dict[int, tuple[MonthRow, ...]]:
    """Each visible trial's monthly rollup rows in the period, by trial id: the sums a metric needs, as stored."""
    ids = scope.visible_ids(trials)
    if not ids:
        return {}
    r = _monthly
    query = (
        sa.select(r.c.trial_id, r.c.month, r.c.role, *[r.c[name] for name in TOTALS_FIELDS])
        .where(r.c.trial_id.in_(ids), period.months(r.c.month))
        .order_by(r.c.trial_id, r.c.month, r.c.role)
    )
    found: dict[int, list[MonthRow]] = defaultdict(list)
    for trial_id, *row in session.execute(query):
        found[trial_id].append(tuple(row))
    return {trial_id: tuple(rows) for trial_id, rows in found.items()}


def settings_of(trial: Trial, port: Port | None) -> TrialInputs:
    """A trial's metric inputs without any sums: its settings alone, to which each period's sums are added."""
    return inputs_for(trial, port, trial_totals=Totals(), baseline_totals=Totals(), energy_kwh_by_year=YearEnergy())


def _in_year(month: int, amount: float | None) -> YearEnergy:
    """One month's amount of a carrier, by its year (empty when there is none)."""
    return YearEnergy() if amount is None else YearEnergy({month // 100: amount})


def month_inputs(settings: TrialInputs, rows: Iterable[MonthRow]) -> dict[int, TrialInputs]:
    """A trial's metric inputs month by month (without coverage, which daily_rows gives), from its monthly rows."""
    by_month: dict[int, dict[UnitRole, Totals]] = defaultdict(dict)
    for month, role, *values in rows:
        by_month[month][UnitRole(role)] = Totals(*(_float(value) for value in values))
    found = {}
    for month, by_role in sorted(by_month.items()):
        own = by_role.get(UnitRole.trial, Totals())
        found[month] = replace(
            settings,
            trial=own,
            baseline=by_role.get(UnitRole.baseline, Totals()),
            energy_kwh_by_year=_in_year(month, own.energy_kwh),
            hydrogen_kg_by_year=_in_year(month, own.hydrogen_kg),
        )
    return found


def _month_before(month: int) -> int:
    """The month key before a month key."""
    return month - 1 if month % 100 > 1 else (month // 100 - 1) * 100 + 12


def _month_span(session: Session, ids: Sequence[int], period: Period) -> tuple[int, int] | None:
    """The first and last month with trial-unit data of these trials in the period."""
    r = _monthly
    query = sa.select(sa.func.min(r.c.month), sa.func.max(r.c.month)).where(
        r.c.trial_id.in_(ids), r.c.role == UnitRole.trial, period.months(r.c.month)
    )
    first, last = session.execute(query).one()
    return None if first is None else (int(first), int(last))


@dataclass(frozen=True)
class UnitData:
    """One trial unit's inputs over a period: its own sums against its trial's baseline."""

    trial_id: int
    unit: str
    inputs: TrialInputs


def _running_chain(session: Session, bounds: Sequence[int]) -> tuple[sa.FromClause, list[Any]]:
    """The unit table joined to each unit's running totals as of each month bound (its latest row up to it), NULL
    where it has none yet: one index seek per unit and bound.

    Each database gets the form its planner runs as seeks: PostgreSQL a LATERAL subquery (with a correlated
    subquery in the join condition it hashes whole tables), SQLite, which has no LATERAL, outer joins on a
    correlated subquery (inner joins let it scan every month of the trials' units instead)."""
    unit, joined, chain = _unit, _unit, []
    lateral = session.get_bind().dialect.name == "postgresql"
    for index, bound in enumerate(bounds):
        latest = _running.alias(f"latest_{index}")
        own = (latest.c.trial_id == unit.c.trial_id) & (latest.c.unit_id == unit.c.id) & (latest.c.month <= bound)
        if lateral:
            at: Any = sa.select(latest).where(own).order_by(latest.c.month.desc()).limit(1).lateral(f"at_{index}")
            joined = joined.join(at, sa.true(), isouter=True)
        else:
            month = sa.select(sa.func.max(latest.c.month)).where(own).scalar_subquery()
            at = _running.alias(f"at_{index}")
            on = (at.c.trial_id == unit.c.trial_id) & (at.c.unit_id == unit.c.id) & (at.c.month == month)
            joined = joined.join(at, on, isouter=True)
        chain.append(at)
    return joined, chain


def _between(later: Any, earlier: Any | None, name: str) -> ColumnElement[Any]:
    """A field's sum between two running totals (the earlier one None: from the start): NULL when no measurement in
    between carried it (or the later one does not exist), as a SUM of no values is."""
    count = f"n_{name}"
    earlier_count = 0 if earlier is None else sa.func.coalesce(earlier.c[count], 0)
    earlier_sum = 0.0 if earlier is None else sa.func.coalesce(earlier.c[name], 0.0)
    return sa.case(
        (later.c[count].is_(None) | (later.c[count] == earlier_count), sa.null()),
        else_=sa.func.coalesce(later.c[name], 0.0) - earlier_sum,
    )


def _unit_sums(
    session: Session, ids: Sequence[int], period: Period, *, fields: Sequence[str]
) -> tuple[list[int], Sequence[Sequence[Any]]]:
    """Every trial unit with measurements in the period: (trial id, unit name, measurements, the fields' sums, its
    electricity in each year), the years, in one query.

    Each sum is the difference of the unit's running totals at the period's ends, and the electricity of a year the
    difference at that year's ends (for each year's grid factor), taken in SQL: the cost grows with the units, not
    with the months, and only the differences travel."""
    span = _month_span(session, ids, period) if ids else None
    if span is None:
        return [], []
    years = list(range(span[0] // 100, span[1] // 100 + 1))
    unit = _unit
    # Without a first month nothing lies before the period: no running totals to subtract.
    starts = [] if period.first_month is None else [_month_before(span[0])]
    joined, chain = _running_chain(session, [*starts, *(year * 100 + 12 for year in years[:-1]), span[1]])
    chain = chain if starts else [None, *chain]
    before, end = chain[0], chain[-1]
    measurements = end.c.measurements - (0 if before is None else sa.func.coalesce(before.c.measurements, 0))
    query = (
        sa.select(
            end.c.trial_id,
            unit.c.unit_id,
            measurements,
            *[_between(end, before, name) for name in fields],
            *[_between(chain[index + 1], chain[index], "energy_kwh") for index in range(len(years))],
        )
        .select_from(joined)
        .where(unit.c.trial_id.in_(ids), unit.c.role == UnitRole.trial)
    )
    # Units without measurements in the period are dropped here: in the WHERE clause, SQLite would turn the last
    # outer join back into an inner one and scan every month again.
    return years, [row for row in session.execute(query).all() if row[2]]


def rollup_stamps(*, session: Session, scope: Scope, trials: Sequence[Trial]) -> dict[int, int]:
    """The stamp of each visible trial's rollups, by trial id (0 before its first rebuild): part of the key of any
    result remembered across requests."""
    ids = scope.visible_ids(trials)
    found = dict(session.execute(sa.select(_stamp.c.trial_id, _stamp.c.stamp).where(_stamp.c.trial_id.in_(ids))).all())
    return {trial_id: int(found.get(trial_id, 0)) for trial_id in ids}


def units_with_data(*, session: Session, scope: Scope, trials: Sequence[Trial], period: Period) -> dict[int, int]:
    """How many trial units of each visible trial have measurements in the period, by trial id."""
    _years, rows = _unit_sums(session, scope.visible_ids(trials), period, fields=())
    counts: dict[int, int] = defaultdict(int)
    for row in rows:
        counts[row[0]] += 1
    return dict(counts)


def unit_data(
    *, session: Session, scope: Scope, trials: Sequence[Trial], period: Period, baselines: Mapping[int, TrialInputs]
) -> list[UnitData]:
    """Every trial unit's inputs over the period, for the spread of unit-level results; baselines by trial id."""
    years, rows = _unit_sums(session, scope.visible_ids(trials), period, fields=TOTALS_FIELDS)
    unit_fields = {"trial", "energy_kwh_by_year", "days_covered", "days_in_period"}
    settings = {  # each trial's settings, as keyword arguments: dataclasses.replace per unit costs more than the sums
        trial_id: {name: getattr(inputs, name) for name in INPUT_FIELDS if name not in unit_fields}
        for trial_id, inputs in baselines.items()
    }
    sums = slice(3, 3 + len(TOTALS_FIELDS))
    by_year = slice(sums.stop, None)
    found = [
        UnitData(
            row[0],
            row[1],
            TrialInputs(
                **settings[row[0]],
                trial=Totals(*row[sums]),
                energy_kwh_by_year=YearEnergy(
                    (year, kwh) for year, kwh in zip(years, row[by_year], strict=True) if kwh is not None
                ),
                days_covered=0,
                days_in_period=0,
            ),
        )
        for row in rows
    ]
    return sorted(found, key=lambda unit: (unit.trial_id, unit.unit))


@dataclass(frozen=True)
class DayRow:
    """One day of a trial: the role's sums of measurements starting that day (measurements 0: only covered)."""

    day: date
    role: UnitRole
    measurements: int
    sums: dict[str, float | None]


def daily_rows(*, session: Session, scope: Scope, trial: Trial, period: Period = ALL_TIME) -> list[DayRow]:
    """A visible trial's daily rollup rows in the period, by day then role."""
    (trial_id,) = scope.visible_ids([trial])
    d = _daily
    sums = [d.c[name] for name in ROLLUP_FIELDS]
    query = sa.select(d.c.day, d.c.role, d.c.measurements, *sums)
    query = query.where(d.c.trial_id == trial_id, period.days(d.c.day)).order_by(d.c.day, d.c.role)
    return [  # all(): one fetch, not one per row; positions, not names: a year of days is thousands of rows
        DayRow(
            day=day,
            role=UnitRole(role),
            measurements=measurements,
            sums=dict(zip(ROLLUP_FIELDS, map(_float, values), strict=True)),
        )
        for day, role, measurements, *values in session.execute(query).all()
    ]


def trial_unit_counts(*, session: Session, scope: Scope, trials: Sequence[Trial]) -> dict[int, int]:
    """How many trial units (not baseline units) each visible trial has."""
    ids = scope.visible_ids(trials)
    if not ids:
        return {}
    u = _unit
    query = (
        sa.select(u.c.trial_id, sa.func.count())
        .where(u.c.trial_id.in_(ids), u.c.role == UnitRole.trial)
        .group_by(u.c.trial_id)
    )
    return {int(trial_id): int(count) for trial_id, count in session.execute(query)}


@dataclass(frozen=True)
class MeasurementRow:
    """One raw measurement of a trial, with its unit's own id and role: what a figure was made from."""

    unit: str
    role: UnitRole
    row: sa.Row[Any]  # every column of the measurement table, provenance included


def measurement_page(
    *, session: Session, scope: Scope, trial: Trial, period: Period = ALL_TIME, offset: int = 0, limit: int = 50
) -> tuple[list[MeasurementRow], int]:
    """One page of a visible trial's measurements in the period, unit by unit and by date, and how many there are.

    The per-unit counts come from the rollups, so a page is found by walking the natural-key index of one or two
    units, not by sorting every row of the trial."""
    (trial_id,) = scope.visible_ids([trial])
    m, u = _measurement, _unit
    last = period.last_month or month_of(date.max)
    if period.first_month is None:  # nothing before the period: no running totals to subtract
        joined, (end,) = _running_chain(session, [last])
        in_period = end.c.measurements
    else:
        joined, (before, end) = _running_chain(session, [_month_before(period.first_month), last])
        in_period = end.c.measurements - sa.func.coalesce(before.c.measurements, 0)
    query = sa.select(u.c.id, u.c.unit_id, u.c.role, in_period).select_from(joined).where(u.c.trial_id == trial_id)
    # by unit id, as Python orders text; units without rows in the period dropped here, not in SQL (see _unit_sums)
    counts = sorted((row for row in session.execute(query).all() if row[3]), key=lambda row: row[1])
    found: list[MeasurementRow] = []
    skip = offset
    for unit_pk, unit_name, role, count in counts:
        if len(found) >= limit:
            break
        if skip >= count:
            skip -= int(count)
            continue
        rows = (
            sa.select(m)
            .where(m.c.unit_id == unit_pk, period.days(m.c.period_start))
            .order_by(m.c.period_start, m.c.period_end)
            .offset(skip)
            .limit(limit - len(found))
        )
        found.extend(MeasurementRow(unit_name, UnitRole(role), row) for row in session.execute(rows))
        skip = 0
    return found, sum(int(count) for *_key, count in counts)
