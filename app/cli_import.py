"""The `zetrials import` command and its readable report (what each sheet was read as, the review, the problems),
and `zetrials profiles`: the import profiles saved from imports' reviews."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import Engine

from importers.pipeline import ImportResult, import_file
from importers.profiles import ImportMapping, ProfileError, field_words, profile_named, visible_profiles
from trials.db import configured_engine, read_session
from trials.registry import counted
from trials.scope import Scope

#: How many problems (and kinds of problem) the readable summary lists before pointing at --json for the rest.
SHOWN_PROBLEMS = 50
#: How a person chooses the order of ambiguous text dates here.
DATE_ORDER = "import again with --day-first (03/04/2024 is 3 April) or --month-first (4 March)"


def _progress(rows: int) -> None:
    """Show how far a long import has come, on one line of the terminal."""
    click.echo(f"\r  {rows:,} rows read", err=True, nl=False)


def print_import(result: ImportResult) -> None:
    """Say what an import did: how each sheet was understood, what was skipped, and every problem."""
    counts = result.counts
    verdict = {
        "imported": f"Imported {result.filename} as batch {result.batch}",
        "duplicate": f"{result.filename} was imported already, as batch {result.batch}: nothing changed",
        "dry-run": f"Dry run of {result.filename}: it would import cleanly; nothing was written",
        "rejected": f"Rejected {result.filename}: nothing was written",
    }[result.status]
    click.echo(verdict)
    click.echo(
        f"  created {counts.created}, updated {counts.updated}, unchanged {counts.unchanged}, skipped {counts.skipped}"
    )
    for sheet in result.sheets:
        if sheet.header_row is None:
            click.echo(f"  sheet {sheet.name!r}: passed over ({sheet.ignored})")
            continue
        mapped = ", ".join(
            f"{c['header']} -> {field_words(c['field'])}"
            + (f" [{c['unit']}{', assumed' if c['unit_assumed'] else ''}]" if c["unit"] else "")
            for c in sheet.columns
        )
        click.echo(f"  sheet {sheet.name!r} ({sheet.kind}, header on row {sheet.header_row}): {mapped}")
        if sheet.kept_as_notes:
            click.echo(f"    kept as notes: {', '.join(sheet.kept_as_notes)}")
    for sheet_name, row, reason in result.skipped_rows[:SHOWN_PROBLEMS]:
        click.echo(f"  skipped {sheet_name!r} row {row}: {reason}")
    if result.review is not None:
        _print_review(result.review.as_json())
    groups = result.problem_groups(DATE_ORDER)
    for group in groups[:SHOWN_PROBLEMS]:
        click.echo(f"  problem: {group}")
    hidden = len(groups) - SHOWN_PROBLEMS
    if hidden > 0:
        click.echo(f"  ... and {hidden} more kinds of problem: run with --json to see them all")


def _print_review(review: dict[str, Any]) -> None:
    """Say what the file brings per unit and what to check, from the same JSON the API and the web page show."""
    if review["profile"]:
        click.echo(f"  profile '{review['profile']}' applied")
    for unit in review["units"][:SHOWN_PROBLEMS]:
        figures = [_total(total) for total in unit["totals"]]
        figures += [f"{r['label'].lower()} {r['value']:,.2f} {r['unit']}" for r in unit["rates"]]
        new = ", new" if unit["new"] else ""
        click.echo(
            f"  unit {unit['unit']} of {unit['trial']} ({unit['role_label']}{new}): {counted(unit['rows'], 'row')}, "
            f"{unit['first_day']} to {unit['last_day']}; {', '.join(figures)}"
        )
    hidden = len(review["units"]) - SHOWN_PROBLEMS
    if hidden > 0:
        click.echo(f"  ... and {hidden} more units: run with --json to see them all")
    for warning in review["warnings"]:
        click.echo(f"  warning: {warning['message']}")


def _total(total: dict[str, Any]) -> str:
    """One total as people read it: 'electricity 560 kWh', 'operating hours 22.5 h', 'moves 90'."""
    value = total["value"]
    figure = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    unit = "" if total["unit"] == total["label"].lower() else f" {total['unit']}"
    return f"{total['label'].lower()} {figure}{unit}"


def _profile_mapping(engine: Engine, name: str | None) -> ImportMapping | None:
    """The mappings of the profile named on the command line, if one was; an unknown name stops the command."""
    if name is None:
        return None
    with read_session(engine) as session:
        try:
            return ImportMapping.of(profile_named(session, Scope.operator(), name))
        except ProfileError as refused:
            raise click.ClickException(str(refused)) from None


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trial", "trial_code", help="Trial code for every row of a file that has no trial column.")
@click.option("--dry-run", is_flag=True, help="Check everything and report, but write nothing.")
@click.option(
    "--day-first/--month-first",
    "day_first",
    default=None,
    help="How to read ambiguous text dates such as 03/04/2024 (otherwise they are problems).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.option("--profile", "profile_name", help="Read the file with this import profile's column and value mappings.")
def import_command(
    file: Path, trial_code: str | None, dry_run: bool, day_first: bool | None, as_json: bool, profile_name: str | None
) -> None:
    """Import a workbook (.xlsx, .xlsm, .xls, .xlsb, .ods) or csv of trials and measurements: all rows or none."""
    show_progress = not as_json and sys.stderr.isatty()
    with configured_engine() as engine:
        mapping = _profile_mapping(engine, profile_name)
        result = import_file(
            engine,
            file,
            scope=Scope.operator(),
            trial_code=trial_code,
            dry_run=dry_run,
            day_first=day_first,
            progress=_progress if show_progress else None,
            mapping=mapping,
        )
    if show_progress:
        click.echo("", err=True)
    if as_json:
        click.echo(json.dumps(result.as_json(DATE_ORDER), indent=2, default=str))
    else:
        print_import(result)
    if result.status == "rejected":
        sys.exit(1)


@click.group()
def profiles() -> None:
    """See the import profiles: column and value mappings saved from imports' reviews."""


@profiles.command("list")
def profiles_list() -> None:
    """List import profiles by name: their port, the headers they apply to, and their mappings."""
    with configured_engine() as engine, read_session(engine) as session:
        found = visible_profiles(session, Scope.operator())
    if not found:
        click.echo("No import profiles yet.")
    for profile in found:
        columns = [f"{header} -> {field_words(name)}" for header, name in profile.columns.items()]
        values = [f"{raw} -> {meaning}" for table in profile.values.values() for raw, meaning in table.items()]
        click.echo(f"{profile.name} ({profile.port_locode or 'every port'}, {len(profile.headers)} headers)")
        click.echo(f"  columns: {'; '.join(columns) or 'none'}")
        click.echo(f"  values: {'; '.join(values) or 'none'}")
