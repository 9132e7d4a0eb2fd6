"""What every reader hands the importer: sheets of rows of plain Python values, or the problems that stop a file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time

from importers.problems import Problem


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
_OOXML_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")


def clean_text(text: str) -> str | None:
    """Drop characters XML forbids and surrounding blanks, so text compares and stores cleanly."""
    cleaned = _ILLEGAL_CHARS.sub("", text).strip()
    return cleaned or None
