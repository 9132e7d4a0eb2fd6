"""Measurements as pieces that each lie in one calendar year: what every sum is made of (METHODOLOGY.md §7.3).

A row spanning a new year (2024-12-25..2025-01-07) is spread evenly over its days, so each year's share takes that
year's factors. Rows within one year, nearly all of them, pass through as they are; the few that cross a new year are
cut there, their numbers shared by days. The rollups and the raw reads sum the same pieces, so they agree.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from trials.models import (
    ENERGY_CARRIERS,
    FLEET_UNIT,
    MEASURED_NUMBERS,
    PAIRING_ACTIVITIES,
    Measurement,
    Trial,
    Unit,
    paired_name,
)

_measurement = Measurement.__table__  # type: ignore[attr-defined]
_unit = Unit.__table__  # type: ignore[attr-defined]
_trial = Trial.__table__  # type: ignore[attr-defined]
#: The years a row may be cut into: wider than any data ZE Trials will hold.
YEARS = range(1970, 2101)


class days_between(FunctionElement[int]):  # noqa: N801 - named as SQL functions are
    """Whole days from one date to a later one, in SQL both databases run."""

    type = sa.Integer()
    inherit_cache = True


@compiles(days_between)
def _days_between(element: days_between, compiler: Any, **kw: Any) -> str:
    """PostgreSQL subtracts dates into days."""
    end, start = list(element.clauses)
    return f"({compiler.process(end, **kw)} - {compiler.process(start, **kw)})"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    """SQLite stores dates as text: julian day numbers subtract."""
    end, start = list(element.clauses)
    return f"CAST(julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}) AS INTEGER)"


class next_new_year(FunctionElement[Any]):  # noqa: N801
    """The first day of the year after a date's."""

    type = sa.Date()
    inherit_cache = True


@compiles(next_new_year)
def _next_new_year(element: next_new_year, compiler: Any, **kw: Any) -> str:
    """PostgreSQL builds the date from the year."""
    (day,) = list(element.clauses)
    return f"make_date(CAST(EXTRACT(YEAR FROM {compiler.process(day, **kw)}) AS INTEGER) + 1, 1, 1)"


@compiles(next_new_year, "sqlite")
def _next_new_year_sqlite(element: next_new_year, compiler: Any, **kw: Any) -> str:
    """SQLite's date modifiers."""
    (day,) = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, 'start of year', '+1 year')"


class new_year_of(FunctionElement[Any]):  # noqa: N801
    """The first day of a year given as a number."""

    type = sa.Date()
    inherit_cache = True


@compiles(new_year_of)
def _new_year_of(element: new_year_of, compiler: Any, **kw: Any) -> str:
    """PostgreSQL builds the date."""
    (year,) = list(element.clauses)
    return f"make_date(CAST({compiler.process(year, **kw)} AS INTEGER), 1, 1)"


@compiles(new_year_of, "sqlite")
def _new_year_of_sqlite(element: new_year_of, compiler: Any, **kw: Any) -> str:
    """SQLite writes the date as its ISO text."""
    (year,) = list(element.clauses)
    return f"printf('%04d-01-01', {compiler.process(year, **kw)})"


def _years() -> sa.CTE:
    """Every year a row may be cut into, counted up in SQL (both databases run a recursive WITH)."""
    first = sa.select(sa.literal(YEARS.start, sa.Integer).label("year")).cte("years", recursive=True)
    following = sa.select((first.c.year + 1).label("year")).where(first.c.year < YEARS.stop - 1)
    return first.union_all(following)


def pieces(where: ColumnElement[bool]) -> sa.Subquery:
    """The measurements matching `where` (on the measurement and unit tables) as pieces within one year each.

    Columns: trial_id, unit_id, role, fleet (a fleet-level row), period_start and period_end (the piece's),
    first (1 for the piece a row starts with, else 0, so rows are counted once) and every measured number (a cut row's
    numbers shared by days)."""
    m, u = _measurement, _unit
    joined = m.join(u, u.c.id == m.c.unit_id)
    keys = [m.c.trial_id, m.c.unit_id, u.c.role, (u.c.unit_id == FLEET_UNIT).label("fleet")]
    crosses = m.c.period_end > next_new_year(m.c.period_start)
    whole = (
        sa.select(
            *keys,
            m.c.period_start,
            m.c.period_end,
            sa.literal(1).label("first"),
            *[m.c[name] for name in MEASURED_NUMBERS],
        )
        .select_from(joined)
        .where(where, sa.not_(crosses))
    )
    # The few rows that cross a new year, found first (OFFSET 0 keeps both databases from merging this query into
    # the join below, which would pair every row with every year before testing whether it crosses), then cut.
    crossing = (
        sa.select(*keys, m.c.period_start, m.c.period_end, *[m.c[name] for name in MEASURED_NUMBERS])
        .select_from(joined)
        .where(where, crosses)
        .offset(0)
        .subquery("crossing")
    )
    c, years = crossing, _years()
    year_start = new_year_of(years.c.year)
    start = sa.case((year_start > c.c.period_start, year_start), else_=c.c.period_start)
    end = sa.case((next_new_year(year_start) < c.c.period_end, next_new_year(year_start)), else_=c.c.period_end)
    share = sa.cast(days_between(end, start), sa.Float) / days_between(c.c.period_end, c.c.period_start)
    cut = sa.select(
        c.c.trial_id,
        c.c.unit_id,
        c.c.role,
        c.c.fleet,
        start.label("period_start"),
        end.label("period_end"),
        sa.case((start == c.c.period_start, 1), else_=0).label("first"),
        *[(c.c[name] * share).label(name) for name in MEASURED_NUMBERS],
    ).select_from(c.join(years, (year_start < c.c.period_end) & (next_new_year(year_start) > c.c.period_start)))
    return sa.union_all(whole, cut).subquery("pieces")


def derived_columns(p: sa.Subquery) -> dict[str, ColumnElement[Any]]:
    """Each rollup sum that is not a stored number, on a piece.

    unit_days: the piece's days times the units it covers, every planned unit for a fleet-level row (§7.4); the
    paired sums: the field where the piece carries the activity and an energy carrier (METHODOLOGY.md §7.2)."""
    planned = sa.select(sa.func.coalesce(_trial.c.units_planned, 1)).where(_trial.c.id == p.c.trial_id)
    units = sa.case((p.c.fleet, planned.scalar_subquery()), else_=1)
    found: dict[str, ColumnElement[Any]] = {"unit_days": days_between(p.c.period_end, p.c.period_start) * units}
    any_carrier = sa.or_(*(p.c[carrier].is_not(None) for carrier in ENERGY_CARRIERS))
    for activity in PAIRING_ACTIVITIES:
        paired = sa.and_(p.c[activity].is_not(None), any_carrier)
        for carrier in (None, *ENERGY_CARRIERS):
            found[paired_name(activity, carrier)] = sa.case((paired, p.c[carrier or activity]), else_=sa.null())
    return found


def piece_column(p: sa.Subquery, name: str) -> ColumnElement[Any]:
    """A rollup field's value on a piece: the measured number, or the derived one."""
    return p.c[name] if name in MEASURED_NUMBERS else derived_columns(p)[name]
