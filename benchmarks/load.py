"""How does the real app hold up under many signed-in users at once? Throughput, latency percentiles and errors.

Run from the project folder:

    .venv/bin/python benchmarks/load.py [--users 50] [--seconds 60] [--workers 8] [--threads 1]
        [--think 0.5 1.5] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--seed N]
        [--imports 4] [--import-rows 100000] [--import-workers 1] [--worker-threads 2] [--worker-nice N]
        [--redis-url redis://127.0.0.1:6379/9]

It builds a fresh database (a SQLite file in a temporary folder, or with --database-url a new schema in that
PostgreSQL database, dropped afterwards), runs `zetrials init` and `zetrials demo` into it (25 trials, a year of
daily data), adds the users, and serves the app with gunicorn on a free loopback port exactly as `make run-prod`
does (`--workers` workers of `--threads` threads each, production settings; `--threads 1` gives sync workers).

Half the users are people in a browser: executives and partners of different ports who sign in through the real
/login form and then run dashboard callbacks (overview, compare, trials and trial pages, with filters, metrics and
periods drawn at random, as Dash posts them with the CSRF header) and now and then download an Excel report. The
other half are API scripts with bearer tokens, of the same roles and ports, listing trials and reading metrics,
trial fields and pages of measurements, and now and then downloading a report. Every user asks only for trials it
may see, so any answer but 200 is an error.

Each user repeats: one request, then a think time drawn uniformly from --think (default 0.5 to 1.5 s, a busy
person clicking on as soon as a chart appears; real users look longer), for --seconds, starting at random moments
within the first think time. 50 users thus offer about 50 / (1 s + latency) requests a second.

It prints per category (dashboard callbacks, API calls, report downloads) and per request kind: the count,
requests per second, p50/p95/p99 latency as the client saw it, the server's own p50/p95 (each request carries an
X-Request-ID that the app's request log echoes, so latency minus server time is time spent queueing for a worker)
and errors; the CPU the server used (cores, and milliseconds a request, which stay steady when other work shares
the machine while wall times stretch); and the verdict against the target: p95 under 300 ms for callbacks and API
calls, and no error at all. The exit status is 0 when the target is met, 1 when not. Setting up (demo data, 50
users with scrypt passwords) takes about 40 s before the timed part.

Meanwhile big imports run, as when a port loads a year of telematics (benchmarks/load_imports.py): `--import-workers`
`zetrials worker` processes (of `--worker-threads` threads, at `--worker-nice`) run beside gunicorn with its
DATABASE_URL, SECRET_KEY and queue (Redis at --redis-url, its database flushed first, when it answers; else a SQLite
queue file), and when the timed part starts an editor of USLAX uploads `--imports` workbooks of `--import-rows`
rows (default 4 of 100,000; `--imports 0` for none) through `POST /api/v1/imports?async=true` and follows their
jobs, after the users stop if need be. Each import's wall time, status and rows written are printed, with how many
ran while the users acted; a failed import is an error, so the target needs every import to succeed as well.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

import requests  # noqa: E402

from app.dashboard.state import COMPARE_METRICS  # noqa: E402
from benchmarks.load_imports import Editor, add_editor, exited, import_files, queue_environment, workers  # noqa: E402
from tests.server import (  # noqa: E402
    REQUEST_TIMEOUT_S,
    Server,
    add_account,
    browser,
    callback_body,
    gunicorn,
    postgres_schema,
    run_callback,
    sign_in,
    token_client,
)
from trials.db import make_engine  # noqa: E402
from trials.models import Role  # noqa: E402

TARGET_P95_MS = 300.0
TARGETED = ("callbacks", "api")
CATEGORIES = ("callbacks", "api", "reports")
#: The share of a user's actions that download an Excel report; the rest are callbacks or API calls.
REPORT_SHARE = 0.04
#: Ports whose people sign in; executives of the first see every port's trials.
PORTS = ("USLAX", "USLGB", "JPNGO", "CNSHA", "SGSIN", "DKCPH", "SEMMA", "IDTPP")
MONTHS = [f"{year}-{month:02d}" for year in (2025,) for month in range(1, 13)]


# --- the database and the users --------------------------------------------------------------------------------


def _zetrials(database_url: str, *arguments: str) -> None:
    """Run the real command line against the benchmark's database."""
    command = Path(sys.executable).with_name("zetrials")
    environment = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run([str(command), *arguments], env=environment, check=True, cwd=PROJECT, stdout=subprocess.DEVNULL)


@contextmanager
def database(url: str | None, folder: Path) -> Iterator[str]:
    """A fresh database for the run: a SQLite file in the folder, or a new schema in the PostgreSQL database."""
    if url is None:
        yield f"sqlite:///{folder / 'zetrials.sqlite'}"
        return
    if not url.startswith("postgres"):
        raise SystemExit("--database-url must name a PostgreSQL database; the default is a fresh SQLite file")
    with postgres_schema(url, prefix="load") as scoped:
        yield scoped


@dataclass(frozen=True)
class Person:
    """One simulated user: how it signs in, its role and port, and the secret it signs in with."""

    email: str
    role: Role
    port: str | None
    browser: bool  # signs in through /login and uses dashboards; else an API script with a bearer token
    token: str | None = None


def people(count: int) -> list[tuple[str, Role, str | None, bool]]:
    """Half browsers, half API scripts; executives and partners of different ports, one executive of all ports."""
    found = []
    for number in range(count):
        in_browser = number % 2 == 0
        pair = number // 2
        role = Role.executive if pair % 2 == 0 else Role.partner
        port = None if role == Role.executive and pair % 8 == 0 else PORTS[pair % len(PORTS)]
        found.append((f"user{number:03d}@load.example", role, port, in_browser))
    return found


def prepare(database_url: str, users: int, folder: Path) -> list[Person]:
    """Migrate, load the demo data through `zetrials demo`, and add the users (API users get a token)."""
    started = time.perf_counter()
    _zetrials(database_url, "init")
    _zetrials(database_url, "demo", "--dir", str(folder / "demo"))
    engine = make_engine(database_url)
    found = []
    for email, role, port, in_browser in people(users):
        token = add_account(engine, email, role, port, token=not in_browser)
        found.append(Person(email, role, port, in_browser, token))
    engine.dispose()
    print(f"database ready in {time.perf_counter() - started:.1f} s: demo data and {users} users")
    return found


# --- what users do ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trial:
    """A trial a user may see, as the API lists it."""

    code: str
    port: str
    equipment_class: str


@dataclass
class Sample:
    """One request: its category and kind, its id in the server's log, when it started, how long it took as the
    client saw it, and what went wrong if anything."""

    category: str
    kind: str
    request_id: str
    started: float
    ms: float
    error: str | None


@dataclass
class User:
    """A signed-in client with the trials it may see and its own random stream."""

    person: Person
    http: requests.Session
    trials: list[Trial]
    chance: random.Random
    samples: list[Sample] = field(default_factory=list)


def _search(chance: random.Random, trials: list[Trial], with_class: bool) -> str:
    """A dashboard view's query string as the filters would write it: some ports, a class, a period, a metric."""
    parts = []
    if chance.random() < 0.3:
        ports = sorted({trial.port for trial in chance.sample(trials, k=min(2, len(trials)))})
        parts.append(f"port={','.join(ports)}")
    if with_class or chance.random() < 0.3:
        parts.append(f"class={chance.choice(trials).equipment_class}")
    if chance.random() < 0.4:
        first = chance.randrange(len(MONTHS) - 1)
        parts.append(f"from={MONTHS[first]}&to={MONTHS[chance.randrange(first, len(MONTHS))]}")
    if with_class:
        parts.append(f"metric={chance.choice(list(COMPARE_METRICS))}")
        parts.append(chance.choice(["", "ghg=ttw", "basis=market"]))
    text = "&".join(part for part in parts if part)
    return f"?{text}" if text else ""


Action = tuple[str, str, Callable[[User, str], requests.Response]]


def _callback(outputs: list[tuple[Any, str]], inputs: Callable[[User], tuple[list[Any], list[Any]]]) -> Any:
    """A dashboard action: post one callback with the inputs drawn for this user."""

    def run(user: User, base: str) -> requests.Response:
        given, state = inputs(user)
        return run_callback(user.http, base, callback_body(outputs, given, state))

    return run


def _on_search(with_class: bool = False) -> Callable[[User], tuple[list[Any], list[Any]]]:
    """Inputs of a callback driven by the URL's query string."""
    return lambda user: ([("url", "search", _search(user.chance, user.trials, with_class))], [])


def _on_trial(user: User) -> tuple[list[Any], list[Any]]:
    """Inputs of the trial page: a trial's query string and its path."""
    grain = user.chance.choice(["", "?grain=day", "?grain=week"])
    path = f"/dashboard/trials/{user.chance.choice(user.trials).code}"
    return [("url", "search", grain)], [("url", "pathname", path)]


def _on_provenance(user: User) -> tuple[list[Any], list[Any]]:
    """Inputs of the provenance table: the previous page of one trial's measurements (inputs in declared order)."""
    path = f"/dashboard/trials/{user.chance.choice(user.trials).code}"
    page = user.chance.randrange(1, 5)
    given = [("provenance-previous", "n_clicks", 1), ("provenance-next", "n_clicks", 0)]
    return given, [("provenance-page", "data", page), ("url", "pathname", path), ("url", "search", "")]


CONTROLS = ("f-port", "f-class", "f-tech", "f-from", "f-to", "c-metric", "c-ghg", "c-basis", "c-grain")
TRIAL_OUTPUTS = [
    ("trial-title", "children"), ("trial-header", "children"), ("trial-metrics", "children"),
    ("chart-series", "figure"), ("chart-baseline", "figure"), ("chart-availability", "figure"),
    ("chart-charging", "figure"), ("chart-calendar", "figure"),
]  # fmt: skip
#: Dashboard callbacks with their weights: the overview and trial pages are opened most.
CALLBACKS: list[tuple[int, Action]] = [
    (3, ("callbacks", "headlines", _callback([("headlines", "children")], _on_search()))),
    (3, ("callbacks", "map", _callback([("chart-map", "figure")], _on_search()))),
    (3, ("callbacks", "monthly", _callback([("chart-monthly", "figure")], _on_search()))),
    (
        3,
        (
            "callbacks",
            "compare",
            _callback(
                [
                    ("chart-bars", "figure"),
                    ("chart-grid", "figure"),
                    ("compare-note", "children"),
                    ("compare-report", "children"),
                    ("compare-table", "children"),
                ],
                _on_search(with_class=True),
            ),
        ),
    ),
    (2, ("callbacks", "spread", _callback([("chart-spread", "figure")], _on_search(with_class=True)))),
    (
        3,
        (
            "callbacks",
            "trials grid",
            _callback([("trials-grid", "rowData"), ("trials-summary", "children")], _on_search()),
        ),
    ),
    (4, ("callbacks", "trial page", _callback(TRIAL_OUTPUTS, _on_trial))),
    (
        2,
        (
            "callbacks",
            "provenance",
            _callback(
                [("provenance-grid", "rowData"), ("provenance-status", "children"), ("provenance-page", "data")],
                _on_provenance,
            ),
        ),
    ),
    (
        2,
        (
            "callbacks",
            "sync view",
            _callback(
                [("url", "search"), *[(control, "value") for control in (*CONTROLS, "f-preset")]],
                lambda user: (
                    [("url", "search", _search(user.chance, user.trials, False))]
                    + [(control, "value", None) for control in (*CONTROLS, "f-preset")],
                    [],
                ),
            ),
        ),
    ),
]


def _get(path: Callable[[User], str]) -> Callable[[User, str], requests.Response]:
    """An action that GETs one path chosen for this user."""
    return lambda user, base: user.http.get(f"{base}{path(user)}", timeout=REQUEST_TIMEOUT_S)


def _trial_code(user: User) -> str:
    """One of the trials this user may see."""
    return user.chance.choice(user.trials).code


def _trial_filters(user: User) -> str:
    """Filters of the trial list, as a script asks for them."""
    trial = user.chance.choice(user.trials)
    return user.chance.choice(["", f"?port={trial.port}", f"?class={trial.equipment_class}", "?status=active"])


API: list[tuple[int, Action]] = [
    (3, ("api", "trials", _get(lambda u: f"/api/v1/trials{_trial_filters(u)}"))),
    (2, ("api", "trial", _get(lambda u: f"/api/v1/trials/{_trial_code(u)}"))),
    (
        4,
        (
            "api",
            "metrics",
            _get(lambda u: f"/api/v1/trials/{_trial_code(u)}/metrics?basis={u.chance.choice(['location', 'market'])}"),
        ),
    ),
    (
        2,
        (
            "api",
            "measurements",
            _get(lambda u: f"/api/v1/trials/{_trial_code(u)}/measurements?page={u.chance.randrange(1, 6)}"),
        ),
    ),
    (1, ("api", "ports", _get(lambda u: "/api/v1/ports"))),
    (1, ("api", "imports", _get(lambda u: "/api/v1/imports"))),
]


def _report_path(user: User) -> str:
    """A report of what the user may see: one trial, its class across ports, or its port."""
    trial = user.chance.choice(user.trials)
    return user.chance.choice(
        [
            f"/reports/trial/{trial.code}.xlsx",
            f"/reports/compare/{trial.equipment_class}.xlsx",
            f"/reports/port/{trial.port}.xlsx",
        ]
    )


REPORT: Action = ("reports", "report", _get(_report_path))


def _problem(category: str, response: requests.Response) -> str | None:
    """What is wrong with an answer: any status but 200, or a body that is not what the client asked for."""
    if response.status_code != 200:
        return f"{response.status_code} {response.text[:200]}"
    body = response.content
    if category == "reports" and not body.startswith(b"PK\x03\x04"):
        return "the report is not a workbook"
    if category == "callbacks" and b'"response"' not in body[:200]:
        return f"not a callback answer: {body[:200]!r}"
    if category == "api" and not response.headers.get("Content-Type", "").startswith("application/json"):
        return "not JSON"
    return None


def _pick(user: User) -> Action:
    """The user's next action: now and then a report, else a callback (browsers) or an API call (scripts)."""
    if user.chance.random() < REPORT_SHARE:
        return REPORT
    choices = CALLBACKS if user.person.browser else API
    return user.chance.choices([action for _weight, action in choices], [weight for weight, _ in choices])[0]


def act(user: User, base: str, deadline: float, think: tuple[float, float]) -> None:
    """Start at a random moment within one think time, then request, think, and repeat until the deadline."""
    time.sleep(user.chance.uniform(0, think[1]))
    number = 0
    while time.monotonic() < deadline:
        category, kind, run = _pick(user)
        number += 1
        request_id = f"{user.person.email.split('@')[0]}.{number}"
        user.http.headers["X-Request-ID"] = request_id  # the app logs it, so server time can be matched per kind
        started = time.monotonic()
        try:
            response = run(user, base)
            error = _problem(category, response)
        except requests.RequestException as failure:
            error = f"{type(failure).__name__}: {failure}"
        user.samples.append(Sample(category, kind, request_id, started, 1000 * (time.monotonic() - started), error))
        time.sleep(user.chance.uniform(*think))


def connect(person: Person, server: Server, seed: int) -> User:
    """Sign a person in (the form for browsers, the token for scripts) and learn the trials it may see."""
    if person.browser:
        http = browser()
        sign_in(http, server.url, person.email)
        http.get(f"{server.url}/dashboard/", timeout=REQUEST_TIMEOUT_S).raise_for_status()
    else:
        assert person.token is not None
        http = token_client(person.token)
    listed = http.get(f"{server.url}/api/v1/trials", timeout=REQUEST_TIMEOUT_S)
    listed.raise_for_status()
    trials = [Trial(t["code"], t["port_locode"], t["equipment_class"]) for t in listed.json()["items"]]
    if not trials:
        raise SystemExit(f"{person.email} sees no trial; the demo data did not load")
    return User(person, http, trials, random.Random(f"{seed}-{person.email}"))


def run_users(
    server: Server, persons: list[Person], seconds: float, think: tuple[float, float], seed: int, editor: Editor | None
) -> tuple[list[User], float]:
    """Sign everyone in, then let every user act at once for the given time (the editor's uploads starting with
    them); give the users and the time taken."""
    users: list[User] = []
    lock = threading.Lock()

    def join(person: Person) -> None:
        user = connect(person, server, seed)
        with lock:
            users.append(user)

    signing = [threading.Thread(target=join, args=(person,)) for person in persons]
    for thread in signing:
        thread.start()
    for thread in signing:
        thread.join()
    if len(users) != len(persons):
        raise SystemExit("not every user could sign in; see the messages above")
    print(f"{len(users)} users signed in; running for {seconds:.0f} s")
    server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
    started = time.monotonic()
    deadline = started + seconds
    threads = [threading.Thread(target=act, args=(user, server.url, deadline, think)) for user in users]
    if editor is not None:
        editor.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    if editor is not None:
        editor.users_stopped()
    server_cpu, client_cpu = server.cpu_seconds() - server_cpu, time.process_time() - client_cpu
    requests_made = sum(len(user.samples) for user in users)
    print(
        f"CPU used: server {server_cpu:.1f} s ({server_cpu / elapsed:.2f} cores, "
        f"{1000 * server_cpu / max(1, requests_made):.0f} ms a request); this client {client_cpu:.1f} s"
    )
    for user in users:
        user.http.close()
    return users, elapsed


# --- figures ---------------------------------------------------------------------------------------------------


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p95 and p99 of some latencies (the one value thrice when there is only one)."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def table(title: str, groups: dict[str, list[Sample]], elapsed: float, server_ms: dict[str, float]) -> None:
    """Print one row per group: requests, requests per second, client p50/p95/p99 ms, server p50/p95 ms, errors."""
    print(f"\n{title}")
    print(f"| {'':<16} | requests | req/s | p50 ms | p95 ms | p99 ms | server p50 | server p95 | errors |")
    print(f"|{'-' * 18}|----------|-------|--------|--------|--------|------------|------------|--------|")
    for name, samples in groups.items():
        if not samples:
            continue
        p50, p95, p99 = percentiles([s.ms for s in samples])
        served = [server_ms[s.request_id] for s in samples if s.request_id in server_ms]
        s50, s95, _s99 = percentiles(served) if served else (math.nan, math.nan, math.nan)
        errors = sum(s.error is not None for s in samples)
        print(
            f"| {name:<16} | {len(samples):>8} | {len(samples) / elapsed:>5.1f} | {p50:>6.0f} | {p95:>6.0f} "
            f"| {p99:>6.0f} | {s50:>10.0f} | {s95:>10.0f} | {errors:>6} |"
        )


def server_times(server: Server) -> dict[str, float]:
    """The server's own time for each request, by the id the client sent, from the app's request log."""
    return {
        str(entry["request_id"]): float(entry["duration_ms"])
        for entry in server.request_log()
        if entry.get("duration_ms") is not None and entry.get("request_id")
    }


def report(users: list[User], elapsed: float, server: Server, other_errors: list[str]) -> bool:
    """Print the tables and the verdict (the imports' errors counted too); True when the target is met."""
    samples = [sample for user in users for sample in user.samples]
    server_ms = server_times(server)
    by_category = {name: [s for s in samples if s.category == name] for name in CATEGORIES}
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for sample in sorted(samples, key=lambda s: (CATEGORIES.index(s.category), s.kind)):
        by_kind[f"{sample.category[:3]} {sample.kind}"].append(sample)
    print("\nClient latency (what users wait) and server time (app request log); the difference is queueing")
    table(f"Per category, {elapsed:.0f} s", {**by_category, "all": samples}, elapsed, server_ms)
    table("Per request kind", by_kind, elapsed, server_ms)
    errors = [s for s in samples if s.error is not None]
    for sample in errors[:10]:
        print(f"error: {sample.category} {sample.kind}: {sample.error}")
    met = not errors and not other_errors
    print()
    for name in TARGETED:
        values = [s.ms for s in by_category[name]]
        p95 = percentiles(values)[1] if values else math.nan
        fast = p95 < TARGET_P95_MS
        met = met and fast
        print(f"{name}: p95 {p95:.0f} ms, target under {TARGET_P95_MS:.0f} ms: {'met' if fast else 'MISSED'}")
    total = len(errors) + len(other_errors)
    verdict = "met" if not total else "MISSED"
    print(f"errors: {total} ({len(errors)} requests, {len(other_errors)} imports), target 0: {verdict}")
    print(f"verdict: target {'met' if met else 'MISSED'}")
    return met


def main() -> int:
    """Parse the options, build the database, serve the app, run the users and the imports, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50, help="concurrent users, half browsers, half API scripts")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the users act")
    parser.add_argument("--workers", type=int, default=8, help="gunicorn workers (make run-prod uses 8)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker, as run-prod (1: sync workers)")
    parser.add_argument("--think", type=float, nargs=2, default=(0.5, 1.5), metavar=("MIN", "MAX"), help="seconds")
    parser.add_argument("--database-url", help="a PostgreSQL database to make a fresh schema in (default: SQLite)")
    parser.add_argument("--seed", type=int, default=2025, help="seed of the users' random choices")
    parser.add_argument("--imports", type=int, default=4, help="files uploaded at the start (0: no imports)")
    parser.add_argument("--import-rows", type=int, default=100_000, help="measurement rows in each file")
    parser.add_argument("--import-workers", type=int, default=1, help="`zetrials worker` processes")
    parser.add_argument("--worker-threads", type=int, default=2, help="threads of each (the command's default)")
    parser.add_argument(
        "--worker-nice",
        type=int,
        help="the workers' --nice (default 10, as README advises on both databases: imports take the CPU the web "
        "workers leave)",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9", help="queue here ('' for a SQLite file)")
    options = parser.parse_args()
    think = (min(options.think), max(options.think))
    secret_key = secrets.token_hex(32)
    with tempfile.TemporaryDirectory(prefix="zetrials-load-") as temporary, ExitStack() as stack:
        folder = Path(temporary)
        paths = import_files(options.imports, options.import_rows) if options.imports else []
        url = stack.enter_context(database(options.database_url, folder))
        persons = prepare(url, options.users, folder)
        editor_token = add_editor(url) if paths else None
        kind = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        print(
            f"{kind}, gunicorn {options.workers} workers x {options.threads} threads, {options.users} users, "
            f"think {think[0]}-{think[1]} s, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        running = None
        nice = options.worker_nice if options.worker_nice is not None else 10
        if paths:
            queue = queue_environment(options.redis_url or None, folder)
            os.environ.update(queue)  # gunicorn's workers take the same queue from the environment
            running = stack.enter_context(
                workers(
                    url,
                    secret_key,
                    queue,
                    folder,
                    options.import_workers,
                    options.worker_threads,
                    nice,
                )
            )
            print(
                f"imports: {len(paths)} files of {options.import_rows:,} rows, {options.import_workers} worker "
                f"process(es) x {options.worker_threads} threads, nice {nice}"
            )
        server = stack.enter_context(
            gunicorn(url, folder / "server", workers=options.workers, threads=options.threads, secret_key=secret_key)
        )
        editor = Editor(server, editor_token, paths) if editor_token is not None else None
        users, elapsed = run_users(server, persons, options.seconds, think, options.seed, editor)
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        stalled = server.errors().count("WORKER TIMEOUT")  # a sync worker held 30 s (e.g. waiting on a lock), killed
        print(f"gunicorn workers killed for taking over 30 s on a request: {stalled}")
        import_errors: list[str] = []
        if editor is not None and running is not None:
            editor.wait()
            import_errors = editor.report(options.users) + exited(running)
            print(f"CPU used by the import workers (with their reader processes): {running.cpu_seconds():.1f} s")
        met = report(users, elapsed, server, import_errors)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
