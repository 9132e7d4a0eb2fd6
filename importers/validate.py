"""Rows to records: every cell checked, every problem collected with its file, sheet, row and column."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date, time
from functools import lru_cache
from typing import Any

from importers.load import MEASURED_FIELDS, MeasurementRecord
from importers.mapping import MappedColumn, Row, SheetMapping
from importers.problems import Problem, shown_value
from importers.values import ALLOWED, Invalid, Month, Parser, resolve_period
from trials.baselines import declared_rate_problems
from trials.models import (
    FLEET_UNIT,
    MEASURED_NUMBERS,
    BaselineKind,
    EquipmentClass,
    HydrogenPathway,
    Port,
    Technology,
    Trial,
    TrialStatus,
    UnitRole,
    Visibility,
)

#: A row with no unit names the whole trial fleet, stored under this unit id.
#: Physical maxima per class (rated power kW, top speed km/h, moves per hour); beyond 10x a value is absurd.
PHYSICAL_MAX: dict[EquipmentClass, tuple[float, float, float]] = {
    EquipmentClass.drayage_truck: (600, 120, 10),
    EquipmentClass.yard_tractor: (400, 50, 60),
    EquipmentClass.rtg_crane: (1500, 10, 60),
    EquipmentClass.sts_crane: (5000, 5, 80),
    EquipmentClass.straddle_carrier: (600, 40, 60),
    EquipmentClass.top_handler: (500, 40, 60),
    EquipmentClass.reach_stacker: (500, 40, 60),
    EquipmentClass.forklift: (300, 30, 60),
    EquipmentClass.tug: (8000, 30, 10),
    EquipmentClass.harbor_craft: (4000, 70, 10),
    EquipmentClass.ferry: (30000, 70, 10),
}
ABSURD = 10
DIESEL_L_PER_KWH = 0.3  # a diesel engine's specific consumption is about 0.25 L/kWh at best
HYDROGEN_KG_PER_KWH = 0.08  # a fuel cell's is about 0.06 kg/kWh
_TOTALS = re.compile(r"^\s*(grand\s+|sub[\s-]?)?(totals?|sum|summe|totaal|total general)\b", re.IGNORECASE)


@dataclass(frozen=True)
class TrialTarget:
    """A trial measurements may be written to, with what the checks need to know of it."""

    id: int
    code: str
    equipment_class: EquipmentClass
    units_planned: int | None


@dataclass
class SheetReport:
    """What one sheet gave: problems, skipped rows with their reasons, how many rows were read, and which units'
    roles were left unsaid (taken as trial units)."""

    problems: list[Problem] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    rows: int = 0
    role_assumed: set[tuple[int, str]] = field(default_factory=set)  # (trial id, unit) of rows naming no role


def _is_blank(cells: Sequence[object]) -> bool:
    """Tell an empty row, which is skipped and reported as such (count runs in C, a generator per row did not)."""
    return cells.count(None) == len(cells)


def totals_label(cells: Sequence[object], columns: Iterable[int]) -> str | None:
    """Find a 'Total', 'Sum' or 'Grand total' label in the row's identifying cells, or its first text cell."""
    for index in columns:
        cell = cells[index] if index < len(cells) else None
        if isinstance(cell, str) and _TOTALS.match(cell):
            return cell
    return None


def notes_with_extras(notes: object, cells: Sequence[object], extras: Sequence[tuple[int, str]]) -> str | None:
    """Keep unrecognised columns as 'Header: value' notes, so nothing a source sent is lost."""
    parts = [str(notes)] if isinstance(notes, str) and notes else []
    for index, header in extras:
        if index < len(cells) and cells[index] is not None:
            parts.append(f"{header}: {cells[index]}")
    return "; ".join(parts)[:2000] if parts else None


class RowReader:
    """Parse a row's mapped cells once, turning each Invalid into a Problem placed in the file."""

    def __init__(self, mapping: SheetMapping, parsers: list[tuple[MappedColumn, Parser]], file: str, sheet: str):
        self.plan = [(column.index, column.field, column.header, parse) for column, parse in parsers]
        self.file = file
        self.sheet = sheet
        self.headers = {column.field: column.header for column in mapping.columns}

    def read(self, number: int, cells: Sequence[object], problems: list[Problem]) -> tuple[dict[str, Any], set[str]]:
        """Give the row's good values by field, and the fields whose cells were bad (each added as a problem)."""
        values: dict[str, Any] = {}
        bad: set[str] = set()
        width = len(cells)
        for index, name, header, parse in self.plan:
            raw = cells[index] if index < width else None
            parsed = parse(raw)
            if type(parsed) is Invalid:
                problems.append(parsed.problem(file=self.file, sheet=self.sheet, row=number, column=header, value=raw))
                bad.add(name)
            else:
                values[name] = parsed
        return values, bad

    def problem(self, number: int, field_name: str | None, message: str, value: object = None) -> Problem:
        """Place a problem about a whole row or one of its fields."""
        column = self.headers.get(field_name or "", field_name)
        return Problem(self.file, message, sheet=self.sheet, row=number, column=column, value=shown_value(value))


def _period(values: dict[str, Any]) -> tuple[date, date] | Invalid:
    """Resolve a row's period from its Date/Month or Start/End cells."""
    period = values.get("period")
    start, end = values.get("period_start"), values.get("period_end")
    return resolve_period(
        period if isinstance(period, date | Month) else None,
        start if isinstance(start, date | time) else None,
        end if isinstance(end, date | time) else None,
    )


@lru_cache(maxsize=1024)
def _limits(target: TrialTarget, fleet: bool, days: int) -> tuple[float, ...]:
    """Ten times the most a unit (or the planned fleet) of this class could physically do in the period, in
    MEASURED_NUMBERS order (infinite where nothing is checked); remembered, as most rows of a sheet share a trial
    and a period length."""
    power, speed, moves = PHYSICAL_MAX[target.equipment_class]
    hours = 24.0 * days * (max(target.units_planned or 1, 1) if fleet else 1)
    limits = {
        "operating_hours": hours,
        "scheduled_hours": hours,
        "downtime_hours": hours,
        "energy_kwh": power * hours,
        "diesel_l": power * hours * DIESEL_L_PER_KWH,
        "hydrogen_kg": power * hours * HYDROGEN_KG_PER_KWH,
        "distance_km": speed * hours,
        "moves": moves * hours,
        "teu": 2 * moves * hours,
    }
    return tuple(ABSURD * limits[name] if name in limits else math.inf for name in MEASURED_NUMBERS)


_ROLES = {role.value: role for role in UnitRole}


@dataclass
class MeasurementRows:
    """Check one measurement sheet's rows and turn the good ones into records."""

    reader: RowReader
    mapping: SheetMapping
    find_trial: Callable[[str, int, RowReader], TrialTarget | Problem]
    default_trial: str | None
    report: SheetReport
    seen: dict[int, int]  # natural keys packed into ints -> row, shared by every sheet of one file
    unit_numbers: dict[tuple[int, str], int]  # (trial id, unit id) -> a small number for packing keys

    def records(self, rows: Iterable[Row]) -> Iterator[MeasurementRecord]:
        """Yield a record for every good row; bad rows add problems, blank and totals rows are skipped."""
        label_columns = [
            index
            for index in (
                self.mapping.field_index(name) for name in ("trial_code", "unit_id", "period", "period_start")
            )
            if index is not None
        ] or [0]
        notes_index = self.mapping.field_index("notes")
        for number, cells in rows:
            self.report.rows += 1
            if _is_blank(cells):
                self.report.skipped.append((number, "blank row"))
                continue
            label = totals_label(cells, label_columns)
            if label is not None:
                self.report.skipped.append((number, f"totals row ({label!r})"))
                continue
            values, bad = self.reader.read(number, cells, self.report.problems)
            if bad:
                continue
            record = self._record(number, values, cells, notes_index)
            if isinstance(record, Problem):
                self.report.problems.append(record)
            else:
                yield record

    def _repeat(self, trial_id: int, unit_id: str, start: date, end: date, number: int) -> int | None:
        """Remember a natural key, packed exactly into one int; give the earlier row that had it, if any."""
        unit = self.unit_numbers.setdefault((trial_id, unit_id), len(self.unit_numbers))
        key = (unit << 44) | (start.toordinal() << 22) | ((end - start).days & 0x3FFFFF)
        earlier = self.seen.get(key)
        if earlier is None:
            self.seen[key] = number
        return earlier

    def _record(
        self, number: int, values: dict[str, Any], cells: Sequence[object], notes_index: int | None
    ) -> MeasurementRecord | Problem:
        """Check one parsed row as a whole: its trial, period, magnitudes and repeats."""
        code = values.get("trial_code") or self.default_trial
        if not code:
            return self.reader.problem(
                number, "trial_code", "no trial: add a 'Trial' column or import with --trial CODE"
            )
        target = self.find_trial(code, number, self.reader)
        if isinstance(target, Problem):
            return target
        period = _period(values)
        if isinstance(period, Invalid):
            return self.reader.problem(number, period.field, period.message)
        start, end = period
        unit_id = values.get("unit_id") or FLEET_UNIT
        earlier = self._repeat(target.id, unit_id, start, end, number)
        if earlier is not None:
            return self.reader.problem(
                number, "unit_id", f"the same unit and period as row {earlier}; keep one of the two rows", unit_id
            )
        if notes_index is not None or self.mapping.kept_as_notes:
            values["notes"] = notes_with_extras(values.get("notes"), cells, self.mapping.kept_as_notes)
        measured = tuple(map(values.get, MEASURED_FIELDS))
        days = (end - start).days
        limits = _limits(target, unit_id == FLEET_UNIT, days)
        for name, limit, value in zip(MEASURED_NUMBERS, limits, measured, strict=False):  # measured ends with notes
            if value is not None and value > limit:
                message = (
                    f"{value:,.0f} is more than 10 times what one {target.equipment_class.value.replace('_', ' ')}"
                    f" could do in {days} day(s) (at most {limit / ABSURD:,.0f}); check the unit"
                )
                return self.reader.problem(number, name, message, value)
        role = values.get("role")
        if role is None:
            self.report.role_assumed.add((target.id, unit_id))
        return MeasurementRecord(
            trial_id=target.id,
            unit_id=unit_id,
            role=_ROLES[role or UnitRole.trial.value],
            period_start=start,
            period_end=end,
            values=measured,
            sheet=self.reader.sheet,
            row=number,
        )


def _port(raw: str | None, ports: Sequence[Port]) -> str | Invalid | None:
    """Find a port by UN/LOCODE or by name."""
    if raw is None:
        return None
    wanted = raw.strip().upper().replace(" ", "")
    for port in ports:
        if (
            wanted == port.locode
            or raw.strip().lower() == port.name.lower()
            or raw.strip().lower() in port.name.lower()
        ):
            return port.locode
    known = ", ".join(f"{port.locode} ({port.name})" for port in ports)
    return Invalid(f"unknown port; expected a partner port's UN/LOCODE or name: {known}")


#: What every trial must name, on a Trials sheet as in the web form.
REQUIRED_TRIAL_FIELDS = ("code", "port", "equipment_class", "technology", "start_date")
#: The longest text each trial field may hold, read from the table so no database refuses a checked trial.
TRIAL_TEXT_LIMITS: dict[str, int] = {
    name: Trial.__table__.c[name].type.length  # type: ignore[attr-defined]
    for name in (
        "code",
        "name",
        "terminal",
        "vendor",
        "model",
        "funding",
        "baseline_unit",
        "baseline_source",
        "hydrogen_factor_source",
        "notes",
    )
}
#: The enumerated trial fields stored as text, which the web form passes through as typed.
TRIAL_CHOICES = ("baseline_kind", "hydrogen_pathway", "baseline_engine")


def either(values: Sequence[str]) -> str:
    """List allowed values in plain words: 'a, b or c'."""
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"


def _hydrogen_problems(values: Mapping[str, Any]) -> dict[str, str]:
    """A declared hydrogen factor (METHODOLOGY.md §7.6) is more than 0, has a source, and only goes with 'declared'."""
    factor = values.get("hydrogen_factor_kg_per_kg")
    declared = values.get("hydrogen_pathway") == HydrogenPathway.declared
    problems: dict[str, str] = {}
    if factor is not None and (not math.isfinite(factor) or factor <= 0):
        problems["hydrogen_factor_kg_per_kg"] = "a hydrogen factor is more than 0 kg CO2e per kg of hydrogen, e.g. 3.2"
    elif factor is not None and not declared:
        problems["hydrogen_factor_kg_per_kg"] = (
            "a hydrogen factor goes only with the hydrogen pathway 'declared': set the pathway to declared, "
            "or leave the factor blank"
        )
    elif factor is None and declared:
        problems["hydrogen_factor_kg_per_kg"] = (
            "the hydrogen pathway 'declared' needs its factor in kg CO2e per kg of hydrogen, e.g. 3.2"
        )
    if declared and not values.get("hydrogen_factor_source"):
        problems["hydrogen_factor_source"] = (
            "a declared hydrogen factor needs its source, e.g. the supplier's certificate of origin"
        )
    return problems


#: A trial code names the trial in every address (/trials/CODE, /api/v1/trials/CODE, report file names), so it holds
#: only characters that need no escaping there, and starts with a letter or digit (never '.' or '..').
TRIAL_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
TRIAL_CODE_RULE = (
    "a trial code may hold only letters A-Z or a-z, digits 0-9, '.', '_' and '-', starting with a letter or digit "
    "(no spaces, '/' or other signs), e.g. LGB-YT-01"
)


def trial_problems(values: Mapping[str, Any], ports: Sequence[Port], bad: Set[str] = frozenset()) -> dict[str, str]:
    """Apply the rules every trial obeys, whether from a Trials sheet or the web form, as {field: message}."""
    problems: dict[str, str] = {}
    for required in REQUIRED_TRIAL_FIELDS:
        if values.get(required) is None and required not in bad:
            problems[required] = f"{required.replace('_', ' ')} is required for a trial"
    code = values.get("code")
    if isinstance(code, str) and not TRIAL_CODE.fullmatch(code):
        problems["code"] = TRIAL_CODE_RULE
    for name, limit in TRIAL_TEXT_LIMITS.items():
        text = values.get(name)
        if isinstance(text, str) and len(text) > limit:
            problems[name] = f"too long: {len(text)} characters, at most {limit}"
    port = _port(values.get("port"), ports)
    if isinstance(port, Invalid):
        problems["port"] = port.message
    start, end = values.get("start_date"), values.get("end_date")
    if start is not None and end is not None and end < start:
        problems["end_date"] = f"the end date {end} is before the start date {start}"
    for name in TRIAL_CHOICES:
        choice = values.get(name)
        if choice is not None and name not in bad and choice not in ALLOWED[name]:
            problems[name] = f"unknown {name.replace('_', ' ')} {choice!r}: choose {either(ALLOWED[name])}"
    kind = values.get("baseline_kind") or BaselineKind.diesel
    if kind in ALLOWED["baseline_kind"]:
        problems.update(
            declared_rate_problems(BaselineKind(kind), values.get("baseline_rate"), values.get("baseline_unit"))
        )
    problems.update(_hydrogen_problems(values))
    load = values.get("load_factor")
    if load is not None and not 0 < load <= 1:
        problems["load_factor"] = "a load factor is between 0 and 1, e.g. 0.39"
    return problems


def trial_fields(values: Mapping[str, Any], ports: Sequence[Port]) -> dict[str, Any]:
    """Give the Trial's fields from values that passed trial_problems, with defaults and enums filled in."""
    optional = (
        "terminal",
        "units_planned",
        "vendor",
        "model",
        "funding",
        "baseline_rate",
        "baseline_source",
        "rated_power_kw",
        "load_factor",
        "market_factor_g_per_kwh",
        "hydrogen_pathway",
        "hydrogen_factor_kg_per_kg",
        "hydrogen_factor_source",
        "baseline_engine",
        "notes",
    )
    return {
        "code": values["code"],
        "name": values.get("name") or values["code"],
        "port_locode": _port(values["port"], ports),
        "equipment_class": EquipmentClass(values["equipment_class"]),
        "technology": Technology(values["technology"]),
        "start_date": values["start_date"],
        "end_date": values.get("end_date"),
        "status": TrialStatus(values.get("status") or TrialStatus.planned),
        "visibility": Visibility(values.get("visibility") or Visibility.private),
        "baseline_kind": BaselineKind(values.get("baseline_kind") or BaselineKind.diesel),
        "baseline_unit": values.get("baseline_unit") if values.get("baseline_rate") is not None else None,
    } | {name: values.get(name) for name in optional}


def trial_values(
    number: int,
    values: dict[str, Any],
    bad: set[str],
    reader: RowReader,
    ports: Sequence[Port],
    baseline_unit: str | None,
) -> dict[str, Any] | list[Problem]:
    """Check one Trials row as a whole and give the Trial's fields, or the problems found besides the bad cells."""
    checked = values | {"baseline_unit": values.get("baseline_unit") or baseline_unit}
    problems = trial_problems(checked, ports, bad)
    if problems or bad:
        placed = [(_column_of(name, reader), message) for name, message in problems.items()]
        return [reader.problem(number, name, message, checked.get(name)) for name, message in placed]
    return trial_fields(checked, ports)


def _column_of(name: str, reader: RowReader) -> str:
    """Place a problem of the baseline unit on the Baseline rate cell when the unit came from that column's header."""
    return "baseline_rate" if name == "baseline_unit" and name not in reader.headers else name
