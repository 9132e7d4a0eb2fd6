"""The blocks a report sheet is made of: tables, lines of free cells and charts, as plain data for the writer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl.chart._chart import ChartBase

Value = str | int | float | date | datetime | None


@dataclass(frozen=True)
class Styled:
    """A value with a style of its own, for the few cells that differ from their column."""

    value: Value
    style: str


Cell = Value | Styled


@dataclass(frozen=True)
class Column:
    """One column of a table: its header (with the unit, if any), width in characters and cell style."""

    header: str
    width: float = 12
    style: str = ""


@dataclass(frozen=True)
class SheetTable:
    """A header row and its data rows, made an Excel table: a filter button per column, banded rows, a name.

    row_count is promised up front, because the table's range is written before its rows stream in; a stream that
    breaks the promise is a bug and stops the write.
    """

    name: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Cell]]
    row_count: int


@dataclass(frozen=True)
class Line:
    """Free cells on one row (a title, a note, a label and its value); a named line names its second cell.

    A line spanning several columns merges them into one cell for its first value, wrapped; a line with a height
    (in points) is drawn that tall, for text that wraps onto several lines.
    """

    cells: Sequence[Cell] = ()
    name: str | None = None
    span: int = 1
    height: float | None = None


@dataclass(frozen=True)
class Chart:
    """A native chart at column A of its first row, over rows kept for it; it never straddles two pages.

    Lines beside it take its rows from the top, their cells in columns the chart leaves free.
    """

    chart: ChartBase
    rows: int
    beside: Sequence[Line] = ()


Block = Line | SheetTable | Chart


@dataclass(frozen=True)
class Sheet:
    """One worksheet: blocks from the top down, the cell that freezes the panes, and how it prints.

    Every sheet prints landscape, one page wide; one_page fits it on a single page (a cover). A sheet too wide to
    read on one page gives columns_per_page: it prints that many columns a page, its title columns on every page.
    """

    title: str
    blocks: Sequence[Block]
    freeze: str | None = "A2"
    one_page: bool = False
    title_columns: int = 0
    columns_per_page: int = 0


@dataclass(frozen=True)
class Properties:
    """Document properties, shown by File > Info in Excel; custom ones carry the scope and factor set."""

    title: str
    subject: str
    description: str
    keywords: str
    created: datetime
    custom: Mapping[str, str | datetime] = field(default_factory=dict)
