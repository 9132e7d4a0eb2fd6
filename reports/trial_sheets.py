"""The Trials sheet (each trial a column: what it is, then every figure) and the Monthly sheet (a row per month)."""

from __future__ import annotations

from collections.abc import Callable

from reports.blocks import Cell, Column, Line, Sheet, SheetTable, Styled
from reports.data import ReportData, TrialReport
from reports.words import baseline_words, capital, metric_header, metric_style
from trials.metrics import METRIC_KEYS, PRIMARY_ACTIVITY
from trials.registry import METRICS, label

#: Each fact about a trial as a row of the Trials sheet: what it is, its unit, and how to read it off the trial.
ABOUT: tuple[tuple[str, str, Callable[[TrialReport], Cell]], ...] = (
    ("Name", "", lambda r: r.trial.name),
    ("Port", "", lambda r: r.port.name),
    ("Terminal", "", lambda r: r.trial.terminal),
    ("Equipment", "", lambda r: capital(label(r.trial.equipment_class))),
    ("Technology", "", lambda r: label(r.trial.technology)),
    ("Status", "", lambda r: label(r.trial.status)),
    ("Visibility", "", lambda r: label(r.trial.visibility)),
    ("Units planned", "units", lambda r: Styled(r.trial.units_planned, "integer")),
    ("Start date", "", lambda r: Styled(r.trial.start_date, "date")),
    ("End date (inclusive)", "", lambda r: Styled(r.trial.end_date, "date")),
    ("Vendor", "", lambda r: r.trial.vendor),
    ("Model", "", lambda r: r.trial.model),
    ("Funding", "", lambda r: r.trial.funding),
    ("Rated power", "kW", lambda r: Styled(r.trial.rated_power_kw, "amount")),
    ("Unit of work", "", lambda r: label(PRIMARY_ACTIVITY[r.trial.equipment_class])),
    ("Compared with", "", lambda r: label(r.trial.baseline_kind)),
    ("Baseline", "", lambda r: baseline_words(r.result)),
    ("Emission factor set", "", lambda r: r.result.factor_set),
    ("Notes", "", lambda r: Styled(r.trial.notes, "wrap")),
)
_TRIAL_WIDTH = 16
#: Trials side by side on one printed page; more go on further pages across, names and units repeated.
TRIALS_PER_PAGE = 8


def _columns(first: str, data: ReportData) -> list[Column]:
    """What a row is and its unit, then a column per trial, headed by its code."""
    trials = [Column(report.trial.code, _TRIAL_WIDTH, "wrap") for report in data.trials]
    return [Column(first, 40, "wrap"), Column("Unit", 24, "wrap"), *trials]


def trials_sheet(data: ReportData) -> Sheet:
    """Each trial a column: what it is, then every METHODOLOGY.md §3 figure with its unit, to the digit."""
    about: list[list[Cell]] = [[words, unit, *(read(report) for report in data.trials)] for words, unit, read in ABOUT]
    figures: list[list[Cell]] = [
        [METRICS[key].label, METRICS[key].unit]
        + [Styled(report.result.values[key], metric_style(key)) for report in data.trials]
        for key in METRIC_KEYS
    ]
    return Sheet(
        "Trials",
        [
            SheetTable("Trials", _columns("Trial", data), about, len(about)),
            Line(),
            SheetTable("Figures", _columns("Figure", data), figures, len(figures)),
            Line([Styled("A figure per unit of work is per each trial's own unit of work (above).", "subtitle")]),
        ],
        freeze="C2",
        title_columns=2,
        columns_per_page=TRIALS_PER_PAGE,
    )


#: The figures of each month: the sums that add up over months, and the results a board follows.
MONTHLY_KEYS = (
    "operating_hours",
    "energy_kwh",
    "hydrogen_kg",
    "diesel_l",
    "final_energy_kwh",
    "ghg_wtw_kg",
    "ghg_wtw_avoided_kg",
    "ghg_wtw_reduction_pct",
    "data_coverage_pct",
)
MONTHLY_COLUMNS = (
    Column("Trial", 13),
    Column("Technology", 18),
    Column("Month", 9, "month"),
    Column("Days with data", 9, "integer"),
    Column("Days in the month so far", 10, "integer"),
    *(Column(metric_header(key), 12, metric_style(key)) for key in MONTHLY_KEYS),
)


def monthly(data: ReportData) -> Sheet:
    """One row per trial and month, every figure computed from that month's measurements alone."""
    rows = [
        [
            report.trial.code,
            report.trial.technology,
            month,
            inputs.days_covered,
            inputs.days_in_period,
            *(result.values[key] for key in MONTHLY_KEYS),
        ]
        for report in data.trials
        for month, (inputs, result) in report.months.items()
    ]
    return Sheet("Monthly", [SheetTable("Monthly", MONTHLY_COLUMNS, rows, len(rows))], freeze="D2")
