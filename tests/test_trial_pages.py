"""Trial logging in the browser: the importer's rules next to each field, scope and roles, units, audit."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, select

from importers.validate import TRIAL_CODE_RULE
from tests.factories import (
    events,
    make_measurement,
    make_trial,
    make_unit,
    make_user,
    post_form,
    reread,
    shown_text,
    sign_in,
    trial_page,
)
from trials.models import BaselineKind, Role, Trial, TrialStatus, Unit, UnitRole, Visibility


def signed_in(client: FlaskClient, session: Session, role: Role, port: str | None = None) -> FlaskClient:
    """Sign the client in as a new user with this role and port."""
    email = f"{role.value}-{(port or 'all').lower()}@example.org"
    make_user(session, email, role=role, port_locode=port)
    assert sign_in(client, email) == 302
    return client


def messages_beside(page: str, field: str) -> list[str]:
    """The messages shown right under one field."""
    block = re.search(rf'<div id="{field}-messages">(.*?)</div>\s*(?:<label|</fieldset>|<p>|<textarea|<h3)', page, re.S)
    found = re.findall(r'<div class="error" role="alert">([^<]*)', block.group(1) if block else "")
    return [html.unescape(message) for message in found]


def trial_form(**overrides: str) -> dict[str, str]:
    """A valid trial as the form posts it."""
    fields = {
        "code": "LGB-NEW-01",
        "name": "Battery-electric top handlers",
        "port": "USLGB",
        "terminal": "Pier T",
        "equipment_class": "top_handler",
        "technology": "battery_electric",
        "units_planned": "2",
        "start_date": "2024-01-01",
        "end_date": "2024-12-31",
        "status": "planned",
        "visibility": "private",
        "baseline_rate": "11.5",
        "baseline_unit": "gal/h",
        "baseline_source": "terminal fuel records 2023",
        "load_factor": "0.59",
    }
    return fields | overrides


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("port", "Atlantis", "unknown port"),
        ("end_date", "2023-06-30", "the end date 2023-06-30 is before the start date 2024-01-01"),
        ("baseline_unit", "L/kg", "not per 'kg'"),
        ("load_factor", "2", "a load factor is between 0 and 1"),
        ("equipment_class", "", "equipment class is required for a trial"),
        ("code", "X" * 41, "too long: 41 characters, at most 40"),
        ("start_date", "not a date", "Not a valid date value."),
    ],
)
def test_a_bad_field_is_explained_beside_it_and_nothing_is_saved(
    client: FlaskClient, session: Session, field: str, value: str, message: str
) -> None:
    signed_in(client, session, Role.editor)
    response = post_form(client, "/trials/new", trial_form(**{field: value}))
    assert response.status_code == 400
    assert any(message in shown for shown in messages_beside(response.get_data(as_text=True), field))
    reread(session)
    assert session.exec(select(Trial)).all() == []
    assert events(session, "trial.create") == []


def test_a_valid_trial_is_created_with_an_audit_event(client: FlaskClient, session: Session) -> None:
    signed_in(client, session, Role.editor, "USLGB")
    response = post_form(client, "/trials/new", trial_form())
    assert response.status_code == 302 and response.headers["Location"] == "/trials/LGB-NEW-01/edit"
    trial = session.exec(select(Trial).where(Trial.code == "LGB-NEW-01")).one()
    assert (trial.port_locode, trial.baseline_rate, trial.baseline_unit) == ("USLGB", 11.5, "gal/h")
    [event] = events(session, "trial.create")
    assert event.actor == "editor-uslgb@example.org" and event.object == "trial:LGB-NEW-01"
    assert event.after is not None and event.before is None
    assert event.after["start_date"] == "2024-01-01" and event.after["baseline_source"] == "terminal fuel records 2023"


def test_a_code_in_use_is_refused_beside_the_code(client: FlaskClient, session: Session) -> None:
    make_trial(session, code="LGB-NEW-01")
    signed_in(client, session, Role.admin)
    response = post_form(client, "/trials/new", trial_form())
    assert response.status_code == 400
    assert messages_beside(response.get_data(as_text=True), "code") == [
        "another trial has this code already; choose another"
    ]


def test_an_edit_is_saved_and_audited_with_before_and_after(client: FlaskClient, session: Session) -> None:
    make_trial(session, code="LGB-NEW-01", status=TrialStatus.planned, equipment_class="top_handler")
    signed_in(client, session, Role.editor, "USLGB")
    changes = {"status": "active", "visibility": "partners", "baseline_rate": "12", "load_factor": ""}
    data = trial_form(**changes)
    del data["code"]
    response = post_form(client, "/trials/LGB-NEW-01/edit", data)
    assert response.status_code == 302 and response.headers["Location"] == "/trials/LGB-NEW-01/edit"
    assert "Trial LGB-NEW-01 saved." in client.get(response.headers["Location"]).get_data(as_text=True)
    reread(session)
    trial = session.exec(select(Trial).where(Trial.code == "LGB-NEW-01")).one()
    assert (trial.status, trial.visibility, trial.baseline_rate) == (TrialStatus.active, Visibility.partners, 12)
    [event] = events(session, "trial.update")
    assert event.before is not None and event.after is not None
    assert event.before["status"] == "planned" and event.after["status"] == "active"
    assert event.before["visibility"] == "private" and event.after["visibility"] == "partners"
    assert event.before["baseline_rate"] is None and event.after["baseline_rate"] == 12
    assert "code" not in event.after and "port_locode" not in event.after  # only what changed


def test_the_code_of_a_trial_cannot_be_changed(client: FlaskClient, session: Session) -> None:
    make_trial(session, code="LGB-NEW-01", equipment_class="top_handler")
    signed_in(client, session, Role.admin)
    assert post_form(client, "/trials/LGB-NEW-01/edit", trial_form(code="OTHER")).status_code == 302
    reread(session)
    assert [trial.code for trial in session.exec(select(Trial))] == ["LGB-NEW-01"]


def test_an_edit_with_a_bad_field_changes_nothing(client: FlaskClient, session: Session) -> None:
    make_trial(session, code="LGB-NEW-01")
    signed_in(client, session, Role.editor)
    response = post_form(client, "/trials/LGB-NEW-01/edit", trial_form(baseline_rate="-3"))
    assert response.status_code == 400
    assert messages_beside(response.get_data(as_text=True), "baseline_rate") == [NOT_POSITIVE]
    assert events(session, "trial.update") == []


NOT_POSITIVE = (
    "a baseline rate is more than 0 litres per unit of work; for a trial with nothing to compare against, "
    "set the baseline kind to 'none'"
)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"baseline_rate": "0"}, "baseline_rate", NOT_POSITIVE),
        ({"baseline_rate": "-3"}, "baseline_rate", NOT_POSITIVE),
        (
            {"baseline_rate": "30000", "baseline_unit": "gal/yr"},
            "baseline_unit",
            "a rate per year depends on the hours worked: give litres per hour (or per move, km), "
            "e.g. 'L/h' or 'gal/mi'",
        ),
        (
            {"baseline_rate": "800", "baseline_unit": "L/month"},
            "baseline_unit",
            "a rate per month depends on the hours worked: give litres per hour (or per move, km), "
            "e.g. 'L/h' or 'gal/mi'",
        ),
        (
            {"baseline_kind": "none"},
            "baseline_rate",
            "a trial with baseline kind 'none' has no baseline rate: leave it blank",
        ),
        (
            {"baseline_kind": "electric", "baseline_unit": "L/h"},
            "baseline_unit",
            "baseline rate is in kWh per unit of work, like 'kWh/move'; 'L' is not",
        ),
        (
            {"hydrogen_pathway": "declared", "hydrogen_factor_source": "supplier certificate"},
            "hydrogen_factor_kg_per_kg",
            "the hydrogen pathway 'declared' needs its factor in kg CO2e per kg of hydrogen, e.g. 3.2",
        ),
        (
            {"hydrogen_factor_kg_per_kg": "2.5"},
            "hydrogen_factor_kg_per_kg",
            "a hydrogen factor goes only with the hydrogen pathway 'declared': set the pathway to declared, "
            "or leave the factor blank",
        ),
        (
            {"hydrogen_pathway": "blue"},
            "hydrogen_pathway",
            "unknown hydrogen pathway 'blue': choose grey, electrolytic_grid or declared",
        ),
        (
            {"baseline_engine": "tier5"},
            "baseline_engine",
            "unknown baseline engine 'tier5': choose nonroad_tier3, nonroad_tier4f, marine_tier3, marine_tier4 "
            "or onroad_2010",
        ),
        (
            {"baseline_kind": "nuclear"},
            "baseline_kind",
            "unknown baseline kind 'nuclear': choose diesel, electric or none",
        ),
    ],
)
def test_a_baseline_or_hydrogen_factor_against_the_rules_is_refused_beside_its_field(
    client: FlaskClient, session: Session, changes: dict[str, str], field: str, message: str
) -> None:
    signed_in(client, session, Role.editor)
    response = post_form(client, "/trials/new", trial_form(**changes))
    assert response.status_code == 400
    [shown] = messages_beside(response.get_data(as_text=True), field)
    assert message in shown
    reread(session)
    assert session.exec(select(Trial)).all() == []
    assert events(session, "trial.create") == []


def test_the_form_takes_the_baseline_kind_engine_and_hydrogen_factor_and_shows_them_again(
    client: FlaskClient, session: Session
) -> None:
    signed_in(client, session, Role.editor, "USLGB")
    chosen = {
        "technology": "hydrogen_fuel_cell",
        "baseline_kind": "diesel",
        "baseline_engine": "nonroad_tier3",
        "hydrogen_pathway": "declared",
        "hydrogen_factor_kg_per_kg": "2.4",
        "hydrogen_factor_source": "supplier certificate 2024",
    }
    assert post_form(client, "/trials/new", trial_form(**chosen)).status_code == 302
    trial = session.exec(select(Trial).where(Trial.code == "LGB-NEW-01")).one()
    assert (trial.baseline_kind, trial.baseline_engine, trial.hydrogen_pathway) == (
        BaselineKind.diesel,
        "nonroad_tier3",
        "declared",
    )
    assert (trial.hydrogen_factor_kg_per_kg, trial.hydrogen_factor_source) == (2.4, "supplier certificate 2024")
    page = client.get("/trials/LGB-NEW-01/edit").get_data(as_text=True)
    shown = {"baseline_kind": "diesel", "baseline_engine": "nonroad_tier3", "hydrogen_pathway": "declared"}
    for name, value in shown.items():
        select_block = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
        assert select_block is not None and re.search(rf'<option selected value="{value}">', select_block.group(1))
    assert re.search(r'name="hydrogen_factor_kg_per_kg"[^>]*value="2.4"', page)
    assert 'value="supplier certificate 2024"' in page


def test_an_sts_crane_is_compared_with_an_electric_one_in_kwh_per_move(client: FlaskClient, session: Session) -> None:
    signed_in(client, session, Role.editor, "USLGB")
    electric = {
        "equipment_class": "sts_crane",
        "technology": "grid_electric",
        "baseline_kind": "electric",
        "baseline_rate": "4.5",
        "baseline_unit": "kWh/move",
        "baseline_engine": "",
        "hydrogen_pathway": "",
    }
    assert post_form(client, "/trials/new", trial_form(**electric)).status_code == 302
    trial = session.exec(select(Trial).where(Trial.code == "LGB-NEW-01")).one()
    assert (trial.baseline_kind, trial.baseline_rate, trial.baseline_unit) == (BaselineKind.electric, 4.5, "kWh/move")
    assert (trial.baseline_engine, trial.hydrogen_pathway) == (None, None)


def test_an_editor_with_a_port_is_offered_only_that_port(client: FlaskClient, session: Session) -> None:
    signed_in(client, session, Role.editor, "USLGB")
    page = client.get("/trials/new").get_data(as_text=True)
    offered = re.findall(r'<option[^>]*value="([A-Z]{5})"', page)
    assert offered == ["USLGB"]


def test_an_editor_cannot_create_or_edit_at_another_port(client: FlaskClient, session: Session) -> None:
    make_trial(session, code="SIN-SHARED", port_locode="SGSIN", visibility=Visibility.partners)
    make_trial(session, code="LGB-OWN", port_locode="USLGB")
    signed_in(client, session, Role.editor, "USLGB")
    assert post_form(client, "/trials/new", trial_form(port="SGSIN")).status_code == 403
    assert client.get("/trials/SIN-SHARED").headers["Location"] == "/dashboard/trials/SIN-SHARED"
    assert client.get("/trials/SIN-SHARED/edit").status_code == 403
    shared = trial_form(code="SIN-SHARED", port="SGSIN", status="cancelled")
    assert post_form(client, "/trials/SIN-SHARED/edit", shared, form_page="/trials/new").status_code == 403
    own = trial_form(code="LGB-OWN", port="SGSIN")
    assert post_form(client, "/trials/LGB-OWN/edit", own).status_code == 403  # may not move a trial away either
    unit = {"unit_id": "X-1", "role": "trial"}
    assert post_form(client, "/trials/SIN-SHARED/units", unit, form_page="/trials/new").status_code == 403
    reread(session)
    assert {t.code: (t.port_locode, t.status) for t in session.exec(select(Trial))} == {
        "SIN-SHARED": ("SGSIN", TrialStatus.active),
        "LGB-OWN": ("USLGB", TrialStatus.active),
    }
    assert events(session, "trial.create") == [] and events(session, "trial.update") == []


@pytest.mark.parametrize("path", ["/trials/SIN-PRIVATE", "/trials/SIN-PRIVATE/edit", "/trials/NO-SUCH-TRIAL"])
def test_a_private_trial_of_another_port_is_as_absent_as_a_missing_one(
    client: FlaskClient, session: Session, path: str
) -> None:
    make_trial(session, code="SIN-PRIVATE", port_locode="SGSIN")
    signed_in(client, session, Role.editor, "USLGB")
    assert client.get(path, headers={"Accept": "text/html"}).status_code == 404


@pytest.mark.parametrize("role", [Role.partner, Role.executive])
def test_readers_see_a_trial_but_cannot_reach_the_edit_pages(client: FlaskClient, session: Session, role: Role) -> None:
    make_trial(session, code="LGB-1")
    signed_in(client, session, role, "USLGB")
    assert client.get("/trials/LGB-1").headers["Location"] == "/dashboard/trials/LGB-1"
    for path in ("/trials/new", "/trials/LGB-1/edit"):
        assert client.get(path).status_code == 403
        assert post_form(client, path, trial_form(), form_page="/login").status_code == 403
    assert post_form(client, "/trials/LGB-1/units", {"unit_id": "X"}, form_page="/login").status_code == 403


def test_units_are_added_and_removed_with_audit_events(client: FlaskClient, session: Session) -> None:
    make_trial(session, code="LGB-1")
    signed_in(client, session, Role.editor, "USLGB")
    edit = "/trials/LGB-1/edit"
    assert post_form(client, "/trials/LGB-1/units", {"unit_id": " YT-7 ", "role": "baseline"}, edit).status_code == 302
    unit = session.exec(select(Unit)).one()
    assert (unit.unit_id, unit.role) == ("YT-7", UnitRole.baseline)
    response = post_form(client, f"/trials/LGB-1/units/{unit.id}/remove", {}, edit)
    assert response.status_code == 302
    reread(session)
    assert session.exec(select(Unit)).all() == []
    [added] = events(session, "unit.add")
    [removed] = events(session, "unit.remove")
    assert added.after == removed.before == {"unit_id": "YT-7", "role": "baseline"}


@pytest.mark.parametrize(
    ("unit_id", "message"), [("", "a unit needs its id"), ("YT-1", "unit 'YT-1' is in this trial")]
)
def test_a_bad_unit_id_is_explained_beside_it(
    client: FlaskClient, session: Session, unit_id: str, message: str
) -> None:
    make_unit(session, make_trial(session, code="LGB-1"), "YT-1")
    signed_in(client, session, Role.editor)
    response = post_form(client, "/trials/LGB-1/units", {"unit_id": unit_id, "role": "trial"}, "/trials/LGB-1/edit")
    assert response.status_code == 400
    assert any(message in shown for shown in messages_beside(response.get_data(as_text=True), "unit_id"))
    assert len(session.exec(select(Unit)).all()) == 1


def test_a_unit_with_measurements_is_kept_and_the_page_says_why(client: FlaskClient, session: Session) -> None:
    unit = make_unit(session, make_trial(session, code="LGB-1"), "YT-1")
    make_measurement(session, unit, date(2024, 3, 1), operating_hours=8)
    signed_in(client, session, Role.editor)
    response = post_form(client, f"/trials/LGB-1/units/{unit.id}/remove", {}, "/trials/LGB-1/edit")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Unit YT-1 has 1 measurement(s) and cannot be removed" in page
    reread(session)
    assert session.exec(select(Unit)).one().unit_id == "YT-1"
    assert events(session, "unit.remove") == []


def fact(answer: Any, name: str) -> str:
    """One fact of the dashboard's trial page header (a term of its definition list), as the page words it."""
    terms = [node["props"] for node in _components(answer["trial-header"]) if node["type"] in ("Dt", "Dd")]
    found = [shown_text(terms[i + 1]["children"]) for i, term in enumerate(terms[:-1]) if term["children"] == name]
    assert len(found) == 1, (name, terms)
    return found[0]


def _components(node: Any) -> Iterator[dict[str, Any]]:
    """Every component in a Dash answer, depth first."""
    if isinstance(node, list):
        for child in node:
            yield from _components(child)
    elif isinstance(node, dict):
        if "props" in node:
            yield node
            yield from _components(node["props"].get("children"))
        else:
            yield from _components(node.get("children"))


@pytest.mark.parametrize(
    ("path", "page"),
    [
        ("/trials/LGB-1", "/dashboard/trials/LGB-1"),
        ("/trials/LGB-1?factors=ZE-2024&grain=day", "/dashboard/trials/LGB-1?factors=ZE-2024&grain=day"),
        ("/trials/LGB%20YT%2001", "/dashboard/trials/LGB%20YT%2001"),
    ],
)
def test_a_trials_address_leads_to_its_one_page_on_the_dashboard_keeping_the_query(
    client: FlaskClient, session: Session, path: str, page: str
) -> None:
    make_trial(session, code="LGB-1")
    make_trial(session, code="LGB YT 01")
    signed_in(client, session, Role.partner, "USLGB")
    response = client.get(path)
    assert (response.status_code, response.headers["Location"]) == (302, page)


def test_the_trial_page_says_which_baseline_the_metrics_use(client: FlaskClient, session: Session) -> None:
    trial = make_trial(session, code="LGB-1", baseline_rate=3.0, baseline_unit="L/h", baseline_source="OEM spec")
    make_measurement(session, make_unit(session, trial, "YT-1"), date(2024, 3, 1), operating_hours=10, energy_kwh=200)
    signed_in(client, session, Role.partner, "USLGB")

    def baseline_text() -> str:
        return fact(trial_page(client, "LGB-1"), "Compared against")

    declared = baseline_text()
    assert "declared" in declared and re.search(r"\b3\.0+ L\b", declared) and "OEM spec" in declared
    diesel = make_unit(session, trial, "D-1", UnitRole.baseline)
    make_measurement(session, diesel, date(2024, 3, 1), operating_hours=10, diesel_l=40)
    page = trial_page(client, "LGB-1")  # one day of baseline data: too thin, so the declared rate is used
    assert "declared" in fact(page, "Compared against") and re.search(r"\b3\.0+ L\b", fact(page, "Compared against"))
    assert "measured on only 1 unit-days (under 30): the declared rate is used" in fact(page, "Trust checks")
    make_measurement(session, diesel, date(2024, 3, 2), days=29, operating_hours=290, diesel_l=1160)
    measured = baseline_text()  # 1,200 L over 300 h on the baseline unit: 4 L per hour
    assert "measured" in measured and re.search(r"\b4\.0+ L\b", measured) and "(3 L/h) is not used" in measured


@pytest.mark.parametrize("code", ["LGB/YT-01", "y](https://evil.example/p)", "..", "LGB YT 01", "LGB-ÄÖ"])
def test_a_code_outside_letters_digits_dot_underscore_and_dash_is_refused_beside_the_code(
    client: FlaskClient, session: Session, code: str
) -> None:
    signed_in(client, session, Role.editor, "USLGB")
    response = post_form(client, "/trials/new", trial_form(code=code))
    assert response.status_code == 400
    assert messages_beside(response.get_data(as_text=True), "code") == [TRIAL_CODE_RULE]
    reread(session)
    assert session.exec(select(Trial)).all() == []


def test_a_stored_trial_whose_code_predates_the_rule_can_still_be_edited(client: FlaskClient, session: Session) -> None:
    make_trial(session, code="LGB YT 01", equipment_class="top_handler")
    signed_in(client, session, Role.editor, "USLGB")
    path = "/trials/LGB%20YT%2001/edit"
    response = post_form(client, path, {k: v for k, v in trial_form(status="active").items() if k != "code"})
    assert response.status_code == 302
    reread(session)
    assert session.exec(select(Trial.status)).one() == TrialStatus.active
