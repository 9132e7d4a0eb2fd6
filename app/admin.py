"""Admin pages: users, API tokens, emission factor sets and the audit log; admins only, every change audited."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlmodel import Session, col, select
from werkzeug.wrappers import Response as BaseResponse
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.context import engine, require_role
from app.params import MAX_PAGE, whole_number
from trials.accounts import (
    MIN_PASSWORD_LENGTH,
    AccountError,
    add_user,
    change_role,
    create_token,
    list_tokens,
    list_users,
    revoke_token_id,
    set_active,
)
from trials.db import read_session, write_session
from trials.factors import (
    FACTOR_COLUMNS,
    FactorSetError,
    add_factor_set,
    list_factor_sets,
    read_factor_set,
    set_default_set,
)
from trials.models import AuditEvent, FactorSet, Role, User
from trials.queries import list_ports
from trials.registry import factor_label, label, scope_label

bp = Blueprint("admin", __name__, url_prefix="/admin")
#: Audit events per page.
AUDIT_PAGE = 50
#: A factor set is a few dozen rows; anything much larger is the wrong file.
MAX_FACTOR_FILE_BYTES = 1024 * 1024
ROLE_CHOICES = [SelectChoice(role.value) for role in Role]


@bp.before_request
def admins_only() -> None:
    """Refuse every admin page to anyone but an admin, before any of it runs."""
    require_role(Role.admin)


def _actor() -> str:
    """Name the signed-in admin in the audit log."""
    return require_role(Role.admin).actor


def _port_choices(session: Session) -> list[SelectChoice]:
    """Offer every partner port, or none: a user without a port sees every port."""
    ports = list_ports(session=session)
    return [SelectChoice("", "none (every port)")] + [SelectChoice(p.locode, f"{p.locode} {p.name}") for p in ports]


class AddUserForm(FlaskForm):
    """A new user; the rules on role and port are trials.accounts.add_user's."""

    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField(
        "Password", validators=[DataRequired()], description=f"at least {MIN_PASSWORD_LENGTH} characters"
    )
    role = SelectField("Role", choices=ROLE_CHOICES)
    port = SelectField("Port", description="a partner must have one; a user with a port sees that port's trials")


class RoleForm(FlaskForm):
    """A user's role and port, one form per row of the users table."""

    role = SelectField("Role", choices=ROLE_CHOICES)
    port = SelectField("Port")


class TokenForm(FlaskForm):
    """Whom a new API token signs requests as."""

    email = SelectField("User")


class FactorSetForm(FlaskForm):
    """A new factor set, uploaded as a CSV with the columns of the default set."""

    name = StringField("Name", validators=[DataRequired(), Length(max=40)], description="e.g. ZE-2025")
    description = StringField("Description", validators=[Optional(), Length(max=500)])
    file = FileField("CSV file", validators=[FileRequired()], description="columns: " + ",".join(FACTOR_COLUMNS))


class AuditFilterForm(FlaskForm):
    """Filters of the audit log, read from the query string, so a filtered page can be linked."""

    class Meta:
        csrf = False

    action = SelectField("Action", validate_choice=False)
    actor = StringField("Actor", description="an email, or cli")


# --- users ---------------------------------------------------------------------------------------------------


def _role_form(user_id: int, ports: list[SelectChoice], user: User | None = None) -> RoleForm:
    """Build one row's role form, as posted or filled from the user, prefixed so each row's fields are its own."""
    prefix = f"user-{user_id}-"
    if user is None:
        form = RoleForm(prefix=prefix)
    else:
        form = RoleForm(formdata=None, prefix=prefix, role=user.role.value, port=user.port_locode or "")
    form.port.choices = ports
    return form


def _users_page(session: Session, form: AddUserForm, status: int = 200) -> tuple[str, int]:
    """Render the users table, each row with its role form, and the form that adds a user."""
    ports = _port_choices(session)
    rows = [(user, _role_form(user.id or 0, ports, user)) for user in list_users(session)]
    return render_template("admin_users.html", rows=rows, form=form, me=_actor()), status


def _add_user_form(session: Session) -> AddUserForm:
    """Build the add-user form with the ports to choose from."""
    form = AddUserForm()
    form.port.choices = _port_choices(session)
    return form


@bp.get("/users")
def users() -> tuple[str, int]:
    """List every user with their role, port and whether they may sign in."""
    with read_session(engine()) as session:
        return _users_page(session, _add_user_form(session))


@bp.post("/users")
def add() -> tuple[str, int] | BaseResponse:
    """Add a user; add_user audits it."""
    with read_session(engine()) as session:
        form = _add_user_form(session)
        if not form.validate():
            return _users_page(session, form, 400)
    try:
        with write_session(engine()) as session:
            add_user(
                session,
                email=form.email.data,
                password=form.password.data,
                role=Role(form.role.data),
                port=form.port.data or None,
                actor=_actor(),
            )
    except AccountError as error:
        form.form_errors.append(str(error))
        with read_session(engine()) as session:
            return _users_page(session, form, 400)
    flash(f"User {form.email.data} added.", "ok")
    return redirect(url_for("admin.users"))


def _user_or_404(session: Session, user_id: int) -> User:
    """Find a user by id, or answer 404."""
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.post("/users/<int:user_id>/role")
def role(user_id: int) -> BaseResponse:
    """Change a user's role and port; the audit event holds both before and after."""
    with read_session(engine()) as session:
        user = _user_or_404(session, user_id)
        form = _role_form(user_id, _port_choices(session))
    if not form.validate():
        flash(f"{user.email}: choose one of the roles and ports offered.", "error")
        return redirect(url_for("admin.users"))
    port = form.port.data or None
    try:
        with write_session(engine()) as session:
            change_role(session, email=user.email, role=Role(form.role.data), port=port, actor=_actor())
    except AccountError as error:
        flash(f"{user.email}: {error}", "error")
    else:
        flash(f"{user.email} is now {form.role.data}{f' at {port}' if port else ''}.", "ok")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/<any(deactivate, reactivate):change>")
def active(user_id: int, change: str) -> BaseResponse:
    """Deactivate a user (their session and tokens are refused at the next request) or let them back in."""
    try:
        with write_session(engine()) as session:
            user = _user_or_404(session, user_id)
            set_active(session, email=user.email, active=change == "reactivate", actor=_actor())
    except AccountError as error:
        flash(str(error), "error")
    else:
        flash(f"{user.email} {change}d.", "ok")
    return redirect(url_for("admin.users"))


# --- API tokens ------------------------------------------------------------------------------------------------


def _token_form(session: Session) -> TokenForm:
    """Build the create-token form, offering the users who may sign in."""
    form = TokenForm()
    form.email.choices = [SelectChoice(user.email) for user in list_users(session) if user.active]
    return form


def _tokens_page(
    session: Session, form: TokenForm, new_token: str | None = None, status: int = 200
) -> tuple[str, int, dict[str, str]]:
    """Render the tokens and the create form; a new token is in this one response, never stored or cached."""
    page = render_template("admin_tokens.html", tokens=list_tokens(session), form=form, new_token=new_token)
    return page, status, {"Cache-Control": "no-store"}


@bp.get("/tokens")
def tokens() -> tuple[str, int, dict[str, str]]:
    """List every token: whose, when created, whether revoked; the tokens themselves are not kept."""
    with read_session(engine()) as session:
        return _tokens_page(session, _token_form(session))


@bp.post("/tokens")
def create() -> tuple[str, int, dict[str, str]]:
    """Create a token for a user and show it once."""
    with read_session(engine()) as session:
        form = _token_form(session)
    if not form.validate():
        with read_session(engine()) as session:
            return _tokens_page(session, form, status=400)
    with write_session(engine()) as session:
        token = create_token(session, email=form.email.data, actor=_actor())
    with read_session(engine()) as session:
        return _tokens_page(session, form, token)


@bp.post("/tokens/<int:token_id>/revoke")
def revoke(token_id: int) -> BaseResponse:
    """Revoke a token; requests signed with it get 401 from now on."""
    with write_session(engine()) as session:
        revoked = revoke_token_id(session, token_id=token_id, actor=_actor())
    flash(f"Token {token_id} revoked." if revoked else f"Token {token_id} was revoked already.", "ok")
    return redirect(url_for("admin.tokens"))


# --- emission factor sets --------------------------------------------------------------------------------------


def _factors_page(session: Session, form: FactorSetForm, status: int = 200) -> tuple[str, int]:
    """Render every factor set with its factors and sources, and the upload form."""
    words = {"label": label, "factor_label": factor_label, "scope_label": scope_label}
    return render_template("admin_factors.html", sets=list_factor_sets(session), form=form, **words), status


@bp.get("/factors")
def factors() -> tuple[str, int]:
    """List every factor set with each factor's value, unit and source; mark the default."""
    with read_session(engine()) as session:
        return _factors_page(session, FactorSetForm())


def _uploaded_text(form: FactorSetForm) -> str | None:
    """Read the uploaded CSV as text, or put what is wrong with the file next to its field."""
    data = form.file.data.read(MAX_FACTOR_FILE_BYTES + 1)
    if len(data) > MAX_FACTOR_FILE_BYTES:
        form.file.errors.append(f"the file is larger than {MAX_FACTOR_FILE_BYTES // 1024} KB; a factor set is smaller")
        return None
    try:
        text: str = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        form.file.errors.append("the file is not UTF-8 text; save it as 'CSV UTF-8'")
        return None
    return text


@bp.post("/factors")
def upload() -> tuple[str, int] | BaseResponse:
    """Add a factor set from a CSV: every row checked, nothing stored unless all rows are good."""
    form = FactorSetForm()
    if form.validate():
        name = form.name.data.strip()
        text = _uploaded_text(form)
        rows, problems = read_factor_set(name, text) if text is not None else ([], [])
        form.file.errors.extend(problems)
        if not form.file.errors:
            try:
                with write_session(engine()) as session:
                    add_factor_set(
                        session, name=name, description=form.description.data or None, factors=rows, actor=_actor()
                    )
            except FactorSetError as error:
                form.name.errors.append(str(error))
            else:
                flash(f"Factor set {name} added with {len(rows)} factors; it is not the default until chosen.", "ok")
                return redirect(url_for("admin.factors"))
    with read_session(engine()) as session:
        return _factors_page(session, form, 400)


@bp.post("/factors/<int:set_id>/default")
def default(set_id: int) -> BaseResponse:
    """Make a set the default for new results; results asked for by set name keep their set."""
    with write_session(engine()) as session:
        factor_set = session.get(FactorSet, set_id)
        if factor_set is None:
            abort(404)
        set_default_set(session, name=factor_set.name, actor=_actor())
    flash(f"{factor_set.name} is now the default factor set.", "ok")
    return redirect(url_for("admin.factors"))


# --- audit log -------------------------------------------------------------------------------------------------


def _actions(session: Session) -> list[str]:
    """List the actions the log holds, to filter by."""
    return list(session.exec(select(AuditEvent.action).distinct().order_by(col(AuditEvent.action))))


@bp.get("/audit")
def audit_log() -> str:
    """List audit events newest first, filtered by action and actor, a page at a time."""
    form = AuditFilterForm(request.args)
    page = whole_number("page", 1, highest=MAX_PAGE)
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc())
    if form.action.data:
        query = query.where(AuditEvent.action == form.action.data)
    actor = (form.actor.data or "").strip().lower()
    if actor:
        query = query.where(AuditEvent.actor == actor)
    with read_session(engine()) as session:
        form.action.choices = [SelectChoice("", "any")] + [SelectChoice(action) for action in _actions(session)]
        events = list(session.exec(query.offset((page - 1) * AUDIT_PAGE).limit(AUDIT_PAGE + 1)))
    filters = {"action": form.action.data or "", "actor": actor}
    return render_template(
        "admin_audit.html",
        form=form,
        events=events[:AUDIT_PAGE],
        page=page,
        more=len(events) > AUDIT_PAGE,
        filters={key: value for key, value in filters.items() if value},
    )


def init_app(app: Flask) -> None:
    """Register the admin pages."""
    app.register_blueprint(bp)
