"""Turn an accepted upload into raw sheets of rows: .xlsx/.xlsm parsed here, streamed so memory stays flat; csv
in importers.csv; .xls, .xlsb and .ods by python-calamine in a limited worker process (importers.legacy).

What makes a whole file unreadable (its type, its zip directory, the workbook, styles and shared strings, a csv's
encoding) is checked in `read_file` before any row is handed out: the caller gets problems and no sheets. A sheet's
own XML is checked in the single pass that reads its rows: a sheet that turns out unreadable part-way (not
well-formed, a DTD, too many rows, a cell beyond the last column read, damaged compressed data) raises
UnreadableSheet from its rows, and the importer, whose one transaction holds everything read so far, writes nothing.

Why our own streaming parser instead of python-calamine or openpyxl: calamine 0.9.1 loads a whole sheet into
a dense grid (about 0.9 GB for 1M rows x 12 columns, and a two-cell file with A1 and XFD1048576 makes it
abort the process on a 50 GB allocation), and even on a small sheet it reads cells unlike this reader: error
cells and formulas without a cached value come out empty, a negative serial in a date cell as midnight,
[h]:mm durations as timedeltas, rich-text runs without their spaces, cells at their own reference whatever
row holds them. openpyxl read-only streams but is 3.5 times slower than expat with handlers and, trusting
<dimension>, drops rows a file does not admit to.

Two readers share one set of rules. The exact reader is expat (the C parser behind xml.etree) with small handlers:
it reads any well-formed sheet, but spends nearly all its time in expat's calls into Python. The plain reader
reads rows shaped as spreadsheet programs write them with two regexes, about 1.5 times as fast, behind an expat
parser without handlers that checks every byte first; at the first thing it does not handle it gives way to the
exact reader, which skips the rows already handed out. Both get the guards defusedxml installs (no DTD, no entity
declarations, no external entities), and the small parts are parsed by defusedxml itself.

A long sheet is parsed by a worker process running these same readers, which sends the rows in pickled batches
through a pipe (or the refusal that stopped it): when a core is idle the parsing runs beside the caller's checking
and loading instead of before them. On a busy machine the worker would only add work.
"""

from __future__ import annotations

import codecs
import os
import posixpath
import re
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import NoReturn
from xml.etree.ElementTree import Element, ParseError  # types only; parsing goes through defusedxml  # nosec B405
from xml.parsers import expat

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

from importers.csv import read_csv
from importers.extent import column_letters
from importers.legacy import read_legacy
from importers.problems import Problem
from importers.raw import Cell, FormulaWithoutValue, RawSheet, RawWorkbook, Row, UnreadableSheet, clean_text
from importers.sniff import DEFAULT_LIMITS, MB, Limits, sniff
from importers.worker import FRAME, WorkerLost, received_batches, serve, start_worker, worker_command

__all__ = ["FormulaWithoutValue", "RawSheet", "RawWorkbook", "Row", "UnreadableSheet", "read_file"]

CHUNK_BYTES = 256 * 1024
_MAX_SMALL_PART_BYTES = 64 * MB  # workbook, relationships and styles of real workbooks stay far below this
_MAX_SHARED_STRINGS_BYTES = 256 * MB  # the table is held in memory while the sheets stream


def read_file(path: Path, *, display_name: str | None = None, limits: Limits = DEFAULT_LIMITS) -> RawWorkbook:
    """Check a file completely, then hand out its sheets as lazy row streams."""
    name = display_name or path.name
    kind, problems = sniff(path, name, limits)
    if kind == "xlsx":
        return _read_xlsx(path, name, limits)
    if kind == "csv":
        return read_csv(path, name, limits)
    if kind in ("xls", "xlsb", "ods"):
        return read_legacy(path, name, kind, limits)
    return RawWorkbook(name, "unknown", [], problems)


# --- text -----------------------------------------------------------------------------------------------------

_OOXML_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")


def _unescape_ooxml(text: str) -> str:
    """Decode Excel's _xHHHH_ escapes, which it uses for characters XML cannot hold (line breaks, controls)."""
    return _OOXML_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text) if "_x" in text else text


# --- xlsx: the package ------------------------------------------------------------------------------------------


class _Refused(Exception):
    """Internal: unwinds the reading of one file with the problem that refuses it; never leaves this module."""

    def __init__(self, message: str, sheet: str | None = None) -> None:
        super().__init__(message, sheet)  # both, so that a worker process can send it pickled
        self.message = message
        self.sheet = sheet


def _refuse(message: str, sheet: str | None = None) -> NoReturn:
    """Stop checking a file because of `message`."""
    raise _Refused(message, sheet)


def _part_chunks(archive: zipfile.ZipFile, part: str) -> Iterator[bytes]:
    """Stream one zip part.

    zipfile never unpacks more than the size the zip directory declares (which sniff has bounded) and checks
    the CRC at the end, so a directory that lies about sizes shows up here as damage, not as a flood of bytes.
    """
    with archive.open(part) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            yield chunk


def _read_part(archive: zipfile.ZipFile, part: str) -> bytes:
    """Read a small part (workbook, relationships, styles) whole, once its declared size is known to be small."""
    _refuse_oversized(archive, part, _MAX_SMALL_PART_BYTES)
    return b"".join(_part_chunks(archive, part))


def _refuse_oversized(archive: zipfile.ZipFile, part: str, limit: int) -> None:
    """Refuse a part held in memory whose size (which zipfile never exceeds) is beyond any real workbook's."""
    size = archive.getinfo(part).file_size
    if size > limit:
        _refuse(f"the part {part} unpacks to {size / MB:.0f} MB, more than the {limit / MB:.0f} MB a workbook may hold")


def _parse_small_xml(archive: zipfile.ZipFile, part: str) -> Element:
    """Parse a small part with defusedxml, which refuses DTDs and entity tricks."""
    root: Element = SafeElementTree.fromstring(_read_part(archive, part), forbid_dtd=True)
    return root


def _local(tag: str) -> str:
    """Strip the namespace from an ElementTree tag, since both OOXML namespaces (transitional, strict) occur."""
    return tag.rsplit("}", 1)[-1]


def _attribute(element: Element, local_name: str) -> str | None:
    """Get an attribute by local name whatever its namespace (r:id is namespaced, name is not)."""
    for key, value in element.attrib.items():
        if _local(key) == local_name:
            return value
    return None


@dataclass(frozen=True)
class _SheetEntry:
    """A sheet listed in the workbook: its name and, for a worksheet (not a chart), its XML part and its size."""

    name: str
    part: str | None
    size: int = 0  # unpacked bytes, as the zip directory declares them


@dataclass
class _Book:
    """What every sheet of a workbook needs to turn cells into values."""

    sheets: list[_SheetEntry]
    shared: list[str | None]
    style_kinds: dict[str, int]  # the s="..." attribute -> _NUMBER, _DATE or _TIME
    date1904: bool


_WORKBOOK = "xl/workbook.xml"


def _open_book(archive: zipfile.ZipFile) -> _Book:
    """Read workbook, relationships, styles and shared strings, which all sheets depend on."""
    workbook = _parse_small_xml(archive, _WORKBOOK)
    targets = _relationship_targets(archive)
    sheets = []
    for element in workbook.iter():
        if _local(element.tag) == "sheet":
            target = targets.get(_attribute(element, "id") or "")
            is_worksheet = target is not None and target[0] == "worksheet" and target[1] in archive.NameToInfo
            part = target[1] if target and is_worksheet else None
            size = archive.getinfo(part).file_size if part else 0
            sheets.append(_SheetEntry(element.get("name") or "", part, size))
    properties = next((e for e in workbook.iter() if _local(e.tag) == "workbookPr"), None)
    date1904 = properties is not None and (properties.get("date1904") or "").lower() in ("1", "true")
    styles = next((path for kind, path in targets.values() if kind == "styles"), None)
    shared = next((path for kind, path in targets.values() if kind == "sharedStrings"), None)
    style_kinds = _style_kinds(archive, styles) if styles in archive.NameToInfo else {}
    strings = _shared_strings(archive, shared) if shared in archive.NameToInfo else []
    return _Book(sheets, strings, style_kinds, date1904)


def _relationship_targets(archive: zipfile.ZipFile) -> dict[str, tuple[str, str]]:
    """Map the workbook's relationship ids to (relationship kind, part path inside the zip)."""
    rels = "xl/_rels/workbook.xml.rels"
    if rels not in archive.NameToInfo:
        _refuse(f"the workbook is damaged: it has no {rels}; open it in Excel and save it again")
    targets = {}
    for element in _parse_small_xml(archive, rels):
        target = element.get("Target") or ""
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        targets[element.get("Id") or ""] = ((element.get("Type") or "").rsplit("/", 1)[-1], path)
    return targets


# --- xlsx: number formats -----------------------------------------------------------------------------------------

_NUMBER, _DATE, _TIME = 0, 1, 2
# Built-in number formats (ECMA-376 18.8.30) that show dates or times; 46 ([h]:mm:ss) is a duration.
_BUILTIN_DATES = frozenset({14, 15, 16, 17, 22, 27, 28, 29, 30, 31, 34, 35, 36, 50, 51, 52, 53, 54, 57, 58})
_BUILTIN_TIMES = frozenset({18, 19, 20, 21, 32, 33, 45, 47, 55, 56})
_FORMAT_NOISE = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')


def _format_kind(code: str) -> int:
    """Classify a custom number format by its date and time letters, ignoring quoted text and [colours]."""
    if re.search(r"\[(h+|m+|s+)\]", code, re.IGNORECASE):
        return _NUMBER  # elapsed-time durations such as [h]:mm stay numbers
    letters = _FORMAT_NOISE.sub("", code.split(";", 1)[0]).lower()
    if "y" in letters or "d" in letters:
        return _DATE
    if "h" in letters or "s" in letters:
        return _TIME
    return _DATE if "m" in letters else _NUMBER


def _style_kinds(archive: zipfile.ZipFile, part: str) -> dict[str, int]:
    """Map each cell style index (as the s attribute writes it) that shows a date or time to its kind."""
    styles = _parse_small_xml(archive, part)
    custom = {
        element.get("numFmtId"): _format_kind(element.get("formatCode") or "")
        for element in styles.iter()
        if _local(element.tag) == "numFmt"
    }
    cell_xfs = next((e for e in styles if _local(e.tag) == "cellXfs"), None)
    kinds = {}
    for index, xf in enumerate(cell_xfs if cell_xfs is not None else []):
        format_id = xf.get("numFmtId") or "0"
        kind = custom.get(format_id)
        if kind is None and format_id.isdigit():
            number = int(format_id)
            kind = _DATE if number in _BUILTIN_DATES else _TIME if number in _BUILTIN_TIMES else _NUMBER
        if kind:
            kinds[str(index)] = kind
    return kinds


_EPOCH_1900 = datetime(1899, 12, 30)  # serial 1 is 1900-01-01 once Excel's fictitious 1900-02-29 is counted
_EPOCH_1904 = datetime(1904, 1, 1)
_LAST_SERIAL_1900 = 2958466  # 10000-01-01, past what Python dates hold
_MS_PER_DAY = 86_400_000


def _serial_to_python(serial: float, kind: int, date1904: bool) -> date | datetime | time | float:
    """Turn a date serial into a date, datetime or time; a serial no date can hold stays a number."""
    last = _LAST_SERIAL_1900 - (1462 if date1904 else 0)
    if not 0 <= serial < last:
        return serial
    if kind == _TIME and serial < 1:
        return (datetime.min + timedelta(milliseconds=round(serial * _MS_PER_DAY))).time()
    epoch = _EPOCH_1904 if date1904 else _EPOCH_1900
    if not date1904 and serial < 60:
        epoch += timedelta(days=1)  # before Excel's fictitious 1900-02-29
    try:
        moment = epoch + timedelta(milliseconds=round(serial * _MS_PER_DAY))
    except OverflowError:  # the last millisecond of 9999-12-31 rounds into year 10000
        return serial
    return moment.date() if moment.time() == time() else moment


# --- xlsx: XML parsing with defusedxml's guards -----------------------------------------------------------------


def _safe_expat(*, namespaces: bool) -> expat.XMLParserType:
    """Create an expat parser that refuses what defusedxml refuses: DTDs, entity declarations, external entities."""
    parser = expat.ParserCreate(namespace_separator=" ") if namespaces else expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.UnparsedEntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    parser.buffer_text = True
    parser.buffer_size = CHUNK_BYTES
    return parser


_DTD_MESSAGE = (
    "the file contains an XML document type declaration (DTD), which spreadsheet programs never write; "
    "refusing it as unsafe (XXE or entity expansion)"
)


def _refuse_dtd(*_: object) -> NoReturn:
    """Refuse any DTD: spreadsheet programs never write one, and it is how XXE and "billion laughs" attacks work."""
    _refuse(_DTD_MESSAGE)


_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_TAGS = {f"{ns} {tag}": tag for ns in _NAMESPACES for tag in ("row", "c", "v", "f", "is", "t", "si", "rPh")}


def _shared_strings(archive: zipfile.ZipFile, part: str) -> list[str | None]:
    """Read the shared string table, cleaned once here rather than once per cell."""
    strings: list[str | None] = []
    parts: list[str] = []
    depth = {"rPh": 0, "t": 0}

    def start(name: str, _: dict[str, str]) -> None:
        tag = _TAGS.get(name)
        if tag in depth:
            depth[tag] += 1

    def end(name: str) -> None:
        tag = _TAGS.get(name)
        if tag in depth:
            depth[tag] -= 1
        elif tag == "si":
            strings.append(clean_text(_unescape_ooxml("".join(parts))))
            parts.clear()

    def text(data: str) -> None:
        if depth["t"] and not depth["rPh"]:  # phonetic guide runs are not part of the cell's text
            parts.append(data)

    _refuse_oversized(archive, part, _MAX_SHARED_STRINGS_BYTES)
    parser = _safe_expat(namespaces=True)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    _feed(parser, _part_chunks(archive, part), part)
    return strings


def _feed(parser: expat.XMLParserType, chunks: Iterator[bytes], part: str) -> None:
    """Run a parser over a whole part, turning XML syntax errors into a refusal that names the place."""
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as error:
        _refuse(_not_well_formed(part, error))


def _not_well_formed(part: str, error: expat.ExpatError) -> str:
    """Say where a part stops being XML."""
    return (
        f"the workbook is damaged: {part} is not well-formed XML (line {error.lineno}, "
        f"{expat.ErrorString(error.code)}); open it in Excel and save it again"
    )


#: Damaged parts, compression methods zipfile lacks, zip-level passwords, bytes that are not UTF-8: all need the
#: file saved again.
_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError, ValueError)


def _damaged(error: Exception) -> str:
    """Explain a workbook the zip or XML layer could not read."""
    return f"the workbook is damaged ({error}); open it in Excel, save it as .xlsx and upload it again"


# --- xlsx: streaming a sheet's rows -------------------------------------------------------------------------------


def _column_number(letters: str) -> int:
    """Give the 1-based column number of spreadsheet letters (A -> 1, AA -> 27)."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


_REPEATED_VALUES = 4096
_ROOT_PREFIX = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")


def _document_prefix(first_chunk: bytes) -> str:
    """Find the namespace prefix the sheet uses ("" or e.g. "x:"), since matching plain names is cheaper."""
    root = _ROOT_PREFIX.search(first_chunk)
    return root.group(1).decode() if root and root.group(1) else ""


@dataclass
class _RowState:
    """What reading one sheet carries from row to row, whichever parser reads it, and the limits it enforces.

    Cells are never allocated by the <dimension> a file claims, so a lying dimension costs nothing; a row beyond
    the row limit or a cell beyond the column limit refuses the sheet the moment it is met.
    """

    book: _Book
    limits: Limits
    sheet: str
    columns: dict[str, int] = field(default_factory=dict)  # reference letters -> 0-based column
    # Values of dated and text cells by (kind or t attribute, text): columns repeat the same days, codes and ids,
    # and turning serials into dates (or cleaning text) costs more than a look-up.
    repeated: dict[tuple[int | str, str], Cell] = field(default_factory=dict)
    rows_seen: int = 0  # row elements, empty ones included, for the row limit
    row_number: int = 0

    def next_row(self, number: str | None) -> None:
        """Count a row element and take its number; rows are 1-based, and one without a usable r follows the last."""
        self.rows_seen += 1
        if self.rows_seen > self.limits.max_rows:
            _refuse(f"the sheet has more than the {self.limits.max_rows:,} rows accepted; split it", self.sheet)
        given = int(number) if number and number.isdecimal() and len(number) < 12 else 0
        self.row_number = given if given > 0 else self.row_number + 1

    def column(self, letters: str, next_column: int) -> int:
        """Give the 0-based column of reference letters met for the first time; a cell without any takes the next."""
        if letters.isascii() and letters.isalpha() and letters.isupper():
            number = _column_number(letters)
            if number <= self.limits.max_columns:
                self.columns[letters] = number - 1
                return number - 1
        elif next_column < self.limits.max_columns:
            return next_column
        else:
            letters = column_letters(next_column + 1)
        last = column_letters(self.limits.max_columns)
        _refuse(
            f"the sheet has a cell at {letters}{self.row_number}, beyond column {last} (at most "
            f"{self.limits.max_columns} columns are read); delete the cells to the right of column {last}",
            self.sheet,
        )

    def end_row(self, cells: list[Cell], ready: list[Row]) -> None:
        """Hand out a row that holds any value; blank rows are dropped here."""
        if cells.count(None) != len(cells):
            ready.append((self.row_number, tuple(cells)))
        if len(self.repeated) > _REPEATED_VALUES:
            self.repeated.clear()


def _cell_reader(state: _RowState) -> Callable[[str, str | None, str | None, str | None], Cell]:
    """Build the function that turns a cell's text, formula, t and s attributes into its value (a closure, as it
    runs for every cell)."""
    shared, style_kinds, date1904 = state.book.shared, state.book.style_kinds, state.book.date1904
    repeated = state.repeated

    def value(text: str, formula: str | None, cell_type: str | None, cell_style: str | None) -> Cell:
        if not text:
            return _empty_cell_value(formula, cell_type)
        if not cell_type or cell_type == "n":  # the plain reader gives "" for an absent attribute
            kind = style_kinds.get(cell_style) if cell_style else None
            if kind is None:
                return _number(text, None, date1904)
            found = repeated.get((kind, text))
            if found is None:
                found = repeated[kind, text] = _number(text, kind, date1904)
            return found
        found = repeated.get((cell_type, text))
        if found is None:
            found = repeated[cell_type, text] = _typed_value(cell_type, text, shared)
        return found

    return value


def _place(cells: list[Cell], column: int, value: Cell) -> None:
    """Put a value in its column, padding skipped columns with None."""
    if column == len(cells):
        cells.append(value)
    elif column > len(cells):
        cells.extend([None] * (column - len(cells)))
        cells.append(value)
    else:
        cells[column] = value


def _empty_cell_value(formula: str | None, cell_type: str | None) -> Cell:
    """Tell an empty cell from a formula saved without its result (a formula's empty text result is fine)."""
    if formula is not None and cell_type != "str" and cell_type != "inlineStr":
        return FormulaWithoutValue(_unescape_ooxml(formula))
    return None


def _number(raw: str, kind: int | None, date1904: bool) -> Cell:
    """Read a numeric cell as int or float, or as a date or time when its number format shows one."""
    try:
        number: int | float = float(raw) if "." in raw or "e" in raw or "E" in raw else int(raw)
    except ValueError:
        return clean_text(raw)  # not a number at all: the value layer reports it as text
    return _serial_to_python(number, kind, date1904) if kind else number


def _typed_value(cell_type: str, raw: str, shared: list[str | None]) -> Cell:
    """Read a cell whose t attribute says it holds a shared string, boolean, ISO date, text or error code."""
    if cell_type == "s":
        return _shared(shared, raw)
    if cell_type == "b":
        return raw == "1" or raw == "true"
    if cell_type == "d":
        return _iso_value(raw)
    return clean_text(_unescape_ooxml(raw))  # str, inlineStr, and error codes such as #DIV/0!


def _shared(strings: list[str | None], index: str) -> str | None:
    """Look up a shared string; a dangling index (a damaged file) reads as an empty cell."""
    position = int(index) if index.isdecimal() and len(index) < 12 else -1
    return strings[position] if 0 <= position < len(strings) else None


def _iso_value(text: str) -> Cell:
    """Read a t="d" cell (ISO 8601, written by some non-Excel programs), keeping odd text as text."""
    try:
        moment = datetime.fromisoformat(text.strip().removesuffix("Z"))
    except ValueError:
        return clean_text(text)
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)  # naive means UTC, as "Z" does
        except OverflowError:  # the offset carries it past 9999-12-31 or before 0001-01-01: not a date
            return clean_text(text)
    return moment.date() if moment.time() == time() else moment


class _ExactRows:
    """Expat with small handlers: reads any well-formed sheet, at the cost of a Python call per XML event."""

    def __init__(self, state: _RowState, prefix: str) -> None:
        self.ready: list[Row] = []
        self.parser = self._parser(state, prefix)

    def feed(self, chunk: bytes, final: bool = False) -> list[Row]:
        """Parse the next bytes of the sheet and give the rows they complete."""
        self.parser.Parse(chunk, final)
        ready = self.ready.copy()
        self.ready.clear()
        return ready

    def _parser(self, state: _RowState, prefix: str) -> expat.XMLParserType:
        """Build the parser; its handlers are closures over the cell being read."""
        cell_tag, value_tag, formula_tag, text_tag, row_tag, phonetic_tag = (
            prefix + tag for tag in ("c", "v", "f", "t", "row", "rPh")
        )
        value_of, columns, ready = _cell_reader(state), state.columns, self.ready
        cells: list[Cell] = []
        text = ""  # the character data of the <v>, <t> or <f> being read
        formula: str | None = None
        cell_type: str | None = None
        cell_style: str | None = None
        column = 0
        capture = phonetic = False

        def start(name: str, attributes: dict[str, str]) -> None:
            nonlocal text, formula, capture, cell_type, cell_style, column, phonetic
            if name == cell_tag:
                cell_type = attributes.get("t")
                cell_style = attributes.get("s")
                letters = attributes.get("r", "").rstrip("0123456789")
                column = columns.get(letters, -1)
                if column < 0:
                    column = state.column(letters, len(cells))
                text = ""
                formula = None
            elif name == value_tag or (name == text_tag and not phonetic) or name == formula_tag:
                capture = True
            elif name == row_tag:
                state.next_row(attributes.get("r"))
                cells.clear()
            elif name == phonetic_tag:
                phonetic = True

        def end(name: str) -> None:
            nonlocal text, formula, capture, phonetic
            if name == cell_tag:
                _place(cells, column, value_of(text, formula, cell_type, cell_style))
            elif name == value_tag or name == text_tag:
                capture = False
            elif name == formula_tag:
                capture = False
                formula, text = text, ""
            elif name == row_tag:
                state.end_row(cells, ready)
            elif name == phonetic_tag:
                phonetic = False

        def character_data(data: str) -> None:
            nonlocal text
            if capture:
                text += data

        parser = _safe_expat(namespaces=False)
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = character_data
        return parser


class _NotPlain(Exception):
    """Internal: the sheet holds XML the plain reader does not handle; the exact reader reads it instead."""


#: Attributes as programs write them; a cell's r, s and t must come first, in this order, before any others.
_ATTRIBUTES = r'(?:\s[^\s=/>]+="[^"]*")*'
_MORE_CELL_ATTRIBUTES = r'(?:\s(?![rst]=)[^\s=/>]+="[^"]*")*'
_XML_REFERENCE = re.compile(r"&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|(lt|gt|amp|quot|apos));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_MAX_CARRY = 4 * CHUNK_BYTES  # an unfinished row longer than this is left to the exact reader
_HEAD_BYTES = 256  # enough for any XML declaration
_DECLARATION = re.compile(rb"""<\?xml[^?]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _prolog_length(head: bytes) -> int:
    """Count the bytes of a UTF-8 byte order mark and XML declaration; a sheet in another encoding is not plain."""
    start = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
    if head[start : start + 1] != b"<" or head[start + 1 : start + 2] in (b"", b"\x00"):
        raise _NotPlain  # UTF-16 or -32, with or without a byte order mark
    if not head.startswith(b"<?xml", start):
        return start
    declared, end = _DECLARATION.match(head, start), head.find(b"?>", start)
    if end < 0 or (declared and declared.group(1).lower() not in (b"utf-8", b"utf8")):
        raise _NotPlain
    return end + 2


def _xml_text(raw: str) -> str:
    """Decode character data as expat would: line ends first, then character and predefined entity references."""
    if "\r" in raw:
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    return _XML_REFERENCE.sub(
        lambda match: chr(int(match[1], 16)) if match[1] else chr(int(match[2])) if match[2] else _NAMED[match[3]],
        raw,
    )


class _PlainRows:
    """Reads rows shaped as spreadsheet programs write them with two regexes, about 1.5 times as fast as expat's
    handlers; anything else (comments, CDATA, processing instructions, rich text, attributes out of the usual
    order, another encoding) raises _NotPlain before any row of its chunk is handed out.

    The regexes only look at bytes an expat parser without handlers (C speed) has already accepted, so what
    they see is well-formed and free of DTDs: no '<' inside text or attributes, so the first </row> after a
    <row> closes it. For every row they accept they give what _ExactRows gives (tests compare the two).
    """

    def __init__(self, state: _RowState, prefix: str) -> None:
        self.state = state
        self.checker = _safe_expat(namespaces=False)
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.value_of = _cell_reader(state)
        self.head: bytes | None = b""  # the first bytes, kept until the XML declaration has been looked at
        self.carry = ""
        p = re.escape(prefix)
        self.row_open, self.row_close = f"<{prefix}row", f"</{prefix}row>"
        self.row_tag = re.compile(rf'<{p}row r="([0-9]+)"{_ATTRIBUTES}(/?)>')
        self.cells = re.compile(
            rf'<{p}c r="([A-Z]+)[0-9]+"(?: s="([0-9]+)")?(?: t="(\w+)")?{_MORE_CELL_ATTRIBUTES}'
            rf"(?:/>|>(?:(<{p}f{_ATTRIBUTES}(?:/>|>([^<]*)</{p}f>)))?"
            rf"(?:<{p}v>([^<]*)</{p}v>|<{p}is><{p}t{_ATTRIBUTES}>([^<]*)</{p}t></{p}is>)?</{p}c>)"
            r"|(\S)"  # anything else but the blanks between cells
        )

    def feed(self, chunk: bytes, final: bool = False) -> list[Row]:
        """Check the next bytes of the sheet, then give the rows they complete."""
        self.checker.Parse(chunk, final)
        if self.head is not None:
            self.head += chunk
            if len(self.head) < _HEAD_BYTES and not final:
                return []
            chunk, self.head = self.head[_prolog_length(self.head) :], None
        text = self.carry + self.decoder.decode(chunk, final)
        if "<!" in text or "<?" in text:
            raise _NotPlain
        ready: list[Row] = []
        position = 0
        while (start := text.find(self.row_open, position)) >= 0:
            tag = self.row_tag.match(text, start)
            if tag is None:
                follows = text[start + len(self.row_open) : start + len(self.row_open) + 1]
                if follows and follows not in " \t\r\n/>":  # another element, such as <rowBreaks>
                    position = start + 1
                    continue
                if final or text.find(">", start) >= 0:
                    raise _NotPlain  # a whole row tag the regex does not read
                break  # the rest of the tag comes with the next chunk
            if tag[2]:  # <row r="7"/>
                self._row(tag[1], "", ready)
                position = tag.end()
                continue
            close = text.find(self.row_close, tag.end())
            if close < 0:
                break  # the rest of the row comes with the next chunk
            self._row(tag[1], text[tag.end() : close], ready)
            position = close + len(self.row_close)
        else:
            self.carry = text[max(position, len(text) - len(self.row_open)) :]
            return ready
        if final or len(text) - start > _MAX_CARRY:
            raise _NotPlain  # a row that never ends, or one too long to look at again with every chunk
        self.carry = text[start:]
        return ready

    def _row(self, number: str, content: str, ready: list[Row]) -> None:
        """Read one row's cells; a row holding anything but plain cells is not plain."""
        state, value_of, columns = self.state, self.value_of, self.state.columns
        state.next_row(number)
        escaped = "&" in content or "\r" in content
        cells: list[Cell] = []
        for letters, style, cell_type, formula_tag, formula, value_text, inline_text, stray in self.cells.findall(
            content
        ):
            if stray:
                raise _NotPlain
            column = columns.get(letters)
            if column is None:
                column = state.column(letters, len(cells))
            text = value_text or inline_text
            if escaped:
                text, formula = _xml_text(text), _xml_text(formula)
            value = value_of(text, formula if formula_tag else None, cell_type, style)
            if column == len(cells):  # the next column, as in nearly every row: no call
                cells.append(value)
            else:
                _place(cells, column, value)
        state.end_row(cells, ready)


def _parse_sheet(archive: zipfile.ZipFile, part: str, state: _RowState, plain: bool) -> Iterator[list[Row]]:
    """Parse a sheet a chunk at a time with one reader, giving the rows each chunk completes (memory stays flat)."""
    with archive.open(part) as stream:
        chunk = stream.read(CHUNK_BYTES)
        prefix = _document_prefix(chunk)
        reader = _PlainRows(state, prefix) if plain else _ExactRows(state, prefix)
        while chunk:
            if batch := reader.feed(chunk):
                yield batch
            chunk = stream.read(CHUNK_BYTES)
        if batch := reader.feed(b"", final=True):
            yield batch


def _row_batches(path: Path, part: str, book: _Book, limits: Limits, sheet: str) -> Iterator[list[Row]]:
    """Stream a sheet's rows in batches, checking it on the way: plainly written sheets through the fast reader,
    others (or the rest of one found not plain) through the exact one, which skips the rows already handed out.
    Anything that makes the sheet unreadable raises _Refused, whenever it is met."""
    handed_out = 0
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                for batch in _parse_sheet(archive, part, _RowState(book, limits, sheet), plain=True):
                    handed_out += len(batch)
                    yield batch
                return
            except _NotPlain:
                pass
            for batch in _parse_sheet(archive, part, _RowState(book, limits, sheet), plain=False):
                if handed_out >= len(batch):
                    handed_out -= len(batch)
                elif batch := batch[handed_out:]:
                    handed_out = 0
                    yield batch
    except expat.ExpatError as error:
        _refuse(_not_well_formed(part, error), sheet)
    except _DAMAGE as error:
        _refuse(_damaged(error), sheet)


def _sheet_rows(path: Path, part: str, book: _Book, limits: Limits, sheet: str) -> Iterator[Row]:
    """Stream a sheet's rows, parsed in this process."""
    for batch in _row_batches(path, part, book, limits, sheet):
        yield from batch


def _read_xlsx(path: Path, name: str, limits: Limits) -> RawWorkbook:
    """Read the parts every sheet depends on, then stream the sheets in workbook order, each checked as it goes."""
    try:
        with zipfile.ZipFile(path) as archive:
            book = _open_book(archive)
    except _Refused as refusal:
        return RawWorkbook(name, "xlsx", [], [Problem(name, refusal.message, sheet=refusal.sheet)])
    except DefusedXmlException:
        return RawWorkbook(name, "xlsx", [], [Problem(name, _DTD_MESSAGE)])
    except (ParseError, *_DAMAGE) as error:
        return RawWorkbook(name, "xlsx", [], [Problem(name, _damaged(error))])
    sheets = [RawSheet(entry.name, _xlsx_sheet_rows(path, name, entry, book, limits)) for entry in book.sheets]
    return RawWorkbook(name, "xlsx", sheets, [], date1904=book.date1904)


def _xlsx_sheet_rows(path: Path, name: str, entry: _SheetEntry, book: _Book, limits: Limits) -> Iterator[Row]:
    """Give a sheet's rows (none for a chart sheet), a long sheet's from a worker process, and turn a refusal
    met on the way into UnreadableSheet."""
    if entry.part is None:
        return
    if WORKER_MIN_BYTES is not None and entry.size >= WORKER_MIN_BYTES and _spare_core():
        rows = _worker_rows(path, entry.part, book, limits, entry.name)
    else:
        rows = _sheet_rows(path, entry.part, book, limits, entry.name)
    try:
        yield from rows
    except _Refused as refusal:
        raise UnreadableSheet(Problem(name, refusal.message, sheet=refusal.sheet or entry.name)) from None


# --- xlsx: parsing a long sheet in a worker process -------------------------------------------------------------


def _usable_cores() -> int:
    """Count the cores this process may run on (its affinity mask, where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _spare_core() -> bool:
    """Tell whether a worker would find a core: while the last minute's load fills them all, it only adds work."""
    try:
        return os.getloadavg()[0] < _usable_cores()
    except (AttributeError, OSError):  # no load average (Windows): assume the cores are there
        return True


#: A sheet whose XML unpacks to at least this many bytes (about 5,000 rows of 12 cells) is parsed in a worker
#: process when a core is idle, so the parsing runs beside the caller's checking and loading of the rows already
#: read; a smaller sheet is not worth the 0.1-0.2 s a worker takes to start. None: parse every sheet here.
WORKER_MIN_BYTES: int | None = 2 * MB if _usable_cores() > 1 and sys.executable else None

# The worker runs this very package (see importers.worker); tests replace the command.
_WORKER_COMMAND = worker_command("importers.read", "_serve_worker")
_FRAME = FRAME


def _worker_rows(path: Path, part: str, book: _Book, limits: Limits, sheet: str) -> Iterator[Row]:
    """Stream a long sheet's rows as a worker parses them; parse here instead if the worker fails before any row."""
    request = (path, part, book, limits, sheet)
    try:
        worker = _start_worker(request)
    except OSError:
        yield from _sheet_rows(*request)
        return
    with worker:  # closes the pipes and waits for the worker
        handed_out = False
        try:
            for batch in received_batches(worker):
                handed_out = True
                yield from batch
            return
        except WorkerLost:
            if handed_out:  # rows already went out: starting again here would hand them out twice
                raise RuntimeError(f"the process reading {part} stopped (exit code {worker.poll()})") from None
        finally:
            worker.kill()  # the consumer may stop early; a finished worker ignores this
    yield from _sheet_rows(*request)


def _start_worker(request: tuple[Path, str, _Book, Limits, str]) -> subprocess.Popen[bytes]:
    """Start a worker process and send it the sheet to parse, with the shared strings and styles it needs."""
    return start_worker(_WORKER_COMMAND, request)


def _serve_worker() -> None:
    """Worker process: parse the sheet named on stdin and send its row batches (or the refusal that stopped it)."""
    serve(_row_batches, _Refused)
