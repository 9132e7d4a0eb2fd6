"""The one catalogue of what people read for each metric and stored value: labels, units, descriptions, formats.

Every page, grid, chart, report header and the OpenAPI document take their words from here, so a key such as
`kwh_per_hour` or an enum value such as `battery_electric` never reaches a person (keys stay in the API and in one
column of the report's Methodology sheet, for machines).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from trials.metrics import METRIC_UNITS, NO_COMBUSTION, REPORTED_GAP_FLAG_PCT
from trials.models import (
    BaselineKind,
    EngineStandard,
    EquipmentClass,
    HydrogenPathway,
    Role,
    Technology,
    TrialStatus,
    UnitRole,
    Visibility,
)
from trials.units import DIESEL_KWH_PER_L, HYDROGEN_KWH_PER_KG

#: How each stored enum value is read, singular and plural.
_LABELS: dict[enum.Enum, tuple[str, str]] = {
    EquipmentClass.drayage_truck: ("drayage truck", "drayage trucks"),
    EquipmentClass.yard_tractor: ("yard tractor", "yard tractors"),
    EquipmentClass.rtg_crane: ("RTG crane", "RTG cranes"),
    EquipmentClass.sts_crane: ("STS crane", "STS cranes"),
    EquipmentClass.straddle_carrier: ("straddle carrier", "straddle carriers"),
    EquipmentClass.top_handler: ("top handler", "top handlers"),
    EquipmentClass.reach_stacker: ("reach stacker", "reach stackers"),
    EquipmentClass.forklift: ("forklift", "forklifts"),
    EquipmentClass.tug: ("tug", "tugs"),
    EquipmentClass.harbor_craft: ("harbour craft", "harbour craft"),
    EquipmentClass.ferry: ("ferry", "ferries"),
    Technology.battery_electric: ("battery electric", "battery electric"),
    Technology.hydrogen_fuel_cell: ("hydrogen fuel cell", "hydrogen fuel cell"),
    Technology.hydrogen_combustion: ("hydrogen combustion", "hydrogen combustion"),
    Technology.hybrid_diesel_electric: ("diesel-electric hybrid", "diesel-electric hybrids"),
    Technology.grid_electric: ("grid electric (cabled)", "grid electric (cabled)"),
    Technology.diesel: ("diesel", "diesel"),
    TrialStatus.planned: ("planned", "planned"),
    TrialStatus.active: ("active", "active"),
    TrialStatus.completed: ("completed", "completed"),
    TrialStatus.cancelled: ("cancelled", "cancelled"),
    Visibility.private: ("private to its port", "private to their ports"),
    Visibility.partners: ("shared with partner ports", "shared with partner ports"),
    UnitRole.trial: ("trial unit", "trial units"),
    UnitRole.baseline: ("baseline unit", "baseline units"),
    BaselineKind.diesel: ("a diesel machine", "diesel machines"),
    BaselineKind.electric: ("an electric machine", "electric machines"),
    BaselineKind.none: ("no baseline", "no baseline"),
    HydrogenPathway.grey: ("grey (from natural gas)", "grey (from natural gas)"),
    HydrogenPathway.electrolytic_grid: ("electrolysis on the grid", "electrolysis on the grid"),
    HydrogenPathway.declared: ("declared by the trial", "declared by the trial"),
    EngineStandard.nonroad_tier3: ("US nonroad Tier 3", "US nonroad Tier 3"),
    EngineStandard.nonroad_tier4f: ("US nonroad Tier 4 Final", "US nonroad Tier 4 Final"),
    EngineStandard.marine_tier3: ("US marine Tier 3", "US marine Tier 3"),
    EngineStandard.marine_tier4: ("US marine Tier 4", "US marine Tier 4"),
    EngineStandard.onroad_2010: ("US on-road 2010", "US on-road 2010"),
    Role.admin: ("admin", "admins"),
    Role.editor: ("editor", "editors"),
    Role.executive: ("executive", "executives"),
    Role.partner: ("partner", "partners"),
}
#: Stored values by their text, for values read back as plain strings (a Dash table, a query string).
_BY_TEXT: dict[str, tuple[str, str]] = {str(member.value): words for member, words in _LABELS.items()}


def label(value: enum.Enum | str, count: int = 1) -> str:
    """A stored value as people read it, in the plural for any count but 1; an unknown text with its _ as spaces."""
    words = _LABELS.get(value) if isinstance(value, enum.Enum) else _BY_TEXT.get(value)
    if words is None:
        return str(value.value if isinstance(value, enum.Enum) else value).replace("_", " ")
    return words[0] if count == 1 else words[1]


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """A count with its noun, in the plural but for 1: '1 trial', '3 trials'."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


_NO_COMBUSTION = ", ".join(sorted(label(technology) for technology in NO_COMBUSTION))
_POLLUTANT = (
    "baseline {name} (P × LF × A × EF: rated power, load factor, operating hours, g/kWh; EPA-420-B-22-011) − trial"
    " tailpipe {name} (0 without combustion; hybrids scale by diesel_l ÷ baseline_diesel_l); estimated"
)

#: Each canonical metric key: a label for people, and how it is made.
_WORDS: dict[str, tuple[str, str]] = {
    "operating_hours": ("Operating hours", "Σ operating_hours of the trial units"),
    "energy_kwh": ("Electricity", "Σ energy_kwh of the trial units, at the meter or charger"),
    "hydrogen_kg": ("Hydrogen", "Σ hydrogen_kg of the trial units"),
    "diesel_l": ("Diesel", "Σ diesel_l of the trial units"),
    "final_energy_kwh": (
        "Final energy",
        f"energy_kwh + hydrogen_kg × {HYDROGEN_KWH_PER_KG} + diesel_l × {DIESEL_KWH_PER_L}, of the carriers present",
    ),
    "kwh_per_hour": (
        "Energy per operating hour",
        "final_energy_kwh ÷ Σ operating_hours, on paired rows (those carrying both)",
    ),
    "kwh_per_move": ("Energy per move", "final_energy_kwh ÷ Σ moves, on paired rows"),
    "kwh_per_teu": ("Energy per TEU", "final_energy_kwh ÷ Σ teu, on paired rows"),
    "kwh_per_km": ("Energy per km", "final_energy_kwh ÷ Σ distance_km, on paired rows"),
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


#: Decimals a metric is shown with: sums and emissions whole, intensities and percentages to one or two places.
_DECIMALS: dict[str, int] = {"efficiency_ratio": 2, "unit_years": 2, "ghg_wtw_avoided_per_activity_kg": 2}
_DECIMALS.update({key: 2 for key in METRIC_UNITS if key.startswith("kwh_per_")})
_DECIMALS.update({key: 1 for key in METRIC_UNITS if key.endswith("_pct")})
#: Whether more is better, for rankings and colour: None where neither is (a sum of use, a lag is worse when high).
_HIGHER_IS_BETTER: dict[str, bool | None] = dict.fromkeys(METRIC_UNITS)
_HIGHER_IS_BETTER.update(
    {key: False for key in METRIC_UNITS if key.startswith("kwh_per_") or key == "days_since_data"}
    | {key: True for key in METRIC_UNITS if "avoided" in key or "saved" in key or "displaced" in key}
    | {
        "efficiency_ratio": True,
        "ghg_wtw_reduction_pct": True,
        "availability_pct": True,
        "data_coverage_pct": True,
        "paired_share_pct": True,
    }
)


@dataclass(frozen=True)
class Metric:
    """What a person reads about one metric: its label, unit, how it is made, how it is written, which way is good."""

    key: str
    label: str
    unit: str
    description: str
    decimals: int
    higher_is_better: bool | None

    def format(self, value: float | None) -> str:
        """Write a value as the pages and reports do: thousands separated, n/a when missing."""
        return "n/a" if value is None else f"{value:,.{self.decimals}f}"

    @property
    def header(self) -> str:
        """The label with its unit, for a column or an axis."""
        return f"{self.label} ({self.unit})" if self.unit else self.label


#: Every METHODOLOGY.md §3 metric, in its order.
METRICS: dict[str, Metric] = {
    key: Metric(key, _WORDS[key][0], unit, _WORDS[key][1], _DECIMALS.get(key, 0), _HIGHER_IS_BETTER[key])
    for key, unit in METRIC_UNITS.items()
}
