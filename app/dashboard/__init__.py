"""The one Dash app, mounted on the Flask server inside the factory, with callbacks bound to that instance."""

from __future__ import annotations

from datetime import date
from typing import Any

import dash
from dash import dcc, html
from flask import Flask, has_request_context
from flask_wtf.csrf import generate_csrf

from app.context import engine
from app.dashboard import callbacks, guard
from app.dashboard.pages.compare import metric_options
from app.dashboard.state import GRAINS, URL_BASE, ViewState, format_month
from app.shell import HOME, STYLESHEET, Link, current_shell
from trials.db import read_session
from trials.models import EquipmentClass, Technology
from trials.queries import list_ports
from trials.registry import label

__all__ = ["URL_BASE", "init_dashboard", "layout"]

#: The first year the period pickers offer; pilots before it are not expected.
FIRST_YEAR = 2015


def _options(values: Any) -> list[dict[str, str]]:
    """Dropdown options for enum members, labelled as people read them."""
    return [{"label": label(member), "value": member.value} for member in values]


def _months() -> list[dict[str, str]]:
    """Every month a period may start or end in, up to the end of next year."""
    months = [y * 100 + m for y in range(FIRST_YEAR, date.today().year + 2) for m in range(1, 13)]
    return [{"label": text, "value": text} for text in (format_month(month) or "" for month in months)]


def _labelled(text: str, control: Any, html_for: str) -> Any:
    """A control with its label above it."""
    return html.Div([html.Label(text, htmlFor=html_for), control], className="control")


def _radio(control_id: str, options: list[tuple[str, str]]) -> Any:
    """Inline radio buttons."""
    return dcc.RadioItems(
        id=control_id, options=[{"label": text, "value": value} for value, text in options], inline=True
    )


def _port_options() -> list[dict[str, str]]:
    """The partner ports (reference data, the same for every viewer), when serving a request."""
    if not has_request_context():
        return []
    with read_session(engine()) as session:
        return [{"label": f"{p.locode} {p.name}", "value": p.locode} for p in list_ports(session=session)]


def filters() -> Any:
    """The filters every page shares, and the view choices only some pages use (hidden elsewhere)."""
    months = _months()
    return html.Section(
        [
            _labelled(
                "Ports",
                dcc.Dropdown(id="f-port", multi=True, options=_port_options(), placeholder="All ports"),
                "f-port",
            ),
            _labelled(
                "Equipment class",
                dcc.Dropdown(id="f-class", options=_options(EquipmentClass), placeholder="All classes"),
                "f-class",
            ),
            _labelled(
                "Technologies",
                dcc.Dropdown(id="f-tech", multi=True, options=_options(Technology), placeholder="All technologies"),
                "f-tech",
            ),
            _labelled("Period", dcc.Dropdown(id="f-preset", options=[], placeholder="Choose a period"), "f-preset"),
            _labelled("From month", dcc.Dropdown(id="f-from", options=months, placeholder="Start"), "f-from"),
            _labelled("To month", dcc.Dropdown(id="f-to", options=months, placeholder="Now"), "f-to"),
            html.Div(
                [
                    _labelled(
                        "Metric",
                        # every choice from the start (a dropdown drops a value it has no option for), named per class
                        # by a callback
                        dcc.Dropdown(id="c-metric", options=metric_options(ViewState()), clearable=False),
                        "c-metric",
                    ),
                    _labelled(
                        "Grid factor",
                        _radio("c-basis", [("location", "location-based"), ("market", "market-based")]),
                        "c-basis",
                    ),
                ],
                id="compare-controls",
                className="controls",
                hidden=True,
            ),
            html.Div(
                _labelled("GHG scope", _radio("c-ghg", [("wtw", "well-to-wheel"), ("ttw", "tank-to-wheel")]), "c-ghg"),
                id="ghg-controls",
                className="controls",
                hidden=True,
            ),
            html.Div(
                _labelled("Show per", _radio("c-grain", [(g, g) for g in GRAINS]), "c-grain"),
                id="trial-controls",
                className="controls",
                hidden=True,
            ),
        ],
        className="filters",
    )


def _nav_link(link: Link) -> Any:
    """One header link: a Dash page by client-side navigation (its callback keeps the filters on it), else a page."""
    if link.dash:
        return dcc.Link(link.text, id=f"nav-{link.key}", href=link.href)
    return html.A(link.text, href=link.href)


def header() -> Any:
    """The header every page shares (app/shell.py), drawn as base.html draws it for the Flask pages."""
    shell = current_shell() if has_request_context() else None
    if shell is None:
        return html.Header(html.A("ZE Trials", href=HOME, className="brand"), className="shell")
    admin = (
        [
            html.Details(
                [html.Summary("Admin"), html.Div([_nav_link(link) for link in shell.admin], className="submenu-links")],
                className="submenu",
            )
        ]
        if shell.admin
        else []
    )
    return html.Header(
        [
            html.A("ZE Trials", href=HOME, className="brand"),
            html.Details(html.Summary("Menu"), id="menu-toggle", className="menu-toggle"),
            html.Nav(
                [*map(_nav_link, shell.before_admin), *admin, *map(_nav_link, shell.after_admin)],
                className="shell-nav",
            ),
            html.Form(
                [
                    html.Span(shell.viewer, id="viewer", className="viewer"),
                    dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
                    html.Button("Sign out", type="submit"),
                ],
                method="post",
                action="/logout",
                className="shell-user",
            ),
        ],
        className="shell",
    )


def layout() -> Any:
    """Build the page: the shared header, the filters (folded away on phones), and the page the URL names."""
    return html.Div(
        [
            dcc.Location(id="url", refresh="callback-nav"),
            header(),
            html.Details(html.Summary("Filters"), id="filters-toggle", className="filters-toggle"),
            filters(),
            html.Main(id="page"),
        ]
    )


def init_dashboard(server: Flask) -> dash.Dash:
    """Mount the Dash app under /dashboard/ and register its callbacks on this instance."""
    # Dash types `server` as bool | callable, though it takes a Flask app as documented.
    app = dash.Dash(
        __name__,
        server=server,  # type: ignore[arg-type]
        url_base_pathname=URL_BASE,
        title="ZE Trials",
        external_stylesheets=[STYLESHEET],  # the one stylesheet every page shares
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
        update_title="",  # keep the title steady while callbacks run
        suppress_callback_exceptions=True,  # pages add their components after the first layout
    )
    app.layout = layout
    callbacks.register(app)
    guard.install(app)
    return app
