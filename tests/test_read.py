"""The reader turns accepted files into rows with true row numbers and normalised values, streaming."""

from __future__ import annotations

import codecs
import csv
import io
import os
import subprocess
import sys
import tracemalloc
import zipfile
from collections.abc import Callable, Generator, Iterator
from datetime import date, datetime, time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from importers.problems import Problem
from importers.raw import FormulaWithoutValue, RawWorkbook, Row, UnreadableSheet
from importers.readers import read_file
from importers.sniff import Limits
from importers.xlsx import book as xlsx_book
from importers.xlsx import parallel
from importers.xlsx import sheet as xlsx_sheet
from tests import hostile_files as hostile
from tests.factories import CORPUS, needs_corpus

SPARE_CORE = parallel._spare_core  # before the fixture below replaces it for every test

DTD_REFUSED = (
    "the file contains an XML document type declaration (DTD), which spreadsheet programs never write; "
    "refusing it as unsafe (XXE or entity expansion)"
)


@pytest.fixture(autouse=True, params=["in-process", "worker"])
def parsed_where(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run every test with sheets parsed in this process, then with every sheet parsed by a worker process."""
    monkeypatch.setattr(parallel, "WORKER_MIN_BYTES", 0 if request.param == "worker" else None)
    monkeypatch.setattr(parallel, "_spare_core", lambda: True)  # however busy the machine running the tests
    return str(request.param)


def all_rows(workbook: RawWorkbook) -> dict[str, list[Row]]:
    """Drain every sheet of a workbook that was read without problems."""
    assert workbook.problems == []
    return {sheet.name: list(sheet.rows) for sheet in workbook.sheets}


def drain(workbook: RawWorkbook) -> tuple[dict[str, list[Row]], list[Problem]]:
    """Drain every sheet in turn; a sheet found unreadable on the way gives its problem, and the reading stops."""
    rows: dict[str, list[Row]] = {}
    try:
        for sheet in workbook.sheets:
            rows[sheet.name] = list(sheet.rows)
    except UnreadableSheet as unreadable:
        return rows, [unreadable.problem]
    return rows, []


def problems_of(workbook: RawWorkbook) -> list[Problem]:
    """Give a file's problems: those found before any sheet is handed out (there are no sheets then), or the one
    met while its sheets stream."""
    if workbook.problems:
        assert workbook.sheets == []
        return workbook.problems
    return drain(workbook)[1]


def only_problem(workbook: RawWorkbook) -> Problem:
    """Give the single problem of a refused file."""
    problems = problems_of(workbook)
    assert len(problems) == 1
    return problems[0]


def read_sheet(tmp_path: Path, rows: str, *, date1904: bool = False, shared: list[str] | None = None) -> list[Row]:
    """Read the rows of a one-sheet workbook built from raw <row> XML."""
    path = hostile.write_xlsx(
        tmp_path / "book.xlsx", [("Data", hostile.sheet_xml(rows))], date1904=date1904, shared_strings=shared
    )
    return all_rows(read_file(path))["Data"]


def read_with_peak(path: Path, limits: Limits | None = None) -> tuple[list[Problem], dict[str, list[Row]], int]:
    """Read and drain a file, giving its problems, its rows and the peak of traced memory in bytes."""
    tracemalloc.start()
    try:
        workbook = read_file(path) if limits is None else read_file(path, limits=limits)
        rows, problems = drain(workbook)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return workbook.problems + problems, rows, peak


# --- xlsx values -------------------------------------------------------------------------------------------------


def test_workbook_from_openpyxl_reads_exactly(tmp_path: Path) -> None:
    workbook = read_file(hostile.make_valid_workbook(tmp_path), display_name="March.xlsx")
    assert (workbook.filename, workbook.kind, workbook.csv_decimal_comma, workbook.date1904) == (
        "March.xlsx",
        "xlsx",
        False,
        False,
    )
    rows = all_rows(workbook)["Measurements"]
    assert rows[:3] == [
        (1, ("Trial code", "Period start", "Energy (MWh)")),
        (2, ("LGB-YT-01", date(2024, 3, 1), 1.5)),
        (3, ("LGB-YT-02", date(2024, 3, 2), 3)),
    ]
    assert len(rows) == 31


def test_rows_stream_lazily(tmp_path: Path) -> None:
    sheet = read_file(hostile.make_valid_workbook(tmp_path)).sheets[0]
    assert isinstance(sheet.rows, Iterator)
    assert next(sheet.rows) == (1, ("Trial code", "Period start", "Energy (MWh)"))


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("<c r='A1'><v>42</v></c>", 42),
        ("<c r='A1'><v>-1.25</v></c>", -1.25),
        ("<c r='A1'><v>1.5E-3</v></c>", 0.0015),
        ("<c r='A1' t='b'><v>1</v></c>", True),
        ("<c r='A1' t='b'><v>0</v></c>", False),
        ("<c r='A1' t='e'><v>#DIV/0!</v></c>", "#DIV/0!"),
        ("<c r='A1' t='inlineStr'><is><t>  padded text \t</t></is></c>", "padded text"),
        ("<c r='A1' t='inlineStr'><is><r><t>rich </t></r><r><t>text</t></r></is></c>", "rich text"),
        ("<c r='A1' t='inlineStr'><is><t>base</t><rPh><t>phonetic</t></rPh></is></c>", "base"),
        ("<c r='A1' t='inlineStr'><is><t>line_x000D_break_x0001_</t></is></c>", "line\rbreak"),
        ("<c r='A1' t='d'><v>2024-03-01T00:00:00</v></c>", date(2024, 3, 1)),
        ("<c r='A1' t='d'><v>2024-03-01T06:30:00Z</v></c>", datetime(2024, 3, 1, 6, 30)),
        ("<c r='A1' t='d'><v>2024-03-01T08:30:00+02:00</v></c>", datetime(2024, 3, 1, 6, 30)),
        ("<c r='A1' t='d'><v>early March</v></c>", "early March"),
        ("<c r='A1' s='1'><v>45352</v></c>", date(2024, 3, 1)),
        ("<c r='A1' s='3'><v>45352.75</v></c>", datetime(2024, 3, 1, 18, 0)),
        ("<c r='A1' s='3'><v>45352</v></c>", date(2024, 3, 1)),  # a midnight date-time is a date
        ("<c r='A1' s='2'><v>0.5</v></c>", time(12, 0)),
        ("<c r='A1' s='4'><v>1.25</v></c>", 1.25),  # [h]:mm is a duration, left as days
        ("<c r='A1' s='1'><v>1</v></c>", date(1900, 1, 1)),
        ("<c r='A1' s='1'><v>59</v></c>", date(1900, 2, 28)),
        ("<c r='A1' s='1'><v>61</v></c>", date(1900, 3, 1)),
        ("<c r='A1' s='1'><v>2994626</v></c>", 2994626),  # beyond 9999-12-31: the raw serial, reported later
        ("<c r='A1' s='3'><v>2958465.9999999995</v></c>", 2958465.9999999995),  # rounds into year 10000
        ("<c r='A1' s='1'><v>-3</v></c>", -3),
        ("<c r='A1'><v>not a number</v></c>", "not a number"),
        ("<c r='A1' t='str'><f>\"a\"&amp;\"b\"</f><v>ab</v></c>", "ab"),
        ("<c r='A1'><f>1+1</f><v>2</v></c>", 2),
    ],
)
def test_cell_value_is_normalised(cell: str, value: object, tmp_path: Path) -> None:
    [(number, cells)] = read_sheet(tmp_path, f"<row r='1'>{cell}<c r='B1'><v>0</v></c></row>")
    assert number == 1
    assert cells[0] == value
    assert type(cells[0]) is type(value)


def test_shared_strings_are_cleaned(tmp_path: Path) -> None:
    row = "<row r='1'><c r='A1' t='s'><v>0</v></c><c r='B1' t='s'><v>1</v></c><c r='C1' t='s'><v>7</v></c></row>"
    assert read_sheet(tmp_path, row, shared=[" Trial code ", "  "]) == [(1, ("Trial code", None, None))]


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("<c r='A1'><f>SUM(B1:B3)</f></c>", FormulaWithoutValue("SUM(B1:B3)")),
        ("<c r='A1'><f>SUM(B1:B3)</f><v></v></c>", FormulaWithoutValue("SUM(B1:B3)")),
        ("<c r='A1'><f t='shared' si='0'/></c>", FormulaWithoutValue("")),
        ("<c r='A1' t='str'><f>IF(B1,\"\",\"x\")</f><v></v></c>", None),  # a formula whose result is ""
    ],
)
def test_formula_without_cached_value_is_marked(cell: str, value: object, tmp_path: Path) -> None:
    assert read_sheet(tmp_path, f"<row r='1'>{cell}<c r='B1'><v>1</v></c></row>") == [(1, (value, 1))]


def test_formula_written_by_openpyxl_is_marked(tmp_path: Path) -> None:
    rows = all_rows(read_file(hostile.make_formula_without_value(tmp_path)))["Sheet"]
    assert rows == [(1, ("Energy (MWh)", "Double")), (2, (2, FormulaWithoutValue("A2*2")))]


def test_row_numbers_and_columns_are_true_to_the_file(tmp_path: Path) -> None:
    rows = (
        "<row r='3'><c r='C3'><v>1</v></c></row>"
        "<row r='4'><c r='A4' s='0'/></row>"  # a formatted but empty row is skipped
        "<row r='7'><c r='B7'><v>2</v></c></row>"
    )
    assert read_sheet(tmp_path, rows) == [(3, (None, None, 1)), (7, (None, 2))]


def test_cells_and_rows_without_references_follow_on(tmp_path: Path) -> None:
    rows = (
        "<row><c><v>1</v></c><c><v>2</v></c></row>"
        "<row r='5'><c r='B5'><v>3</v></c><c><v>4</v></c></row>"
        "<row><c><v>5</v></c></row>"
        "<row r='x'><c r='9'><v>6</v></c><c r='b9'><v>7</v></c></row>"  # nonsense references also follow on
    )
    assert read_sheet(tmp_path, rows) == [(1, (1, 2)), (5, (None, 3, 4)), (6, (5,)), (7, (6, 7))]


def test_prefixed_namespace_is_read(tmp_path: Path) -> None:
    xml = (
        f'<x:worksheet xmlns:x="{hostile.MAIN_NS}"><x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr">'
        "<x:is><x:t>prefixed</x:t></x:is></x:c><x:c r='B1'><x:v>7</x:v></x:c></x:row></x:sheetData></x:worksheet>"
    )
    path = hostile.write_xlsx(tmp_path / "prefixed.xlsx", [("Data", xml)])
    assert all_rows(read_file(path)) == {"Data": [(1, ("prefixed", 7))]}


def test_1904_dates_from_openpyxl_come_out_right(tmp_path: Path) -> None:
    path = hostile.make_1904_workbook(tmp_path)
    with zipfile.ZipFile(path) as archive:
        assert b"<v>43890</v>" in archive.read("xl/worksheets/sheet1.xml")  # 2024-03-01 counted from 1904
    workbook = read_file(path)
    assert workbook.date1904
    assert all_rows(workbook)["Sheet"][1] == (2, (date(2024, 3, 1), datetime(2024, 3, 1, 12, 30)))


def test_1904_serials_count_from_1904(tmp_path: Path) -> None:
    row = "<row r='1'><c r='A1' s='1'><v>0</v></c><c r='B1' s='3'><v>1.5</v></c></row>"
    assert read_sheet(tmp_path, row, date1904=True) == [(1, (date(1904, 1, 1), datetime(1904, 1, 2, 12, 0)))]


def test_sheets_come_in_workbook_order_and_empty_ones_have_no_rows(tmp_path: Path) -> None:
    sheets = [
        ("Trials", hostile.sheet_xml(hostile.inline_row(1, "Trial code"))),
        ("Empty", hostile.sheet_xml("")),
        ("Measurements", hostile.sheet_xml(hostile.inline_row(2, "Energy"))),
    ]
    path = hostile.write_xlsx(tmp_path / "three.xlsx", sheets)
    assert all_rows(read_file(path)) == {
        "Trials": [(1, ("Trial code",))],
        "Empty": [],
        "Measurements": [(2, ("Energy",))],
    }


def test_empty_workbook_sheet_yields_no_rows(tmp_path: Path) -> None:
    assert all_rows(read_file(hostile.make_empty_sheet_workbook(tmp_path))) == {"Empty": []}


@given(
    cells=st.lists(
        st.one_of(
            st.integers(-(10**12), 10**12),
            st.floats(-1e9, 1e9).map(lambda number: round(number, 6)),  # within the 15 digits Excel keeps
            st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=30).filter(
                lambda text: not text.startswith("=")  # openpyxl would write a formula
            ),
            st.booleans(),
            st.dates(date(1950, 1, 1), date(2099, 12, 31)),
        ),
        min_size=1,
        max_size=8,
    )
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_values_written_by_openpyxl_read_back(cells: list[object], tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(cells)
    path = tmp_path / "round-trip.xlsx"
    workbook.save(path)
    expected = tuple(_expected(value) for value in cells)
    rows = all_rows(read_file(path))["Sheet"]
    assert rows == ([(1, expected)] if any(value is not None for value in expected) else [])


def _expected(value: object) -> object:
    """What the reader gives back for a value openpyxl wrote: trimmed text, None for blank text."""
    return (value.strip() or None) if isinstance(value, str) else value


# --- xlsx safety --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("builder", [hostile.make_xxe_sheet, hostile.make_billion_laughs])
def test_dtd_in_a_sheet_is_refused_not_expanded(builder: Callable[[Path], Path], tmp_path: Path) -> None:
    path = builder(tmp_path)
    problems, _, peak = read_with_peak(path)
    assert problems == [Problem(path.name, DTD_REFUSED, sheet="Data")]
    assert peak < 5_000_000


def test_dtd_in_the_workbook_part_is_refused(tmp_path: Path) -> None:
    workbook = read_file(hostile.make_xxe_workbook(tmp_path))
    assert only_problem(workbook) == Problem("xxe-workbook.xlsx", DTD_REFUSED)


def test_huge_claimed_dimension_costs_nothing(tmp_path: Path) -> None:
    _, rows, peak = read_with_peak(hostile.make_huge_dimension(tmp_path))
    assert rows == {"Data": [(1, ("only cell",))]}
    assert peak < 2_000_000


def test_lying_dimension_loses_no_row(tmp_path: Path) -> None:
    rows = all_rows(read_file(hostile.make_lying_dimension(tmp_path)))["Data"]
    assert rows == [(1, ("Name", "Count"))] + [(n, (n,)) for n in range(2, 11)]


def test_cell_in_the_far_corner_is_refused_before_its_row_is_built(tmp_path: Path) -> None:
    problems, _, peak = read_with_peak(hostile.make_far_corner(tmp_path))
    assert problems == [
        Problem(
            "far-corner.xlsx",
            "the sheet has a cell at XFD1048576, beyond column GR (at most 200 columns are read); "
            "delete the cells to the right of column GR",
            sheet="Data",
        )
    ]
    assert peak < 2_000_000


def test_column_limit_is_configurable(tmp_path: Path) -> None:
    path = hostile.write_xlsx(
        tmp_path / "wide.xlsx", [("Data", hostile.sheet_xml(hostile.inline_row(1, "a", "b", "c")))]
    )
    problem = only_problem(read_file(path, limits=Limits(max_columns=2)))
    assert problem.message.startswith("the sheet has a cell at C1, beyond column B")


def test_row_limit_is_enforced(tmp_path: Path) -> None:
    problem = only_problem(read_file(hostile.make_valid_workbook(tmp_path), limits=Limits(max_rows=30)))
    assert problem == Problem(
        "valid.xlsx", "the sheet has more than the 30 rows accepted; split it", sheet="Measurements"
    )


def test_zip_directory_lying_about_sizes_is_caught_while_unpacking(tmp_path: Path) -> None:
    problems, _, peak = read_with_peak(hostile.make_lying_sizes(tmp_path))
    assert [problem.message for problem in problems] == [
        "the workbook is damaged (Bad CRC-32 for file 'xl/worksheets/sheet1.xml'); "
        "open it in Excel, save it as .xlsx and upload it again"
    ]
    assert peak < 2_000_000  # never more than the 1 KB the directory declared was unpacked


def test_oversized_part_is_refused_before_reading_it(tmp_path: Path) -> None:
    assert only_problem(read_file(hostile.make_oversized_styles(tmp_path))).message == (
        "the part xl/styles.xml unpacks to 100 MB, more than the 64 MB a workbook may hold"
    )


def test_malformed_sheet_xml_is_a_problem(tmp_path: Path) -> None:
    path = hostile.write_xlsx(
        tmp_path / "broken.xlsx", [("Data", hostile.sheet_xml("<row r='1'><c r='A1'><v>1</c></row>"))]
    )
    problem = only_problem(read_file(path))
    assert problem.sheet == "Data"
    assert problem.message.startswith("the workbook is damaged: xl/worksheets/sheet1.xml is not well-formed XML")


def test_missing_workbook_relationships_are_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "norels.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", f'<workbook xmlns="{hostile.MAIN_NS}"/>')
    assert only_problem(read_file(path)).message.startswith(
        "the workbook is damaged: it has no xl/_rels/workbook.xml.rels"
    )


def test_file_refused_by_sniffing_has_no_kind(tmp_path: Path) -> None:
    workbook = read_file(hostile.make_empty_file(tmp_path))
    assert (workbook.kind, workbook.sheets, workbook.csv_decimal_comma) == ("unknown", [], False)
    assert [problem.message for problem in workbook.problems] == [
        "the file is empty (0 bytes); upload an .xlsx workbook or a .csv file instead"
    ]


# --- the plain reader against the exact one ---------------------------------------------------------------------

PLAIN_ROW = (
    '<row r="{n}" spans="1:4"><c r="A{n}" t="s"><v>0</v></c><c r="B{n}" s="1"><v>45352</v></c>'
    '<c r="C{n}"><f>B{n}*2</f><v>2.5</v></c><c r="D{n}" t="inlineStr"><is><t xml:space="preserve"> R&amp;D </t>'
    '</is></c><c r="E{n}" s="2"/></row>'
)


def sheet_rows_both_ways(path: Path, limits: Limits) -> tuple[list[Row], list[Row]]:
    """Read a one-sheet workbook's rows through _row_batches (plain first) and through the exact reader alone."""
    assert read_file(path).problems == []
    with zipfile.ZipFile(path) as archive:
        book = xlsx_book.open_book(archive)
        part = book.sheets[0].part
        assert part is not None
        exact = [
            row
            for batch in xlsx_sheet._parse_sheet(archive, part, xlsx_sheet._RowState(book, limits, "Data"), False)
            for row in batch
        ]
    plain = [row for batch in xlsx_sheet.row_batches(path, part, book, limits, "Data") for row in batch]
    return plain, exact


def test_plain_reader_reads_what_programs_write_without_falling_back(tmp_path: Path) -> None:
    path = hostile.write_xlsx(
        tmp_path / "plain.xlsx",
        [("Data", hostile.sheet_xml("".join(PLAIN_ROW.format(n=n) for n in range(1, 4))))],
        shared_strings=["LGB-YT-01"],
    )
    with zipfile.ZipFile(path) as archive:
        book = xlsx_book.open_book(archive)
        data = archive.read("xl/worksheets/sheet1.xml")
    reader = xlsx_sheet._PlainRows(xlsx_sheet._RowState(book, Limits(), "Data"), "")
    rows = reader.feed(data) + reader.feed(b"", final=True)  # raises _NotPlain if it would fall back
    expected = ("LGB-YT-01", date(2024, 3, 1), 2.5, "R&D", None)
    assert rows == [(n, expected) for n in range(1, 4)]
    assert sheet_rows_both_ways(path, Limits()) == (rows, rows)


@pytest.mark.parametrize("parsed_where", ["in-process"], indirect=True)
def test_sheet_found_not_plain_after_rows_went_out_goes_on_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = "".join(PLAIN_ROW.format(n=n) for n in range(1, 40)) + "<!-- a comment -->"
    rows += "".join(PLAIN_ROW.format(n=n) for n in range(40, 60))
    path = hostile.write_xlsx(tmp_path / "comment.xlsx", [("Data", hostile.sheet_xml(rows))], shared_strings=["x"])
    monkeypatch.setattr(xlsx_sheet, "CHUNK_BYTES", 512)  # so that rows are handed out before the comment is met
    with zipfile.ZipFile(path) as archive:
        book = xlsx_book.open_book(archive)
    batches = list(xlsx_sheet.row_batches(path, "xl/worksheets/sheet1.xml", book, Limits(), "Data"))
    handed_out = [number for batch in batches for number, _ in batch]
    assert handed_out == list(range(1, 60))
    assert len(batches) > 2


CELL_TEXTS = st.sampled_from(
    ["1", "2.5", "-3e2", "45352", "45352.5", "0.25", "0", "7", "true", "2024-03-01T12:00:00Z", "R&amp;D", "a&lt;b",
     "&#13;x&#x41;", "line\r\nbreak\rend", "_x000D_tab", "  spaced  ", "漢字 €", "", "#DIV/0!"]
)  # fmt: skip


@st.composite
def sheet_cells(draw: st.DrawFn, number: int, odd: bool) -> str:
    """One cell as programs write it or, when odd, possibly in a shape only the exact reader takes."""
    letters = draw(st.sampled_from(["A", "B", "C", "D", "AA", "Z"] + ([""] if odd else [])))
    reference = f' r="{letters}{number}"' if letters else ""
    style = draw(st.sampled_from(["", ' s="1"', ' s="2"', ' s="3"', ' s="4"', ' s="9"']))
    kind = draw(st.sampled_from(["", ' t="n"', ' t="s"', ' t="str"', ' t="inlineStr"', ' t="b"', ' t="e"', ' t="d"']))
    orders = [reference + style + kind, reference + style + kind + ' cm="1"']
    attributes = draw(st.sampled_from(orders + ([kind + reference + style] if odd else [])))
    if odd and draw(st.booleans()):
        attributes = attributes.replace('"', "'")
    text = draw(CELL_TEXTS)
    plain = [
        None,
        f"<v>{text}</v>",
        f"<f>A1&amp;B1</f><v>{text}</v>",
        '<f t="shared" si="0"/>',
        "<f>SUM(A1:A3)</f>",
        f"<is><t>{text}</t></is>",
        f'<is><t xml:space="preserve">{text}</t></is>',
    ]
    unusual = [
        f"<is><r><t>{text}</t></r><r><t>b</t></r></is>",
        f"<v>{text}</v> ",
        f"<is><t><![CDATA[<row r='99'>{text}]]></t></is>",
    ]
    content = draw(st.sampled_from(plain + (unusual if odd else [])))
    return f"<c{attributes}/>" if content is None else f"<c{attributes}>{content}</c>"


@st.composite
def sheet_rows(draw: st.DrawFn) -> str:
    """Rows of cells as programs write them; in half the sheets some rows and cells take shapes only the exact
    reader reads (no row number, attributes out of order, comments, rich text, CDATA)."""
    odd = draw(st.booleans())
    rows = []
    for number in range(1, draw(st.integers(1, 12)) + 1):
        row_odd = odd and draw(st.integers(0, 3)) == 0
        cells = draw(st.lists(sheet_cells(number, row_odd), max_size=6))
        gap = draw(st.sampled_from(["", "\n  "]))
        openings = [f'<row r="{number}">', f'<row r="{number}" spans="1:4">', f'<row r="{number + 5}">']
        unusual = ["<row>", f'<row spans="1:4" r="{number}">']
        opening = draw(st.sampled_from(openings + (unusual if row_odd else [])))
        rows.append(opening + gap.join(cells) + "</row>" if cells else opening.replace(">", "/>"))
    between = draw(st.sampled_from(["", "\n"] + (["<!-- note -->"] if odd else [])))
    return between.join(rows)


@given(rows=sheet_rows(), chunk=st.sampled_from([16, 61, 256, 4096]))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@pytest.mark.parametrize("parsed_where", ["in-process"], indirect=True)
def test_plain_reader_gives_exactly_what_the_exact_reader_gives(
    rows: str, chunk: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx_sheet, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(xlsx_book, "CHUNK_BYTES", chunk)  # the parsers' text buffer, as the sheet's chunks
    path = hostile.write_xlsx(
        tmp_path / "random.xlsx", [("Data", hostile.sheet_xml(rows))], shared_strings=["zero", "one", "a &amp; b"]
    )
    plain, exact = sheet_rows_both_ways(path, Limits(max_columns=32))  # AA, then five cells without a reference
    assert plain == exact


# --- the worker process -------------------------------------------------------------------------------------------

ONLY_WORKER = pytest.mark.parametrize("parsed_where", ["worker"], indirect=True)
VALID_ROWS = 31


def valid_rows(tmp_path: Path) -> Iterator[Row]:
    """The rows of the small valid workbook's one sheet, as a lazy stream."""
    return read_file(hostile.make_valid_workbook(tmp_path)).sheets[0].rows


@ONLY_WORKER
@pytest.mark.parametrize(
    "command",
    [
        ("/nonexistent/python",),  # the interpreter cannot be started
        (sys.executable, "-c", "pass"),  # it starts, then ends without a word
        (sys.executable, "-c", "import sys; sys.exit(3)"),
    ],
)
def test_worker_that_fails_before_any_row_leaves_the_parsing_here(
    command: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "_WORKER_COMMAND", command)
    rows = list(valid_rows(tmp_path))
    assert len(rows) == VALID_ROWS
    assert rows[1] == (2, ("LGB-YT-01", date(2024, 3, 1), 1.5))


DIES_AFTER_ONE_BATCH = (
    "import pickle, sys; from importers.worker import FRAME; from importers.xlsx.sheet import row_batches; "
    "request = pickle.load(sys.stdin.buffer); data = pickle.dumps(next(row_batches(*request))); "
    "sys.stdout.buffer.write(FRAME.pack(len(data)) + data)"
)


@ONLY_WORKER
def test_worker_dying_after_rows_went_out_is_an_error_not_a_short_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "_WORKER_COMMAND", (sys.executable, "-c", DIES_AFTER_ONE_BATCH))
    rows = valid_rows(tmp_path)
    assert next(rows) == (1, ("Trial code", "Period start", "Energy (MWh)"))
    with pytest.raises(RuntimeError, match=r"the process reading xl/worksheets/sheet1.xml stopped"):
        list(rows)


@ONLY_WORKER
def test_worker_stops_when_the_reader_stops_early(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[subprocess.Popen[bytes]] = []
    start = parallel._start_worker

    def remember(request: tuple[Path, str, xlsx_book.Book, Limits, str]) -> subprocess.Popen[bytes]:
        worker = start(request)
        started.append(worker)
        return worker

    monkeypatch.setattr(parallel, "_start_worker", remember)
    rows = valid_rows(tmp_path)
    next(rows)
    assert isinstance(rows, Generator)
    rows.close()
    [worker] = started
    assert worker.returncode is not None


@pytest.mark.parametrize(
    ("cores", "load", "spare"), [(2, 0.9, True), (2, 1.8, True), (2, 2.5, False), (8, 7.0, True), (8, 9.5, False)]
)
def test_worker_waits_for_an_idle_core(cores: int, load: float, spare: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "_usable_cores", lambda: cores)
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    assert SPARE_CORE() is spare


# --- real files ---------------------------------------------------------------------------------------------------


@needs_corpus
def test_corpus_base_workbook_reads_every_type() -> None:
    rows = all_rows(read_file(CORPUS / "base.xlsx"))
    assert list(rows) == ["Sheet1", "Sheet2", "Sheet3", "Merged Cells"]
    assert rows["Sheet1"] == [
        (
            2,
            (
                "String",
                1,
                1.1,
                True,
                False,
                date(2010, 10, 10),
                datetime(2010, 10, 10, 10, 10, 10),
                time(10, 10, 10),
                0.423728009259259,  # [hh]:mm:ss.00, a duration: days as a number
                10.6320601851852,
            ),
        )
    ]
    assert rows["Sheet3"][0] == (2, (None, "line1", "line1", "line1"))


@needs_corpus
def test_corpus_chart_sheet_is_listed_without_rows() -> None:
    rows = all_rows(read_file(CORPUS / "any_sheets.xlsx"))
    assert list(rows) == ["Visible", "Hidden", "VeryHidden", "Chart"]
    assert rows["Chart"] == []
    assert rows["Visible"][:2] == [(1, (1, 2)), (2, (3, 4))]


@needs_corpus
def test_corpus_date_beyond_9999_stays_a_number() -> None:
    assert all_rows(read_file(CORPUS / "issue139.xlsx")) == {"bad_xlsx_dates": [(1, ("date",)), (2, (2994626,))]}


@needs_corpus
def test_corpus_tables_read_in_sheet_order() -> None:
    rows = all_rows(read_file(CORPUS / "table-multiple.xlsx"))
    assert list(rows) == ["Sheet1", "Sheet2", "Sheet3"]
    assert rows["Sheet2"][:2] == [(1, ("Item", "Price")), (2, (1, 0.85))]


# --- csv ----------------------------------------------------------------------------------------------------------


def write_csv(tmp_path: Path, data: bytes, name: str = "upload.csv") -> Path:
    """Write raw csv bytes to a file."""
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "decimal_comma"),
    [
        (b"Trial code,Energy\r\nLGB-YT-01,12.5\r\n", False),
        (b"\xef\xbb\xbfTrial code,Energy\r\nLGB-YT-01,12.5\r\n", False),
        (b"Trial code;Energy\nLGB-YT-01;12,5\n", True),
        (b"Trial code\tEnergy\nLGB-YT-01\t12.5\n", False),
        ("Trial code\tEnergy\r\nLGB-YT-01\t12.5\r\n".encode("utf-16-le").join([b"\xff\xfe", b""]), False),
        ("Trial code\tEnergy\r\nLGB-YT-01\t12.5\r\n".encode("utf-16-be").join([b"\xfe\xff", b""]), False),
    ],
)
def test_csv_encoding_and_delimiter_are_detected(data: bytes, decimal_comma: bool, tmp_path: Path) -> None:
    workbook = read_file(write_csv(tmp_path, data))
    assert (workbook.kind, workbook.csv_decimal_comma) == ("csv", decimal_comma)
    [(first, header), (second, values)] = all_rows(workbook)["upload"]
    assert (first, header) == (1, ("Trial code", "Energy"))
    assert second == 2
    assert values[0] == "LGB-YT-01"


def test_csv_in_utf16_from_excel_reads(tmp_path: Path) -> None:
    rows = all_rows(read_file(hostile.make_csv_utf16(tmp_path)))
    assert rows == {
        "unicode": [(1, ("Trial code", "Energy (MWh)", "Note")), (2, ("LGB-YT-01", "12,5", "Quai Nord – été"))]
    }


def test_csv_in_windows_1252_reads_accents_and_euro(tmp_path: Path) -> None:
    workbook = read_file(hostile.make_csv_cp1252(tmp_path))
    assert workbook.csv_decimal_comma
    assert all_rows(workbook) == {
        "european": [(1, ("Trial code", "Coût (€)", "Remarque")), (2, ("LGB-YT-01", "1.234,5", "Café"))]
    }


@pytest.mark.parametrize(
    ("builder", "row", "flaw"),
    [
        (hostile.make_csv_invalid_bytes, 3, "holds bytes that are not valid text in the file's encoding"),
        (hostile.make_csv_mixed_encoding, 3, "holds bytes that are not valid text in the file's encoding"),
        (hostile.make_csv_nul, 2, "holds a NUL byte"),
    ],
)
def test_csv_bad_bytes_are_a_problem_naming_the_row(
    builder: Callable[[Path], Path], row: int, flaw: str, tmp_path: Path
) -> None:
    problem = only_problem(read_file(builder(tmp_path)))
    assert problem.row == row
    assert problem.message.startswith(f"this row {flaw}")
    assert problem.message.endswith("save the file as CSV UTF-8")


def test_csv_in_utf16_with_a_broken_character_names_the_row(tmp_path: Path) -> None:
    data = "Trial code,Energy\nLGB-YT-01,".encode("utf-16-le") + b"\x00\xd8" + "\n".encode("utf-16-le")
    problem = only_problem(read_file(write_csv(tmp_path, codecs.BOM_UTF16_LE + data)))
    assert (problem.row, problem.message) == (
        2,
        "this row holds bytes that are not valid text in the file's encoding; save the file as CSV UTF-8",
    )


def test_csv_cells_are_cleaned_and_row_numbers_count_records(tmp_path: Path) -> None:
    data = b'Name,Note\r\n\r\n" padded ",\x07bell\r\nmulti,"two\r\nlines"\r\nlast,\r\n'
    assert all_rows(read_file(write_csv(tmp_path, data))) == {
        "upload": [(1, ("Name", "Note")), (3, ("padded", "bell")), (4, ("multi", "two\r\nlines")), (5, ("last", None))]
    }


def test_csv_sheet_is_named_after_the_display_name(tmp_path: Path) -> None:
    workbook = read_file(write_csv(tmp_path, b"a\n1\n"), display_name="March data.csv")
    assert [sheet.name for sheet in workbook.sheets] == ["March data"]
    assert workbook.filename == "March data.csv"


def test_csv_limits_are_enforced_per_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path, b"a,b\n1,2,3\n4,5\n6,7\n")
    problems = read_file(path, limits=Limits(max_columns=2, max_rows=2)).problems
    assert problems == [
        Problem("upload.csv", "this row has 3 fields, more than the 2 columns read", row=2),
        Problem("upload.csv", "the file has more than 2 rows; split it"),
    ]


def test_csv_field_too_large_is_a_problem(tmp_path: Path) -> None:
    path = write_csv(tmp_path, b"a,b\n1," + b'"' + b"x" * 200_000 + b'"\n')
    problem = only_problem(read_file(path))
    assert (problem.row, problem.message) == (
        2,
        "this row cannot be read as csv (field larger than field limit (131072))",
    )


@given(
    rows=st.lists(
        st.lists(
            st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=12), min_size=2, max_size=4
        ),
        min_size=1,
        max_size=10,
    )
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_csv_written_by_the_csv_module_reads_back(rows: list[list[str]], tmp_path: Path) -> None:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows([["header", "b"], *rows])
    got = all_rows(read_file(write_csv(tmp_path, text.getvalue().encode())))["upload"]
    expected = [(1, ("header", "b"))] + [
        (number, cells)
        for number, cells in enumerate((tuple(cell.strip() or None for cell in row) for row in rows), start=2)
        if any(cells)
    ]
    assert got == expected


# --- every hostile file, end to end -------------------------------------------------------------------------------

REFUSED = {
    "make_zip_bomb": "the part xl/padding.xml expands more than 200 times when unpacked",
    "make_many_entries": "the workbook has 10056 parts inside, more than the 10000 accepted",
    "make_lying_sizes": "the workbook is damaged (Bad CRC-32 for file 'xl/worksheets/sheet1.xml')",
    "make_oversized_styles": "the part xl/styles.xml unpacks to 100 MB",
    "make_truncated_xlsx": "the file is damaged or truncated",
    "make_xxe_sheet": DTD_REFUSED,
    "make_billion_laughs": DTD_REFUSED,
    "make_xxe_workbook": DTD_REFUSED,
    "make_far_corner": "the sheet has a cell at XFD1048576, beyond column GR",
    "make_pdf_named_xlsx": "this is a PDF document, not a spreadsheet",
    "make_plain_zip_named_xlsx": "this is a zip archive, not an Excel workbook",
    "make_xls_far_corner": "the sheet has a cell at IV65536, beyond column GR",
    "make_xlsb_far_corner": "the sheet has a cell at XFD1048576, beyond column GR",
    "make_xlsb_zip_bomb": "the part xl/padding.bin expands more than 200 times",
    "make_ods_far_corner": "the sheet has a cell at XFD2, beyond column GR",
    "make_ods_repeated_rows": "the sheet has more than the 2,000,000 rows accepted",
    "make_ods_zip_bomb": "the part content.xml expands more than 200 times",
    "make_encrypted_xls": "this is a password-protected Excel 97-2003 .xls workbook",
    "make_encrypted_ooxml": "this workbook is password-protected (encrypted)",
    "make_binary_junk": "this is binary data of an unknown kind",
    "make_empty_file": "the file is empty (0 bytes)",
    "make_csv_invalid_bytes": "this row holds bytes that are not valid text",
    "make_csv_mixed_encoding": "this row holds bytes that are not valid text",
    "make_csv_nul": "this row holds a NUL byte",
}
READ = {
    "make_huge_dimension": 1,
    "make_lying_dimension": 10,
    "make_csv_utf16": 2,
    "make_csv_cp1252": 2,
    "make_valid_workbook": 31,
    "make_formula_without_value": 2,
    "make_1904_workbook": 2,
    "make_empty_sheet_workbook": 0,
    "make_xls_named_xlsx": 0,  # an .xls without sheets: read by the bytes, whatever the name
    "make_xls_huge_dimension": 1,
    "make_xlsb_huge_dimension": 1,
    "make_ods_huge_extent": 1,
}


def test_every_hostile_builder_has_an_expected_outcome() -> None:
    builders = {name for name in dir(hostile) if name.startswith("make_")}
    assert builders == set(REFUSED) | set(READ)


@pytest.mark.parametrize(("builder", "start"), sorted(REFUSED.items()))
def test_hostile_file_is_refused_cheaply(builder: str, start: str, tmp_path: Path) -> None:
    problems, _, peak = read_with_peak(getattr(hostile, builder)(tmp_path))
    assert len(problems) == 1
    assert problems[0].message.startswith(start)
    assert peak < 10_000_000


@pytest.mark.parametrize(("builder", "count"), sorted(READ.items()))
def test_odd_but_honest_file_reads_cheaply(builder: str, count: int, tmp_path: Path) -> None:
    problems, rows, peak = read_with_peak(getattr(hostile, builder)(tmp_path))
    assert problems == []
    assert sum(len(sheet_rows) for sheet_rows in rows.values()) == count
    assert peak < 10_000_000
