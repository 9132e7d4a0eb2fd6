"""How fast does every dashboard callback answer over millions of measurements, against scanning the raw rows?

Run from the project folder:

    .venv/bin/python benchmarks/dashboard_speed.py [--rows 10000000] [--trials 200] [--days 730]
        [--database sqlite postgres] [--postgres-url URL] [--out DIR] [--repeat 40] [--naive-repeat 3]
        [--report-repeat 1]

It builds a database once per size (cached: a SQLite file in DIR, a schema on the PostgreSQL server) holding
`--trials` trials shaped like the 25 demo trials (their ports, classes, technologies, baselines and daily
profiles), each unit measured once a day for `--days` days, inserted straight through the driver (executemany on
SQLite, COPY on PostgreSQL), then rebuilds every rollup with trials.rollups.refresh_rollups and times that too.

Then it warms the app up as every server process does from its first request (app.dashboard.warm: the Overview's
months and each class's comparison and unit spread), timing what a first opening computes there, and, signed
in as an admin (the widest scope), it posts each callback to /dashboard/_dash-update-component
through the Flask test client `--repeat` times, rotating filters (ports, classes, technologies, periods, trials,
time grains), and prints p50/p95 per callback. In the same run it times the naive way to the same figures:
sums scanned from the raw rows (what every page did before rollups, written out here) and raw GROUP BYs for the
monthly and daily series, `--naive-repeat` times each. It also times whole pages as a person waits for them: `/` (which
leads to the Overview) and `/trials/<code>` (which leads to the dashboard's trial page), each with every callback
that fills it, one after another; `GET /api/v1/trials/<code>/metrics`; and `zetrials report --port` for the port
with the most trials, `--report-repeat` times. The target: every callback and API answer under 150 ms at the 95th
percentile (a browser fires a page's callbacks at once, so a page meets it when each of its parts does).

On the 2-core development machine, 10,000,000 rows (200 trials x 69 units x 730 days) took 7 minutes to insert on
SQLite and 4 on PostgreSQL, and the rollup rebuild 1-3 minutes on SQLite and 30-40 s on PostgreSQL; measuring
both databases with --naive-repeat 1 takes about 5 minutes more (a naive full scan alone is 13-20 s a call).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

import sqlalchemy as sa  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from app.dashboard.warm import warm_up  # noqa: E402
from app.factory import create_app  # noqa: E402
from app.serving import settle_collector  # noqa: E402
from importers.demo import DEMO_TRIALS, PROFILES, Profile  # noqa: E402
from trials.accounts import add_user  # noqa: E402
from trials.db import make_engine, read_session, write_session  # noqa: E402
from trials.metrics import PRIMARY_ACTIVITY, Activity  # noqa: E402
from trials.models import EquipmentClass, Measurement, Role, Technology, Trial, Unit, UnitRole, utcnow  # noqa: E402
from trials.queries import list_trials  # noqa: E402
from trials.rollups import refresh_rollups  # noqa: E402
from trials.scope import Scope  # noqa: E402
from trials.seed import initialise  # noqa: E402

DEFAULT_OUT = Path(tempfile.gettempdir()) / "zetrials-benchmark"
GENERATOR_VERSION = 2  # bump when the data's shape changes, so cached databases are rebuilt
FIRST_DAY = date(2024, 1, 1)
SEED = 20250101
TARGET_P95_MS = 150.0
PASSWORD = "benchmark password"  # noqa: S105 - a throwaway user of a throwaway database
ADMIN = "bench-admin@example.org"
CALLBACK = "/dashboard/_dash-update-component"
COLUMNS = (
    "trial_id", "unit_id", "period_start", "period_end", "operating_hours", "energy_kwh", "hydrogen_kg",
    "diesel_l", "distance_km", "moves", "scheduled_hours", "downtime_hours", "source_sheet", "source_row",
)  # fmt: skip


# --- the database -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    """How much data to build: rows spread over trials, each unit measured once a day."""

    rows: int
    trials: int
    days: int

    @property
    def units_per_trial(self) -> int:
        """Units each trial needs for the rows asked for."""
        return max(1, math.ceil(self.rows / (self.trials * self.days)))

    @property
    def name(self) -> str:
        """A name for the cached database of this size."""
        return f"dash_{self.rows}_{self.trials}_{self.days}_v{GENERATOR_VERSION}"


def _energy(
    technology: Technology, hours: float, kwh_per_h: float, diesel_per_h: float, chance: random.Random
) -> tuple[Any, ...]:  # noqa: E501
    """Split a day's work into electricity, hydrogen and diesel as the technology uses them."""
    work = hours * kwh_per_h * chance.uniform(0.9, 1.1)
    diesel = hours * diesel_per_h * chance.uniform(0.92, 1.08)
    if technology == Technology.diesel:
        return None, None, round(diesel, 1)
    if technology in (Technology.hydrogen_fuel_cell, Technology.hydrogen_combustion):
        return None, round(work / 16.0, 2), None
    if technology == Technology.hybrid_diesel_electric:
        return round(work * 0.3, 1), None, round(diesel * 0.45, 1)
    return round(work, 1), None, None


def _per_hour(profile: Profile) -> tuple[float, float, float, float]:
    """A profile's work per operating hour: energy (kWh, or hydrogen's at 16 kWh/kg as _energy splits it), baseline
    diesel (L), km and moves, with its primary activity counted where the class counts it."""
    energy = profile.kwh if profile.kwh is not None else (profile.h2_fuel_cell or profile.h2_combustion or 0) * 16.0
    primary = PRIMARY_ACTIVITY[profile_class(profile)]
    km = profile.per_hour if primary == Activity.km else profile.km_per_h
    moves = profile.per_hour if primary == Activity.move else profile.moves_per_h
    return energy * profile.per_hour, profile.diesel_l * profile.per_hour, km, moves


def profile_class(profile: Profile) -> EquipmentClass:
    """The equipment class a profile belongs to."""
    return next(equipment for equipment, found in PROFILES.items() if found is profile)


def _rows(size: Size, units: list[tuple[int, int, int]]) -> Iterator[tuple[Any, ...]]:
    """Yield one row per unit and day: (trial id, unit id, demo shape index, is baseline) drives the values."""
    chance = random.Random(SEED)
    number = 1
    for trial_id, unit_id, shape_and_role in units:
        shape, baseline = divmod(shape_and_role, 2)
        demo = DEMO_TRIALS[shape]
        profile = PROFILES[demo.equipment_class]
        technology = Technology.diesel if baseline else demo.technology
        kwh_per_h, diesel_per_h, km_per_h, moves_per_h = _per_hour(profile)
        for offset in range(size.days):
            day = FIRST_DAY + timedelta(days=offset)
            hours = round(profile.hours * chance.uniform(0.75, 1.1), 1)
            energy, hydrogen, diesel = _energy(technology, hours, kwh_per_h, diesel_per_h, chance)
            number += 1
            yield (
                trial_id, unit_id, day, day + timedelta(days=1), hours, energy, hydrogen, diesel,
                round(hours * km_per_h, 1) if km_per_h else None,
                round(hours * moves_per_h) if moves_per_h else None,
                profile.hours + 2, 0.0 if chance.random() < 0.9 else 2.0, "Measurements", number,
            )  # fmt: skip


def _trials_and_units(connection: sa.Connection, size: Size) -> list[tuple[int, int, int]]:
    """Insert the trials (the demo's shapes, cycled) and their units; give (trial id, unit id, shape*2+baseline)."""
    trial_table, unit_table = Trial.__table__, Unit.__table__  # type: ignore[attr-defined]
    units: list[tuple[int, int, int]] = []
    for number in range(size.trials):
        shape = number % len(DEMO_TRIALS)
        demo = DEMO_TRIALS[shape]
        profile = PROFILES[demo.equipment_class]
        per_km = demo.equipment_class.value == "drayage_truck"
        trial_id = connection.execute(
            sa.insert(trial_table).returning(trial_table.c.id),
            {
                "code": f"B{number:04d}-{demo.code}",
                "name": f"Benchmark {demo.technology.value} {demo.equipment_class.value} {number}",
                "port_locode": demo.port,
                "equipment_class": demo.equipment_class,
                "technology": demo.technology,
                "units_planned": size.units_per_trial,
                "start_date": FIRST_DAY,
                "end_date": None,
                "status": "active",
                "baseline_rate": profile.diesel_l if per_km else round(_per_hour(profile)[1], 3),
                "baseline_unit": "L/km" if per_km else "L/h",
                "baseline_source": "benchmark",
                "rated_power_kw": demo.rated_power_kw,
                "visibility": demo.visibility,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            },
        ).scalar_one()
        baseline_units = size.units_per_trial // 10 if demo.baseline_units else 0
        for unit_number in range(size.units_per_trial):
            baseline = unit_number < baseline_units
            unit_id = connection.execute(
                sa.insert(unit_table).returning(unit_table.c.id),
                {
                    "trial_id": trial_id,
                    "unit_id": f"U{unit_number}",
                    "role": UnitRole.baseline if baseline else UnitRole.trial,
                },
            ).scalar_one()
            units.append((trial_id, unit_id, shape * 2 + int(baseline)))
    return units


def _load_sqlite(engine: Engine, size: Size, units: list[tuple[int, int, int]]) -> None:
    """Insert the rows with executemany, 50,000 at a time, in one transaction."""
    sql = f"INSERT INTO measurement ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"  # noqa: S608
    with engine.begin() as connection:
        chunk: list[tuple[Any, ...]] = []
        for row in _rows(size, units):
            chunk.append((*row[:2], row[2].isoformat(), row[3].isoformat(), *row[4:]))
            if len(chunk) >= 50_000:
                connection.exec_driver_sql(sql, chunk)  # type: ignore[arg-type]
                chunk = []
        if chunk:
            connection.exec_driver_sql(sql, chunk)  # type: ignore[arg-type]


def _load_postgres(engine: Engine, size: Size, units: list[tuple[int, int, int]]) -> None:
    """Insert the rows with COPY, the way PostgreSQL takes bulk data fastest."""
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor, cursor.copy(f"COPY measurement ({', '.join(COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in _rows(size, units):
                copy.write_row(row)
        raw.commit()
        with raw.cursor() as cursor:
            cursor.execute("ANALYZE")  # autovacuum would; the planner needs the table's statistics
        raw.commit()
    finally:
        raw.close()


def build(url: str, size: Size, postgres: bool) -> float | None:
    """Build the database unless it holds this size already; give the rollup rebuild's seconds when built."""
    engine = make_engine(url)
    try:
        initialise(engine)
        with engine.connect() as connection:
            existing = connection.execute(sa.select(sa.func.count()).select_from(Measurement.__table__)).scalar_one()  # type: ignore[attr-defined]
        if existing == size.units_per_trial * size.trials * size.days:
            return None
        if existing:
            raise SystemExit(f"{url} holds {existing:,} other rows; remove it first")
        started = time.perf_counter()
        with engine.begin() as connection:
            units = _trials_and_units(connection, size)
        (_load_postgres if postgres else _load_sqlite)(engine, size, units)
        rows = size.units_per_trial * size.trials * size.days
        print(f"  inserted {rows:,} rows in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        with write_session(engine) as session:
            refresh_rollups(session, [trial_id for trial_id, _unit, _shape in units])
        rebuild = time.perf_counter() - started
        print(f"  rebuilt every rollup in {rebuild:.1f} s", flush=True)
        if postgres:
            with engine.connect() as connection:
                connection.execute(sa.text("ANALYZE"))  # as autovacuum soon would: the planner needs statistics
                connection.commit()
        with write_session(engine) as session:
            add_user(session, email=ADMIN, password=PASSWORD, role=Role.admin, port=None, actor="benchmark")
        return rebuild
    finally:
        engine.dispose()


# --- measuring ----------------------------------------------------------------------------------------------------


def _key(output: tuple[str, str]) -> str:
    """Dash's name for one output."""
    return f"{output[0]}.{output[1]}"


def call(
    client: FlaskClient,
    outputs: list[tuple[str, str]],
    inputs: list[tuple[Any, str, Any]],
    state: list[tuple[Any, str, Any]] | None = None,
) -> float:  # noqa: E501
    """Post one callback as Dash's renderer does; give its milliseconds, failing loudly on an error."""
    key = _key(outputs[0]) if len(outputs) == 1 else ".." + "...".join(_key(o) for o in outputs) + ".."
    body = {
        "output": key,
        "outputs": [{"id": c, "property": p} for c, p in outputs]
        if len(outputs) > 1
        else {"id": outputs[0][0], "property": outputs[0][1]},
        "inputs": [{"id": c, "property": p, "value": v} for c, p, v in inputs],
        "state": [{"id": c, "property": p, "value": v} for c, p, v in (state or [])],
        "changedPropIds": [
            f"{inputs[0][0] if isinstance(inputs[0][0], str) else json.dumps(inputs[0][0])}.{inputs[0][1]}"
        ],
    }
    cookie = client.get_cookie("_csrf_token")
    started = time.perf_counter()
    response = client.post(CALLBACK, json=body, headers={"X-CSRFToken": cookie.value if cookie else ""})
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{key} answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
    return elapsed


VIEWS = ("", "?port=USLAX,USLGB", "?from=2024-07&to=2025-03", "?tech=battery_electric", "?class=yard_tractor",
         "?port=SGSIN&from=2025-01")  # fmt: skip
CLASSES = ("yard_tractor", "drayage_truck", "rtg_crane", "tug", "straddle_carrier", "top_handler")
METRICS = ("energy_per_activity", "reduction_pct", "ghg_avoided", "availability", "efficiency_ratio")
COMPARE_OUTPUTS = [
    ("chart-bars", "figure"),
    ("chart-grid", "figure"),
    ("compare-note", "children"),
    ("compare-report", "children"),
    ("compare-table", "children"),
]
TRIAL_OUTPUTS = [("trial-title", "children"), ("trial-header", "children"), ("trial-metrics", "children"),
                 ("chart-series", "figure"), ("chart-baseline", "figure"), ("chart-availability", "figure"),
                 ("chart-charging", "figure"), ("chart-calendar", "figure")]  # fmt: skip


def callbacks(codes: list[str]) -> dict[str, Callable[[FlaskClient, int], float]]:
    """Every callback, each a function of (client, repetition) that rotates its view."""

    def search(i: int) -> list[tuple[Any, str, Any]]:
        return [("url", "search", VIEWS[i % len(VIEWS)])]

    def compare_search(i: int) -> list[tuple[Any, str, Any]]:
        return [("url", "search", f"?class={CLASSES[i % len(CLASSES)]}&metric={METRICS[i % len(METRICS)]}")]

    def trial_path(i: int) -> list[tuple[Any, str, Any]]:
        return [("url", "pathname", f"/dashboard/trials/{codes[(i * 7) % len(codes)]}")]

    controls = ["f-port", "f-class", "f-tech", "f-from", "f-to", "c-metric", "c-ghg", "c-basis", "c-grain"]
    return {
        "sync_view (URL <-> filters)": lambda c, i: call(
            c, [("url", "search"), *[(k, "value") for k in controls], ("f-preset", "value")],
            [("url", "search", VIEWS[i % len(VIEWS)]), *[(k, "value", None) for k in controls],
             ("f-preset", "value", None)],
        ),
        "route (page layout)": lambda c, i: call(
            c, [("page", "children")], [("url", "pathname", ("/dashboard/", "/dashboard/compare")[i % 2])]
        ),
        "overview headlines": lambda c, i: call(c, [("headlines", "children")], search(i)),
        "overview map": lambda c, i: call(c, [("chart-map", "figure")], search(i)),
        "overview monthly by port": lambda c, i: call(c, [("chart-monthly", "figure")], search(i)),
        "compare spread (unit results)": lambda c, i: call(c, [("chart-spread", "figure")], compare_search(i)),
        "compare (bars, grid)": lambda c, i: call(
            c, COMPARE_OUTPUTS, compare_search(i),
        ),
        "trials table": lambda c, i: call(c, [("trials-grid", "rowData"), ("trials-summary", "children")], search(i)),
        "trial page (month/week/day)": lambda c, i: call(
            c, TRIAL_OUTPUTS, [("url", "search", f"?grain={('month', 'week', 'day')[i % 3]}")], trial_path(i)
        ),
        "trial provenance page": lambda c, i: call(
            c, [("provenance-grid", "rowData"), ("provenance-status", "children"), ("provenance-page", "data")],
            [("provenance-previous", "n_clicks", 0), ("provenance-next", "n_clicks", 1)],
            [("provenance-page", "data", i * 10), *trial_path(i), ("url", "search", "")],
        ),
        "methodology": lambda c, i: call(c, [("methodology-body", "children")], search(i)),
    }  # fmt: skip


def timed_get(client: FlaskClient, path: str) -> float:
    """Get a page or an API answer, following redirects as a browser does; give its milliseconds."""
    started = time.perf_counter()
    response = client.get(path, follow_redirects=True, headers={"Accept": "text/html,application/json"})
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
    return elapsed


#: Pages timed as their request and every callback that fills them, one after another.
SUMMED_PAGES = frozenset({"page / (Overview, all its parts)", "page /trials/<code> (all its parts)"})


def pages(codes: list[str]) -> dict[str, Callable[[FlaskClient, int], float]]:
    """Whole pages and the API, each as long as a person waits for it: a page's own request (after its redirect)
    and then, one after another, every callback that fills it, added up."""
    run = callbacks(codes)

    def code(i: int) -> str:
        return codes[(i * 7) % len(codes)]

    def overview(c: FlaskClient, i: int) -> float:
        page = timed_get(c, "/")  # leads to the Overview, /dashboard/
        parts = ("overview headlines", "overview map", "overview monthly by port")
        return page + sum(run[name](c, i) for name in parts)

    def trial(c: FlaskClient, i: int) -> float:
        page = timed_get(c, f"/trials/{code(i)}")  # leads to the dashboard's trial page
        layout = call(c, [("page", "children")], [("url", "pathname", f"/dashboard/trials/{code(i)}")])
        return page + layout + run["trial page (month/week/day)"](c, i)

    return {
        "page / (Overview, all its parts)": overview,
        "page /trials/<code> (all its parts)": trial,
        "GET /api/v1/trials/<code>/metrics": lambda c, i: timed_get(c, f"/api/v1/trials/{code(i)}/metrics"),
    }


def report_seconds(url: str, port: str, repeat: int) -> list[float]:
    """Time `zetrials report --port` (every sheet, raw rows included) as a user runs it, `repeat` times."""
    from click.testing import CliRunner

    from app.cli import main as zetrials

    found = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repeat):
            started = time.perf_counter()
            result = CliRunner().invoke(
                zetrials, ["report", "--port", port, "-o", f"{folder}/report.xlsx"], env={"DATABASE_URL": url}
            )
            found.append(time.perf_counter() - started)
            if result.exit_code != 0:
                raise SystemExit(f"zetrials report --port {port} failed: {result.output[-300:]}")
    return found


def naive(engine: Engine, codes: list[str]) -> dict[str, Callable[[int], None]]:
    """The same sums by scanning raw measurements, the way there was before rollups (every page and the API now read
    the rollups, so the raw scan is written out here)."""
    scope = Scope.operator()
    m, u = Measurement.__table__, Unit.__table__  # type: ignore[attr-defined]
    fields = ("operating_hours", "energy_kwh", "hydrogen_kg", "diesel_l", "distance_km", "moves", "scheduled_hours")

    def raw_sums(where: Any) -> None:
        """Sum every field per trial and unit role, as the figures need, straight from the measurements."""
        query = (
            sa.select(m.c.trial_id, u.c.role, *[sa.func.sum(m.c[name]) for name in fields])
            .join(u, u.c.id == m.c.unit_id)
            .where(where)
            .group_by(m.c.trial_id, u.c.role)
        )
        with read_session(engine) as session:
            session.execute(query).all()

    def metrics_all(_i: int) -> None:
        raw_sums(sa.true())

    def monthly(_i: int) -> None:
        year, month = sa.extract("year", m.c.period_start), sa.extract("month", m.c.period_start)
        query = (
            sa.select(m.c.trial_id, u.c.role, year, month, *[sa.func.sum(m.c[name]) for name in fields])
            .join(u, u.c.id == m.c.unit_id)
            .group_by(m.c.trial_id, u.c.role, year, month)
        )
        with read_session(engine) as session:
            session.execute(query).all()

    def compare(i: int) -> None:
        with read_session(engine) as session:
            ids = [
                t.id
                for t in list_trials(session=session, scope=scope)
                if t.equipment_class.value == CLASSES[i % len(CLASSES)]
            ]
        raw_sums(m.c.trial_id.in_(ids))

    def trial_page(i: int) -> None:
        with read_session(engine) as session:
            trial = next(t for t in list_trials(session=session, scope=scope) if t.code == codes[(i * 7) % len(codes)])
            daily = sa.select(m.c.period_start, u.c.role, sa.func.sum(m.c.energy_kwh), sa.func.sum(m.c.operating_hours))
            session.execute(
                daily.join(u, u.c.id == m.c.unit_id)
                .where(m.c.trial_id == trial.id)
                .group_by(m.c.period_start, u.c.role)
            ).all()
        raw_sums(m.c.trial_id == trial.id)

    def one_trial(i: int) -> None:
        with read_session(engine) as session:
            trial = next(t for t in list_trials(session=session, scope=scope) if t.code == codes[(i * 7) % len(codes)])
        raw_sums(m.c.trial_id == trial.id)

    def overview(i: int) -> None:
        metrics_all(i)
        monthly(i)

    return {
        "overview headlines": metrics_all,
        "overview map": metrics_all,
        "overview monthly by port": monthly,
        "compare (bars, grid)": compare,
        "trials table": metrics_all,
        "trial page (month/week/day)": trial_page,
        "page / (Overview, all its parts)": overview,
        "page /trials/<code> (all its parts)": trial_page,
        "GET /api/v1/trials/<code>/metrics": one_trial,
    }  # fmt: skip


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def measure(label: str, url: str, size: Size, repeat: int, naive_repeat: int, report_repeat: int) -> bool:
    """Time every callback against its naive scan on one database; print a table; tell whether all met the target."""
    app = create_app({"SECRET_KEY": "benchmark", "DATABASE_URL": url, "TESTING": True})
    settle_collector()  # as every server process does (app.serving)
    logging.getLogger("zetrials.requests").setLevel(logging.WARNING)  # a line per call would drown the table
    engine: Engine = app.extensions["zetrials.engine"]
    warmed = warm_up(engine)  # as every server process does from its first request (on a thread, while it serves)
    with read_session(engine) as session:
        codes = [trial.code for trial in list_trials(session=session, scope=Scope.operator())]
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    client.post("/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": token})
    client.get("/dashboard/")
    timed = callbacks(codes) | pages(codes)
    for run in timed.values():  # warm every code path, cache and connection once
        run(client, 0)
    naive_runs = naive(engine, codes)
    rows = size.units_per_trial * size.trials * size.days
    print(f"\n{label}: {rows:,} rows, {size.trials} trials x {size.units_per_trial} units x {size.days} days; "
          f"{repeat} calls per callback (p50/p95 in ms), naive scan {naive_repeat} calls")  # fmt: skip
    firsts = [seconds * 1000 for seconds in warmed.classes.values()]
    print(f"  a worker's warm-up: {warmed.monthly + sum(firsts) / 1000:.1f} s; what a first opening computes there: "
          f"the Overview's months {warmed.monthly * 1000:.0f} ms, a class's comparison and unit spread "
          f"{statistics.median(firsts):.0f} ms p50, {max(firsts):.0f} ms max ({len(firsts)} classes)")  # fmt: skip
    print(f"  {'callback, page or API':<36} {'p50':>8} {'p95':>8} {'max':>8}   {'naive p50':>10} {'naive/p50':>10}")
    met = True
    naive_p50s: dict[Callable[[int], None], float] = {}  # several callbacks share one naive scan: time it once
    for name, run in timed.items():
        times = [run(client, i) for i in range(1, repeat + 1)]
        p50, p95 = statistics.median(times), percentile(times, 0.95)
        summed = name in SUMMED_PAGES  # a browser fires a page's callbacks at once: each part meets the target alone
        met = met and (p95 < TARGET_P95_MS or summed)
        scan = ""
        if name in naive_runs and naive_repeat > 0:  # --naive-repeat 0 skips the slow scans
            scan_run = naive_runs[name]
            if scan_run not in naive_p50s:
                naive_times = []
                for i in range(naive_repeat):
                    started = time.perf_counter()
                    scan_run(i)
                    naive_times.append((time.perf_counter() - started) * 1000)
                naive_p50s[scan_run] = statistics.median(naive_times)
            scan = f"{naive_p50s[scan_run]:>10,.0f} {naive_p50s[scan_run] / p50:>9,.0f}x"
        flag = "" if p95 < TARGET_P95_MS else "  (its parts one after another)" if summed else "  <- over target"
        print(f"  {name:<36} {p50:>8.1f} {p95:>8.1f} {max(times):>8.1f}   {scan}{flag}", flush=True)
    if report_repeat > 0:
        with read_session(engine) as session:
            ports = [trial.port_locode for trial in list_trials(session=session, scope=Scope.operator())]
        port = max(sorted(set(ports)), key=ports.count)  # the port with the most trials
        seconds = report_seconds(url, port, report_repeat)
        print(f"  zetrials report --port {port} ({ports.count(port)} trials, every sheet): "
              f"{', '.join(f'{s:.1f}' for s in seconds)} s", flush=True)  # fmt: skip
    engine.dispose()
    return met


def main() -> None:
    """Build (or reuse) each database, then measure it."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="measurement rows to build")
    parser.add_argument("--trials", type=int, default=200, help="trials to spread them over")
    parser.add_argument("--days", type=int, default=730, help="days each unit is measured")
    parser.add_argument("--database", nargs="+", choices=("sqlite", "postgres"), default=["sqlite", "postgres"])
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the cached SQLite databases")
    parser.add_argument("--repeat", type=int, default=40, help="calls per callback")
    parser.add_argument("--naive-repeat", type=int, default=3, help="calls per naive scan")
    parser.add_argument("--report-repeat", type=int, default=1, help="runs of zetrials report --port (0: none)")
    args = parser.parse_args()
    size = Size(args.rows, args.trials, args.days)
    met = True
    for database in args.database:
        if database == "sqlite":
            args.out.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{args.out / (size.name + '.sqlite')}"
        else:
            admin = make_engine(args.postgres_url)
            with admin.begin() as connection:
                connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{size.name}"'))
            admin.dispose()
            url = str(
                sa.make_url(args.postgres_url)
                .update_query_dict({"options": f"-csearch_path={size.name}"})
                .render_as_string(hide_password=False)
            )
        print(f"{database}: {url}", flush=True)
        started = time.perf_counter()
        build(url, size, database == "postgres")
        print(f"  ready in {time.perf_counter() - started:.0f} s", flush=True)
        met = measure(database, url, size, args.repeat, args.naive_repeat, args.report_repeat) and met
    print(f"\nevery callback, page and API answer under {TARGET_P95_MS:.0f} ms at p95: {'yes' if met else 'NO'}")


if __name__ == "__main__":
    main()
