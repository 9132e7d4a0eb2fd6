"""Pieces every page uses: a chart card with its download button, and numbers shown for people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import dcc, html

from trials import registry
from trials.checks import Check, Level

#: Where Plotly finds its base map: served by this app, since the content security policy forbids Plotly's CDN.
TOPOJSON_URL = "/dashboard/assets/topojson/"
#: A short chart toolbar (download, zoom, reset): the selection and lasso tools serve no reader here, and a long
#: toolbar covered a long chart title.
GRAPH_CONFIG: Any = {
    "displaylogo": False,
    "topojsonURL": TOPOJSON_URL,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "pan2d", "autoScale2d"],
}


def chart(name: str, height: int = 420) -> Any:
    """A graph with a button that downloads the data behind it as CSV."""
    return html.Section(
        [
            dcc.Graph(id=f"chart-{name}", config=GRAPH_CONFIG, style={"height": f"{height}px"}),
            html.Button(
                "Download data (CSV)",
                id={"type": "download-button", "chart": name},
                className="download",
                n_clicks=0,
            ),
            dcc.Download(id={"type": "download", "chart": name}),
        ],
        className="card chart",
    )


def number(value: float | int | None, digits: int = 1) -> str:
    """A figure with thousands separated, or n/a when it is missing; never 0 for missing."""
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


#: How each level of trust check is marked: left out of totals in red, a warning in amber, a note in grey.
BADGE_COLOURS = {Level.exclude: "#b3261e", Level.warn: "#8a5a00", Level.info: "#5b6570"}


def check_badges(checks: Sequence[Check]) -> Any:
    """A trial's trust checks as badges (left out of totals, warning, note), each with its reason in plain words;
    'Passes every check' when none fired."""
    if not checks:
        return html.Span("Passes every check", className="muted")
    return html.Ul(
        [
            html.Li(
                [
                    html.Span(
                        registry.label(check.level),
                        className=f"badge badge-{check.level.value}",
                        style={
                            "color": "white",
                            "background": BADGE_COLOURS[check.level],
                            "borderRadius": "4px",
                            "padding": "0 .4em",
                            "marginRight": ".4em",
                            "fontSize": ".85em",
                        },
                    ),
                    check.message,
                ]
            )
            for check in sorted(checks, key=lambda check: list(Level).index(check.level))
        ],
        className="checks",
        style={"listStyle": "none", "padding": 0, "margin": 0},
    )
