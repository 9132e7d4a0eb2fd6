""".xls, .xlsb and .ods files are read by python-calamine in a worker process, giving what the .xlsx gives.

tests/data/trial-data.xlsx was written by openpyxl (Trials and Measurements sheets, notes in Japanese, Chinese and
French); trial-data.xls and trial-data.ods are LibreOffice's conversions of it (`soffice --headless --convert-to
xls trial-data.xlsx`). LibreOffice cannot write .xlsb, so .xlsb is checked against the shared real-file corpus.
"""

from __future__ import annotations

import html
import struct
import subprocess
import sys
import time
from datetime import date
from datetime import time as clock
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from importers import legacy
from importers.pipeline import import_file
from importers.raw import RawWorkbook
from importers.readers import read_file
from importers.sniff import Limits
from tests import hostile_files as hostile
from tests.factories import CORPUS, finished, needs_corpus, stored_with_notes, table_counts, upload
from trials.scope import Scope

DATA = Path(__file__).resolve().parent / "data"
OPERATOR = Scope.operator()
TRIAL_DATA = [
    ("YT-1", date(2024, 3, 1), 10.0, 250.5, 40.0, "夜勤 第3バース"),
    ("YT-1", date(2024, 3, 2), 12.25, 310.0, 50.0, "上海港 洋山三号泊位 夜班"),
    ("YT-2", date(2024, 3, 1), 8.0, 190.75, None, "ヤード・トラクター"),
    ("YT-2", date(2024, 3, 2), 9.5, 201.0, 33.0, "Quai Nord – été"),
]


def sheets(workbook: RawWorkbook) -> dict[str, list[Any]]:
    """Every sheet's rows by name, with trailing empty cells dropped (the .xlsx reader keeps written blanks)."""
    assert workbook.problems == []
    return {
        sheet.name: [(number, tuple(_without_trailing_blanks(cells))) for number, cells in sheet.rows]
        for sheet in workbook.sheets
    }


def _without_trailing_blanks(cells: tuple[Any, ...]) -> list[Any]:
    """Drop the None cells at the end of a row."""
    values = list(cells)
    while values and values[-1] is None:
        values.pop()
    return values


@pytest.mark.parametrize("suffix", ["xls", "ods"])
def test_legacy_file_reads_the_rows_of_the_xlsx_it_was_saved_from(suffix: str) -> None:
    assert sheets(read_file(DATA / f"trial-data.{suffix}")) == sheets(read_file(DATA / "trial-data.xlsx"))


@pytest.mark.parametrize("suffix", ["xlsx", "xls", "ods"])
def test_the_same_data_in_every_format_imports_the_same_measurements(engine: Engine, suffix: str) -> None:
    result = import_file(engine, DATA / f"trial-data.{suffix}", scope=OPERATOR)
    assert result.status == "imported", result.problems
    assert (result.counts.created, result.counts.skipped) == (5, 0)  # the trial and four measurements
    assert stored_with_notes(engine) == TRIAL_DATA


@needs_corpus
@pytest.mark.parametrize("name", ["base.xls", "base.xlsb", "any_sheets.xls", "any_sheets.xlsb", "any_sheets.ods"])
def test_corpus_file_reads_like_the_xlsx_of_the_same_data(name: str) -> None:
    legacy_rows = sheets(read_file(CORPUS / name))
    xlsx_rows = sheets(read_file(CORPUS / f"{Path(name).stem}.xlsx"))
    assert set(legacy_rows) <= set(xlsx_rows)  # base.xls lacks the xlsx's Sheet3; every sheet it has matches
    assert {sheet: xlsx_rows[sheet] for sheet in legacy_rows} == legacy_rows


@needs_corpus
def test_corpus_ods_reads_like_the_xlsx_but_for_durations() -> None:
    ods, xlsx = sheets(read_file(CORPUS / "base.ods")), sheets(read_file(CORPUS / "base.xlsx"))
    [(number, cells)] = ods["Sheet1"]
    [(xlsx_number, xlsx_cells)] = xlsx["Sheet1"]
    assert (number, cells[:8]) == (xlsx_number, xlsx_cells[:8])
    # OpenDocument stores durations as time values: calamine gives one under a day as a time, longer ones as text.
    assert cells[8:] == (clock(10, 10, 10, 100000), "PT255H10M10S")
    assert xlsx_cells[8:] == (0.423728009259259, 10.6320601851852)
    assert list(ods) == ["Sheet1", "Sheet2", "Merged Cells"] and ods["Sheet2"] == ods["Merged Cells"] == []


HOSTILE_LEGACY = {
    "make_xls_far_corner": "the sheet has a cell at IV65536, beyond column GR",
    "make_xlsb_far_corner": "the sheet has a cell at XFD1048576, beyond column GR",
    "make_xlsb_zip_bomb": "the part xl/padding.bin expands more than 200 times when unpacked",
    "make_ods_far_corner": "the sheet has a cell at XFD2, beyond column GR",
    "make_ods_repeated_rows": "the sheet has more than the 2,000,000 rows accepted; split it",
    "make_ods_zip_bomb": "the part content.xml expands more than 200 times when unpacked",
}


@pytest.mark.parametrize(("builder", "message"), sorted(HOSTILE_LEGACY.items()))
def test_hostile_legacy_file_is_refused_quickly_and_writes_nothing(
    engine: Engine, tmp_path: Path, builder: str, message: str
) -> None:
    path = getattr(hostile, builder)(tmp_path)
    before = table_counts(engine)
    started = time.monotonic()
    result = import_file(engine, path, scope=OPERATOR)
    assert time.monotonic() - started < 30
    assert result.status == "rejected"
    [problem] = result.problems
    assert problem.message.startswith(message)
    assert problem.file == path.name
    assert table_counts(engine) == before


@pytest.mark.parametrize("builder", ["make_xls_huge_dimension", "make_xlsb_huge_dimension", "make_ods_huge_extent"])
def test_a_claimed_extent_costs_nothing(builder: str, tmp_path: Path) -> None:
    assert sheets(read_file(getattr(hostile, builder)(tmp_path))) == {"Data": [(1, (1,))]}


def test_a_sheet_is_named_when_its_extent_is_refused(tmp_path: Path) -> None:
    workbook = read_file(hostile.make_xls_far_corner(tmp_path), limits=Limits(max_columns=300, max_rows=1000))
    [problem] = workbook.problems
    assert (problem.sheet, problem.message) == ("Data", "the sheet has more than the 1,000 rows accepted; split it")


def _replace_worker(monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    """Make the legacy reader start a worker that runs `code` instead of calamine."""
    monkeypatch.setattr(legacy, "_COMMAND", (sys.executable, "-c", code))


@pytest.mark.parametrize(
    ("code", "limits", "message"),
    [
        (
            "import os, sys; sys.stdin.buffer.read(); os.abort()",
            Limits(),
            "the Excel 97-2003 .xls workbook could not be read: the reader stopped (exit code -6)",
        ),
        (
            "import sys, time; sys.stdin.buffer.read(); time.sleep(60)",
            Limits(max_read_seconds=1),
            "reading the Excel 97-2003 .xls workbook took longer than 1 s; open it in Excel or LibreOffice",
        ),
    ],
    ids=["aborts", "hangs"],
)
def test_a_reader_that_aborts_or_hangs_refuses_the_file_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch, code: str, limits: Limits, message: str
) -> None:
    _replace_worker(monkeypatch, code)
    started = time.monotonic()
    workbook = read_file(DATA / "trial-data.xls", limits=limits)
    assert time.monotonic() - started < 10
    [problem] = workbook.problems
    assert problem.message.startswith(message)
    assert workbook.sheets == []


def test_the_worker_limits_its_memory() -> None:
    code = (
        "import resource; from importers import legacy; "
        "legacy._limit_memory(); print(resource.getrlimit(resource.RLIMIT_AS))"
    )
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert printed.strip() == str((legacy.WORKER_MEMORY_BYTES, legacy.WORKER_MEMORY_BYTES))


@pytest.mark.parametrize("suffix", ["xls", "ods"])
def test_the_upload_page_checks_a_legacy_workbook_like_an_xlsx(editor: FlaskClient, suffix: str) -> None:
    page = html.unescape(finished(editor, upload(editor, DATA / f"trial-data.{suffix}")))
    assert "The file is ready: 5 rows would be created" in page


def test_a_damaged_xls_is_refused_naming_what_it_is(tmp_path: Path) -> None:
    path = tmp_path / "damaged.xls"
    globals_start = hostile.xls_workbook([(0, 0, 1.0)])[:20]  # a BIFF8 BOF record, then noise
    path.write_bytes(hostile.compound_file({"Workbook": globals_start + bytes(range(256)) * 8}))
    [problem] = read_file(path).problems
    assert problem.message.startswith("the Excel 97-2003 .xls workbook is damaged (")
    assert problem.message.endswith("open it in Excel or LibreOffice and save it as .xlsx")


def test_cells_after_a_chart_inside_a_sheet_still_count(tmp_path: Path) -> None:
    def record(kind: int, body: bytes = b"") -> bytes:
        return struct.pack("<HH", kind, len(body)) + body

    chart = record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0020, 0, 0, 0, 0)) + record(0x000A)  # BOF..EOF
    far_cell = record(0x0203, struct.pack("<HHHd", 0, 250, 15, 2.0))  # IQ1, after the chart's substream
    stream = hostile.xls_workbook([(0, 0, 1.0)])[:-4] + chart + far_cell + record(0x000A)
    path = tmp_path / "chart-inside.xls"
    path.write_bytes(hostile.compound_file({"Workbook": stream}))
    [problem] = read_file(path).problems
    assert (problem.sheet, problem.message.split(",")[0]) == ("Data", "the sheet has a cell at IQ1")
