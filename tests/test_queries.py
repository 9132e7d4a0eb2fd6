"""Queries always take a scope: partners see their port and what is shared, never another port's private trials."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from tests.factories import make_measurement, make_trial, make_unit
from trials.metrics import METRIC_KEYS
from trials.models import EquipmentClass, Role, Technology, UnitRole, Visibility
from trials.queries import get_trial, list_trials
from trials.results import trial_inputs, trial_metrics, trial_results
from trials.rollup_sums import month_data
from trials.scope import Scope

LGB_PARTNER = Scope(role=Role.partner, port_locode="USLGB")
SIN_PARTNER = Scope(role=Role.partner, port_locode="SGSIN")
EVERYONE = Scope(role=Role.executive)


@pytest.fixture
def three_trials(session: Session) -> None:
    """Long Beach private, Singapore private, Singapore shared with partners."""
    make_trial(session, code="LGB-PRIV")
    make_trial(session, code="SIN-PRIV", port_locode="SGSIN")
    make_trial(session, code="SIN-SHARED", port_locode="SGSIN", visibility=Visibility.partners)


@pytest.mark.usefixtures("three_trials")
@pytest.mark.parametrize(
    ("scope", "visible"),
    [
        (EVERYONE, {"LGB-PRIV", "SIN-PRIV", "SIN-SHARED"}),
        (LGB_PARTNER, {"LGB-PRIV", "SIN-SHARED"}),
        (SIN_PARTNER, {"SIN-PRIV", "SIN-SHARED"}),
        (Scope(role=Role.editor, port_locode="USLGB"), {"LGB-PRIV", "SIN-SHARED"}),
    ],
)
def test_list_trials_is_scoped(session: Session, scope: Scope, visible: set[str]) -> None:
    assert {trial.code for trial in list_trials(session=session, scope=scope)} == visible


@pytest.mark.usefixtures("three_trials")
def test_a_private_trial_of_another_port_is_as_absent_as_a_missing_one(session: Session) -> None:
    assert get_trial(session=session, scope=LGB_PARTNER, code="SIN-PRIV") is None
    assert get_trial(session=session, scope=LGB_PARTNER, code="NO-SUCH") is None
    assert get_trial(session=session, scope=SIN_PARTNER, code="SIN-PRIV") is not None


@pytest.mark.usefixtures("three_trials")
def test_metrics_of_a_trial_outside_the_scope_are_refused(session: Session) -> None:
    hidden = get_trial(session=session, scope=EVERYONE, code="SIN-PRIV")
    assert hidden is not None
    with pytest.raises(LookupError):
        trial_inputs(session=session, scope=LGB_PARTNER, trial=hidden)


@pytest.mark.usefixtures("three_trials")
def test_results_of_trials_outside_the_scope_are_refused(session: Session) -> None:
    trials = list_trials(session=session, scope=EVERYONE)
    with pytest.raises(LookupError):
        trial_results(session=session, scope=LGB_PARTNER, trials=trials)
    visible = list_trials(session=session, scope=LGB_PARTNER)
    found = trial_results(session=session, scope=LGB_PARTNER, trials=visible)
    assert [row.trial.code for row in found] == ["SIN-SHARED", "LGB-PRIV"]  # in the order given: by port, then code


@pytest.mark.usefixtures("three_trials")
def test_filters(session: Session) -> None:
    make_trial(session, code="SIN-TUG", port_locode="SGSIN", equipment_class=EquipmentClass.tug)
    found = list_trials(session=session, scope=EVERYONE, port="SGSIN", equipment_class=EquipmentClass.tug)
    assert [trial.code for trial in found] == ["SIN-TUG"]
    assert list_trials(session=session, scope=EVERYONE, technology=Technology.hydrogen_fuel_cell) == []


def test_trial_metrics_from_stored_measurements(session: Session) -> None:
    trial = make_trial(session, baseline_rate=3.0, baseline_unit="L/h", rated_power_kw=150.0)
    tractor_a, tractor_b = make_unit(session, trial, "YT-A"), make_unit(session, trial, "YT-B")
    comparator = make_unit(session, trial, "DSL-1", role=UnitRole.baseline)
    make_measurement(session, tractor_a, date(2024, 3, 1), operating_hours=10.0, energy_kwh=250.0, moves=40.0)
    make_measurement(session, tractor_b, date(2024, 3, 1), operating_hours=8.0, energy_kwh=190.0)
    make_measurement(session, tractor_a, date(2024, 3, 2), operating_hours=12.0, energy_kwh=310.0, moves=50.0)
    make_measurement(session, comparator, date(2024, 3, 1), operating_hours=10.0, diesel_l=40.0)

    result = trial_metrics(session=session, scope=EVERYONE, trial=trial, as_of=date(2024, 3, 10))
    values = result.values
    # Trial units: 30 h, 750 kWh, 90 moves. DSL-1 measured 40 L ÷ 10 h = 4 L/h on one day only: thin (< 30 unit-days,
    # METHODOLOGY.md §7.1), so the declared 3 L/h is used, and the result says the measured one was thin.
    assert values["operating_hours"] == 30.0
    assert values["energy_kwh"] == 750.0
    assert values["kwh_per_hour"] == pytest.approx(25.0)
    assert values["kwh_per_move"] == pytest.approx((250 + 310) / 90)  # only YT-A's rows carry moves (§7.2)
    assert result.baseline is not None and (result.baseline.method, result.baseline.thin) == ("declared", True)
    assert values["baseline_diesel_l"] == pytest.approx(90.0)
    assert values["diesel_l"] is None  # the comparator's diesel is not the trial's
    assert values["ghg_wtw_kg"] == pytest.approx(750 * 0.229)  # Long Beach, 2024
    assert values["ghg_wtw_avoided_kg"] == pytest.approx(90 * 3.324 - 750 * 0.229)
    assert values["nox_avoided_kg"] == pytest.approx(150 * 0.39 * 30 * 0.40 / 1000)
    # 3 unit-days of 2 units over 1 Jan to 2 Mar 2024, the last day with data (62 days; the lag is not a gap)
    assert values["data_coverage_pct"] == pytest.approx(100 * 3 / (2 * 62))
    assert (result.last_data_date, values["days_since_data"]) == (date(2024, 3, 2), 8.0)
    assert tuple(values) == METRIC_KEYS


def test_market_based_metrics_use_the_trial_factor(session: Session) -> None:
    trial = make_trial(session, market_factor_g_per_kwh=20.0)
    make_measurement(session, make_unit(session, trial), date(2024, 5, 1), energy_kwh=1000.0)
    result = trial_metrics(session=session, scope=EVERYONE, trial=trial, basis="market")
    assert result.values["ghg_wtw_kg"] == pytest.approx(20.0)


def test_monthly_coverage_counts_days_once_and_only_inside_the_trial_so_far(session: Session) -> None:
    trial = make_trial(session, start_date=date(2024, 1, 1), end_date=None)
    unit = make_unit(session, trial)
    make_measurement(session, unit, date(2024, 1, 1), days=2, energy_kwh=10.0)  # 1 and 2 Jan
    make_measurement(session, unit, date(2024, 1, 2), days=2, energy_kwh=10.0)  # 2 (again) and 3 Jan
    make_measurement(session, unit, date(2023, 12, 30), days=2, energy_kwh=10.0)  # before the trial
    make_measurement(session, unit, date(2024, 2, 1), days=29, energy_kwh=10.0)  # all of February, cut at as-of
    months = month_data(session=session, scope=EVERYONE, trials=[trial], as_of=date(2024, 2, 10))[trial.id or 0]
    # December lies before the trial: its sums are listed, its days are not counted
    assert {month: (inputs.days_covered, inputs.days_in_period) for month, inputs in months.items()} == {
        202312: (0, 0),
        202401: (3, 31),
        202402: (10, 10),
    }
    assert [months[month].trial.energy_kwh for month in (202312, 202401, 202402)] == [10.0, 20.0, 10.0]


def test_coverage_before_the_trial_starts_is_na(session: Session) -> None:
    trial = make_trial(session, start_date=date(2025, 1, 1), end_date=None)
    result = trial_metrics(session=session, scope=EVERYONE, trial=trial, as_of=date(2024, 6, 1))
    assert result.values["data_coverage_pct"] is None
