"""Trials: a sortable, filterable table of every trial in view, and each trial's own page with its provenance."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import dash_ag_grid as dag  # type: ignore[import-untyped]
from dash import dcc, html

from app.dashboard import state
from app.dashboard.data import PROVENANCE_COLUMNS, TrialDetail, baseline_text
from app.dashboard.pages.common import chart, number
from app.dashboard.table import Table
from trials import registry

#: Columns of the trials table: field, header, and whether it holds a number.
TRIAL_GRID_COLUMNS = (
    ("link", "Trial", False),
    ("name", "Name", False),
    ("port", "Port", False),
    ("equipment_class", "Class", False),
    ("technology", "Technology", False),
    ("status", "Status", False),
    ("start_date", "Start", False),
    ("end_date", "End", False),
    ("units", "Units", True),
    ("energy_per_activity", "Energy per activity", True),
    ("activity_unit", "Per", False),
    ("efficiency_ratio", "Efficiency ×", True),
    ("ghg_wtw_reduction_pct", "GHG reduction WTW %", True),
    ("ghg_wtw_avoided_t", "Avoided t CO2e WTW", True),
    ("availability_pct", "Availability %", True),
    ("data_coverage_pct", "Data coverage %", True),
    ("baseline", "Baseline", False),
)
#: Shows n/a for a missing number, never 0 or an empty cell.
NUMBER_FORMAT = {"function": "params.value == null ? 'n/a' : d3.format(',.2f')(params.value)"}


def _column(field: str, header: str, numeric: bool) -> dict[str, Any]:
    """One AG Grid column definition."""
    column: dict[str, Any] = {"field": field, "headerName": header, "sortable": True, "filter": True}
    if numeric:
        column |= {"type": "numericColumn", "filter": "agNumberColumnFilter", "valueFormatter": NUMBER_FORMAT}
    if field == "link":
        # TrialLink (assets/dashAgGridComponentFunctions.js) shows the code as text and links to the row's href:
        # never markdown or HTML made from a trial code or the URL.
        column |= {"cellRenderer": "TrialLink", "pinned": "left", "filter": "agTextColumnFilter"}
    return column


def layout() -> Any:
    """The trials page's frame; its callback fills the grid."""
    return html.Div(
        [
            html.H1("Trials"),
            html.P(
                "Every trial you may see, with its figures over the chosen period. Sort or filter any column.",
                className="muted",
            ),
            dag.AgGrid(
                id="trials-grid",
                columnDefs=[_column(*spec) for spec in TRIAL_GRID_COLUMNS],
                rowData=[],
                defaultColDef={"resizable": True, "minWidth": 90},
                dashGridOptions={"animateRows": False, "domLayout": "autoHeight", "suppressColumnVirtualisation": True},
                className="ag-theme-alpine",
                style={"width": "100%"},
            ),
            html.Button("Download data (CSV)", id={"type": "download-button", "chart": "trials"}, n_clicks=0),
            dcc.Download(id={"type": "download", "chart": "trials"}),
        ]
    )


def trial_href(code: str, search: str) -> str:
    """The link to a trial's page, keeping the view's filters: made only of URL-encoded parts, the code quoted whole
    and the filters read and written again, so nothing else in the query string reaches the link."""
    return f"/dashboard/trials/{quote(code, safe='')}{state.to_search(state.parse(search))}"


def grid_rows(table: Table, search: str) -> list[dict[str, Any]]:
    """The grid's rows, each with the trial's code as plain text and the link to its page beside it."""
    rows = table.records()
    for row in rows:
        row["link"] = row["code"]
        row["href"] = trial_href(row["code"], search)
    return rows


def trial_layout(code: str) -> Any:
    """A trial page's frame; its callbacks fill it."""
    return html.Div(
        [
            dcc.Link("← All trials", href="/dashboard/trials", id="back-to-trials"),
            html.H1(code, id="trial-title"),
            html.A(
                "Download the Excel report of this trial",
                href=f"/reports/trial/{quote(code, safe='')}.xlsx",
                className="download",
            ),
            html.Div(id="trial-header"),
            html.Div(id="trial-metrics"),
            html.Div([chart("series"), chart("baseline")], className="grid two"),
            html.Div([chart("availability"), chart("charging")], className="grid two"),
            chart("calendar", 300),
            html.H2("Provenance"),
            html.P(
                "Every measurement behind these figures, with the import batch, file, sheet and row it came from.",
                className="muted",
            ),
            dag.AgGrid(
                id="provenance-grid",
                columnDefs=[
                    {"field": column, "headerName": column.replace("_", " "), "sortable": True}
                    for column in PROVENANCE_COLUMNS
                ],
                rowData=[],
                defaultColDef={"resizable": True, "minWidth": 90},
                dashGridOptions={"domLayout": "autoHeight", "suppressColumnVirtualisation": True},
                className="ag-theme-alpine",
                style={"width": "100%"},
            ),
            html.Div(
                [
                    html.Button("← Earlier", id="provenance-previous", n_clicks=0),
                    html.Span(id="provenance-status", className="muted"),
                    html.Button("Later →", id="provenance-next", n_clicks=0),
                    dcc.Store(id="provenance-page", data=0),
                ],
                className="controls",
            ),
        ]
    )


def header(detail: TrialDetail) -> Any:
    """What the trial is, where its baseline comes from, and every metric with both bases when there are two."""
    trial, result = detail.row.trial, detail.row.result
    checks = "; ".join(check.message for check in result.checks) or "every trust check passes"
    facts = [
        ("Name", trial.name),
        ("Port", f"{detail.row.port.name} ({trial.port_locode}), grid region {detail.row.port.grid_region}"),
        ("Class / technology", f"{registry.label(trial.equipment_class)} / {registry.label(trial.technology)}"),
        ("Status", registry.label(trial.status)),
        ("Period", f"{trial.start_date.isoformat()} to {trial.end_date.isoformat() if trial.end_date else 'open'}"),
        ("Units", registry.counted(detail.row.units, "trial unit")),
        ("Vendor / model", f"{trial.vendor or 'n/a'} / {trial.model or 'n/a'}"),
        ("Baseline", baseline_text(result, trial) if result.baseline else "no baseline: avoided figures are n/a"),
        ("Trust checks", checks),
        ("Factor set", f"{result.factor_set}"),
    ]
    return html.Div(
        [
            html.Dl([item for name, value in facts for item in (html.Dt(name), html.Dd(value))], className="facts"),
        ]
    )


def metrics(table: Table, market: bool) -> Any:
    """Every metric of the trial with its unit; a market-based column only when the trial declares that factor."""
    heads = ["Metric", "Location-based", *(["Market-based"] if market else []), "Unit"]
    rows = [
        html.Tr(
            [
                html.Td(registry.METRICS[key].label),
                html.Td(number(location, 3), className="num"),
                *([html.Td(number(market_value, 3), className="num")] if market else []),
                html.Td(unit),
            ],
            id=f"metric-{key}",
        )
        for key, location, market_value, unit in table.rows
    ]
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in heads])), html.Tbody(rows)], className="plain")
