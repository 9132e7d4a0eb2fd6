"""Trial logging in the browser: forms that create and edit trials and their units; `/trials/<code>` leads to the
trial's one page, the dashboard's.

The forms check types; the rules a trial obeys are the importer's own (importers.validate.trial_problems), so a
trial typed in the browser and one read from a Trials sheet pass or fail alike.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlmodel import Session, col, func, select
from werkzeug.wrappers import Response as BaseResponse
from wtforms import (
    DateField,
    Field,
    FloatField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import NumberRange, Optional, ValidationError

from app.context import current_scope, engine, require_role
from app.shell import HOME
from importers.validate import trial_fields, trial_problems
from importers.values import Invalid, clean_code, clean_free_text
from trials import audit
from trials.db import read_session, write_session
from trials.models import (
    BaselineKind,
    EngineStandard,
    EquipmentClass,
    HydrogenPathway,
    Measurement,
    Port,
    Role,
    Technology,
    Trial,
    TrialStatus,
    Unit,
    UnitRole,
    Visibility,
    utcnow,
)
from trials.queries import get_trial, list_ports
from trials.registry import label
from trials.scope import Scope

bp = Blueprint("trial_pages", __name__, url_prefix="/trials")
EDITORS = (Role.admin, Role.editor)


def _finite(_form: FlaskForm, field: Field) -> None:
    """Refuse NaN and infinity, which float() accepts but no measurement or rate can be."""
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError("expected a real number")


def _tidy(value: object) -> object:
    """Tidy typed text as the importer tidies a cell (invisible characters out, spaces collapsed, blank is None)."""
    return clean_free_text(value) if isinstance(value, str) else value


#: The first option of a choice the trial must make, so that forgetting it is an error, not a silent default.
CHOOSE = SelectChoice("", "choose…")


def _choices(kind: type[StrEnum]) -> list[SelectChoice]:
    """Offer an enumeration's values, readable, in the model's order."""
    return [SelectChoice(member.value, label(member)) for member in kind]


class TrialForm(FlaskForm):
    """A trial's fields, typed; what they must satisfy together is checked by the importer's rules."""

    code = StringField("Code", filters=[_tidy], description="e.g. LGB-YT-01; it cannot change later")
    name = StringField("Name", filters=[_tidy])
    port = SelectField("Port", validate_choice=False)  # an unknown port gets the importer's message
    terminal = StringField("Terminal", filters=[_tidy])
    equipment_class = SelectField("Equipment class", choices=[CHOOSE, *_choices(EquipmentClass)])
    technology = SelectField("Technology", choices=[CHOOSE, *_choices(Technology)])
    units_planned = IntegerField("Units planned", validators=[Optional(), NumberRange(min=0)])
    start_date = DateField("Start date", validators=[Optional()])
    end_date = DateField("End date (last day, inclusive)", validators=[Optional()])
    status = SelectField("Status", choices=_choices(TrialStatus))
    visibility = SelectField(
        "Visibility", choices=_choices(Visibility), description="who may see it besides its own port"
    )
    vendor = StringField("Vendor", filters=[_tidy])
    model = StringField("Model", filters=[_tidy])
    funding = StringField("Funding", filters=[_tidy])
    baseline_kind = SelectField(
        "Compared against",
        choices=_choices(BaselineKind),
        validate_choice=False,  # an unknown kind gets the importer's message
        description="diesel machines; electric ones (e.g. STS cranes); or none, with no avoided figures",
    )
    baseline_rate = FloatField(
        "Declared baseline rate",
        validators=[Optional(), _finite],
        description="diesel (kWh for an electric baseline) per unit of work; a rate measured on baseline units is "
        "preferred when there is one",
    )
    baseline_unit = StringField(
        "Baseline rate unit", filters=[_tidy], description="e.g. L/h, gal/mi, L/move, kWh/move; never per year"
    )
    baseline_source = StringField(
        "Baseline source", filters=[_tidy], description="e.g. OEM spec, terminal fuel records 2023"
    )
    rated_power_kw = FloatField(
        "Rated power of the diesel machine (kW)", validators=[Optional(), NumberRange(min=0), _finite]
    )
    load_factor = FloatField("Load factor (0-1, blank for the class default)", validators=[Optional(), _finite])
    baseline_engine = SelectField(
        "Engine standard of the diesel machine replaced",
        choices=[SelectChoice("", "class default"), *_choices(EngineStandard)],
        validate_choice=False,
    )
    hydrogen_pathway = SelectField(
        "Hydrogen pathway",
        choices=[SelectChoice("", "not stated (grey assumed)"), *_choices(HydrogenPathway)],
        validate_choice=False,
    )
    hydrogen_factor_kg_per_kg = FloatField(
        "Declared hydrogen factor (kg CO2e/kg)",
        validators=[Optional(), _finite],
        description="only with the pathway 'declared'",
    )
    hydrogen_factor_source = StringField(
        "Hydrogen factor source", filters=[_tidy], description="e.g. the supplier's certificate of origin"
    )
    market_factor_g_per_kwh = FloatField(
        "Market-based grid factor (g CO2e/kWh)", validators=[Optional(), NumberRange(min=0), _finite]
    )
    notes = TextAreaField("Notes", filters=[_tidy])


class UnitForm(FlaskForm):
    """One machine to add to a trial: its own id and whether it is under trial or a diesel comparator."""

    unit_id = StringField("Unit id", description="serial, VIN or hull number")
    role = SelectField("Role", choices=_choices(UnitRole))


def _trial_or_404(session: Session, scope: Scope, code: str) -> Trial:
    """Find a trial the viewer may see; one outside the scope is exactly as absent as a missing one."""
    trial = get_trial(session=session, scope=scope, code=code)
    if trial is None:
        abort(404)
    return trial


def _editable_or_abort(session: Session, scope: Scope, code: str) -> Trial:
    """Find a trial the viewer may edit: 404 if they may not see it, 403 if they may only see it."""
    trial = _trial_or_404(session, scope, code)
    if not scope.can_edit(trial):
        abort(403)
    return trial


def _offer_ports(form: TrialForm, ports: list[Port], scope: Scope) -> None:
    """List the ports the viewer may create trials at: an editor with a port gets only theirs."""
    allowed = [port for port in ports if scope.port_locode in (None, port.locode)]
    blank = [] if scope.port_locode else [CHOOSE]
    form.port.choices = blank + [SelectChoice(port.locode, f"{port.locode} {port.name}") for port in allowed]


def _checked_fields(form: TrialForm, ports: list[Port], code: str | None = None) -> dict[str, Any] | None:
    """Give the trial's fields if the form passes its types and the importer's rules, else put messages by fields."""
    form.validate()
    values = {name: None if value == "" else value for name, value in form.data.items() if name != "csrf_token"}
    if code is not None:
        values["code"] = code
    typed_badly = {name for name, field in form._fields.items() if field.errors}
    for name, message in trial_problems(values, ports, typed_badly).items():
        if name == "code" and code is not None:
            continue  # a stored trial's code never changes, even if it predates the rules on codes
        form[name].errors = [*form[name].errors, message]
    if any(field.errors for field in form._fields.values()):
        return None
    return trial_fields(values, ports)


def _may_edit_or_abort(scope: Scope, fields: dict[str, Any]) -> None:
    """Refuse a trial the viewer could not edit once saved: an editor with a port keeps to their port."""
    if not scope.can_edit(Trial(**fields)):
        abort(403)


def _units(session: Session, trial: Trial) -> list[tuple[Unit, int]]:
    """List a trial's units with how many measurements each has, since those with data cannot be removed."""
    query = (
        select(Unit, func.count(col(Measurement.id)))
        .outerjoin(Measurement, col(Measurement.unit_id) == col(Unit.id))
        .where(Unit.trial_id == trial.id)
        .group_by(col(Unit.id))
        .order_by(col(Unit.role), col(Unit.unit_id))
    )
    return [(unit, count) for unit, count in session.exec(query)]


def dashboard_page(code: str) -> str:
    """The address of a trial's one page, the dashboard's, its code quoted whole."""
    return f"{HOME}trials/{quote(code, safe='')}"


@bp.get("/<code>")
def detail(code: str) -> BaseResponse:
    """Lead to the trial's page on the dashboard, keeping the query (e.g. `?factors=`); a trial the viewer may not
    see answers 404 here exactly as a missing one."""
    with read_session(engine()) as session:
        _trial_or_404(session, current_scope(), code)
    query = request.query_string.decode("latin-1")  # the bytes as they came, percent-encoded
    return redirect(f"{dashboard_page(code)}?{query}" if query else dashboard_page(code))


@bp.route("/new", methods=["GET", "POST"])
def new() -> str | tuple[str, int] | BaseResponse:
    """Create a trial; an editor with a port creates trials at that port only."""
    scope = require_role(*EDITORS)
    with read_session(engine()) as session:
        ports = list_ports(session=session)
    form = TrialForm()
    _offer_ports(form, ports, scope)
    if request.method == "GET":
        form.port.data = scope.port_locode
        return render_template("trial_form.html", form=form, trial=None)
    fields = _checked_fields(form, ports)
    if fields is not None:
        _may_edit_or_abort(scope, fields)
        outside = scope.code_refusal(fields["code"])  # decided before any lookup of the code
        if outside is not None:
            form.code.errors = [*form.code.errors, outside]
            return render_template("trial_form.html", form=form, trial=None), 400
        try:
            with write_session(engine()) as session:
                trial = Trial(**fields)
                session.add(trial)
                session.flush()
                audit.record(
                    session,
                    actor=scope.actor,
                    action="trial.create",
                    object=f"trial:{trial.code}",
                    after=trial.model_dump(mode="json", include=set(fields)),
                )
        except sa.exc.IntegrityError:
            form.code.errors = [*form.code.errors, "another trial has this code already; choose another"]
        else:
            flash(f"Trial {trial.code} created. Add its units below.", "ok")
            return redirect(url_for("trial_pages.edit", code=trial.code))
    return render_template("trial_form.html", form=form, trial=None), 400


def _edit_page(
    session: Session, trial: Trial, form: TrialForm, unit_form: UnitForm, status: int = 200
) -> tuple[str, int]:
    """Render the edit page: the trial's form and its units, with whatever messages the forms carry."""
    units = _units(session, trial)
    page = render_template(
        "trial_form.html",
        form=form,
        trial=trial,
        unit_form=unit_form,
        units=units,
        page=dashboard_page(trial.code),
        label=label,
    )
    return page, status


def _edit_form(trial: Trial, ports: list[Port], scope: Scope, *, posted: bool) -> TrialForm:
    """Build the trial form, posted or filled from the trial, without the code: it names the trial for good."""
    form = TrialForm() if posted else TrialForm(formdata=None, obj=trial, port=trial.port_locode)
    del form.code
    _offer_ports(form, ports, scope)
    return form


@bp.route("/<code>/edit", methods=["GET", "POST"])
def edit(code: str) -> tuple[str, int] | BaseResponse:
    """Edit a trial's fields, status, baseline and visibility; every change is audited with before and after."""
    scope = require_role(*EDITORS)
    posted = request.method == "POST"
    with read_session(engine()) as session:
        trial = _editable_or_abort(session, scope, code)
        ports = list_ports(session=session)
        form = _edit_form(trial, ports, scope, posted=posted)
        fields = _checked_fields(form, ports, code=trial.code) if posted else None
        if fields is None:
            return _edit_page(session, trial, form, UnitForm(formdata=None), 400 if posted else 200)
    _may_edit_or_abort(scope, fields)
    with write_session(engine()) as session:
        stored = _editable_or_abort(session, scope, code)
        before = stored.model_dump(mode="json", include=set(fields))
        for name, value in fields.items():
            setattr(stored, name, value)
        after = stored.model_dump(mode="json", include=set(fields))
        changed = sorted(name for name in fields if before[name] != after[name])
        if changed:
            stored.updated_at = utcnow()
            session.add(stored)
            audit.record(
                session,
                actor=scope.actor,
                action="trial.update",
                object=f"trial:{code}",
                before={name: before[name] for name in changed},
                after={name: after[name] for name in changed},
            )
    flash(f"Trial {code} saved." if changed else f"Trial {code}: nothing changed.", "ok")
    return redirect(url_for("trial_pages.edit", code=code))


def _new_unit_id(session: Session, trial: Trial, form: UnitForm) -> str | None:
    """Give the unit id to add, read by the importer's rules for unit ids, or None with a message by the field."""
    form.validate()
    unit_id = clean_code(form.unit_id.data)
    if isinstance(unit_id, Invalid) or unit_id is None:
        message = unit_id.message if isinstance(unit_id, Invalid) else "a unit needs its id"
        form.unit_id.errors = [*form.unit_id.errors, message]
    elif session.exec(select(Unit).where(Unit.trial_id == trial.id, Unit.unit_id == unit_id)).first() is not None:
        form.unit_id.errors = [*form.unit_id.errors, f"unit {unit_id!r} is in this trial already"]
    return None if form.errors or not isinstance(unit_id, str) else unit_id


@bp.post("/<code>/units")
def add_unit(code: str) -> tuple[str, int] | BaseResponse:
    """Add a unit under trial or a baseline unit, whose diesel figures give the measured baseline."""
    scope = require_role(*EDITORS)
    unit_form = UnitForm()
    with read_session(engine()) as session:
        trial = _editable_or_abort(session, scope, code)
        unit_id = _new_unit_id(session, trial, unit_form)
        if unit_id is None:
            form = _edit_form(trial, list_ports(session=session), scope, posted=False)
            return _edit_page(session, trial, form, unit_form, 400)
    role = UnitRole(unit_form.role.data)
    try:
        with write_session(engine()) as session:
            trial = _editable_or_abort(session, scope, code)
            session.add(Unit(trial_id=trial.id or 0, unit_id=unit_id, role=role))
            session.flush()
            audit.record(
                session,
                actor=scope.actor,
                action="unit.add",
                object=f"trial:{code}",
                after={"unit_id": unit_id, "role": role.value},
            )
    except sa.exc.IntegrityError:
        flash(f"Unit {unit_id} was added by someone else meanwhile.", "error")
    else:
        flash(f"Unit {unit_id} added.", "ok")
    return redirect(url_for("trial_pages.edit", code=code))


@bp.post("/<code>/units/<int:unit_pk>/remove")
def remove_unit(code: str, unit_pk: int) -> BaseResponse:
    """Remove a unit that has no measurements; one with data keeps it, so figures never lose their inputs."""
    scope = require_role(*EDITORS)
    with write_session(engine()) as session:
        trial = _editable_or_abort(session, scope, code)
        unit = session.get(Unit, unit_pk)
        if unit is None or unit.trial_id != trial.id:
            abort(404)
        measured = session.exec(select(func.count()).where(Measurement.unit_id == unit.id)).one()
        if measured:
            flash(
                f"Unit {unit.unit_id} has {measured} measurement(s) and cannot be removed; "
                "undo the import that brought them first.",
                "error",
            )
        else:
            session.delete(unit)
            audit.record(
                session,
                actor=scope.actor,
                action="unit.remove",
                object=f"trial:{code}",
                before={"unit_id": unit.unit_id, "role": unit.role.value},
            )
            flash(f"Unit {unit.unit_id} removed.", "ok")
    return redirect(url_for("trial_pages.edit", code=code))


def init_app(app: Flask) -> None:
    """Register the trial pages."""
    app.register_blueprint(bp)
