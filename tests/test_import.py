"""The whole import, file to database: all or nothing, idempotent, undoable, and every problem placed."""

from __future__ import annotations

import csv
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from importers.load import UndoRefused, undo_batch
from importers.pipeline import ImportResult, import_file
from importers.template import write_template
from importers.xlsx import parallel
from tests import hostile_files
from tests.factories import (
    CORPUS,
    HOSTILE,
    LGB_TRIAL,
    MEASURE_HEADER,
    STANDARD_REVIEW,
    TRIALS_HEADER,
    needs_corpus,
    standard_file,
    write_xlsx,
)
from trials.db import write_session
from trials.models import AuditEvent, BaselineKind, ImportBatch, Measurement, Port, Role, Trial, Unit, UnitRole
from trials.scope import Scope

OPERATOR = Scope.operator()


def snapshot(engine: Engine) -> dict[str, Any]:
    """Every table's rows that an import may touch, to prove a rejected import changed nothing."""
    with Session(engine) as session:
        return {
            table: sorted(str(row) for row in session.execute(sa.text(f"SELECT * FROM {table}")))  # noqa: S608
            for table in ("trial", "unit", "measurement", "importbatch", "auditevent")
        }


def stored(engine: Engine) -> list[tuple[str, date, float | None, float | None, float | None]]:
    """The stored measurements as (unit, day, hours, energy, moves)."""
    with Session(engine) as session:
        query = (
            select(Unit.unit_id, Measurement.period_start, Measurement.operating_hours, Measurement.energy_kwh)
            .join(Unit, Unit.id == Measurement.unit_id)  # type: ignore[arg-type]
            .add_columns(Measurement.moves)
            .order_by(Unit.unit_id, Measurement.period_start)
        )
        return [tuple(row) for row in session.exec(query)]  # type: ignore[misc]


def test_a_workbook_with_trials_and_measurements_lands_whole(engine: Engine, tmp_path: Path) -> None:
    result = import_file(engine, standard_file(tmp_path / "in.xlsx"), scope=OPERATOR)
    assert result.as_json() == {
        "status": "imported",
        "batch": result.batch,
        "created": 4,  # one trial and three measurements
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "problems": [],
        "problem_groups": [],
        "review": STANDARD_REVIEW,
    }
    assert stored(engine) == [
        ("YT-1", date(2024, 3, 1), 10.0, 250.0, 40.0),
        ("YT-1", date(2024, 3, 2), 12.0, 310.0, 50.0),
        ("YT-2", date(2024, 3, 1), 8.0, 190.0, None),
    ]
    with Session(engine) as session:
        row = session.exec(select(Measurement).where(Measurement.energy_kwh == 310.0)).one()
        assert (row.import_batch_id, row.source_sheet, row.source_row) == (result.batch, "Measurements", 3)
        assert row.period_end == date(2024, 3, 3)
        trial = session.exec(select(Trial)).one()
        assert (trial.baseline_rate, trial.baseline_unit, trial.port_locode) == (3.0, "L/h", "USLGB")


def test_units_in_headers_are_converted(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, standard_file(tmp_path / "t.xlsx"), scope=OPERATOR)
    path = write_xlsx(
        tmp_path / "oem.xlsx",
        {
            "Export": [
                ["Fleet telematics export"],
                ["Generated 2024-04-01"],
                [],
                ["Project code", "VIN", "Date", "Energy (MWh)", "Fuel used [gal]", "Distance (mi)", "Hours (min)"],
                ["LGB-YT-01", "YT-9", date(2024, 3, 5), 1.5, 88, 10, 90],
            ]
        },
    )
    result = import_file(engine, path, scope=OPERATOR)
    assert result.status == "imported", result.problems
    with Session(engine) as session:
        row = session.exec(select(Measurement).where(Measurement.period_start == date(2024, 3, 5))).one()
    # 1.5 MWh = 1500 kWh; 88 US gal = 333.116237 L; 10 mi = 16.09344 km; 90 min = 1.5 h.
    assert row.energy_kwh == pytest.approx(1500.0)
    assert row.diesel_l == pytest.approx(333.116_236_992)
    assert row.distance_km == pytest.approx(16.093_44)
    assert row.operating_hours == pytest.approx(1.5)
    assert row.source_row == 5


def test_the_same_file_twice_is_already_imported_and_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = standard_file(tmp_path / "in.xlsx")
    first = import_file(engine, path, scope=OPERATOR)
    before = snapshot(engine)
    renamed = path.rename(tmp_path / "renamed.xlsx")
    second = import_file(engine, renamed, scope=OPERATOR)
    assert (second.status, second.batch, second.counts) == ("duplicate", first.batch, first.counts)
    assert snapshot(engine) == before


def test_a_corrected_file_updates_changed_rows_and_can_be_undone(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, standard_file(tmp_path / "v1.xlsx"), scope=OPERATOR)
    original = stored(engine)
    second = import_file(engine, standard_file(tmp_path / "v2.xlsx", energy=260.0), scope=OPERATOR)
    assert (second.counts.created, second.counts.updated, second.counts.unchanged) == (0, 1, 3)
    assert stored(engine)[0][3] == 260.0
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "measurement.update")).one()
        assert event.before is not None and event.before["energy_kwh"] == 250.0
    assert second.batch is not None
    with write_session(engine) as session:
        undo_batch(session, second.batch, actor="test")
    assert stored(engine) == original
    with Session(engine) as session:
        row = session.exec(select(Measurement).where(Measurement.energy_kwh == 250.0)).one()
        assert row.import_batch_id != second.batch


def test_undo_removes_what_a_batch_created_and_refuses_out_of_order(engine: Engine, tmp_path: Path) -> None:
    first = import_file(engine, standard_file(tmp_path / "v1.xlsx"), scope=OPERATOR)
    second = import_file(engine, standard_file(tmp_path / "v2.xlsx", energy=999.0), scope=OPERATOR)
    assert first.batch is not None and second.batch is not None
    with pytest.raises(UndoRefused, match=f"undo batch {second.batch} first"), write_session(engine) as session:
        undo_batch(session, first.batch, actor="test")
    for batch in (second.batch, first.batch):
        with write_session(engine) as session:
            undo_batch(session, batch, actor="test")
    assert stored(engine) == []
    with Session(engine) as session:
        assert session.exec(select(Trial)).all() == []
    again = import_file(engine, tmp_path / "v1.xlsx", scope=OPERATOR)  # an undone file may come back
    assert again.status == "imported" and again.batch == first.batch


def test_one_bad_cell_rejects_the_whole_file_and_names_its_place(engine: Engine, tmp_path: Path) -> None:
    before = snapshot(engine)
    path = write_xlsx(
        tmp_path / "bad.xlsx",
        {
            "Trials": [TRIALS_HEADER, LGB_TRIAL],
            "Measurements": [
                MEASURE_HEADER,
                ["LGB-YT-01", "YT-1", date(2024, 3, 1), 10, 250, 40],
                ["LGB-YT-01", "YT-1", date(2024, 3, 2), 12, -5, 50],
                ["LGB-YT-01", "YT-1", "31/02/2024", 12, 5, 50],
            ],
        },
    )
    result = import_file(engine, path, scope=OPERATOR)
    assert result.status == "rejected" and result.batch is None
    assert [(p.sheet, p.row, p.column, p.value) for p in result.problems] == [
        ("Measurements", 3, "Energy (kWh)", "-5"),
        ("Measurements", 4, "Date", "31/02/2024"),
    ]
    assert all(p.file == "bad.xlsx" for p in result.problems)
    assert snapshot(engine) == before


@pytest.mark.parametrize(
    ("rows", "column", "message"),
    [
        ([["NOPE", "YT-1", date(2024, 3, 1), 1, 1, 1]], "Trial", "unknown trial 'NOPE'"),
        ([["LGB-YT-01", "YT-1", date(2024, 3, 1), 1, 9_000_000, 1]], "Energy (kWh)", "more than 10 times"),
        ([["LGB-YT-01", "YT-1", date(2024, 3, 1), 500, 1, 1]], "Operating hours (h)", "more than 10 times"),
        (
            [["LGB-YT-01", "YT-1", date(2024, 3, 1), 1, 1, 1], ["LGB-YT-01", "YT-1", date(2024, 3, 1), 2, 2, 2]],
            "Unit",
            "the same unit and period as row 2",
        ),
        ([["LGB-YT-01", "YT-1", date(2024, 3, 1), "inf", 1, 1]], "Operating hours (h)", "inf is not a real value"),
        ([["LGB-YT-01", "YT-1", None, 1, 1, 1]], "Date", "no period"),
    ],
)
def test_rows_that_cannot_be_true_are_problems(
    engine: Engine, tmp_path: Path, rows: list[list[Any]], column: str, message: str
) -> None:
    path = write_xlsx(
        tmp_path / "m.xlsx", {"Trials": [TRIALS_HEADER, LGB_TRIAL], "Measurements": [MEASURE_HEADER, *rows]}
    )
    result = import_file(engine, path, scope=OPERATOR)
    assert result.status == "rejected"
    assert result.problems[-1].column == column
    assert message in result.problems[-1].message


def test_trials_sheet_problems(engine: Engine, tmp_path: Path) -> None:
    bad = ["X-1", "x", "Atlantis", "submarine", "BEV", date(2024, 2, 1), 3, "L/kg"]
    path = write_xlsx(tmp_path / "t.xlsx", {"Trials": [TRIALS_HEADER, bad]})
    result = import_file(engine, path, scope=OPERATOR)
    assert result.status == "rejected"
    found = {p.column: p.message for p in result.problems}
    assert "not a known equipment class" in found["Equipment class"]
    assert "unknown port" in found["Port"]
    assert "not per 'kg'" in found["Baseline unit"]


YEARLY = "a rate per year depends on the hours worked: give litres per hour (or per move, km), e.g. 'L/h' or 'gal/mi'"
NOT_POSITIVE = (
    "a baseline rate is more than 0 litres per unit of work; for a trial with nothing to compare against, "
    "set the baseline kind to 'none'"
)


@pytest.mark.parametrize(
    ("header", "row", "column", "message"),
    [
        (TRIALS_HEADER, [*LGB_TRIAL[:6], 0, "L/h"], "Baseline rate", NOT_POSITIVE),
        (TRIALS_HEADER, [*LGB_TRIAL[:6], -3, "L/h"], "Baseline rate", NOT_POSITIVE),
        (TRIALS_HEADER, [*LGB_TRIAL[:6], 30_000, "gal/yr"], "Baseline unit", YEARLY),
        ([*TRIALS_HEADER[:6], "Baseline rate (gal/yr)"], [*LGB_TRIAL[:6], 30_000], "Baseline rate (gal/yr)", YEARLY),
        (
            [*TRIALS_HEADER, "Baseline kind"],
            [*LGB_TRIAL, "none"],
            "Baseline rate",
            "a trial with baseline kind 'none' has no baseline rate: leave it blank",
        ),
    ],
)
def test_a_baseline_of_zero_below_zero_per_year_or_without_a_kind_is_refused_at_its_cell(
    engine: Engine, tmp_path: Path, header: list[str], row: list[Any], column: str, message: str
) -> None:
    before = snapshot(engine)
    path = write_xlsx(tmp_path / "b.xlsx", {"Trials": [header, row]})
    result = import_file(engine, path, scope=OPERATOR)
    assert result.status == "rejected" and result.batch is None
    assert [(p.sheet, p.row, p.column, p.message) for p in result.problems] == [("Trials", 2, column, message)]
    assert snapshot(engine) == before


H2_HEADER = [*TRIALS_HEADER[:6], "Hydrogen pathway", "Hydrogen factor (kg CO2e/kg)", "Hydrogen factor source"]


@pytest.mark.parametrize(
    ("hydrogen", "column", "message"),
    [
        (
            ["declared", None, "supplier certificate"],
            "Hydrogen factor (kg CO2e/kg)",
            "the hydrogen pathway 'declared' needs its factor in kg CO2e per kg of hydrogen, e.g. 3.2",
        ),
        (
            ["declared", 2.5, None],
            "Hydrogen factor source",
            "a declared hydrogen factor needs its source, e.g. the supplier's certificate of origin",
        ),
        (
            ["declared", 0, "supplier certificate"],
            "Hydrogen factor (kg CO2e/kg)",
            "a hydrogen factor is more than 0 kg CO2e per kg of hydrogen, e.g. 3.2",
        ),
        (
            ["grey", 2.5, "supplier certificate"],
            "Hydrogen factor (kg CO2e/kg)",
            "a hydrogen factor goes only with the hydrogen pathway 'declared': set the pathway to declared, "
            "or leave the factor blank",
        ),
        (
            ["blue", None, None],
            "Hydrogen pathway",
            "not a known hydrogen pathway; expected one of grey, electrolytic_grid, declared",
        ),
    ],
)
def test_hydrogen_factor_rules_are_refused_at_their_cell(
    engine: Engine, tmp_path: Path, hydrogen: list[Any], column: str, message: str
) -> None:
    before = snapshot(engine)
    row = ["LGB-H2-01", "Fuel-cell tractors", "USLGB", "yard_tractor", "hydrogen_fuel_cell", date(2024, 1, 1)]
    path = write_xlsx(tmp_path / "h.xlsx", {"Trials": [H2_HEADER, row + hydrogen]})
    result = import_file(engine, path, scope=OPERATOR)
    assert result.status == "rejected"
    assert [(p.row, p.column, p.message) for p in result.problems] == [(2, column, message)]
    assert snapshot(engine) == before


def test_an_unknown_baseline_engine_lists_the_standards(engine: Engine, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "e.xlsx", {"Trials": [[*TRIALS_HEADER, "Baseline engine"], [*LGB_TRIAL, "Tier 5"]]})
    result = import_file(engine, path, scope=OPERATOR)
    assert result.status == "rejected"
    assert [(p.column, p.value, p.message) for p in result.problems] == [
        (
            "Baseline engine",
            "Tier 5",
            "not a known baseline engine; expected one of nonroad_tier3, nonroad_tier4f, marine_tier3, marine_tier4, "
            "onroad_2010",
        )
    ]


def test_a_unit_cannot_change_its_role(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, standard_file(tmp_path / "t.xlsx"), scope=OPERATOR)
    path = write_xlsx(
        tmp_path / "r.xlsx",
        {
            "M": [
                ["Trial", "Unit", "Role", "Date", "Diesel (L)"],
                ["LGB-YT-01", "YT-1", "baseline", date(2024, 4, 1), 30],
            ]
        },
    )
    result = import_file(engine, path, scope=OPERATOR)
    assert [p.message for p in result.problems] == ["unit 'YT-1' is a trial unit here, not baseline"]


def test_blank_title_and_totals_rows_are_skipped_and_reported(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, standard_file(tmp_path / "t.xlsx"), scope=OPERATOR)
    path = write_xlsx(
        tmp_path / "monthly.xlsx",
        {
            "Summary": [
                ["Monthly summary 2024"],
                ["Trial", "Unit", "Month", "Run hours", "Grid energy (MWh)"],
                ["LGB-YT-01", "YT-1", "2024-01", 300, 6.5],
                [],
                ["LGB-YT-01", "YT-1", "2024-02", 280, 6.0],
                ["Grand total", None, None, 580, 12.5],
            ]
        },
    )
    result = import_file(engine, path, scope=OPERATOR)
    assert result.status == "imported", result.problems
    assert result.skipped_rows == [("Summary", 6, "totals row ('Grand total')")]
    assert result.counts.created == 2 and result.counts.skipped == 1
    with Session(engine) as session:
        january = session.exec(select(Measurement).where(Measurement.period_start == date(2024, 1, 1))).one()
    assert (january.period_end, january.energy_kwh) == (date(2024, 2, 1), 6500.0)


def test_european_semicolon_csv_with_decimal_commas(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, standard_file(tmp_path / "t.xlsx"), scope=OPERATOR)
    path = tmp_path / "export.csv"
    with path.open("w", encoding="cp1252", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["Unit", "Date", "Operating hours", "Energy (kWh)", "Remarks"])
        writer.writerow(["YT-1", "05.03.2024", "7,5", "1.234,5", "Kaj 3 — Skåne"])
    result = import_file(engine, path, scope=OPERATOR, trial_code="LGB-YT-01", day_first=True)
    assert result.status == "imported", result.problems
    with Session(engine) as session:
        row = session.exec(select(Measurement).where(Measurement.period_start == date(2024, 3, 5))).one()
    assert (row.operating_hours, row.energy_kwh, row.notes) == (7.5, 1234.5, "Kaj 3 — Skåne")


def test_ambiguous_dates_need_an_order(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, standard_file(tmp_path / "t.xlsx"), scope=OPERATOR)
    path = tmp_path / "us.csv"
    path.write_text("Unit,Date,Energy (kWh)\nYT-1,03/04/2024,10\n", encoding="utf-8")
    refused = import_file(engine, path, scope=OPERATOR, trial_code="LGB-YT-01")
    assert "ambiguous" in refused.problems[0].message
    accepted = import_file(engine, path, scope=OPERATOR, trial_code="LGB-YT-01", day_first=False)
    assert accepted.status == "imported"
    assert ("YT-1", date(2024, 3, 4)) in [row[:2] for row in stored(engine)]


def test_dry_run_checks_everything_and_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    before = snapshot(engine)
    result = import_file(engine, standard_file(tmp_path / "in.xlsx"), scope=OPERATOR, dry_run=True)
    assert (result.status, result.batch, result.counts.created) == ("dry-run", None, 4)
    assert snapshot(engine) == before


def test_editors_import_only_their_own_ports_trials(engine: Engine, tmp_path: Path) -> None:
    singapore_editor = Scope(role=Role.editor, port_locode="SGSIN", actor="ed@sin.example")
    result = import_file(engine, standard_file(tmp_path / "in.xlsx"), scope=singapore_editor)
    assert result.status == "rejected"
    assert result.problems[0].message == "editors import only their own port's trials"
    partner = Scope(role=Role.partner, port_locode="USLGB")
    assert import_file(engine, tmp_path / "in.xlsx", scope=partner).problems[0].message == (
        "only editors and admins import data"
    )


def test_the_template_imports_once_filled_in(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session:
        ports = list(session.exec(select(Port)))
    path = write_template(tmp_path / "template.xlsx", ports)
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Instructions", "Trials", "Measurements", "Lists"]
    assert workbook["Lists"].sheet_state == "hidden"
    assert len(workbook["Trials"].data_validations.dataValidation) == 8
    workbook["Trials"].append(
        ["SIN-SC-01", "Straddles", "SGSIN", None, "straddle_carrier", "battery_electric", 4, date(2024, 1, 1)]
    )
    workbook["Measurements"].append(["SIN-SC-01", "SC-1", "trial", date(2024, 2, 1), date(2024, 2, 7), 100, 3400])
    workbook.save(path)
    result = import_file(engine, path, scope=OPERATOR)
    assert result.status == "imported", result.problems
    with Session(engine) as session:
        row = session.exec(select(Measurement)).one()
    assert (row.period_start, row.period_end, row.energy_kwh) == (date(2024, 2, 1), date(2024, 2, 8), 3400.0)


@pytest.mark.parametrize("maker", HOSTILE)
def test_hostile_and_malformed_files_change_nothing(engine: Engine, tmp_path: Path, maker: str) -> None:
    """None of the builders' files is a ZE Trials import: each is rejected with problems and writes nothing."""
    build: Callable[[Path], Path] = getattr(hostile_files, maker)
    path = build(tmp_path)
    before = snapshot(engine)
    result = import_file(engine, path, scope=OPERATOR)
    assert result.status == "rejected"
    assert result.problems and all(problem.message for problem in result.problems)
    assert snapshot(engine) == before


@pytest.mark.parametrize("worker", [False, True], ids=["in-process", "worker"])
def test_a_sheet_that_breaks_after_rows_were_read_rejects_the_whole_file(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worker: bool
) -> None:
    """The XML is checked as it streams: trials written and rows read before the break are all rolled back."""
    monkeypatch.setattr(parallel, "WORKER_MIN_BYTES", 0 if worker else None)
    monkeypatch.setattr(parallel, "_spare_core", lambda: True)
    trial = [str(value) for value in LGB_TRIAL[:5]] + ["2024-01-01"]
    trials = hostile_files.inline_row(1, *TRIALS_HEADER[:6]) + hostile_files.inline_row(2, *trial)
    measurements = hostile_files.inline_row(1, "Trial", "Unit", "Date", "Energy (kWh)") + "".join(
        hostile_files.inline_row(n, "LGB-YT-01", "YT-1", f"2024-03-{n:02d}", "250") for n in range(2, 30)
    )
    broken = '<row r="30"><c r="A30"><v>1</c></row>'
    path = hostile_files.write_xlsx(
        tmp_path / "breaks.xlsx",
        [("Trials", hostile_files.sheet_xml(trials)), ("Measurements", hostile_files.sheet_xml(measurements + broken))],
    )
    before = snapshot(engine)
    result = import_file(engine, path, scope=OPERATOR)
    assert result.status == "rejected"
    [problem] = result.problems
    assert (problem.file, problem.sheet) == ("breaks.xlsx", "Measurements")
    assert problem.message.startswith("the workbook is damaged: xl/worksheets/sheet2.xml is not well-formed XML")
    assert snapshot(engine) == before
    fixed = hostile_files.write_xlsx(
        tmp_path / "fixed.xlsx",
        [("Trials", hostile_files.sheet_xml(trials)), ("Measurements", hostile_files.sheet_xml(measurements))],
    )
    assert import_file(engine, fixed, scope=OPERATOR).counts.created == 1 + 28  # the trial and every row


@needs_corpus
@pytest.mark.parametrize("name", sorted(path.name for path in CORPUS.glob("*")) if CORPUS.is_dir() else [])
def test_real_world_files_are_rejected_with_a_specific_message(engine: Engine, name: str) -> None:
    before = snapshot(engine)
    result = import_file(engine, CORPUS / name, scope=OPERATOR)
    assert result.status == "rejected"
    message = result.problems[0].message
    if name.startswith("password"):
        assert "password" in message
    elif name.startswith("empty_file"):
        assert "empty" in message
    else:  # read in every format now (.xls, .xlsb and .ods too), these are not ZE Trials files: no header row
        assert "no header row found" in message
    assert snapshot(engine) == before


def test_eight_racing_uploads_of_one_file_make_one_batch(engine: Engine, tmp_path: Path) -> None:
    path = standard_file(tmp_path / "race.xlsx")
    results: list[ImportResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def upload() -> None:
        try:
            barrier.wait()
            results.append(import_file(engine, path, scope=OPERATOR))
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=upload) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(result.status for result in results) == ["duplicate"] * 7 + ["imported"]
    assert len({result.batch for result in results}) == 1
    with Session(engine) as session:
        assert len(session.exec(select(ImportBatch)).all()) == 1
        assert len(session.exec(select(Measurement)).all()) == 3
        assert len(session.exec(select(Trial)).all()) == 1


def test_different_files_racing_to_create_one_trial_all_land(engine: Engine, tmp_path: Path) -> None:
    """Four files that each create the same new trial and rebuild its rollups, at once: each waits its turn."""
    paths = [standard_file(tmp_path / f"race-{energy}.xlsx", energy=energy) for energy in (100.0, 200.0, 300.0, 400.0)]
    results: list[ImportResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(paths))

    def upload(path: Path) -> None:
        try:
            barrier.wait()
            results.append(import_file(engine, path, scope=OPERATOR))
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=upload, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [result.status for result in results] == ["imported"] * 4
    assert sorted((r.counts.created, r.counts.updated, r.counts.unchanged) for r in results) == [
        (0, 1, 3),
        (0, 1, 3),
        (0, 1, 3),
        (4, 0, 0),
    ]
    energy_of = {result.batch: float(result.filename.removeprefix("race-").removesuffix(".xlsx")) for result in results}
    (first,) = [result.batch for result in results if result.counts.created == 4]
    with Session(engine) as session:
        assert len(session.exec(select(ImportBatch)).all()) == 4
        rows = {(row.unit_id, row.period_start): row for row in session.exec(select(Measurement))}
    assert len(rows) == 3
    changed = next(row for row in rows.values() if row.energy_kwh not in (310.0, 190.0))
    assert changed.energy_kwh == energy_of[changed.import_batch_id]  # the last file to land wrote it whole
    assert {row.import_batch_id for row in rows.values() if row is not changed} == {first}  # unchanged since


def test_baseline_units_feed_the_measured_baseline(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, standard_file(tmp_path / "t.xlsx"), scope=OPERATOR)
    path = write_xlsx(
        tmp_path / "b.xlsx",
        {
            "M": [
                ["Trial", "Unit", "Role", "Date", "Hours", "Diesel (L)"],
                ["LGB-YT-01", "D-1", "baseline", date(2024, 3, 1), 10, 40],
            ]
        },
    )
    assert import_file(engine, path, scope=OPERATOR).status == "imported"
    with Session(engine) as session:
        unit = session.exec(select(Unit).where(Unit.unit_id == "D-1")).one()
    assert unit.role == UnitRole.baseline


@pytest.mark.parametrize(
    ("cells", "stored"),
    [
        (
            {"Baseline kind": "electric", "Baseline rate": 4.2, "Baseline unit": "kWh/move"},
            {"baseline_kind": BaselineKind.electric, "baseline_rate": 4.2, "baseline_unit": "kWh/move"},
        ),
        ({"Baseline kind": "none"}, {"baseline_kind": BaselineKind.none, "baseline_rate": None}),
        (
            {"Baseline rate": 11.5, "Baseline unit": "gal/h", "Baseline engine": "nonroad_tier3"},
            {"baseline_kind": BaselineKind.diesel, "baseline_rate": 11.5, "baseline_engine": "nonroad_tier3"},
        ),
        (
            {"Hydrogen pathway": "electrolytic_grid"},
            {"hydrogen_pathway": "electrolytic_grid", "hydrogen_factor_kg_per_kg": None},
        ),
        (
            {"Hydrogen pathway": "declared", "Hydrogen factor (kg CO2e/kg)": 2.4, "Hydrogen factor source": "PPA cert"},
            {"hydrogen_pathway": "declared", "hydrogen_factor_kg_per_kg": 2.4, "hydrogen_factor_source": "PPA cert"},
        ),
        ({}, {"baseline_kind": BaselineKind.diesel, "hydrogen_pathway": None, "baseline_engine": None}),
    ],
)
def test_each_new_trial_column_of_the_template_lands_on_the_trial(
    engine: Engine, tmp_path: Path, cells: dict[str, Any], stored: dict[str, Any]
) -> None:
    with Session(engine) as session:
        ports = list(session.exec(select(Port)))
    path = write_template(tmp_path / "template.xlsx", ports)
    workbook = load_workbook(path)
    headers = [cell.value for cell in workbook["Trials"][1]]
    filled = {"Code": "LGB-NEW-01", "Port": "USLGB", "Equipment class": "sts_crane", "Technology": "grid_electric"}
    filled |= {"Start date": date(2024, 1, 1)} | cells
    assert set(filled) <= set(headers)
    workbook["Trials"].append([filled.get(header) for header in headers])
    workbook.save(path)
    result = import_file(engine, path, scope=OPERATOR)
    assert result.status == "imported", result.problems
    with Session(engine) as session:
        trial = session.exec(select(Trial)).one()
    assert {name: getattr(trial, name) for name in stored} == stored
