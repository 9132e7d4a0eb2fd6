"""Mapping a file's columns and values in its review, and the import profiles they are saved as: applied to the
next file with the same headers, per port, audited, editable; on the web, in the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.cli import main
from importers.pipeline import import_file
from importers.profiles import (
    ImportMapping,
    ProfileError,
    delete_profile,
    header_key,
    may_edit,
    save_profile,
    update_profile,
    visible_profiles,
)
from tests.factories import (
    check_against_document,
    events,
    finished,
    fleet_group_file,
    make_user,
    page_token,
    reread,
    sign_in,
    upload,
    write_xlsx,
)
from trials.accounts import create_token
from trials.models import ImportProfile, Role, Unit, UnitRole
from trials.scope import Scope

OPERATOR = Scope.operator()
NAME = "Terminal X telematics"
HEADERS = ["Trial", "Unit", "Fleet Group", "Date", "Operating hours", "Energy (kWh)", "Diesel (L)"]
VALUES = {"Pilot EV": "trial", "Diesel baseline": "baseline"}
FLEET_GROUP = ImportMapping({"Fleet Group": "role"}, {"role": VALUES})


def saved(session: Session, scope: Scope = OPERATOR, name: str = NAME) -> ImportProfile:
    """Save the Fleet Group mapping as a profile for the Fleet Group file's headers, committed."""
    profile = save_profile(session, scope, name=name, headers=HEADERS, mapping=FLEET_GROUP)
    session.commit()
    return profile


def roles(engine: Engine) -> dict[str, UnitRole]:
    """Every stored unit's role, by unit id."""
    with Session(engine) as session:
        return {unit.unit_id: unit.role for unit in session.exec(select(Unit))}


# --- the importer -------------------------------------------------------------------------------------------------


def test_the_header_key_ignores_case_spaces_punctuation_and_order() -> None:
    assert header_key(["Unit", "Fleet Group", "Energy (kWh)"]) == header_key(["energy kwh", "FLEET-GROUP", " unit "])
    assert header_key(["Unit", "Fleet Group"]) != header_key(["Unit", "Fleet Group", "Driver"])


def test_a_saved_profile_is_applied_to_the_next_file_with_the_same_headers(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    saved(session)
    result = import_file(engine, fleet_group_file(tmp_path / "march.xlsx"), scope=OPERATOR)
    assert result.status == "imported" and result.review is not None
    assert (result.review.profile, result.review.warnings) == (NAME, [])
    assert roles(engine) == {"EV-1": UnitRole.trial, "EV-2": UnitRole.trial, "D-1": UnitRole.baseline}


def test_a_profile_is_not_applied_to_other_headers(engine: Engine, session: Session, tmp_path: Path) -> None:
    save_profile(session, OPERATOR, name="Other headers", headers=["Unit", "Group"], mapping=FLEET_GROUP)
    session.commit()
    result = import_file(engine, fleet_group_file(tmp_path / "march.xlsx"), scope=OPERATOR, dry_run=True)
    assert result.review is not None and result.review.profile is None
    assert "column_kept_as_notes" in [warning.code for warning in result.review.warnings]


def test_an_editor_sees_and_applies_only_their_ports_profiles_and_the_port_less_ones(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    lax = Scope(role=Role.editor, port_locode="USLAX", user_id=None, actor="lax@example.org")
    lgb = Scope(role=Role.editor, port_locode="USLGB", user_id=None, actor="lgb@example.org")
    shared = saved(session, OPERATOR, "Shared by the admin")
    own = saved(session, lax, "Los Angeles telematics")
    assert [p.name for p in visible_profiles(session, lax)] == ["Los Angeles telematics", "Shared by the admin"]
    assert [p.name for p in visible_profiles(session, lgb)] == ["Shared by the admin"]
    assert (may_edit(lax, own), may_edit(lax, shared), may_edit(lgb, own), may_edit(OPERATOR, own)) == (
        True,
        False,
        False,
        True,
    )
    # Both match the file's headers: the editor's own port's profile wins over the port-less one.
    result = import_file(engine, fleet_group_file(tmp_path / "march.xlsx"), scope=lax, dry_run=True)
    assert result.review is not None and result.review.profile == "Los Angeles telematics"


def test_profiles_are_audited_when_made_changed_and_deleted(session: Session) -> None:
    profile = saved(session)
    assert profile.id is not None
    renamed = ImportMapping({"Fleet Group": "role"}, {"role": {"Pilot EV": "trial"}})
    update_profile(session, OPERATOR, profile.id, name="  Terminal  X ", mapping=renamed)
    session.commit()
    assert delete_profile(session, OPERATOR, profile.id) == "Terminal X"
    session.commit()
    [made] = events(session, "import_profile.create")
    [changed] = events(session, "import_profile.update")
    [deleted] = events(session, "import_profile.delete")
    assert made.object == changed.object == deleted.object == f"import_profile:{profile.id}"
    assert made.after == {"name": NAME, "port": None, "headers": HEADERS, "columns": {"Fleet Group": "role"},
                          "values": {"role": VALUES}}  # fmt: skip
    assert changed.before is not None and changed.after is not None and deleted.before is not None
    assert (changed.before["name"], changed.after["name"], changed.after["values"]) == (
        NAME,
        "Terminal X",
        {"role": {"Pilot EV": "trial"}},
    )
    assert deleted.before["name"] == "Terminal X" and session.exec(select(ImportProfile)).all() == []


def test_a_profile_needs_a_free_name_and_a_mapping(session: Session) -> None:
    saved(session)
    for name, mapping, said in (
        ("terminal x TELEMATICS", FLEET_GROUP, "exists already"),
        ("   ", FLEET_GROUP, "give the profile a name"),
        ("x" * 121, FLEET_GROUP, "at most 120 characters"),
        ("Empty", ImportMapping(), "the mapping is empty"),
    ):
        try:
            save_profile(session, OPERATOR, name=name, headers=HEADERS, mapping=mapping)
        except ProfileError as refused:
            assert said in str(refused)
        else:
            raise AssertionError(f"{name!r} was saved")


def test_a_mapping_read_back_from_a_job_keeps_only_well_formed_entries() -> None:
    read = ImportMapping.from_json(
        {
            "columns": {"Fleet Group": "role", "X": "no_such_field", "": "role"},
            "values": {"role": {"A": "trial", "B": ""}},
        }
    )
    assert read == ImportMapping({"Fleet Group": "role"}, {"role": {"A": "trial"}})
    assert ImportMapping.from_json("not a mapping") is None


# --- the web pages ------------------------------------------------------------------------------------------------


def mapping_form(columns: dict[str, str], values: dict[str, str]) -> dict[str, Any]:
    """The review's mapping form as a browser posts it: a field for every header, a meaning for each value."""
    return {
        "header": HEADERS,
        "field": [columns.get(header, "") for header in HEADERS],
        "value_column": ["Fleet Group"] * len(values),
        "value_raw": list(values),
        "value_meaning": list(values.values()),
    }


def test_the_review_maps_rechecks_confirms_and_saves_a_profile_the_next_file_gets(
    editor: FlaskClient, session: Session, engine: Engine, tmp_path: Path
) -> None:
    review = upload(editor, fleet_group_file(tmp_path / "march.xlsx"))
    page = finished(editor, review)
    assert 'id="review-warnings"' in page and "its trial unit D-1 burnt 160 L of diesel" in page
    assert "<td>Pilot EV</td>" in page and "<td>Diesel baseline</td>" in page  # its values, offered for mapping
    assert "<td>battery_electric</td>" not in page  # a value its column reads already is not offered
    assert 'name="profile_name"' not in page  # nothing mapped yet, so nothing to save
    data = mapping_form({"Fleet Group": "role"}, VALUES) | {"csrf_token": page_token(editor, review)}
    assert editor.post(f"{review}/recheck", data=data).status_code == 302
    page = finished(editor, review)
    assert "The file is ready: 7 rows would be created" in page  # a trial and 3 units x 2 days
    assert 'id="review-warnings"' not in page
    assert "<td>D-1</td>" not in page and "<td>D-1 <span" in page and "<td>baseline unit</td>" in page
    assert '<option value="role" selected>Role</option>' in page  # the mapping stays on the form
    assert 'name="profile_name"' in page
    confirmed = editor.post(
        f"{review}/confirm",
        data={"csrf_token": page_token(editor, review), "profile_name": NAME},
        follow_redirects=True,
    )
    assert f"Saved import profile &#39;{NAME}&#39;" in confirmed.get_data(as_text=True)
    assert roles(engine) == {"EV-1": UnitRole.trial, "EV-2": UnitRole.trial, "D-1": UnitRole.baseline}
    reread(session)
    profile = session.exec(select(ImportProfile)).one()
    assert (profile.name, profile.port_locode, profile.headers, profile.columns, profile.values) == (
        NAME,
        None,
        HEADERS,
        {"Fleet Group": "role"},
        {"role": VALUES},
    )
    assert profile.header_key == header_key(HEADERS)
    assert f"<td>{NAME}</td>" in editor.get("/imports").get_data(as_text=True)
    second = finished(editor, upload(editor, fleet_group_file(tmp_path / "april.xlsx", trial="LAX-YT-03")))
    assert f"Import profile ‘{NAME}’ applied" in second and 'id="review-warnings"' not in second


def test_a_profile_is_renamed_edited_and_deleted_on_its_page(
    editor: FlaskClient, session: Session, tmp_path: Path
) -> None:
    profile = saved(session)
    page = f"/imports/profiles/{profile.id}"
    assert "Fleet Group" in editor.get(page).get_data(as_text=True)
    form = mapping_form({"Fleet Group": "role"}, {}) | {
        "name": "Fleet telematics",
        "value_column": ["role", "role", ""],
        "value_raw": ["Pilot EV", "Diesel (old)", ""],
        "value_meaning": ["trial", "baseline", ""],
        "csrf_token": page_token(editor, page),
    }
    assert editor.post(page, data=form).status_code == 302
    reread(session)
    changed = session.get(ImportProfile, profile.id)
    assert changed is not None
    assert (changed.name, changed.values) == (
        "Fleet telematics",
        {"role": {"Pilot EV": "trial", "Diesel (old)": "baseline"}},
    )
    deleted = editor.post(f"{page}/delete", data={"csrf_token": page_token(editor, page)}, follow_redirects=True)
    assert "Deleted import profile &#39;Fleet telematics&#39;" in deleted.get_data(as_text=True)
    reread(session)
    assert session.exec(select(ImportProfile)).all() == []


def test_an_editor_of_another_port_cannot_open_or_change_a_profile(
    client: FlaskClient, session: Session, tmp_path: Path
) -> None:
    lax = Scope(role=Role.editor, port_locode="USLAX", user_id=None, actor="lax@example.org")
    profile = saved(session, lax, "Los Angeles telematics")
    make_user(session, "lgb@example.org", role=Role.editor, port_locode="USLGB")
    assert sign_in(client, "lgb@example.org") == 302
    assert "Los Angeles telematics" not in client.get("/imports").get_data(as_text=True)
    assert client.get(f"/imports/profiles/{profile.id}").status_code == 404
    token = page_token(client, "/imports")
    assert client.post(f"/imports/profiles/{profile.id}/delete", data={"csrf_token": token}).status_code == 404
    reread(session)
    assert session.get(ImportProfile, profile.id) is not None


def test_a_rejected_upload_is_checked_again_with_the_file_chosen_again(editor: FlaskClient, tmp_path: Path) -> None:
    path = fleet_group_file(tmp_path / "march.xlsx")
    review = upload(editor, path)
    finished(editor, review)
    token = page_token(editor, review)
    column_only = mapping_form({"Fleet Group": "role"}, {}) | {"csrf_token": token}
    assert editor.post(f"{review}/recheck", data=column_only).status_code == 302
    page = finished(editor, review)
    assert "cannot be imported as it is" in page and "This upload is no longer kept: choose the file again" in page
    refused = editor.post(
        f"{review}/recheck", data=mapping_form({"Fleet Group": "role"}, VALUES) | {"csrf_token": token}
    )
    assert refused.headers["Location"].endswith(review)  # no file: asked for it again
    with_file = mapping_form({"Fleet Group": "role"}, VALUES) | {
        "csrf_token": token,
        "file": (path.open("rb"), path.name),
    }
    again = editor.post(f"{review}/recheck", data=with_file, content_type="multipart/form-data")
    assert again.status_code == 302 and not again.headers["Location"].endswith(review)
    assert "The file is ready" in finished(editor, again.headers["Location"])


def test_the_api_applies_a_profile_by_name_and_refuses_an_unknown_one(
    client: FlaskClient, session: Session, engine: Engine, tmp_path: Path
) -> None:
    saved(session)
    make_user(session, "api@example.org", role=Role.admin)
    token = create_token(session, email="api@example.org", actor="test")
    session.commit()
    path = fleet_group_file(tmp_path / "march.xlsx")
    import_file(engine, path, scope=OPERATOR)  # the trial, read with the profile by itself
    other = _with_driver(path, tmp_path / "driver.xlsx")  # another header set: the profile applies only when named

    def dry_run(**fields: str) -> Any:
        data = {"file": (io.BytesIO(other.read_bytes()), other.name), "dry_run": "true", **fields}
        headers = {"Authorization": f"Bearer {token}"}
        return client.post("/api/v1/imports", data=data, content_type="multipart/form-data", headers=headers)

    found = dry_run(profile=NAME)
    assert found.status_code == 200, found.get_data(as_text=True)
    check_against_document("POST", "/api/v1/imports", found)
    review = found.get_json()["review"]
    assert review["profile"] == NAME and [u["role"] for u in review["units"]] == ["baseline", "trial", "trial"]
    assert dry_run().get_json()["review"]["profile"] is None
    unknown = dry_run(profile="Nope")
    assert unknown.status_code == 400
    assert f"profile: no import profile named 'Nope'; profiles you may use: '{NAME}'" in unknown.get_data(as_text=True)


# --- the command line ---------------------------------------------------------------------------------------------


def test_the_cli_applies_a_profile_by_name_lists_them_and_refuses_an_unknown_one(
    runner: CliRunner, engine: Engine, tmp_path: Path
) -> None:
    with Session(engine) as session:
        saved(session)
    path = fleet_group_file(tmp_path / "march.xlsx")
    other = _with_driver(path, tmp_path / "driver.xlsx")  # another header set: the profile applies only when named
    import_file(engine, path, scope=OPERATOR)  # the trial, and the profile applied by itself
    plain = json.loads(runner.invoke(main, ["import", str(other), "--dry-run", "--json"]).output)
    assert plain["review"]["profile"] is None
    named = runner.invoke(main, ["import", str(other), "--dry-run", "--json", "--profile", "terminal x telematics"])
    assert named.exit_code == 0, named.output
    found = json.loads(named.output)["review"]
    assert found["profile"] == NAME and [u["role"] for u in found["units"]] == ["baseline", "trial", "trial"]
    text = runner.invoke(main, ["import", str(other), "--dry-run", "--profile", NAME]).output
    assert f"  profile '{NAME}' applied\n" in text
    assert "  unit D-1 of LAX-YT-02 (baseline unit): 2 rows, 2024-03-01 to 2024-03-02; diesel 160 L, " in text
    unknown = runner.invoke(main, ["import", str(other), "--profile", "Nope"])
    assert unknown.exit_code == 1
    assert f"no import profile named 'Nope'; profiles you may use: '{NAME}'" in unknown.output
    assert runner.invoke(main, ["profiles", "list"]).output == (
        f"{NAME} (every port, 7 headers)\n"
        "  columns: Fleet Group -> Role\n"
        "  values: Pilot EV -> trial; Diesel baseline -> baseline\n"
    )


def _with_driver(path: Path, to: Path) -> Path:
    """The Measurements sheet of a Fleet Group file with a Driver column more: the same rows, another header set."""
    rows = load_workbook(path)["Measurements"].iter_rows(values_only=True)
    return write_xlsx(to, {"Measurements": [[*row, "Ana" if index else "Driver"] for index, row in enumerate(rows)]})


def _posted(page: str) -> dict[str, Any]:
    """What a browser posts of a profile's page untouched: each drop-down's selected option, each text box's text."""

    def chosen(name: str) -> list[str]:
        blocks = re.findall(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
        return [next(iter(re.findall(r'<option value="([^"]*)" selected>', block)), "") for block in blocks]

    return {
        "header": re.findall(r'<input type="hidden" name="header" value="([^"]*)">', page),
        "field": chosen("field"),
        "value_column": chosen("value_column"),
        "value_raw": re.findall(r'<input type="text" name="value_raw" maxlength="200" value="([^"]*)"', page),
        "value_meaning": chosen("value_meaning"),
    }


def test_renaming_a_profile_keeps_its_mappings_of_either_kind_of_sheet(editor: FlaskClient, session: Session) -> None:
    mapping = ImportMapping({"Fleet Group": "role", "Drive": "technology"}, {"technology": {"EV": "battery_electric"}})
    profile = save_profile(session, OPERATOR, name=NAME, headers=[*HEADERS, "Drive"], mapping=mapping)
    session.commit()
    page = f"/imports/profiles/{profile.id}"
    form = _posted(editor.get(page).get_data(as_text=True)) | {
        "name": "Renamed",
        "csrf_token": page_token(editor, page),
    }
    assert editor.post(page, data=form).status_code == 302
    reread(session)
    kept = session.get(ImportProfile, profile.id)
    assert kept is not None and (kept.name, kept.columns, kept.values) == ("Renamed", mapping.columns, mapping.values)
