"""What the browser tests share: one served demo database for the whole run, its accounts, and where screenshots go."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session
from werkzeug.serving import make_server

from app.factory import create_app
from importers.demo import write_demo_files
from importers.pipeline import import_file
from trials.accounts import add_user
from trials.db import make_engine, read_session, write_session
from trials.models import Role
from trials.queries import list_ports, list_trials
from trials.rollups import refresh_rollups
from trials.scope import Scope
from trials.seed import initialise

PASSWORD = "correct horse battery"
#: How long a browser test waits for a page to show what it expects.
WAIT_S = 20
#: The served demo database's accounts by role: email and port (None: every port).
ACCOUNTS: dict[Role, tuple[str, str | None]] = {
    Role.admin: ("admin@example.org", None),
    Role.executive: ("executive@example.org", None),
    Role.partner: ("partner@lgb.example", "USLGB"),
    Role.editor: ("editor@lgb.example", "USLGB"),
}
#: Where screenshots are kept as test artefacts: $ZETRIALS_SCREENSHOTS, else tests/artifacts/screenshots (git-ignored).
SCREENSHOTS = Path(os.environ.get("ZETRIALS_SCREENSHOTS") or Path(__file__).parents[1] / "artifacts" / "screenshots")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file for the served demo database."""
    return f"sqlite:///{tmp_path_factory.mktemp('browser') / 'demo.sqlite'}"


@pytest.fixture(scope="session")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a real server thread at a random port of 127.0.0.1, over the demo data and the accounts above; one
    for every browser test of the run, since the demo import is the slow part."""
    engine = make_engine(database_url)
    initialise(engine)
    operator = Scope.operator()
    with read_session(engine) as session:
        ports = list_ports(session=session)
    for file in write_demo_files(tmp_path_factory.mktemp("demo"), ports):
        assert import_file(engine, file, scope=operator, day_first=file.suffix == ".csv").status == "imported"
    with write_session(engine) as session:
        refresh_rollups(session, [t.id for t in list_trials(session=session, scope=operator) if t.id is not None])
        for role, (email, port) in ACCOUNTS.items():
            add_user(session, email=email, password=PASSWORD, role=role, port=port, actor="test")
    engine.dispose()
    app = create_app(
        {"SECRET_KEY": "browser-test", "DATABASE_URL": database_url, "SESSION_COOKIE_SECURE": False,
         "REMEMBER_COOKIE_SECURE": False}
    )  # fmt: skip
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(timeout=10)
    app.extensions["zetrials.engine"].dispose()


@pytest.fixture(scope="session")
def database(server: str, database_url: str) -> Iterator[Session]:
    """A session on the served database, to compute the values the pages must show."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The folder screenshots are saved to, made if missing."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def accounts() -> dict[Role, tuple[str, str | None]]:
    """The served database's accounts by role: email and port."""
    return ACCOUNTS


@pytest.fixture(scope="session")
def sign_in_as(server: str) -> Callable[[Any, Role], None]:
    """Sign a browser in through the sign-in form as the account of a role (signing out whoever was in before), and
    empty its console log of the sign-in page's messages."""

    def sign_in(browser: Any, role: Role) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        browser.delete_all_cookies()
        browser.get(f"{server}/login")
        browser.find_element(By.NAME, "email").send_keys(ACCOUNTS[role][0])
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
        WebDriverWait(browser, WAIT_S).until(lambda b: "/login" not in b.current_url)
        browser.get_log("browser")

    return sign_in
