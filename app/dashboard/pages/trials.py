"""Trials: a sortable, filterable table of every trial in view, and each trial's own page with its provenance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import dash_ag_grid as dag  # type: ignore[import-untyped]
from dash import dcc, html

from app.dashboard import state
from app.dashboard.compare_data import baseline_text, hydrogen_text
from app.dashboard.data import PROVENANCE_COLUMNS, TrialDetail
from app.dashboard.pages.common import BADGE_COLOURS, chart, check_badges
from app.dashboard.table import Table
from trials import registry
from trials.metrics import REPORTED_GAP_FLAG_PCT
from trials.models import UnitRole


def _metric_header(key: str, unit: str | None = None) -> str:
    """A grid header from the registry: the metric's label and unit."""
    metric = registry.METRICS[key]
    return f"{metric.label} ({unit or metric.unit})"


#: Columns of the trials grid, few enough to fit a laptop's width (the rest is on each trial's page): field,
#: header, decimals for a number (None for text), and the share of the width it takes (the pinned trial column has
#: a fixed width instead).
TRIAL_GRID_COLUMNS: tuple[tuple[str, str, int | None, int], ...] = (
    ("link", "Trial", None, 0),
    ("port", "Port", None, 10),
    ("equipment_class", "Equipment", None, 10),
    ("technology", "Technology", None, 11),
    ("status", "Status", None, 9),
    ("units", registry.label(UnitRole.trial, 2, capital=True), 0, 7),
    ("energy_per_activity", "Energy per unit of work", 2, 11),
    ("ghg_wtw_reduction_pct", _metric_header("ghg_wtw_reduction_pct"), 1, 10),
    ("ghg_wtw_avoided_t", _metric_header("ghg_wtw_avoided_kg", "t CO2e"), 1, 10),
    ("data_coverage_pct", _metric_header("data_coverage_pct"), 1, 9),
    ("checks", "Trust checks", None, 10),
)


def _number_format(decimals: int, unit_field: str | None = None) -> dict[str, str]:
    """Shows n/a for a missing number, never 0 or an empty cell; with the row's unit after it when it has one."""
    unit = f" + ' ' + params.data.{unit_field}" if unit_field else ""
    return {"function": f"params.value == null ? 'n/a' : d3.format(',.{decimals}f')(params.value){unit}"}


def _column(field: str, header: str, decimals: int | None, flex: int) -> dict[str, Any]:
    """One AG Grid column definition; long headers and texts wrap rather than widen the grid."""
    column: dict[str, Any] = {"field": field, "headerName": header, "sortable": True, "filter": True, "flex": flex}
    column |= {"wrapHeaderText": True, "autoHeaderHeight": True, "wrapText": True, "autoHeight": True}
    if decimals is not None:
        unit = "energy_unit" if field == "energy_per_activity" else None
        column |= {"type": "numericColumn", "filter": "agNumberColumnFilter"}
        column |= {"valueFormatter": _number_format(decimals, unit)}
    if field == "link":
        # TrialLink (assets/dashAgGridComponentFunctions.js) shows the code as text and links to the row's href:
        # never markdown or HTML made from a trial code or the URL.
        column |= {
            "cellRenderer": "TrialLink",
            "pinned": "left",
            "filter": "agTextColumnFilter",
            "tooltipField": "name",
            "flex": None,  # a pinned column takes a width, not a share of the rest
            "width": 130,
        }
    if field == "port":
        column["minWidth"] = 130  # 'Copenhagen (Copenhagen Malmö Port)' a whole word a line
    if field == "checks":
        conditions = [
            {"condition": f"params.data.check_level == '{level.value}'", "style": {"color": colour}}
            for level, colour in BADGE_COLOURS.items()
        ]
        column |= {"tooltipField": "check_reasons", "cellStyle": {"styleConditions": conditions}}
    return column


def layout() -> Any:
    """The trials page's frame; its callback fills the grid."""
    return html.Div(
        [
            html.H1("Trials"),
            html.P(
                "Every trial you may see, with its figures over the chosen period. Sort or filter any column; open a"
                " trial for its baseline, every metric and its data.",
                className="muted",
            ),
            html.Div(id="trials-summary"),
            dag.AgGrid(
                id="trials-grid",
                columnDefs=[_column(*spec) for spec in TRIAL_GRID_COLUMNS],
                rowData=[],
                # wide enough for a word a line: on a phone the grid scrolls sideways inside itself, never the page
                defaultColDef={"resizable": True, "minWidth": 115},
                dashGridOptions={
                    "animateRows": False,
                    "domLayout": "autoHeight",
                    "suppressColumnVirtualisation": True,
                    "tooltipShowDelay": 300,  # a trial's name, and the reasons behind its checks
                },
                className="ag-theme-alpine",
                style={"width": "100%"},
            ),
            html.Button("Download data (CSV)", id={"type": "download-button", "chart": "trials"}, n_clicks=0),
            dcc.Download(id={"type": "download", "chart": "trials"}),
        ]
    )


#: Headers of the provenance grid's columns that are not measured fields (those take the registry's words).
PROVENANCE_HEADERS = {
    "period_start": "From",
    "period_end": "To",
    "unit": "Unit",
    "role": "Role",
    "import_batch": "Import batch",
    "file": "File",
    "sheet": "Sheet",
    "row": "Row",
}


#: What a flag on a metric means (the only flag: a source's own figure far from the computed one).
FLAGGED = f"beyond ±{REPORTED_GAP_FLAG_PCT:g} % of the computed figure"


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
                id="trial-report",
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
                    {
                        "field": column,
                        "headerName": PROVENANCE_HEADERS.get(column) or registry.FIELDS[column][0],
                        "sortable": True,
                    }
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


def summary(count: int, left_out: Sequence[tuple[str, str]]) -> Any:
    """How many trials in view count in the avoided-emission totals, and why the others do not, one click away."""
    counted = count - len(left_out)
    said = f"{counted} of {registry.counted(count, 'trial')} count in the avoided-emission totals."
    if not left_out:
        return html.P(said, id="trials-in-totals", className="muted")
    return html.Details(
        [
            html.Summary(
                f"{said} Why {registry.counted(len(left_out), 'trial')} {'is' if len(left_out) == 1 else 'are'} left"
                " out",
                id="trials-in-totals",
            ),
            html.Ul([html.Li([html.Strong(code), f": {reason}"]) for code, reason in left_out]),
        ],
        id="trials-left-out",
        open=True,
    )


def missing(code: str) -> Any:
    """The page of a trial that does not exist or that the viewer may not see: the same words, nothing else."""
    return html.Div(
        [
            dcc.Link("← All trials", href="/dashboard/trials", id="back-to-trials"),
            html.H1(f"No trial {code}", id="trial-title"),
            html.P("No such trial in your view."),
        ]
    )


def _factor_sets(code: str, sets: Sequence[tuple[str, bool]], used: str, search: str) -> Any:
    """The factor sets a trial's figures may be computed with, the one used in bold, the others one click away (each
    link the trial's whole address, so the default set's link drops ?factors= rather than keep the page's own)."""
    view = state.parse(search)
    links: list[Any] = []
    for name, default in sets:
        text = f"{name} (the default)" if default else name
        if name == used:
            links.append(html.Strong(text))
        else:
            chosen = state.to_search(replace(view, factors=None if default else name))
            links.append(dcc.Link(text, href=trial_href(code, chosen)))
        links.append(" · ")
    return html.Span(links[:-1], id="trial-factor-sets")


def header(detail: TrialDetail, sets: Sequence[tuple[str, bool]], search: str, can_edit: bool) -> Any:
    """What the trial is, what it is compared against and with which hydrogen, its trust checks, the factor sets to
    compute it with, and for those who may, the way to edit it."""
    trial, result, row = detail.row.trial, detail.row.result, detail.row
    period = f"{trial.start_date:%d %b %Y} to {f'{trial.end_date:%d %b %Y}' if trial.end_date else 'open'}"
    machines = registry.counted(
        row.units, registry.label(trial.equipment_class), registry.label(trial.equipment_class, 2)
    )
    years = ", ".join(f"{data} data with {used} grid factors" for data, used in result.factor_years.items() if used)
    hydrogen = hydrogen_text(result, trial)
    terminal = f", {trial.terminal}" if trial.terminal else ""
    facts: list[tuple[str, Any]] = [
        ("Name", trial.name),
        ("Port", f"{row.port.name} ({trial.port_locode}){terminal}, grid region {row.port.grid_region}"),
        ("Equipment", f"{machines}, {registry.label(trial.technology)}"),
        ("Status", registry.label(trial.status, capital=True)),
        ("Period", period),
        ("Vendor / model", f"{trial.vendor or 'n/a'} / {trial.model or 'n/a'}"),
        ("Visibility", registry.label(trial.visibility, capital=True)),
        *([("Funding", trial.funding)] if trial.funding else []),
        ("Last data", f"{result.last_data_date:%d %b %Y}" if result.last_data_date else "none yet"),
        ("Compared against", baseline_text(result, trial)),
        *([("Hydrogen", hydrogen)] if hydrogen else []),
        ("Trust checks", check_badges(result.checks)),
        ("Factor set", [_factor_sets(trial.code, sets, result.factor_set, search), f" ({years})" if years else ""]),
        *([("Notes", trial.notes)] if trial.notes else []),
    ]
    edit = (
        [html.A("Edit trial", href=f"/trials/{quote(trial.code, safe='')}/edit", id="trial-edit")] if can_edit else []
    )
    return html.Div(
        [*edit, html.Dl([item for name, value in facts for item in (html.Dt(name), html.Dd(value))], className="facts")]
    )


def metrics(table: Table, market: bool, flags: Sequence[str] = ()) -> Any:
    """Every metric of the trial in words: its label, value, unit and what it tells, and a flag where the figure is
    flagged; a market-based column only when the trial declares that factor."""
    heads = ["Metric", "Location-based", *(["Market-based"] if market else []), "Unit"]
    rows = [
        html.Tr(
            [
                html.Td([html.Div(metric.label), html.Div(metric.summary, className="muted small")]),
                html.Td(metric.format(location), className="num"),
                *([html.Td(metric.format(market_value), className="num")] if market else []),
                html.Td([unit, *([html.Strong(f" flagged: {FLAGGED}")] if key in flags else [])]),
            ],
            id=f"metric-{key}",
        )
        for key, location, market_value, unit in table.rows
        for metric in (registry.METRICS[key],)
    ]
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in heads])), html.Tbody(rows)], className="plain")
