"""Demo accounts as people meet them: made and printed once by `zetrials demo` in development (as `make run` runs
it), listed without passwords on the sign-in page there, and refused everywhere else: `zetrials demo` makes none,
and the app does not start while one is active (trials/demo_accounts.py makes them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import click
import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.config import DEVELOPMENT, ConfigError, environment
from app.context import engine as app_engine
from trials.accounts import AccountError
from trials.db import configured_engine, read_session, write_session
from trials.demo_accounts import (
    DemoAccount,
    create_demo_accounts,
    deactivate_demo_accounts,
    demo_users,
    reset_demo_accounts,
)
from trials.models import Port, Role

RESET = "zetrials demo-accounts reset"
DEACTIVATE = "zetrials demo-accounts deactivate"


def in_development() -> bool:
    """Tell whether commands run in development (ZETRIALS_ENV=development, as `make run` sets)."""
    return environment() == DEVELOPMENT


def _table(rows: Sequence[tuple[str, ...]]) -> None:
    """Print rows as columns lined up, two spaces apart, indented."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        click.echo("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def print_accounts(accounts: list[DemoAccount]) -> None:
    """Print the demo accounts with their passwords as a short table, the one time the passwords are known."""
    click.echo("")
    click.echo("Demo accounts (development only). Sign in as one of them; the passwords are shown this once:")
    rows = [("email", "role", "port", "password")]
    _table(rows + [(account.email, account.role.value, account.port or "-", account.password) for account in accounts])
    click.echo(f"Lost them? `{RESET}` gives them new ones. The sign-in page lists the accounts, without passwords.")
    click.echo("")


def sign_in_hint() -> str:
    """Tell `zetrials serve` whom to sign in as."""
    if in_development():
        return "sign in as a demo account listed on the sign-in page, or a user made by `zetrials users add`"
    return "sign in with a user made by `zetrials users add`"


def remind(engine: Engine) -> None:
    """In development, say which demo accounts exist and how to get new passwords, never the passwords."""
    if not in_development():
        return
    with read_session(engine) as session:
        users = demo_users(session, active_only=True)
    if not users:
        click.echo(f"No demo accounts: `{RESET}` makes them and prints their passwords.")
        return
    click.echo(f"Demo accounts (their passwords were printed when the demo was loaded; `{RESET}` prints new ones):")
    _table([(user.email, user.role.value, user.port_locode or "-") for user in users])


def after_demo(engine: Engine, *, database_was_empty: bool) -> None:
    """After `zetrials demo` loaded its data, in development only: if the database held no trials before, make the
    demo accounts and print them once; otherwise say which exist. Outside development no demo account is made."""
    if not in_development():
        return
    made: list[DemoAccount] = []
    if database_was_empty:
        with write_session(engine) as session:
            made = create_demo_accounts(session, actor="cli")
    if made:
        print_accounts(made)
    else:
        remind(engine)


@click.group("demo-accounts")
def demo_accounts() -> None:
    """Manage the demo accounts `zetrials demo` makes in development."""


@demo_accounts.command("reset")
def reset() -> None:
    """Give every demo account a new random password and print them once (development only)."""
    if not in_development():
        raise click.ClickException("demo accounts exist in development only (ZETRIALS_ENV=development)")
    try:
        with configured_engine() as engine, write_session(engine) as session:
            accounts = reset_demo_accounts(session, actor="cli")
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    print_accounts(accounts)


@demo_accounts.command("deactivate")
def deactivate() -> None:
    """Deactivate every demo account, so that production may start."""
    with configured_engine() as engine, write_session(engine) as session:
        users = deactivate_demo_accounts(session, actor="cli")
    if users:
        click.echo(f"Deactivated {len(users)} demo accounts: {', '.join(user.email for user in users)}.")
    else:
        click.echo("No active demo accounts.")


def refuse_in_production(app: Flask) -> None:
    """Refuse to start outside development while a demo account is active: its password was printed in a terminal
    and its email is on every development sign-in page."""
    if app.config["ENV_NAME"] == DEVELOPMENT:
        return
    engine = app.extensions["zetrials.engine"]
    try:
        with read_session(engine) as session:
            if not sa.inspect(session.connection()).has_table("user"):
                return  # not migrated yet: no account of any kind
            active = demo_users(session, active_only=True)
    except sa.exc.OperationalError as error:
        # The app starts while the database is down, as it always has (/healthz answers 503 until it is back).
        app.logger.warning("could not look for demo accounts at start-up: %s", type(error).__name__)
        return
    finally:
        # No connection opened at start-up may outlive it: gunicorn forks its workers from this process, and a
        # PostgreSQL connection shared across processes breaks both.
        engine.dispose()
    if active:
        emails = ", ".join(user.email for user in active)
        raise ConfigError(
            f"demo accounts are active in this database ({emails}); they are for development only. "
            f"Deactivate them with `{DEACTIVATE}`, or on a development machine set ZETRIALS_ENV=development"
        )


@dataclass(frozen=True)
class Listed:
    """A demo account as the development sign-in page lists it: no password."""

    email: str
    role: str
    port: str
    sees: str


def _sees(role: Role, port: str | None) -> str:
    """Say in a few words what an account of this role and port sees and may do."""
    if port is None:
        return {
            Role.admin: "every trial; manages users, API tokens, emission factors, the audit log",
            Role.editor: "every trial; creates, edits and imports trials",
            Role.executive: "every trial, read only: pages, dashboards, reports",
            Role.partner: "nothing: a partner needs a port",
        }[role]
    mine = f"{port}'s trials and those other ports share with partners"
    return {
        Role.admin: "every trial",
        Role.editor: f"{mine}; creates, edits and imports {port}'s trials",
        Role.executive: f"{mine}, read only",
        Role.partner: f"{mine}, never another port's private trials; reads and downloads",
    }[role]


def sign_in_listing() -> list[Listed]:
    """List the active demo accounts for the development sign-in page; nothing outside development."""
    if current_app.config["ENV_NAME"] != DEVELOPMENT:
        return []
    with read_session(app_engine()) as session:
        users = demo_users(session, active_only=True)
        names = {port.locode: port.name for port in session.exec(select(Port))}
    listed = []
    for user in users:
        name = names.get(user.port_locode, user.port_locode) if user.port_locode else None
        label = f"{user.port_locode} ({name})" if user.port_locode else "-"
        listed.append(Listed(user.email, user.role.value, label, _sees(user.role, name)))
    return listed


def init_app(app: Flask) -> None:
    """Let templates ask for the demo accounts to list (the sign-in page does, and only in development)."""
    app.context_processor(lambda: {"demo_accounts": sign_in_listing})
