"""Schemathesis, a real API client, against the real app under gunicorn: every answer as the OpenAPI document says.

Schemathesis reads the document the server serves (/api/v1/openapi.json) and sends what it allows and what it does
not, in all its phases (examples, coverage, fuzzing, stateful chains it infers from the document), with every check
(`--checks all`: no 500, only documented statuses, content types and headers, bodies matching their schemas, valid
input accepted and invalid input refused, 401 without credentials, 405 with Allow for other methods, and the
resource and authorization checks of its stateful phase) and a fixed seed, so a failure reproduces.

Two callers on one server, over the demo data (`zetrials demo`'s files for a fixed day):

- a partner of Los Angeles, who reads within the port's scope and whose imports answer 403;
- an admin, whose imports (synchronous, queued, dry runs or not) write into this test's own throwaway database;
  the queue runs each job in its request, so a followed job has its result.

One allowance, for a documented reason: a schema-valid upload may still be refused for what no schema can describe,
an unreadable file (422, its `problems` say why) or a profile name no one saved (400 naming it), so the
positive-data check of POST /api/v1/imports also takes 400 and 422. Every other check applies as it is.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.conftest import IN_CI, POSTGRES_URL, empty_database, import_demo
from tests.server import Server, add_account, gunicorn
from trials.db import make_engine
from trials.models import Role

pytestmark = pytest.mark.slow

SEED = 1
#: Test cases per operation and phase; with two callers about a minute on two cores.
MAX_EXAMPLES = 40
DEMO_DAY = date(2026, 3, 10)
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = """
[[operations]]
include-path = "/api/v1/imports"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "400", "401", "403", "404", "409", "422", "429", "5xx",
]
"""


@dataclass
class Served:
    """The server, a bearer token for each caller, and a folder for schemathesis's files."""

    server: Server
    tokens: dict[Role, str]
    folder: Path


@contextmanager
def database_of_its_own(kind: str, folder: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or on PostgreSQL a whole database rather than a schema (the user needs
    CREATEDB), because the advisory lock that queues imports holds across a database: an import of another test in
    another schema (a 200,000-row one holds it half a minute) would hold the admin's imports past gunicorn's timeout."""
    if kind == "sqlite" or POSTGRES_URL is None:  # no server: empty_database skips, or fails in CI
        with empty_database(kind, folder) as url:
            yield url
        return
    name = f"zetrials_schemathesis_{uuid.uuid4().hex[:12]}"
    server = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            with server.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        server.dispose()


def serve_the_demo(url: str, folder: Path) -> dict[Role, str]:
    """Import the demo as `zetrials demo` does, written for one fixed day, and give a partner and an admin tokens."""
    engine = make_engine(url)
    try:
        import_demo(engine, folder, DEMO_DAY)
        tokens = {
            Role.partner: add_account(engine, "partner@example.org", Role.partner, "USLAX", token=True),
            Role.admin: add_account(engine, "admin@example.org", Role.admin, token=True),
        }
    finally:
        engine.dispose()
    return {role: token for role, token in tokens.items() if token}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The demo under gunicorn, with a partner and an admin holding tokens; imports queued run in their request."""
    if not SCHEMATHESIS.exists():
        message = f"schemathesis is not installed beside {sys.executable} (pip install 'schemathesis>=4.0,<5')"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("schemathesis")
    with database_of_its_own(request.param, folder) as url, pytest.MonkeyPatch.context() as environment:
        tokens = serve_the_demo(url, folder / "demo")
        environment.setenv("ZETRIALS_QUEUE", "immediate")  # the server's own queue, never a shared Redis
        with gunicorn(url, folder / "server", workers=2, preload=True) as server:
            yield Served(server, tokens, folder)


def server_messages(server: Server) -> str:
    """Gunicorn's log without the app's one-JSON-line-per-request: its own messages and any traceback."""
    return "\n".join(line for line in server.errors().splitlines() if not line.startswith("{"))[-6000:]


def run_schemathesis(served: Served, role: Role) -> str:
    """Run schemathesis as a user would, signed with the role's token; its report is the failure message."""
    config = served.folder / "schemathesis.toml"
    config.write_text(CONFIG, encoding="utf-8")
    command = [
        str(SCHEMATHESIS), "--config-file", str(config), "--no-color",
        "run", f"{served.server.url}/api/v1/openapi.json",
        "--checks", "all",
        "--seed", str(SEED),
        "--max-examples", str(MAX_EXAMPLES),
        "--workers", "1",  # one at a time: the stateful chains and the admin's writes then reproduce
        "--generation-database", "none",  # the seed alone decides what is sent, not failures stored by earlier runs
        "--header", f"Authorization: Bearer {served.tokens[role]}",
        "--request-timeout", "60",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=served.folder, capture_output=True, text=True, timeout=600, check=False)
    report = done.stdout + done.stderr
    assert done.returncode == 0, (
        f"{report}\n--- server log without its request lines ---\n{server_messages(served.server)}"
    )
    return report


@pytest.mark.parametrize("role", [Role.partner, Role.admin])
def test_every_generated_request_is_answered_as_the_document_says(served: Served, role: Role) -> None:
    report = run_schemathesis(served, role)
    assert " passed" in report and "Traceback" not in served.server.errors()
