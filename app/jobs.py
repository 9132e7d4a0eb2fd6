"""Import jobs on a task queue (huey): Redis in production, a SQLite file in development, in the request for tests.
The same queue takes the audit entry of a report download that SQLite's write lock would keep waiting.

The pages and the API record an upload's job with its bytes in the database (importers.jobs), so no disk is shared,
and put the job's id on the queue; a worker (`zetrials worker`, or the thread `zetrials serve` starts) on any host
runs it, beating a heartbeat into the queue's store while it reads, so a job whose worker died is failed by the
reaper, which the worker runs every minute and a status read runs for its own job."""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from huey.consumer import Consumer
from sqlalchemy.engine import Engine
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from importers import jobs
from trials import audit
from trials.db import WriteLockBusy, read_session, write_session
from trials.models import ImportJob, JobStatus, utcnow
from trials.scope import Scope

log = logging.getLogger(__name__)

#: How often a running job tells the queue it is alive (at least four times within the reaper's limit), besides
#: every 10,000 rows read.
BEAT_EVERY_S = 5.0
#: How long a request waits for SQLite's write lock to audit what it did before the queue writes the entry instead:
#: an import holds the lock for seconds, and every request waiting on it holds one of the server's workers.
AUDIT_WAIT_MS = 100
#: How often the worker tries a handed-over audit entry again, 30 s apart, before huey logs it as failed.
AUDIT_RETRIES = 20
#: Each surface's view of a finished import (the review page's, the API's), registered by the surface's module.
_DESCRIBE: dict[str, jobs.Describe] = {}


def describes(via: str) -> Callable[[jobs.Describe], jobs.Describe]:
    """Register how a surface ('web', 'api') shows a finished import, so the worker stores what it will show."""

    def register(describe: jobs.Describe) -> jobs.Describe:
        _DESCRIBE[via] = describe
        return describe

    return register


class _InProcessConsumer(Consumer):
    """A consumer on threads beside a development server, leaving the server its own signal handling."""

    def _set_signal_handlers(self) -> None:
        """Let the server keep Ctrl-C: the worker threads are daemons and stop with it."""


class Queue:
    """One app's import queue: its huey (built on first use), its database (jobs and their uploads) and its limits."""

    def __init__(self, app: Flask, engine: Engine) -> None:
        self.config, self.instance = app.config, Path(app.instance_path)
        self.engine = engine
        self.spec: str = self.config.get("JOB_QUEUE") or f"sqlite:///{self.instance / 'queue.sqlite'}"
        self.name: str = self.config["JOB_QUEUE_NAME"]
        self._huey: Huey | None = None
        self._tasks: dict[str, Any] = {}  # by name, registered with huey: calling one puts a call on the queue
        self._lock = threading.Lock()

    @property
    def limits(self) -> jobs.Limits:
        """How long a silent worker and an unconfirmed upload are tolerated, and how many uploads one holds."""
        return jobs.Limits(
            heartbeat=timedelta(seconds=self.config["JOB_HEARTBEAT_LIMIT_S"]),
            upload_ttl=timedelta(hours=self.config["UPLOAD_TTL_HOURS"]),
            max_pending=self.config["MAX_PENDING_UPLOADS"],
        )

    def _built(self) -> tuple[Huey, dict[str, Any]]:
        """The huey instance and its tasks, built on first use (a SQLite queue makes its file then)."""
        with self._lock:
            if self._huey is None:
                self._huey, self._tasks = self._build()
            return self._huey, self._tasks

    @property
    def huey(self) -> Huey:
        """The huey instance with this queue's tasks."""
        return self._built()[0]

    def _call(self, task: str, *args: Any) -> None:
        """Put a call of one of the queue's tasks on the queue (in immediate mode, make it now)."""
        self._built()[1][task](*args)

    def _build(self) -> tuple[Huey, dict[str, Any]]:
        """Choose the backend from the setting, and register the tasks (an import, an audit entry a request handed
        over) and the periodic reaper."""
        if self.spec == "immediate":
            huey: Huey = MemoryHuey(self.name, immediate=True, results=False)
        elif self.spec.startswith(("redis://", "rediss://", "unix://")):
            huey = RedisHuey(self.name, url=self.spec, results=False)
        elif self.spec.startswith("sqlite:///"):
            path = Path(self.spec.removeprefix("sqlite:///"))
            path.parent.mkdir(parents=True, exist_ok=True)
            huey = SqliteHuey(self.name, filename=str(path), results=False)
        else:
            raise ValueError(f"JOB_QUEUE must be redis://..., sqlite:///... or immediate, not {self.spec!r}")
        tasks = {
            "run_import": huey.task(name="run_import")(self.run),
            # SQLite's busy timeout is 30 s and an import of a million rows holds the lock longer: tried again
            "write_audit": huey.task(name="write_audit", retries=AUDIT_RETRIES, retry_delay=30)(self.audit),
        }
        huey.periodic_task(crontab(minute="*"), name="reap_jobs")(self.reap)
        return huey, tasks

    def describe(self) -> str:
        """Name the queue for people, without any password in its URL."""
        kind = self.spec.split(":", 1)[0]
        where = self.spec.rsplit("@", 1)[-1] if kind.startswith(("redis", "rediss")) else self.spec
        return f"{self.name!r} at {where}"

    def enqueue(self, job_id: str) -> None:
        """Put a job's id on the queue (in immediate mode, run it now)."""
        self._call("run_import", job_id)

    # --- the worker's side ---------------------------------------------------------------------------------------

    def run(self, job_id: str) -> None:
        """Run one job, beating into the queue's store while the importer reads."""
        beat = _Heartbeat(self, job_id)
        with beat:
            via = "web"
            with read_session(self.engine) as session:
                job = session.get(ImportJob, job_id)
                if job is not None:
                    via = str(job.options.get("via", "web"))
            describe = _DESCRIBE.get(via) or _DESCRIBE["web"]
            jobs.run_job(self.engine, job_id, describe=describe, progress=beat.rows, limits=self.limits)
        self.huey.get(_beat_key(job_id))  # popped: the table holds the outcome now

    def audit(self, event: dict[str, Any], wait_ms: int | None = None) -> None:
        """Write an audit entry (audit.record's fields) in a transaction of its own: on the worker, one a request
        handed over, waiting for SQLite's write lock as long as it takes; in a request, waiting `wait_ms` at most."""
        with write_session(self.engine, wait_ms=wait_ms) as session:
            audit.record(session, **event)

    def reap(self, job_id: str | None = None) -> jobs.Reaped:
        """Fail silent jobs and delete expired uploads (all, or one job's)."""
        return jobs.reap(self.engine, limits=self.limits, last_beat=self.last_beat, job_id=job_id)

    def beat(self, job_id: str, rows: int) -> None:
        """Note in the queue's store that a job is alive and how many rows it has read."""
        self.huey.put(_beat_key(job_id), (time.time(), rows))

    def last_beat(self, job_id: str) -> tuple[datetime, int] | None:
        """When a job last beat, and its rows read then; None if the queue has not heard from it."""
        found = self.huey.get(_beat_key(job_id), peek=True)
        if found is None:
            return None
        at, rows = found
        return datetime.fromtimestamp(float(at), UTC), int(rows)

    def consumer(self, threads: int) -> Consumer:
        """A consumer for `zetrials worker`: worker threads and the scheduler that runs the reaper each minute."""
        return self.huey.create_consumer(workers=threads, worker_type="thread", periodic=True)

    def start_in_process(self, threads: int = 1) -> None:
        """Run a consumer on daemon threads in this process, for the single-process development server."""
        _InProcessConsumer(self.huey, workers=threads, worker_type="thread", periodic=True).start()

    # --- the web's side --------------------------------------------------------------------------------------------

    def record_audit(self, **event: Any) -> None:
        """Audit what a request did (audit.record's fields): at once, or, while an import holds SQLite's write lock
        past AUDIT_WAIT_MS, through the queue, whose worker writes it with the time it happened once the lock is
        free. On PostgreSQL nothing holds the table: it is always at once."""
        event.setdefault("at", utcnow())
        try:
            self.audit(event, wait_ms=AUDIT_WAIT_MS)
        except WriteLockBusy:
            log.info("audit entry %s %s queued: an import holds the write lock", event["action"], event["object"])
            self._call("write_audit", event)

    def submit(self, scope: Scope, upload: FileStorage, filename: str, options: dict[str, Any]) -> str:
        """Record an upload's job with its bytes (refusing a user holding too many) and queue its run; give its id."""
        try:
            content, sha256 = _read(upload, self.config["MAX_CONTENT_LENGTH"])
        finally:
            upload.close()  # a large upload is spooled to a temporary file: closed now, not at garbage collection
        job_id = secrets.token_urlsafe(18)
        with write_session(self.engine) as session:  # the job and its bytes in one transaction: both or neither
            jobs.create_job(
                session,
                scope=scope,
                job_id=job_id,
                filename=filename,
                content=content,
                sha256=sha256,
                options=options,
                limits=self.limits,
            )
        self.enqueue(job_id)
        return job_id

    def confirm(self, scope: Scope, job_id: str) -> str | None:
        """Queue the real import of a dry run that passed; else say why not (None when queued)."""
        with write_session(self.engine) as session:
            job = jobs.visible_job(session, scope, job_id)
            if job is None:
                return "no such import"
            if jobs.expired(job, utcnow()):
                return jobs.EXPIRED
            if job.status != JobStatus.done or not job.dry_run or (job.result or {}).get("status") != "dry-run":
                return "only a file whose dry run passed can be imported"
            jobs.queue_import(session, job)
        self.enqueue(job_id)
        return None

    def status(self, scope: Scope, job_id: str) -> ImportJob | None:
        """A job as its owner may read it, reaped first if its worker fell silent, with the rows read so far."""
        with read_session(self.engine) as session:
            if jobs.visible_job(session, scope, job_id) is None:
                return None
        self.reap(job_id)
        with read_session(self.engine) as session:
            job = jobs.visible_job(session, scope, job_id)
        if job is not None and job.status == JobStatus.running:
            heard = self.last_beat(job_id)
            job.rows_done = max(job.rows_done, heard[1] if heard else 0)
        return job


def _read(upload: FileStorage, limit: int | None) -> tuple[bytes, str]:
    """Read an upload's bytes straight from the request and fingerprint them, refusing more than its limit allows."""
    content = upload.stream.read() if limit is None else upload.stream.read(limit + 1)
    if limit is not None and len(content) > limit:
        raise RequestEntityTooLarge()
    return content, hashlib.sha256(content).hexdigest()


def _beat_key(job_id: str) -> str:
    """The queue store's key for one job's heartbeat."""
    return f"beat:{job_id}"


class _Heartbeat:
    """Beats for a running job every few seconds on a thread, and whenever the importer reports rows."""

    def __init__(self, queue: Queue, job_id: str) -> None:
        self.queue, self.job_id, self.done = queue, job_id, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id[:8]}", daemon=True)

    def rows(self, done: int) -> None:
        """The importer's progress callback: note the rows and beat."""
        self.done = done
        self.queue.beat(self.job_id, done)

    def _beat(self) -> None:
        """Beat until stopped; a failed beat is logged and retried, never fatal to the import."""
        every = min(BEAT_EVERY_S, self.queue.limits.heartbeat.total_seconds() / 4)
        while not self.stop.wait(every):
            try:
                self.queue.beat(self.job_id, self.done)
            except Exception:  # the queue's store unreachable for a moment: the reaper tolerates a minute
                log.exception("heartbeat of import job %s not recorded", self.job_id)

    def __enter__(self) -> _Heartbeat:
        self.queue.beat(self.job_id, 0)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def queue() -> Queue:
    """The current app's import queue."""
    found: Queue = current_app.extensions["zetrials.queue"]
    return found


def init_app(app: Flask, engine: Engine) -> None:
    """Attach the app's import queue; nothing connects until it is first used."""
    app.extensions["zetrials.queue"] = Queue(app, engine)
