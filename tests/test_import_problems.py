"""Problems an analyst can act on: grouped by kind, with "did you mean", and dates pointing to the order choice."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.cli import main
from importers.pipeline import import_file
from importers.problems import Problem, group_problems
from tests.factories import (
    LGB_TRIAL,
    TRIALS_HEADER,
    check_against_document,
    finished,
    make_trial,
    make_user,
    standard_file,
    upload,
    write_xlsx,
)
from trials.accounts import create_token
from trials.models import Role, Visibility
from trials.scope import Scope

OPERATOR = Scope.operator()
HEADER = ["Trial", "Unit", "Role", "Date", "Energy (kWh)"]


def wrong_roles(path: Path, rows: int = 700) -> Path:
    """A measurement sheet whose every row gives the role as 'Trail' (a typo of 'trial')."""
    body = [["LGB-YT-01", f"YT-{n % 7}", "Trail", date(2024, 1, 1 + n % 28), 5] for n in range(rows)]
    return write_xlsx(path, {"Measurements": [HEADER, *body]})


def test_700_rows_of_one_unknown_role_give_one_line_with_the_count_first_rows_and_a_suggestion(
    engine: Engine, tmp_path: Path
) -> None:
    import_file(engine, standard_file(tmp_path / "t.xlsx"), scope=OPERATOR)
    result = import_file(engine, wrong_roles(tmp_path / "oem.xlsx"), scope=OPERATOR)
    assert result.status == "rejected" and len(result.problems) == 700  # every problem kept, for machines
    [group] = result.problem_groups()
    assert (group.sheet, group.column, group.message) == (
        "Measurements",
        "Role",
        "not a known role; expected one of trial, baseline",
    )
    assert (group.count, group.rows, group.more_rows) == (700, tuple(range(2, 12)), 690)
    assert (group.values, group.more_values, group.suggestions) == (("Trail",), 0, (("Trail", "trial"),))
    assert str(group) == (
        "oem.xlsx, sheet 'Measurements', column 'Role': not a known role; expected one of trial, baseline "
        "(700 problems; rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 690 more; value 'Trail' (did you mean trial?))."
    )
    payload = result.as_json()
    assert len(payload["problems"]) == 700
    assert payload["problem_groups"] == [group.as_dict()]


def test_distinct_values_are_listed_a_few_then_counted() -> None:
    problems = [Problem("f.csv", "not a known role", sheet="f", row=n, column="Role", value=f"v{n}") for n in range(9)]
    [group] = group_problems(problems)
    assert (group.values, group.more_values) == (("v0", "v1", "v2", "v3", "v4"), 4)
    assert "values 'v0', 'v1', 'v2', 'v3', 'v4' and 4 more" in str(group)


def test_problems_in_other_columns_or_of_another_kind_stay_apart() -> None:
    problems = [
        Problem("f.csv", "expected a number such as 1234.5", sheet="f", row=2, column="Energy (kWh)", value="x"),
        Problem("f.csv", "expected a number such as 1234.5", sheet="f", row=3, column="Moves", value="y"),
        Problem("f.csv", "expected a number such as 1234.5", sheet="f", row=4, column="Energy (kWh)", value="x"),
        Problem("f.csv", "expected zero or more", sheet="f", row=5, column="Energy (kWh)", value="-1"),
    ]
    groups = group_problems(problems)
    assert [(g.column, g.count, g.rows, g.values) for g in groups] == [
        ("Energy (kWh)", 2, (2, 4), ("x",)),
        ("Moves", 1, (3,), ("y",)),
        ("Energy (kWh)", 1, (5,), ("-1",)),
    ]


def test_a_mistyped_trial_code_gets_did_you_mean_naming_only_a_trial_in_scope(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    make_trial(session, code="LAX-YT-02", port_locode="USLAX")
    make_trial(session, code="LAX-YT-03", port_locode="USLAX", visibility=Visibility.partners)
    make_trial(session, code="LGB-YT-02", port_locode="USLGB")
    path = tmp_path / "m.csv"
    path.write_text("Trial,Unit,Date,Energy (kWh)\nLAX-YT-2,U1,2024-03-01,5\nLGB-YT-2,U1,2024-03-01,5\n")
    los_angeles = Scope(role=Role.editor, port_locode="USLAX", actor="ed@lax.example")
    groups = import_file(engine, path, scope=los_angeles).problem_groups()
    assert [(g.values, g.suggestions) for g in groups] == [
        (("LAX-YT-2",), (("LAX-YT-2", "LAX-YT-02"),)),
        (("LGB-YT-2",), ()),  # Long Beach's private LGB-YT-02 is never named to Los Angeles
    ]
    long_beach = Scope(role=Role.editor, port_locode="USLGB", actor="ed@lgb.example")
    result = import_file(engine, path, scope=long_beach)
    assert [g.suggestions for g in result.problem_groups()] == [(), (("LGB-YT-2", "LGB-YT-02"),)]
    assert "LAX-YT-02" not in json.dumps(result.as_json())  # nor Los Angeles' trials to Long Beach
    assert "LAX-YT-03" not in json.dumps(result.as_json())  # a shared trial is seen, but not written to


@pytest.mark.parametrize(
    ("column", "written", "suggested"),
    [
        (2, "USLBG", "USLGB (Long Beach)"),
        (2, "Long Bech", "USLGB (Long Beach)"),
        (3, "yard tractr", "yard_tractor"),
        (4, "battery electrik", "battery_electric"),
    ],
)
def test_ports_classes_and_technologies_get_did_you_mean(
    engine: Engine, tmp_path: Path, column: int, written: str, suggested: str
) -> None:
    trial = list(LGB_TRIAL)
    trial[column] = written
    result = import_file(engine, write_xlsx(tmp_path / "t.xlsx", {"Trials": [TRIALS_HEADER, trial]}), scope=OPERATOR)
    [group] = result.problem_groups()
    assert (group.column, group.suggestions) == (TRIALS_HEADER[column], ((written, suggested),))


def ambiguous_dates(path: Path) -> Path:
    """A csv of three units whose 33 text dates (2 to 12 January 2026) could each be day first or month first."""
    rows = [f"YT-{unit},{day:02d}/01/2026,10\n" for unit in (1, 2, 3) for day in range(2, 13)]
    path.write_text("Unit,Date,Energy (kWh)\n" + "".join(rows), encoding="utf-8")
    return path


def test_ambiguous_dates_are_one_line_saying_how_to_choose_the_order(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, standard_file(tmp_path / "t.xlsx"), scope=OPERATOR)
    result = import_file(engine, ambiguous_dates(tmp_path / "eu.csv"), scope=OPERATOR, trial_code="LGB-YT-01")
    assert len(result.problems) == 33 and "write it as" in result.problems[0].message  # each cell's own words
    [group] = result.problem_groups("choose the order")
    assert group.message.startswith("ambiguous date: each could be read day first or month first")
    assert (group.count, group.values[:2], group.more_values, group.advice) == (
        33,
        ("02/01/2026", "03/01/2026"),
        6,
        "choose the order",
    )


def test_the_cli_prints_one_line_per_kind_of_problem_and_json_keeps_every_problem(
    runner: CliRunner, tmp_path: Path
) -> None:
    runner.invoke(main, ["import", str(standard_file(tmp_path / "t.xlsx"))])
    shown = runner.invoke(main, ["import", str(wrong_roles(tmp_path / "oem.xlsx"))])
    assert shown.exit_code == 1
    lines = [line for line in shown.output.splitlines() if line.startswith("  problem: ")]
    assert lines == [
        "  problem: oem.xlsx, sheet 'Measurements', column 'Role': not a known role; expected one of trial, baseline "
        "(700 problems; rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 690 more; value 'Trail' (did you mean trial?))."
    ]
    payload = json.loads(runner.invoke(main, ["import", str(tmp_path / "oem.xlsx"), "--json"]).output)
    assert len(payload["problems"]) == 700 and payload["problem_groups"][0]["count"] == 700
    dates = runner.invoke(main, ["import", str(ambiguous_dates(tmp_path / "eu.csv")), "--trial", "LGB-YT-01"])
    [line] = [line for line in dates.output.splitlines() if line.startswith("  problem: ")]
    assert "33 problems" in line and "import again with --day-first" in line and "--month-first" in line


def test_the_review_page_groups_problems_and_the_workbook_keeps_every_row(editor: FlaskClient, tmp_path: Path) -> None:
    finished(editor, upload(editor, standard_file(tmp_path / "t.xlsx")))
    page = finished(editor, review := upload(editor, wrong_roles(tmp_path / "oem.xlsx")))
    assert page.count("not a known role") == 1
    assert "700" in page and "2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 690 more" in page
    assert "Trail <em>(did you mean trial?)</em>" in page
    sheet = load_workbook(io.BytesIO(editor.get(f"{review}/problems.xlsx").data))["Problems"]
    assert sheet.max_row == 701  # a header and one row per problem
    page = finished(editor, upload(editor, ambiguous_dates(tmp_path / "eu.csv"), trial="LGB-YT-01"))
    assert page.count("ambiguous date") == 1
    assert '<a href="/imports#day_order">choose day first or month first under “Text dates such as' in page


def test_the_api_answers_every_problem_and_the_groups_as_documented(
    client: FlaskClient, session: Session, tmp_path: Path
) -> None:
    make_trial(session)
    make_user(session, "ed@example.org", role=Role.editor)
    token = create_token(session, email="ed@example.org", actor="test")
    session.commit()
    response = client.post(
        "/api/v1/imports",
        headers={"Authorization": f"Bearer {token}"},
        data={"file": (io.BytesIO(ambiguous_dates(tmp_path / "eu.csv").read_bytes()), "eu.csv"), "trial": "LGB-YT-01"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    check_against_document("POST", "/api/v1/imports", response)
    payload = response.get_json()
    [group] = payload["problem_groups"]
    assert (len(payload["problems"]), group["count"], group["rows"][:3], group["more_rows"]) == (33, 33, [2, 3, 4], 23)
    assert "day_first=true" in group["advice"] and "day_first=false" in group["advice"]
