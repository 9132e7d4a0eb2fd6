"""The dashboard in a real headless Chromium: sign in, open every page on demo data, change filters, read values."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from app.dashboard.data import data_span, trial_rows
from app.dashboard.pages.common import number
from app.dashboard.state import ViewState
from tests.factories import browser_missing, headless_chromium
from trials.models import Role
from trials.queries import get_trial, list_trials, today
from trials.registry import METRICS
from trials.results import trial_metrics
from trials.scope import Scope

WAIT_S = 20
#: Chromium, a served demo database and page loads: `make test-fast` leaves them out.
pytestmark = pytest.mark.slow

if (missing := browser_missing()) is not None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser tests: {missing}", pytrace=False)
    pytest.skip(missing, allow_module_level=True)

from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

#: An element read while the page is replaced (a form posted, a callback redrawing) is read again.
PAGE_CHANGING = (StaleElementReferenceException,)


@pytest.fixture
def admin(sign_in_as: Callable[[Any, Role], None]) -> Iterator[Any]:
    """A browser signed in as an admin (every trial)."""
    browser = headless_chromium()
    sign_in_as(browser, Role.admin)
    yield browser
    browser.quit()


@pytest.fixture
def partner(sign_in_as: Callable[[Any, Role], None]) -> Iterator[Any]:
    """A browser signed in as a partner of Long Beach."""
    browser = headless_chromium()
    sign_in_as(browser, Role.partner)
    yield browser
    browser.quit()


def _text(browser: Any, css: str, contains: str) -> str:
    """Wait until an element holds the expected text, and give its whole text."""
    WebDriverWait(browser, WAIT_S, ignored_exceptions=PAGE_CHANGING).until(lambda b: contains in _all_text(b, css))
    return _all_text(browser, css)


def _all_text(browser: Any, css: str) -> str:
    """The text of every element matching a selector."""
    return " ".join(element.text for element in browser.find_elements(By.CSS_SELECTOR, css))


def _finish(browser: Any, shots: Path, name: str) -> None:
    """Let the page settle, save its screenshot, and fail on any console error."""
    WebDriverWait(browser, WAIT_S).until(
        lambda b: b.execute_script("return document.querySelectorAll('._dash-loading, .dash-spinner').length") == 0
    )
    browser.save_screenshot(str(shots / f"dashboard-{name}.png"))
    errors = [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and not entry["message"].startswith(f"{_origin(browser)}/favicon.ico ")
    ]  # the sign-in page (not the dashboard) declares no icon, so Chromium asks for /favicon.ico and gets 404
    assert errors == []


def _origin(browser: Any) -> str:
    """The scheme, host and port of the page shown."""
    return str(browser.execute_script("return window.location.origin"))


def _count(browser: Any, css: str) -> int:
    """How many elements match a selector."""
    return len(browser.find_elements(By.CSS_SELECTOR, css))


def _bar_texts(browser: Any, chart: str) -> list[str]:
    """The labels Plotly drew on a chart's bars."""
    script = f"return [...document.querySelectorAll('#{chart} .bartext')].map(t => t.textContent)"
    return list(browser.execute_script(script))


def test_overview_shows_the_headlines_map_and_months_of_every_trial(
    admin: Any, server: str, database: Session, screenshots: Path
) -> None:
    admin.get(f"{server}/dashboard/")
    rows = trial_rows(session=database, scope=Scope.operator(), state=ViewState(), as_of=today())
    avoided = sum(row.result.values["ghg_wtw_avoided_kg"] or 0 for row in rows) / 1000
    span = data_span(rows)  # the demo is dated back from today
    assert span is not None
    text = _text(admin, "#headlines", "Trials in view: 25")
    assert f"Trials in view: 25 · data from {span[0].isoformat()} to {span[1].isoformat()}" in text
    assert f"{number(avoided)} t CO2e" in text
    WebDriverWait(admin, WAIT_S).until(lambda b: _count(b, "#chart-monthly .legendtext") == 8)
    WebDriverWait(admin, WAIT_S).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#chart-map .scattergeo"))
    _finish(admin, screenshots, "overview")


def test_a_filter_rewrites_the_link_and_the_figures(admin: Any, server: str, screenshots: Path) -> None:
    admin.get(f"{server}/dashboard/")
    _text(admin, "#headlines", "Trials in view: 25")
    admin.find_element(By.ID, "f-class").click()
    option = "//label[contains(@class, 'dash-dropdown-option') and normalize-space() = 'tug']"
    WebDriverWait(admin, WAIT_S).until(lambda b: b.find_elements(By.XPATH, option))[0].click()
    WebDriverWait(admin, WAIT_S).until(lambda b: b.current_url.endswith("/dashboard/?class=tug"))
    _text(admin, "#headlines", "Trials in view: 3")
    admin.get(f"{server}/dashboard/?class=tug")  # the link, shared, opens the same view
    _text(admin, "#headlines", "Trials in view: 3")
    assert "tug" in _all_text(admin, "#f-class")
    _finish(admin, screenshots, "overview-tugs")


def test_a_partner_sees_only_its_port_and_shared_trials(
    partner: Any, server: str, database: Session, screenshots: Path
) -> None:
    scope = Scope(role=Role.partner, port_locode="USLGB")
    visible = list_trials(session=database, scope=scope)
    partner.get(f"{server}/dashboard/trials")
    WebDriverWait(partner, WAIT_S).until(
        lambda b: _count(b, "#trials-grid .ag-center-cols-container .ag-row") == len(visible)
    )
    grid = _all_text(partner, "#trials-grid")
    assert "LGB-YT-01" in grid and "LAX-TH-01" not in grid and "SHA-DT-01" not in grid  # private to other ports
    _finish(partner, screenshots, "trials-partner")


def test_compare_puts_a_class_side_by_side_with_n_on_every_bar(admin: Any, server: str, screenshots: Path) -> None:
    admin.get(f"{server}/dashboard/compare?class=yard_tractor")
    _text(admin, "#compare-note", "Yard tractors: ")
    WebDriverWait(admin, WAIT_S).until(lambda b: len(_bar_texts(b, "chart-bars")) == 5)
    labels = _bar_texts(admin, "chart-bars")
    assert all(label.startswith("n = ") and "units" in label and "days" in label for label in labels)
    assert "kWh/h" in _all_text(admin, "#chart-bars .ytitle")
    WebDriverWait(admin, WAIT_S).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#chart-spread .boxlayer path"))
    WebDriverWait(admin, WAIT_S).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#chart-grid .scatterlayer .point"))
    _finish(admin, screenshots, "compare")


def test_the_trial_page_shows_the_api_figures_and_provenance(
    admin: Any, server: str, database: Session, screenshots: Path
) -> None:
    trial = get_trial(session=database, scope=Scope.operator(), code="LAX-YT-01")
    assert trial is not None
    values = trial_metrics(session=database, scope=Scope.operator(), trial=trial).values
    admin.get(f"{server}/dashboard/trials/LAX-YT-01")
    _text(admin, "#trial-title", "LAX-YT-01: Battery electric yard tractors at Los Angeles")
    row = _text(admin, "#metric-kwh_per_hour", "Energy per operating hour")
    assert METRICS["kwh_per_hour"].format(values["kwh_per_hour"]) in row
    coverage = METRICS["data_coverage_pct"].format(values["data_coverage_pct"])
    assert coverage in _all_text(admin, "#metric-data_coverage_pct")
    status = _text(admin, "#provenance-status", "rows 1–50 of")
    assert "of" in status
    assert "trials-and-cargo-handling.xlsx" in _text(admin, "#provenance-grid", "trials-and-cargo-handling.xlsx")
    WebDriverWait(admin, WAIT_S).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#chart-calendar .heatmaplayer"))
    _finish(admin, screenshots, "trial")


def test_the_methodology_page_says_each_formula_in_words_with_the_factor_sources(
    admin: Any, server: str, screenshots: Path
) -> None:
    admin.get(f"{server}/dashboard/methodology")
    formulas = _text(admin, "#methodology-formulas", METRICS["ghg_wtw_avoided_per_activity_kg"].label)
    assert "final energy ÷ Σ operating hours, on paired rows (those carrying both)" in formulas
    assert "US EPA GHG Emission Factors Hub" in _text(admin, "#methodology-factors", "US EPA")
    _finish(admin, screenshots, "methodology")


def test_trial_links_in_the_grid_lead_only_to_trial_pages(admin: Any, server: str, screenshots: Path) -> None:
    admin.get(f"{server}/dashboard/trials?tech=battery_electric&z=)[EVIL](https://evil.example/phish)")
    links = "#trials-grid .ag-pinned-left-cols-container a"
    WebDriverWait(admin, WAIT_S).until(lambda b: _count(b, links) > 0)
    found = [(a.text, a.get_attribute("href")) for a in admin.find_elements(By.CSS_SELECTOR, links)]
    assert found == [(code, f"{server}/dashboard/trials/{code}?tech=battery_electric") for code, _href in found], (
        found
    )  # each link: its own code as text, its own page, the view's filters and nothing else
    admin.find_elements(By.CSS_SELECTOR, links)[0].click()
    _text(admin, "#trial-title", f"{found[0][0]}: ")
    _finish(admin, screenshots, "trials-grid-links")
