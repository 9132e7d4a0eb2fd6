"""Undo that undoes: the units and trials a batch created go with it, and it says what will go before it does."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.cli import main
from importers.load import UndoRefused, plan_undo, undo_batch
from importers.pipeline import import_file
from tests.factories import (
    LGB_TRIAL,
    TRIALS_HEADER,
    csrf_token,
    events,
    make_measurement,
    make_user,
    reread,
    sign_in,
    standard_file,
    write_xlsx,
)
from trials.db import read_session, write_session
from trials.models import ImportBatch, Measurement, Role, Unit, UnitRole
from trials.scope import Scope

OPERATOR = Scope.operator()


def oem_export(path: Path, role: str) -> Path:
    """Three units' daily rows for the existing trial LGB-YT-01, every unit given this role."""
    rows = [["LGB-YT-01", f"T-{unit}", role, date(2024, 3, day), 100] for unit in (1, 2, 3) for day in (1, 2)]
    return write_xlsx(path, {"Export": [["Trial", "Unit", "Role", "Date", "Diesel (L)"], *rows]})


def units(engine: Engine) -> list[tuple[str, UnitRole]]:
    """Every stored unit as (unit id, role)."""
    with Session(engine) as session:
        return [(unit.unit_id, unit.role) for unit in session.exec(select(Unit).order_by(col(Unit.unit_id)))]


def trial_only(path: Path) -> Path:
    """A Trials sheet with LGB-YT-01 and no measurements."""
    return write_xlsx(path, {"Trials": [TRIALS_HEADER, LGB_TRIAL]})


def test_undo_removes_the_units_a_batch_created_so_the_corrected_file_imports(engine: Engine, tmp_path: Path) -> None:
    import_file(engine, trial_only(tmp_path / "trial.xlsx"), scope=OPERATOR)
    wrong = import_file(engine, oem_export(tmp_path / "wrong.xlsx", "baseline"), scope=OPERATOR)
    assert wrong.status == "imported" and wrong.batch is not None
    assert units(engine) == [("T-1", UnitRole.baseline), ("T-2", UnitRole.baseline), ("T-3", UnitRole.baseline)]
    blocked = import_file(engine, oem_export(tmp_path / "fixed.xlsx", "trial"), scope=OPERATOR)
    assert blocked.status == "rejected"  # the wrongly-roled units refuse the corrected file
    with write_session(engine) as session:
        plan = undo_batch(session, wrong.batch, actor="test")
    assert plan.lines(done=True) == ["removed the 6 rows it created", "removed units T-1, T-2, T-3 of LGB-YT-01"]
    assert units(engine) == []
    fixed = import_file(engine, tmp_path / "fixed.xlsx", scope=OPERATOR)
    assert (fixed.status, fixed.counts.created) == ("imported", 6)
    assert units(engine) == [("T-1", UnitRole.trial), ("T-2", UnitRole.trial), ("T-3", UnitRole.trial)]


def test_a_unit_the_batch_created_stays_while_rows_of_another_batch_are_in_it(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    import_file(engine, trial_only(tmp_path / "trial.xlsx"), scope=OPERATOR)
    earlier = ImportBatch(sha256="e" * 64, filename="earlier.xlsx")  # e.g. a file imported again after an undo
    session.add(earlier)
    session.commit()
    result = import_file(engine, oem_export(tmp_path / "wrong.xlsx", "trial"), scope=OPERATOR)
    assert result.batch is not None
    unit = session.exec(select(Unit).where(Unit.unit_id == "T-2")).one()
    make_measurement(session, unit, date(2024, 4, 1), diesel_l=5.0, import_batch_id=earlier.id)
    with read_session(engine) as reading:
        assert plan_undo(reading, result.batch).lines() == [
            "remove the 6 rows it created",
            "remove units T-1, T-3 of LGB-YT-01",
            f"keep unit T-2 of LGB-YT-01, which it created: it holds 1 row of batch {earlier.id}",
        ]
    with write_session(engine) as writing:
        undo_batch(writing, result.batch, actor="test")
    assert units(engine) == [("T-2", UnitRole.trial)]
    [undone] = events(session, "import.undo")
    assert undone.after is not None and undone.after["units_removed"] == [["LGB-YT-01", "T-1"], ["LGB-YT-01", "T-3"]]


def test_the_plan_names_rows_put_back_and_the_trial_created(engine: Engine, tmp_path: Path) -> None:
    first = import_file(engine, standard_file(tmp_path / "v1.xlsx"), scope=OPERATOR)
    second = import_file(engine, standard_file(tmp_path / "v2.xlsx", energy=260.0), scope=OPERATOR)
    assert first.batch is not None and second.batch is not None
    with read_session(engine) as session:
        assert plan_undo(session, second.batch).lines() == ["put back the earlier values of the 1 row it changed"]
        with pytest.raises(UndoRefused, match=f"undo batch {second.batch} first"):
            plan_undo(session, first.batch)
    with write_session(engine) as session:
        undo_batch(session, second.batch, actor="test")
    with read_session(engine) as session:
        assert plan_undo(session, first.batch).lines() == [
            "remove the 3 rows it created",
            "remove units YT-1, YT-2 of LGB-YT-01",
            "remove trial LGB-YT-01",
        ]


def test_the_cli_says_what_undo_removes_and_asks_unless_yes(runner: CliRunner, engine: Engine, tmp_path: Path) -> None:
    runner.invoke(main, ["import", str(standard_file(tmp_path / "in.xlsx"))])
    declined = runner.invoke(main, ["imports", "undo", "1"], input="n\n")
    assert declined.exit_code == 1
    assert declined.output.startswith(
        "Undoing batch 1 (in.xlsx) will:\n"
        "  remove the 3 rows it created\n"
        "  remove units YT-1, YT-2 of LGB-YT-01\n"
        "  remove trial LGB-YT-01\n"
        "Undo it? [y/N]: n\n"
    )
    assert len(units(engine)) == 2
    accepted = runner.invoke(main, ["imports", "undo", "1"], input="y\n")
    assert accepted.exit_code == 0 and "Undid batch 1 (in.xlsx): removed the 3 rows it created" in accepted.output
    assert units(engine) == []


def test_the_undo_page_names_what_will_go_and_undoes_only_when_confirmed(
    editor: FlaskClient, session: Session, engine: Engine, tmp_path: Path
) -> None:
    import_file(engine, trial_only(tmp_path / "trial.xlsx"), scope=OPERATOR)
    result = import_file(engine, oem_export(tmp_path / "wrong.xlsx", "baseline"), scope=OPERATOR)
    token = csrf_token(editor)
    path = f"/imports/batches/{result.batch}/undo"
    assert editor.get(path).status_code == 405  # never by GET
    page = editor.post(path, data={"csrf_token": token}).get_data(as_text=True)
    assert f"Undo batch {result.batch} (wrong.xlsx)?" in page
    assert (
        "<li>remove the 6 rows it created</li>" in page and "<li>remove units T-1, T-2, T-3 of LGB-YT-01</li>" in page
    )
    assert 'name="confirm" value="yes"' in page
    reread(session)
    assert len(session.exec(select(Measurement)).all()) == 6  # asking changed nothing
    assert editor.post(path, data={"confirm": "yes"}).status_code == 400  # the confirmation needs its CSRF token
    done = editor.post(path, data={"csrf_token": token, "confirm": "yes"}, follow_redirects=True)
    assert "removed units T-1, T-2, T-3 of LGB-YT-01" in done.get_data(as_text=True)
    assert units(engine) == []


def test_the_template_downloads_from_the_imports_page_as_the_cli_writes_it(
    editor: FlaskClient, runner: CliRunner, tmp_path: Path
) -> None:
    assert 'href="/imports/template.xlsx"' in editor.get("/imports").get_data(as_text=True)
    download = editor.get("/imports/template.xlsx")
    assert download.status_code == 200
    served = load_workbook(io.BytesIO(download.data))
    assert runner.invoke(main, ["template", "-o", str(tmp_path / "t.xlsx")]).exit_code == 0
    written = load_workbook(tmp_path / "t.xlsx")
    assert served.sheetnames == written.sheetnames
    for name in written.sheetnames:
        assert [list(row) for row in served[name].values] == [list(row) for row in written[name].values]


def test_readers_cannot_download_the_template(client: FlaskClient, session: Session) -> None:
    make_user(session, "pat@example.org", role=Role.partner, port_locode="USLGB")
    assert sign_in(client, "pat@example.org") == 302
    assert client.get("/imports/template.xlsx").status_code == 403
