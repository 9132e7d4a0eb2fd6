"""Physical units for every quantity ZE Trials stores, on one pint registry."""

from __future__ import annotations

import re
from functools import lru_cache

import pint

# Spellings seen in operators' and vendors' headers that pint does not know by itself.
_ALIASES: dict[str, str] = {
    "us gal": "gal",
    "gal us": "gal",
    "usgal": "gal",
    "us gallon": "gal",
    "us gallons": "gal",
    "gallons": "gal",
    "m3": "m**3",
    "m³": "m**3",
    "cbm": "m**3",
    "hrs": "h",
    "hr": "h",
    "mins": "min",
    "tonnes": "t",
    "tonne": "t",
    "nm": "nmi",  # at sea "NM" is the nautical mile, never the nanometre
    "ltr": "L",
    "ltrs": "L",
    "lt": "L",
}

ureg: pint.UnitRegistry[float] = pint.UnitRegistry()

#: The unit each stored quantity is kept in (METHODOLOGY.md §1).
CANONICAL: dict[str, str] = {
    "energy": "kWh",
    "volume": "L",
    "mass": "kg",
    "distance": "km",
    "time": "h",
}

#: Energy content of diesel, lower heating value (METHODOLOGY.md §3), kWh per litre.
DIESEL_KWH_PER_L = 9.95
#: Energy content of hydrogen, lower heating value (120 MJ/kg, METHODOLOGY.md §3), kWh per kg.
HYDROGEN_KWH_PER_KG = 33.33
#: One nautical mile in kilometres (METHODOLOGY.md §2).
KM_PER_NMI = 1.852


class UnknownUnitError(ValueError):
    """Raised when a unit spelling cannot be understood."""


def _normalise(text: str) -> str:
    """Fold a header's unit spelling to one pint understands."""
    cleaned = re.sub(r"\s+", " ", text.strip().replace("(", " ").replace(")", " ")).strip()
    cleaned = cleaned.rstrip(".")
    return _ALIASES.get(cleaned.lower(), cleaned)


#: Units as people write them are short, with small powers ('m3', 'm**3', 'kg/m^3'). pint's parser evaluates the
#: expression it is given, with exact integers: '9**9**9' would run for hours, so longer text and other powers are
#: refused before pint sees them.
_MAX_UNIT_TEXT = 40
_POWER = re.compile(r"\*\*|\^")
_SMALL_POWER = re.compile(r"(?:\*\*|\^)\s*[-+]?[0-9](?:\.[0-9]+)?(?![0-9.*^])")


@lru_cache(maxsize=256)
def parse_unit(text: str) -> pint.Unit:
    """Return the pint unit for a spelling such as 'MWh', 'gal (US)', 'litres' or 'm3'."""
    normalised = _normalise(text)
    if len(normalised) > _MAX_UNIT_TEXT or len(_POWER.findall(normalised)) != len(_SMALL_POWER.findall(normalised)):
        raise UnknownUnitError(f"unknown unit {text!r}")
    try:
        return ureg.Unit(normalised)
    except Exception as exc:  # pint's parser fails on odd text with ZeroDivisionError, TypeError, AssertionError...
        raise UnknownUnitError(f"unknown unit {text!r}") from exc


@lru_cache(maxsize=256)
def factor(from_unit: str, to_unit: str) -> float:
    """Multiply a value in from_unit by this to express it in to_unit; DimensionalityError if unlike."""
    try:
        return float(ureg.Quantity(1.0, parse_unit(from_unit)).to(parse_unit(to_unit)).magnitude)
    except pint.errors.DimensionalityError as exc:
        raise UnknownUnitError(f"{from_unit!r} cannot be converted to {to_unit!r}") from exc


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Express value, given in from_unit, in to_unit."""
    return value * factor(from_unit, to_unit)


def kind_of(unit_text: str) -> str | None:
    """Name the kind of quantity ('energy', 'volume', ...) a unit measures, or None if none we store."""
    unit = parse_unit(unit_text)
    for kind, canonical in CANONICAL.items():
        if unit.dimensionality == parse_unit(canonical).dimensionality:
            return kind
    return None
