"""Importing in the browser: upload, dry run review, confirm, history and undo, all behind role and CSRF."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlmodel import Session, select

from tests.factories import csrf_token, finished, make_user, sign_in, standard_file, upload
from trials.models import ImportBatch, Measurement, Role


def confirm(client: FlaskClient, review: str) -> str:
    """Press the review page's Confirm button."""
    page = client.get(review).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    assert client.post(f"{review}/confirm", data={"csrf_token": token.group(1)}).status_code == 302
    return finished(client, review)


def test_upload_review_confirm_and_undo(editor: FlaskClient, session: Session, tmp_path: Path) -> None:
    review = upload(editor, standard_file(tmp_path / "in.xlsx"))
    page = finished(editor, review)
    assert "The file is ready: 4 rows would be created" in page
    assert 'id="mapping-form"' in page and "outside the plausible 6-25 kWh per hour" in page  # YT-1: 560 / 22 h
    assert "<td>Energy (kWh)</td><td>Energy</td>" in page  # the field in words, never its key
    assert session.exec(select(Measurement)).all() == []
    page = confirm(editor, review)
    session.commit()  # end the test's read snapshot to see the import
    batch = session.exec(select(ImportBatch)).one()
    assert f"Imported as batch {batch.id}: 4 created" in page
    assert 'id="unit-summary"' in page and 'id="mapping-form"' not in page  # imported: nothing left to map
    assert len(session.exec(select(Measurement)).all()) == 3
    history = editor.get("/imports").get_data(as_text=True)
    assert "in.xlsx" in history and "Undo" in history
    token = csrf_token(editor)
    asked = editor.post(f"/imports/batches/{batch.id}/undo", data={"csrf_token": token})
    assert asked.status_code == 200 and "remove the 3 rows it created" in asked.get_data(as_text=True)
    undone = editor.post(f"/imports/batches/{batch.id}/undo", data={"csrf_token": token, "confirm": "yes"})
    assert undone.status_code == 302
    session.commit()
    session.expire_all()
    assert session.exec(select(Measurement)).all() == []
    assert session.exec(select(ImportBatch)).one().status.value == "undone"


def test_a_rejected_file_lists_its_problems_and_offers_them_as_a_workbook(editor: FlaskClient, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("Trial,Unit,Date,Energy (kWh)\n=cmd|' /C calc'!A0,U1,2024-03-01,5\n", encoding="utf-8")
    review = upload(editor, path)
    page = finished(editor, review)
    assert "cannot be imported as it is: 1 problem" in page
    assert "Confirm the import" not in page
    download = editor.get(f"{review}/problems.xlsx")
    assert download.status_code == 200
    sheet = load_workbook(io.BytesIO(download.data))["Problems"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[1][:5] == ["bad.csv", "bad", 2, "Trial", "=cmd|' /C calc'!A0"]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    token = csrf_token(editor)
    assert editor.post(f"{review}/confirm", data={"csrf_token": token}).status_code == 302  # refused, stays


def test_hostile_file_gets_a_clear_page_never_a_500(editor: FlaskClient, tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n")
    page = finished(editor, upload(editor, path))
    assert "PDF" in page


def test_wrong_kind_of_file_is_refused_before_upload(editor: FlaskClient, tmp_path: Path) -> None:
    path = tmp_path / "data.numbers"  # Apple Numbers: a kind the importer does not read (.ods now is read)
    path.write_bytes(b"PK\x03\x04")
    token = csrf_token(editor)
    response = editor.post(
        "/imports",
        data={"file": (io.BytesIO(path.read_bytes()), path.name), "csrf_token": token},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "save the file as .xlsx" in response.get_data(as_text=True)


def test_another_users_upload_is_not_found(
    editor: FlaskClient, client: FlaskClient, session: Session, tmp_path: Path
) -> None:
    review = upload(editor, standard_file(tmp_path / "in.xlsx"))
    finished(editor, review)
    other = client.application.test_client()
    make_user(session, "ed2@example.org", role=Role.editor)
    assert sign_in(other, "ed2@example.org") == 302
    assert other.get(review).status_code == 404
    assert other.get(f"{review}/problems.xlsx").status_code == 404


@pytest.mark.parametrize("role", [Role.partner, Role.executive])
def test_readers_cannot_import(client: FlaskClient, session: Session, role: Role) -> None:
    make_user(session, "r@example.org", role=role, port_locode="USLGB")
    sign_in(client, "r@example.org")
    assert client.get("/imports").status_code == 403
    assert client.post("/imports", data={"csrf_token": csrf_token(client)}).status_code == 403


def test_upload_without_csrf_is_refused(editor: FlaskClient, tmp_path: Path) -> None:
    path = standard_file(tmp_path / "in.xlsx")
    response = editor.post(
        "/imports", data={"file": (io.BytesIO(path.read_bytes()), path.name)}, content_type="multipart/form-data"
    )
    assert response.status_code == 400


def test_the_problems_workbook_marks_formula_like_text_as_text_like_the_reports(
    editor: FlaskClient, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("Trial,Unit,Date,Energy (kWh)\n=cmd|' /C calc'!A0,U1,2024-03-01,5\n", encoding="utf-8")
    review = upload(editor, path)
    finished(editor, review)
    sheet = load_workbook(io.BytesIO(editor.get(f"{review}/problems.xlsx").data))["Problems"]
    assert [cell.value for cell in sheet[1]] == ["File", "Sheet", "Row", "Column", "Value", "Problem"]
    value = sheet["E2"]
    assert (value.value, value.data_type, value.quotePrefix) == ("=cmd|' /C calc'!A0", "s", True)
    assert sheet["A2"].quotePrefix is False  # plain text stays plain
