"""The review of a file before it is confirmed: totals per unit and each warning, with figures worked out by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from importers.pipeline import import_file
from importers.profiles import ImportMapping
from tests.factories import fleet_group_file, make_trial, make_unit, write_xlsx
from trials.models import Technology, Unit, UnitRole
from trials.scope import Scope

OPERATOR = Scope.operator()
#: The Fleet Group file's own words for its units, mapped to what they mean.
FLEET_GROUP = ImportMapping({"Fleet Group": "role"}, {"role": {"Pilot EV": "trial", "Diesel baseline": "baseline"}})


def review(engine: Engine, path: Path, **options: Any) -> dict[str, Any]:
    """Dry-run a file and give its review as the JSON of the CLI and the API."""
    result = import_file(engine, path, scope=OPERATOR, dry_run=True, **options)
    assert result.status == "dry-run", result.problems[:3]
    found: dict[str, Any] = result.as_json()["review"]
    return found


def totals(unit: dict[str, Any]) -> dict[str, float]:
    """A reviewed unit's totals by field."""
    return {total["field"]: total["value"] for total in unit["totals"]}


def codes(found: dict[str, Any]) -> list[str]:
    """The warnings' codes, in order."""
    return [warning["code"] for warning in found["warnings"]]


def test_the_fleet_group_file_as_read_warns_of_its_diesel_units_and_its_unit_count(
    engine: Engine, tmp_path: Path
) -> None:
    found = review(engine, fleet_group_file(tmp_path / "oem.xlsx"))
    units = {unit["unit"]: unit for unit in found["units"]}
    assert list(units) == ["D-1", "EV-1", "EV-2"]  # sorted by trial, then unit
    # Two days each: EV-1 2 x 10 h and 2 x 150 kWh; EV-2 2 x 8 h, 2 x 120 kWh; D-1 2 x 10 h, 2 x 80 L.
    assert totals(units["EV-1"]) == {"energy_kwh": 300.0, "operating_hours": 20.0}
    assert totals(units["EV-2"]) == {"energy_kwh": 240.0, "operating_hours": 16.0}
    assert totals(units["D-1"]) == {"diesel_l": 160.0, "operating_hours": 20.0}
    assert units["EV-1"]["rates"] == [{"field": "energy_kwh", "label": "Electricity", "unit": "kWh/h", "value": 15.0}]
    assert units["D-1"]["rates"] == [{"field": "diesel_l", "label": "Diesel", "unit": "L/h", "value": 8.0}]
    assert {(u["role_label"], u["rows"], u["first_day"], u["last_day"], u["new"]) for u in units.values()} == {
        ("trial unit", 2, "2024-03-01", "2024-03-02", True)
    }
    assert found["warnings"] == [
        {
            "code": "column_kept_as_notes",
            "message": "Sheet “Measurements”, column “Fleet Group” is not a column ZE Trials knows: it is kept as "
            "notes. If it says something ZE Trials stores (such as which units are baseline machines), map it to a "
            "field.",
            "trial": None,
        },
        {
            "code": "diesel_on_zero_emission",
            "message": "LAX-YT-02 is a battery electric trial, but its trial unit D-1 burnt 160 L of diesel: if it is "
            "a diesel machine measured for comparison, give it the role baseline (map the column that says so, or "
            "add a Role column).",
            "trial": "LAX-YT-02",
        },
        {
            "code": "more_units_than_planned",
            "message": "LAX-YT-02 plans 2 trial units; with this file it would have 3 (D-1, EV-1, EV-2). If some are "
            "baseline machines, give them the role baseline; otherwise change the planned number of units on the "
            "trial.",
            "trial": "LAX-YT-02",
        },
        {
            "code": "role_assumed",
            "message": "No role is given for 3 new units of LAX-YT-02 (D-1, EV-1, EV-2): they are taken as trial "
            "units. Add a Role column, or map the column that says which are baseline machines.",
            "trial": "LAX-YT-02",
        },
    ]
    assert found["profile"] is None


def test_mapping_the_fleet_group_column_and_its_values_gives_the_right_roles_and_no_warning(
    engine: Engine, tmp_path: Path
) -> None:
    path = fleet_group_file(tmp_path / "oem.xlsx")
    found = review(engine, path, mapping=FLEET_GROUP)
    assert [(u["unit"], u["role"]) for u in found["units"]] == [
        ("D-1", "baseline"),
        ("EV-1", "trial"),
        ("EV-2", "trial"),
    ]
    assert found["warnings"] == []
    result = import_file(engine, path, scope=OPERATOR, mapping=FLEET_GROUP)
    assert result.status == "imported"
    with Session(engine) as session:
        roles = {unit.unit_id: unit.role for unit in session.exec(select(Unit))}
    assert roles == {"EV-1": UnitRole.trial, "EV-2": UnitRole.trial, "D-1": UnitRole.baseline}


def test_mapped_values_are_matched_as_headers_are_case_and_spaces_aside(engine: Engine, tmp_path: Path) -> None:
    mapping = ImportMapping({"Fleet Group": "role"}, {"role": {"PILOT  ev": "trial", "diesel-baseline": "baseline"}})
    found = review(engine, fleet_group_file(tmp_path / "oem.xlsx"), mapping=mapping)
    assert [u["role"] for u in found["units"]] == ["baseline", "trial", "trial"]


def test_a_column_mapped_without_its_values_rejects_the_unknown_roles_naming_them(
    engine: Engine, tmp_path: Path
) -> None:
    mapping = ImportMapping({"Fleet Group": "role"})
    result = import_file(engine, fleet_group_file(tmp_path / "oem.xlsx"), scope=OPERATOR, dry_run=True, mapping=mapping)
    assert result.status == "rejected"
    [group] = result.problem_groups()
    assert (group.column, group.count, group.values) == ("Fleet Group", 6, ("Pilot EV", "Diesel baseline"))


def test_an_empty_mapping_reads_the_file_as_written(engine: Engine, tmp_path: Path) -> None:
    found = review(engine, fleet_group_file(tmp_path / "oem.xlsx"), mapping=ImportMapping())
    assert "column_kept_as_notes" in codes(found) and found["profile"] is None


def test_a_rate_outside_the_plausible_range_names_the_unit_and_its_rate(engine: Engine, tmp_path: Path) -> None:
    # EV-1 draws 400 kWh in 10 h a day: 800 / 20 = 40 kWh/h, above a yard tractor's 6-25 kWh/h; EV-2 stays at 15.
    found = review(engine, fleet_group_file(tmp_path / "oem.xlsx", energy=400), mapping=FLEET_GROUP)
    assert found["warnings"] == [
        {
            "code": "rate_out_of_range",
            "message": "LAX-YT-02: electricity in kWh per hour is outside the plausible 6-25 kWh per hour "
            "(METHODOLOGY.md §8) for EV-1 40: check the units in the headers and the roles.",
            "trial": "LAX-YT-02",
        }
    ]


@pytest.mark.parametrize(
    ("role", "technology", "warned"),
    [
        # 20 L in 10 h = 2 L/h, below the diesel yard tractor's 4-14 L/h: suspect on a baseline unit ...
        ("baseline", Technology.battery_electric, True),
        # ... but a hybrid trial unit burns less than diesel, so only a rate above the range is suspect.
        ("trial", Technology.hybrid_diesel_electric, False),
    ],
)
def test_a_low_diesel_rate_is_suspect_on_a_baseline_unit_only(
    engine: Engine, session: Session, tmp_path: Path, role: str, technology: Technology, warned: bool
) -> None:
    make_trial(session, technology=technology, units_planned=4)
    header = ["Trial", "Unit", "Role", "Date", "Operating hours", "Diesel (L)"]
    path = write_xlsx(
        tmp_path / "d.xlsx", {"Measurements": [header, ["LGB-YT-01", "D-9", role, date(2024, 3, 1), 10, 20]]}
    )
    found = review(engine, path)
    assert ("rate_out_of_range" in codes(found)) is warned
    if warned:
        assert "4-14 L per hour (METHODOLOGY.md §8) for D-9 2:" in found["warnings"][0]["message"]


def test_units_already_stored_count_toward_the_plan_and_are_not_new(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    trial = make_trial(session, units_planned=2)
    make_unit(session, trial, "YT-1")
    make_unit(session, trial, "YT-2")
    make_unit(session, trial, "B-1", role=UnitRole.baseline)
    header: list[Any] = ["Trial", "Unit", "Date", "Operating hours", "Energy (kWh)"]
    rows = [header, ["LGB-YT-01", "YT-1", date(2024, 3, 1), 10, 150], ["LGB-YT-01", "YT-3", date(2024, 3, 1), 10, 150]]
    found = review(engine, write_xlsx(tmp_path / "m.xlsx", {"Measurements": rows}))
    assert [(u["unit"], u["new"]) for u in found["units"]] == [("YT-1", False), ("YT-3", True)]
    messages = {warning["code"]: warning["message"] for warning in found["warnings"]}
    assert messages["more_units_than_planned"].startswith(
        "LGB-YT-01 plans 2 trial units; with this file it would have 3 (YT-1, YT-2, YT-3)."
    )  # the stored baseline unit B-1 is not a trial unit
    assert messages["role_assumed"].startswith("No role is given for 1 new unit of LGB-YT-01 (YT-3):")


def test_a_header_without_a_unit_is_a_warning_naming_the_unit_assumed(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    make_trial(session)
    header = ["Trial", "Unit", "Role", "Date", "Hours", "Energy"]
    path = write_xlsx(
        tmp_path / "m.xlsx", {"Readings": [header, ["LGB-YT-01", "YT-1", "trial", date(2024, 3, 1), 10, 150]]}
    )
    found = review(engine, path)
    assert found["warnings"] == [
        {
            "code": "unit_assumed",
            "message": "Sheet “Readings”, column “Energy” names no unit: it is read in kWh.",
            "trial": None,
        }
    ]  # 'Hours' is its own unit; the Role column says the role


def test_the_fleet_unit_is_summed_but_never_counted_as_a_machine(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    make_trial(session, units_planned=1)
    header: list[Any] = ["Trial", "Date", "Operating hours", "Energy (kWh)"]
    rows = [header, ["LGB-YT-01", date(2024, 3, 1), 30, 450], ["LGB-YT-01", date(2024, 3, 2), 10, 150]]
    found = review(engine, write_xlsx(tmp_path / "f.xlsx", {"Measurements": rows}))
    [fleet] = found["units"]
    assert (fleet["unit"], totals(fleet), fleet["rates"][0]["value"]) == (
        "fleet",
        {"energy_kwh": 600.0, "operating_hours": 40.0},
        15.0,
    )  # 600 kWh / 40 h
    assert "more_units_than_planned" not in codes(found)


def test_the_review_offers_the_values_to_map_of_unknown_columns_and_those_a_choice_column_refuses(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    make_trial(session)
    header: list[Any] = ["Trial", "Unit", "Role", "Shift", "Date", "Operating hours"]
    rows = [header] + [
        ["LGB-YT-01", f"YT-{n}", role, shift, date(2024, 3, n), 8]
        for n, (role, shift) in enumerate([("trial", "A"), ("Trail", "B"), ("baseline", "A"), ("Group 7", "C")], 1)
    ]
    result = import_file(engine, write_xlsx(tmp_path / "m.xlsx", {"Measurements": rows}), scope=OPERATOR, dry_run=True)
    assert result.status == "rejected"  # 'Trail' and 'Group 7' are no roles ('Pilot' is one: trial)
    [sheet] = result.sheets
    assert sheet.values == {"Role": ["Trail", "Group 7"], "Shift": ["A", "B", "C"]}
