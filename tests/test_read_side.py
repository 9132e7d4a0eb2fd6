"""One read side: the report, the API, the CLI and the dashboard give the same figures for the same trials, to the
digit, because each gets them from trials.results."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.cli import main
from app.dashboard.data import trial_detail, trial_rows
from app.dashboard.state import ViewState
from reports.data import Selection, gather
from tests.factories import make_measurement, make_trial, make_unit, make_user, sign_in
from trials.db import read_session
from trials.models import EquipmentClass, Role, Technology, TrialStatus, UnitRole, Visibility
from trials.scope import Scope

OPERATOR = Scope.operator()
#: Mid-month, with a row after it: as-of's tail must come off the month's rollups everywhere alike.
AS_OF = date(2025, 1, 20)
CODES = ("LGB-YT-01", "SIN-H2-01", "LGB-RTG-01")


def _trials(session: Session) -> None:
    """Three trials with what makes reading hard: a row across a new year, baseline units, a row after as-of in
    as-of's month, hydrogen, a market factor, and a fleet-level row."""
    tractors = make_trial(session, end_date=None, baseline_rate=6.6, baseline_unit="L/h", units_planned=2)
    one, two = make_unit(session, tractors, "YT-1"), make_unit(session, tractors, "YT-2")
    diesel = make_unit(session, tractors, "DSL-1", UnitRole.baseline)
    make_measurement(session, one, date(2024, 12, 25), days=14, operating_hours=70.0, energy_kwh=140.0)
    make_measurement(session, one, date(2025, 1, 2), operating_hours=10.0, energy_kwh=200.0, moves=30.0)
    make_measurement(session, two, date(2025, 1, 3), operating_hours=7.5, energy_kwh=101.3)
    make_measurement(session, two, date(2025, 1, 25), operating_hours=9.0, energy_kwh=50.0)  # after as-of
    make_measurement(session, diesel, date(2025, 1, 2), operating_hours=10.0, diesel_l=61.7)
    hydrogen = make_trial(
        session,
        code="SIN-H2-01",
        port_locode="SGSIN",
        equipment_class=EquipmentClass.drayage_truck,
        technology=Technology.hydrogen_fuel_cell,
        start_date=date(2024, 11, 1),
        end_date=date(2025, 1, 10),
        status=TrialStatus.completed,
        baseline_rate=0.45,
        baseline_unit="L/km",
        visibility=Visibility.partners,
    )
    truck = make_unit(session, hydrogen, "TRK-1")
    make_measurement(session, truck, date(2024, 11, 4), days=3, distance_km=812.4, hydrogen_kg=61.9)
    make_measurement(session, truck, date(2025, 1, 6), distance_km=230.1, hydrogen_kg=17.3, operating_hours=6.2)
    cranes = make_trial(
        session,
        code="LGB-RTG-01",
        equipment_class=EquipmentClass.rtg_crane,
        technology=Technology.hybrid_diesel_electric,
        start_date=date(2024, 10, 1),
        end_date=None,
        baseline_rate=2.1,
        baseline_unit="L/move",
        market_factor_g_per_kwh=35.0,
        units_planned=3,
    )
    fleet = make_unit(session, cranes, "fleet")
    make_measurement(session, fleet, date(2024, 10, 1), days=31, moves=4100.0, energy_kwh=9300.0, diesel_l=2450.0)
    make_measurement(session, fleet, date(2025, 1, 1), days=31, moves=3900.0, energy_kwh=8800.0, diesel_l=2300.0)


def _as_json(found: Any) -> dict[str, Any]:
    """A result as the JSON answers carry it, read back: the §3 keys, last_data_date and the checks."""
    loaded: dict[str, Any] = json.loads(json.dumps(found.as_json()))
    return loaded


def test_report_api_cli_and_dashboard_give_the_same_figures_to_the_digit(
    engine: Engine, session: Session, client: FlaskClient, runner: CliRunner
) -> None:
    _trials(session)
    make_user(session, "exec@example.org", role=Role.executive)
    assert sign_in(client, "exec@example.org") == 302

    with read_session(engine) as reader:
        report = gather(
            session=reader, scope=OPERATOR, selection=Selection(), generated_at=datetime.now(UTC), as_of=AS_OF
        )
    from_report = {found.trial.code: _as_json(found.result) for found in report.trials}

    from_api = {}
    for code in CODES:
        answer = client.get(f"/api/v1/trials/{code}/metrics?as_of={AS_OF.isoformat()}")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        body = answer.get_json()
        from_api[code] = {**body["metrics"], "checks": body["checks"]}

    printed = runner.invoke(main, ["metrics", "--json", "--as-of", AS_OF.isoformat()])
    assert printed.exit_code == 0, printed.output
    from_cli = json.loads(printed.output)

    with read_session(engine) as reader:
        rows = trial_rows(session=reader, scope=OPERATOR, state=ViewState(), as_of=AS_OF)
        from_overview = {row.trial.code: _as_json(row.result) for row in rows}
        pages = {
            code: trial_detail(session=reader, scope=OPERATOR, code=code, state=ViewState(), as_of=AS_OF)
            for code in CODES
        }
    from_trial_page = {code: _as_json(page.row.result) for code, page in pages.items() if page is not None}

    assert set(from_report) == set(CODES)
    assert from_report == from_api == from_cli == from_overview == from_trial_page
    # worked by hand: YT-1 70 h and 140 kWh over 25 Dec-7 Jan (all started by as-of), 10 h and 200 kWh on 2 Jan;
    # YT-2 7.5 h and 101.3 kWh on 3 Jan; its row of 25 Jan starts after as-of and is not counted
    tractors = from_report["LGB-YT-01"]
    assert tractors["operating_hours"] == 70.0 + 10.0 + 7.5
    assert tractors["energy_kwh"] == pytest.approx(140.0 + 200.0 + 101.3)
    assert tractors["last_data_date"] == "2025-01-07"
