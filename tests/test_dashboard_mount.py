"""The Dash app behind the same login, scope and CSRF as every page."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlmodel import Session

from tests.factories import CALLBACK, csrf_header, make_trial, make_user, sign_in
from trials.models import Role, Visibility

HEADLINES: dict[str, Any] = {
    "output": "headlines.children",
    "outputs": {"id": "headlines", "property": "children"},
    "inputs": [{"id": "url", "property": "search", "value": ""}],
    "changedPropIds": ["url.search"],
    "state": [],
}


def test_the_dashboard_page_needs_sign_in(client: FlaskClient) -> None:
    assert client.get("/dashboard/", headers={"Accept": "text/html"}).status_code == 302
    assert client.post(CALLBACK, json=HEADLINES).status_code == 401
    assert client.get("/dashboard/_dash-layout").status_code == 401


def test_callbacks_need_the_csrf_header_dash_sends(client: FlaskClient, session: Session) -> None:
    make_user(session, role=Role.executive)
    sign_in(client, "ana@example.org")
    assert client.get("/dashboard/").status_code == 200
    assert client.post(CALLBACK, json=HEADLINES).status_code == 400
    response = client.post(CALLBACK, json=HEADLINES, headers=csrf_header(client))
    assert response.status_code == 200


def test_the_headline_callback_counts_only_the_trials_in_scope(client: FlaskClient, session: Session) -> None:
    make_trial(session, code="LGB-1")
    make_trial(session, code="SIN-PRIVATE", port_locode="SGSIN")
    make_trial(session, code="SIN-SHARED", port_locode="SGSIN", visibility=Visibility.partners)
    make_user(session, "p@lgb.example", role=Role.partner, port_locode="USLGB")
    sign_in(client, "p@lgb.example")
    client.get("/dashboard/")
    body = client.post(CALLBACK, json=HEADLINES, headers=csrf_header(client)).get_data(as_text=True)
    assert "Trials in view: 2" in body
    assert "SIN-PRIVATE" not in body
