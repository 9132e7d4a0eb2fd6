"""Methodology: every metric in words, with the constants, factors and ranges the numbers use and their sources."""

from __future__ import annotations

from typing import Any

from dash import html

from app.dashboard.data import Methodology
from app.dashboard.table import Table
from trials.reference import DIESEL_TTW_NOTE, EFFICIENCY_EXPECTATION, RANGES_INTRO


def layout() -> Any:
    """The methodology page's frame; its callback fills it."""
    return html.Div([html.H1("Methodology"), html.Div(id="methodology-body")])


def _table(table: Table, table_id: str) -> Any:
    """A plain HTML table of a Table, missing cells shown empty."""
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(column) for column in table.columns])),
            html.Tbody(
                [html.Tr([html.Td("" if value is None else str(value)) for value in row]) for row in table.rows]
            ),
        ],
        id=table_id,
        className="plain",
    )


def body(found: Methodology) -> Any:
    """The page's sections in the order a reader checks a figure: what each metric tells and how it is made, the
    activity each class is counted in, the constants, the factors and the plausible ranges, each with its source."""
    return [
        html.P(
            "Every figure of the dashboards, the API and the reports is made the one way described here. A sum skips"
            " missing values, and a sum of no values at all is n/a, never 0; a ratio, difference or product with a"
            " missing input is n/a, and so is a ratio over zero."
        ),
        html.H2("Metrics"),
        _table(found.formulas, "methodology-formulas"),
        html.P(f"Tank-to-wheel greenhouse gases: {DIESEL_TTW_NOTE}", id="methodology-ttw-note"),
        html.H2("What each class's work is counted in"),
        _table(found.activities, "methodology-activities"),
        html.H2("Constants"),
        _table(found.constants, "methodology-constants"),
        html.H2(f"Emission factors: set {found.factor_set} (the default)"),
        _table(found.factors, "methodology-factors"),
        html.H2("Plausible ranges"),
        html.P(RANGES_INTRO),
        _table(found.ranges, "methodology-ranges"),
        html.P(EFFICIENCY_EXPECTATION, id="methodology-efficiency"),
    ]
