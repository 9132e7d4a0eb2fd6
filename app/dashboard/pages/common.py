"""Pieces every page uses: a chart card with its download button, and numbers shown for people."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

#: Where Plotly finds its base map: served by this app, since the content security policy forbids Plotly's CDN.
TOPOJSON_URL = "/dashboard/assets/topojson/"
GRAPH_CONFIG: Any = {"displaylogo": False, "topojsonURL": TOPOJSON_URL, "responsive": True}


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
