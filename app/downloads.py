"""Excel report downloads: a port, one trial, or one equipment class across ports, always as the viewer sees them."""

from __future__ import annotations

import re
import tempfile

from flask import Blueprint, Flask, Response, abort, request, send_file

from app.context import current_scope, engine
from app.jobs import queue
from reports.data import NothingToReport, Selection
from reports.workbook import XLSX_MIMETYPE, write_report
from trials.db import read_session
from trials.models import EquipmentClass

bp = Blueprint("downloads", __name__, url_prefix="/reports")

#: Query values that ask for the raw rows (the Measurements sheet), which are left out unless asked for.
YES = frozenset({"1", "true", "yes", "on"})


def _send_report(kind: str, name: str, selection: Selection) -> Response:
    """Write the viewer's report to a temporary file, audit the download and send it; nothing visible is a 404."""
    scope = current_scope()
    include_measurements = request.args.get("measurements", "").lower() in YES
    report = tempfile.TemporaryFile()  # gone once the response has been sent and closes it
    try:
        with read_session(engine()) as session:
            data = write_report(
                report, session=session, scope=scope, selection=selection, include_measurements=include_measurements
            )
    except NothingToReport:
        report.close()
        abort(404)
    except BaseException:
        report.close()
        raise
    queue().record_audit(  # at once, or by the queue while an import holds SQLite's write lock
        actor=scope.actor,
        action="report.download",
        object=f"report:{kind}:{name}",
        after={
            "trials": [each.trial.code for each in data.trials],
            "measurements": data.measurement_rows if include_measurements else 0,
        },
    )
    report.seek(0)
    safe_name = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
    response = send_file(
        report,
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"zetrials-{kind}-{safe_name}-{data.generated_at:%Y-%m-%d}.xlsx",
    )
    response.headers["Cache-Control"] = "private, no-store"  # partner data stays out of shared caches
    return response


@bp.get("/port/<locode>.xlsx")
def port_report(locode: str) -> Response:
    """Download the report of a port's trials that the viewer may see."""
    return _send_report("port", locode.upper(), Selection(port=locode.upper()))


@bp.get("/trial/<code>.xlsx")
def trial_report(code: str) -> Response:
    """Download the report of one trial the viewer may see."""
    return _send_report("trial", code, Selection(trial_codes=(code,)))


@bp.get("/compare/<equipment_class>.xlsx")
def compare_report(equipment_class: str) -> Response:
    """Download the comparison of one equipment class across the ports whose trials the viewer may see."""
    if equipment_class not in EquipmentClass.__members__:
        abort(404)
    return _send_report("compare", equipment_class, Selection(equipment_class=EquipmentClass(equipment_class)))


def init_app(app: Flask) -> None:
    """Register the downloads."""
    app.register_blueprint(bp)
