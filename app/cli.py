"""The `zetrials` command line; every command honours DATABASE_URL."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Literal

import click
from sqlmodel import Session

from app.cli_import import import_command, print_import, profiles
from app.cli_report import report
from app.config import ConfigError
from app.demo_accounts import after_demo, demo_accounts, remind, sign_in_hint
from importers.demo import write_demo_files
from importers.load import UndoRefused, plan_undo, undo_batch
from importers.pipeline import import_file
from importers.template import write_template
from trials.accounts import AccountError, add_user, create_token
from trials.backup import BackupError, backup_database, describe, restore_database
from trials.baselines import RATE_AMOUNT_UNIT
from trials.db import DEFAULT_SQLITE_PATH, configured_engine, database_url, read_session, write_session
from trials.factors import (
    Factors,
    FactorSetError,
    add_factor_set,
    list_factor_sets,
    load_factors,
    read_factor_set,
    set_default_set,
)
from trials.metrics import METRIC_KEYS, METRIC_UNITS, MetricsResult
from trials.models import FactorSet, Role
from trials.queries import get_trial, list_import_batches, list_ports, list_trials
from trials.results import trial_results
from trials.scope import Scope
from trials.seed import initialise

OPERATOR = Scope.operator()
#: The longest factor set name the table holds.
FACTOR_SET_NAME_LENGTH: int = FactorSet.__table__.c["name"].type.length  # type: ignore[attr-defined]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """ZE Trials: the shared record of zero-emission port equipment pilots."""


@main.command()
def init() -> None:
    """Create or upgrade the database schema and seed partner ports and the default factor set."""
    with configured_engine() as engine:
        initialise(engine)
        click.echo(f"Database ready: {engine.url.render_as_string(hide_password=True)}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8050, show_default=True, type=int, help="Port to listen on.")
@click.option("--worker/--no-worker", default=True, show_default=True, help="Run import jobs in this process too.")
def serve(host: str, port: int, worker: bool) -> None:
    """Serve the web app (single process; use gunicorn in production) with an import worker beside it."""
    from app.jobs import Queue
    from app.serving import server_app

    try:
        app = server_app()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    if worker:
        queue: Queue = app.extensions["zetrials.queue"]
        queue.reap()
        queue.start_in_process()
    click.echo(f"ZE Trials on http://{host}:{port}/  ({sign_in_hint()})")
    app.run(host=host, port=port, debug=False, use_reloader=False)


@main.command()
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 64), help="Jobs run at once.")
@click.option(
    "--nice",
    "niceness",
    default=0,
    show_default=True,
    type=click.IntRange(0, 19),
    help="Lower this worker's CPU priority (Unix nice), so imports yield the CPU to web workers on the same host.",
)
def worker(threads: int, niceness: int) -> None:
    """Run import jobs from the queue (Redis with REDIS_URL, else the SQLite queue in instance/) until stopped."""
    import logging
    import os

    if niceness:
        _lower_priority(niceness)

    from app.factory import create_app
    from app.jobs import Queue

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = create_app()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    queue: Queue = app.extensions["zetrials.queue"]
    queue.reap()
    click.echo(f"ZE Trials import worker: {threads} threads at nice {os.nice(0)} on the queue {queue.describe()}")
    queue.consumer(threads).run()


def _lower_priority(niceness: int) -> None:
    """Give the worker (and the reader processes its imports start) less CPU than the web workers beside it."""
    import os

    os.nice(niceness)
    # Linux's autogroups share the CPU between sessions first, and nice counts only within one: a worker leading its
    # own session (started by a supervisor or with setsid) lowers its session's share too.
    autogroup = Path("/proc/self/autogroup")
    if os.getsid(0) == os.getpid() and autogroup.exists():
        try:
            autogroup.write_text(str(niceness))
        except OSError:
            click.echo("the session's CPU share (/proc/self/autogroup) could not be lowered; nice applies within it")


def _format(value: float | None) -> str:
    """Show a number for people: n/a when missing, thousands separated, three significant decimals."""
    return "n/a" if value is None else f"{value:,.3f}"


def _print_result(code: str, result: MetricsResult) -> None:
    """Print one trial's metrics as a readable table, saying how the baseline and factors were chosen."""
    baseline = result.baseline
    how = (
        f"{baseline.method}{' (measured one thin)' if baseline.thin else ''} {baseline.kind.value} baseline, "
        f"{baseline.rate:,.4f} {RATE_AMOUNT_UNIT[baseline.kind]} per {baseline.activity.value}"
        if baseline
        else "no baseline"
    )
    click.echo(f"{code}  ({how}; factor set {result.factor_set}, {result.basis}-based)")
    for key in METRIC_KEYS:
        flag = "  [flagged: beyond ±10 %]" if key in result.flags else ""
        click.echo(f"  {key:<32} {_format(result.values[key]):>20} {METRIC_UNITS[key]}{flag}")
    click.echo(f"  {'last_data_date':<32} {result.last_data_date or 'n/a':>20}")
    for check in result.checks:
        click.echo(f"  [{check.level.value}] {check.message}")


@main.command()
@click.option("--trial", "trial_code", help="One trial, by code.")
@click.option("--port", "port", help="Every trial of one port, by UN/LOCODE.")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Date for data coverage so far.")
@click.option(
    "--basis",
    type=click.Choice(["location", "market"]),
    default="location",
    show_default=True,
    help="Grid electricity factors: the port's grid average, or the trial's own market-based factor.",
)
@click.option("--factors", "factor_set", metavar="NAME", help="Factor set to compute with (default: the default set).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON with the METHODOLOGY.md §3 keys.")
def metrics(
    trial_code: str | None,
    port: str | None,
    as_of: datetime | None,
    basis: Literal["location", "market"],
    factor_set: str | None,
    as_json: bool,
) -> None:
    """Print metrics of one trial, of a port's trials, or of every trial."""
    if trial_code and port:
        raise click.UsageError("give --trial or --port, not both")
    day = as_of.date() if as_of else None
    with configured_engine() as engine, read_session(engine) as session:
        factors = _factor_set(session, factor_set)
        if trial_code:
            trial = get_trial(session=session, scope=OPERATOR, code=trial_code)
            if trial is None:
                raise click.ClickException(f"no trial {trial_code!r}")
            trials = [trial]
        else:
            trials = list_trials(session=session, scope=OPERATOR, port=port)
        found = trial_results(session=session, scope=OPERATOR, trials=trials, factors=factors, basis=basis, as_of=day)
    results = {row.trial.code: row.result for row in found}
    if as_json:
        payload = results[trial_code].as_json() if trial_code else {code: r.as_json() for code, r in results.items()}
        click.echo(json.dumps(payload, indent=2))
        return
    if not results:
        click.echo("No trials yet.")
    for code, result in results.items():
        _print_result(code, result)


def _factor_set(session: Session, name: str | None) -> Factors:
    """Load the named factor set (else the default), or refuse with the names of the sets there are."""
    try:
        return load_factors(session, name)
    except LookupError as error:
        names = ", ".join(factor_set.name for factor_set, _rows in list_factor_sets(session)) or "none"
        raise click.ClickException(f"{error}; the factor sets are: {names}") from None


@main.group()
def factors() -> None:
    """Add and list emission factor sets (the same CSV the admin page takes)."""


def _name(_context: click.Context, _parameter: click.Parameter, value: str) -> str:
    """Check a new set's name as the admin form does: not blank, at most as long as the table holds."""
    name = value.strip()
    if not name or len(name) > FACTOR_SET_NAME_LENGTH:
        raise click.BadParameter(f"give a name of 1 to {FACTOR_SET_NAME_LENGTH} characters, e.g. ZE-2026")
    return name


@factors.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--name", required=True, metavar="NAME", callback=_name, help="Name of the new set, e.g. ZE-2026; never reused."
)
@click.option("--description", help="What the set is, e.g. which years and sources it adds.")
@click.option("--default", "make_default", is_flag=True, help="Make it the default set for new results.")
def factors_add(file: Path, name: str, description: str | None, make_default: bool) -> None:
    """Add a factor set from a CSV: every row checked, nothing stored unless all rows are good."""
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"{file} is not UTF-8 text; save it as 'CSV UTF-8'") from None
    rows, problems = read_factor_set(name, text)
    if problems:
        click.echo(f"Refused {file}: nothing was stored.", err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    try:
        with configured_engine() as engine, write_session(engine) as session:
            add_factor_set(session, name=name, description=description, factors=rows, actor="cli")
            if make_default:
                set_default_set(session, name=name, actor="cli")
    except FactorSetError as error:
        raise click.ClickException(str(error)) from None
    state = "it is now the default set" if make_default else "it is not the default until chosen"
    click.echo(f"Added factor set {name} with {len(rows)} factors; {state}.")


def _years(years: list[int]) -> str:
    """Say which years a set's grid factors cover, runs shortened: 2023-2025, 2027 (0 is a factor for every year)."""
    runs: list[list[int]] = []
    for year in sorted(year for year in years if year):
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    parts = ["every year"] if 0 in years else []
    parts += [str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs]
    return ", ".join(parts) or "none"


@factors.command("list")
def factors_list() -> None:
    """List every factor set, oldest first: whether it is the default, when it was added, what it covers."""
    with configured_engine() as engine, read_session(engine) as session:
        sets = list_factor_sets(session)
    if not sets:
        click.echo("No factor sets yet; run `zetrials init`.")
    for factor_set, rows in sets:
        grid_years = sorted({row.year for row in rows if row.key == "grid"})
        click.echo(
            f"{factor_set.name:<16} {'default' if factor_set.is_default else '       '}  "
            f"created {factor_set.created_at:%Y-%m-%d %H:%M}Z  {len(rows):>4} factors  "
            f"grid years {_years(grid_years)}"
        )


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
        with configured_engine() as engine, write_session(engine) as session:
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
        with configured_engine() as engine, write_session(engine) as session:
            token = create_token(session, email=email, actor="cli")
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(token)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(file: Path) -> None:
    """Write a consistent copy of the database to a new FILE, even while the app and imports write to it."""
    url = database_url()
    try:
        backup_database(url, file)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up {describe(url)} to {file} ({file.stat().st_size / 1e6:,.1f} MB).")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the data without asking first.")
def restore(file: Path, yes: bool) -> None:
    """Replace every row of the database with those of a backup made by `zetrials backup`: all or nothing."""
    url = database_url()
    if not yes:
        click.confirm(f"Replace every row of {describe(url)} with the backup {file}?", abort=True)
    try:
        restore_database(url, file)
    except BackupError as error:
        raise click.ClickException(f"{error}; the database was not changed") from None
    click.echo(f"Restored {file} into {describe(url)}; if it was made by an older version, run `zetrials init` next.")


@main.group()
def imports() -> None:
    """See and undo import batches."""


@imports.command("list")
def imports_list() -> None:
    """List import batches, newest first, with what each did."""
    with configured_engine() as engine, read_session(engine) as session:
        batches = list_import_batches(session=session, scope=OPERATOR)
    if not batches:
        click.echo("No imports yet.")
    for batch in batches:
        click.echo(
            f"{batch.id:>5}  {batch.created_at:%Y-%m-%d %H:%M}Z  {batch.status.value:<8}  "
            f"created {batch.created}, updated {batch.updated}, unchanged {batch.unchanged}, "
            f"skipped {batch.skipped}  {batch.filename}"
        )


@imports.command("undo")
@click.argument("batch", type=int)
@click.option("--yes", is_flag=True, help="Undo without asking first.")
def imports_undo(batch: int, yes: bool) -> None:
    """Undo an import batch: rows, units and trials it created go, rows and trials it changed get their earlier
    values back; says what first and asks, unless --yes."""
    try:
        with configured_engine() as engine:
            if not yes:
                with read_session(engine) as session:
                    plan = plan_undo(session, batch)
                click.echo(f"Undoing batch {batch} ({plan.filename}) will:")
                for line in plan.lines():
                    click.echo(f"  {line}")
                click.confirm("Undo it?", abort=True)
            with write_session(engine) as session:
                undone = undo_batch(session, batch, actor="cli")
    except UndoRefused as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Undid batch {undone.batch_id} ({undone.filename}): {'; '.join(undone.lines(done=True))}.")


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write.")
def template(output: Path) -> None:
    """Write the blank import workbook: Trials and Measurements sheets, drop-downs and instructions."""
    with configured_engine() as engine, read_session(engine) as session:
        ports = list_ports(session=session)
    write_template(output, ports)
    click.echo(f"Wrote {output}.")


@main.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_SQLITE_PATH.parent / "demo",
    show_default=True,
    help="Where to write the sample files.",
)
@click.option("--if-empty", is_flag=True, help="Do nothing if the database holds trials already.")
def demo(directory: Path, if_empty: bool) -> None:
    """Write realistic sample files in several real-world shapes and import them through the importer."""
    with configured_engine() as engine:
        with read_session(engine) as session:
            was_empty = not list_trials(session=session, scope=OPERATOR)
            if if_empty and not was_empty:
                click.echo("The database holds trials already: no demo data loaded.")
                remind(engine)
                return
            ports = list_ports(session=session)
        files = write_demo_files(directory, ports)
        failed = False
        for file in files:
            # The European export writes 03.04.2025 for 3 April, as its users do.
            result = import_file(engine, file, scope=OPERATOR, day_first=file.suffix == ".csv")
            print_import(result)
            failed = failed or result.status == "rejected"
        if not failed:
            after_demo(engine, database_was_empty=was_empty)  # development only: the demo accounts, printed once
    if failed:
        sys.exit(1)


main.add_command(import_command)
main.add_command(profiles)
main.add_command(report)
main.add_command(demo_accounts)
