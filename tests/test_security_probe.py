"""The probes of the security review (issue 18), replayed exactly: each failed before its fix."""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from app.dashboard import figures, guard
from app.dashboard.compare_data import COMPARE_COLUMNS, GRID_COLUMNS, SPREAD_COLUMNS
from app.dashboard.data import MAP_COLUMNS
from app.dashboard.pages.trials import TRIAL_GRID_COLUMNS, layout
from app.dashboard.table import Table
from tests.factories import (
    CALLBACK,
    DATA_CALLBACKS,
    PASSWORD,
    STRONG_PASSWORD_HASH,
    csrf_header,
    csrf_token,
    make_trial,
    make_user,
    post_callback,
    sign_in,
)
from trials import accounts
from trials.accounts import authenticate, create_token
from trials.models import Role

ADMIN = "admin@example.org"
PARTNER = "p@lgb.example"


def _session_cookie_set(response: Any) -> bool:
    """Tell whether an answer hands the client a session cookie."""
    return any(header.startswith("session=") for header in response.headers.getlist("Set-Cookie"))


# --- finding 3: account enumeration by timing ------------------------------------------------------------------


def _median_seconds(check: Callable[[], object], tries: int) -> float:
    """The median time of a call, over enough tries that one slow run cannot sway it."""
    times = []
    for _ in range(tries):
        started = time.perf_counter()
        check()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def test_a_wrong_password_takes_as_long_for_an_unknown_email_as_for_a_known_one(session: Session) -> None:
    make_user(session, PARTNER, role=Role.partner, port_locode="USLGB", password_hash=STRONG_PASSWORD_HASH)
    known = _median_seconds(lambda: authenticate(session, email=PARTNER, password="wrong password!"), 15)
    unknown = _median_seconds(lambda: authenticate(session, email="nobody@example.org", password="wrong!"), 15)
    # Before the fix an unknown email computed no hash: ~12 ms against ~154 ms, ranges apart.
    assert unknown >= known / 2, (known, unknown)


# --- finding 4: the lockout counts and checks in one locked step ------------------------------------------------


def test_forty_parallel_wrong_passwords_get_at_most_five_password_checks(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(session, PARTNER, role=Role.partner, port_locode="USLGB")
    checks: list[str] = []
    real_check = accounts.check_password_hash

    def counted_check(stored: str, password: str) -> bool:
        checks.append(password)  # list.append is atomic under the GIL
        return real_check(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", counted_check)
    clients = [app.test_client() for _ in range(40)]
    tokens = [csrf_token(client) for client in clients]
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def attempt(client: FlaskClient, token: str) -> None:
        start.wait()
        form = {"email": PARTNER, "password": "wrong password!", "csrf_token": token}
        statuses.append(client.post("/login", data=form).status_code)

    threads = [threading.Thread(target=attempt, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checks) == 5
    assert sorted(statuses) == [200] * 5 + [429] * 35


def test_a_right_password_after_four_failures_signs_in(client: FlaskClient, session: Session) -> None:
    make_user(session, PARTNER, role=Role.partner, port_locode="USLGB")
    for _ in range(4):
        assert sign_in(client, PARTNER, "wrong password!") == 200
    assert sign_in(client, PARTNER) == 302
    assert sign_in(client, PARTNER, "wrong password!") == 200
    assert sign_in(client, PARTNER) == 429


# --- finding 6: a bearer token always wins, and API answers set no session cookie ------------------------------


@pytest.fixture
def admin_token(session: Session) -> str:
    """An admin's API token."""
    make_user(session, ADMIN, role=Role.admin)
    token = create_token(session, email=ADMIN, actor="test")
    session.commit()
    return token


def test_a_bearer_token_still_works_after_an_html_answer(client: FlaskClient, admin_token: str) -> None:
    bearer = {"Authorization": f"Bearer {admin_token}"}
    page = client.get("/no-such-page", headers={**bearer, "Accept": "text/html"})
    assert page.status_code == 404
    assert not _session_cookie_set(page)
    client.get("/login")  # a browser page that does set a session cookie, held by the client from now on
    assert client.get_cookie("session") is not None
    answer = client.get("/api/v1/trials", headers=bearer)
    assert answer.status_code == 200
    assert not _session_cookie_set(answer)


def test_a_bearer_token_wins_over_another_users_session_cookie(
    client: FlaskClient, session: Session, admin_token: str
) -> None:
    make_user(session, PARTNER, role=Role.partner, port_locode="USLGB")
    assert sign_in(client, PARTNER) == 302
    as_partner = client.get("/admin/users", headers={"Accept": "text/html"})
    assert as_partner.status_code == 403
    as_admin = client.get("/admin/users", headers={"Accept": "text/html", "Authorization": f"Bearer {admin_token}"})
    assert as_admin.status_code == 200
    assert not _session_cookie_set(as_admin)


def test_a_bad_bearer_token_is_refused_even_with_a_live_session_cookie(client: FlaskClient, session: Session) -> None:
    make_user(session, PARTNER, role=Role.partner, port_locode="USLGB")
    assert sign_in(client, PARTNER) == 302
    assert client.get("/api/v1/trials").status_code == 200
    assert client.get("/api/v1/trials", headers={"Authorization": "Bearer not-a-token"}).status_code == 401


def test_a_cookie_signed_api_answer_sets_no_session_cookie(client: FlaskClient, session: Session) -> None:
    make_user(session, PARTNER, role=Role.partner, port_locode="USLGB")
    assert sign_in(client, PARTNER) == 302
    answer = client.get("/api/v1/trials")
    assert answer.status_code == 200
    assert not _session_cookie_set(answer)


# --- finding 7: sign-out revokes the session server-side ------------------------------------------------------


def test_a_session_cookie_replayed_after_sign_out_is_refused(app: Flask, client: FlaskClient, session: Session) -> None:
    make_user(session, PARTNER, role=Role.partner, port_locode="USLGB")
    assert sign_in(client, PARTNER) == 302
    stolen = client.get_cookie("session")
    assert stolen is not None
    assert client.post("/logout", data={"csrf_token": csrf_token(client)}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen.value)
    assert replay.get("/dashboard/", headers={"Accept": "text/html"}).status_code == 302
    assert replay.get("/api/v1/trials").status_code == 401


def test_signing_out_one_session_leaves_the_users_other_sessions_open(app: Flask, session: Session) -> None:
    make_user(session, PARTNER, role=Role.partner, port_locode="USLGB")
    laptop, phone = app.test_client(), app.test_client()
    assert sign_in(laptop, PARTNER) == 302 and sign_in(phone, PARTNER, PASSWORD) == 302
    laptop.post("/logout", data={"csrf_token": csrf_token(laptop)})
    assert laptop.get("/api/v1/trials").status_code == 401
    assert phone.get("/api/v1/trials").status_code == 200


# --- finding 5 (pages): a page number too large for the database ----------------------------------------------


def test_the_audit_log_refuses_a_page_beyond_any_database_integer(client: FlaskClient, session: Session) -> None:
    make_user(session, ADMIN, role=Role.admin)
    assert sign_in(client, ADMIN) == 302
    answer = client.get("/admin/audit?page=9223372036854775807", headers={"Accept": "text/html"})
    assert answer.status_code == 400
    assert "page: must be a whole number from 1 to" in answer.get_data(as_text=True)
    assert client.get("/admin/audit?page=2", headers={"Accept": "text/html"}).status_code == 200


# --- finding 1: link injection in the dashboard Trials grid -----------------------------------------------------


def _grid_rows(client: FlaskClient, search: str) -> list[dict[str, Any]]:
    """The Trials grid's rows as the dashboard's callback answers them for a view."""
    outputs, _inputs, _state = DATA_CALLBACKS["trials"]
    rows: list[dict[str, Any]] = post_callback(client, outputs, [("url", "search", search)])["trials-grid"]["rowData"]
    return rows


def test_the_trials_grid_renders_no_markdown_or_html() -> None:
    (grid,) = [child for child in layout().children if getattr(child, "id", None) == "trials-grid"]
    renderers = {column["field"]: column.get("cellRenderer") for column in grid.columnDefs}
    assert renderers["link"] == "TrialLink"
    assert [field for field, *_spec in TRIAL_GRID_COLUMNS] == list(renderers)
    assert set(renderers.values()) == {None, "TrialLink"}


def test_a_query_string_cannot_turn_trial_links_into_links_elsewhere(client: FlaskClient, session: Session) -> None:
    make_trial(session, code="LGB-1")
    make_user(session, PARTNER, role=Role.partner, port_locode="USLGB")
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    rows = _grid_rows(client, "?tech=battery_electric&z=)[EVIL](https://evil.example/phish)")
    assert [(row["link"], row["href"]) for row in rows] == [("LGB-1", "/dashboard/trials/LGB-1?tech=battery_electric")]
    assert "evil" not in json.dumps(rows).lower()


def test_a_trial_code_cannot_turn_its_link_into_a_link_elsewhere(client: FlaskClient, session: Session) -> None:
    code = "y](https://evil.example/p)"  # stored before codes were limited; such rows may still exist
    make_trial(session, code=code)
    make_user(session, PARTNER, role=Role.partner, port_locode="USLGB")
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    [row] = _grid_rows(client, "")
    assert row["link"] == code  # shown as text by TrialLink
    assert row["href"] == "/dashboard/trials/y%5D%28https%3A%2F%2Fevil.example%2Fp%29"


# --- finding 2: live links in Plotly text ---------------------------------------------------------------------

EVIL = '<a href="https://evil.example/p">click</a>'
SHOWN = '&lt;a href="https://evil.example/p"&gt;click&lt;/a&gt;'


def _figures_of_hostile_text() -> dict[str, Any]:
    """Every figure that draws text from trials, fed a trial code, unit id, port name and baseline source holding
    a link."""
    compare = {
        "port": "USLGB", "port_name": EVIL, "trial": EVIL, "technology": "battery_electric", "value": 1.0,
        "unit": "kWh/hour", "hydrogen": EVIL,
        "units_with_data": 1, "days_with_data": 2, "final_energy_kwh": 10.0, "activity": 10.0,
        "activity_unit": "hour", "baseline": f"declared 3 L/h, {EVIL}", "grid_kg_per_kwh": 0.2,
        "factor_set": EVIL, "basis": "location",
    }  # fmt: skip
    missing = compare | {"trial": EVIL + "2", "value": None}
    spread = {"port": "USLGB", "port_name": EVIL, "trial": EVIL, "technology": "battery_electric", "unit_id": EVIL}
    spread |= {"value": 1.0}
    grid = {"port": EVIL, "port_name": EVIL, "trial": EVIL, "technology": "battery_electric", "grid_g_per_kwh": 229.0}
    grid |= {"grid_year": 2024}
    port = {"port": "USLGB", "name": EVIL, "lat": 33.7, "lon": -118.2, "trials": 1, "ghg_wtw_avoided_t": 1.0}

    def table(columns: tuple[str, ...], *rows: dict[str, Any]) -> Table:
        return Table(columns, [tuple(row.get(column, 1) for column in columns) for row in rows])

    return {
        "bars": figures.compare_bars(table(COMPARE_COLUMNS, compare, missing), "Energy", "kWh/hour"),
        "spread": figures.compare_spread(table(SPREAD_COLUMNS, spread | {"unit": "kWh/hour"}), "Energy", "kWh/h"),
        "grid": figures.grid_scatter(table(GRID_COLUMNS, grid | {"ghg_wtw_reduction_pct": 50.0, "days_with_data": 2})),
        "map": figures.port_map(table(MAP_COLUMNS, port | {"trials_with_data": 1}), ["USLGB"]),
        "monthly": figures.monthly_by_port(
            Table(("month", "port", "ghg_wtw_avoided_t"), [("2024-03", EVIL, 1.0)]), {EVIL: EVIL}
        ),
    }


@pytest.mark.parametrize("name", ["bars", "spread", "grid", "map", "monthly"])
def test_text_from_the_data_shows_in_figures_as_text_never_as_a_link(name: str) -> None:
    drawn = _figures_of_hostile_text()[name].to_json()
    assert "<a " not in drawn and "\\u003ca " not in drawn.lower()
    assert "&lt;a href" in drawn


# --- finding 5: bad callback input answers 400 JSON, never 500 ------------------------------------------------


def _callbacks(app: Flask) -> dict[str, Any]:
    """Every callback of the app's dashboard, by Dash's key."""
    found: dict[str, Any] = app.extensions["zetrials.dash"].callback_map
    return found


def _concrete(component: str) -> Any:
    """A component id as the browser sends it: a pattern's wildcards filled in."""
    if not component.startswith("{"):
        return component
    return {key: "trials" if isinstance(value, list) else value for key, value in json.loads(component).items()}


def _body(key: str, callback: dict[str, Any], values: list[Any]) -> dict[str, Any]:
    """A callback request as Dash's renderer posts it, with these values for its inputs, then its state."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    outputs = [{"id": _concrete(c), "property": p} for c, _, p in (part.rpartition(".") for part in parts)]
    declared = [*callback["inputs"], *callback["state"]]
    items = [
        {"id": _concrete(d["id"]), "property": d["property"], "value": v} for d, v in zip(declared, values, strict=True)
    ]
    return {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": items[: len(callback["inputs"])],
        "state": items[len(callback["inputs"]) :],
        "changedPropIds": [f"{json.dumps(items[0]['id'])}.{items[0]['property']}"],
    }


@pytest.fixture
def dashboard(client: FlaskClient, session: Session) -> FlaskClient:
    """A partner signed in to the dashboard, with a trial of their port and a private one of another port."""
    make_trial(session, code="LGB-1")
    make_trial(session, code="SIN-PRIVATE", port_locode="SGSIN")
    make_user(session, PARTNER, role=Role.partner, port_locode="USLGB")
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    return client


def _call(client: FlaskClient, body: Any) -> Any:
    """Post a callback request with the session's CSRF header."""
    return client.post(CALLBACK, json=body, headers=csrf_header(client))


def _reads_search(callback: dict[str, Any]) -> bool:
    """Tell whether a callback reads the URL's query string."""
    return {"id": "url", "property": "search"} in [*callback["inputs"], *callback["state"]]


@pytest.mark.parametrize("search", ["?to=9999-12", "?from=0000-01", "?from=0001-01&to=9998-12"])
def test_months_at_the_calendars_ends_are_ignored_like_any_malformed_month(
    app: Flask, dashboard: FlaskClient, search: str
) -> None:
    for key, callback in _callbacks(app).items():
        if not _reads_search(callback):
            continue
        values = [
            search if d == {"id": "url", "property": "search"} else _valid_value(d)
            for d in [*callback["inputs"], *callback["state"]]
        ]
        answer = _call(dashboard, _body(key, callback, values))
        assert answer.status_code in (200, 204), (key, answer.status_code)


def _valid_value(declared: dict[str, str]) -> Any:
    """A value each input may hold in a real browser."""
    if declared["property"] == "pathname":
        return "/dashboard/trials/LGB-1"
    if declared["property"] in ("n_clicks", "data"):
        return 1
    return None


@pytest.mark.parametrize(
    ("output", "value"),
    [("headlines.children", ["?port=USLGB"]), ("headlines.children", 7), ("headlines.children", {"search": "?"})],
)
def test_a_search_of_the_wrong_type_answers_400_json(
    app: Flask, dashboard: FlaskClient, output: str, value: Any
) -> None:
    answer = _call(dashboard, _body(output, _callbacks(app)[output], [value]))
    assert answer.status_code == 400
    assert answer.get_json() == {
        "error": "callback request: inputs url.search has a value of the wrong type",
        "status": 400,
    }


def test_a_pathname_of_the_wrong_type_answers_400_json(app: Flask, dashboard: FlaskClient) -> None:
    answer = _call(dashboard, _body("page.children", _callbacks(app)["page.children"], [42]))
    assert answer.status_code == 400 and "url.pathname" in answer.get_json()["error"]


def test_a_provenance_page_that_is_not_a_number_answers_400_json(app: Flask, dashboard: FlaskClient) -> None:
    key = next(key for key in _callbacks(app) if "provenance-grid.rowData" in key)
    values = [0, 0, "abc", "/dashboard/trials/LGB-1", ""]
    answer = _call(dashboard, _body(key, _callbacks(app)[key], values))
    assert answer.status_code == 400 and "provenance-page.data" in answer.get_json()["error"]
    values[2] = 0
    assert _call(dashboard, _body(key, _callbacks(app)[key], values)).status_code == 200


def test_a_body_with_no_output_answers_400_json(app: Flask, dashboard: FlaskClient) -> None:
    body = _body("headlines.children", _callbacks(app)["headlines.children"], [""])
    del body["output"]
    answer = _call(dashboard, body)
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "callback request: output must name a callback of this dashboard"


def test_every_input_of_every_callback_has_a_declared_type(app: Flask) -> None:
    for callback in _callbacks(app).values():
        for declared in [*callback["inputs"], *callback["state"]]:
            name = json.loads(declared["id"])["type"] if declared["id"].startswith("{") else declared["id"]
            assert (name, declared["property"]) in guard.VALUES, declared


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
#: Characters a control or the URL may really send: any but NUL, which no database stores (a 400 of its own).
STORABLE = st.characters(exclude_characters="\x00")
QUERY = st.lists(
    st.tuples(
        st.sampled_from(["port", "class", "tech", "from", "to", "metric", "ghg", "basis", "grain", "z"]),
        st.text(STORABLE, max_size=12)
        | st.sampled_from(["9999-12", "0000-01", "2024-03", "USLGB", "yard_tractor", "ttw"]),
    ),
    max_size=4,
).map(lambda pairs: "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs))


def _well_typed(declared: dict[str, str]) -> st.SearchStrategy[Any]:
    """Values of the type an input's control really sends, including odd ones."""
    prop = declared["property"]
    if prop == "search":
        return st.none() | QUERY | st.text(STORABLE, max_size=40)
    if prop == "pathname":
        paths = st.text(STORABLE, max_size=30).map(lambda t: f"/dashboard/{t}")
        return st.none() | paths | st.just("/dashboard/trials/LGB-1")
    if prop in ("n_clicks", "data"):
        return st.none() | st.integers(0, 10**6)
    if declared["id"] in ("f-port", "f-tech"):
        return st.none() | st.lists(st.text(STORABLE, max_size=12), max_size=3)
    return st.none() | st.text(STORABLE, max_size=20)


FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@FUZZ
@given(data=st.data())
def test_fuzzed_callback_values_answer_400_or_their_figures_never_500(
    app: Flask, dashboard: FlaskClient, data: st.DataObject
) -> None:
    callbacks = _callbacks(app)
    key = data.draw(st.sampled_from(sorted(callbacks)))
    declared = [*callbacks[key]["inputs"], *callbacks[key]["state"]]
    typed = [data.draw(st.booleans()) for _ in declared]
    values = [data.draw(_well_typed(d) if ok else JSON) for d, ok in zip(declared, typed, strict=True)]
    answer = _call(dashboard, _body(key, callbacks[key], values))
    if all(typed):
        assert answer.status_code in (200, 204), (key, values, answer.status_code)
    else:
        assert answer.status_code in (200, 204, 400), (key, values, answer.status_code)
    if answer.status_code == 400:
        assert answer.get_json()["error"].startswith("callback request: ")
    assert "SIN-PRIVATE" not in answer.get_data(as_text=True)


@FUZZ
@given(data=st.data())
def test_fuzzed_callback_bodies_answer_400_never_500(app: Flask, dashboard: FlaskClient, data: st.DataObject) -> None:
    callbacks = _callbacks(app)
    key = data.draw(st.sampled_from(sorted(callbacks)))
    body: Any = _body(
        key, callbacks[key], [_valid_value(d) for d in [*callbacks[key]["inputs"], *callbacks[key]["state"]]]
    )
    field = data.draw(st.sampled_from(["output", "outputs", "inputs", "state", "changedPropIds", "body"]))
    if field == "body":
        body = data.draw(JSON)
    elif data.draw(st.booleans()):
        del body[field]
    else:
        body[field] = data.draw(JSON)
    answer = _call(dashboard, body)
    assert answer.status_code in (200, 204, 400), (body, answer.status_code)


# --- finding 5 (every parameter): text no database can store answers 400, never 500 -------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/trials?port=%00",
        "/api/v1/trials/%00",
        "/api/v1/trials/LGB%00/metrics",
        "/trials/%00",
        "/trials/LGB-1?factors=%00",
        "/admin/audit?actor=%00",
        "/admin/audit?action=%00",
        "/reports/trial/%00.xlsx",
        "/dashboard/trials/%00",
    ],
)
def test_a_nul_character_in_an_address_or_query_answers_400(client: FlaskClient, session: Session, url: str) -> None:
    make_user(session, ADMIN, role=Role.admin)
    token = create_token(session, email=ADMIN, actor="test")
    session.commit()
    answer = client.get(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    assert answer.get_json()["status"] == 400


def test_a_nul_character_in_the_sign_in_form_answers_400(client: FlaskClient, session: Session) -> None:
    make_user(session, PARTNER, role=Role.partner, port_locode="USLGB")
    form = {"email": "p\x00@lgb.example", "password": PASSWORD, "csrf_token": csrf_token(client)}
    assert client.post("/login", data=form).status_code == 400
    assert sign_in(client, PARTNER) == 302


def test_a_nul_character_in_a_callback_value_answers_400(app: Flask, dashboard: FlaskClient) -> None:
    key = "page.children"
    answer = _call(dashboard, _body(key, _callbacks(app)[key], ["/dashboard/trials/LGB\x00"]))
    assert answer.status_code == 400 and "url.pathname" in answer.get_json()["error"]
