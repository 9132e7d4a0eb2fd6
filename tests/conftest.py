"""Shared fixtures: a real, freshly migrated database per test, on SQLite and (when available) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from app import create_app
from trials.db import make_engine
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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Name an empty database: a SQLite file, or a fresh schema on the PostgreSQL server."""
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated and seeded database."""
    built = make_engine(db_url)
    initialise(built)
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
    built = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": db_url})
    yield built
    built.extensions["zetrials.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser-like client of the app."""
    return app.test_client()


@pytest.fixture
def runner(engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Run `zetrials` commands against the test database."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    return CliRunner()
