"""Small makers of rows with sensible defaults (tests override what they are about), and every helper tests share:
signing in, posting forms and Dash callbacks, import files, answers checked against the API document."""

from __future__ import annotations

import importlib.util
import io
import json
import re
import shutil
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from app.openapi import document
from tests import hostile_files
from trials.models import (
    AuditEvent,
    EquipmentClass,
    Measurement,
    Role,
    Technology,
    Trial,
    TrialStatus,
    Unit,
    UnitRole,
    User,
    Visibility,
)
from trials.rollups import refresh_rollups


def make_trial(session: Session, **overrides: Any) -> Trial:
    """Add a battery-electric yard tractor trial at Long Beach, unless told otherwise."""
    fields: dict[str, Any] = {
        "code": "LGB-YT-01",
        "name": "Battery-electric yard tractors",
        "port_locode": "USLGB",
        "equipment_class": EquipmentClass.yard_tractor,
        "technology": Technology.battery_electric,
        "start_date": date(2024, 1, 1),
        "end_date": date(2024, 12, 31),
        "status": TrialStatus.active,
        "visibility": Visibility.private,
    }
    trial = Trial(**(fields | overrides))
    session.add(trial)
    session.commit()
    return trial


def make_unit(session: Session, trial: Trial, unit_id: str = "YT-1", role: UnitRole = UnitRole.trial) -> Unit:
    """Add one unit to a trial."""
    assert trial.id is not None
    unit = Unit(trial_id=trial.id, unit_id=unit_id, role=role)
    session.add(unit)
    session.commit()
    return unit


def make_measurement(session: Session, unit: Unit, day: date, days: int = 1, **values: Any) -> Measurement:
    """Add one measurement of a unit over [day, day + days) and rebuild its trial's rollups, as an import does: the
    dashboards read the rollups, so a test never has to remember to."""
    return make_measurements(session, unit, {day: values}, days=days)[0]


def make_measurements(
    session: Session, unit: Unit, values_by_day: dict[date, dict[str, Any]], days: int = 1
) -> list[Measurement]:
    """Add a unit's measurements, each over [day, day + days), and rebuild its trial's rollups once, as one import of
    them does."""
    assert unit.id is not None
    rows = [
        Measurement(
            trial_id=unit.trial_id, unit_id=unit.id, period_start=day, period_end=day + timedelta(days=days), **values
        )
        for day, values in values_by_day.items()
    ]
    session.add_all(rows)
    refresh_rollups(session, [unit.trial_id])
    session.commit()
    return rows


PASSWORD = "correct horse battery"
#: The test users' hash, made once with scrypt at a low work factor: every sign-in of a test checks it, and the app
#: reads the work factor from the hash itself, so the same code path runs in a few ms instead of ~90 ms. Tests of
#: the hash's own cost (timing) use STRONG_PASSWORD_HASH, what `zetrials users add` stores.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="scrypt:1024:8:1")
STRONG_PASSWORD_HASH = generate_password_hash(PASSWORD)


def make_user(session: Session, email: str = "ana@example.org", **overrides: Any) -> User:
    """Add an active user with the password 'correct horse battery'."""
    fields: dict[str, Any] = {"email": email, "password_hash": PASSWORD_HASH, "role": Role.executive}
    user = User(**(fields | overrides))
    session.add(user)
    session.commit()
    return user


# --- signing in and posting forms, as a browser does ---------------------------------------------------------------


def csrf_token(client: FlaskClient) -> str:
    """Read the CSRF token from the sign-in form, as a browser would."""
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> int:
    """Post the sign-in form with its CSRF token and return the status."""
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})
    return response.status_code


def page_token(client: FlaskClient, path: str) -> str:
    """Read the CSRF token from a page's form, as a browser would."""
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def post_form(client: FlaskClient, path: str, data: dict[str, Any], form_page: str | None = None) -> Any:
    """Post a form with the CSRF token of the page that shows it."""
    return client.post(path, data=data | {"csrf_token": page_token(client, form_page or path)})


def reread(session: Session) -> None:
    """End the test session's transaction and forget what it loaded, so it sees what the app wrote meanwhile."""
    session.rollback()
    session.expire_all()


def events(session: Session, action: str) -> list[AuditEvent]:
    """The audit events of one action, oldest first, read afresh."""
    reread(session)
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))))


# --- dashboard callbacks, as Dash's renderer calls them ------------------------------------------------------------


CALLBACK = "/dashboard/_dash-update-component"


def csrf_header(client: FlaskClient) -> dict[str, str]:
    """Send back the CSRF cookie as Dash's renderer does."""
    cookie = client.get_cookie("_csrf_token")
    assert cookie is not None
    return {"X-CSRFToken": cookie.value}


def _callback_key(output: tuple[Any, str], pattern: bool = False) -> str:
    """Dash's name for one output: id.property; a pattern-matching id as sorted JSON, as the pattern if asked."""
    component, prop = output
    if not isinstance(component, dict):
        return f"{component}.{prop}"
    if pattern:  # the callback is registered under MATCH in every key but the type
        component = {key: value if key == "type" else ["MATCH"] for key, value in component.items()}
    return f"{json.dumps(component, sort_keys=True, separators=(',', ':'))}.{prop}"


def callback_body(
    outputs: list[tuple[Any, str]],
    inputs: list[tuple[Any, str, Any]],
    state: list[tuple[Any, str, Any]] | None = None,
    changed: tuple[Any, str] | None = None,
) -> dict[str, Any]:
    """The body Dash's renderer posts to call a callback."""
    key = (
        _callback_key(outputs[0], True)
        if len(outputs) == 1
        else ".." + "...".join(_callback_key(o, True) for o in outputs) + ".."
    )
    return {
        "output": key,
        "outputs": [{"id": c, "property": p} for c, p in outputs] if len(outputs) > 1 else {
            "id": outputs[0][0], "property": outputs[0][1]},
        "inputs": [{"id": c, "property": p, "value": v} for c, p, v in inputs],
        "state": [{"id": c, "property": p, "value": v} for c, p, v in (state or [])],
        "changedPropIds": [_callback_key(changed or (inputs[0][0], inputs[0][1]))],
    }  # fmt: skip


def post_callback(
    client: FlaskClient,
    outputs: list[tuple[Any, str]],
    inputs: list[tuple[Any, str, Any]],
    state: list[tuple[Any, str, Any]] | None = None,
    changed: tuple[Any, str] | None = None,
) -> Any:
    """Call a callback as Dash's renderer does, and give its response (or the status when it failed)."""
    body = callback_body(outputs, inputs, state, changed)
    response = client.post(CALLBACK, json=body, headers=csrf_header(client) if client.get_cookie("_csrf_token") else {})
    return response.get_json()["response"] if response.status_code == 200 else response.status_code


def url_search(value: str = "") -> list[tuple[Any, str, Any]]:
    """The URL query string as a callback input."""
    return [("url", "search", value)]


TRIAL_PAGE = [("url", "pathname", "/dashboard/trials/SIN-PRIVATE")]
#: Every callback that answers with trial data, as (outputs, inputs, state) for an all-time view of yard tractors.
DATA_CALLBACKS: dict[str, tuple[list[tuple[Any, str]], list[tuple[Any, str, Any]], list[tuple[Any, str, Any]]]] = {
    "headlines": ([("headlines", "children")], url_search(), []),
    "map": ([("chart-map", "figure")], url_search(), []),
    "monthly": ([("chart-monthly", "figure")], url_search(), []),
    "compare": (
        [
            ("chart-bars", "figure"),
            ("chart-grid", "figure"),
            ("compare-note", "children"),
            ("compare-report", "children"),
            ("compare-table", "children"),
        ],
        url_search("?class=yard_tractor"),
        [],
    ),
    "spread": ([("chart-spread", "figure")], url_search("?class=yard_tractor"), []),
    "trials": ([("trials-grid", "rowData"), ("trials-summary", "children")], url_search(), []),
    "trial": (
        [
            ("trial-title", "children"),
            ("trial-header", "children"),
            ("trial-metrics", "children"),
            ("chart-series", "figure"),
            ("chart-baseline", "figure"),
            ("chart-availability", "figure"),
            ("chart-charging", "figure"),
            ("chart-calendar", "figure"),
        ],
        url_search(),
        TRIAL_PAGE,
    ),
    "provenance": (
        [("provenance-grid", "rowData"), ("provenance-status", "children"), ("provenance-page", "data")],
        [("provenance-previous", "n_clicks", 0), ("provenance-next", "n_clicks", 0)],
        [("provenance-page", "data", 0), *TRIAL_PAGE, ("url", "search", "")],
    ),
    "download": (
        [({"chart": "trials", "type": "download"}, "data")],
        [({"chart": "trials", "type": "download-button"}, "n_clicks", 1)],
        [("url", "search", ""), ("url", "pathname", "/dashboard/trials")],
    ),
}


def trial_page(client: FlaskClient, code: str, search: str = "") -> Any:
    """The dashboard's trial page for a code as the signed-in client's renderer fills it: its main callback's answer."""
    client.get("/dashboard/")  # the CSRF cookie the renderer sends back
    outputs, _inputs, _state = DATA_CALLBACKS["trial"]
    return post_callback(client, outputs, url_search(search), [("url", "pathname", f"/dashboard/trials/{code}")])


def shown_text(answer: Any) -> str:
    """The words a person reads in a Dash answer: every text child, none of the ids, classes or figures' data."""
    if isinstance(answer, str):
        return answer
    if isinstance(answer, list):
        return " ".join(shown_text(item) for item in answer)
    if isinstance(answer, dict):
        if "props" in answer:  # a component
            return shown_text(answer["props"].get("children"))
        return " ".join(shown_text(value) for key, value in answer.items() if key != "figure")  # outputs, rows
    return "" if answer is None else str(answer)


# --- import files --------------------------------------------------------------------------------------------------


CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real-files"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the shared real-file corpus is not at {CORPUS}")
TRIALS_HEADER = [
    "Code",
    "Name",
    "Port",
    "Equipment class",
    "Technology",
    "Start date",
    "Baseline rate",
    "Baseline unit",
]
LGB_TRIAL = ["LGB-YT-01", "Yard tractors", "USLGB", "yard_tractor", "battery_electric", date(2024, 1, 1), 3, "L/h"]
MEASURE_HEADER = ["Trial", "Unit", "Date", "Operating hours (h)", "Energy (kWh)", "Moves"]


def write_xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """Write a workbook with these sheets and rows, in this order."""
    workbook = Workbook()
    default = workbook.active
    assert default is not None
    workbook.remove(default)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def standard_file(path: Path, energy: float = 250.0) -> Path:
    """A Trials sheet with one trial and three days of one tractor's measurements."""
    return write_xlsx(
        path,
        {
            "Trials": [TRIALS_HEADER, LGB_TRIAL],
            "Measurements": [
                MEASURE_HEADER,
                ["LGB-YT-01", "YT-1", date(2024, 3, 1), 10, energy, 40],
                ["LGB-YT-01", "YT-1", date(2024, 3, 2), 12, 310, 50],
                ["LGB-YT-01", "YT-2", date(2024, 3, 1), 8, 190, None],
            ],
        },
    )


#: The review of standard_file, worked by hand: YT-1 10 + 12 = 22 h, 250 + 310 = 560 kWh, 40 + 50 = 90 moves, so
#: 560 / 22 = 25.45 kWh/h, above a yard tractor's 6-25 kWh/h (METHODOLOGY.md §8); YT-2 8 h, 190 kWh (23.75 kWh/h);
#: the file has no Role column, so both new units are taken as trial units.
STANDARD_REVIEW: dict[str, Any] = {
    "units": [
        {
            "trial": "LGB-YT-01", "unit": "YT-1", "role": "trial", "role_label": "trial unit", "new": True, "rows": 2,
            "first_day": "2024-03-01", "last_day": "2024-03-02",
            "totals": [
                {"field": "energy_kwh", "label": "Electricity", "unit": "kWh", "value": 560.0},
                {"field": "operating_hours", "label": "Operating hours", "unit": "h", "value": 22.0},
                {"field": "moves", "label": "Moves", "unit": "moves", "value": 90.0},
            ],
            "rates": [{"field": "energy_kwh", "label": "Electricity", "unit": "kWh/h", "value": 560 / 22}],
        },
        {
            "trial": "LGB-YT-01", "unit": "YT-2", "role": "trial", "role_label": "trial unit", "new": True, "rows": 1,
            "first_day": "2024-03-01", "last_day": "2024-03-01",
            "totals": [
                {"field": "energy_kwh", "label": "Electricity", "unit": "kWh", "value": 190.0},
                {"field": "operating_hours", "label": "Operating hours", "unit": "h", "value": 8.0},
            ],
            "rates": [{"field": "energy_kwh", "label": "Electricity", "unit": "kWh/h", "value": 190 / 8}],
        },
    ],
    "warnings": [
        {
            "code": "rate_out_of_range",
            "message": "LGB-YT-01: electricity in kWh per hour is outside the plausible 6-25 kWh per hour "
            "(METHODOLOGY.md §8) for YT-1 25.5: check the units in the headers and the roles.",
            "trial": "LGB-YT-01",
        },
        {
            "code": "role_assumed",
            "message": "No role is given for 2 new units of LGB-YT-01 (YT-1, YT-2): they are taken as trial units. "
            "Add a Role column, or map the column that says which are baseline machines.",
            "trial": "LGB-YT-01",
        },
    ],
    "profile": None,
}  # fmt: skip


def fleet_group_file(path: Path, trial: str = "LAX-YT-02", energy: float = 150.0) -> Path:
    """An OEM export as the issue found it: a 'Fleet Group' column says which units are the trial's ('Pilot EV') and
    which the diesel baseline ('Diesel baseline'), on a battery-electric yard tractor trial planning 2 units. Two days
    of EV-1 (10 h, `energy` kWh a day), EV-2 (8 h, 120 kWh) and the diesel D-1 (10 h, 80 L)."""
    header = ["Code", "Name", "Port", "Equipment class", "Technology", "Start date", "Units planned"]
    trial_row = [trial, "Pilot EVs", "USLAX", "yard_tractor", "battery_electric", date(2024, 1, 1), 2]
    rows: list[list[Any]] = [["Trial", "Unit", "Fleet Group", "Date", "Operating hours", "Energy (kWh)", "Diesel (L)"]]
    for day in (date(2024, 3, 1), date(2024, 3, 2)):
        rows.append([trial, "EV-1", "Pilot EV", day, 10, energy, None])
        rows.append([trial, "EV-2", "Pilot EV", day, 8, 120, None])
        rows.append([trial, "D-1", "Diesel baseline", day, 10, None, 80])
    return write_xlsx(path, {"Trials": [header, trial_row], "Measurements": rows})


#: Headless Chromium as the browser tests run it (Debian's chromium and chromium-driver).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1800",
)


def browser_missing() -> str | None:
    """Say what the browser tests lack on this machine, if anything."""
    if importlib.util.find_spec("selenium") is None:
        return "browser tests need selenium (pip install selenium)"
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        return "browser tests need Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver)"
    return None


def headless_chromium() -> Any:
    """Headless Chromium that keeps the console log, to fail a test on a page's errors."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium") or ""
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or ""), options=options)


def stored_with_notes(engine: Engine) -> list[tuple[Any, ...]]:
    """The stored measurements as (unit, day, hours, energy, moves, notes), to compare imports of the same data."""
    with Session(engine) as session:
        query = (
            select(Unit.unit_id, Measurement.period_start, Measurement.operating_hours, Measurement.energy_kwh)
            .join(Unit, Unit.id == Measurement.unit_id)  # type: ignore[arg-type]
            .add_columns(Measurement.moves, Measurement.notes)
            .order_by(Unit.unit_id, Measurement.period_start)
        )
        return [tuple(row) for row in session.exec(query)]


def table_counts(engine: Engine) -> tuple[int, ...]:
    """How many rows the tables an import writes hold, to prove a refused file wrote nothing."""
    with engine.connect() as connection:
        return tuple(
            connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608 - fixed names
            for table in ("trial", "unit", "measurement", "importbatch")
        )


#: The makers of tests/hostile_files.py, each writing one file that no import may accept.
HOSTILE = sorted(name for name in dir(hostile_files) if name.startswith("make_"))


def upload(client: FlaskClient, path: Path, **fields: str) -> str:
    """Post a file with the form's CSRF token and return the review page's path."""
    page = client.get("/imports").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    data = {"file": (io.BytesIO(path.read_bytes()), path.name), "csrf_token": token.group(1), **fields}
    response = client.post("/imports", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def finished(client: FlaskClient, review: str) -> str:
    """Wait (bounded) for the background run to finish and return the review page."""
    for _ in range(200):
        state = client.get(f"{review}/status").get_json()["state"]
        if state not in ("queued", "running"):
            return client.get(review).get_data(as_text=True)
        time.sleep(0.05)
    raise AssertionError("the import did not finish within 10 s")


# --- API answers held to the OpenAPI document ----------------------------------------------------------------------


DOCUMENT = document(session_cookie="session")
FORMATS = Draft202012Validator.FORMAT_CHECKER


def _documented_path(path: str) -> str | None:
    """Find the documented path that a request path matches, `{name}` standing for one segment."""
    parts = path.rstrip("/").split("/")
    template: str
    for template in DOCUMENT["paths"]:
        pattern = template.split("/")
        if len(pattern) != len(parts):
            continue
        if all(p == q or (p.startswith("{") and q) for p, q in zip(pattern, parts, strict=True)):
            return template
    return None


def response_schema(method: str, path: str, status: int) -> dict[str, Any]:
    """Give the documented schema of this route's answer with this status; undocumented answers fail the test."""
    template = _documented_path(path)
    operation = DOCUMENT["paths"][template].get(method.lower()) if template else None
    if operation is None:  # a path or method the API does not have: a plain JSON error
        assert status in (401, 404, 405), f"{method} {path} answered {status}"
        return {"$ref": "#/components/schemas/Error"}
    responses = operation["responses"]
    assert str(status) in responses, f"{method} {template} answered {status}, which the document does not list"
    schema: dict[str, Any] = responses[str(status)]["content"]["application/json"]["schema"]
    return schema


def check_against_document(method: str, path: str, response: TestResponse) -> None:
    """Validate a real answer's body against the JSON Schema the document gives for its route and status."""
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
    schema = {**response_schema(method, path, response.status_code), "components": DOCUMENT["components"]}
    Draft202012Validator(schema, format_checker=FORMATS).validate(response.get_json())
