"""Sign-in: Flask-Login sessions, CSRF on every form, a guard that puts everything behind login."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect, generate_csrf
from sqlmodel import col, func, select
from werkzeug.wrappers import Response as BaseResponse
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from app.context import engine
from trials import audit
from trials.accounts import authenticate, user_for_token
from trials.db import read_session, write_session
from trials.models import AuditEvent, User, utcnow

#: Failed sign-ins for one email within the window before further attempts are refused.
MAX_FAILED_SIGN_INS = 5
FAILED_SIGN_IN_WINDOW = timedelta(minutes=15)
#: Endpoints anyone may reach without signing in.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "views.healthz", "static"})
#: Dash reads this cookie and sends it back as the X-CSRFToken header on every callback.
CSRF_COOKIE = "_csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

csrf = CSRFProtect()
login_manager = LoginManager()


class SessionUser(UserMixin):
    """The signed-in user as Flask-Login sees it, wrapping the stored row."""

    def __init__(self, record: User) -> None:
        self.record = record
        self.id = str(record.id)


class LoginForm(FlaskForm):
    """The sign-in form; FlaskForm adds the CSRF token."""

    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


@login_manager.user_loader
def load_user(user_id: str) -> SessionUser | None:
    """Reload the user on every request, so a deactivated user loses a live session at once."""
    if not user_id.isdigit():
        return None
    with read_session(engine()) as session:
        user = session.get(User, int(user_id))
        return SessionUser(user) if user is not None and user.active else None


@login_manager.request_loader
def load_user_from_token(_request: object) -> SessionUser | None:
    """Let API clients sign every request with `Authorization: Bearer TOKEN` instead of a session cookie."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    with read_session(engine()) as session:
        user = user_for_token(session, token.strip())
    if user is None:
        return None
    g.via_token = True  # a bearer token cannot be forged by another site, so CSRF does not apply
    return SessionUser(user)


def _too_many_failures(email: str) -> bool:
    """Count recent failed sign-ins for this email in the database, so every worker sees the same count."""
    since = utcnow() - FAILED_SIGN_IN_WINDOW
    query = select(func.count()).where(
        AuditEvent.action == "sign_in.failed", AuditEvent.object == f"user:{email}", col(AuditEvent.at) >= since
    )
    with read_session(engine()) as session:
        return session.exec(query).one() >= MAX_FAILED_SIGN_INS


def login() -> str | BaseResponse:
    """Show the sign-in form, and sign in on a valid post."""
    form = LoginForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        if _too_many_failures(email):
            flash("Too many failed sign-ins for this email. Wait 15 minutes and try again.", "error")
            return render_template("login.html", form=form), 429  # type: ignore[return-value]
        with write_session(engine()) as session:
            user = authenticate(session, email=email, password=form.password.data or "")
            action = "sign_in" if user else "sign_in.failed"
            audit.record(session, actor=email, action=action, object=f"user:{email}")
        if user is not None:
            login_user(SessionUser(user))
            return redirect(url_for("views.home"))
        flash("Wrong email or password.", "error")
    return render_template("login.html", form=form)


def logout() -> BaseResponse:
    """Sign out and go back to the sign-in page."""
    logout_user()
    return redirect(url_for("auth.login"))


def guard() -> BaseResponse | None:
    """Put everything but sign-in, health and static files behind login, and every cookie-signed change behind CSRF."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        _check_csrf()
        return None
    if current_user.is_authenticated:
        if not g.get("via_token"):
            _check_csrf()
        return None
    wants_page = request.method == "GET" and "/_dash-" not in request.path and not request.path.startswith("/api/")
    if wants_page and request.accept_mimetypes.accept_html:
        return redirect(url_for("auth.login", next=request.path))
    return Response('{"error": "Sign in first.", "status": 401}', status=401, mimetype="application/json")


def _check_csrf() -> None:
    """Refuse a state-changing request without the session's CSRF token (form field or X-CSRFToken header)."""
    if request.method not in SAFE_METHODS:
        csrf.protect()


def share_csrf_cookie(response: Response) -> Response:
    """Hand signed-in browsers the CSRF token as a cookie Dash can read and send back as a header."""
    if current_user.is_authenticated and not g.get("via_token"):
        response.set_cookie(
            CSRF_COOKIE,
            generate_csrf(),
            secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
            samesite="Lax",
            httponly=False,  # Dash's renderer must read it
        )
    return response


def init_app(app: Flask) -> None:
    """Attach CSRF, Flask-Login and the guard to the app; the guard runs CSRF itself, after sign-in is known."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    app.add_url_rule("/login", "auth.login", login, methods=["GET", "POST"])
    app.add_url_rule("/logout", "auth.logout", logout, methods=["POST"])
    app.before_request(guard)
    app.after_request(share_csrf_cookie)
