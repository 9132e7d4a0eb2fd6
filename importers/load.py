"""Writing validated rows: one transaction per file, idempotent upserts by natural key, and undo by batch."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlmodel import Session, col, select

from trials import audit
from trials.db import lock_imports
from trials.models import (
    MEASURED_NUMBERS,
    AuditEvent,
    BatchStatus,
    ImportBatch,
    Measurement,
    Trial,
    Unit,
    UnitRole,
    utcnow,
)
from trials.rollups import refresh_rollups

#: The measured fields a file may carry, in the order MeasurementRecord.values holds them.
MEASURED_FIELDS: tuple[str, ...] = (*MEASURED_NUMBERS, "notes")
PROVENANCE = ("import_batch_id", "source_sheet", "source_row")
#: Rows looked up and written together: few enough for SQLite's bound-parameter limit, many enough to be fast.
CHUNK_ROWS = 2000

_table = Measurement.__table__  # type: ignore[attr-defined]
#: A sheet's name is kept with each row it gave, cut to the column's length (a csv's sheet is its file name).
SOURCE_SHEET_LENGTH: int = _table.c["source_sheet"].type.length
_columns = [_table.c[name] for name in MEASURED_FIELDS]
#: Overwrite one stored row's values and provenance: for updates by a batch, and for putting them back on undo.
_UPDATE_ROW = (
    sa.update(_table)
    .where(_table.c.id == sa.bindparam("row_id"))
    .values({name: sa.bindparam(name) for name in (*MEASURED_FIELDS, *PROVENANCE)})
)


@dataclass(slots=True)
class MeasurementRecord:
    """One validated row of measurements, not yet matched to database ids."""

    trial_id: int
    unit_id: str
    role: UnitRole
    period_start: date
    period_end: date
    values: tuple[Any, ...]  # in MEASURED_FIELDS order
    sheet: str
    row: int


@dataclass
class Counts:
    """What a batch did, row by row."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0


@dataclass
class Loader:
    """Writes one file's rows inside the caller's transaction, remembering units it has resolved."""

    session: Session
    batch_id: int
    actor: str
    counts: Counts = field(default_factory=Counts)
    _units: dict[tuple[int, str], tuple[int, UnitRole, bool]] = field(default_factory=dict)

    def unit(self, trial_id: int, unit_id: str, role: UnitRole) -> tuple[int, UnitRole, bool]:
        """Find or create a unit; return its id, its stored role, and whether it had measurements before."""
        key = (trial_id, unit_id)
        if key not in self._units:
            found = self.session.exec(select(Unit).where(Unit.trial_id == trial_id, Unit.unit_id == unit_id)).first()
            if found is None:
                found = Unit(trial_id=trial_id, unit_id=unit_id, role=role)
                self.session.add(found)
                self.session.flush()
                had_rows = False
            else:
                exists = select(Measurement.id).where(Measurement.unit_id == found.id).limit(1)
                had_rows = self.session.exec(exists).first() is not None
            assert found.id is not None
            self._units[key] = (found.id, found.role, had_rows)
        return self._units[key]

    def write(self, records: Sequence[MeasurementRecord]) -> None:
        """Insert new rows and update changed ones, keeping each changed row's previous values for undo."""
        connection = self.session.connection()
        keyed = [(self.unit(r.trial_id, r.unit_id, r.role), r) for r in records]
        lookup = [(unit[0], r.period_start, r.period_end) for unit, r in keyed if unit[2]]
        existing = self._existing(connection, lookup) if lookup else {}
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
        for (unit_pk, _role, _had), record in keyed:
            old = existing.get((unit_pk, record.period_start, record.period_end)) if existing else None
            if old is None:  # most rows of most files: straight into a row tuple, no dict on the way
                inserts.append(
                    (
                        record.trial_id,
                        unit_pk,
                        record.period_start.isoformat(),  # as SQLite stores dates, and as COPY reads them
                        record.period_end.isoformat(),
                        *record.values,
                        self.batch_id,
                        record.sheet[:SOURCE_SHEET_LENGTH],
                        record.row,
                    )
                )
                continue
            new = dict(zip(MEASURED_FIELDS, record.values, strict=True))
            if all(old[name] == new[name] for name in MEASURED_FIELDS):
                self.counts.unchanged += 1
            else:
                provenance = {
                    "import_batch_id": self.batch_id,
                    "source_sheet": record.sheet[:SOURCE_SHEET_LENGTH],
                    "source_row": record.row,
                }
                updates.append(
                    (old["id"], {name: old[name] for name in (*MEASURED_FIELDS, *PROVENANCE)}, new | provenance)
                )
        if inserts:
            _insert(connection, inserts)
            self.counts.created += len(inserts)
        if updates:
            self._update(connection, updates)

    def _existing(self, connection: sa.Connection, keys: list[tuple[int, date, date]]) -> dict[tuple[Any, ...], Any]:
        """Fetch the stored rows with these natural keys."""
        key = sa.tuple_(_table.c.unit_id, _table.c.period_start, _table.c.period_end)
        query = sa.select(_table.c.id, _table.c.unit_id, _table.c.period_start, _table.c.period_end, *_columns)
        query = query.add_columns(*[_table.c[name] for name in PROVENANCE]).where(key.in_(keys))
        return {(row.unit_id, row.period_start, row.period_end): row._mapping for row in connection.execute(query)}

    def _update(self, connection: sa.Connection, updates: list[tuple[int, dict[str, Any], dict[str, Any]]]) -> None:
        """Write changed rows and one audit event each, with the values before and after."""
        connection.execute(_UPDATE_ROW, [{"row_id": row_id, **after} for row_id, _before, after in updates])
        now = utcnow()
        events = [
            {
                "at": now,
                "actor": self.actor,
                "action": "measurement.update",
                "object": f"measurement:{row_id}",
                "before": before,
                "after": after,
                "import_batch_id": self.batch_id,
            }
            for row_id, before, after in updates
        ]
        connection.execute(sa.insert(AuditEvent.__table__), events)  # type: ignore[attr-defined]
        self.counts.updated += len(updates)


#: The columns of an inserted measurement, in the order write() builds its row tuples.
INSERT_ORDER = ("trial_id", "unit_id", "period_start", "period_end", *MEASURED_FIELDS, *PROVENANCE)
#: On SQLite the driver takes plain tuples (dates as the ISO text SQLAlchemy stores) twice as fast as Core does.
_SQLITE_INSERT = sa.insert(_table).compile(dialect=sqlite.dialect(), column_keys=list(INSERT_ORDER))
assert tuple(_SQLITE_INSERT.positiontup or ()) == INSERT_ORDER
_POSTGRES_COPY = f"COPY {_table.name} ({', '.join(INSERT_ORDER)}) FROM STDIN"


def _insert(connection: sa.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert new measurements (tuples in INSERT_ORDER, dates as ISO text) in one round trip per chunk, the fastest
    way each database offers: COPY on PostgreSQL (make_engine gives every PostgreSQL URL psycopg), driver-level
    inserts on SQLite."""
    driver = connection.connection.driver_connection
    if isinstance(driver, psycopg.Connection):  # COPY, in the same transaction: far less work than INSERTs
        with driver.cursor() as cursor, cursor.copy(_POSTGRES_COPY) as copy:
            for row in rows:
                copy.write_row(row)
        return
    connection.exec_driver_sql(str(_SQLITE_INSERT), rows)


def _json_ready(values: dict[str, Any]) -> dict[str, Any]:
    """Make a trial's fields storable as JSON in the audit log."""
    return {key: value.isoformat() if isinstance(value, date) else value for key, value in values.items()}


def upsert_trial(session: Session, values: dict[str, Any], *, batch_id: int, actor: str) -> tuple[Trial, str]:
    """Create a trial or update it by code; return it and 'created', 'updated' or 'unchanged'."""
    trial = session.exec(select(Trial).where(Trial.code == values["code"])).first()
    before = None if trial is None else {key: getattr(trial, key) for key in values}
    if trial is not None and before == values:
        return trial, "unchanged"
    if trial is None:
        trial = Trial(**values)
    else:
        for key, value in values.items():
            setattr(trial, key, value)
        trial.updated_at = utcnow()
    session.add(trial)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="trial.create" if before is None else "trial.update",
        object=f"trial:{trial.code}",
        before=None if before is None else _json_ready(before),
        after=_json_ready(values),
        import_batch_id=batch_id,
    )
    return trial, "created" if before is None else "updated"


class UndoRefused(Exception):
    """Raised with a message for the person who asked, when a batch cannot be undone."""


def batch_trial_ids(session: Session, batch_id: int) -> set[int]:
    """The trials whose measurements a batch wrote."""
    query = select(Measurement.trial_id).where(Measurement.import_batch_id == batch_id).distinct()
    return set(session.exec(query))


def undo_batch(session: Session, batch_id: int, *, actor: str) -> ImportBatch:
    """Put back every row a batch changed, delete the rows it created, and mark it undone."""
    lock_imports(session)
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        raise UndoRefused(f"no import batch {batch_id}")
    if batch.status != BatchStatus.imported:
        raise UndoRefused(f"batch {batch_id} ({batch.filename}) was undone already")
    trial_ids = batch_trial_ids(session, batch_id)
    later = session.exec(
        select(Measurement.import_batch_id)
        .where(col(Measurement.trial_id).in_(trial_ids), col(Measurement.import_batch_id) > batch_id)
        .limit(1)
    ).first()
    if later is not None:
        raise UndoRefused(f"batch {later} changed the same trials after batch {batch_id}: undo batch {later} first")
    events = session.exec(
        select(AuditEvent).where(AuditEvent.import_batch_id == batch_id).order_by(col(AuditEvent.id).desc())
    ).all()
    _restore_measurements(session, [event for event in events if event.action == "measurement.update"])
    session.execute(sa.delete(_table).where(_table.c.import_batch_id == batch_id))
    _restore_trials(session, [event for event in events if event.action.startswith("trial.")])
    refresh_rollups(session, trial_ids)
    batch.status = BatchStatus.undone
    session.add(batch)
    audit.record(session, actor=actor, action="import.undo", object=f"batch:{batch_id}", import_batch_id=batch_id)
    session.flush()
    return batch


def _restore_measurements(session: Session, events: Iterable[AuditEvent]) -> None:
    """Write back the values each updated row had before the batch."""
    rows = [{"row_id": int(event.object.split(":", 1)[1]), **(event.before or {})} for event in events]
    if rows:
        session.connection().execute(_UPDATE_ROW, rows)


def _restore_trials(session: Session, events: Iterable[AuditEvent]) -> None:
    """Delete trials the batch created (now without measurements) and restore the fields of those it updated."""
    for event in events:
        trial = session.exec(select(Trial).where(Trial.code == event.object.split(":", 1)[1])).first()
        if trial is None:
            continue
        if event.action == "trial.create":
            session.delete(trial)
        elif event.before:
            restored = Trial.model_validate(event.before)
            for key in event.before:
                setattr(trial, key, getattr(restored, key))
            session.add(trial)
    session.flush()
