"""Property: any valid table of measurements, written as xlsx or csv, comes back from the database exactly."""

from __future__ import annotations

import csv
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from importers.pipeline import import_file
from tests.factories import LGB_TRIAL, TRIALS_HEADER, write_xlsx
from trials.db import make_engine
from trials.models import Measurement, Unit
from trials.scope import Scope
from trials.seed import initialise

HEADER = ["Trial", "Unit", "Date", "Operating hours (h)", "Energy (kWh)", "Moves", "Notes"]
Row = tuple[str, date, float | None, float | None, int | None, str | None]


def excel_floats(top: float) -> st.SearchStrategy[float]:
    """Floats as a spreadsheet holds them: 15 significant digits (openpyxl writes 16, Excel keeps 15)."""
    finite = st.floats(min_value=0, max_value=top, allow_nan=False, allow_infinity=False)
    return finite.map(lambda value: float(f"{value:.15g}"))


amounts = st.one_of(st.none(), excel_floats(5000))
hours = st.one_of(st.none(), excel_floats(24))
# openpyxl writes text starting with "=" as a formula, so such notes are left out of the workbook path.
notes = st.one_of(
    st.none(),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp")), max_size=30).filter(
        lambda text: not text.startswith("=")
    ),
)
rows = st.lists(
    st.tuples(
        st.sampled_from(["YT-1", "YT-2", "Ünit 3"]),
        st.integers(min_value=0, max_value=730).map(lambda days: date(2024, 1, 1) + timedelta(days=days)),
        hours,
        amounts,
        st.one_of(st.none(), st.integers(min_value=0, max_value=1000)),
        notes,
    ),
    min_size=1,
    max_size=30,
    unique_by=lambda row: (row[0], row[1]),
)


def _tidy(text: str | None) -> str | None:
    """What the importer keeps of a note: NFC-normalised, whitespace folded, blank as missing."""
    if text is None:
        return None
    folded = " ".join(unicodedata.normalize("NFC", text).split())
    return folded or None


def _write(directory: Path, table: list[Row], as_csv: bool) -> Path:
    """Write the table as the first sheet of a workbook or as a csv, with a Trials sheet or --trial."""
    body = [["LGB-YT-01", unit, day, h, e, m, n] for unit, day, h, e, m, n in table]
    if not as_csv:
        return write_xlsx(directory / "t.xlsx", {"Trials": [TRIALS_HEADER, LGB_TRIAL], "Measurements": [HEADER, *body]})
    path = directory / "m.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for row in body:
            writer.writerow(["" if cell is None else repr(cell) if isinstance(cell, float) else cell for cell in row])
    return path


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One migrated database holding the trial, copied for every example (migrating each time is slow)."""
    folder = tmp_path_factory.mktemp("roundtrip")
    engine = make_engine(f"sqlite:///{folder / 'db.sqlite'}")
    initialise(engine)
    import_file(engine, _write(folder, [], False), scope=Scope.operator())
    engine.dispose()
    yield folder / "db.sqlite"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=rows, as_csv=st.booleans())
def test_valid_tables_round_trip_exactly(migrated: Path, table: list[Row], as_csv: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        shutil.copy(migrated, directory / "db.sqlite")
        engine = make_engine(f"sqlite:///{directory / 'db.sqlite'}")
        try:
            result = import_file(engine, _write(directory, table, as_csv), scope=Scope.operator())
            assert result.status == "imported", result.problems
            with Session(engine) as session:
                query = select(Unit.unit_id, Measurement).join(Unit, Unit.id == Measurement.unit_id)  # type: ignore[arg-type]
                back = {
                    (unit, m.period_start): (m.operating_hours, m.energy_kwh, m.moves, m.notes)
                    for unit, m in session.exec(query)
                }
        finally:
            engine.dispose()
    expected = {(unit, day): (h, e, None if m is None else float(m), _tidy(n)) for unit, day, h, e, m, n in table}
    assert back == expected
