"""The cover's headline figures: which trials count in a total (their trust checks decide), per technology."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reports.data import TrialReport
from trials.checks import Level, counts_in_totals
from trials.metrics import Number, total
from trials.models import Technology

#: The figures a board reads first, in this order.
HEADLINE_KEYS = ("operating_hours", "final_energy_kwh", "diesel_displaced_l", "ghg_wtw_avoided_kg", "nox_avoided_kg")
#: Figures made by comparing with a baseline: a trial without one is left out of their totals.
AVOIDED_KEYS = frozenset({"diesel_displaced_l", "ghg_wtw_avoided_kg", "nox_avoided_kg", "energy_saved_kwh"})


def counts(report: TrialReport, key: str) -> bool:
    """Whether a trial's figure goes into a total: it has one, and its trust checks let it count."""
    value = report.result.values[key]
    return value is not None and counts_in_totals(report.result.checks, avoided=key in AVOIDED_KEYS)


@dataclass(frozen=True)
class Headline:
    """One headline figure: its total per technology and over all of them, and how many trials it stands on."""

    key: str
    by_technology: dict[Technology, Number]
    together: Number
    counted: int
    trials: int


def technologies(reports: Sequence[TrialReport]) -> list[Technology]:
    """The technologies of the trials, in the registry's order."""
    present = {report.trial.technology for report in reports}
    return [technology for technology in Technology if technology in present]


def headlines(reports: Sequence[TrialReport]) -> list[Headline]:
    """Each headline figure added over the trials that count, per technology and all technologies together."""
    found = []
    for key in HEADLINE_KEYS:
        counting = [report for report in reports if counts(report, key)]
        by_technology = {
            technology: total(report.result.values[key] for report in counting if report.trial.technology == technology)
            for technology in technologies(reports)
        }
        together = total(report.result.values[key] for report in counting)
        found.append(Headline(key, by_technology, together, len(counting), len(reports)))
    return found


def left_out(reports: Sequence[TrialReport]) -> list[tuple[TrialReport, str]]:
    """The trials whose avoided emissions are not in the totals, with the reasons in plain words, as the Overview
    says them."""
    found = []
    for report in reports:
        if counts(report, "ghg_wtw_avoided_kg"):
            continue
        checks = report.result.checks
        reasons = [check.message for check in checks if check.level != Level.info or check.code == "no_baseline"]
        found.append((report, " ".join(reasons) or "No data up to the as-of day."))
    return found
