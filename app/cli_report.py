"""The `zetrials report` command: an Excel report as the operator sees the data (every trial of every port)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from reports.data import NothingToReport, Selection
from reports.workbook import write_report
from trials.db import database_url, make_engine, read_session
from trials.models import EquipmentClass
from trials.scope import Scope


@click.command()
@click.option("--port", help="Every trial of one port, by UN/LOCODE.")
@click.option("--trial", "trial_codes", multiple=True, help="One trial, by code; repeat the option for several.")
@click.option(
    "--class",
    "equipment_class",
    type=click.Choice([kind.value for kind in EquipmentClass]),
    help="One equipment class, compared across ports.",
)
@click.option(
    "--measurements/--no-measurements",
    default=True,
    show_default=True,
    help="Include the raw rows (the Measurements sheet).",
)
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="Date for data coverage so far.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write (.xlsx)."
)
def report(
    port: str | None,
    trial_codes: tuple[str, ...],
    equipment_class: str | None,
    measurements: bool,
    as_of: datetime | None,
    output: Path,
) -> None:
    """Write an Excel report of a port, of listed trials, or of one equipment class across ports (all must hold)."""
    if output.suffix.lower() != ".xlsx":
        raise click.UsageError("the report is an Excel workbook: name the output file *.xlsx")
    selection = Selection(
        port=port,
        equipment_class=EquipmentClass(equipment_class) if equipment_class else None,
        trial_codes=trial_codes,
    )
    partial = output.with_name(output.name + ".partial")  # a failed run never leaves a half-written report behind
    engine = make_engine(database_url())
    try:
        with read_session(engine) as session, partial.open("wb") as target:
            data = write_report(
                target,
                session=session,
                scope=Scope.operator(),
                selection=selection,
                include_measurements=measurements,
                as_of=as_of.date() if as_of else None,
            )
        partial.replace(output)
    except NothingToReport as error:
        raise click.ClickException(str(error)) from None
    finally:
        engine.dispose()
        partial.unlink(missing_ok=True)
    rows = f"{data.measurement_rows:,} measurement rows" + ("" if measurements else " (counted, not included)")
    trials = f"{len(data.trials)} trial{'' if len(data.trials) == 1 else 's'}"
    click.echo(f"Wrote {output}: {trials}, {rows}.")
