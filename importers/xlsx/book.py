"""An .xlsx package as every one of its sheets needs it: the zip parts, the workbook's sheet list, relationships,
styles (which numbers are dates) and shared strings, all read and checked before any row; and the guards and
refusals the reading of any part shares.

Small parts are parsed by defusedxml; the shared strings and the sheets stream through expat parsers given the
same guards (no DTD, no entity declarations, no external entities). Whatever makes a part unreadable raises
Refused (importers.raw) with the problem to report.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NoReturn
from xml.etree.ElementTree import Element  # types only; parsing goes through defusedxml  # nosec B405
from xml.parsers import expat

from defusedxml import ElementTree as SafeElementTree

from importers.raw import CHUNK_BYTES, MAX_SMALL_PART_BYTES, Refused, stripped_text
from importers.sniff import MB

_MAX_SHARED_STRINGS_BYTES = 256 * MB  # the table is held in memory while the sheets stream

# --- text -------------------------------------------------------------------------------------------------------------

_OOXML_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")


def unescape_ooxml(text: str) -> str:
    """Decode Excel's _xHHHH_ escapes, which it uses for characters XML cannot hold (line breaks, controls)."""
    return _OOXML_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text) if "_x" in text else text


# --- the package ------------------------------------------------------------------------------------------------------


def refuse(message: str, sheet: str | None = None) -> NoReturn:
    """Stop checking a file because of `message`."""
    raise Refused(message, sheet)


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
    _refuse_oversized(archive, part, MAX_SMALL_PART_BYTES)
    return b"".join(_part_chunks(archive, part))


def _refuse_oversized(archive: zipfile.ZipFile, part: str, limit: int) -> None:
    """Refuse a part held in memory whose size (which zipfile never exceeds) is beyond any real workbook's."""
    size = archive.getinfo(part).file_size
    if size > limit:
        refuse(f"the part {part} unpacks to {size / MB:.0f} MB, more than the {limit / MB:.0f} MB a workbook may hold")


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
class SheetEntry:
    """A sheet listed in the workbook: its name and, for a worksheet (not a chart), its XML part and its size."""

    name: str
    part: str | None
    size: int = 0  # unpacked bytes, as the zip directory declares them


@dataclass
class Book:
    """What every sheet of a workbook needs to turn cells into values."""

    sheets: list[SheetEntry]
    shared: list[str | None]
    style_kinds: dict[str, int]  # the s="..." attribute -> _NUMBER, _DATE or _TIME
    date1904: bool


_WORKBOOK = "xl/workbook.xml"


def open_book(archive: zipfile.ZipFile) -> Book:
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
            sheets.append(SheetEntry(element.get("name") or "", part, size))
    properties = next((e for e in workbook.iter() if _local(e.tag) == "workbookPr"), None)
    date1904 = properties is not None and (properties.get("date1904") or "").lower() in ("1", "true")
    styles = next((path for kind, path in targets.values() if kind == "styles"), None)
    shared = next((path for kind, path in targets.values() if kind == "sharedStrings"), None)
    style_kinds = _style_kinds(archive, styles) if styles in archive.NameToInfo else {}
    strings = _shared_strings(archive, shared) if shared in archive.NameToInfo else []
    return Book(sheets, strings, style_kinds, date1904)


def _relationship_targets(archive: zipfile.ZipFile) -> dict[str, tuple[str, str]]:
    """Map the workbook's relationship ids to (relationship kind, part path inside the zip)."""
    rels = "xl/_rels/workbook.xml.rels"
    if rels not in archive.NameToInfo:
        refuse(f"the workbook is damaged: it has no {rels}; open it in Excel and save it again")
    targets = {}
    for element in _parse_small_xml(archive, rels):
        target = element.get("Target") or ""
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        targets[element.get("Id") or ""] = ((element.get("Type") or "").rsplit("/", 1)[-1], path)
    return targets


# --- number formats ---------------------------------------------------------------------------------------------------

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


def serial_to_python(serial: float, kind: int, date1904: bool) -> date | datetime | time | float:
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


# --- XML parsing with defusedxml's guards -----------------------------------------------------------------------------


def safe_expat(*, namespaces: bool) -> expat.XMLParserType:
    """Create an expat parser that refuses what defusedxml refuses: DTDs, entity declarations, external entities."""
    parser = expat.ParserCreate(namespace_separator=" ") if namespaces else expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.UnparsedEntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    parser.buffer_text = True
    parser.buffer_size = CHUNK_BYTES
    return parser


DTD_MESSAGE = (
    "the file contains an XML document type declaration (DTD), which spreadsheet programs never write; "
    "refusing it as unsafe (XXE or entity expansion)"
)


def _refuse_dtd(*_: object) -> NoReturn:
    """Refuse any DTD: spreadsheet programs never write one, and it is how XXE and "billion laughs" attacks work."""
    refuse(DTD_MESSAGE)


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
            strings.append(stripped_text(unescape_ooxml("".join(parts))))
            parts.clear()

    def text(data: str) -> None:
        if depth["t"] and not depth["rPh"]:  # phonetic guide runs are not part of the cell's text
            parts.append(data)

    _refuse_oversized(archive, part, _MAX_SHARED_STRINGS_BYTES)
    parser = safe_expat(namespaces=True)
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
        refuse(not_well_formed(part, error))


def not_well_formed(part: str, error: expat.ExpatError) -> str:
    """Say where a part stops being XML."""
    return (
        f"the workbook is damaged: {part} is not well-formed XML (line {error.lineno}, "
        f"{expat.ErrorString(error.code)}); open it in Excel and save it again"
    )


#: Damaged parts, compression methods zipfile lacks, zip-level passwords, bytes that are not UTF-8: all need the
#: file saved again.
DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError, ValueError)


def damaged(error: Exception) -> str:
    """Explain a workbook the zip or XML layer could not read."""
    return f"the workbook is damaged ({error}); open it in Excel, save it as .xlsx and upload it again"
