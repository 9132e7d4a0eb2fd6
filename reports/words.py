"""What the report's sheets say about metrics, baselines and scope, in the registry's words, never a key."""

from __future__ import annotations

from reports.data import ReportData
from trials.metrics import MetricsResult
from trials.models import BaselineKind, EquipmentClass
from trials.registry import METRICS, counted, label

#: Number format (a style of reports.xlsx) for the decimals the registry shows a metric with.
_DECIMAL_STYLES = {0: "integer", 1: "amount", 2: "fine"}
#: What a baseline rate is measured in, by the kind of machine it stands for.
_RATE_UNITS = {BaselineKind.diesel: "L", BaselineKind.electric: "kWh"}


def capital(text: str) -> str:
    """Text with its first letter capital, for a heading or a cell of its own."""
    return text[:1].upper() + text[1:]


def in_sentence(text: str) -> str:
    """A label inside a sentence: 'Final energy' as 'final energy', while 'GHG' or 'TEU' keep their capitals."""
    return text if len(text) > 1 and text[1].isupper() else text[:1].lower() + text[1:]


def metric_header(key: str, equipment_class: EquipmentClass | None = None) -> str:
    """A metric's column header: its label and its unit ('per operating hour' when the class is known)."""
    metric = METRICS[key]
    unit = metric.unit_for(equipment_class)
    return f"{metric.label} ({unit})" if unit else metric.label


def metric_style(key: str) -> str:
    """The number format a metric is shown with, to the decimals the pages show."""
    return _DECIMAL_STYLES.get(METRICS[key].decimals, "fine")


def baseline_words(result: MetricsResult) -> str:
    """How the trial's baseline was found and its rate, in words: 'measured: 6.60 L per operating hour'."""
    baseline = result.baseline
    if baseline is None:
        return "none"
    thin = " (measured on little data)" if baseline.thin else ""
    unit = _RATE_UNITS.get(baseline.kind, "")
    return f"{baseline.method}: {baseline.rate:,.2f} {unit} per {label(baseline.activity)}{thin}"


def report_title(data: ReportData) -> str:
    """What the report covers and how many trials, said to its reader: 'Port of Nagoya — 4 trials shared with you'."""
    trials = len(data.trials)
    home = data.scope.port_locode
    own = sum(report.trial.port_locode == home for report in data.trials)
    if home is None or own == trials:
        how_many = counted(trials, "trial")
    elif own == 0:
        how_many = f"{counted(trials, 'trial')} shared with you"
    else:
        how_many = f"{counted(trials, 'trial')}: {own} of your port's, {trials - own} shared with you"
    return f"{data.scope_text} — {how_many}"
