"""Report downloads: behind sign-in, limited to the viewer's scope, audited, and sent as a named xlsx attachment."""

from __future__ import annotations

import io
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col, select
from werkzeug.test import TestResponse

from app import downloads
from app.factory import create_app
from app.jobs import AUDIT_RETRIES, Queue
from tests.factories import make_measurement, make_trial, make_unit, make_user, sign_in
from trials.models import AuditEvent, EquipmentClass, Role, Visibility, utcnow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
URLS = ("/reports/port/USLGB.xlsx", "/reports/trial/LGB-1.xlsx", "/reports/compare/yard_tractor.xlsx")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser-like client of an app with the downloads registered (until create_app registers them itself)."""
    if "downloads" not in app.blueprints:
        downloads.init_app(app)
    return app.test_client()


@pytest.fixture
def partner(client: FlaskClient, session: Session) -> FlaskClient:
    """A partner of Long Beach, signed in, with trials at Long Beach and Singapore (one private, one shared)."""
    lgb = make_trial(session, code="LGB-1", name="Long Beach tractors")
    make_measurement(session, make_unit(session, lgb), date(2025, 3, 1), operating_hours=8.0, energy_kwh=150.0)
    make_trial(session, code="SIN-PRIV", port_locode="SGSIN", name="Singapore secret")
    make_trial(session, code="SIN-SHARED", port_locode="SGSIN", name="Singapore shared", visibility=Visibility.partners)
    make_trial(session, code="SIN-TUG", port_locode="SGSIN", equipment_class=EquipmentClass.tug)
    make_user(session, "p@lgb.example", role=Role.partner, port_locode="USLGB")
    assert sign_in(client, "p@lgb.example") == 302
    return client


def download(client: FlaskClient, url: str) -> TestResponse:
    """Fetch a download and close it, as a WSGI server does once the file is sent (which deletes the file)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def trial_codes(content: bytes) -> list[str]:
    """The trial codes on a downloaded report's Trials sheet: its header, a column per trial after names and units."""
    sheet = load_workbook(io.BytesIO(content))["Trials"]
    return [cell.value for cell in sheet[1][2:]]


@pytest.mark.parametrize("url", URLS)
def test_anonymous_downloads_are_refused(client: FlaskClient, url: str) -> None:
    assert client.get(url).status_code == 401


def test_a_partner_downloads_their_ports_report_and_it_is_audited(partner: FlaskClient, session: Session) -> None:
    response = download(partner, "/reports/port/USLGB.xlsx")
    assert response.status_code == 200
    assert response.mimetype == XLSX
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=zetrials-port-USLGB-") and disposition.endswith(".xlsx")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert trial_codes(response.data) == ["LGB-1"]
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "report.download")).all()
    assert [(event.actor, event.object, event.after) for event in events] == [
        ("p@lgb.example", "report:port:USLGB", {"trials": ["LGB-1"], "measurements": 0})
    ]


@pytest.mark.parametrize(
    "url",
    [
        "/reports/trial/SIN-PRIV.xlsx",
        "/reports/trial/NO-SUCH.xlsx",
        "/reports/port/ZZZZZ.xlsx",
        "/reports/compare/tug.xlsx",
        "/reports/compare/spaceship.xlsx",
    ],
)
def test_what_the_viewer_may_not_see_is_not_found(partner: FlaskClient, session: Session, url: str) -> None:
    assert partner.get(url).status_code == 404
    assert session.exec(select(AuditEvent).where(col(AuditEvent.action) == "report.download")).all() == []


def test_another_ports_report_holds_only_its_shared_trials(partner: FlaskClient) -> None:
    response = download(partner, "/reports/port/SGSIN.xlsx")
    assert response.status_code == 200
    assert trial_codes(response.data) == ["SIN-SHARED"]
    assert b"SIN-PRIV" not in response.data and b"Singapore secret" not in response.data


def test_a_class_comparison_spans_the_ports_the_viewer_may_see(partner: FlaskClient) -> None:
    response = download(partner, "/reports/compare/yard_tractor.xlsx")
    assert response.status_code == 200
    assert trial_codes(response.data) == ["SIN-SHARED", "LGB-1"]
    assert "zetrials-compare-yard_tractor-" in response.headers["Content-Disposition"]


def test_a_trial_download_includes_raw_rows_only_when_asked(partner: FlaskClient) -> None:
    plain = load_workbook(io.BytesIO(download(partner, "/reports/trial/LGB-1.xlsx").data))
    assert "Measurements" not in plain.sheetnames
    full = load_workbook(io.BytesIO(download(partner, "/reports/trial/LGB-1.xlsx?measurements=1").data))
    rows = list(full["Measurements"].iter_rows(min_row=2, values_only=True))
    assert [(row[0], row[3], row[7]) for row in rows] == [("LGB-1", "trial unit", 150.0)]  # the role in words


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_download_while_an_import_holds_sqlites_write_lock_is_sent_at_once_and_audited_when_the_lock_is_free(
    engine: Engine, db_url: str, session: Session, tmp_path: Path
) -> None:
    settings = {"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": db_url}
    app = create_app(settings | {"JOB_QUEUE": f"sqlite:///{tmp_path / 'queue.sqlite'}"})
    client = app.test_client()
    lgb = make_trial(session, code="LGB-1", name="Long Beach tractors")
    make_measurement(session, make_unit(session, lgb), date(2025, 3, 1), operating_hours=8.0, energy_kwh=150.0)
    make_user(session, "p@lgb.example", role=Role.partner, port_locode="USLGB")
    assert sign_in(client, "p@lgb.example") == 302
    queue: Queue = app.extensions["zetrials.queue"]
    importing = sqlite3.connect(str(make_url(db_url).database), isolation_level=None)
    importing.execute("BEGIN IMMEDIATE")  # as an import holds the write lock, for seconds, until it commits
    try:
        started = utcnow()
        response = download(client, "/reports/port/USLGB.xlsx")
        sent = utcnow()
        assert response.status_code == 200 and trial_codes(response.data) == ["LGB-1"]
        assert queue.huey.pending_count() == 1
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "report.download")).all() == []
    finally:
        importing.rollback()
        importing.close()
    task = queue.huey.dequeue()
    assert task.retries == AUDIT_RETRIES  # an import may hold the lock past one wait: the worker tries again
    queue.huey.execute(task)  # what the worker does once it takes the task
    session.rollback()  # the test's own read ended, to see what was written since
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "report.download")).all()
    assert [(event.actor, event.object, event.after) for event in events] == [
        ("p@lgb.example", "report:port:USLGB", {"trials": ["LGB-1"], "measurements": 0})
    ]
    assert started <= events[0].at <= sent, "the entry keeps the time of the download, not of its writing"
    app.extensions["zetrials.engine"].dispose()
