"""Finding 8 of the security review (issue 18), replayed: an editor with a port gets one answer for another port's
private trial code and for a free one (a code outside the editor's own prefix is refused before any lookup), and a
copy of a file someone outside the editor's import history imported names neither their batch nor its counts."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session

from tests.factories import (
    LGB_TRIAL,
    MEASURE_HEADER,
    TRIALS_HEADER,
    finished,
    make_trial,
    make_user,
    post_form,
    sign_in,
    upload,
    write_xlsx,
)
from trials.accounts import create_token
from trials.models import Role, Visibility

HIDDEN, FREE = "SIN-YT-01", "SIN-YT-99"
EDITOR = "ed@lax.example"


@pytest.fixture
def lax_editor(client: FlaskClient, session: Session) -> FlaskClient:
    """Signed in as a Los Angeles editor, with Singapore's private SIN-YT-01 in the database."""
    make_trial(session, code=HIDDEN, name="Secret tractors", port_locode="SGSIN", visibility=Visibility.private)
    make_user(session, EDITOR, role=Role.editor, port_locode="USLAX")
    assert sign_in(client, EDITOR) == 302
    return client


def _trials_file(folder: Path, code: str, port: str) -> Path:
    """A Trials sheet of one trial with this code at this port, the same file name whatever the code."""
    folder.mkdir(parents=True, exist_ok=True)
    row = [code, LGB_TRIAL[1], port, *LGB_TRIAL[3:]]
    return write_xlsx(folder / "trials.xlsx", {"Trials": [TRIALS_HEADER, row]})


def _masked(text: str, code: str) -> str:
    """An answer with the code it echoes, the upload's random job id and the form's CSRF token (signed with the
    second it was made in) replaced by placeholders."""
    text = re.sub(r"/imports/[A-Za-z0-9_-]{16,64}", "/imports/JOB", text.replace(code, "CODE"))
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+"', r'\1TOKEN"', text)


@pytest.mark.parametrize("port", ["USLAX", "SGSIN"])
def test_a_dry_run_answers_alike_for_another_ports_private_code_and_a_free_one(
    lax_editor: FlaskClient, tmp_path: Path, port: str
) -> None:
    pages = {}
    for code in (HIDDEN, FREE):
        review = upload(lax_editor, _trials_file(tmp_path / code, code, port))
        pages[code] = _masked(finished(lax_editor, review), code)
    assert pages[HIDDEN] == pages[FREE]
    expected = (
        "editors of USLAX create and import only trials whose code starts LAX-, LAX. or LAX_"
        if port == "USLAX"
        else "editors import only their own port&#39;s trials"
    )
    assert expected in pages[FREE] and "cannot be imported as it is: 1 problem" in pages[FREE]


def test_the_api_dry_run_answers_byte_for_byte_alike(client: FlaskClient, session: Session, tmp_path: Path) -> None:
    make_trial(session, code=HIDDEN, name="Secret tractors", port_locode="SGSIN", visibility=Visibility.private)
    make_user(session, EDITOR, role=Role.editor, port_locode="USLAX")
    token = create_token(session, email=EDITOR, actor="test")
    session.commit()
    answers = {}
    for code in (HIDDEN, FREE):
        path = _trials_file(tmp_path / code, code, "USLAX")
        answer = client.post(
            "/api/v1/imports",
            data={"file": (io.BytesIO(path.read_bytes()), path.name), "dry_run": "true"},
            headers={"Authorization": f"Bearer {token}"},
            content_type="multipart/form-data",
        )
        assert answer.status_code == 422
        answers[code] = answer.get_data().replace(code.encode(), b"CODE")
    assert answers[HIDDEN] == answers[FREE]


def _new_trial(code: str) -> dict[str, str]:
    """The new-trial form as a Los Angeles editor posts it."""
    return {
        "code": code,
        "name": "Battery-electric yard tractors",
        "port": "USLAX",
        "equipment_class": "yard_tractor",
        "technology": "battery_electric",
        "units_planned": "2",
        "start_date": "2024-01-01",
        "status": "planned",
        "visibility": "private",
        "baseline_rate": "11.5",
        "baseline_unit": "gal/h",
    }


def test_the_new_trial_form_answers_alike_for_another_ports_private_code_and_a_free_one(
    lax_editor: FlaskClient,
) -> None:
    answers = {}
    for code in (HIDDEN, FREE):
        response = post_form(lax_editor, "/trials/new", _new_trial(code))
        assert response.status_code == 400
        answers[code] = _masked(response.get_data(as_text=True), code)
    assert answers[HIDDEN] == answers[FREE]
    assert "editors of USLAX create and import only trials whose code starts LAX-, LAX. or LAX_" in answers[FREE]
    created = post_form(lax_editor, "/trials/new", _new_trial("LAX-YT-77"))
    assert created.status_code == 302 and created.headers["Location"] == "/trials/LAX-YT-77/edit"


def test_a_copy_of_a_file_imported_outside_the_editors_history_names_no_batch(
    client: FlaskClient, session: Session, tmp_path: Path
) -> None:
    trial = [HIDDEN, "Secret tractors", "SGSIN", "yard_tractor", "battery_electric", date(2024, 1, 1), 3, "L/h"]
    rows = [[HIDDEN, "YT-1", date(2024, 3, day), 10, 250 + day, 40] for day in range(1, 8)]
    sheets = {"Trials": [TRIALS_HEADER, trial], "Measurements": [MEASURE_HEADER, *rows]}
    path = write_xlsx(tmp_path / "sin.xlsx", sheets)
    tokens = {}
    for email, port in (("ed@sin.example", "SGSIN"), ("ed2@sin.example", "SGSIN"), (EDITOR, "USLAX")):
        make_user(session, email, role=Role.editor, port_locode=port)
        tokens[email] = create_token(session, email=email, actor="test")
    session.commit()

    def post(email: str) -> dict[str, object]:
        answer = client.post(
            "/api/v1/imports",
            data={"file": (io.BytesIO(path.read_bytes()), "copy.xlsx")},
            headers={"Authorization": f"Bearer {tokens[email]}"},
            content_type="multipart/form-data",
        )
        assert answer.status_code == 200
        found: dict[str, object] = answer.get_json()
        return found

    imported = post("ed@sin.example")
    assert (imported["status"], imported["created"]) == ("imported", 8)  # one trial and seven days
    same_port = post("ed2@sin.example")
    assert (same_port["status"], same_port["batch"], same_port["created"]) == ("duplicate", imported["batch"], 8)
    outsider = post(EDITOR)
    assert {key: outsider[key] for key in ("status", "batch", "created", "updated", "unchanged", "skipped")} == {
        "status": "duplicate",
        "batch": None,
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
    }
