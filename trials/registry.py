"""The one catalogue of what people read for each metric and stored value: labels, units, descriptions, formats.

Every page, grid, chart, report header and the OpenAPI document take their words from here, so a key such as
`kwh_per_hour` or an enum value such as `battery_electric` never reaches a person (keys stay in the API and in one
column of the report's Methodology sheet, for machines).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from trials.baselines import Activity
from trials.checks import Level
from trials.metrics import METRIC_UNITS, NO_COMBUSTION, PRIMARY_ACTIVITY, REPORTED_GAP_FLAG_PCT
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
    Activity.hour: ("operating hour", "operating hours"),
    Activity.move: ("move", "moves"),
    Activity.teu: ("TEU", "TEU"),
    Activity.km: ("km", "km"),
    Level.exclude: ("left out of totals", "left out of totals"),
    Level.warn: ("warning", "warnings"),
    Level.info: ("note", "notes"),
}
#: Stored values by their text, for values read back as plain strings (a Dash table, a query string).
_BY_TEXT: dict[str, tuple[str, str]] = {str(member.value): words for member, words in _LABELS.items()}


def label(value: enum.Enum | str, count: int = 1, *, capital: bool = False) -> str:
    """A stored value as people read it, in the plural for any count but 1, its first letter a capital if asked
    ('RTG cranes', never 'Rtg cranes'); an unknown text with its _ as spaces."""
    words = _LABELS.get(value) if isinstance(value, enum.Enum) else _BY_TEXT.get(value)
    if words is None:
        said = str(value.value if isinstance(value, enum.Enum) else value).replace("_", " ")
    else:
        said = words[0] if count == 1 else words[1]
    return said[:1].upper() + said[1:] if capital else said


def noun(count: int, singular: str, plural: str | None = None) -> str:
    """The noun for a count, in the plural but for 1: 'trial' for 1, 'trials' for 3 (for a count shown apart)."""
    return singular if count == 1 else plural or singular + "s"


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """A count with its noun, in the plural but for 1: '1 trial', '3 trials'."""
    return f"{count:,} {noun(count, singular, plural)}"


#: What each kind of emission factor in a factor set is, and each scope it covers.
_FACTORS = {
    "diesel_ttw": "Diesel, tank-to-wheel",
    "diesel_wtt": "Diesel, well-to-tank",
    "diesel_wtw": "Diesel, well-to-wheel",
    "hydrogen": "Hydrogen",
    "grid": "Grid electricity",
    "load_factor": "Load factor",
    "electrolysis": "Electricity per kg of hydrogen by electrolysis",
    "nox": "NOx",
    "pm25": "PM2.5",
}
_SCOPES = {"TTW": "tank-to-wheel", "WTT": "well-to-tank", "WTW": "well-to-wheel"}


def factor_label(key: str) -> str:
    """A factor set's row key as people read it."""
    return _FACTORS.get(key, key.replace("_", " "))


def scope_label(scope: str | None) -> str:
    """A factor's emission scope in words ('well-to-wheel'); empty when it has none."""
    return _SCOPES.get(scope or "", scope or "")


_NO_COMBUSTION = ", ".join(sorted(label(technology) for technology in NO_COMBUSTION))
_POLLUTANT = (
    "baseline {name} (rated power × load factor × operating hours × the engine's g/kWh factor; EPA-420-B-22-011)"
    " − trial"
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
    "ghg_ttw_kg": ("GHG tank-to-wheel", f"diesel_l × the diesel tank-to-wheel factor; exactly 0 for {_NO_COMBUSTION}"),
    "ghg_wtw_kg": (
        "GHG well-to-wheel",
        "energy_kwh × the grid factor of the port's region and year + hydrogen_kg × the factor of its hydrogen pathway"
        " + diesel_l × the diesel well-to-wheel factor",
    ),
    "baseline_ghg_ttw_kg": ("Baseline GHG tank-to-wheel", "baseline_diesel_l × the diesel tank-to-wheel factor"),
    "baseline_ghg_wtw_kg": ("Baseline GHG well-to-wheel", "baseline_diesel_l × the diesel well-to-wheel factor"),
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


#: What each metric tells a reader, in one plain sentence (the description says how it is made).
_SUMMARIES: dict[str, str] = {
    "operating_hours": "How long the trial machines worked.",
    "energy_kwh": "Electricity the trial machines drew, at the meter or charger.",
    "hydrogen_kg": "Hydrogen the trial machines used.",
    "diesel_l": "Diesel the trial machines still burned (hybrids, auxiliary engines).",
    "final_energy_kwh": "All the energy the trial machines used (electricity, hydrogen and diesel), in kWh.",
    "kwh_per_hour": "Energy used for each operating hour; lower is more efficient.",
    "kwh_per_move": "Energy used for each container move; lower is more efficient.",
    "kwh_per_teu": "Energy used for each TEU handled; lower is more efficient.",
    "kwh_per_km": "Energy used for each km travelled; lower is more efficient.",
    "baseline_diesel_l": "Diesel a conventional machine would have burned for the same work.",
    "diesel_displaced_l": "Diesel not burned because the trial machines did the work.",
    "baseline_energy_kwh": "Electricity the existing electric machine would have used for the same work.",
    "energy_saved_kwh": "Electricity saved against the existing electric machine.",
    "efficiency_ratio": "How many times less energy the trial machine needs than a diesel one for the same work.",
    "ghg_ttw_kg": "Greenhouse gases from the trial machines' own exhausts.",
    "ghg_wtw_kg": "Greenhouse gases of the trial's energy, counting how it was produced and delivered.",
    "baseline_ghg_ttw_kg": "Exhaust greenhouse gases a conventional machine would have emitted for the same work.",
    "baseline_ghg_wtw_kg": "Greenhouse gases a conventional machine would have caused, fuel production included.",
    "ghg_ttw_avoided_kg": "Exhaust greenhouse gases avoided against the conventional machine.",
    "ghg_wtw_avoided_kg": "Greenhouse gases avoided, counting how the energy was produced: the headline figure.",
    "ghg_wtw_reduction_pct": "The share of the conventional machine's greenhouse gases the trial avoids.",
    "ghg_wtw_avoided_per_activity_kg": "Greenhouse gases avoided for each hour, move or km of work, so trials of"
    " different sizes compare fairly.",
    "unit_years": "Years of machine service the data cover.",
    "ghg_wtw_avoided_per_unit_year_kg": "Greenhouse gases one machine avoids in a year of service.",
    "nox_avoided_kg": "Nitrogen oxides (smog, breathing) not emitted; estimated from engine standards.",
    "pm25_avoided_kg": "Fine particles (breathing, heart) not emitted; estimated from engine standards.",
    "availability_pct": "Share of the scheduled time the machines were ready to work.",
    "reported_ghg_avoided_kg": "The avoided emissions the data's source reported itself, shown for comparison only.",
    "reported_vs_computed_pct": "How far the source's own avoided-emissions figure is from the one computed here.",
    "data_coverage_pct": "Share of the planned machine-days that have data.",
    "paired_share_pct": "Share of the work whose energy was recorded on the same rows, the work energy ratios use.",
    "days_since_data": "How long ago the latest data are.",
}

#: Each measured field of a measurement as people read it, with its unit.
FIELDS: dict[str, tuple[str, str]] = {
    "operating_hours": ("Operating hours", "h"),
    "energy_kwh": ("Electricity", "kWh"),
    "hydrogen_kg": ("Hydrogen", "kg"),
    "diesel_l": ("Diesel", "L"),
    "distance_km": ("Distance", "km"),
    "moves": ("Moves", "moves"),
    "teu": ("TEU", "TEU"),
    "scheduled_hours": ("Scheduled hours", "h"),
    "downtime_hours": ("Downtime", "h"),
    "charging_sessions": ("Charging sessions", "sessions"),
    "reported_ghg_avoided_kg": ("Reported GHG avoided", "kg CO2e"),
}


def _lower(text: str) -> str:
    """A label inside a sentence: 'Final energy' as 'final energy', an acronym such as 'GHG' or 'NOx' kept."""
    return text if len(text) > 1 and text[1].isupper() else text[:1].lower() + text[1:]


@dataclass(frozen=True)
class Metric:
    """What a person reads about one metric: its label, unit, how it is made, how it is written, which way is good."""

    key: str
    label: str
    unit: str
    description: str
    decimals: int
    higher_is_better: bool | None
    summary: str = ""

    @property
    def formula(self) -> str:
        """How the metric is made, with every key in it said in words ('final energy ÷ Σ operating hours')."""
        return in_words(self.description)

    def unit_for(self, equipment_class: EquipmentClass | None) -> str:
        """The unit, with 'activity unit' named for a class: 'kg CO2e per operating hour' for yard tractors."""
        if equipment_class is None or "activity unit" not in self.unit:
            return self.unit
        return self.unit.replace("activity unit", label(PRIMARY_ACTIVITY[equipment_class]))

    def format(self, value: float | None) -> str:
        """Write a value as the pages and reports do: thousands separated, n/a when missing."""
        return "n/a" if value is None else f"{value:,.{self.decimals}f}"

    @property
    def header(self) -> str:
        """The label with its unit, for a column or an axis."""
        return f"{self.label} ({self.unit})" if self.unit else self.label


#: Every METHODOLOGY.md §3 metric, in its order.
METRICS: dict[str, Metric] = {
    key: Metric(
        key, _WORDS[key][0], unit, _WORDS[key][1], _DECIMALS.get(key, 0), _HIGHER_IS_BETTER[key], _SUMMARIES[key]
    )
    for key, unit in METRIC_UNITS.items()
}
#: Every key a formula may name, longest first so that 'baseline_diesel_l' is read before 'diesel_l'.
_KEY_WORDS = {key: _lower(metric.label) for key, metric in METRICS.items()} | {
    key: _lower(words) for key, (words, _unit) in FIELDS.items()
}
_KEY_PATTERN = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _KEY_WORDS), key=len, reverse=True)) + r")\b")


def in_words(text: str) -> str:
    """A formula with each metric or field key replaced by its label, for a page a person reads."""
    return _KEY_PATTERN.sub(lambda found: _KEY_WORDS[found.group(1)], text)
