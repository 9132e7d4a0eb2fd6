"""How fast is a full `zetrials import` next to merely reading the same workbook with pandas or python-calamine?

Run from the project folder (Linux or macOS):

    .venv/bin/python benchmarks/import_speed.py [--rows 100000 1000000] [--out DIR] [--full] [--repeat N]
                                                [--in-process-too]

It writes measurement workbooks (a Trials sheet of four trials and a Measurements sheet of 12 columns: one
row per unit and day, strings inline as xlsxwriter and openpyxl write them; the rows of
tests/measurement_workbook.py, which the import tests generate too) into DIR once, with xlsxwriter
when installed, else openpyxl; reruns reuse them. Each contender then runs `--repeat` times (the fastest run
counts), each time in a fresh Python process that imports its libraries first and then times its own work:

  full zetrials import        `zetrials import FILE --json` (read, validate, load) into a fresh SQLite database
  import, no worker process   the same with every sheet parsed in the importing process (--in-process-too)
  reader in-process           our reader alone (importers.readers), draining every row of every sheet
  read, inline strings        the same, on a copy of the workbook whose text cells are all inline strings
  read, shared strings        the same, on a copy whose text cells all point into a shared string table; the
                              two copies differ in nothing else. They run alternately (--repeat times, at least
                              3), each keeping its least CPU time, and the ratio of those is printed (target:
                              inline strings within 1.2x of shared ones)
  SQLite load alone           the import's load stage by itself: the rows the import wrote, already checked, written
                              again through importers.load.Loader with the rollups rebuilt and committed (the
                              first import that produced them is not timed); whatever the reader and the
                              checks cost, a full import into SQLite cannot take less than this
  pandas + openpyxl read      pandas.read_excel(engine="openpyxl") of the Measurements sheet
  python-calamine read        every row of the Measurements sheet, through CalamineWorkbook.iter_rows

Peak MB is the highest resident memory of the contender's process plus its child processes (the import's
worker), sampled every 20 ms. "cpu s" is the CPU time of the process (+ its worker): when other work keeps
the machine's cores busy, wall times stretch (the load average is printed) but CPU times barely move.

pandas and xlsxwriter are not project dependencies (`pip install pandas xlsxwriter`); without pandas its row is
skipped. pandas takes minutes beyond 200,000 rows, so there its time is extrapolated linearly from the
smallest size measured (100,000 rows if none was) and marked EXTRAPOLATED, unless --full is given. On the
2-core development machine, lightly loaded, --rows 100000 takes about 40 s (plus 5 s to write the workbook
once) and --rows 1000000 about 3.5 minutes, most of it the load contender's untimed first import (plus 90 s to
write it; --full adds 2.5 minutes of pandas, --in-process-too another import). Nothing here asserts: it measures.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from tests.measurement_workbook import (  # noqa: E402 - the workbook the import tests generate too
    DATE_COLUMN,
    MEASUREMENT_HEADERS,
    TRIAL_HEADERS,
    measurement_rows,
    prepare_load,
    run_import,
    run_load,
    strings_twin,
    trial_rows,
    write_with_openpyxl,
)

DEFAULT_OUT = Path(tempfile.gettempdir()) / "zetrials-benchmark"
DEFAULT_ROWS = (100_000, 1_000_000)
PANDAS_MAX_ROWS = 200_000  # beyond this pandas is extrapolated unless --full
GENERATOR_VERSION = 1  # bump when the workbook's shape changes, so cached files are rewritten
TARGET_VS_PANDAS = 3.0
TARGET_VS_RAW = 2.0
TARGET_PEAK_MB = 1024
TARGET_PEAK_ROWS = 1_000_000
TARGET_INLINE_VS_SHARED = 1.2

# --- the workbook, cached -----------------------------------------------------------------------------------------


def workbook_path(out: Path, rows: int) -> Path:
    """Name a cached workbook by its size and the generator's version."""
    return out / f"measurements-{rows}-v{GENERATOR_VERSION}.xlsx"


def ensure_workbook(out: Path, rows: int) -> Path:
    """Write the workbook unless a previous run left it; a half-written file never takes the final name."""
    path = workbook_path(out, rows)
    if path.exists():
        return path
    out.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.xlsx")
    started = time.perf_counter()
    writer, name = pick_writer()
    print(f"writing {path} ({rows:,} rows, with {name}) ...", flush=True)
    writer(partial, rows)
    partial.replace(path)
    print(f"  written in {time.perf_counter() - started:.0f} s, {path.stat().st_size / 1e6:.1f} MB", flush=True)
    return path


def pick_writer() -> tuple[Callable[[Path, int], None], str]:
    """Prefer xlsxwriter (faster, constant memory); fall back on openpyxl, which the project always has."""
    if importlib.util.find_spec("xlsxwriter") is None:
        return write_with_openpyxl, "openpyxl write-only"
    return write_with_xlsxwriter, "xlsxwriter"


def write_with_xlsxwriter(path: Path, rows: int) -> None:
    """Write both sheets row by row in xlsxwriter's constant-memory mode."""
    book = importlib.import_module("xlsxwriter").Workbook(str(path), {"constant_memory": True})
    day_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, headers, body, date_columns in (
        ("Trials", TRIAL_HEADERS, iter(trial_rows(rows)), (TRIAL_HEADERS.index("Start date"),)),
        ("Measurements", MEASUREMENT_HEADERS, measurement_rows(rows), (DATE_COLUMN,)),
    ):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, headers)
        for number, values in enumerate(body, start=1):
            sheet.write_row(number, 0, [None if index in date_columns else v for index, v in enumerate(values)])
            for index in date_columns:
                sheet.write_datetime(number, index, values[index], day_format)
    book.close()


# --- contenders, each run in its own process ---------------------------------------------------------------------


def resident_kb(pid: int | str, field: str = "VmRSS") -> int:
    """Read one memory figure (kB) of a process from /proc; 0 when it has gone or /proc is not there."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class PeakSampler(threading.Thread):
    """Samples the resident memory of this process plus its child processes (the import's worker) every 20 ms.

    getrusage cannot give that sum: a child's ru_maxrss counts the parent's memory it was forked with.
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.done = threading.Event()

    def run(self) -> None:
        """Keep the highest sum seen until told to stop."""
        children = Path(f"/proc/self/task/{os.getpid()}/children")
        while not self.done.wait(0.02):
            pids = children.read_text().split() if children.exists() else []
            self.peak_kb = max(self.peak_kb, resident_kb("self") + sum(resident_kb(pid) for pid in pids))

    def peak_mb(self) -> float:
        """Stop sampling; give the peak in MB, never below this process's own high-water mark."""
        self.done.set()
        self.join()
        own = resident_kb("self", "VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return max(own, self.peak_kb) / 1024


def cpu_seconds() -> tuple[float, float]:
    """CPU time used so far by this process and by its finished children (the import's workers); unlike wall
    time, other work on the machine barely changes it."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def run_import_in_process(path: Path) -> int:
    """The full import with every sheet parsed in the importing process, to show what the worker process gains."""
    from importers.xlsx import parallel

    parallel.WORKER_MIN_BYTES = None
    return run_import(path)


def run_reader(path: Path) -> int:
    """Drain every sheet through importers.readers, parsing in this process; give the Measurements data rows."""
    from importers.readers import read_file
    from importers.xlsx import parallel

    parallel.WORKER_MIN_BYTES = None  # the parser's own speed; the import decides where it runs
    workbook = read_file(path)
    counts = {sheet.name: sum(1 for _ in sheet.rows) for sheet in workbook.sheets}
    return counts["Measurements"] - 1


def run_pandas(path: Path) -> int:
    """Read the Measurements sheet into a DataFrame the way most scripts do."""
    pandas = importlib.import_module("pandas")
    return len(pandas.read_excel(path, sheet_name="Measurements", engine="openpyxl"))


def run_calamine(path: Path) -> int:
    """Read every row of the Measurements sheet with python-calamine."""
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Measurements")
    return sum(1 for _ in sheet.iter_rows()) - 1


@dataclass(frozen=True)
class Contender:
    """How to label, warm up (import libraries), prepare (not timed) and run one contender."""

    label: str
    run: Callable[[Any], int]
    modules: tuple[str, ...]
    prepare: Callable[[Path], Any] = lambda path: path
    database: bool = False  # runs against a fresh, initialised SQLite database
    holds_input: bool = False  # its peak memory is mostly what `prepare` gave it, so none is sampled


CONTENDERS = {
    "import": Contender("full zetrials import", run_import, ("app.cli",), database=True),
    "import-in-process": Contender("import, no worker process", run_import_in_process, ("app.cli",), database=True),
    "reader": Contender("reader in-process", run_reader, ("importers.readers",)),
    "reader-inline": Contender("read, inline strings", run_reader, ("importers.readers",)),
    "reader-shared": Contender("read, shared strings", run_reader, ("importers.readers",)),
    "load": Contender("SQLite load alone", run_load, ("app.cli",), prepare_load, database=True, holds_input=True),
    "pandas": Contender("pandas + openpyxl read", run_pandas, ("pandas", "openpyxl")),
    "calamine": Contender("python-calamine read", run_calamine, ("python_calamine",)),
}


def measure_here(kind: str, path: Path) -> None:
    """Child process: import the contender's libraries, then time its work and print one JSON line."""
    contender = CONTENDERS[kind]
    for module in contender.modules:  # importing is start-up, not reading speed; the parent reports it apart
        importlib.import_module(module)
    given = contender.prepare(path)
    sampler = None if contender.holds_input else PeakSampler()
    if sampler is not None:
        sampler.start()
    started, (own, children) = time.perf_counter(), cpu_seconds()
    rows = contender.run(given)
    seconds, (own_after, children_after) = time.perf_counter() - started, cpu_seconds()
    cpu = (own_after - own, children_after - children)
    peak_mb = None if sampler is None else sampler.peak_mb()
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": rows, "peak_mb": peak_mb}))


# --- the parent: run everything and report ----------------------------------------------------------------------


@dataclass
class Outcome:
    """One contender's best measurement at one size; `note` marks skipped or extrapolated figures."""

    kind: str
    seconds: float | None = None
    cpu: tuple[float, float] | None = None  # seconds in the contender's process, and in its workers
    process_seconds: float | None = None
    peak_mb: float | None = None
    note: str = ""


def child_environment(database: Path | None) -> dict[str, str]:
    """The child's environment: the project importable and, for an import, its own fresh SQLite database."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), env.get("PYTHONPATH")]))
    if database is not None:
        env["DATABASE_URL"] = f"sqlite:///{database}"
    return env


def fresh_database(out: Path) -> Path:
    """Create an empty, initialised SQLite database with `zetrials init`."""
    database = out / "benchmark.sqlite"
    for leftover in out.glob("benchmark.sqlite*"):
        leftover.unlink()
    command = [sys.executable, "-c", "from app.cli import main; main()", "init"]
    subprocess.run(command, check=True, env=child_environment(database), cwd=PROJECT, capture_output=True)
    return database


def measure(kind: str, path: Path, rows: int, out: Path, repeat: int) -> Outcome:
    """Run one contender `repeat` times, each in a fresh process; keep the fastest run and the highest peak."""
    runs = [measure_once(kind, path, rows, out) for _ in range(repeat)]
    done = [run for run in runs if run.seconds is not None]
    if not done:
        return runs[0]
    best = min(done, key=lambda run: run.seconds or 0.0)
    peaks = [run.peak_mb for run in done if run.peak_mb is not None]
    best.peak_mb = max(peaks, default=None)
    return best


def measure_once(kind: str, path: Path, rows: int, out: Path) -> Outcome:
    """Run one contender in a fresh process and read back its own timing and peak memory."""
    database = fresh_database(out) if CONTENDERS[kind].database else None
    command = [sys.executable, __file__, "--measure", kind, str(path)]
    started = time.perf_counter()
    done = subprocess.run(command, env=child_environment(database), cwd=PROJECT, capture_output=True, text=True)
    process_seconds = time.perf_counter() - started
    if done.returncode != 0:
        return Outcome(kind, note=f"failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    note = "" if report["rows"] == rows else f"read {report['rows']:,} rows, expected {rows:,}"
    if CONTENDERS[kind].holds_input:
        note = note or "untimed: the first import; no peak: it holds every checked row"
    return Outcome(kind, report["seconds"], tuple(report["cpu"]), process_seconds, report["peak_mb"], note)


def measure_strings(path: Path, rows: int, out: Path, repeat: int) -> list[Outcome]:
    """Time the reader on the inline-string and shared-string copies, alternating so that both meet the same
    moments of the machine's load, and keep each one's least CPU time (at least three runs each)."""
    twins = {"reader-inline": strings_twin(path, inline=True), "reader-shared": strings_twin(path, inline=False)}
    runs: dict[str, list[Outcome]] = {kind: [] for kind in twins}
    for _ in range(repeat):
        for kind, twin in twins.items():
            runs[kind].append(measure_once(kind, twin, rows, out))
    best = []
    for outcomes in runs.values():
        done = [run for run in outcomes if run.cpu is not None]
        best.append(min(done, key=lambda run: sum(run.cpu or (0.0, 0.0))) if done else outcomes[0])
    return best


def measure_pandas(path: Path, rows: int, args: argparse.Namespace, earlier: dict[int, Outcome]) -> Outcome:
    """Measure pandas, or above PANDAS_MAX_ROWS extrapolate its time linearly from a smaller measured size."""
    if importlib.util.find_spec("pandas") is None:
        return Outcome("pandas", note="skipped: pandas is not installed (pip install pandas)")
    if args.full or rows <= PANDAS_MAX_ROWS:
        earlier[rows] = measure("pandas", path, rows, args.out, args.repeat)
        return earlier[rows]
    base_rows = min(earlier, default=None)
    if base_rows is None:
        base_rows = DEFAULT_ROWS[0]
        earlier[base_rows] = measure("pandas", ensure_workbook(args.out, base_rows), base_rows, args.out, args.repeat)
    base = earlier[base_rows]
    if base.seconds is None or base.cpu is None:
        return Outcome("pandas", note=f"not extrapolated: the {base_rows:,}-row run {base.note}")
    scale = rows / base_rows
    note = f"EXTRAPOLATED x{scale:g} from {base_rows:,} rows; --full measures it"
    return Outcome("pandas", base.seconds * scale, (base.cpu[0] * scale, base.cpu[1] * scale), None, None, note)


def cell(value: float | None, width: int, spec: str) -> str:
    """Format one table cell, a dash for a missing figure."""
    return f"{value:{width}{spec}}" if value is not None else f"{'-':>{width}}"


def cpu_cell(cpu: tuple[float, float] | None) -> str:
    """Format CPU seconds as own + workers' (the workers' part only when there was one)."""
    if cpu is None:
        return f"{'-':>15}"
    return f"{f'{cpu[0]:.2f} + {cpu[1]:.2f}' if cpu[1] >= 0.005 else f'{cpu[0]:.2f}':>15}"


def report(rows: int, outcomes: list[Outcome]) -> None:
    """Print one size's table and whether each target is met."""
    by_kind = {outcome.kind: outcome for outcome in outcomes}
    base = by_kind["import"].seconds
    print(f"\n{rows:,} measurement rows x {len(MEASUREMENT_HEADERS)} columns (load average {load_average()})")
    print(
        f"{'contender':<26} {'seconds':>8} {'rows/s':>10} {'peak MB':>8} {'s/import':>8} {'cpu s (+worker)':>15}"
        f" {'process s':>9}"
        "  note"
    )
    for outcome in outcomes:
        seconds = outcome.seconds
        speed = rows / seconds if seconds else None
        ratio = seconds / base if seconds is not None and base else None
        print(
            f"{CONTENDERS[outcome.kind].label:<26} {cell(seconds, 8, '.2f')} {cell(speed, 10, ',.0f')} "
            f"{cell(outcome.peak_mb, 8, '.0f')} {cell(ratio, 8, '.2f')} {cpu_cell(outcome.cpu)} "
            f"{cell(outcome.process_seconds, 9, '.2f')}  {outcome.note}"
        )
    for line in verdicts(rows, by_kind):
        print(line)


def verdicts(rows: int, by_kind: dict[str, Outcome]) -> list[str]:
    """Say for each of the issue's targets whether this size meets it."""
    imported, pandas, calamine = by_kind["import"], by_kind["pandas"], by_kind["calamine"]
    if imported.seconds is None:
        return ["targets: not judged, the import failed"]
    lines = []
    if pandas.seconds is not None:
        times = pandas.seconds / imported.seconds
        extrapolated = " (pandas EXTRAPOLATED)" if "EXTRAPOLATED" in pandas.note else ""
        lines.append(
            f"target: import >= {TARGET_VS_PANDAS:g}x faster than pandas reading: {times:.2f}x{extrapolated}"
            f" -> {met(times >= TARGET_VS_PANDAS)}"
        )
    if calamine.seconds is not None:
        times = imported.seconds / calamine.seconds
        lines.append(
            f"target: import within {TARGET_VS_RAW:g}x of python-calamine reading: takes {times:.2f}x"
            f" -> {met(times <= TARGET_VS_RAW)}"
        )
        lines.extend(floor_verdict(by_kind.get("load"), calamine.seconds))
    lines.extend(strings_verdict(by_kind.get("reader-inline"), by_kind.get("reader-shared")))
    if rows >= TARGET_PEAK_ROWS and imported.peak_mb is not None:
        lines.append(
            f"target: import peak memory (with its worker) under {TARGET_PEAK_MB} MB at {rows:,} rows: "
            f"{imported.peak_mb:.0f} MB -> {met(imported.peak_mb < TARGET_PEAK_MB)}"
        )
    return lines


def floor_verdict(load: Outcome | None, calamine_seconds: float) -> list[str]:
    """Say how much of the time the calamine target allows the load stage alone takes, reading and checks aside."""
    if load is None or load.seconds is None:
        return []
    allowed = TARGET_VS_RAW * calamine_seconds
    if load.seconds >= allowed:
        verdict = "no reader or checks, however fast, can meet that target with this load"
    else:
        verdict = f"leaves {allowed - load.seconds:.2f} s for reading and checking every cell"
    return [
        f"floor: the SQLite load alone takes {load.seconds:.2f} s of the {allowed:.2f} s that target allows"
        f" ({load.seconds / calamine_seconds:.2f}x python-calamine reading): {verdict}"
    ]


def strings_verdict(inline: Outcome | None, shared: Outcome | None) -> list[str]:
    """Compare the reader's CPU time on the same sheet with inline and with shared strings."""
    if inline is None or shared is None or inline.cpu is None or shared.cpu is None:
        return []
    ratio = sum(inline.cpu) / sum(shared.cpu)
    return [
        f"target: inline strings read within {TARGET_INLINE_VS_SHARED:g}x of shared strings (CPU s): "
        f"{sum(inline.cpu):.2f} / {sum(shared.cpu):.2f} = {ratio:.2f}x -> {met(ratio <= TARGET_INLINE_VS_SHARED)}"
    ]


def met(ok: bool) -> str:
    """Word a target's verdict."""
    return "MET" if ok else "NOT MET"


def load_average() -> str:
    """The machine's 1-minute load average against its cores: other work there slows every contender."""
    with contextlib.suppress(OSError, AttributeError):
        return f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    return "unknown"


def main() -> None:
    """Parse the arguments; either measure one contender (as a child) or run the whole benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=list(DEFAULT_ROWS), help="measurement row counts")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the cached workbooks")
    parser.add_argument("--full", action="store_true", help="measure pandas at every size instead of extrapolating")
    parser.add_argument("--repeat", type=int, default=1, help="runs per contender; the fastest counts")
    parser.add_argument("--in-process-too", action="store_true", help="also time the import without a worker")
    parser.add_argument("--measure", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure_here(args.measure[0], Path(args.measure[1]))
        return
    args.out = args.out.resolve()
    pandas_runs: dict[int, Outcome] = {}
    for rows in sorted(args.rows):
        path = ensure_workbook(args.out, rows)
        kinds: tuple[str, ...] = ("import", "import-in-process") if args.in_process_too else ("import",)
        kinds += ("reader", "load")
        outcomes = [measure(kind, path, rows, args.out, args.repeat) for kind in kinds]
        outcomes.append(measure_pandas(path, rows, args, pandas_runs))
        outcomes.append(measure("calamine", path, rows, args.out, args.repeat))
        outcomes.extend(measure_strings(path, rows, args.out, max(args.repeat, 3)))
        report(rows, outcomes)


if __name__ == "__main__":
    main()
