"""A killed import changes nothing: SIGKILL in the middle of a 200,000-row import, on SQLite and on PostgreSQL.

The import runs as the real `zetrials import` in its own process group (the CLI and the worker parsing the
sheet), against a database already holding a first import whose rows the big file updates. It is killed twice:
while rows are still being read and written, and after the last row was read, while the last chunk, the rollups
and the audit entry are written before the commit. Each time the group is frozen first, to prove from outside
that the import was inside its uncommitted transaction at the moment of the kill. Afterwards every table must
match its checksum from before, the database must hold no lock, transaction or journal the dead process left,
and importing the same file again must complete.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
import uuid
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from importers.pipeline import import_file
from tests.checksums import (
    EARLIER_ROWS,
    Checksums,
    RunningImport,
    batch_of,
    big_workbook,
    earlier_workbook,
    open_transaction,
    opened,
    postgres_sessions,
    sqlite_file,
    sqlite_write_locked,
    table_checksums,
    tagged,
    zetrials,
)
from trials.scope import Scope
from trials.seed import initialise

#: Each test writes and kills 200,000-row imports on both databases: minutes, so `make test-fast` leaves them out.
pytestmark = pytest.mark.slow

ROWS = 200_000
TRIALS = 4
#: Killed while reading: this many rows read, and written inside the open transaction, of ROWS.
KILL_WHILE_READING = 60_000
#: SQLite's own page cache size, so that the killed import's writes spill into the WAL before it commits and the
#: recovery from a WAL holding uncommitted frames is what is tested (a larger cache may hold them all in memory).
SPILLING = {"ZETRIALS_SQLITE_CACHE_MIB": "2"}


@pytest.fixture(scope="session")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The first, small import and the 200,000-row file, written once per test session."""
    folder = tmp_path_factory.getbasetemp() / "workbooks"
    return earlier_workbook(folder, ROWS), big_workbook(folder, ROWS)


def assert_recovered(url: str, tag: str, before: Checksums) -> None:
    """Every row as before, and nothing of the dead import left: no WAL frame, lock, session or transaction."""
    if make_url(url).get_backend_name() == "sqlite":
        wal = Path(f"{sqlite_file(url)}-wal")
        assert wal.exists() and wal.stat().st_size > 0, "the killed import left no write-ahead log to recover from"
        with closing(sqlite3.connect(sqlite_file(url), isolation_level=None)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert table_checksums(url) == before
            assert connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone() == (0, 0, 0)
            assert wal.stat().st_size == 0 and not Path(f"{sqlite_file(url)}-journal").exists()
            assert not sqlite_write_locked(url)
        return
    deadline = time.monotonic() + 30
    while postgres_sessions(url, tag) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert postgres_sessions(url, tag) == [], "the server still runs the killed import's session"
    with opened(url) as engine, engine.begin() as connection:
        connection.execute(sa.text("SET LOCAL lock_timeout = '1s'"))
        connection.execute(
            sa.text("LOCK TABLE importbatch, measurement, unit, trial, auditevent IN ACCESS EXCLUSIVE MODE NOWAIT")
        )
    assert table_checksums(url) == before


def kill_when(running: RunningImport, url: str, tag: str, big: Path, rows: int) -> tuple[float, list[int]]:
    """Once the import has read `rows`, freeze it, prove its transaction is open and uncommitted, and kill it."""
    seconds = running.wait_for_rows(rows)
    running.freeze()
    assert open_transaction(url, tag), "the import was not inside its transaction when it was stopped"
    assert batch_of(url, big) is None, "the import had committed before it was stopped"
    return seconds, running.kill()


def test_an_import_killed_midway_changes_nothing_and_importing_again_completes(
    db_url: str, workbooks: tuple[Path, Path]
) -> None:
    earlier, big = workbooks
    with opened(db_url) as engine:
        initialise(engine)
        first = import_file(engine, earlier, scope=Scope.operator())
    assert first.status == "imported" and first.counts.created == EARLIER_ROWS + TRIALS
    before = table_checksums(db_url)
    tag = f"zetrials-crash-{uuid.uuid4().hex[:8]}"
    url = tagged(db_url, tag)

    with RunningImport(url, big, SPILLING) as running:
        reading_at, killed = kill_when(running, db_url, tag, big, KILL_WHILE_READING)
    assert_recovered(db_url, tag, before)

    with RunningImport(url, big, SPILLING) as running:
        last_row_at, _killed = kill_when(running, db_url, tag, big, ROWS)
    assert_recovered(db_url, tag, before)

    started = time.monotonic()
    done = subprocess.run(
        [*zetrials(), "import", str(big), "--json"],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    again = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["status"], result["created"], result["updated"], result["unchanged"], result["skipped"]) == (
        "imported",
        ROWS - EARLIER_ROWS,
        EARLIER_ROWS,
        TRIALS,
        0,
    )
    assert batch_of(db_url, big) == ("imported", result["batch"])
    after = table_checksums(db_url)
    assert after["measurement"][0] == ROWS
    print(
        f"\n{make_url(db_url).get_backend_name()}: killed at {KILL_WHILE_READING:,} rows ({reading_at:.1f} s,"
        f" {len(killed)} processes) and after all {ROWS:,} rows ({last_row_at:.1f} s); imported again in {again:.1f} s"
    )
