"""The one Dash app, mounted on the Flask server inside the factory, with callbacks bound to that instance."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, dcc, html
from flask import Flask
from flask_login import current_user

from app.context import current_scope, engine
from trials.db import read_session
from trials.metrics import METRIC_UNITS
from trials.queries import metrics_by_trial

URL_BASE = "/dashboard/"
#: The headline figures of the overview, by metric key: summed over the trials in scope.
HEADLINES = ("energy_kwh", "diesel_displaced_l", "ghg_wtw_avoided_kg", "nox_avoided_kg")


def layout() -> Any:
    """Build the page; Dash may call this outside a request (no user), so nothing here reads trial data."""
    greeting = current_user.record.email if current_user and current_user.is_authenticated else ""
    return html.Main(
        [
            dcc.Location(id="url"),
            html.H1("Overview"),
            html.P(greeting, id="viewer", className="muted"),
            html.Div(id="headlines"),
        ]
    )


def headline_figures() -> dict[str, float | int | None]:
    """Sum the additive headline metrics over every trial the viewer may see; n/a stays n/a."""
    with read_session(engine()) as session:
        results = metrics_by_trial(session=session, scope=current_scope())
    totals: dict[str, float | int | None] = {"trials": len(results)}
    for key in HEADLINES:
        present = [r.values[key] for r in results.values() if r.values[key] is not None]
        totals[key] = sum(present) if present else None  # type: ignore[arg-type]
    return totals


def render_headlines(totals: dict[str, float | int | None]) -> Any:
    """Show the headline figures with their units."""
    items = [html.Li(f"Trials in view: {totals['trials']}")]
    for key in HEADLINES:
        value = totals[key]
        shown = "n/a" if value is None else f"{value:,.0f} {METRIC_UNITS[key]}"
        items.append(html.Li(f"{key}: {shown}", id=f"headline-{key}"))
    return html.Ul(items)


def init_dashboard(server: Flask) -> dash.Dash:
    """Mount the Dash app under /dashboard/ and register its callbacks on this instance."""
    # Dash types `server` as bool | callable, though it takes a Flask app as documented.
    app = dash.Dash(__name__, server=server, url_base_pathname=URL_BASE, title="ZE Trials dashboard")  # type: ignore[arg-type]
    app.layout = layout

    @app.callback(Output("headlines", "children"), Input("url", "pathname"))
    def _headlines(_pathname: str | None) -> Any:
        return render_headlines(headline_figures())

    return app
