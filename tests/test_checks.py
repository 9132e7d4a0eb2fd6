"""Each trust check of METHODOLOGY.md §7.5 fires on the data that should fire it, through `zetrials metrics --json`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlmodel import Session

from app.cli import main
from tests.factories import make_trial, make_unit
from trials.checks import RULES
from trials.models import BaselineKind, Measurement, Technology, TrialStatus, UnitRole
from trials.rollups import refresh_rollups

AS_OF = date(2024, 10, 1)  # inside the 2024 grid factors of the default set: no factor year is borrowed
DAYS = 40


@dataclass
class Fleet:
    """A trial and its units' daily rows: by default one no check fires on (two battery yard tractors reporting
    10 h and 150 kWh a day up to yesterday, declared 6.6 L/h, the published rate)."""

    trial: dict[str, Any] = field(default_factory=dict)
    units: int = 2
    row: dict[str, float | None] = field(default_factory=lambda: {"operating_hours": 10.0, "energy_kwh": 150.0})
    last_day: date = AS_OF - timedelta(days=1)
    baseline_days: int = 0  # days of a measured diesel baseline unit, 6.6 L/h
    unpaired_every: int = 0  # every nth row carries hours but no energy
    basis: str = "location"
    as_of: date = AS_OF


def _load(session: Session, fleet: Fleet) -> None:
    """Store the fleet as an import would."""
    settings = {
        "code": "LGB-YT-CHK",
        "units_planned": fleet.units,
        "status": TrialStatus.active,
        "start_date": fleet.last_day - timedelta(days=DAYS - 1),
        "end_date": None,
        "baseline_rate": 6.6,
        "baseline_unit": "L/h",
        "baseline_source": "yardtruck.com (2022)",
    }
    trial = make_trial(session, **(settings | fleet.trial))
    rows: list[Measurement] = []
    for number in range(fleet.units):
        unit = make_unit(session, trial, f"YT-{number + 1}")
        for offset in range(DAYS):
            day = trial.start_date + timedelta(days=offset)
            values = dict(fleet.row)
            if fleet.unpaired_every and offset % fleet.unpaired_every == 0:
                values = {"operating_hours": values.get("operating_hours")}
            rows.append(_row(trial.id, unit.id, day, values))
    if fleet.baseline_days:
        diesel = make_unit(session, trial, "DSL-1", UnitRole.baseline)
        for offset in range(fleet.baseline_days):
            day = trial.start_date + timedelta(days=offset)
            rows.append(_row(trial.id, diesel.id, day, {"operating_hours": 10.0, "diesel_l": 66.0}))
    session.add_all(rows)
    refresh_rollups(session, [trial.id or 0])  # as an import does
    session.commit()


def _row(trial_id: int | None, unit_id: int | None, day: date, values: dict[str, float | None]) -> Measurement:
    """One day's measurement of a unit."""
    assert trial_id is not None and unit_id is not None
    return Measurement(
        trial_id=trial_id, unit_id=unit_id, period_start=day, period_end=day + timedelta(days=1), **values
    )


def _checks(runner: CliRunner, fleet: Fleet) -> dict[str, dict[str, str]]:
    """The checks `zetrials metrics --json` gives for the trial, by code."""
    as_of, basis = fleet.as_of.isoformat(), fleet.basis
    arguments = ["metrics", "--trial", "LGB-YT-CHK", "--json", "--as-of", as_of, "--basis", basis]
    result = runner.invoke(main, arguments)
    assert result.exit_code == 0, result.output
    return {check["code"]: check for check in json.loads(result.output)["checks"]}


def test_a_sound_trial_fires_no_check(runner: CliRunner, session: Session) -> None:
    fleet = Fleet()
    _load(session, fleet)
    assert _checks(runner, fleet) == {}


SCENARIOS: dict[str, tuple[Fleet, str, str]] = {
    "no_baseline": (Fleet(trial={"baseline_kind": BaselineKind.none, "baseline_rate": None}), "info", "No baseline"),
    "no_market_factor": (Fleet(basis="market"), "exclude", "No market-based electricity factor"),
    "baseline_out_of_range": (Fleet(trial={"baseline_rate": 2.0}), "warn", "2 L/h is outside the plausible 4-14"),
    "intensity_out_of_range": (
        Fleet(row={"operating_hours": 10.0, "energy_kwh": 300.0}),
        "warn",
        "Electricity per unit of work of 30 kWh/h is outside the plausible 6-25 kWh/h",
    ),
    "engine_efficiency_impossible": (
        Fleet(trial={"rated_power_kw": 150.0, "load_factor": 0.39}),
        "warn",
        "would turn 89% of 6.6 L/h of diesel into work",  # 150 x 0.39 / (6.6 x 9.95) = 0.891
    ),
    "efficiency_below_one": (
        Fleet(row={"operating_hours": 10.0, "energy_kwh": 700.0}),
        "warn",
        "(0.94x as efficient)",  # 6.6 x 9.95 = 65.67 kWh/h of diesel against 70 kWh/h
    ),
    "measured_baseline_thin": (Fleet(baseline_days=10), "warn", "only 10 unit-days (under 30)"),
    "unpaired_rows": (Fleet(unpaired_every=5), "warn", "Only 80 % of the work has energy recorded"),
    "stale": (Fleet(last_day=AS_OF - timedelta(days=50)), "warn", "its last data are from 12 Aug 2024, 50 days ago"),
    "low_coverage": (Fleet(trial={"units_planned": 3}), "warn", "Data cover 67 % of the planned unit-days"),
    "reported_gap": (
        Fleet(row={"operating_hours": 10.0, "energy_kwh": 150.0, "reported_ghg_avoided_kg": 300.0}),
        "warn",
        "above the computed one",  # 66 L x 3.324 - 150 x 0.229 = 185.05 kg a day computed
    ),
    "pollutant_methods_disagree": (
        Fleet(trial={"rated_power_kw": 150.0, "load_factor": 0.39}),
        "warn",
        "differ 2.3x",  # 150 x 0.39 = 58.5 kW against 6.6 L/h x 0.85 / 0.223 = 25.2 kW
    ),
    "single_unit": (Fleet(units=1), "info", "One trial unit"),
    "hydrogen_pathway_assumed": (
        Fleet(
            trial={"technology": Technology.hydrogen_fuel_cell},
            row={"operating_hours": 10.0, "hydrogen_kg": 10.0},
        ),
        "info",
        "Hydrogen is taken as grey",
    ),
    "factor_year_missing": (
        Fleet(last_day=date(2025, 3, 1), as_of=date(2025, 3, 2)),
        "info",
        "2025 took 2024's",
    ),
}


@pytest.mark.parametrize("code", list(SCENARIOS))
def test_each_check_fires_with_its_reason(runner: CliRunner, session: Session, code: str) -> None:
    fleet, level, words = SCENARIOS[code]
    _load(session, fleet)
    found = _checks(runner, fleet)
    assert code in found, found
    assert found[code]["level"] == level
    assert words in found[code]["message"]


def test_every_check_of_the_methodology_has_a_scenario() -> None:
    assert set(SCENARIOS) == {rule.__name__ for rule in RULES}


def test_as_of_cuts_every_sum_not_only_coverage(runner: CliRunner, session: Session) -> None:
    """Rows that start after as-of are not counted (METHODOLOGY.md §7.3): 10 of the 40 days, of both units."""
    fleet = Fleet()
    _load(session, fleet)
    cut = fleet.last_day - timedelta(days=DAYS - 10)  # the first 10 days are in, the other 30 after as-of
    arguments = ["metrics", "--trial", "LGB-YT-CHK", "--json", "--as-of", cut.isoformat()]
    values = json.loads(runner.invoke(main, arguments).output)
    assert (values["operating_hours"], values["energy_kwh"]) == (2 * 10 * 10.0, 2 * 10 * 150.0)
    assert (values["last_data_date"], values["days_since_data"]) == (cut.isoformat(), 0.0)
