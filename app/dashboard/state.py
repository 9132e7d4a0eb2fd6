"""What a dashboard view shows, read from and written to its URL so a view can be shared by link."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlencode

from trials.metrics import METRIC_UNITS, PRIMARY_ACTIVITY
from trials.models import EquipmentClass, Technology, Trial
from trials.rollups import Period

#: Where the dashboard is mounted on the Flask server.
URL_BASE = "/dashboard/"
GhgScope = Literal["wtw", "ttw"]
Basis = Literal["location", "market"]
Grain = Literal["day", "week", "month"]
GRAINS: tuple[Grain, ...] = ("day", "week", "month")


@dataclass(frozen=True)
class MetricChoice:
    """A metric the compare page offers; `key` may hold {activity} and {ghg}, filled in per class and scope."""

    label: str
    key: str
    ghg_scopes: tuple[GhgScope, ...] = ("wtw", "ttw")  # the scopes the metric exists for


#: The compare page's metrics, by the name used in the URL.
METRICS: dict[str, MetricChoice] = {
    "energy_per_activity": MetricChoice("Energy per primary activity unit", "kwh_per_{activity}"),
    "efficiency_ratio": MetricChoice("Efficiency ratio against the diesel baseline", "efficiency_ratio"),
    "reduction_pct": MetricChoice("GHG reduction against the baseline", "ghg_wtw_reduction_pct", ("wtw",)),
    "ghg_avoided": MetricChoice("GHG avoided", "ghg_{ghg}_avoided_kg"),
    "ghg": MetricChoice("GHG emitted", "ghg_{ghg}_kg"),
    "diesel_displaced": MetricChoice("Diesel displaced", "diesel_displaced_l"),
    "availability": MetricChoice("Availability", "availability_pct"),
    "nox_avoided": MetricChoice("NOx avoided (estimated)", "nox_avoided_kg"),
    "coverage": MetricChoice("Data coverage", "data_coverage_pct"),
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
        choice = METRICS[self.metric]
        if self.ghg not in choice.ghg_scopes:
            return None
        key = choice.key.format(activity=PRIMARY_ACTIVITY[equipment_class].value, ghg=self.ghg)
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
    return None if month is None else f"{month // 100:04d}-{month % 100:02d}"


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
    return ViewState(
        ports=tuple(sorted({p.upper() for p in _listed(query.get("port", [])) if p.isalnum() and len(p) == 5})),
        equipment_class=classes[0] if classes else None,
        technologies=tuple(t for t in Technology if t.value in _listed(query.get("tech", []))),
        first_month=parse_month(one("from")),
        last_month=parse_month(one("to")),
        metric=metric if metric in METRICS else DEFAULT_METRIC,
        ghg="ttw" if ghg == "ttw" else "wtw",
        basis="market" if basis == "market" else "location",
        grain=next((g for g in GRAINS if g == grain), "month"),
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
