"""The `zetrials` command line; every command honours DATABASE_URL."""

from __future__ import annotations

import getpass
import json
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy.engine import Engine, make_url

from trials.accounts import AccountError, add_user, create_token
from trials.db import database_url, is_sqlite, make_engine, read_session, write_session
from trials.metrics import METRIC_KEYS, METRIC_UNITS, MetricsResult
from trials.models import Role
from trials.queries import get_trial, metrics_by_trial, trial_metrics
from trials.scope import Scope
from trials.seed import initialise

OPERATOR = Scope.operator()


@contextmanager
def _engine() -> Iterator[Engine]:
    """Open the database named by DATABASE_URL (or the embedded SQLite file), and close it after the command."""
    engine = make_engine(database_url())
    try:
        yield engine
    finally:
        engine.dispose()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """ZE Trials: the shared record of zero-emission port equipment pilots."""


@main.command()
def init() -> None:
    """Create or upgrade the database schema and seed partner ports and the default factor set."""
    with _engine() as engine:
        initialise(engine)
        click.echo(f"Database ready: {engine.url.render_as_string(hide_password=True)}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8050, show_default=True, type=int, help="Port to listen on.")
def serve(host: str, port: int) -> None:
    """Serve the web app (single process; use gunicorn in production)."""
    from app import create_app

    app = create_app()
    click.echo(f"ZE Trials on http://{host}:{port}/  (sign in with a user made by `zetrials users add`)")
    app.run(host=host, port=port, debug=False, use_reloader=False)


def _format(value: float | None) -> str:
    """Show a number for people: n/a when missing, thousands separated, three significant decimals."""
    return "n/a" if value is None else f"{value:,.3f}"


def _print_result(code: str, result: MetricsResult) -> None:
    """Print one trial's metrics as a readable table, saying how the baseline and factors were chosen."""
    baseline = result.baseline
    how = (
        f"{baseline.method} baseline, {baseline.litres_per_activity:,.4f} L per {baseline.activity.value}"
        if baseline
        else "no baseline"
    )
    click.echo(f"{code}  ({how}; factor set {result.factor_set}, {result.basis}-based)")
    for key in METRIC_KEYS:
        flag = "  [flagged: beyond ±10 %]" if key in result.flags else ""
        click.echo(f"  {key:<26} {_format(result.values[key]):>20} {METRIC_UNITS[key]}{flag}")


@main.command()
@click.option("--trial", "trial_code", help="One trial, by code.")
@click.option("--port", "port", help="Every trial of one port, by UN/LOCODE.")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Date for data coverage so far.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON with the METHODOLOGY.md §3 keys.")
def metrics(trial_code: str | None, port: str | None, as_of: datetime | None, as_json: bool) -> None:
    """Print metrics of one trial, of a port's trials, or of every trial."""
    if trial_code and port:
        raise click.UsageError("give --trial or --port, not both")
    day = as_of.date() if as_of else None
    with _engine() as engine, read_session(engine) as session:
        if trial_code:
            trial = get_trial(session=session, scope=OPERATOR, code=trial_code)
            if trial is None:
                raise click.ClickException(f"no trial {trial_code!r}")
            results = {trial.code: trial_metrics(session=session, scope=OPERATOR, trial=trial, as_of=day)}
        else:
            results = metrics_by_trial(session=session, scope=OPERATOR, port=port, as_of=day)
    if as_json:
        payload: object = results[trial_code].values if trial_code else {code: r.values for code, r in results.items()}
        click.echo(json.dumps(payload, indent=2))
        return
    if not results:
        click.echo("No trials yet.")
    for code, result in results.items():
        _print_result(code, result)


@main.group()
def users() -> None:
    """Manage the people who sign in."""


def _read_password() -> str:
    """Read a password from stdin: typed twice at a terminal, one line from a pipe."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Repeat password: "):
            raise click.ClickException("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


@users.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True, help="What the user may do.")
@click.option("--port", help="UN/LOCODE of the user's port; partners must have one.")
def users_add(email: str, role: str, port: str | None) -> None:
    """Add a user; the password is read from stdin."""
    password = _read_password()
    try:
        with _engine() as engine, write_session(engine) as session:
            user = add_user(session, email=email, password=password, role=Role(role), port=port, actor="cli")
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Added {user.email} ({user.role}{', ' + user.port_locode if user.port_locode else ''}).")


@main.group()
def tokens() -> None:
    """Manage API bearer tokens."""


@tokens.command("create")
@click.argument("email")
def tokens_create(email: str) -> None:
    """Create an API token for a user and print it once; only its hash is stored."""
    try:
        with _engine() as engine, write_session(engine) as session:
            token = create_token(session, email=email, actor="cli")
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(token)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(file: Path) -> None:
    """Copy the SQLite database consistently, even while the app writes to it."""
    with _engine() as engine:
        sqlite = is_sqlite(engine)
    if not sqlite:
        raise click.ClickException(
            "this database is PostgreSQL: back it up with pg_dump, e.g. "
            f'`pg_dump --format=custom --file {file} "$DATABASE_URL"`, and restore with pg_restore'
        )
    source_path = make_url(database_url()).database or ""
    if file.exists():
        raise click.ClickException(f"{file} exists already; choose a new file name")
    with sqlite3.connect(source_path) as source, sqlite3.connect(file) as target:
        source.backup(target)
    click.echo(f"Backed up {source_path} to {file}.")
