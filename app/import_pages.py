"""Importing in the browser: upload, review a dry run, confirm; the history with undo. The CLI's importer."""

from __future__ import annotations

import io
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, send_file, url_for
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response as BaseResponse

from app.context import engine, require_role
from app.import_profiles import profile_rows, save_confirmed
from app.jobs import describes, queue
from importers import jobs
from importers.jobs import TooManyPending
from importers.load import UndoPlan, UndoRefused, plan_undo, undo_batch
from importers.pipeline import ImportResult
from importers.template import build_template
from reports.xlsx import Column, Properties, Sheet, SheetTable, write_xlsx
from trials.db import read_session, write_session
from trials.models import ImportJob, Role, utcnow
from trials.queries import list_import_batches, list_ports
from trials.scope import Scope

bp = Blueprint("imports", __name__, url_prefix="/imports")
EDITORS = (Role.admin, Role.editor)
ACCEPTED = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv", ".txt")
_JOB = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
#: How a person chooses the order of ambiguous text dates on these pages: the upload form's own control.
DATE_ORDER = (
    "choose day first or month first under “Text dates such as 03/04/2024 mean” on the import form, "
    "then check the file again"
)


def _job(scope: Scope, job_id: str) -> ImportJob:
    """Find a job of this editor's (reaped first if its worker died); another user's answers 404 as a missing one."""
    job = queue().status(scope, job_id) if _JOB.match(job_id) else None
    if job is None:
        abort(404)
    return job


def _status(job: ImportJob) -> dict[str, Any]:
    """What the review page and its progress indicator show of a job."""
    return {
        "state": job.status.value,
        "rows": job.rows_done,
        "filename": job.filename,
        "result": job.result,
        "error": job.error,
        "expired": jobs.expired(job, utcnow()),
    }


@describes("web")
def _result_json(result: ImportResult) -> dict[str, Any]:
    """Everything the review page shows: the API's JSON plus sheets, mapping and skipped rows."""
    return {
        **result.as_json(DATE_ORDER),
        "filename": result.filename,
        "sheets": [asdict(sheet) for sheet in result.sheets],
        "skipped_rows": result.skipped_rows,
        "problem_files": [problem.file for problem in result.problems],
        "mapping": None if result.mapping is None else result.mapping.as_json(),
    }


@bp.get("")
def index() -> str:
    """The upload form and the import history with undo buttons."""
    scope = require_role(*EDITORS)
    with read_session(engine()) as session:
        batches = list_import_batches(session=session, scope=scope)
    profiles = profile_rows(scope)
    return render_template("imports.html", batches=batches, accepted=", ".join(ACCEPTED), profiles=profiles)


def _day_first(choice: str | None) -> bool | None:
    """Read the date-order choice of the form."""
    return {"day": True, "month": False}.get(choice or "")


@bp.post("")
def upload() -> BaseResponse:
    """Keep the upload and start its dry run."""
    scope = require_role(*EDITORS)
    file = request.files.get("file")
    if file is None or not file.filename:
        flash("Choose a file to import.", "error")
        return redirect(url_for("imports.index"))
    name = secure_filename(file.filename) or "upload"
    suffix = Path(name).suffix.lower()
    if suffix not in ACCEPTED:
        flash(f"{file.filename}: ZE Trials imports {', '.join(ACCEPTED)} files; save the file as .xlsx.", "error")
        return redirect(url_for("imports.index"))
    options = {
        "via": "web",
        "dry_run": True,
        "confirmable": True,
        "trial_code": request.form.get("trial", "").strip(),
        "day_first": _day_first(request.form.get("day_order")),
    }
    try:
        job_id = queue().submit(scope, file, name, options)
    except TooManyPending as refused:
        flash(f"{file.filename}: {refused}.", "error")
        return redirect(url_for("imports.index"))
    return redirect(url_for("imports.review", job_id=job_id))


@bp.get("/<job_id>")
def review(job_id: str) -> str:
    """Follow a run's progress, then show what it found: sheets, mapping, problems, counts."""
    scope = require_role(*EDITORS)
    job = _job(scope, job_id)
    return render_template("import_review.html", job=job, status=_status(job))


@bp.get("/<job_id>/status")
def status(job_id: str) -> dict[str, Any]:
    """The run's state for the progress indicator."""
    scope = require_role(*EDITORS)
    job = _job(scope, job_id)
    return {"state": job.status.value, "rows": job.rows_done}


@bp.post("/<job_id>/confirm")
def confirm(job_id: str) -> BaseResponse:
    """Import for real what the dry run accepted."""
    scope = require_role(*EDITORS)
    job = _job(scope, job_id)
    refused = queue().confirm(scope, job.id)
    if refused is not None:
        flash(f"{refused[0].upper()}{refused[1:]}.", "error")
    else:
        save_confirmed(scope, job.id, request.form.get("profile_name", ""))
    return redirect(url_for("imports.review", job_id=job.id))


#: The problems workbook's columns: where each problem is, the value as read, and what is wrong.
PROBLEM_COLUMNS = (
    Column("File", 24),
    Column("Sheet", 16),
    Column("Row", 8, "integer"),
    Column("Column", 20),
    Column("Value", 30),
    Column("Problem", 70, "wrap"),
)


@bp.get("/<job_id>/problems.xlsx")
def problems(job_id: str) -> BaseResponse:
    """The problems of a run as a workbook, to fix the file row by row; written by the reports' writer, so text from
    the file (a value such as '=cmd|...') is stored as text and marked so (quotePrefix), never run as a formula."""
    scope = require_role(*EDITORS)
    job = _job(scope, job_id)
    result = job.result or {}
    rows = [
        (file, problem["sheet"], problem["row"], problem["column"], problem["value"], problem["message"])
        for problem, file in zip(result.get("problems", []), result.get("problem_files", []), strict=False)
    ]
    filename = job.filename
    properties = Properties(
        title=f"Problems of {filename}",
        subject="ZE Trials import problems",
        description=f"Every problem found in {filename}, by file, sheet, row and column.",
        keywords="ZE Trials; import problems",
        created=utcnow(),
    )
    buffer = io.BytesIO()
    write_xlsx(buffer, [Sheet("Problems", [SheetTable("Problems", PROBLEM_COLUMNS, rows, len(rows))])], properties)
    buffer.seek(0)
    return send_file(buffer, as_attachment=True, download_name=f"problems-{filename}.xlsx")


@bp.get("/template.xlsx")
def template() -> BaseResponse:
    """The blank import workbook, the same one `zetrials template` writes."""
    require_role(*EDITORS)
    with read_session(engine()) as session:
        ports = list_ports(session=session)
    buffer = io.BytesIO()
    build_template(ports).save(buffer)
    buffer.seek(0)
    return send_file(buffer, as_attachment=True, download_name="zetrials-import-template.xlsx")


def _visible_batch(scope: Scope, batch_id: int) -> None:
    """Answer 404 for a batch outside the editor's history, as for one that does not exist."""
    with read_session(engine()) as session:
        visible = {batch.id for batch in list_import_batches(session=session, scope=scope, limit=10_000)}
    if batch_id not in visible:
        abort(404)


@bp.post("/batches/<int:batch_id>/undo")
def undo(batch_id: int) -> BaseResponse | str:
    """Undo one batch of the history the editor may see: first say what will go and ask, then undo when confirmed."""
    scope = require_role(*EDITORS)
    _visible_batch(scope, batch_id)
    try:
        if request.form.get("confirm") != "yes":
            with read_session(engine()) as session:
                plan: UndoPlan = plan_undo(session, batch_id)
            return render_template("import_undo.html", plan=plan)
        with write_session(engine()) as session:
            plan = undo_batch(session, batch_id, actor=scope.actor)
        flash(f"Undid batch {batch_id} ({plan.filename}): {'; '.join(plan.lines(done=True))}.", "ok")
    except UndoRefused as error:
        flash(str(error), "error")
    return redirect(url_for("imports.index"))


def init_app(app: Flask) -> None:
    """Register the import pages."""
    app.register_blueprint(bp)
