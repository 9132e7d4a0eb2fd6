"""Reading trial data: keyword-only functions that always take the viewer's Scope."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from trials.factors import Factors, load_factors
from trials.metrics import MetricsResult, Totals, TrialInputs, compute
from trials.models import (
    EquipmentClass,
    ImportBatch,
    Measurement,
    Port,
    Technology,
    Trial,
    TrialStatus,
    Unit,
    UnitRole,
    User,
)
from trials.scope import Scope

_SUMMED = (
    "operating_hours",
    "energy_kwh",
    "hydrogen_kg",
    "diesel_l",
    "distance_km",
    "moves",
    "teu",
    "scheduled_hours",
    "downtime_hours",
    "reported_ghg_avoided_kg",
)


def today() -> date:
    """Give today's date in UTC, the clock every 'so far' figure is measured against."""
    return datetime.now(UTC).date()


def list_ports(*, session: Session) -> list[Port]:
    """List the partner ports; ports are shared reference data, not trial data."""
    return list(session.exec(select(Port).order_by(col(Port.locode))))


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


def _totals_by_role(session: Session, trial_id: int) -> dict[UnitRole, Totals]:
    """Sum every field per unit role in one query; SQL SUM of no values is NULL, as the methodology wants."""
    columns = [sa.func.sum(getattr(Measurement, name)).label(name) for name in _SUMMED]
    query = (
        sa.select(col(Unit.role), *columns)
        .select_from(Measurement)
        .join(Unit, col(Unit.id) == col(Measurement.unit_id))
        .where(col(Measurement.trial_id) == trial_id)
        .group_by(col(Unit.role))
    )
    rows = session.execute(query)
    found = {row.role: Totals(**{name: _float(getattr(row, name)) for name in _SUMMED}) for row in rows}
    return {role: found.get(role, Totals()) for role in UnitRole}


def _float(value: object) -> float | None:
    """Turn a database sum (which PostgreSQL may give as Decimal) into a float."""
    return None if value is None else float(str(value))


def _kg(grams: float | None) -> float | None:
    """Convert a factor in grams to kilograms, keeping a missing one missing."""
    return None if grams is None else grams / 1000


def _energy_by_year(session: Session, trial_id: int) -> dict[int, float]:
    """Sum the trial units' electricity by calendar year, since grid factors change from year to year."""
    year = sa.extract("year", col(Measurement.period_start))
    query = (
        sa.select(year.label("year"), sa.func.sum(col(Measurement.energy_kwh)).label("kwh"))
        .select_from(Measurement)
        .join(Unit, col(Unit.id) == col(Measurement.unit_id))
        .where(
            col(Measurement.trial_id) == trial_id,
            col(Unit.role) == UnitRole.trial,
            col(Measurement.energy_kwh).is_not(None),
        )
        .group_by(year)
    )
    return {int(row.year): float(row.kwh) for row in session.execute(query)}


def covered_days(periods: Iterable[tuple[date, date]], first: date, last: date) -> int:
    """Count the days in [first, last] that at least one period [start, end) touches."""
    days: set[date] = set()
    for start, end in periods:
        day, stop = max(start, first), min(end, last + timedelta(days=1))
        while day < stop:
            days.add(day)
            day += timedelta(days=1)
    return len(days)


def _coverage(session: Session, trial: Trial, as_of: date) -> tuple[int, int]:
    """Days with at least one trial-unit measurement, and days in the trial period so far."""
    last = min(trial.end_date, as_of) if trial.end_date else as_of
    if last < trial.start_date:
        return 0, 0
    query = (
        sa.select(col(Measurement.period_start), col(Measurement.period_end))
        .distinct()
        .join(Unit, col(Unit.id) == col(Measurement.unit_id))
        .where(col(Measurement.trial_id) == trial.id, col(Unit.role) == UnitRole.trial)
    )
    periods = [(row.period_start, row.period_end) for row in session.execute(query)]
    return covered_days(periods, trial.start_date, last), (last - trial.start_date).days + 1


def trial_inputs(*, session: Session, scope: Scope, trial: Trial, as_of: date | None = None) -> TrialInputs:
    """Gather the sums and settings one trial's metrics need."""
    if not scope.can_see(trial) or trial.id is None:
        raise LookupError(f"no trial {trial.code!r}")
    port = session.get(Port, trial.port_locode)
    totals = _totals_by_role(session, trial.id)
    days_covered, days_in_period = _coverage(session, trial, as_of or today())
    return TrialInputs(
        equipment_class=trial.equipment_class,
        technology=trial.technology,
        trial=totals[UnitRole.trial],
        baseline=totals[UnitRole.baseline],
        energy_kwh_by_year=_energy_by_year(session, trial.id),
        grid_region=port.grid_region if port else "",
        declared_rate=trial.baseline_rate,
        declared_unit=trial.baseline_unit,
        rated_power_kw=trial.rated_power_kw,
        load_factor=trial.load_factor,
        market_factor_kg_per_kwh=None
        if trial.market_factor_g_per_kwh is None
        else trial.market_factor_g_per_kwh / 1000,
        hydrogen_pathway=trial.hydrogen_pathway,
        days_covered=days_covered,
        days_in_period=days_in_period,
    )


def trial_metrics(
    *,
    session: Session,
    scope: Scope,
    trial: Trial,
    factors: Factors | None = None,
    basis: Literal["location", "market"] = "location",
    as_of: date | None = None,
) -> MetricsResult:
    """Compute one visible trial's metrics with a factor set (the default set unless one is given)."""
    inputs = trial_inputs(session=session, scope=scope, trial=trial, as_of=as_of)
    return compute(inputs, factors or load_factors(session), basis)


def metrics_by_trial(
    *,
    session: Session,
    scope: Scope,
    port: str | None = None,
    as_of: date | None = None,
) -> dict[str, MetricsResult]:
    """Compute the metrics of every visible trial (of one port, if given), by trial code."""
    factors = load_factors(session)
    return {
        trial.code: trial_metrics(session=session, scope=scope, trial=trial, factors=factors, as_of=as_of)
        for trial in list_trials(session=session, scope=scope, port=port)
    }


def list_import_batches(*, session: Session, scope: Scope, limit: int = 200) -> list[ImportBatch]:
    """List import batches, newest first: all for viewers without a port, else those of their port's users."""
    query = select(ImportBatch).order_by(col(ImportBatch.id).desc()).limit(limit)
    if scope.port_locode is not None:
        query = query.join(User, col(User.id) == col(ImportBatch.user_id)).where(User.port_locode == scope.port_locode)
    return list(session.exec(query))
