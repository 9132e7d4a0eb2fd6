"""The Comparison sheet: each equipment class's trials side by side, with one chart per class comparing them."""

from __future__ import annotations

from reports.blocks import Block, Cell, Chart, Column, Line, Sheet, SheetTable, Styled
from reports.charts import compare_chart, rows_for
from reports.data import ReportData, TrialReport
from reports.layout import first_data_row
from reports.words import baseline_words, capital, metric_header, metric_style
from trials.metrics import PRIMARY_ACTIVITY
from trials.models import EquipmentClass
from trials.registry import METRICS, counted, label

TITLE = "Comparison"
#: What each class's trials are compared on, after the energy per unit of work of the class's primary activity.
FIGURES = (
    "ghg_wtw_avoided_per_activity_kg",
    "ghg_wtw_reduction_pct",
    "ghg_wtw_avoided_kg",
    "final_energy_kwh",
    "availability_pct",
)
_TRIAL_COLUMN = 1


def intensity_key(equipment_class: EquipmentClass) -> str:
    """The energy-per-unit-of-work metric of a class's primary activity (per hour, move or km)."""
    return f"kwh_per_{PRIMARY_ACTIVITY[equipment_class].value}"


def _columns(equipment_class: EquipmentClass) -> list[Column]:
    """A class's table columns: who and what, then its figures with units said for its unit of work."""
    keys = (intensity_key(equipment_class), *FIGURES)
    return [
        Column("Trial", 13, "wrap"),
        Column("Port", 14, "wrap"),
        Column("Technology", 18, "wrap"),
        Column("Status", 10, "wrap"),
        *(Column(metric_header(key, equipment_class), 16, metric_style(key)) for key in keys),
        Column("Baseline", 30, "wrap"),
    ]


def _row(report: TrialReport) -> list[Cell]:
    """One trial's row of its class's table."""
    values = report.result.values
    keys = (intensity_key(report.trial.equipment_class), *FIGURES)
    return [
        report.trial.code,
        report.port.name,
        label(report.trial.technology),
        label(report.trial.status),
        *(values[key] for key in keys),
        baseline_words(report.result),
    ]


def chart_key(reports: list[TrialReport]) -> str:
    """What a class's chart compares: emissions avoided per unit of work where any trial has it, else energy."""
    avoided = "ghg_wtw_avoided_per_activity_kg"
    if any(report.result.values[avoided] is not None for report in reports):
        return avoided
    return intensity_key(reports[0].trial.equipment_class)


def _block(equipment_class: EquipmentClass, reports: list[TrialReport], earlier: list[Block]) -> list[Block]:
    """A class's heading, table, and, when it has trials to compare, its chart."""
    activity = label(PRIMARY_ACTIVITY[equipment_class])
    kinds = dict.fromkeys(label(report.trial.technology) for report in reports)
    heading = (
        f"{capital(label(equipment_class, len(reports)))}: {counted(len(reports), 'trial')}, compared per {activity}"
        f" ({', '.join(kinds)})"
    )
    name = "Compare" + "".join(part.capitalize() for part in equipment_class.value.split("_"))
    table = SheetTable(name, _columns(equipment_class), [_row(report) for report in reports], len(reports))
    blocks: list[Block] = [Line([Styled(heading, "section")]), table]
    if len(reports) > 1:
        key = chart_key(reports)
        keys = [intensity_key(equipment_class), *FIGURES]
        first = first_data_row([*earlier, *blocks], table)
        chart = compare_chart(
            sheet=TITLE,
            title=f"{capital(label(equipment_class, 2))}: {METRICS[key].label}",
            unit=METRICS[key].unit_for(equipment_class),
            labels_column=_TRIAL_COLUMN,
            values_column=5 + keys.index(key),
            first=first,
            last=first + len(reports) - 1,
        )
        blocks.append(Chart(chart, rows_for(chart)))
    return [*blocks, Line()]


def comparison(data: ReportData) -> Sheet:
    """Every class's trials side by side; a chart per class that has more than one trial to compare."""
    blocks: list[Block] = []
    for equipment_class in EquipmentClass:
        of_class = [report for report in data.trials if report.trial.equipment_class == equipment_class]
        if of_class:
            blocks += _block(equipment_class, of_class, blocks)
    return Sheet(TITLE, blocks, freeze=None)
