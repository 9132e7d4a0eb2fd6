"""`zetrials backup` and `zetrials restore` on SQLite and PostgreSQL: consistent during an import, exact on restore."""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine, make_url

from app.cli import main
from importers.pipeline import import_file
from tests.checksums import (
    EARLIER_ROWS,
    RunningImport,
    batch_of,
    big_workbook,
    earlier_workbook,
    opened,
    table_checksums,
    write_workbook,
)
from tests.measurement_workbook import measurement_rows, trial_rows
from trials.db import make_engine
from trials.scope import Scope
from trials.seed import initialise

#: Enough rows that the import runs for several seconds after the backup has started.
ROWS = 60_000
#: The later import changes the earlier rows and adds this many.
LATER_NEW_ROWS = 1000


@pytest.fixture(scope="session")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A small first import, a later one that changes and adds rows, and the big file, written once per session."""
    folder = tmp_path_factory.getbasetemp() / "workbooks"
    later = folder / f"later-{ROWS}.xlsx"
    if not later.exists():
        write_workbook(later, trial_rows(ROWS), itertools.islice(measurement_rows(ROWS), EARLIER_ROWS + LATER_NEW_ROWS))
    return earlier_workbook(folder, ROWS), later, big_workbook(folder, ROWS)


@contextmanager
def fresh_database(url: str, folder: Path) -> Iterator[str]:
    """A new, empty database of the same kind: another SQLite file, or a new database on the same PostgreSQL
    server whose connections use the same schema name (a pg_dump archive restores into the schema it came from)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        yield f"sqlite:///{folder / 'restored' / 'zetrials.sqlite'}"
        return
    name = f"zt_restore_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.slow
def test_a_backup_taken_during_an_import_restores_exactly_the_rows_before_it(
    db_url: str, workbooks: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    earlier, _later, big = workbooks
    with opened(db_url) as engine:
        initialise(engine)
        assert import_file(engine, earlier, scope=Scope.operator()).status == "imported"
    before = table_checksums(db_url)
    copy = tmp_path / "during-import.backup"

    with RunningImport(db_url, big) as running:
        running.wait_for_rows(10_000)
        backup = CliRunner().invoke(main, ["backup", str(copy)], env={"DATABASE_URL": db_url})
        assert backup.exit_code == 0, backup.output
        assert running.process.poll() is None and batch_of(db_url, big) is None, "the import ended before the backup"
        assert f"Imported {big.name}" in running.finish()
    after = table_checksums(db_url)
    assert after["measurement"][0] == ROWS

    with fresh_database(db_url, tmp_path) as fresh:
        restored = CliRunner().invoke(main, ["restore", str(copy), "--yes"], env={"DATABASE_URL": fresh})
        assert restored.exit_code == 0, restored.output
        copied = table_checksums(fresh)
    assert copied in (before, after), "the backup holds part of an import"
    assert copied == before, "the import committed after the backup ended, so the backup must be of the moment before"


@pytest.mark.slow
def test_restore_brings_back_every_row_as_it_was_at_the_backup(
    runner: CliRunner, engine: Engine, db_url: str, workbooks: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    earlier, later, _big = workbooks
    assert import_file(engine, earlier, scope=Scope.operator()).status == "imported"
    at_backup = table_checksums(db_url)
    copy = tmp_path / "zetrials.backup"
    assert runner.invoke(main, ["backup", str(copy)]).exit_code == 0
    assert "exists already" in runner.invoke(main, ["backup", str(copy)]).output  # never overwrites

    imported = runner.invoke(main, ["import", str(later), "--json"])
    assert '"status": "imported"' in imported.output, imported.output
    added = runner.invoke(main, ["users", "add", "ops@port.example", "--role", "admin"], input="long enough pw\n")
    assert added.exit_code == 0, added.output
    changed = table_checksums(db_url)
    assert changed != at_backup

    unconfirmed = runner.invoke(main, ["restore", str(copy)], input="\n")
    assert unconfirmed.exit_code == 1 and "Replace every row" in unconfirmed.output
    assert table_checksums(db_url) == changed

    restored = runner.invoke(main, ["restore", str(copy), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert table_checksums(db_url) == at_backup

    again = runner.invoke(main, ["import", str(later), "--json"])  # the restored database forgot it and takes writes
    assert '"status": "imported"' in again.output and f'"created": {LATER_NEW_ROWS},' in again.output, again.output


@pytest.mark.slow
def test_restore_refuses_what_is_not_a_whole_backup_of_this_kind_and_changes_nothing(
    runner: CliRunner, engine: Engine, db_url: str, workbooks: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    earlier, _later, _big = workbooks
    copy = tmp_path / "zetrials.backup"
    assert runner.invoke(main, ["backup", str(copy)]).exit_code == 0
    assert import_file(engine, earlier, scope=Scope.operator()).status == "imported"
    before = table_checksums(db_url)

    notes = tmp_path / "notes.txt"
    notes.write_text("not a backup\n")
    other_sqlite = tmp_path / "other.sqlite"
    with closing(sqlite3.connect(other_sqlite)) as other:
        other.execute("CREATE TABLE note (text TEXT)")
    cut = tmp_path / "cut.backup"
    cut.write_bytes(copy.read_bytes()[: copy.stat().st_size // 2])
    sqlite = make_url(db_url).get_backend_name() == "sqlite"
    expected = {
        notes: "is not a SQLite backup" if sqlite else "is not a pg_dump archive",
        other_sqlite: "is not a ZE Trials backup" if sqlite else "it is a SQLite backup",
        cut: "is damaged" if sqlite else "pg_restore failed",
    }
    for path, message in expected.items():
        result = runner.invoke(main, ["restore", str(path), "--yes"])
        assert result.exit_code == 1 and message in result.output, (path.name, result.output)
        assert "the database was not changed" in result.output
        assert table_checksums(db_url) == before, path.name


def test_backup_of_postgresql_says_how_to_get_pg_dump_when_it_is_missing(
    runner: CliRunner, engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))
    copy = tmp_path / "zetrials.backup"
    result = runner.invoke(main, ["backup", str(copy)])
    if engine.dialect.name == "sqlite":  # SQLite's backup needs no tool
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1 and "pg_dump was not found on PATH" in result.output, result.output
    assert "client tools" in result.output and not copy.exists()
    assert not list(tmp_path.glob(".*partial"))
