"""Read a csv upload as one sheet: its encoding and delimiter found from the bytes, every record checked first."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from importers.encodings import legacy_encoding
from importers.problems import Problem
from importers.raw import CHUNK_BYTES, RawSheet, RawWorkbook, Row, stripped_text
from importers.sniff import Limits

MAX_CSV_PROBLEMS = 100  # a badly encoded file would otherwise give one problem per row

_UNDECODABLE = "\udc80"  # a lone surrogate: no correct decoding ever produces one


def _mark_undecodable(error: UnicodeError) -> tuple[str, int]:
    """Decode error handler that leaves a marker, so the row holding the bad bytes can be named."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return _UNDECODABLE, error.end


codecs.register_error("zetrials-mark-undecodable", _mark_undecodable)

_DELIMITERS = (",", ";", "\t")


def _csv_encoding(path: Path) -> tuple[str, str | None]:
    """Pick the encoding from a byte-order mark, else UTF-8 when it fits, else the legacy encoding whose reading of
    the bytes is plausible text; give it with the refusal that stops the file when no encoding can be told."""
    with path.open("rb") as stream:
        head = stream.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig", None
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", None
        stream.seek(0)
        if _mostly_utf8(stream):
            return "utf-8", None
        stream.seek(0)
        return legacy_encoding(stream)


def _mostly_utf8(stream: IO[bytes]) -> bool:
    """Choose UTF-8 when it decodes every byte, or more UTF-8 characters than bad bytes (UTF-8 text with a few
    stray bytes pasted in: keep it, and report the rows, rather than mangle every accent). Text in another
    encoding has more bad bytes than pairs that happen to form UTF-8 characters."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    characters = bad = 0
    while chunk := stream.read(CHUNK_BYTES):
        text = decoder.decode(chunk)
        if not text.isascii():
            bad += text.count("\ufffd")
            characters += len(text) - len(text.encode("ascii", "ignore"))
    text = decoder.decode(b"", True)
    bad += text.count("\ufffd")
    return bad == 0 or characters - bad > bad


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
                self.flaw = "holds a NUL byte (binary data, or text in an encoding the reader does not know)"
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
        cells = tuple(stripped_text(value) for value in fields)
        if any(value is not None for value in cells):
            yield number, cells


def read_csv(path: Path, name: str, limits: Limits) -> RawWorkbook:
    """Check a csv completely, then give it as one sheet named after the file."""
    encoding, refusal = _csv_encoding(path)
    if refusal:
        return RawWorkbook(name, "csv", [], [Problem(name, refusal)])
    delimiter = _csv_delimiter(path, encoding)
    problems = _csv_problems(path, name, encoding, delimiter, limits)
    if problems:
        return RawWorkbook(name, "csv", [], problems, csv_decimal_comma=delimiter == ";")
    sheet = RawSheet(Path(name).stem, _csv_rows(path, encoding, delimiter))
    return RawWorkbook(name, "csv", [sheet], [], csv_decimal_comma=delimiter == ";")
