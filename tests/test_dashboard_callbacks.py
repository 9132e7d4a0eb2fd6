"""Dashboard callbacks through the real server: exact figures, and nothing outside the signed-in user's scope."""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from sqlmodel import Session

from app.dashboard.pages.common import number
from app.dashboard.pages.trials import trial_layout
from tests.factories import (
    DATA_CALLBACKS,
    make_measurement,
    make_trial,
    make_unit,
    make_user,
    post_callback,
    sign_in,
    url_search,
)
from trials.models import Role, RollupStamp, Trial, UnitRole, Visibility
from trials.queries import today, trial_metrics
from trials.scope import Scope

PARTNER = "p@lgb.example"


def _trial(session: Session, code: str, port: str, visibility: Visibility, energy: float) -> Trial:
    """A yard tractor trial with a declared diesel baseline and two days of one unit's data, with its rollups."""
    trial = make_trial(
        session,
        code=code,
        name=f"Trial {code}",
        port_locode=port,
        visibility=visibility,
        baseline_rate=3.0,
        baseline_unit="L/h",
        baseline_source="terminal fuel records",
        rated_power_kw=130.0,
    )
    unit = make_unit(session, trial, f"{code}-U1")
    for day in (date(2024, 3, 1), date(2024, 3, 2)):
        make_measurement(
            session, unit, day, operating_hours=10.0, energy_kwh=energy, scheduled_hours=12.0, downtime_hours=0.0
        )
    return trial


@pytest.fixture
def trials(session: Session) -> dict[str, Trial]:
    """Three trials: one of the partner's port, one private to another port, one that port shares."""
    found = {
        "LGB-1": _trial(session, "LGB-1", "USLGB", Visibility.private, 100.0),
        "SIN-PRIVATE": _trial(session, "SIN-PRIVATE", "SGSIN", Visibility.private, 7777.0),
        "SIN-SHARED": _trial(session, "SIN-SHARED", "SGSIN", Visibility.partners, 120.0),
    }
    make_user(session, PARTNER, role=Role.partner, port_locode="USLGB")
    make_user(session, "exec@example.org", role=Role.executive)
    return found


def _text(answer: Any) -> str:
    """An answer as the text a person would search it for."""
    return json.dumps(answer, ensure_ascii=False)


@pytest.mark.parametrize("name", DATA_CALLBACKS)
def test_no_callback_shows_a_trial_outside_the_partners_scope(
    client: FlaskClient, trials: dict[str, Trial], name: str
) -> None:
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    outputs, inputs, state = DATA_CALLBACKS[name]
    found = post_callback(client, outputs, inputs, state)
    assert not isinstance(found, int), f"the callback failed with {found}"
    answer = _text(found)
    assert "SIN-PRIVATE" not in answer.replace("No trial SIN-PRIVATE", "")


def test_port_totals_leave_out_a_private_trial_of_another_port(
    client: FlaskClient, session: Session, trials: dict[str, Trial]
) -> None:
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    shared = trial_metrics(session=session, scope=Scope.operator(), trial=trials["SIN-SHARED"]).values
    avoided_t = (shared["ghg_wtw_avoided_kg"] or 0) / 1000
    (ports,) = post_callback(client, *DATA_CALLBACKS["map"][:2])["chart-map"]["figure"]["data"]
    singapore = ports["hovertext"][ports["text"].index("SGSIN")]
    assert f"1 trials, 1 with a figure<br>avoided: {number(avoided_t)} t CO2e" in singapore
    monthly = post_callback(client, *DATA_CALLBACKS["monthly"][:2])["chart-monthly"]["figure"]["data"]
    by_port = {trace["name"]: (trace["x"], _array(trace["y"])) for trace in monthly}
    assert by_port["SGSIN"] == (["2024-03"], [avoided_t])


@pytest.mark.parametrize("name", DATA_CALLBACKS)
def test_every_callback_needs_sign_in(client: FlaskClient, trials: dict[str, Trial], name: str) -> None:
    outputs, inputs, state = DATA_CALLBACKS[name]
    assert post_callback(client, outputs, inputs, state) == 401


def test_headlines_add_up_the_api_figures_of_the_trials_in_scope(
    client: FlaskClient, session: Session, trials: dict[str, Trial]
) -> None:
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    answer = _text(post_callback(client, *DATA_CALLBACKS["headlines"][:2]))
    scope = Scope(role=Role.partner, port_locode="USLGB")
    api = [trial_metrics(session=session, scope=scope, trial=trials[c]).values for c in ("LGB-1", "SIN-SHARED")]
    avoided = sum(values["ghg_wtw_avoided_kg"] or 0 for values in api) / 1000
    energy = sum(values["final_energy_kwh"] or 0 for values in api) / 1000
    assert "Trials in view: 2 · data from 2024-03-01 to 2024-03-02" in answer
    assert number(avoided) in answer and number(energy) in answer
    assert number(0.44) == "0.4"  # the energy here: 440 kWh, shown in MWh


def test_the_trials_grid_rows_equal_the_api(client: FlaskClient, session: Session, trials: dict[str, Trial]) -> None:
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    rows = post_callback(client, *DATA_CALLBACKS["trials"][:2])["trials-grid"]["rowData"]
    assert [row["code"] for row in rows] == ["SIN-SHARED", "LGB-1"]
    api = trial_metrics(session=session, scope=Scope.operator(), trial=trials["LGB-1"], as_of=today()).values
    lgb = rows[1]
    assert lgb["energy_per_activity"] == api["kwh_per_hour"] == 10.0
    assert lgb["ghg_wtw_reduction_pct"] == api["ghg_wtw_reduction_pct"]
    assert lgb["availability_pct"] == api["availability_pct"] == 100.0
    assert lgb["data_coverage_pct"] == api["data_coverage_pct"]
    assert (lgb["link"], lgb["href"]) == ("LGB-1", "/dashboard/trials/LGB-1")


def test_compare_bars_show_each_trial_per_activity_unit_with_its_n(
    client: FlaskClient, trials: dict[str, Trial]
) -> None:
    sign_in(client, "exec@example.org")
    client.get("/dashboard/")
    answer = post_callback(client, *DATA_CALLBACKS["compare"][:2])
    bars = [trace for trace in answer["chart-bars"]["figure"]["data"] if trace["type"] == "bar"]
    assert [(trace["x"][1], _array(trace["y"])) for trace in bars] == [
        (["SIN-PRIVATE", "SIN-SHARED", "LGB-1"], [777.7, 12.0, 10.0])
    ]
    assert bars[0]["text"] == ["n = 1 units, 2 days"] * 3
    note = answer["compare-note"]["children"]
    assert note.startswith("Yard tractors: Energy per primary activity unit, in kWh/h, location-based electricity")
    assert "kwh_per_hour" not in note
    assert answer["compare-report"]["href"] == "/reports/compare/yard_tractor.xlsx"


def _array(sent: Any) -> list[float]:
    """Read an array as Plotly sends it: a plain list, or base64 bytes with a dtype."""
    if isinstance(sent, dict):
        return np.frombuffer(base64.b64decode(sent["bdata"]), dtype=sent["dtype"]).tolist()
    return list(sent)


def test_the_spread_shows_every_units_result(client: FlaskClient, trials: dict[str, Trial]) -> None:
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    traces = post_callback(client, *DATA_CALLBACKS["spread"][:2])["chart-spread"]["figure"]["data"]
    boxes = [trace for trace in traces if trace["type"] == "box"]
    assert [(box["x"][1], _array(box["y"]), box["hovertext"]) for box in boxes] == [
        (["SIN-SHARED", "LGB-1"], [12.0, 10.0], ["SIN-SHARED unit SIN-SHARED-U1", "LGB-1 unit LGB-1-U1"])
    ]


def test_compare_asks_for_a_class_before_comparing(client: FlaskClient, trials: dict[str, Trial]) -> None:
    sign_in(client, "exec@example.org")
    client.get("/dashboard/")
    outputs = DATA_CALLBACKS["compare"][0]
    answer = post_callback(client, outputs, url_search(""))
    assert answer["compare-note"]["children"].startswith("Choose an equipment class")


def test_a_trial_outside_the_scope_reads_exactly_like_a_missing_one(
    client: FlaskClient, trials: dict[str, Trial]
) -> None:
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    outputs, inputs, _state = DATA_CALLBACKS["trial"]
    hidden = post_callback(client, outputs, inputs, [("url", "pathname", "/dashboard/trials/SIN-PRIVATE")])
    missing = post_callback(client, outputs, inputs, [("url", "pathname", "/dashboard/trials/NOPE")])
    assert hidden["trial-title"]["children"] == "No trial SIN-PRIVATE"
    assert missing["trial-title"]["children"] == "No trial NOPE"
    assert hidden["trial-header"] == missing["trial-header"]


def test_the_trial_page_shows_the_trials_own_figures(client: FlaskClient, trials: dict[str, Trial]) -> None:
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    outputs, inputs, _state = DATA_CALLBACKS["trial"]
    answer = post_callback(client, outputs, url_search("?grain=day"), [("url", "pathname", "/dashboard/trials/LGB-1")])
    assert answer["trial-title"]["children"] == "LGB-1: Trial LGB-1"
    series = answer["chart-series"]["figure"]["data"]
    assert series[0]["x"] == ["2024-03-01", "2024-03-02"]
    header = _text(answer["trial-header"])
    assert "diesel, declared: 3.000 L/hour, terminal fuel records" in header
    assert "yard tractor / battery electric" in header and "yard_tractor" not in header


def test_provenance_names_the_batch_file_sheet_and_row(client: FlaskClient, trials: dict[str, Trial]) -> None:
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    outputs, inputs, _state = DATA_CALLBACKS["provenance"]
    lgb = [("provenance-page", "data", 0), ("url", "pathname", "/dashboard/trials/LGB-1"), ("url", "search", "")]
    answer = post_callback(client, outputs, inputs, lgb)
    rows = answer["provenance-grid"]["rowData"]
    assert [(r["period_start"], r["unit"], r["role"], r["energy_kwh"]) for r in rows] == [
        ("2024-03-01", "LGB-1-U1", UnitRole.trial.value, 100.0),
        ("2024-03-02", "LGB-1-U1", UnitRole.trial.value, 100.0),
    ]
    assert answer["provenance-status"]["children"] == " rows 1–2 of 2 "


def test_downloads_hold_only_the_trials_in_scope(client: FlaskClient, trials: dict[str, Trial]) -> None:
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    download = post_callback(client, *DATA_CALLBACKS["download"])
    data = download[json.dumps({"chart": "trials", "type": "download"}, separators=(",", ":"))]["data"]
    lines = data["content"].splitlines()
    assert lines[0].startswith("code,name,port,equipment_class")
    assert [line.split(",")[0] for line in lines[1:3]] == ["SIN-SHARED", "LGB-1"]
    assert data["filename"] == "zetrials-trials.csv"


def test_the_methodology_is_read_from_the_code_and_factor_set(client: FlaskClient, trials: dict[str, Trial]) -> None:
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    answer = _text(post_callback(client, [("methodology-body", "children")], url_search()))
    assert "ratio(ghg_wtw_avoided, compared.activity)" in answer
    assert "US EPA GHG Emission Factors Hub" in answer
    assert "Electricity Maps 2024 yearly average" in answer


CONTROLS = ["f-port", "f-class", "f-tech", "f-from", "f-to", "c-metric", "c-ghg", "c-basis", "c-grain"]
SYNC_OUTPUTS = [("url", "search"), *[(control, "value") for control in CONTROLS]]


def _sync_inputs(search: str, values: list[Any]) -> list[tuple[Any, str, Any]]:
    """The URL and the controls' values, in the sync callback's order."""
    return [("url", "search", search), *[(c, "value", v) for c, v in zip(CONTROLS, values, strict=True)]]


def test_a_shared_link_sets_the_controls(client: FlaskClient, session: Session) -> None:
    make_user(session)
    sign_in(client, "ana@example.org")
    client.get("/dashboard/")
    answer = post_callback(client, SYNC_OUTPUTS, _sync_inputs("?port=USLAX&class=tug&from=2025-01", [None] * 9))
    assert "url" not in answer
    assert [answer[c]["value"] for c in CONTROLS] == [
        ["USLAX"],
        "tug",
        [],
        "2025-01",
        None,
        "energy_per_activity",
        "wtw",
        "location",
        "month",
    ]


def test_changing_a_control_rewrites_the_link(client: FlaskClient, session: Session) -> None:
    make_user(session)
    sign_in(client, "ana@example.org")
    client.get("/dashboard/")
    values = [["USLAX"], "rtg_crane", [], "2025-01", None, "energy_per_activity", "wtw", "location", "month"]
    inputs = _sync_inputs("?port=USLAX&class=tug", values)
    answer = post_callback(client, SYNC_OUTPUTS, inputs, changed=("f-class", "value"))
    assert answer == {"url": {"search": "?port=USLAX&class=rtg_crane&from=2025-01"}}


def test_an_unknown_page_says_not_found(client: FlaskClient, session: Session) -> None:
    make_user(session)
    sign_in(client, "ana@example.org")
    client.get("/dashboard/")
    answer = _text(post_callback(client, [("page", "children")], [("url", "pathname", "/dashboard/nowhere")]))
    assert "Not found" in answer


def test_the_trial_page_offers_its_excel_report() -> None:
    assert "href='/reports/trial/LGB-1.xlsx'" in repr(trial_layout("LGB-1"))


def test_the_spread_is_remembered_across_metrics_and_forgotten_when_the_rollups_change(
    client: FlaskClient, session: Session, trials: dict[str, Trial], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.dashboard import data

    reads: list[int] = []
    real_unit_data = data.unit_data

    def counted_unit_data(**kwargs: Any) -> Any:
        reads.append(1)
        return real_unit_data(**kwargs)

    monkeypatch.setattr(data, "unit_data", counted_unit_data)
    sign_in(client, PARTNER)
    client.get("/dashboard/")

    def spread(search: str) -> list[float]:
        answer = post_callback(client, [("chart-spread", "figure")], url_search(search))
        traces = answer["chart-spread"]["figure"]["data"]
        return [value for trace in traces if trace["type"] == "box" for value in _array(trace["y"])]

    assert spread("?class=yard_tractor") == [12.0, 10.0]  # kWh per operating hour: 240 / 20 and 200 / 20
    assert spread("?class=yard_tractor&metric=availability") == [100.0, 100.0]
    assert len(reads) == 1  # the second metric was read from the units computed for the first
    stamp = session.get(RollupStamp, trials["LGB-1"].id)
    assert stamp is not None
    before = stamp.stamp
    unit = make_unit(session, trials["LGB-1"], "LGB-1-U2")
    make_measurement(session, unit, date(2024, 3, 3), operating_hours=10.0, energy_kwh=300.0)  # rollups rebuilt
    session.refresh(stamp)
    assert stamp.stamp != before
    assert spread("?class=yard_tractor") == [12.0, 10.0, 30.0]  # the new unit: 300 kWh in 10 h
    assert len(reads) == 2


def test_remembered_values_are_computed_once_and_the_least_recently_used_goes_first() -> None:
    from app.dashboard.calc import Remembered

    memo: Remembered[str] = Remembered(size=2)
    computed: list[str] = []

    def compute(value: str) -> Any:
        return lambda: computed.append(value) or value

    assert [memo.get(key, compute(key.upper())) for key in ("a", "b", "a", "c", "a", "b")] == list("ABACAB")
    # "a" was read again before "c" came, so "b" went first; "b" then pushed out "c", the least recently used
    assert computed == ["A", "B", "C", "B"]
