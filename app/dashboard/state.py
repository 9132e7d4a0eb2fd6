"""What a dashboard view shows, read from and written to its URL so a view can be shared by link."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal
from urllib.parse import parse_qs, urlencode

from trials.metrics import METRIC_UNITS, PRIMARY_ACTIVITY
from trials.models import EquipmentClass, Technology, Trial
from trials.periods import Grain, Period, month_text

#: Where the dashboard is mounted on the Flask server.
URL_BASE = "/dashboard/"
GhgScope = Literal["wtw", "ttw"]
Basis = Literal["location", "market"]
GRAINS: tuple[Grain, ...] = ("day", "week", "month")


#: The metrics Compare offers, by the name used in the URL: a metric key, with {activity} and {ghg} filled in per
#: class and GHG scope (a name with no key for a scope has no figure in it); labels come from trials/registry.py.
COMPARE_METRICS: dict[str, str] = {
    "energy_per_activity": "kwh_per_{activity}",
    "avoided_per_activity": "ghg_wtw_avoided_per_activity_kg",
    "avoided_per_unit_year": "ghg_wtw_avoided_per_unit_year_kg",
    "ghg_avoided": "ghg_{ghg}_avoided_kg",
    "reduction_pct": "ghg_wtw_reduction_pct",
    "efficiency_ratio": "efficiency_ratio",
    "ghg": "ghg_{ghg}_kg",
    "diesel_displaced": "diesel_displaced_l",
    "availability": "availability_pct",
    "nox_avoided": "nox_avoided_kg",
    "coverage": "data_coverage_pct",
}
DEFAULT_METRIC = "energy_per_activity"


@dataclass(frozen=True)
class ViewState:
    """The filters and choices of one view; the viewer's scope is never part of it."""

    ports: tuple[str, ...] = ()
    equipment_class: EquipmentClass | None = None
    technologies: tuple[Technology, ...] = ()
    first_month: int | None = None  # year * 100 + month
    last_month: int | None = None
    metric: str = DEFAULT_METRIC
    ghg: GhgScope = "wtw"
    basis: Basis = "location"
    grain: Grain = "month"  # of a trial page's time series
    factors: str | None = None  # a trial page's factor set, by name; the default set when None

    @property
    def period(self) -> Period:
        """The months the view covers."""
        return Period(self.first_month, self.last_month)

    def shows(self, trial: Trial) -> bool:
        """Tell whether a trial passes the port, class and technology filters."""
        return (
            (not self.ports or trial.port_locode in self.ports)
            and (self.equipment_class is None or trial.equipment_class == self.equipment_class)
            and (not self.technologies or trial.technology in self.technologies)
        )

    def metric_key(self, equipment_class: EquipmentClass) -> str | None:
        """The canonical metric key the chosen metric means for a class and GHG scope, or None if it has none."""
        return compare_key(self.metric, equipment_class, self.ghg)


def compare_key(name: str, equipment_class: EquipmentClass, ghg: GhgScope) -> str | None:
    """The metric key a Compare choice means for a class and GHG scope, or None if the scope has no such figure."""
    key = COMPARE_METRICS[name].format(activity=PRIMARY_ACTIVITY[equipment_class].value, ghg=ghg)
    if "_wtw_" in key and ghg == "ttw":
        return None  # a well-to-wheel figure only: shown under WTW, never as if it were TTW
    return key if key in METRIC_UNITS else None


#: The years a view's months may fall in: room for any pilot, and far from the calendar's ends (year 1 and 9999),
#: where a period's day arithmetic would leave the calendar.
MONTH_YEARS = range(1900, 3000)


def parse_month(text: str | None) -> int | None:
    """Read '2025-03' as 202503; anything else, and a year outside MONTH_YEARS, as no month."""
    if not text:
        return None
    year, _, month = text.partition("-")
    if not (year.isdigit() and month.isdigit() and len(year) == 4 and 1 <= int(month) <= 12):
        return None
    if int(year) not in MONTH_YEARS:
        return None
    return int(year) * 100 + int(month)


def format_month(month: int | None) -> str | None:
    """Write 202503 as '2025-03'."""
    return None if month is None else month_text(month)


#: What a factor set's name may be in a URL: a short name of letters, digits, spaces and . _ - (as 'ZE-2025').
FACTOR_SET_NAME = re.compile(r"[\w .-]{1,64}")


def _listed(values: list[str]) -> list[str]:
    """Split comma-separated values, dropping empty ones."""
    return [item for value in values for item in value.split(",") if item]


def parse(search: str | None) -> ViewState:
    """Read a view from a URL query string; unknown or malformed values are ignored, never trusted."""
    query = parse_qs((search or "").lstrip("?"))

    def one(name: str) -> str | None:
        values = query.get(name)
        return values[-1] if values else None

    classes = [c for c in EquipmentClass if c.value == one("class")]
    metric = one("metric") or DEFAULT_METRIC
    ghg = one("ghg")
    basis = one("basis")
    grain = one("grain")
    factors = one("factors")
    return ViewState(
        ports=tuple(sorted({p.upper() for p in _listed(query.get("port", [])) if p.isalnum() and len(p) == 5})),
        equipment_class=classes[0] if classes else None,
        technologies=tuple(t for t in Technology if t.value in _listed(query.get("tech", []))),
        first_month=parse_month(one("from")),
        last_month=parse_month(one("to")),
        metric=metric if metric in COMPARE_METRICS else DEFAULT_METRIC,
        ghg="ttw" if ghg == "ttw" else "wtw",
        basis="market" if basis == "market" else "location",
        grain=next((g for g in GRAINS if g == grain), "month"),
        factors=factors if factors and FACTOR_SET_NAME.fullmatch(factors) else None,
    )


def to_search(state: ViewState) -> str:
    """Write a view as a URL query string, leaving out what is at its default."""
    default = ViewState()
    pairs = {
        "port": ",".join(state.ports),
        "class": state.equipment_class.value if state.equipment_class else "",
        "tech": ",".join(t.value for t in state.technologies),
        "from": format_month(state.first_month) or "",
        "to": format_month(state.last_month) or "",
        "metric": state.metric if state.metric != default.metric else "",
        "ghg": state.ghg if state.ghg != default.ghg else "",
        "basis": state.basis if state.basis != default.basis else "",
        "grain": state.grain if state.grain != default.grain else "",
        "factors": state.factors or "",
    }
    text = urlencode({key: value for key, value in pairs.items() if value}, safe=",")
    return f"?{text}" if text else ""


def from_controls(
    ports: list[str] | None,
    equipment_class: str | None,
    technologies: list[str] | None,
    first: str | None,
    last: str | None,
    metric: str | None,
    ghg: str | None,
    basis: str | None,
    grain: str | None,
) -> ViewState:
    """Build a view from the filter controls' values, through the same checks as a URL."""
    parts = {
        "port": ",".join(ports or []),
        "class": equipment_class or "",
        "tech": ",".join(technologies or []),
        "from": first or "",
        "to": last or "",
        "metric": metric or "",
        "ghg": ghg or "",
        "basis": basis or "",
        "grain": grain or "",
    }
    return parse(urlencode(parts))


#: The period presets that do not depend on the data, by the value their control sends.
LAST_12_MONTHS, YEAR_TO_DATE = "last-12-months", "year-to-date"


def presets(years: Sequence[int]) -> list[tuple[str, str]]:
    """The periods offered in one click, as (value, words): the last 12 months, the year to date, then each year."""
    return [(LAST_12_MONTHS, "Last 12 months"), (YEAR_TO_DATE, "Year to date")] + [
        (str(year), str(year)) for year in sorted(years, reverse=True)
    ]


def preset_months(preset: str | None, today: date) -> tuple[int, int] | None:
    """The first and last month (year * 100 + month) of a preset on a day; None for anything else."""
    this_month = today.year * 100 + today.month
    if preset == LAST_12_MONTHS:
        back = today.year * 12 + today.month - 12  # months since year 0, less 11 to count this one in
        return back // 12 * 100 + back % 12 + 1, this_month
    if preset == YEAR_TO_DATE:
        return today.year * 100 + 1, this_month
    if preset and preset.isdigit() and len(preset) == 4 and int(preset) in MONTH_YEARS:
        return int(preset) * 100 + 1, int(preset) * 100 + 12
    return None


def preset_of(view: ViewState, today: date) -> str | None:
    """The preset a view's months are exactly, if any, so the control shows it; None otherwise."""
    months = (view.first_month, view.last_month)
    if None in months:
        return None
    if months == preset_months(LAST_12_MONTHS, today):
        return LAST_12_MONTHS
    if months == preset_months(YEAR_TO_DATE, today):
        return YEAR_TO_DATE
    year = str((view.first_month or 0) // 100)
    return year if months == preset_months(year, today) else None
