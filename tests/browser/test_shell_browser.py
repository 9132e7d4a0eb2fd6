"""Every page as an executive, a partner and an editor see it in a real headless Chromium, on a desktop (1440 px) and
a phone (390 px): the shared header, no sideways scrolling, no raw key or enum value in the text, no console error.

Each page's screenshot at each width is kept as a test artefact (see tests/browser/conftest.py for the folder).
"""

from __future__ import annotations

import base64
import enum
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import browser_missing, headless_chromium
from trials import models
from trials.models import Role
from trials.registry import METRICS

#: Chromium, a served demo database and some forty page loads: `make test-fast` leaves them out.
pytestmark = pytest.mark.slow

if (missing := browser_missing()) is not None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser tests: {missing}", pytrace=False)
    pytest.skip(missing, allow_module_level=True)

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WIDTHS = {"desktop": 1440, "phone": 390}
HEIGHT = 900
WAIT_S = 30
#: A trial of Long Beach's, which the partner and the editor of Long Beach see as the executive does.
TRIAL = "LGB-YT-01"
#: Every page each role visits, by name: (address, what must show before the page counts as drawn).
READER_PAGES = {
    "overview": ("/dashboard/", "#headlines .card"),
    "compare": ("/dashboard/compare", "#chart-bars .main-svg"),
    "trials": ("/dashboard/trials", "#trials-grid .ag-row"),
    "trial": (f"/dashboard/trials/{TRIAL}", "#trial-metrics table"),
    "methodology": ("/dashboard/methodology", "#methodology-body *"),
}
EDITOR_PAGES = {
    **READER_PAGES,
    "imports": ("/imports", "main h1"),
    "trial-edit": (f"/trials/{TRIAL}/edit", "main form.wide"),
    "trial-new": ("/trials/new", "main form.wide"),
}
ADMIN_PAGES = {
    **EDITOR_PAGES,
    "users": ("/admin/users", "main table"),
    "tokens": ("/admin/tokens", "main h1"),
    "factors": ("/admin/factors", "main table"),
    "audit": ("/admin/audit", "main table"),
}
PAGES = {Role.executive: READER_PAGES, Role.partner: READER_PAGES, Role.editor: EDITOR_PAGES, Role.admin: ADMIN_PAGES}
#: The header's links each role must find (the rest of the header is checked in tests/test_web.py).
HEADER_LINKS = {
    Role.executive: ["Overview", "Compare", "Trials", "Methodology"],
    Role.partner: ["Overview", "Compare", "Trials", "Methodology"],
    Role.editor: ["Overview", "Compare", "Trials", "Imports", "New trial", "Methodology"],
    Role.admin: ["Overview", "Compare", "Trials", "Imports", "New trial", "Methodology"],  # and the Admin menu
}


def _raw_words() -> list[str]:
    """What must never reach a person: every metric key, and every stored enum value that is not a plain word."""
    values = {
        str(member.value)
        for kind in vars(models).values()
        if isinstance(kind, type) and issubclass(kind, enum.StrEnum) and kind.__module__ == models.__name__
        for member in kind
        if not str(member.value).isalpha()
    }
    return sorted({*METRICS, *values})


RAW_WORDS = _raw_words()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module; each test signs in as its role."""
    chromium = headless_chromium()
    yield chromium
    chromium.quit()


def _settled(browser: Any, ready: str) -> None:
    """Wait until the page shows what it must, Dash has no callback under way, and the text stops changing."""
    WebDriverWait(browser, WAIT_S).until(lambda b: b.execute_script("return document.readyState") == "complete")
    WebDriverWait(browser, WAIT_S).until(lambda b: b.find_elements(By.CSS_SELECTOR, ready))
    busy = "return document.querySelectorAll('[data-dash-is-loading=\"true\"], ._dash-loading').length"
    WebDriverWait(browser, WAIT_S).until(lambda b: b.execute_script(busy) == 0)
    seen: list[str] = []
    WebDriverWait(browser, WAIT_S, poll_frequency=0.4).until(
        lambda b: seen.append(b.execute_script("return document.body.innerText")) or seen[-2:-1] == seen[-1:]
    )


def _screenshot(browser: Any, path: Path) -> None:
    """Save the whole page, not only the window, as the browser draws it at this width."""
    size = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    width = browser.execute_script("return window.innerWidth")
    clip = {"x": 0, "y": 0, "width": width, "height": min(size["height"], 8000), "scale": 1}
    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {"captureBeyondViewport": True, "clip": clip})
    path.write_bytes(base64.b64decode(shot["data"]))


def _problems(browser: Any, header_links: list[str] | None) -> list[str]:
    """What is wrong with the page shown: sideways scrolling, raw keys in its text, console errors, no header."""
    found = []
    scroll, window = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )  # fmt: skip
    if scroll > window:
        found.append(f"scrolls sideways: {scroll} px of page in a {window} px window")
    text = browser.execute_script("return document.body.innerText")
    raw = [word for word in RAW_WORDS if re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", text)]
    if raw:
        found.append(f"raw keys or values in the text: {', '.join(raw)}")
    errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    if errors:
        found.append(f"console errors: {' | '.join(errors)}")
    headers = browser.find_elements(By.CSS_SELECTOR, "body header.shell a.brand")
    if len(headers) != 1:
        found.append(f"{len(headers)} shared headers")
    if header_links is not None:
        shown = [
            a.get_attribute("textContent").strip() for a in browser.find_elements(By.CSS_SELECTOR, ".shell-nav > a")
        ]
        signs_out = browser.find_elements(By.CSS_SELECTOR, "header.shell form.shell-user button[type=submit]")
        if shown != header_links or len(signs_out) != 1:
            found.append(f"header links {shown}, {len(signs_out)} sign-out buttons")
    return found


def _visit(
    browser: Any, server: str, pages: dict[str, tuple[str, str]], folder: Path, prefix: str, links: Any
) -> dict[str, list[str]]:
    """Open each page, wait until it is drawn, save its screenshot, and give each page's problems."""
    failures = {}
    for name, (path, ready) in pages.items():
        browser.get(f"{server}{path}")
        _settled(browser, ready)
        _screenshot(browser, folder / f"{prefix}-{name}.png")
        if problems := _problems(browser, links):
            failures[name] = problems
    return failures


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", [Role.executive, Role.partner, Role.editor, Role.admin], ids=str)
def test_every_page_fits_the_window_in_plain_words_under_the_shared_header(
    browser: Any,
    server: str,
    sign_in_as: Callable[[Any, Role], None],
    screenshots: Path,
    role: Role,
    width: str,
) -> None:
    browser.set_window_size(WIDTHS[width], HEIGHT)
    sign_in_as(browser, role)
    failures = _visit(browser, server, PAGES[role], screenshots, f"{role}-{width}", HEADER_LINKS[role])
    assert failures == {}, "\n".join(f"{page}: {'; '.join(problems)}" for page, problems in failures.items())


@pytest.mark.parametrize("width", WIDTHS)
def test_the_sign_in_page_fits_the_window_under_the_shared_header(
    browser: Any, server: str, screenshots: Path, width: str
) -> None:
    browser.set_window_size(WIDTHS[width], HEIGHT)
    browser.delete_all_cookies()
    browser.get_log("browser")
    pages = {"sign-in": ("/login", "form.card")}
    failures = _visit(browser, server, pages, screenshots, f"anonymous-{width}", None)
    assert failures == {}, failures


def test_on_a_phone_the_header_and_the_filters_fold_away_and_open_on_a_tap(
    browser: Any, server: str, sign_in_as: Callable[[Any, Role], None], screenshots: Path
) -> None:
    browser.set_window_size(WIDTHS["phone"], HEIGHT)
    sign_in_as(browser, Role.editor)
    for path, ready in (READER_PAGES["overview"], EDITOR_PAGES["imports"]):  # a Dash page and a Flask page
        browser.get(f"{server}{path}")
        _settled(browser, ready)
        nav = browser.find_element(By.CSS_SELECTOR, "header.shell .shell-nav")
        assert not nav.is_displayed()
        browser.find_element(By.CSS_SELECTOR, "header.shell .menu-toggle > summary").click()
        WebDriverWait(browser, WAIT_S).until(lambda b, nav=nav: nav.is_displayed())
        assert [a.text for a in nav.find_elements(By.CSS_SELECTOR, ":scope > a")] == HEADER_LINKS[Role.editor]
        assert browser.find_element(By.CSS_SELECTOR, "header.shell .shell-user button").is_displayed()
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
        _screenshot(browser, screenshots / f"editor-phone-menu-open{path.replace('/', '-')}.png")
    browser.get(f"{server}/dashboard/")
    _settled(browser, READER_PAGES["overview"][1])
    browser.find_element(By.CSS_SELECTOR, "header.shell .menu-toggle > summary").click()
    browser.find_element(By.LINK_TEXT, "Compare").click()  # a page of the dashboard: no page load, yet the menu closes
    _settled(browser, READER_PAGES["compare"][1])
    assert browser.current_url == f"{server}/dashboard/compare"
    assert not browser.find_element(By.CSS_SELECTOR, "header.shell .shell-nav").is_displayed()
    filters = browser.find_element(By.CSS_SELECTOR, ".filters")
    assert not filters.is_displayed()
    browser.find_element(By.CSS_SELECTOR, ".filters-toggle > summary").click()
    WebDriverWait(browser, WAIT_S).until(lambda b: filters.is_displayed())
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    _screenshot(browser, screenshots / "editor-phone-filters-open.png")
