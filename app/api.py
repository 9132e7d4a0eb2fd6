"""The JSON API under /api/v1: the same scope as every page, signed by session cookie or bearer token."""

from __future__ import annotations

import json
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, TypeVar

from flask import Blueprint, Flask, Response, current_app, request, url_for
from sqlmodel import Session
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import NotFound, TooManyRequests
from werkzeug.utils import secure_filename

from app import openapi
from app.context import engine, require_role
from app.jobs import describes, queue
from app.params import MAX_PAGE, BadParameter, a_date, whole_number
from importers.jobs import TooManyPending
from importers.load import MEASURED_FIELDS, PROVENANCE
from importers.pipeline import ImportResult, import_file
from importers.profiles import ImportMapping, ProfileError, profile_named
from trials.baselines import RATE_AMOUNT_UNIT
from trials.db import read_session
from trials.metrics import METRIC_UNITS
from trials.models import EquipmentClass, ImportJob, Measurement, Port, Role, Technology, Trial, TrialStatus, Unit
from trials.queries import get_trial, list_import_batches, list_measurements, list_ports, list_trials
from trials.results import trial_metrics
from trials.scope import Scope

bp = Blueprint("api", __name__, url_prefix="/api/v1")

#: Reading is for every signed-in role; bringing data in is for admins and editors.
READERS = tuple(Role)
IMPORTERS = (Role.admin, Role.editor)
#: The one answer for a trial that does not exist and for one the viewer may not see, so neither can be told apart.
NO_SUCH_TRIAL = "no such trial"
_FLAGS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}

E = TypeVar("E", bound=StrEnum)


def _json(payload: object, status: int = 200) -> Response:
    """Answer with JSON in the order it was built (jsonify sorts keys, scrambling the METHODOLOGY.md order)."""
    return current_app.response_class(json.dumps(payload), status=status, mimetype="application/json")


def _choice(name: str, kind: type[E]) -> E | None:
    """Read an optional query parameter that must be one of an enum's values."""
    text = request.args.get(name)
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        raise BadParameter(name, f"must be one of {', '.join(openapi.enum_values(kind))}") from None


def _flag(name: str) -> bool | None:
    """Read an optional yes/no form field, spelled exactly as the document lists; absent or empty gives None."""
    text = request.form.get(name, "")
    if not text:
        return None
    if text not in _FLAGS:
        raise BadParameter(name, "must be true or false")
    return _FLAGS[text]


def _basis() -> Literal["location", "market"]:
    """Read which grid factors the emissions use: location-based (default) or the trial's market-based one."""
    text = request.args.get("basis", "location")
    if text == "location":
        return "location"
    if text == "market":
        return "market"
    raise BadParameter("basis", "must be location or market")


def _port(session: Session) -> str | None:
    """Read the optional port filter; ports are public reference data, so an unknown one may be named as such."""
    locode = request.args.get("port")
    if locode is not None and session.get(Port, locode) is None:
        raise BadParameter("port", f"unknown UN/LOCODE {locode!r}")
    return locode


def _visible_trial(session: Session, scope: Scope, code: str) -> Trial:
    """Find a trial the viewer may see, else stop with the same 404 whether it is hidden or absent."""
    trial = get_trial(session=session, scope=scope, code=code)
    if trial is None:
        raise NotFound(NO_SUCH_TRIAL)
    return trial


def _measurement_json(row: Measurement, unit: Unit) -> dict[str, Any]:
    """Give one measurement with its unit's own id and role, every measured field, and where it came from."""
    return {
        "unit_id": unit.unit_id,
        "role": unit.role.value,
        "period_start": row.period_start.isoformat(),
        "period_end": row.period_end.isoformat(),
        **{name: getattr(row, name) for name in MEASURED_FIELDS},
        "provenance": {name: getattr(row, name) for name in PROVENANCE},
    }


@bp.get("/ports")
def ports() -> Response:
    """List the partner ports, reference data every signed-in viewer may read."""
    require_role(*READERS)
    with read_session(engine()) as session:
        return _json({"items": [port.model_dump(mode="json") for port in list_ports(session=session)]})


@bp.get("/trials")
def trials() -> Response:
    """List the trials the viewer may see, filtered by port, equipment class, technology and status."""
    scope = require_role(*READERS)
    equipment_class = _choice("class", EquipmentClass)
    technology = _choice("technology", Technology)
    status = _choice("status", TrialStatus)
    with read_session(engine()) as session:
        found = list_trials(
            session=session,
            scope=scope,
            port=_port(session),
            equipment_class=equipment_class,
            technology=technology,
            status=status,
        )
    return _json({"items": [trial.model_dump(mode="json") for trial in found]})


@bp.get("/trials/<code>")
def trial(code: str) -> Response:
    """Show every field of one trial the viewer may see."""
    scope = require_role(*READERS)
    with read_session(engine()) as session:
        return _json(_visible_trial(session, scope, code).model_dump(mode="json"))


@bp.get("/trials/<code>/measurements")
def measurements(code: str) -> Response:
    """Page through one visible trial's measurements, oldest first, with their provenance."""
    scope = require_role(*READERS)
    page = whole_number("page", 1, highest=MAX_PAGE)
    per_page = whole_number("per_page", openapi.PER_PAGE_DEFAULT, highest=openapi.PER_PAGE_MAX)
    with read_session(engine()) as session:
        found = _visible_trial(session, scope, code)
        rows, total = list_measurements(
            session=session, scope=scope, trial=found, offset=(page - 1) * per_page, limit=per_page
        )
    return _json(
        {
            "items": [_measurement_json(row, unit) for row, unit in rows],
            "page": page,
            "per_page": per_page,
            "total": total,
            "units": openapi.MEASUREMENT_UNITS,
        }
    )


@bp.get("/trials/<code>/metrics")
def metrics(code: str) -> Response:
    """Give one visible trial's METHODOLOGY.md §3 metrics with their units, baseline and factor set."""
    scope = require_role(*READERS)
    basis = _basis()
    as_of = a_date("as_of")
    with read_session(engine()) as session:
        found = _visible_trial(session, scope, code)
        result = trial_metrics(session=session, scope=scope, trial=found, basis=basis, as_of=as_of)
    baseline = result.baseline
    return _json(
        {
            "trial": found.code,
            "factor_set": result.factor_set,
            "basis": result.basis,
            "baseline": None
            if baseline is None
            else {
                "kind": baseline.kind.value,
                "method": baseline.method,
                "rate": baseline.rate,
                "rate_unit": f"{RATE_AMOUNT_UNIT[baseline.kind]}/{baseline.activity.value}",
                "litres_per_activity": baseline.litres_per_activity,
                "activity": baseline.activity.value,
                "thin": baseline.thin,
            },
            "metrics": {key: value for key, value in result.as_json().items() if key != "checks"},
            "units": METRIC_UNITS,
            "flags": list(result.flags),
            "checks": [check.as_json() for check in result.checks],
            "factor_years": {str(year): used for year, used in result.factor_years.items()},
            "hydrogen_factor_kg_per_kg": result.hydrogen_factor_kg_per_kg,
            "clean_hydrogen": result.clean_hydrogen,
        }
    )


@bp.get("/imports")
def imports() -> Response:
    """List the import batches the viewer may see, newest first."""
    scope = require_role(*READERS)
    with read_session(engine()) as session:
        batches = list_import_batches(session=session, scope=scope)
    return _json({"items": [batch.model_dump(mode="json") for batch in batches]})


#: How an API client chooses the order of ambiguous text dates.
DATE_ORDER = "send the form field day_first=true (03/04/2024 is 3 April) or day_first=false (4 March)"


@describes("api")
def _import_json(result: ImportResult) -> dict[str, Any]:
    """What an API job's result holds: the JSON of the synchronous answer."""
    return result.as_json(DATE_ORDER)


def _job_json(job: ImportJob) -> dict[str, Any]:
    """An import job as its submitter follows it: state, rows read, and the import's JSON once done."""
    stamps = ("created_at", "started_at", "finished_at")
    return {
        "id": job.id,
        "url": url_for("api.import_job", job_id=job.id),
        "status": job.status.value,
        "filename": job.filename,
        "dry_run": job.dry_run,
        "rows_done": job.rows_done,
        **{name: None if getattr(job, name) is None else getattr(job, name).isoformat() for name in stamps},
        "error": job.error,
        "result": job.result,
    }


def _queue_import(scope: Scope, upload: FileStorage, display_name: str, options: dict[str, Any]) -> Response:
    """Queue an upload as a job and answer 202 with where to follow it."""
    try:
        job_id = queue().submit(scope, upload, display_name, {"via": "api", **options})
    except TooManyPending as refused:
        raise TooManyRequests(str(refused)) from None
    job = queue().status(scope, job_id)
    assert job is not None
    answer = _json(_job_json(job), status=202)
    answer.headers["Location"] = url_for("api.import_job", job_id=job_id)
    return answer


@bp.get("/imports/jobs/<job_id>")
def import_job(job_id: str) -> Response:
    """Follow an import job: only its submitter (and admins) may; anyone else gets the 404 of a missing one."""
    scope = require_role(*IMPORTERS)
    job = queue().status(scope, job_id)
    if job is None:
        raise NotFound("no such import job")
    return _json(_job_json(job))


@bp.post("/imports")
def create_import() -> Response:
    """Import an uploaded file through the same pipeline as `zetrials import`, answering with the same JSON; with
    `?async=true`, queue it as a job and answer 202 with the job to follow."""
    scope = require_role(*IMPORTERS)
    queued = _FLAGS.get(request.args.get("async", "false"))
    if queued is None:
        raise BadParameter("async", "must be true or false")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadParameter("file", "attach the workbook or csv as the multipart form field 'file'")
    trial_code = request.form.get("trial") or None
    dry_run = _flag("dry_run") or False
    day_first = _flag("day_first")
    mapping = _profile(scope, request.form.get("profile"))
    # The client's file name is only shown (in problems and the batch list), never used as a path.
    display_name = secure_filename(upload.filename) or "upload"
    if queued and not _holds_bytes(upload):
        queued = False  # nothing to queue: an empty file is rejected at once, 422, as the document says
    if queued:
        options = {"trial_code": trial_code, "dry_run": dry_run, "day_first": day_first}
        return _queue_import(scope, upload, display_name, options | ({"mapping": mapping.as_json()} if mapping else {}))
    with tempfile.TemporaryDirectory(prefix="zetrials-upload-") as folder:
        path = Path(folder) / "upload"
        upload.save(path)
        result = import_file(
            engine(),
            path,
            scope=scope,
            display_name=display_name,
            trial_code=trial_code,
            dry_run=dry_run,
            day_first=day_first,
            mapping=mapping,
        )
    return _json(result.as_json(DATE_ORDER), status=422 if result.status == "rejected" else 200)


def _holds_bytes(upload: FileStorage) -> bool:
    """Tell whether an upload holds at least one byte, leaving it to be read from the start."""
    first = upload.stream.read(1)
    upload.stream.seek(0)
    return bool(first)


def _profile(scope: Scope, name: str | None) -> ImportMapping | None:
    """The import profile a client names, among those its user may apply; none named, none (a profile saved for the
    file's headers then applies by itself)."""
    if not name:
        return None
    with read_session(engine()) as session:
        try:
            return ImportMapping.of(profile_named(session, scope, name))
        except ProfileError as refused:
            raise BadParameter("profile", str(refused)) from None


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """Serve the API's OpenAPI 3.1 document, which the tests hold every real answer to."""
    require_role(*READERS)
    return _json(openapi.document(session_cookie=current_app.config["SESSION_COOKIE_NAME"]))


def init_app(app: Flask) -> None:
    """Register the API; app.errors answers its errors in JSON."""
    app.register_blueprint(bp)
