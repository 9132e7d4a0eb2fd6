"""Turn an accepted .xlsx/.xlsm or .csv upload into raw sheets of rows, streamed so memory stays flat.

Everything that can make a file unreadable is checked in `read_file` before any row is handed out, so a
caller either gets problems (and no sheets) or rows that stream to the end without failing.

Why our own streaming parser instead of python-calamine or openpyxl: calamine 0.9.1 loads a whole sheet into
a dense grid (about 0.9 GB for 1M rows x 12 columns, and a two-cell file with A1 and XFD1048576 makes it
abort the process on a 50 GB allocation), and even on a small sheet it reads cells unlike this reader: error
cells and formulas without a cached value come out empty, a negative serial in a date cell as midnight,
[h]:mm durations as timedeltas, rich-text runs without their spaces, cells at their own reference whatever
row holds them. openpyxl read-only streams but is 3.5 times slower than this parser and, trusting
<dimension>, drops rows a file does not admit to. Expat (the C parser behind xml.etree) with small handlers
streams at flat memory; it gets the same guards defusedxml installs (no DTD, no entity declarations, no
external entities), and the small parts are parsed by defusedxml itself.

A long sheet is parsed by a worker process running this same parser, which sends the rows in pickled batches
through a pipe: when a core is idle the parsing (about 2.3 s per 100k rows of 12 cells, nearly all of it in
expat's calls into Python, which no rewrite of the handlers shortened by more than 5%) runs beside the
caller's checking and loading instead of before them. On a busy machine the worker would only add work.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import os
import pickle
import posixpath
import re
import signal
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, NoReturn
from xml.etree.ElementTree import Element, ParseError  # types only; parsing goes through defusedxml  # nosec B405
from xml.parsers import expat

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

from importers.problems import Problem
from importers.sniff import DEFAULT_LIMITS, MB, Limits, sniff

CHUNK_BYTES = 256 * 1024
MAX_CSV_PROBLEMS = 100  # a badly encoded file would otherwise give one problem per row
_MAX_SMALL_PART_BYTES = 64 * MB  # workbook, relationships and styles of real workbooks stay far below this
_MAX_SHARED_STRINGS_BYTES = 256 * MB  # the table is held in memory while the sheets stream


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


@dataclass
class RawWorkbook:
    """All sheets of one file in workbook order, or the file-level problems that stop it being read."""

    filename: str
    kind: str  # "xlsx" or "csv"; "unknown" when sniffing refused the file
    sheets: list[RawSheet]
    problems: list[Problem]
    csv_decimal_comma: bool = False  # a ';'-delimited csv writes 1.234,5 for 1234.5
    date1904: bool = False  # date-formatted cells are converted already; this is for serials in General cells


def read_file(path: Path, *, display_name: str | None = None, limits: Limits = DEFAULT_LIMITS) -> RawWorkbook:
    """Check a file completely, then hand out its sheets as lazy row streams."""
    name = display_name or path.name
    kind, problems = sniff(path, name, limits)
    if kind == "xlsx":
        return _read_xlsx(path, name, limits)
    if kind == "csv":
        return _read_csv(path, name, limits)
    return RawWorkbook(name, "unknown", [], problems)


# --- text -----------------------------------------------------------------------------------------------------

_ILLEGAL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_OOXML_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")


def _clean_text(text: str) -> str | None:
    """Drop characters XML forbids and surrounding blanks, so text compares and stores cleanly."""
    cleaned = _ILLEGAL_CHARS.sub("", text).strip()
    return cleaned or None


def _unescape_ooxml(text: str) -> str:
    """Decode Excel's _xHHHH_ escapes, which it uses for characters XML cannot hold (line breaks, controls)."""
    return _OOXML_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text) if "_x" in text else text


# --- xlsx: the package ------------------------------------------------------------------------------------------


class _Refused(Exception):
    """Internal: unwinds the checks of one file with the problem that refuses it; never leaves this module."""

    def __init__(self, message: str, sheet: str | None = None) -> None:
        super().__init__(message)
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
    """A sheet listed in the workbook: its name and, for a worksheet (not a chart), its XML part."""

    name: str
    part: str | None


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
            sheets.append(_SheetEntry(element.get("name") or "", target[1] if target and is_worksheet else None))
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
            strings.append(_clean_text(_unescape_ooxml("".join(parts))))
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


def _feed(parser: expat.XMLParserType, chunks: Iterator[bytes], part: str, sheet: str | None = None) -> None:
    """Run a parser over a whole part, turning XML syntax errors into a refusal that names the place."""
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Refused as refusal:
        raise _Refused(refusal.message, refusal.sheet or sheet) from None
    except expat.ExpatError as error:
        _refuse(
            f"the workbook is damaged: {part} is not well-formed XML (line {error.lineno}, "
            f"{expat.ErrorString(error.code)}); open it in Excel and save it again",
            sheet,
        )


# --- xlsx: checking a sheet before streaming it -------------------------------------------------------------------


def _column_letters(index: int) -> str:
    """Give the spreadsheet letters of a 1-based column number (1 -> A, 27 -> AA)."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_number(letters: str) -> int:
    """Give the 1-based column number of spreadsheet letters (A -> 1, AA -> 27)."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _check_sheet(archive: zipfile.ZipFile, sheet: _SheetEntry, part: str, limits: Limits) -> int:
    """Unpack and parse a sheet once without building rows: its XML, row count and widest column must pass.

    Cells are never allocated by the <dimension> a file claims, so a lying dimension costs nothing here.
    """
    scan: _SheetScan | None = None
    tail = b""

    def checked_chunks() -> Iterator[bytes]:
        nonlocal scan, tail
        for chunk in _part_chunks(archive, part):
            scan = scan or _SheetScan(_document_prefix(chunk), limits, sheet.name)
            text = tail + chunk
            cut = text.rfind(b"<")  # a tag split across chunks is looked at with the next chunk
            scan.scan(text, cut)
            tail = text[cut:]
            yield chunk
        if scan:
            scan.scan(tail, len(tail))

    _feed(_safe_expat(namespaces=False), checked_chunks(), part, sheet.name)
    rows = scan.rows if scan else 0
    if rows > limits.max_rows:
        _refuse(f"the sheet has {rows:,} rows, more than the {limits.max_rows:,} accepted; split it", sheet.name)
    return rows


_DATE_CACHE_SIZE = 4096
_ROOT_PREFIX = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")


def _document_prefix(first_chunk: bytes) -> str:
    """Find the namespace prefix the sheet uses ("" or e.g. "x:"), since matching plain names is cheaper."""
    root = _ROOT_PREFIX.search(first_chunk)
    return root.group(1).decode() if root and root.group(1) else ""


class _SheetScan:
    """Counts rows and spots cells beyond the last column read, on raw XML bytes (regexes with literal prefixes).

    A cell without an r="..." reference takes the next column, so its width is bounded by what the file holds.
    """

    def __init__(self, prefix: str, limits: Limits, sheet: str) -> None:
        self.limits = limits
        self.sheet = sheet
        self.rows = 0
        self.row_tag = re.compile(b"<" + re.escape(prefix.encode()) + rb"row[\s/>]")
        letters = len(_column_letters(limits.max_columns))
        # Any r attribute, as XML allows it (either quote, blanks around '=', row number or not), whose letters are
        # as long as the limit's; and any r attribute holding a character reference, which the parser would decode.
        # Both start with the literal 'r', which the regex engine finds fast (a leading \s made them 3x slower);
        # the blank before it is checked on each match.
        self.wide_ref = re.compile(rb'r\s*=\s*["\']([A-Z]{%d,})([0-9]*)["\']' % letters)
        self.escaped_ref = re.compile(rb'r\s*=\s*["\'][^"\'<>]*&')

    def scan(self, text: bytes, end: int) -> None:
        """Look at text[:end], which holds only whole tags."""
        self.rows += len(self.row_tag.findall(text, 0, end))
        for match in self.wide_ref.finditer(text, 0, end):
            letters = match.group(1).decode()
            if _attribute_start(text, match.start()) and _column_number(letters) > self.limits.max_columns:
                _refuse(_too_wide_message(letters + match.group(2).decode(), self.limits), self.sheet)
        if text.find(b"&", 0, end) >= 0 and any(  # most sheets hold no '&' at all: one fast look, then none
            _attribute_start(text, match.start()) for match in self.escaped_ref.finditer(text, 0, end)
        ):
            _refuse(
                "the sheet has a cell reference written with a character reference (&#...;), which spreadsheet "
                "programs never write; open the file in Excel and save it again",
                self.sheet,
            )


def _attribute_start(text: bytes, position: int) -> bool:
    """Tell whether a match starts an attribute's name (after a blank), not the end of a longer name."""
    return text[position - 1 : position].isspace()


def _too_wide_message(cell: str, limits: Limits) -> str:
    """Explain a cell beyond the last column read, which could otherwise make every row enormous."""
    last = _column_letters(limits.max_columns)
    return (
        f"the sheet has a cell at {cell}, beyond column {last} (at most {limits.max_columns} columns are read); "
        f"delete the cells to the right of column {last}"
    )


# --- xlsx: streaming rows -----------------------------------------------------------------------------------------


def _row_parser(book: _Book, prefix: str) -> tuple[expat.XMLParserType, list[Row]]:
    """Build a parser whose handlers turn sheet XML into rows in `ready`; closures, as they run for every cell."""
    cell_tag, value_tag, formula_tag, text_tag, row_tag, phonetic_tag = (
        prefix + tag for tag in ("c", "v", "f", "t", "row", "rPh")
    )
    shared, style_kinds, date1904 = book.shared, book.style_kinds, book.date1904
    ready: list[Row] = []
    cells: list[Cell] = []
    columns: dict[str, int] = {}
    dates: dict[tuple[int, str], Cell] = {}  # date columns repeat the same days, and timedelta maths is slow
    text = ""  # the character data of the <v>, <t> or <f> being read
    formula: str | None = None
    cell_type: str | None = None
    cell_style: str | None = None
    row_number = column = 0
    capture = phonetic = False

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal text, formula, capture, cell_type, cell_style, row_number, column, phonetic
        if name == cell_tag:
            cell_type = attributes.get("t")
            cell_style = attributes.get("s")
            letters = attributes.get("r", "").rstrip("0123456789")
            column = columns.get(letters, -1)
            if column < 0:
                column = _learn_column(columns, letters, len(cells))
            text = ""
            formula = None
        elif name == value_tag or (name == text_tag and not phonetic):
            capture = True
        elif name == formula_tag:
            capture = True
        elif name == row_tag:
            number = attributes.get("r")
            given = int(number) if number and number.isdecimal() and len(number) < 12 else 0
            row_number = given if given > 0 else row_number + 1  # rows are 1-based: r="0" is as good as none
            cells.clear()
        elif name == phonetic_tag:
            phonetic = True

    def end(name: str) -> None:
        nonlocal text, formula, capture, phonetic
        if name == cell_tag:
            if not text:
                value = _empty_cell_value(formula, cell_type)
            elif cell_type is None or cell_type == "n":
                kind = style_kinds.get(cell_style) if cell_style else None
                if kind is None:
                    value = _number(text, None, date1904)
                elif (value := dates.get((kind, text))) is None:
                    value = dates[kind, text] = _number(text, kind, date1904)
            else:
                value = _typed_value(cell_type, text, shared)
            if column == len(cells):
                cells.append(value)
            elif column > len(cells):
                cells.extend([None] * (column - len(cells)))
                cells.append(value)
            else:
                cells[column] = value
        elif name == value_tag or name == text_tag:
            capture = False
        elif name == formula_tag:
            capture = False
            formula, text = text, ""
        elif name == row_tag:
            if any(value is not None for value in cells):
                ready.append((row_number, tuple(cells)))
            if len(dates) > _DATE_CACHE_SIZE:
                dates.clear()
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
    return parser, ready


def _learn_column(columns: dict[str, int], letters: str, next_column: int) -> int:
    """Give the 0-based column of new reference letters and remember it; a cell with none takes the next column."""
    if letters.isascii() and letters.isalpha() and letters.isupper():
        columns[letters] = _column_number(letters) - 1
        return columns[letters]
    return next_column


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
        return _clean_text(raw)  # not a number at all: the value layer reports it as text
    return _serial_to_python(number, kind, date1904) if kind else number


def _typed_value(cell_type: str, raw: str, shared: list[str | None]) -> Cell:
    """Read a cell whose t attribute says it holds a shared string, boolean, ISO date, text or error code."""
    if cell_type == "s":
        return _shared(shared, raw)
    if cell_type == "b":
        return raw == "1" or raw == "true"
    if cell_type == "d":
        return _iso_value(raw)
    return _clean_text(_unescape_ooxml(raw))  # str, inlineStr, and error codes such as #DIV/0!


def _shared(strings: list[str | None], index: str) -> str | None:
    """Look up a shared string; a dangling index (a damaged file) reads as an empty cell."""
    position = int(index) if index.isdecimal() and len(index) < 12 else -1
    return strings[position] if 0 <= position < len(strings) else None


def _iso_value(text: str) -> Cell:
    """Read a t="d" cell (ISO 8601, written by some non-Excel programs), keeping odd text as text."""
    try:
        moment = datetime.fromisoformat(text.strip().removesuffix("Z"))
    except ValueError:
        return _clean_text(text)
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)  # naive means UTC, as "Z" does
        except OverflowError:  # the offset carries it past 9999-12-31 or before 0001-01-01: not a date
            return _clean_text(text)
    return moment.date() if moment.time() == time() else moment


def _row_batches(path: Path, part: str, book: _Book) -> Iterator[list[Row]]:
    """Parse a checked sheet a chunk at a time, giving the rows each chunk completes (so memory stays flat)."""
    with zipfile.ZipFile(path) as archive, archive.open(part) as stream:
        chunk = stream.read(CHUNK_BYTES)
        parser, ready = _row_parser(book, _document_prefix(chunk))
        while chunk:
            parser.Parse(chunk, False)
            if ready:
                yield ready.copy()
                ready.clear()
            chunk = stream.read(CHUNK_BYTES)
        parser.Parse(b"", True)
        if ready:
            yield ready


def _sheet_rows(path: Path, part: str, book: _Book) -> Iterator[Row]:
    """Stream a checked sheet's rows, parsed in this process."""
    for batch in _row_batches(path, part, book):
        yield from batch


def _read_xlsx(path: Path, name: str, limits: Limits) -> RawWorkbook:
    """Check every part a workbook's rows depend on, then stream its sheets in workbook order."""
    try:
        with zipfile.ZipFile(path) as archive:
            book = _open_book(archive)
            rows = {entry.part: _check_sheet(archive, entry, entry.part, limits) for entry in book.sheets if entry.part}
    except _Refused as refusal:
        return RawWorkbook(name, "xlsx", [], [Problem(name, refusal.message, sheet=refusal.sheet)])
    except DefusedXmlException:
        return RawWorkbook(name, "xlsx", [], [Problem(name, _DTD_MESSAGE)])
    except (
        ParseError, zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError, ValueError
    ) as error:  # fmt: skip
        # Damaged parts, compression methods zipfile lacks, zip-level passwords: all need the file saved again.
        message = f"the workbook is damaged ({error}); open it in Excel, save it as .xlsx and upload it again"
        return RawWorkbook(name, "xlsx", [], [Problem(name, message)])
    sheets = [RawSheet(entry.name, _xlsx_sheet_rows(path, entry, book, rows)) for entry in book.sheets]
    return RawWorkbook(name, "xlsx", sheets, [], date1904=book.date1904)


def _xlsx_sheet_rows(path: Path, entry: _SheetEntry, book: _Book, rows: dict[str, int]) -> Iterator[Row]:
    """Give a sheet's rows: none for a chart sheet, which holds no cells; a long sheet's from a worker process."""
    if entry.part is None:
        return iter(())
    if WORKER_MIN_ROWS is not None and rows[entry.part] >= WORKER_MIN_ROWS and _spare_core():
        return _worker_rows(path, entry.part, book)
    return _sheet_rows(path, entry.part, book)


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


#: A sheet with at least this many rows (as the safety scan counted them) is parsed in a worker process when a
#: core is idle, so the parsing runs beside the caller's checking and loading of the rows already read; a
#: smaller sheet is not worth the 0.1-0.2 s a worker takes to start. None: parse every sheet in this process.
WORKER_MIN_ROWS: int | None = 10_000 if _usable_cores() > 1 and sys.executable else None

_FRAME = struct.Struct("<Q")  # each batch of rows travels as the length of its pickle, then the pickle; 0 ends
_PIPE_BYTES = 1024 * 1024  # Linux's default upper limit for an unprivileged process
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])
# -P keeps the working directory off sys.path, so the worker imports this very package and nothing else.
_WORKER_COMMAND = (sys.executable, "-P", "-c", "from importers.read import _serve_worker; _serve_worker()")


class _WorkerLost(Exception):
    """Internal: the worker process ended before its end marker (it could not start, or it died)."""


def _worker_rows(path: Path, part: str, book: _Book) -> Iterator[Row]:
    """Stream a long sheet's rows as a worker parses them; parse here instead if the worker fails before any row."""
    try:
        worker = _start_worker(path, part, book)
    except OSError:
        yield from _sheet_rows(path, part, book)
        return
    with worker:  # closes the pipes and waits for the worker
        handed_out = False
        try:
            for batch in _received_batches(worker):
                handed_out = True
                yield from batch
            return
        except _WorkerLost:
            if handed_out:  # rows already went out: starting again here would hand them out twice
                raise RuntimeError(f"the process reading {part} stopped (exit code {worker.poll()})") from None
        finally:
            worker.kill()  # the consumer may stop early; a finished worker ignores this
    yield from _sheet_rows(path, part, book)


def _start_worker(path: Path, part: str, book: _Book) -> subprocess.Popen[bytes]:
    """Start a worker process and send it the sheet to parse, with the shared strings and styles it needs."""
    search_path = os.pathsep.join(filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))
    worker = subprocess.Popen(  # noqa: S603 - this interpreter running this module, no shell, no user input  # nosec B603
        _WORKER_COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": search_path}
    )
    assert worker.stdin is not None and worker.stdout is not None
    _widen_pipe(worker.stdout)
    try:
        with worker.stdin as request:
            pickle.dump((path, part, book), request, pickle.HIGHEST_PROTOCOL)
    except OSError:  # it could not start (or died at once): it is not wanted any more
        worker.kill()
        worker.wait()
        raise
    return worker


def _widen_pipe(stream: IO[bytes]) -> None:
    """Let the worker parse up to a megabyte of rows ahead of the caller (on Linux; other pipes stay as they are)."""
    with contextlib.suppress(ImportError, AttributeError, OSError):
        import fcntl

        fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)


def _received_batches(worker: subprocess.Popen[bytes]) -> Iterator[list[Row]]:
    """Unpickle the worker's batches of rows up to its end marker; a worker that ends before it is lost."""
    stream = worker.stdout
    assert stream is not None
    while (header := stream.read(_FRAME.size)) and len(header) == _FRAME.size:
        (size,) = _FRAME.unpack(header)
        if not size:
            return
        data = stream.read(size)
        if len(data) < size:
            break
        yield pickle.loads(data)  # noqa: S301 - written by the worker this reader started, through its pipe  # nosec B301
    raise _WorkerLost


def _serve_worker() -> None:
    """Worker process: parse the sheet named on stdin and write its row batches to stdout, then the end marker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group; the reader stops us
    output = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything printed goes to stderr, never among the rows
    path, part, book = pickle.load(sys.stdin.buffer)  # noqa: S301 - sent by the reader that started us  # nosec B301
    with output:
        for batch in _row_batches(path, part, book):
            data = pickle.dumps(batch, pickle.HIGHEST_PROTOCOL)
            output.write(_FRAME.pack(len(data)))
            output.write(data)
        output.write(_FRAME.pack(0))


# --- csv --------------------------------------------------------------------------------------------------------

_UNDECODABLE = "\udc80"  # a lone surrogate: no correct decoding ever produces one


def _mark_undecodable(error: UnicodeError) -> tuple[str, int]:
    """Decode error handler that leaves a marker, so the row holding the bad bytes can be named."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return _UNDECODABLE, error.end


codecs.register_error("zetrials-mark-undecodable", _mark_undecodable)

_DELIMITERS = (",", ";", "\t")


def _csv_encoding(path: Path) -> str:
    """Pick the encoding from a byte-order mark, else UTF-8 when it fits, else Windows-1252 (Excel's "CSV")."""
    with path.open("rb") as stream:
        head = stream.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        stream.seek(0)
        return _utf8_or_cp1252(stream)


def _utf8_or_cp1252(stream: IO[bytes]) -> str:
    """Choose UTF-8 unless it fails on a file with no UTF-8 multi-byte text before the failure."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    seen_non_ascii = False
    while chunk := stream.read(CHUNK_BYTES):
        try:
            seen_non_ascii = not decoder.decode(chunk).isascii() or seen_non_ascii
        except UnicodeDecodeError as error:
            # Mostly UTF-8 with a few bad bytes: keep UTF-8 and report the rows, rather than mangle every accent.
            return "utf-8" if seen_non_ascii or not chunk[: error.start].isascii() else "cp1252"
    try:
        decoder.decode(b"", True)
    except UnicodeDecodeError:
        return "utf-8" if seen_non_ascii else "cp1252"
    return "utf-8"


def _csv_delimiter(path: Path, encoding: str) -> str:
    """Pick the delimiter that occurs most in the first line holding any, preferring the comma on ties."""
    with path.open(encoding=encoding, errors="replace", newline="") as stream:
        for line, _ in zip(stream, range(20), strict=False):
            counts = [line.count(candidate) for candidate in _DELIMITERS]
            if any(counts):
                return _DELIMITERS[counts.index(max(counts))]
    return ","


@dataclass
class _CsvLines:
    """Feeds lines to csv.reader and remembers whether the current record held a NUL or undecodable bytes."""

    lines: Iterator[str]
    flaw: str | None = None

    def __iter__(self) -> Iterator[str]:
        for line in self.lines:
            if "\x00" in line:
                self.flaw = (
                    "holds a NUL byte (binary data, or text in an encoding other than UTF-8/UTF-16/Windows-1252)"
                )
            elif _UNDECODABLE in line:
                self.flaw = "holds bytes that are not valid text in the file's encoding"
            yield line


def _csv_records(path: Path, encoding: str, delimiter: str) -> Generator[tuple[int, list[str], str | None]]:
    """Yield (record number, fields, flaw) for each csv record; a quoted field may span lines."""
    with path.open(encoding=encoding, errors="zetrials-mark-undecodable", newline="") as stream:
        lines = _CsvLines(stream)
        for number, fields in enumerate(csv.reader(lines, delimiter=delimiter), start=1):
            yield number, fields, lines.flaw
            lines.flaw = None


def _csv_problems(path: Path, name: str, encoding: str, delimiter: str, limits: Limits) -> list[Problem]:
    """Read the whole csv once to find rows that cannot be trusted, before any row is handed out."""
    problems: list[Problem] = []
    records = _csv_records(path, encoding, delimiter)
    row = 0
    try:
        for row, fields, flaw in records:
            problems += _csv_row_problems(name, row, fields, flaw, limits)
            if len(problems) >= MAX_CSV_PROBLEMS or row > limits.max_rows:
                break
    except csv.Error as error:
        problems.append(Problem(name, f"this row cannot be read as csv ({error})", row=row + 1))
    finally:
        records.close()
    if row > limits.max_rows:
        problems.append(Problem(name, f"the file has more than {limits.max_rows:,} rows; split it"))
    return problems


def _csv_row_problems(name: str, row: int, fields: list[str], flaw: str | None, limits: Limits) -> list[Problem]:
    """Say what makes one csv record untrustworthy: bad bytes, or more fields than columns are read."""
    problems = []
    if flaw:
        problems.append(Problem(name, f"this row {flaw}; save the file as CSV UTF-8", row=row))
    if len(fields) > limits.max_columns:
        message = f"this row has {len(fields)} fields, more than the {limits.max_columns} columns read"
        problems.append(Problem(name, message, row=row))
    return problems


def _csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[Row]:
    """Stream checked csv records as rows of cleaned text."""
    for number, fields, _ in _csv_records(path, encoding, delimiter):
        cells = tuple(_clean_text(value) for value in fields)
        if any(value is not None for value in cells):
            yield number, cells


def _read_csv(path: Path, name: str, limits: Limits) -> RawWorkbook:
    """Check a csv completely, then give it as one sheet named after the file."""
    encoding = _csv_encoding(path)
    delimiter = _csv_delimiter(path, encoding)
    problems = _csv_problems(path, name, encoding, delimiter, limits)
    if problems:
        return RawWorkbook(name, "csv", [], problems, csv_decimal_comma=delimiter == ";")
    sheet = RawSheet(Path(name).stem, _csv_rows(path, encoding, delimiter))
    return RawWorkbook(name, "csv", [sheet], [], csv_decimal_comma=delimiter == ";")
