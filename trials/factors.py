"""Emission factor sets: stored as data with their sources, versioned, and read into plain values."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from trials.models import EmissionFactor, FactorSet

DATA = Path(__file__).parent / "data"
DEFAULT_SET = "ZE-2024"
DEFAULT_HYDROGEN_PATHWAY = "grey"


@dataclass(frozen=True)
class Factors:
    """One factor set's values in the units the formulas use, so metrics stay pure."""

    set_name: str
    diesel_ttw_kg_per_l: float
    diesel_wtw_kg_per_l: float
    hydrogen_kg_per_kg: Mapping[str, float]  # by pathway
    grid_kg_per_kwh: Mapping[tuple[str, int], float]  # by (grid region, year)
    nox_g_per_kwh: float
    pm25_g_per_kwh: float
    load_factors: Mapping[str, float] = field(default_factory=dict)  # by equipment class

    def grid(self, region: str, year: int) -> float | None:
        """Give a region's grid factor for a year: that year's, else the nearest earlier, else the nearest later."""
        years = sorted(y for r, y in self.grid_kg_per_kwh if r == region)
        if not years:
            return None
        earlier = [y for y in years if y <= year]
        chosen = earlier[-1] if earlier else years[0]
        return self.grid_kg_per_kwh[(region, chosen)]

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


def seed_default_set(session: Session) -> FactorSet:
    """Store the default set ZE-2024 once; an existing set is never rewritten."""
    existing = session.exec(select(FactorSet).where(FactorSet.name == DEFAULT_SET)).first()
    if existing is not None:
        return existing
    has_default = session.exec(select(FactorSet).where(FactorSet.is_default)).first() is not None
    factor_set = FactorSet(
        name=DEFAULT_SET,
        description="Default factors of METHODOLOGY.md §4 and §5 (2024 grid averages).",
        is_default=not has_default,
    )
    session.add(factor_set)
    session.flush()
    for factor in read_factor_csv(DATA / f"factors-{DEFAULT_SET}.csv"):
        factor.factor_set_id = factor_set.id or 0
        session.add(factor)
    session.flush()
    return factor_set


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
        )
    except KeyError as missing:
        raise ValueError(f"factor set {set_name!r} lacks the factor {missing.args[0]!r}") from None


def load_factors(session: Session, name: str | None = None) -> Factors:
    """Load a factor set by name, or the default set when no name is given."""
    query = select(FactorSet).where(FactorSet.name == name) if name else select(FactorSet).where(FactorSet.is_default)
    factor_set = session.exec(query).first()
    if factor_set is None:
        raise LookupError(f"no factor set {name!r}" if name else "no default factor set; run `zetrials init`")
    rows = list(session.exec(select(EmissionFactor).where(EmissionFactor.factor_set_id == factor_set.id)))
    return factors_from_rows(factor_set.name, rows)
