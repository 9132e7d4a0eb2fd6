"""Fuzz the importer with atheris: whatever bytes arrive, an import must end in a result with problems, not a crash.

Run on demand, not in CI (atheris is not a project dependency; it needs Linux or macOS on x86-64 or arm64):

    .venv/bin/pip install atheris
    .venv/bin/python benchmarks/fuzz_import.py --target csv --seconds 300
    .venv/bin/python benchmarks/fuzz_import.py --target xlsx --seconds 300
    .venv/bin/python benchmarks/fuzz_import.py --target xlsx-raw --runs 20000 [--corpus DIR] [--crashes DIR]
    .venv/bin/python benchmarks/fuzz_import.py --target xlsx --replay CRASH_FILE...   # no atheris needed

Every input goes through the public entry point, `importers.pipeline.import_file(..., dry_run=True)`, on one
migrated SQLite database made for the process (with two trials imported first, so rows reach the checks of
periods, magnitudes and units, and the loader); --database-url names a scratch database instead, such as a
PostgreSQL one, whose column lengths and types are enforced where SQLite's are not. The targets:

  csv       the input is the bytes of a .csv upload.
  xlsx      the input is the XML of a workbook's parts (workbook, styles, shared strings, two sheets) joined by
            PART_SEPARATOR; the harness zips them with fixed relationships, so mutations reach the XML parsers
            instead of dying on the zip's CRC. An empty part is left out (but for xl/workbook.xml, kept empty
            so the file is still taken for a workbook).
  xlsx-raw  the input is the bytes of an .xlsx upload (the zip itself is mutated).

The seed corpus is made at start-up from the files tests/hostile_files.py builds plus a few valid imports,
and libFuzzer keeps what it finds in the corpus folder (by default $TMPDIR/zetrials-fuzz/corpus-TARGET, reused by
the next run). A dictionary of the tokens the importer looks for (XML tags, header synonyms, units, dates) is
handed to libFuzzer too. Options libFuzzer knows (e.g. -only_ascii=1, -seed=1) can be added at the end.

An input fails when import_file raises, or returns anything but an ImportResult that is "rejected" with
problems, or "dry-run" or "duplicate" without any; when a problem has no message, an unbounded value or a row
before the first; when the result cannot be rendered as the JSON the CLI and API print; or when the dry run
changed the database. Each distinct failure (exception type and innermost project frame) is saved once in the
crashes folder ($TMPDIR/zetrials-fuzz/crashes) with its traceback, and fuzzing goes on; --stop-on-crash stops at
the first one instead. An input slower than --timeout seconds is a hang: libFuzzer saves it as timeout-* there
and stops the run.

The run ends with one summary line: target, execs, seconds, execs/s, crashes (every failing input) and how many
were distinct, outcomes by status, the slowest input's time. The exit code is 1 when anything failed.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import importlib
import importlib.util
import io
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from importers.pipeline import ImportResult

TARGETS = ("csv", "xlsx", "xlsx-raw")
PART_SEPARATOR = b"\n<!--part-->\n"
PARTS = (
    "xl/workbook.xml",
    "xl/styles.xml",
    "xl/sharedStrings.xml",
    "xl/worksheets/sheet1.xml",
    "xl/worksheets/sheet2.xml",
)
DEFAULT_SECONDS = 60.0
FUZZ_HOME = Path(tempfile.gettempdir()) / "zetrials-fuzz"  # corpus and failures, kept from one run to the next
DEFAULT_MAX_LEN = 64 * 1024  # bigger seeds are left out: large inputs only slow the search down
DEFAULT_TIMEOUT = 30
MAX_SHOWN_VALUE = 200  # importers.problems.shown_value bounds a problem's value to this many characters
TABLES = ("measurement", "trial", "unit", "importbatch", "auditevent", "dailyrollup", "monthlyrollup")

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)
PACKAGE_LINKS = (
    f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" Type="{REL_NS}/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
# rId1 and rId2 are the sheets, as in workbooks written by openpyxl and by tests/hostile_files.write_xlsx.
WORKBOOK_LINKS = (
    f'<Relationships xmlns="{PACKAGE_RELS}">'
    f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL_NS}/worksheet" Target="worksheets/sheet2.xml"/>'
    f'<Relationship Id="rIdStyles" Type="{REL_NS}/styles" Target="styles.xml"/>'
    f'<Relationship Id="rIdStrings" Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)

# --- the database every input is imported into ----------------------------------------------------------------

TRIALS_CSV = (
    "Code,Name,Port,Equipment class,Technology,Units planned,Start date,Baseline rate,Baseline unit\r\n"
    "FZ-YT-01,Fuzz yard tractors,USLGB,yard_tractor,battery_electric,4,2024-01-01,3,L/h\r\n"
    "FZ-RTG-01,Fuzz hybrid RTGs,CNSHA,rtg_crane,hybrid_diesel_electric,,2023-06-01,,\r\n"
)


def make_database(folder: Path, url: str | None) -> Engine:
    """Migrate and seed the database (a new SQLite file unless a URL is given), and import two trials into it."""
    from trials.db import make_engine
    from trials.scope import Scope
    from trials.seed import initialise

    pipeline = importlib.import_module("importers.pipeline")
    engine = make_engine(url or f"sqlite:///{folder / 'fuzz.sqlite'}")
    initialise(engine)
    trials = folder / "Trials.csv"
    trials.write_text(TRIALS_CSV, encoding="utf-8")
    result = pipeline.import_file(engine, trials, scope=Scope.operator())
    if result.status not in ("imported", "duplicate"):  # a database given by URL may have them from an earlier run
        raise SystemExit(f"could not set up the fuzzing database: {result.problems}")
    return engine


def row_counts(engine: Engine) -> tuple[int, ...]:
    """Count the rows of every table an import writes, in one query."""
    import sqlalchemy as sa

    counts = ", ".join(f"(SELECT count(*) FROM {table})" for table in TABLES)  # noqa: S608 - fixed names
    with engine.connect() as connection:
        return tuple(connection.execute(sa.text(f"SELECT {counts}")).one())


# --- turning one input into a file -----------------------------------------------------------------------------


def zip_parts(data: bytes) -> bytes:
    """Zip the parts an xlsx input holds, with the fixed content types and relationships around them."""
    pieces = data.split(PART_SEPARATOR, len(PARTS) - 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", PACKAGE_LINKS)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_LINKS)
        for part, piece in zip(PARTS, pieces, strict=False):
            if piece:
                archive.writestr(part, piece)
        if not pieces[0]:
            archive.writestr("xl/workbook.xml", b"")  # sniff needs the part to call the file a workbook
    return buffer.getvalue()


def split_workbook(data: bytes) -> bytes | None:
    """Turn a real .xlsx into an xlsx input: its parts at the harness's paths, joined; None if it is no workbook."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" not in names:
                return None
            return PART_SEPARATOR.join(archive.read(part) if part in names else b"" for part in PARTS)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return None


def input_file(target: str, data: bytes, folder: Path) -> Path:
    """Write one input where import_file reads it, named as an upload of that kind would be."""
    if target == "csv":
        path = folder / "fuzz.csv"
        path.write_bytes(data)
    elif target == "xlsx":
        path = folder / "fuzz.xlsx"
        path.write_bytes(zip_parts(data))
    else:
        path = folder / "fuzz.xlsx"
        path.write_bytes(data)
    return path


# --- what counts as a failure ------------------------------------------------------------------------------------


class OutcomeError(AssertionError):
    """The import returned, but not a result the CLI, the web page and the API can report."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


def check_outcome(result: ImportResult, before: tuple[int, ...], after: tuple[int, ...]) -> None:
    """Raise OutcomeError unless a dry run gave a reportable result and left the database as it was."""
    pipeline = sys.modules["importers.pipeline"]
    problems_module = sys.modules["importers.problems"]
    if not isinstance(result, pipeline.ImportResult):
        raise OutcomeError("not an ImportResult", type(result).__name__)
    if result.status not in ("rejected", "dry-run", "duplicate"):
        raise OutcomeError("a dry run ended with another status", result.status)
    if (result.status == "rejected") != bool(result.problems):
        raise OutcomeError("status and problems disagree", f"{result.status} with {len(result.problems)} problem(s)")
    for problem in result.problems:
        if not isinstance(problem, problems_module.Problem) or not problem.message:
            raise OutcomeError("a problem without a message", repr(problem))
        if problem.value is not None and len(problem.value) > MAX_SHOWN_VALUE:
            raise OutcomeError("an unbounded problem value", f"{len(problem.value)} characters")
        if problem.row is not None and problem.row < 1:
            raise OutcomeError("a problem on a row before the first", str(problem))
        str(problem)
    json.dumps(result.as_json())
    if before != after:
        raise OutcomeError("the database changed", f"{result.status}: row counts of {TABLES} {before} -> {after}")


def _is_project_code(frame: traceback.FrameSummary) -> bool:
    """Tell the project's own modules from the harness and from libraries installed in the project's venv."""
    parts = Path(frame.filename).relative_to(PROJECT).parts
    return bool(parts) and parts[0] in ("importers", "trials", "app", "reports")


def signature(error: BaseException) -> str:
    """Name a failure by its type and the innermost frame in the project, so one bug is saved once."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [frame for frame in frames if Path(frame.filename).is_relative_to(PROJECT) and _is_project_code(frame)]
    where = f"{Path(ours[-1].filename).relative_to(PROJECT)}:{ours[-1].lineno}" if ours else "harness"
    if isinstance(error, OutcomeError):
        where = error.kind
    return f"{type(error).__name__} at {where}"


@dataclass
class Harness:
    """One target's state across executions: the database, counters, and the failures found so far."""

    target: str
    engine: Engine
    folder: Path  # scratch space: the SQLite database, seeds, the dictionary and the file being imported
    crashes: Path
    stop_on_crash: bool = False
    runs: int | None = None
    seconds: float | None = None
    execs: int = 0
    started: float = field(default_factory=time.monotonic)
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    failures: dict[str, int] = field(default_factory=dict)
    slowest: tuple[float, bytes] = (0.0, b"")

    def import_once(self, data: bytes) -> ImportResult:
        """Import one input as a dry run and check the outcome, raising whatever went wrong."""
        from trials.scope import Scope

        pipeline = sys.modules["importers.pipeline"]
        path = input_file(self.target, data, self.folder)
        before = row_counts(self.engine)
        result: ImportResult = pipeline.import_file(self.engine, path, scope=Scope.operator(), dry_run=True)
        check_outcome(result, before, row_counts(self.engine))
        return result

    def one_input(self, data: bytes) -> None:
        """Run one input for libFuzzer, recording a failure instead of stopping unless asked to stop."""
        self.execs += 1
        began = time.monotonic()
        try:
            result = self.import_once(data)
            self.statuses[result.status] += 1
        except Exception as error:
            self.statuses["FAILED"] += 1
            self.record(error, data)
            if self.stop_on_crash:
                print(self.summary(), flush=True)
                raise  # atheris prints it and libFuzzer saves the input as crash-*
        took = time.monotonic() - began
        if took > self.slowest[0]:
            self.slowest = (took, data)
        if (self.runs is not None and self.execs >= self.runs) or (
            self.seconds is not None and time.monotonic() - self.started >= self.seconds
        ):
            self.finish()

    def record(self, error: Exception, data: bytes) -> None:
        """Save the first input of each distinct failure with its traceback, and count the rest."""
        key = signature(error)
        self.failures[key] = self.failures.get(key, 0) + 1
        if self.failures[key] > 1:
            return
        self.crashes.mkdir(parents=True, exist_ok=True)
        name = f"{self.target}-{hashlib.sha1(data).hexdigest()[:16]}"  # noqa: S324 - a file name, not security
        (self.crashes / name).write_bytes(data)
        text = "".join(traceback.format_exception(error))
        (self.crashes / f"{name}.txt").write_text(f"{key}\n\n{text}", encoding="utf-8")
        print(f"\n=== new failure: {key} (input saved as {self.crashes / name})\n{text}", file=sys.stderr, flush=True)

    def summary(self) -> str:
        """Give the one-line summary of the run."""
        elapsed = time.monotonic() - self.started
        outcomes = ",".join(f"{status}:{count}" for status, count in sorted(self.statuses.items()))
        return (
            f"fuzz_import target={self.target} execs={self.execs} seconds={elapsed:.1f} "
            f"execs/s={self.execs / max(elapsed, 1e-9):.1f} crashes={sum(self.failures.values())} "
            f"distinct={len(self.failures)} outcomes={outcomes} slowest={self.slowest[0]:.2f}s"
        )

    def finish(self) -> None:
        """Print the summary and leave at once: libFuzzer never returns to Python, nor runs atexit handlers."""
        for key, count in sorted(self.failures.items()):
            print(f"failure x{count}: {key}", file=sys.stderr)
        if self.slowest[1]:
            self.crashes.mkdir(parents=True, exist_ok=True)
            (self.crashes / f"slowest-{self.target}").write_bytes(self.slowest[1])
        print(self.summary(), flush=True)
        sys.stderr.flush()
        self.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)
        os._exit(1 if self.failures else 0)


# --- seeds and dictionaries -------------------------------------------------------------------------------------


def _hostile_files(folder: Path) -> Iterator[tuple[str, bytes]]:
    """Build every file tests/hostile_files.py knows, giving (name, bytes)."""
    hostile_files = importlib.import_module("tests.hostile_files")
    for name in sorted(dir(hostile_files)):
        if name.startswith("make_"):
            maker: Callable[[Path], Path] = getattr(hostile_files, name)
            where = folder / name
            where.mkdir()
            yield name.removeprefix("make_"), maker(where).read_bytes()


def _valid_csvs() -> dict[str, bytes]:
    """Csv files the fuzzing database imports cleanly, in the shapes real uploads take."""
    comma = (
        "Trial,Unit,Date,Operating hours (h),Energy (kWh),Moves,Role,Notes,Shift\r\n"
        'FZ-YT-01,YT-1,2024-03-01,10,250,40,trial,"first, day",A\r\n'
        "FZ-YT-01,YT-1,2024-03-02,12.5,310,50,,,B\r\n"
        "FZ-YT-01,D-1,2024-03-01,9,,,baseline,,\r\n"
        "FZ-YT-01,,2024-03,240,6000,900,,whole fleet,\r\n"
        ",,,,,,,,\r\n"
        "Total,,,31.5,560,90,,,\r\n"
    )
    semicolon = (
        "Fleet export;;;\r\nGenerated 01/04/2024;;;\r\n"
        "Project code;Vehicle;Date (dd/mm/yyyy);Energy (MWh);Fuel used [gal];Distance (mi);Remarque\r\n"
        "FZ-YT-01;YT-2;01/03/2024;1,5;12,3;1.234,5;Café\r\n"
        "FZ-RTG-01;RTG-7;02/03/2024;0,75;;;€ prix\r\n"
    )
    tabbed = "Pilot\tAsset\tMonth\tkWh charged\tMileage mi\tLifts\r\nFZ-RTG-01\tRTG-1\tMar 2024\t12 000\t\t8,000\r\n"
    bounded = (
        "\ufeffTrial code,Hull,Start,End,Hours (min),Hydrogen (kg),CO2 avoided (t)\n"
        "FZ-YT-01,H-1,2024-02-01,2024-02-07,600,3.5,1.2\n"
        "FZ-YT-01,H-1,2024-02-08 06:00,2024-02-08 18:00,720,,0\n"
    )
    problems = (
        "Trial,Unit,Date,Energy (kWh),Hydrogen (kg),Diesel (L),Moves\n"
        "FZ-YT-01,YT-1,2024-03-01,NaN,inf,-3,1.5\n"
        "FZ-YT-01,YT-1,03/04/2024,1e400,9999999999,12 gal,#DIV/0!\n"
        "FZ-YT-01,YT-1,2024-03-01,1,,,\n"
        "NO-SUCH,YT-1,2024-13-45,=A1,,,\n"
    )
    return {
        "valid-comma.csv": comma.encode("utf-8"),
        "valid-semicolon-cp1252.csv": semicolon.encode("cp1252"),
        "valid-tab-utf16.csv": tabbed.encode("utf-16"),
        "valid-start-end-bom.csv": bounded.encode("utf-8"),
        "problems.csv": problems.encode("utf-8"),
    }


def _inline(reference: str, text: str, style: str = "") -> str:
    """Give an inline-string cell."""
    return f'<c r="{reference}" t="inlineStr"{style}><is><t>{text}</t></is></c>'


def _rich_workbook(*, bad_cells: bool) -> bytes:
    """An xlsx input with a Trials sheet and a measurements sheet using every kind of cell the reader knows."""
    workbook = (
        f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><workbookPr date1904="0"/><sheets>'
        '<sheet name="Trials" sheetId="1" r:id="rId1"/><sheet name="Measurements" sheetId="2" r:id="rId2"/>'
        "</sheets></workbook>"
    )
    styles_module = importlib.import_module("tests.hostile_files")
    headers = ["Trial", "Unit", "Date", "Energy (MWh)", "Fuel used [gal]", "Hours (min)", "Moves", "Notes", "Role"]
    strings = [*headers, "FZ-YT-01", "YT-1", "rich <r> text"]
    shared = "".join(f"<si><t>{text.replace('<', '&lt;')}</t></si>" for text in strings[:-1])
    shared += "<si><r><t>rich </t></r><r><t>text</t></r><rPh><t>ignored</t></rPh></si>"
    sst = f'<sst xmlns="{MAIN_NS}" count="{len(strings)}">{shared}</sst>'
    trial_headers = ["Code", "Name", "Port", "Equipment class", "Technology", "Units planned", "Start date", "Status"]
    trial_row = ["FZ-YT-01", "Fuzz yard tractors", "Long Beach", "Yard tractor", "Battery electric"]
    trials_rows = (
        '<row r="1">' + "".join(_inline(f"{chr(65 + i)}1", text) for i, text in enumerate(trial_headers)) + "</row>"
        '<row r="2">'
        + "".join(_inline(f"{chr(65 + i)}2", text) for i, text in enumerate(trial_row))
        + '<c r="F2"><v>6</v></c><c r="G2" s="1"><v>45292</v></c>'
        + _inline("H2", "active")
        + "</row>"
    )
    measure_rows = (
        '<row r="1">' + "".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>' for i in range(len(headers))) + "</row>"
        '<row r="2"><c r="A2" t="s"><v>9</v></c><c r="B2" t="s"><v>10</v></c><c r="C2" s="1"><v>45352</v></c>'
        '<c r="D2"><v>1.5</v></c><c r="E2"><f>A1*2</f><v>20</v></c><c r="F2" s="4"><v>0.5</v></c>'
        '<c r="G2" t="str"><f>"4"&amp;"0"</f><v>40</v></c><c r="H2" t="s"><v>11</v></c>'
        '<c r="I2" t="inlineStr"><is><t>trial</t></is></c></row>'
        '<row r="3"><c r="A3" t="s"><v>9</v></c><c r="B3" t="inlineStr"><is><t>YT-1_x000D_</t></is></c>'
        '<c r="C3" t="d"><v>2024-03-02T00:00:00Z</v></c><c r="D3"><v>2</v></c></row>'
        '<row><c t="s"><v>9</v></c><c><v>YT-2</v></c><c s="3"><v>45353.25</v></c><c><v>1E-3</v></c></row>'
        '<row r="9"><c r="A9" t="inlineStr"><is><t>Grand total</t></is></c><c r="D9"><v>3</v></c></row>'
    )
    if bad_cells:
        measure_rows += (
            '<row r="10"><c r="A10" t="s"><v>9</v></c><c r="B10" t="s"><v>99</v></c><c r="C10" s="1"><v>-1</v></c>'
            '<c r="D10" t="e"><v>#N/A</v></c><c r="E10"><f>B2</f></c><c r="F10" s="2"><v>1E+309</v></c>'
            '<c r="G10" t="b"><v>1</v></c><c r="H10" t="n"><v>abc</v></c></row>'
        )
    sheet_one = f'<?xml version="1.0"?><worksheet xmlns="{MAIN_NS}"><sheetData>{trials_rows}</sheetData></worksheet>'
    sheet_two = (
        f'<worksheet xmlns="{MAIN_NS}"><dimension ref="A1:I3"/><sheetData>{measure_rows}</sheetData></worksheet>'
    )
    parts = [workbook, styles_module.STYLES, sst, sheet_one, sheet_two]
    return PART_SEPARATOR.join(part.encode("utf-8") for part in parts)


def _openpyxl_workbook(*, bad_cells: bool) -> bytes:
    """A measurements workbook as openpyxl writes it: shared strings, date styles, formulas without values."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Measurements"
    sheet.append(["Fleet report"])
    sheet.append([])
    sheet.append(["Trial", "Unit", "Date", "Operating hours", "Energy (kWh)", "Diesel (L)", "Remarks"])
    for day in range(1, 6):
        sheet.append(["FZ-YT-01", f"YT-{day % 2}", date(2024, 4, day), day * 2, day * 100.5, None, f"day {day}"])
    if bad_cells:
        sheet.append(["FZ-YT-01", "YT-9", "2024-04-07", "=D4*2", "1,234.5", "-3", "#DIV/0!"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def seeds(target: str, folder: Path, max_len: int) -> dict[str, bytes]:
    """Give the seed inputs of a target, none longer than max_len."""
    found: dict[str, bytes] = {}
    hostile = dict(_hostile_files(folder))
    if target == "csv":
        found |= _valid_csvs()
        found |= {name: data for name, data in hostile.items() if data[:2] != b"PK"}
    elif target == "xlsx":
        for name, data in [
            *hostile.items(),
            ("openpyxl", _openpyxl_workbook(bad_cells=False)),
            ("openpyxl-bad", _openpyxl_workbook(bad_cells=True)),
        ]:
            parts = split_workbook(data)
            if parts is not None:
                found[name] = parts
        found["rich"] = _rich_workbook(bad_cells=False)
        found["rich-bad-cells"] = _rich_workbook(bad_cells=True)
    else:
        found |= hostile | {
            "openpyxl": _openpyxl_workbook(bad_cells=False),
            "rich": zip_parts(_rich_workbook(bad_cells=False)),
        }
    return {name: data for name, data in found.items() if 0 < len(data) <= max_len}


def dictionary_words(target: str) -> list[bytes]:
    """Give the tokens the importer reacts to, for libFuzzer to splice into inputs."""
    mapping = importlib.import_module("importers.mapping")
    values = importlib.import_module("importers.values")
    words = {
        synonym
        for table in (mapping.MEASUREMENT_SYNONYMS, mapping.TRIAL_SYNONYMS)
        for synonyms in table.values()
        for synonym in synonyms
    }
    words |= set(mapping.MONTH_HEADERS) | set(mapping.FUEL_HEADERS)
    words |= {f"({unit})" for unit in sorted(values.UNIT_SPELLINGS)}
    words |= {"Trials", "Total", "Grand total", "Sum", "FZ-YT-01", "FZ-RTG-01", "USLGB", "yard_tractor", "baseline"}
    words |= {"2024-03-01", "03/04/2024", "2024-03", "Mar 2024", "45352", "45352.5", "12:30", "1.234,5", "1 234"}
    words |= {"9999-12-31", "0001-01-01", "1899-12-30", "T23:59:59", "-05:00", "+14:00", "Z", "2958465", "1904"}
    words |= {"NaN", "inf", "-1", "1e308", "1e400", "0x10", "\u00a0", "\u202f", "\u2212", "\ufeff", "#N/A", "="}
    encoded = [word.encode("utf-8") for word in words]
    if target == "csv":
        encoded += [b",", b";", b"\t", b'"', b'""', b"\r\n", b"\xef\xbb\xbf", b"\xff\xfe", b"\x80", b"\xe9"]
    else:
        encoded += [
            b'<row r="2">',
            b"</row>",
            b'<c r="A2"',
            b'<c r="XFD1048576"',
            b'<c r="GR1"',
            b' t="s"',
            b' t="inlineStr"',
            b' t="str"',
            b' t="b"',
            b' t="e"',
            b' t="d"',
            b' s="1"',
            b' s="3"',
            b' s="4"',
            b"<v>",
            b"</v>",
            b"<is><t>",
            b"</t></is>",
            b"<f>",
            b"</f>",
            b"<si><t>",
            b"</t></si>",
            b"<rPh>",
            b"_x000D_",
            b"_xD800_",
            b"&amp;",
            b"&#10;",
            b"&#xD800;",
            b'<sheet name="Trials" sheetId="1" r:id="rId1"/>',
            b'<sheet name="Data" sheetId="2" r:id="rId2"/>',
            b'<workbookPr date1904="1"/>',
            b'<dimension ref="A1:XFD1048576"/>',
            b'<numFmt numFmtId="164" formatCode="dd/mm/yyyy"/>',
            b'<xf numFmtId="14"/>',
            b'<xf numFmtId="46"/>',
            b'<!DOCTYPE x [<!ENTITY e "e">]>',
            b'xmlns="http://purl.oclc.org/ooxml/spreadsheetml/main"',
            b"<x:worksheet",
            b"'",
            b" r='",
            b" = ",
            b"&#",
            b"&#x",
            b";",
            PART_SEPARATOR,
        ]
    return sorted(set(encoded))


def write_dictionary(target: str, path: Path) -> None:
    """Write the tokens in libFuzzer's dictionary format, every byte outside printable ASCII escaped."""
    lines = []
    for word in dictionary_words(target):
        escaped = "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\x{b:02x}" for b in word)
        lines.append(f'"{escaped}"')
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


# --- running ----------------------------------------------------------------------------------------------------


def parse_arguments(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Read the options; anything unknown (e.g. -max_len=4096) goes to libFuzzer."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--target", choices=TARGETS, default="csv")
    parser.add_argument("--runs", type=int, help="stop after this many inputs")
    parser.add_argument("--seconds", type=float, help=f"stop after this long (default {DEFAULT_SECONDS:.0f} s)")
    parser.add_argument(
        "--corpus", type=Path, help=f"corpus folder, seeded at start (default {FUZZ_HOME}/corpus-TARGET)"
    )
    parser.add_argument("--crashes", type=Path, default=FUZZ_HOME / "crashes", help="where failing inputs go")
    parser.add_argument("--max-len", type=int, default=DEFAULT_MAX_LEN, help="longest input libFuzzer makes")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds before one input is a hang")
    parser.add_argument("--stop-on-crash", action="store_true", help="stop at the first failure")
    parser.add_argument("--no-seeds", action="store_true", help="do not add the start-up seeds to the corpus")
    parser.add_argument("--replay", type=Path, nargs="+", help="run these saved inputs once each, without atheris")
    parser.add_argument("--database-url", help="a scratch database to import into, e.g. PostgreSQL (default: SQLite)")
    options, extra = parser.parse_known_args(argv)
    if options.runs is None and options.seconds is None:
        options.seconds = DEFAULT_SECONDS
    return options, extra


def replay(harness: Harness, files: list[Path]) -> int:
    """Run saved inputs once each and say how each ended; no fuzzing, so atheris is not needed."""
    failed = 0
    for file in files:
        try:
            result = harness.import_once(file.read_bytes())
        except Exception:
            failed += 1
            print(f"{file}: FAILED\n{traceback.format_exc()}")
            continue
        print(f"{file}: {result.status}, {len(result.problems)} problem(s)")
        for problem in result.problems[:5]:
            print(f"    {problem}")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    """Set up the database and corpus, then fuzz one target until the runs or seconds are used up."""
    options, extra = parse_arguments(argv[1:])
    atheris: Any = None
    if options.replay is None:
        if importlib.util.find_spec("atheris") is None:
            print("atheris is not installed: .venv/bin/pip install atheris", file=sys.stderr)
            return 2
        atheris = importlib.import_module("atheris")
        atheris.enabled_hooks.add("str")
        with atheris.instrument_imports(include=["importers"]):
            importlib.import_module("importers.pipeline")
    else:
        importlib.import_module("importers.pipeline")
    folder = Path(tempfile.mkdtemp(prefix="zetrials-fuzz-"))
    harness = Harness(options.target, make_database(folder, options.database_url), folder, options.crashes.resolve())
    if options.replay is not None:
        try:
            return replay(harness, options.replay)
        finally:
            harness.engine.dispose()
            shutil.rmtree(folder, ignore_errors=True)
    corpus = (options.corpus or FUZZ_HOME / f"corpus-{options.target}").resolve()
    corpus.mkdir(parents=True, exist_ok=True)
    if not options.no_seeds:
        seeds_folder = folder / "seeds"
        seeds_folder.mkdir()
        for name, data in seeds(options.target, seeds_folder, options.max_len).items():
            (corpus / f"seed-{name}").write_bytes(data)
    dictionary = folder / f"{options.target}.dict"
    write_dictionary(options.target, dictionary)
    harness.runs, harness.seconds, harness.stop_on_crash = options.runs, options.seconds, options.stop_on_crash
    libfuzzer = [
        argv[0],
        str(corpus),
        f"-dict={dictionary}",
        f"-max_len={options.max_len}",
        f"-timeout={options.timeout}",
        f"-artifact_prefix={options.crashes.resolve()}/",
        *extra,
    ]
    options.crashes.mkdir(parents=True, exist_ok=True)
    print(f"fuzzing {options.target}: corpus {corpus}, failures to {options.crashes.resolve()}", flush=True)
    harness.started = time.monotonic()
    atheris.Setup(libfuzzer, harness.one_input)
    atheris.Fuzz()
    harness.finish()  # libFuzzer ended on its own (e.g. -runs=N given to it)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
