"""The blank import workbook: the two sheets with units in their headers, drop-downs, and instructions."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from trials.models import (
    BaselineKind,
    EngineStandard,
    EquipmentClass,
    HydrogenPathway,
    Port,
    Technology,
    TrialStatus,
    UnitRole,
    Visibility,
)

#: Trials sheet headers, in order, with the drop-down list each one takes (if any).
TRIAL_HEADERS: tuple[tuple[str, str | None], ...] = (
    ("Code", None),
    ("Name", None),
    ("Port", "ports"),
    ("Terminal", None),
    ("Equipment class", "classes"),
    ("Technology", "technologies"),
    ("Units planned", None),
    ("Start date", None),
    ("End date", None),
    ("Status", "statuses"),
    ("Vendor", None),
    ("Model", None),
    ("Funding", None),
    ("Baseline kind", "baseline_kinds"),
    ("Baseline rate", None),
    ("Baseline unit", None),
    ("Baseline source", None),
    ("Rated power (kW)", None),
    ("Load factor", None),
    ("Market factor (g CO2e/kWh)", None),
    ("Baseline engine", "engines"),
    ("Hydrogen pathway", "hydrogen_pathways"),
    ("Hydrogen factor (kg CO2e/kg)", None),
    ("Hydrogen factor source", None),
    ("Visibility", "visibilities"),
    ("Notes", None),
)
#: Measurements sheet headers, in order, with the drop-down list each one takes (if any).
MEASUREMENT_HEADERS: tuple[tuple[str, str | None], ...] = (
    ("Trial", None),
    ("Unit", None),
    ("Role", "roles"),
    ("Start date", None),
    ("End date", None),
    ("Operating hours (h)", None),
    ("Energy (kWh)", None),
    ("Hydrogen (kg)", None),
    ("Diesel (L)", None),
    ("Distance (km)", None),
    ("Moves", None),
    ("TEU", None),
    ("Cargo (t)", None),
    ("Scheduled hours (h)", None),
    ("Unplanned downtime (h)", None),
    ("Charging sessions", None),
    ("Reported CO2e (kg)", None),
    ("Reported CO2e avoided (kg)", None),
    ("Reported NOx avoided (kg)", None),
    ("Notes", None),
)
INSTRUCTIONS = (
    "How to fill in this workbook",
    "",
    "Trials: one row per trial. Code is your own short identifier (e.g. LGB-YT-01) and must be unique.",
    "Port, equipment class, technology, status and visibility are chosen from drop-down lists.",
    "Baseline kind says what the trial is compared against: 'diesel' machines (the default), 'electric' ones (e.g. "
    "STS cranes, shore-powered craft), or 'none' (no comparison: no avoided figures, and no baseline rate).",
    "Baseline rate is the diesel (or, for an electric baseline, the kWh) the replaced machines used per unit of "
    "work; Baseline unit says which, e.g. L/h, gal/h, L/km, gal/mi, L/move, kWh/move. It must be more than 0 and "
    "per hour, km, mile, move or TEU: a rate per year, month or day depends on the hours worked and is refused. "
    "Baseline source says where it comes from (e.g. 'terminal fuel records 2023').",
    "Baseline engine is the emission standard of the diesel engine replaced, for NOx and PM2.5; leave it empty for "
    "the class default (nonroad_tier4f for cargo handling, onroad_2010 for trucks, marine_tier3 for vessels).",
    "Hydrogen pathway says how the hydrogen was made: 'grey' (the default, 11.0 kg CO2e/kg), 'electrolytic_grid' "
    "(55 kWh/kg of the port's grid), or 'declared': then give Hydrogen factor (kg CO2e per kg of hydrogen, more "
    "than 0) and Hydrogen factor source (e.g. the supplier's certificate). A factor needs the pathway 'declared'.",
    "Visibility 'partners' shares the trial with partner ports; 'private' keeps it to your port.",
    "",
    "Measurements: one row per unit and period. Start date and End date are calendar days, both included: a day "
    "is written with the same date twice. A 'Date' or 'Month' column (e.g. 2024-03) may replace them.",
    "Unit is the machine's own id (serial, VIN, hull number); leave it empty for figures of the whole fleet.",
    "Role is 'trial' for the zero-emission units and 'baseline' for diesel machines measured alongside.",
    "Units are in the headers; other units work too if you change the header, e.g. 'Energy (MWh)', "
    "'Diesel [gal]', 'Distance (mi)'.",
    "Leave a cell empty when a figure is unknown: it is shown as n/a, never as 0.",
    "",
    "Importing: zetrials import FILE.xlsx, or upload it in the web app. Every row is checked first; if any is "
    "wrong, nothing is written and each problem names its sheet, row and column.",
)
_HEADER_FILL = PatternFill("solid", fgColor="0B3D5C")
_VALIDATED_ROWS = 5000


def _lists(ports: list[Port]) -> dict[str, list[str]]:
    """The allowed values of each drop-down."""
    return {
        "ports": [port.locode for port in ports],
        "classes": [member.value for member in EquipmentClass],
        "technologies": [member.value for member in Technology],
        "statuses": [member.value for member in TrialStatus],
        "visibilities": [member.value for member in Visibility],
        "roles": [member.value for member in UnitRole],
        "baseline_kinds": [member.value for member in BaselineKind],
        "engines": [member.value for member in EngineStandard],
        "hydrogen_pathways": [member.value for member in HydrogenPathway],
    }


def _write_lists(sheet: Worksheet, lists: dict[str, list[str]]) -> dict[str, str]:
    """Write each list in a column of the hidden Lists sheet; give the range formula of each."""
    ranges: dict[str, str] = {}
    for column, (name, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(column)
        sheet.cell(row=1, column=column, value=name)
        for row, value in enumerate(values, start=2):
            sheet.cell(row=row, column=column, value=value)
        ranges[name] = f"{quote_sheetname(sheet.title)}!${letter}$2:${letter}${len(values) + 1}"
    return ranges


def _write_table(sheet: Worksheet, headers: tuple[tuple[str, str | None], ...], ranges: dict[str, str]) -> None:
    """Write styled headers, freeze them, and attach each column's drop-down."""
    for column, (header, list_name) in enumerate(headers, start=1):
        cell = sheet.cell(row=1, column=column, value=header)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(column)].width = max(12, len(header) + 2)
        if list_name is not None:
            validation = DataValidation(
                type="list",
                formula1=f"={ranges[list_name]}",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="Not in the list",
                error=f"Choose one of the allowed values for {header}.",
            )
            letter = get_column_letter(column)
            validation.add(f"{letter}2:{letter}{_VALIDATED_ROWS}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"


def build_template(ports: list[Port]) -> Workbook:
    """Build the blank import workbook for these ports."""
    workbook = Workbook()
    instructions = workbook.active
    assert instructions is not None
    instructions.title = "Instructions"
    for row, line in enumerate(INSTRUCTIONS, start=1):
        instructions.cell(row=row, column=1, value=line).font = Font(bold=row == 1, size=14 if row == 1 else 11)
    instructions.column_dimensions["A"].width = 120
    lists = workbook.create_sheet("Lists")
    ranges = _write_lists(lists, _lists(ports))
    _write_table(workbook.create_sheet("Trials", 1), TRIAL_HEADERS, ranges)
    _write_table(workbook.create_sheet("Measurements", 2), MEASUREMENT_HEADERS, ranges)
    lists.sheet_state = "hidden"
    return workbook


def write_template(path: Path, ports: list[Port]) -> Path:
    """Save the blank import workbook."""
    build_template(ports).save(path)
    return path
