"""What every cell reader shares: the reason a cell cannot be used, and the cells that only look like values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Protocol, runtime_checkable

from importers.problems import Problem, shown_value

FORMULA_MESSAGE = "formula without a cached value; open the file in Excel, let it calculate, and save it"

#: Cells that mean "no value" in a number, date or choice column.
MISSING = frozenset({"", "-", "--", "–", "—", "n/a", "na", "n.a.", "n.a", "none", "null", "nil", "?", "."})
# Excel's error values as they appear when a sheet is saved as text.
_EXCEL_ERRORS = frozenset(
    {"#n/a", "#div/0!", "#value!", "#ref!", "#name?", "#num!", "#null!", "#spill!", "#calc!", "#getting_data"}
)
_NOT_FINITE = frozenset({"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "∞"})


@runtime_checkable
class FormulaCell(Protocol):
    """A formula cell the reader found without a cached value (importers.raw.FormulaWithoutValue)."""

    formula: str


@dataclass(frozen=True, slots=True)
class Invalid:
    """Why a cell cannot be used, in words a sustainability analyst understands."""

    message: str
    field: str | None = None  # set when a value built from several columns (the period) names the one at fault

    def problem(self, *, file: str, sheet: str | None, row: int | None, column: str | None, value: object) -> Problem:
        """Place this reason in the file, so the analyst can find the cell."""
        return Problem(file, self.message, sheet=sheet, row=row, column=column, value=shown_value(value))


# --- odd cells -------------------------------------------------------------------------------------------------


def unexpected(raw: object, expected: str) -> Invalid:
    """Explain a cell of the wrong type, naming what the column needs."""
    if isinstance(raw, FormulaCell):
        return Invalid(FORMULA_MESSAGE)
    if isinstance(raw, bool):
        return Invalid(f"expected {expected}, found TRUE/FALSE")
    if isinstance(raw, datetime | date):
        return Invalid(f"expected {expected}, found a date")
    if isinstance(raw, time):
        return Invalid(f"expected {expected}, found a time of day")
    return Invalid(f"expected {expected}")


def text_marker(text: str, expected: str) -> Invalid | None:
    """Catch cells that look like values but are not: Excel errors, NaN and infinity written as text."""
    folded = text.casefold()
    if folded in _EXCEL_ERRORS:
        return Invalid(f"the cell shows the Excel error {text}; fix the formula, or leave the cell blank")
    if folded in _NOT_FINITE:
        return Invalid(f"expected {expected}; {text} is not a real value (leave the cell blank if it is unknown)")
    return None
