"""How each metric is made, in words, for the report's Methodology sheet (METHODOLOGY.md §3, with its constants)."""

from __future__ import annotations

from reports.blocks import Cell
from reports.data import ReportData
from trials.reference import DIESEL_TTW_NOTE
from trials.registry import METRICS as REGISTRY
from trials.registry import factor_label, label, scope_label
from trials.units import DIESEL_KWH_PER_L, HYDROGEN_KWH_PER_KG

#: The version of METHODOLOGY.md whose formulas and rules the figures follow.
METHODOLOGY_VERSION = "v2"

#: Each canonical metric key: a label for people, and how it is made (from the one registry, trials/registry.py).
METRICS: dict[str, tuple[str, str]] = {key: (metric.label, metric.description) for key, metric in REGISTRY.items()}

BASELINE_METHODS = (
    "measured: the diesel (or, for an electric baseline, the electricity) of the trial's baseline units divided by"
    " their work over the same period (preferred); on under 30 unit-days it is thin, and a declared rate is used if"
    " there is one",
    "declared: the rate declared on the trial, in litres, US gallons or kWh per unit of work, with its source",
    "none: nothing to compare with, so no avoided figure is claimed",
)

NOTES = (
    "Greenhouse gases follow the GLEC Framework / ISO 14083; local air pollutants the US EPA Port Emissions"
    " Inventory Guidance (EPA-420-B-22-011).",
    "Sums are over the trial's own units; baseline units only give the measured baseline rate. A sum skips missing"
    " values, and a sum of no values at all is n/a.",
    "An empty cell is n/a: its inputs are missing. A figure is never shown as 0 for want of data.",
    f"Tank-to-wheel greenhouse gases: {DIESEL_TTW_NOTE}",
    "Grid electricity is location-based: each year's energy with that year's factor for the port's grid region.",
    "Monthly rows count a measurement in the month its period starts; a month's coverage counts its own days.",
    f"Energy content (lower heating value): diesel {DIESEL_KWH_PER_L} kWh/L, hydrogen {HYDROGEN_KWH_PER_KG} kWh/kg.",
)

#: Factors that hold for one place or class: shown only for the places and classes of the report's trials.
_PER_PLACE = {"grid", "load_factor"}


def factor_rows(data: ReportData) -> list[list[Cell]]:
    """The factor set's rows these trials' figures can use, in words: factor, value, what it applies to, source."""
    regions = {report.port.grid_region for report in data.trials}
    classes = {report.trial.equipment_class.value for report in data.trials}
    rows: list[list[Cell]] = []
    for row in data.factor_rows:
        if row.key in _PER_PLACE and row.region not in regions | classes:
            continue
        place = label(row.region) if row.region else "every trial"
        year = f", {row.year}" if row.year else ""
        scope = scope_label(row.scope)
        unit = f"{row.unit} ({scope})" if scope and row.unit else row.unit or scope
        rows.append([factor_label(row.key), row.value, place + year, row.source, unit])
    return rows
