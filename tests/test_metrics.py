"""Every metric of METHODOLOGY.md §3 against values worked out by hand, and the worked checks of §6."""

from __future__ import annotations

from dataclasses import replace

import pytest

from trials import units
from trials.baselines import RateUnitError
from trials.factors import DATA, Factors, factors_from_rows, read_factor_csv
from trials.metrics import (
    METRIC_KEYS,
    Activity,
    Totals,
    TrialInputs,
    compute,
    parse_rate_unit,
    total,
)
from trials.models import (
    ENERGY_CARRIERS,
    PAIRING_ACTIVITIES,
    BaselineKind,
    EquipmentClass,
    Technology,
    paired_name,
)
from trials.pollutants import pollutant_kg

GAL = 3.785411784  # litres per US gallon, exact by definition
MILE = 1.609344  # km per mile, exact by definition


def paired(**values: float) -> Totals:
    """Sums of rows that each carry every field given: every activity is paired with the energy beside it."""
    sums = Totals(**values)
    carriers = [name for name in ENERGY_CARRIERS if values.get(name) is not None]
    extra: dict[str, float] = {}
    for activity in PAIRING_ACTIVITIES:
        if values.get(activity) is not None and carriers:
            extra[paired_name(activity)] = values[activity]
            extra.update({paired_name(activity, carrier): values[carrier] for carrier in carriers})
    return replace(sums, **extra)


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
        trial=paired(
            operating_hours=1000.0,
            energy_kwh=25_000.0,
            distance_km=5000.0,
            moves=4000.0,
            teu=6000.0,
            scheduled_hours=1100.0,
            downtime_hours=55.0,
            reported_ghg_avoided_kg=4500.0,
            unit_days=300.0,
        ),
        energy_kwh_by_year={2024: 25_000.0},
        grid_region="US-CAL-CISO",
        declared_rate=3.0,
        declared_unit="L/h",
        rated_power_kw=150.0,
        units_planned=1,
        days_covered=300,
        days_in_period=366,
    )


def test_metric_keys_are_exactly_the_methodology_keys() -> None:
    """METHODOLOGY.md §3 (v2), in its order; last_data_date is a date and travels beside them (MetricsResult)."""
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
        "baseline_energy_kwh",
        "energy_saved_kwh",
        "efficiency_ratio",
        "ghg_ttw_kg",
        "ghg_wtw_kg",
        "baseline_ghg_ttw_kg",
        "baseline_ghg_wtw_kg",
        "ghg_ttw_avoided_kg",
        "ghg_wtw_avoided_kg",
        "ghg_wtw_reduction_pct",
        "ghg_wtw_avoided_per_activity_kg",
        "unit_years",
        "ghg_wtw_avoided_per_unit_year_kg",
        "nox_avoided_kg",
        "pm25_avoided_kg",
        "availability_pct",
        "reported_ghg_avoided_kg",
        "reported_vs_computed_pct",
        "data_coverage_pct",
        "paired_share_pct",
        "days_since_data",
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
        "baseline_energy_kwh": None,  # a diesel baseline: its energy is the diesel's
        "energy_saved_kwh": None,
        "efficiency_ratio": 3000 * 9.95 / 25_000,
        "ghg_ttw_kg": 0.0,
        "ghg_wtw_kg": 5725.0,
        "baseline_ghg_ttw_kg": 8091.0,
        "baseline_ghg_wtw_kg": 9972.0,
        "ghg_ttw_avoided_kg": 8091.0,
        "ghg_wtw_avoided_kg": 4247.0,
        "ghg_wtw_reduction_pct": 100 * 4247 / 9972,
        "ghg_wtw_avoided_per_activity_kg": 4.247,  # 4247 kg over 1000 paired hours
        "unit_years": 300 / 365.25,
        "ghg_wtw_avoided_per_unit_year_kg": 4247 / (300 / 365.25),
        "nox_avoided_kg": 23.4,
        "pm25_avoided_kg": 1.17,
        "availability_pct": 95.0,
        "reported_ghg_avoided_kg": 4500.0,
        "reported_vs_computed_pct": 100 * (4500 - 4247) / 4247,
        "data_coverage_pct": 100 * 300 / 366,  # 300 unit-days of one planned unit over 366 days
        "paired_share_pct": 100.0,
        "days_since_data": None,  # no last data date given
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
    inputs = replace(bev_yard_tractor(), baseline=paired(diesel_l=2000.0, operating_hours=400.0, unit_days=40.0))
    result = compute(inputs, ze2024)
    assert result.baseline is not None
    assert (result.baseline.method, result.baseline.litres_per_activity, result.baseline.thin) == (
        "measured",
        5.0,
        False,
    )
    assert result.values["baseline_diesel_l"] == pytest.approx(5000.0)  # 5 L/h × 1000 h of the trial units


def test_baseline_units_without_activity_fall_back_to_the_declared_rate(ze2024: Factors) -> None:
    inputs = replace(bev_yard_tractor(), baseline=paired(diesel_l=2000.0))
    result = compute(inputs, ze2024)
    assert result.baseline is not None and result.baseline.method == "declared"
    assert result.values["baseline_diesel_l"] == 3000.0


def test_hydrogen_fuel_cell_drayage_truck(ze2024: Factors) -> None:
    inputs = TrialInputs(
        equipment_class=EquipmentClass.drayage_truck,
        technology=Technology.hydrogen_fuel_cell,
        trial=paired(distance_km=10_000.0, hydrogen_kg=800.0),
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
    # No rated power nor load factor: fuel-based (§7.7), 4500 L x 0.85 kg/L / 0.223 kg/kWh at 0.40 and 0.02 g/kWh.
    assert values["nox_avoided_kg"] == pytest.approx(4500 * 0.85 / 0.223 * 0.40 / 1000)
    assert values["pm25_avoided_kg"] == pytest.approx(4500 * 0.85 / 0.223 * 0.02 / 1000)


def test_clean_hydrogen_pathway_uses_its_own_factor(ze2024: Factors) -> None:
    inputs = TrialInputs(
        equipment_class=EquipmentClass.drayage_truck,
        technology=Technology.hydrogen_fuel_cell,
        trial=paired(hydrogen_kg=100.0),
        hydrogen_pathway="clean",
    )
    assert compute(inputs, ze2024).values["ghg_wtw_kg"] == pytest.approx(400.0)


def test_hybrid_scales_pollutants_with_its_diesel(ze2024: Factors) -> None:
    inputs = TrialInputs(
        equipment_class=EquipmentClass.rtg_crane,
        technology=Technology.hybrid_diesel_electric,
        trial=paired(operating_hours=100.0, diesel_l=500.0, moves=2500.0),
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
        trial=paired(operating_hours=100.0),
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
        trial=paired(operating_hours=10.0, hydrogen_kg=50.0),
        declared_rate=12.0,
        declared_unit="L/h",
        rated_power_kw=200.0,
    )
    values = compute(inputs, ze2024).values
    assert values["ghg_ttw_kg"] == 0.0
    assert values["diesel_displaced_l"] == 120.0
    assert values["nox_avoided_kg"] is None


def test_no_measurements_gives_na_everywhere_but_zero_tailpipe(ze2024: Factors) -> None:
    inputs = TrialInputs(equipment_class=EquipmentClass.tug, technology=Technology.battery_electric, trial=paired())
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
        trial=paired(energy_kwh=3000.0),
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


@pytest.mark.parametrize("unit", ["L", "kWh/h", "L/kg", "litres per hour", "gal/yr", "L/month", "L/day"])
def test_declared_rate_unit_that_is_not_a_rate_is_refused(unit: str) -> None:
    with pytest.raises(RateUnitError):
        parse_rate_unit(unit)


def test_a_yearly_rate_is_refused_with_what_to_give_instead() -> None:
    with pytest.raises(RateUnitError, match="a rate per year depends on the hours worked: give litres per hour"):
        parse_rate_unit("gal/yr")


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
        trial=paired(operating_hours=20_000.0, energy_kwh=6_000_000.0),
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
        trial=paired(operating_hours=hours, diesel_l=0.75 * GAL * hours),
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


# --- The trust rules of METHODOLOGY.md §7 -------------------------------------------------------------------


@pytest.fixture(scope="module")
def ze2025() -> Factors:
    """The v2 default set: NOx and PM2.5 by engine, electrolytic hydrogen."""
    return factors_from_rows("ZE-2025", read_factor_csv(DATA / "factors-ZE-2025.csv"))


def yard_tractor(trial: Totals, **settings: object) -> TrialInputs:
    """A battery yard tractor at Long Beach in 2024 with the given sums and settings."""
    energy = {2024: trial.energy_kwh} if trial.energy_kwh is not None else {}
    return replace(
        TrialInputs(
            equipment_class=EquipmentClass.yard_tractor,
            technology=Technology.battery_electric,
            trial=trial,
            energy_kwh_by_year=energy,
            grid_region="US-CAL-CISO",
            declared_rate=6.6,
            declared_unit="L/h",
        ),
        **settings,
    )


def test_paired_rows_energy_without_hours_does_not_inflate_kwh_per_hour(ze2025: Factors) -> None:
    # Rows (10 h, 180 kWh) and (blank h, 180 kWh): 18.0 kWh/h, energy 360 kWh, paired share 100 %.
    rows = replace(paired(operating_hours=10.0, energy_kwh=180.0), energy_kwh=360.0)
    values = compute(yard_tractor(rows), ze2025).values
    assert (values["kwh_per_hour"], values["energy_kwh"], values["paired_share_pct"]) == (18.0, 360.0, 100.0)


def test_paired_rows_hours_without_energy_halve_the_paired_share(ze2025: Factors) -> None:
    # Rows (10 h, 180 kWh) and (10 h, blank): 18.0 kWh/h and paired share 50 %.
    rows = replace(paired(operating_hours=10.0, energy_kwh=180.0), operating_hours=20.0)
    values = compute(yard_tractor(rows), ze2025).values
    assert (values["kwh_per_hour"], values["paired_share_pct"]) == (18.0, 50.0)
    # avoided: 6.6 L/h over the 10 paired hours only, minus the 180 kWh of those rows
    assert values["ghg_wtw_avoided_kg"] == pytest.approx(6.6 * 10 * 3.324 - 180 * 0.229)


def test_each_year_of_electricity_takes_its_own_grid_factor(ze2025: Factors) -> None:
    # 2024-12-25..2025-01-07 (14 days), 1,400 kWh at USLGB, 229 g (2024) and 200 g (2025): 700 x 0.229 + 700 x 0.200
    two_years = replace(ze2025, grid_kg_per_kwh={**ze2025.grid_kg_per_kwh, ("US-CAL-CISO", 2025): 0.200})
    inputs = replace(yard_tractor(paired(energy_kwh=1400.0)), energy_kwh_by_year={2024: 700.0, 2025: 700.0})
    result = compute(inputs, two_years)
    assert result.values["ghg_wtw_kg"] == pytest.approx(300.3, rel=1e-12)
    assert result.factor_years == {2024: 2024, 2025: 2025}


def test_a_year_without_a_factor_names_the_year_it_took(ze2025: Factors) -> None:
    inputs = replace(yard_tractor(paired(energy_kwh=100.0)), energy_kwh_by_year={2026: 100.0})
    result = compute(inputs, ze2025)
    assert result.values["ghg_wtw_kg"] == pytest.approx(22.9)
    assert result.factor_years == {2026: 2024}


def test_electrolytic_hydrogen_takes_55_kwh_per_kg_at_the_grid_factor(ze2025: Factors) -> None:
    # 10 kg electrolytic at SEMMA 2024: 10 x 55 x 0.039 = 21.45 kg CO2e
    inputs = TrialInputs(
        equipment_class=EquipmentClass.yard_tractor,
        technology=Technology.hydrogen_fuel_cell,
        trial=paired(hydrogen_kg=10.0),
        hydrogen_kg_by_year={2024: 10.0},
        grid_region="SE-SE4",
        hydrogen_pathway="electrolytic_grid",
    )
    result = compute(inputs, ze2025)
    assert result.values["ghg_wtw_kg"] == pytest.approx(21.45, rel=1e-12)
    assert result.hydrogen_factor_kg_per_kg == pytest.approx(55 * 0.039)


def test_declared_hydrogen_takes_its_own_value(ze2025: Factors) -> None:
    inputs = replace(yard_tractor(paired(hydrogen_kg=10.0)), hydrogen_pathway="declared", hydrogen_factor_kg_per_kg=2.5)
    assert compute(inputs, ze2025).values["ghg_wtw_kg"] == pytest.approx(25.0)


def test_fuel_based_nox_when_power_is_unknown(ze2025: Factors) -> None:
    # 1,000 L at nonroad_tier4f: 1,000 x 0.85 / 0.223 x 0.40 g = 1.525 kg NOx
    inputs = yard_tractor(paired(operating_hours=1000 / 6.6, energy_kwh=2000.0), baseline_engine="nonroad_tier4f")
    values = compute(inputs, ze2025).values
    assert values["baseline_diesel_l"] == pytest.approx(1000.0)
    assert values["nox_avoided_kg"] == pytest.approx(1000 * 0.85 / 0.223 * 0.40 / 1000)
    assert round(values["nox_avoided_kg"], 3) == 1.525


def test_tugs_get_nox_from_their_marine_engine(ze2025: Factors) -> None:
    inputs = TrialInputs(
        equipment_class=EquipmentClass.tug,
        technology=Technology.battery_electric,
        trial=paired(operating_hours=100.0, energy_kwh=30_000.0),
        energy_kwh_by_year={2024: 30_000.0},
        grid_region="SE-SE4",
        declared_rate=100.0,
        declared_unit="L/h",
    )
    # 10,000 L at marine_tier3 (5.4 g/kWh): 10,000 x 0.85 / 0.223 x 5.4 g
    assert compute(inputs, ze2025).values["nox_avoided_kg"] == pytest.approx(10_000 * 0.85 / 0.223 * 5.4 / 1000)


@pytest.mark.parametrize("settings", [{"baseline_kind": "none"}, {"declared_rate": 0.0}, {"declared_rate": -2.0}])
def test_no_baseline_gives_na_for_every_comparison(ze2025: Factors, settings: dict[str, object]) -> None:
    values = compute(yard_tractor(paired(operating_hours=10.0, energy_kwh=180.0), **settings), ze2025).values
    compared = [key for key in values if "baseline" in key or "avoided" in key or "displaced" in key]
    compared += ["ghg_wtw_reduction_pct", "efficiency_ratio"]
    assert all(values[key] is None for key in compared if key != "reported_ghg_avoided_kg")
    assert values["kwh_per_hour"] == 18.0


def test_market_basis_without_a_market_factor_never_drops_electricity(ze2025: Factors) -> None:
    hybrid = TrialInputs(
        equipment_class=EquipmentClass.rtg_crane,
        technology=Technology.hybrid_diesel_electric,
        trial=paired(moves=1000.0, energy_kwh=2000.0, diesel_l=300.0),
        energy_kwh_by_year={2024: 2000.0},
        grid_region="US-CAL-CISO",
        declared_rate=1.0,
        declared_unit="L/move",
    )
    assert compute(hybrid, ze2025, "location").values["ghg_wtw_kg"] == pytest.approx(2000 * 0.229 + 300 * 3.324)
    market = compute(hybrid, ze2025, "market").values
    assert market["ghg_wtw_kg"] is None and market["ghg_wtw_reduction_pct"] is None


def test_a_battery_machines_genset_diesel_counts_tank_to_wheel(ze2025: Factors) -> None:
    values = compute(yard_tractor(paired(operating_hours=10.0, energy_kwh=150.0, diesel_l=2.0)), ze2025).values
    assert values["ghg_ttw_kg"] == pytest.approx(2 * 2.697)


def test_a_thin_measured_baseline_gives_way_to_the_declared_rate(ze2025: Factors) -> None:
    inputs = yard_tractor(
        paired(operating_hours=100.0, energy_kwh=1500.0),
        baseline=paired(operating_hours=80.0, diesel_l=800.0, unit_days=10.0),
    )
    result = compute(inputs, ze2025)
    assert result.baseline is not None
    assert (result.baseline.method, result.baseline.rate, result.baseline.thin) == ("declared", 6.6, True)


def test_an_electric_baseline_compares_energy(ze2025: Factors) -> None:
    crane = TrialInputs(
        equipment_class=EquipmentClass.sts_crane,
        technology=Technology.grid_electric,
        trial=paired(moves=10_000.0, energy_kwh=40_000.0),
        energy_kwh_by_year={2024: 40_000.0},
        grid_region="JP-CB",
        baseline_kind=BaselineKind.electric,
        declared_rate=5.0,
        declared_unit="kWh/move",
    )
    values = compute(crane, ze2025).values
    # baseline 5 kWh/move x 10,000 moves = 50,000 kWh; saved 10,000 kWh; avoided 10,000 x 0.480 kg
    assert (values["baseline_energy_kwh"], values["energy_saved_kwh"]) == (50_000.0, 10_000.0)
    assert values["ghg_wtw_avoided_kg"] == pytest.approx(4800.0)
    assert values["baseline_diesel_l"] is None and values["diesel_displaced_l"] is None
    assert (values["nox_avoided_kg"], values["pm25_avoided_kg"]) == (0.0, 0.0)
    assert values["efficiency_ratio"] == pytest.approx(1.25)
