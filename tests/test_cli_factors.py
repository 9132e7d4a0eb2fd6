"""`zetrials factors add|list` and the factor set and basis options of `zetrials metrics`, on a real database."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, col, select

from app.cli import main
from tests.factories import make_measurement, make_trial, make_unit
from trials.factors import DATA, DEFAULT_SET
from trials.models import AuditEvent, EmissionFactor, FactorSet

SHIPPED = (DATA / f"factors-{DEFAULT_SET}.csv").read_text(encoding="utf-8")
HEADER = "key,region,year,value,unit,scope,source\n"
#: The line number of a row added at the end of the shipped set's CSV, as the problems name it.
ADDED = len(SHIPPED.splitlines()) + 1


def _csv(tmp_path: Path, text: str, name: str = "factors.csv") -> Path:
    """Write a factor set's CSV where the command can read it."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _with_grid_year(year: int, long_beach_g: float | None = None) -> str:
    """The shipped set with grid factors for 2024 and another year only; Long Beach's 2024 factor changed if asked."""
    lines = [line for line in SHIPPED.splitlines() if not line.startswith("grid,") or ",2024," in line]
    grid = [line for line in lines if line.startswith("grid,")]
    if long_beach_g is not None:
        lines = [
            f"grid,US-CAL-CISO,2024,{long_beach_g:g},g CO2e/kWh,WTW,test grid"
            if line.startswith("grid,US-CAL-CISO,")
            else line
            for line in lines
        ]
    return "\n".join(lines + [line.replace(",2024,", f",{year},", 1) for line in grid]) + "\n"


def _sets(session: Session) -> dict[str, bool]:
    """Every stored set's name and whether it is the default, as committed now."""
    session.rollback()  # end the read transaction, so the next read sees what the command committed
    return {found.name: found.is_default for found in session.exec(select(FactorSet))}


def test_factors_add_stores_a_set_that_list_shows(runner: CliRunner, session: Session, tmp_path: Path) -> None:
    before = _sets(session)
    file = _csv(tmp_path, _with_grid_year(2025))
    rows = len(_with_grid_year(2025).splitlines()) - 1

    result = runner.invoke(main, ["factors", "add", str(file), "--name", "TEST-2025"])

    assert result.exit_code == 0, result.output
    assert f"Added factor set TEST-2025 with {rows} factors; it is not the default until chosen." in result.output
    assert _sets(session) == before | {"TEST-2025": False}
    stored = session.exec(select(FactorSet).where(FactorSet.name == "TEST-2025")).one()
    years = session.exec(
        select(EmissionFactor.year).where(EmissionFactor.factor_set_id == stored.id, EmissionFactor.key == "grid")
    )
    assert set(years) == {2024, 2025}
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "factors.add", AuditEvent.actor == "cli")).one()
    assert (event.actor, event.object) == ("cli", "factorset:TEST-2025")

    listed = runner.invoke(main, ["factors", "list"])
    assert listed.exit_code == 0, listed.output
    line = next(line for line in listed.output.splitlines() if line.startswith("TEST-2025 "))
    assert "default" not in line
    assert f"created {stored.created_at:%Y-%m-%d %H:%M}Z" in line
    assert f"{rows} factors" in line and line.endswith("grid years 2024-2025")
    shipped = next(line for line in listed.output.splitlines() if line.startswith(f"{DEFAULT_SET} "))
    assert " default " in shipped


def test_factors_add_refuses_a_name_that_exists(runner: CliRunner, session: Session, tmp_path: Path) -> None:
    before = _sets(session)
    result = runner.invoke(main, ["factors", "add", str(_csv(tmp_path, SHIPPED)), "--name", DEFAULT_SET])
    assert result.exit_code == 1
    assert f"a factor set {DEFAULT_SET!r} exists already" in result.output
    assert _sets(session) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SHIPPED + "grid,SG,2025,lots,g CO2e/kWh,WTW,here\n", f"row {ADDED}: value: expected a number, not 'lots'"),
        (SHIPPED + "grid,SG,2025,400,,WTW,somewhere\n", f"row {ADDED}: unit: a grid factor is in 'g CO2e/kWh'"),
        (SHIPPED + "grid,SG,2025,400,g CO2e/kWh,WTW,\n", f"row {ADDED}: source: every factor names where it"),
        (SHIPPED + "grid,SG,2024,400,g CO2e/kWh,WTW,again\n", f"row {ADDED}: the same key, region and year as row"),
        ("key,region,value\n", "the header must name the columns key,region,year,value,unit,scope,source"),
        (HEADER + "grid,SG,2024,400,g CO2e/kWh,WTW,x\n", "lacks the factor 'diesel_ttw'"),
    ],
)
def test_factors_add_refuses_a_bad_csv_saying_where(
    runner: CliRunner, session: Session, tmp_path: Path, text: str, message: str
) -> None:
    before = _sets(session)
    result = runner.invoke(main, ["factors", "add", str(_csv(tmp_path, text)), "--name", "BAD"])
    assert result.exit_code == 1
    assert "nothing was stored" in result.output
    assert message in result.output
    assert _sets(session) == before


def test_factors_add_refuses_a_file_that_is_not_utf8(runner: CliRunner, tmp_path: Path) -> None:
    file = tmp_path / "latin.csv"
    file.write_bytes((SHIPPED + "grid,SE-SE4,2025,39,g CO2e/kWh,WTW,Malmö\n").encode("cp1252"))
    result = runner.invoke(main, ["factors", "add", str(file), "--name", "LATIN"])
    assert result.exit_code == 1
    assert "is not UTF-8 text" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["factors", "add", "missing.csv", "--name", "X"],
        ["factors", "add", "{file}"],
        ["factors", "add", "{file}", "--name", "   "],
        ["factors", "add", "{file}", "--name", "N" * 41],
        ["factors", "list", "extra"],
    ],
)
def test_factors_usage_errors_exit_2(runner: CliRunner, session: Session, tmp_path: Path, args: list[str]) -> None:
    before = _sets(session)
    file = str(_csv(tmp_path, SHIPPED))
    result = runner.invoke(main, [arg.format(file=file) for arg in args])
    assert result.exit_code == 2, result.output
    assert _sets(session) == before


def _long_beach_trial(session: Session, **overrides: object) -> None:
    """A Long Beach trial that drew 1,000 kWh on one day of 2024."""
    trial = make_trial(session, **overrides)
    make_measurement(session, make_unit(session, trial), date(2024, 2, 1), operating_hours=10.0, energy_kwh=1000.0)


def _ghg_wtw(runner: CliRunner, *options: str) -> float | None:
    """The trial's well-to-wheel GHG as `metrics --json` prints it."""
    result = runner.invoke(main, ["metrics", "--trial", "LGB-YT-01", "--json", *options])
    assert result.exit_code == 0, result.output
    value: float | None = json.loads(result.output)["ghg_wtw_kg"]
    return value


def test_factors_add_default_switches_the_set_metrics_use(runner: CliRunner, session: Session, tmp_path: Path) -> None:
    _long_beach_trial(session)
    assert _ghg_wtw(runner) == pytest.approx(229.0)  # 1,000 kWh × 229 g (the default set's 2024 US-CAL-CISO)
    file = _csv(tmp_path, _with_grid_year(2025, long_beach_g=100))

    result = runner.invoke(main, ["factors", "add", str(file), "--name", "TEST-LGB", "--default"])

    assert result.exit_code == 0, result.output
    assert "it is now the default set" in result.output
    assert [name for name, default in _sets(session).items() if default] == ["TEST-LGB"]
    event = session.exec(
        select(AuditEvent).where(AuditEvent.action == "factors.default", AuditEvent.actor == "cli")
    ).one()
    assert (event.actor, event.before, event.after) == ("cli", {"default": DEFAULT_SET}, {"default": "TEST-LGB"})
    assert _ghg_wtw(runner) == pytest.approx(100.0)
    assert _ghg_wtw(runner, "--factors", DEFAULT_SET) == pytest.approx(229.0)
    readable = runner.invoke(main, ["metrics", "--trial", "LGB-YT-01"])
    assert "factor set TEST-LGB, location-based" in readable.output
    listed = runner.invoke(main, ["factors", "list"]).output.splitlines()
    assert [line.split()[0] for line in listed if " default " in line] == ["TEST-LGB"]


def test_metrics_factors_names_a_set(runner: CliRunner, session: Session, tmp_path: Path) -> None:
    _long_beach_trial(session)
    file = _csv(tmp_path, _with_grid_year(2025, long_beach_g=50))
    assert runner.invoke(main, ["factors", "add", str(file), "--name", "TEST-LOW"]).exit_code == 0
    assert _ghg_wtw(runner, "--factors", "TEST-LOW") == pytest.approx(50.0)
    assert _ghg_wtw(runner) == pytest.approx(229.0)  # the default set is still the shipped one
    ports = runner.invoke(main, ["metrics", "--port", "USLGB", "--factors", "TEST-LOW", "--json"])
    assert json.loads(ports.output)["LGB-YT-01"]["ghg_wtw_kg"] == pytest.approx(50.0)


def test_metrics_refuses_an_unknown_factor_set_listing_the_sets(runner: CliRunner, session: Session) -> None:
    _long_beach_trial(session)
    names = [found.name for found in session.exec(select(FactorSet).order_by(col(FactorSet.id)))]
    for args in (["--trial", "LGB-YT-01"], [], ["--json"]):
        result = runner.invoke(main, ["metrics", *args, "--factors", "ZE-1999"])
        assert result.exit_code == 1
        assert f"no factor set 'ZE-1999'; the factor sets are: {', '.join(names)}" in result.output


def test_metrics_basis_market_uses_the_trials_own_factor(runner: CliRunner, session: Session) -> None:
    _long_beach_trial(session, market_factor_g_per_kwh=20.0, market_factor_source="renewable PPA")
    assert _ghg_wtw(runner, "--basis", "market") == pytest.approx(20.0)  # 1,000 kWh × 20 g
    assert _ghg_wtw(runner, "--basis", "location") == pytest.approx(229.0)
    readable = runner.invoke(main, ["metrics", "--port", "USLGB", "--basis", "market"])
    assert f"factor set {DEFAULT_SET}, market-based" in readable.output
    wrong = runner.invoke(main, ["metrics", "--basis", "residual"])
    assert wrong.exit_code == 2
