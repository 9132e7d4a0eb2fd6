"""What every reader hands the importer: sheets of rows of plain Python values, or the problems that stop a file;
and what the readers share to get there (the size they stream in, how they refuse a file and say why)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time

from importers.problems import Problem
from importers.sniff import Limits

CHUNK_BYTES = 256 * 1024  # how much of a file or zip part a reader takes at a time
MAX_SMALL_PART_BYTES = 64 * 1024 * 1024  # workbook, relationships and styles of real workbooks stay far below this


class FormulaWithoutValue:
    """A formula cell saved with no cached result (written by a program that does not calculate).

    The value layer reports it as "formula without a cached value; open and save the file in Excel".
    `formula` is the formula text as stored (without "="); it is "" for a cell that shares another's formula.
    """

    __slots__ = ("formula",)

    def __init__(self, formula: str) -> None:
        self.formula = formula

    def __repr__(self) -> str:
        return f"FormulaWithoutValue({self.formula!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FormulaWithoutValue) and other.formula == self.formula

    def __hash__(self) -> int:
        return hash(self.formula)


Cell = None | str | int | float | bool | date | datetime | time | FormulaWithoutValue
Row = tuple[int, tuple[Cell, ...]]


@dataclass
class RawSheet:
    """One sheet's rows as (1-based row number as the file numbers it, cell values from column A).

    Rows stream lazily from the file, which must stay in place until they are read, and may be iterated once;
    rows with no value at all are skipped. Values are None, str, int, float, bool, date, datetime (naive, UTC
    when the file says), time, or FormulaWithoutValue; durations and serials no date can hold stay numbers.
    """

    name: str
    rows: Iterator[Row]


class UnreadableSheet(Exception):
    """Raised from a sheet's rows when the sheet turns out unreadable part-way; whoever read rows from it must
    discard them (the importer rolls its transaction back)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class RawWorkbook:
    """All sheets of one file in workbook order, or the file-level problems that stop it being read."""

    filename: str
    kind: str  # "xlsx", "xls", "xlsb", "ods" or "csv"; "unknown" when sniffing refused the file
    sheets: list[RawSheet]
    problems: list[Problem]
    csv_decimal_comma: bool = False  # a ';'-delimited csv writes 1.234,5 for 1234.5
    date1904: bool = False  # date-formatted cells are converted already; this is for serials in General cells


_ILLEGAL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def stripped_text(text: str) -> str | None:
    """Drop characters XML forbids and surrounding blanks, so text compares and stores cleanly; None if nothing is
    left."""
    cleaned = _ILLEGAL_CHARS.sub("", text).strip()
    return cleaned or None


class Refused(Exception):
    """The file or one of its sheets cannot be read; carries the message and the sheet, and pickles whole (a worker
    process sends it to the reader that started it)."""

    def __init__(self, message: str, sheet: str | None = None) -> None:
        super().__init__(message, sheet)
        self.message = message
        self.sheet = sheet


def column_letters(index: int) -> str:
    """Give the spreadsheet letters of a 1-based column number (1 -> A, 27 -> AA)."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def too_many_rows(limits: Limits) -> str:
    """Say that a sheet has more rows than are read."""
    return f"the sheet has more than the {limits.max_rows:,} rows accepted; split it"


def beyond_last_column(reference: str, limits: Limits) -> str:
    """Say that a sheet has a cell to the right of the last column read."""
    last = column_letters(limits.max_columns)
    return (
        f"the sheet has a cell at {reference}, beyond column {last} (at most {limits.max_columns} columns are "
        f"read); delete the cells to the right of column {last}"
    )
