"""The report's reference sheets: the raw Measurements, the Methodology behind every figure, and Data quality."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import Any

from reports.blocks import Cell, Column, Line, Sheet, SheetTable, Styled
from reports.data import ReportData, TrialReport
from reports.methodology import BASELINE_METHODS, METHODOLOGY_VERSION, NOTES, factor_rows
from reports.words import baseline_words, in_sentence
from trials.metrics import Totals
from trials.models import UnitRole
from trials.reference import EFFICIENCY_EXPECTATION, RANGE_COLUMNS, RANGES_INTRO, range_rows
from trials.registry import FIELDS, METRICS, label

#: The Measurements sheet after its Trial, Port, Unit and Role columns: stored field, header with unit, style.
MEASUREMENT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("period_start", "Period start", "date"),
    ("period_end", "Period end (exclusive)", "date"),
    ("operating_hours", "Operating hours (h)", "amount"),
    ("energy_kwh", "Electricity (kWh)", "amount"),
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


def _label(text: str) -> Styled:
    """A bold label cell."""
    return Styled(text, "label")


# --- Measurements ----------------------------------------------------------------------------------------------

MEASUREMENT_COLUMNS = (
    Column("Trial", 14),
    Column("Port", 8),
    Column("Unit", 14),
    Column("Role", 12),
    *(Column(header, 11 if style == "date" else 12, style) for _name, header, style in MEASUREMENT_FIELDS),
)


def measurements(rows: Iterable[Sequence[Any]], row_count: int) -> Sheet:
    """The raw rows as stored, trial unit and baseline unit alike; they stream in and are never held in memory."""
    return Sheet("Measurements", [SheetTable("Measurements", MEASUREMENT_COLUMNS, rows, row_count)], freeze="E2")


# --- Methodology -----------------------------------------------------------------------------------------------


def _compared_with(report: TrialReport) -> str:
    """What the trial is compared against, and the rate it declared with its source, in words."""
    trial = report.trial
    said = label(trial.baseline_kind)
    if trial.baseline_rate is None:
        return said
    source = f", from {trial.baseline_source}" if trial.baseline_source else ""
    return f"{said}; declared {trial.baseline_rate:,g} {trial.baseline_unit or ''}{source}"


def methodology(data: ReportData) -> Sheet:
    """The formulas, the factors the trials used and plausible ranges with their sources, and each trial's baseline."""
    formulas: list[list[Cell]] = [
        [metric.label, metric.unit, metric.summary, metric.formula, metric.key] for metric in METRICS.values()
    ]
    factors = factor_rows(data)
    baselines: list[list[Cell]] = [
        [
            report.trial.code,
            report.port.name,
            _compared_with(report),
            baseline_words(report.result),
            report.inputs.rated_power_kw,
            report.inputs.load_factor,
        ]
        for report in data.trials
    ]
    ranges: list[list[Cell]] = [list(row) for row in range_rows(data.ranges)]
    factor_set = data.factor_set
    blocks: list[Line | SheetTable] = [
        Line([Styled(f"Methodology (METHODOLOGY.md {METHODOLOGY_VERSION})", "title")], height=24),
        *(Line([note]) for note in NOTES),
        Line(),
        Line([Styled("How each figure is made (METHODOLOGY.md §3)", "section")]),
        SheetTable(
            "Formulas",
            [
                Column("Figure", 26, "wrap"),
                Column("Unit", 14, "wrap"),
                Column("What it tells", 44, "wrap"),
                Column("How it is made", 60, "wrap"),
                Column("Key (for machines)", 24, "wrap"),
            ],
            formulas,
            len(formulas),
        ),
        Line(),
        Line([Styled(f"Emission factors these trials used: set {factor_set.name}", "section")]),
        Line([_label("Description"), factor_set.description]),
        SheetTable(
            "Factors",
            [
                Column("Factor", 26, "wrap"),
                Column("Value", 14, "number"),
                Column("Applies to", 44, "wrap"),
                Column("Source", 60, "wrap"),
                Column("Unit", 24, "wrap"),
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
                Column(RANGE_COLUMNS[0], 26, "wrap"),
                Column(RANGE_COLUMNS[1], 14, "wrap"),
                Column(RANGE_COLUMNS[2], 44, "wrap"),
                Column(RANGE_COLUMNS[3], 60, "wrap"),
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
                Column("Trial", 26, "wrap"),
                Column("Port", 14, "wrap"),
                Column("Compared with", 44, "wrap"),
                Column("Baseline used", 60, "wrap"),
                Column("Rated power (kW)", 24, "amount"),
                Column("Load factor", 12, "number"),
            ],
            baselines,
            len(baselines),
        ),
    ]
    return Sheet("Methodology", blocks, freeze=None)


# --- Data quality ----------------------------------------------------------------------------------------------

#: The three tables share their first columns: who, what in words (wide), then kind or status.
COVERAGE_COLUMNS = (
    Column("Trial", 13, "wrap"),
    Column("Inputs with no data", 60, "wrap"),
    Column("Status", 16, "wrap"),
    Column("Start date", 11, "date"),
    Column("End date (inclusive)", 11, "date"),
    Column("First data", 11, "date"),
    Column("Data until (exclusive)", 11, "date"),
    Column("Rows of trial units", 10, "integer"),
    Column("Rows of baseline units", 10, "integer"),
    Column("Trial units with data", 9, "integer"),
    Column("Baseline units with data", 9, "integer"),
    Column("Days with data", 9, "integer"),
    Column("Days in the trial so far", 9, "integer"),
    Column("Data coverage (%)", 10, "amount"),
)
CHECK_COLUMNS = (
    Column("Trial", 13, "wrap"),
    Column("What the check found (METHODOLOGY.md §7.5)", 60, "wrap"),
    Column("Kind", 16, "wrap"),
)
BATCH_COLUMNS = (
    Column("Import batch", 13, "integer"),
    Column("File", 60, "wrap"),
    Column("Status", 16, "wrap"),
    Column("Imported at (UTC)", 19, "timestamp"),
    Column("Rows created", 11, "integer"),
    Column("Rows updated", 11, "integer"),
    Column("Rows unchanged", 11, "integer"),
    Column("Rows skipped", 11, "integer"),
)


def _missing_inputs(report: TrialReport) -> str:
    """Name, in words, the measured sums with no data at all and the settings a figure lacked."""
    missing = [
        in_sentence(FIELDS[item.name][0])
        for item in fields(Totals)
        if item.name in FIELDS and getattr(report.inputs.trial, item.name) is None
    ]
    if report.result.baseline is None:
        missing.append("baseline (no baseline units, no declared rate)")
    if report.inputs.rated_power_kw is None:
        missing.append("rated power")
    return ", ".join(missing)


def data_quality(data: ReportData) -> Sheet:
    """Coverage and missing inputs per trial, the trust checks in words, and the import batches that loaded the rows."""
    coverage: list[list[Cell]] = []
    for report in data.trials:
        trial, counts = report.trial, report.counts
        coverage.append(
            [
                trial.code,
                _missing_inputs(report),
                trial.status,
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
                report.result.values["data_coverage_pct"],
            ]
        )
    checks: list[list[Cell]] = [
        [report.trial.code, check.message, check.level] for report in data.trials for check in report.result.checks
    ]
    batches: list[list[Cell]] = [
        [batch.id, batch.filename, batch.status, batch.created_at, batch.created, batch.updated, batch.unchanged,
         batch.skipped]
        for batch in data.batches
    ]  # fmt: skip
    blocks: list[Line | SheetTable] = [
        SheetTable("Coverage", COVERAGE_COLUMNS, coverage, len(coverage)),
        Line(),
        Line([Styled("Trust checks, most serious first", "section")]),
        SheetTable("Checks", CHECK_COLUMNS, checks, len(checks)),
        Line(),
        Line([Styled("Import batches that loaded these trials' rows (skipped rows are counted per file)", "section")]),
        SheetTable("ImportBatches", BATCH_COLUMNS, batches, len(batches)),
    ]
    return Sheet("Data quality", blocks, freeze="B2")
