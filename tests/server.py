"""The real app under gunicorn on loopback, and browser-like clients of it, shared by the server tests and benchmarks.

Nothing here is mocked: `gunicorn()` starts `gunicorn 'app.serving:server_app()'` as `make run-prod` does (production
settings, sync workers unless threads are asked for), on a port the kernel picks, and stops it again. The clients
sign in through the real /login form or carry a real bearer token, and call Dash callbacks as its renderer does.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookiejar import Cookie
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from requests.cookies import RequestsCookieJar
from sqlalchemy.engine import Engine, make_url

from trials.accounts import add_user, create_token
from trials.db import make_engine, write_session
from trials.models import Role

PROJECT = Path(__file__).resolve().parents[1]
CALLBACK = "/dashboard/_dash-update-component"
CSRF_COOKIE = "_csrf_token"
PASSWORD = "correct horse battery"
#: Long enough for an import queued behind others, short enough that a hung server fails the run.
REQUEST_TIMEOUT_S = 120.0
_LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")
_FORM_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_ACCESS_FORMAT = "%(p)s %(s)s %(m)s %(U)s"


@dataclass
class Server:
    """A running gunicorn master with its workers, its base URL and the files its logs go to."""

    url: str
    process: subprocess.Popen[bytes]
    error_log: Path
    access_log: Path
    workers: int

    def errors(self) -> str:
        """Gunicorn's stderr: its own messages, tracebacks, and the app's one-JSON-line-per-request log."""
        return self.error_log.read_text(encoding="utf-8", errors="replace")

    def request_log(self) -> list[dict[str, Any]]:
        """The app's request log lines (app.requestlog), each with route, status and server-side duration_ms."""
        entries = []
        for line in self.errors().splitlines():
            if line.startswith("{") and '"duration_ms"' in line:
                try:
                    entries.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # two workers' lines interleaved mid-line: rare, and only the statistics lose it
        return entries

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the master and its workers have used so far; Linux only, else NaN."""
        proc = Path("/proc")
        if not proc.is_dir():
            return math.nan
        total = 0
        for stat in proc.glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # the process ended while we looked
            pid, parent = int(stat.parent.name), int(fields[1])
            if self.process.pid in (pid, parent):
                total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
        return total / os.sysconf("SC_CLK_TCK")

    def worker_pids(self) -> set[str]:
        """The workers that have answered at least one request, from the access log."""
        text = self.access_log.read_text(encoding="utf-8", errors="replace") if self.access_log.exists() else ""
        return {line.split(" ", 1)[0] for line in text.splitlines() if line.strip()}


def _environment(database_url: str, secret_key: str) -> dict[str, str]:
    """The environment `make run-prod` asks for: a database, a shared secret, production settings."""
    environment = {key: value for key, value in os.environ.items() if key != "ZETRIALS_ENV"}
    environment.update(DATABASE_URL=database_url, SECRET_KEY=secret_key, PYTHONUNBUFFERED="1")
    return environment


def _wait_for_url(server_log: Path, process: subprocess.Popen[bytes], deadline: float) -> str:
    """Read the address gunicorn bound (port 0 lets the kernel choose a free one, with no race)."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{server_log.read_text()[-4000:]}")
        found = _LISTENING.search(server_log.read_text(encoding="utf-8", errors="replace"))
        if found:
            return found.group(1)
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not start listening:\n{server_log.read_text()[-4000:]}")


def _wait_for_workers(server: Server, deadline: float) -> None:
    """Knock on /healthz until every worker has answered, so no measurement waits for a worker still booting."""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}:\n{server.errors()[-4000:]}")
        answers: list[int] = []
        knocks = [threading.Thread(target=_knock, args=(server.url, answers)) for _ in range(2 * server.workers)]
        for each in knocks:
            each.start()
        for each in knocks:
            each.join()
        if 200 in answers and len(server.worker_pids()) >= server.workers:
            return
        time.sleep(0.2)
    raise RuntimeError(f"not every gunicorn worker answered /healthz in time:\n{server.errors()[-4000:]}")


def _knock(url: str, answers: list[int]) -> None:
    """Ask /healthz once, noting the status (0 when the connection failed)."""
    try:
        answers.append(requests.get(f"{url}/healthz", timeout=5).status_code)
    except requests.RequestException:
        answers.append(0)


#: No keep-alive, as `make run-prod` runs it: every request goes to whichever worker is free. With keep-alive a
#: client stays on one worker, which queues its busy clients while others idle (50 users on SQLite: callbacks p95
#: 456 ms against 165 ms without), and gunicorn's threaded workers now and then reset a kept connection.
KEEP_ALIVE_S = 0


@contextmanager
def gunicorn(
    database_url: str,
    folder: Path,
    *,
    workers: int = 4,
    threads: int = 1,
    preload: bool = False,
    secret_key: str | None = None,
    boot_timeout_s: float = 120.0,
) -> Iterator[Server]:
    """Serve the app with gunicorn on a free loopback port until the block ends, then stop it gracefully.

    `preload` builds the app once in the master before forking the workers, which boots several workers in a
    fraction of the time; it is safe because create_app opens no database connection."""
    folder.mkdir(parents=True, exist_ok=True)
    error_log, access_log = folder / "gunicorn.stderr", folder / "gunicorn.access"
    command = [
        sys.executable, "-m", "gunicorn",
        "--workers", str(workers),
        "--threads", str(threads),
        "--keep-alive", str(KEEP_ALIVE_S),
        "--bind", "127.0.0.1:0",
        "--no-control-socket",  # several servers (tests, benchmarks) may run on one host at once
        "--access-logfile", str(access_log),
        "--access-logformat", _ACCESS_FORMAT,
        "--graceful-timeout", "10",
        *(["--preload"] if preload else []),
        "app.serving:server_app()",
    ]  # fmt: skip
    environment = _environment(database_url, secret_key or uuid.uuid4().hex + uuid.uuid4().hex)
    with error_log.open("wb") as stderr:
        process = subprocess.Popen(
            command, cwd=PROJECT, env=environment, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True
        )
    try:
        deadline = time.monotonic() + boot_timeout_s
        url = _wait_for_url(error_log, process, deadline)
        server = Server(url, process, error_log, access_log, workers)
        _wait_for_workers(server, deadline)
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the master gracefully (it stops its workers); kill its process group only if it does not go."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextmanager
def postgres_schema(url: str, prefix: str = "srv") -> Iterator[str]:
    """Name a fresh schema on the PostgreSQL server at `url` for the block's length, then drop it with its rows."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# --- accounts --------------------------------------------------------------------------------------------------


def add_account(
    engine: Engine, email: str, role: Role, port: str | None = None, *, password: str = PASSWORD, token: bool = False
) -> str | None:
    """Add a user as `zetrials users add` does, and give a bearer token as `zetrials tokens create` does if asked."""
    with write_session(engine) as session:
        add_user(session, email=email, password=password, role=role, port=port, actor="setup")
        return create_token(session, email=email, actor="setup") if token else None


# --- clients ---------------------------------------------------------------------------------------------------


class _LoopbackCookies(RequestsCookieJar):
    """Send `Secure` cookies to the loopback server over plain HTTP, as browsers do for localhost.

    Production settings mark the session cookie Secure (TLS terminates in front of gunicorn); a plain cookie jar
    would keep it back over http://127.0.0.1 and every signed-in request would look anonymous."""

    def set_cookie(self, cookie: Cookie, *args: Any, **kwargs: Any) -> None:
        """Keep the cookie as the server set it, but fit to send over the loopback's plain HTTP."""
        cookie.secure = False
        super().set_cookie(cookie, *args, **kwargs)


def browser() -> requests.Session:
    """A client that keeps cookies like a browser on localhost."""
    http = requests.Session()
    http.cookies = _LoopbackCookies()
    return http


def token_client(token: str) -> requests.Session:
    """A client that signs every request with a bearer token, as API scripts do."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def sign_in(http: requests.Session, base: str, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real form with its CSRF token; the session and CSRF cookies stay in the client."""
    page = http.get(f"{base}/login", timeout=REQUEST_TIMEOUT_S)
    found = _FORM_TOKEN.search(page.text)
    if found is None:
        raise RuntimeError(f"no CSRF token on the sign-in page ({page.status_code})")
    answer = http.post(
        f"{base}/login",
        data={"email": email, "password": password, "csrf_token": found.group(1)},
        allow_redirects=False,
        timeout=REQUEST_TIMEOUT_S,
    )
    if answer.status_code != 302 or http.cookies.get(CSRF_COOKIE) is None:
        raise RuntimeError(f"{email} could not sign in: {answer.status_code} {answer.text[:300]}")


Component = str | dict[str, Any]


def _key(component: Component, prop: str, pattern: bool = False) -> str:
    """Dash's name of one property: id.property, a dict id as sorted compact JSON (with MATCH if a pattern)."""
    if not isinstance(component, dict):
        return f"{component}.{prop}"
    if pattern:
        component = {key: value if key == "type" else ["MATCH"] for key, value in component.items()}
    return f"{json.dumps(component, sort_keys=True, separators=(',', ':'))}.{prop}"


def callback_body(
    outputs: Sequence[tuple[Component, str]],
    inputs: Sequence[tuple[Component, str, Any]],
    state: Sequence[tuple[Component, str, Any]] = (),
) -> dict[str, Any]:
    """The JSON Dash's renderer posts to run a callback; the first input is the one that changed."""
    if len(outputs) == 1:
        output, output_specs = _key(*outputs[0], pattern=True), {"id": outputs[0][0], "property": outputs[0][1]}
    else:
        output = ".." + "...".join(_key(c, p, pattern=True) for c, p in outputs) + ".."
        output_specs = [{"id": c, "property": p} for c, p in outputs]  # type: ignore[assignment]
    return {
        "output": output,
        "outputs": output_specs,
        "inputs": [{"id": c, "property": p, "value": v} for c, p, v in inputs],
        "state": [{"id": c, "property": p, "value": v} for c, p, v in state],
        "changedPropIds": [_key(inputs[0][0], inputs[0][1])],
    }


def run_callback(http: requests.Session, base: str, body: dict[str, Any]) -> requests.Response:
    """Post a callback with the CSRF header Dash copies from the `_csrf_token` cookie."""
    token = http.cookies.get(CSRF_COOKIE) or ""
    return http.post(f"{base}{CALLBACK}", json=body, headers={"X-CSRFToken": token}, timeout=REQUEST_TIMEOUT_S)
