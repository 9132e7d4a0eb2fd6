"""Shared fixtures: a real, freshly migrated database per test, on SQLite and (when available) PostgreSQL.

The migrations run once per session, into a template that each test gets a copy of: the SQLite file copied, on
PostgreSQL a schema of the test process's own made from pg_dump's scripts of it and put back to them between tests.
A session always migrates afresh, so a new migration is in every copy at once."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import NamedTuple

import psycopg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from psycopg import sql
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from app.factory import create_app
from importers.demo import write_demo_files
from importers.pipeline import import_file
from tests.factories import make_user, sign_in
from trials.backup import libpq_client
from trials.db import make_engine, read_session
from trials.models import Port, Role
from trials.queries import list_ports
from trials.scope import Scope
from trials.seed import initialise

IN_CI = os.environ.get("CI") == "true"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")


def _postgres_schema_url(schema: str) -> str:
    """Point every connection of a test at its own schema, so tests never see each other's rows."""
    assert POSTGRES_URL is not None
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@contextmanager
def empty_database(kind: str, folder: Path) -> Iterator[str]:
    """Name an empty database of this kind: a SQLite file in the folder, or a fresh schema on the PostgreSQL server."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'zetrials.sqlite'}"
        return
    if POSTGRES_URL is None:
        if IN_CI:
            pytest.fail("TEST_DATABASE_URL must name a PostgreSQL database in CI")
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1/test)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(schema)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


#: The demo files written for a day and port list, by the first test of the process that needed them.
_DEMO_FILES: dict[tuple[date, tuple[str, ...]], list[Path]] = {}


def demo_files(folder: Path, ports: Sequence[Port], today: date) -> list[Path]:
    """The demo files written for `today`, into the folder unless this process wrote them already: writing them
    (openpyxl, a quarter of a million cells) takes longer than importing them, and a day always gives the same
    files."""
    key = (today, tuple(port.locode for port in ports))
    if key not in _DEMO_FILES:
        _DEMO_FILES[key] = write_demo_files(folder, list(ports), today=today)
    return _DEMO_FILES[key]


def import_demo(engine: Engine, folder: Path, today: date) -> None:
    """Migrate an empty database and import the demo written for `today` into it, as `zetrials demo` does."""
    initialise(engine)
    with read_session(engine) as session:
        ports = list_ports(session=session)
    for file in demo_files(folder, ports, today):
        result = import_file(engine, file, scope=Scope.operator(), day_first=file.suffix == ".csv")
        assert result.status == "imported", result.problems[:3]


@contextmanager
def demo_database(kind: str, folder: Path, today: date) -> Iterator[Engine]:
    """A database of this kind holding the demo written for `today`, imported as `zetrials demo` imports it."""
    with empty_database(kind, folder) as url:
        engine = make_engine(url)
        try:
            import_demo(engine, folder, today)
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Name the test's database: as `zetrials init` leaves it when the test asks for `engine`, else empty (a SQLite
    file, or a fresh schema on the PostgreSQL server)."""
    if request.param == "postgres" and "engine" in request.fixturenames:
        reused: ReusedSchema = request.getfixturevalue("postgres_schema")
        yield reused.reset()
        reused.check_shape()
        return
    with empty_database(request.param, tmp_path) as url:
        if "engine" in request.fixturenames:
            shutil.copyfile(request.getfixturevalue("sqlite_template"), str(make_url(url).database))
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file as `zetrials init` leaves it, made once per session: a copy takes milliseconds, a migration
    a quarter of a second."""
    folder = tmp_path_factory.mktemp("template")
    with empty_database("sqlite", folder) as url:
        built = make_engine(url)
        initialise(built)
        with built.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        built.dispose()
        database = Path(str(make_url(url).database))
    assert not Path(f"{database}-wal").exists(), "the template's last writes must be in its file, which is copied"
    return database


#: Stands for the schema in the template's scripts; replaced by the schema they fill.
TEMPLATE_SCHEMA = "zetrials_template_schema"


class _Copy(NamedTuple):
    """A schema made from the template: its name, its shape when made, and the SQL that puts its rows back."""

    schema: str
    shape: tuple[object, ...]
    put_back: sql.Composed


class ReusedSchema:
    """One schema on the PostgreSQL server per test process, put back as `zetrials init` leaves it before each test
    that asks for `engine`. Deleting the rows a test wrote and inserting the seed again takes about 3 ms; creating,
    filling and dropping a schema per test took about 130 ms of the server's time and bloated its catalogs (every
    dropped column stays in pg_attribute until a vacuum), which slowed every later catalog read."""

    def __init__(self, tables: str, rows: str) -> None:
        assert POSTGRES_URL is not None
        self.tables, self.rows = tables, rows
        conninfo, environment = libpq_client(POSTGRES_URL)
        self.connection = psycopg.connect(conninfo, autocommit=True, password=environment.get("PGPASSWORD"))
        self.copy: _Copy | None = None

    def reset(self) -> str:
        """Name the schema, made afresh from the template or with its rows put back as the template's."""
        if self.copy is None:
            schema = f"t_{uuid.uuid4().hex[:12]}"
            self.connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            self.connection.execute(sql.SQL(self.tables.replace(TEMPLATE_SCHEMA, schema)))
            self.copy = _Copy(schema, self._shape(schema), self._put_back(schema))
        else:
            self.connection.execute(self.copy.put_back)
        return _postgres_schema_url(self.copy.schema)

    def _put_back(self, schema: str) -> sql.Composed:
        """The SQL that deletes every row, foreign keys unchecked (the replica role fires no triggers), and inserts the
        seed; the same while the schema keeps its shape."""
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))
            tables = [table for (table,) in cursor.fetchall()]
        deletes = sql.SQL("").join(sql.SQL("DELETE FROM {};").format(sql.Identifier(schema, t)) for t in tables)
        # A test that leaves a transaction open would block the deletes: fail after a while, naming the cause.
        begin = sql.SQL("BEGIN; SET LOCAL lock_timeout = '30s'; SET LOCAL session_replication_role = replica;")
        return begin + deletes + sql.SQL(self.rows.replace(TEMPLATE_SCHEMA, schema)) + sql.SQL("; COMMIT;")

    def _shape(self, schema: str) -> tuple[object, ...]:
        """The schema's tables, columns, constraints and triggers: each catalog row's count and versions (xmin), which
        any CREATE, ALTER or DROP changes and deleting rows does not."""
        found = self.connection.execute(SHAPE, {"schema": schema}).fetchone()
        assert found is not None
        return tuple(found)

    def check_shape(self) -> None:
        """After a test: a schema whose shape the test changed (a migration, a restore) is dropped, not reused."""
        if self.copy is not None and self._shape(self.copy.schema) != self.copy.shape:
            self.drop()

    def drop(self) -> None:
        """Drop the schema, if there is one."""
        if self.copy is not None:
            self.connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(self.copy.schema)))
            self.copy = None


#: The shape of one schema's definitions, for ReusedSchema.
SHAPE = """
SELECT (SELECT (count(*), sum(xmin::text::bigint)) FROM pg_class WHERE relnamespace = %(schema)s::regnamespace),
       (SELECT (count(*), sum(a.xmin::text::bigint)) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         WHERE c.relnamespace = %(schema)s::regnamespace),
       (SELECT (count(*), sum(xmin::text::bigint)) FROM pg_constraint WHERE connamespace = %(schema)s::regnamespace),
       (SELECT (count(*), sum(t.xmin::text::bigint)) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = %(schema)s::regnamespace)
"""


@pytest.fixture(scope="session")
def postgres_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReusedSchema]:
    """This test process's reused schema, filled from pg_dump's plain scripts of a schema migrated once: its tables,
    and its rows (the seed) as INSERTs."""
    with empty_database("postgres", tmp_path_factory.getbasetemp()) as url:
        built = make_engine(url)
        initialise(built)
        with built.connect() as connection:
            schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
        built.dispose()
        tables, rows = _pg_dump_schema(schema), _pg_dump_schema(schema, "--data-only")
    create = f"CREATE SCHEMA {schema};\n"
    assert create in tables, "pg_dump's script must create the schema, which ReusedSchema makes itself"
    reused = ReusedSchema(*(_template_script(script.replace(create, ""), schema) for script in (tables, rows)))
    yield reused
    reused.drop()
    reused.connection.close()


def _template_script(script: str, schema: str) -> str:
    """pg_dump's script without its psql commands, its schema's name replaced by TEMPLATE_SCHEMA."""
    kept = (line for line in script.splitlines() if not line.startswith("\\"))
    return re.sub(rf"\b{schema}\b", TEMPLATE_SCHEMA, "\n".join(kept))


def _pg_dump_schema(schema: str, *options: str) -> str:
    """Dump one schema of the test server, rows as INSERTs, as the plain SQL a connection can replay."""
    assert POSTGRES_URL is not None
    conninfo, environment = libpq_client(POSTGRES_URL)
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.fail("PostgreSQL tests need pg_dump on PATH (the server's client tools), as `zetrials backup` does")
    command = [
        pg_dump,
        f"--dbname={conninfo}",
        f"--schema={schema}",
        "--inserts",
        "--no-owner",
        "--no-privileges",
        *options,
    ]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"pg_dump could not dump the template schema: {done.stderr.strip()}")
    return done.stdout


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated and seeded database: a copy of the session's template (db_url gives it when asked for engine)."""
    built = make_engine(db_url)
    yield built
    built.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the test database; tests commit what they make."""
    with Session(engine, expire_on_commit=False) as opened:
        yield opened


@pytest.fixture
def app(engine: Engine, db_url: str) -> Iterator[Flask]:
    """A fresh app on the test database."""
    built = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": db_url, "JOB_QUEUE": "immediate"})
    yield built
    built.extensions["zetrials.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser-like client of the app."""
    return app.test_client()


@pytest.fixture
def editor(client: FlaskClient, session: Session) -> FlaskClient:
    """A client signed in as an editor without a port."""
    make_user(session, "ed@example.org", role=Role.editor)
    assert sign_in(client, "ed@example.org") == 302
    return client


@pytest.fixture
def runner(engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Run `zetrials` commands against the test database."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    return CliRunner()


#: Module-scoped fixtures that build a whole demo database (and serve it): built once per module and database.
SHARED_PER_MODULE = ("demo", "served")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook, which reads the groups into the test ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep the browser tests on one xdist worker (`--dist loadgroup`): each starts servers and a Chromium, and two
    at once on a two-core machine only slow each other down. Keep a module's tests that share a demo database on one
    worker too, so it is built once, not once per worker."""
    for item in items:
        if "browser" in item.path.parts:
            item.add_marker(pytest.mark.xdist_group("browser"))
            continue
        if any(name in getattr(item, "fixturenames", ()) for name in SHARED_PER_MODULE):
            item.add_marker(pytest.mark.xdist_group(item.path.stem))  # in order: one database, then the other
