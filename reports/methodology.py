"""How each metric is made, in words, for the report's Methodology sheet (METHODOLOGY.md §3, with its constants)."""

from __future__ import annotations

from trials.reference import DIESEL_TTW_NOTE
from trials.registry import METRICS as REGISTRY
from trials.units import DIESEL_KWH_PER_L, HYDROGEN_KWH_PER_KG

#: Each canonical metric key: a label for people, and how it is made (from the one registry, trials/registry.py).
METRICS: dict[str, tuple[str, str]] = {key: (metric.label, metric.description) for key, metric in REGISTRY.items()}

BASELINE_METHODS = (
    "measured: Σ diesel_l ÷ Σ activity of the trial's baseline units over the same period (preferred)",
    "declared: the rate declared on the trial, in litres or US gallons per activity unit, with its source",
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
