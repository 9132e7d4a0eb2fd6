"""Big imports during benchmarks/load.py's timed part: `zetrials worker` processes beside gunicorn, and an editor
who uploads measurement workbooks through `POST /api/v1/imports?async=true` and follows the jobs to their end.

The workbooks are tests/measurement_workbook.py's rows (written by tests/checksums.py's fast writer), with the four
trials renamed into the editor's port (USLAX: LAX-LD1-YT-01, ...) so an editor may import them; each file gets
trials of its own, so the imports write different rows and are never duplicates of each other.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from tests.checksums import write_workbook, zetrials
from tests.measurement_workbook import TRIALS, measurement_rows, trial_rows
from tests.server import REQUEST_TIMEOUT_S, Server, add_account, token_client
from trials.db import make_engine
from trials.models import Role

#: The port whose editor uploads the files; its trials are the ones the files create.
IMPORT_PORT = "USLAX"
EDITOR = "editor@load.example"
#: Workbooks are written once per size and reused by later runs (a 100k-row file takes about 4 s to write).
CACHE = Path(tempfile.gettempdir()) / "zetrials-benchmark" / "load-imports"
#: How often the editor asks about its jobs, and how long it waits for them after the users stop.
POLL_S = 1.0
FINISH_TIMEOUT_S = 900.0


# --- the files ---------------------------------------------------------------------------------------------------


def _renamed(number: int, port: str) -> dict[str, str]:
    """The generator's trial codes mapped to codes of the port's own (its location part, then '-')."""
    return {code: f"{port[2:]}-LD{number}-{code.removeprefix('BENCH-')}" for code, *_rest in TRIALS}


def import_file(number: int, rows: int, port: str = IMPORT_PORT) -> Path:
    """Write (once) the `number`th workbook: the measurement rows with its four trials moved into the port."""
    path = CACHE / f"load-{port}-{number}-{rows}.xlsx"
    if path.exists():
        return path
    codes = _renamed(number, port)
    trials = [[codes[code], f"{name} (load {number})", port, *rest] for code, name, _port, *rest in trial_rows(rows)]
    measurements = (
        [codes[row[0]], codes[row[0]] + row[1].removeprefix(row[0]), *row[2:]] for row in measurement_rows(rows)
    )
    return write_workbook(path, trials, measurements)


def import_files(count: int, rows: int) -> list[Path]:
    """The workbooks of one run, written now unless an earlier run left them."""
    started = time.perf_counter()
    paths = [import_file(number, rows) for number in range(1, count + 1)]
    print(f"{count} import files of {rows:,} rows ready in {time.perf_counter() - started:.1f} s ({CACHE})")
    return paths


def add_editor(database_url: str) -> str:
    """Add the editor of the import port and give its bearer token."""
    engine = make_engine(database_url)
    try:
        token = add_account(engine, EDITOR, Role.editor, IMPORT_PORT, token=True)
    finally:
        engine.dispose()
    assert token is not None
    return token


# --- the queue and its workers -------------------------------------------------------------------------------------


def queue_environment(redis_url: str | None, folder: Path) -> dict[str, str]:
    """The queue settings gunicorn and the workers share: Redis (its database flushed first) when it answers, else
    a SQLite queue file in the run's folder."""
    environment = {"ZETRIALS_QUEUE_NAME": f"zetrials-load-{uuid.uuid4().hex[:8]}"}
    if redis_url:
        import redis

        try:
            redis.Redis.from_url(redis_url, socket_connect_timeout=2).flushdb()
            print(f"import queue: Redis at {redis_url} (flushed)")
            return {**environment, "REDIS_URL": redis_url, "ZETRIALS_QUEUE": redis_url}
        except redis.RedisError as error:
            print(f"import queue: no Redis at {redis_url} ({error}); using a SQLite queue file")
    print(f"import queue: the SQLite file {folder / 'queue.sqlite'}")
    return {**environment, "ZETRIALS_QUEUE": f"sqlite:///{folder / 'queue.sqlite'}"}


@dataclass
class Workers:
    """The running `zetrials worker` processes and their logs."""

    processes: list[subprocess.Popen[bytes]]
    logs: list[Path]

    def cpu_seconds(self) -> float:
        """CPU the workers and their finished reader processes used so far (Linux /proc; else 0)."""
        total = 0
        for process in self.processes:
            try:
                fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
        return total / os.sysconf("SC_CLK_TCK")

    def tails(self) -> str:
        """The end of every worker's log, for a failed run."""
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in self.logs)


@contextmanager
def workers(
    database_url: str, secret_key: str, queue: dict[str, str], folder: Path, count: int, threads: int, nice: int
) -> Iterator[Workers]:
    """Run `zetrials worker` processes with gunicorn's settings (production, same database, secret and queue)."""
    environment = {key: value for key, value in os.environ.items() if key != "ZETRIALS_ENV"}
    environment.update(queue, DATABASE_URL=database_url, SECRET_KEY=secret_key, PYTHONUNBUFFERED="1")
    command = [*zetrials(), "worker", "--threads", str(threads), *(["--nice", str(nice)] if nice else [])]
    started = Workers([], [folder / f"worker-{number}.log" for number in range(count)])
    try:
        for log in started.logs:
            with log.open("ab") as output:
                started.processes.append(
                    subprocess.Popen(command, env=environment, stdout=output, stderr=output, start_new_session=True)
                )
        yield started
    finally:
        for process in started.processes:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a worker (its consumer finishes the task in hand on SIGINT; SIGTERM ends it at once)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# --- the editor ----------------------------------------------------------------------------------------------------


@dataclass
class ImportRun:
    """One uploaded file: its job, when it was sent and ended (monotonic), the job's last JSON and any error."""

    path: Path
    sent: float = 0.0
    url: str | None = None
    ended: float | None = None
    job: dict[str, Any] | None = None
    error: str | None = None

    @property
    def status(self) -> str:
        """The job's final status, or what went wrong before it had one."""
        if self.job is None:
            return "not queued"
        result = self.job.get("result") or {}
        return f"{self.job['status']}, {result['status']}" if result.get("status") else str(self.job["status"])

    @property
    def rows_written(self) -> int:
        """Rows the import created or updated (its trials included), as its result says."""
        result = (self.job or {}).get("result") or {}
        return int(result.get("created", 0)) + int(result.get("updated", 0))


def _stamp(job: dict[str, Any], name: str) -> datetime | None:
    """A job's timestamp (stored in UTC, given without its zone)."""
    raw = job.get(name)
    return None if raw is None else datetime.fromisoformat(raw).replace(tzinfo=UTC)


class Editor:
    """Uploads the files at once when the timed part starts, then follows every job until it ends."""

    def __init__(self, server: Server, token: str, paths: list[Path]) -> None:
        self.server, self.token = server, token
        self.runs = [ImportRun(path) for path in paths]
        self.window: tuple[datetime, datetime | None] = (datetime.now(UTC), None)
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        """Upload every file on its own thread (a slow upload holds up no other), then follow the jobs."""
        self.window = (datetime.now(UTC), None)
        uploads = [threading.Thread(target=self._upload, args=(run,)) for run in self.runs]
        for upload in uploads:
            upload.start()
        self.thread = threading.Thread(target=self._follow, args=(uploads,), name="editor", daemon=True)
        self.thread.start()

    def users_stopped(self) -> None:
        """Note the end of the timed part, to tell which imports ran within it."""
        self.window = (self.window[0], datetime.now(UTC))

    def _upload(self, run: ImportRun) -> None:
        """Send one file to the async route; anything but 202 is the run's error."""
        run.sent = time.monotonic()
        http = token_client(self.token)
        try:
            with run.path.open("rb") as stream:
                answer = http.post(
                    f"{self.server.url}/api/v1/imports?async=true",
                    files={"file": (run.path.name, stream)},
                    timeout=REQUEST_TIMEOUT_S,
                )
            if answer.status_code == 202:
                run.url, run.job = answer.json()["url"], answer.json()
            else:
                run.error, run.ended = f"upload answered {answer.status_code}: {answer.text[:200]}", time.monotonic()
        except requests.RequestException as failure:
            run.error, run.ended = f"upload failed: {failure}", time.monotonic()
        finally:
            http.close()

    def _follow(self, uploads: list[threading.Thread]) -> None:
        """Ask about every unfinished job each second until all have ended or the time runs out."""
        for upload in uploads:
            upload.join()
        http = token_client(self.token)
        deadline = time.monotonic() + FINISH_TIMEOUT_S
        while time.monotonic() < deadline and any(run.ended is None for run in self.runs):
            for run in self.runs:
                if run.ended is None and run.url is not None:
                    self._poll(http, run)
            time.sleep(POLL_S)
        for run in self.runs:
            if run.ended is None:
                run.error = f"not finished {FINISH_TIMEOUT_S:.0f} s after the upload (last seen: {run.status})"
        http.close()

    def _poll(self, http: requests.Session, run: ImportRun) -> None:
        """Read one job; a failed read is an error, an ended job is checked for a real import."""
        try:
            answer = http.get(f"{self.server.url}{run.url}", timeout=REQUEST_TIMEOUT_S)
        except requests.RequestException as failure:
            run.error = f"status read failed: {failure}"
            return
        if answer.status_code != 200:
            run.error = f"status read answered {answer.status_code}: {answer.text[:200]}"
            return
        run.job = answer.json()
        if run.job["status"] in ("done", "failed"):
            run.ended = time.monotonic()
            result = run.job.get("result") or {}
            if run.job["status"] != "done" or result.get("status") != "imported":
                run.error = f"{run.status}: {run.job.get('error') or result.get('problems', [])[:2]}"

    def wait(self) -> None:
        """Wait until every job has ended (or the editor gave up)."""
        if self.thread is not None:
            self.thread.join()

    def concurrent(self) -> int:
        """How many imports were running on a worker at some moment while the users acted."""
        start, end = self.window
        count = 0
        for run in self.runs:
            began = _stamp(run.job or {}, "started_at")
            finished = _stamp(run.job or {}, "finished_at")
            if began is not None and (end is None or began < end) and (finished is None or finished > start):
                count += 1
        return count

    def report(self, users: int) -> list[str]:
        """Print each import's outcome and give its errors (a failed import is one)."""
        end = self.window[1]
        print(f"\nImports ({len(self.runs)} files uploaded by {EDITOR} at the start of the timed part)")
        print("| file | status | wall s | ran s | rows written | finished within the users' run |")
        print("|---|---|---|---|---|---|")
        for run in self.runs:
            wall = f"{run.ended - run.sent:.1f}" if run.ended is not None else "-"
            began, finished = _stamp(run.job or {}, "started_at"), _stamp(run.job or {}, "finished_at")
            ran = f"{(finished - began).total_seconds():.1f}" if began and finished else "-"
            within = "yes" if finished is not None and end is not None and finished <= end else "no"
            print(f"| {run.path.name} | {run.status} | {wall} | {ran} | {run.rows_written:,} | {within} |")
        print("(wall: from the upload until the editor's poll saw the end; ran: the job's own start to finish)")
        print(f"{self.concurrent()} of {len(self.runs)} imports ran on the workers concurrently with the {users} users")
        errors = [f"import {run.path.name}: {run.error}" for run in self.runs if run.error is not None]
        for error in errors:
            print(f"error: {error}")
        return errors


def exited(running: Workers) -> list[str]:
    """A worker that exited during the run is an error, shown with the workers' logs."""
    gone = [str(process.returncode) for process in running.processes if process.poll() is not None]
    return [f"{len(gone)} worker(s) exited with {', '.join(gone)}:\n{running.tails()}"] if gone else []
