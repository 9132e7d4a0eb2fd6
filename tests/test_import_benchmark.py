"""The import benchmark's "load alone" floor does the import's own load: the same rows and rollups, nothing less."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from importers.readers import read_file
from tests.conftest import empty_database
from tests.measurement_workbook import TRIALS, prepare_load, run_import, run_load, strings_twin, write_with_openpyxl
from trials.db import make_engine
from trials.models import DailyRollup, Measurement, MonthlyRollup, UnitRunningTotal
from trials.seed import initialise

ROWS = 400
#: What an import leaves behind; each table's own ids differ between two databases and are left out.
COMPARED = (Measurement, DailyRollup, MonthlyRollup, UnitRunningTotal)


def database_state(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every compared table's rows, in a stable order, without their ids."""
    engine = make_engine(url)
    state = {}
    with engine.connect() as connection:
        for model in COMPARED:
            table = model.__table__  # type: ignore[attr-defined]
            columns = [column for column in table.c if column.name != "id"]
            rows = connection.execute(sa.select(*columns).order_by(*columns)).all()
            state[table.name] = [tuple(row) for row in rows]
    engine.dispose()
    return state


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_load_alone_writes_exactly_what_the_full_import_writes(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workbook = tmp_path / "benchmark.xlsx"
    write_with_openpyxl(workbook, ROWS)
    ways: dict[str, Callable[[Path], int]] = {
        "import": run_import,
        "load": lambda path: run_load(prepare_load(path)),
    }
    states = {}
    for name, way in ways.items():
        folder = tmp_path / name
        folder.mkdir()
        with empty_database(kind, folder) as url:
            engine = make_engine(url)
            initialise(engine)
            engine.dispose()
            monkeypatch.setenv("DATABASE_URL", url)
            assert way(workbook) == ROWS
            states[name] = database_state(url)
    assert len(states["import"]["measurement"]) == ROWS
    assert states["import"]["dailyrollup"], "the workbook's rows must give rollups to compare"
    assert states["load"] == states["import"]


def test_the_inline_and_shared_string_copies_hold_the_same_cells(tmp_path: Path) -> None:
    original = tmp_path / "measurements.xlsx"
    write_with_openpyxl(original, ROWS)
    inline, shared = strings_twin(original, inline=True), strings_twin(original, inline=False)
    with zipfile.ZipFile(inline) as inline_zip, zipfile.ZipFile(shared) as shared_zip:
        inline_sheet, shared_sheet = (z.read("xl/worksheets/sheet2.xml") for z in (inline_zip, shared_zip))
        assert b't="inlineStr"' in inline_sheet and b't="s"' not in inline_sheet
        assert b't="s"' in shared_sheet and b't="inlineStr"' not in shared_sheet
        assert "xl/sharedStrings.xml" in shared_zip.namelist()
    rows = [[(sheet.name, list(sheet.rows)) for sheet in read_file(path).sheets] for path in (original, inline, shared)]
    assert rows[0] == rows[1] == rows[2]
    assert sum(len(sheet_rows) for _name, sheet_rows in rows[2]) == ROWS + len(TRIALS) + 2  # data and two headers
