"""Demo data: realistic sample files in the shapes real sources send, imported through the real importer."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from openpyxl import Workbook

from importers.template import build_template
from trials.models import EquipmentClass, Port, Technology, TrialStatus, Visibility
from trials.units import KM_PER_NMI, convert

YEAR_START = date(2025, 1, 1)
DAYS = 365
SEED = 2024


@dataclass(frozen=True)
class Profile:
    """A day's work of one unit of a class: hours, and per hour electricity, diesel, moves and distance."""

    hours: float
    kwh_per_h: float
    diesel_l_per_h: float
    moves_per_h: float
    km_per_h: float


PROFILES: dict[EquipmentClass, Profile] = {
    EquipmentClass.drayage_truck: Profile(9, 52, 15, 0, 40),
    EquipmentClass.yard_tractor: Profile(16, 18, 3.2, 20, 12),
    EquipmentClass.rtg_crane: Profile(16, 110, 17, 24, 0),
    EquipmentClass.sts_crane: Profile(18, 160, 0, 28, 0),
    EquipmentClass.straddle_carrier: Profile(18, 34, 9, 15, 10),
    EquipmentClass.top_handler: Profile(14, 30, 10, 12, 5),
    EquipmentClass.reach_stacker: Profile(14, 28, 9, 12, 5),
    EquipmentClass.forklift: Profile(8, 8, 3, 10, 4),
    EquipmentClass.tug: Profile(6, 380, 115, 0, 15),
    EquipmentClass.harbor_craft: Profile(8, 140, 40, 0, 25),
    EquipmentClass.ferry: Profile(14, 560, 170, 0, 30),
}


@dataclass(frozen=True)
class DemoTrial:
    """One demo trial and how its data arrive."""

    code: str
    port: str
    equipment_class: EquipmentClass
    technology: Technology
    units: int
    shape: str  # template | telematics | european_csv | monthly
    baseline_units: int = 0
    visibility: Visibility = Visibility.partners
    rated_power_kw: float | None = None


T = Technology
E = EquipmentClass
DEMO_TRIALS: tuple[DemoTrial, ...] = (
    DemoTrial("LAX-DT-01", "USLAX", E.drayage_truck, T.battery_electric, 5, "telematics", 2),
    DemoTrial("LAX-DT-02", "USLAX", E.drayage_truck, T.hydrogen_fuel_cell, 3, "telematics"),
    DemoTrial("LAX-YT-01", "USLAX", E.yard_tractor, T.battery_electric, 6, "template", 2, rated_power_kw=130),
    DemoTrial("LAX-TH-01", "USLAX", E.top_handler, T.battery_electric, 2, "template", 0, Visibility.private, 250),
    DemoTrial("LGB-YT-01", "USLGB", E.yard_tractor, T.hydrogen_fuel_cell, 3, "template", 0, rated_power_kw=130),
    DemoTrial("LGB-DT-01", "USLGB", E.drayage_truck, T.battery_electric, 4, "telematics", 1),
    DemoTrial("LGB-RTG-01", "USLGB", E.rtg_crane, T.hybrid_diesel_electric, 2, "template", 1, rated_power_kw=500),
    DemoTrial("LGB-TUG-01", "USLGB", E.tug, T.battery_electric, 1, "monthly"),
    DemoTrial("NGO-STS-01", "JPNGO", E.sts_crane, T.grid_electric, 2, "template"),
    DemoTrial("NGO-FL-01", "JPNGO", E.forklift, T.hydrogen_fuel_cell, 4, "template", 0, Visibility.private),
    DemoTrial("NGO-YT-01", "JPNGO", E.yard_tractor, T.hydrogen_combustion, 2, "template"),
    DemoTrial("SHA-RTG-01", "CNSHA", E.rtg_crane, T.grid_electric, 4, "template", 0, rated_power_kw=500),
    DemoTrial("SHA-DT-01", "CNSHA", E.drayage_truck, T.battery_electric, 6, "telematics", 0, Visibility.private),
    DemoTrial("SHA-HC-01", "CNSHA", E.harbor_craft, T.battery_electric, 1, "monthly"),
    DemoTrial("SIN-SC-01", "SGSIN", E.straddle_carrier, T.battery_electric, 4, "template", 1),
    DemoTrial("SIN-TUG-01", "SGSIN", E.tug, T.hybrid_diesel_electric, 1, "monthly"),
    DemoTrial("SIN-YT-01", "SGSIN", E.yard_tractor, T.battery_electric, 5, "template", 0, Visibility.private, 130),
    DemoTrial("CPH-SC-01", "DKCPH", E.straddle_carrier, T.hybrid_diesel_electric, 3, "european_csv", 1),
    DemoTrial("CPH-FER-01", "DKCPH", E.ferry, T.battery_electric, 1, "monthly"),
    DemoTrial("MMA-RS-01", "SEMMA", E.reach_stacker, T.battery_electric, 2, "european_csv"),
    DemoTrial("MMA-TH-01", "SEMMA", E.top_handler, T.battery_electric, 2, "european_csv", 0, rated_power_kw=250),
    DemoTrial("TPP-YT-01", "IDTPP", E.yard_tractor, T.battery_electric, 4, "template", 1, Visibility.private, 130),
    DemoTrial("TPP-RTG-01", "IDTPP", E.rtg_crane, T.battery_electric, 2, "template", 0, rated_power_kw=500),
    DemoTrial("TPP-HC-01", "IDTPP", E.harbor_craft, T.hybrid_diesel_electric, 1, "monthly"),
    DemoTrial("NGO-TUG-01", "JPNGO", E.tug, T.hydrogen_fuel_cell, 1, "monthly", 0, Visibility.private),
)
#: Share of the diesel baseline each technology still burns (hybrids only), and energy use relative to profile.
HYBRID_DIESEL_SHARE = 0.45
HYDROGEN_KG_PER_KWH_OUT = 1 / 16.0  # a fuel cell drivetrain turns about 16 kWh of work per kg


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


def _unit_days(trial: DemoTrial, rng: random.Random) -> Iterator[Day]:
    """Simulate a year of daily figures for every unit of a trial, its baseline units included."""
    profile = PROFILES[trial.equipment_class]
    units = [(f"{trial.code}-U{n}", "trial") for n in range(1, trial.units + 1)]
    units += [(f"{trial.code}-D{n}", "baseline") for n in range(1, trial.baseline_units + 1)]
    for offset in range(DAYS):
        day = YEAR_START + timedelta(days=offset)
        for unit, role in units:
            if rng.random() < 0.04:  # a day with no data: telematics gaps happen
                continue
            down = rng.choice([0.0] * 12 + [1.0, 2.0, 4.0])
            hours = max(0.0, round(profile.hours * rng.uniform(0.75, 1.1) - down, 1))
            work = hours * profile.kwh_per_h * rng.uniform(0.9, 1.1)
            yield Day(
                day=day,
                unit=unit,
                role=role,
                hours=hours,
                scheduled=profile.hours + 2,
                downtime=down,
                moves=round(hours * profile.moves_per_h * rng.uniform(0.85, 1.1)) if profile.moves_per_h else None,
                distance_km=round(hours * profile.km_per_h * rng.uniform(0.9, 1.1), 1) if profile.km_per_h else None,
                **_energy(trial.technology if role == "trial" else Technology.diesel, work, hours, profile, rng),
            )


def _energy(
    technology: Technology, work_kwh: float, hours: float, profile: Profile, rng: random.Random
) -> dict[str, float | None]:
    """Split a day's work into the carriers the technology uses."""
    diesel = hours * profile.diesel_l_per_h * rng.uniform(0.92, 1.08)
    if technology == Technology.diesel:
        return {"energy_kwh": None, "hydrogen_kg": None, "diesel_l": round(diesel, 1)}
    if technology in (Technology.hydrogen_fuel_cell, Technology.hydrogen_combustion):
        per_kwh = HYDROGEN_KG_PER_KWH_OUT * (1.4 if technology == Technology.hydrogen_combustion else 1.0)
        return {"energy_kwh": None, "hydrogen_kg": round(work_kwh * per_kwh, 2), "diesel_l": None}
    if technology == Technology.hybrid_diesel_electric:
        return {
            "energy_kwh": round(work_kwh * 0.3, 1),
            "hydrogen_kg": None,
            "diesel_l": round(diesel * HYBRID_DIESEL_SHARE, 1),
        }
    return {"energy_kwh": round(work_kwh, 1), "hydrogen_kg": None, "diesel_l": None}


def _trial_row(trial: DemoTrial, ports: dict[str, Port]) -> list[object]:
    """The trial's row on the template's Trials sheet."""
    profile = PROFILES[trial.equipment_class]
    per_km = trial.equipment_class == EquipmentClass.drayage_truck
    rate = round(profile.diesel_l_per_h / profile.km_per_h, 3) if per_km else profile.diesel_l_per_h
    status = TrialStatus.completed if trial.shape in ("monthly", "european_csv") else TrialStatus.active
    return [
        trial.code,
        f"{trial.technology.value.replace('_', ' ').capitalize()} {trial.equipment_class.value.replace('_', ' ')}s"
        f" at {ports[trial.port].name}",
        trial.port,
        None,
        trial.equipment_class.value,
        trial.technology.value,
        trial.units,
        YEAR_START,
        YEAR_START + timedelta(days=DAYS - 1) if status == TrialStatus.completed else None,
        status.value,
        "Demo OEM",
        "Demo model",
        None,
        rate,
        "L/km" if per_km else "L/h",
        "terminal fuel records 2024 (demo)",
        trial.rated_power_kw,
        None,
        None,
        trial.visibility.value,
        "Demo data generated by `zetrials demo`.",
    ]


def write_template_file(path: Path, trials: list[DemoTrial], ports: dict[str, Port], rng: random.Random) -> None:
    """The template, filled in: every trial on Trials, and daily rows of the template-shaped trials."""
    workbook = build_template(list(ports.values()))
    trial_sheet, measurements = workbook["Trials"], workbook["Measurements"]
    for trial in DEMO_TRIALS:
        trial_sheet.append(_trial_row(trial, ports))
    for trial in trials:
        for d in _unit_days(trial, rng):
            measurements.append(
                [trial.code, d.unit, d.role, d.day, d.day, d.hours, d.energy_kwh, d.hydrogen_kg, d.diesel_l,
                 d.distance_km, d.moves, None, None, d.scheduled, d.downtime]
            )  # fmt: skip
    workbook.save(path)


def write_telematics_file(path: Path, trials: list[DemoTrial], rng: random.Random) -> None:
    """An OEM telematics export: a title block, then MWh, US gallons and miles."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Fleet report"
    sheet.append(["Fleet telematics export — ZE drayage programme"])
    sheet.append([f"Generated {YEAR_START + timedelta(days=DAYS):%Y-%m-%d} by the OEM portal"])
    sheet.append([])
    sheet.append(["Project code", "VIN", "Role", "Date", "Engine hours", "Energy (MWh)", "Hydrogen (kg)",
                  "Fuel used [gal]", "Distance (mi)", "Driver notes"])  # fmt: skip
    for trial in trials:
        for d in _unit_days(trial, rng):
            sheet.append(
                [trial.code, d.unit, d.role, d.day, d.hours,
                 None if d.energy_kwh is None else round(d.energy_kwh / 1000, 5),
                 d.hydrogen_kg,
                 None if d.diesel_l is None else round(convert(d.diesel_l, "L", "gal"), 3),
                 None if d.distance_km is None else round(convert(d.distance_km, "km", "mi"), 2),
                 None]
            )  # fmt: skip
    workbook.save(path)


def _european(value: float | None, decimals: int = 1) -> str:
    """Write a number the European way: 1.234,5."""
    if value is None:
        return ""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def write_european_csv(path: Path, trials: list[DemoTrial], rng: random.Random) -> None:
    """A European terminal's export: semicolons, decimal commas, day-first dates, Windows-1252."""
    with path.open("w", newline="", encoding="cp1252") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["Trial", "Unit", "Role", "Date", "Operating hours", "Energy (kWh)", "Diesel (L)",
                         "Moves", "Unplanned downtime", "Remarks"])  # fmt: skip
        for trial in trials:
            for d in _unit_days(trial, rng):
                writer.writerow(
                    [trial.code, d.unit, d.role, f"{d.day:%d.%m.%Y}", _european(d.hours), _european(d.energy_kwh),
                     _european(d.diesel_l), d.moves or "", _european(d.downtime),
                     "Kaj 3 — Skåne" if d.downtime else ""]
                )  # fmt: skip


def write_monthly_summary(path: Path, trials: list[DemoTrial], rng: random.Random) -> None:
    """A vessel operator's monthly summary: one row per vessel and month, a totals row per trial."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Monthly summary"
    sheet.append(["Vessel operations — monthly summary 2025"])
    sheet.append(["Trial", "Vessel", "Month", "Run hours", "Grid energy (MWh)", "Hydrogen (kg)", "Fuel used (L)",
                  "Distance (nmi)", "Unplanned downtime (h)"])  # fmt: skip
    for trial in trials:
        totals = [0.0, 0.0]
        months: dict[tuple[str, int], list[Day]] = {}
        for d in _unit_days(trial, rng):
            months.setdefault((d.unit, d.day.month), []).append(d)
        for (unit, month), days in sorted(months.items()):
            hours = sum(d.hours for d in days)
            energy = _total([d.energy_kwh for d in days])
            sheet.append(
                [trial.code, unit, f"2025-{month:02d}", round(hours, 1),
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


def write_demo_files(directory: Path, ports: list[Port]) -> list[Path]:
    """Write every demo file, in the order they must be imported (trials first)."""
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
    write_template_file(files[0], by_shape["template"], by_port, rng)
    write_telematics_file(files[1], by_shape["telematics"], rng)
    write_european_csv(files[2], by_shape["european_csv"], rng)
    write_monthly_summary(files[3], by_shape["monthly"], rng)
    return files
