"""Sign-in: Flask-Login sessions, CSRF on every form, a guard that puts everything behind login."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, current_app, flash, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_login import AnonymousUserMixin, LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect, generate_csrf
from werkzeug.wrappers import Response as BaseResponse
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from app.context import engine
from app.params import refuse_unstorable_text
from app.shell import HOME
from trials.accounts import authenticate, begin_sign_in, end_session, finish_sign_in, session_user, user_for_token
from trials.db import read_session, write_session
from trials.models import User, utcnow

#: Failed sign-ins for one email within the window before further attempts are refused.
MAX_FAILED_SIGN_INS = 5
FAILED_SIGN_IN_WINDOW = timedelta(minutes=15)
#: Endpoints anyone may reach without signing in.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "views.healthz", "static"})
#: Dash reads this cookie and sends it back as the X-CSRFToken header on every callback.
CSRF_COOKIE = "_csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The session key naming the sign-in (its audit event) that opened the session; sign-out revokes it server-side.
SESSION_SIGN_IN = "sign_in"

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
    """Reload the user on every request, so a deactivated user, or a session signed out anywhere, is refused at once."""
    attempt = session.get(SESSION_SIGN_IN)
    if not user_id.isdigit() or not isinstance(attempt, int):
        return None
    with read_session(engine()) as db:
        user = session_user(db, user_id=int(user_id), attempt=attempt)
    return SessionUser(user) if user is not None else None


def _bearer_token() -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header (empty when the header names no token), else None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def sign_in_with_token(token: str) -> None:
    """Make the token's user (or no one, for a bad token) the request's user: a bearer token always wins over a
    session cookie the client also holds, which is then neither read nor written."""
    user = None
    if token:
        with read_session(engine()) as db:
            user = user_for_token(db, token)
    g.via_token = True  # a bearer token cannot be forged by another site, so CSRF does not apply
    g._login_user = SessionUser(user) if user is not None else AnonymousUserMixin()  # Flask-Login's request user


def login() -> str | BaseResponse:
    """Show the sign-in form, and sign in on a valid post."""
    form = LoginForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        with write_session(engine()) as db:
            attempt = begin_sign_in(db, email=email, limit=MAX_FAILED_SIGN_INS, since=utcnow() - FAILED_SIGN_IN_WINDOW)
        if attempt is None:
            flash("Too many failed sign-ins for this email. Wait 15 minutes and try again.", "error")
            return render_template("login.html", form=form), 429  # type: ignore[return-value]
        with read_session(engine()) as db:  # the slow hash check holds no lock
            user = authenticate(db, email=email, password=form.password.data or "")
        with write_session(engine()) as db:
            finish_sign_in(db, attempt=attempt, succeeded=user is not None)
        if user is not None:
            session.clear()  # nothing from before sign-in carries over, not even the CSRF token
            g.pop(current_app.config["WTF_CSRF_FIELD_NAME"], None)  # Flask-WTF's copy of it for this request
            login_user(SessionUser(user))
            session[SESSION_SIGN_IN] = attempt
            return redirect(HOME)
        flash("Wrong email or password.", "error")
    return render_template("login.html", form=form)


def logout() -> BaseResponse:
    """Sign out, refusing this session's cookie from now on even if it is replayed, and go back to sign-in."""
    attempt = session.get(SESSION_SIGN_IN)
    if current_user.is_authenticated and isinstance(attempt, int) and not g.get("via_token"):
        with write_session(engine()) as db:
            end_session(db, attempt=attempt, email=current_user.record.email)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


def guard() -> BaseResponse | None:
    """Put everything but sign-in, health and static files behind login, and every cookie-signed change behind CSRF."""
    token = _bearer_token()
    if token is not None:
        sign_in_with_token(token)
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


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, never written on API answers or bearer-token requests: those are stateless."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Write the session cookie, except where the client must not be handed one."""
        if g.get("via_token") or request.path.startswith("/api/"):
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    """Attach CSRF, Flask-Login and the guard to the app; the guard runs CSRF itself, after sign-in is known."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.session_interface = SessionInterface()
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    app.add_url_rule("/login", "auth.login", login, methods=["GET", "POST"])
    app.add_url_rule("/logout", "auth.logout", logout, methods=["POST"])
    app.before_request(guard)
    app.before_request(refuse_unstorable_text)  # after sign-in, so anonymous requests never get their forms parsed
    app.after_request(share_csrf_cookie)
