"""Import jobs in the database: the API's async imports, who may follow a job, the reaper of silent workers, uploads'
bytes kept in the database and deleted when done or expired, and the limit on pending uploads. The queue runs each
job in the request here (immediate mode); the real worker on Redis is tests/test_job_queue.py."""

from __future__ import annotations

import hashlib
import io
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from app.jobs import Queue
from importers.jobs import EXPIRED, INTERNAL_ERROR, WORKER_STOPPED, Describe, create_job, run_job
from importers.pipeline import ImportResult
from tests.factories import (
    LGB_TRIAL,
    MEASURE_HEADER,
    TRIALS_HEADER,
    check_against_document,
    csrf_token,
    finished,
    make_user,
    page_token,
    standard_file,
    upload,
    write_xlsx,
)
from trials.accounts import create_token
from trials.db import write_session
from trials.models import ImportJob, ImportUpload, JobStatus, Measurement, Role, User, utcnow
from trials.scope import Scope


def _queue(app: Flask) -> Queue:
    """The app's import queue."""
    found: Queue = app.extensions["zetrials.queue"]
    return found


def _token(session: Session, email: str, role: Role, port: str | None = None) -> str:
    """A user with a bearer token, as `zetrials tokens create` makes it."""
    make_user(session, email, role=role, port_locode=port)
    token = create_token(session, email=email, actor="test")
    session.commit()
    return token


def _post_file(client: FlaskClient, token: str, path: Path, query: str = "?async=true", **fields: str) -> object:
    """POST a file to the import API with a bearer token."""
    data = {"file": (io.BytesIO(path.read_bytes()), path.name), **fields}
    return client.post(
        f"/api/v1/imports{query}",
        data=data,
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )


def _job(engine: Engine, job_id: str) -> ImportJob:
    """Read a job afresh from the database."""
    with Session(engine) as fresh:
        return fresh.exec(select(ImportJob).where(ImportJob.id == job_id)).one()


def _uploads(engine: Engine) -> dict[str, bytes]:
    """Every upload's bytes kept in the database, by job."""
    with Session(engine) as fresh:
        return {row.job_id: row.content for row in fresh.exec(select(ImportUpload)).all()}


def test_an_async_import_answers_202_and_only_its_submitter_and_admins_follow_it(
    client: FlaskClient, session: Session, engine: Engine, tmp_path: Path
) -> None:
    editor = _token(session, "ed@lgb.example", Role.editor, "USLGB")
    other = _token(session, "ed2@lgb.example", Role.editor, "USLGB")
    admin = _token(session, "admin@example.org", Role.admin)
    queued = _post_file(client, editor, standard_file(tmp_path / "in.xlsx"))
    assert queued.status_code == 202  # type: ignore[attr-defined]
    check_against_document("POST", "/api/v1/imports", queued)  # type: ignore[arg-type]
    job_id = queued.get_json()["id"]  # type: ignore[attr-defined]
    assert queued.headers["Location"] == f"/api/v1/imports/jobs/{job_id}"  # type: ignore[attr-defined]
    url = f"/api/v1/imports/jobs/{job_id}"
    followed = client.get(url, headers={"Authorization": f"Bearer {editor}"})
    check_against_document("GET", url, followed)
    job = followed.get_json()
    assert (job["status"], job["filename"], job["dry_run"], job["rows_done"], job["error"]) == (
        "done",
        "in.xlsx",
        False,
        6,  # rows read: each sheet's header row, one trial and three measurements
        None,
    )
    assert {key: job["result"][key] for key in ("status", "created", "updated", "problems")} == {
        "status": "imported",
        "created": 4,
        "updated": 0,
        "problems": [],
    }
    assert len(session.exec(select(Measurement)).all()) == 3
    assert client.get(url, headers={"Authorization": f"Bearer {admin}"}).status_code == 200
    hidden = client.get(url, headers={"Authorization": f"Bearer {other}"})
    missing = client.get("/api/v1/imports/jobs/" + "x" * 24, headers={"Authorization": f"Bearer {other}"})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_data() == missing.get_data()
    assert _uploads(engine) == {}  # imported: the upload's bytes are gone
    assert _job(engine, job_id).upload_kept is False


def test_async_must_be_a_yes_or_no(client: FlaskClient, session: Session, tmp_path: Path) -> None:
    editor = _token(session, "ed@lgb.example", Role.editor, "USLGB")
    refused = _post_file(client, editor, standard_file(tmp_path / "in.xlsx"), query="?async=later")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert refused.get_json() == {"error": "async: must be true or false", "status": 400}  # type: ignore[attr-defined]


def test_an_api_dry_run_keeps_no_upload(client: FlaskClient, session: Session, engine: Engine, tmp_path: Path) -> None:
    editor = _token(session, "ed@lgb.example", Role.editor, "USLGB")
    queued = _post_file(client, editor, standard_file(tmp_path / "in.xlsx"), dry_run="true")
    job = _job(engine, queued.get_json()["id"])  # type: ignore[attr-defined]
    assert (job.status, job.result and job.result["status"], job.upload_kept, job.expires_at) == (
        JobStatus.done,
        "dry-run",
        False,
        None,
    )
    assert _uploads(engine) == {}


def _queued_job(app: Flask, session: Session, path: Path) -> str:
    """Submit a file to the app's queue as an editor, without running it: the job a worker will take."""
    user = make_user(session, "ed@example.org", role=Role.editor)
    with write_session(_queue(app).engine) as fresh:
        content = path.read_bytes()
        job = create_job(
            fresh,
            scope=Scope.for_user(user),
            job_id="queued-job-xxxxxxxxxxxxxx",
            filename=path.name,
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            options={"via": "api", "dry_run": False},
            limits=_queue(app).limits,
        )
        return job.id


def _run(app: Flask, job_id: str, describe: Describe, progress: Callable[[int], None] = lambda rows: None) -> None:
    """Run a queued job as a worker does."""
    run_job(_queue(app).engine, job_id, describe=describe, progress=progress, limits=_queue(app).limits)


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The worker's temporary folder, empty, where its copy of an upload goes while the importer reads it."""
    folder = tmp_path / "worker-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_a_worker_imports_from_a_private_temporary_copy_it_deletes(
    app: Flask, session: Session, engine: Engine, tmp_path: Path, scratch: Path
) -> None:
    days = [date(2024, 1, 1) + timedelta(days=day) for day in range(1000)]
    rows = [["LGB-YT-01", f"YT-{unit}", day, 10, 250, 40] for unit in range(1, 11) for day in days]
    path = write_xlsx(
        tmp_path / "long.xlsx", {"Trials": [TRIALS_HEADER, LGB_TRIAL], "Measurements": [MEASURE_HEADER, *rows]}
    )
    job_id = _queued_job(app, session, path)
    seen: list[list[tuple[int, bool]]] = []  # what the worker's temporary folder holds while the importer reads

    def progress(rows: int) -> None:
        """The importer's progress callback: look at the copy it is reading."""
        seen.append(
            [(entry.stat().st_mode & 0o777, entry.read_bytes() == path.read_bytes()) for entry in scratch.iterdir()]
        )

    _run(app, job_id, lambda result: result.as_json(""), progress)
    assert seen and all(found == [(0o600, True)] for found in seen)  # one copy, of the upload's bytes, for its owner
    job = _job(engine, job_id)
    assert (job.status, job.result and job.result["status"], job.result and job.result["created"]) == (
        JobStatus.done,
        "imported",
        10_000 + 1,  # the trial and its rows (units are not counted)
    )
    assert list(scratch.iterdir()) == []
    assert (job.upload_kept, _uploads(engine)) == (False, {})


def test_a_failed_run_deletes_its_temporary_copy_and_its_bytes(
    app: Flask, session: Session, engine: Engine, tmp_path: Path, scratch: Path
) -> None:
    job_id = _queued_job(app, session, standard_file(tmp_path / "in.xlsx"))

    def broken(result: ImportResult) -> dict[str, object]:
        """A surface's view with a bug in it."""
        raise RuntimeError("a bug")

    _run(app, job_id, broken)
    job = _job(engine, job_id)
    assert (job.status, job.error, job.upload_kept) == (JobStatus.failed, INTERNAL_ERROR, False)
    assert list(scratch.iterdir()) == []
    assert _uploads(engine) == {}


def test_a_job_whose_bytes_are_gone_fails_saying_to_upload_again(
    app: Flask, session: Session, engine: Engine, tmp_path: Path
) -> None:
    job_id = _queued_job(app, session, standard_file(tmp_path / "in.xlsx"))
    with Session(engine) as fresh:  # as the upgrade to bytes in the database leaves a job queued with a file on disk
        fresh.execute(sa.delete(ImportUpload))
        stored = fresh.get(ImportJob, job_id)
        assert stored is not None
        stored.upload_kept = False
        fresh.add(stored)
        fresh.commit()
    _run(app, job_id, lambda result: result.as_json(""))
    job = _job(engine, job_id)
    assert (job.status, job.error) == (JobStatus.failed, EXPIRED)
    assert session.exec(select(Measurement)).all() == []


def test_an_upload_over_the_size_limit_is_refused_and_nothing_is_kept(
    app: Flask, session: Session, engine: Engine
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10
    user = make_user(session, "ed@example.org", role=Role.editor)
    upload_file = FileStorage(io.BytesIO(b"Trial,Unit\n"), "fleet.csv")
    with pytest.raises(RequestEntityTooLarge):
        _queue(app).submit(Scope.for_user(user), upload_file, "fleet.csv", {"via": "api"})
    assert upload_file.stream.closed
    with Session(engine) as fresh:
        assert fresh.exec(select(ImportJob)).all() == []
    assert _uploads(engine) == {}


def _running_job(session: Session, user_id: int | None, beat_seconds_ago: float) -> ImportJob:
    """A job a worker took, whose last heartbeat is this many seconds old, with its upload's bytes kept."""
    job_id = f"job{int(beat_seconds_ago):04d}xxxxxxxxxxxxxxxx"
    beat = utcnow() - timedelta(seconds=beat_seconds_ago)
    job = ImportJob(
        id=job_id,
        user_id=user_id,
        filename="fleet.csv",
        upload_kept=True,
        status=JobStatus.running,
        options={"via": "web"},
        started_at=beat,
        heartbeat_at=beat,
    )
    session.add(job)
    session.flush()
    session.add(ImportUpload(job_id=job_id, size=11, content=b"Trial,Unit\n"))
    session.commit()
    return job


def test_a_job_whose_worker_fell_silent_is_failed_by_the_reaper(app: Flask, session: Session, engine: Engine) -> None:
    user = make_user(session, "ed@example.org", role=Role.editor)
    dead = _running_job(session, user.id, beat_seconds_ago=61)
    alive = _running_job(session, user.id, beat_seconds_ago=30)
    reaped = _queue(app).reap()
    assert (reaped.failed, reaped.expired) == ([dead.id], [])
    found = _job(engine, dead.id)
    assert (found.status, found.error, found.upload_kept) == (JobStatus.failed, WORKER_STOPPED, False)
    assert WORKER_STOPPED == "the worker stopped while reading this file; upload it again"
    assert _job(engine, alive.id).status == JobStatus.running
    assert _uploads(engine) == {alive.id: b"Trial,Unit\n"}


def test_a_heartbeat_in_the_queues_store_keeps_a_job_alive(app: Flask, session: Session, engine: Engine) -> None:
    user = make_user(session, "ed@example.org", role=Role.editor)
    job = _running_job(session, user.id, beat_seconds_ago=300)
    _queue(app).beat(job.id, 20_000)  # the worker beats into the queue while its import holds the database
    assert _queue(app).reap().failed == []
    assert _job(engine, job.id).status == JobStatus.running


def test_the_review_page_of_a_dead_job_says_to_upload_again(
    editor: FlaskClient, session: Session, engine: Engine
) -> None:
    owner = session.exec(select(User).where(User.email == "ed@example.org")).one()  # the editor fixture's user
    job = _running_job(session, owner.id, beat_seconds_ago=61)
    status = editor.get(f"/imports/{job.id}/status").get_json()
    assert status == {"state": "failed", "rows": 0}
    page = editor.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "Nothing was written: the worker stopped while reading this file; upload it again." in page


def test_an_unconfirmed_upload_expires_is_deleted_and_cannot_be_confirmed(
    editor: FlaskClient, session: Session, engine: Engine, tmp_path: Path
) -> None:
    path = standard_file(tmp_path / "in.xlsx")
    review = upload(editor, path)
    assert "The file is ready" in finished(editor, review)
    job_id = review.rsplit("/", 1)[1]
    job = _job(engine, job_id)
    assert job.finished_at is not None and job.expires_at == job.finished_at + timedelta(hours=24)
    assert (job.upload_kept, _uploads(engine)) == (True, {job_id: path.read_bytes()})
    with Session(engine) as fresh:  # a day later
        stored = fresh.get(ImportJob, job_id)
        assert stored is not None
        stored.expires_at = utcnow() - timedelta(seconds=1)
        fresh.add(stored)
        fresh.commit()
    assert _queue(editor.application).reap().expired == [job_id]  # the worker's minute pass
    assert _uploads(engine) == {}
    assert _job(engine, job_id).upload_kept is False
    page = editor.get(review).get_data(as_text=True)
    assert "This upload has expired, upload it again." in page and "Confirm the import" not in page
    token = page_token(editor, "/imports")
    answer = editor.post(f"{review}/confirm", data={"csrf_token": token}, follow_redirects=True)
    assert answer.request.path == review
    assert "This upload has expired, upload it again." in answer.get_data(as_text=True)
    assert EXPIRED == "this upload has expired, upload it again"
    assert session.exec(select(Measurement)).all() == []


def test_a_user_holds_at_most_five_pending_uploads(
    editor: FlaskClient, session: Session, engine: Engine, tmp_path: Path
) -> None:
    path = standard_file(tmp_path / "in.xlsx")
    for _ in range(5):
        finished(editor, upload(editor, path))
    token = csrf_token(editor)
    sixth = editor.post(
        "/imports",
        data={"file": (io.BytesIO(path.read_bytes()), path.name), "csrf_token": token},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "in.xlsx: you have 5 uploads waiting to be checked or confirmed, the most one person may keep" in sixth
    with Session(engine) as fresh:
        assert len(fresh.exec(select(ImportJob)).all()) == 5
    assert len(_uploads(engine)) == 5


def test_the_pending_limit_is_a_setting(editor: FlaskClient, tmp_path: Path) -> None:
    editor.application.config["MAX_PENDING_UPLOADS"] = 1
    path = standard_file(tmp_path / "in.xlsx")
    finished(editor, upload(editor, path))
    token = csrf_token(editor)
    second = editor.post(
        "/imports",
        data={"file": (io.BytesIO(path.read_bytes()), path.name), "csrf_token": token},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "in.xlsx: you have 1 upload waiting to be checked or confirmed" in second
