"""The Cover: one landscape page a board reads first: scope, as-of, headline figures, a chart, trust checks, sources."""

from __future__ import annotations

from reports.blocks import Block, Cell, Chart, Column, Line, Sheet, SheetTable, Styled
from reports.charts import compare_chart, rows_for
from reports.data import ReportData
from reports.layout import first_data_row
from reports.methodology import METHODOLOGY_VERSION
from reports.print_setup import LINE_POINTS, text_height
from reports.totals import headlines, left_out, technologies
from reports.words import capital, metric_header, metric_style, report_title
from trials.checks import Level
from trials.metrics import PRIMARY_ACTIVITY
from trials.registry import METRICS, counted, label

TITLE = "Cover"
#: Width of the first column (figure and trial names) and of every other, in characters.
_FIRST_WIDTH = 30
_WIDTH = 19
#: The figure the cover's chart compares trials on: a share, so trials of any class and size compare fairly.
CHART_KEY = "ghg_wtw_reduction_pct"
#: At most this many trust-check lines on the cover; the rest are on the Data quality sheet.
_CHECK_LINES = 6
_TRIAL_COLUMNS = 7


def _headline_table(data: ReportData) -> SheetTable:
    """The headline figures: per technology, all technologies together when there are several, and N of M trials."""
    kinds = technologies(data.trials)
    columns = [Column("Figure", _FIRST_WIDTH), *(Column(capital(label(kind)), _WIDTH) for kind in kinds)]
    if len(kinds) > 1:
        columns.append(Column("All technologies together", _WIDTH))
    columns.append(Column("Trials counted", _WIDTH + 3))
    rows: list[list[Cell]] = []
    for figure in headlines(data.trials):
        style = metric_style(figure.key)
        cells: list[Cell] = [metric_header(figure.key)]
        cells += [Styled(figure.by_technology[kind], style) for kind in kinds]
        if len(kinds) > 1:
            cells.append(Styled(figure.together, style))
        cells.append(f"from {figure.counted} of {counted(figure.trials, 'trial')}")
        rows.append(cells)
    return SheetTable("Headline", columns, rows, len(rows))


def _trials_table(data: ReportData) -> SheetTable:
    """The trials at a glance, with the figure the chart compares and whether each counts in the avoided totals."""
    out = {report.trial.code for report, _reason in left_out(data.trials)}
    columns = [
        Column("Trial", _FIRST_WIDTH, "wrap"),
        Column("Port", _WIDTH, "wrap"),
        Column("Equipment", _WIDTH, "wrap"),
        Column("Technology", _WIDTH, "wrap"),
        Column("Status", _WIDTH, "wrap"),
        Column(metric_header(CHART_KEY), _WIDTH, metric_style(CHART_KEY)),
        Column("In the avoided totals", _WIDTH, "wrap"),
    ]
    rows: list[list[Cell]] = [
        [
            report.trial.code,
            report.port.name,
            capital(label(report.trial.equipment_class)),
            label(report.trial.technology),
            label(report.trial.status),
            report.result.values[CHART_KEY],
            "no" if report.trial.code in out else "yes",
        ]
        for report in data.trials
    ]
    return SheetTable("TrialsAtAGlance", columns, rows, len(rows))


def _check_lines(data: ReportData) -> list[str]:
    """The trust checks in plain words: who is left out of the totals and why, then the warnings."""
    out = left_out(data.trials)
    trials = len(data.trials)
    lines = [
        f"{trials - len(out)} of {counted(trials, 'trial')} count in the avoided-emission totals"
        + (": every trial has a usable baseline and no check keeps it out." if not out else ".")
    ]
    for report, reason in out:
        lines.append(f"{report.trial.code} ({label(report.trial.equipment_class)}, {report.port.name}): {reason}")
    left = {report.trial.code for report, _reason in out}
    for report in data.trials:
        warnings = [check.message for check in report.result.checks if check.level == Level.warn]
        if warnings and report.trial.code not in left:
            lines.append(f"{report.trial.code} ({label(report.trial.equipment_class)}): " + " ".join(warnings))
    if len(lines) > _CHECK_LINES:
        more = len(lines) - _CHECK_LINES + 1
        lines = lines[: _CHECK_LINES - 1] + [f"… and {more} more: see the Data quality sheet."]
    return lines


def _about(data: ReportData) -> list[tuple[str, Cell, str | None]]:
    """What the report is, as labelled values beside the chart; each named for machines that read the file."""
    first_days = [report.counts.first_day for report in data.trials if report.counts.first_day]
    end_days = [report.counts.end_day for report in data.trials if report.counts.end_day]
    return [
        ("Figures up to", Styled(data.as_of, "date"), "AsOf"),
        ("Data from", Styled(min(first_days, default=None), "date"), "MeasuredFrom"),
        ("Data until (exclusive)", Styled(max(end_days, default=None), "date"), "MeasuredUntil"),
        ("Written (UTC)", Styled(data.generated_at, "timestamp"), "GeneratedAt"),
        ("Seen as", data.viewer_text, None),
        ("Trials", Styled(len(data.trials), "integer"), "TrialCount"),
        ("Measurement rows", Styled(data.measurement_rows, "integer"), "MeasurementRows"),
        ("Emission factor set", data.factor_set.name, "FactorSet"),
        ("What it covers", data.scope_text, "ReportScope"),
    ]


def _wrapped(text: str, span_width: float, style: str = "note") -> Line:
    """A line of text over the cover's whole width, wrapped, as tall as its text needs."""
    return Line([Styled(text, style)], span=_TRIAL_COLUMNS, height=text_height(text, span_width))


def cover(data: ReportData) -> Sheet:
    """The first sheet, printed alone on one landscape page."""
    headline, trials = _headline_table(data), _trials_table(data)
    span_width = _FIRST_WIDTH + _WIDTH * (_TRIAL_COLUMNS - 1)
    kinds = [label(kind) for kind in technologies(data.trials)]
    mixed = (
        f"All technologies together: {', '.join(kinds)}; each technology also in its own column."
        if len(kinds) > 1
        else f"Every trial here is {kinds[0]}."
    )
    blocks: list[Block] = [
        Line([Styled(report_title(data), "title")], height=2 * LINE_POINTS),
        _wrapped(f"Zero-emission equipment trials: figures up to {data.as_of:%d %B %Y}", span_width, "subtitle"),
        Line(),
        Line([Styled("Headline figures", "section")]),
        _wrapped(mixed, span_width, "subtitle"),
        headline,
        Line(),
        Line([Styled(f"The trials, each compared with its own baseline ({primary_words(data)})", "section")]),
        trials,
        Line(),
    ]
    beside = [Line([*[None] * 5, words, value], name=name) for words, value, name in _about(data)]
    about = Styled("About this report", "section")
    if trials.row_count > 1:  # one trial has nothing to compare: no chart of a single bar
        blocks.append(Line([Styled("How the trials compare", "section"), *[None] * 4, about]))
        first = first_data_row(blocks, trials)
        chart = compare_chart(
            sheet=TITLE,
            title=metric_header(CHART_KEY),
            unit=METRICS[CHART_KEY].unit,
            labels_column=1,
            values_column=1 + [column.header for column in trials.columns].index(metric_header(CHART_KEY)),
            first=first,
            last=first + trials.row_count - 1,
        )
        blocks.append(Chart(chart, rows_for(chart), beside))
    else:
        blocks += [Line([*[None] * 5, about]), *beside]
    blocks += [Line(), Line([Styled("Trust checks", "section")])]
    blocks += [_wrapped(text, span_width) for text in _check_lines(data)]
    blocks += [Line(), Line([Styled("Sources", "section")])]
    sources = (
        f"Emission factors: set {data.factor_set.name}, {data.factor_set.description}",
        f"Formulas: METHODOLOGY.md {METHODOLOGY_VERSION}; greenhouse gases follow the GLEC Framework and ISO 14083, "
        "with location-based grid electricity. The Methodology sheet says how every figure is made.",
        "An empty cell is n/a: its inputs are missing; a figure is never shown as 0 for want of data.",
    )
    blocks += [_wrapped(text, span_width) for text in sources]
    return Sheet(TITLE, blocks, freeze=None, one_page=True)


def primary_words(data: ReportData) -> str:
    """The units of work the trials are measured by, in words: 'per operating hour or move'."""
    units = dict.fromkeys(label(PRIMARY_ACTIVITY[report.trial.equipment_class]) for report in data.trials)
    return "per " + " or ".join(units)
