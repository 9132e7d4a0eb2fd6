"""The import commands as a user types them: exit codes, JSON, history, undo, template and demo."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from app.cli import main
from tests.factories import STANDARD_REVIEW, standard_file


def test_import_prints_a_summary_and_exits_0(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["import", str(standard_file(tmp_path / "in.xlsx"))])
    assert result.exit_code == 0, result.output
    assert "Imported in.xlsx as batch 1" in result.output
    assert "created 4, updated 0, unchanged 0, skipped 0" in result.output
    assert "Energy (kWh) -> Energy [kWh]" in result.output  # the field in words, never its key
    again = runner.invoke(main, ["import", str(tmp_path / "in.xlsx"), "--json"])
    assert again.exit_code == 0
    assert json.loads(again.output)["status"] == "duplicate"


def test_a_rejected_import_exits_1_with_every_problem_in_json(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("Trial,Unit,Date,Energy (kWh)\nNOPE,U1,2024-03-01,5\nNOPE,U1,2024-03-02,-1\n", encoding="utf-8")
    result = runner.invoke(main, ["import", str(path), "--json"])
    assert result.exit_code == 1
    payload = json.loads(result.output)
    assert payload["status"] == "rejected" and payload["batch"] is None
    assert payload["problems"] == [
        {
            "sheet": "m",
            "row": 2,
            "column": "Trial",
            "value": "NOPE",
            "message": "unknown trial 'NOPE': add it on a 'Trials' sheet or create it first",
        },
        {
            "sheet": "m",
            "row": 3,
            "column": "Energy (kWh)",
            "value": "-1",
            "message": payload["problems"][1]["message"],
        },
    ]
    assert "negative" in payload["problems"][1]["message"]


def test_import_usage_errors_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(main, ["import", str(tmp_path / "missing.xlsx")]).exit_code == 2
    assert runner.invoke(main, ["import"]).exit_code == 2


def test_dry_run_exits_0_and_writes_nothing(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["import", str(standard_file(tmp_path / "in.xlsx")), "--dry-run"])
    assert result.exit_code == 0 and "nothing was written" in result.output
    assert "No imports yet." in runner.invoke(main, ["imports", "list"]).output


def test_a_dry_run_says_what_each_unit_brings_and_what_to_check(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["import", str(standard_file(tmp_path / "in.xlsx")), "--dry-run"])
    review = result.output.split("Moves -> Moves\n", 1)[1]
    # YT-1: 10 + 12 = 22 h, 250 + 310 = 560 kWh, 40 + 50 = 90 moves, 560 / 22 = 25.45 kWh/h; YT-2: 8 h, 190 kWh.
    assert review == (
        "  unit YT-1 of LGB-YT-01 (trial unit, new): 2 rows, 2024-03-01 to 2024-03-02; electricity 560 kWh, "
        "operating hours 22 h, moves 90, electricity 25.45 kWh/h\n"
        "  unit YT-2 of LGB-YT-01 (trial unit, new): 1 row, 2024-03-01 to 2024-03-01; electricity 190 kWh, "
        "operating hours 8 h, electricity 23.75 kWh/h\n"
        "  warning: LGB-YT-01: electricity in kWh per hour is outside the plausible 6-25 kWh per hour "
        "(METHODOLOGY.md §8) for YT-1 25.5: check the units in the headers and the roles.\n"
        "  warning: No role is given for 2 new units of LGB-YT-01 (YT-1, YT-2): they are taken as trial units. Add a "
        "Role column, or map the column that says which are baseline machines.\n"
    )
    as_json = json.loads(runner.invoke(main, ["import", str(tmp_path / "in.xlsx"), "--dry-run", "--json"]).output)
    assert as_json["review"] == STANDARD_REVIEW  # the same facts as the API and the web page


def test_imports_list_and_undo(runner: CliRunner, tmp_path: Path) -> None:
    runner.invoke(main, ["import", str(standard_file(tmp_path / "in.xlsx"))])
    listing = runner.invoke(main, ["imports", "list"]).output
    assert "imported  created 4, updated 0, unchanged 0, skipped 0  in.xlsx" in listing
    assert runner.invoke(main, ["imports", "undo", "1", "--yes"]).output == (
        "Undid batch 1 (in.xlsx): removed the 3 rows it created; removed units YT-1, YT-2 of LGB-YT-01; "
        "removed trial LGB-YT-01.\n"
    )
    assert "undone" in runner.invoke(main, ["imports", "list"]).output
    refused = runner.invoke(main, ["imports", "undo", "1", "--yes"])
    assert refused.exit_code == 1 and "was undone already" in refused.output
    assert json.loads(runner.invoke(main, ["metrics", "--json"]).output) == {}


def test_template_command_writes_the_workbook(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["template", "-o", str(tmp_path / "t.xlsx")])
    assert result.exit_code == 0
    workbook = load_workbook(tmp_path / "t.xlsx")
    headers = [cell.value for cell in workbook["Measurements"][1]]
    assert headers[:5] == ["Trial", "Unit", "Role", "Start date", "End date"]


def test_demo_imports_every_shape_and_gives_real_metrics(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["demo", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert result.output.count("Imported ") == 4
    assert "terminal-export-europe.csv" in result.output
    assert "totals row ('Total')" in result.output
    metrics = json.loads(runner.invoke(main, ["metrics", "--json"]).output)
    assert len(metrics) == 25
    tractor = metrics["LAX-YT-01"]
    assert tractor["energy_kwh"] > 0 and tractor["ghg_wtw_avoided_kg"] > 0
    assert metrics["LAX-YT-01"]["data_coverage_pct"] is not None
    again = runner.invoke(main, ["demo", "--dir", str(tmp_path / "demo"), "--if-empty"])
    assert again.output == "The database holds trials already: no demo data loaded.\n"
