"""Backups that restore exactly: SQLite through its online backup API, PostgreSQL through pg_dump and pg_restore.

Both give a consistent copy while the app and imports write: SQLite's backup reads one snapshot (an import's
uncommitted rows are not in it), pg_dump runs in one repeatable-read transaction. A restore replaces every row of
the configured database with the backup's, all or nothing: SQLite's backup API swaps the pages under its write
lock, pg_restore runs with --clean in a single transaction.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import sqlalchemy as sa
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import URL, make_url

from trials.db import SQLITE_BUSY_TIMEOUT_MS, make_engine, normalise_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that was refused or failed, with a message saying what to do."""


def describe(url: str) -> str:
    """Name a database for people, without its password."""
    return make_url(normalise_url(url)).render_as_string(hide_password=True)


def backup_database(url: str, target: Path) -> None:
    """Write a consistent copy of the database to a new file; a failed backup leaves no file that looks like one."""
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name")
    if not target.parent.is_dir():
        raise BackupError(f"there is no folder {target.parent} to write the backup in")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        parsed = make_url(normalise_url(url))
        if parsed.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_path(parsed), partial)
        else:
            _pg_dump(url, partial)
        partial.replace(target)
    except (sqlite3.Error, OSError) as error:
        raise BackupError(f"the backup to {target} failed: {error}") from None
    finally:
        partial.unlink(missing_ok=True)


def restore_database(url: str, source: Path) -> None:
    """Replace every row of the database with the backup's, all or nothing."""
    parsed = make_url(normalise_url(url))
    with source.open("rb") as stream:
        head = stream.read(len(SQLITE_MAGIC))
    if parsed.get_backend_name() == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{source} is not a SQLite backup{_other_kind(head)}")
        try:
            _sqlite_restore(source, _sqlite_path(parsed))
        except (sqlite3.Error, OSError) as error:
            raise BackupError(f"the restore from {source} failed: {error}") from None
    else:
        if not head.startswith(PG_DUMP_MAGIC):
            raise BackupError(f"{source} is not a pg_dump archive{_other_kind(head)}")
        _pg_restore(url, source)


def _other_kind(head: bytes) -> str:
    """Say what a backup of the wrong kind is, so the operator knows which DATABASE_URL it belongs to."""
    if head.startswith(SQLITE_MAGIC):
        return ": it is a SQLite backup; restore it with DATABASE_URL naming a SQLite file"
    if head.startswith(PG_DUMP_MAGIC):
        return ": it is a PostgreSQL backup; restore it with DATABASE_URL naming a PostgreSQL database"
    return " made by `zetrials backup`"


# --- SQLite -------------------------------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    """The file of a SQLite URL; an in-memory database has none to back up or restore into."""
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


def _sqlite_connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """Open a SQLite file, waiting as long as the app does for a writer; read-only never creates a file."""
    timeout = SQLITE_BUSY_TIMEOUT_MS / 1000
    if read_only:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)
    return sqlite3.connect(path, timeout=timeout)


def _sqlite_backup(source: Path, target: Path) -> None:
    """Copy one snapshot of the database page by page, then make the copy a single self-contained file."""
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    with closing(_sqlite_connect(source, read_only=True)) as live, closing(_sqlite_connect(target)) as copy:
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")


def _sqlite_restore(source: Path, target: Path) -> None:
    """Check the backup is a sound ZE Trials database, then copy it over the live one under its write lock."""
    with closing(_sqlite_connect(source, read_only=True)) as backup:
        try:
            verdict = backup.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as error:
            verdict = [(str(error),)]
        if verdict != [("ok",)]:
            raise BackupError(f"{source} is damaged ({verdict[0][0]})")
        try:
            backup.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.DatabaseError:
            raise BackupError(f"{source} is not a ZE Trials backup: it has no schema version") from None
        target.parent.mkdir(parents=True, exist_ok=True)
        with closing(_sqlite_connect(target)) as live:
            backup.backup(live)


# --- PostgreSQL ---------------------------------------------------------------------------------------------------


def libpq_client(url: str) -> tuple[str, dict[str, str]]:
    """Turn the SQLAlchemy URL into a libpq connection string, the password travelling in the environment, not argv."""
    parsed = make_url(normalise_url(url))
    _args, params = parsed.get_dialect()().create_connect_args(parsed)
    password = params.pop("password", None)
    conninfo = make_conninfo("", **{key: value for key, value in params.items() if isinstance(value, str | int)})
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return conninfo, env


def _server(url: str) -> tuple[str, int]:
    """Ask the server which schema the app's tables live in (as DATABASE_URL's search_path says) and its version."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            current, search_path, user, version = connection.execute(
                sa.text(
                    "SELECT current_schema(), current_setting('search_path'), current_user,"
                    " current_setting('server_version_num')::int"
                )
            ).one()
    except sa.exc.OperationalError as error:
        raise BackupError(f"cannot connect to {describe(url)}: {error.orig}") from None
    finally:
        engine.dispose()
    if current is None:  # the schema named first does not exist yet, as in a fresh database being restored into
        first = search_path.split(",")[0].strip().strip('"')
        current = user if first == "$user" else first
    return current, version // 10000


def _tool(name: str, server_major: int) -> str:
    """Find pg_dump or pg_restore, refusing one older than the server, which cannot read its catalogue."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on PATH: install the PostgreSQL {server_major} client tools"
            f" (e.g. `apt install postgresql-client-{server_major}`) and try again"
        )
    found = re.search(r"\s(\d+)", _run([path, "--version"], dict(os.environ)))
    if found is None or int(found.group(1)) < server_major:
        raise BackupError(
            f"{path} is older than the PostgreSQL {server_major} server; put the {server_major} client tools"
            " (or newer) first on PATH"
        )
    return path


def _run(command: list[str], env: dict[str, str]) -> str:
    """Run a PostgreSQL client tool; give its output, or its own words on failure."""
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - no shell  # nosec B603
    if done.returncode != 0:
        said = done.stderr.strip() or done.stdout.strip() or f"exit code {done.returncode}"
        raise BackupError(f"{Path(command[0]).name} failed: {said}")
    return done.stdout


def _quoted(schema: str) -> str:
    """Quote a schema name as pg_dump's patterns take it literally (capitals, dots, wildcards)."""
    return '"' + schema.replace('"', '""') + '"'


def _pg_dump(url: str, target: Path) -> None:
    """Dump the app's schema in pg_dump's custom format, which pg_restore replays table by table."""
    schema, major = _server(url)
    tool = _tool("pg_dump", major)
    conninfo, env = libpq_client(url)
    _run([tool, "--format=custom", f"--schema={_quoted(schema)}", f"--file={target}", f"--dbname={conninfo}"], env)


def _pg_restore(url: str, source: Path) -> None:
    """Replace the schema's tables with the archive's in one transaction, refusing an archive of another schema."""
    schema, major = _server(url)
    tool = _tool("pg_restore", major)
    conninfo, env = libpq_client(url)
    listing = _run([tool, "--list", str(source)], env)
    dumped = re.findall(r"^\d+; \d+ \d+ SCHEMA - (\S+) \S+$", listing, flags=re.MULTILINE)
    if dumped and schema not in dumped:
        raise BackupError(
            f"{source} holds schema {', '.join(dumped)}, but DATABASE_URL uses schema {schema}; point"
            f" DATABASE_URL at it (options=-csearch_path={dumped[0]}) to restore it"
        )
    replace = ["--clean", "--if-exists", "--no-owner", "--single-transaction"]
    _run([tool, *replace, f"--dbname={conninfo}", str(source)], env)
