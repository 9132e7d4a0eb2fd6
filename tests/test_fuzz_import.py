"""Generated hostile input for the importer: whatever a file holds, the answer is a result with problems, never a crash.

Files are built the way real uploads are (csv text in the encodings Excel writes, workbooks from openpyxl, workbook
XML zipped by hand) from header synonyms, junk headers and cells full of control characters, huge numbers, NaN,
dates and decimal commas. Every import must return an ImportResult whose problems name their place, and leave the
database untouched unless it was a real import that succeeded.

The example counts keep this file to about half a minute; for a longer search set ZETRIALS_FUZZ_EXAMPLES, e.g.
`ZETRIALS_FUZZ_EXAMPLES=2000 .venv/bin/pytest tests/test_fuzz_import.py`. Coverage-guided fuzzing of raw bytes is
benchmarks/fuzz_import.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from sqlalchemy.engine import Engine

from importers.mapping import FUEL_HEADERS, MEASUREMENT_SYNONYMS, MONTH_HEADERS, TRIAL_SYNONYMS
from importers.pipeline import ImportResult, import_file
from importers.problems import Problem
from importers.sniff import DEFAULT_LIMITS, sniff
from tests import hostile_files
from tests.conftest import empty_database
from trials.db import make_engine
from trials.scope import Scope
from trials.seed import initialise

PROJECT = Path(__file__).resolve().parents[1]
OPERATOR = Scope.operator()
#: Tables an import writes: a rejected import or a dry run must leave every one as it was.
TABLES = ("measurement", "trial", "unit", "importbatch", "auditevent", "dailyrollup", "monthlyrollup")
LONG_RUN = int(os.environ.get("ZETRIALS_FUZZ_EXAMPLES", "0"))
MAX_SHOWN_VALUE = 200
TRIALS_CSV = (
    "Code,Name,Port,Equipment class,Technology,Units planned,Start date,Baseline rate,Baseline unit\r\n"
    "FZ-YT-01,Fuzz yard tractors,USLGB,yard_tractor,battery_electric,4,2024-01-01,3,L/h\r\n"
    "FZ-RTG-01,Fuzz hybrid RTGs,CNSHA,rtg_crane,hybrid_diesel_electric,,2023-06-01,,\r\n"
)


def examples(count: int) -> settings:
    """Run `count` examples (or ZETRIALS_FUZZ_EXAMPLES for a long search), with no deadline: imports touch disk."""
    return settings(
        max_examples=LONG_RUN or count,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )


# --- the databases --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, seeded SQLite file with two trials, copied for every real import so examples never interact."""
    folder = tmp_path_factory.mktemp("fuzz-template")
    with empty_database("sqlite", folder) as url:
        engine = make_engine(url)
        initialise(engine)
        trials = folder / "Trials.csv"
        trials.write_text(TRIALS_CSV, encoding="utf-8")
        assert import_file(engine, trials, scope=OPERATOR).status == "imported"
        engine.dispose()
    database = folder / "zetrials.sqlite"
    assert not Path(f"{database}-wal").exists() or Path(f"{database}-wal").stat().st_size == 0
    return database


@pytest.fixture(scope="module")
def shared_engine(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One database for all dry runs of a module: a dry run that wrote anything would show in the row counts."""
    copy = tmp_path_factory.mktemp("fuzz-shared") / "zetrials.sqlite"
    shutil.copyfile(template, copy)
    engine = make_engine(f"sqlite:///{copy}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where generated files are written, one at a time."""
    return tmp_path_factory.mktemp("fuzz-files")


def row_counts(engine: Engine) -> dict[str, int]:
    """Count the rows of every table an import writes."""
    with engine.connect() as connection:
        return {
            table: connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608
            for table in TABLES
        }


def test_the_template_holds_two_trials_and_nothing_else(shared_engine: Engine) -> None:
    """Measurement rows naming FZ-YT-01 or FZ-RTG-01 reach the checks of periods and magnitudes, and the loader."""
    counts = row_counts(shared_engine)
    assert (counts["trial"], counts["measurement"], counts["importbatch"]) == (2, 0, 1)


# --- what every result must be --------------------------------------------------------------------------------------


def assert_reportable(result: ImportResult, *, kind: str) -> None:
    """A result the CLI, web page and API can show: problems only when rejected, each placed and bounded."""
    assert isinstance(result, ImportResult)
    assert result.status in ("imported", "duplicate", "rejected", "dry-run")
    assert (result.status == "rejected") == bool(result.problems), result.problems
    for problem in result.problems:
        assert isinstance(problem, Problem)
        assert problem.message.strip()
        assert problem.value is None or len(problem.value) <= MAX_SHOWN_VALUE
        if problem.row is not None:
            assert problem.row >= 1, problem
        if problem.column is not None:  # a problem with a cell names the sheet and row the cell is on
            assert problem.sheet is not None and problem.row is not None, problem
        if kind == "xlsx" and problem.row is not None:  # in a workbook a row number means nothing without a sheet
            assert problem.sheet is not None, problem
        str(problem)
    json.dumps(result.as_json())


def run_import(engine: Engine, path: Path, *, dry_run: bool) -> ImportResult:
    """Import a file as the CLI does: whatever the bytes, a result must come back."""
    return import_file(engine, path, scope=OPERATOR, dry_run=dry_run)


def dry_run(engine: Engine, path: Path, *, kind: str) -> ImportResult:
    """Dry-run a file, check its result, and check that it wrote nothing."""
    before = row_counts(engine)
    result = run_import(engine, path, dry_run=True)
    note(f"status {result.status}; problems {[str(problem) for problem in result.problems[:10]]}")
    event(f"dry run: {result.status}")
    assert_reportable(result, kind=kind)
    assert result.status in ("rejected", "dry-run", "duplicate")
    assert row_counts(engine) == before
    return result


# --- cells and headers ----------------------------------------------------------------------------------------------

MEASUREMENT_HEADERS = sorted(
    {name for names in MEASUREMENT_SYNONYMS.values() for name in names} | set(MONTH_HEADERS) | set(FUEL_HEADERS)
)
TRIAL_HEADERS = sorted({name for names in TRIAL_SYNONYMS.values() for name in names})
UNITS = (
    "kWh", "MWh", "GJ", "Wh", "L", "litres", "gal", "US gal", "m3", "kg", "t", "ton", "MT", "lb", "km", "mi", "nmi",
    "h", "min", "s", "%", "kW", "hp", "g/kWh", "kg/MWh", "L/h", "dd/mm/yyyy", "mm/dd/yyyy", "yyyy-mm", "furlongs",
    "", "kWh/kWh", "1/0", "°C",
)  # fmt: skip
CONTROL = "".join(chr(code) for code in (*range(0, 32), 127, 0x85, 0xA0, 0x200B, 0x202E, 0xFEFF, 0x2028))
TEXT = st.text(st.characters(codec="utf-8"), max_size=24)
NASTY_TEXT = st.text(st.sampled_from(CONTROL) | st.characters(codec="utf-8"), max_size=12)
SPECIAL_NUMBERS = (
    "NaN", "nan", "-nan", "inf", "-inf", "Infinity", "∞", "1e308", "1e309", "-1e309", "1e-400", "1e400", "-0", "0",
    "0x1F", "1_000", "1.234,5", "1,234.5", "1 234,5", "1\u00a0234", "1'234.5", "12 kWh", "3,5 MWh", "-3", "½", "١٢٣",
    "1.2.3", ",5", "5,", "1e", "+7", "−7", "12%", "(12)", "$5", "9" * 40, "0." + "1" * 40, "4.9e-324",
    "n/a", "-", "—", "?", "#DIV/0!", "#N/A", "#VALUE!", "=SUM(A1:A2)", "TRUE", "FALSE", "1 kWh/h", "2 m**3", "5 L/0",
)  # fmt: skip
SPECIAL_DATES = (
    "2024-02-30", "2024-02-29", "2023-02-29", "0000-00-00", "0001-01-01", "9999-12-31", "10000-01-01", "31/12/9999",
    "03/04/2024", "13/13/2024", "2024-W10", "2024-03", "2024-13", "Mar 2024", "March 2024", "2024", "yesterday",
    "12:30", "25:61", "24:00", "2024-03-01T25:00", "2024-03-01 12:30:00+14:00", "1900-02-29", "45352", "45352.75",
    "-1", "2958466", "1e10", "3.1.2024", "1/3/24", "2024/03/01", "01.03.2024 6:00 PM", "20240301", "31.12.9999",
    "9999-12", "9999-12-31T23:00:00-05:00",
)  # fmt: skip
PLAUSIBLE_TEXT = (
    "FZ-YT-01", "FZ-RTG-01", "fz-yt-01", " FZ-YT-01 ", "NO-SUCH-01", "YT-1", "YT-2", "fleet", "Fleet", "trial",
    "baseline", "Total", "Grand total", "Sum", "USLGB", "Long Beach", "CNSHA", "XXXXX", "yard_tractor",
    "Yard tractor", "rtg_crane", "ferry", "battery_electric", "Battery electric", "hydrogen_fuel_cell", "planned",
    "active", "completed", "private", "partners", "L/h", "gal/mi", "kg/h", "0.39", "1.5", "1",
)  # fmt: skip
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y-%m", "%b %Y", "%d %B %Y", "%Y%m%d", "%d-%b-%y")


def decorated(names: list[str]) -> st.SearchStrategy[str]:
    """A header as files write it: a synonym with a unit in brackets or as a word, in odd case and spacing."""
    return st.builds(
        lambda name, unit, shape, case: case(shape.format(name=name, unit=unit)),
        st.sampled_from(names),
        st.sampled_from(UNITS),
        st.sampled_from(
            ("{name}", "{name} ({unit})", "{name} [{unit}]", "{unit} {name}", "{name} in {unit}", "{name}(")
        ),
        st.sampled_from((str, str.upper, str.lower, lambda text: f"  {text.replace(' ', '_')}\t")),
    )


HEADERS = st.one_of(decorated(MEASUREMENT_HEADERS), decorated(TRIAL_HEADERS), TEXT, NASTY_TEXT)
DATES_TEXT = st.one_of(
    st.builds(lambda day, shape: day.strftime(shape), st.dates(), st.sampled_from(DATE_FORMATS)),
    st.datetimes().map(datetime.isoformat),
    st.builds(
        lambda moment, hours: moment.replace(tzinfo=timezone(timedelta(hours=hours))).isoformat(),
        st.datetimes(),
        st.integers(-23, 23),
    ),
    st.sampled_from(SPECIAL_DATES),
)
NUMBERS_TEXT = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.floats().map(repr),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: f"{x:,.3f}"),
    st.floats(0, 1e7).map(lambda x: f"{x:.2f}".replace(".", ",")),
    st.sampled_from(SPECIAL_NUMBERS),
)
HUGE_TEXT = st.builds(
    lambda piece, times: piece * times, st.sampled_from(("x", "é", "1", "€ ", "\x00")), st.integers(150, 5_000)
)
CELL_TEXT = st.one_of(
    st.sampled_from(PLAUSIBLE_TEXT), NUMBERS_TEXT, DATES_TEXT, TEXT, NASTY_TEXT, HUGE_TEXT, st.just("")
)

# Columns a real file would have, each with cells that mostly fit it, so rows get past the header and into the
# checks of trials, periods, magnitudes, roles and repeats, and some imports succeed.
SMALL = st.one_of(st.integers(0, 500).map(str), st.floats(0, 500).map(lambda x: f"{x:.2f}"), st.just(""))
GOOD_DATES = st.dates(date(2023, 6, 1), date(2024, 12, 31)).map(date.isoformat)
PERIOD_COLUMNS: tuple[dict[str, st.SearchStrategy[str]], ...] = (
    {"Date": GOOD_DATES},
    {"Month": st.dates(date(2023, 6, 1), date(2024, 12, 31)).map(lambda day: day.strftime("%Y-%m"))},
    {
        "Start": st.dates(date(2023, 6, 1), date(2023, 12, 31)).map(date.isoformat),
        "End": st.dates(date(2024, 1, 1), date(2024, 12, 31)).map(date.isoformat),
    },
)
MEASUREMENT_COLUMNS: dict[str, st.SearchStrategy[str]] = {
    "Operating hours (h)": SMALL,
    "Energy (kWh)": SMALL,
    "Energy (MWh)": SMALL,
    "Fuel used [gal]": SMALL,
    "Hydrogen (kg)": SMALL,
    "Distance (mi)": SMALL,
    "Moves": st.integers(0, 400).map(str),
    "Role": st.sampled_from(("trial", "trial", "baseline", "")),
    "Notes": TEXT,
    "Shift": TEXT,
}
TRIAL_COLUMNS: dict[str, st.SearchStrategy[str]] = {
    "Name": TEXT,
    "End date": st.dates(date(2025, 1, 1), date(2026, 12, 31)).map(date.isoformat),
    "Units planned": st.sampled_from(("1", "4", "0", "-2", "")),
    "Status": st.sampled_from(("planned", "active", "paused?")),
    "Baseline rate": SMALL,
    "Baseline unit": st.sampled_from(("L/h", "gal/mi", "kg/h", "furlongs", "")),
    "Load factor": st.sampled_from(("0.39", "39 %", "2", "")),
    "Visibility": st.sampled_from(("private", "partners", "public")),
}


def mostly(fitting: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A cell that fits its column, and one time in fifteen any cell at all."""
    return st.integers(0, 14).flatmap(lambda roll: CELL_TEXT if roll == 0 else fitting)


@st.composite
def plausible_columns(draw: st.DrawFn, *, trials: bool) -> dict[str, st.SearchStrategy[str]]:
    """The columns of a file a partner might send: what identifies a row, then a few optional columns."""
    if trials:
        required: dict[str, st.SearchStrategy[str]] = {
            "Code": st.sampled_from(("FZ-YT-01", "FZ-NEW-01", "FZ-NEW-02", "FZ-NEW-03", "")),
            "Port": st.sampled_from(("USLGB", "Long Beach", "CNSHA", "USLGB", "Atlantis")),
            "Equipment class": st.sampled_from(("yard_tractor", "Yard tractor", "rtg_crane", "ferry", "spaceship")),
            "Technology": st.sampled_from(("battery_electric", "Battery electric", "hydrogen_fuel_cell", "steam")),
            "Start date": st.dates(date(2023, 1, 1), date(2024, 12, 31)).map(date.isoformat),
        }
        optional = TRIAL_COLUMNS
    else:
        required = {
            "Trial": st.sampled_from(("FZ-YT-01", "FZ-YT-01", "FZ-RTG-01", "FZ-YT-01", "NO-SUCH-01")),
            "Unit": st.sampled_from(("YT-1", "YT-2", "YT-3", "RTG-1", "", "fleet")),
            **draw(st.sampled_from(PERIOD_COLUMNS)),
        }
        optional = MEASUREMENT_COLUMNS
    chosen = draw(st.lists(st.sampled_from(sorted(optional)), min_size=1, max_size=4, unique=True))
    columns = {**required, **{name: optional[name] for name in chosen}}
    order = draw(st.permutations(sorted(columns)))
    return {name: mostly(columns[name]) for name in order}


@st.composite
def table(draw: st.DrawFn, *, trials: bool = False, plausible: bool | None = None) -> list[list[str]]:
    """Rows of text: title rows, a header row and data rows, plausible or hostile, ragged as real files are."""
    if plausible is None:
        plausible = draw(st.booleans())
    if plausible:  # a file a partner might send, with the odd hostile cell and the odd ragged row
        columns = draw(plausible_columns(trials=trials))
        headers = list(columns)
        full_row = st.tuples(*columns.values()).map(list)
        ragged = st.integers(0, 9).flatmap(lambda roll: full_row if roll > 1 else st.lists(CELL_TEXT, max_size=8))
        rows = draw(st.lists(ragged, max_size=10))
    else:  # synonyms with units, junk headers and any cell anywhere
        headers = draw(st.lists(HEADERS, max_size=10))
        rows = draw(st.lists(st.lists(CELL_TEXT, max_size=len(headers) + 2), max_size=10))
    titles = draw(st.lists(st.lists(TEXT, max_size=3), max_size=2))
    return [*titles, headers, *rows]


# --- csv files ------------------------------------------------------------------------------------------------------


QUOTINGS: tuple[Literal[0, 1, 2, 3], ...] = (csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC)


@st.composite
def csv_files(draw: st.DrawFn, *, plausible: bool | None = None) -> tuple[str, bytes]:
    """A csv upload: (file name, bytes) in one of the encodings Excel writes, with any delimiter and line ending."""
    name = draw(st.sampled_from(("upload.csv", "Trials.csv", "trial.CSV", "export.txt", "data")))
    rows = draw(table(trials=name.lower().startswith("trial"), plausible=plausible))
    delimiter = draw(st.sampled_from((",", ";", "\t", "|")))
    newline = draw(st.sampled_from(("\r\n", "\n", "\r")))
    if draw(st.booleans()):
        buffer = io.StringIO()
        quoting = draw(st.sampled_from(QUOTINGS))
        csv.writer(buffer, delimiter=delimiter, lineterminator=newline, quoting=quoting).writerows(rows)
        text = buffer.getvalue()
    else:  # joined by hand, as some exporters do: stray quotes and delimiters inside cells stay unescaped
        text = newline.join(delimiter.join(row) for row in rows)
    encoding = draw(st.sampled_from(("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252")))
    return name, text.encode(encoding, errors="replace")


@pytest.mark.slow
@given(upload=csv_files())
@examples(150)
def test_generated_csv_files_give_a_result_never_an_exception(
    shared_engine: Engine, workdir: Path, upload: tuple[str, bytes]
) -> None:
    name, data = upload
    path = workdir / name
    path.write_bytes(data)
    dry_run(shared_engine, path, kind="csv")


# --- workbooks made by openpyxl -------------------------------------------------------------------------------------

NUMBER_FORMATS = ("General", "yyyy-mm-dd", "d/m/yy h:mm", "[h]:mm", "mm:ss", "0.00", '"day "dd', "hh:mm AM/PM", "@")


def openpyxl_text(text: str) -> str | None:
    """Drop the control characters openpyxl refuses to write (Excel cannot hold them either)."""
    return ILLEGAL_CHARACTERS_RE.sub("", text) or None


def typed_cells(text: st.SearchStrategy[str]) -> st.SearchStrategy[object]:
    """Cells of every type openpyxl writes; text without the characters it refuses (a formula when it starts '=')."""
    return st.one_of(
        st.none(),
        text.map(openpyxl_text),
        st.integers(-(2**70), 2**70),
        st.floats(),
        st.booleans(),
        st.dates(),
        st.datetimes(),
        st.times(),
        st.timedeltas(timedelta(days=-3), timedelta(days=400)),
        st.sampled_from(("=A1*2", "=1/0", "=SUM(B:B)", '="x"&"y"', "=NOW()")),
    )


@st.composite
def openpyxl_workbooks(draw: st.DrawFn) -> Workbook:
    """A workbook as openpyxl writes it: shared strings, typed cells, number formats, one or more sheets."""
    workbook = Workbook()
    if draw(st.booleans()):
        workbook.epoch = CALENDAR_MAC_1904
    default = workbook.active
    assert default is not None
    workbook.remove(default)
    names = st.sampled_from(("Trials", "Measurements", "Data", "trial", "TRIALS", "Sheet1", "Σ-sheet", "Total"))
    for sheet_name in draw(st.lists(names, min_size=1, max_size=3)):
        sheet = workbook.create_sheet(sheet_name)
        rows = draw(table(trials=sheet_name.lower().startswith("trial")))
        for row in rows:
            sheet.append(
                [
                    draw(typed_cells(st.just(cell))) if draw(st.integers(0, 3)) == 0 else openpyxl_text(cell)
                    for cell in row
                ]
            )
        for _ in range(draw(st.integers(0, 3))):
            cell = sheet.cell(row=draw(st.integers(1, max(len(rows), 1))), column=draw(st.integers(1, 8)))
            cell.value = draw(typed_cells(CELL_TEXT))
            cell.number_format = draw(st.sampled_from(NUMBER_FORMATS))
    return workbook


@pytest.mark.slow
@given(workbook=openpyxl_workbooks())
@examples(60)
def test_generated_openpyxl_workbooks_give_a_result_never_an_exception(
    shared_engine: Engine, workdir: Path, workbook: Workbook
) -> None:
    path = workdir / "openpyxl.xlsx"
    workbook.save(path)
    dry_run(shared_engine, path, kind="xlsx")


# --- workbooks zipped by hand ---------------------------------------------------------------------------------------

XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
REFERENCES = ("", "a1", "A0", "A-1", "1A", "XFD1048576", "GR1", "GS1", "GR99", "ÄB3", "A99999999999999", "$A$1", "AAA",
              "ZZZZZZZZZZ")  # fmt: skip
CELL_TYPES = (None, "s", "inlineStr", "str", "b", "e", "d", "n", "x", "")
STYLES = (None, "0", "1", "2", "3", "4", "5", "99", "-1", "x")


def xml_text(value: str, *, keep_illegal: bool) -> str:
    """Escape text for XML, dropping the characters XML cannot hold unless the file is meant to be damaged."""
    return escape(value if keep_illegal else XML_ILLEGAL.sub("", value), {'"': "&quot;"})


def is_number(text: str) -> bool:
    """Tell text Excel would store as a number cell."""
    try:
        float(text)
    except ValueError:
        return False
    return text == text.strip()


@st.composite
def xml_cell(draw: st.DrawFn, row: int, column: int, text: str, damaged: bool) -> str:
    """One <c>: mostly as Excel writes it, else an odd or missing reference, any t and s, inline text or a formula."""
    letters = get_column_letter(column + 1)
    body = xml_text(text, keep_illegal=damaged)
    if draw(st.integers(0, 3)):
        if not text:
            return ""
        if is_number(text):
            return f'<c r="{letters}{row}"><v>{body}</v></c>'
        return f'<c r="{letters}{row}" t="inlineStr"><is><t>{body}</t></is></c>'
    reference = draw(st.just(f"{letters}{row}") | st.sampled_from(REFERENCES))
    cell_type = draw(st.sampled_from(CELL_TYPES))
    style = draw(st.sampled_from(STYLES))
    attributes = (f' r="{reference}"' if reference else "") + (f' t="{cell_type}"' if cell_type is not None else "")
    attributes += f' s="{style}"' if style is not None else ""
    value = draw(st.just(text) | NUMBERS_TEXT | st.integers(-3, 40).map(str) | CELL_TEXT)
    body = xml_text(value, keep_illegal=damaged)
    formula = draw(st.none() | st.sampled_from(("A1*2", "", "SUM(A:A)", "1/0")))
    inner = f"<f>{formula}</f>" if formula is not None else ""
    if cell_type == "inlineStr" and draw(st.booleans()):
        inner += (
            f"<is><t>{body}</t></is>" if draw(st.booleans()) else f"<is><r><t>{body}</t></r><rPh><t>x</t></rPh></is>"
        )
    elif draw(st.integers(0, 5)):
        inner += f"<v>{body}</v>"
    return f"<c{attributes}>{inner}</c>" if inner or draw(st.booleans()) else f"<c{attributes}/>"


@st.composite
def xml_sheet(draw: st.DrawFn, rows: list[list[str]], damaged: bool) -> str:
    """Worksheet XML for rows of text: row numbers in order, repeated, out of order, missing or absurd."""
    numbering = draw(st.sampled_from(("in order", "in order", "odd", "none")))
    row_elements = []
    for index, cells in enumerate(rows, 1):
        number = index
        if numbering == "odd":
            number = draw(st.integers(-2, 1_100_000) | st.just(index))
        attribute = f' r="{number}"' if numbering != "none" else ""
        attribute = draw(st.just(attribute) | st.sampled_from((' r="x"', ' r=""', ' r="1.5"', ' r="99999999999999"')))
        inner = "".join(draw(xml_cell(number, column, text, damaged)) for column, text in enumerate(cells))
        row_elements.append(f"<row{attribute}>{inner}</row>")
    dimension = draw(st.sampled_from((None, "A1", "A1:XFD1048576", "B2:A1", "junk", "A1:B2")))
    prefix, namespace = draw(
        st.sampled_from((("", hostile_files.MAIN_NS), ("x:", hostile_files.MAIN_NS), ("", STRICT_NS)))
    )
    claimed = f'<{prefix}dimension ref="{dimension}"/>' if dimension else ""
    body = "".join(row_elements)
    if prefix:
        body = (
            body.replace("<row", "<x:row").replace("</row>", "</x:row>").replace("<c", "<x:c").replace("</c>", "</x:c>")
        )
        body = body.replace("<v>", "<x:v>").replace("</v>", "</x:v>").replace("<f>", "<x:f>").replace("</f>", "</x:f>")
        body = (
            body.replace("<is>", "<x:is>").replace("</is>", "</x:is>").replace("<t>", "<x:t>").replace("</t>", "</x:t>")
        )
    xmlns = f'xmlns:x="{namespace}"' if prefix else f'xmlns="{namespace}"'
    return f"<{prefix}worksheet {xmlns}>{claimed}<{prefix}sheetData>{body}</{prefix}sheetData></{prefix}worksheet>"


STRICT_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"


@dataclass(frozen=True)
class HandWorkbook:
    """A workbook zipped by hand: its sheets' XML, its shared strings, and its date system."""

    sheets: list[tuple[str, str]]
    shared_strings: list[str] | None
    date1904: bool

    def write(self, path: Path) -> Path:
        """Zip it with hostile_files.write_xlsx, which adds the parts every workbook has."""
        return hostile_files.write_xlsx(path, self.sheets, shared_strings=self.shared_strings, date1904=self.date1904)


@st.composite
def xml_workbooks(draw: st.DrawFn) -> HandWorkbook:
    """Sheets of hand-written XML, shared strings (escaped, as write_xlsx puts them in as they are), either epoch."""
    damaged = draw(st.integers(0, 9)) == 0
    names = st.sampled_from(("Trials", "Measurements", "Data", "Sheet1", "x&y", "<Trials>", ""))
    sheets = []
    for name in draw(st.lists(names, min_size=1, max_size=3)):
        rows = draw(table(trials=name.lower().startswith("trial")))
        sheets.append((xml_text(name, keep_illegal=False), draw(xml_sheet(rows, damaged))))
    shared = draw(
        st.none()
        | st.lists(st.sampled_from(PLAUSIBLE_TEXT + tuple(MEASUREMENT_COLUMNS)) | CELL_TEXT, max_size=40).map(
            lambda texts: [xml_text(text, keep_illegal=damaged) for text in texts]
        )
    )
    return HandWorkbook(sheets, shared, draw(st.booleans()))


@pytest.mark.slow
@given(workbook=xml_workbooks())
@examples(60)
def test_generated_workbook_xml_gives_a_result_never_an_exception(
    shared_engine: Engine, workdir: Path, workbook: HandWorkbook
) -> None:
    dry_run(shared_engine, workbook.write(workdir / "hand.xlsx"), kind="xlsx")


# --- mutated hostile files ------------------------------------------------------------------------------------------

#: Every builder of tests/hostile_files.py but the three whose files are megabytes (covered whole by test_import).
MUTATED_MAKERS = sorted(
    name
    for name in dir(hostile_files)
    if name.startswith("make_") and name not in ("make_zip_bomb", "make_many_entries", "make_lying_sizes")
)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The file each builder makes, built once (paths, not bytes: Hypothesis shows the arguments it was given)."""
    built = {}
    for name in MUTATED_MAKERS:
        maker: Callable[[Path], Path] = getattr(hostile_files, name)
        built[name] = maker(tmp_path_factory.mktemp(name))
    return built


def mutate(data: bytes, seed: int, count: int) -> bytes:
    """Flip, insert, delete and truncate bytes, as a damaged download or a careless editor would."""
    chance = random.Random(seed)
    mutable = bytearray(data)
    for _ in range(count):
        where = chance.randrange(len(mutable) + 1)
        action = chance.randrange(4)
        if action == 0 and mutable:
            mutable[min(where, len(mutable) - 1)] ^= 1 << chance.randrange(8)
        elif action == 1:
            mutable[where:where] = bytes(chance.randrange(256) for _ in range(chance.randrange(1, 9)))
        elif action == 2:
            del mutable[where : where + chance.randrange(1, 64)]
        else:
            del mutable[where:]
    return bytes(mutable)


@pytest.mark.slow
@given(maker=st.sampled_from(MUTATED_MAKERS), seed=st.integers(0, 2**32), count=st.integers(1, 8))
@examples(100)
def test_mutated_hostile_files_give_a_result_never_an_exception(
    shared_engine: Engine, workdir: Path, hostile: dict[str, Path], maker: str, seed: int, count: int
) -> None:
    path = workdir / hostile[maker].name
    path.write_bytes(mutate(hostile[maker].read_bytes(), seed, count))
    kind, _ = sniff(path, path.name, DEFAULT_LIMITS)  # the bytes decide what the file is, not its name
    dry_run(shared_engine, path, kind="xlsx" if kind == "xlsx" else "csv")


# --- real imports ---------------------------------------------------------------------------------------------------


def uploads() -> st.SearchStrategy[tuple[str, bytes]]:
    """Any generated upload as (file name, bytes)."""

    def saved(workbook: Workbook) -> tuple[str, bytes]:
        buffer = io.BytesIO()
        workbook.save(buffer)
        return "book.xlsx", buffer.getvalue()

    return st.one_of(csv_files(plausible=True), csv_files(), openpyxl_workbooks().map(saved))


@pytest.mark.slow
@given(upload=uploads())
@examples(40)
def test_a_real_import_agrees_with_its_dry_run_and_a_rejected_one_writes_nothing(
    template: Path, tmp_path_factory: pytest.TempPathFactory, upload: tuple[str, bytes]
) -> None:
    """Load and rollups run only in a real import: it must fail the same way as its dry run, or not at all."""
    folder = tmp_path_factory.mktemp("real")
    shutil.copyfile(template, folder / "zetrials.sqlite")
    engine = make_engine(f"sqlite:///{folder / 'zetrials.sqlite'}")
    try:
        name, data = upload
        path = folder / name
        path.write_bytes(data)
        kind = "xlsx" if name.endswith(".xlsx") else "csv"
        checked = dry_run(engine, path, kind=kind)
        before = row_counts(engine)
        result = run_import(engine, path, dry_run=False)
        event(f"real import: {result.status}")
        assert_reportable(result, kind=kind)
        assert (result.status, result.problems, result.counts) == (
            {"dry-run": "imported"}.get(checked.status, checked.status),
            checked.problems,
            checked.counts,
        )
        if result.status == "imported":
            assert result.batch is not None
            assert row_counts(engine)["importbatch"] == before["importbatch"] + 1
            again = row_counts(engine)
            assert run_import(engine, path, dry_run=False).status == "duplicate"
            assert row_counts(engine) == again
        else:
            assert row_counts(engine) == before
    finally:
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


# --- bugs the fuzzing found, each reproduced and fixed ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "place"),
    [
        ("header.csv", "Date,Energy (kWh/0)\n2024-03-01,1\n", None),
        ("power.csv", "Date,Energy (m ** m)\n2024-03-01,1\n", None),
        ("cell.csv", "Trial,Date,Energy (kWh)\nFZ-YT-01,2024-03-01,1 kWh/0\n", (2, "Energy (kWh)")),
        ("Trials.csv", "Code,Port,Class,Technology,Start,Baseline rate,Baseline unit\n"
         "FZ-X-1,USLGB,yard_tractor,battery_electric,2024-01-01,3,L/0**-1\n", (2, "Baseline unit")),
    ],
)  # fmt: skip
def test_a_unit_pint_cannot_evaluate_is_an_unknown_unit(
    shared_engine: Engine, tmp_path: Path, name: str, text: str, place: tuple[int, str] | None
) -> None:
    """'kWh/0' in a header's brackets, after a number or as a baseline unit is an unknown unit, not a crash.

    Unknown bracket text in a header is a remark (the canonical unit is assumed), so there the file is only rejected
    for lacking a trial column; a cell or a baseline unit pint cannot read is a problem on that cell.
    """
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = import_file(shared_engine, path, scope=OPERATOR, dry_run=True)
    assert result.status == "rejected"
    if place is not None:
        assert place in [(problem.row, problem.column) for problem in result.problems]


HANG_SECONDS = 5.0  # a 40-byte file takes milliseconds; the clock starts once the child has imported everything
IMPORT_IN_CHILD = """
import sys
from pathlib import Path
from importers.pipeline import import_file
from trials.db import make_engine
from trials.scope import Scope
engine = make_engine(sys.argv[1])
print("ready", flush=True)
print(import_file(engine, Path(sys.argv[2]), scope=Scope.operator(), dry_run=True).status, flush=True)
"""


def test_a_unit_with_a_tower_of_powers_is_refused_at_once(shared_engine: Engine, tmp_path: Path) -> None:
    """'9**9**9' is a 370-million-digit integer to pint's parser; a header or baseline unit must not compute it."""
    path = tmp_path / "tower.csv"
    path.write_text("Date,Energy (9**9**9)\n2024-03-01,1\n", encoding="utf-8")
    url = shared_engine.url.render_as_string(hide_password=False)
    with subprocess.Popen(  # in a child, since an int power cannot be interrupted in-process
        [sys.executable, "-c", IMPORT_IN_CHILD, url, str(path)], stdout=subprocess.PIPE, text=True, cwd=PROJECT
    ) as child:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        try:
            status = child.communicate(timeout=HANG_SECONDS)[0].strip()
        except subprocess.TimeoutExpired:
            child.kill()
            raise TimeoutError(f"the import was still running after {HANG_SECONDS} s") from None
    assert status == "rejected"


def test_an_xls_whose_workbook_stream_starts_past_the_end_is_called_damaged(
    shared_engine: Engine, tmp_path: Path
) -> None:
    """A damaged .xls (found by fuzzing: a Workbook stream starting at sector 1000 of a 4-sector file) is refused."""
    data = bytearray(hostile_files.compound_file({"Workbook": struct.pack("<HH", 0x0809, 4) + b"\x00\x06\x05\x00"}))
    workbook_entry = 2 * 512 + 128  # the directory is sector 1 (after the header); the Workbook is its second entry
    struct.pack_into("<I", data, workbook_entry + 116, 1000)
    path = tmp_path / "damaged.xls"
    path.write_bytes(bytes(data))
    result = import_file(shared_engine, path, scope=OPERATOR, dry_run=True)
    assert result.status == "rejected"
    assert "workbook is damaged" in result.problems[0].message  # read by calamine now: refused, saying so


@pytest.mark.parametrize(
    ("header", "cell"),
    [("Date", "9999-12-31"), ("Date", "2958465"), ("Month", "9999-12"), ("Date", "31 Dec 9999")],
)
def test_a_period_in_the_last_days_of_9999_is_a_problem_on_its_cell(
    shared_engine: Engine, tmp_path: Path, header: str, cell: str
) -> None:
    """'Valid to 31.12.9999' is a common placeholder in exported data; it must be refused, not crash the import."""
    path = tmp_path / "placeholder.csv"
    path.write_text(f"Trial,{header},Energy (kWh)\nFZ-YT-01,{cell},1\n", encoding="utf-8")
    result = import_file(shared_engine, path, scope=OPERATOR, dry_run=True)
    assert result.status == "rejected"
    assert [(problem.row, problem.column) for problem in result.problems] == [(2, header)]


@pytest.mark.parametrize("moment", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"])
def test_an_iso_date_cell_beyond_the_calendar_in_utc_is_a_problem(
    shared_engine: Engine, tmp_path: Path, moment: str
) -> None:
    """A t="d" cell (written by non-Excel programs) with an offset that carries it past 9999 or before year 1."""
    rows = hostile_files.inline_row(1, "Trial", "Date", "Energy (kWh)")
    rows += f'<row r="2"><c r="A2" t="inlineStr"><is><t>FZ-YT-01</t></is></c><c r="B2" t="d"><v>{moment}</v></c>'
    rows += '<c r="C2"><v>1</v></c></row>'
    path = hostile_files.write_xlsx(tmp_path / "iso.xlsx", [("Data", hostile_files.sheet_xml(rows))])
    result = import_file(shared_engine, path, scope=OPERATOR, dry_run=True)
    assert result.status == "rejected"
    assert [(problem.sheet, problem.row) for problem in result.problems] == [("Data", 2)]


@pytest.mark.parametrize(
    "cell",
    [
        "<c r='ZZZZZZZZZZ1'><v>1</v></c>",  # single quotes
        '<c r="ZZZZZZZZZZ"><v>1</v></c>',  # no row number
        '<c r = "ZZZZZZZZZZ1"><v>1</v></c>',  # spaces around '='
        '<c r="&#90;ZZZZZZZZZ1"><v>1</v></c>',  # a character reference
    ],
)
def test_a_cell_beyond_the_last_column_read_is_refused_however_its_reference_is_written(
    shared_engine: Engine, tmp_path: Path, cell: str
) -> None:
    """All four are the column ZZZZZZZZZZ (141 trillion): the reader pads the row to it, so the sheet must be refused.

    With four letters ('ZZZZ', column 475,254) the row fits in memory: 200 such rows, a 2.7 KB file, took 29 s and
    730 MB in a dry run.
    """
    rows = hostile_files.inline_row(1, "Date", "Energy") + f'<row r="2">{cell}</row>'
    path = hostile_files.write_xlsx(tmp_path / "wide.xlsx", [("Data", hostile_files.sheet_xml(rows))])
    result = import_file(shared_engine, path, scope=OPERATOR, dry_run=True)
    assert result.status == "rejected"
    assert [(problem.sheet, problem.row) for problem in result.problems] == [("Data", None)]  # the sheet is refused


def test_a_zip_whose_directory_points_before_the_file_is_called_damaged(shared_engine: Engine, tmp_path: Path) -> None:
    """The end record claims the directory starts 100 KB later than it does, so every part's offset goes negative."""
    path = hostile_files.make_valid_workbook(tmp_path)
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    (directory,) = struct.unpack_from("<I", data, end + 16)
    struct.pack_into("<I", data, end + 16, directory + 100_000)
    path.write_bytes(bytes(data))
    result = import_file(shared_engine, path, scope=OPERATOR, dry_run=True)
    assert result.status == "rejected"
    assert "damaged" in result.problems[0].message


def test_a_file_name_longer_than_a_sheet_name_column_imports(engine: Engine, tmp_path: Path) -> None:
    """A csv's sheet is its file name, kept as each row's source sheet (cut to 100 characters, which PostgreSQL
    enforces)."""
    trials = tmp_path / "Trials.csv"
    trials.write_text(TRIALS_CSV, encoding="utf-8")
    assert import_file(engine, trials, scope=OPERATOR).status == "imported"
    name = (
        "Port of Long Beach - yard tractor telematics export - March 2024 - corrected by terminal operations - v3.csv"
    )
    path = tmp_path / name
    path.write_text("Trial,Unit,Date,Energy (kWh)\nFZ-YT-01,YT-1,2024-03-01,120\n", encoding="utf-8")
    assert import_file(engine, path, scope=OPERATOR).status == "imported"


def test_a_row_the_file_numbers_zero_is_not_reported_as_row_zero(shared_engine: Engine, tmp_path: Path) -> None:
    """Rows are 1-based; a problem placed on row 0 prints with no row at all ('sheet 'Data', column 'Energy': ...')."""
    header = '<c r="A0" t="inlineStr"><is><t>Date</t></is></c><c r="B0" t="inlineStr"><is><t>Energy</t></is></c>'
    header += '<c r="C0" t="inlineStr"><is><t>Energy</t></is></c>'  # two Energy columns: a problem on the header
    rows = f'<row r="0">{header}</row><row r="1"><c r="A1" t="inlineStr"><is><t>2024-03-01</t></is></c></row>'
    path = hostile_files.write_xlsx(tmp_path / "zero.xlsx", [("Data", hostile_files.sheet_xml(rows))])
    result = import_file(shared_engine, path, scope=OPERATOR, dry_run=True)
    assert result.status == "rejected"
    assert all(problem.row is None or problem.row >= 1 for problem in result.problems), result.problems
