"""METHODOLOGY.md §7.3 on real databases: a row's days each take their own year's factors, and as-of cuts every sum."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from tests.factories import make_measurement, make_measurements, make_trial, make_unit
from trials.factors import add_factor_set, load_factors, read_factor_set
from trials.metrics import compute
from trials.models import MonthlyRollup, UnitRole
from trials.results import trial_metrics
from trials.rollup_sums import period_data
from trials.scope import Scope

OPERATOR = Scope.operator()


def _two_grid_years(session: Session) -> None:
    """The default set plus a 2025 grid factor for Long Beach, 200 g CO2e/kWh."""
    text = "key,region,year,value,unit,scope,source\n" + "\n".join(
        [
            "diesel_ttw,,0,2.697,kg CO2/L,TTW,a",
            "diesel_wtt,,0,0.627,kg CO2e/L,WTT,a",
            "diesel_wtw,,0,3.324,kg CO2e/L,WTW,a",
            "hydrogen,grey,0,11.0,kg CO2e/kg,WTW,a",
            "grid,US-CAL-CISO,2024,229,g CO2e/kWh,WTW,a",
            "grid,US-CAL-CISO,2025,200,g CO2e/kWh,WTW,a",
            "nox,,0,0.40,g/kWh,,a",
            "pm25,,0,0.02,g/kWh,,a",
        ]
    )
    factors, problems = read_factor_set("TWO-YEARS", text + "\n")
    assert problems == []
    add_factor_set(session, name="TWO-YEARS", description=None, factors=factors, actor="test")
    session.commit()


def test_a_row_across_new_year_takes_each_years_factor(session: Session) -> None:
    # 2024-12-25..2025-01-07 (14 days), 1,400 kWh at USLGB: 700 x 0.229 + 700 x 0.200 = 300.3 kg CO2e
    _two_grid_years(session)
    trial = make_trial(session, start_date=date(2024, 12, 1), end_date=date(2025, 1, 31))
    make_measurement(session, make_unit(session, trial), date(2024, 12, 25), days=14, energy_kwh=1400.0)
    factors = load_factors(session, "TWO-YEARS")
    raw = trial_metrics(session=session, scope=OPERATOR, trial=trial, factors=factors, as_of=date(2025, 2, 1))
    assert raw.values["ghg_wtw_kg"] == pytest.approx(300.3, rel=1e-12)
    assert raw.factor_years == {2024: 2024, 2025: 2025}
    rolled = period_data(session=session, scope=OPERATOR, trials=[trial], as_of=date(2025, 2, 1))[trial.id or 0]
    assert compute(rolled.inputs, factors).values["ghg_wtw_kg"] == pytest.approx(300.3, rel=1e-12)
    months = session.exec(select(MonthlyRollup).where(MonthlyRollup.role == UnitRole.trial)).all()
    # the row is spread over its days: 7 in December, 7 in January, with the measurement counted once
    assert sorted((m.month, m.energy_kwh, m.measurements, m.days_covered) for m in months) == [
        (202412, 700.0, 1, 7),
        (202501, 700.0, 0, 7),
    ]


def test_rollups_and_raw_rows_cut_at_as_of_alike(session: Session) -> None:
    """Rows started after as-of, in its own month, are left out by the rollups as by the raw reads."""
    trial = make_trial(session, start_date=date(2024, 3, 1), end_date=None)
    unit = make_unit(session, trial)
    make_measurements(
        session, unit, {date(2024, 3, day): {"operating_hours": 10.0, "energy_kwh": 150.0} for day in (1, 2, 20, 21)}
    )
    as_of = date(2024, 3, 10)
    raw = trial_metrics(session=session, scope=OPERATOR, trial=trial, as_of=as_of)
    rolled = period_data(session=session, scope=OPERATOR, trials=[trial], as_of=as_of)[trial.id or 0]
    assert (raw.values["energy_kwh"], rolled.inputs.trial.energy_kwh) == (300.0, 300.0)
    assert raw.last_data_date == rolled.inputs.last_data_date == date(2024, 3, 2)
    assert raw.values["days_since_data"] == 8.0
