"""Reading trial data: keyword-only functions that always take the viewer's Scope."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from trials.checks import Ranges, ranges_by_class, with_checks
from trials.factors import Factors, find_factor_set, load_factors
from trials.metrics import TOTALS_FIELDS, MetricsResult, Totals, TrialInputs, compute
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
from trials.pieces import piece_column, pieces
from trials.rollups import period_data
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


_measurement = Measurement.__table__  # type: ignore[attr-defined]


def _trial_pieces(trial_id: int) -> sa.Subquery:
    """A trial's measurement pieces, each within one year (trials/pieces.py), as the rollups sum them."""
    return pieces(_measurement.c.trial_id == trial_id)


def _summed(p: sa.Subquery, name: str) -> Any:
    """Sum one field over measurement pieces (paired sums and unit-days as the rollups make them)."""
    return sa.func.sum(piece_column(p, name)).label(name)


def _float(value: object) -> float | None:
    """Turn a database sum (which PostgreSQL may give as Decimal) into a float."""
    return None if value is None else float(str(value))


def covered_days(periods: Iterable[tuple[date, date]], first: date, last: date) -> int:
    """Count the days in [first, last] that at least one period [start, end) touches."""
    days: set[date] = set()
    for start, end in periods:
        day, stop = max(start, first), min(end, last + timedelta(days=1))
        while day < stop:
            days.add(day)
            day += timedelta(days=1)
    return len(days)


def trial_inputs(*, session: Session, scope: Scope, trial: Trial, as_of: date | None = None) -> TrialInputs:
    """Gather the sums and settings one trial's metrics need, from the rollups every page reads: the API, CLI and
    reports give the dashboards' figures to the digit. Nothing after as-of is counted."""
    (trial_id,) = scope.visible_ids([trial])
    return period_data(session=session, scope=scope, trials=[trial], as_of=as_of or today())[trial_id].inputs


def trial_metrics(
    *,
    session: Session,
    scope: Scope,
    trial: Trial,
    factors: Factors | None = None,
    basis: Literal["location", "market"] = "location",
    as_of: date | None = None,
    ranges: Ranges | None = None,
) -> MetricsResult:
    """Compute one visible trial's metrics with a factor set (the default set unless one is given), and its trust
    checks against the plausible ranges (read from the database unless given)."""
    inputs = trial_inputs(session=session, scope=scope, trial=trial, as_of=as_of)
    result = compute(inputs, factors or load_factors(session), basis)
    if ranges is None:
        ranges = ranges_by_class(list_plausible_ranges(session=session))
    return with_checks(inputs, result, status=trial.status, ranges=ranges)


def metrics_by_trial(
    *,
    session: Session,
    scope: Scope,
    port: str | None = None,
    as_of: date | None = None,
    factors: Factors | None = None,
    basis: Literal["location", "market"] = "location",
) -> dict[str, MetricsResult]:
    """Compute the metrics of every visible trial (of one port, if given), by trial code, with one factor set."""
    factors = factors or load_factors(session)
    ranges = ranges_by_class(list_plausible_ranges(session=session))
    return {
        trial.code: trial_metrics(
            session=session, scope=scope, trial=trial, factors=factors, basis=basis, as_of=as_of, ranges=ranges
        )
        for trial in list_trials(session=session, scope=scope, port=port)
    }


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


# --- Reports: month-by-month inputs, raw-data counts and streams for a set of visible trials ------------------------


def _next_month(month: date) -> date:
    """Give the first day of the month after the one starting on `month`."""
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _trial_unit_periods(session: Session, trial_id: int, as_of: date | None = None) -> list[tuple[date, date]]:
    """List the distinct periods the trial's own units were measured over (those started by as-of, if given)."""
    query = (
        sa.select(col(Measurement.period_start), col(Measurement.period_end))
        .distinct()
        .join(Unit, col(Unit.id) == col(Measurement.unit_id))
        .where(col(Measurement.trial_id) == trial_id, col(Unit.role) == UnitRole.trial)
        .where(sa.true() if as_of is None else col(Measurement.period_start) <= as_of)
    )
    return [(row.period_start, row.period_end) for row in session.execute(query)]


def monthly_inputs(
    *, session: Session, scope: Scope, trial: Trial, as_of: date | None = None, whole: TrialInputs | None = None
) -> dict[date, TrialInputs]:
    """Gather one visible trial's inputs per calendar month, so monthly figures come from the trial's own formulas.

    A measurement counts in the month its period starts. The months are those with measurements and those of the
    trial period so far; each month's coverage counts only its own days. `whole` is the trial's inputs over its
    whole period as of the same day, when the caller has gathered them already (a report does).
    """
    (trial_id,) = scope.visible_ids([trial])
    whole = whole or trial_inputs(session=session, scope=scope, trial=trial, as_of=as_of)
    p = _trial_pieces(trial_id)
    year = sa.extract("year", p.c.period_start)
    month = sa.extract("month", p.c.period_start)
    sums = (
        sa.select(year.label("year"), month.label("month"), p.c.role)
        .add_columns(*[_summed(p, name) for name in TOTALS_FIELDS])
        .group_by(year, month, p.c.role)
    )
    by_month: dict[date, dict[UnitRole, Totals]] = {}
    for row in session.execute(sums):
        totals = Totals(**{name: _float(getattr(row, name)) for name in TOTALS_FIELDS})
        by_month.setdefault(date(int(row.year), int(row.month), 1), {})[row.role] = totals
    last_so_far = min(trial.end_date, as_of or today()) if trial.end_date else as_of or today()
    months = set(by_month)
    first_month = trial.start_date.replace(day=1)
    while first_month <= last_so_far:
        months.add(first_month)
        first_month = _next_month(first_month)
    periods = _trial_unit_periods(session, trial_id)
    result: dict[date, TrialInputs] = {}
    for start in sorted(months):
        first, last = max(trial.start_date, start), min(_next_month(start) - timedelta(days=1), last_so_far)
        touching = [(begin, end) for begin, end in periods if begin <= last and end > first]
        covered, days = (covered_days(touching, first, last), (last - first).days + 1) if first <= last else (0, 0)
        own = by_month.get(start, {}).get(UnitRole.trial, Totals())
        result[start] = replace(
            whole,
            trial=own,
            baseline=by_month.get(start, {}).get(UnitRole.baseline, Totals()),
            energy_kwh_by_year={} if own.energy_kwh is None else {start.year: own.energy_kwh},
            days_covered=covered,
            days_in_period=days,
        )
    return result


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
