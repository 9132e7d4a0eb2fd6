"""Emission factor sets: stored as data with their sources, versioned, and read into plain values."""

from __future__ import annotations

import csv
import io
import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, select

from trials import audit
from trials.models import EmissionFactor, FactorSet

DATA = Path(__file__).parent / "data"
DEFAULT_SET = "ZE-2025"
#: The sets shipped with ZE Trials, oldest first; each is stored once and never rewritten.
SHIPPED_SETS: tuple[tuple[str, str], ...] = (
    ("ZE-2024", "Default factors of METHODOLOGY.md §4 and §5 (2024 grid averages)."),
    ("ZE-2025", "METHODOLOGY.md v2: §4 factors, NOx and PM2.5 by engine (§7.7), electrolytic hydrogen (§7.6)."),
)
DEFAULT_HYDROGEN_PATHWAY = "grey"


@dataclass(frozen=True)
class Factors:
    """One factor set's values in the units the formulas use, so metrics stay pure."""

    set_name: str
    diesel_ttw_kg_per_l: float
    diesel_wtw_kg_per_l: float
    hydrogen_kg_per_kg: Mapping[str, float]  # by pathway
    grid_kg_per_kwh: Mapping[tuple[str, int], float]  # by (grid region, year)
    nox_g_per_kwh: float  # of any engine the set has no row for
    pm25_g_per_kwh: float
    load_factors: Mapping[str, float] = field(default_factory=dict)  # by equipment class
    engine_nox_g_per_kwh: Mapping[str, float] = field(default_factory=dict)  # by engine standard
    engine_pm25_g_per_kwh: Mapping[str, float] = field(default_factory=dict)
    electrolysis_kwh_per_kg: float | None = None  # electricity per kg of hydrogen from a grid-powered electrolyser

    @cached_property
    def _grid_years(self) -> dict[str, list[int]]:
        """Each region's years with a grid factor, in order: found once, as a dashboard asks thousands of times."""
        years: dict[str, list[int]] = defaultdict(list)
        for region, year in sorted(self.grid_kg_per_kwh):
            years[region].append(year)
        return dict(years)

    def grid_year(self, region: str, year: int) -> int | None:
        """Give the year whose grid factor stands for a year: that year, else the nearest earlier, else the nearest
        later (METHODOLOGY.md §7.3); None when the region has none."""
        years = self._grid_years.get(region)
        if not years:
            return None
        earlier = bisect_right(years, year)
        return years[earlier - 1] if earlier else years[0]

    def grid(self, region: str, year: int) -> float | None:
        """Give a region's grid factor for a year, from the year grid_year finds."""
        used = self.grid_year(region, year)
        return None if used is None else self.grid_kg_per_kwh[(region, used)]

    def nox(self, engine: str) -> float:
        """Give an engine standard's NOx factor, g/kWh; the set's single factor when it has none by engine."""
        return self.engine_nox_g_per_kwh.get(engine, self.nox_g_per_kwh)

    def pm25(self, engine: str) -> float:
        """Give an engine standard's PM2.5 factor, g/kWh; the set's single factor when it has none by engine."""
        return self.engine_pm25_g_per_kwh.get(engine, self.pm25_g_per_kwh)

    def hydrogen(self, pathway: str | None) -> float | None:
        """Give the hydrogen factor of a pathway, grey when the pathway is unknown."""
        return self.hydrogen_kg_per_kg.get(pathway or DEFAULT_HYDROGEN_PATHWAY)


def read_factor_csv(path: Path) -> list[EmissionFactor]:
    """Read a factor set's CSV (key, region, year, value, unit, scope, source) into unsaved rows."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            EmissionFactor(
                factor_set_id=0,
                key=row["key"],
                region=row["region"],
                year=int(row["year"]),
                value=float(row["value"]),
                unit=row["unit"],
                scope=row["scope"],
                source=row["source"],
            )
            for row in csv.DictReader(handle)
        ]


def seed_shipped_sets(session: Session) -> FactorSet:
    """Store each shipped set once (an existing set is never rewritten) and give the default set.

    In a new database ZE-2025 is the default. In one that had only ZE-2024 as default, the newly stored ZE-2025
    becomes the default, audited; a set an admin chose stays the default."""
    current = session.exec(select(FactorSet).where(FactorSet.is_default)).first()
    added: set[str] = set()
    for name, description in SHIPPED_SETS:
        if session.exec(select(FactorSet).where(FactorSet.name == name)).first() is not None:
            continue
        factor_set = FactorSet(name=name, description=description, is_default=current is None and name == DEFAULT_SET)
        session.add(factor_set)
        session.flush()
        for factor in read_factor_csv(DATA / f"factors-{name}.csv"):
            factor.factor_set_id = factor_set.id or 0
            session.add(factor)
        session.flush()
        added.add(name)
    if current is not None and current.name in dict(SHIPPED_SETS) and DEFAULT_SET in added:
        set_default_set(session, name=DEFAULT_SET, actor="zetrials init")
    return find_factor_set(session)


def _grams(value: float, unit: str) -> float:
    """Convert a grid factor to kg per kWh, whether stored in grams or kilograms."""
    return value / 1000 if unit.lower().startswith("g ") else value


def factors_from_rows(set_name: str, rows: list[EmissionFactor]) -> Factors:
    """Turn a set's stored rows into the values the formulas use; a missing core factor is an error."""
    single = {row.key: row.value for row in rows if not row.region}
    try:
        return Factors(
            set_name=set_name,
            diesel_ttw_kg_per_l=single["diesel_ttw"],
            diesel_wtw_kg_per_l=single["diesel_wtw"],
            hydrogen_kg_per_kg={row.region: row.value for row in rows if row.key == "hydrogen"},
            grid_kg_per_kwh={(row.region, row.year): _grams(row.value, row.unit) for row in rows if row.key == "grid"},
            nox_g_per_kwh=single["nox"],
            pm25_g_per_kwh=single["pm25"],
            load_factors={row.region: row.value for row in rows if row.key == "load_factor"},
            engine_nox_g_per_kwh={row.region: row.value for row in rows if row.key == "nox" and row.region},
            engine_pm25_g_per_kwh={row.region: row.value for row in rows if row.key == "pm25" and row.region},
            electrolysis_kwh_per_kg=single.get("electrolysis"),
        )
    except KeyError as missing:
        raise ValueError(f"factor set {set_name!r} lacks the factor {missing.args[0]!r}") from None


def find_factor_set(session: Session, name: str | None = None) -> FactorSet:
    """Find a factor set by name, or the default set when no name is given."""
    query = select(FactorSet).where(FactorSet.name == name) if name else select(FactorSet).where(FactorSet.is_default)
    factor_set = session.exec(query).first()
    if factor_set is None:
        raise LookupError(f"no factor set {name!r}" if name else "no default factor set; run `zetrials init`")
    return factor_set


def load_factors(session: Session, name: str | None = None) -> Factors:
    """Load a factor set by name, or the default set when no name is given."""
    factor_set = find_factor_set(session, name)
    rows = list(session.exec(select(EmissionFactor).where(EmissionFactor.factor_set_id == factor_set.id)))
    return factors_from_rows(factor_set.name, rows)


#: The columns of a factor set's CSV, as in data/factors-ZE-2024.csv.
FACTOR_COLUMNS = ("key", "region", "year", "value", "unit", "scope", "source")
#: The factor keys the formulas read; any other key would be stored and never used, so it is refused.
GLOBAL_KEYS = frozenset({"diesel_ttw", "diesel_wtt", "diesel_wtw", "electrolysis"})
REGIONAL_KEYS = frozenset({"hydrogen", "grid", "load_factor"})  # region is a hydrogen pathway, grid or class
EITHER_KEYS = frozenset({"nox", "pm25"})  # one factor for every engine (no region), or one per engine standard
FACTOR_SCOPES = ("TTW", "WTT", "WTW", "")
#: The longest text the table holds per column, so no database refuses a checked row.
_FACTOR_TEXT_LIMITS: dict[str, int] = {
    name: EmissionFactor.__table__.c[name].type.length  # type: ignore[attr-defined]
    for name in ("region", "unit", "source")
}


class FactorSetError(ValueError):
    """Raised with a message for the admin, when a new factor set cannot be stored."""


def _factor_row(row: dict[str | None, str | None]) -> EmissionFactor | str:
    """Check one CSV row of a factor set: give the unsaved factor, or what is wrong with it."""
    if None in row:
        return "more cells than the header has columns"
    if any(row[name] is None for name in FACTOR_COLUMNS):
        return "fewer cells than the header has columns"
    cells = {name: (row[name] or "").strip() for name in FACTOR_COLUMNS}
    key, region, unit, scope = cells["key"], cells["region"], cells["unit"], cells["scope"]
    known = GLOBAL_KEYS | REGIONAL_KEYS | EITHER_KEYS
    if key not in known:
        return f"key: unknown factor {key!r}; expected one of {', '.join(sorted(known))}"
    if key in REGIONAL_KEYS and not region:
        return f"region: a {key} factor needs its region (hydrogen pathway, grid region or equipment class)"
    if key in GLOBAL_KEYS and region:
        return f"region: a {key} factor holds everywhere; leave the region empty"
    for name, limit in _FACTOR_TEXT_LIMITS.items():
        if len(cells[name]) > limit:
            return f"{name}: too long, at most {limit} characters"
    if not cells["year"].isdigit() or not (int(cells["year"]) == 0 or 1990 <= int(cells["year"]) <= 2100):
        return f"year: expected a year such as 2024, or 0 for every year, not {cells['year']!r}"
    try:
        value = float(cells["value"])
    except ValueError:
        return f"value: expected a number, not {cells['value']!r}"
    if not math.isfinite(value) or value < 0:
        return f"value: expected a number of 0 or more, not {cells['value']!r}"
    if key == "load_factor" and not 0 < value <= 1:
        return "value: a load factor is between 0 and 1, e.g. 0.39"
    if key == "grid" and not (unit.startswith(("g ", "kg ")) and unit.endswith("/kWh")):
        return f"unit: a grid factor is in 'g CO2e/kWh' or 'kg CO2e/kWh', not {unit!r}"
    if scope not in FACTOR_SCOPES:
        return f"scope: expected TTW, WTT, WTW or empty, not {scope!r}"
    if not cells["source"]:
        return "source: every factor names where it comes from"
    return EmissionFactor(
        factor_set_id=0,
        key=key,
        region=region,
        year=int(cells["year"]),
        value=value,
        unit=unit,
        scope=scope,
        source=cells["source"],
    )


def read_factor_set(name: str, text: str) -> tuple[list[EmissionFactor], list[str]]:
    """Check an uploaded factor set's CSV row by row: its unsaved factors, or one message per problem."""
    reader = csv.DictReader(io.StringIO(text))
    header = [column.strip() for column in reader.fieldnames or []]
    if sorted(header) != sorted(FACTOR_COLUMNS):
        return [], [f"the header must name the columns {','.join(FACTOR_COLUMNS)}; found {','.join(header) or 'none'}"]
    reader.fieldnames = header
    factors: list[EmissionFactor] = []
    problems: list[str] = []
    seen: dict[tuple[str, str, int], int] = {}
    for number, row in enumerate(reader, start=2):
        checked = _factor_row(row)
        if isinstance(checked, str):
            problems.append(f"row {number}: {checked}")
            continue
        earlier = seen.setdefault((checked.key, checked.region, checked.year), number)
        if earlier != number:
            problems.append(f"row {number}: the same key, region and year as row {earlier}")
        factors.append(checked)
    if not problems:
        try:
            if factors_from_rows(name, factors).hydrogen(None) is None:
                problems.append(f"factor set {name!r} lacks the hydrogen factor used when no pathway is known")
        except ValueError as error:
            problems.append(str(error))
    return ([] if problems else factors), problems


def add_factor_set(
    session: Session, *, name: str, description: str | None, factors: list[EmissionFactor], actor: str
) -> FactorSet:
    """Store a new set beside the others; sets are never edited, so past results keep the factors they used."""
    if session.exec(select(FactorSet).where(FactorSet.name == name)).first() is not None:
        raise FactorSetError(f"a factor set {name!r} exists already; sets are never edited, so choose a new name")
    factor_set = FactorSet(name=name, description=description)
    session.add(factor_set)
    session.flush()
    for factor in factors:
        factor.factor_set_id = factor_set.id or 0
        session.add(factor)
    audit.record(
        session,
        actor=actor,
        action="factors.add",
        object=f"factorset:{name}",
        after={"name": name, "description": description, "factors": len(factors)},
    )
    session.flush()
    return factor_set


def set_default_set(session: Session, *, name: str, actor: str) -> FactorSet:
    """Make one set the default for new results; its rows and every other set's rows stay as they are."""
    chosen = session.exec(select(FactorSet).where(FactorSet.name == name)).first()
    if chosen is None:
        raise FactorSetError(f"no factor set {name!r}")
    previous = session.exec(select(FactorSet).where(FactorSet.is_default)).first()
    if previous is not None and previous.id == chosen.id:
        return chosen
    # One statement, so two admins choosing at once still leave exactly one default.
    session.execute(sa.update(FactorSet).values(is_default=col(FactorSet.id) == chosen.id))
    audit.record(
        session,
        actor=actor,
        action="factors.default",
        object=f"factorset:{name}",
        before={"default": previous.name if previous else None},
        after={"default": name},
    )
    session.flush()
    session.refresh(chosen)
    return chosen


def list_factor_sets(session: Session) -> list[tuple[FactorSet, list[EmissionFactor]]]:
    """List every set, oldest first, with all its factors and their sources."""
    sets = list(session.exec(select(FactorSet).order_by(col(FactorSet.id))))
    rows = session.exec(
        select(EmissionFactor).order_by(col(EmissionFactor.key), col(EmissionFactor.region), col(EmissionFactor.year))
    )
    by_set: dict[int, list[EmissionFactor]] = {factor_set.id or 0: [] for factor_set in sets}
    for row in rows:
        by_set[row.factor_set_id].append(row)
    return [(factor_set, by_set[factor_set.id or 0]) for factor_set in sets]
