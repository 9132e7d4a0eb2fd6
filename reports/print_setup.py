"""How each sheet prints: landscape A4, fit to the page width, header row repeated, charts never cut by a page.

Where a page ends depends on row heights the writer knows only roughly (LibreOffice and Excel measure wrapped text
themselves), so heights here are estimated on the generous side, and a chart starts a new page whenever it might
not fit on the one it would start on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break

#: Height of one line of 11-point text in a row, in points (Excel's default row).
LINE_POINTS = 15.0
#: A4 landscape, in points, less the margins set below (left and right 0.4 in, top and bottom 0.6 in).
PAGE_WIDTH_POINTS = 842 - 2 * 0.4 * 72
PAGE_HEIGHT_POINTS = 595 - 2 * 0.6 * 72
#: Share of the page an estimate may fill: row heights are guesses, so a little room is kept spare.
_SAFE_SHARE = 0.9
_POINTS_PER_CM = 72 / 2.54
_PIXEL_POINTS = 0.75  # at 96 dpi
_CHAR_PIXELS = 7  # the widest digit of Calibri 11, which Excel's column widths count in
_PAPER_A4 = "9"
#: Characters of plain text in a column width (which counts the widest digit): letters are narrower on average.
_PROPORTIONAL = 1.1


def column_points(width: float) -> float:
    """A column's printed width in points, from its width in characters (as Excel converts it)."""
    return (width * _CHAR_PIXELS + 5) * _PIXEL_POINTS


def lines_of(text: str, width: float, bold: bool = False) -> int:
    """How many lines text takes, wrapped word by word in a cell this many characters wide."""
    per_line = max(int(width * (1.0 if bold else _PROPORTIONAL)), 6)
    lines = 0
    for paragraph in str(text).split("\n"):
        lines += 1
        used = 0
        for word in paragraph.split():
            if used and used + 1 + len(word) > per_line:
                lines += 1 + (len(word) - 1) // per_line
                used = len(word) % per_line or per_line
            else:
                used += (1 if used else 0) + len(word)
                if used > per_line:
                    lines += (used - 1) // per_line
                    used = used % per_line or per_line
    return lines


def text_height(text: str, width: float, bold: bool = False) -> float:
    """The height in points of a row holding wrapped text this many characters wide."""
    return lines_of(text, width, bold) * LINE_POINTS


@dataclass(frozen=True)
class Band:
    """A block as the page planner sees it: its first row, its height in points, whether it must stay whole."""

    row: int
    points: float
    whole: bool = False
    starts_paragraph: bool = False


def page_breaks(bands: Sequence[Band], content_points: float, title_points: float) -> list[int]:
    """Rows after which a page must break so that no band kept whole is cut, at the scale fit-to-width gives."""
    scale = min(1.0, PAGE_WIDTH_POINTS / max(content_points, 1.0))
    page = PAGE_HEIGHT_POINTS * _SAFE_SHARE / scale
    breaks: list[int] = []
    used, sure = 0.0, True  # sure: no page has ended by itself since the last break, so `used` is to be trusted
    paragraph_start = bands[0].row if bands else 1
    paragraph_used = 0.0
    for band in bands:
        if band.starts_paragraph:
            paragraph_start, paragraph_used = band.row, used
        if band.whole:
            fits = used + band.points <= page
            if (not fits or not sure) and paragraph_start > 1 and paragraph_start - 1 not in breaks:
                breaks.append(paragraph_start - 1)
                used, sure = title_points + (used - paragraph_used), True
        used += band.points
        while used > page:  # a page ends by itself inside a long table
            used, sure = title_points + (used - page), False
    return breaks


def column_breaks(columns: int, title_columns: int, per_page: int) -> list[int]:
    """Columns after which a page breaks across, so each page holds the title columns and per_page more."""
    if not per_page or columns <= title_columns + per_page:
        return []
    return list(range(title_columns + per_page, columns, per_page))


def apply(
    frame: Any,
    *,
    one_page: bool,
    title_rows: bool,
    breaks: Sequence[int],
    footer: str,
    title_columns: int = 0,
    column_breaks: Sequence[int] = (),
) -> None:
    """Set a sheet's printing: landscape A4, fit to the page width (and height, for a cover), titles, breaks, footer.

    A sheet cut into pages across fits that many pages wide, with its title columns on each."""
    setup = frame.page_setup
    setup.orientation = "landscape"
    setup.paperSize = _PAPER_A4
    setup.fitToWidth = len(column_breaks) + 1
    setup.fitToHeight = 1 if one_page else 0
    frame.sheet_properties.pageSetUpPr.fitToPage = True
    frame.page_margins = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.6, header=0.25, footer=0.25)
    frame.print_options.horizontalCentered = one_page
    if title_rows:
        frame.print_title_rows = "1:1"
    for row in breaks:
        frame.row_breaks.append(Break(id=row))
    for column in column_breaks:
        frame.col_breaks.append(Break(id=column))
    if title_columns:
        frame.print_title_cols = f"A:{get_column_letter(title_columns)}"
    frame.oddFooter.left.text = footer.replace("&", "&&")
    frame.oddFooter.left.size = 8
    frame.oddFooter.right.text = "&A, page &P of &N"
    frame.oddFooter.right.size = 8


def chart_points(centimetres: float) -> float:
    """A chart's size in points, from openpyxl's centimetres."""
    return centimetres * _POINTS_PER_CM
