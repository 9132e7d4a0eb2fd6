"""The demo an executive is shown (METHODOLOGY.md §9): every input inside §8's ranges, dates counted back from today."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.dashboard.data import headline_table, left_out, trial_rows
from app.dashboard.state import ViewState
from importers.demo import DEMO_TRIALS, STALE_DAYS
from tests.conftest import demo_database
from trials.checks import Level
from trials.db import read_session
from trials.models import BaselineKind, PlausibleRange, Technology, Trial, TrialStatus
from trials.queries import list_trials
from trials.registry import METRICS
from trials.results import trial_results
from trials.scope import Scope

TODAY = date(2026, 3, 10)
#: The column each class's primary activity is counted in, written out here rather than read from the code tested.
PRIMARY = {
    "drayage_truck": "distance_km",
    "yard_tractor": "operating_hours",
    "tug": "operating_hours",
    "harbor_craft": "operating_hours",
    "ferry": "operating_hours",
    "rtg_crane": "moves",
    "sts_crane": "moves",
    "straddle_carrier": "moves",
    "top_handler": "moves",
    "reach_stacker": "moves",
    "forklift": "moves",
}
#: A declared rate's unit in litres (or kWh) per primary activity unit, worked out by hand: 1 US gal = 3.785411784 L,
#: 1 mi = 1.609344 km.
PER_ACTIVITY = {"L/h": 1.0, "L/km": 1.0, "L/move": 1.0, "kWh/move": 1.0, "gal/h": 3.785411784}
PER_ACTIVITY["gal/mi"] = 3.785411784 / 1.609344
SUMS = """
    SELECT u.role, SUM(m.operating_hours), SUM(m.moves), SUM(m.distance_km), SUM(m.energy_kwh), SUM(m.hydrogen_kg),
           SUM(m.diesel_l), COUNT(*), MIN(m.period_start), MAX(m.period_end), COUNT(DISTINCT u.id)
    FROM measurement m JOIN unit u ON u.id = m.unit_id JOIN trial t ON t.id = m.trial_id
    WHERE t.code = :code GROUP BY u.role
"""


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The demo written for TODAY and imported once per database."""
    with demo_database(request.param, tmp_path_factory.mktemp("demo"), TODAY) as engine:
        yield engine


def sums(session: Session, code: str) -> dict[str, dict[str, object]]:
    """A trial's sums by unit role, straight from the measurement rows."""
    names = ("hours", "moves", "km", "kwh", "h2", "diesel", "rows", "first", "end", "units")
    found = session.execute(sa.text(SUMS), {"code": code}).all()
    return {str(row[0]): dict(zip(names, row[1:], strict=True)) for row in found}


def ranges(session: Session) -> dict[tuple[str, str], tuple[float, float]]:
    """METHODOLOGY.md §8 as the database holds it."""
    rows = session.exec(select(PlausibleRange)).all()
    return {(row.equipment_class.value, row.quantity): (row.low, row.high) for row in rows}


def test_every_trial_is_inside_the_plausible_ranges(demo: Engine) -> None:
    activity_key = {"operating_hours": "hours", "moves": "moves", "distance_km": "km"}
    with Session(demo) as session:
        plausible = ranges(session)
        trials = session.exec(select(Trial).order_by(Trial.code)).all()
        assert len(trials) == len(DEMO_TRIALS) == 25
        for trial in trials:
            kind = trial.equipment_class.value
            by_role = sums(session, trial.code)
            work = float(by_role["trial"][activity_key[PRIMARY[kind]]])  # type: ignore[arg-type]
            assert 1 <= by_role["trial"]["units"] == trial.units_planned <= 8, trial.code
            carriers = {"energy_kwh": "kwh", "hydrogen_kg": "h2", "diesel_l": "diesel"}
            final_kwh = 0.0
            for quantity, key in carriers.items():
                amount = by_role["trial"][key]
                if amount is None:
                    continue
                low, high = plausible[(kind, quantity)]
                assert low <= float(amount) / work <= high, (trial.code, quantity, float(amount) / work)  # type: ignore[arg-type]
                final_kwh += float(amount) * {"energy_kwh": 1.0, "hydrogen_kg": 33.33, "diesel_l": 9.95}[quantity]  # type: ignore[arg-type]
            if "baseline" in by_role:
                measured = by_role["baseline"]
                rate = float(measured["diesel"]) / float(measured[activity_key[PRIMARY[kind]]])  # type: ignore[arg-type]
                assert trial.baseline_rate is None, trial.code
            else:
                assert trial.baseline_rate is not None and trial.baseline_unit is not None, trial.code
                assert trial.baseline_source, trial.code
                rate = trial.baseline_rate * PER_ACTIVITY[trial.baseline_unit]
            carrier = "energy_kwh" if trial.baseline_kind == BaselineKind.electric else "diesel_l"
            low, high = plausible[(kind, carrier)]
            assert low <= rate <= high, (trial.code, "baseline", rate)
            if trial.baseline_kind == BaselineKind.diesel:
                efficiency = rate * work * 9.95 / final_kwh
                if trial.technology in (Technology.battery_electric, Technology.hydrogen_fuel_cell):
                    assert 1.5 <= efficiency <= 6, (trial.code, efficiency)
                if trial.rated_power_kw is not None:
                    litres_per_hour = rate * work / float(by_role["trial"]["hours"])  # type: ignore[arg-type]
                    assert trial.load_factor is not None
                    assert trial.rated_power_kw * trial.load_factor / (litres_per_hour * 9.95) <= 0.45, trial.code


def test_every_trial_is_dated_back_from_today(demo: Engine) -> None:
    stale = []
    with Session(demo) as session:
        for trial in session.exec(select(Trial)).all():
            first_day, last_day = sums(session, trial.code)["trial"]["first"], sums(session, trial.code)["trial"]["end"]
            first = date.fromisoformat(str(first_day)[:10])
            last = date.fromisoformat(str(last_day)[:10]) - timedelta(days=1)
            assert TODAY - timedelta(days=24 * 31 + 1) <= trial.start_date <= TODAY - timedelta(days=6 * 30), trial.code
            assert first <= trial.start_date + timedelta(days=1), trial.code  # a monthly row starts on the 1st
            if trial.status == TrialStatus.completed:
                assert trial.end_date is not None and trial.end_date <= TODAY - timedelta(days=55), trial.code
                assert last == trial.end_date, trial.code
            else:
                assert trial.status == TrialStatus.active and trial.end_date is None, trial.code
                if last != TODAY - timedelta(days=1):
                    stale.append((trial.code, (TODAY - last).days))
    assert stale == [("NGO-YT-01", STALE_DAYS)]


def test_the_demo_mixes_baselines_hydrogen_pathways_and_engines(demo: Engine) -> None:
    with Session(demo) as session:
        trials = {trial.code: trial for trial in session.exec(select(Trial))}
    sts = trials["NGO-STS-01"]
    assert (sts.baseline_kind, sts.baseline_rate, sts.baseline_unit) == (BaselineKind.electric, 5.2, "kWh/move")
    assert {trial.hydrogen_pathway for trial in trials.values()} == {None, "grey", "electrolytic_grid", "declared"}
    tug = trials["NGO-TUG-01"]
    assert (tug.hydrogen_factor_kg_per_kg, tug.hydrogen_factor_source) == (
        2.1,
        "supplier's certificate of origin, by-product hydrogen 2025",
    )
    engines = [trial.baseline_engine for trial in trials.values()]
    assert None in engines and {"nonroad_tier3", "marine_tier3", "onroad_2010"} <= set(engines)
    declared = [trial for trial in trials.values() if trial.baseline_rate is not None]
    assert 10 <= len(declared) < len(trials) - 5  # declared rates on many trials, measured baselines on the others


def test_only_one_source_sends_its_own_avoided_figure_and_it_is_15_percent_high(demo: Engine, tmp_path: Path) -> None:
    query = """
        SELECT t.code, SUM(m.reported_ghg_avoided_kg), SUM(m.distance_km), SUM(m.energy_kwh), COUNT(*)
        FROM measurement m JOIN trial t ON t.id = m.trial_id
        WHERE m.reported_ghg_avoided_kg IS NOT NULL GROUP BY t.code
    """
    with Session(demo) as session:
        [(code, reported, km, kwh, _rows)] = session.execute(sa.text(query)).all()
    assert code == "SHA-DT-01"
    computed = 0.45 * km * 3.324 - kwh * 0.513  # declared 0.45 L/km, diesel WTW, CNSHA grid (METHODOLOGY.md §4)
    assert reported / computed == pytest.approx(1.15, abs=0.001)


def test_only_the_two_deliberate_checks_rise_above_info(demo: Engine) -> None:
    """METHODOLOGY.md §9: one stale trial and one source 15 % off; every other check is for information only."""
    with read_session(demo) as session:
        trials = list_trials(session=session, scope=Scope.operator())
        found = trial_results(session=session, scope=Scope.operator(), trials=trials, as_of=TODAY)
    results = {row.trial.code: row.result for row in found}
    raised = sorted(
        (check.code, code) for code, result in results.items() for check in result.checks if check.level != Level.info
    )
    assert [check for check, _code in raised] == ["reported_gap", "stale"]
    stale_trial = next(code for check, code in raised if check == "stale")
    assert results[stale_trial].values["days_since_data"] == STALE_DAYS
    assert all(result.values["ghg_wtw_avoided_kg"] is not None for result in results.values())


def test_the_overview_headline_says_it_stands_on_every_demo_trial(demo: Engine) -> None:
    with read_session(demo) as session:
        rows = trial_rows(session=session, scope=Scope.operator(), state=ViewState(), as_of=TODAY)
    headline = {row[0]: row for row in headline_table(rows).rows}
    _figure, avoided_t, unit, with_data, trials = headline[METRICS["ghg_wtw_avoided_kg"].label]
    assert (unit, with_data, trials) == ("t CO2e", len(DEMO_TRIALS), len(DEMO_TRIALS))
    assert avoided_t is not None and avoided_t > 0
    assert left_out(rows) == []
