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
                self._record_new_unit(found)
                had_rows = False
            else:
                exists = select(Measurement.id).where(Measurement.unit_id == found.id).limit(1)
                had_rows = self.session.exec(exists).first() is not None
            assert found.id is not None
            self._units[key] = (found.id, found.role, had_rows)
        return self._units[key]

    def _record_new_unit(self, unit: Unit) -> None:
        """Note a unit the batch created, in the trial pages' words, so undoing the batch removes it too."""
        trial = self.session.get(Trial, unit.trial_id)
        assert trial is not None
        audit.record(
            self.session,
            actor=self.actor,
            action="unit.add",
            object=f"trial:{trial.code}",
            after={"unit_id": unit.unit_id, "role": unit.role.value},
            import_batch_id=self.batch_id,
        )

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


@dataclass
class UndoPlan:
    """What undoing a batch removes and puts back: asked for before, reported after, kept in the audit log."""

    batch_id: int
    filename: str
    rows_removed: int = 0
    rows_restored: int = 0
    units_removed: list[tuple[str, str]] = field(default_factory=list)  # (trial code, unit id)
    units_kept: list[tuple[str, str, str]] = field(default_factory=list)  # (trial code, unit id, why)
    trials_removed: list[str] = field(default_factory=list)
    trials_restored: list[str] = field(default_factory=list)
    trials_kept: list[tuple[str, str]] = field(default_factory=list)  # (trial code, why)
    unit_pks: list[int] = field(default_factory=list, repr=False)
    trial_events: list[AuditEvent] = field(default_factory=list, repr=False)
    row_events: list[AuditEvent] = field(default_factory=list, repr=False)

    def lines(self, *, done: bool = False) -> list[str]:
        """Say in plain words, one change a line, what the undo will do (or, once done, did)."""
        remove, put_back, keep = ("removed", "put back", "kept") if done else ("remove", "put back", "keep")
        lines = [f"{remove} the {_count(self.rows_removed, 'row')} it created"] if self.rows_removed else []
        if self.rows_restored:
            lines.append(f"{put_back} the earlier values of the {_count(self.rows_restored, 'row')} it changed")
        by_trial: dict[str, list[str]] = {}
        for code, unit in self.units_removed:
            by_trial.setdefault(code, []).append(unit)
        lines += [
            f"{remove} unit{'s' if len(units) > 1 else ''} {', '.join(units)} of {code}"
            for code, units in by_trial.items()
        ]
        lines += [f"{keep} unit {unit} of {code}, which it created: {why}" for code, unit, why in self.units_kept]
        if self.trials_removed:
            lines.append(
                f"{remove} trial{'s' if len(self.trials_removed) > 1 else ''} {', '.join(self.trials_removed)}"
            )
        if self.trials_restored:
            lines.append(f"{put_back} the earlier fields of {', '.join(self.trials_restored)}")
        lines += [f"{keep} trial {code}, which it created: {why}" for code, why in self.trials_kept]
        return lines or [f"{'marked' if done else 'mark'} it undone: nothing it wrote is left to change"]

    def as_json(self) -> dict[str, Any]:
        """Give what the undo did, for the audit log."""
        return {
            "rows_removed": self.rows_removed,
            "rows_restored": self.rows_restored,
            "units_removed": [list(unit) for unit in self.units_removed],
            "units_kept": [list(unit) for unit in self.units_kept],
            "trials_removed": self.trials_removed,
            "trials_restored": self.trials_restored,
            "trials_kept": [list(trial) for trial in self.trials_kept],
        }


def _count(number: int, noun: str) -> str:
    """'1 row', '727 rows'."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _other_rows(session: Session, batch_id: int, where: sa.ColumnElement[bool]) -> str | None:
    """Say which rows not written by this batch a unit or trial holds, or None if it holds none."""
    others = sa.func.coalesce(_table.c.import_batch_id, 0)
    query = (
        sa.select(_table.c.import_batch_id, sa.func.count())
        .where(where, others != batch_id)
        .group_by(_table.c.import_batch_id)
        .order_by(_table.c.import_batch_id)
    )
    held = [
        f"{_count(count, 'row')} of batch {other}" if other is not None else f"{_count(count, 'row')} not imported"
        for other, count in session.connection().execute(query)
    ]
    return f"it holds {' and '.join(held)}" if held else None


def _events_since_last_undo(session: Session, batch_id: int) -> list[AuditEvent]:
    """The batch's events, newest first, since it was last undone: an undone file imported again is the same batch."""
    events = session.exec(
        select(AuditEvent).where(AuditEvent.import_batch_id == batch_id).order_by(col(AuditEvent.id).desc())
    ).all()
    undone = [event.id for event in events if event.action == "import.undo" and event.id is not None]
    return [event for event in events if not undone or (event.id or 0) > max(undone)]


def plan_undo(session: Session, batch_id: int) -> UndoPlan:
    """Work out what undoing a batch would do, or refuse (UndoRefused) when it cannot be undone."""
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
    events = _events_since_last_undo(session, batch_id)
    plan = UndoPlan(batch_id, batch.filename)
    plan.row_events = [event for event in events if event.action == "measurement.update"]
    plan.trial_events = [event for event in events if event.action.startswith("trial.")]
    written = session.connection().execute(
        sa.select(sa.func.count()).select_from(_table).where(_table.c.import_batch_id == batch_id)
    )
    plan.rows_restored = len(plan.row_events)
    plan.rows_removed = written.scalar_one() - plan.rows_restored
    for event in reversed(events):
        if event.action == "unit.add":
            _plan_unit(session, plan, event)
    for event in reversed(plan.trial_events):
        code = event.object.split(":", 1)[1]
        trial = session.exec(select(Trial).where(Trial.code == code)).first()
        if trial is None:
            continue
        why = _other_rows(session, batch_id, _table.c.trial_id == trial.id) if event.action == "trial.create" else None
        if event.action == "trial.create" and why is None:
            plan.trials_removed.append(code)
        elif event.action == "trial.create":
            plan.trials_kept.append((code, why or ""))
        elif event.before:
            plan.trials_restored.append(code)
    return plan


def _plan_unit(session: Session, plan: UndoPlan, event: AuditEvent) -> None:
    """Plan to remove a unit the batch created, unless rows of another batch are in it now."""
    code, unit_id = event.object.split(":", 1)[1], str((event.after or {}).get("unit_id"))
    unit = session.exec(
        select(Unit).join(Trial, col(Trial.id) == col(Unit.trial_id)).where(Trial.code == code, Unit.unit_id == unit_id)
    ).first()
    if unit is None or unit.id is None or unit.id in plan.unit_pks:
        return
    why = _other_rows(session, plan.batch_id, _table.c.unit_id == unit.id)
    if why is None:
        plan.units_removed.append((code, unit_id))
        plan.unit_pks.append(unit.id)
    else:
        plan.units_kept.append((code, unit_id, why))


def undo_batch(session: Session, batch_id: int, *, actor: str) -> UndoPlan:
    """Put back every row a batch changed, delete the rows, units and trials it created, and mark it undone."""
    lock_imports(session)
    plan = plan_undo(session, batch_id)
    trial_ids = batch_trial_ids(session, batch_id)
    _restore_measurements(session, plan.row_events)
    session.execute(sa.delete(_table).where(_table.c.import_batch_id == batch_id))
    if plan.unit_pks:
        session.execute(sa.delete(Unit).where(col(Unit.id).in_(plan.unit_pks)))
    _restore_trials(session, plan)
    refresh_rollups(session, trial_ids)
    batch = session.get(ImportBatch, batch_id)
    assert batch is not None
    batch.status = BatchStatus.undone
    session.add(batch)
    audit.record(
        session,
        actor=actor,
        action="import.undo",
        object=f"batch:{batch_id}",
        after=plan.as_json(),
        import_batch_id=batch_id,
    )
    session.flush()
    return plan


def _restore_measurements(session: Session, events: Iterable[AuditEvent]) -> None:
    """Write back the values each updated row had before the batch."""
    rows = [{"row_id": int(event.object.split(":", 1)[1]), **(event.before or {})} for event in events]
    if rows:
        session.connection().execute(_UPDATE_ROW, rows)


def _restore_trials(session: Session, plan: UndoPlan) -> None:
    """Delete trials the batch created (unless they hold other rows) and restore the fields of those it updated."""
    for event in plan.trial_events:
        code = event.object.split(":", 1)[1]
        trial = session.exec(select(Trial).where(Trial.code == code)).first()
        if trial is None:
            continue
        if event.action == "trial.create" and code in plan.trials_removed:
            session.delete(trial)
        elif event.action == "trial.update" and event.before:
            restored = Trial.model_validate(event.before)
            for key in event.before:
                setattr(trial, key, getattr(restored, key))
            session.add(trial)
    session.flush()
