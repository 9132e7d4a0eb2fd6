"""The JSON API: every route for every kind of viewer, scope kept to the byte, every answer held to its document."""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from werkzeug.test import TestResponse

from app import api as api_module
from app.errors import MESSAGES
from importers.validate import TRIAL_CODE_RULE
from tests.factories import (
    DOCUMENT,
    STANDARD_REVIEW,
    check_against_document,
    make_measurement,
    make_measurements,
    make_trial,
    make_unit,
    make_user,
    sign_in,
    standard_file,
)
from trials.accounts import create_token, revoke_token
from trials.factors import DEFAULT_SET
from trials.metrics import METRIC_KEYS, METRIC_UNITS
from trials.models import (
    AuditEvent,
    EquipmentClass,
    Port,
    Role,
    Technology,
    TrialStatus,
    UnitRole,
    User,
    Visibility,
)


class Api:
    """Call the API as one viewer (a bearer token, else the client's cookies), checking every answer."""

    def __init__(self, client: FlaskClient, token: str | None = None) -> None:
        self.client = client
        self.token = token

    def call(self, method: str, url: str, headers: dict[str, str] | None = None, **kwargs: Any) -> TestResponse:
        """Make one request and hold its answer to the document."""
        sent = dict(headers or {})
        if self.token is not None:
            sent["Authorization"] = f"Bearer {self.token}"
        response = self.client.open(url, method=method, headers=sent, **kwargs)
        check_against_document(method, url.partition("?")[0], response)
        return response

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        """GET and check."""
        return self.call("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> TestResponse:
        """POST and check."""
        return self.call("POST", url, **kwargs)

    def upload(
        self, content: bytes, filename: str = "in.csv", headers: dict[str, str] | None = None, **fields: str
    ) -> TestResponse:
        """POST a file to /api/v1/imports as a browser form would."""
        data: dict[str, Any] = {"file": (io.BytesIO(content), filename), **fields}
        return self.post("/api/v1/imports", data=data, content_type="multipart/form-data", headers=headers)


# A world of two ports, private and shared trials, and every kind of viewer.

#: Viewer name -> (role, port).
VIEWERS: dict[str, tuple[Role, str | None]] = {
    "partner_a": (Role.partner, "USLGB"),
    "partner_b": (Role.partner, "SGSIN"),
    "executive": (Role.executive, None),
    "editor_a": (Role.editor, "USLGB"),
    "editor_b": (Role.editor, "SGSIN"),
    "admin": (Role.admin, None),
}
#: Trial code -> (port, visibility, class, technology, status, number of daily measurements).
TRIALS: dict[str, tuple[str, Visibility, EquipmentClass, Technology, TrialStatus, int]] = {
    "LGB-PRIV": (
        "USLGB",
        Visibility.private,
        EquipmentClass.yard_tractor,
        Technology.battery_electric,
        TrialStatus.active,
        1,
    ),
    "LGB-SHARED": (
        "USLGB",
        Visibility.partners,
        EquipmentClass.rtg_crane,
        Technology.hybrid_diesel_electric,
        TrialStatus.completed,
        2,
    ),
    "SIN-PRIV": ("SGSIN", Visibility.private, EquipmentClass.tug, Technology.battery_electric, TrialStatus.active, 3),
    "SIN-SHARED": (
        "SGSIN",
        Visibility.partners,
        EquipmentClass.tug,
        Technology.hydrogen_fuel_cell,
        TrialStatus.planned,
        4,
    ),
}
EVERYTHING = set(TRIALS)
PORT_A = {"LGB-PRIV", "LGB-SHARED", "SIN-SHARED"}
PORT_B = {"SIN-PRIV", "SIN-SHARED", "LGB-SHARED"}
SEES = {
    "partner_a": PORT_A,
    "partner_b": PORT_B,
    "executive": EVERYTHING,
    "editor_a": PORT_A,
    "editor_b": PORT_B,
    "admin": EVERYTHING,
}


def email(viewer: str) -> str:
    """Each viewer's sign-in email."""
    return f"{viewer.replace('_', '-')}@example.org"


def issue_token(session: Session, viewer: str) -> str:
    """Create a bearer token for a viewer, as `zetrials tokens create` does."""
    token = create_token(session, email=email(viewer), actor="test")
    session.commit()
    return token


@pytest.fixture
def world(session: Session) -> dict[str, str]:
    """Four trials of two ports, each with its own number of measurements, and a token per viewer."""
    for code, (port, visibility, kind, technology, status, days) in TRIALS.items():
        trial = make_trial(
            session,
            code=code,
            port_locode=port,
            visibility=visibility,
            equipment_class=kind,
            technology=technology,
            status=status,
        )
        unit = make_unit(session, trial, unit_id=f"{code}-U1")
        make_measurements(
            session,
            unit,
            {date(2024, 3, 1 + day): {"operating_hours": 10.0, "energy_kwh": 100.0 + day} for day in range(days)},
        )
    for viewer, (role, home) in VIEWERS.items():
        make_user(session, email(viewer), role=role, port_locode=home)
    return {viewer: issue_token(session, viewer) for viewer in VIEWERS}


@pytest.fixture
def as_viewer(client: FlaskClient, world: dict[str, str]) -> Callable[[str], Api]:
    """Call the API with a viewer's bearer token."""
    return lambda viewer: Api(client, world[viewer])


def codes(response: TestResponse) -> list[str]:
    """The trial codes of a list answer, in order."""
    return [item["code"] for item in response.get_json()["items"]]


def in_list_order(visible: set[str]) -> list[str]:
    """Trial codes as the API lists them: by port, then code."""
    return sorted(visible, key=lambda code: (TRIALS[code][0], code))


def read_routes(visible: set[str]) -> list[str]:
    """Every read route, for every trial given."""
    per_trial = [f"/api/v1/trials/{code}{suffix}" for code in visible for suffix in ("", "/measurements", "/metrics")]
    return ["/api/v1/ports", "/api/v1/trials", "/api/v1/imports", "/api/v1/openapi.json", *per_trial]


# Sign-in.


@pytest.mark.parametrize(
    ("method", "url"),
    [("GET", url) for url in read_routes({"LGB-PRIV"})] + [("POST", "/api/v1/imports")],
)
def test_anonymous_callers_get_401_json_on_every_route(client: FlaskClient, method: str, url: str) -> None:
    response = Api(client).call(method, url)
    assert response.status_code == 401
    assert response.get_json() == {"error": "Sign in first.", "status": 401}


def test_a_revoked_token_is_refused(session: Session, as_viewer: Callable[[str], Api]) -> None:
    api = as_viewer("admin")
    assert api.get("/api/v1/trials").status_code == 200
    assert api.token is not None
    revoke_token(session, token=api.token, actor="test")
    session.commit()
    assert api.get("/api/v1/trials").status_code == 401


def test_a_deactivated_users_token_is_refused(session: Session, as_viewer: Callable[[str], Api]) -> None:
    api = as_viewer("editor_a")
    assert api.get("/api/v1/trials").status_code == 200
    user = session.exec(select(User).where(User.email == email("editor_a"))).one()
    user.active = False
    session.add(user)
    session.commit()
    assert api.get("/api/v1/trials").status_code == 401
    assert api.upload(b"Trial,Unit,Date,Energy (kWh)\n").status_code == 401


def test_a_garbage_token_is_refused(client: FlaskClient, world: dict[str, str]) -> None:
    assert Api(client, "not-a-token").get("/api/v1/trials").status_code == 401


def test_a_signed_in_browser_reads_the_api_with_its_session_cookie(client: FlaskClient, world: dict[str, str]) -> None:
    assert sign_in(client, email("partner_a")) == 302
    response = Api(client).get("/api/v1/trials")
    assert response.status_code == 200
    assert codes(response) == in_list_order(PORT_A)


# Who sees what.


@pytest.mark.parametrize("viewer", list(VIEWERS))
def test_trial_list_shows_exactly_the_viewers_scope(as_viewer: Callable[[str], Api], viewer: str) -> None:
    response = as_viewer(viewer).get("/api/v1/trials")
    assert response.status_code == 200
    assert codes(response) == in_list_order(SEES[viewer])


@pytest.mark.parametrize("viewer", list(VIEWERS))
def test_every_trial_route_answers_in_scope_and_404_outside(as_viewer: Callable[[str], Api], viewer: str) -> None:
    api = as_viewer(viewer)
    for code in [*TRIALS, "NO-SUCH-TRIAL"]:
        visible = code in SEES[viewer]
        detail = api.get(f"/api/v1/trials/{code}")
        page = api.get(f"/api/v1/trials/{code}/measurements")
        metrics = api.get(f"/api/v1/trials/{code}/metrics")
        assert {detail.status_code, page.status_code, metrics.status_code} == {200 if visible else 404}, code
        if visible:
            assert detail.get_json()["code"] == code
            assert page.get_json()["total"] == TRIALS[code][5]
            assert metrics.get_json()["metrics"]["operating_hours"] == 10.0 * TRIALS[code][5]


@pytest.mark.parametrize("suffix", ["", "/measurements", "/metrics", "/measurements?page=2&per_page=1"])
def test_a_hidden_trial_answers_byte_for_byte_like_a_missing_one(as_viewer: Callable[[str], Api], suffix: str) -> None:
    api = as_viewer("partner_a")
    same_id = {"X-Request-ID": "one-id-for-both"}  # else the log's fresh id is the only difference
    hidden = api.get(f"/api/v1/trials/SIN-PRIV{suffix}", headers=same_id)
    missing = api.get(f"/api/v1/trials/NO-SUCH-XX{suffix}", headers=same_id)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_data() == missing.get_data()
    assert sorted(hidden.headers.items()) == sorted(missing.headers.items())
    assert hidden.get_json() == {"error": "no such trial", "status": 404}


@pytest.mark.parametrize("viewer", ["partner_a", "editor_a"])
def test_nothing_of_another_ports_private_trial_reaches_a_viewer(as_viewer: Callable[[str], Api], viewer: str) -> None:
    api = as_viewer(viewer)
    for url in read_routes(PORT_A | {"SIN-PRIV"}):
        body = api.get(url).get_data(as_text=True)
        assert "SIN-PRIV" not in body, url


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("port=SGSIN", ["SIN-SHARED"]),
        ("class=tug", ["SIN-SHARED"]),
        ("technology=battery_electric", ["LGB-PRIV"]),
        ("status=active", ["LGB-PRIV"]),
        ("port=USLGB&class=rtg_crane&technology=hybrid_diesel_electric&status=completed", ["LGB-SHARED"]),
        ("port=JPNGO", []),
    ],
)
def test_trial_filters_stay_inside_the_scope(as_viewer: Callable[[str], Api], query: str, expected: list[str]) -> None:
    response = as_viewer("partner_a").get(f"/api/v1/trials?{query}")
    assert response.status_code == 200
    assert codes(response) == expected


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/trials?class=boat", "class"),
        ("/api/v1/trials?class=", "class"),
        ("/api/v1/trials?technology=steam", "technology"),
        ("/api/v1/trials?status=paused", "status"),
        ("/api/v1/trials?port=XXXXX", "port"),
        ("/api/v1/trials/LGB-PRIV/measurements?page=0", "page"),
        ("/api/v1/trials/LGB-PRIV/measurements?page=two", "page"),
        ("/api/v1/trials/LGB-PRIV/measurements?page=-1", "page"),
        ("/api/v1/trials/LGB-PRIV/measurements?page=99999999999", "page"),
        ("/api/v1/trials/LGB-PRIV/measurements?per_page=5000", "per_page"),
        ("/api/v1/trials/LGB-PRIV/measurements?per_page=1.5", "per_page"),
        ("/api/v1/trials/LGB-PRIV/measurements?per_page=", "per_page"),
        ("/api/v1/trials/LGB-PRIV/metrics?basis=magic", "basis"),
    ],
)
def test_bad_parameters_give_400_naming_the_parameter(
    as_viewer: Callable[[str], Api], url: str, parameter: str
) -> None:
    response = as_viewer("admin").get(url)
    assert response.status_code == 400
    assert response.get_json() == {"error": response.get_json()["error"], "status": 400}
    assert response.get_json()["error"].startswith(f"{parameter}: ")


def test_ports_are_reference_data_every_viewer_reads(as_viewer: Callable[[str], Api], session: Session) -> None:
    stored = session.exec(select(Port).order_by(col(Port.locode))).all()
    for viewer in VIEWERS:
        items = as_viewer(viewer).get("/api/v1/ports").get_json()["items"]
        assert [item["locode"] for item in items] == [port.locode for port in stored]
    long_beach = next(item for item in items if item["locode"] == "USLGB")
    assert long_beach["grid_region"] == "US-CAL-CISO" and long_beach["name"] == "Long Beach"


def test_a_trial_answers_every_field_with_iso_dates(as_viewer: Callable[[str], Api]) -> None:
    body = as_viewer("partner_b").get("/api/v1/trials/LGB-SHARED").get_json()
    assert body["start_date"] == "2024-01-01" and body["end_date"] == "2024-12-31"
    assert body["visibility"] == "partners" and body["port_locode"] == "USLGB"
    assert body["equipment_class"] == "rtg_crane" and body["status"] == "completed"
    assert body["created_at"].endswith("Z")


# Measurements.


def test_measurements_are_paged_oldest_first(as_viewer: Callable[[str], Api]) -> None:
    api = as_viewer("admin")
    first = api.get("/api/v1/trials/SIN-SHARED/measurements?per_page=3").get_json()
    second = api.get("/api/v1/trials/SIN-SHARED/measurements?per_page=3&page=2").get_json()
    beyond = api.get("/api/v1/trials/SIN-SHARED/measurements?per_page=3&page=3").get_json()
    assert (first["page"], first["per_page"], first["total"]) == (1, 3, 4)
    assert [item["period_start"] for item in first["items"] + second["items"]] == [
        "2024-03-01",
        "2024-03-02",
        "2024-03-03",
        "2024-03-04",
    ]
    assert beyond["items"] == [] and beyond["total"] == 4
    assert api.get("/api/v1/trials/SIN-SHARED/measurements").get_json()["per_page"] == 100


def test_a_measurement_carries_its_unit_fields_units_and_provenance(
    as_viewer: Callable[[str], Api], session: Session
) -> None:
    trial = make_trial(session, code="LGB-FULL", technology=Technology.hybrid_diesel_electric)
    unit = make_unit(session, trial, unit_id="DIESEL-7", role=UnitRole.baseline)
    make_measurement(
        session,
        unit,
        date(2024, 5, 1),
        days=7,
        operating_hours=60.5,
        diesel_l=410.0,
        moves=900,
        charging_sessions=3,
        notes="week 18",
        source_sheet="Weekly",
        source_row=12,
    )
    page = as_viewer("editor_a").get("/api/v1/trials/LGB-FULL/measurements").get_json()
    assert page["items"] == [
        {
            "unit_id": "DIESEL-7",
            "role": "baseline",
            "period_start": "2024-05-01",
            "period_end": "2024-05-08",
            "operating_hours": 60.5,
            "energy_kwh": None,
            "hydrogen_kg": None,
            "diesel_l": 410.0,
            "distance_km": None,
            "moves": 900.0,
            "teu": None,
            "cargo_tonnes": None,
            "scheduled_hours": None,
            "downtime_hours": None,
            "charging_sessions": 3,
            "reported_ghg_kg": None,
            "reported_ghg_avoided_kg": None,
            "reported_nox_avoided_kg": None,
            "notes": "week 18",
            "provenance": {"import_batch_id": None, "source_sheet": "Weekly", "source_row": 12},
        }
    ]
    assert page["units"]["energy_kwh"] == "kWh" and page["units"]["diesel_l"] == "L"


# Metrics.


def test_metrics_match_hand_computed_figures(client: FlaskClient, session: Session) -> None:
    # Two days of one battery-electric yard tractor at Long Beach (grid 229 g/kWh in 2024), declared 3 L/h diesel.
    trial = make_trial(
        session,
        code="LGB-CALC",
        start_date=date(2024, 3, 1),
        end_date=date(2024, 3, 2),
        baseline_rate=3.0,
        baseline_unit="L/h",
        market_factor_g_per_kwh=50.0,
    )
    unit = make_unit(session, trial)
    make_measurement(session, unit, date(2024, 3, 1), operating_hours=10.0, energy_kwh=250.0)
    make_measurement(session, unit, date(2024, 3, 2), operating_hours=12.0, energy_kwh=310.0)
    make_user(session, email("admin"), role=Role.admin)
    api = Api(client, issue_token(session, "admin"))

    body = api.get("/api/v1/trials/LGB-CALC/metrics").get_json()
    kwh, hours, baseline_l = 560.0, 22.0, 3.0 * 22.0
    baseline_wtw, wtw = baseline_l * 3.324, kwh * 0.229
    assert body["trial"] == "LGB-CALC" and body["factor_set"] == DEFAULT_SET and body["basis"] == "location"
    assert body["baseline"] == {
        "kind": "diesel",
        "method": "declared",
        "rate": 3.0,
        "rate_unit": "L/hour",
        "litres_per_activity": 3.0,
        "activity": "hour",
        "thin": False,
    }
    assert list(body["metrics"]) == [*METRIC_KEYS, "last_data_date"]
    assert body["metrics"]["last_data_date"] == "2024-03-02"
    # 3 L/h is under the yard tractor's 4-14 L/h and 25.5 kWh/h over its 6-25; active with data from March 2024
    # only: stale; one unit
    assert [check["code"] for check in body["checks"]] == [
        "baseline_out_of_range",
        "intensity_out_of_range",
        "stale",
        "single_unit",
    ]
    assert body["units"] == METRIC_UNITS
    assert body["flags"] == []
    expected = {
        "operating_hours": hours,
        "energy_kwh": kwh,
        "hydrogen_kg": None,
        "diesel_l": None,
        "final_energy_kwh": kwh,
        "kwh_per_hour": kwh / hours,
        "kwh_per_move": None,
        "baseline_diesel_l": baseline_l,
        "diesel_displaced_l": baseline_l,
        "efficiency_ratio": baseline_l * 9.95 / kwh,
        "ghg_ttw_kg": 0.0,
        "ghg_wtw_kg": wtw,
        "baseline_ghg_ttw_kg": baseline_l * 2.697,
        "baseline_ghg_wtw_kg": baseline_wtw,
        "ghg_wtw_avoided_kg": baseline_wtw - wtw,
        "ghg_wtw_reduction_pct": 100 * (baseline_wtw - wtw) / baseline_wtw,
        "nox_avoided_kg": baseline_l * 0.85 / 0.223 * 0.40 / 1000,  # fuel-based at Tier 4 Final (no rated power)
        "availability_pct": None,
        "data_coverage_pct": 100.0,
    }
    assert {key: body["metrics"][key] for key in expected} == pytest.approx(expected)

    market = api.get("/api/v1/trials/LGB-CALC/metrics?basis=market").get_json()
    assert market["basis"] == "market"
    assert market["metrics"]["ghg_wtw_kg"] == pytest.approx(kwh * 0.050)

    first_day = api.get("/api/v1/trials/LGB-CALC/metrics?as_of=2024-03-01").get_json()["metrics"]
    assert (first_day["energy_kwh"], first_day["last_data_date"]) == (250.0, "2024-03-01")  # 2 March is after as-of
    refused = api.get("/api/v1/trials/LGB-CALC/metrics?as_of=20240301")
    assert refused.status_code == 400 and refused.get_json()["error"].startswith("as_of:")


# Imports.

MEASUREMENTS_CSV = b"Trial,Unit,Date,Energy (kWh)\n"


def test_an_editor_imports_with_a_token_and_no_csrf_and_the_import_is_audited(
    as_viewer: Callable[[str], Api], engine: Engine, tmp_path: Path
) -> None:
    content = standard_file(tmp_path / "in.xlsx").read_bytes()
    api = as_viewer("editor_a")
    first = api.upload(content, filename="../../reports/in.xlsx")
    assert first.status_code == 200
    payload = first.get_json()
    batch = payload["batch"]
    assert payload == {
        "status": "imported",
        "batch": batch,
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "problems": [],
        "problem_groups": [],
        "review": STANDARD_REVIEW,
    }
    again = api.upload(content, filename="copy.xlsx")
    assert again.status_code == 200 and again.get_json() == {**payload, "status": "duplicate", "review": None}
    listed = api.get("/api/v1/imports").get_json()["items"]
    assert [(item["id"], item["filename"], item["created"]) for item in listed] == [(batch, "reports_in.xlsx", 4)]
    with Session(engine) as fresh:
        event = fresh.exec(select(AuditEvent).where(AuditEvent.action == "import")).one()
    assert (event.actor, event.import_batch_id) == (email("editor_a"), batch)
    assert api.get("/api/v1/trials/LGB-YT-01/measurements").get_json()["total"] == 3


def test_a_dry_run_writes_nothing(as_viewer: Callable[[str], Api], tmp_path: Path) -> None:
    api = as_viewer("admin")
    response = api.upload(standard_file(tmp_path / "in.xlsx").read_bytes(), filename="in.xlsx", dry_run="true")
    assert response.status_code == 200
    assert response.get_json()["status"] == "dry-run" and response.get_json()["batch"] is None
    assert response.get_json()["review"] == STANDARD_REVIEW  # the same facts as the web review and the CLI
    assert api.get("/api/v1/imports").get_json()["items"] == []
    assert api.get("/api/v1/trials/LGB-YT-01").status_code == 404


def test_a_rejected_import_is_422_and_a_hidden_trial_is_as_unknown_as_a_missing_one(
    as_viewer: Callable[[str], Api],
) -> None:
    content = MEASUREMENTS_CSV + b"SIN-PRIV,U1,2024-03-01,5\nNOPE,U1,2024-03-02,5\n"
    response = as_viewer("editor_a").upload(content, filename="m.csv")
    assert response.status_code == 422
    payload = response.get_json()
    assert payload["status"] == "rejected" and payload["batch"] is None
    assert payload["problems"] == [
        {
            "sheet": "m",
            "row": row,
            "column": "Trial",
            "value": code,
            "message": f"unknown trial {code!r}: add it on a 'Trials' sheet or create it first",
        }
        for row, code in ((2, "SIN-PRIV"), (3, "NOPE"))
    ]


def test_form_fields_reach_the_importer(as_viewer: Callable[[str], Api]) -> None:
    api = as_viewer("editor_a")
    content = b"Unit,Date,Energy (kWh)\nU7,03/04/2024,5\n"
    assert api.upload(content, trial="LGB-PRIV").status_code == 422  # 03/04 is ambiguous without day_first
    response = api.upload(content, trial="LGB-PRIV", day_first="true")
    assert response.status_code == 200, response.get_json()
    items = api.get("/api/v1/trials/LGB-PRIV/measurements").get_json()["items"]
    assert [(item["unit_id"], item["period_start"]) for item in items] == [
        ("LGB-PRIV-U1", "2024-03-01"),
        ("U7", "2024-04-03"),
    ]


@pytest.mark.parametrize(
    ("upload", "fields", "parameter"),
    [
        (None, {}, "file"),
        (None, {"file": "not a file"}, "file"),
        ("", {}, "file"),
        ("m.csv", {"dry_run": "maybe"}, "dry_run"),
        ("m.csv", {"day_first": "2"}, "day_first"),
    ],
)
def test_a_malformed_upload_gives_400_naming_the_field(
    as_viewer: Callable[[str], Api], upload: str | None, fields: dict[str, str], parameter: str
) -> None:
    data: dict[str, Any] = dict(fields)
    if upload is not None:  # a file with no name is what a browser sends when none was chosen
        data["file"] = (io.BytesIO(MEASUREMENTS_CSV), upload)
    response = as_viewer("editor_a").post("/api/v1/imports", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(f"{parameter}: ")


@pytest.mark.parametrize("viewer", ["partner_a", "executive"])
def test_readers_may_not_import(as_viewer: Callable[[str], Api], viewer: str, tmp_path: Path) -> None:
    response = as_viewer(viewer).upload(standard_file(tmp_path / "in.xlsx").read_bytes(), filename="in.xlsx")
    assert response.status_code == 403
    assert as_viewer("admin").get("/api/v1/imports").get_json()["items"] == []


def test_a_cookie_session_post_needs_the_csrf_header(client: FlaskClient, world: dict[str, str]) -> None:
    assert sign_in(client, email("editor_a")) == 302
    api = Api(client)
    content = MEASUREMENTS_CSV + b"LGB-PRIV,U2,2024-03-01,5\n"
    refused = api.upload(content)
    assert refused.status_code == 400 and "CSRF" in refused.get_json()["error"]
    cookie = client.get_cookie("_csrf_token")
    assert cookie is not None
    accepted = api.upload(content, headers={"X-CSRFToken": cookie.value})
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "imported"


@pytest.mark.parametrize("viewer", ["partner_a", "executive"])
def test_a_cookie_session_of_a_reader_may_not_import(client: FlaskClient, world: dict[str, str], viewer: str) -> None:
    assert sign_in(client, email(viewer)) == 302
    cookie = client.get_cookie("_csrf_token")
    assert cookie is not None
    response = Api(client).upload(MEASUREMENTS_CSV, headers={"X-CSRFToken": cookie.value})
    assert response.status_code == 403


@pytest.mark.parametrize("signed_by", ["token", "cookie"])
def test_an_upload_over_the_size_limit_is_413_json(
    app: Flask, client: FlaskClient, world: dict[str, str], signed_by: str
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 2048
    headers: dict[str, str] = {}
    if signed_by == "cookie":
        sign_in(client, email("editor_a"))
        cookie = client.get_cookie("_csrf_token")
        assert cookie is not None
        headers["X-CSRFToken"] = cookie.value
    api = Api(client, world["editor_a"] if signed_by == "token" else None)
    response = api.upload(MEASUREMENTS_CSV + b"LGB-PRIV,U2,2024-03-01,5\n" * 200, headers=headers)
    assert response.status_code == 413
    assert "error" in response.get_json()


def test_the_upload_is_deleted_after_the_import(
    as_viewer: Callable[[str], Api], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(uploads))
    response = as_viewer("editor_a").upload(MEASUREMENTS_CSV + b"LGB-PRIV,U2,2024-03-01,5\n")
    assert response.status_code == 200
    assert list(uploads.iterdir()) == []


def test_import_batches_are_listed_by_the_importers_port(as_viewer: Callable[[str], Api]) -> None:
    from_a = as_viewer("editor_a").upload(MEASUREMENTS_CSV + b"LGB-PRIV,U2,2024-03-01,5\n", filename="a.csv")
    from_b = as_viewer("editor_b").upload(MEASUREMENTS_CSV + b"SIN-PRIV,U2,2024-03-01,5\n", filename="b.csv")
    batch_a, batch_b = from_a.get_json()["batch"], from_b.get_json()["batch"]
    for viewer, expected in {
        "partner_a": [batch_a],
        "editor_a": [batch_a],
        "partner_b": [batch_b],
        "executive": [batch_b, batch_a],
        "admin": [batch_b, batch_a],
    }.items():
        items = as_viewer(viewer).get("/api/v1/imports").get_json()["items"]
        assert [item["id"] for item in items] == expected, viewer


# Errors.


def test_unknown_paths_and_methods_answer_json(as_viewer: Callable[[str], Api]) -> None:
    api = as_viewer("admin")
    assert api.get("/api/v1/nothing-here").status_code == 404
    assert api.call("DELETE", "/api/v1/trials").status_code == 405


def test_an_unexpected_error_answers_500_without_details(
    as_viewer: Callable[[str], Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_kwargs: Any) -> None:
        raise RuntimeError("password=hunter2 in /srv/secret.sqlite")

    monkeypatch.setattr(api_module, "list_ports", broken)
    response = as_viewer("admin").get("/api/v1/ports")
    assert response.status_code == 500
    assert response.get_json() == {"error": MESSAGES[500], "status": 500}


# The document.


def test_the_served_document_is_valid_openapi_3_1(as_viewer: Callable[[str], Api]) -> None:
    served = as_viewer("partner_a").get("/api/v1/openapi.json").get_json()
    assert served == json.loads(json.dumps(DOCUMENT))
    try:
        from openapi_spec_validator import validate
    except ImportError:  # the validator is optional; the essentials below are checked either way
        pass
    else:
        validate(served)
    assert served["openapi"].startswith("3.1")
    assert {"info", "paths", "components"} <= set(served)
    assert set(served["components"]["securitySchemes"]) == {"bearerToken", "sessionCookie"}


def test_every_component_schema_is_valid_json_schema() -> None:
    for schema in DOCUMENT["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_every_api_route_is_documented_and_every_documented_route_exists(app: Flask) -> None:
    served = {
        (rule.rule.replace("<", "{").replace(">", "}"), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, item in DOCUMENT["paths"].items() for method in item}
    assert served == documented


# Trial codes (issue 18, finding 10): only characters that need no escaping in an address.


def _trials_sheet(*codes: str) -> bytes:
    """A workbook whose Trials sheet holds one valid trial per code."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Trials"
    sheet.append(["Code", "Port", "Equipment class", "Technology", "Start date"])
    for code in codes:
        sheet.append([code, "USLGB", "yard_tractor", "battery_electric", date(2024, 1, 1)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("code", ["LGB/YT-01", "y](https://evil.example/p)", "..", "LGB YT 01", "-LGB"])
def test_an_imported_trial_code_outside_letters_digits_dot_underscore_and_dash_is_refused(
    as_viewer: Callable[[str], Api], code: str
) -> None:
    api = as_viewer("editor_a")
    response = api.upload(_trials_sheet("LGB.YT_02-a", code), filename="t.xlsx")
    assert response.status_code == 422
    assert response.get_json()["problems"] == [
        {"sheet": "Trials", "row": 3, "column": "Code", "value": code, "message": TRIAL_CODE_RULE}
    ]
    assert api.upload(_trials_sheet("LGB.YT_02-a"), filename="t.xlsx").status_code == 200
    assert api.get("/api/v1/trials/LGB.YT_02-a").status_code == 200


# The document and the server agree (issue 18, finding 12): a value the document allows is answered, one it does not
# allow is refused.

MEASUREMENTS = "/api/v1/trials/{code}/measurements"


def _parameter(path: str, name: str) -> dict[str, Any]:
    """The documented schema of one query parameter of a GET route."""
    [found] = [p for p in DOCUMENT["paths"][path]["get"]["parameters"] if p["name"] == name]
    schema: dict[str, Any] = found["schema"]
    return schema


@pytest.mark.parametrize(
    ("path", "url", "name", "value", "status"),
    [
        ("/api/v1/trials", "/api/v1/trials?port=", "port", "", 400),
        ("/api/v1/trials", "/api/v1/trials?port=uslgb", "port", "uslgb", 400),
        ("/api/v1/trials", "/api/v1/trials?port=USLGB", "port", "USLGB", 200),
        (MEASUREMENTS, "/api/v1/trials/LGB-PRIV/measurements?page=1000000001", "page", 10**9 + 1, 400),
        (MEASUREMENTS, "/api/v1/trials/LGB-PRIV/measurements?page=1000000000", "page", 10**9, 200),
    ],
)
def test_the_document_allows_a_parameter_value_exactly_when_the_server_answers_it(
    as_viewer: Callable[[str], Api], path: str, url: str, name: str, value: Any, status: int
) -> None:
    assert as_viewer("admin").get(url).status_code == status
    assert Draft202012Validator(_parameter(path, name)).is_valid(value) == (status == 200)


def test_the_document_says_an_empty_file_is_rejected_with_422(as_viewer: Callable[[str], Api]) -> None:
    response = as_viewer("editor_a").upload(b"", filename="empty.csv")
    assert response.status_code == 422
    form = DOCUMENT["paths"]["/api/v1/imports"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert not Draft202012Validator(form["properties"]["file"]).is_valid("")
    assert Draft202012Validator(form["properties"]["file"]).is_valid("Trial,Unit")


# Trial fields of METHODOLOGY.md §7, written through the import and read back.

TRIAL_FIELDS_CSV = (
    "Code,Name,Port,Equipment class,Technology,Start date,Baseline kind,Baseline rate,Baseline unit,"
    "Baseline engine,Hydrogen pathway,Hydrogen factor (kg CO2e/kg),Hydrogen factor source\n"
)


def test_an_imported_trial_answers_its_baseline_kind_engine_and_hydrogen_factor(
    as_viewer: Callable[[str], Api],
) -> None:
    row = "LGB-H2,Fuel-cell tractors,USLGB,yard_tractor,hydrogen_fuel_cell,2024-01-01,diesel,1.85,gal/h,"
    row += "nonroad_tier3,declared,2.4,supplier certificate 2024\n"
    imported = as_viewer("editor_a").upload((TRIAL_FIELDS_CSV + row).encode(), filename="trials.csv")
    assert imported.status_code == 200, imported.get_json()
    body = as_viewer("editor_a").get("/api/v1/trials/LGB-H2").get_json()
    assert {name: body[name] for name in ("baseline_kind", "baseline_rate", "baseline_unit", "baseline_engine")} == {
        "baseline_kind": "diesel",
        "baseline_rate": 1.85,
        "baseline_unit": "gal/h",
        "baseline_engine": "nonroad_tier3",
    }
    assert (body["hydrogen_pathway"], body["hydrogen_factor_kg_per_kg"], body["hydrogen_factor_source"]) == (
        "declared",
        2.4,
        "supplier certificate 2024",
    )


def test_an_imported_yearly_baseline_is_422_naming_its_cell_and_writes_nothing(
    as_viewer: Callable[[str], Api],
) -> None:
    row = "LGB-TUG,Electric tug,USLGB,tug,battery_electric,2024-01-01,diesel,30000,gal/yr,,,,\n"
    response = as_viewer("editor_a").upload((TRIAL_FIELDS_CSV + row).encode(), filename="trials.csv")
    assert response.status_code == 422
    assert response.get_json()["problems"] == [
        {
            "sheet": "trials",
            "row": 2,
            "column": "Baseline unit",
            "value": "gal/yr",
            "message": "a rate per year depends on the hours worked: give litres per hour (or per move, km), "
            "e.g. 'L/h' or 'gal/mi'",
        }
    ]
    assert as_viewer("editor_a").get("/api/v1/trials/LGB-TUG").status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/ports?x=%00", "/api/v1/trials/LGB%00PRIV", "/api/v1/imports?%00=1"])
def test_text_no_database_takes_answers_a_documented_400(as_viewer: Callable[[str], Api], url: str) -> None:
    response = as_viewer("admin").get(url)  # held to the document like every answer
    assert response.status_code == 400
