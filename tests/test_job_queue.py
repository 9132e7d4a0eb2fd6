"""Import jobs on the real queue: Redis on 127.0.0.1:6379 and `zetrials worker` as its own process, on SQLite and
PostgreSQL. A file uploaded through one app is followed and confirmed through another, each app with an instance
folder of its own and the worker with its own temporary folder (the bytes travel in the database, no disk is
shared); a worker killed mid-import leaves nothing written, its job is failed by the reaper within the heartbeat
limit, and the upload again imports everything, on Redis and on the embedded SQLite queue alike. Outside CI these
skip when no Redis answers; in CI (`.ci/run` starts it) they fail instead."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.factory import create_app
from importers.jobs import WORKER_STOPPED
from tests.checksums import PROJECT, big_workbook, table_checksums
from tests.factories import make_user, page_token, sign_in, standard_file, upload
from trials.accounts import create_token
from trials.models import ImportBatch, ImportUpload, Measurement, Role

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
#: The reaper's limit in these tests: a dead worker's job fails this long after its last heartbeat.
HEARTBEAT_LIMIT_S = 8.0
#: Rows in the file the killed worker was reading: long enough to be killed part-way on either database.
BIG_ROWS = 60_000


@pytest.fixture
def redis_url() -> str:
    """The Redis server the queue tests use, flushed of nothing: each test has a queue name of its own."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the queue tests need Redis at {REDIS_URL} in CI (.ci/run starts it): {error}")
        pytest.skip(f"the queue tests need Redis at {REDIS_URL} (TEST_REDIS_URL): {error}")
    return REDIS_URL


@pytest.fixture(scope="session")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The file the killed worker was reading, written once per test process for every database and queue."""
    return big_workbook(tmp_path_factory.getbasetemp() / "workbooks", BIG_ROWS)


@pytest.fixture
def settings(redis_url: str, db_url: str, engine: Engine, tmp_path: Path) -> dict[str, Any]:
    """What every process of one deployment shares: the database, Redis and a queue name; no disk."""
    return {
        "DATABASE_URL": db_url,
        "JOB_QUEUE": redis_url,
        "JOB_QUEUE_NAME": f"zetrials-test-{uuid.uuid4().hex[:10]}",
        "JOB_HEARTBEAT_LIMIT_S": HEARTBEAT_LIMIT_S,
        "SECRET_KEY": "queue-test-secret",
    }


@pytest.fixture
def web(settings: dict[str, Any], tmp_path: Path) -> Iterator[Callable[[], Flask]]:
    """Build web processes of the deployment, each with its own engine and instance folder, closed after the test."""
    built: list[Flask] = []

    def build() -> Flask:
        app = create_app({"TESTING": True, **settings})
        app.instance_path = str(tmp_path / f"web-{len(built) + 1}" / "instance")  # a host of its own
        Path(app.instance_path).mkdir(parents=True)
        built.append(app)
        return app

    yield build
    for app in built:
        app.extensions["zetrials.engine"].dispose()


@contextmanager
def worker(settings: dict[str, Any], log: Path, scratch: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Run `zetrials worker` as its own process (and process group) until the block ends, with its temporary files
    in `scratch` if given (as a host of its own)."""
    environment = {key: value for key, value in os.environ.items() if key != "ZETRIALS_ENV"}
    environment.update(
        DATABASE_URL=settings["DATABASE_URL"],
        ZETRIALS_QUEUE=settings["JOB_QUEUE"],
        ZETRIALS_QUEUE_NAME=settings["JOB_QUEUE_NAME"],
        ZETRIALS_JOB_HEARTBEAT_LIMIT_S=str(HEARTBEAT_LIMIT_S),
        SECRET_KEY=settings["SECRET_KEY"],
    )
    if scratch is not None:
        environment["TMPDIR"] = str(scratch)
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import main; main()", "worker", "--threads", "1"],  # this checkout
            cwd=PROJECT,
            env=environment,
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _wait(check: Callable[[], Any], seconds: float, what: str, log: Path) -> Any:
    """Poll until check() gives something true, else fail saying what did not happen, with the worker's log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what} within {seconds} s; worker log:\n{log.read_text(errors='replace')[-3000:]}")


def _state(client: FlaskClient, review: str) -> str:
    """The review page's status JSON, as its progress indicator polls it."""
    found: str = client.get(f"{review}/status").get_json()["state"]
    return found


def _uploads(session: Session) -> dict[str, bytes]:
    """Every upload's bytes kept in the database, by job, read afresh."""
    session.commit()
    return {row.job_id: row.content for row in session.exec(select(ImportUpload)).all()}


def test_an_upload_through_one_app_is_confirmed_through_another_and_run_by_the_worker(
    settings: dict[str, Any], web: Callable[[], Flask], session: Session, tmp_path: Path
) -> None:
    make_user(session, "ed@example.org", role=Role.editor)
    first_app, second_app = web(), web()
    first, second = first_app.test_client(), second_app.test_client()
    assert sign_in(first, "ed@example.org") == 302 and sign_in(second, "ed@example.org") == 302
    log, scratch = tmp_path / "worker.log", tmp_path / "worker-host" / "tmp"
    scratch.mkdir(parents=True)
    path = standard_file(tmp_path / "in.xlsx")
    with worker(settings, log, scratch):
        review = upload(first, path)
        _wait(lambda: _state(second, review) == "done", 60, "the dry run did not finish on the worker", log)
        assert "The file is ready: 4 rows would be created" in second.get(review).get_data(as_text=True)
        assert _uploads(session) == {review.rsplit("/", 1)[1]: path.read_bytes()}  # kept for the confirmation
        confirmed = second.post(f"{review}/confirm", data={"csrf_token": page_token(second, review)})
        assert confirmed.status_code == 302
        _wait(lambda: _state(first, review) == "done", 60, "the import did not finish on the worker", log)
    session.commit()
    batch = session.exec(select(ImportBatch)).one()
    assert f"Imported as batch {batch.id}: 4 created" in first.get(review).get_data(as_text=True)
    assert session.exec(select(func.count()).select_from(Measurement)).one() == 3
    assert _uploads(session) == {}  # imported: no bytes are left behind
    assert list(scratch.iterdir()) == []  # nor the worker's temporary copy
    for app in (first_app, second_app):
        assert list(Path(app.instance_path).iterdir()) == []  # nothing was kept on a web host's disk


def _post_async(client: FlaskClient, token: str, path: Path) -> str:
    """Queue an import through the API and give the job's address."""
    # Encoded here in memory: the test client would spool a body this large to a file it never closes.
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(path.read_bytes()), path.name)})
    answer = client.post(
        "/api/v1/imports?async=true",
        data=body,
        headers={"Authorization": f"Bearer {token}"},
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert answer.status_code == 202, answer.get_data(as_text=True)
    url: str = answer.get_json()["url"]
    return url


@pytest.mark.slow
@pytest.mark.parametrize("queue", ["redis", "sqlite"])
def test_a_worker_killed_mid_import_leaves_nothing_its_job_fails_and_the_upload_again_imports_all(
    settings: dict[str, Any],
    web: Callable[[], Flask],
    db_url: str,
    session: Session,
    tmp_path: Path,
    queue: str,
    big: Path,
) -> None:
    if queue == "sqlite":  # the embedded queue `make run` uses: a SQLite file the web and the worker share on a host
        settings["JOB_QUEUE"] = f"sqlite:///{tmp_path / 'queue.sqlite'}"
    make_user(session, "ed@example.org", role=Role.editor)
    token = create_token(session, email="ed@example.org", actor="test")
    session.commit()
    client = web().test_client()
    headers = {"Authorization": f"Bearer {token}"}
    before = {table: sums for table, sums in table_checksums(db_url).items() if table != "importjob"}
    log = tmp_path / "worker.log"
    with worker(settings, log) as doomed:
        url = _post_async(client, token, big)
        _wait(lambda: client.get(url, headers=headers).get_json()["rows_done"] >= 20_000, 180, "no rows read", log)
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
        killed_at = time.monotonic()
    failed = _wait(
        lambda: (job := client.get(url, headers=headers).get_json())["status"] == "failed" and job, 60, "no fail", log
    )
    assert time.monotonic() - killed_at < 60
    assert (failed["error"], failed["result"]) == (WORKER_STOPPED, None)
    assert _uploads(session) == {}  # failed: its bytes are deleted with it
    after = {table: sums for table, sums in table_checksums(db_url).items() if table != "importjob"}
    assert after == before
    with worker(settings, log):
        again = _post_async(client, token, big)
        done = _wait(
            lambda: (job := client.get(again, headers=headers).get_json())["status"] in ("done", "failed") and job,
            300,
            "the upload again did not finish",
            log,
        )
    assert (done["status"], done["result"]["status"], done["result"]["created"]) == ("done", "imported", BIG_ROWS + 4)
    session.commit()
    assert session.exec(select(func.count()).select_from(Measurement)).one() == BIG_ROWS
    assert _uploads(session) == {}
