"""The one read side: rollups into figures (trials.metrics, with the trust checks) for a scope, trials, period,
basis, factor set and as-of, remembered per worker.

Pages, dashboard callbacks, the API, the CLI and reports all get their figures here, so they agree to the digit by
construction: the same rollup sums, the same settings and the same factors give the same results.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date
from functools import lru_cache
from typing import Any, Generic, Literal, TypeVar

from sqlmodel import Session

from trials.checks import ranges_by_class, with_checks
from trials.factors import Factors, find_factor_set, load_factors
from trials.inputs import YearEnergy, energy_by_year, inputs_for
from trials.metrics import MetricsResult, Totals, TrialInputs, compute, total
from trials.models import PlausibleRange, Port, Trial, UnitRole
from trials.periods import ALL_TIME, Grain, Period, bucket_end, bucket_start
from trials.queries import list_plausible_ranges, list_ports, today
from trials.rollup_sums import ENERGY_AT, DayRow, PeriodData, month_data, period_data, rollup_stamps, trial_unit_counts
from trials.scope import Scope
from trials.unit_sums import unit_data

Basis = Literal["location", "market"]
#: Results remembered per process: enough for every trial-month of a few hundred trials, and their units.
MEMO_SIZE = 20_000

Value = TypeVar("Value")


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a value: a mapping as its sorted items."""
    if isinstance(value, Mapping):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    return value


@dataclass(frozen=True)
class _Job:
    """One call of compute, equal to another exactly when its inputs (hashable: rollups build their energy by year
    as a YearEnergy), factor set and basis are."""

    key: tuple[Any, ...]
    inputs: TrialInputs = field(compare=False)
    factors: Factors = field(compare=False)
    basis: Basis = field(compare=False)


@lru_cache(maxsize=MEMO_SIZE)
def _computed(job: _Job) -> MetricsResult:
    """Compute once per distinct job: compute is pure, so the same sums and factors give the same figures."""
    return compute(job.inputs, job.factors, job.basis)


@dataclass(frozen=True)
class Calculator:
    """trials.metrics.compute with one factor set, remembering results across requests (compute is pure)."""

    factors: Factors
    factors_key: tuple[Any, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "factors_key", tuple(_frozen(getattr(self.factors, f.name)) for f in fields(Factors)))

    def compute(self, inputs: TrialInputs, basis: Basis = "location") -> MetricsResult:
        """The metrics of these inputs, with this factor set, on this basis."""
        return _computed(_Job((self.factors_key, basis, inputs), inputs, self.factors, basis))

    def compute_fresh(self, inputs: TrialInputs, basis: Basis = "location") -> MetricsResult:
        """The metrics of these inputs, not remembered: thousands of per-unit inputs would push the trials' results
        out of the memo, and hashing one costs about as much as computing it."""
        return compute(inputs, self.factors, basis)


class Remembered(Generic[Value]):
    """The last few values computed by key, shared by a worker's threads; for results whose computing needs what
    must not be kept (a database session), which functools.lru_cache would keep in its keys."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, Value] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Value]) -> Value:
        """The value remembered for the key, else computed now (outside the lock) and remembered."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        with self._lock:
            self._values[key] = value
            self._trim()
        return value

    def get_each(
        self, keys: Mapping[int, Hashable], compute: Callable[[list[int]], Mapping[int, Value]]
    ) -> dict[int, Value]:
        """Each id's value remembered under its own key, those missing computed together in one call (which must
        give a value for every id it is asked for): a view that shares trials with one seen before computes only its
        new trials."""
        found: dict[int, Value] = {}
        with self._lock:
            for item, key in keys.items():
                if key in self._values:
                    self._values.move_to_end(key)
                    found[item] = self._values[key]
        missing = [item for item in keys if item not in found]
        if missing:
            computed = compute(missing)
            with self._lock:
                for item in missing:
                    found[item] = self._values[keys[item]] = computed[item]
                self._trim()
        return {item: found[item] for item in keys}

    def _trim(self) -> None:
        """Forget the least recently used values beyond the size (the lock held)."""
        while len(self._values) > self.size:
            self._values.popitem(last=False)


_calculators: Remembered[Calculator] = Remembered(size=4)


def calculator(session: Session, name: str | None = None) -> Calculator:
    """A calculator with the named factor set (the default one unless named), as stored now: each set is read once
    per worker, since a stored set never changes (a new one is added instead), only which set is the default.
    An unknown name raises LookupError."""
    found = find_factor_set(session, name)
    key = (found.id, found.name, found.created_at)  # a restored backup may number its sets otherwise
    return _calculators.get(key, lambda: Calculator(load_factors(session, found.name)))


#: Which factor set to compute with: a calculator's, a loaded set, a set's name, or None for the default set.
FactorChoice = Calculator | Factors | str | None


def _calculator(session: Session, factors: FactorChoice) -> Calculator:
    """The calculator for a factor choice."""
    if isinstance(factors, Calculator):
        return factors
    return Calculator(factors) if isinstance(factors, Factors) else calculator(session, factors)


@lru_cache(maxsize=8)
def _column_names(table: Any) -> tuple[str, ...]:
    """The stored columns of a table's rows."""
    return tuple(column.key for column in table.columns)


def _columns(row: Any) -> tuple[Any, ...]:
    """Every stored column of a row, as a key: a trial edited in any way is read afresh. Loaded values are read
    straight from the row's state (through the ORM's descriptors they cost more than the rest of a cached read)."""
    loaded = row.__dict__
    return tuple(loaded[name] if name in loaded else getattr(row, name) for name in _column_names(row.__table__))


@dataclass(frozen=True)
class _Stored:
    """What a read's figures depend on in the database besides the rollups' sums: each trial as stored, with its
    rollup stamp (new at every rebuild) and unit count; the ports (grid regions) and the plausible ranges."""

    trials: Sequence[Trial]
    stamps: Mapping[int, int]
    units: Mapping[int, int]
    ports: Mapping[str, Port]
    ranges: Sequence[PlausibleRange]

    def key(self) -> tuple[Any, ...]:
        """A hashable key for all of it."""
        return (tuple(map(self._trial_key, self.trials)), self._shared_key())

    def trial_keys(self) -> dict[int, tuple[Any, ...]]:
        """A hashable key for each trial's part of it, by trial id, the ports and ranges in each."""
        shared = self._shared_key()
        return {trial.id or 0: (self._trial_key(trial), shared) for trial in self.trials}

    def _trial_key(self, trial: Trial) -> tuple[Any, ...]:
        """One trial as stored, with its rollup stamp and unit count."""
        return (self.stamps[trial.id or 0], self.units.get(trial.id or 0, 0), _columns(trial))

    def _shared_key(self) -> tuple[Any, ...]:
        """The ports and the plausible ranges."""
        return (tuple(_columns(port) for port in self.ports.values()), tuple(_columns(row) for row in self.ranges))


def _stored(session: Session, scope: Scope, trials: Sequence[Trial]) -> _Stored:
    """Read what the figures of these visible trials depend on besides the sums (a few small queries)."""
    return _Stored(
        trials=trials,
        stamps=rollup_stamps(session=session, scope=scope, trials=trials),
        units=trial_unit_counts(session=session, scope=scope, trials=trials),
        ports={port.locode: port for port in list_ports(session=session)},
        ranges=list_plausible_ranges(session=session),
    )


#: Reads remembered per worker, by everything their figures depend on: a few dozen views' worth.
_trial_figures: Remembered[list[tuple[PeriodData, MetricsResult]]] = Remembered(size=64)
#: Month figures are remembered trial by trial, so a view narrowed to some of the trials of one seen before (a port,
#: a class, a technology) is read, not computed: twenty views' worth of 200 trials.
_month_figures: Remembered[dict[int, tuple[TrialInputs, MetricsResult]]] = Remembered(size=4_096)


@dataclass(frozen=True)
class TrialResult:
    """One trial's figures over a period: its inputs and the data behind them, its metrics with the trust checks."""

    trial: Trial
    port: Port
    data: PeriodData
    result: MetricsResult
    units: int  # trial units, not baseline units


def trial_results(
    *,
    session: Session,
    scope: Scope,
    trials: Sequence[Trial],
    period: Period = ALL_TIME,
    basis: Basis = "location",
    factors: FactorChoice = None,
    as_of: date | None = None,
) -> list[TrialResult]:
    """Every visible trial's metrics over the period, with its trust checks, in the order given; nothing after
    as-of (default today, UTC) is counted. Remembered per worker until a trial's rollups are rebuilt or anything
    else they depend on changes (_Stored)."""
    calc = _calculator(session, factors)
    day = as_of or today()
    stored = _stored(session, scope, trials)

    def compute_all() -> list[tuple[PeriodData, MetricsResult]]:
        data = period_data(
            session=session, scope=scope, trials=trials, period=period, as_of=day, unit_counts=stored.units
        )
        ranges = ranges_by_class(stored.ranges)
        figures = []
        for trial in trials:
            found = data[trial.id or 0]
            result = calc.compute(found.inputs, basis)
            figures.append((found, with_checks(found.inputs, result, status=trial.status, ranges=ranges)))
        return figures

    key = (stored.key(), period, day, basis, calc.factors_key)
    figures = _trial_figures.get(key, compute_all)
    return [
        TrialResult(trial, stored.ports[trial.port_locode], data, result, stored.units.get(trial.id or 0, 0))
        for trial, (data, result) in zip(trials, figures, strict=True)
    ]


def trial_metrics(
    *,
    session: Session,
    scope: Scope,
    trial: Trial,
    factors: FactorChoice = None,
    basis: Basis = "location",
    as_of: date | None = None,
) -> MetricsResult:
    """One visible trial's metrics over its whole period so far, with its trust checks."""
    (found,) = trial_results(session=session, scope=scope, trials=[trial], basis=basis, factors=factors, as_of=as_of)
    return found.result


def trial_inputs(*, session: Session, scope: Scope, trial: Trial, as_of: date | None = None) -> TrialInputs:
    """The sums and settings one visible trial's metrics take, over its whole period as of a day (default today)."""
    (trial_id,) = scope.visible_ids([trial])
    return period_data(session=session, scope=scope, trials=[trial], as_of=as_of or today())[trial_id].inputs


#: One month of a trial: its inputs and its metrics (without trust checks, which judge a whole trial).
MonthResult = tuple[TrialInputs, MetricsResult]


def monthly_results(
    *,
    session: Session,
    scope: Scope,
    trials: Sequence[Trial],
    period: Period = ALL_TIME,
    basis: Basis = "location",
    factors: FactorChoice = None,
    as_of: date | None = None,
    data_only: bool = False,
) -> dict[int, dict[int, MonthResult]]:
    """Each visible trial's metrics month by month (by trial id, then month key), each month computed by the
    trial's own formulas on that month's sums from the monthly rollups; nothing after as-of counted. The months are
    those with data and, unless data_only, every month of the trial period so far."""
    calc = _calculator(session, factors)
    day = as_of or today()

    def compute(ids: list[int]) -> dict[int, dict[int, MonthResult]]:
        missing = _among(trials, ids)
        months = month_data(session=session, scope=scope, trials=missing, as_of=day, period=period, data_only=data_only)
        return {
            trial_id: {month: (inputs, calc.compute(inputs, basis)) for month, inputs in by_month.items()}
            for trial_id, by_month in months.items()
        }

    rest = (period, day, basis, data_only, calc.factors_key)
    keys = {trial_id: (key, rest) for trial_id, key in _stored(session, scope, trials).trial_keys().items()}
    return _month_figures.get_each(keys, compute)


def _among(trials: Sequence[Trial], ids: Sequence[int]) -> list[Trial]:
    """The trials with these ids, in their order: those a remembered read must compute."""
    wanted = set(ids)
    return [trial for trial in trials if trial.id in wanted]


#: Each unit's metric values, in the order of the keys asked for, by (trial id, unit id).
UnitResults = list[tuple[int, str, tuple[float | None, ...]]]
#: One trial's units: (unit id, its values).
_TrialUnits = list[tuple[str, tuple[float | None, ...]]]
#: Units' results are remembered trial by trial: a few hundred trials' worth (about 70 KB for 69 units).
_unit_results: Remembered[_TrialUnits] = Remembered(size=600)


def unit_results(
    *,
    session: Session,
    scope: Scope,
    results: Sequence[TrialResult],
    period: Period,
    basis: Basis,
    keys: Sequence[str],
    factors: FactorChoice = None,
) -> UnitResults:
    """Every trial unit's metrics (the keys given, in order) over the period, against its trial's baseline, trial by
    trial in the order given. Remembered per trial until its rollups are rebuilt (its stamp is in the key, with the
    settings its units take, the period, the basis and the factors), so a narrower view, another viewer's, or the
    view after an import computes only the trials that are new to it.

    A unit has no reporting lag of its own, so its inputs carry no as-of or last data date: its results stay the
    same from one day to the next."""
    calc = _calculator(session, factors)
    trials = [found.trial for found in results]
    baselines = {found.trial.id or 0: replace(found.data.inputs, as_of=None, last_data_date=None) for found in results}
    stamps = rollup_stamps(session=session, scope=scope, trials=trials)
    rest = (period, basis, tuple(keys), calc.factors_key)
    memo_keys = {trial_id: (trial_id, stamps[trial_id], inputs, rest) for trial_id, inputs in baselines.items()}

    def compute(ids: list[int]) -> dict[int, _TrialUnits]:
        missing = _among(trials, ids)
        found: dict[int, _TrialUnits] = {trial_id: [] for trial_id in ids}
        for unit in unit_data(session=session, scope=scope, trials=missing, period=period, baselines=baselines):
            values = calc.compute_fresh(unit.inputs, basis).values
            found[unit.trial_id].append((unit.unit, tuple(map(values.get, keys))))
        return found

    by_trial = _unit_results.get_each(memo_keys, compute)
    return [(trial_id, unit, values) for trial_id, units in by_trial.items() for unit, values in units]


@dataclass(frozen=True)
class Bucket:
    """One day, week or month of a trial: its metric inputs, its metrics and the sums no metric uses (charging
    sessions)."""

    start: date
    inputs: TrialInputs
    result: MetricsResult
    charging_sessions: float | None


def buckets(
    *,
    trial: Trial,
    port: Port,
    days: Sequence[DayRow],
    grain: Grain,
    as_of: date,
    basis: Basis = "location",
    calc: Calculator,
) -> list[Bucket]:
    """A trial's daily rollups (rollup_sums.daily_rows) grouped by day, week or month, each bucket's metrics computed
    on its own sums, with its coverage of the trial period so far."""
    window_last = min(day for day in (trial.end_date, as_of) if day is not None)
    grouped: dict[date, list[DayRow]] = defaultdict(list)
    for day_row in days:
        grouped[bucket_start(day_row.day, grain)].append(day_row)
    empty = inputs_for(trial, port, trial_totals=Totals(), baseline_totals=Totals(), energy_kwh_by_year=YearEnergy())
    settings = {name: getattr(empty, name) for name in _BUCKET_SETTINGS}  # a day's inputs built without replace()
    found = []
    for start, rows in sorted(grouped.items()):
        first, last = max(start, trial.start_date), min(bucket_end(start, grain), window_last)
        own = [r for r in rows if r.role == UnitRole.trial]
        inputs = TrialInputs(
            **settings,
            trial=_added(own),
            baseline=_added([r for r in rows if r.role == UnitRole.baseline]),
            energy_kwh_by_year=energy_by_year(
                {"role": r.role, "year": r.day.year, "energy_kwh": r.sums[ENERGY_AT]} for r in rows
            ),
            days_covered=sum(first <= r.day <= last for r in own) if first <= last else 0,
            days_in_period=(last - first).days + 1 if first <= last else 0,
        )
        result = calc.compute(inputs, basis)
        found.append(Bucket(start, inputs, result, total(r.charging_sessions for r in own)))
    return found


#: The inputs a bucket takes from its trial's settings; the rest are its own sums and coverage.
_BUCKET_SETTINGS = tuple(
    item.name
    for item in fields(TrialInputs)
    if item.name not in {"trial", "baseline", "energy_kwh_by_year", "days_covered", "days_in_period"}
)


def _added(rows: Sequence[DayRow]) -> Totals:
    """Add days' sums field by field; a field no day carried stays None (as totals_of adds rollup rows)."""
    if len(rows) == 1:
        return rows[0].totals
    return Totals(*(total(values) for values in zip(*(row.sums for row in rows), strict=True)))
