"""Imports racing each other while the API and dashboards read, on the real app under gunicorn with several workers.

Each of FILES import files adds CHUNK_ROWS + 2**i rows (one kWh and one hour each) to one trial, in units of its
own, so the importer writes every file in more than one chunk. Any row count made of whole imports then tells
which imports it holds: count // CHUNK_ROWS of them, named by the bits of count % CHUNK_ROWS. A count that does
not decode that way (such as a first chunk without the rest) is half an import seen by a reader.
"""

from __future__ import annotations

import csv
import io
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from openpyxl import Workbook
from requests.cookies import RequestsCookieJar
from sqlalchemy.engine import Engine
from sqlmodel import Session

from importers.load import CHUNK_ROWS
from tests.factories import make_trial
from tests.server import (
    REQUEST_TIMEOUT_S,
    Server,
    add_account,
    browser,
    callback_body,
    gunicorn,
    run_callback,
    sign_in,
    token_client,
)
from trials.models import Role, Visibility

TRIAL = "LGB-RACE-01"
EDITOR, VIEWER = "editor@race.example", "exec@race.example"
#: Files of different bytes, racing each other (enough that, even on a loaded machine, a read lands between two of
#: their commits); the last file is also uploaded COPIES times at once.
DIFFERENT = 7
FILES = DIFFERENT + 1
SHARED = DIFFERENT
COPIES = 4
#: Threaded workers, so reads get a worker while every upload holds one (sync workers would queue them all behind).
WORKERS, THREADS = 4, 4
DAYS_PER_UNIT = 200
FIRST_DAY = date(2024, 1, 1)
#: What gunicorn's log must never hold: lock errors, unhandled exceptions, workers killed for hanging.
FORBIDDEN_IN_LOG = ("database is locked", "Traceback", "WORKER TIMEOUT")
assert 2**FILES <= CHUNK_ROWS, "the row counts must stay decodable"


def rows_of(index: int) -> int:
    """Rows of file `index`: more than one chunk, and a distinct power of two beyond it."""
    return CHUNK_ROWS + (1 << index)


EXPECTED = sum(rows_of(index) for index in range(FILES))


def imports_in(count: float) -> frozenset[int] | None:
    """Which whole imports a row count (or kWh total) is made of; None if no set of whole imports adds up to it."""
    if not math.isfinite(count) or count != int(count):
        return None
    whole, bits = divmod(int(count), CHUNK_ROWS)
    seen = frozenset(index for index in range(FILES) if bits >> index & 1)
    return seen if bits < 2**FILES and len(seen) == whole else None


def _measurements(index: int) -> Iterator[tuple[str, str, date, float, float]]:
    """The rows of one file: its own units, a day each, one hour and one kWh per row."""
    for number in range(rows_of(index)):
        unit, day = divmod(number, DAYS_PER_UNIT)
        yield TRIAL, f"F{index}-{unit:02d}", FIRST_DAY + timedelta(days=day), 1.0, 1.0


HEADER = ("Trial", "Unit", "Date", "Operating hours (h)", "Energy (kWh)")


def write_file(folder: Path, index: int) -> Path:
    """Write file `index`: odd ones as workbooks, even ones as csv, as different sources send them."""
    if index % 2:
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.title = "Measurements"
        sheet.append(HEADER)
        for row in _measurements(index):
            sheet.append(row)
        path = folder / f"fleet-{index}.xlsx"
        workbook.save(path)
        return path
    path = folder / f"fleet-{index}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for trial, unit, day, hours, energy in _measurements(index):
            writer.writerow([trial, unit, day.isoformat(), hours, energy])
    return path


@dataclass(frozen=True)
class Upload:
    """One POST /api/v1/imports: which file, when it was sent and answered, and the answer."""

    index: int
    started: float
    finished: float
    status: int
    answer: dict[str, Any]
    text: str


@dataclass(frozen=True)
class Reading:
    """One read during the race: which reader, when, the answer's status and the count or kWh it showed."""

    reader: str
    started: float
    finished: float
    status: int
    value: float | None
    locked: bool  # the answer mentions "database is locked"


Answer = tuple[requests.Response, float | None]


def api_count(http: requests.Session, base: str) -> Answer:
    """The API's row count of the trial (a COUNT over raw measurements)."""
    response = http.get(f"{base}/api/v1/trials/{TRIAL}/measurements?per_page=1", timeout=REQUEST_TIMEOUT_S)
    return response, float(response.json()["total"]) if response.ok else None


def api_energy(http: requests.Session, base: str) -> Answer:
    """The API's metrics: energy and operating hours, which must agree, since every row has one of each."""
    response = http.get(f"{base}/api/v1/trials/{TRIAL}/metrics", timeout=REQUEST_TIMEOUT_S)
    if not response.ok:
        return response, None
    values = response.json()["metrics"]
    energy, hours = values["energy_kwh"] or 0.0, values["operating_hours"] or 0.0
    return response, energy if energy == hours else math.nan


TRIAL_PATH = f"/dashboard/trials/{TRIAL}"
PROVENANCE = callback_body(
    [("provenance-grid", "rowData"), ("provenance-status", "children"), ("provenance-page", "data")],
    [("provenance-previous", "n_clicks", 0), ("provenance-next", "n_clicks", 0)],
    [("provenance-page", "data", 0), ("url", "pathname", TRIAL_PATH), ("url", "search", "")],
)
SERIES_DOWNLOAD = callback_body(
    [({"chart": "series", "type": "download"}, "data")],
    [({"chart": "series", "type": "download-button"}, "n_clicks", 1)],
    [("url", "search", ""), ("url", "pathname", TRIAL_PATH)],
)


def dash_count(http: requests.Session, base: str) -> Answer:
    """The trial page's provenance table: 'rows 1-50 of N', counted from the per-unit running-total rollups."""
    response = run_callback(http, base, PROVENANCE)
    if not response.ok:
        return response, None
    status = response.json()["response"]["provenance-status"]["children"]
    if "no measurements" in status:
        return response, 0.0
    return response, float(status.rsplit(" of ", 1)[1].strip().replace(",", ""))


def dash_energy(http: requests.Session, base: str) -> Answer:
    """The CSV behind the trial page's time series: kWh per month from the daily rollups, added up."""
    response = run_callback(http, base, SERIES_DOWNLOAD)
    if not response.ok:
        return response, None
    (download,) = response.json()["response"].values()
    rows = csv.DictReader(io.StringIO(download["data"]["content"]))
    return response, sum(float(row["energy_kwh"]) for row in rows if row.get("energy_kwh"))


Reader = Callable[[requests.Session, str], Answer]
#: Each reader with the kind of client it reads through: an API token, or the signed-in browser's cookies.
READERS: dict[str, tuple[Reader, str]] = {
    "api count": (api_count, "api"),
    "api energy": (api_energy, "api"),
    "dashboard count": (dash_count, "browser"),
    "dashboard energy": (dash_energy, "browser"),
}


@dataclass(frozen=True)
class Credentials:
    """How the threads sign their requests: the editor's token, the executive's token and browser cookies."""

    editor_token: str
    viewer_token: str
    browser_cookies: RequestsCookieJar

    def client(self, kind: str) -> requests.Session:
        """A client of its own for one thread (a requests.Session is not meant to be shared between threads)."""
        if kind == "editor":
            return token_client(self.editor_token)
        if kind == "api":
            return token_client(self.viewer_token)
        http = browser()  # another tab of the same signed-in browser
        http.cookies.update(self.browser_cookies)
        return http


@pytest.fixture
def world(session: Session) -> tuple[str, str]:
    """The trial the files go to, an editor with a token who uploads, and an executive with a token who reads."""
    make_trial(session, code=TRIAL, name="Racing imports", visibility=Visibility.partners, end_date=None)
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    editor_token = add_account(engine, EDITOR, Role.editor, token=True)
    viewer_token = add_account(engine, VIEWER, Role.executive, token=True)
    assert editor_token is not None and viewer_token is not None
    return editor_token, viewer_token


def _upload(credentials: Credentials, base: str, path: Path, index: int, gate: threading.Barrier) -> Upload:
    """Wait for every uploader, then POST the file as an API script would."""
    body = path.read_bytes()
    with credentials.client("editor") as http:
        gate.wait()
        started = time.monotonic()
        response = http.post(f"{base}/api/v1/imports", files={"file": (path.name, body)}, timeout=REQUEST_TIMEOUT_S)
        finished = time.monotonic()
    answer = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
    return Upload(index, started, finished, response.status_code, answer, response.text[:2000])


def _read_until(name: str, credentials: Credentials, base: str, stop: threading.Event, into: list[Reading]) -> None:
    """Read again and again through a client of its own until told to stop, keeping every answer."""
    read, kind = READERS[name]
    with credentials.client(kind) as http:
        while not stop.is_set():
            started = time.monotonic()
            try:
                response, value = read(http, base)
                status, locked = response.status_code, "database is locked" in response.text
            except (requests.RequestException, ValueError, KeyError, IndexError) as error:
                status, value, locked = 0, None, "database is locked" in str(error)
            into.append(Reading(name, started, time.monotonic(), status, value, locked))


def race(base: str, credentials: Credentials, files: list[Path]) -> tuple[list[Upload], list[Reading]]:
    """Start the readers, let them see the empty trial, upload every file at once, then read once more and stop."""
    readings: dict[str, list[Reading]] = {name: [] for name in READERS}
    stop = threading.Event()
    readers = [
        threading.Thread(target=_read_until, args=(name, credentials, base, stop, readings[name])) for name in READERS
    ]
    for reader in readers:
        reader.start()
    while not all(readings.values()) and all(reader.is_alive() for reader in readers):
        time.sleep(0.05)
    jobs = [(files[index], index) for index in range(DIFFERENT)] + [(files[SHARED], SHARED)] * COPIES
    gate = threading.Barrier(len(jobs))
    uploads: list[Upload] = []
    lock = threading.Lock()

    def upload(path: Path, index: int) -> None:
        done = _upload(credentials, base, path, index, gate)
        with lock:
            uploads.append(done)

    uploaders = [threading.Thread(target=upload, args=job) for job in jobs]
    for uploader in uploaders:
        uploader.start()
    for uploader in uploaders:
        uploader.join()
    settled = time.monotonic()
    while not all(own and own[-1].started > settled for own in readings.values()) and all(
        reader.is_alive() for reader in readers
    ):
        time.sleep(0.05)
    stop.set()
    for reader in readers:
        reader.join()
    return uploads, [reading for own in readings.values() for reading in own]


def exceptions_in(server: Server) -> str:
    """The exception lines of gunicorn's log, so a failed request says what went wrong inside."""
    lines = [line for line in server.errors().splitlines() if "Error" in line and not line.startswith("{")]
    return "\n".join(lines[-10:])


def check_uploads(uploads: list[Upload], server: Server) -> None:
    """Every upload answered 200; each different file imported whole; one copy imported, the others duplicates."""
    assert len(uploads) == DIFFERENT + COPIES
    for upload in uploads:
        assert upload.status == 200, f"file {upload.index}: {upload.status} {upload.text}\n{exceptions_in(server)}"
        assert "database is locked" not in upload.text
    for upload in (u for u in uploads if u.index != SHARED):
        assert upload.answer["status"] == "imported", upload.text
        assert (upload.answer["created"], upload.answer["problems"]) == (rows_of(upload.index), [])
    copies = [u for u in uploads if u.index == SHARED]
    assert sorted(u.answer["status"] for u in copies) == ["duplicate"] * (COPIES - 1) + ["imported"]
    assert {u.answer["batch"] for u in copies} != {None} and len({u.answer["batch"] for u in copies}) == 1
    assert {u.answer["created"] for u in copies} == {rows_of(SHARED)}


def check_readings(uploads: list[Upload], readings: list[Reading]) -> None:
    """Every read answered 200 with whole imports only, never fewer than it saw before or than were committed."""
    failed = [r for r in readings if r.status != 200 or r.locked or r.value is None]
    assert not failed, f"{len(failed)} reads failed, first: {failed[0]}"
    committed_at = {index: min(u.finished for u in uploads if u.index == index) for index in range(FILES)}
    for name in READERS:
        own = sorted((r for r in readings if r.reader == name), key=lambda r: r.started)
        previous: frozenset[int] = frozenset()
        for reading in own:
            assert reading.value is not None
            seen = imports_in(reading.value)
            assert seen is not None, f"{name} saw {reading.value}: not a sum of whole imports"
            assert previous <= seen, f"{name} saw imports {sorted(previous)} and later only {sorted(seen)}"
            answered = {index for index, at in committed_at.items() if at < reading.started}
            assert answered <= seen, f"{name} missed imports {sorted(answered - seen)} already answered"
            previous = seen
        assert imports_in(own[0].value or 0.0) == frozenset(), f"{name} did not start from the empty trial"
        assert own[-1].value == EXPECTED, f"{name} ended at {own[-1].value}, not {EXPECTED}"


def check_database(engine: Engine, uploads: list[Upload]) -> None:
    """Exactly the expected rows, no natural key twice, and one batch per distinct file holding its rows."""
    with engine.connect() as connection:
        stored = connection.execute(
            sa.text("SELECT count(*) FROM measurement m JOIN trial t ON t.id = m.trial_id WHERE t.code = :code"),
            {"code": TRIAL},
        ).scalar_one()
        doubled = connection.execute(
            sa.text(
                "SELECT unit_id, period_start, period_end FROM measurement "
                "GROUP BY unit_id, period_start, period_end HAVING count(*) > 1"
            )
        ).all()
        grouped = sa.text("SELECT import_batch_id, count(*) FROM measurement GROUP BY import_batch_id")
        batches = {int(batch): int(count) for batch, count in connection.execute(grouped).all()}
        batch_rows = connection.execute(sa.text("SELECT count(*), count(DISTINCT sha256) FROM importbatch")).one()
    assert stored == EXPECTED
    assert doubled == []
    assert tuple(batch_rows) == (FILES, FILES)
    by_index = {u.index: u.answer["batch"] for u in uploads if u.answer.get("status") == "imported"}
    assert {batches.get(batch) for batch in by_index.values()} == {rows_of(index) for index in by_index}
    assert sorted(by_index) == list(range(FILES))


def check_server_log(server: Server) -> None:
    """No lock error, unhandled exception or hung worker in gunicorn's log, and no 5xx in the app's request log."""
    log = server.errors()
    for forbidden in FORBIDDEN_IN_LOG:
        assert forbidden not in log, f"{forbidden!r} in gunicorn's log:\n{log[-4000:]}"
    errors = [entry for entry in server.request_log() if entry["status"] >= 500]
    assert not errors, errors[:5]


@pytest.mark.slow
def test_racing_imports_are_whole_exact_and_never_locked(
    engine: Engine, db_url: str, world: tuple[str, str], tmp_path: Path
) -> None:
    """The issue's promise on both databases, over real HTTP to several worker processes."""
    editor_token, viewer_token = world
    files = [write_file(tmp_path, index) for index in range(FILES)]
    with gunicorn(db_url, tmp_path / "server", workers=WORKERS, threads=THREADS, preload=True) as server:
        with browser() as signed_in:
            sign_in(signed_in, server.url, VIEWER)
            credentials = Credentials(editor_token, viewer_token, signed_in.cookies)
            uploads, readings = race(server.url, credentials, files)
        check_uploads(uploads, server)
        check_readings(uploads, readings)
        check_database(engine, uploads)
        check_server_log(server)
    between = {r.value for r in readings if r.value not in (0, EXPECTED)}
    assert between, "no read landed between two imports' commits, so the race proved nothing"
