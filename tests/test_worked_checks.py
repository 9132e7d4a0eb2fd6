"""The worked checks of METHODOLOGY.md §6 and §7, through stored measurements on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session

from app.dashboard.compare_data import comparison
from app.dashboard.state import ViewState
from tests.factories import make_measurement, make_trial, make_unit, make_user, shown_text, sign_in, trial_page
from trials.metrics import MetricsResult
from trials.models import EquipmentClass, Role, Technology
from trials.results import trial_metrics
from trials.scope import Scope

GAL = 3.785411784  # litres per US gallon, exact by definition
AS_OF = date(2024, 12, 31)


def _metrics(session: Session, rows: list[dict[str, Any]], **trial: Any) -> MetricsResult:
    """Store one trial with one unit's rows (each a day from 1 March 2024 unless it says) and compute its metrics."""
    found = make_trial(session, **({"end_date": AS_OF} | trial))
    unit = make_unit(session, found)
    for number, values in enumerate(rows):
        day, days = values.pop("day", date(2024, 3, 1 + number)), values.pop("days", 1)
        make_measurement(session, unit, day, days=days, **values)
    return trial_metrics(session=session, scope=Scope.operator(), trial=found, as_of=AS_OF)


def test_energy_on_a_row_without_hours_does_not_count_per_hour(session: Session) -> None:
    # §7.2: rows (10 h, 180 kWh) and (blank h, 180 kWh) give 18.0 kWh/h, energy 360 kWh, paired share 100 %
    values = _metrics(session, [{"operating_hours": 10.0, "energy_kwh": 180.0}, {"energy_kwh": 180.0}]).values
    assert (values["kwh_per_hour"], values["energy_kwh"], values["paired_share_pct"]) == (18.0, 360.0, 100.0)


def test_hours_without_energy_halve_the_paired_share(session: Session) -> None:
    # §7.2: rows (10 h, 180 kWh) and (10 h, blank) give 18.0 kWh/h and paired share 50 %
    values = _metrics(session, [{"operating_hours": 10.0, "energy_kwh": 180.0}, {"operating_hours": 10.0}]).values
    assert (values["kwh_per_hour"], values["paired_share_pct"]) == (18.0, 50.0)


def test_electrolytic_hydrogen_at_malmo(session: Session) -> None:
    # §7.6: 10 kg electrolytic at SEMMA 2024: 10 x 55 x 0.039 = 21.45 kg CO2e
    result = _metrics(
        session,
        [{"operating_hours": 8.0, "hydrogen_kg": 10.0}],
        port_locode="SEMMA",
        technology=Technology.hydrogen_fuel_cell,
        hydrogen_pathway="electrolytic_grid",
    )
    assert result.values["ghg_wtw_kg"] == pytest.approx(21.45, rel=1e-12)


def test_fuel_based_nox_of_a_thousand_litres(session: Session) -> None:
    # §7.7: 1,000 L at nonroad_tier4f: 1,000 x 0.85 / 0.223 x 0.40 g = 1.525 kg NOx (no rated power: fuel-based)
    result = _metrics(
        session,
        [{"operating_hours": 100.0, "energy_kwh": 1500.0}],
        baseline_rate=10.0,
        baseline_unit="L/h",
        baseline_engine="nonroad_tier4f",
    )
    assert result.values["baseline_diesel_l"] == 1000.0
    assert round(result.values["nox_avoided_kg"] or 0, 3) == 1.525


def test_electric_tug_saves_3063_tonnes_tank_to_wheel_over_ten_years(session: Session) -> None:
    # §6: 30,000 US gal/yr for 10 years x 10.21 kg/gal = 3,063 t CO2 TTW; declared as 15 gal/h over 20,000 h
    result = _metrics(
        session,
        [{"day": date(2014, 1, 1), "days": 3652, "operating_hours": 20_000.0, "energy_kwh": 6_000_000.0}],
        equipment_class=EquipmentClass.tug,
        start_date=date(2014, 1, 1),
        end_date=date(2023, 12, 31),
        baseline_rate=15.0,
        baseline_unit="gal/h",
    )
    avoided = result.values["ghg_ttw_avoided_kg"]
    assert avoided == pytest.approx(300_000 * GAL * 2.697, rel=1e-9)
    assert round((avoided or 0) / 1000) == 3063


def test_hybrid_rtg_uses_93_5_percent_less_diesel(session: Session) -> None:
    # §6: 11.5 gal/h baseline, 0.75 gal/h hybrid: 93.5 % less diesel
    result = _metrics(
        session,
        [{"operating_hours": 1000.0, "diesel_l": 750 * GAL, "moves": 20_000.0}],
        equipment_class=EquipmentClass.rtg_crane,
        technology=Technology.hybrid_diesel_electric,
        baseline_rate=11.5,
        baseline_unit="gal/h",
    )
    displaced, baseline = result.values["diesel_displaced_l"], result.values["baseline_diesel_l"]
    assert displaced is not None and baseline is not None
    assert round(100 * displaced / baseline, 1) == 93.5


def test_hydrogen_at_or_under_4_kg_is_labelled_clean_on_the_trial_page(session: Session, client: FlaskClient) -> None:
    """§7.6: electrolytic hydrogen at Malmö (2.145 kg CO2e/kg) meets the US clean-hydrogen threshold; grey does not."""
    clean = _metrics(
        session,
        [{"operating_hours": 8.0, "hydrogen_kg": 10.0}],
        code="MMA-H2",
        port_locode="SEMMA",
        technology=Technology.hydrogen_fuel_cell,
        hydrogen_pathway="electrolytic_grid",
    )
    grey = _metrics(
        session,
        [{"operating_hours": 8.0, "hydrogen_kg": 10.0}],
        code="LGB-H2",
        technology=Technology.hydrogen_fuel_cell,
    )
    assert (clean.clean_hydrogen, clean.hydrogen_factor_kg_per_kg) == (True, pytest.approx(55 * 0.039))
    assert (grey.clean_hydrogen, grey.hydrogen_factor_kg_per_kg) == (False, 11.0)
    make_user(session, "exec@example.org", role=Role.executive)
    sign_in(client, "exec@example.org")
    page = shown_text(trial_page(client, "MMA-H2"))  # the one trial page, the dashboard's
    assert "2.15 kg CO2e per kg" in page and "meets the US clean-hydrogen threshold" in page
    assert "meets the US clean-hydrogen threshold" not in shown_text(trial_page(client, "LGB-H2"))


def test_compare_explains_an_electric_baseline_and_its_checks(session: Session) -> None:
    """An STS crane is compared with an electric one in kWh per move; the bar says so, and names a check to weigh."""
    _metrics(
        session,
        [{"moves": 1000.0, "energy_kwh": 4000.0}, {"moves": 1000.0}],
        code="NGO-STS",
        port_locode="JPNGO",
        equipment_class=EquipmentClass.sts_crane,
        technology=Technology.grid_electric,
        baseline_kind="electric",
        baseline_rate=5.2,
        baseline_unit="kWh/move",
    )
    view = ViewState(equipment_class=EquipmentClass.sts_crane)
    bars = comparison(session=session, scope=Scope.operator(), state=view, as_of=AS_OF).bars
    (row,) = bars.rows
    found = dict(zip(bars.columns, row, strict=True))
    assert found["baseline"] == "An electric machine, declared, with no source given: 5.20 kWh per move."
    assert "Only 50 % of the work has energy recorded on the same rows" in found["checks"]
