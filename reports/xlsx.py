"""Write an xlsx file: openpyxl (write-only) lays out the package, and the cells stream in as exact SpreadsheetML.

openpyxl writes every sheet's frame: column widths, frozen panes, Excel tables, charts, defined names, styles and
document properties. It writes no cell, for two reasons: it formats floats with 16 significant digits, so some
values would read back as a different number, and it builds a Python object per cell, which costs most of a large
report's time. Here each number is written as Python's shortest exact repr, each text once escaped, and rows go
straight into the zip stream, so memory stays flat however many rows a sheet has.
"""

from __future__ import annotations

import enum
import math
import re
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, cast
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.packaging.custom import DateTimeProperty, StringProperty
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table as ExcelTable
from openpyxl.worksheet.table import TableColumn, TableStyleInfo

from reports import layout, print_setup
from reports.blocks import Cell, Chart, Column, Line, Properties, Sheet, SheetTable, Styled
from reports.safe import FORMULA_TRIGGERS, MAX_CELL_CHARS, clean_text, starts_like_formula
from trials.registry import label

#: The blocks are defined in reports.blocks; callers that write a workbook take them from here with write_xlsx.
__all__ = ["Cell", "Column", "Line", "Properties", "Sheet", "SheetTable", "Styled", "write_xlsx"]

#: Cell styles by name. Every style also gets a twin marked quotePrefix, for text that looks like a formula.
STYLES: dict[str, dict[str, Any]] = {
    "": {},
    "title": {"font": Font(name="Calibri", bold=True, size=18)},
    "subtitle": {
        "font": Font(name="Calibri", size=11, color="595959"),
        "alignment": Alignment(wrap_text=True, vertical="top"),
    },
    "section": {"font": Font(name="Calibri", bold=True, size=12)},
    "note": {"alignment": Alignment(wrap_text=True, vertical="top")},
    "label": {"font": Font(name="Calibri", bold=True)},
    "header": {"font": Font(name="Calibri", bold=True), "alignment": Alignment(wrap_text=True, vertical="top")},
    "wrap": {"alignment": Alignment(wrap_text=True, vertical="top")},
    "date": {"number_format": "yyyy-mm-dd"},
    "month": {"number_format": "yyyy-mm"},
    "timestamp": {"number_format": "yyyy-mm-dd hh:mm:ss"},
    "integer": {"number_format": "#,##0"},
    "amount": {"number_format": "#,##0.0"},
    "fine": {"number_format": "#,##0.00"},
    "intensity": {"number_format": "#,##0.000"},
    "rate": {"number_format": "0.0000"},
    "percent": {"number_format": "0.0"},
    "number": {},
}
# Numbers and dates sit at the top of their row, level with text that wraps beside them.
for _style in ("date", "month", "timestamp", "integer", "amount", "fine", "intensity", "rate", "percent", "number"):
    STYLES[_style]["alignment"] = Alignment(vertical="top")
#: The look of every Excel table: banded rows, a filter button on each header.
TABLE_STYLE = "TableStyleMedium2"
#: Above this many bytes of sheet XML (an estimate) a sheet is written as Zip64, which the zip format needs past 4 GB.
ZIP64_FROM_BYTES = 1 << 30
_ESTIMATED_BYTES_PER_CELL = 48
#: Rows gathered into one write to the zip stream.
_ROWS_PER_WRITE = 512
_EXCEL_EPOCH = datetime(1899, 12, 30)
_EXCEL_EPOCH_ORDINAL = _EXCEL_EPOCH.toordinal()
_SECONDS_PER_DAY = 86_400
# What XML text must escape, plus carriage returns (parsers turn a literal one into a newline) and any text shaped
# like Excel's own _xHHHH_ escape, whose underscore is escaped so Excel and LibreOffice show the text as it is.
_XML_SPECIAL = re.compile(r"[&<>\r]|_(?=x[0-9A-Fa-f]{4}_)")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;", "_": "_x005F_"}
# Text that cannot be copied into the XML as it is: anything _text_cell cleans, escapes, marks or keeps spaces of.
_NEEDS_CARE = re.compile(
    rf"[\x00-\x1f&<>\ud800-\udfff\ufffe\uffff]|_x[0-9A-Fa-f]{{4}}_|^[{re.escape(''.join(FORMULA_TRIGGERS))}\s]|\s\Z"
)
_EMPTY_SHEET_DATA = re.compile(r"<sheetData\s*/>|<sheetData>\s*</sheetData>")


class _Styles:
    """The workbook's cell styles as ready-made ` s="N"` attributes, plain and marked as text."""

    def __init__(self, sheet: Any) -> None:
        self.plain: dict[str, str] = {}
        self.quoted: dict[str, str] = {}
        for name, attributes in STYLES.items():
            for quoted, into in ((False, self.plain), (True, self.quoted)):
                probe = WriteOnlyCell(sheet)
                for attribute, value in attributes.items():
                    setattr(probe, attribute, value)
                probe.quotePrefix = quoted
                style_id = probe.style_id  # registers the style with the workbook, which writes styles.xml
                into[name] = f' s="{style_id}"' if style_id else ""


def _escape(text: str) -> str:
    """Escape text for an XML element, once."""
    return _XML_SPECIAL.sub(lambda match: _ENTITIES[match.group()], text) if _XML_SPECIAL.search(text) else text


def _text_cell(ref: str, text: str, plain: str, quoted: str) -> str:
    """An inline text cell; text a spreadsheet would take for a formula is stored as text and marked so."""
    text = clean_text(text)
    style = quoted if starts_like_formula(text) else plain
    space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>'


def _serial(moment: datetime) -> float:
    """Excel's serial day number of a timestamp; aware ones are shown in UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return (moment - _EXCEL_EPOCH).total_seconds() / _SECONDS_PER_DAY


def _rows_xml(
    rows: Iterable[Sequence[Cell]], first: int, plain: Sequence[str], quoted: Sequence[str], styles: _Styles
) -> Iterator[str]:
    """Encode rows as SpreadsheetML, one string per row; an empty or non-finite value leaves its cell empty.

    Plain floats, text and None take a fast path by exact type (most cells of a long sheet); anything else (styled
    cells, ints, dates, enums, text needing care) goes through _cell_xml."""
    columns = [(get_column_letter(index), style) for index, style in enumerate(plain, 1)]
    isfinite, needs_care = math.isfinite, _NEEDS_CARE.search
    for number, values in enumerate(rows, first):
        row = str(number)
        cells = [f'<row r="{row}">']
        for (letter, style), text_style, value in zip(columns, quoted, values, strict=True):
            kind = type(value)  # exact types: mypy does not narrow on them, hence the casts
            if kind is float:
                if isfinite(cast(float, value)):
                    cells.append(f'<c r="{letter}{row}"{style}><v>{value!r}</v></c>')
            elif kind is str:
                text = cast(str, value)
                if text and len(text) <= MAX_CELL_CHARS and not needs_care(text):
                    cells.append(f'<c r="{letter}{row}"{style} t="inlineStr"><is><t>{value}</t></is></c>')
                elif value:
                    cells.append(_cell_xml(f"{letter}{row}", value, style, text_style, styles))
            elif value is not None:
                cells.append(_cell_xml(f"{letter}{row}", value, style, text_style, styles))
        cells.append("</row>")
        yield "".join(cells)


def _cell_xml(ref: str, value: Cell, style: str, text_style: str, styles: _Styles) -> str:
    """Encode one cell of any kind a report holds (empty string when it stays empty)."""
    if isinstance(value, Styled):
        style, text_style, value = styles.plain[value.style], styles.quoted[value.style], value.value
    if value is None:
        return ""
    if isinstance(value, float):
        return f'<c r="{ref}"{style}><v>{value!r}</v></c>' if math.isfinite(value) else ""
    if isinstance(value, enum.Enum):  # a stored value (a unit role, a status) is written in words, never as its key
        value = label(value)
    if isinstance(value, str):
        if value and not _NEEDS_CARE.search(value) and len(value) <= MAX_CELL_CHARS:
            return f'<c r="{ref}"{style} t="inlineStr"><is><t>{value}</t></is></c>'
        return _text_cell(ref, str(value), style, text_style) if value else ""
    if isinstance(value, bool):
        raise TypeError("a report cell holds text, a number or a date, not a truth value")
    if isinstance(value, int):
        return f'<c r="{ref}"{style}><v>{value}</v></c>'
    if isinstance(value, datetime):
        return f'<c r="{ref}"{style}><v>{_serial(value)!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}"{style}><v>{value.toordinal() - _EXCEL_EPOCH_ORDINAL}</v></c>'
    raise TypeError(f"a report cell holds text, a number or a date, not {type(value).__name__}")


def _frame_sheet(book: Workbook, sheet: Sheet, placed: list[layout.Placed], footer: str) -> Any:
    """Add one sheet's frame to the workbook: widths, panes, printing, tables, charts, merges and defined names."""
    frame = book.create_sheet(clean_text(sheet.title))
    widths = layout.widths(placed)
    for index, width in widths.items():
        frame.column_dimensions[get_column_letter(index)].width = width
    if sheet.freeze:
        frame.freeze_panes = sheet.freeze
    cuts = print_setup.column_breaks(len(widths), sheet.title_columns, sheet.columns_per_page)
    on_a_page = [width for index, width in sorted(widths.items()) if not cuts or index <= cuts[0]]
    content = sum(print_setup.column_points(width) for width in on_a_page)
    charts = [print_setup.chart_points(item.block.chart.width) for item in placed if isinstance(item.block, Chart)]
    title_row = bool(placed) and isinstance(placed[0].block, SheetTable)
    title_points = layout.header_height(placed[0].block.columns) if title_row else 0.0  # type: ignore[union-attr]
    breaks = (
        [] if sheet.one_page else print_setup.page_breaks(layout.bands(placed), max([content, *charts]), title_points)
    )
    print_setup.apply(
        frame,
        one_page=sheet.one_page,
        title_rows=title_row,
        breaks=breaks,
        footer=footer,
        title_columns=sheet.title_columns if cuts else 0,
        column_breaks=cuts,
    )
    for item in placed:
        block = item.block
        if isinstance(block, SheetTable):
            ref = layout.table_ref(item, block)
            table = ExcelTable(
                displayName=block.name,
                ref=ref,
                autoFilter=AutoFilter(ref=ref),
                tableColumns=[
                    TableColumn(id=index, name=clean_text(column.header))
                    for index, column in enumerate(block.columns, 1)
                ],
                tableStyleInfo=TableStyleInfo(name=TABLE_STYLE, showRowStripes=True),
            )
            with warnings.catch_warnings():
                # openpyxl warns that write-only tables need their columns added by hand: they are, just above.
                warnings.filterwarnings("ignore", "In write-only mode you must add table columns manually")
                frame.add_table(table)
        elif isinstance(block, Chart):
            frame.add_chart(block.chart, f"A{item.row}")
            for number, line in enumerate(block.beside, item.row):
                _frame_line(book, frame, line, number)
        else:
            _frame_line(book, frame, block, item.row)
    return frame


def _frame_line(book: Workbook, frame: Any, line: Line, row: int) -> None:
    """Merge a spanning line's cells; name a named line's value, its last cell."""
    if line.span > 1:
        frame.merged_cells.add(f"A{row}:{get_column_letter(line.span)}{row}")
    if line.name:
        ref = f"{quote_sheetname(frame.title)}!${get_column_letter(len(line.cells))}${row}"
        book.defined_names.add(DefinedName(line.name, attr_text=ref))


def _set_properties(book: Workbook, properties: Properties) -> None:
    """Fill in the document properties, standard and custom."""
    created = properties.created.astimezone(UTC).replace(tzinfo=None)
    book.properties.title = clean_text(properties.title)
    book.properties.subject = clean_text(properties.subject)
    book.properties.description = clean_text(properties.description)
    book.properties.keywords = clean_text(properties.keywords)
    book.properties.creator = "ZE Trials"
    book.properties.created = created
    book.properties.modified = created
    for name, value in properties.custom.items():
        if isinstance(value, datetime):
            book.custom_doc_props.append(DateTimeProperty(name=name, value=value.astimezone(UTC).replace(tzinfo=None)))
        else:
            book.custom_doc_props.append(StringProperty(name=name, value=clean_text(value)))


def _tall(row: str, number: int, height: float | None) -> str:
    """A row's XML drawn at a set height in points, or as it is."""
    if height is None:
        return row
    return row.replace(f'<row r="{number}">', f'<row r="{number}" ht="{height:g}" customHeight="1">', 1)


def _write_line(stream: IO[bytes], line: Line, number: int, styles: _Styles) -> None:
    """Write one line's cells; an empty line is left out (an empty row has the default height)."""
    if not line.cells:
        return
    plain = [styles.plain[""]] * len(line.cells)
    quoted = [styles.quoted[""]] * len(line.cells)
    for row in _rows_xml([line.cells], number, plain, quoted, styles):
        stream.write(_tall(row, number, line.height).encode())


def _write_sheet_data(stream: IO[bytes], placed: list[layout.Placed], styles: _Styles) -> None:
    """Stream one sheet's cells, block by block, checking each table's promised row count."""
    for item in placed:
        block = item.block
        if isinstance(block, Chart):  # the rows under a chart keep the default height its page was planned with
            for number, line in enumerate(block.beside, item.row):
                _write_line(stream, line, number, styles)
            continue
        if isinstance(block, Line):
            _write_line(stream, block, item.row, styles)
            continue
        header = [Styled(column.header, "header") for column in block.columns]
        for row in _rows_xml([header], item.row, [""] * len(header), [""] * len(header), styles):
            stream.write(_tall(row, item.row, layout.header_height(block.columns)).encode())
        plain = [styles.plain[column.style] for column in block.columns]
        quoted = [styles.quoted[column.style] for column in block.columns]
        written, chunk = 0, []
        heights = layout.row_heights(block)
        for row in _rows_xml(block.rows, item.row + 1, plain, quoted, styles):
            if written < len(heights):
                row = _tall(row, item.row + 1 + written, heights[written])
            chunk.append(row)
            written += 1
            if len(chunk) == _ROWS_PER_WRITE:
                stream.write("".join(chunk).encode())
                chunk.clear()
        stream.write("".join(chunk).encode())
        if written != block.row_count:
            raise RuntimeError(f"table {block.name} promised {block.row_count} rows and got {written}")


def _sheet_bytes_estimate(placed: list[layout.Placed]) -> int:
    """Guess a sheet's XML size from its cell count, to know whether it needs Zip64."""
    cells = sum(
        len(item.block.columns) * item.block.row_count if isinstance(item.block, SheetTable) else 1 for item in placed
    )
    return cells * _ESTIMATED_BYTES_PER_CELL


def write_xlsx(target: IO[bytes], sheets: Sequence[Sheet], properties: Properties) -> None:
    """Write the workbook to a binary file: openpyxl's frame first, then the cells spliced into each sheet's part."""
    book = Workbook(write_only=True)
    framed_sheets: list[tuple[Any, list[layout.Placed], str]] = []
    for sheet in sheets:
        placed, last_row, last_column = layout.place(sheet)
        frame = _frame_sheet(book, sheet, placed, properties.title)
        framed_sheets.append((frame, placed, f"A1:{get_column_letter(last_column)}{last_row}"))
    styles = _Styles(framed_sheets[0][0])
    _set_properties(book, properties)
    with tempfile.TemporaryDirectory(prefix="zetrials-report-") as folder:
        framed = Path(folder) / "frame.xlsx"
        book.save(framed)
        parts = {frame.path.lstrip("/"): (placed, dimension) for frame, placed, dimension in framed_sheets}
        with ZipFile(framed) as source, ZipFile(target, "w", ZIP_DEFLATED) as out:
            for info in source.infolist():
                if info.filename not in parts:
                    out.writestr(info, source.read(info))
                    continue
                placed, dimension = parts[info.filename]
                head, tail = _split_frame(source.read(info).decode("utf-8"), info.filename)
                head = head.replace("<sheetViews>", f'<dimension ref="{dimension}"/><sheetViews>', 1)
                part = ZipInfo(info.filename, date_time=info.date_time)
                part.compress_type = ZIP_DEFLATED
                big = _sheet_bytes_estimate(placed) > ZIP64_FROM_BYTES
                with out.open(part, "w", force_zip64=big) as stream:
                    stream.write(head.encode())
                    stream.write(b"<sheetData>")
                    _write_sheet_data(stream, placed, styles)
                    stream.write(b"</sheetData>")
                    stream.write(tail.encode())


def _split_frame(xml: str, part: str) -> tuple[str, str]:
    """Cut a sheet's frame where its (empty) cells go."""
    pieces = _EMPTY_SHEET_DATA.split(xml)
    if len(pieces) != 2:
        raise RuntimeError(f"openpyxl wrote {part} without one empty <sheetData>; the report cannot place its cells")
    return pieces[0], pieces[1]
