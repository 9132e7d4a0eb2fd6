"""Every metric of METHODOLOGY.md §3 against values worked out by hand, and the worked checks of §6."""

from __future__ import annotations

from dataclasses import replace

import pytest

from trials import units
from trials.factors import DATA, Factors, factors_from_rows, read_factor_csv
from trials.metrics import (
    METRIC_KEYS,
    Activity,
    Totals,
    TrialInputs,
    compute,
    parse_rate_unit,
    pollutant_kg,
    total,
)
from trials.models import EquipmentClass, Technology

GAL = 3.785411784  # litres per US gallon, exact by definition
MILE = 1.609344  # km per mile, exact by definition


@pytest.fixture(scope="module")
def ze2024() -> Factors:
    """The default factor set, read from the same CSV the database is seeded from."""
    return factors_from_rows("ZE-2024", read_factor_csv(DATA / "factors-ZE-2024.csv"))


def assert_metrics(values: dict[str, float | None], expected: dict[str, float | None]) -> None:
    """Compare every key: n/a must stay n/a, numbers must agree to twelve significant digits."""
    assert values.keys() == expected.keys()
    for key, wanted in expected.items():
        if wanted is None:
            assert values[key] is None, key
        else:
            assert values[key] == pytest.approx(wanted, rel=1e-12), key


def bev_yard_tractor() -> TrialInputs:
    """A battery-electric yard tractor trial at Long Beach (229 g/kWh) in 2024, declared baseline 3 L/h."""
    return TrialInputs(
        equipment_class=EquipmentClass.yard_tractor,
        technology=Technology.battery_electric,
        trial=Totals(
            operating_hours=1000.0,
            energy_kwh=25_000.0,
            distance_km=5000.0,
            moves=4000.0,
            teu=6000.0,
            scheduled_hours=1100.0,
            downtime_hours=55.0,
            reported_ghg_avoided_kg=4500.0,
        ),
        energy_kwh_by_year={2024: 25_000.0},
        grid_region="US-CAL-CISO",
        declared_rate=3.0,
        declared_unit="L/h",
        rated_power_kw=150.0,
        days_covered=300,
        days_in_period=366,
    )


def test_metric_keys_are_exactly_the_methodology_keys() -> None:
    assert METRIC_KEYS == (
        "operating_hours",
        "energy_kwh",
        "hydrogen_kg",
        "diesel_l",
        "final_energy_kwh",
        "kwh_per_hour",
        "kwh_per_move",
        "kwh_per_teu",
        "kwh_per_km",
        "baseline_diesel_l",
        "diesel_displaced_l",
        "efficiency_ratio",
        "ghg_ttw_kg",
        "ghg_wtw_kg",
        "baseline_ghg_ttw_kg",
        "baseline_ghg_wtw_kg",
        "ghg_ttw_avoided_kg",
        "ghg_wtw_avoided_kg",
        "ghg_wtw_reduction_pct",
        "nox_avoided_kg",
        "pm25_avoided_kg",
        "availability_pct",
        "reported_ghg_avoided_kg",
        "reported_vs_computed_pct",
        "data_coverage_pct",
    )


def test_battery_electric_yard_tractor_every_key_by_hand(ze2024: Factors) -> None:
    result = compute(bev_yard_tractor(), ze2024)
    # Worked by hand: baseline 3 L/h × 1000 h = 3000 L; grid 25,000 kWh × 0.229 kg/kWh = 5725 kg;
    # baseline WTW 3000 × 3.324 = 9972 kg, TTW 3000 × 2.697 = 8091 kg; avoided WTW 9972 − 5725 = 4247 kg;
    # NOx 150 kW × 0.39 × 1000 h × 0.40 g/kWh = 23,400 g; PM 150 × 0.39 × 1000 × 0.02 = 1170 g.
    expected = {
        "operating_hours": 1000.0,
        "energy_kwh": 25_000.0,
        "hydrogen_kg": None,
        "diesel_l": None,
        "final_energy_kwh": 25_000.0,
        "kwh_per_hour": 25.0,
        "kwh_per_move": 6.25,
        "kwh_per_teu": 25_000 / 6000,
        "kwh_per_km": 5.0,
        "baseline_diesel_l": 3000.0,
        "diesel_displaced_l": 3000.0,
        "efficiency_ratio": 3000 * 9.95 / 25_000,
        "ghg_ttw_kg": 0.0,
        "ghg_wtw_kg": 5725.0,
        "baseline_ghg_ttw_kg": 8091.0,
        "baseline_ghg_wtw_kg": 9972.0,
        "ghg_ttw_avoided_kg": 8091.0,
        "ghg_wtw_avoided_kg": 4247.0,
        "ghg_wtw_reduction_pct": 100 * 4247 / 9972,
        "nox_avoided_kg": 23.4,
        "pm25_avoided_kg": 1.17,
        "availability_pct": 95.0,
        "reported_ghg_avoided_kg": 4500.0,
        "reported_vs_computed_pct": 100 * (4500 - 4247) / 4247,
        "data_coverage_pct": 100 * 300 / 366,
    }
    assert_metrics(result.values, expected)
    assert result.baseline is not None and result.baseline.method == "declared"
    assert result.factor_set == "ZE-2024"
    assert result.flags == ()


def test_efficiency_ratio_is_1_194_for_the_yard_tractor(ze2024: Factors) -> None:
    assert compute(bev_yard_tractor(), ze2024).values["efficiency_ratio"] == pytest.approx(1.194)


def test_reported_figure_beyond_ten_percent_is_flagged(ze2024: Factors) -> None:
    inputs = replace(bev_yard_tractor(), trial=replace(bev_yard_tractor().trial, reported_ghg_avoided_kg=6000.0))
    result = compute(inputs, ze2024)
    assert result.values["reported_vs_computed_pct"] == pytest.approx(100 * (6000 - 4247) / 4247)
    assert result.flags == ("reported_vs_computed_pct",)


def test_measured_baseline_is_preferred_to_the_declared_one(ze2024: Factors) -> None:
    inputs = replace(bev_yard_tractor(), baseline=Totals(diesel_l=2000.0, operating_hours=400.0))
    result = compute(inputs, ze2024)
    assert result.baseline is not None
    assert (result.baseline.method, result.baseline.litres_per_activity) == ("measured", 5.0)
    assert result.values["baseline_diesel_l"] == pytest.approx(5000.0)  # 5 L/h × 1000 h of the trial units


def test_baseline_units_without_activity_fall_back_to_the_declared_rate(ze2024: Factors) -> None:
    inputs = replace(bev_yard_tractor(), baseline=Totals(diesel_l=2000.0))
    result = compute(inputs, ze2024)
    assert result.baseline is not None and result.baseline.method == "declared"
    assert result.values["baseline_diesel_l"] == 3000.0


def test_hydrogen_fuel_cell_drayage_truck(ze2024: Factors) -> None:
    inputs = TrialInputs(
        equipment_class=EquipmentClass.drayage_truck,
        technology=Technology.hydrogen_fuel_cell,
        trial=Totals(distance_km=10_000.0, hydrogen_kg=800.0),
        grid_region="US-CAL-LDWP",
        declared_rate=0.45,
        declared_unit="L/km",
    )
    values = compute(inputs, ze2024).values
    # 800 kg × 33.33 kWh/kg = 26,664 kWh; grey hydrogen 800 × 11 = 8800 kg; baseline 0.45 × 10,000 = 4500 L.
    assert values["final_energy_kwh"] == pytest.approx(26_664.0)
    assert values["kwh_per_km"] == pytest.approx(2.6664)
    assert values["ghg_ttw_kg"] == 0.0
    assert values["ghg_wtw_kg"] == pytest.approx(8800.0)
    assert values["baseline_ghg_wtw_kg"] == pytest.approx(4500 * 3.324)
    assert values["ghg_wtw_avoided_kg"] == pytest.approx(4500 * 3.324 - 8800)
    assert values["efficiency_ratio"] == pytest.approx(4500 * 9.95 / 26_664)
    # No rated power and no load factor for drayage trucks: pollutants are n/a, never 0.
    assert values["nox_avoided_kg"] is None and values["pm25_avoided_kg"] is None


def test_clean_hydrogen_pathway_uses_its_own_factor(ze2024: Factors) -> None:
    inputs = TrialInputs(
        equipment_class=EquipmentClass.drayage_truck,
        technology=Technology.hydrogen_fuel_cell,
        trial=Totals(hydrogen_kg=100.0),
        hydrogen_pathway="clean",
    )
    assert compute(inputs, ze2024).values["ghg_wtw_kg"] == pytest.approx(400.0)


def test_hybrid_scales_pollutants_with_its_diesel(ze2024: Factors) -> None:
    inputs = TrialInputs(
        equipment_class=EquipmentClass.rtg_crane,
        technology=Technology.hybrid_diesel_electric,
        trial=Totals(operating_hours=100.0, diesel_l=500.0, moves=2500.0),
        declared_rate=20.0,
        declared_unit="L/h",
        rated_power_kw=400.0,
    )
    values = compute(inputs, ze2024).values
    # Baseline 20 L/h × 100 h = 2000 L; the hybrid burns 500 L, a quarter; NOx 400 × 0.20 × 100 × 0.40 g = 3.2 kg.
    assert values["baseline_diesel_l"] == 2000.0
    assert values["diesel_displaced_l"] == 1500.0
    assert values["ghg_ttw_kg"] == pytest.approx(500 * 2.697)
    assert values["ghg_wtw_kg"] == pytest.approx(500 * 3.324)
    assert values["final_energy_kwh"] == pytest.approx(500 * 9.95)
    assert values["kwh_per_move"] == pytest.approx(500 * 9.95 / 2500)
    assert values["nox_avoided_kg"] == pytest.approx(3.2 * 0.75)
    assert values["pm25_avoided_kg"] == pytest.approx(0.16 * 0.75)


def test_hybrid_without_a_diesel_figure_gives_na_not_zero(ze2024: Factors) -> None:
    inputs = TrialInputs(
        equipment_class=EquipmentClass.rtg_crane,
        technology=Technology.hybrid_diesel_electric,
        trial=Totals(operating_hours=100.0),
        declared_rate=20.0,
        declared_unit="L/h",
    )
    values = compute(inputs, ze2024).values
    assert values["diesel_displaced_l"] is None
    assert values["ghg_ttw_kg"] is None
    assert values["ghg_ttw_avoided_kg"] is None


def test_hydrogen_combustion_burns_no_diesel_but_its_nox_is_not_given(ze2024: Factors) -> None:
    inputs = TrialInputs(
        equipment_class=EquipmentClass.top_handler,
        technology=Technology.hydrogen_combustion,
        trial=Totals(operating_hours=10.0, hydrogen_kg=50.0),
        declared_rate=12.0,
        declared_unit="L/h",
        rated_power_kw=200.0,
    )
    values = compute(inputs, ze2024).values
    assert values["ghg_ttw_kg"] == 0.0
    assert values["diesel_displaced_l"] == 120.0
    assert values["nox_avoided_kg"] is None


def test_no_measurements_gives_na_everywhere_but_zero_tailpipe(ze2024: Factors) -> None:
    inputs = TrialInputs(equipment_class=EquipmentClass.tug, technology=Technology.battery_electric, trial=Totals())
    values = compute(inputs, ze2024).values
    assert values["ghg_ttw_kg"] == 0.0  # exactly 0 for technologies without combustion (METHODOLOGY.md §3)
    assert {key for key, value in values.items() if value is not None} == {"ghg_ttw_kg"}


def test_grid_factor_follows_the_year_of_the_electricity() -> None:
    factors = Factors(
        set_name="two years",
        diesel_ttw_kg_per_l=2.697,
        diesel_wtw_kg_per_l=3.324,
        hydrogen_kg_per_kg={"grey": 11.0},
        grid_kg_per_kwh={("SG", 2023): 0.500, ("SG", 2024): 0.485},
        nox_g_per_kwh=0.4,
        pm25_g_per_kwh=0.02,
    )
    inputs = TrialInputs(
        equipment_class=EquipmentClass.sts_crane,
        technology=Technology.grid_electric,
        trial=Totals(energy_kwh=3000.0),
        energy_kwh_by_year={2022: 1000.0, 2023: 1000.0, 2025: 1000.0},
        grid_region="SG",
    )
    # 2022 has no factor: the earliest later one (2023) stands in; 2025 takes the latest earlier one (2024).
    assert compute(inputs, factors).values["ghg_wtw_kg"] == pytest.approx(500 + 500 + 485)


def test_market_basis_uses_the_trial_factor_and_never_mixes(ze2024: Factors) -> None:
    ppa = replace(bev_yard_tractor(), market_factor_kg_per_kwh=0.0)
    assert compute(ppa, ze2024, "market").values["ghg_wtw_kg"] == 0.0
    assert compute(ppa, ze2024, "location").values["ghg_wtw_kg"] == pytest.approx(5725.0)
    no_market = compute(bev_yard_tractor(), ze2024, "market")
    assert no_market.values["ghg_wtw_kg"] is None and no_market.basis == "market"


def test_unknown_grid_region_gives_na(ze2024: Factors) -> None:
    inputs = replace(bev_yard_tractor(), grid_region="XX")
    assert compute(inputs, ze2024).values["ghg_wtw_kg"] is None


@pytest.mark.parametrize(
    ("unit", "to_litres", "activity"),
    [
        ("L/h", 1.0, Activity.hour),
        ("gal/h", GAL, Activity.hour),
        ("L/min", 60.0, Activity.hour),
        ("L/km", 1.0, Activity.km),
        ("gal/mi", GAL / MILE, Activity.km),
        ("L/nmi", 1 / 1.852, Activity.km),
        ("L/move", 1.0, Activity.move),
        ("gal / lift", GAL, Activity.move),
        ("L/TEU", 1.0, Activity.teu),
    ],
)
def test_declared_rate_units(unit: str, to_litres: float, activity: Activity) -> None:
    factor, found = parse_rate_unit(unit)
    assert factor == pytest.approx(to_litres, rel=1e-12)
    assert found == activity


@pytest.mark.parametrize("unit", ["L", "kWh/h", "L/kg", "litres per hour"])
def test_declared_rate_unit_that_is_not_a_rate_is_refused(unit: str) -> None:
    with pytest.raises(units.UnknownUnitError):
        parse_rate_unit(unit)


def test_sum_of_nothing_is_none_not_zero() -> None:
    assert total([]) is None
    assert total([None, None]) is None
    assert total([None, 2.0, 3.0]) == 5.0


# --- The worked checks of METHODOLOGY.md §6 ---------------------------------------------------------------


def test_worked_check_electric_tug_saves_3063_tonnes_ttw_over_ten_years(ze2024: Factors) -> None:
    # 30,000 US gal/yr for 10 years: declared as 15 gal/h over 20,000 operating hours.
    inputs = TrialInputs(
        equipment_class=EquipmentClass.tug,
        technology=Technology.battery_electric,
        trial=Totals(operating_hours=20_000.0),
        declared_rate=15.0,
        declared_unit="gal/h",
    )
    avoided_t = compute(inputs, ze2024).values["ghg_ttw_avoided_kg"]
    assert avoided_t is not None
    assert avoided_t == pytest.approx(300_000 * GAL * 2.697, rel=1e-12)
    assert round(avoided_t / 1000) == 3063  # published as "3,100 metric tons"
    assert 2.697 * GAL == pytest.approx(10.21, abs=0.005)  # the per-gallon factor of the EPA hub


def test_worked_check_hybrid_rtg_uses_93_5_percent_less_diesel(ze2024: Factors) -> None:
    hours = 1000.0
    inputs = TrialInputs(
        equipment_class=EquipmentClass.rtg_crane,
        technology=Technology.hybrid_diesel_electric,
        trial=Totals(operating_hours=hours, diesel_l=0.75 * GAL * hours),
        declared_rate=11.5,
        declared_unit="gal/h",
    )
    values = compute(inputs, ze2024).values
    assert values["diesel_displaced_l"] is not None and values["baseline_diesel_l"] is not None
    assert round(100 * values["diesel_displaced_l"] / values["baseline_diesel_l"], 1) == 93.5
    assert values["ghg_wtw_reduction_pct"] == pytest.approx(100 * (11.5 - 0.75) / 11.5)


def test_worked_check_8800_gallons_is_33311_6_litres() -> None:
    assert round(units.convert(8800, "gal", "L"), 1) == 33_311.6


def test_worked_check_epa_style_568_3_g_per_hp_hr_over_140000_hp_hr() -> None:
    hp_in_kw = units.factor("hp", "kW")
    # P × LF × A with P = 1 hp, LF = 1, A = 140,000 h gives 140,000 hp-hr; EF 568.3 g/hp-hr in g/kWh.
    kg = pollutant_kg(hp_in_kw, 1.0, 140_000.0, 568.3 / hp_in_kw)
    assert kg == pytest.approx(79_562.0, rel=1e-9)
    assert round(kg / 1000, 3) == 79.562


def test_worked_check_one_dge_is_37_66_kwh_and_2_15_kwh_per_mile_is_17_5_mpdge() -> None:
    dge_kwh = units.DIESEL_KWH_PER_L * GAL
    assert round(dge_kwh, 2) == 37.66
    assert round(37.66 / 2.15, 1) == 17.5
    assert round(dge_kwh / 2.15, 1) == 17.5
