"""The web app before the dashboard: health, sign-in behind CSRF, and the guard on everything else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from app import create_app
from app.config import ConfigError
from app.requestlog import logger as request_logger
from tests.factories import PASSWORD, csrf_token, make_trial, make_user, sign_in
from trials.models import Role, Visibility


def test_healthz_is_public_and_checks_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_anonymous_pages_redirect_to_sign_in_and_machines_get_401(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert client.get("/api/v1/trials").status_code == 401
    assert client.post("/_dash-update-component", json={}).status_code == 401


def test_sign_in_shows_only_the_trials_in_scope(client: FlaskClient, session: Session) -> None:
    make_trial(session, code="LGB-1")
    make_trial(session, code="SIN-PRIVATE", port_locode="SGSIN")
    make_trial(session, code="SIN-SHARED", port_locode="SGSIN", visibility=Visibility.partners)
    make_user(session, "p@lgb.example", role=Role.partner, port_locode="USLGB")
    assert sign_in(client, "p@lgb.example") == 302
    home = client.get("/").get_data(as_text=True)
    assert "LGB-1" in home and "SIN-SHARED" in home
    assert "SIN-PRIVATE" not in home
    assert "2 trials you may see" in home


def test_sign_in_without_csrf_token_is_refused(client: FlaskClient, session: Session) -> None:
    make_user(session)
    response = client.post("/login", data={"email": "ana@example.org", "password": PASSWORD})
    assert response.status_code == 400


def test_wrong_password_is_refused_and_audited(client: FlaskClient, session: Session) -> None:
    make_user(session)
    assert sign_in(client, "ana@example.org", "wrong password!") == 200
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 302


def test_failed_sign_ins_are_rate_limited(client: FlaskClient, session: Session) -> None:
    make_user(session)
    for _ in range(5):
        sign_in(client, "ana@example.org", "wrong password!")
    assert sign_in(client, "ana@example.org") == 429


def test_a_deactivated_user_loses_the_live_session(client: FlaskClient, session: Session) -> None:
    user = make_user(session)
    sign_in(client, "ana@example.org")
    assert client.get("/").status_code == 200
    user.active = False
    session.add(user)
    session.commit()
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 302


def test_sign_out_needs_a_post_with_csrf(client: FlaskClient, session: Session) -> None:
    make_user(session)
    sign_in(client, "ana@example.org")
    assert client.get("/logout").status_code == 405
    token = csrf_token(client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 302


def test_secret_key_is_required_outside_development(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("ZETRIALS_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        create_app({"DATABASE_URL": db_url})


def test_cookies_are_secure_outside_development(app: Flask) -> None:
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_development_keeps_a_random_secret_in_the_instance_folder(
    monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("ZETRIALS_ENV", "development")
    settings = {"DATABASE_URL": db_url, "DEV_SECRET_FILE": str(tmp_path / "key")}
    first = create_app(settings)
    second = create_app(settings)
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 48
    assert first.config["SESSION_COOKIE_SECURE"] is False
    for built in (first, second):
        built.extensions["zetrials.engine"].dispose()


def test_errors_answer_people_with_a_page_and_machines_with_json(client: FlaskClient, session: Session) -> None:
    make_user(session, role=Role.partner, port_locode="USLGB")
    sign_in(client, "ana@example.org")
    page = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "nothing you may see" in page.get_data(as_text=True)
    machine = client.get("/api/v1/no-such-route")
    assert machine.status_code == 404
    assert machine.get_json() == {"error": "There is nothing here, or nothing you may see.", "status": 404}
    assert client.get("/imports", headers={"Accept": "text/html"}).status_code == 403


def test_an_unexpected_error_is_a_plain_500_without_details(app: Flask, session: Session) -> None:
    def broken() -> str:
        raise RuntimeError("secret internals")

    app.add_url_rule("/broken-for-test", "broken_for_test", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    make_user(session)
    sign_in(client, "ana@example.org")
    page = client.get("/broken-for-test", headers={"Accept": "text/html"})
    assert page.status_code == 500
    assert "secret internals" not in page.get_data(as_text=True)
    assert client.get("/broken-for-test").get_json()["status"] == 500


def test_security_headers(client: FlaskClient) -> None:
    headers = client.get("/login").headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_every_request_is_logged_as_one_json_line(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(request_logger, "propagate", True)
    caplog.set_level("INFO", logger="zetrials.requests")
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    entry = json.loads(caplog.records[-1].getMessage())
    assert entry["request_id"] == "abc-123" and entry["route"] == "/healthz" and entry["status"] == 200
    assert entry["user"] is None and entry["duration_ms"] >= 0
