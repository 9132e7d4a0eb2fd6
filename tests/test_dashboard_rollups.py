"""Rollups: rebuilt exactly from measurements, read only within a scope, and equal to the raw-row metrics."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from importers.load import undo_batch
from importers.pipeline import import_file
from tests.conftest import demo_files
from tests.factories import make_measurement, make_trial, make_unit
from trials.db import alembic_config, make_engine, write_session
from trials.factors import load_factors
from trials.metrics import TOTALS_FIELDS, Totals, TrialInputs, compute
from trials.models import DailyRollup, Measurement, MonthlyRollup, Role, Trial, UnitRole, UnitRunningTotal
from trials.periods import Period
from trials.pieces import piece_column, pieces
from trials.queries import list_ports, list_trials
from trials.results import trial_inputs
from trials.rollup_sums import period_data
from trials.rollups import refresh_rollups
from trials.scope import Scope
from trials.seed import initialise, seed_ports
from trials.unit_sums import UnitData, measurement_page, unit_data

OPERATOR = Scope.operator()
AS_OF = date(2024, 3, 1)


def _fleet(session: Session) -> Trial:
    """A yard tractor trial with two trial units, a baseline unit, a gap in energy and a three-day period."""
    trial = make_trial(session)
    one, two = make_unit(session, trial, "U1"), make_unit(session, trial, "U2")
    diesel = make_unit(session, trial, "B1", UnitRole.baseline)
    make_measurement(session, one, date(2024, 1, 5), operating_hours=10.0, energy_kwh=100.0)
    make_measurement(session, one, date(2024, 1, 6), operating_hours=8.0)
    make_measurement(session, two, date(2024, 1, 5), operating_hours=5.0, energy_kwh=50.0, charging_sessions=2)
    make_measurement(session, two, date(2024, 2, 1), days=3, operating_hours=6.0, energy_kwh=60.0)
    make_measurement(session, diesel, date(2024, 1, 5), operating_hours=10.0, diesel_l=32.0)
    return trial


def _raw(session: Session, trial: Trial, as_of: date) -> TrialInputs:
    """A trial's inputs with its sums read straight from its measurements (pieces within one year each, started by
    as-of), not from the rollups: what the rollups must agree with."""
    p = pieces(Measurement.__table__.c.trial_id == trial.id)  # type: ignore[attr-defined]
    by_role: dict[Any, Totals] = {}
    for role in UnitRole:
        sums = [sa.func.sum(piece_column(p, name)) for name in TOTALS_FIELDS]
        row = session.execute(sa.select(*sums).where(p.c.role == role, p.c.period_start <= as_of)).one()
        by_role[role] = Totals(*(None if value is None else float(value) for value in row))
    year = sa.extract("year", p.c.period_start)
    energy = sa.select(year, sa.func.sum(p.c.energy_kwh)).where(
        p.c.role == UnitRole.trial, p.c.energy_kwh.is_not(None), p.c.period_start <= as_of
    )
    by_year = {int(y): float(kwh) for y, kwh in session.execute(energy.group_by(year))}
    rolled = period_data(session=session, scope=OPERATOR, trials=[trial], as_of=as_of)[trial.id or 0].inputs
    return replace(
        rolled, trial=by_role[UnitRole.trial], baseline=by_role[UnitRole.baseline], energy_kwh_by_year=by_year
    )


def _refresh(session: Session, *trials: Trial) -> None:
    """Rebuild rollups and commit, as the importer's transaction would."""
    refresh_rollups(session, [trial.id for trial in trials if trial.id is not None])
    session.commit()


def _rows(session: Session, model: Any, *fields: str) -> list[tuple[Any, ...]]:
    """Read chosen fields of every row of a rollup table, in key order."""
    rows = session.exec(select(model)).all()
    return sorted(tuple(getattr(row, name) for name in fields) for row in rows)


def _units(session: Session, trial: Trial, period: Period) -> list[UnitData]:
    """The trial's units over a period, each against the trial's own baseline over it."""
    baseline = period_data(session=session, scope=OPERATOR, trials=[trial], period=period, as_of=AS_OF)
    return unit_data(
        session=session,
        scope=OPERATOR,
        trials=[trial],
        period=period,
        baselines={trial.id or 0: baseline[trial.id or 0].inputs},
    )


def test_refresh_sums_and_counts_each_day_and_marks_every_covered_day(session: Session) -> None:
    trial = _fleet(session)
    _refresh(session, trial)
    fields = ("role", "day", "measurements", "operating_hours", "energy_kwh", "n_energy_kwh", "charging_sessions")
    assert _rows(session, DailyRollup, *fields) == [
        (UnitRole.baseline, date(2024, 1, 5), 1, 10.0, None, 0, None),
        (UnitRole.trial, date(2024, 1, 5), 2, 15.0, 150.0, 2, 2.0),
        (UnitRole.trial, date(2024, 1, 6), 1, 8.0, None, 0, None),
        (UnitRole.trial, date(2024, 2, 1), 1, 6.0, 60.0, 1, None),
        (UnitRole.trial, date(2024, 2, 2), 0, None, None, 0, None),  # covered by the three-day period only
        (UnitRole.trial, date(2024, 2, 3), 0, None, None, 0, None),
    ]


def test_periods_starting_the_same_day_cover_the_days_up_to_the_longest(session: Session) -> None:
    trial = make_trial(session)
    one, two = make_unit(session, trial, "U1"), make_unit(session, trial, "U2")
    make_measurement(session, one, date(2024, 3, 30), days=2, operating_hours=20.0)  # 30 and 31 March
    make_measurement(session, two, date(2024, 3, 30), days=4, operating_hours=40.0)  # 30 March to 2 April
    make_measurement(session, two, date(2024, 4, 1), operating_hours=5.0)  # a day the longer period covers too
    _refresh(session, trial)
    assert _rows(session, DailyRollup, "day", "measurements", "operating_hours") == [
        (date(2024, 3, 30), 2, 60.0),  # both periods' sums on their first day: 20 + 40
        (date(2024, 3, 31), 0, None),
        (date(2024, 4, 1), 1, 5.0),  # its own row, once, though the 4-day period covers it
        (date(2024, 4, 2), 0, None),
    ]
    assert _rows(session, MonthlyRollup, "month", "days_covered", "measurements", "operating_hours") == [
        (202403, 2, 2, 60.0),
        (202404, 2, 1, 5.0),
    ]


def test_refresh_builds_monthly_rows_with_days_covered(session: Session) -> None:
    trial = _fleet(session)
    _refresh(session, trial)
    fields = ("role", "month", "measurements", "operating_hours", "n_operating_hours", "energy_kwh", "diesel_l")
    assert _rows(session, MonthlyRollup, *fields) == [
        (UnitRole.baseline, 202401, 1, 10.0, 1, None, 32.0),
        (UnitRole.trial, 202401, 3, 23.0, 3, 150.0, None),
        (UnitRole.trial, 202402, 1, 6.0, 1, 60.0, None),
    ]
    assert _rows(session, MonthlyRollup, "month", "days_covered", "first_day", "last_day", "role") == [
        (202401, 1, date(2024, 1, 5), date(2024, 1, 5), UnitRole.baseline),
        (202401, 2, date(2024, 1, 5), date(2024, 1, 6), UnitRole.trial),
        (202402, 3, date(2024, 2, 1), date(2024, 2, 3), UnitRole.trial),
    ]


def test_refresh_keeps_each_units_running_totals_month_by_month(session: Session) -> None:
    trial = _fleet(session)
    _refresh(session, trial)
    fields = ("month", "role", "measurements", "operating_hours", "energy_kwh", "n_energy_kwh")
    assert _rows(session, UnitRunningTotal, *fields) == [
        (202401, UnitRole.baseline, 1, 10.0, None, 0),
        (202401, UnitRole.trial, 1, 5.0, 50.0, 1),  # U2
        (202401, UnitRole.trial, 2, 18.0, 100.0, 1),  # U1
        (202402, UnitRole.trial, 2, 11.0, 110.0, 2),  # U2: January and February
    ]


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        (Period(), [("U1", 18.0, 100.0, {2024: 100.0}), ("U2", 11.0, 110.0, {2024: 110.0})]),
        (Period(202402, 202402), [("U2", 6.0, 60.0, {2024: 60.0})]),
        (Period(202401, 202401), [("U1", 18.0, 100.0, {2024: 100.0}), ("U2", 5.0, 50.0, {2024: 50.0})]),
    ],
)
def test_unit_sums_over_a_period_are_the_difference_of_running_totals(
    session: Session, period: Period, expected: list[tuple[str, float, float | None, dict[int, float]]]
) -> None:
    trial = _fleet(session)
    _refresh(session, trial)
    units = _units(session, trial, period)
    assert [
        (u.unit, u.inputs.trial.operating_hours, u.inputs.trial.energy_kwh, dict(u.inputs.energy_kwh_by_year))
        for u in units
    ] == expected
    baseline = period_data(session=session, scope=OPERATOR, trials=[trial], period=period, as_of=AS_OF)
    assert all(u.inputs.baseline == baseline[trial.id or 0].inputs.baseline for u in units)


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        # U1: 40 kWh in Nov 2023, a month with no electricity (only hours) in Dec 2023, 70 kWh in Mar 2025.
        # U2: 15 kWh in Dec 2023 only, so it has no row at the end of 2025 beyond its last month.
        (Period(), [("U1", 110.0, {2023: 40.0, 2025: 70.0}), ("U2", 15.0, {2023: 15.0})]),
        (Period(202312, 202503), [("U1", 70.0, {2025: 70.0}), ("U2", 15.0, {2023: 15.0})]),
        (Period(202401, 202512), [("U1", 70.0, {2025: 70.0})]),
    ],
)
def test_unit_electricity_is_split_by_calendar_year_across_year_ends(
    session: Session, period: Period, expected: list[tuple[str, float, dict[int, float]]]
) -> None:
    trial = make_trial(session)
    one, two = make_unit(session, trial, "U1"), make_unit(session, trial, "U2")
    make_measurement(session, one, date(2023, 11, 3), operating_hours=4.0, energy_kwh=40.0)
    make_measurement(session, one, date(2023, 12, 3), operating_hours=2.0)
    make_measurement(session, one, date(2025, 3, 3), operating_hours=7.0, energy_kwh=70.0)
    make_measurement(session, two, date(2023, 12, 9), operating_hours=1.5, energy_kwh=15.0)
    _refresh(session, trial)
    units = _units(session, trial, period)
    assert [(u.unit, u.inputs.trial.energy_kwh, dict(u.inputs.energy_kwh_by_year)) for u in units] == expected


def test_refresh_after_the_measurements_are_gone_leaves_no_rows(session: Session) -> None:
    trial = _fleet(session)
    _refresh(session, trial)
    session.execute(sa.delete(Measurement))
    _refresh(session, trial)
    for model in (DailyRollup, MonthlyRollup, UnitRunningTotal):
        assert session.exec(select(model)).all() == []


def test_period_data_over_all_time_equals_the_raw_row_inputs(session: Session) -> None:
    trial = _fleet(session)
    _refresh(session, trial)
    found = period_data(session=session, scope=OPERATOR, trials=[trial], as_of=AS_OF)[trial.id or 0]
    assert found.inputs == _raw(session, trial, AS_OF)
    assert found.inputs == trial_inputs(session=session, scope=OPERATOR, trial=trial, as_of=AS_OF)
    # 1 Jan to the last data day, 3 Feb: reporting lag after it is not a gap (METHODOLOGY.md §7.4)
    assert (found.inputs.days_covered, found.inputs.days_in_period) == (5, 34)
    assert found.inputs.last_data_date == date(2024, 2, 3)
    assert (found.first_day, found.last_day, found.days_with_data) == (date(2024, 1, 5), date(2024, 2, 3), 5)


def test_coverage_counts_only_days_within_the_trial_period_so_far(session: Session) -> None:
    trial = _fleet(session)
    early = make_unit(session, trial, "U3")
    make_measurement(session, early, date(2023, 12, 30), days=4, operating_hours=1.0)  # two days before the start
    make_measurement(session, early, date(2024, 3, 5), operating_hours=1.0)  # after as_of
    _refresh(session, trial)
    found = period_data(session=session, scope=OPERATOR, trials=[trial], as_of=AS_OF)[trial.id or 0]
    assert (found.inputs.days_covered, found.inputs.days_in_period) == (7, 34)  # the row after as-of is not counted
    assert found.inputs == _raw(session, trial, AS_OF)


def test_a_period_keeps_only_its_months(session: Session) -> None:
    trial = _fleet(session)
    _refresh(session, trial)
    period = Period(first_month=202402, last_month=202402)
    found = period_data(session=session, scope=OPERATOR, trials=[trial], period=period, as_of=AS_OF)[trial.id or 0]
    assert (found.inputs.trial.operating_hours, found.inputs.trial.energy_kwh) == (6.0, 60.0)
    assert found.inputs.baseline.diesel_l is None
    assert found.inputs.energy_kwh_by_year == {2024: 60.0}
    assert (found.inputs.days_covered, found.inputs.days_in_period) == (3, 3)  # 1-3 Feb, the last day with data


def test_measurement_pages_walk_unit_by_unit_and_date_by_date_within_the_period(session: Session) -> None:
    trial = _fleet(session)
    _refresh(session, trial)
    pages = [
        measurement_page(session=session, scope=OPERATOR, trial=trial, offset=offset, limit=2) for offset in (0, 2, 4)
    ]
    assert [[(m.unit, m.row.period_start) for m in page] for page, _count in pages] == [
        [("B1", date(2024, 1, 5)), ("U1", date(2024, 1, 5))],
        [("U1", date(2024, 1, 6)), ("U2", date(2024, 1, 5))],
        [("U2", date(2024, 2, 1))],
    ]
    assert {count for _page, count in pages} == {5}
    february, count = measurement_page(session=session, scope=OPERATOR, trial=trial, period=Period(202402, 202402))
    assert ([(m.unit, m.role, m.row.energy_kwh) for m in february], count) == ([("U2", UnitRole.trial, 60.0)], 1)


def test_rollup_reads_refuse_a_trial_outside_the_scope(session: Session) -> None:
    trial = _fleet(session)
    _refresh(session, trial)
    other_port = Scope(role=Role.partner, port_locode="SGSIN")
    with pytest.raises(LookupError):
        period_data(session=session, scope=other_port, trials=[trial], as_of=AS_OF)


def test_import_then_undo_keeps_rollups_in_step_with_the_refresh_calls(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    trial = make_trial(session, code="CSV-1")
    path = tmp_path / "rows.csv"
    path.write_text("Trial,Unit,Role,Date,Operating hours,Energy (kWh)\nCSV-1,U1,trial,2024-01-02,4,40\n")
    result = import_file(engine, path, scope=OPERATOR)
    assert result.status == "imported" and result.batch is not None
    with write_session(engine) as writing:  # the call the importer makes at the end of its transaction
        refresh_rollups(writing, {trial.id or 0})
    assert _rows(session, MonthlyRollup, "month", "operating_hours", "energy_kwh") == [(202401, 4.0, 40.0)]
    with write_session(engine) as writing:  # and after undo, in the undo's transaction
        undo_batch(writing, result.batch, actor="test")
        refresh_rollups(writing, {trial.id or 0})
    session.rollback()  # end the read transaction, whose snapshot predates the undo
    assert session.exec(select(MonthlyRollup)).all() == []


def _stored_before_rollups(connection: sa.Connection) -> None:
    """The fleet of _fleet, written into the tables as revision 0001 made them (today's models have more columns)."""
    tables = sa.MetaData()
    trial, unit, measurement = (
        sa.Table(name, tables, autoload_with=connection) for name in ("trial", "unit", "measurement")
    )
    now = datetime.now(UTC)
    trial_id = connection.execute(
        sa.insert(trial).values(
            code="LGB-YT-01",
            name="Battery-electric yard tractors",
            port_locode="USLGB",
            equipment_class="yard_tractor",
            technology="battery_electric",
            start_date=date(2024, 1, 1),
            end_date=date(2024, 12, 31),
            status="active",
            visibility="private",
            created_at=now,
            updated_at=now,
        )
    ).inserted_primary_key[0]
    ids = {}
    for name, role in (("U1", "trial"), ("U2", "trial"), ("B1", "baseline")):
        ids[name] = connection.execute(
            sa.insert(unit).values(trial_id=trial_id, unit_id=name, role=role)
        ).inserted_primary_key[0]
    rows = [
        ("U1", date(2024, 1, 5), 1, {"operating_hours": 10.0, "energy_kwh": 100.0}),
        ("U1", date(2024, 1, 6), 1, {"operating_hours": 8.0}),
        ("U2", date(2024, 1, 5), 1, {"operating_hours": 5.0, "energy_kwh": 50.0, "charging_sessions": 2}),
        ("U2", date(2024, 2, 1), 3, {"operating_hours": 6.0, "energy_kwh": 60.0}),
        ("B1", date(2024, 1, 5), 1, {"operating_hours": 10.0, "diesel_l": 32.0}),
    ]
    for name, day, days, values in rows:
        period = {"period_start": day, "period_end": day + timedelta(days=days)}
        connection.execute(sa.insert(measurement).values(trial_id=trial_id, unit_id=ids[name], **period, **values))


def test_the_migrations_and_init_fill_rollups_from_measurements_already_stored(db_url: str) -> None:
    """Measurements stored before the rollups existed get the same rollups as a rebuild: 0002 fills them, 0005
    drops their stamps for its paired sums, and `zetrials init` rebuilds every unstamped trial."""
    engine = make_engine(db_url)
    config = alembic_config(db_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with Session(engine) as session:
        seed_ports(session)
        session.commit()
    with engine.begin() as connection:
        _stored_before_rollups(connection)
    initialise(engine)
    daily = ("role", "day", "measurements", "operating_hours", "energy_kwh", "p_operating_hours", "unit_days")
    monthly = ("role", "month", "measurements", "days_covered", "first_day", "last_day", "p_operating_hours_energy_kwh")
    per_unit = (
        "unit_id",
        "month",
        "role",
        "measurements",
        "operating_hours",
        "n_operating_hours",
        "n_p_operating_hours",
    )
    with Session(engine) as session:
        migrated = [_rows(session, m, *f) for m, f in ((DailyRollup, daily), (MonthlyRollup, monthly))]
        migrated.append(_rows(session, UnitRunningTotal, *per_unit))
        refresh_rollups(session, [trial.id for trial in session.exec(select(Trial)) if trial.id is not None])
        session.commit()
        refreshed = [_rows(session, m, *f) for m, f in ((DailyRollup, daily), (MonthlyRollup, monthly))]
        refreshed.append(_rows(session, UnitRunningTotal, *per_unit))
    engine.dispose()
    assert migrated == refreshed
    assert len(migrated[0]) == 6
    # the baseline unit (no kWh), then January (U1 100 kWh with 10 h and U2 50 with 5 h; U1's 8 h without energy are
    # unpaired) and February of the trial units
    assert [row[-1] for row in migrated[1]] == [None, 150.0, 60.0]
    # unit-days: the baseline unit's one day; the trial units' 1 + 1 + 1 days in January and U2's three in February
    assert sum(row[-1] or 0 for row in migrated[0] if row[0] == UnitRole.baseline) == 1
    assert sum(row[-1] or 0 for row in migrated[0] if row[0] == UnitRole.trial) == 6


def test_every_demo_trial_has_the_same_metrics_from_rollups_as_from_raw_rows(engine: Engine, tmp_path: Path) -> None:
    """The dashboard and the API agree to the digit on real-shaped data (four files, daily and monthly rows)."""
    with Session(engine) as session:
        ports = list_ports(session=session)
    for file in demo_files(tmp_path, ports, AS_OF + timedelta(days=120)):  # AS_OF cuts the data
        assert import_file(engine, file, scope=OPERATOR, day_first=file.suffix == ".csv").status == "imported"
    with write_session(engine) as session:
        refresh_rollups(session, [t.id for t in list_trials(session=session, scope=OPERATOR) if t.id])
    with Session(engine) as session:
        trials = list_trials(session=session, scope=OPERATOR)
        factors = load_factors(session)
        from_rollups = period_data(session=session, scope=OPERATOR, trials=trials, as_of=AS_OF)
        for trial in trials:
            raw = compute(_raw(session, trial, AS_OF), factors).values
            rolled = compute(from_rollups[trial.id or 0].inputs, factors).values
            assert {k: _digits(v) for k, v in rolled.items()} == {k: _digits(v) for k, v in raw.items()}, trial.code
    assert len(trials) == 25


def _digits(value: float | None) -> str | None:
    """A figure to 10 significant digits: sums added in another order differ only in the last bits."""
    return None if value is None else f"{value:.10g}"
