"""The measurement workbook the import tests and benchmarks/import_speed.py generate, and the import's stages that
both run on it.

A telematics-style export: a Trials sheet of four trials and a 12-column Measurements sheet, one row per unit and
day, values drawn from a seeded generator (so the same size always gives the same rows); written by openpyxl's
write-only workbook (strings inline), and copied with every text cell inline or in a shared string table. The
load stage alone (the rows an import wrote, written again) is what the benchmark times as the floor under a full
import; a test checks that it writes exactly what the import writes.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import random
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

SEED = 20240301
FIRST_DAY = date(2023, 1, 1)
DAYS = 730

# --- the workbook -------------------------------------------------------------------------------------------------

TRIAL_HEADERS = ("Code", "Name", "Port", "Equipment class", "Technology", "Units planned", "Start date", "Status")
TRIALS = (
    ("BENCH-YT-01", "Benchmark yard tractors", "USLGB", "yard_tractor", "battery_electric", "active"),
    ("BENCH-YT-02", "Benchmark hydrogen tractors", "USLAX", "yard_tractor", "hydrogen_fuel_cell", "active"),
    ("BENCH-RTG-01", "Benchmark hybrid RTGs", "CNSHA", "rtg_crane", "hybrid_diesel_electric", "active"),
    ("BENCH-SC-01", "Benchmark straddle carriers", "JPNGO", "straddle_carrier", "battery_electric", "active"),
)
MEASUREMENT_HEADERS = (
    "Trial",
    "Unit",
    "Date",
    "Operating hours (h)",
    "Energy (kWh)",
    "Diesel (L)",
    "Distance (km)",
    "Moves",
    "TEU",
    "Scheduled hours (h)",
    "Unplanned downtime (h)",
    "Notes",
)
NOTES = ("charger offline, charged at depot", "tyre change", "driver training day", "software update")
DATE_COLUMN = MEASUREMENT_HEADERS.index("Date")


def units_for(rows: int) -> int:
    """Spread the rows over enough units that each unit has one row a day for DAYS days at most."""
    return max(len(TRIALS), math.ceil(rows / DAYS))


def measurement_rows(rows: int) -> Iterator[list[Any]]:
    """Yield a telematics-style export: every unit once per day, values drawn from a seeded generator."""
    chance = random.Random(SEED)
    units = units_for(rows)
    for index in range(rows):
        day, unit = divmod(index, units)
        code, _name, _port, equipment, technology, _status = TRIALS[unit % len(TRIALS)]
        hours = round(chance.uniform(4, 20), 1)
        moves = chance.randint(40, 400)
        yield [
            code,
            f"{code}-U{unit:04d}",
            FIRST_DAY + timedelta(days=day),
            hours,
            round(hours * chance.uniform(12, 30), 2),
            round(hours * chance.uniform(2, 6), 1) if technology == "hybrid_diesel_electric" else None,
            round(hours * chance.uniform(5, 12), 1) if equipment != "rtg_crane" else None,
            moves,
            round(moves * 1.6),
            24,
            round(chance.uniform(0, 3), 2) if chance.random() < 0.1 else 0,
            chance.choice(NOTES) if chance.random() < 0.02 else None,
        ]


def trial_rows(rows: int) -> list[list[Any]]:
    """The Trials sheet: four trials, each planned with a quarter of the units."""
    units = units_for(rows)
    return [
        [code, name, port, equipment, technology, math.ceil(units / len(TRIALS)), FIRST_DAY, status]
        for code, name, port, equipment, technology, status in TRIALS
    ]


def write_with_openpyxl(path: Path, rows: int) -> None:
    """Write both sheets with openpyxl's write-only workbook, which streams rows to disk."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for name, headers, body in (
        ("Trials", TRIAL_HEADERS, iter(trial_rows(rows))),
        ("Measurements", MEASUREMENT_HEADERS, measurement_rows(rows)),
    ):
        sheet = book.create_sheet(name)
        sheet.append(list(headers))
        for values in body:
            sheet.append(values)
    book.save(path)


_SHEET_NAMESPACE = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_INLINE_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"((?: s="[0-9]+")?) t="inlineStr"><is><t>([^<]*)</t></is></c>')
_SHARED_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"((?: s="[0-9]+")?) t="s"><v>([0-9]+)</v></c>')
_SHARED_ITEM = re.compile(rb"<si><t(?: [^>]*)?>([^<]*)</t></si>")
_SHARED_STRINGS_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)


def strings_twin(path: Path, inline: bool) -> Path:
    """Copy the workbook with every text cell stored inline (t="inlineStr") or in a shared string table (t="s"),
    the cells otherwise byte for byte the same; cached beside it."""
    twin = path.with_name(f"{path.stem}-{'inline' if inline else 'shared'}-strings.xlsx")
    if twin.exists():
        return twin
    with zipfile.ZipFile(path) as source:
        names = source.namelist()
        shared_part = next((name for name in names if name.endswith("sharedStrings.xml")), None)
        table = _SHARED_ITEM.findall(source.read(shared_part)) if shared_part else []
        positions: dict[bytes, int] = {text: index for index, text in enumerate(table)}
        partial = twin.with_suffix(".partial.xlsx")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as copy:
            for name in names:
                if name == shared_part:
                    continue
                data = source.read(name)
                if name.startswith("xl/worksheets/"):
                    data = _restring(data, inline, table, positions)
                elif name == "xl/_rels/workbook.xml.rels":
                    data = re.sub(rb"<Relationship [^>]*sharedStrings[^>]*/>", b"", data)
                    if not inline:
                        data = data.replace(
                            b"</Relationships>",
                            b'<Relationship Id="rIdBenchStrings" Type="' + _RELATIONSHIPS + b'/sharedStrings" '
                            b'Target="sharedStrings.xml"/></Relationships>',
                        )
                elif name == "[Content_Types].xml" and not inline and b"sharedStrings" not in data:
                    data = data.replace(b"</Types>", _SHARED_STRINGS_TYPE + b"</Types>")
                copy.writestr(name, data)
            if not inline:
                items = b"".join(b"<si><t>" + text + b"</t></si>" for text in positions)
                copy.writestr("xl/sharedStrings.xml", b'<sst xmlns="' + _SHEET_NAMESPACE + b'">' + items + b"</sst>")
    partial.replace(twin)
    return twin


def _restring(sheet: bytes, inline: bool, table: list[bytes], positions: dict[bytes, int]) -> bytes:
    """Rewrite a sheet's text cells into the other storage (positions grows with new shared strings)."""
    if inline:
        return _SHARED_CELL.sub(
            lambda m: b'<c r="%s"%s t="inlineStr"><is><t>%s</t></is></c>' % (m[1], m[2], table[int(m[3])]), sheet
        )
    return _INLINE_CELL.sub(
        lambda m: b'<c r="%s"%s t="s"><v>%d</v></c>' % (m[1], m[2], positions.setdefault(m[3], len(positions))), sheet
    )


# --- the import's stages ------------------------------------------------------------------------------


def run_import(path: Path) -> int:
    """Run `zetrials import FILE --json` through the CLI's own entry point; give the measurement rows it wrote."""
    from app.cli import main

    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.suppress(SystemExit):
        main(["import", str(path), "--json"], standalone_mode=False)
    result = json.loads(output.getvalue())
    if result["status"] != "imported":
        raise SystemExit(f"the import did not succeed: {json.dumps(result)[:2000]}")
    return int(result["created"]) - len(TRIALS)


@dataclass
class LoadInput:
    """What the load stage is given: one file's checked rows, and the batch they belong to."""

    records: list[Any]
    batch_id: int


def prepare_load(path: Path) -> LoadInput:
    """Import the file (not timed), then read back the rows it wrote as records and delete them and their rollups."""
    import sqlalchemy as sa
    from sqlmodel import select

    from importers.load import MEASURED_FIELDS, MeasurementRecord
    from trials.db import is_sqlite, make_engine, write_session
    from trials.models import ImportBatch, Measurement, Unit
    from trials.rollups import refresh_rollups

    run_import(path)
    engine = make_engine()
    with write_session(engine) as session:
        query = select(Measurement, Unit).join(Unit, Unit.id == Measurement.unit_id).order_by(Measurement.id)  # type: ignore[arg-type]
        records = [
            MeasurementRecord(
                trial_id=row.trial_id,
                unit_id=unit.unit_id,
                role=unit.role,
                period_start=row.period_start,
                period_end=row.period_end,
                values=tuple(getattr(row, name) for name in MEASURED_FIELDS),
                sheet=row.source_sheet or "",  # an import records both for every row
                row=row.source_row or 0,
            )
            for row, unit in session.exec(query)
        ]
        batch = session.exec(select(ImportBatch)).one()
        session.execute(sa.delete(Measurement.__table__))  # type: ignore[attr-defined]
        refresh_rollups(session, {record.trial_id for record in records})
    if is_sqlite(engine):  # the load then writes to fresh pages, as into a fresh database, not into freed ones
        raw = engine.raw_connection()  # outside any transaction: the project's SQLite connections autocommit
        raw.cursor().execute("VACUUM")
        raw.close()
    engine.dispose()
    assert batch.id is not None
    return LoadInput(records, batch.id)


def run_load(given: LoadInput) -> int:
    """Write the checked rows as an import does: by Loader in chunks, rollups rebuilt, one commit."""
    from importers.load import CHUNK_ROWS, Loader
    from trials.db import make_engine, write_session
    from trials.rollups import refresh_rollups

    records, engine = given.records, make_engine()
    with write_session(engine) as session:
        loader = Loader(session, given.batch_id, actor="benchmark")
        for start in range(0, len(records), CHUNK_ROWS):
            loader.write(records[start : start + CHUNK_ROWS])
        refresh_rollups(session, {record.trial_id for record in records})
    engine.dispose()
    return loader.counts.created
