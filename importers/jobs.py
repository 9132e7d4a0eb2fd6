"""Import jobs in the database: who uploaded what (the bytes too), where its run stands, and the reaping of dead runs
and stale uploads. A queue carries only a job's id, so every process of every host reads one state from here."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from importers.pipeline import ImportResult, import_file
from importers.profiles import ImportMapping
from trials.db import read_session, write_session
from trials.models import ImportJob, ImportUpload, JobStatus, Role, User, utcnow
from trials.scope import Scope

log = logging.getLogger(__name__)

#: What a person reads about a job whose worker stopped beating (killed, out of memory, host lost).
WORKER_STOPPED = "the worker stopped while reading this file; upload it again"
#: What a person reads when confirming an upload kept past its time.
EXPIRED = "this upload has expired, upload it again"
#: What a person reads when the importer itself failed; the traceback is in the worker's log.
INTERNAL_ERROR = "the import stopped on an internal error, which is logged; please tell the ZE Trials team"
#: What a person reads when their account was deactivated or lost its right to import while the job waited.
NO_LONGER_ALLOWED = "your account may no longer import"

#: Turns a finished import into the JSON its surface (the review page, the API) shows.
Describe = Callable[[ImportResult], dict[str, Any]]
#: Tells when a job's worker last beat and how many rows it had read then, if the queue heard from it.
LastBeat = Callable[[str], tuple[datetime, int] | None]


class TooManyPending(Exception):
    """Raised when a user already holds as many unconfirmed or unfinished uploads as allowed."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"you have {limit} upload{'' if limit == 1 else 's'} waiting to be checked or confirmed, the most one "
            "person may keep; confirm or finish one of them first (an unconfirmed upload is deleted after its time "
            "runs out)"
        )


@dataclass(frozen=True)
class Limits:
    """How long a silent worker and an unconfirmed upload are tolerated, and how many uploads one person holds."""

    heartbeat: timedelta = timedelta(seconds=60)
    upload_ttl: timedelta = timedelta(hours=24)
    max_pending: int = 5


def _pending(now: datetime) -> sa.ColumnElement[bool]:
    """A job whose upload is still kept: queued, running, or a dry run waiting for its confirmation."""
    kept = col(ImportJob.upload_kept).is_(True)
    return sa.and_(kept, sa.or_(col(ImportJob.expires_at).is_(None), col(ImportJob.expires_at) > now))


def pending_uploads(session: Session, user_id: int | None, now: datetime) -> int:
    """Count one user's uploads whose bytes are still kept."""
    query = select(sa.func.count()).select_from(ImportJob).where(ImportJob.user_id == user_id, _pending(now))
    return int(session.exec(query).one())


def create_job(
    session: Session,
    *,
    scope: Scope,
    job_id: str,
    filename: str,
    content: bytes,
    sha256: str,
    options: dict[str, Any],
    limits: Limits,
) -> ImportJob:
    """Record a new upload and its bytes, queued for its dry run, unless its owner holds too many uploads already."""
    if pending_uploads(session, scope.user_id, utcnow()) >= limits.max_pending:
        raise TooManyPending(limits.max_pending)
    job = ImportJob(
        id=job_id,
        user_id=scope.user_id,
        port_locode=scope.port_locode,
        filename=filename[:255],
        upload_kept=True,
        sha256=sha256,
        dry_run=bool(options.get("dry_run", True)),
        options=options,
    )
    session.add(job)
    session.flush()  # the job's row first: its upload's row refers to it
    session.add(ImportUpload(job_id=job_id, size=len(content), content=content))
    return job


def visible_job(session: Session, scope: Scope, job_id: str) -> ImportJob | None:
    """Find a job its submitter (or an admin) may follow; anyone else's is as absent as one never made."""
    job = session.get(ImportJob, job_id)
    if job is None or (scope.role != Role.admin and job.user_id != scope.user_id):
        return None
    return job


def expired(job: ImportJob, now: datetime) -> bool:
    """Tell whether a job's upload is gone or past its time, so it can no longer be confirmed."""
    return not job.upload_kept or (job.expires_at is not None and job.expires_at <= now)


def queue_import(session: Session, job: ImportJob) -> None:
    """Send a checked upload back to the queue to be imported for real."""
    job.dry_run, job.status, job.result, job.error, job.batch_id = False, JobStatus.queued, None, None, None
    job.rows_done, job.started_at, job.heartbeat_at, job.finished_at, job.expires_at = 0, None, None, None, None
    session.add(job)


def _delete_upload(session: Session, job: ImportJob) -> None:
    """Delete a job's uploaded bytes; the job keeps its name, fingerprint and result."""
    session.execute(sa.delete(ImportUpload).where(col(ImportUpload.job_id) == job.id))
    job.upload_kept = False


@contextmanager
def _upload_copy(engine: Engine, job_id: str) -> Iterator[Path | None]:
    """Copy a job's uploaded bytes into a private temporary file for the importer, which reads paths; deleted after.

    None if the bytes are gone (deleted with an upload kept on disk before they moved into the database)."""
    with read_session(engine) as session:
        content = session.exec(select(ImportUpload.content).where(ImportUpload.job_id == job_id)).first()
    if content is None:
        yield None
        return
    handle, name = tempfile.mkstemp(prefix="zetrials-job-")  # readable by this user alone
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        del content
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _claim(engine: Engine, job_id: str) -> tuple[ImportJob, Scope | None] | None:
    """Mark a queued job running, and rebuild its submitter's scope from the user as it is now."""
    with write_session(engine) as session:
        job = session.get(ImportJob, job_id)
        if job is None or job.status != JobStatus.queued:
            return None  # confirmed twice, reaped, or already run by another worker
        now = utcnow()
        job.status, job.started_at, job.heartbeat_at, job.rows_done = JobStatus.running, now, now, 0
        user = session.get(User, job.user_id) if job.user_id is not None else None
        scope = Scope.for_user(user) if user is not None and user.active else None
        session.add(job)
    return job, scope if scope is not None and scope.can_import else None


def _finish(engine: Engine, job_id: str, result: ImportResult, described: dict[str, Any], ttl: timedelta) -> None:
    """Record a run's outcome: a dry run that passed keeps its upload until it expires, any other ends it."""
    rows = sum(sheet.rows for sheet in result.sheets)
    with write_session(engine) as session:
        job = session.get(ImportJob, job_id)
        if job is None:
            return
        now = utcnow()
        job.status, job.result, job.error, job.finished_at, job.heartbeat_at = JobStatus.done, described, None, now, now
        job.rows_done = job.rows_total = rows
        job.batch_id = result.batch if result.status == "imported" else None
        waiting = job.dry_run and result.status == "dry-run" and bool(job.options.get("confirmable"))
        job.expires_at = now + ttl if waiting else None
        if not waiting:
            _delete_upload(session, job)
        session.add(job)


def fail(engine: Engine, job_id: str, message: str) -> None:
    """Mark a job failed with a message for people, deleting its upload."""
    with write_session(engine) as session:
        job = session.get(ImportJob, job_id)
        if job is None:
            return
        job.status, job.error, job.finished_at, job.expires_at = JobStatus.failed, message, utcnow(), None
        _delete_upload(session, job)
        session.add(job)


def run_job(
    engine: Engine,
    job_id: str,
    *,
    describe: Describe,
    progress: Callable[[int], None],
    limits: Limits,
) -> None:
    """Run one queued job through the importer as its submitter, recording the outcome whatever happens."""
    claimed = _claim(engine, job_id)
    if claimed is None:
        return
    job, scope = claimed
    if scope is None:
        fail(engine, job_id, NO_LONGER_ALLOWED)
        return
    options = job.options
    try:
        with _upload_copy(engine, job_id) as path:
            if path is None:
                fail(engine, job_id, EXPIRED)
                return
            result = import_file(
                engine,
                path,
                scope=scope,
                display_name=job.filename,
                trial_code=options.get("trial_code") or None,
                dry_run=job.dry_run,
                day_first=options.get("day_first"),
                progress=progress,
                mapping=ImportMapping.from_json(options.get("mapping")),
            )
        _finish(engine, job_id, result, describe(result), limits.upload_ttl)
    except Exception:  # a bug must not leave the job running forever; it is logged with its traceback
        log.exception("import job %s failed", job_id)
        fail(engine, job_id, INTERNAL_ERROR)


def _last_beat(job: ImportJob, last_beat: LastBeat) -> datetime:
    """The latest sign of life of a running job: the queue's heartbeat, else what the table recorded."""
    heard = last_beat(job.id)
    recorded = job.heartbeat_at or job.started_at or job.created_at
    return max(recorded, heard[0]) if heard is not None else recorded


@dataclass
class Reaped:
    """What one pass of the reaper did."""

    failed: list[str]
    expired: list[str]


def reap(
    engine: Engine,
    *,
    limits: Limits,
    last_beat: LastBeat,
    job_id: str | None = None,
    now: datetime | None = None,
) -> Reaped:
    """Fail running jobs whose worker fell silent, and delete uploads kept past their time (one job, or all).

    It writes only when it finds something to do: on SQLite a write waits for any import in progress."""
    now = now or utcnow()
    one = [ImportJob.id == job_id] if job_id is not None else []
    with read_session(engine) as session:
        running = session.exec(select(ImportJob).where(ImportJob.status == JobStatus.running, *one)).all()
        silent = [job.id for job in running if _last_beat(job, last_beat) < now - limits.heartbeat]
        stale = session.exec(
            select(ImportJob.id).where(col(ImportJob.upload_kept).is_(True), col(ImportJob.expires_at) <= now, *one)
        ).all()
    reaped = Reaped([], [])
    if not silent and not stale:
        return reaped
    with write_session(engine) as session:
        for job in _locked(session, silent):
            if job.status == JobStatus.running:
                job.status, job.error, job.finished_at = JobStatus.failed, WORKER_STOPPED, now
                _delete_upload(session, job)
                reaped.failed.append(job.id)
        for job in _locked(session, list(stale)):
            if job.expires_at is not None and job.expires_at <= now:
                _delete_upload(session, job)
                reaped.expired.append(job.id)
    for name, ids in (("failed, its worker silent", reaped.failed), ("expired", reaped.expired)):
        if ids:
            log.warning("import jobs %s: %s", name, ", ".join(ids))
    return reaped


def _locked(session: Session, ids: list[str]) -> Iterator[ImportJob]:
    """Load jobs for update (a row lock on PostgreSQL; SQLite's write transaction locks everything already)."""
    if ids:
        yield from session.exec(select(ImportJob).where(col(ImportJob.id).in_(ids)).with_for_update()).all()
