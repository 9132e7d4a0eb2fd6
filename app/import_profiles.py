"""Correcting how a file is read, in its review: columns mapped to fields and values to their meaning, checked
again with them; on confirmation saved as an import profile of the importer's port, which the imports page lists
for renaming, editing and deleting."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response as BaseResponse

from app.context import engine, require_role
from app.jobs import queue
from importers import jobs
from importers.jobs import TooManyPending
from importers.mapping import SheetKind, field_label
from importers.profiles import (
    ImportMapping,
    ProfileError,
    choices,
    delete_profile,
    field_words,
    may_edit,
    save_profile,
    update_profile,
    visible_profiles,
)
from importers.values import MEASUREMENT_SPECS, TRIAL_SPECS
from trials.db import read_session, write_session
from trials.models import ImportProfile, JobStatus, Role, utcnow
from trials.registry import label
from trials.scope import Scope

bp = Blueprint("import_profiles", __name__, url_prefix="/imports")
EDITORS = (Role.admin, Role.editor)
#: The fields a column may be mapped to, by sheet kind: the measurement and trial fields the importer reads.
FIELDS: dict[SheetKind, tuple[str, ...]] = {"measurements": tuple(MEASUREMENT_SPECS), "trials": tuple(TRIAL_SPECS)}


def field_choices(kind: SheetKind) -> list[tuple[str, str]]:
    """A sheet kind's fields as (key, words) for a column's drop-down, in the importer's own words."""
    return [(name, field_label(name, kind)) for name in FIELDS[kind]]


def meaning_choices(kind: SheetKind) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """What a value may be mapped to, by the choice field it belongs to: [(field, its words, [(value, words)])]."""
    return [
        (name, field_label(name, kind), [(value, label(value)) for value in choices(name, kind)])
        for name in FIELDS[kind]
        if choices(name, kind)
    ]


def mapping_from_form(form: MultiDict[str, str], sheets: Iterable[Mapping[str, Any]]) -> ImportMapping:
    """Read the review's mapping form: each column's field (blank: as ZE Trials reads it) and each value's meaning
    (blank: as written), filed under the field its column now holds."""
    columns = {
        header: name
        for header, name in zip(form.getlist("header"), form.getlist("field"), strict=False)
        if header and name
    }
    read_as = {column["header"]: column["field"] for sheet in sheets for column in sheet.get("columns", [])}
    values: dict[str, dict[str, str]] = {}
    triples = zip(form.getlist("value_column"), form.getlist("value_raw"), form.getlist("value_meaning"), strict=False)
    for header, raw, meaning in triples:
        name = columns.get(header) or read_as.get(header)
        if name and raw and meaning:
            values.setdefault(name, {})[raw] = meaning
    found = ImportMapping.from_json({"columns": columns, "values": values})
    return found if found is not None else ImportMapping()


def _visible_job(scope: Scope, job_id: str) -> dict[str, Any]:
    """A job's result as its owner sees it; another's is as missing as one never made."""
    with read_session(engine()) as session:
        job = jobs.visible_job(session, scope, job_id)
        if job is None:
            abort(404)
        return {"result": job.result or {}, "options": dict(job.options)}


@bp.post("/<job_id>/recheck")
def recheck(job_id: str) -> BaseResponse:
    """Check the file again with the mapping the person chose; an upload no longer kept must be chosen again."""
    scope = require_role(*EDITORS)
    found = _visible_job(scope, job_id)
    mapping = mapping_from_form(request.form, found["result"].get("sheets", []))
    with write_session(engine()) as session:
        job = jobs.visible_job(session, scope, job_id)
        if job is None:
            abort(404)
        if job.status in (JobStatus.queued, JobStatus.running):
            return redirect(url_for("imports.review", job_id=job_id))  # it is being checked already
        kept = not jobs.expired(job, utcnow())
        if kept:
            jobs.queue_import(session, job)
            job.dry_run, job.options = True, {**job.options, "mapping": mapping.as_json()}
    if kept:
        queue().enqueue(job_id)
        return redirect(url_for("imports.review", job_id=job_id))
    return _check_again(scope, job_id, {**found["options"], "mapping": mapping.as_json()})


def _check_again(scope: Scope, job_id: str, options: dict[str, Any]) -> BaseResponse:
    """Check a file chosen again (its first upload was not kept) with the mapping, as a new upload."""
    file = request.files.get("file")
    if file is None or not file.filename:
        flash("This upload is no longer kept: choose the file again to check it with your mapping.", "error")
        return redirect(url_for("imports.review", job_id=job_id))
    name = secure_filename(file.filename) or "upload"
    try:
        new_id = queue().submit(scope, file, name, {**options, "dry_run": True})
    except TooManyPending as refused:
        flash(f"{file.filename}: {refused}.", "error")
        return redirect(url_for("imports.review", job_id=job_id))
    return redirect(url_for("imports.review", job_id=new_id))


def save_confirmed(scope: Scope, job_id: str, name: str) -> None:
    """After a confirmation, save the mapping the file was checked with as a profile, if the person named one: a new
    one, or the same-named one of their port, changed."""
    if not name.strip():
        return
    found = _visible_job(scope, job_id)
    mapping = ImportMapping.from_json(found["options"].get("mapping"))
    if not mapping:
        flash("There was no mapping to save as a profile: map a column or a value, then check the file again.", "error")
        return
    sheets = [sheet for sheet in found["result"].get("sheets", []) if sheet.get("header_row")]
    mapped = [sheet for sheet in sheets if set(sheet.get("headers", [])) & set(mapping.columns)] or sheets
    try:
        with write_session(engine()) as session:
            same = [
                p for p in visible_profiles(session, scope) if p.name.casefold() == " ".join(name.split()).casefold()
            ]
            if same and may_edit(scope, same[0]) and same[0].id is not None:
                profile = update_profile(session, scope, same[0].id, name=name, mapping=mapping)
            else:
                headers = mapped[0].get("headers", []) if mapped else []
                profile = save_profile(session, scope, name=name, headers=headers, mapping=mapping)
            saved = profile.name
    except ProfileError as refused:
        flash(f"The profile was not saved: {refused}.", "error")
        return
    flash(f"Saved import profile '{saved}': the next file with the same headers is read with it.", "ok")


def profile_rows(scope: Scope) -> list[dict[str, Any]]:
    """The profiles the imports page lists for this importer, with whether they may change each."""
    with read_session(engine()) as session:
        return [_row(scope, profile) for profile in visible_profiles(session, scope)]


def _row(scope: Scope, profile: ImportProfile) -> dict[str, Any]:
    """One profile as the pages show it: its mappings in words, and as keys for its edit form."""
    return {
        "id": profile.id,
        "name": profile.name,
        "port": profile.port_locode,
        "headers": list(profile.headers),
        "columns": [(header, field_words(name)) for header, name in profile.columns.items()],
        "column_fields": dict(profile.columns),
        "values": [
            (raw, label(meaning), field_words(name))
            for name, table in profile.values.items()
            for raw, meaning in table.items()
        ],
        "value_fields": [
            (name, raw, meaning) for name, table in profile.values.items() for raw, meaning in table.items()
        ],
        "updated_at": profile.updated_at,
        "editable": may_edit(scope, profile),
    }


def _editable_row(scope: Scope, profile_id: int) -> dict[str, Any]:
    """A profile the importer may change, for its edit page; any other answers 404."""
    with read_session(engine()) as session:
        profile = session.get(ImportProfile, profile_id)
        if profile is None or profile not in visible_profiles(session, scope) or not may_edit(scope, profile):
            abort(404)
        return _row(scope, profile)


@bp.get("/profiles/<int:profile_id>")
def edit(profile_id: int) -> str:
    """The form to rename a profile and change its column and value mappings (to fields of either kind of sheet,
    since a profile may have been saved from a Trials sheet)."""
    scope = require_role(*EDITORS)
    row = _editable_row(scope, profile_id)
    fields = field_choices("measurements")
    fields += [(key, words) for key, words in field_choices("trials") if key not in MEASUREMENT_SPECS]
    meanings = meaning_choices("measurements")
    meanings += [group for group in meaning_choices("trials") if group[0] not in MEASUREMENT_SPECS]
    return render_template("import_profile.html", profile=row, fields=fields, meanings=meanings)


@bp.post("/profiles/<int:profile_id>")
def save(profile_id: int) -> BaseResponse:
    """Save a profile's new name and mappings, audited; a bad name keeps the form's page with the reason."""
    scope = require_role(*EDITORS)
    row = _editable_row(scope, profile_id)
    fields = [{"header": name, "field": name} for name in {*MEASUREMENT_SPECS, *TRIAL_SPECS}]  # a value line's field
    sheets = [{"columns": fields + [{"header": h, "field": f} for h, f in row["column_fields"].items()]}]
    mapping = mapping_from_form(request.form, sheets)
    try:
        with write_session(engine()) as session:
            update_profile(session, scope, profile_id, name=request.form.get("name", ""), mapping=mapping)
    except ProfileError as refused:
        flash(f"{str(refused)[0].upper()}{str(refused)[1:]}.", "error")
        return redirect(url_for("import_profiles.edit", profile_id=profile_id))
    flash("Saved the import profile.", "ok")
    return redirect(url_for("imports.index", _anchor="profiles"))


@bp.post("/profiles/<int:profile_id>/delete")
def delete(profile_id: int) -> BaseResponse:
    """Delete a profile (kept in the audit log); files are then read as written again."""
    scope = require_role(*EDITORS)
    _editable_row(scope, profile_id)
    with write_session(engine()) as session:
        name = delete_profile(session, scope, profile_id)
    flash(f"Deleted import profile '{name}'.", "ok")
    return redirect(url_for("imports.index", _anchor="profiles"))


@bp.app_context_processor
def mapping_words() -> dict[str, Any]:
    """Give the review page the words of fields and of the values they may be mapped to."""
    return {"mapping_fields": field_choices, "mapping_meanings": meaning_choices, "mapping_words": field_label}


def init_app(app: Flask) -> None:
    """Register the mapping and profile pages."""
    app.register_blueprint(bp)
