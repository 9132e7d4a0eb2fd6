"""The data behind a chart or table: named columns and rows, shown as a figure and downloadable as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from reports.safe import starts_like_formula


@dataclass(frozen=True)
class Table:
    """Rows of equal length under named columns; None is a missing value, never 0."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def column(self, name: str) -> list[Any]:
        """One column's values, in row order."""
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def numbers(self, name: str) -> npt.NDArray[np.float64]:
        """One numeric column as a float array with NaN for missing values, the form Plotly draws fastest."""
        return np.array([np.nan if value is None else value for value in self.column(name)], dtype=np.float64)

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts by column name, as data grids take them."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def where(self, name: str, value: Any) -> Table:
        """The rows whose column equals a value."""
        index = self.columns.index(name)
        return Table(self.columns, [row for row in self.rows if row[index] == value])

    def distinct(self, name: str) -> list[Any]:
        """A column's values, each once, in first-seen order."""
        return list(dict.fromkeys(self.column(name)))


def _cell(value: Any) -> Any:
    """A CSV cell: empty when missing, and text that a spreadsheet could run as a formula quoted as text."""
    if value is None:
        return ""
    if isinstance(value, str) and starts_like_formula(value):
        return "'" + value
    return value


def to_csv(table: Table, sources: Sequence[str] = ()) -> str:
    """Write a table as CSV with an empty cell for every missing value, then the sources it was made with."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_cell(value) for value in row])
    for source in sources:
        writer.writerow([f"# {source}"])
    return buffer.getvalue()
