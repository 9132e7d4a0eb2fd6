"""Demo data: a believable year or two at the partner ports (METHODOLOGY.md §9), in the shapes real sources send,
imported through the real importer.

Every figure is drawn around the middle of METHODOLOGY.md §8's plausible ranges, dates are counted back from
`today`, and exactly two trials carry a deliberate problem for the trust checks to find: one stale active trial,
and one source whose own avoided figure is 15 % above the computed one.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from openpyxl import Workbook

from importers.template import TRIAL_HEADERS, build_template
from trials.baselines import ACTIVITY_FIELDS, Activity
from trials.metrics import PRIMARY_ACTIVITY
from trials.models import (
    BaselineKind,
    EngineStandard,
    EquipmentClass,
    HydrogenPathway,
    Port,
    Technology,
    TrialStatus,
    Visibility,
)
from trials.registry import label
from trials.units import KM_PER_NMI, convert

SEED = 2024
#: Days before today of the stale trial's last data: beyond METHODOLOGY.md §7.4's 45 days.
STALE_DAYS = 60
#: How far the source with its own avoided figures is off the computed figure (METHODOLOGY.md §7.5 `reported_gap`).
REPORTED_GAP = 1.15
#: Diesel well-to-wheel factor and the Shanghai grid factor of the default set (METHODOLOGY.md §4), kg CO2e per L and
#: per kWh: the reporting source works out its avoided figure with them, then overstates it by REPORTED_GAP.
DIESEL_WTW_KG_PER_L = 3.324
CNSHA_GRID_KG_PER_KWH = 0.513


@dataclass(frozen=True)
class Profile:
    """A class's typical work and energy: hours a day, primary activity per hour, and per unit of primary activity
    the baseline diesel and each technology's energy, all near the middle of METHODOLOGY.md §8's ranges."""

    hours: float
    per_hour: float  # primary activity per operating hour (1 for classes counted in hours)
    diesel_l: float  # diesel baseline, L per primary activity unit
    kwh: float | None  # battery or grid electric, kWh per primary activity unit
    h2_fuel_cell: float | None = None  # kg per primary activity unit
    h2_combustion: float | None = None
    hybrid_diesel_l: float | None = None
    moves_per_h: float = 0  # besides the primary activity
    km_per_h: float = 0


E = EquipmentClass
PROFILES: dict[EquipmentClass, Profile] = {
    # 7 L/h diesel (1.85 gal/h) vs 17 kWh/h electric (4.1x) or 1.1 kg/h fuel-cell hydrogen (1.9x).
    E.yard_tractor: Profile(14, 1, 7.0, 17.0, 1.1, 1.6, moves_per_h=20, km_per_h=12),
    # 0.45 L/km (5.2 mpg) vs 1.3 kWh/km (3.4x) or 0.075 kg/km (1.8x).
    E.drayage_truck: Profile(9, 38, 0.45, 1.3, 0.075),
    # 0.7 L/move (16.8 L/h) vs 2.5 kWh/move (2.8x); a hybrid burns 0.45 L/move (10.8 L/h).
    E.rtg_crane: Profile(16, 24, 0.7, 2.5, hybrid_diesel_l=0.45),
    # No diesel STS cranes: the baseline is the crane before regenerative drives, declared in kWh/move.
    E.sts_crane: Profile(18, 28, 0.0, 4.2),
    # 1.4 L/move (16.8 L/h) vs 3.8 kWh/move (3.7x); a hybrid 0.85 L/move (10.2 L/h, 40 % less).
    E.straddle_carrier: Profile(18, 12, 1.4, 3.8, hybrid_diesel_l=0.85, km_per_h=10),
    E.top_handler: Profile(14, 12, 1.2, 3.6, km_per_h=5),
    E.reach_stacker: Profile(14, 12, 1.0, 3.2, km_per_h=5),
    E.forklift: Profile(8, 10, 0.25, 0.6, 0.035, km_per_h=4),
    # 120 L/h vs 350 kWh/h (3.4x) or 20 kg/h (1.8x); a hybrid tug 80 L/h.
    E.tug: Profile(6, 1, 120.0, 350.0, 20.0, hybrid_diesel_l=80.0, km_per_h=15),
    E.harbor_craft: Profile(8, 1, 40.0, 130.0, hybrid_diesel_l=28.0, km_per_h=25),
    E.ferry: Profile(14, 1, 200.0, 650.0, km_per_h=30),
}
#: The field each class's primary activity is counted in (METHODOLOGY.md §2).
PRIMARY: dict[EquipmentClass, str] = {
    kind: ACTIVITY_FIELDS[Activity(activity.value)] for kind, activity in PRIMARY_ACTIVITY.items()
}


@dataclass(frozen=True)
class Declared:
    """A declared baseline as the trial's owner wrote it: rate, unit and source."""

    rate: float
    unit: str
    source: str


@dataclass(frozen=True)
class DemoTrial:
    """One demo trial, how its data arrive, and when it ran (months before today)."""

    code: str
    port: str
    equipment_class: EquipmentClass
    technology: Technology
    units: int
    shape: str  # template | telematics | european_csv | monthly
    started: int  # months before today
    ended: int | None = None  # months before today; None while active
    baseline_units: int = 0  # diesel comparators measured alongside (the measured baseline)
    declared: Declared | None = None
    baseline_kind: BaselineKind = BaselineKind.diesel
    visibility: Visibility = Visibility.partners
    rated_power_kw: float | None = None
    load_factor: float | None = None
    baseline_engine: EngineStandard | None = None
    hydrogen_pathway: HydrogenPathway | None = None
    hydrogen_factor: tuple[float, str] | None = None  # kg CO2e/kg and its source, for the pathway 'declared'
    stale: bool = False  # the feed stopped STALE_DAYS ago
    reports_avoided: bool = False  # the source sends its own avoided CO2e, REPORTED_GAP off

    @property
    def status(self) -> TrialStatus:
        """Completed once it has an end, else active."""
        return TrialStatus.active if self.ended is None else TrialStatus.completed


T = Technology
P = Visibility.private
RECORDS = "terminal fuel records 2024"
DEMO_TRIALS: tuple[DemoTrial, ...] = (
    DemoTrial("LAX-DT-01", "USLAX", E.drayage_truck, T.battery_electric, 5, "telematics", 14, baseline_units=2,
              baseline_engine=EngineStandard.onroad_2010),
    DemoTrial("LAX-DT-02", "USLAX", E.drayage_truck, T.hydrogen_fuel_cell, 3, "telematics", 10,
              declared=Declared(0.19, "gal/mi", "carrier fuel cards 2024 (5.2 mpg)"),
              hydrogen_pathway=HydrogenPathway.grey),
    DemoTrial("LAX-YT-01", "USLAX", E.yard_tractor, T.battery_electric, 6, "template", 20, baseline_units=2,
              rated_power_kw=130, load_factor=0.2),
    DemoTrial("LAX-TH-01", "USLAX", E.top_handler, T.battery_electric, 2, "template", 8, visibility=P,
              declared=Declared(1.2, "L/move", "OEM spec of the replaced diesel top handler"), rated_power_kw=250,
              load_factor=0.2, baseline_engine=EngineStandard.nonroad_tier3),
    DemoTrial("LGB-YT-01", "USLGB", E.yard_tractor, T.hydrogen_fuel_cell, 3, "template", 16,
              declared=Declared(1.85, "gal/h", RECORDS), rated_power_kw=130, load_factor=0.2,
              hydrogen_pathway=HydrogenPathway.electrolytic_grid),
    DemoTrial("LGB-DT-01", "USLGB", E.drayage_truck, T.battery_electric, 4, "telematics", 12, baseline_units=1),
    DemoTrial("LGB-RTG-01", "USLGB", E.rtg_crane, T.hybrid_diesel_electric, 2, "template", 18, 3, baseline_units=1,
              rated_power_kw=500, load_factor=0.12, baseline_engine=EngineStandard.nonroad_tier3),
    DemoTrial("LGB-TUG-01", "USLGB", E.tug, T.battery_electric, 1, "monthly", 24, 4,
              declared=Declared(30, "gal/h", "fuel records: 30,000 gal a year over about 1,000 run hours"),
              baseline_engine=EngineStandard.marine_tier3),
    DemoTrial("NGO-STS-01", "JPNGO", E.sts_crane, T.grid_electric, 2, "template", 12,
              baseline_kind=BaselineKind.electric,
              declared=Declared(5.2, "kWh/move", "crane energy meters 2023, before regenerative drives")),
    DemoTrial("NGO-FL-01", "JPNGO", E.forklift, T.hydrogen_fuel_cell, 4, "template", 9, visibility=P,
              declared=Declared(0.25, "L/move", RECORDS)),
    DemoTrial("NGO-YT-01", "JPNGO", E.yard_tractor, T.hydrogen_combustion, 2, "template", 11,
              declared=Declared(7.0, "L/h", RECORDS), stale=True),
    DemoTrial("SHA-RTG-01", "CNSHA", E.rtg_crane, T.grid_electric, 4, "template", 22,
              declared=Declared(0.7, "L/move", "terminal fuel records 2023"), rated_power_kw=500, load_factor=0.12),
    DemoTrial("SHA-DT-01", "CNSHA", E.drayage_truck, T.battery_electric, 6, "telematics", 7, visibility=P,
              declared=Declared(0.45, "L/km", "fleet fuel records 2024"), reports_avoided=True),
    DemoTrial("SHA-HC-01", "CNSHA", E.harbor_craft, T.battery_electric, 2, "monthly", 20, 5,
              declared=Declared(40, "L/h", "vessel fuel logs 2023")),
    DemoTrial("SIN-SC-01", "SGSIN", E.straddle_carrier, T.battery_electric, 4, "template", 15, baseline_units=1),
    DemoTrial("SIN-TUG-01", "SGSIN", E.tug, T.hybrid_diesel_electric, 1, "monthly", 19, 2,
              declared=Declared(120, "L/h", "bunker delivery notes 2023")),
    DemoTrial("SIN-YT-01", "SGSIN", E.yard_tractor, T.battery_electric, 5, "template", 8, visibility=P,
              declared=Declared(7.0, "L/h", RECORDS), rated_power_kw=130, load_factor=0.2),
    DemoTrial("CPH-SC-01", "DKCPH", E.straddle_carrier, T.hybrid_diesel_electric, 3, "european_csv", 17, 3,
              baseline_units=1),
    DemoTrial("CPH-FER-01", "DKCPH", E.ferry, T.battery_electric, 1, "monthly", 23, 6,
              declared=Declared(200, "L/h", "ferry operator fuel logs 2022"),
              baseline_engine=EngineStandard.marine_tier3),
    DemoTrial("MMA-RS-01", "SEMMA", E.reach_stacker, T.battery_electric, 2, "european_csv", 13,
              declared=Declared(1.0, "L/move", RECORDS)),
    DemoTrial("MMA-TH-01", "SEMMA", E.top_handler, T.battery_electric, 2, "european_csv", 10,
              declared=Declared(1.2, "L/move", RECORDS), rated_power_kw=250, load_factor=0.2),
    DemoTrial("TPP-YT-01", "IDTPP", E.yard_tractor, T.battery_electric, 4, "template", 9, visibility=P,
              baseline_units=1, rated_power_kw=130, load_factor=0.2),
    DemoTrial("TPP-RTG-01", "IDTPP", E.rtg_crane, T.battery_electric, 2, "template", 14,
              declared=Declared(0.7, "L/move", RECORDS), rated_power_kw=500, load_factor=0.12,
              baseline_engine=EngineStandard.nonroad_tier3),
    DemoTrial("TPP-HC-01", "IDTPP", E.harbor_craft, T.hybrid_diesel_electric, 2, "monthly", 21, 4,
              declared=Declared(40, "L/h", "vessel fuel logs 2023")),
    DemoTrial("NGO-TUG-01", "JPNGO", E.tug, T.hydrogen_fuel_cell, 1, "monthly", 15, 2, visibility=P,
              declared=Declared(120, "L/h", "bunker delivery notes 2023"),
              hydrogen_pathway=HydrogenPathway.declared,
              hydrogen_factor=(2.1, "supplier's certificate of origin, by-product hydrogen 2025")),
)  # fmt: skip


def months_before(today: date, months: int) -> date:
    """The same day of the month, so many months back (the 28th at most, so every month has it)."""
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, min(today.day, 28))


def trial_dates(trial: DemoTrial, today: date) -> tuple[date, date | None, date]:
    """A trial's start, end (inclusive, None while active) and last day with data, counted back from today.

    Monthly summaries cover whole calendar months, so their trials start on the 1st and end on the last day of the
    month before.
    """
    start = months_before(today, trial.started)
    end = None if trial.ended is None else months_before(today, trial.ended)
    if trial.shape == "monthly":
        start = start.replace(day=1)
        if end is not None:
            end = end.replace(day=1) - timedelta(days=1)
    last = end or today - timedelta(days=STALE_DAYS if trial.stale else 1)
    return start, end, last


@dataclass
class Day:
    """One unit's figures for one day, in canonical units."""

    day: date
    unit: str
    role: str
    hours: float
    energy_kwh: float | None
    hydrogen_kg: float | None
    diesel_l: float | None
    moves: int | None
    distance_km: float | None
    scheduled: float
    downtime: float
    reported_avoided_kg: float | None = None


def _unit_days(trial: DemoTrial, today: date, rng: random.Random) -> Iterator[Day]:
    """Simulate daily figures for every unit of a trial, its diesel baseline units included."""
    profile = PROFILES[trial.equipment_class]
    units = [(f"{trial.code}-U{n}", "trial") for n in range(1, trial.units + 1)]
    units += [(f"{trial.code}-D{n}", "baseline") for n in range(1, trial.baseline_units + 1)]
    start, _end, last = trial_dates(trial, today)
    for offset in range((last - start).days + 1):
        day = start + timedelta(days=offset)
        for unit, role in units:
            if rng.random() < 0.04:  # a day with no data: telematics gaps happen
                continue
            down = rng.choice([0.0] * 12 + [1.0, 2.0, 4.0])
            hours = max(0.0, round(profile.hours * rng.uniform(0.75, 1.1) - down, 1))
            activity = hours * profile.per_hour * rng.uniform(0.9, 1.1)
            primary = PRIMARY[trial.equipment_class]
            moves = hours * profile.moves_per_h * rng.uniform(0.85, 1.1) if profile.moves_per_h else None
            km = hours * profile.km_per_h * rng.uniform(0.9, 1.1) if profile.km_per_h else None
            moves = activity if primary == "moves" else moves
            km = activity if primary == "distance_km" else km
            figures = Day(
                day=day,
                unit=unit,
                role=role,
                hours=hours,
                scheduled=profile.hours + 2,
                downtime=down,
                moves=None if moves is None else round(moves),
                distance_km=None if km is None else round(km, 1),
                **_energy(trial.technology if role == "trial" else Technology.diesel, profile, rng),
            )
            done = {"operating_hours": figures.hours, "moves": figures.moves, "distance_km": figures.distance_km}
            _scale_energy(figures, float(done[primary] or 0.0))
            if trial.reports_avoided and role == "trial":
                figures.reported_avoided_kg = round(_avoided(trial, figures) * REPORTED_GAP, 1)
            yield figures


def _energy(technology: Technology, profile: Profile, rng: random.Random) -> dict[str, float | None]:
    """Each carrier the technology uses, per unit of primary activity (scaled to the day's work afterwards)."""
    noise = rng.uniform(0.92, 1.08)
    per_unit: dict[Technology, tuple[str, float | None]] = {
        Technology.diesel: ("diesel_l", profile.diesel_l),
        Technology.battery_electric: ("energy_kwh", profile.kwh),
        Technology.grid_electric: ("energy_kwh", profile.kwh),
        Technology.hydrogen_fuel_cell: ("hydrogen_kg", profile.h2_fuel_cell),
        Technology.hydrogen_combustion: ("hydrogen_kg", profile.h2_combustion),
        Technology.hybrid_diesel_electric: ("diesel_l", profile.hybrid_diesel_l),
    }
    carrier, rate = per_unit[technology]
    assert rate is not None, f"no {technology.value} figures for this class"
    return {"energy_kwh": None, "hydrogen_kg": None, "diesel_l": None} | {carrier: rate * noise}


def _scale_energy(figures: Day, activity: float) -> None:
    """Turn the per-activity carrier into the day's amount, rounded as a meter would show it."""
    if figures.energy_kwh is not None:
        figures.energy_kwh = round(figures.energy_kwh * activity, 1)
    if figures.hydrogen_kg is not None:
        figures.hydrogen_kg = round(figures.hydrogen_kg * activity, 2)
    if figures.diesel_l is not None:
        figures.diesel_l = round(figures.diesel_l * activity, 1)


def _avoided(trial: DemoTrial, figures: Day) -> float:
    """The avoided CO2e the reporting source works out for a day: its declared diesel less the grid electricity."""
    assert trial.declared is not None and trial.declared.unit == "L/km" and trial.port == "CNSHA"
    diesel = trial.declared.rate * (figures.distance_km or 0.0)
    return diesel * DIESEL_WTW_KG_PER_L - (figures.energy_kwh or 0.0) * CNSHA_GRID_KG_PER_KWH


def _trial_row(trial: DemoTrial, ports: dict[str, Port], today: date) -> list[object]:
    """The trial's row on the template's Trials sheet, in the template's column order."""
    start, end, _last = trial_dates(trial, today)
    declared = trial.declared
    factor, factor_source = trial.hydrogen_factor or (None, None)
    cells: dict[str, object] = {
        "Code": trial.code,
        "Name": f"{label(trial.technology).capitalize()} {label(trial.equipment_class, 2)} at {ports[trial.port].name}",
        "Port": trial.port,
        "Equipment class": trial.equipment_class.value,
        "Technology": trial.technology.value,
        "Units planned": trial.units,
        "Start date": start,
        "End date": end,
        "Status": trial.status.value,
        "Vendor": "Demo OEM",
        "Model": "Demo model",
        "Baseline kind": trial.baseline_kind.value,
        "Baseline rate": None if declared is None else declared.rate,
        "Baseline unit": None if declared is None else declared.unit,
        "Baseline source": None if declared is None else declared.source,
        "Rated power (kW)": trial.rated_power_kw,
        "Load factor": trial.load_factor,
        "Baseline engine": None if trial.baseline_engine is None else trial.baseline_engine.value,
        "Hydrogen pathway": None if trial.hydrogen_pathway is None else trial.hydrogen_pathway.value,
        "Hydrogen factor (kg CO2e/kg)": factor,
        "Hydrogen factor source": factor_source,
        "Visibility": trial.visibility.value,
        "Notes": "Demo data, made up by the zetrials demo command to show how the product works.",
    }
    return [cells.get(header) for header, _list in TRIAL_HEADERS]


def write_template_file(
    path: Path, trials: list[DemoTrial], ports: dict[str, Port], today: date, rng: random.Random
) -> None:
    """The template, filled in: every trial on Trials, and daily rows of the template-shaped trials."""
    workbook = build_template(list(ports.values()))
    trial_sheet, measurements = workbook["Trials"], workbook["Measurements"]
    for trial in DEMO_TRIALS:
        trial_sheet.append(_trial_row(trial, ports, today))
    for trial in trials:
        for d in _unit_days(trial, today, rng):
            measurements.append(
                [trial.code, d.unit, d.role, d.day, d.day, d.hours, d.energy_kwh, d.hydrogen_kg, d.diesel_l,
                 d.distance_km, d.moves, None, None, d.scheduled, d.downtime]
            )  # fmt: skip
    workbook.save(path)


def write_telematics_file(path: Path, trials: list[DemoTrial], today: date, rng: random.Random) -> None:
    """An OEM telematics export: a title block, then MWh, US gallons and miles, and the OEM's own CO2e avoided."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Fleet report"
    sheet.append(["Fleet telematics export — ZE drayage programme"])
    sheet.append([f"Generated {today:%Y-%m-%d} by the OEM portal"])
    sheet.append([])
    sheet.append(["Project code", "VIN", "Role", "Date", "Engine hours", "Energy (MWh)", "Hydrogen (kg)",
                  "Fuel used [gal]", "Distance (mi)", "CO2e avoided (kg)", "Driver notes"])  # fmt: skip
    for trial in trials:
        for d in _unit_days(trial, today, rng):
            sheet.append(
                [trial.code, d.unit, d.role, d.day, d.hours,
                 None if d.energy_kwh is None else round(d.energy_kwh / 1000, 5),
                 d.hydrogen_kg,
                 None if d.diesel_l is None else round(convert(d.diesel_l, "L", "gal"), 3),
                 None if d.distance_km is None else round(convert(d.distance_km, "km", "mi"), 2),
                 d.reported_avoided_kg,
                 None]
            )  # fmt: skip
    workbook.save(path)


def _european(value: float | None, decimals: int = 1) -> str:
    """Write a number the European way: 1.234,5."""
    if value is None:
        return ""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def write_european_csv(path: Path, trials: list[DemoTrial], today: date, rng: random.Random) -> None:
    """A European terminal's export: semicolons, decimal commas, day-first dates, Windows-1252."""
    with path.open("w", newline="", encoding="cp1252") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["Trial", "Unit", "Role", "Date", "Operating hours", "Energy (kWh)", "Diesel (L)",
                         "Moves", "Unplanned downtime", "Remarks"])  # fmt: skip
        for trial in trials:
            for d in _unit_days(trial, today, rng):
                writer.writerow(
                    [trial.code, d.unit, d.role, f"{d.day:%d.%m.%Y}", _european(d.hours), _european(d.energy_kwh),
                     _european(d.diesel_l), d.moves or "", _european(d.downtime),
                     "Kaj 3 — Skåne" if d.downtime else ""]
                )  # fmt: skip


def write_monthly_summary(path: Path, trials: list[DemoTrial], today: date, rng: random.Random) -> None:
    """A vessel operator's monthly summary: one row per vessel and month, a totals row per trial."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Monthly summary"
    sheet.append([f"Vessel operations — monthly summary to {today:%B %Y}"])
    sheet.append(["Trial", "Vessel", "Month", "Run hours", "Grid energy (MWh)", "Hydrogen (kg)", "Fuel used (L)",
                  "Distance (nmi)", "Unplanned downtime (h)"])  # fmt: skip
    for trial in trials:
        totals = [0.0, 0.0]
        months: dict[tuple[str, str], list[Day]] = {}
        for d in _unit_days(trial, today, rng):
            months.setdefault((d.unit, f"{d.day:%Y-%m}"), []).append(d)
        for (unit, month), days in sorted(months.items()):
            hours = sum(d.hours for d in days)
            energy = _total([d.energy_kwh for d in days])
            sheet.append(
                [trial.code, unit, month, round(hours, 1),
                 None if energy is None else round(energy / 1000, 3),
                 _total([d.hydrogen_kg for d in days]), _total([d.diesel_l for d in days]),
                 round(sum(d.distance_km or 0 for d in days) / KM_PER_NMI, 1), sum(d.downtime for d in days)]
            )  # fmt: skip
            totals[0] += hours
            totals[1] += energy or 0
        sheet.append(["Total", None, None, round(totals[0], 1), round(totals[1] / 1000, 3)])
    workbook.save(path)


def _total(values: list[float | None]) -> float | None:
    """Sum the figures present; None when none are."""
    present = [value for value in values if value is not None]
    return round(sum(present), 2) if present else None


def write_demo_files(directory: Path, ports: list[Port], today: date | None = None) -> list[Path]:
    """Write every demo file, dated back from today, in the order they must be imported (trials first)."""
    today = today or date.today()
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)  # noqa: S311 - reproducible demo figures, not secrets  # nosec B311
    by_shape: dict[str, list[DemoTrial]] = {}
    for trial in DEMO_TRIALS:
        by_shape.setdefault(trial.shape, []).append(trial)
    by_port = {port.locode: port for port in ports}
    files = [
        directory / "trials-and-cargo-handling.xlsx",
        directory / "oem-telematics-drayage.xlsx",
        directory / "terminal-export-europe.csv",
        directory / "vessels-monthly-summary.xlsx",
    ]
    write_template_file(files[0], by_shape["template"], by_port, today, rng)
    write_telematics_file(files[1], by_shape["telematics"], today, rng)
    write_european_csv(files[2], by_shape["european_csv"], today, rng)
    write_monthly_summary(files[3], by_shape["monthly"], today, rng)
    return files
