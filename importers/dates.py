"""Read dates, months and times of day in every form operators write them, refusing to guess an ambiguous one."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from importers.cells import MISSING, Invalid, text_marker, unexpected
from trials.periods import next_month_start


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A whole calendar month, the period of a monthly report row."""

    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> Month:
        """Name the month a day falls in, because a monthly column may hold any day of it."""
        return cls(day.year, day.month)

    @property
    def start(self) -> date:
        """Give the first day, the inclusive start of the month."""
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        """Give the first day of the next month, the exclusive end."""
        return next_month_start(self.start)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


# --- dates -----------------------------------------------------------------------------------------------------

_EPOCH_1900 = date(1899, 12, 30)  # serial 61 is 1900-03-01 counted from here (Excel keeps Lotus's 1900-02-29)
_EPOCH_1904 = date(1904, 1, 1)
_MONTH_WORDS: tuple[tuple[str, ...], ...] = (
    ("january", "jan"),
    ("february", "feb"),
    ("march", "mar"),
    ("april", "apr"),
    ("may",),
    ("june", "jun"),
    ("july", "jul"),
    ("august", "aug"),
    ("september", "sep", "sept"),
    ("october", "oct"),
    ("november", "nov"),
    ("december", "dec"),
)
_MONTH_NAMES: dict[str, int] = {name: number for number, names in enumerate(_MONTH_WORDS, 1) for name in names}
_MONTH_TITLES: tuple[str, ...] = ("", *(names[0].capitalize() for names in _MONTH_WORDS))
_IGNORED_WORDS = frozenset(
    {"st", "nd", "rd", "th", "of", "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"}
    | {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
)
_ISO_RE = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"  # the date, then perhaps a time and a UTC offset, which are dropped
    r"(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?\s*(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
)
_TIME_SUFFIX_RE = re.compile(
    r"[T ]+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?\s*(?:[ap]\.?m\.?)?\s*$", re.IGNORECASE
)
_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?\s*([ap])?\.?m?\.?", re.IGNORECASE)
#: Dates as Japanese and Chinese write them, perhaps with the weekday after: '2024年3月1日(金)', '2024年3月'.
_EAST_ASIAN_RE = re.compile(r"([0-9]{4})\s*年\s*([0-9]{1,2})\s*月(?:\s*([0-9]{1,2})\s*日)?(?:\s*\([^)]{1,3}\))?")
#: A dotted date with a 4-digit year is day.month.year: no country writes month.day.year with dots.
_DOTTED_RE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")
_SERIAL_TEXT_RE = re.compile(r"[0-9]{1,7}(?:\.[0-9]+)?")
_MIN_YEAR = 1900


def _make_date(year: int, month: int, day: int) -> date | Invalid:
    """Build a date, saying plainly when the calendar has no such day."""
    if year < _MIN_YEAR:
        return Invalid(f"the year {year} is before 1900; write the date as 2024-03-05")
    try:
        return date(year, month, day)
    except ValueError:
        if 1 <= month <= 12:
            return Invalid(f"there is no day {day} in {_MONTH_TITLES[month]} {year}")
        return Invalid(f"there is no month {month}; write the date as 2024-03-05")


def date_from_serial(serial: float, *, date1904: bool) -> date | Invalid:
    """Turn an Excel date serial into a date, in the workbook's 1900 or 1904 date system."""
    serial = float(serial)  # an int cell, too
    shown = f"{serial:.0f}" if serial.is_integer() else f"{serial}"
    if not math.isfinite(serial):
        return Invalid("expected a date; this is not a number of days")
    if serial.is_integer() and 1900 <= serial <= 2100:
        return Invalid(f"{shown} looks like a year; a date needs a day and a month too, e.g. 2024-03-05")
    days = math.floor(serial)
    epoch = _EPOCH_1904 if date1904 else _EPOCH_1900
    if days < (0 if date1904 else 1):
        return Invalid(f"date serial {shown} is before {'1904' if date1904 else '1900'}")
    if days > (date.max - epoch).days:
        return Invalid(f"date serial {shown} is beyond the year 9999")
    if not date1904 and days == 60:
        return Invalid("date serial 60 is 29 February 1900, a day that never existed (an Excel quirk)")
    if not date1904 and days < 60:
        days += 1  # before Excel's phantom 1900-02-29 the serials run one day behind
    return epoch + timedelta(days=days)


def _day_month(a: int, b: int, year: int, day_first: bool | None) -> date | Invalid:
    """Read 'a/b/year' as day/month or month/day, refusing to guess when both readings are real dates."""
    may_be_day_first, may_be_month_first = 1 <= b <= 12, 1 <= a <= 12
    if may_be_day_first and may_be_month_first and a != b:
        if day_first is None:
            return Invalid(
                f"ambiguous date: {a} {_MONTH_TITLES[b]} or {b} {_MONTH_TITLES[a]}? write it as "
                f"{year:04d}-{b:02d}-{a:02d}, or state the order (for example a header 'Date (dd/mm/yyyy)')"
            )
        return _make_date(year, b, a) if day_first else _make_date(year, a, b)
    if day_first is True and not may_be_day_first:
        return Invalid(f"{a}/{b}/{year} does not fit the day/month/year order stated for this file")
    if day_first is False and not may_be_month_first:
        return Invalid(f"{a}/{b}/{year} does not fit the month/day/year order stated for this file")
    return _make_date(year, b, a) if may_be_day_first else _make_date(year, a, b)


def _year(token: str) -> int:
    """Read a year, taking two digits as this century (every zero-emission pilot is)."""
    return int(token) + (2000 if len(token) == 2 else 0)


def _named_month_date(tokens: list[str], month: int, numbers: list[str]) -> date | Month | Invalid:
    """Read dates with a month name: '5 Mar 2024', 'March 5, 2024', '05-Mar-24', 'Mar 2024'."""
    if len(numbers) == 1 and len(numbers[0]) == 4:
        return Month(int(numbers[0]), month)
    if len(numbers) == 2:
        years = [n for n in numbers if len(n) == 4]
        if len(years) == 1:
            day = numbers[1] if len(numbers[0]) == 4 else numbers[0]
            return _make_date(int(years[0]), month, int(day))
        if not years and tokens[0] == numbers[0] and tokens[-1] == numbers[1] and len(numbers[1]) == 2:
            return _make_date(_year(numbers[1]), month, int(numbers[0]))  # Excel's d-mmm-yy
    return Invalid("expected a date such as 2024-03-05 or 5 Mar 2024")


def _numeric_date(numbers: list[str], day_first: bool | None) -> date | Month | Invalid:
    """Read dates written in digits: '2024/03/05', '15/03/2024', '03/2024', '20240305'."""
    lengths = [len(n) for n in numbers]
    if lengths == [8]:
        return _make_date(int(numbers[0][:4]), int(numbers[0][4:6]), int(numbers[0][6:]))
    if len(numbers) == 2 and sorted(lengths)[1] == 4 and min(lengths) <= 2:
        year, month = (numbers[0], numbers[1]) if lengths[0] == 4 else (numbers[1], numbers[0])
        return Month(int(year), int(month)) if 1 <= int(month) <= 12 else Invalid(f"there is no month {int(month)}")
    if len(numbers) == 3 and lengths[0] == 4 and max(lengths[1:]) <= 2:
        return _make_date(int(numbers[0]), int(numbers[1]), int(numbers[2]))
    if len(numbers) == 3 and lengths[2] in (2, 4) and max(lengths[:2]) <= 2:
        return _day_month(int(numbers[0]), int(numbers[1]), _year(numbers[2]), day_first)
    return Invalid("expected a date such as 2024-03-05")


def _date_from_text(text: str, date1904: bool, day_first: bool | None) -> date | Month | Invalid | None:
    """Read a date or month written as text, in any unambiguous form people use."""
    if text.casefold() in MISSING:
        return None
    marker = text_marker(text, "a date")
    if marker is not None:
        return marker
    if not text.isascii():  # full-width digits and separators: '２０２４／０３／０１'
        text = unicodedata.normalize("NFKC", text).strip()
    iso = _ISO_RE.fullmatch(text)
    if iso:
        return _make_date(int(iso[1]), int(iso[2]), int(iso[3]))
    if _SERIAL_TEXT_RE.fullmatch(text):
        return date_from_serial(float(text), date1904=date1904)
    bare = _TIME_SUFFIX_RE.sub("", text)
    east_asian = _EAST_ASIAN_RE.fullmatch(bare)
    if east_asian:  # '2024年3月1日', '2024年3月' (a month): year first, never ambiguous
        year, month, day = east_asian.groups()
        return _make_date(int(year), int(month), int(day)) if day else _numeric_date([year, month], day_first)
    dotted = _DOTTED_RE.fullmatch(bare)
    if dotted:  # '1.3.2024' is 1 March wherever dots separate a date with a 4-digit year (Denmark, Sweden, Indonesia)
        if int(dotted[2]) > 12:
            return Invalid(f"a date written with dots is day.month.year, and there is no month {int(dotted[2])}")
        return _make_date(int(dotted[3]), int(dotted[2]), int(dotted[1]))
    words = re.findall(r"[a-z]+|[0-9]+", bare.casefold())
    tokens = [t for t in words if t not in _IGNORED_WORDS]
    numbers = [t for t in tokens if t.isdigit()]
    names = [t for t in tokens if not t.isdigit()]
    if len(names) == 1 and names[0] in _MONTH_NAMES:
        return _named_month_date(tokens, _MONTH_NAMES[names[0]], numbers)
    if not names and numbers:
        return _numeric_date(numbers, day_first)
    return Invalid("expected a date such as 2024-03-05")


def _any_date(raw: object, date1904: bool, day_first: bool | None) -> date | Month | Invalid | None:
    """Read a date cell of any type: a real date, text, or an Excel serial number."""
    kind = type(raw)
    if kind is date:
        assert isinstance(raw, date)
        return raw
    if kind is datetime:
        assert isinstance(raw, datetime)
        return raw.date()
    if raw is None:
        return None
    if isinstance(raw, str):
        return _date_from_text(raw.strip(), date1904, day_first)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return date_from_serial(float(raw), date1904=date1904)
    return unexpected(raw, "a date")


def parse_date(raw: object, *, date1904: bool = False, day_first: bool | None = None) -> date | Invalid | None:
    """Read a single day (a trial's start or end), from a date cell, text, or an Excel serial."""
    value = _any_date(raw, date1904, day_first)
    if isinstance(value, Month):
        return Invalid(f"expected a day, not a whole month; write the day, e.g. {value.start.isoformat()}")
    return value


def parse_period(
    raw: object, *, date1904: bool = False, day_first: bool | None = None, monthly: bool = False
) -> date | Month | Invalid | None:
    """Read a measurement's period cell: a day, or a month; in a monthly column any day stands for its month."""
    value = _any_date(raw, date1904, day_first)
    return Month.of(value) if monthly and type(value) is date else value


def parse_bound(raw: object, *, date1904: bool = False, day_first: bool | None = None) -> date | time | Invalid | None:
    """Read a Start or End cell: a date, or a shift's time of day when a Date column gives the day."""
    if type(raw) is time:
        assert isinstance(raw, time)
        return raw
    if isinstance(raw, str):
        clock = _TIME_RE.fullmatch(raw.strip())
        if clock:
            hour = int(clock[1])
            if clock[4]:  # 12-hour clock: 12 am is midnight, 12 pm is noon
                hour = hour % 12 + (12 if clock[4].lower() == "p" else 0)
            if hour > 23 or int(clock[2]) > 59:
                return Invalid("expected a time of day such as 06:30")
            return time(hour, int(clock[2]), int(clock[3] or 0))
    return parse_date(raw, date1904=date1904, day_first=day_first)


_LAST_MONTH = Month(date.max.year, date.max.month)
_PLACEHOLDER = "9999-12-31 is a placeholder, not a day of operation (no period can end after it); write the real date"


def resolve_period(
    period: date | Month | None, start: date | time | None, end: date | time | None
) -> tuple[date, date] | Invalid:
    """Give a row's period as [start, end) with an exclusive end.

    A day D is [D, D+1); a month is the whole month. Start and End are calendar dates as people write them,
    both inclusive, so the period is [Start, End + 1 day); times of day in them are ignored. When Start and End
    hold only times of day (a shift log), the Date column gives the day. Start/End win over a Date or Month.
    """
    start_day = start if isinstance(start, date) else None
    end_day = end if isinstance(end, date) else None
    if start_day is not None and end_day is not None:
        if end_day < start_day:
            return Invalid(f"the end date {end_day} is before the start date {start_day}", field="period_end")
        if end_day == date.max:
            return Invalid(_PLACEHOLDER, field="period_end")
        return start_day, end_day + timedelta(days=1)
    if start_day is not None and period is None:
        return Invalid("a start date without an end date; give the end date too", field="period_end")
    if end_day is not None and period is None:
        return Invalid("an end date without a start date; give the start date too", field="period_start")
    if period == _LAST_MONTH or period == date.max:
        return Invalid(_PLACEHOLDER, field="period")
    if isinstance(period, Month):
        return period.start, period.end
    if period is not None:
        return period, period + timedelta(days=1)
    if start is not None or end is not None:
        return Invalid("a time of day without a date; add a 'Date' column or write full dates", field="period")
    return Invalid("no period: each row needs a date, a month, or start and end dates", field="period")


# --- date orders stated in headers ----------------------------------------------------------------------------

_DATE_ORDER_RE = re.compile(r"[dmy]+(?:[-/. ][dmy]+)+")


def is_month_order(text: str) -> bool:
    """Tell whether bracket text states a month format such as 'yyyy-mm' or 'mm/yyyy'."""
    folded = text.casefold()
    return _DATE_ORDER_RE.fullmatch(folded) is not None and "d" not in folded


def stated_day_first(brackets: tuple[str, ...]) -> bool | None:
    """Read a date order stated in a header, e.g. 'Date (dd/mm/yyyy)' is day first."""
    for text in brackets:
        folded = text.casefold()
        if _DATE_ORDER_RE.fullmatch(folded) and "d" in folded and "m" in folded:
            return folded.index("d") < folded.index("m")
    return None
