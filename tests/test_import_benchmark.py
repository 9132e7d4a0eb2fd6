"""The import benchmark's "load alone" floor does the import's own load: the same rows and rollups, nothing less."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from benchmarks.import_speed import prepare_load, run_import, run_load, write_with_openpyxl
from tests.conftest import empty_database
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
