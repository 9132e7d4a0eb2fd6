"""The web app before the dashboard: health, sign-in behind CSRF, and the guard on everything else."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from app.config import ConfigError
from app.factory import create_app
from app.requestlog import logger as request_logger
from tests.factories import DATA_CALLBACKS, PASSWORD, csrf_token, make_trial, make_user, post_callback, sign_in
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


def test_sign_in_leads_to_the_overview_whose_trials_are_only_those_in_scope(
    client: FlaskClient, session: Session
) -> None:
    make_trial(session, code="LGB-1")
    make_trial(session, code="SIN-PRIVATE", port_locode="SGSIN")
    make_trial(session, code="SIN-SHARED", port_locode="SGSIN", visibility=Visibility.partners)
    make_user(session, "p@lgb.example", role=Role.partner, port_locode="USLGB")
    response = client.post(
        "/login", data={"email": "p@lgb.example", "password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert (response.status_code, response.headers["Location"]) == (302, "/dashboard/")
    assert client.get("/dashboard/").status_code == 200
    outputs, inputs, _state = DATA_CALLBACKS["trials"]
    rows = post_callback(client, outputs, inputs)["trials-grid"]["rowData"]
    assert sorted(row["code"] for row in rows) == ["LGB-1", "SIN-SHARED"]


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
    assert client.get("/dashboard/").status_code == 200
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


#: The header's links by role, in order (app/shell.py): (text, address); "Admin" opens a menu of its own.
READER_LINKS = [
    ("Overview", "/dashboard/"),
    ("Compare", "/dashboard/compare"),
    ("Trials", "/dashboard/trials"),
    ("Methodology", "/dashboard/methodology"),
]
EDITOR_LINKS = [*READER_LINKS[:3], ("Imports", "/imports"), ("New trial", "/trials/new"), READER_LINKS[3]]
ADMIN_MENU = [
    ("Users", "/admin/users"),
    ("API tokens", "/admin/tokens"),
    ("Emission factors", "/admin/factors"),
    ("Audit log", "/admin/audit"),
]
ADMIN_LINKS = [*EDITOR_LINKS[:5], *ADMIN_MENU, EDITOR_LINKS[5]]
HEADERS = [
    (Role.executive, None, READER_LINKS, "ana@example.org · Executive, all ports"),
    (Role.partner, "JPNGO", READER_LINKS, "ana@example.org · Partner, Port of Nagoya"),
    (Role.editor, "USLGB", EDITOR_LINKS, "ana@example.org · Editor, Port of Long Beach"),
    (Role.admin, None, ADMIN_LINKS, "ana@example.org · Admin, all ports"),
]


def _dash_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every component of a Dash layout, depth first."""
    if isinstance(node, list):
        for child in node:
            yield from _dash_nodes(child)
    elif isinstance(node, dict) and "props" in node:
        yield node
        yield from _dash_nodes(node["props"].get("children"))


def _dash_header(client: FlaskClient) -> dict[str, Any]:
    """The header of the dashboard's layout, as Dash's renderer receives it."""
    layout = client.get("/dashboard/_dash-layout").get_json()
    [header] = [node for node in _dash_nodes(layout) if node["type"] == "Header"]
    return header


@pytest.mark.parametrize(("role", "port", "links", "viewer"), HEADERS, ids=[str(h[0]) for h in HEADERS])
def test_flask_and_dash_pages_share_one_header_with_the_roles_links_and_the_user_in_words(
    client: FlaskClient, session: Session, role: Role, port: str | None, links: list[tuple[str, str]], viewer: str
) -> None:
    make_user(session, role=role, port_locode=port)
    assert sign_in(client, "ana@example.org") == 302
    page = client.get("/no/such/page", headers={"Accept": "text/html"}).get_data(as_text=True)  # a Flask page
    nav = re.search(r'<nav class="shell-nav">(.*?)</nav>', page, re.S)
    assert nav is not None
    assert re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav.group(1)) == [(href, text) for text, href in links]
    assert ("<summary>Admin</summary>" in nav.group(1)) == (role == Role.admin)
    assert f'<span class="viewer">{html.escape(viewer)}</span>' in page
    header = _dash_header(client)
    dash_links = [
        (node["props"]["children"], node["props"]["href"])
        for node in _dash_nodes(header)
        if node["type"] in ("Link", "A") and "brand" not in node["props"].get("className", "")
    ]
    assert dash_links == links
    summaries = [node["props"]["children"] for node in _dash_nodes(header) if node["type"] == "Summary"]
    assert summaries == (["Menu", "Admin"] if role == Role.admin else ["Menu"])
    assert [node["props"]["children"] for node in _dash_nodes(header) if node["type"] == "Span"] == [viewer]


def test_the_dash_pages_sign_out_form_signs_out(client: FlaskClient, session: Session) -> None:
    make_user(session)
    sign_in(client, "ana@example.org")
    [form] = [node for node in _dash_nodes(_dash_header(client)) if node["type"] == "Form"]
    assert (form["props"]["method"], form["props"]["action"]) == ("post", "/logout")
    [token] = [node["props"] for node in _dash_nodes(form) if node["type"] == "Input"]
    assert (token["type"], token["name"]) == ("hidden", "csrf_token")
    assert client.post("/logout", data={"csrf_token": token["value"]}).status_code == 302
    assert client.get("/dashboard/", headers={"Accept": "text/html"}).status_code == 302  # to sign-in


def test_every_page_links_the_one_stylesheet(client: FlaskClient, session: Session) -> None:
    make_user(session)
    link = '<link rel="stylesheet" href="/static/zetrials.css">'
    assert link in client.get("/login").get_data(as_text=True)  # before sign-in too: the sign-in page
    assert "<style" not in client.get("/login").get_data(as_text=True)
    sign_in(client, "ana@example.org")
    assert '<link rel="stylesheet" href="/static/zetrials.css">' in client.get("/dashboard/").get_data(as_text=True)
    with client.get("/static/zetrials.css") as sheet:  # closed, so the file it streams is closed too
        assert sheet.status_code == 200 and sheet.mimetype == "text/css"
        assert "header.shell" in sheet.get_data(as_text=True)


def test_home_leads_to_the_overview(client: FlaskClient, session: Session) -> None:
    make_user(session)
    sign_in(client, "ana@example.org")
    response = client.get("/")
    assert (response.status_code, response.headers["Location"]) == (302, "/dashboard/")
