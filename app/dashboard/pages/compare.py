"""Compare: trials of one class side by side per unit of the class's activity, with their spread and grid effect."""

from __future__ import annotations

from typing import Any

from dash import html

from app.dashboard.compare_data import Comparison
from app.dashboard.pages.common import chart, check_badges, number
from app.dashboard.pages.trials import trial_href
from app.dashboard.state import COMPARE_METRICS, ViewState, compare_key
from trials import registry
from trials.models import EquipmentClass


def layout() -> Any:
    """The compare page's frame; its callbacks fill it."""
    return html.Div(
        [
            html.H1("Compare like for like"),
            html.P(id="compare-note", className="muted"),
            html.Div(id="compare-report"),
            chart("bars", 460),
            html.H2("The trials compared"),
            html.Div(id="compare-table", style={"overflowX": "auto"}),  # a wide table scrolls in its box
            html.Div([chart("spread", 420), chart("grid", 420)], className="grid two"),
        ]
    )


def metric_options(view: ViewState) -> list[dict[str, Any]]:
    """Every metric Compare offers, named from the registry for the class compared and the GHG scope; one that has
    no figure in the scope is offered disabled, saying so."""
    equipment_class = view.equipment_class or EquipmentClass.yard_tractor  # none in view: the commonest names them
    options = []
    for name in COMPARE_METRICS:
        key = compare_key(name, equipment_class, view.ghg)
        shown = key or compare_key(name, equipment_class, "wtw")
        assert shown is not None  # every choice has a well-to-wheel figure
        text = registry.METRICS[shown].label + ("" if key else " (well-to-wheel only)")
        options.append({"label": text, "value": name, "disabled": key is None})
    return options


def report_link(equipment_class: EquipmentClass | None) -> Any:
    """The Excel report of the class compared, or nothing without a class."""
    if equipment_class is None:
        return None
    return html.A(
        f"Download the Excel report of {registry.label(equipment_class, 2)}",
        href=f"/reports/compare/{equipment_class.value}.xlsx",
        id="compare-report-link",
        className="download",
    )


def _labelled(head: str) -> dict[str, Any]:
    """A cell's column name as its data-label, which a phone's stacked table shows before the cell."""
    return {"data-label": head}


def trials_table(found: Comparison, search: str) -> Any:
    """Each trial compared with what its figure rests on: technology, units and days, its baseline, its hydrogen,
    and its trust checks as badges with their reasons."""
    bars = found.bars
    if not bars.rows:
        return html.P("No trials of this class in view.", className="muted")
    metric = registry.METRICS[found.metric_key] if found.metric_key else None
    heads = ["Port", "Trial", "Technology", metric.label if metric else "Value", "Units", "Days", "Baseline", "Checks"]
    rows = []
    for record in bars.records():
        value = "n/a" if metric is None else f"{metric.format(record['value'])} {record['unit']}"
        baseline = [html.Div(record["baseline"])] + (
            [html.Div(f"Hydrogen: {record['hydrogen']}")] if record["hydrogen"] else []
        )
        rows.append(
            html.Tr(
                [
                    html.Td(content, className=kind, **_labelled(head))
                    for head, (content, kind) in zip(
                        heads,
                        (
                            (record["port_name"], ""),
                            (html.A(record["trial"], href=trial_href(record["trial"], search)), ""),
                            (registry.label(record["technology"], capital=True), ""),
                            (value, "num"),
                            (number(record["units_with_data"]), "num"),
                            (number(record["days_with_data"]), "num"),
                            (baseline, ""),
                            (check_badges(found.checks.get(record["trial"], ())), ""),
                        ),
                        strict=True,
                    )
                ]
            )
        )
    return html.Table(
        [html.Thead(html.Tr([html.Th(head) for head in heads])), html.Tbody(rows)],
        className="plain compare-table stacked",  # on a phone each trial is a block of labelled lines (CSS)
    )
