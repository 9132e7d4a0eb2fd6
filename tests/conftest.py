"""Shared fixtures: a real, freshly migrated database per test, on SQLite and (when available) PostgreSQL.

The migrations run once per session, into a template that each test gets a copy of: the SQLite file copied, the
PostgreSQL schema replayed from pg_dump's script of it. A session always migrates afresh, so a new migration is in
every copy at once."""

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

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from app.factory import create_app
from importers.demo import write_demo_files
from importers.pipeline import import_file
from tests.factories import make_user, sign_in
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
    """Name an empty database: a SQLite file, or a fresh schema on the PostgreSQL server."""
    with empty_database(request.param, tmp_path) as url:
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


#: Stands for the schema in the template's script; replaced by each test's own.
TEMPLATE_SCHEMA = "zetrials_template_schema"


@pytest.fixture(scope="session")
def postgres_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The SQL that fills an empty schema as `zetrials init` leaves it: pg_dump's plain script of a schema migrated
    once per session (replaying it is about four times faster than a migration, and than CREATE DATABASE ...
    TEMPLATE)."""
    with empty_database("postgres", tmp_path_factory.getbasetemp()) as url:
        built = make_engine(url)
        initialise(built)
        with built.connect() as connection:
            schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
        built.dispose()
        script = _pg_dump_schema(schema)
    create = f"CREATE SCHEMA {schema};\n"
    assert create in script, "pg_dump's script must create the schema, which each test has made already"
    kept = (line for line in script.replace(create, "").splitlines() if not line.startswith("\\"))
    return re.sub(rf"\b{schema}\b", TEMPLATE_SCHEMA, "\n".join(kept))


def _pg_dump_schema(schema: str) -> str:
    """Dump one schema of the test server, rows as INSERTs, as the plain SQL a connection can replay."""
    assert POSTGRES_URL is not None
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    dsn = url.set(password=None).render_as_string(hide_password=False)
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.fail("PostgreSQL tests need pg_dump on PATH (the server's client tools), as `zetrials backup` does")
    command = [pg_dump, f"--dbname={dsn}", f"--schema={schema}", "--inserts", "--no-owner", "--no-privileges"]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"pg_dump could not dump the template schema: {done.stderr.strip()}")
    return done.stdout


def _copy_template(request: pytest.FixtureRequest, url: str) -> None:
    """Make the empty database at this URL a copy of the session's template."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), str(parsed.database))
        return
    script: str = request.getfixturevalue("postgres_template")
    # Its own connection, closed after: the script's SET statements must not outlive it in a pool.
    once = make_engine(url, poolclass=NullPool)
    with once.begin() as connection:
        schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
        connection.connection.driver_connection.execute(script.replace(TEMPLATE_SCHEMA, schema))  # type: ignore[union-attr]
    once.dispose()


@pytest.fixture
def engine(request: pytest.FixtureRequest, db_url: str) -> Iterator[Engine]:
    """A migrated and seeded database: a copy of the session's template."""
    _copy_template(request, db_url)
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
