"""Read an .xlsx/.xlsm upload as sheets of rows, streamed so memory stays flat.

What makes the whole file unreadable (its zip directory, the workbook, styles and shared strings) is checked in
`read_xlsx` before any row is handed out (importers.xlsx.book): the caller gets problems and no sheets. A sheet's own
XML is checked in the single pass that reads its rows (importers.xlsx.sheet): a sheet that turns out unreadable
part-way raises UnreadableSheet from its rows, and the importer, whose one transaction holds everything read so far,
writes nothing. A long sheet is parsed by a worker process when a core is idle (importers.xlsx.parallel).

Why our own streaming parser instead of python-calamine or openpyxl: calamine 0.9.1 loads a whole sheet into
a dense grid (about 0.9 GB for 1M rows x 12 columns, and a two-cell file with A1 and XFD1048576 makes it
abort the process on a 50 GB allocation), and even on a small sheet it reads cells unlike this reader: error
cells and formulas without a cached value come out empty, a negative serial in a date cell as midnight,
[h]:mm durations as timedeltas, rich-text runs without their spaces, cells at their own reference whatever
row holds them. openpyxl read-only streams but is 3.5 times slower than expat with handlers and, trusting
<dimension>, drops rows a file does not admit to.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import ParseError  # types only; parsing goes through defusedxml  # nosec B405

from defusedxml.common import DefusedXmlException

from importers.problems import Problem
from importers.raw import RawSheet, RawWorkbook, Refused, Row, UnreadableSheet
from importers.sniff import Limits
from importers.xlsx.book import DAMAGE, DTD_MESSAGE, Book, SheetEntry, damaged, open_book
from importers.xlsx.parallel import sheet_rows


def read_xlsx(path: Path, name: str, limits: Limits) -> RawWorkbook:
    """Read the parts every sheet depends on, then stream the sheets in workbook order, each checked as it goes."""
    try:
        with zipfile.ZipFile(path) as archive:
            book = open_book(archive)
    except Refused as refusal:
        return RawWorkbook(name, "xlsx", [], [Problem(name, refusal.message, sheet=refusal.sheet)])
    except DefusedXmlException:
        return RawWorkbook(name, "xlsx", [], [Problem(name, DTD_MESSAGE)])
    except (ParseError, *DAMAGE) as error:
        return RawWorkbook(name, "xlsx", [], [Problem(name, damaged(error))])
    sheets = [RawSheet(entry.name, _checked_rows(path, name, entry, book, limits)) for entry in book.sheets]
    return RawWorkbook(name, "xlsx", sheets, [], date1904=book.date1904)


def _checked_rows(path: Path, name: str, entry: SheetEntry, book: Book, limits: Limits) -> Iterator[Row]:
    """Give a sheet's rows (none for a chart sheet), turning a refusal met on the way into UnreadableSheet."""
    if entry.part is None:
        return
    try:
        yield from sheet_rows(path, entry.part, entry.size, book, limits, entry.name)
    except Refused as refusal:
        raise UnreadableSheet(Problem(name, refusal.message, sheet=refusal.sheet or entry.name)) from None
