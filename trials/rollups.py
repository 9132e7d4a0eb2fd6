"""Daily and monthly rollups of measurements and each unit's running totals, rebuilt by the importer: the write side.

Dashboards, pages, the API, the CLI and reports read these small tables (trials/rollup_sums.py, trials/unit_sums.py)
instead of scanning raw measurements: one row per trial, role and day (or month), and per unit and month.
`refresh_rollups` rebuilds a set of trials' rows inside the caller's transaction, so an import (or its undo) and
its rollups land together or not at all.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from trials.models import (
    MEASURED_NUMBERS,
    PAIRED_NUMBERS,
    PERIOD_NUMBERS,
    DailyRollup,
    Measurement,
    MonthlyRollup,
    RollupStamp,
    Trial,
    UnitRunningTotal,
)
from trials.periods import as_date, month_key
from trials.pieces import derived_columns, pieces

#: Every measured number the rollups sum, with a count of the rows that carried it, then the paired sums.
ROLLUP_FIELDS: tuple[str, ...] = MEASURED_NUMBERS + PERIOD_NUMBERS + PAIRED_NUMBERS
#: Trials rebuilt per statement: keeps IN lists well inside every database's bound-parameter limit.
CHUNK_TRIALS = 500

_measurement = Measurement.__table__  # type: ignore[attr-defined]
_daily = DailyRollup.__table__  # type: ignore[attr-defined]
_monthly = MonthlyRollup.__table__  # type: ignore[attr-defined]
_running = UnitRunningTotal.__table__  # type: ignore[attr-defined]
_trial = Trial.__table__  # type: ignore[attr-defined]
_stamp = RollupStamp.__table__  # type: ignore[attr-defined]


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
#: The trials a rebuild reads, bound when it runs: the rebuild's three statements are built once per process, since
#: building their hundreds of sums cost more than running them on a trial or two (an import of a small file, a test).
_IDS: sa.BindParameter[list[int]] = sa.bindparam("ids", expanding=True)


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
        connection.execute(_monthly_insert(), {"ids": chunk})
        connection.execute(_running_totals_insert(), {"ids": chunk})


@cache
def _daily_sums() -> sa.Select[Any]:
    """The trials' measurement pieces summed by trial, role and start day, with each group's latest end."""
    p = pieces(_measurement.c.trial_id.in_(_IDS))
    return sa.select(
        p.c.trial_id,
        p.c.role,
        p.c.period_start,
        sa.func.max(p.c.period_end),
        sa.func.sum(p.c.first),
        *_sums(p, derived=derived_columns(p)),
    ).group_by(p.c.trial_id, p.c.role, p.c.period_start)


def _insert_daily(connection: sa.Connection, ids: list[int]) -> None:
    """One row per trial, role and start day with its sums, then a row for every further day a period covers.

    Pieces that start on the same day are nested ranges, so the days they cover are those up to the group's latest
    end: one grouped read of the measurement pieces gives the sums and the days alike."""
    columns = ["trial_id", "role", "day", "measurements", *_SUM_COLUMNS]
    days: list[dict[str, Any]] = []
    further: set[tuple[int, Any, date]] = set()
    for trial_id, role, start, end, *sums in connection.execute(_daily_sums(), {"ids": ids}).all():
        days.append(dict(zip(columns, (trial_id, role, as_date(start), *sums), strict=True)))
        start, end = as_date(start), as_date(end)
        further.update((trial_id, role, start + timedelta(days=offset)) for offset in range(1, (end - start).days))
    further -= {(day["trial_id"], day["role"], day["day"]) for day in days}
    empty = {name: 0 if name.startswith("n_") else None for name in _SUM_COLUMNS}
    days.extend({"trial_id": t, "role": r, "day": d, "measurements": 0, **empty} for t, r, d in sorted(further))
    if days:
        connection.execute(sa.insert(_daily), days)


@cache
def _monthly_insert() -> sa.Insert:
    """Sum the trials' daily rows by month: every daily row is a day covered."""
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
        .where(d.c.trial_id.in_(_IDS))
        .group_by(d.c.trial_id, d.c.role, month)
    )
    columns = ["trial_id", "role", "month", "measurements", *_SUM_COLUMNS, "days_covered", "first_day", "last_day"]
    return sa.insert(_monthly).from_select(columns, grouped)


@cache
def _running_totals_insert() -> sa.Insert:
    """Sum each of the trials' units' measurement pieces by month of their start, then add them up month after
    month."""
    p = pieces(_measurement.c.trial_id.in_(_IDS))
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
    return sa.insert(_running).from_select(columns, running)
