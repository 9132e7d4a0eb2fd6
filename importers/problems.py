"""Problems are data: every bad cell or file becomes one, and an import never stops at the first."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input file, located as precisely as the file allows."""

    file: str
    message: str
    sheet: str | None = None
    row: int | None = None  # 1-based row number as the spreadsheet program shows it
    column: str | None = None  # the header text as written in the file, else the column letter
    value: str | None = None  # the offending value, as text, shortened to 200 characters

    def as_dict(self) -> dict[str, Any]:
        """Give the JSON shape used by `zetrials import --json` and the API."""
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                self.file,
                f"sheet {self.sheet!r}" if self.sheet else "",
                f"row {self.row}" if self.row else "",
                f"column {self.column!r}" if self.column else "",
            )
            if part
        )
        shown = f" (value {self.value!r})" if self.value is not None else ""
        return f"{where}: {self.message}{shown}"


def shown_value(value: object) -> str | None:
    """Render a cell value for a problem report, bounded so a huge cell cannot bloat the report."""
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


#: How many rows and distinct values one grouped line names before saying "and N more".
ROWS_SHOWN = 10
VALUES_SHOWN = 5
#: Messages that name their own cell's details, worded once for the whole group so like problems fall together.
_GENERAL_WORDING = (
    (
        re.compile(r"^ambiguous date: .*"),
        "ambiguous date: each could be read day first or month first (03/04/2024 is 3 April or 4 March)",
    ),
    (re.compile(r"^the same unit and period as row \d+;"), "the same unit and period as an earlier row;"),
    (re.compile(r"^-?[\d,.]+ is more than 10 times"), "the value is more than 10 times"),
)
#: How to state the order of text dates where the file itself does not; the web and the CLI say it their own way.
DATE_ORDER_ADVICE = "state the order of the dates, for example with a header 'Date (dd/mm/yyyy)'"

#: Gives a known value close to what a problem's cell held ("did you mean ...?"), or None.
Suggest = Callable[[str, str], str | None]


@dataclass(frozen=True, slots=True)
class ProblemGroup:
    """Every problem of one kind in one column of one sheet, as one line: how many, the first rows, the values."""

    file: str
    sheet: str | None
    column: str | None
    message: str
    count: int
    rows: tuple[int, ...]  # the first ROWS_SHOWN rows, in file order
    more_rows: int
    values: tuple[str, ...]  # the first VALUES_SHOWN distinct values, in file order
    more_values: int
    suggestions: tuple[tuple[str, str], ...] = ()  # (value as written, a known value close to it)
    advice: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Give the JSON shape of `problem_groups` in `zetrials import --json` and the API."""
        return {
            "sheet": self.sheet,
            "column": self.column,
            "message": self.message,
            "count": self.count,
            "rows": list(self.rows),
            "more_rows": self.more_rows,
            "values": list(self.values),
            "more_values": self.more_values,
            "suggestions": [{"value": value, "suggestion": known} for value, known in self.suggestions],
            "advice": self.advice,
        }

    @property
    def where(self) -> str:
        """The file, sheet and column the group is in."""
        parts = (
            self.file,
            f"sheet {self.sheet!r}" if self.sheet else "",
            f"column {self.column!r}" if self.column else "",
        )
        return ", ".join(part for part in parts if part)

    @property
    def rows_text(self) -> str:
        """'row 4', or 'rows 4, 5, 6 and 697 more' (empty for a problem of the whole file)."""
        if not self.rows:
            return ""
        shown = ", ".join(str(row) for row in self.rows)
        more = f" and {self.more_rows:,} more" if self.more_rows else ""
        return f"{'row' if self.count == 1 else 'rows'} {shown}{more}"

    @property
    def values_text(self) -> str:
        """The distinct values with any suggestions: "'Trail' (did you mean trial?), 'x' and 3 more"."""
        suggested = dict(self.suggestions)
        shown = ", ".join(
            f"{value!r} (did you mean {suggested[value]}?)" if value in suggested else repr(value)
            for value in self.values
        )
        return shown + (f" and {self.more_values:,} more" if self.more_values else "")

    def __str__(self) -> str:
        count = f"{self.count:,} problem{'' if self.count == 1 else 's'}"
        one_value = len(self.values) == 1 and not self.more_values
        values = self.values_text and f"{'value' if one_value else 'values'} {self.values_text}"
        details = "; ".join(part for part in (count, self.rows_text, values) if part)
        advice = f" To fix: {self.advice}." if self.advice else ""
        return f"{self.where}: {self.message} ({details}).{advice}"


def general_wording(message: str) -> str:
    """Word a message the same way for every cell it is about, so like problems group together."""
    for pattern, wording in _GENERAL_WORDING:
        if pattern.match(message):
            return pattern.sub(wording, message, count=1)
    return message


def group_problems(
    problems: Iterable[Problem], *, suggest: Suggest | None = None, date_order: str = DATE_ORDER_ADVICE
) -> list[ProblemGroup]:
    """Fold problems into one group per (sheet, column, message), in the order each first appears."""
    found: dict[tuple[str, str | None, str | None, str], list[Problem]] = {}
    for problem in problems:
        found.setdefault((problem.file, problem.sheet, problem.column, general_wording(problem.message)), []).append(
            problem
        )
    groups = []
    for (file, sheet, column, message), members in found.items():
        rows = list(dict.fromkeys(problem.row for problem in members if problem.row is not None))
        values = list(dict.fromkeys(problem.value for problem in members if problem.value is not None))
        shown = values[:VALUES_SHOWN]
        suggestions = tuple(
            (value, known)
            for value, known in ((value, suggest(members[0].message, value) if suggest else None) for value in shown)
            if known is not None
        )
        groups.append(
            ProblemGroup(
                file=file,
                sheet=sheet,
                column=column,
                message=message,
                count=len(members),
                rows=tuple(rows[:ROWS_SHOWN]),
                more_rows=max(len(rows) - ROWS_SHOWN, 0),
                values=tuple(shown),
                more_values=len(values) - len(shown),
                suggestions=suggestions,
                advice=date_order if message.startswith("ambiguous date") else None,
            )
        )
    return groups
