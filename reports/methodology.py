"""How each metric is made, in words, for the report's Methodology sheet (METHODOLOGY.md §3, with its constants)."""

from __future__ import annotations

from trials.metrics import NO_COMBUSTION, REPORTED_GAP_FLAG_PCT
from trials.reference import DIESEL_TTW_NOTE
from trials.units import DIESEL_KWH_PER_L, HYDROGEN_KWH_PER_KG

_NO_COMBUSTION = ", ".join(sorted(technology.value for technology in NO_COMBUSTION))
_POLLUTANT = (
    "baseline {name} (P × LF × A × EF: rated power, load factor, operating hours, g/kWh; EPA-420-B-22-011) − trial"
    " tailpipe {name} (0 without combustion; hybrids scale by diesel_l ÷ baseline_diesel_l); estimated"
)

#: Each canonical metric key: a label for people, and its formula.
METRICS: dict[str, tuple[str, str]] = {
    "operating_hours": ("Operating hours", "Σ operating_hours of the trial units"),
    "energy_kwh": ("Electricity", "Σ energy_kwh of the trial units, at the meter or charger"),
    "hydrogen_kg": ("Hydrogen", "Σ hydrogen_kg of the trial units"),
    "diesel_l": ("Diesel", "Σ diesel_l of the trial units"),
    "final_energy_kwh": (
        "Final energy",
        f"energy_kwh + hydrogen_kg × {HYDROGEN_KWH_PER_KG} + diesel_l × {DIESEL_KWH_PER_L}, of the carriers present",
    ),
    "kwh_per_hour": ("Energy per operating hour", "final_energy_kwh ÷ Σ operating_hours"),
    "kwh_per_move": ("Energy per move", "final_energy_kwh ÷ Σ moves"),
    "kwh_per_teu": ("Energy per TEU", "final_energy_kwh ÷ Σ teu"),
    "kwh_per_km": ("Energy per km", "final_energy_kwh ÷ Σ distance_km"),
    "baseline_diesel_l": (
        "Baseline diesel",
        "baseline rate (L per activity unit) × the trial's activity in that unit",
    ),
    "diesel_displaced_l": ("Diesel displaced", "baseline_diesel_l − diesel_l"),
    "baseline_energy_kwh": (
        "Baseline electricity",
        "for an electric baseline (the conventional machine is already electric): baseline rate (kWh per activity"
        " unit) × the trial's paired activity",
    ),
    "energy_saved_kwh": ("Electricity saved", "baseline_energy_kwh − final_energy_kwh"),
    "efficiency_ratio": ("Efficiency ratio", f"(baseline_diesel_l × {DIESEL_KWH_PER_L}) ÷ final_energy_kwh"),
    "ghg_ttw_kg": ("GHG tank-to-wheel", f"diesel_l × EF_ttw(diesel); exactly 0 for {_NO_COMBUSTION}"),
    "ghg_wtw_kg": (
        "GHG well-to-wheel",
        "energy_kwh × EF(grid, port, year) + hydrogen_kg × EF(hydrogen pathway) + diesel_l × EF_wtw(diesel)",
    ),
    "baseline_ghg_ttw_kg": ("Baseline GHG tank-to-wheel", "baseline_diesel_l × EF_ttw(diesel)"),
    "baseline_ghg_wtw_kg": ("Baseline GHG well-to-wheel", "baseline_diesel_l × EF_wtw(diesel)"),
    "ghg_ttw_avoided_kg": ("GHG tank-to-wheel avoided", "baseline_ghg_ttw_kg − ghg_ttw_kg"),
    "ghg_wtw_avoided_kg": ("GHG well-to-wheel avoided", "baseline_ghg_wtw_kg − ghg_wtw_kg"),
    "ghg_wtw_reduction_pct": ("GHG well-to-wheel reduction", "100 × ghg_wtw_avoided_kg ÷ baseline_ghg_wtw_kg"),
    "ghg_wtw_avoided_per_activity_kg": (
        "GHG well-to-wheel avoided per unit of work",
        "ghg_wtw_avoided_kg ÷ the paired primary activity: CO2e avoided per hour, move or km",
    ),
    "unit_years": ("Unit-years", "unit-days with trial data ÷ 365.25"),
    "ghg_wtw_avoided_per_unit_year_kg": (
        "GHG well-to-wheel avoided per unit-year",
        "ghg_wtw_avoided_kg ÷ unit_years: what one machine avoids in a year of service",
    ),
    "nox_avoided_kg": ("NOx avoided", _POLLUTANT.format(name="NOx")),
    "pm25_avoided_kg": ("PM2.5 avoided", _POLLUTANT.format(name="PM2.5")),
    "availability_pct": ("Availability", "100 × (scheduled_hours − downtime_hours) ÷ scheduled_hours"),
    "reported_ghg_avoided_kg": (
        "Reported GHG avoided",
        "Σ reported_ghg_avoided_kg as the source stated it; shown beside the computed figure, never an input",
    ),
    "reported_vs_computed_pct": (
        "Reported against computed",
        "100 × (reported_ghg_avoided_kg − ghg_wtw_avoided_kg) ÷ ghg_wtw_avoided_kg;"
        f" flagged beyond ±{REPORTED_GAP_FLAG_PCT:g} %",
    ),
    "data_coverage_pct": (
        "Data coverage",
        "100 × unit-days with data ÷ (planned units × days from the start to the last data date, capped by the end"
        " and the as-of day); a fleet-level row covers every planned unit that day",
    ),
    "paired_share_pct": (
        "Paired share",
        "100 × primary activity on rows that also carry an energy figure ÷ all primary activity",
    ),
    "days_since_data": ("Days since data", "days from the last day with trial data to the as-of day (reporting lag)"),
}

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
