"""Engines and sessions for SQLite (embedded) and PostgreSQL (production), and migrations for both."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_SQLITE_PATH = Path(__file__).resolve().parents[1] / "instance" / "zetrials.sqlite"
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_MIB = 64
SQLITE_CACHE_VARIABLE = "ZETRIALS_SQLITE_CACHE_MIB"


def database_url() -> str:
    """Name the database: DATABASE_URL if set, else the SQLite file in the instance folder."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"


@contextmanager
def configured_engine() -> Iterator[Engine]:
    """Open the database named by DATABASE_URL (or the embedded SQLite file) for one command, and close it after."""
    engine = make_engine(database_url())
    try:
        yield engine
    finally:
        engine.dispose()


def normalise_url(url: str) -> str:
    """Use psycopg 3 for every PostgreSQL URL, whatever spelling the operator used."""
    parsed = make_url(url)
    if parsed.drivername in {"postgres", "postgresql", "postgresql+psycopg2"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Build an engine for any URL, with SQLite set up for many concurrent readers and one writer."""
    url = normalise_url(url or database_url())
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True, **kwargs)
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
    _configure_sqlite(engine)
    return engine


def sqlite_cache_mib() -> int:
    """The page cache each SQLite connection may fill, in MiB: 64 unless ZETRIALS_SQLITE_CACHE_MIB says otherwise
    (SQLite's own default is 2). Pages are taken only as they are read; with 64, an import of 1M rows spends a
    quarter less time inserting into the measurement indexes, whose pages then stay in memory."""
    raw = os.environ.get(SQLITE_CACHE_VARIABLE, "").strip()
    if not raw:
        return SQLITE_CACHE_MIB
    if not raw.isdecimal() or int(raw) < 1:
        raise ValueError(f"{SQLITE_CACHE_VARIABLE} must be a whole number of MiB, 1 or more; it is {raw!r}")
    return int(raw)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, foreign keys, a larger page cache, and explicit BEGINs so writers can take the lock up
    front."""
    cache_mib = sqlite_cache_mib()

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        record.info["busy_timeout"] = SQLITE_BUSY_TIMEOUT_MS  # what _on_begin compares a transaction's wait with
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size={-1024 * cache_mib}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # A write that starts as a reader and upgrades later can fail with "database is locked"
        # without waiting; BEGIN IMMEDIATE takes the write lock first and waits its turn instead.
        options = connection.get_execution_options()
        wait_ms = int(options.get("sqlite_wait_ms", SQLITE_BUSY_TIMEOUT_MS))
        held = connection.connection.info  # kept with the pooled connection: the PRAGMA only when the wait changes
        if held.get("busy_timeout") != wait_ms:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}")
            held["busy_timeout"] = wait_ms
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get("sqlite_immediate", False) else "BEGIN")


def is_sqlite(engine: Engine) -> bool:
    """Tell SQLite from PostgreSQL where the two need different SQL."""
    return engine.dialect.name == "sqlite"


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """Open a session for reading; it never holds the SQLite write lock."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


class WriteLockBusy(Exception):
    """SQLite's write lock stayed taken (by an import, say) longer than the writer chose to wait; nothing written."""


@contextmanager
def write_session(engine: Engine, *, wait_ms: int | None = None) -> Iterator[Session]:
    """Open one transaction for writing that commits on success and rolls back on any error.

    On SQLite a writer waits its turn for the write lock, up to the busy timeout (30 s); one that gives a shorter
    `wait_ms` gets WriteLockBusy after it instead, before anything was written (BEGIN IMMEDIATE takes the lock
    first). PostgreSQL has no such lock: there `wait_ms` changes nothing."""
    options: dict[str, Any] = {"sqlite_immediate": True}
    if wait_ms is not None:
        options["sqlite_wait_ms"] = wait_ms
    try:
        with Session(engine.execution_options(**options), expire_on_commit=False) as session, session.begin():
            yield session
    except sa.exc.OperationalError as error:
        if wait_ms is not None and is_sqlite(engine) and "database is locked" in str(error.orig):
            raise WriteLockBusy(f"the database's write lock stayed taken for over {wait_ms} ms") from error
        raise


#: The PostgreSQL advisory lock every import and undo holds until its transaction ends.
IMPORT_LOCK_KEY = 0x7A65_7472  # "zetr"


def lock_imports(session: Session) -> None:
    """Wait for any other import or undo to finish: each rebuilds its trials' rollups, and two at once under
    PostgreSQL's read-committed isolation would rebuild over each other (SQLite's BEGIN IMMEDIATE already queues
    every writer). The lock is the schema's: databases in other schemas of the same server never wait for it."""
    if session.get_bind().dialect.name == "postgresql":
        lock = "SELECT pg_advisory_xact_lock(CAST(:key AS integer), hashtext(current_schema()))"
        session.execute(sa.text(lock), {"key": IMPORT_LOCK_KEY})


def alembic_config(url: str) -> Config:
    """Point alembic at our migrations and at this database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration, from empty or from any earlier version."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
