"""The plausible ranges of METHODOLOGY.md §8, in words, on the methodology page and the report's Methodology sheet."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlmodel import Session, select

from reports.data import Selection
from reports.workbook import write_report
from tests.factories import make_measurement, make_trial, make_unit, make_user, post_callback, sign_in
from trials.models import EquipmentClass, PlausibleRange
from trials.scope import Scope

EFFICIENCY = "A battery or fuel-cell machine is expected to be 1.5-6× as energy-efficient as its diesel baseline."
TTW_NOTE = "Diesel's tank-to-wheel factor counts CO2 only; combustion CH4 and N2O (under 1 % of CO2e) are not counted."
#: Rows of the seeded ranges as people read them: class, quantity, range with unit, source.
YARD_TRACTOR = [
    [
        "Yard tractor",
        "Diesel",
        "4-14 L per hour",
        "METHODOLOGY.md §8: 1.75 gal/h (6.6 L/h) diesel yard tractor (yardtruck.com, 2022)",
    ],
    [
        "Yard tractor",
        "Electricity",
        "6-25 kWh per hour",
        "METHODOLOGY.md §8: 7 kWh/h (yardtruck.com, 2022); BYD 8Y 209 kWh for a shift of up to 15 h",
    ],
    ["Yard tractor", "Hydrogen", "0.4-1.8 kg per hour", "METHODOLOGY.md §8: Terberg YT203-H2 14.4 kg for a full day"],
]
DRAYAGE_DIESEL = ["Drayage truck", "Diesel", "0.25-0.55 L per km", "METHODOLOGY.md §8: about 6 mpg diesel (0.39 L/km)"]
RTG_ELECTRICITY = ["RTG crane", "Electricity", "1.5-6 kWh per move", "METHODOLOGY.md §8"]
TUG_ELECTRICITY = ["Tug", "Electricity", "100-1,000 kWh per hour", "METHODOLOGY.md §8"]


def _find(node: Any, component_id: str) -> Any:
    """The Dash component with this id, anywhere in a callback's answer."""
    if isinstance(node, list):
        return next((found for item in node if (found := _find(item, component_id)) is not None), None)
    if isinstance(node, dict):
        props = node.get("props", {})
        return node if props.get("id") == component_id else _find(props.get("children"), component_id)
    return None


def _text(node: Any) -> str:
    """The text a component shows."""
    if isinstance(node, list):
        return "".join(_text(item) for item in node)
    if isinstance(node, dict):
        return _text(node.get("props", {}).get("children"))
    return "" if node is None else str(node)


def _body_rows(table: Any) -> list[list[str]]:
    """An HTML table's body rows, as the text of each cell."""
    body = table["props"]["children"][1]
    return [[_text(cell) for cell in row["props"]["children"]] for row in body["props"]["children"]]


def _methodology_page(client: FlaskClient) -> Any:
    """The methodology page as a signed-in executive gets it: the page, then its body's callback."""
    assert client.get("/dashboard/methodology").status_code == 200
    answer = post_callback(client, [("methodology-body", "children")], [("url", "search", "")])
    assert isinstance(answer, dict), answer
    return answer["methodology-body"]["children"]


def test_the_methodology_page_shows_the_ranges_in_words_with_sources(client: FlaskClient, session: Session) -> None:
    make_user(session, "exec@example.org")
    sign_in(client, "exec@example.org")
    body = _methodology_page(client)

    ranges = _find(body, "methodology-ranges")
    header = [_text(cell) for cell in ranges["props"]["children"][0]["props"]["children"]["props"]["children"]]
    assert header == ["Equipment class", "Quantity", "Plausible range", "Source"]
    rows = _body_rows(ranges)
    assert len(rows) == len(session.exec(select(PlausibleRange)).all()) == 26
    assert rows[0] == DRAYAGE_DIESEL  # classes in the app's order, each one's diesel, electricity, hydrogen
    assert rows[3:6] == YARD_TRACTOR
    assert RTG_ELECTRICITY in rows and TUG_ELECTRICITY in rows
    assert not any("_" in cell for row in rows for cell in row[:3])  # no raw keys such as yard_tractor
    assert _text(_find(body, "methodology-efficiency")) == EFFICIENCY
    assert _text(_find(body, "methodology-ttw-note")) == f"Tank-to-wheel greenhouse gases: {TTW_NOTE}"


def test_the_methodology_page_reads_the_ranges_as_stored(client: FlaskClient, session: Session) -> None:
    stored = session.exec(
        select(PlausibleRange).where(
            PlausibleRange.equipment_class == EquipmentClass.ferry, PlausibleRange.quantity == "energy_kwh"
        )
    ).one()
    stored.high, stored.source = 3000.0, "terminal energy records 2025"
    session.add(stored)
    session.commit()
    make_user(session, "exec@example.org")
    sign_in(client, "exec@example.org")
    rows = _body_rows(_find(_methodology_page(client), "methodology-ranges"))
    assert ["Ferry", "Electricity", "100-3,000 kWh per hour", "terminal energy records 2025"] in rows


def test_the_methodology_page_is_behind_sign_in(client: FlaskClient) -> None:
    answer = post_callback(client, [("methodology-body", "children")], [("url", "search", "")])
    assert answer in (401, 403)


def test_the_report_methodology_sheet_shows_the_ranges_and_notes(session: Session) -> None:
    trial = make_trial(session, baseline_rate=3.0, baseline_unit="L/h", baseline_source="terminal fuel records")
    make_measurement(session, make_unit(session, trial), date(2024, 2, 1), operating_hours=10.0, energy_kwh=180.0)
    session.close()  # a report reads from a fresh session
    target = io.BytesIO()
    write_report(target, session=session, scope=Scope.operator(), selection=Selection(), as_of=date(2024, 12, 31))

    book = load_workbook(io.BytesIO(target.getvalue()))
    sheet = book["Methodology"]
    header, *cells = sheet[sheet.tables["Ranges"].ref]
    assert [cell.value for cell in header] == ["Equipment class", "Quantity", "Plausible range", "Source"]
    rows = [[cell.value for cell in row] for row in cells]
    assert len(rows) == 26
    assert rows[0] == DRAYAGE_DIESEL
    assert rows[3:6] == YARD_TRACTOR
    assert RTG_ELECTRICITY in rows and TUG_ELECTRICITY in rows
    texts = [cell.value for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert EFFICIENCY in texts
    assert f"Tank-to-wheel greenhouse gases: {TTW_NOTE}" in texts
    assert texts.index("Plausible ranges (METHODOLOGY.md §8)") < texts.index(EFFICIENCY)
