"""Where a sheet's blocks go: their rows from the top down, column widths, and row heights for printing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl.utils import get_column_letter

from reports import print_setup
from reports.blocks import Block, Chart, Column, Line, Sheet, SheetTable, Styled
from reports.print_setup import LINE_POINTS, Band


@dataclass(frozen=True)
class Placed:
    """A block with the row it starts on."""

    row: int
    block: Block


def rows_of(block: Block) -> int:
    """How many rows a block takes."""
    if isinstance(block, SheetTable):
        return 1 + max(block.row_count, 1)  # a table keeps one (empty) data row, as Excel does
    return max(block.rows, len(block.beside)) if isinstance(block, Chart) else 1


def columns_of(block: Block) -> int:
    """How many columns a block takes."""
    if isinstance(block, SheetTable):
        return len(block.columns)
    if isinstance(block, Chart):
        return max((len(line.cells) for line in block.beside), default=1)
    return max(len(block.cells), block.span)


def first_data_row(blocks: Sequence[Block], table: SheetTable) -> int:
    """The row a table's first data row lands on when these blocks are laid out from row 1, for a chart of it."""
    return 2 + sum(rows_of(block) for block in blocks[: list(blocks).index(table)])


def place(sheet: Sheet) -> tuple[list[Placed], int, int]:
    """Lay the blocks out from row 1 down; give them with their rows, the last row and the widest column count."""
    placed: list[Placed] = []
    row, width = 1, 1
    for block in sheet.blocks:
        placed.append(Placed(row, block))
        row += rows_of(block)
        width = max(width, columns_of(block))
    return placed, max(row - 1, 1), width


def table_ref(placed: Placed, table: SheetTable) -> str:
    """The range a table covers, header row included."""
    last = get_column_letter(len(table.columns))
    return f"A{placed.row}:{last}{placed.row + max(table.row_count, 1)}"


def widths(placed: list[Placed]) -> dict[int, float]:
    """Each column's width: the widest any table gives it."""
    widths: dict[int, float] = {}
    for item in placed:
        if isinstance(item.block, SheetTable):
            for index, column in enumerate(item.block.columns, 1):
                widths[index] = max(widths.get(index, 0), column.width)
    return widths


def header_height(columns: Sequence[Column]) -> float:
    """A header row tall enough for its longest header, wrapped in its column."""
    heights = (print_setup.text_height(column.header, column.width, bold=True) for column in columns)
    return max(heights, default=LINE_POINTS)


#: Styles whose text wraps, so their rows grow with the text.
_WRAPPING = frozenset({"wrap", "note"})


def row_heights(table: SheetTable) -> list[float | None]:
    """Each data row's height when wrapped text needs more than one line (None: one line); only rows in memory."""
    if not isinstance(table.rows, Sequence):
        return []
    heights: list[float | None] = []
    for row in table.rows:
        tallest = LINE_POINTS
        for column, cell in zip(table.columns, row, strict=True):
            style = cell.style if isinstance(cell, Styled) else column.style
            value = cell.value if isinstance(cell, Styled) else cell
            if style in _WRAPPING and isinstance(value, str):
                tallest = max(tallest, print_setup.text_height(value, column.width))
        heights.append(tallest if tallest > LINE_POINTS else None)
    return heights


def table_points(table: SheetTable) -> float:
    """A table's printed height, guessed: its header, then each row's wrapped lines (one line a streamed row)."""
    heights = row_heights(table)
    streamed = max(table.row_count, 1) - len(heights)
    return header_height(table.columns) + sum(height or LINE_POINTS for height in heights) + streamed * LINE_POINTS


def bands(placed: list[Placed]) -> list[Band]:
    """The sheet as the page planner sees it: each block's rows and height, charts kept whole."""
    bands = []
    previous: Block | None = None
    for item in placed:
        block = item.block
        after_gap = previous is None or (isinstance(previous, Line) and not previous.cells)
        previous = block
        if isinstance(block, SheetTable):
            bands.append(Band(item.row, table_points(block), starts_paragraph=after_gap))
        elif isinstance(block, Chart):
            rows = rows_of(block)
            bands.append(Band(item.row, rows * LINE_POINTS, whole=True, starts_paragraph=after_gap))
        else:
            bands.append(Band(item.row, block.height or LINE_POINTS, starts_paragraph=after_gap))
    return bands
