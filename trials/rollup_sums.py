"""Scoped reads of the daily and monthly rollups: a trial's sums over a period, month by month, and day by day.

Nothing after as-of is counted (METHODOLOGY.md §7.3): months after its month are left out, and the days of its month
after it are taken off with the daily rollups. Each read sums only the fields the metrics use; the counts of rows
that carried each field are read only when an as-of tail must be taken off.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlmodel import Session, select

from trials.inputs import YearEnergy, as_float, coverage_window, energy_by_year, inputs_for, reporting_window, totals_of
from trials.metrics import TOTALS_FIELDS, Totals, TrialInputs
from trials.models import DailyRollup, MonthlyRollup, Port, RollupStamp, Trial, Unit, UnitRole
from trials.periods import ALL_TIME, Period, as_date, month_end, month_key, month_of, month_start, months_between
from trials.scope import Scope

_unit = Unit.__table__  # type: ignore[attr-defined]
_daily = DailyRollup.__table__  # type: ignore[attr-defined]
_monthly = MonthlyRollup.__table__  # type: ignore[attr-defined]
_stamp = RollupStamp.__table__  # type: ignore[attr-defined]


@lru_cache(maxsize=16)
def _sum_query(by_month: bool, *, counts: bool, postgres: bool, from_first: bool) -> sa.Select[Any]:
    """Sum the monthly rollups of trials (:ids) from a month (:first_month, if from_first) to a month (:last_month)
    by trial, role and year (or month): the metrics' sums, the days covered and the first and last day with data;
    with the counts of rows behind each sum if asked. Built once per shape: its 60 columns take longer to build than
    the database takes to sum them.

    Floating-point sums depend on the order of their terms, so each is added month after month: PostgreSQL is told
    to (its plan for one trial and for many may read the rows in different orders), SQLite reads them in the order
    of the rollups' key (trial, role, month) whatever the plan. A trial's figures are then the same to the digit
    whichever trials are read with it."""
    r = _monthly

    def total_of(column: Any) -> Any:
        return sa.func.sum(aggregate_order_by(column, r.c.month) if postgres else column)

    bucket = r.c.month.label("month") if by_month else (r.c.month // 100).label("year")
    sums = [total_of(r.c[name]).label(name) for name in TOTALS_FIELDS]
    tallies = [sa.func.sum(r.c[f"n_{name}"]).label(f"n_{name}") for name in TOTALS_FIELDS] if counts else []
    return (
        sa.select(r.c.trial_id, r.c.role, bucket, *sums, *tallies)
        .add_columns(
            sa.func.sum(r.c.days_covered).label("days_covered"),
            sa.func.min(r.c.first_day).label("first_day"),
            sa.func.max(r.c.last_day).label("last_day"),
        )
        .where(
            r.c.trial_id.in_(sa.bindparam("ids", expanding=True)),
            r.c.month >= sa.bindparam("first_month") if from_first else sa.true(),
            r.c.month <= sa.bindparam("last_month"),
        )
        .group_by(r.c.trial_id, r.c.role, bucket)
    )


def _summed(
    session: Session, ids: Sequence[int], period: Period, as_of: date, *, by_month: bool
) -> list[dict[str, Any]]:
    """The monthly rollups of these trials summed by trial, role and year (or month) over the period up to as-of.

    Only data dated after as-of in its own month need taking off: none, nearly always (as-of is today); only then
    are the counts read, to tell a sum that no remaining row carried (None) from one that is 0."""
    cut = period.until(as_of)
    postgres = session.get_bind().dialect.name == "postgresql"
    bounds = {"ids": list(ids), "first_month": cut.first_month, "last_month": cut.last_month}

    def read(counts: bool) -> list[dict[str, Any]]:
        query = _sum_query(by_month, counts=counts, postgres=postgres, from_first=cut.first_month is not None)
        return [dict(row._mapping) for row in session.execute(query, bounds)]

    rows = read(counts=False)
    if not any(row["last_day"] > as_of for row in rows):
        return rows
    tail = _after_as_of(session, ids, cut, as_of)
    if not tail:
        return rows
    rows = read(counts=True)
    bucket, own = ("month", month_of(as_of)) if by_month else ("year", as_of.year)
    return [
        _less(row, tail[key]) if row[bucket] == own and (key := (row["trial_id"], row["role"])) in tail else row
        for row in rows
    ]


def _after_as_of(
    session: Session, ids: Sequence[int], period: Period, as_of: date
) -> dict[tuple[int, Any], dict[str, Any]]:
    """The sums and counts of the days of as-of's month after as-of, by trial and role, when that month is in the
    period: what the monthly rollups hold that as-of leaves out."""
    month = month_of(as_of)
    if as_of == month_end(month) or (period.first_month is not None and period.first_month > month):
        return {}
    d = _daily
    sums = [sa.func.sum(d.c[name]).label(name) for name in TOTALS_FIELDS]
    counts = [sa.func.sum(d.c[f"n_{name}"]).label(f"n_{name}") for name in TOTALS_FIELDS]
    query = (
        sa.select(d.c.trial_id, d.c.role, *sums, *counts)
        .where(d.c.trial_id.in_(ids), d.c.day > as_of, d.c.day <= month_end(month))
        .group_by(d.c.trial_id, d.c.role)
    )
    return {(row.trial_id, row.role): dict(row._mapping) for row in session.execute(query)}


def _less(row: dict[str, Any], tail: Mapping[str, Any]) -> dict[str, Any]:
    """A month's sums without the tail's; a field no remaining row carried is None again."""
    kept = dict(row)
    for name in TOTALS_FIELDS:
        count = int(row[f"n_{name}"] or 0) - int(tail[f"n_{name}"] or 0)
        kept[f"n_{name}"] = count
        kept[name] = None if count == 0 else as_float(row[name]) - (as_float(tail[name]) or 0.0)  # type: ignore[operator]
    return kept


def _last_day_by(session: Session, trial_id: int, as_of: date) -> date | None:
    """The last day up to as-of that a trial unit's data cover."""
    d = _daily
    query = sa.select(sa.func.max(d.c.day)).where(
        d.c.trial_id == trial_id, d.c.role == UnitRole.trial, d.c.day <= as_of
    )
    found = session.execute(query).scalar_one()
    return None if found is None else as_date(found)


def _last_data_day(session: Session, trial_id: int, rows: Sequence[Mapping[str, Any]], as_of: date) -> date | None:
    """The last day up to as-of with trial-unit data, from the trial's summed trial-unit rows."""
    last_day = max((row["last_day"] for row in rows), default=None)
    return _last_day_by(session, trial_id, as_of) if last_day is not None and last_day > as_of else last_day


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


def _ports(session: Session) -> dict[str, Port]:
    """The partner ports by UN/LOCODE, for each trial's grid region."""
    return {port.locode: port for port in session.exec(select(Port))}


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
    """Each visible trial's metric inputs over the period, summed from the monthly rollups by year (for each year's
    factors), nothing after as-of counted. unit_counts: trial_unit_counts', when the caller has them."""
    ids = scope.visible_ids(trials)
    if not ids:
        return {}
    by_trial: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in _summed(session, ids, period, as_of, by_month=False):
        by_trial[row["trial_id"]].append(row)
    ports = _ports(session)
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
        last_day = _last_data_day(session, trial.id, on_trial, as_of)
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
        found[trial.id] = PeriodData(inputs=inputs, first_day=first_day, last_day=last_day, days_with_data=with_data)
    return found


def _in_year(month: int, amount: float | None) -> YearEnergy:
    """One month's amount of a carrier, by its year (empty when there is none)."""
    return YearEnergy() if amount is None else YearEnergy({month // 100: amount})


def _so_far(trial: Trial, as_of: date) -> date:
    """The last day of the trial period so far: its end, or as-of if that comes first."""
    return min(day for day in (trial.end_date, as_of) if day is not None)


def _outside_by_month(
    session: Session, trials: Sequence[Trial], rows: Mapping[int, Sequence[Mapping[str, Any]]], as_of: date
) -> dict[tuple[int, int], int]:
    """Covered days outside each trial's period so far, by trial and month: read only for the rare trials whose data
    lie before their start, after their end, or after as-of in its month."""
    d = _daily
    straying = []
    for trial in trials:
        on_trial = [row for row in rows.get(trial.id or 0, ()) if row["role"] == UnitRole.trial]
        first = min((row["first_day"] for row in on_trial), default=None)
        last = max((row["last_day"] for row in on_trial), default=None)
        if first is not None and last is not None and (first < trial.start_date or last > _so_far(trial, as_of)):
            so_far = _so_far(trial, as_of)
            straying.append((d.c.trial_id == trial.id) & ((d.c.day < trial.start_date) | (d.c.day > so_far)))
    if not straying:
        return {}
    month = month_key(d.c.day)
    query = (
        sa.select(d.c.trial_id, month, sa.func.count())
        .where(d.c.role == UnitRole.trial, sa.or_(*straying))
        .group_by(d.c.trial_id, month)
    )
    return {(int(trial_id), int(key)): int(count) for trial_id, key, count in session.execute(query)}


def month_data(
    *,
    session: Session,
    scope: Scope,
    trials: Sequence[Trial],
    as_of: date,
    period: Period = ALL_TIME,
    data_only: bool = False,
) -> dict[int, dict[int, TrialInputs]]:
    """Each visible trial's metric inputs month by month (by month key), from the monthly rollups: the months with
    data and (unless data_only) those of the trial period so far, within the period and none after as-of's. A month's
    coverage counts its own days of the trial period so far; its settings (last data date, as-of) are the trial's."""
    ids = scope.visible_ids(trials)
    if not ids:
        return {}
    cut = period.until(as_of)
    by_trial: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in _summed(session, ids, period, as_of, by_month=True):
        by_trial[row["trial_id"]].append(row)
    ports = _ports(session)
    units_seen = trial_unit_counts(session=session, scope=scope, trials=trials)
    outside = _outside_by_month(session, trials, by_trial, as_of)
    found: dict[int, dict[int, TrialInputs]] = {}
    for trial in trials:
        assert trial.id is not None
        rows = {(int(row["month"]), UnitRole(row["role"])): row for row in by_trial.get(trial.id, [])}
        on_trial = [row for (_month, role), row in rows.items() if role == UnitRole.trial]
        settings = inputs_for(
            trial,
            ports.get(trial.port_locode),
            trial_totals=Totals(),
            baseline_totals=Totals(),
            energy_kwh_by_year=YearEnergy(),
            last_data_date=_last_data_day(session, trial.id, on_trial, as_of),
            as_of=as_of,
            units_seen=units_seen.get(trial.id),
        )
        so_far = _so_far(trial, as_of)
        months = {month for month, _role in rows}
        if not data_only:
            months |= {m for m in months_between(trial.start_date, so_far) if m >= (cut.first_month or m)}
        by_month: dict[int, TrialInputs] = {}
        for month in sorted(month for month in months if cut.last_month is None or month <= cut.last_month):
            own, baseline = rows.get((month, UnitRole.trial)), rows.get((month, UnitRole.baseline))
            totals = totals_of([own]) if own else Totals()
            first, last = max(trial.start_date, month_start(month)), min(month_end(month), so_far)
            inside = first <= last
            covered = int(own["days_covered"]) - outside.get((trial.id, month), 0) if own and inside else 0
            by_month[month] = replace(
                settings,
                trial=totals,
                baseline=totals_of([baseline]) if baseline else Totals(),
                energy_kwh_by_year=_in_year(month, totals.energy_kwh),
                hydrogen_kg_by_year=_in_year(month, totals.hydrogen_kg),
                days_covered=covered,
                days_in_period=(last - first).days + 1 if inside else 0,
            )
        found[trial.id] = by_month
    return found


def rollup_stamps(*, session: Session, scope: Scope, trials: Sequence[Trial]) -> dict[int, int]:
    """The stamp of each visible trial's rollups, by trial id (0 before its first rebuild): part of the key of any
    result remembered across requests."""
    ids = scope.visible_ids(trials)
    found = dict(session.execute(sa.select(_stamp.c.trial_id, _stamp.c.stamp).where(_stamp.c.trial_id.in_(ids))).all())
    return {trial_id: int(found.get(trial_id, 0)) for trial_id in ids}


@dataclass(frozen=True)
class DayRow:
    """One day of a trial: the role's sums of measurements starting that day (measurements 0: only covered), in
    TOTALS_FIELDS' order, and the one sum no metric uses (charging sessions)."""

    day: date
    role: UnitRole
    measurements: int
    sums: tuple[float | None, ...]
    charging_sessions: float | None

    @property
    def totals(self) -> Totals:
        """The day's sums as a metric takes them."""
        return Totals(*self.sums)


#: Where a DayRow keeps electricity among its sums.
ENERGY_AT = TOTALS_FIELDS.index("energy_kwh")


def daily_rows(*, session: Session, scope: Scope, trial: Trial, period: Period = ALL_TIME) -> list[DayRow]:
    """A visible trial's daily rollup rows in the period, by day then role: the sums the metrics take and charging
    sessions, nothing more (a year of days is thousands of rows)."""
    (trial_id,) = scope.visible_ids([trial])
    d = _daily
    query = sa.select(d.c.day, d.c.role, d.c.measurements, d.c.charging_sessions, *[d.c[n] for n in TOTALS_FIELDS])
    query = query.where(d.c.trial_id == trial_id, period.days(d.c.day)).order_by(d.c.day, d.c.role)
    return [  # all(): one fetch, not one per row; positions, not names
        DayRow(day, UnitRole(role), measurements, tuple(map(as_float, values)), as_float(charging))
        for day, role, measurements, charging, *values in session.execute(query).all()
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
