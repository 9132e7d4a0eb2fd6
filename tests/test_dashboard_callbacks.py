"""Dashboard callbacks through the real server: exact figures, and nothing outside the signed-in user's scope."""

from __future__ import annotations

import base64
import json
import re
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
    make_measurements,
    make_trial,
    make_unit,
    make_user,
    post_callback,
    shown_text,
    sign_in,
    trial_page,
    url_search,
)
from trials.metrics import METRIC_KEYS
from trials.models import (
    BaselineKind,
    EquipmentClass,
    HydrogenPathway,
    Role,
    RollupStamp,
    Technology,
    Trial,
    Visibility,
)
from trials.queries import today
from trials.registry import METRICS
from trials.results import trial_metrics
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
    values = {"operating_hours": 10.0, "energy_kwh": energy, "scheduled_hours": 12.0, "downtime_hours": 0.0}
    make_measurements(session, unit, {date(2024, 3, 1): values, date(2024, 3, 2): values})
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
    ports = post_callback(client, *DATA_CALLBACKS["map"][:2])["chart-map"]["figure"]["data"]
    (singapore,) = [port for port in ports if port["name"].startswith("Singapore: ")]  # named, not coded
    assert f"1 trial, 1 with a figure<br>avoided: {number(avoided_t)} t CO2e" in singapore["hovertext"][0]
    assert len(ports) == 2  # Long Beach and Singapore: no marker for the private trial's figure
    monthly = post_callback(client, *DATA_CALLBACKS["monthly"][:2])["chart-monthly"]["figure"]["data"]
    by_port = {trace["name"]: (trace["x"], _array(trace["y"])) for trace in monthly}
    months, values = by_port["Singapore"]
    shown = {month: value for month, value in zip(months, values, strict=True) if value == value}  # NaN: a gap
    assert shown == {"2024-03": avoided_t}


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
    assert (lgb["energy_per_activity"], lgb["energy_unit"]) == (api["kwh_per_hour"], "kWh/h") == (10.0, "kWh/h")
    assert lgb["ghg_wtw_reduction_pct"] == api["ghg_wtw_reduction_pct"]
    assert lgb["data_coverage_pct"] == api["data_coverage_pct"]
    assert (lgb["link"], lgb["href"]) == ("LGB-1", "/dashboard/trials/LGB-1")
    # words, not stored codes: the grid never shows yard_tractor or battery_electric
    assert (lgb["port"], lgb["equipment_class"], lgb["technology"]) == (
        "Long Beach",
        "Yard tractors",
        "Battery electric",
    )


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
    assert bars[0]["text"] == ["n = 1 unit, 2 days"] * 3
    note = answer["compare-note"]["children"]
    assert note == "Yard tractors: Energy per operating hour, in kWh/h, location-based electricity, 3 trials."
    assert answer["compare-report"]["children"]["props"]["href"] == "/reports/compare/yard_tractor.xlsx"


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


def test_compare_opens_on_the_class_with_the_most_trials(
    client: FlaskClient, session: Session, trials: dict[str, Trial]
) -> None:
    make_trial(session, code="LGB-TUG", port_locode="USLGB", equipment_class=EquipmentClass.tug)
    sign_in(client, "exec@example.org")
    client.get("/dashboard/")
    answer = post_callback(client, DATA_CALLBACKS["compare"][0], url_search(""))
    # three yard tractor trials against one tug: the yard tractors, saying why
    assert answer["compare-note"]["children"] == (
        "Yard tractors (the class with the most trials in view; choose another above): Energy per operating hour,"
        " in kWh/h, location-based electricity, 3 trials."
    )
    assert answer["compare-report"]["children"]["props"]["href"] == "/reports/compare/yard_tractor.xlsx"
    tugs = post_callback(client, DATA_CALLBACKS["compare"][0], url_search("?class=tug"))
    assert tugs["compare-note"]["children"].startswith("Tugs: Energy per operating hour")


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
    assert answer["chart-series"]["figure"]["layout"]["yaxis2"]["title"]["text"] == "Activity (operating hours)"
    assert answer["trial-title"]["children"] == "LGB-1: Trial LGB-1"
    series = answer["chart-series"]["figure"]["data"]
    assert series[0]["x"] == ["2024-03-01", "2024-03-02"]
    header = shown_text(answer["trial-header"])
    assert "A diesel machine, declared (terminal fuel records): 3.00 L per operating hour." in header
    assert "1 yard tractor, battery electric" in header and "yard_tractor" not in header
    assert "Edit trial" not in header  # a partner reads; only editors and admins edit


def test_provenance_names_the_batch_file_sheet_and_row(client: FlaskClient, trials: dict[str, Trial]) -> None:
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    outputs, inputs, _state = DATA_CALLBACKS["provenance"]
    lgb = [("provenance-page", "data", 0), ("url", "pathname", "/dashboard/trials/LGB-1"), ("url", "search", "")]
    answer = post_callback(client, outputs, inputs, lgb)
    rows = answer["provenance-grid"]["rowData"]
    assert [(r["period_start"], r["unit"], r["role"], r["energy_kwh"]) for r in rows] == [
        ("2024-03-01", "LGB-1-U1", "trial unit", 100.0),  # the role in words, not its stored value
        ("2024-03-02", "LGB-1-U1", "trial unit", 100.0),
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


def test_the_methodology_says_every_metric_in_words_with_the_factor_sources(
    client: FlaskClient, trials: dict[str, Trial]
) -> None:
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    answer = shown_text(post_callback(client, [("methodology-body", "children")], url_search()))
    assert "final energy ÷ Σ operating hours, on paired rows (those carrying both)" in answer
    assert METRICS["ghg_wtw_avoided_per_unit_year_kg"].summary in answer
    assert "US EPA GHG Emission Factors Hub" in answer
    assert "Electricity Maps 2024 yearly average" in answer
    leaked = [key for key in [*METRIC_KEYS, "yard_tractor", "diesel_ttw"] if re.search(rf"\b{key}\b", answer)]
    assert leaked == []  # no key and no code: 'ratio(' or 'compared.activity' are gone too
    assert "ratio(" not in answer


CONTROLS = ["f-port", "f-class", "f-tech", "f-from", "f-to", "c-metric", "c-ghg", "c-basis", "c-grain", "f-preset"]
SYNC_OUTPUTS = [("url", "search"), *[(control, "value") for control in CONTROLS]]


def _sync_inputs(search: str, values: list[Any]) -> list[tuple[Any, str, Any]]:
    """The URL and the controls' values (the period preset last), in the sync callback's order."""
    return [("url", "search", search), *[(c, "value", v) for c, v in zip(CONTROLS, values, strict=True)]]


def test_a_shared_link_sets_the_controls(client: FlaskClient, session: Session) -> None:
    make_user(session)
    sign_in(client, "ana@example.org")
    client.get("/dashboard/")
    answer = post_callback(client, SYNC_OUTPUTS, _sync_inputs("?port=USLAX&class=tug&from=2025-01", [None] * 10))
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
        None,  # no preset: the period is open-ended
    ]


def test_changing_a_control_rewrites_the_link(client: FlaskClient, session: Session) -> None:
    make_user(session)
    sign_in(client, "ana@example.org")
    client.get("/dashboard/")
    values = [["USLAX"], "rtg_crane", [], "2025-01", None, "energy_per_activity", "wtw", "location", "month", None]
    inputs = _sync_inputs("?port=USLAX&class=tug", values)
    answer = post_callback(client, SYNC_OUTPUTS, inputs, changed=("f-class", "value"))
    assert answer == {"url": {"search": "?port=USLAX&class=rtg_crane&from=2025-01"}, "f-preset": {"value": None}}


def test_a_period_preset_sets_the_from_and_to_months(client: FlaskClient, session: Session) -> None:
    make_user(session)
    sign_in(client, "ana@example.org")
    client.get("/dashboard/")
    values = [["USLAX"], None, [], None, None, "energy_per_activity", "wtw", "location", "month", "2025"]
    answer = post_callback(client, SYNC_OUTPUTS, _sync_inputs("?port=USLAX", values), changed=("f-preset", "value"))
    assert answer["url"] == {"search": "?port=USLAX&from=2025-01&to=2025-12"}
    assert (answer["f-from"], answer["f-to"], answer["f-preset"]) == (
        {"value": "2025-01"},
        {"value": "2025-12"},
        {"value": "2025"},
    )  # the From and To months shown as the preset set them
    values[-1] = "year-to-date"
    answer = post_callback(client, SYNC_OUTPUTS, _sync_inputs("?port=USLAX", values), changed=("f-preset", "value"))
    this_year = today().year
    assert answer["url"]["search"] == f"?port=USLAX&from={this_year}-01&to={today():%Y-%m}"


def test_an_unknown_page_says_not_found(client: FlaskClient, session: Session) -> None:
    make_user(session)
    sign_in(client, "ana@example.org")
    client.get("/dashboard/")
    answer = _text(post_callback(client, [("page", "children")], [("url", "pathname", "/dashboard/nowhere")]))
    assert "Not found" in answer


def test_the_trial_page_offers_its_excel_report() -> None:
    assert "href='/reports/trial/LGB-1.xlsx'" in repr(trial_layout("LGB-1"))


def _reads_of(monkeypatch: pytest.MonkeyPatch, name: str) -> list[list[str]]:
    """Record each call of a reader of trials.results (unit_data, month_data): the codes of the trials it read."""
    from trials import results

    reads: list[list[str]] = []
    real = getattr(results, name)

    def counted(**kwargs: Any) -> Any:
        reads.append(sorted(trial.code for trial in kwargs["trials"]))
        return real(**kwargs)

    monkeypatch.setattr(results, name, counted)
    return reads


def test_the_spread_is_remembered_across_metrics_and_forgotten_when_the_rollups_change(
    client: FlaskClient, session: Session, trials: dict[str, Trial], monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _reads_of(monkeypatch, "unit_data")
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
    assert reads == [["LGB-1", "SIN-SHARED"], ["LGB-1"]]  # only the trial whose rollups changed was read again


def test_unit_results_carry_no_reporting_lag_so_they_are_not_computed_again_the_next_day(
    session: Session, trials: dict[str, Trial], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.dashboard import compare_data, state

    reads = _reads_of(monkeypatch, "unit_data")
    view = state.parse("?class=yard_tractor")
    today_spread, next_day_spread = (
        compare_data.unit_spread(session=session, scope=Scope.operator(), state=view, as_of=day)
        for day in (date(2024, 6, 1), date(2024, 6, 2))
    )
    # kWh per operating hour, each unit 10 h a day: 7,777 / 10, 120 / 10 and 100 / 10, in the bars' order
    assert today_spread.column("value") == next_day_spread.column("value") == [777.7, 12.0, 10.0]
    assert len(reads) == 1


def test_after_a_workers_warm_up_a_partners_first_openings_compute_nothing(
    client: FlaskClient, trials: dict[str, Trial], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.dashboard.warm import warm_up

    unit_reads, month_reads = _reads_of(monkeypatch, "unit_data"), _reads_of(monkeypatch, "month_data")
    taken = warm_up(client.application.extensions["zetrials.engine"])
    assert list(taken.classes) == ["yard_tractor"] and taken.monthly > 0
    everything = [["LGB-1", "SIN-PRIVATE", "SIN-SHARED"]]
    assert unit_reads == month_reads == everything
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    spread = post_callback(client, [("chart-spread", "figure")], url_search("?class=yard_tractor"))["chart-spread"]
    boxes = [trace for trace in spread["figure"]["data"] if trace["type"] == "box"]
    assert sorted(value for trace in boxes for value in _array(trace["y"])) == [10.0, 12.0]  # 100 and 120 kWh in 10 h
    monthly = post_callback(client, [("chart-monthly", "figure")], url_search(""))["chart-monthly"]["figure"]["data"]
    assert {trace["name"] for trace in monthly} == {"Long Beach", "Singapore"}
    assert unit_reads == month_reads == everything  # the partner's two trials were among those warmed up: no reads


def test_month_figures_are_remembered_trial_by_trial_so_a_narrower_view_reads_no_sums(
    client: FlaskClient, session: Session, trials: dict[str, Trial], monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _reads_of(monkeypatch, "month_data")
    sign_in(client, "exec@example.org")
    client.get("/dashboard/")

    def monthly(search: str) -> dict[str, list[float]]:
        traces = post_callback(client, [("chart-monthly", "figure")], url_search(search))["chart-monthly"]["figure"]
        return {trace["name"]: _array(trace["y"]) for trace in traces["data"]}

    everything = monthly("")
    assert monthly("?port=SGSIN") == {"Singapore": everything["Singapore"]}
    assert reads == [["LGB-1", "SIN-PRIVATE", "SIN-SHARED"]]  # Singapore's two trials were read with all three
    unit = make_unit(session, trials["LGB-1"], "LGB-1-U2")
    make_measurement(session, unit, date(2024, 3, 3), operating_hours=10.0, energy_kwh=300.0)  # rollups rebuilt
    assert monthly("")["Singapore"] == everything["Singapore"]
    assert reads[1:] == [["LGB-1"]]  # only the trial whose rollups changed is read again


def test_remembered_values_computed_together_are_computed_only_for_the_ids_missing() -> None:
    from trials.results import Remembered

    memo: Remembered[str] = Remembered(size=3)
    asked: list[list[int]] = []

    def compute(ids: list[int]) -> dict[int, str]:
        asked.append(ids)
        return {item: f"v{item}" for item in ids}

    assert memo.get_each({1: "a", 2: "b"}, compute) == {1: "v1", 2: "v2"}
    assert list(memo.get_each({3: "c", 2: "b", 1: "a"}, compute).items()) == [(3, "v3"), (2, "v2"), (1, "v1")]
    assert memo.get_each({4: "d", 1: "a"}, compute) == {4: "v4", 1: "v1"}  # "b", the least recently used, went
    assert memo.get_each({2: "b"}, compute) == {2: "v2"}
    assert asked == [[1, 2], [3], [4], [2]]


def test_remembered_values_are_computed_once_and_the_least_recently_used_goes_first() -> None:
    from trials.results import Remembered

    memo: Remembered[str] = Remembered(size=2)
    computed: list[str] = []

    def compute(value: str) -> Any:
        return lambda: computed.append(value) or value

    assert [memo.get(key, compute(key.upper())) for key in ("a", "b", "a", "c", "a", "b")] == list("ABACAB")
    # "a" was read again before "c" came, so "b" went first; "b" then pushed out "c", the least recently used
    assert computed == ["A", "B", "C", "B"]


def test_a_trial_the_viewer_cannot_see_has_no_report_link_and_no_chart_frames(
    client: FlaskClient, trials: dict[str, Trial]
) -> None:
    sign_in(client, PARTNER)
    client.get("/dashboard/")

    def page(code: str) -> Any:
        return post_callback(client, [("page", "children")], [("url", "pathname", f"/dashboard/trials/{code}")])

    hidden, missing = _text(page("SIN-PRIVATE")), _text(page("NOPE"))
    assert hidden == missing.replace("NOPE", "SIN-PRIVATE")  # exactly as absent as a trial that does not exist
    assert "No trial SIN-PRIVATE" in hidden and ".xlsx" not in hidden and "chart-" not in hidden
    shown = _text(page("LGB-1"))
    assert "/reports/trial/LGB-1.xlsx" in shown and "chart-series" in shown


def test_the_trial_page_computes_with_the_factor_set_in_its_link(
    client: FlaskClient, session: Session, trials: dict[str, Trial]
) -> None:
    sign_in(client, PARTNER)
    default = trial_page(client, "LGB-1")
    chosen = trial_page(client, "LGB-1", "?factors=ZE-2024")
    header = shown_text(chosen["trial-header"])
    assert "ZE-2024" in header and "ZE-2025 (the default)" in header
    links = _text(chosen["trial-header"])
    assert '"href": "/dashboard/trials/LGB-1"' in links  # the default set: the page without ?factors=
    assert '"href": "/dashboard/trials/LGB-1?factors=ZE-2024"' in _text(default["trial-header"])
    for answer, name in ((default, "ZE-2025"), (chosen, "ZE-2024")):
        api = trial_metrics(session=session, scope=Scope.operator(), trial=trials["LGB-1"], factors=name).values
        row = _row(answer["trial-metrics"], "metric-ghg_wtw_avoided_kg")
        assert METRICS["ghg_wtw_avoided_kg"].format(api["ghg_wtw_avoided_kg"]) in row
    unknown = trial_page(client, "LGB-1", "?factors=NOPE-1")
    assert unknown["trial-title"]["children"] == "No factor set NOPE-1"
    assert "the sets are ZE-2024, ZE-2025" in shown_text(unknown["trial-header"])


def _row(table: Any, row_id: str) -> str:
    """The words of one row of a Dash table, found by its id."""
    rows = table["children"]["props"]["children"][1]["props"]["children"]
    (row,) = [row for row in rows if row["props"].get("id") == row_id]
    return shown_text(row)


def test_every_metric_on_the_trial_page_is_in_words_with_its_decimals(
    client: FlaskClient, trials: dict[str, Trial]
) -> None:
    sign_in(client, PARTNER)
    answer = trial_page(client, "LGB-1")
    # 200 kWh over 20 h: 10 kWh per operating hour, written with the registry's two decimals
    row = _row(answer["trial-metrics"], "metric-kwh_per_hour")
    assert " ".join(row.split()) == f"Energy per operating hour {METRICS['kwh_per_hour'].summary} 10.00 kWh/h"


def test_a_figure_per_unit_of_work_names_the_trials_own_unit_of_work(
    client: FlaskClient, trials: dict[str, Trial]
) -> None:
    sign_in(client, PARTNER)
    answer = trial_page(client, "LGB-1")  # a yard tractor trial: its work is counted in operating hours
    for key, unit in (
        ("ghg_wtw_avoided_per_activity_kg", "kg CO2e per operating hour"),
        ("ghg_wtw_avoided_per_unit_year_kg", "kg CO2e per unit-year"),
    ):
        row = " ".join(_row(answer["trial-metrics"], f"metric-{key}").split())
        assert row.endswith(unit) and "activity unit" not in row


def test_editors_of_the_trials_port_get_an_edit_link(
    client: FlaskClient, session: Session, trials: dict[str, Trial]
) -> None:
    make_user(session, "ed@lgb.example", role=Role.editor, port_locode="USLGB")
    sign_in(client, "ed@lgb.example")
    header = trial_page(client, "LGB-1")["trial-header"]
    assert '"href": "/trials/LGB-1/edit"' in _text(header) and "Edit trial" in shown_text(header)
    assert "Edit trial" not in shown_text(trial_page(client, "SIN-SHARED")["trial-header"])  # another port's


def test_each_headline_links_to_the_trials_behind_it_and_the_port_reports(
    client: FlaskClient, trials: dict[str, Trial]
) -> None:
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    answer = post_callback(client, [("headlines", "children")], url_search("?class=yard_tractor&from=2024-01"))
    text = _text(answer)
    assert text.count('"href": "/dashboard/trials?class=yard_tractor&from=2024-01"') == 6  # one per headline card
    assert "from 2 of 2 trials" in shown_text(answer)
    reports = [f'"href": "/reports/port/{locode}.xlsx"' for locode in ("USLGB", "SGSIN")]
    assert all(report in text for report in reports) and "SIN-PRIVATE" not in text
    assert "Excel reports: Long Beach · Singapore" in " ".join(shown_text(answer).split())


def test_the_trials_page_says_which_trials_the_totals_leave_out_and_why(
    client: FlaskClient, session: Session, trials: dict[str, Trial]
) -> None:
    no_baseline = make_trial(session, code="LGB-NOBASE", port_locode="USLGB", baseline_kind=BaselineKind.none)
    make_measurement(session, make_unit(session, no_baseline), date(2024, 3, 1), operating_hours=8.0, energy_kwh=90.0)
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    answer = post_callback(client, *DATA_CALLBACKS["trials"][:2])
    summary = shown_text(answer["trials-summary"])
    assert summary.startswith("2 of 3 trials count in the avoided-emission totals. Why 1 trial is left out")
    assert "LGB-NOBASE" in summary
    row = next(row for row in answer["trials-grid"]["rowData"] if row["code"] == "LGB-NOBASE")
    assert (row["checks"], row["check_level"]) == ("Left out of totals", "exclude")
    assert "no baseline" in row["check_reasons"].lower()


def test_compare_shows_each_trials_baseline_units_days_and_checks(
    client: FlaskClient, session: Session, trials: dict[str, Trial]
) -> None:
    hydrogen = make_trial(
        session,
        code="LGB-H2",
        port_locode="USLGB",
        technology=Technology.hydrogen_fuel_cell,
        hydrogen_pathway=HydrogenPathway.declared,
        hydrogen_factor_kg_per_kg=2.5,
        hydrogen_factor_source="supplier certificate",
        baseline_rate=3.0,
        baseline_unit="L/h",
    )
    make_measurement(session, make_unit(session, hydrogen), date(2024, 3, 1), operating_hours=10.0, hydrogen_kg=6.0)
    sign_in(client, "exec@example.org")
    client.get("/dashboard/")
    answer = post_callback(client, *DATA_CALLBACKS["compare"][:2])
    table = shown_text(answer["compare-table"])
    assert "A diesel machine, declared (terminal fuel records): 3.00 L per operating hour." in table
    assert "Hydrogen: Declared by the trial, 2.50 kg CO2e per kg, source: supplier certificate" in table
    assert "Hydrogen fuel cell" in table and "hydrogen_fuel_cell" not in table
    badges = _text(answer["compare-table"])
    assert '"className": "badge badge-info"' in badges and "One trial unit: results describe a single machine." in table


def test_compare_names_its_metrics_for_the_class_from_the_registry(
    client: FlaskClient, trials: dict[str, Trial]
) -> None:
    sign_in(client, "exec@example.org")
    client.get("/dashboard/")
    options = post_callback(client, [("c-metric", "options")], url_search("?class=sts_crane&ghg=ttw"))
    labels = {option["value"]: (option["label"], option["disabled"]) for option in options["c-metric"]["options"]}
    assert labels["energy_per_activity"] == ("Energy per move", False)
    assert labels["ghg_avoided"] == ("GHG tank-to-wheel avoided", False)
    assert labels["avoided_per_unit_year"] == ("GHG well-to-wheel avoided per unit-year (well-to-wheel only)", True)


def test_avoided_emissions_per_hour_and_per_unit_year_are_worked_out_by_hand(
    client: FlaskClient, trials: dict[str, Trial]
) -> None:
    sign_in(client, "exec@example.org")
    client.get("/dashboard/")
    # LGB-1: 20 h at a declared 3 L/h is 60 L of diesel, 60 x 3.324 kg CO2e/L = 199.44 kg well-to-wheel; the trial's
    # 200 kWh at Long Beach's 2024 grid factor, 229 g/kWh, is 45.8 kg: 153.64 kg avoided, 7.682 kg per hour; one
    # unit on 2 days is 2 / 365.25 unit-years, so 153.64 x 365.25 / 2 = 28,058.51 kg per unit-year
    per_hour = post_callback(
        client, DATA_CALLBACKS["compare"][0], url_search("?class=yard_tractor&metric=avoided_per_activity")
    )
    per_year = post_callback(
        client, DATA_CALLBACKS["compare"][0], url_search("?class=yard_tractor&metric=avoided_per_unit_year")
    )
    assert _bar(per_hour, "LGB-1") == pytest.approx(7.682, rel=1e-12)
    assert _bar(per_year, "LGB-1") == pytest.approx(28_058.505, rel=1e-12)
    assert per_hour["chart-bars"]["figure"]["layout"]["yaxis"]["title"]["text"].endswith("(kg CO2e per operating hour)")


def _bar(answer: Any, trial: str) -> float:
    """One trial's bar value from the compare callback's answer."""
    for trace in answer["chart-bars"]["figure"]["data"]:
        if trace["type"] == "bar" and trial in trace["x"][1]:
            return _array(trace["y"])[trace["x"][1].index(trial)]
    raise AssertionError(f"no bar for {trial}")


def test_the_period_presets_offer_each_year_the_viewers_trials_run(
    client: FlaskClient, session: Session, trials: dict[str, Trial]
) -> None:
    make_trial(session, code="SIN-LATER", port_locode="SGSIN", start_date=date(2025, 6, 1), end_date=None)
    make_trial(session, code="LGB-2023", port_locode="USLGB", start_date=date(2023, 11, 1), end_date=date(2023, 12, 31))
    sign_in(client, PARTNER)
    client.get("/dashboard/")
    answer = post_callback(client, [("f-preset", "options")], [("url", "pathname", "/dashboard/")])
    offered = [(option["value"], option["label"]) for option in answer["f-preset"]["options"]]
    # the partner's LGB trials (2023, 2024) and SIN-SHARED (2024); SIN-LATER is private to Singapore: no 2025 on
    assert offered == [
        ("last-12-months", "Last 12 months"),
        ("year-to-date", "Year to date"),
        ("2024", "2024"),
        ("2023", "2023"),
    ]


def test_the_trial_page_says_all_the_trial_page_used_to(client: FlaskClient, session: Session) -> None:
    trial = make_trial(
        session,
        code="LGB-FULL",
        port_locode="USLGB",
        terminal="Pier T",
        visibility=Visibility.partners,
        funding="CARB grant",
        notes="Night shifts only.",
        baseline_rate=3.0,
        baseline_unit="L/h",
        baseline_source="OEM spec",
    )
    unit = make_unit(session, trial, "U1")
    # 10 h at 3 L/h is 30 L of diesel, 99.72 kg CO2e well-to-wheel at 3.324 kg/L; 100 kWh at 229 g/kWh is 22.9 kg:
    # 76.82 kg avoided, while the source reported 500 kg, 551 % above: flagged
    make_measurement(
        session, unit, date(2024, 3, 1), operating_hours=10.0, energy_kwh=100.0, reported_ghg_avoided_kg=500.0
    )
    make_trial(session, code="LGB-NONE", port_locode="USLGB", baseline_kind=BaselineKind.none)
    make_user(session, "exec@example.org", role=Role.executive)
    sign_in(client, "exec@example.org")
    answer = trial_page(client, "LGB-FULL")
    header = " ".join(shown_text(answer["trial-header"]).split())
    for said in (
        "Long Beach (USLGB), Pier T, grid region US-CAL-CISO",
        "Visibility Shared with partner ports",
        "Funding CARB grant",
        "Last data 01 Mar 2024",
        "Notes Night shifts only.",
        "A diesel machine, declared (OEM spec): 3.00 L per operating hour.",
    ):
        assert said in header, said
    flagged = _row(answer["trial-metrics"], "metric-reported_vs_computed_pct")
    assert "flagged: beyond ±10 % of the computed figure" in flagged
    assert "flagged" not in _row(answer["trial-metrics"], "metric-kwh_per_hour")
    none_header = shown_text(trial_page(client, "LGB-NONE")["trial-header"])
    assert "No baseline: nothing is compared, so no emissions avoided are claimed." in none_header
