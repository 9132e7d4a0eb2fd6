"""trials.metrics.compute, remembered: the same sums, settings and factors always give the same figures."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any, Generic, Literal, TypeVar

from sqlmodel import Session

from trials.factors import Factors, find_factor_set, load_factors
from trials.metrics import MetricsResult, TrialInputs, compute

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
    basis: Literal["location", "market"] = field(compare=False)


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

    def compute(self, inputs: TrialInputs, basis: Literal["location", "market"] = "location") -> MetricsResult:
        """The metrics of these inputs, with this factor set, on this basis."""
        return _computed(_Job((self.factors_key, basis, inputs), inputs, self.factors, basis))

    def compute_fresh(self, inputs: TrialInputs, basis: Literal["location", "market"] = "location") -> MetricsResult:
        """The metrics of these inputs, computed afresh at every call, never remembered: thousands of per-unit inputs
        would push the trials' results out of the memo, and hashing one costs about as much as computing it."""
        return compute(inputs, self.factors, basis)


def calculator(session: Session) -> Calculator:
    """A calculator with the default factor set, as stored now: each set is read once per worker, since a stored
    set never changes (a new one is added instead), only which set is the default."""
    default = find_factor_set(session)
    key = (default.id, default.name, default.created_at)  # a restored backup may number its sets otherwise
    return _calculators.get(key, lambda: Calculator(load_factors(session, default.name)))


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
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value


_calculators: Remembered[Calculator] = Remembered(size=4)
