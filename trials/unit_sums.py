"""Scoped reads of each unit's running totals: per-unit figures over a period, and pages of a trial's measurements.

A unit's sums over any months are the difference of its running totals at the months' ends, so the cost grows with
the units, not with the months or the rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from trials.inputs import YearEnergy
from trials.metrics import TOTALS_FIELDS, Totals, TrialInputs
from trials.models import Measurement, MonthlyRollup, Trial, Unit, UnitRole, UnitRunningTotal
from trials.periods import ALL_TIME, Period, month_before, month_of
from trials.scope import Scope

#: Every field of a trial's metric inputs.
INPUT_FIELDS: tuple[str, ...] = tuple(item.name for item in fields(TrialInputs))

_measurement = Measurement.__table__  # type: ignore[attr-defined]
_unit = Unit.__table__  # type: ignore[attr-defined]
_monthly = MonthlyRollup.__table__  # type: ignore[attr-defined]
_running = UnitRunningTotal.__table__  # type: ignore[attr-defined]


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
    starts = [] if period.first_month is None else [month_before(span[0])]
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
        joined, (before, end) = _running_chain(session, [month_before(period.first_month), last])
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
