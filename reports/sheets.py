"""The report's sheets, as plain data: Summary, Comparison, Trials, Monthly, Measurements, Methodology, Data quality."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import Any

from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.utils import get_column_letter, quote_sheetname

from reports.data import ReportData, TrialReport
from reports.methodology import BASELINE_METHODS, METRICS, NOTES
from reports.xlsx import Cell, Column, Line, Sheet, SheetTable, Styled
from trials.metrics import METRIC_UNITS, PRIMARY_ACTIVITY, Activity, MetricsResult, Totals, total
from trials.models import UnitRole
from trials.reference import EFFICIENCY_EXPECTATION, RANGE_COLUMNS, RANGES_INTRO, range_rows

#: Units whose figures add up across trials, so the Summary may total them.
TOTALLED_UNITS = frozenset({"h", "kWh", "L", "kg", "kg CO2e"})
#: Number format (a style of reports.xlsx) for each metric unit; intensities (kWh per unit) take "intensity".
UNIT_STYLES = {"h": "amount", "kWh": "amount", "L": "amount", "kg CO2e": "amount", "kg": "fine", "%": "percent"}
#: The Measurements sheet after its Trial, Port, Unit and Role columns: stored field, header with unit, style.
MEASUREMENT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("period_start", "Period start", "date"),
    ("period_end", "Period end (exclusive)", "date"),
    ("operating_hours", "Operating hours (h)", "amount"),
    ("energy_kwh", "Energy (kWh)", "amount"),
    ("hydrogen_kg", "Hydrogen (kg)", "fine"),
    ("diesel_l", "Diesel (L)", "amount"),
    ("distance_km", "Distance (km)", "amount"),
    ("moves", "Moves", ""),
    ("teu", "TEU", ""),
    ("cargo_tonnes", "Cargo (t)", "amount"),
    ("scheduled_hours", "Scheduled hours (h)", "amount"),
    ("downtime_hours", "Unplanned downtime (h)", "amount"),
    ("charging_sessions", "Charging sessions", "integer"),
    ("reported_ghg_kg", "Reported GHG (kg CO2e)", "amount"),
    ("reported_ghg_avoided_kg", "Reported GHG avoided (kg CO2e)", "amount"),
    ("reported_nox_avoided_kg", "Reported NOx avoided (kg)", "fine"),
    ("notes", "Notes", ""),
    ("source_sheet", "Source sheet", ""),
    ("source_row", "Source row", "integer"),
)
_CHART_ROWS_PER_CM = 1 / 0.53  # Excel's default row is 15 points, 0.53 cm


def metric_header(key: str) -> str:
    """A metric column's header: its canonical key and unit, as the API names it."""
    return f"{key} ({METRIC_UNITS[key]})"


def metric_style(key: str) -> str:
    """The number format a metric is shown with."""
    return UNIT_STYLES.get(METRIC_UNITS[key], "intensity" if METRIC_UNITS[key].startswith("kWh/") else "fine")


METRIC_COLUMNS = tuple(Column(metric_header(key), 14, metric_style(key)) for key in METRIC_UNITS)


def _metric_cells(result: MetricsResult) -> list[Cell]:
    """Every metric of a result, in the canonical order."""
    return [result.values[key] for key in METRIC_UNITS]


def _baseline_method(result: MetricsResult) -> str:
    """Say how the baseline was found: measured, declared, or none."""
    return result.baseline.method if result.baseline else "none"


def _label(text: str) -> Styled:
    """A bold label cell."""
    return Styled(text, "label")


# --- Summary ---------------------------------------------------------------------------------------------------


def summary(data: ReportData) -> Sheet:
    """Headline figures and the report's period, scope, factor set and time of writing."""
    first_days = [report.counts.first_day for report in data.trials if report.counts.first_day]
    end_days = [report.counts.end_day for report in data.trials if report.counts.end_day]
    ports = dict.fromkeys(report.trial.port_locode for report in data.trials)
    totalled = [key for key, unit in METRIC_UNITS.items() if unit in TOTALLED_UNITS]
    headline: list[list[Cell]] = []
    for key in totalled:
        values = [report.result.values[key] for report in data.trials]
        present = sum(value is not None for value in values)
        headline.append(
            [METRICS[key][0], key, Styled(total(values), metric_style(key)), METRIC_UNITS[key], present, len(values)]
        )
    blocks: list[Line | SheetTable] = [
        Line([Styled("ZE Trials report", "title")]),
        Line(),
        Line([_label("Scope"), data.scope_text], name="ReportScope"),
        Line([_label("Viewer"), data.viewer_text]),
        Line([_label("Generated at (UTC)"), Styled(data.generated_at, "timestamp")], name="GeneratedAt"),
        Line([_label("Coverage counted up to"), Styled(data.as_of, "date")], name="AsOf"),
        Line([_label("Factor set"), data.factor_set.name], name="FactorSet"),
        Line([_label("Emissions basis"), "location-based grid factors; see the Methodology sheet"]),
        Line([_label("Trials"), Styled(len(data.trials), "integer")], name="TrialCount"),
        Line([_label("Ports"), ", ".join(f"{locode} {data.ports[locode].name}" for locode in ports)]),
        Line([_label("Measured from"), Styled(min(first_days, default=None), "date")], name="MeasuredFrom"),
        Line([_label("Measured until (exclusive)"), Styled(max(end_days, default=None), "date")], name="MeasuredUntil"),
        Line([_label("Measurement rows"), Styled(data.measurement_rows, "integer")], name="MeasurementRows"),
        Line([_label("Empty cells"), "n/a: the inputs are missing; a figure is never shown as 0 for want of data"]),
        Line(),
        Line([Styled("Totals over the trials of this report", "section")]),
        SheetTable(
            "Headline",
            [
                Column("Figure", 30),
                Column("Metric key", 26),
                Column("Total", 18),
                Column("Unit", 10),
                Column("Trials with a value", 10, "integer"),
                Column("Trials in report", 10, "integer"),
            ],
            headline,
            len(headline),
        ),
    ]
    return Sheet("Summary", blocks, freeze=None)


# --- Comparison ------------------------------------------------------------------------------------------------

COMPARISON_COLUMNS = (
    Column("Equipment class", 16),
    Column("Activity unit", 9),
    Column("Primary activity", 9),
    Column("Port", 8),
    Column("Trial", 14),
    Column("Port name", 18),
    Column("Technology", 22),
    Column("Status", 11),
    Column("Metric key", 14),
    Column("Energy intensity (kWh per activity unit)", 14, "intensity"),
    Column(metric_header("final_energy_kwh"), 14, metric_style("final_energy_kwh")),
    Column(metric_header("ghg_wtw_reduction_pct"), 12, metric_style("ghg_wtw_reduction_pct")),
    Column(metric_header("ghg_wtw_avoided_kg"), 14, metric_style("ghg_wtw_avoided_kg")),
    Column(metric_header("availability_pct"), 12, metric_style("availability_pct")),
    Column("Baseline method", 11),
)
_INTENSITY_COLUMN = 10
_TRIAL_COLUMN = 5


def _activity_order(activity: Activity, primary: Activity) -> tuple[bool, int]:
    """The primary activity first, then the others in their declared order."""
    return activity != primary, list(Activity).index(activity)


def _intensity_chart(title: str, unit: str, first: int, last: int) -> BarChart:
    """A native bar chart of one block's energy intensity, one bar per trial."""
    sheet = quote_sheetname("Comparison")
    chart = BarChart()
    chart.type = "bar"  # horizontal bars keep trial codes readable
    chart.title = title
    chart.legend = None
    chart.x_axis.title = "Trial"
    chart.y_axis.title = unit
    chart.x_axis.delete = False  # openpyxl hides both axes unless told
    chart.y_axis.delete = False
    chart.y_axis.axPos = "b"  # horizontal bars: the values run along the bottom
    column = get_column_letter(_INTENSITY_COLUMN)
    trials = get_column_letter(_TRIAL_COLUMN)
    chart.add_data(Reference(range_string=f"{sheet}!${column}${first}:${column}${last}"), titles_from_data=False)
    (series,) = chart.series
    series.tx = SeriesLabel(v=unit)
    series.cat = AxDataSource(strRef=StrRef(f=f"{sheet}!${trials}${first}:${trials}${last}"))  # text, not numbers
    chart.width = 16
    chart.height = max(6.0, 2.5 + 0.7 * (last - first + 1))
    return chart


def comparison(data: ReportData) -> Sheet:
    """Ports side by side per equipment class and activity unit, each block with its own bar chart."""
    rows: list[list[Cell]] = []
    charts: list[tuple[BarChart, str]] = []
    chart_row = 1
    anchor_column = get_column_letter(len(COMPARISON_COLUMNS) + 2)
    for equipment_class in dict.fromkeys(sorted(report.trial.equipment_class for report in data.trials)):
        of_class = [report for report in data.trials if report.trial.equipment_class == equipment_class]
        primary = PRIMARY_ACTIVITY[equipment_class]
        for activity in sorted(Activity, key=lambda each: _activity_order(each, primary)):
            key = f"kwh_per_{activity.value}"
            if all(report.result.values[key] is None for report in of_class):
                continue
            first = len(rows) + 2
            for report in of_class:
                values, trial = report.result.values, report.trial
                rows.append(
                    [
                        equipment_class.value,
                        activity.value,
                        "primary" if activity == primary else "also shown",
                        trial.port_locode,
                        trial.code,
                        report.port.name,
                        trial.technology.value,
                        trial.status.value,
                        key,
                        values[key],
                        values["final_energy_kwh"],
                        values["ghg_wtw_reduction_pct"],
                        values["ghg_wtw_avoided_kg"],
                        values["availability_pct"],
                        _baseline_method(report.result),
                    ]
                )
            title = f"{equipment_class.value}: kWh per {activity.value}"
            chart = _intensity_chart(title, METRIC_UNITS[key], first, len(rows) + 1)
            charts.append((chart, f"{anchor_column}{chart_row}"))
            chart_row += math.ceil(chart.height * _CHART_ROWS_PER_CM) + 1
    table = SheetTable("Comparison", COMPARISON_COLUMNS, rows, len(rows))
    return Sheet("Comparison", [table], freeze="A2", charts=charts)


# --- Trials and Monthly ----------------------------------------------------------------------------------------

TRIAL_COLUMNS = (
    Column("Trial", 14),
    Column("Name", 36),
    Column("Port", 8),
    Column("Port name", 18),
    Column("Terminal", 14),
    Column("Equipment class", 16),
    Column("Technology", 22),
    Column("Status", 11),
    Column("Visibility", 10),
    Column("Units planned", 9, "integer"),
    Column("Start date", 11, "date"),
    Column("End date (inclusive)", 11, "date"),
    Column("Vendor", 16),
    Column("Model", 16),
    Column("Funding", 16),
    Column("Rated power (kW)", 10, "amount"),
    Column("Baseline method", 11),
    Column("Baseline (L per activity unit)", 12, "rate"),
    Column("Baseline activity unit", 10),
    Column("Factor set", 10),
    Column("Emissions basis", 10),
    Column("Flagged", 16),
    *METRIC_COLUMNS,
    Column("Notes", 60),
)


def _trial_row(report: TrialReport) -> list[Cell]:
    """One trial as it is recorded, with every metric of METHODOLOGY.md §3."""
    trial, result = report.trial, report.result
    return [
        trial.code,
        trial.name,
        trial.port_locode,
        report.port.name,
        trial.terminal,
        trial.equipment_class.value,
        trial.technology.value,
        trial.status.value,
        trial.visibility.value,
        trial.units_planned,
        trial.start_date,
        trial.end_date,
        trial.vendor,
        trial.model,
        trial.funding,
        trial.rated_power_kw,
        _baseline_method(result),
        result.baseline.litres_per_activity if result.baseline else None,
        result.baseline.activity.value if result.baseline else None,
        result.factor_set,
        result.basis,
        ", ".join(result.flags),
        *_metric_cells(result),
        trial.notes,
    ]


def trials_sheet(data: ReportData) -> Sheet:
    """One row per trial, with every metric key."""
    rows = [_trial_row(report) for report in data.trials]
    return Sheet("Trials", [SheetTable("Trials", TRIAL_COLUMNS, rows, len(rows))], freeze="B2")


MONTHLY_COLUMNS = (
    Column("Trial", 14),
    Column("Port", 8),
    Column("Equipment class", 16),
    Column("Technology", 22),
    Column("Month", 9, "month"),
    Column("Baseline method", 11),
    Column("Days covered", 9, "integer"),
    Column("Days in the month so far", 9, "integer"),
    *METRIC_COLUMNS,
)


def monthly(data: ReportData) -> Sheet:
    """One row per trial and month, every metric computed from that month's measurements alone."""
    rows = [
        [
            report.trial.code,
            report.trial.port_locode,
            report.trial.equipment_class.value,
            report.trial.technology.value,
            month,
            _baseline_method(result),
            inputs.days_covered,
            inputs.days_in_period,
            *_metric_cells(result),
        ]
        for report in data.trials
        for month, (inputs, result) in report.months.items()
    ]
    return Sheet("Monthly", [SheetTable("Monthly", MONTHLY_COLUMNS, rows, len(rows))], freeze="F2")


# --- Measurements ----------------------------------------------------------------------------------------------

MEASUREMENT_COLUMNS = (
    Column("Trial", 14),
    Column("Port", 8),
    Column("Unit", 14),
    Column("Role", 9),
    *(Column(header, 11 if style == "date" else 12, style) for _name, header, style in MEASUREMENT_FIELDS),
)


def measurements(rows: Iterable[Sequence[Any]], row_count: int) -> Sheet:
    """The raw rows as stored, trial unit and baseline unit alike; they stream in and are never held in memory."""
    return Sheet("Measurements", [SheetTable("Measurements", MEASUREMENT_COLUMNS, rows, row_count)], freeze="E2")


# --- Methodology -----------------------------------------------------------------------------------------------


def methodology(data: ReportData) -> Sheet:
    """The formulas, the factor set and plausible ranges with their sources, and how each trial's baseline was found."""
    formulas: list[list[Cell]] = [[key, label, METRIC_UNITS[key], formula] for key, (label, formula) in METRICS.items()]
    factors: list[list[Cell]] = [
        [row.key, row.region, row.year, row.value, row.unit, row.scope, row.source] for row in data.factor_rows
    ]
    baselines: list[list[Cell]] = [
        [
            report.trial.code,
            report.trial.port_locode,
            _baseline_method(report.result),
            report.result.baseline.litres_per_activity if report.result.baseline else None,
            report.result.baseline.activity.value if report.result.baseline else None,
            report.trial.baseline_rate,
            report.trial.baseline_unit,
            report.trial.baseline_source,
            report.inputs.rated_power_kw,
            report.inputs.load_factor,
        ]
        for report in data.trials
    ]
    ranges: list[list[Cell]] = [list(row) for row in range_rows(data.ranges)]
    factor_set = data.factor_set
    blocks: list[Line | SheetTable] = [
        Line([Styled("Methodology", "title")]),
        *(Line([note]) for note in NOTES),
        Line(),
        Line([Styled("Formulas (METHODOLOGY.md §3)", "section")]),
        SheetTable(
            "Formulas",
            [Column("Metric key", 26), Column("Metric", 28), Column("Unit", 10), Column("Formula", 90, "wrap")],
            formulas,
            len(formulas),
        ),
        Line(),
        Line([Styled(f"Emission factors: set {factor_set.name}", "section")]),
        Line([_label("Description"), factor_set.description]),
        SheetTable(
            "Factors",
            [
                Column("Factor key", 26),
                Column("Region or class", 16),
                Column("Year (0: every year)", 10),
                Column("Value", 12),
                Column("Unit", 14),
                Column("Scope", 8),
                Column("Source", 70, "wrap"),
            ],
            factors,
            len(factors),
        ),
        Line(),
        Line([Styled("Plausible ranges (METHODOLOGY.md §8)", "section")]),
        Line([RANGES_INTRO]),
        SheetTable(
            "Ranges",
            [
                Column(RANGE_COLUMNS[0], 18),
                Column(RANGE_COLUMNS[1], 12),
                Column(RANGE_COLUMNS[2], 24),
                Column(RANGE_COLUMNS[3], 70, "wrap"),
            ],
            ranges,
            len(ranges),
        ),
        Line([EFFICIENCY_EXPECTATION]),
        Line(),
        Line([Styled("Baseline per trial", "section")]),
        *(Line([method]) for method in BASELINE_METHODS),
        SheetTable(
            "Baselines",
            [
                Column("Trial", 26),
                Column("Port", 16),
                Column("Baseline method", 10),
                Column("Baseline (L per activity unit)", 12, "rate"),
                Column("Activity unit", 10),
                Column("Declared rate", 10),
                Column("Declared unit", 10),
                Column("Declared source", 30),
                Column("Rated power (kW)", 10, "amount"),
                Column("Load factor (the trial's own; else the set's class default)", 14),
            ],
            baselines,
            len(baselines),
        ),
    ]
    return Sheet("Methodology", blocks, freeze=None)


# --- Data quality ----------------------------------------------------------------------------------------------

COVERAGE_COLUMNS = (
    Column("Trial", 14),
    Column("Port", 8),
    Column("Status", 11),
    Column("Start date", 11, "date"),
    Column("End date (inclusive)", 11, "date"),
    Column("First period start", 11, "date"),
    Column("Last period end (exclusive)", 11, "date"),
    Column("Rows of trial units", 11, "integer"),
    Column("Rows of baseline units", 11, "integer"),
    Column("Trial units with data", 9, "integer"),
    Column("Baseline units with data", 9, "integer"),
    Column("Days covered", 9, "integer"),
    Column("Days in the trial period so far", 9, "integer"),
    Column(metric_header("data_coverage_pct"), 11, metric_style("data_coverage_pct")),
    Column("Inputs with no data", 40),
    Column("Metrics n/a", 50),
    Column("Flagged", 16),
    Column("Trust checks (METHODOLOGY.md §7.5)", 70),
)
BATCH_COLUMNS = (
    Column("Import batch", 11, "integer"),
    Column("File", 36),
    Column("Imported at (UTC)", 19, "timestamp"),
    Column("Status", 11),
    Column("Rows created", 11, "integer"),
    Column("Rows updated", 11, "integer"),
    Column("Rows unchanged", 11, "integer"),
    Column("Rows skipped", 11, "integer"),
)


def _missing_inputs(report: TrialReport) -> str:
    """Name the sums with no data at all, and the settings a metric lacked."""
    missing = [item.name for item in fields(Totals) if getattr(report.inputs.trial, item.name) is None]
    if report.result.baseline is None:
        missing.append("baseline (no baseline units, no declared rate)")
    if report.inputs.rated_power_kw is None:
        missing.append("rated_power_kw")
    return ", ".join(missing)


def data_quality(data: ReportData) -> Sheet:
    """Coverage, missing inputs and n/a metrics per trial, and the import batches that loaded the rows."""
    coverage: list[list[Cell]] = []
    for report in data.trials:
        trial, counts, values = report.trial, report.counts, report.result.values
        coverage.append(
            [
                trial.code,
                trial.port_locode,
                trial.status.value,
                trial.start_date,
                trial.end_date,
                counts.first_day,
                counts.end_day,
                counts.rows[UnitRole.trial],
                counts.rows[UnitRole.baseline],
                counts.units[UnitRole.trial],
                counts.units[UnitRole.baseline],
                report.inputs.days_covered,
                report.inputs.days_in_period,
                values["data_coverage_pct"],
                _missing_inputs(report),
                ", ".join(key for key, value in values.items() if value is None),
                ", ".join(report.result.flags),
                "; ".join(f"{check.level.value}: {check.message}" for check in report.result.checks),
            ]
        )
    batches: list[list[Cell]] = [
        [
            batch.id,
            batch.filename,
            batch.created_at,
            batch.status.value,
            batch.created,
            batch.updated,
            batch.unchanged,
            batch.skipped,
        ]
        for batch in data.batches
    ]
    blocks: list[Line | SheetTable] = [
        SheetTable("Coverage", COVERAGE_COLUMNS, coverage, len(coverage)),
        Line(),
        Line([Styled("Import batches that loaded these trials' rows (skipped rows are counted per file)", "section")]),
        SheetTable("ImportBatches", BATCH_COLUMNS, batches, len(batches)),
    ]
    return Sheet("Data quality", blocks, freeze="B2")
