"""Whole-database checksums, and the big imports they are taken around: written fast, run as the real CLI, stopped.

The tests of crash safety and of backups compare a database with itself (before and after a killed import, or
with its restored backup) row by row; these helpers give them the fingerprint of every table, a big measurement
workbook generated once per test session, and a `zetrials import` in its own process group whose progress line
(shown on a terminal only, so it gets a pseudo-terminal) says how far it has come.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import pty
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel

from importers.pipeline import file_sha256
from tests.measurement_workbook import MEASUREMENT_HEADERS, TRIAL_HEADERS, measurement_rows, trial_rows
from trials import models
from trials.db import make_engine

PROJECT = Path(__file__).resolve().parents[1]
#: Rows of the first, small import, which the big file then updates: a killed import had updates to undo as well.
EARLIER_ROWS = 2000
#: The CLI's progress line on a terminal: every 10,000 rows (of all sheets, headers included) it has read.
PROGRESS_PATTERN = re.compile(rb"([\d,]+) rows read")

# --- fingerprints -----------------------------------------------------------------------------------------------

Checksums = dict[str, tuple[int, str]]


@contextmanager
def opened(url: str) -> Iterator[Engine]:
    """Open a database for a few checks and close every connection after, so no test holds a file or lock."""
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def table_checksums(url: str) -> Checksums:
    """Count and fingerprint every table's rows in primary-key order: equal only when every value is equal."""
    tables = [*SQLModel.metadata.sorted_tables, sa.table("alembic_version", sa.column("version_num"))]
    sums: Checksums = {}
    with opened(url) as engine, engine.connect() as connection:
        stored = set(sa.inspect(connection).get_table_names())
        covered = {table.name for table in tables}
        assert stored == covered, f"tables in the database and in the models differ: {stored ^ covered}"
        for table in tables:
            order = list(table.primary_key) or list(table.columns)
            digest, count = hashlib.sha256(), 0
            for row in connection.execute(sa.select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
                count += 1
            sums[table.name] = (count, digest.hexdigest())
    return sums


def batch_of(url: str, path: Path) -> tuple[str, int] | None:
    """The committed import batch of a file (status, id), or None while no import of it has committed."""
    batch = models.ImportBatch.__table__  # type: ignore[attr-defined]
    with opened(url) as engine, engine.connect() as connection:
        found = connection.execute(
            sa.select(batch.c.status, batch.c.id).where(batch.c.sha256 == file_sha256(path))
        ).first()
    return None if found is None else (str(found.status), int(found.id))


# --- workbooks --------------------------------------------------------------------------------------------------

_EPOCH = date(1899, 12, 30)
_COLUMNS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_PARTS = {
    "[Content_Types].xml": (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_TYPE}.styles+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_TYPE}.worksheet+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet2.xml" ContentType="{_TYPE}.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'{_XML}<Relationships xmlns="{_RELS}"><Relationship Id="rId1" Type="{_DOC}/officeDocument"'
        ' Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_DOC}"><sheets><sheet name="Trials" sheetId="1" r:id="rId1"/>'
        '<sheet name="Measurements" sheetId="2" r:id="rId2"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'{_XML}<Relationships xmlns="{_RELS}">'
        f'<Relationship Id="rId1" Type="{_DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_DOC}/worksheet" Target="worksheets/sheet2.xml"/>'
        f'<Relationship Id="rId3" Type="{_DOC}/styles" Target="styles.xml"/></Relationships>'
    ),
    # Style 1 is Excel's built-in short date (format 14), as Excel writes date cells.
    "xl/styles.xml": (
        f'{_XML}<styleSheet xmlns="{_MAIN}"><cellXfs count="2"><xf numFmtId="0"/>'
        '<xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>'
    ),
}


def _cell(reference: str, value: Any) -> str:
    """One cell as Excel stores it: inline text, a date serial with the date style, or a number; blank is absent."""
    if value is None:
        return ""
    if isinstance(value, str):
        return f'<c r="{reference}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    if isinstance(value, date):
        return f'<c r="{reference}" s="1"><v>{(value - _EPOCH).days}</v></c>'
    return f'<c r="{reference}"><v>{value}</v></c>'


def _sheet(stream: Any, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Stream a sheet's XML in blocks of rows, so a million rows take no more memory than a thousand."""
    stream.write(f'{_XML}<worksheet xmlns="{_MAIN}"><sheetData>'.encode())
    block: list[str] = []
    for number, values in enumerate(itertools.chain([headers], rows), start=1):
        cells = "".join(_cell(f"{_COLUMNS[index]}{number}", value) for index, value in enumerate(values))
        block.append(f'<row r="{number}">{cells}</row>')
        if len(block) == 5000:
            stream.write("".join(block).encode())
            block = []
    stream.write(("".join(block) + "</sheetData></worksheet>").encode())


def write_workbook(path: Path, trials: Iterable[Sequence[Any]], measurements: Iterable[Sequence[Any]]) -> Path:
    """Write a Trials and a Measurements sheet as a real .xlsx, about ten times faster than openpyxl can."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w") as stream:
            _sheet(stream, TRIAL_HEADERS, trials)
        with archive.open("xl/worksheets/sheet2.xml", "w", force_zip64=True) as stream:
            _sheet(stream, MEASUREMENT_HEADERS, measurements)
    partial.replace(path)
    return path


def big_workbook(folder: Path, rows: int) -> Path:
    """The benchmark's measurement workbook of four trials and `rows` daily unit rows, written once per folder."""
    path = folder / f"measurements-{rows}.xlsx"
    if not path.exists():
        write_workbook(path, trial_rows(rows), measurement_rows(rows))
    return path


def earlier_workbook(folder: Path, rows: int) -> Path:
    """The same trials and the big file's first rows with other operating hours: the big file updates these."""
    path = folder / f"earlier-{rows}.xlsx"
    if not path.exists():
        hours = MEASUREMENT_HEADERS.index("Operating hours (h)")
        changed = (
            [*row[:hours], row[hours] + 1, *row[hours + 1 :]]
            for row in itertools.islice(measurement_rows(rows), EARLIER_ROWS)
        )
        write_workbook(path, trial_rows(rows), changed)
    return path


# --- the command line as a process ------------------------------------------------------------------------------


def zetrials() -> list[str]:
    """The installed `zetrials` script beside this interpreter, or the same entry point run by it."""
    script = shutil.which("zetrials", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-c", "from app.cli import main; main()"]


def tagged(url: str, tag: str) -> str:
    """Name the process's PostgreSQL connections, so pg_stat_activity tells them from everyone else's."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return url
    return parsed.update_query_dict({"application_name": tag}).render_as_string(hide_password=False)


class RunningImport:
    """`zetrials import FILE` in its own process group, its stderr a pseudo-terminal so it shows progress."""

    def __init__(self, url: str, path: Path, env: dict[str, str] | None = None) -> None:
        self.rows_read = 0
        self.progressed = threading.Condition()
        master, terminal = pty.openpty()
        self.process = subprocess.Popen(
            [*zetrials(), "import", str(path)],
            env={**os.environ, "DATABASE_URL": url, **(env or {})},
            cwd=PROJECT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=terminal,
            start_new_session=True,  # its own process group, the reader's worker included
        )
        os.close(terminal)
        self.started = time.monotonic()
        self._master: int | None = master
        self._reader = threading.Thread(target=self._follow, daemon=True)
        self._reader.start()

    def __enter__(self) -> RunningImport:
        """Use the import in a with block, so a failing test never leaves it running and holding the database."""
        return self

    def __exit__(self, *_exc: object) -> None:
        """Kill the import if the test left it running."""
        if self.process.poll() is None:
            self.kill()
        elif self._master is not None:
            self.finish()

    def _follow(self) -> None:
        """Read the progress line ("\\r  120,000 rows read") until the terminal closes, whatever chunks it comes in."""
        master = self._master
        assert master is not None
        line = b""
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: every process holding the terminal has ended
                data = b""
            if not data:
                break
            *ended, line = (line + data).split(b"\r")
            counts = [
                int(found.group(1).replace(b",", b""))
                for found in map(PROGRESS_PATTERN.search, [*ended, line])
                if found
            ]
            if counts:
                with self.progressed:
                    self.rows_read = max(self.rows_read, *counts)
                    self.progressed.notify_all()
        with self.progressed:
            self.progressed.notify_all()

    def wait_for_rows(self, rows: int, timeout: float = 300) -> float:
        """Wait until the import says it has read this many rows; give the seconds since it started."""
        with self.progressed:
            reached = self.progressed.wait_for(
                lambda: self.rows_read >= rows or self.process.poll() is not None, timeout=timeout
            )
        if not reached or self.rows_read < rows:
            output = self.finish(timeout=30) if reached else "(still running)"
            raise AssertionError(f"the import never reported {rows:,} rows read (saw {self.rows_read:,}): {output}")
        return time.monotonic() - self.started

    def group(self) -> list[int]:
        """The processes of the import's group still running (the CLI and, for a long sheet, its reader worker)."""
        if not Path("/proc").is_dir():  # no process table to read: ask whether the group still exists
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return []
            return [self.process.pid]
        members = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[2]) == self.process.pid and fields[0] != "Z":
                    members.append(int(entry.name))
        return members

    def freeze(self) -> None:
        """Stop every process of the group where it stands, so what the database shows is what the kill will find."""
        os.killpg(self.process.pid, signal.SIGSTOP)

    def kill(self) -> list[int]:
        """SIGKILL the whole group, as a power cut or the OOM killer would; give the processes that were killed."""
        members = self.group()
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.communicate(timeout=30)
        deadline = time.monotonic() + 30
        while self.group() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not self.group(), f"processes of the killed import live on: {self.group()}"
        self._close()
        return members

    def finish(self, timeout: float = 300) -> str:
        """Wait for the import to end by itself and give what it printed."""
        stdout, _ = self.process.communicate(timeout=timeout)
        self._close()
        return stdout.decode(errors="replace")

    def _close(self) -> None:
        """Let the progress reader see the terminal close, then release it."""
        self._reader.join(timeout=10)
        if self._master is not None:
            os.close(self._master)
            self._master = None


# --- what a stopped import holds ------------------------------------------------------------------------------


def sqlite_file(url: str) -> Path:
    """The file of a SQLite URL."""
    return Path(make_url(url).database or "")


def sqlite_write_locked(url: str) -> bool:
    """Tell whether some connection holds the SQLite write lock (an open write transaction), without waiting."""
    with closing(sqlite3.connect(sqlite_file(url), timeout=0, isolation_level=None)) as probe:
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            assert "locked" in str(error), error
            return True
        probe.execute("ROLLBACK")
        return False


def postgres_sessions(url: str, tag: str) -> list[tuple[str, bool]]:
    """The state of each server session the tagged process opened, and whether it has written (holds an xid)."""
    query = sa.text(
        "SELECT state, backend_xid IS NOT NULL FROM pg_stat_activity"
        " WHERE application_name = :tag AND backend_type = 'client backend'"
    )
    with opened(url) as engine, engine.connect() as connection:
        return [(str(state), bool(wrote)) for state, wrote in connection.execute(query, {"tag": tag})]


def open_transaction(url: str, tag: str, timeout: float = 30) -> bool:
    """Tell whether a frozen import is inside its transaction: once its statement in flight ends, the server
    shows its session idle in a transaction that has written (a COMMIT in flight would leave it plain idle)."""
    if make_url(url).get_backend_name() == "sqlite":
        return sqlite_write_locked(url)
    deadline = time.monotonic() + timeout
    sessions = postgres_sessions(url, tag)
    while any(state == "active" for state, _wrote in sessions) and time.monotonic() < deadline:
        time.sleep(0.05)
        sessions = postgres_sessions(url, tag)
    return ("idle in transaction", True) in sessions
