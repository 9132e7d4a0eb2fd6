"""Every hostile or malformed file, uploaded through the web: a 4xx or a problem page with a clear message, never a 500.

The importer's own tests prove these files change nothing; here they travel the whole HTTP stack (multipart
parsing, the API's JSON errors, the upload page's background run) as an editor's browser or script sends them.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from app.import_pages import ACCEPTED
from tests import hostile_files
from tests.factories import CORPUS, HOSTILE, check_against_document, csrf_token, finished, make_user, sign_in
from trials.accounts import create_token
from trials.models import ImportBatch, Measurement, Role, Trial

CORPUS_FILES = sorted(path.name for path in CORPUS.glob("*")) if CORPUS.is_dir() else []


def hostile_file(kind: str, name: str, folder: Path) -> Path:
    """Build one of the tests' hostile files, or point at one of the real-world corpus files."""
    if kind == "built":
        build: Callable[[Path], Path] = getattr(hostile_files, name)
        return build(folder)
    return CORPUS / name


CASES = [("built", name) for name in HOSTILE] + [("corpus", name) for name in CORPUS_FILES]


def counts(session: Session) -> tuple[int, int, int]:
    """How many batches, trials and measurements the database holds."""
    return (
        session.exec(select(func.count()).select_from(ImportBatch)).one(),
        session.exec(select(func.count()).select_from(Trial)).one(),
        session.exec(select(func.count()).select_from(Measurement)).one(),
    )


def post_file(client: FlaskClient, url: str, path: Path, headers: dict[str, str], **fields: str) -> TestResponse:
    """POST a file as a multipart form encoded in memory (Werkzeug spools a large body into a file it never closes)."""
    form = MultiDict({"file": FileStorage(io.BytesIO(path.read_bytes()), filename=path.name), **fields})
    boundary, body = encode_multipart(form)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}", headers=headers)


@pytest.fixture
def editor_token(session: Session) -> str:
    """An editor's API token, as a script would use it."""
    make_user(session, "script@example.org", role=Role.editor)
    token = create_token(session, email="script@example.org", actor="test")
    session.commit()
    return token


@pytest.mark.parametrize(("kind", "name"), CASES, ids=[name for _kind, name in CASES])
def test_the_api_answers_422_with_the_problem_and_writes_nothing(
    client: FlaskClient, session: Session, editor_token: str, tmp_path: Path, kind: str, name: str
) -> None:
    path = hostile_file(kind, name, tmp_path)
    before = counts(session)
    response = post_file(client, "/api/v1/imports", path, {"Authorization": f"Bearer {editor_token}"})
    check_against_document("POST", "/api/v1/imports", response)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    payload = response.get_json()
    assert payload["status"] == "rejected" and payload["batch"] is None
    assert payload["problems"] and all(len(problem["message"]) > 15 for problem in payload["problems"])
    assert counts(session) == before


@pytest.mark.parametrize(("kind", "name"), CASES, ids=[name for _kind, name in CASES])
def test_the_upload_page_shows_the_problem_and_nothing_can_be_confirmed(
    client: FlaskClient, session: Session, tmp_path: Path, kind: str, name: str
) -> None:
    make_user(session, "ed@example.org", role=Role.editor)
    assert sign_in(client, "ed@example.org") == 302
    path = hostile_file(kind, name, tmp_path)
    before = counts(session)
    posted = post_file(client, "/imports", path, {}, csrf_token=csrf_token(client))
    assert posted.status_code == 302
    if path.suffix.lower() not in ACCEPTED:  # refused by its name before it is kept
        page = client.get(posted.headers["Location"])
        assert "save the file as .xlsx" in page.get_data(as_text=True)
    else:
        review = posted.headers["Location"]
        page = html.unescape(finished(client, review))
        assert "The file cannot be imported as it is" in page and "Nothing was written." in page
        result = client.get(review)
        assert result.status_code == 200
        token = csrf_token(client)
        assert client.post(f"{review}/confirm", data={"csrf_token": token}).status_code == 302  # refused, stays
    assert counts(session) == before
