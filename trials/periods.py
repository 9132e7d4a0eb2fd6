"""Months and periods: month keys (year * 100 + month), their first and last days, and the buckets of a time series.

Every read of trial data names its months through here, so a month means the same thing in the rollups, the
results, the importer and the dashboards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

#: How a time series groups its days.
Grain = Literal["day", "week", "month"]


def as_date(value: date | str) -> date:
    """A date read back from SQL as a date: SQLite gives computed dates (a union's, a MAX's) as their ISO text."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def month_key(column: Any) -> ColumnElement[int]:
    """A date column's month as year * 100 + month, in SQL both SQLite and PostgreSQL run."""
    return sa.cast(sa.extract("year", column) * 100 + sa.extract("month", column), sa.Integer)


def month_of(day: date) -> int:
    """A date's month as year * 100 + month, the key the monthly rollups use."""
    return day.year * 100 + day.month


def month_start(month: int) -> date:
    """The first day of a month key."""
    return date(month // 100, month % 100, 1)


def next_month_start(day: date) -> date:
    """The first day of the month after a day's: the exclusive end of its month."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_end(month: int) -> date:
    """The last day of a month key."""
    return next_month_start(month_start(month)) - timedelta(days=1)


def month_before(month: int) -> int:
    """The month key before a month key."""
    return month - 1 if month % 100 > 1 else (month // 100 - 1) * 100 + 12


def month_text(month: int) -> str:
    """Write a month key as people and spreadsheets read it: 202503 as '2025-03'."""
    return f"{month // 100:04d}-{month % 100:02d}"


def months_between(first: date, last: date) -> list[int]:
    """Every month key from a day's month to another's, both included (none when last is before first)."""
    found = []
    day = first.replace(day=1)
    while day <= last:
        found.append(month_of(day))
        day = next_month_start(day)
    return found


def bucket_start(day: date, grain: Grain) -> date:
    """The first day of the day, ISO week or month a day falls in."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def bucket_end(start: date, grain: Grain) -> date:
    """The last day of the bucket that starts on a day."""
    if grain == "week":
        return start + timedelta(days=6)
    if grain == "month":
        return next_month_start(start) - timedelta(days=1)
    return start


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

    def until(self, as_of: date) -> Period:
        """The period with nothing after as-of's month: what the rollups read before taking off as-of's tail."""
        return Period(self.first_month, min(self.last_month or month_of(as_of), month_of(as_of)))

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
