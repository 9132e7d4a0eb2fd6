"""Admin pages: users, API tokens, factor sets and the audit log; admins only, every change audited."""

from __future__ import annotations

import html
import io
import re
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from tests.factories import (
    events,
    make_measurement,
    make_trial,
    make_unit,
    make_user,
    page_token,
    post_form,
    reread,
    sign_in,
)
from trials import audit
from trials.factors import (
    DATA,
    DEFAULT_SET,
    SHIPPED_SETS,
    add_factor_set,
    load_factors,
    read_factor_set,
    seed_shipped_sets,
    set_default_set,
)
from trials.models import ApiToken, EmissionFactor, FactorSet, Role, Technology, User
from trials.results import trial_metrics
from trials.scope import Scope

ADMIN = "admin@example.org"
PAGES = ("/admin/users", "/admin/tokens", "/admin/factors", "/admin/audit")


@pytest.fixture
def admin_client(client: FlaskClient, session: Session) -> FlaskClient:
    """A client signed in as an admin without a port."""
    make_user(session, ADMIN, role=Role.admin)
    assert sign_in(client, ADMIN) == 302
    return client


def user(session: Session, email: str) -> User:
    """Read a user afresh."""
    reread(session)
    return session.exec(select(User).where(User.email == email)).one()


#: The sets `zetrials init` stores, oldest first.
SHIPPED = [name for name, _description in SHIPPED_SETS]


def default_csv(**replacements: str) -> str:
    """The default set's CSV, with some lines replaced (keyed by their first two cells, e.g. 'diesel_wtw,')."""
    lines = (DATA / f"factors-{DEFAULT_SET}.csv").read_text(encoding="utf-8").splitlines()
    for start, line in replacements.items():
        lines = [line if row.startswith(start) else row for row in lines]
    return "\n".join(lines) + "\n"


def upload(client: FlaskClient, name: str, text: str) -> Any:
    """Post a factor set CSV with the upload form's CSRF token."""
    data = {
        "name": name,
        "description": "test set",
        "file": (io.BytesIO(text.encode()), "factors.csv"),
        "csrf_token": page_token(client, "/admin/factors"),
    }
    return client.post("/admin/factors", data=data, content_type="multipart/form-data")


@pytest.mark.parametrize("role", [Role.editor, Role.executive, Role.partner])
def test_admin_pages_refuse_everyone_else(client: FlaskClient, session: Session, role: Role) -> None:
    make_user(session, "someone@example.org", role=role, port_locode="USLGB")
    assert sign_in(client, "someone@example.org") == 302
    for path in PAGES:
        assert client.get(path).status_code == 403
    token = page_token(client, "/login")  # the sign-out form of the header
    form = {"email": "new@example.org", "password": "long enough password", "role": "admin", "csrf_token": token}
    assert client.post("/admin/users", data=form).status_code == 403
    assert client.post("/admin/factors/1/default", data={"csrf_token": token}).status_code == 403
    reread(session)
    assert session.exec(select(User).where(User.email == "new@example.org")).first() is None


def test_every_admin_page_opens(admin_client: FlaskClient) -> None:
    for path in PAGES:
        assert admin_client.get(path).status_code == 200


def test_an_admin_adds_a_user_who_can_then_sign_in(admin_client: FlaskClient, session: Session, app: Flask) -> None:
    form = {"email": "Pat@Example.org", "password": "a long password", "role": "partner", "port": "USLGB"}
    assert post_form(admin_client, "/admin/users", form).status_code == 302
    added = user(session, "pat@example.org")
    assert (added.role, added.port_locode, added.active) == (Role.partner, "USLGB", True)
    [event] = events(session, "user.add")
    assert event.actor == ADMIN and event.after == {"role": "partner", "port": "USLGB"}
    assert sign_in(app.test_client(), "pat@example.org", "a long password") == 302


def test_a_partner_without_a_port_is_refused_and_nothing_saved(admin_client: FlaskClient, session: Session) -> None:
    form = {"email": "pat@example.org", "password": "a long password", "role": "partner", "port": ""}
    response = post_form(admin_client, "/admin/users", form)
    assert response.status_code == 400
    assert "a partner must belong to a port" in response.get_data(as_text=True)
    reread(session)
    assert session.exec(select(User).where(User.email == "pat@example.org")).first() is None


def role_form(client: FlaskClient, target: User, role: str, port: str) -> dict[str, str]:
    """One row's role form as the users page posts it: every field, its CSRF token too, under the row's prefix."""
    fields = {"role": role, "port": port, "csrf_token": page_token(client, "/admin/users")}
    return {f"user-{target.id}-{name}": value for name, value in fields.items()}


def test_a_role_change_is_audited_with_before_and_after(admin_client: FlaskClient, session: Session) -> None:
    target = make_user(session, "ed@example.org", role=Role.editor, port_locode="USLGB")
    form = role_form(admin_client, target, "partner", "SGSIN")
    assert admin_client.post(f"/admin/users/{target.id}/role", data=form).status_code == 302
    changed = user(session, "ed@example.org")
    assert (changed.role, changed.port_locode) == (Role.partner, "SGSIN")
    [event] = events(session, "user.role")
    assert event.actor == ADMIN and event.object == "user:ed@example.org"
    assert event.before == {"role": "editor", "port": "USLGB"}
    assert event.after == {"role": "partner", "port": "SGSIN"}


def test_an_admin_cannot_demote_or_deactivate_themselves(admin_client: FlaskClient, session: Session) -> None:
    me = user(session, ADMIN)
    admin_client.post(f"/admin/users/{me.id}/role", data=role_form(admin_client, me, "editor", ""))
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "you cannot take away your own admin role" in html.unescape(page)
    post_form(admin_client, f"/admin/users/{me.id}/deactivate", {}, "/admin/users")
    assert "you cannot deactivate your own account" in admin_client.get("/admin/users").get_data(as_text=True)
    assert (user(session, ADMIN).role, user(session, ADMIN).active) == (Role.admin, True)


def test_a_deactivated_user_loses_the_live_session(admin_client: FlaskClient, session: Session, app: Flask) -> None:
    target = make_user(session, "ed@example.org", role=Role.editor)
    other = app.test_client()
    assert sign_in(other, "ed@example.org") == 302
    assert other.get("/dashboard/").status_code == 200
    assert post_form(admin_client, f"/admin/users/{target.id}/deactivate", {}, "/admin/users").status_code == 302
    assert other.get("/dashboard/", headers={"Accept": "text/html"}).status_code == 302
    assert sign_in(app.test_client(), "ed@example.org") == 200  # refused
    [event] = events(session, "user.deactivate")
    assert (event.before, event.after) == ({"active": True}, {"active": False})
    assert post_form(admin_client, f"/admin/users/{target.id}/reactivate", {}, "/admin/users").status_code == 302
    assert sign_in(app.test_client(), "ed@example.org") == 302


def test_a_token_is_shown_once_and_refused_once_revoked(
    admin_client: FlaskClient, session: Session, app: Flask
) -> None:
    make_user(session, "bot@example.org", role=Role.executive)
    response = post_form(admin_client, "/admin/tokens", {"email": "bot@example.org"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    found = re.search(r'<code id="new-token">([^<]+)</code>', response.get_data(as_text=True))
    assert found is not None
    token = found.group(1)
    assert token not in admin_client.get("/admin/tokens").get_data(as_text=True)
    bearer = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    machine = app.test_client()
    assert machine.get("/dashboard/", headers=bearer).status_code == 200
    reread(session)
    stored = session.exec(select(ApiToken)).one()
    assert post_form(admin_client, f"/admin/tokens/{stored.id}/revoke", {}, "/admin/tokens").status_code == 302
    assert machine.get("/dashboard/", headers=bearer).status_code == 401
    assert machine.get("/api/v1/trials", headers=bearer).status_code == 401
    assert [e.object for e in events(session, "token.create")] == ["user:bot@example.org"]
    assert [e.object for e in events(session, "token.revoke")] == [f"token:{stored.id}"]
    assert "bot@example.org" in admin_client.get("/admin/tokens").get_data(as_text=True)


def factor_rows(session: Session) -> list[tuple[Any, ...]]:
    """Every stored factor, to prove an upload or a default switch rewrote none."""
    reread(session)
    rows = session.exec(select(EmissionFactor).order_by(col(EmissionFactor.id)))
    return [(r.factor_set_id, r.key, r.region, r.year, r.value, r.unit, r.scope, r.source) for r in rows]


def test_a_factor_set_with_bad_rows_is_refused_row_by_row(admin_client: FlaskClient, session: Session) -> None:
    before = factor_rows(session)
    text = default_csv(
        **{
            "diesel_wtw,": "diesel_wtw,,0,lots,kg CO2e/L,WTW,x",
            "nox,,": "noxx,,0,0.4,g/kWh,,y",
            "pm25,,": "pm25,,0,0.02",
        }
    )
    response = upload(admin_client, "ZE-2026", text)
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "row 4: value: expected a number, not 'lots'" in page
    assert "row 19: key: unknown factor 'noxx'" in page
    assert "row 20: fewer cells than the header has columns" in page
    assert factor_rows(session) == before
    assert [s.name for s in session.exec(select(FactorSet))] == SHIPPED
    assert events(session, "factors.add") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("key,value\ndiesel_ttw,2.7\n", "the header must name the columns key,region,year,value,unit,scope,source"),
        (default_csv(**{"nox,,": ""}), "factor set 'ZE-2026' lacks the factor 'nox'"),
        (default_csv(**{"grid,SG,": "grid,SG,2024,485,g/kWh,WTW,x"}), "a grid factor is in 'g CO2e/kWh'"),
        (default_csv(**{"diesel_ttw,": "diesel_ttw,,0,2.7,kg/L,TTW,"}), "row 2: source: every factor names"),
        (default_csv(**{"grid,CN,": "grid,SG,2024,1,g CO2e/kWh,WTW,x"}), "the same key, region and year as row"),
    ],
)
def test_a_factor_set_must_be_whole_and_sourced(
    admin_client: FlaskClient, session: Session, text: str, message: str
) -> None:
    response = upload(admin_client, "ZE-2026", text)
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    reread(session)
    assert [s.name for s in session.exec(select(FactorSet))] == SHIPPED


def test_a_new_default_set_leaves_results_by_name_unchanged(admin_client: FlaskClient, session: Session) -> None:
    trial = make_trial(
        session, code="LGB-H1", technology=Technology.hybrid_diesel_electric, baseline_rate=3.0, baseline_unit="L/h"
    )
    make_measurement(
        session, make_unit(session, trial), date(2024, 3, 1), operating_hours=10, diesel_l=5, energy_kwh=50
    )
    scope = Scope.operator()

    def metrics(name: str | None) -> dict[str, float | None]:
        reread(session)
        return trial_metrics(session=session, scope=scope, trial=trial, factors=load_factors(session, name)).values

    old = metrics(DEFAULT_SET)
    rows_before = factor_rows(session)
    text = default_csv(**{"diesel_wtw,": "diesel_wtw,,0,3.5,kg CO2e/L,WTW,a newer source"})
    assert upload(admin_client, "ZE-2026", text).status_code == 302
    assert upload(admin_client, "ZE-2026", text).status_code == 400  # a set is never edited
    reread(session)
    new_set = session.exec(select(FactorSet).where(FactorSet.name == "ZE-2026")).one()
    assert not new_set.is_default
    assert post_form(admin_client, f"/admin/factors/{new_set.id}/default", {}, "/admin/factors").status_code == 302

    reread(session)
    assert [s.name for s in session.exec(select(FactorSet).where(FactorSet.is_default))] == ["ZE-2026"]
    assert factor_rows(session)[: len(rows_before)] == rows_before
    assert metrics(DEFAULT_SET) == old
    assert metrics(None)["ghg_wtw_kg"] != old["ghg_wtw_kg"]
    assert metrics(None) == metrics("ZE-2026")
    [added] = events(session, "factors.add")
    assert added.after == {"name": "ZE-2026", "description": "test set", "factors": 29}
    [switched] = events(session, "factors.default")
    assert (switched.before, switched.after) == ({"default": DEFAULT_SET}, {"default": "ZE-2026"})
    page = admin_client.get("/admin/factors").get_data(as_text=True)
    assert "a newer source" in page and "US EPA GHG Emission Factors Hub" in page


def test_the_audit_log_is_filtered_and_paged_newest_first(admin_client: FlaskClient, session: Session) -> None:
    for number in range(60):
        audit.record(session, actor="cli", action="test.event", object=f"thing:{number}")
    audit.record(session, actor="someone@example.org", action="test.other", object="thing:other")
    session.commit()

    def objects(query: str) -> list[str]:
        page = admin_client.get(f"/admin/audit?{query}").get_data(as_text=True)
        return re.findall(r"<td>(thing:[^<]+)</td>", page)

    first = objects("action=test.event")
    assert first == [f"thing:{number}" for number in range(59, 9, -1)]
    assert objects("action=test.event&page=2") == [f"thing:{number}" for number in range(9, -1, -1)]
    assert objects("actor=someone@example.org") == ["thing:other"]
    assert objects("action=test.event&actor=someone@example.org") == []
    assert 'rel="next" href="/admin/audit?page=2&amp;action=test.event"' in admin_client.get(
        "/admin/audit?action=test.event"
    ).get_data(as_text=True)


def test_sign_ins_and_failed_sign_ins_are_in_the_audit_log(admin_client: FlaskClient, app: Flask) -> None:
    sign_in(app.test_client(), "nobody@example.org", "wrong password!")
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "sign_in.failed" in page and "user:nobody@example.org" in page
    assert "<td>sign_in</td>" in page and f"user:{ADMIN}" in page


def test_the_dashboards_follow_a_new_default_set(session: Session) -> None:
    from trials.results import calculator

    assert calculator(session).factors.set_name == DEFAULT_SET
    assert calculator(session) is calculator(session)  # a stored set is read once per worker
    factors, problems = read_factor_set("ZE-2026", default_csv(**{"diesel_wtw,": "diesel_wtw,,0,3.5,kg CO2e/L,WTW,x"}))
    assert problems == []
    add_factor_set(session, name="ZE-2026", description=None, factors=factors, actor="test")
    set_default_set(session, name="ZE-2026", actor="test")
    session.commit()
    switched = calculator(session)
    assert (switched.factors.set_name, switched.factors.diesel_wtw_kg_per_l) == ("ZE-2026", 3.5)


def _as_before_ze2025(session: Session, default: str) -> None:
    """Leave the database as an older release did: no ZE-2025, the named set the default."""
    session.execute(sa.delete(FactorSet).where(col(FactorSet.name) == "ZE-2025"))
    session.execute(sa.update(FactorSet).values(is_default=col(FactorSet.name) == default))
    session.commit()


def test_init_moves_the_shipped_default_on_to_ze_2025_audited(session: Session) -> None:
    _as_before_ze2025(session, "ZE-2024")
    assert seed_shipped_sets(session).name == "ZE-2025"
    session.commit()
    [switched] = events(session, "factors.default")
    assert (switched.actor, switched.before, switched.after) == (
        "zetrials init",
        {"default": "ZE-2024"},
        {"default": "ZE-2025"},
    )


def test_init_keeps_a_default_an_admin_chose(session: Session) -> None:
    factors, problems = read_factor_set("PORT-OWN", default_csv())
    assert problems == []
    add_factor_set(session, name="PORT-OWN", description=None, factors=factors, actor="test")
    _as_before_ze2025(session, "PORT-OWN")
    assert seed_shipped_sets(session).name == "PORT-OWN"
    session.commit()
    assert events(session, "factors.default") == []
    assert "ZE-2025" in [s.name for s in session.exec(select(FactorSet))]
