"""Overview: headline figures for the viewer's scope, a map of ports, and avoided emissions month by month."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from dash import dcc, html

from app.dashboard import state
from app.dashboard.pages.common import chart, number
from app.dashboard.state import URL_BASE
from app.dashboard.table import Table
from trials import registry


def layout() -> Any:
    """The overview's frame; its callbacks fill it."""
    return html.Div(
        [
            html.H1("Overview"),
            html.Div(id="headlines", className="headlines"),
            html.Div([chart("map", 520), chart("monthly", 520)], className="grid two"),
        ]
    )


def headlines(
    table: Table,
    span: tuple[date, date] | None,
    left_out: Sequence[tuple[str, str]] = (),
    search: str = "",
    ports: Sequence[tuple[str, str]] = (),
) -> Any:
    """The headline cards, each saying how many trials it stands on and linking to those trials (the Trials page,
    filtered the same way, where the left-out ones say why); the period the data cover; the port reports in scope."""
    trials = table.rows[0][table.columns.index("trials")] if table.rows else 0
    period = f"data from {span[0].isoformat()} to {span[1].isoformat()}" if span else "no data in this period"
    behind = f"{URL_BASE}trials{state.to_search(state.parse(search))}"
    cards = [
        html.Div(
            [
                html.Div(figure, className="label"),
                html.Div(
                    [html.Span(number(value), className="value"), html.Span(f" {unit}", className="unit")],
                    id=f"headline-{index}",
                ),
                dcc.Link(f"from {with_data} of {registry.counted(count, 'trial')}", href=behind, className="small"),
            ],
            className="card headline",
        )
        for index, (figure, value, unit, with_data, count) in enumerate(table.rows)
    ]
    reasons = html.Details(
        [
            html.Summary(
                f"Why {len(left_out)} of {registry.counted(trials, 'trial')} are not in the avoided-emission totals"
            ),
            html.Ul([html.Li([html.Strong(code), f": {reason}"]) for code, reason in left_out]),
        ],
        id="headline-left-out",
        className="muted small",
    )
    reports = html.P(
        [
            "Excel reports: ",
            *[
                item
                for index, (name, locode) in enumerate(ports)
                for item in ([" · "] if index else []) + [html.A(name, href=f"/reports/port/{locode}.xlsx")]
            ],
        ],
        id="port-reports",
        className="small",
    )
    return html.Div(
        [
            html.P(f"Trials in view: {trials} · {period}", id="headline-period", className="muted"),
            html.Div(cards, className="cards"),
            *([reasons] if left_out else []),
            *([reports] if ports else []),
        ]
    )
