"""What a file would bring in, for a person to check before confirming: totals per unit, and warnings that do not
block the import but must be seen (diesel on a zero-emission unit, more units than planned, a rate outside
METHODOLOGY.md §8, a role or a column's unit guessed). CLI, API and web page all show these same facts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from operator import itemgetter
from typing import Any

from sqlmodel import Session, col, select

from importers.load import MEASURED_FIELDS, MeasurementRecord
from trials.baselines import ACTIVITY_FIELDS, Activity
from trials.checks import ranges_by_class
from trials.metrics import NO_COMBUSTION, PRIMARY_ACTIVITY
from trials.models import ENERGY_CARRIERS, FLEET_UNIT, EquipmentClass, PlausibleRange, Trial, Unit, UnitRole
from trials.reference import RANGE_QUANTITY_LABELS, describe_range, per_unit
from trials.registry import FIELDS, counted, label

#: What the review totals for each unit: the energy carriers, then the activities.
SUMMED: tuple[str, ...] = (*ENERGY_CARRIERS, "operating_hours", "distance_km", "moves", "teu")
_SUMMED_VALUES = itemgetter(*(MEASURED_FIELDS.index(name) for name in SUMMED))
_CARRIER_SLOTS = tuple(SUMMED.index(name) for name in ENERGY_CARRIERS)
#: Every kind of warning a review gives, for the API's document.
WARNING_CODES = (
    "unit_assumed",
    "column_kept_as_notes",
    "diesel_on_zero_emission",
    "more_units_than_planned",
    "rate_out_of_range",
    "role_assumed",
)
#: How many unit names one warning lists before saying how many more.
UNITS_NAMED = 6


@dataclass(slots=True)
class _Tally:
    """One unit's rows so far: count, first and last day, sums, and each carrier summed beside the class's work."""

    role: UnitRole
    work: int  # the slot in SUMMED of the class's primary activity
    rows: int = 0
    first: date = date.max
    end: date = date.min  # exclusive
    sums: list[float | None] = field(default_factory=lambda: [None] * len(SUMMED))
    paired: list[float] = field(default_factory=lambda: [0.0] * 2 * len(ENERGY_CARRIERS))  # per carrier: c, work


@dataclass(frozen=True)
class UnitSummary:
    """What the file holds for one unit: its role, rows, first and last day, and totals of what was measured."""

    trial: str
    unit: str
    role: UnitRole
    new: bool  # the unit is not in the database yet
    rows: int
    first_day: date
    last_day: date  # inclusive
    totals: dict[str, float]  # by SUMMED field, only those the file gave
    rates: dict[str, float]  # by energy carrier: amount per unit of the class's primary work, on rows giving both
    per: str  # that work's unit: h, km or move

    def as_json(self) -> dict[str, Any]:
        """The unit as the review's JSON gives it: keys for machines, labels and units for people."""
        return {
            "trial": self.trial,
            "unit": self.unit,
            "role": self.role.value,
            "role_label": label(self.role),
            "new": self.new,
            "rows": self.rows,
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "totals": [
                {"field": name, "label": FIELDS[name][0], "unit": FIELDS[name][1], "value": value}
                for name, value in self.totals.items()
            ],
            "rates": [
                {
                    "field": name,
                    "label": FIELDS[name][0],
                    "unit": f"{FIELDS[name][1]}/{self.per}",
                    "value": value,
                }
                for name, value in self.rates.items()
            ],
        }


@dataclass(frozen=True)
class ReviewWarning:
    """Something a person should look at before confirming; it does not stop the import."""

    code: str
    message: str
    trial: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The warning as the review's JSON gives it."""
        return {"code": self.code, "message": self.message, "trial": self.trial}


@dataclass
class Review:
    """The review of one file: a summary per unit and the warnings, with the saved mapping applied, if any."""

    units: list[UnitSummary] = field(default_factory=list)
    warnings: list[ReviewWarning] = field(default_factory=list)
    profile: str | None = None  # the import profile applied, by name

    def as_json(self) -> dict[str, Any]:
        """The review as `zetrials import --json`, the API and the web page give it."""
        return {
            "units": [unit.as_json() for unit in self.units],
            "warnings": [warning.as_json() for warning in self.warnings],
            "profile": self.profile,
        }


@dataclass
class ReviewTally:
    """Sums the records an import checks, as they pass, and remembers what was guessed on the way."""

    known: Callable[[int], tuple[dict[str, UnitRole], EquipmentClass]]  # a trial's stored units, and its class
    units: dict[tuple[int, str], _Tally] = field(default_factory=dict)
    before: dict[int, dict[str, UnitRole]] = field(default_factory=dict)
    work: dict[int, int] = field(default_factory=dict)  # trial id -> its primary activity's slot in SUMMED
    role_assumed: set[tuple[int, str]] = field(default_factory=set)  # (trial id, unit) with a row naming no role
    guessed_columns: list[ReviewWarning] = field(default_factory=list)

    def add(self, record: MeasurementRecord) -> None:
        """Count one good row into its unit's totals."""
        key = (record.trial_id, record.unit_id)
        tally = self.units.get(key)
        if tally is None:
            tally = self.units[key] = _Tally(record.role, self._work(record.trial_id))
        tally.rows += 1
        if record.period_start < tally.first:
            tally.first = record.period_start
        if record.period_end > tally.end:
            tally.end = record.period_end
        row = _SUMMED_VALUES(record.values)
        sums = tally.sums
        for slot, value in enumerate(row):
            if value is not None:
                total = sums[slot]
                sums[slot] = value if total is None else total + value
        work = row[tally.work]
        if work is not None:
            paired = tally.paired
            for slot in _CARRIER_SLOTS:  # the carriers come first in SUMMED, so slot i pairs at 2i, 2i + 1
                amount = row[slot]
                if amount is not None:
                    paired[2 * slot] += amount
                    paired[2 * slot + 1] += work

    def _work(self, trial_id: int) -> int:
        """Look a trial up once: its units before this file, and where its class's primary work is summed."""
        if trial_id not in self.work:
            self.before[trial_id], equipment_class = self.known(trial_id)
            self.work[trial_id] = SUMMED.index(ACTIVITY_FIELDS[PRIMARY_ACTIVITY[equipment_class]])
        return self.work[trial_id]

    def note_columns(self, sheet: str, assumed: Iterable[tuple[str, str]], notes: Iterable[str]) -> None:
        """Warn of a sheet's columns read by a guess: a unit assumed, or a header nobody knows kept as notes."""
        for header, unit in assumed:
            self.guessed_columns.append(
                ReviewWarning(
                    "unit_assumed", f"Sheet “{sheet}”, column “{header}” names no unit: it is read in {unit}."
                )
            )
        for header in notes:
            self.guessed_columns.append(
                ReviewWarning(
                    "column_kept_as_notes",
                    f"Sheet “{sheet}”, column “{header}” is not a column ZE Trials knows: it is kept as notes. If it "
                    "says something ZE Trials stores (such as which units are baseline machines), map it to a field.",
                )
            )

    def review(self, session: Session, profile: str | None = None) -> Review:
        """Sum up per unit and find the warnings, reading the trials and the plausible ranges in the same session."""
        trials = {
            trial.id: trial
            for trial in session.exec(select(Trial).where(col(Trial.id).in_({key[0] for key in self.units})))
        }
        ranges = ranges_by_class(session.exec(select(PlausibleRange)))
        units = [
            self._summary(trials[trial_id], unit, tally)
            for (trial_id, unit), tally in sorted(
                self.units.items(), key=lambda item: (trials[item[0][0]].code, item[0][1])
            )
        ]
        warnings = [*self.guessed_columns]
        for trial in sorted(trials.values(), key=lambda trial: trial.code):
            mine = [summary for summary in units if summary.trial == trial.code]
            warnings += _trial_warnings(trial, mine, self._roles_after(trial, mine), ranges, self._assumed(trial, mine))
        return Review(units, warnings, profile)

    def _summary(self, trial: Trial, unit: str, tally: _Tally) -> UnitSummary:
        """One unit's totals, days inclusive, whether it is new, and its energy per unit of the class's work."""
        assert trial.id is not None
        totals = {name: value for name, value in zip(SUMMED, tally.sums, strict=True) if value is not None}
        activity = PRIMARY_ACTIVITY[trial.equipment_class]
        paired = tally.paired
        rates = {
            SUMMED[slot]: paired[2 * slot] / paired[2 * slot + 1] for slot in _CARRIER_SLOTS if paired[2 * slot + 1] > 0
        }
        new = unit not in self.before.get(trial.id, {})
        last = tally.end - timedelta(days=1)
        per = "h" if activity == Activity.hour else activity.value
        return UnitSummary(trial.code, unit, tally.role, new, tally.rows, tally.first, last, totals, rates, per)

    def _roles_after(self, trial: Trial, units: list[UnitSummary]) -> dict[str, UnitRole]:
        """Every unit the trial would have after the import, with its role."""
        assert trial.id is not None
        return {**self.before.get(trial.id, {}), **{summary.unit: summary.role for summary in units}}

    def _assumed(self, trial: Trial, units: list[UnitSummary]) -> list[UnitSummary]:
        """The new units of a trial whose role the file left unsaid on some row."""
        return [summary for summary in units if summary.new and (trial.id, summary.unit) in self.role_assumed]


def _named(units: list[str]) -> str:
    """Name a few units, then say how many more: 'T-1, T-2 and 3 more'."""
    shown = ", ".join(units[:UNITS_NAMED])
    return shown if len(units) <= UNITS_NAMED else f"{shown} and {len(units) - UNITS_NAMED} more"


def _figure(value: float) -> str:
    """Write a figure as people read it: three significant digits at most, thousands separated."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"


def _diesel_on_zero_emission(trial: Trial, units: list[UnitSummary]) -> ReviewWarning | None:
    """Trial units of a battery, fuel-cell or cabled trial that burnt diesel are likely diesel baseline machines."""
    if trial.technology not in NO_COMBUSTION:
        return None
    burnt = [s for s in units if s.role == UnitRole.trial and s.totals.get("diesel_l", 0) > 0]
    if not burnt:
        return None
    litres = sum(s.totals["diesel_l"] for s in burnt)
    names = _named([s.unit for s in burnt])
    return ReviewWarning(
        "diesel_on_zero_emission",
        f"{trial.code} is a {label(trial.technology)} trial, but its trial "
        f"{'unit' if len(burnt) == 1 else 'units'} {names} burnt {_figure(litres)} L of diesel: if "
        f"{'it is a diesel machine' if len(burnt) == 1 else 'they are diesel machines'} measured for comparison, "
        f"give {'it' if len(burnt) == 1 else 'them'} the role baseline (map the column that says so, or add a Role "
        "column).",
        trial.code,
    )


def _more_units_than_planned(trial: Trial, roles: Mapping[str, UnitRole]) -> ReviewWarning | None:
    """More trial units than the trial plans: some may be baseline machines, or the plan is out of date."""
    units = sorted(unit for unit, role in roles.items() if role == UnitRole.trial and unit != FLEET_UNIT)
    planned = trial.units_planned
    if planned is None or len(units) <= planned:
        return None
    return ReviewWarning(
        "more_units_than_planned",
        f"{trial.code} plans {counted(planned, 'trial unit')}; with this file it would have {len(units)} "
        f"({_named(units)}). If some are baseline machines, give them the role baseline; otherwise change the "
        "planned number of units on the trial.",
        trial.code,
    )


def _rates_out_of_range(
    trial: Trial, units: list[UnitSummary], ranges: Mapping[tuple[EquipmentClass, str], PlausibleRange]
) -> list[ReviewWarning]:
    """Units whose energy per unit of work falls outside the class's plausible range (a unit or meter is likely
    wrong); a trial unit's diesel only above it, as a hybrid burns less than a diesel machine."""
    found: list[ReviewWarning] = []
    for carrier in ENERGY_CARRIERS:
        bounds = ranges.get((trial.equipment_class, carrier))
        if bounds is None:
            continue
        outside = [
            f"{s.unit} {_figure(s.rates[carrier])}"
            for s in units
            if carrier in s.rates
            and (
                s.rates[carrier] > bounds.high
                or (s.rates[carrier] < bounds.low and (carrier != "diesel_l" or s.role == UnitRole.baseline))
            )
        ]
        if outside:
            what = RANGE_QUANTITY_LABELS.get(carrier, carrier)
            found.append(
                ReviewWarning(
                    "rate_out_of_range",
                    f"{trial.code}: {what.lower()} in {per_unit(bounds.unit)} is outside the plausible "
                    f"{describe_range(bounds)} (METHODOLOGY.md §8) for {_named(outside)}: check the units "
                    "in the headers and the roles.",
                    trial.code,
                )
            )
    return found


def _roles_assumed(trial: Trial, units: list[UnitSummary]) -> ReviewWarning | None:
    """New units whose rows name no role are taken as trial units: say so, since baseline machines would be wrong."""
    if not units:
        return None
    return ReviewWarning(
        "role_assumed",
        f"No role is given for {counted(len(units), 'new unit')} of {trial.code} ({_named([s.unit for s in units])}):"
        " they are taken as trial units. Add a Role column, or map the column that says which are baseline machines.",
        trial.code,
    )


def _trial_warnings(
    trial: Trial,
    units: list[UnitSummary],
    roles: Mapping[str, UnitRole],
    ranges: Mapping[tuple[EquipmentClass, str], PlausibleRange],
    assumed: list[UnitSummary],
) -> list[ReviewWarning]:
    """Every warning about one trial's units, in the order a person should read them."""
    found = [
        _diesel_on_zero_emission(trial, units),
        _more_units_than_planned(trial, roles),
        *_rates_out_of_range(trial, units, ranges),
        _roles_assumed(trial, assumed),
    ]
    return [warning for warning in found if warning is not None]


def known_units(session: Session) -> Callable[[int], tuple[dict[str, UnitRole], EquipmentClass]]:
    """Look up a trial's units as the database holds them, before the import adds any, and its class."""

    def lookup(trial_id: int) -> tuple[dict[str, UnitRole], EquipmentClass]:
        trial = session.get(Trial, trial_id)
        assert trial is not None
        units = session.exec(select(Unit).where(Unit.trial_id == trial_id))
        return {unit.unit_id: unit.role for unit in units}, trial.equipment_class

    return lookup
