"""Reading trial data: keyword-only functions that always take the viewer's Scope."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from trials.factors import find_factor_set
from trials.models import (
    EmissionFactor,
    EquipmentClass,
    ImportBatch,
    Measurement,
    PlausibleRange,
    Port,
    Technology,
    Trial,
    TrialStatus,
    Unit,
    UnitRole,
    User,
)
from trials.scope import Scope


def today() -> date:
    """Give today's date in UTC, the clock every 'so far' figure is measured against."""
    return datetime.now(UTC).date()


def list_ports(*, session: Session) -> list[Port]:
    """List the partner ports; ports are shared reference data, not trial data."""
    return list(session.exec(select(Port).order_by(col(Port.locode))))


#: A class's ranges in the order §8's columns give them.
_RANGE_ORDER = {"diesel_l": 0, "energy_kwh": 1, "hydrogen_kg": 2}


def list_plausible_ranges(*, session: Session) -> list[PlausibleRange]:
    """List the plausible ranges of METHODOLOGY.md §8 by class, then quantity; shared reference data, as ports are."""
    classes = list(EquipmentClass)
    return sorted(
        session.exec(select(PlausibleRange)),
        key=lambda row: (classes.index(row.equipment_class), _RANGE_ORDER.get(row.quantity, 9), row.quantity),
    )


def list_trials(
    *,
    session: Session,
    scope: Scope,
    port: str | None = None,
    equipment_class: EquipmentClass | None = None,
    technology: Technology | None = None,
    status: TrialStatus | None = None,
) -> list[Trial]:
    """List the trials the viewer may see, filtered, by port then code."""
    query = select(Trial).where(scope.trial_filter())
    if port is not None:
        query = query.where(Trial.port_locode == port)
    if equipment_class is not None:
        query = query.where(Trial.equipment_class == equipment_class)
    if technology is not None:
        query = query.where(Trial.technology == technology)
    if status is not None:
        query = query.where(Trial.status == status)
    return list(session.exec(query.order_by(col(Trial.port_locode), col(Trial.code))))


def get_trial(*, session: Session, scope: Scope, code: str) -> Trial | None:
    """Find one trial by code; a trial outside the scope is exactly as absent as one that does not exist."""
    return session.exec(select(Trial).where(Trial.code == code, scope.trial_filter())).first()


def list_import_batches(*, session: Session, scope: Scope, limit: int = 200) -> list[ImportBatch]:
    """List import batches, newest first: all for viewers without a port, else those of their port's users."""
    query = select(ImportBatch).order_by(col(ImportBatch.id).desc()).limit(limit)
    if scope.port_locode is not None:
        query = query.join(User, col(User.id) == col(ImportBatch.user_id)).where(User.port_locode == scope.port_locode)
    return list(session.exec(query))


def list_measurements(
    *, session: Session, scope: Scope, trial: Trial, offset: int = 0, limit: int = 100
) -> tuple[list[tuple[Measurement, Unit]], int]:
    """Give one page of a visible trial's measurements with their units, in a stable order, and how many there are."""
    if not scope.can_see(trial) or trial.id is None:
        raise LookupError(f"no trial {trial.code!r}")
    of_trial = col(Measurement.trial_id) == trial.id
    total = session.exec(select(sa.func.count()).select_from(Measurement).where(of_trial)).one()
    query = (
        select(Measurement, Unit)
        .join(Unit, col(Unit.id) == col(Measurement.unit_id))
        .where(of_trial)
        .order_by(col(Measurement.period_start), col(Unit.unit_id), col(Measurement.id))
        .offset(offset)
        .limit(limit)
    )
    return [(row, unit) for row, unit in session.exec(query)], total


@dataclass(frozen=True)
class MeasurementCounts:
    """How much raw data one trial holds per unit role, and the span its periods cover."""

    rows: Mapping[UnitRole, int]
    units: Mapping[UnitRole, int]  # units with at least one measurement
    first_day: date | None = None  # the earliest period start
    end_day: date | None = None  # the latest period end, exclusive


def measurement_counts(*, session: Session, scope: Scope, trials: Sequence[Trial]) -> dict[str, MeasurementCounts]:
    """Count the raw rows and measured units of visible trials, by trial code, in one query."""
    ids = scope.visible_ids(trials)
    query = (
        sa.select(
            col(Measurement.trial_id),
            col(Unit.role),
            sa.func.count().label("row_count"),
            sa.func.count(sa.distinct(col(Measurement.unit_id))).label("unit_count"),
            sa.func.min(col(Measurement.period_start)).label("first_day"),
            sa.func.max(col(Measurement.period_end)).label("end_day"),
        )
        .select_from(Measurement)
        .join(Unit, col(Unit.id) == col(Measurement.unit_id))
        .where(col(Measurement.trial_id).in_(ids))
        .group_by(col(Measurement.trial_id), col(Unit.role))
    )
    found: dict[int, list[Any]] = {}
    for row in session.execute(query):
        found.setdefault(row.trial_id, []).append(row)
    counts: dict[str, MeasurementCounts] = {}
    for trial in trials:
        rows = found.get(trial.id or 0, [])
        counts[trial.code] = MeasurementCounts(
            rows={role: sum(row.row_count for row in rows if row.role == role) for role in UnitRole},
            units={role: sum(row.unit_count for row in rows if row.role == role) for role in UnitRole},
            first_day=min((row.first_day for row in rows), default=None),
            end_day=max((row.end_day for row in rows), default=None),
        )
    return counts


def stream_measurements(
    *, session: Session, scope: Scope, trials: Sequence[Trial], fields: Sequence[str], batch_rows: int = 5000
) -> Iterator[sa.Row[Any]]:
    """Yield the raw rows of visible trials as (trial code, port, unit id, unit role, *fields), with flat memory.

    Trials come in the order given, each by unit and period; rows are fetched a batch at a time, through a
    server-side cursor on PostgreSQL, so a million rows cost no more memory than a few thousand.
    """
    scope.visible_ids(trials)
    for trial in trials:
        query = (
            sa.select(col(Trial.code), col(Trial.port_locode), col(Unit.unit_id), col(Unit.role))
            .add_columns(*[getattr(Measurement, name) for name in fields])
            .select_from(Measurement)
            .join(Unit, col(Unit.id) == col(Measurement.unit_id))
            .join(Trial, col(Trial.id) == col(Measurement.trial_id))
            .where(col(Measurement.trial_id) == trial.id, scope.trial_filter())
            .order_by(col(Unit.unit_id), col(Measurement.period_start), col(Measurement.period_end))
            .execution_options(yield_per=batch_rows)
        )
        yield from session.execute(query)


def import_batches_of(*, session: Session, scope: Scope, trials: Sequence[Trial]) -> list[ImportBatch]:
    """List the import batches that loaded rows of visible trials, oldest first, limited as list_import_batches is."""
    loaded = sa.select(col(Measurement.import_batch_id)).where(col(Measurement.trial_id).in_(scope.visible_ids(trials)))
    query = select(ImportBatch).where(col(ImportBatch.id).in_(loaded)).order_by(col(ImportBatch.id))
    if scope.port_locode is not None:
        query = query.join(User, col(User.id) == col(ImportBatch.user_id)).where(User.port_locode == scope.port_locode)
    return list(session.exec(query))


def import_batch_files(*, session: Session, scope: Scope, trial: Trial, batch_ids: Iterable[int]) -> dict[int, str]:
    """Name the files of the given import batches that wrote a visible trial's measurements, by batch id."""
    if not scope.can_see(trial) or trial.id is None:
        raise LookupError(f"no trial {trial.code!r}")
    wrote_trial = (
        sa.select(col(Measurement.id))
        .where(col(Measurement.import_batch_id) == col(ImportBatch.id), col(Measurement.trial_id) == trial.id)
        .exists()
    )
    query = select(ImportBatch.id, ImportBatch.filename).where(col(ImportBatch.id).in_(set(batch_ids)), wrote_trial)
    return {batch_id: filename for batch_id, filename in session.exec(query) if batch_id is not None}


def default_factor_rows(*, session: Session) -> tuple[str, list[EmissionFactor]]:
    """The default factor set's name and every factor in it, with units and sources; reference data, not trial data."""
    factor_set = find_factor_set(session)
    query = (
        select(EmissionFactor)
        .where(EmissionFactor.factor_set_id == factor_set.id)
        .order_by(col(EmissionFactor.key), col(EmissionFactor.region), col(EmissionFactor.year))
    )
    return factor_set.name, list(session.exec(query))
