"""How fast, and in how much memory, is a full `zetrials report` next to xlsxwriter writing the same raw rows?

Run from the project folder:

    .venv/bin/python benchmarks/report_speed.py [--rows 100000 1000000] [--out DIR] [--openpyxl]

It builds a SQLite database per size in DIR once (four trials at four ports, one measurement row per unit and day,
inserted with SQLAlchemy Core) and reuses it on later runs. Each contender then runs in a fresh Python process,
which times its own work (after its imports), wall clock and CPU, and reports its peak resident memory (VmHWM):

  zetrials report          `zetrials report -o FILE`: every sheet (Summary, Comparison with charts, Trials,
                           Monthly, Measurements, Methodology, Data quality), the raw rows included
  xlsxwriter               xlsxwriter in constant-memory mode writing only the Measurements rows, read from the
                           same database by the same query (needs `pip install xlsxwriter`, the `bench` extra)
  openpyxl write-only      with --openpyxl: openpyxl's own write-only cells for the same rows (lxml if installed),
                           for reference

Both contenders pay for reading the rows from the database alike, so the ratio compares the writers, with the
report's other sheets on top. Targets (issue "Excel reports"): the report within 1.3x of xlsxwriter's time, and
under 300 MB peak at 1,000,000 rows. On a 2-core development machine --rows 100000 takes about half a minute;
--rows 1000000 about five minutes, plus about a minute to build its database the first time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path(tempfile.gettempdir()) / "zetrials-benchmark"
DEFAULT_ROWS = (100_000, 1_000_000)
GENERATOR_VERSION = 1  # bump when the data's shape changes, so cached databases are rebuilt
SEED = 20240301
FIRST_DAY = date(2023, 1, 1)
DAYS = 730
CHUNK = 10_000
TARGET_RATIO = 1.3
TARGET_PEAK_MB = 300
TARGET_PEAK_ROWS = 1_000_000

# code, port, class, technology, declared baseline rate and unit
TRIALS = (
    ("BENCH-YT-01", "USLGB", "yard_tractor", "battery_electric", 3.2, "L/h"),
    ("BENCH-YT-02", "USLAX", "yard_tractor", "hydrogen_fuel_cell", 3.2, "L/h"),
    ("BENCH-RTG-01", "CNSHA", "rtg_crane", "hybrid_diesel_electric", 0.7, "L/move"),
    ("BENCH-SC-01", "JPNGO", "straddle_carrier", "battery_electric", 0.6, "L/move"),
)
NOTES = ("charger offline, charged at depot", "tyre change", "driver training day", "software update")


# --- the database -------------------------------------------------------------------------------------------------


def units_for(rows: int) -> int:
    """Spread the rows over enough units that each unit has one row a day for DAYS days at most."""
    return max(len(TRIALS), math.ceil(rows / DAYS))


def measurement_values(rows: int, unit_ids: list[int], trial_ids: list[int]) -> Iterator[dict[str, Any]]:
    """Yield a telematics-style year and a half: every unit once a day, values from a seeded generator."""
    chance = random.Random(SEED)
    for index in range(rows):
        day, unit = divmod(index, len(unit_ids))
        _code, _port, equipment, technology, _rate, _unit = TRIALS[unit % len(TRIALS)]
        hours = round(chance.uniform(4, 20), 1)
        moves = chance.randint(40, 400)
        start = FIRST_DAY + timedelta(days=day)
        yield {
            "trial_id": trial_ids[unit % len(TRIALS)],
            "unit_id": unit_ids[unit],
            "period_start": start,
            "period_end": start + timedelta(days=1),
            "operating_hours": hours,
            "energy_kwh": round(hours * chance.uniform(12, 30), 2) if technology != "hydrogen_fuel_cell" else None,
            "hydrogen_kg": round(hours * chance.uniform(0.8, 1.6), 2) if technology == "hydrogen_fuel_cell" else None,
            "diesel_l": round(hours * chance.uniform(2, 6), 1) if technology == "hybrid_diesel_electric" else None,
            "distance_km": round(hours * chance.uniform(5, 12), 1) if equipment != "rtg_crane" else None,
            "moves": float(moves),
            "teu": float(round(moves * 1.6)),
            "scheduled_hours": 24.0,
            "downtime_hours": round(chance.uniform(0, 3), 2) if chance.random() < 0.1 else 0.0,
            "notes": chance.choice(NOTES) if chance.random() < 0.02 else None,
            "source_sheet": "Measurements",
            "source_row": index + 2,
        }


def database_path(out: Path, rows: int) -> Path:
    """Name a cached database by its size and the generator's version."""
    return out / f"report-bench-{rows}-v{GENERATOR_VERSION}.sqlite"


def ensure_database(out: Path, rows: int) -> Path:
    """Build the database unless a previous run left it; a half-built file never takes the final name."""
    import sqlalchemy as sa

    from trials.db import make_engine
    from trials.models import Measurement, Trial, Unit
    from trials.seed import initialise

    path = database_path(out, rows)
    if path.exists():
        return path
    out.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    for leftover in out.glob(partial.name + "*"):
        leftover.unlink()
    started = time.perf_counter()
    print(f"building {path} ({rows:,} measurement rows) ...", flush=True)
    engine = make_engine(f"sqlite:///{partial}")
    initialise(engine)
    with engine.begin() as connection:
        trial_ids = []
        for code, port, equipment, technology, rate, unit in TRIALS:
            values = {
                "code": code,
                "name": f"Benchmark {equipment.replace('_', ' ')}s",
                "port_locode": port,
                "equipment_class": equipment,
                "technology": technology,
                "start_date": FIRST_DAY,
                "status": "active",
                "baseline_rate": rate,
                "baseline_unit": unit,
                "baseline_source": "benchmark",
                "visibility": "partners",
            }
            trial_ids.append(connection.execute(sa.insert(Trial).values(**values).returning(Trial.id)).scalar_one())
        unit_ids = [
            connection.execute(
                sa.insert(Unit)
                .values(trial_id=trial_ids[n % len(TRIALS)], unit_id=f"{TRIALS[n % len(TRIALS)][0]}-U{n:04d}")
                .returning(Unit.id)
            ).scalar_one()
            for n in range(units_for(rows))
        ]
        chunk: list[dict[str, Any]] = []
        for values in measurement_values(rows, unit_ids, trial_ids):
            chunk.append(values)
            if len(chunk) == CHUNK:
                connection.execute(sa.insert(Measurement), chunk)
                chunk = []
        if chunk:
            connection.execute(sa.insert(Measurement), chunk)
    engine.dispose()
    partial.replace(path)
    print(f"  built in {time.perf_counter() - started:.0f} s, {path.stat().st_size / 1e6:.0f} MB", flush=True)
    return path


# --- contenders, each run in its own process ---------------------------------------------------------------------


def peak_mb() -> float:
    """This process's peak resident memory in MB: VmHWM where /proc has it, else getrusage."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KB elsewhere


def run_report(target: Path) -> int:
    """Write the full report through the `zetrials report` command; give the raw rows it says it wrote."""
    from app.cli_report import report

    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        report.main(["-o", str(target)], standalone_mode=False)
    found = re.search(r"([\d,]+) measurement rows", said.getvalue())
    return int(found.group(1).replace(",", "")) if found else -1


@contextlib.contextmanager
def raw_rows() -> Iterator[tuple[list[str], Iterator[Any]]]:
    """Open the database and give the Measurements headers and the report's own raw-row stream."""
    from reports.sheets import MEASUREMENT_COLUMNS, MEASUREMENT_FIELDS
    from trials.db import make_engine, read_session
    from trials.queries import list_trials, stream_measurements
    from trials.scope import Scope

    engine = make_engine()
    scope = Scope.operator()
    try:
        with read_session(engine) as session:
            trials = list_trials(session=session, scope=scope)
            fields = [name for name, _header, _style in MEASUREMENT_FIELDS]
            rows = stream_measurements(session=session, scope=scope, trials=trials, fields=fields)
            yield [column.header for column in MEASUREMENT_COLUMNS], rows
    finally:
        engine.dispose()


def run_xlsxwriter(target: Path) -> int:
    """Write the same rows with xlsxwriter in constant-memory mode, one typed write per non-empty cell."""
    import xlsxwriter

    count = 0
    with raw_rows() as (headers, rows):
        book = xlsxwriter.Workbook(str(target), {"constant_memory": True})
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        sheet = book.add_worksheet("Measurements")
        sheet.write_row(0, 0, headers)
        for number, row in enumerate(rows, start=1):
            for column, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, str):
                    sheet.write_string(number, column, value)
                elif isinstance(value, date):
                    sheet.write_datetime(number, column, value, day)
                else:
                    sheet.write_number(number, column, value)
            count = number
        book.close()
    return count


def run_openpyxl(target: Path) -> int:
    """Write the same rows with openpyxl's own write-only worksheet, dates in their default format."""
    from openpyxl import Workbook

    count = 0
    with raw_rows() as (headers, rows):
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Measurements")
        sheet.append(headers)
        for row in rows:
            sheet.append([str(value) if isinstance(value, str) else value for value in row])
            count += 1
        book.save(target)
    return count


CONTENDERS: dict[str, tuple[str, Callable[[Path], int], Callable[[], object]]] = {
    "report": ("zetrials report", run_report, lambda: __import__("app.cli_report")),
    "xlsxwriter": ("xlsxwriter constant-memory", run_xlsxwriter, lambda: __import__("xlsxwriter")),
    "openpyxl": ("openpyxl write-only", run_openpyxl, lambda: __import__("openpyxl")),
}


def measure_here(kind: str, target: Path) -> None:
    """Child process: import the contender's libraries, then time its work and print one JSON line."""
    _label, run, warm = CONTENDERS[kind]
    warm()
    __import__("reports.sheets")
    __import__("trials.queries")
    started, cpu_started = time.perf_counter(), time.process_time()
    rows = run(target)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "rows": rows, "peak_mb": peak_mb(),
                      "bytes": target.stat().st_size}))  # fmt: skip


# --- the parent: run everything and report ----------------------------------------------------------------------


@dataclass
class Outcome:
    """One contender's measurement at one size; `note` says why a figure is missing or off."""

    kind: str
    seconds: float | None = None
    cpu_seconds: float | None = None
    peak_mb: float | None = None
    megabytes: float | None = None
    note: str = ""


def measure(kind: str, database: Path, rows: int, out: Path) -> Outcome:
    """Run one contender in a fresh process on the database and read back its own timing and peak memory."""
    target = out / f"{kind}-{rows}.xlsx"
    target.unlink(missing_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), env.get("PYTHONPATH")]))
    env["DATABASE_URL"] = f"sqlite:///{database}"
    command = [sys.executable, __file__, "--measure", kind, str(target)]
    done = subprocess.run(command, env=env, cwd=PROJECT, capture_output=True, text=True)
    if done.returncode != 0:
        return Outcome(kind, note=f"failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    note = "" if report["rows"] == rows else f"wrote {report['rows']:,} rows, expected {rows:,}"
    return Outcome(kind, report["seconds"], report["cpu_seconds"], report["peak_mb"], report["bytes"] / 1e6, note)


def xlsxwriter_available() -> bool:
    """Tell whether xlsxwriter can be imported here, without importing it into the parent."""
    command = [sys.executable, "-c", "import xlsxwriter"]
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


def report_table(rows: int, outcomes: list[Outcome]) -> None:
    """Print one size's table and whether each target is met."""
    by_kind = {outcome.kind: outcome for outcome in outcomes}
    base = by_kind["xlsxwriter"].seconds if "xlsxwriter" in by_kind else None
    print(f"\n{rows:,} measurement rows ({len(TRIALS)} trials), lxml {'present' if lxml_present() else 'absent'}")
    heads = ("seconds", "CPU s", "rows/s", "peak MB", "file MB", "x xlsxwriter")
    widths = (8, 8, 10, 8, 8, 12)
    header = " ".join(f"{head:>{width}}" for head, width in zip(heads, widths, strict=True))
    print(f"{'contender':<28} {header}  note")
    for outcome in outcomes:
        label = CONTENDERS[outcome.kind][0]
        seconds = f"{outcome.seconds:8.2f}" if outcome.seconds is not None else f"{'-':>8}"
        cpu = f"{outcome.cpu_seconds:8.2f}" if outcome.cpu_seconds is not None else f"{'-':>8}"
        speed = f"{rows / outcome.seconds:10,.0f}" if outcome.seconds else f"{'-':>10}"
        peak = f"{outcome.peak_mb:8.0f}" if outcome.peak_mb is not None else f"{'-':>8}"
        size = f"{outcome.megabytes:8.1f}" if outcome.megabytes is not None else f"{'-':>8}"
        ratio = f"{outcome.seconds / base:12.2f}" if outcome.seconds is not None and base else f"{'-':>12}"
        print(f"{label:<28} {seconds} {cpu} {speed} {peak} {size} {ratio}  {outcome.note}")
    ours = by_kind["report"]
    if ours.seconds is not None and base:
        times = ours.seconds / base
        print(f"target: report within {TARGET_RATIO:g}x of xlsxwriter: {times:.2f}x -> {met(times <= TARGET_RATIO)}")
    if ours.peak_mb is not None:
        verdict = met(ours.peak_mb < TARGET_PEAK_MB)
        judged = "" if rows >= TARGET_PEAK_ROWS else f" (the target is judged at {TARGET_PEAK_ROWS:,} rows)"
        print(f"target: report peak under {TARGET_PEAK_MB} MB: {ours.peak_mb:.0f} MB -> {verdict}{judged}")


def lxml_present() -> bool:
    """Tell whether lxml is importable, which speeds up openpyxl's own writer."""
    command = [sys.executable, "-c", "import lxml"]
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


def met(ok: bool) -> str:
    """Word a target's verdict."""
    return "MET" if ok else "NOT MET"


def main() -> None:
    """Parse the arguments; either measure one contender (as a child) or run the whole benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=list(DEFAULT_ROWS), help="measurement row counts")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the databases and reports")
    parser.add_argument("--openpyxl", action="store_true", help="also time openpyxl's own write-only cells")
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure:
        measure_here(arguments.measure[0], Path(arguments.measure[1]))
        return
    sys.path.insert(0, str(PROJECT))
    out: Path = arguments.out.resolve()
    kinds = ["report"]
    if xlsxwriter_available():
        kinds.append("xlsxwriter")
    else:
        print("xlsxwriter is not installed (pip install -e '.[bench]'): the report is timed alone")
    if arguments.openpyxl:
        kinds.append("openpyxl")
    for rows in sorted(arguments.rows):
        database = ensure_database(out, rows)
        report_table(rows, [measure(kind, database, rows, out) for kind in kinds])


if __name__ == "__main__":
    main()
