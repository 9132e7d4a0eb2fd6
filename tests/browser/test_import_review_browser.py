"""The import review in a real headless Chromium: upload a file whose 'Fleet Group' column nobody recognises, map it
and its values, check again, confirm saving the mapping as a profile, and see the profile read the next file."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from app.factory import create_app
from tests.factories import browser_missing, fleet_group_file, headless_chromium
from trials.accounts import add_user
from trials.db import make_engine, write_session
from trials.models import Role
from trials.seed import initialise

EDITOR, PASSWORD = "editor@lax.example", "correct horse battery"
PROFILE = "Terminal X telematics"
WAIT_S = 20
#: Chromium and a served database: `make test-fast` leaves them out.
pytestmark = pytest.mark.slow

if (missing := browser_missing()) is not None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser tests: {missing}", pytrace=False)
    pytest.skip(missing, allow_module_level=True)

from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

#: An element read while the page is replaced (a form posted, a callback redrawing) is read again.
PAGE_CHANGING = (StaleElementReferenceException,)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The app on a real server thread at a random port of 127.0.0.1, over an empty SQLite file, with a Los Angeles
    editor; imports run in the request, as one worker would run them."""
    url = f"sqlite:///{tmp_path / 'zetrials.sqlite'}"
    engine = make_engine(url)
    initialise(engine)
    with write_session(engine) as session:
        add_user(session, email=EDITOR, password=PASSWORD, role=Role.editor, port="USLAX", actor="test")
    engine.dispose()
    app = create_app(
        {"SECRET_KEY": "browser-test", "DATABASE_URL": url, "SESSION_COOKIE_SECURE": False,
         "REMEMBER_COOKIE_SECURE": False, "JOB_QUEUE": "immediate"}
    )  # fmt: skip
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(timeout=10)
    app.extensions["zetrials.engine"].dispose()


@pytest.fixture
def editor(server: str) -> Iterator[Any]:
    """A browser signed in as the Los Angeles editor."""
    browser = headless_chromium()
    browser.get(f"{server}/login")
    browser.find_element(By.NAME, "email").send_keys(EDITOR)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, WAIT_S).until(lambda b: "/login" not in b.current_url)
    yield browser
    browser.quit()


def _text(browser: Any, css: str) -> str:
    """The text of every element matching a selector."""
    return " ".join(element.text for element in browser.find_elements(By.CSS_SELECTOR, css))


def _wait_for(browser: Any, css: str, contains: str) -> str:
    """Wait until an element holds the expected text, and give its whole text."""
    WebDriverWait(browser, WAIT_S, ignored_exceptions=PAGE_CHANGING).until(lambda b: contains in _text(b, css))
    return _text(browser, css)


def _upload(browser: Any, server: str, path: Path) -> None:
    """Choose a file on the imports page and check it, as a person does."""
    browser.get(f"{server}/imports")
    browser.find_element(By.ID, "file").send_keys(str(path))
    browser.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
    WebDriverWait(browser, WAIT_S).until(lambda b: b.find_elements(By.ID, "unit-summary"))


def _choose(browser: Any, label: str, option: str) -> None:
    """Pick an option, by its words, in the drop-down a screen reader names `label`."""
    Select(browser.find_element(By.CSS_SELECTOR, f'select[aria-label="{label}"]')).select_by_visible_text(option)


def test_a_column_mapped_in_the_review_is_saved_as_a_profile_the_next_file_gets(
    editor: Any, server: str, tmp_path: Path
) -> None:
    _upload(editor, server, fleet_group_file(tmp_path / "march.xlsx"))
    warnings = _wait_for(editor, "#review-warnings", "burnt 160 L of diesel")
    assert "LAX-YT-02 plans 2 trial units; with this file it would have 3" in warnings
    assert "column “Fleet Group” is not a column ZE Trials knows" in warnings
    _choose(editor, "Map column Fleet Group to", "Role")
    _choose(editor, "Fleet Group: Pilot EV means", "trial unit")
    _choose(editor, "Fleet Group: Diesel baseline means", "baseline unit")
    editor.find_element(By.ID, "recheck").click()
    _wait_for(editor, "main", "The file is ready")
    assert editor.find_elements(By.ID, "review-warnings") == []
    rows = [row.text for row in editor.find_elements(By.CSS_SELECTOR, "#unit-summary tbody tr")]
    assert [row.split(" ")[:4] for row in rows] == [
        ["LAX-YT-02", "D-1", "(new)", "baseline"],
        ["LAX-YT-02", "EV-1", "(new)", "trial"],
        ["LAX-YT-02", "EV-2", "(new)", "trial"],
    ]
    editor.find_element(By.ID, "profile_name").send_keys(PROFILE)
    editor.find_element(By.CSS_SELECTOR, "#confirm-form button[type=submit]").click()
    _wait_for(editor, "main", f"Saved import profile '{PROFILE}'")
    assert "Imported as batch" in _text(editor, "main")
    editor.get(f"{server}/imports")
    assert PROFILE in _text(editor, "#profile-list") and "Fleet Group → Role" in _text(editor, "#profile-list")

    _upload(editor, server, fleet_group_file(tmp_path / "april.xlsx", trial="LAX-YT-03"))
    assert _wait_for(editor, "#profile-applied", PROFILE).startswith(f"Import profile ‘{PROFILE}’ applied")
    assert editor.find_elements(By.ID, "review-warnings") == []
    assert "D-1 (new) baseline unit" in _text(editor, "#unit-summary")
    errors = [entry["message"] for entry in editor.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
