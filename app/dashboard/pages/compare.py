"""Compare: trials of one class side by side per unit of the class's activity, with their spread and grid effect."""

from __future__ import annotations

from typing import Any

from dash import html

from app.dashboard.pages.common import chart


def layout() -> Any:
    """The compare page's frame; its callbacks fill it."""
    return html.Div(
        [
            html.H1("Compare like for like"),
            html.P(id="compare-note", className="muted"),
            html.A("Download the Excel report of this class", id="compare-report", className="download"),
            chart("bars", 460),
            html.Div([chart("spread", 420), chart("grid", 420)], className="grid two"),
        ]
    )
