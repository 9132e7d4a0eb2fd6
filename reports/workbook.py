"""Build the Excel report for a selection of trials, limited to what one viewer may see."""

from __future__ import annotations

from datetime import date, datetime
from typing import IO

from sqlmodel import Session

from reports.blocks import Properties, Sheet
from reports.comparison import comparison
from reports.cover import cover
from reports.data import ReportData, Selection, gather, snapshot
from reports.sheets import MEASUREMENT_FIELDS, data_quality, measurements, methodology
from reports.trial_sheets import monthly, trials_sheet
from reports.words import report_title
from reports.xlsx import write_xlsx
from trials.models import utcnow
from trials.queries import stream_measurements
from trials.scope import Scope

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _properties(data: ReportData) -> Properties:
    """Document properties that say what the file covers, for whom, when, and with which factors."""
    codes = [report.trial.code for report in data.trials]
    return Properties(
        title=f"ZE Trials report: {report_title(data)}",
        subject=data.scope_text,
        description=(
            f"Written {data.generated_at:%Y-%m-%d %H:%M:%S} UTC, seen as {data.viewer_text}, with emission factor set"
            f" {data.factor_set.name} (location-based grid electricity). Trials: {', '.join(codes)}."
        ),
        keywords=f"ZE Trials; factor set {data.factor_set.name}",
        created=data.generated_at,
        custom={
            "Scope": data.scope_text,
            "Viewer": data.viewer_text,
            "Generated at": data.generated_at,
            "Factor set": data.factor_set.name,
            "Trials": str(len(codes)),
        },
    )


def write_report(
    target: IO[bytes],
    *,
    session: Session,
    scope: Scope,
    selection: Selection,
    include_measurements: bool = True,
    as_of: date | None = None,
    generated_at: datetime | None = None,
) -> ReportData:
    """Write the report to a binary file and give what it holds; the session must not have read anything yet.

    Raises reports.data.NothingToReport when the selection holds no trial the viewer may see.
    """
    snapshot(session)
    data = gather(
        session=session,
        scope=scope,
        selection=selection,
        generated_at=(generated_at or utcnow()).replace(microsecond=0),
        as_of=as_of,
    )
    sheets: list[Sheet] = [cover(data), comparison(data), trials_sheet(data), monthly(data)]
    if include_measurements:
        trials = [report.trial for report in data.trials]
        fields = [name for name, _header, _style in MEASUREMENT_FIELDS]
        rows = stream_measurements(session=session, scope=scope, trials=trials, fields=fields)
        sheets.append(measurements(rows, data.measurement_rows))
    sheets += [methodology(data), data_quality(data)]
    write_xlsx(target, sheets, _properties(data))
    return data
