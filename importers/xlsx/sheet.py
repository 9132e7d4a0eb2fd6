"""Stream one sheet of an .xlsx package as rows, checking its XML in the same single pass that reads them.

Two readers share one set of rules (_RowState, _cell_reader). The exact reader is expat (the C parser behind
xml.etree) with small handlers: it reads any well-formed sheet, but spends nearly all its time in expat's calls
into Python. The plain reader reads rows shaped as spreadsheet programs write them (shared or inline strings alike)
with two regexes, about 1.5 times as fast, behind an expat parser without handlers that checks every byte first; at
the first thing it does not handle it gives way to the exact reader, which skips the rows already handed out.

Cells are never allocated by the <dimension> a sheet claims. A sheet found unreadable part-way (not well-formed, a
DTD, too many rows, a cell beyond the last column read, damaged compressed data) raises Refused when it is met.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from xml.parsers import expat

from importers.raw import (
    CHUNK_BYTES,
    Cell,
    FormulaWithoutValue,
    Row,
    beyond_last_column,
    column_letters,
    stripped_text,
    too_many_rows,
)
from importers.sniff import Limits
from importers.xlsx.book import (
    DAMAGE,
    Book,
    damaged,
    not_well_formed,
    refuse,
    safe_expat,
    serial_to_python,
    unescape_ooxml,
)


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

    book: Book
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
            refuse(too_many_rows(self.limits), self.sheet)
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
        refuse(beyond_last_column(f"{letters}{self.row_number}", self.limits), self.sheet)

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
        return FormulaWithoutValue(unescape_ooxml(formula))
    return None


def _number(raw: str, kind: int | None, date1904: bool) -> Cell:
    """Read a numeric cell as int or float, or as a date or time when its number format shows one."""
    try:
        number: int | float = float(raw) if "." in raw or "e" in raw or "E" in raw else int(raw)
    except ValueError:
        return stripped_text(raw)  # not a number at all: the value layer reports it as text
    return serial_to_python(number, kind, date1904) if kind else number


def _typed_value(cell_type: str, raw: str, shared: list[str | None]) -> Cell:
    """Read a cell whose t attribute says it holds a shared string, boolean, ISO date, text or error code."""
    if cell_type == "s":
        return _shared(shared, raw)
    if cell_type == "b":
        return raw == "1" or raw == "true"
    if cell_type == "d":
        return _iso_value(raw)
    return stripped_text(unescape_ooxml(raw))  # str, inlineStr, and error codes such as #DIV/0!


def _shared(strings: list[str | None], index: str) -> str | None:
    """Look up a shared string; a dangling index (a damaged file) reads as an empty cell."""
    position = int(index) if index.isdecimal() and len(index) < 12 else -1
    return strings[position] if 0 <= position < len(strings) else None


def _iso_value(text: str) -> Cell:
    """Read a t="d" cell (ISO 8601, written by some non-Excel programs), keeping odd text as text."""
    try:
        moment = datetime.fromisoformat(text.strip().removesuffix("Z"))
    except ValueError:
        return stripped_text(text)
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)  # naive means UTC, as "Z" does
        except OverflowError:  # the offset carries it past 9999-12-31 or before 0001-01-01: not a date
            return stripped_text(text)
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

        parser = safe_expat(namespaces=False)
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
        self.checker = safe_expat(namespaces=False)
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


def row_batches(path: Path, part: str, book: Book, limits: Limits, sheet: str) -> Iterator[list[Row]]:
    """Stream a sheet's rows in batches, checking it on the way: plainly written sheets through the fast reader,
    others (or the rest of one found not plain) through the exact one, which skips the rows already handed out.
    Anything that makes the sheet unreadable raises Refused, whenever it is met."""
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
        refuse(not_well_formed(part, error), sheet)
    except DAMAGE as error:
        refuse(damaged(error), sheet)
