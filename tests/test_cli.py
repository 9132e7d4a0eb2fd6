"""The `zetrials` command line against a real database."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.cli import main
from tests.factories import make_measurement, make_trial, make_unit
from tests.server import PROJECT
from trials.accounts import hash_token
from trials.db import is_sqlite
from trials.metrics import METRIC_KEYS
from trials.models import ApiToken, AuditEvent, Role, User


def test_init_then_metrics_json_on_an_empty_database(runner: CliRunner) -> None:
    assert runner.invoke(main, ["init"]).exit_code == 0
    result = runner.invoke(main, ["metrics", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {}


def test_metrics_json_of_one_trial_has_exactly_the_methodology_keys(runner: CliRunner, session: Session) -> None:
    """The §3 keys, then last_data_date and the trust checks beside them."""
    trial = make_trial(session, baseline_rate=3.0, baseline_unit="L/h")
    make_measurement(session, make_unit(session, trial), date(2024, 2, 1), operating_hours=10.0, energy_kwh=200.0)
    result = runner.invoke(main, ["metrics", "--trial", "LGB-YT-01", "--json"])
    assert result.exit_code == 0, result.output
    values = json.loads(result.output)
    assert list(values) == [*METRIC_KEYS, "last_data_date", "checks"]
    assert values["last_data_date"] == "2024-02-01"
    # 3 L/h is under 4-14 L/h; one day of data in January-February; active, data from 2024: stale; one unit
    expected = {"baseline_out_of_range", "low_coverage", "stale", "single_unit"}
    assert {check["code"] for check in values["checks"]} == expected
    assert values["kwh_per_hour"] == pytest.approx(20.0)
    assert values["baseline_diesel_l"] == pytest.approx(30.0)
    assert values["hydrogen_kg"] is None


def test_metrics_of_a_port_lists_its_trials(runner: CliRunner, session: Session) -> None:
    make_trial(session, code="A")
    make_trial(session, code="B", port_locode="SGSIN")
    result = runner.invoke(main, ["metrics", "--port", "SGSIN", "--json"])
    assert list(json.loads(result.output)) == ["B"]
    readable = runner.invoke(main, ["metrics", "--port", "USLGB"])
    assert "A  (no baseline; factor set ZE-2025, location-based)" in readable.output
    assert "energy_kwh" in readable.output and "n/a kWh" in readable.output


def test_metrics_of_an_unknown_trial_fails_clearly(runner: CliRunner) -> None:
    result = runner.invoke(main, ["metrics", "--trial", "NOPE"])
    assert result.exit_code == 1
    assert "no trial 'NOPE'" in result.output


def test_users_add_reads_the_password_from_stdin(runner: CliRunner, session: Session) -> None:
    result = runner.invoke(
        main, ["users", "add", "Partner@Port.example", "--role", "partner", "--port", "SGSIN"], input="long enough pw\n"
    )
    assert result.exit_code == 0, result.output
    user = session.exec(select(User)).one()
    assert (user.email, user.role, user.port_locode) == ("partner@port.example", Role.partner, "SGSIN")
    assert user.password_hash.startswith("scrypt:")
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "user.add")).one().actor == "cli"


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["x@y.org", "--role", "partner"], "long enough pw", "a partner must belong to a port"),
        (["x@y.org", "--role", "editor"], "short", "at least 10 characters"),
        (["x@y.org", "--role", "editor", "--port", "ZZZZZ"], "long enough pw", "unknown port 'ZZZZZ'"),
        (["not-an-email", "--role", "admin"], "long enough pw", "is not an email address"),
    ],
)
def test_users_add_refuses_bad_accounts(runner: CliRunner, args: list[str], password: str, message: str) -> None:
    result = runner.invoke(main, ["users", "add", *args], input=password + "\n")
    assert result.exit_code == 1
    assert message in result.output


def test_tokens_create_prints_a_token_once_and_stores_only_its_hash(runner: CliRunner, session: Session) -> None:
    runner.invoke(main, ["users", "add", "api@x.org", "--role", "executive"], input="long enough pw\n")
    result = runner.invoke(main, ["tokens", "create", "api@x.org"])
    assert result.exit_code == 0
    token = result.output.strip()
    stored = session.exec(select(ApiToken)).one()
    assert stored.token_hash == hash_token(token) and token not in stored.token_hash


def test_backup_copies_the_database_and_never_overwrites(runner: CliRunner, engine: Engine, tmp_path: Path) -> None:
    target = tmp_path / "copy.backup"
    result = runner.invoke(main, ["backup", str(target)])
    assert result.exit_code == 0, result.output
    if is_sqlite(engine):
        with sqlite3.connect(target) as copy:
            assert copy.execute("SELECT count(*) FROM port").fetchone() == (8,)
    else:
        assert target.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    assert runner.invoke(main, ["backup", str(target)]).exit_code == 1  # never overwrites


@pytest.mark.slow
def test_worker_nice_lowers_its_own_priority_and_its_sessions_share(tmp_path: Path) -> None:
    """`zetrials worker --nice 7`, leading its own session as a supervisor starts it, runs at nice 7 and lowers its
    session's CPU share alike, so imports yield the CPU to web workers on the same host."""
    database = tmp_path / "zetrials.sqlite"
    environment = {key: value for key, value in os.environ.items() if key not in ("ZETRIALS_ENV", "REDIS_URL")}
    environment |= {
        "DATABASE_URL": f"sqlite:///{database}",
        "ZETRIALS_QUEUE": f"sqlite:///{tmp_path / 'queue.sqlite'}",
        "SECRET_KEY": "worker-test-secret",
    }
    command = [sys.executable, "-c", "from app.cli import main; main()"]
    subprocess.run([*command, "init"], env=environment, cwd=PROJECT, check=True, capture_output=True)
    worker = subprocess.Popen(
        [*command, "worker", "--threads", "1", "--nice", "7"],
        env=environment,
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert worker.stdout is not None
        said = []
        for line in worker.stdout:
            said.append(line)
            if line.startswith("ZE Trials import worker:"):
                break
        expected = min(19, os.getpriority(os.PRIO_PROCESS, 0) + 7)
        assert f"1 threads at nice {expected} on the queue" in said[-1]
        assert os.getpriority(os.PRIO_PROCESS, worker.pid) == expected
        autogroup = Path(f"/proc/{worker.pid}/autogroup")
        refused = any("could not be lowered" in line for line in said)
        if autogroup.exists() and not refused:  # Linux with autogroups: "/autogroup-N nice 7"
            assert autogroup.read_text().split()[-1] == "7"
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.communicate(timeout=30)  # reads the rest of its output and closes the pipe
