"""The import queue's tables: each upload's job, its bytes while they are needed, and saved import profiles."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from trials.columns import UTCDateTime, stored_enum, utcnow


class JobStatus(enum.StrEnum):
    """Where an import job is: waiting for a worker, being read, finished, or stopped by an error or a dead worker."""

    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


# One import of an uploaded file, run by a queue worker: its state lives here, not in the web worker, so a page or
# API client can follow it from any process, and a job whose worker died is marked failed by heartbeat.
class ImportJob(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)  # unguessable token
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="SET NULL")
    port_locode: str | None = Field(default=None, max_length=5)  # the submitter's port, for editors' scope
    filename: str = Field(max_length=255)
    upload_kept: bool = False  # its bytes wait in ImportUpload: False once they are deleted
    sha256: str | None = Field(default=None, max_length=64)
    dry_run: bool = True
    options: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # day_first, trial_code, profile
    status: JobStatus = Field(default=JobStatus.queued, sa_type=stored_enum(JobStatus), index=True)
    rows_done: int = 0
    rows_total: int | None = None
    result: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)  # the import's JSON answer
    error: str | None = Field(default=None, max_length=2000)
    batch_id: int | None = Field(default=None, foreign_key="importbatch.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # an unconfirmed upload is deleted then


# The bytes of a job's upload while they are needed (its run, then an unconfirmed dry run's wait): in the database,
# so a worker on any host reads the file a web process on another received. Deleted with the job's upload.
class ImportUpload(SQLModel, table=True):
    job_id: str = Field(primary_key=True, foreign_key="importjob.id", max_length=64, ondelete="CASCADE")
    size: int  # bytes
    content: bytes = Field(sa_type=sa.LargeBinary)


# How one port's files with one set of headers are read: columns mapped to fields and values to their meaning,
# confirmed once in an import's review and applied to the next file with the same headers.
class ImportProfile(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("port_locode", "name", name="uq_import_profile_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    port_locode: str | None = Field(default=None, foreign_key="port.locode", max_length=5)  # None: any port
    header_key: str = Field(max_length=64, index=True)  # sha256 of the normalised header set
    headers: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    columns: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)  # header -> field
    values: dict[str, dict[str, str]] = Field(default_factory=dict, sa_type=sa.JSON)  # field -> {raw: meaning}
    created_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
