"""Demo accounts: `make run` prints them once and each signs in to see what its role and port allow; outside
development none is made and the app will not start while one is active."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.cli import main
from app.config import ConfigError
from app.factory import create_app
from tests.factories import CALLBACK, DATA_CALLBACKS, callback_body, make_trial
from tests.server import PROJECT, browser, sign_in
from trials.db import make_engine, read_session, write_session
from trials.demo_accounts import DEMO_DOMAIN, create_demo_accounts, demo_ports, demo_users, is_demo_email
from trials.models import Role, Trial, User, Visibility

#: `make run` installs first unless the venv is up to date; a test must never reinstall, so the stamp counts as old.
STAMP = ".venv/.installed"
#: The demo import takes about half a minute on SQLite; a slow CI machine on PostgreSQL gets ample room.
BOOT_TIMEOUT_S = 600.0
_RUNNING = re.compile(r"Running on (http://127\.0\.0\.1:\d+)")
_FORM_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass(frozen=True)
class Printed:
    """One row of the table `make run` prints."""

    email: str
    role: Role
    port: str | None
    password: str


@dataclass
class MakeRun:
    """A `make run` serving on loopback: its address and what it printed before serving."""

    url: str
    output: str


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop make and the server it started: the process group this test made for them."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextmanager
def make_run(database_url: str, folder: Path) -> Iterator[MakeRun]:
    """Run `make run` as a newcomer does, on this database, serving on a port the kernel picks, until the block ends.

    The Makefile's own recipe runs (init, demo, serve, in development); only where things go differs: the database,
    the demo files (a temporary folder) and the port. SECRET_KEY is set so that the test writes no development key
    into the checkout's instance folder."""
    folder.mkdir(parents=True, exist_ok=True)
    environment = {key: value for key, value in os.environ.items() if key != "ZETRIALS_ENV"}
    environment.update(DATABASE_URL=database_url, SECRET_KEY="a development secret for this test", PYTHONUNBUFFERED="1")
    command = [
        "make", "--no-print-directory", "-o", STAMP, f"BIN={Path(sys.executable).parent}",
        "PORT=0", f"DEMO_DIR={folder / 'demo'}", "run",
    ]  # fmt: skip
    stdout, stderr = folder / "stdout", folder / "stderr"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            command, cwd=PROJECT, env=environment, stdout=out, stderr=err, start_new_session=True
        )
    try:
        deadline = time.monotonic() + BOOT_TIMEOUT_S
        while True:
            found = _RUNNING.search(stderr.read_text(errors="replace"))
            if found:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"make run did not serve:\n{stdout.read_text()[-3000:]}\n{stderr.read_text()[-3000:]}"
                )
            time.sleep(0.2)
        yield MakeRun(found.group(1), stdout.read_text())
    finally:
        _stop(process)


def printed_accounts(output: str) -> list[Printed]:
    """Read the table of demo accounts `zetrials demo` printed: email, role, port, password."""
    lines = output.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("Demo accounts (development only)"))
    assert lines[start + 1].split() == ["email", "role", "port", "password"]
    accounts = []
    for line in lines[start + 2 :]:
        if not line.startswith("  "):
            break
        email, role, port, password = line.split()
        accounts.append(Printed(email, Role(role), None if port == "-" else port, password))
    return accounts


def _visible(trials: list[Trial], port: str | None) -> set[str]:
    """The trial codes a viewer with this port may see, worked out from the rows (not through trials.scope)."""
    return {t.code for t in trials if port in (None, t.port_locode) or t.visibility == Visibility.partners}


def _edit_status(account: Printed, trial: Trial, trials: list[Trial]) -> int:
    """What a trial's edit page answers this account: 404 unless it may see the trial, 403 unless it may edit it."""
    if trial.code not in _visible(trials, account.port):
        return 404
    if account.role == Role.admin or (account.role == Role.editor and account.port in (None, trial.port_locode)):
        return 200
    return 403


def _trials_grid(http: requests.Session, url: str) -> list[dict[str, object]]:
    """The rows of the dashboard's Trials grid, asked for as Dash's renderer asks (the CSRF cookie sent back)."""
    outputs, inputs, state = DATA_CALLBACKS["trials"]
    headers = {"X-CSRFToken": http.cookies["_csrf_token"]}
    body = callback_body(outputs, inputs, state)
    answer = http.post(f"{url}{CALLBACK}", json=body, headers=headers, timeout=60)
    rows: list[dict[str, object]] = answer.json()["response"]["trials-grid"]["rowData"]
    return rows


def _status(http: requests.Session, url: str) -> int:
    """The status a browser gets for a page, without following redirects."""
    return http.get(url, headers={"Accept": "text/html"}, allow_redirects=False, timeout=60).status_code


@pytest.mark.slow  # a real `make run` (demo import, server) twice
def test_make_run_prints_demo_accounts_that_sign_in_and_see_what_their_role_and_port_allow(
    db_url: str, tmp_path: Path
) -> None:
    with make_run(db_url, tmp_path / "first") as served:
        accounts = printed_accounts(served.output)
        assert [(a.role, a.port is None) for a in accounts] == [
            (Role.admin, True),
            (Role.editor, False),
            (Role.executive, True),
            (Role.partner, False),
            (Role.partner, False),
        ]
        editor, partners = accounts[1], accounts[3:]
        assert partners[0].port != partners[1].port
        assert all(is_demo_email(a.email) for a in accounts)
        assert len({a.password for a in accounts}) == len(accounts)

        engine = make_engine(db_url)
        with read_session(engine) as session:
            trials = list(session.exec(select(Trial)))
            users = {user.email: user for user in session.exec(select(User))}
        engine.dispose()
        assert set(users) == {a.email for a in accounts}  # the demo made these accounts and no others
        for account in accounts:
            stored = users[account.email]
            assert (stored.role, stored.port_locode, stored.active) == (account.role, account.port, True)
            assert stored.password_hash.startswith("scrypt:") and account.password not in stored.password_hash

        # The sign-in page lists the accounts without their passwords, and says where the passwords were printed.
        page = requests.get(f"{served.url}/login", timeout=60).text
        assert all(a.email in page for a in accounts)
        assert not any(a.password in page for a in accounts)
        assert "printed once" in page and "make run" in page

        # Each partner's port has private trials the other partner must not see; the demo must hold at least one.
        hidden = {
            p.email: {t.code for t in trials if t.port_locode == other.port and t.visibility == Visibility.private}
            for p, other in ((partners[0], partners[1]), (partners[1], partners[0]))
        }
        assert any(hidden.values()), "the demo holds no private trial hidden from one partner by the other's port"
        own = next(t for t in trials if t.port_locode == editor.port)
        elsewhere = next(t for t in trials if t.port_locode != editor.port and t.visibility == Visibility.partners)

        for account in accounts:
            http = browser()
            sign_in(http, served.url, account.email, account.password)  # the real form, with its CSRF token
            seen = {item["code"] for item in http.get(f"{served.url}/api/v1/trials", timeout=60).json()["items"]}
            assert seen == _visible(trials, account.port), account.email
            assert http.get(f"{served.url}/", timeout=60).url == f"{served.url}/dashboard/"  # home is the Overview
            grid = {row["code"] for row in _trials_grid(http, served.url)}
            assert grid == seen, account.email
            for code in hidden.get(account.email, set()):
                assert _status(http, f"{served.url}/trials/{code}") == 404
                assert http.get(f"{served.url}/api/v1/trials/{code}", timeout=60).status_code == 404
            admin, edits = account.role == Role.admin, account.role in (Role.admin, Role.editor)
            assert _status(http, f"{served.url}/admin/users") == (200 if admin else 403), account.email
            assert _status(http, f"{served.url}/imports") == (200 if edits else 403), account.email
            for trial in (own, elsewhere):
                expected = _edit_status(account, trial, trials)
                assert _status(http, f"{served.url}/trials/{trial.code}/edit") == expected, (account.email, trial.code)

    # A second `make run` loads nothing and prints no password again; it names the accounts and how to reset them.
    with make_run(db_url, tmp_path / "second") as again:
        assert "no demo data loaded" in again.output
        assert not any(a.password in again.output for a in accounts)
        assert all(a.email in again.output for a in accounts)
        assert "zetrials demo-accounts reset" in again.output
        sign_in(browser(), again.url, accounts[0].email, accounts[0].password)  # the first passwords still hold


@pytest.mark.slow  # the whole demo import
def test_production_makes_no_demo_accounts_and_will_not_start_while_one_is_active(
    runner: CliRunner, engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZETRIALS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a production secret for this test")
    loaded = runner.invoke(main, ["demo", "--dir", str(tmp_path / "demo")])
    assert loaded.exit_code == 0, loaded.output
    assert "Demo accounts" not in loaded.output and "demo-accounts" not in loaded.output
    with read_session(engine) as session:
        assert list(session.exec(select(User))) == []
    refused = runner.invoke(main, ["demo-accounts", "reset"])
    assert refused.exit_code == 1 and "development only" in refused.output

    # A database that was used in development, then put into production, still holds its demo accounts.
    with write_session(engine) as session:
        create_demo_accounts(session, actor="setup")
    with pytest.raises(ConfigError, match="zetrials demo-accounts deactivate") as refusal:
        create_app({"DATABASE_URL": db_url})
    assert f"admin@{DEMO_DOMAIN}" in str(refusal.value)
    served = subprocess.run(  # a process of its own: should it start after all, the timeout ends the test
        [Path(sys.executable).parent / "zetrials", "serve", "--port", "0"],
        env=os.environ | {"DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert served.returncode == 1 and "zetrials demo-accounts deactivate" in served.stderr

    deactivated = runner.invoke(main, ["demo-accounts", "deactivate"])
    assert deactivated.exit_code == 0 and "Deactivated 5 demo accounts" in deactivated.output
    app = create_app({"DATABASE_URL": db_url})
    page = app.test_client().get("/login").get_data(as_text=True)
    assert DEMO_DOMAIN not in page and "Demo accounts" not in page
    app.extensions["zetrials.engine"].dispose()


@pytest.fixture
def dev_app(engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The app as `make run` serves it: in development."""
    monkeypatch.setenv("ZETRIALS_ENV", "development")
    built = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": db_url})
    yield built
    built.extensions["zetrials.engine"].dispose()


def _signs_in(client: FlaskClient, email: str, password: str) -> bool:
    """Post the real sign-in form with the CSRF token it carries; True if it signed in."""
    found = _FORM_TOKEN.search(client.get("/login").get_data(as_text=True))
    assert found is not None
    data = {"email": email, "password": password, "csrf_token": found.group(1)}
    return client.post("/login", data=data).status_code == 302


def test_reset_gives_new_passwords_and_deactivate_locks_them_out(
    runner: CliRunner, engine: Engine, dev_app: Flask
) -> None:
    with write_session(engine) as session:
        first = create_demo_accounts(session, actor="setup")
        assert create_demo_accounts(session, actor="setup") == []  # made once, never twice
    client = dev_app.test_client()
    assert _signs_in(client, first[0].email, first[0].password)

    reset = runner.invoke(main, ["demo-accounts", "reset"])
    assert reset.exit_code == 0, reset.output
    new = {a.email: a.password for a in printed_accounts(reset.output)}
    assert set(new) == {a.email for a in first}
    assert not set(new.values()) & {a.password for a in first}
    assert not _signs_in(dev_app.test_client(), first[1].email, first[1].password)
    assert _signs_in(dev_app.test_client(), first[1].email, new[first[1].email])

    assert runner.invoke(main, ["demo-accounts", "deactivate"]).exit_code == 0
    assert not _signs_in(dev_app.test_client(), first[1].email, new[first[1].email])
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 302  # the live session ended too
    assert DEMO_DOMAIN not in client.get("/login").get_data(as_text=True)  # deactivated ones are not listed
    with read_session(engine) as session:
        assert demo_users(session, active_only=True) == [] and len(demo_users(session)) == 5

    again = runner.invoke(main, ["demo-accounts", "reset"])  # brings them back, with new passwords
    assert again.exit_code == 0 and len(printed_accounts(again.output)) == 5
    with read_session(engine) as session:
        assert len(demo_users(session, active_only=True)) == 5


def test_demo_ports_are_those_with_the_most_private_trials(session: Session) -> None:
    make_trial(session, code="SIN-1", port_locode="SGSIN")
    make_trial(session, code="SIN-2", port_locode="SGSIN")
    make_trial(session, code="NGO-1", port_locode="JPNGO")
    make_trial(session, code="LGB-1", port_locode="USLGB", visibility=Visibility.partners)
    make_trial(session, code="LGB-2", port_locode="USLGB", visibility=Visibility.partners)
    make_trial(session, code="LGB-3", port_locode="USLGB", visibility=Visibility.partners)
    assert demo_ports(session) == ("SGSIN", "JPNGO")
