"""Tailpipe pollutants (NOx, PM2.5) of the replaced diesel engine and of the trial's own burners (METHODOLOGY.md
§7.7): which technologies burn what, the engine a class's baseline has, and both estimating methods."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from trials.arithmetic import Number, ratio, times
from trials.factors import Factors
from trials.models import EngineStandard, EquipmentClass, Technology

if TYPE_CHECKING:
    from trials.metrics import TrialInputs

#: Technologies with no combustion on board: their tank-to-wheel emissions are exactly 0.
NO_COMBUSTION = frozenset({Technology.battery_electric, Technology.hydrogen_fuel_cell, Technology.grid_electric})
#: Technologies that burn diesel; for all others a missing diesel figure means none was burnt.
BURNS_DIESEL = frozenset({Technology.hybrid_diesel_electric, Technology.diesel})

#: Fuel-based pollutant method (METHODOLOGY.md §7.7): diesel density, kg/L, and brake-specific fuel consumption,
#: kg of diesel per kWh of engine work (EPA NONROAD, 0.367 lb/hp-hr).
DIESEL_KG_PER_L = 0.85
BSFC_KG_PER_KWH = 0.223
#: The engine a class's diesel baseline has when the trial names none (METHODOLOGY.md §7.7).
VESSELS = frozenset({EquipmentClass.tug, EquipmentClass.harbor_craft, EquipmentClass.ferry})


def default_engine(equipment_class: EquipmentClass) -> EngineStandard:
    """Give the engine standard of a class's diesel baseline: marine for vessels, on-road for trucks, else nonroad."""
    if equipment_class in VESSELS:
        return EngineStandard.marine_tier3
    if equipment_class == EquipmentClass.drayage_truck:
        return EngineStandard.onroad_2010
    return EngineStandard.nonroad_tier4f


def pollutant_kg(power_kw: Number, load_factor: Number, hours: Number, g_per_kwh: Number) -> Number:
    """EPA inventory method E = P × LF × A × EF, in kg (EPA-420-B-22-011)."""
    grams = times(power_kw, load_factor, hours, g_per_kwh)
    return None if grams is None else grams / 1000


def fuel_based_pollutant_kg(diesel_l: Number, g_per_kwh: Number) -> Number:
    """Fuel-based method (METHODOLOGY.md §7.7): litres × density ÷ BSFC gives engine work, times the factor."""
    grams = times(diesel_l, DIESEL_KG_PER_L / BSFC_KG_PER_KWH, g_per_kwh)
    return None if grams is None else grams / 1000


def trial_tailpipe_share(technology: Technology, diesel_l: Number, baseline_diesel_l: Number) -> Number:
    """Share of the baseline's tailpipe pollutants the trial still emits: 0 without combustion, else by fuel."""
    if technology in NO_COMBUSTION:
        return 0.0
    if technology in BURNS_DIESEL:
        return ratio(diesel_l, baseline_diesel_l)
    return None  # hydrogen combustion emits NOx by a method METHODOLOGY.md does not give: n/a, not 0


class Pollutants(NamedTuple):
    """Baseline pollutant estimates, kg, by both methods, and the one used (P × LF × A where it can be made); a
    tuple, quick to build for each of a unit spread's thousands of results."""

    nox_engine: Number
    nox_fuel: Number
    pm25_engine: Number
    pm25_fuel: Number

    @property
    def nox(self) -> Number:
        return self.nox_engine if self.nox_engine is not None else self.nox_fuel

    @property
    def pm25(self) -> Number:
        return self.pm25_engine if self.pm25_engine is not None else self.pm25_fuel


def load_factor(inputs: TrialInputs, factors: Factors) -> Number:
    """The share of rated power the replaced engine works at: the trial's own, else the set's class default."""
    return inputs.load_factor if inputs.load_factor is not None else factors.load_factors.get(inputs.equipment_class)


def baseline_pollutants(inputs: TrialInputs, factors: Factors, hours: Number, diesel_l: Number) -> Pollutants:
    """Estimate the diesel baseline's NOx and PM2.5 over the compared work (METHODOLOGY.md §7.7)."""
    engine = inputs.baseline_engine or default_engine(inputs.equipment_class)
    load = load_factor(inputs, factors)
    nox, pm = factors.nox(engine), factors.pm25(engine)
    return Pollutants(
        nox_engine=pollutant_kg(inputs.rated_power_kw, load, hours, nox),
        nox_fuel=fuel_based_pollutant_kg(diesel_l, nox),
        pm25_engine=pollutant_kg(inputs.rated_power_kw, load, hours, pm),
        pm25_fuel=fuel_based_pollutant_kg(diesel_l, pm),
    )
