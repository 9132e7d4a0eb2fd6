"""Find how far each sheet of an .xls, .xlsb or .ods really reaches, from its cells, before python-calamine reads it.

calamine allocates a dense grid from the first to the last cell of a sheet, so a two-cell file with a far corner
would make it ask for gigabytes. These scanners walk the raw records (BIFF for .xls, BIFF12 for .xlsb, the
OpenDocument XML for .ods) in bounded memory and never trust a sheet's claimed dimension: the row and column
limits are checked against the last cell actually present, empty formatted cells included, as the .xlsx reader
does.
"""

from __future__ import annotations

import posixpath
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from defusedxml import ElementTree as SafeElementTree

from importers.raw import (
    CHUNK_BYTES,
    MAX_SMALL_PART_BYTES,
    Refused,
    beyond_last_column,
    column_letters,
    too_many_rows,
)
from importers.sniff import Limits, ole2_workbook_stream
from importers.xlsx.book import safe_expat


@dataclass
class Extent:
    """The last row and column (1-based) holding a cell in one sheet, checked against the limits as they grow."""

    sheet: str
    limits: Limits
    rows: int = 0
    columns: int = 0

    def cell(self, row: int, column: int) -> None:
        """Take in a cell at a 1-based row and column, refusing it beyond the limits."""
        if row > self.limits.max_rows:
            raise Refused(too_many_rows(self.limits), self.sheet)
        if column > self.limits.max_columns:
            raise Refused(beyond_last_column(f"{column_letters(column)}{row}", self.limits), self.sheet)
        self.rows = max(self.rows, row)
        self.columns = max(self.columns, column)


def check_extents(path: Path, kind: str, limits: Limits) -> dict[str, Extent]:
    """Scan every sheet of an .xls, .xlsb or .ods file and give its real extent by name, or raise Refused."""
    if kind == "xls":
        return _xls_extents(path.read_bytes(), limits)
    with zipfile.ZipFile(path) as archive:
        return _xlsb_extents(archive, limits) if kind == "xlsb" else _ods_extents(archive, limits)


# --- .xls (BIFF8, and BIFF5 as far as its records agree) ------------------------------------------------------------

_BOF, _EOF, _BOUNDSHEET = 0x0809, 0x000A, 0x0085
_SINGLE_CELLS = frozenset({0x0006, 0x00D6, 0x00FD, 0x0201, 0x0203, 0x0204, 0x0205, 0x027E})  # row, column first
_CELL_RUNS = frozenset({0x00BD, 0x00BE})  # MULRK, MULBLANK: row, first column, ..., last column at the end


def _xls_extents(data: bytes, limits: Limits) -> dict[str, Extent]:
    """Walk the Workbook stream's records: BOUNDSHEET names each sheet's BOF offset, cell records give positions."""
    stream = ole2_workbook_stream(data)
    names = _xls_sheet_names(stream)
    extents = {name: Extent(name, limits) for name in names.values()}
    open_streams: list[Extent | None] = []  # a chart inside a sheet is a substream of its own, BOF to EOF
    current: Extent | None = None
    for offset, record, body in _biff_records(stream):
        if record in (_BOF, _EOF):
            if record == _BOF:
                open_streams.append(extents.get(names.get(offset, "")))
            elif open_streams:
                open_streams.pop()
            current = open_streams[-1] if open_streams else None
        elif current is None or len(body) < 4:
            continue
        elif record in _SINGLE_CELLS:
            row, column = struct.unpack_from("<HH", body)
            current.cell(row + 1, column + 1)
        elif record in _CELL_RUNS and len(body) >= 6:
            row, first = struct.unpack_from("<HH", body)
            (last,) = struct.unpack_from("<H", body, len(body) - 2)
            current.cell(row + 1, max(first, last) + 1)
    return extents


def _biff_records(stream: bytes) -> Iterator[tuple[int, int, bytes]]:
    """Give (offset, record type, body) for each record of a BIFF stream, stopping at a truncated one."""
    offset = 0
    while offset + 4 <= len(stream):
        record, length = struct.unpack_from("<HH", stream, offset)
        yield offset, record, stream[offset + 4 : offset + 4 + length]
        offset += 4 + length


def _xls_sheet_names(stream: bytes) -> dict[int, str]:
    """Map each worksheet's BOF offset to its name, from the BOUNDSHEET records of the workbook globals."""
    names: dict[int, str] = {}
    for _, record, body in _biff_records(stream):
        if record == _EOF:
            break
        if record == _BOUNDSHEET and len(body) >= 8:
            (position,) = struct.unpack_from("<I", body)
            length, wide = body[6], body[7] & 1
            raw = body[8 : 8 + length * (2 if wide else 1)]
            names[position] = raw.decode("utf-16-le" if wide else "latin-1", "replace")
    return names


# --- .xlsb (BIFF12 records in a zip) ---------------------------------------------------------------------------------

_ROW_HEADER, _BUNDLE_SHEET = 0, 156
_XLSB_CELLS = range(1, 12)  # blank, RK, error, bool, real, string, shared string, and the four formula cells


def _xlsb_extents(archive: zipfile.ZipFile, limits: Limits) -> dict[str, Extent]:
    """Walk each worksheet part's records: a row header gives the row, each cell record its column."""
    targets = _xlsb_targets(archive)
    extents: dict[str, Extent] = {}
    for name, relation in _xlsb_sheets(archive):
        part = targets.get(relation)
        extent = extents[name] = Extent(name, limits)
        if part is None or part not in archive.NameToInfo:
            continue
        row = 0
        for record, body in _biff12_records(archive, part):
            if record == _ROW_HEADER and len(body) >= 4:
                row = struct.unpack_from("<I", body)[0] + 1
            elif record in _XLSB_CELLS and len(body) >= 4:
                extent.cell(max(row, 1), struct.unpack_from("<I", body)[0] + 1)
    return extents


def _xlsb_targets(archive: zipfile.ZipFile) -> dict[str, str]:
    """Map the workbook's relationship ids to the parts they point at."""
    rels = "xl/_rels/workbook.bin.rels"
    if rels not in archive.NameToInfo or archive.getinfo(rels).file_size > MAX_SMALL_PART_BYTES:
        raise Refused(f"the workbook is damaged: it has no readable {rels}; open it in Excel and save it again")
    root = SafeElementTree.fromstring(archive.read(rels), forbid_dtd=True)
    targets = {}
    for element in root:
        target = element.get("Target") or ""
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        targets[element.get("Id") or ""] = path
    return targets


def _xlsb_sheets(archive: zipfile.ZipFile) -> Iterator[tuple[str, str]]:
    """Give (sheet name, relationship id) from the BrtBundleSh records of xl/workbook.bin."""
    if archive.getinfo("xl/workbook.bin").file_size > MAX_SMALL_PART_BYTES:
        raise Refused("the part xl/workbook.bin is larger than any real workbook's; open it in Excel and save it again")
    for record, body in _biff12_records(archive, "xl/workbook.bin"):
        if record == _BUNDLE_SHEET and len(body) >= 12:
            relation, offset = _wide_string(body, 8)
            name, _ = _wide_string(body, offset)
            yield name, relation


def _wide_string(body: bytes, offset: int) -> tuple[str, int]:
    """Read a BIFF12 string (a 32-bit character count, then UTF-16) and give it with the offset after it."""
    if offset + 4 > len(body):
        return "", len(body)
    (count,) = struct.unpack_from("<I", body, offset)
    if count == 0xFFFFFFFF:  # a null string
        return "", offset + 4
    end = min(offset + 4 + 2 * count, len(body))
    return body[offset + 4 : end].decode("utf-16-le", "replace"), end


def _biff12_records(archive: zipfile.ZipFile, part: str) -> Iterator[tuple[int, bytes]]:
    """Stream (record type, body) from a BIFF12 part; types and lengths are little-endian 7-bit varints."""
    buffer, position = b"", 0
    with archive.open(part) as stream:
        while True:
            header = _biff12_header(buffer, position)
            if header is None or header[2] > len(buffer):
                chunk = stream.read(max(CHUNK_BYTES, (header[2] - position) if header else 0))
                if not chunk:
                    return
                buffer, position = buffer[position:] + chunk, 0
                continue
            record, start, end = header
            yield record, buffer[start:end]
            position = end


def _biff12_header(buffer: bytes, position: int) -> tuple[int, int, int] | None:
    """Decode the record header at `position`: (type, body start, body end), or None when it is not all here."""
    values = []
    for width in (2, 4):  # the type takes at most 2 bytes, the length at most 4
        value = shift = 0
        for _ in range(width):
            if position >= len(buffer):
                return None
            byte = buffer[position]
            position += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        values.append(value)
    return values[0], position, position + values[1]


# --- .ods (OpenDocument XML) -----------------------------------------------------------------------------------------

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_SEPARATOR = " "  # between namespace and name, as importers.xlsx.book.safe_expat gives them


def _repeat(attributes: dict[str, str], name: str) -> int:
    """Read a number-rows-repeated or number-columns-repeated attribute (1 when absent or nonsense)."""
    raw = attributes.get(f"{_TABLE}{_SEPARATOR}{name}", "1")
    return int(raw) if raw.isdecimal() and len(raw) < 10 and int(raw) > 0 else 1


def _ods_extents(archive: zipfile.ZipFile, limits: Limits) -> dict[str, Extent]:
    """Walk content.xml: rows and cells count with their repeats, and a cell holding a value or text marks the extent.

    Empty cells repeated to the sheet's edge (which LibreOffice writes for formatted areas) do not count: calamine
    skips them too.
    """
    extents: dict[str, Extent] = {}
    state = {"row": 0, "rows": 1, "column": 0, "columns": 1, "filled": 0, "depth": 0}
    current: list[Extent] = []
    table, row_tag, value_type = (
        f"{_TABLE}{_SEPARATOR}table",
        f"{_TABLE}{_SEPARATOR}table-row",
        f"{_OFFICE}{_SEPARATOR}value-type",
    )
    cells = (f"{_TABLE}{_SEPARATOR}table-cell", f"{_TABLE}{_SEPARATOR}covered-table-cell")

    def start(name: str, attributes: dict[str, str]) -> None:
        if state["depth"]:  # inside a cell: any content (a paragraph) fills it
            state["depth"] += 1
            state["filled"] = 1
        elif name == table:
            sheet = attributes.get(f"{_TABLE}{_SEPARATOR}name", "")
            current.append(extents.setdefault(sheet, Extent(sheet, limits)))
            state["row"] = 0
        elif name == row_tag:
            state["rows"], state["column"] = _repeat(attributes, "number-rows-repeated"), 0
        elif name in cells:
            state["columns"], state["depth"] = _repeat(attributes, "number-columns-repeated"), 1
            state["filled"] = int(value_type in attributes)

    def end(name: str) -> None:
        if state["depth"] > 1:
            state["depth"] -= 1
        elif state["depth"] == 1:
            state["depth"] = 0
            state["column"] += state["columns"]
            if state["filled"] and current:
                current[-1].cell(state["row"] + state["rows"], state["column"])
        elif name == row_tag:
            state["row"] += state["rows"]
        elif name == table and current:
            current.pop()

    parser = safe_expat(namespaces=True)  # refuses DTDs and entities, as for .xlsx
    parser.StartElementHandler, parser.EndElementHandler = start, end
    try:
        with archive.open("content.xml") as stream:
            while chunk := stream.read(CHUNK_BYTES):
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as error:
        raise Refused(
            f"the spreadsheet is damaged: content.xml is not well-formed XML (line {error.lineno}, "
            f"{expat.ErrorString(error.code)}); open it in LibreOffice and save it again"
        ) from None
    return extents
