"""What a report shows, gathered through trials.queries for one viewer's scope, from one snapshot of the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from trials.factors import list_factor_sets, load_factors
from trials.metrics import MetricsResult, TrialInputs
from trials.models import EmissionFactor, EquipmentClass, FactorSet, ImportBatch, PlausibleRange, Port, Trial
from trials.periods import month_start
from trials.queries import (
    MeasurementCounts,
    import_batches_of,
    list_plausible_ranges,
    list_ports,
    list_trials,
    measurement_counts,
    today,
)
from trials.registry import label
from trials.results import monthly_results, trial_results
from trials.scope import Scope


class NothingToReport(LookupError):
    """Raised when a selection holds no trial the viewer may see; it is answered like a page that does not exist."""


@dataclass(frozen=True)
class Selection:
    """Which trials a report covers: a port, an equipment class, listed trials, or any mix (all must hold)."""

    port: str | None = None
    equipment_class: EquipmentClass | None = None
    trial_codes: tuple[str, ...] = ()

    def describe(self, ports: dict[str, Port]) -> str:
        """Say in words what the report covers: 'Port of Nagoya', 'Yard tractors across ports'."""
        parts = []
        if self.port is not None:
            port = ports.get(self.port)
            parts.append(f"port of {port.name}" if port else f"port {self.port}")
        if self.equipment_class is not None:
            across = "" if self.port is not None else " across ports"
            parts.append(label(self.equipment_class, 2) + across)
        if self.trial_codes:
            parts.append(("trial " if len(self.trial_codes) == 1 else "trials ") + ", ".join(self.trial_codes))
        text = ", ".join(parts) or "every trial you may see"
        return text[0].upper() + text[1:]


def select_trials(*, session: Session, scope: Scope, selection: Selection) -> list[Trial]:
    """Find the selected trials the viewer may see; an unknown port or trial is as absent as an invisible one."""
    if selection.port is not None and session.get(Port, selection.port) is None:
        raise NothingToReport(f"no port {selection.port!r}")
    trials = list_trials(session=session, scope=scope, port=selection.port, equipment_class=selection.equipment_class)
    if selection.trial_codes:
        by_code = {trial.code: trial for trial in trials}
        missing = [code for code in selection.trial_codes if code not in by_code]
        if missing:
            raise NothingToReport(f"no trial {missing[0]!r} in this selection")
        trials = [by_code[code] for code in dict.fromkeys(selection.trial_codes)]
    if not trials:
        raise NothingToReport("no trial in this selection that you may see")
    return trials


@dataclass(frozen=True)
class TrialReport:
    """One trial with its port, its metrics (from trials.metrics), its months and how much raw data it has."""

    trial: Trial
    port: Port
    inputs: TrialInputs
    result: MetricsResult
    months: dict[date, tuple[TrialInputs, MetricsResult]]
    counts: MeasurementCounts


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows but the raw rows, which stream in as the Measurements sheet is written."""

    selection: Selection
    scope: Scope
    generated_at: datetime
    as_of: date
    ports: dict[str, Port]
    factor_set: FactorSet
    factor_rows: list[EmissionFactor]
    trials: list[TrialReport]
    batches: list[ImportBatch]
    ranges: list[PlausibleRange]  # METHODOLOGY.md §8, for the Methodology sheet

    @property
    def measurement_rows(self) -> int:
        """How many raw rows the trials hold, of trial and baseline units alike."""
        return sum(sum(report.counts.rows.values()) for report in self.trials)

    @property
    def scope_text(self) -> str:
        """Say what the report covers."""
        return self.selection.describe(self.ports)

    @property
    def viewer_text(self) -> str:
        """Say whose view of the data the report is."""
        role = label(self.scope.role)
        if self.scope.port_locode is None:
            return f"{role}, seeing every port's trials"
        port = self.ports.get(self.scope.port_locode)
        return f"{role} at {port.name if port else self.scope.port_locode}"


def snapshot(session: Session) -> None:
    """Read a whole report from one snapshot, so totals, months and raw rows agree even while imports run.

    On PostgreSQL the isolation level must be set before the transaction's first statement; on SQLite a read
    transaction already is a snapshot. A session that has read already may hold an older view: it is refused.
    """
    if session.in_transaction():
        raise RuntimeError("a report reads from a fresh session (commit or close the one that has read already)")
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def gather(
    *, session: Session, scope: Scope, selection: Selection, generated_at: datetime, as_of: date | None = None
) -> ReportData:
    """Gather a report's figures, every one computed by trials.metrics from the viewer's visible trials."""
    day = as_of or today()
    trials = select_trials(session=session, scope=scope, selection=selection)
    factors = load_factors(session)
    factor_set, factor_rows = next(
        (found, rows) for found, rows in list_factor_sets(session) if found.name == factors.set_name
    )
    ports = {port.locode: port for port in list_ports(session=session)}
    counts = measurement_counts(session=session, scope=scope, trials=trials)
    ranges = list_plausible_ranges(session=session)
    results = trial_results(session=session, scope=scope, trials=trials, factors=factors, as_of=day)
    months = monthly_results(session=session, scope=scope, trials=trials, factors=factors, as_of=day)
    reports = [
        TrialReport(
            trial=found.trial,
            port=found.port,
            inputs=found.data.inputs,
            result=found.result,
            months={month_start(month): figures for month, figures in months[found.trial.id or 0].items()},
            counts=counts[found.trial.code],
        )
        for found in results
    ]
    return ReportData(
        selection=selection,
        scope=scope,
        generated_at=generated_at,
        as_of=day,
        ports=ports,
        factor_set=factor_set,
        factor_rows=factor_rows,
        trials=reports,
        batches=import_batches_of(session=session, scope=scope, trials=trials),
        ranges=ranges,
    )
