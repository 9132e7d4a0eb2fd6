"""The isolation matrix: every role, every route, every callback, every trial; a private trial never leaks."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from tests.factories import (
    DATA_CALLBACKS,
    csrf_header,
    make_measurements,
    make_trial,
    make_unit,
    make_user,
    post_callback,
    sign_in,
)
from trials.models import EquipmentClass, ImportBatch, ImportProfile, Role, Visibility

#: Long Beach is port A, Singapore port B.
A, B = "USLGB", "SGSIN"
A_PRIVATE, A_SHARED, B_PRIVATE, B_SHARED = "LGB-PRIV-7Q", "LGB-SHARED-3K", "SIN-PRIV-9Z", "SIN-SHARED-4M"
TRIALS = (A_PRIVATE, A_SHARED, B_PRIVATE, B_SHARED)
MISSING = "NO-SUCH-TRIAL"
#: Everything that would betray B's private trial to someone outside port B.
B_SECRETS = (B_PRIVATE, "Secret Singapore pilot", "Hidden Vendor Pte", "sin-secret-upload.xlsx")
A_SECRETS = (A_PRIVATE, "Secret Long Beach pilot")


@dataclass(frozen=True)
class Viewer:
    """A signed-in role of the matrix, with the trials it may see."""

    email: str
    role: Role
    port: str | None

    @property
    def visible(self) -> set[str]:
        """The trial codes this viewer may see (ARCHITECTURE.md, 'Who sees what')."""
        if self.port is None:
            return set(TRIALS)
        own = {A: {A_PRIVATE, A_SHARED}, B: {B_PRIVATE, B_SHARED}}[self.port]
        return own | {A_SHARED, B_SHARED}

    @property
    def secrets(self) -> tuple[str, ...]:
        """Strings that must never reach this viewer."""
        if self.port is None:
            return ()
        return B_SECRETS if self.port == A else A_SECRETS


VIEWERS = (
    Viewer("admin@x.org", Role.admin, None),
    Viewer("editor@x.org", Role.editor, None),
    Viewer("editor-a@x.org", Role.editor, A),
    Viewer("exec@x.org", Role.executive, None),
    Viewer("partner-a@x.org", Role.partner, A),
    Viewer("partner-b@x.org", Role.partner, B),
)
#: Routes anyone may reach, and routes that serve only Dash's own static files.
PUBLIC = {"/login", "/healthz", "/static/<path:filename>"}
DASH_STATIC = re.compile(r"^/dashboard/(_dash-component-suites|_favicon|_reload-hash|assets)")
#: Example values for each kind of route parameter; trial codes come from the matrix.
PARAMETERS: dict[str, list[str]] = {
    "code": [*TRIALS, MISSING],
    "locode": [A, B],
    "equipment_class": [EquipmentClass.yard_tractor.value, EquipmentClass.tug.value],
    "job_id": ["a" * 24],
    "batch_id": ["1"],
    "user_id": ["1"],
    "token_id": ["1"],
    "set_id": ["1"],
    "unit_pk": ["1"],
    "profile_id": ["1"],
    "change": ["deactivate"],
    "path": ["compare"],
}


@pytest.fixture
def world(session: Session) -> None:
    """Four trials with units, measurements and an import batch, and one user per viewer."""
    names = {
        A_PRIVATE: ("Secret Long Beach pilot", A, Visibility.private, "Acme"),
        A_SHARED: ("Shared Long Beach pilot", A, Visibility.partners, "Acme"),
        B_PRIVATE: ("Secret Singapore pilot", B, Visibility.private, "Hidden Vendor Pte"),
        B_SHARED: ("Shared Singapore pilot", B, Visibility.partners, "Acme"),
    }
    batch = ImportBatch(sha256="b" * 64, filename="sin-secret-upload.xlsx")
    session.add(batch)
    profile = ImportProfile(  # port B's own import profile, named after its secret vendor
        name="Hidden Vendor Pte telematics",
        port_locode=B,
        header_key="c" * 64,
        headers=["Hidden Vendor Pte unit"],
        columns={"Hidden Vendor Pte unit": "unit_id"},
    )
    session.add(profile)
    session.commit()
    assert profile.id == 1  # the matrix's example profile_id
    for code, (name, port, visibility, vendor) in names.items():
        trial = make_trial(
            session, code=code, name=name, port_locode=port, visibility=visibility, vendor=vendor,
            baseline_rate=3.0, baseline_unit="L/h",
        )  # fmt: skip
        unit = make_unit(session, trial, f"U-{code}")
        batch_id = batch.id if code == B_PRIVATE else None
        values = {"operating_hours": 10.0, "moves": 30.0, "import_batch_id": batch_id}
        make_measurements(
            session, unit, {date(2024, 3, day): values | {"energy_kwh": 200.0 + day} for day in (1, 2, 3)}
        )
    for viewer in VIEWERS:
        make_user(session, viewer.email, role=viewer.role, port_locode=viewer.port)


def expand(rule: str) -> Iterator[str]:
    """Every concrete URL of a rule, with each example value of each parameter."""
    match = re.search(r"<(?:[^:<>]+:)?([a-z_]+)(?:\([^)]*\))?>", rule)
    if match is None:
        yield rule
        return
    for value in PARAMETERS[match.group(1)]:
        yield from expand(rule[: match.start()] + value + rule[match.end() :])


def routes(app: Flask, method: str) -> list[str]:
    """Every concrete URL the app answers with this method, Dash's static files aside."""
    rules = [r for r in app.url_map.iter_rules() if method in (r.methods or ()) and r.rule not in PUBLIC]
    return sorted({url for r in rules if not DASH_STATIC.match(r.rule) for url in expand(r.rule)})


def fetched(client: FlaskClient, url: str) -> Any:
    """GET a URL as a browser would and close the answer, which may hold an open file (a download)."""
    with client.get(url, headers={"Accept": "text/html"}) as response:
        response.get_data()
        return response


def readable(body: bytes) -> str:
    """The text of an answer; a workbook is unzipped, so nothing hides in its compressed parts."""
    if body[:4] != b"PK\x03\x04":
        return body.decode("utf-8", errors="replace")
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return "\n".join(archive.read(name).decode("utf-8", errors="replace") for name in archive.namelist())


def without_tokens(body: bytes) -> bytes:
    """Blank the CSRF tokens, which differ on every page, so two answers can be compared byte for byte."""
    return re.sub(rb'name="csrf_token" value="[^"]+"', b'name="csrf_token" value=""', body)


def dash_requests(app: Flask) -> Iterator[tuple[str, dict[str, Any]]]:
    """One callback request per callback and dashboard page, with the inputs a page load would send; once only where
    the requests would be the same (a callback that reads neither the page nor its query is sent the same request on
    every page)."""
    dash_app = app.extensions["zetrials.dash"]
    pages = ["/dashboard/", "/dashboard/compare", "/dashboard/trials", "/dashboard/methodology"]
    pages += [f"/dashboard/trials/{code}" for code in (*TRIALS, MISSING)]
    sent: set[str] = set()
    for output, spec in dash_app.callback_map.items():
        ids = [item["id"] for item in (*spec["inputs"], *spec.get("state", []))]
        if any(not isinstance(item_id, str) for item_id in ids) or output.startswith("{"):
            continue  # pattern-matching callbacks are exercised by their own tests
        for page in pages:
            for search in ("", f"?port={B}", f"?trial={B_PRIVATE}"):
                values = {("url", "pathname"): page, ("url", "search"): search}

                def entry(item: dict[str, Any], values: dict[tuple[str, str], str] = values) -> dict[str, Any]:
                    return {**item, "value": values.get((item["id"], item["property"]))}

                payload = {
                    "output": output,
                    "outputs": _outputs(output),
                    "inputs": [entry(item) for item in spec["inputs"]],
                    "state": [entry(item) for item in spec.get("state", [])],
                    "changedPropIds": [f"{spec['inputs'][0]['id']}.{spec['inputs'][0]['property']}"],
                }
                if (key := json.dumps(payload, sort_keys=True)) not in sent:
                    sent.add(key)
                    yield f"{output} on {page}{search}", payload


def _outputs(output: str) -> Any:
    """Dash's outputs field: one {id, property} or, for '..a.b...c.d..', a list of them."""
    parts = output.strip(".").split("...") if output.startswith("..") else [output]
    specs = [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]} for part in parts]
    return specs if output.startswith("..") else specs[0]


@pytest.mark.usefixtures("world")
@pytest.mark.parametrize("viewer", VIEWERS, ids=lambda viewer: viewer.email)
def test_every_page_and_api_route_shows_exactly_what_the_viewer_may_see(
    app: Flask, client: FlaskClient, viewer: Viewer
) -> None:
    assert sign_in(client, viewer.email) == 302
    missing_page = without_tokens(client.get(f"/trials/{MISSING}", headers={"Accept": "text/html"}).get_data())
    missing_api = client.get(f"/api/v1/trials/{MISSING}").get_data()
    for url in routes(app, "GET"):
        response = fetched(client, url)
        body = readable(response.get_data()).replace(url, "")  # the address asked for may be echoed back
        assert response.status_code != 500, url
        for secret in viewer.secrets:
            assert secret not in body, f"{secret!r} leaked to {viewer.email} through {url}"
        hidden = [code for code in TRIALS if code not in viewer.visible and code in url]
        if hidden and response.status_code != 403:
            assert response.status_code == 404, url
            expected = missing_api if url.startswith("/api/") else missing_page
            same = without_tokens(response.get_data()) == expected
            assert same, f"{url} answers differently from a trial that does not exist"
    listed = {item["code"] for item in client.get("/api/v1/trials").get_json()["items"]}
    assert listed == viewer.visible
    outputs, inputs, _state = DATA_CALLBACKS["trials"]  # the Trials grid, which the home page leads to
    assert {row["code"] for row in post_callback(client, outputs, inputs)["trials-grid"]["rowData"]} == viewer.visible


@pytest.mark.usefixtures("world")
@pytest.mark.parametrize("viewer", VIEWERS, ids=lambda viewer: viewer.email)
def test_every_dash_callback_keeps_to_the_viewers_scope(app: Flask, client: FlaskClient, viewer: Viewer) -> None:
    assert sign_in(client, viewer.email) == 302
    client.get("/dashboard/")
    headers = csrf_header(client)
    for name, payload in dash_requests(app):
        response = client.post("/dashboard/_dash-update-component", json=payload, headers=headers)
        assert response.status_code in (200, 204), f"{name}: {response.status_code} {response.get_data(as_text=True)}"
        body = response.get_data(as_text=True)
        asked = json.dumps(payload)
        for secret in viewer.secrets:
            if secret in asked:  # what the viewer typed may be echoed back (e.g. in links); nothing more
                body = body.replace(secret, "")
            assert secret not in body, f"{secret!r} leaked to {viewer.email} through callback {name}"


@pytest.mark.usefixtures("world")
@pytest.mark.parametrize("viewer", [v for v in VIEWERS if v.role in (Role.partner, Role.executive)], ids=str)
def test_readers_change_nothing_through_any_post(app: Flask, client: FlaskClient, viewer: Viewer) -> None:
    assert sign_in(client, viewer.email) == 302
    client.get("/")
    headers = csrf_header(client)
    for url in routes(app, "POST"):
        if url in ("/logout", "/dashboard/_dash-update-component"):
            continue
        response = client.post(url, headers=headers, data={})
        assert response.status_code in (403, 404), f"{viewer.email} POST {url}: {response.status_code}"


@pytest.mark.usefixtures("world")
def test_anonymous_requests_to_every_route_are_refused(app: Flask, client: FlaskClient) -> None:
    for url in routes(app, "GET"):
        page = fetched(client, url)
        machine = client.get(url, headers={"Accept": "application/json"})
        assert page.status_code in (302, 401), url
        assert machine.status_code == 401, url
        assert json.loads(machine.get_data()) == {"error": "Sign in first.", "status": 401}
    for url in routes(app, "POST"):
        assert client.post(url).status_code == 401, url


def test_every_route_is_in_the_matrix(app: Flask) -> None:
    """A new route with a parameter the matrix cannot fill must be added here before it can land."""
    for rule in app.url_map.iter_rules():
        for name in re.findall(r"<(?:[^:<>]+:)?([a-z_]+)(?:\([^)]*\))?>", rule.rule):
            assert name in PARAMETERS or DASH_STATIC.match(rule.rule) or rule.rule in PUBLIC, rule.rule


@pytest.mark.usefixtures("world")
def test_an_editor_of_port_a_cannot_touch_port_bs_private_trial(app: Flask, client: FlaskClient) -> None:
    assert sign_in(client, "editor-a@x.org") == 302
    client.get("/")
    headers = csrf_header(client)
    for url in routes(app, "POST"):
        if B_PRIVATE in url:
            assert client.post(url, headers=headers, data={}).status_code == 404, url
