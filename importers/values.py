"""Turn one raw spreadsheet cell into a typed value, or into the plain-words reason it cannot be one.

Every parser returns the value, None for a blank (missing) cell, or an `Invalid` saying what was expected.
Bad cells are data, not exceptions (STYLE.md §10), and a row loop checks them with one `type(v) is Invalid`.
Numbers and units are read in `numbers.py`, dates in `dates.py`; this module holds the fields, the choices and
text, and builds one parser per column.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from functools import cache, lru_cache
from typing import Literal

from importers.cells import FORMULA_MESSAGE, MISSING, FormulaCell, Invalid, text_marker, unexpected
from importers.dates import Month, date_from_serial, parse_bound, parse_date, parse_period, resolve_period
from importers.languages import value_spellings
from importers.numbers import (
    MAX_EXACT_INT,
    UNIT_SPELLINGS,
    parse_amount,
    parse_count,
    parse_number,
    read_unit,
    unit_factor,
)
from trials.models import (
    BaselineKind,
    EngineStandard,
    EquipmentClass,
    HydrogenPathway,
    Technology,
    TrialStatus,
    UnitRole,
    Visibility,
)

__all__ = [  # the cell readers callers know by this module, wherever they now live
    "FORMULA_MESSAGE",
    "UNIT_SPELLINGS",
    "FormulaCell",
    "Invalid",
    "Month",
    "date_from_serial",
    "parse_amount",
    "parse_bound",
    "parse_count",
    "parse_date",
    "parse_number",
    "parse_period",
    "read_unit",
    "resolve_period",
    "unit_factor",
]

# --- vocabularies --------------------------------------------------------------------------------------------

#: The allowed values of each enumerated field, read from the model enums so they live in one place.
ALLOWED: dict[str, tuple[str, ...]] = {
    name: tuple(member.value for member in kind)
    for name, kind in (
        ("equipment_class", EquipmentClass),
        ("technology", Technology),
        ("status", TrialStatus),
        ("visibility", Visibility),
        ("role", UnitRole),
        ("baseline_kind", BaselineKind),
        ("hydrogen_pathway", HydrogenPathway),
        ("baseline_engine", EngineStandard),
    )
}

#: Other ways people write the allowed values; matched case-, space- and punctuation-insensitively.
#: Deliberately absent: bare "electric" (battery or cabled?) and bare "hydrogen" (fuel cell or combustion?).
ENUM_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "equipment_class": {
        "drayage_truck": ("drayage", "dray truck", "truck", "drayage tractor", "class 8 truck", "heavy duty truck"),
        "yard_tractor": (
            "yard truck",
            "terminal tractor",
            "terminal truck",
            "utility tractor rig",
            "UTR",
            "yard hostler",
            "hostler",
            "spotter",
            "tractor",
        ),
        "rtg_crane": ("RTG", "RTG crane", "rubber tyred gantry", "rubber tired gantry", "rubber-tyred gantry crane"),
        "sts_crane": ("STS", "STS crane", "ship-to-shore crane", "ship to shore", "quay crane", "QC"),
        "straddle_carrier": ("straddle", "straddle carrier", "shuttle carrier", "SC"),
        "top_handler": ("top handler", "top loader", "toploader", "top pick", "top-pick", "laden container handler"),
        "reach_stacker": ("reach stacker", "reachstacker", "RS"),
        "forklift": ("fork lift", "forklift truck", "lift truck", "FLT"),
        "tug": ("tugboat", "tug boat", "harbour tug", "harbor tug", "tractor tug"),
        "harbor_craft": ("harbour craft", "harbor craft", "workboat", "work boat", "pilot boat", "crew boat", "launch"),
        "ferry": ("passenger ferry", "car ferry", "ropax", "ro-pax"),
    },
    "technology": {
        "battery_electric": ("BEV", "battery electric", "battery-electric vehicle", "battery", "e-battery"),
        "hydrogen_fuel_cell": (
            "FCEV",
            "FCET",
            "fuel cell",
            "fuel cell electric",
            "hydrogen fuel cell",
            "H2 fuel cell",
            "fuel-cell electric vehicle",
        ),
        "hydrogen_combustion": (
            "hydrogen ICE",
            "H2 ICE",
            "H2ICE",
            "hydrogen combustion engine",
            "hydrogen internal combustion",
            "hydrogen internal combustion engine",
        ),
        "hybrid_diesel_electric": (
            "hybrid",
            "diesel hybrid",
            "diesel-electric hybrid",
            "diesel electric hybrid",
            "hybrid diesel electric",
            "HEV",
        ),
        "grid_electric": ("grid electric", "cabled", "cable reel", "busbar", "grid connected", "tethered", "mains"),
        "diesel": ("diesel ICE", "conventional diesel", "ICE", "internal combustion"),
    },
    "status": {
        "planned": ("planning", "proposed", "not started", "upcoming", "pending", "plan"),
        "active": ("ongoing", "in progress", "running", "live", "operating", "in operation", "started"),
        "completed": ("complete", "finished", "done", "ended", "closed", "concluded"),
        "cancelled": ("canceled", "withdrawn", "abandoned", "terminated", "stopped", "cancel"),
    },
    "visibility": {
        "private": ("internal", "port only", "confidential", "not shared", "restricted"),
        "partners": ("partner", "shared", "shared with partners", "all partners", "public"),
    },
    "role": {
        "trial": ("pilot", "test", "trial unit", "ZE", "zero emission", "demonstration", "demo"),
        "baseline": ("diesel comparator", "comparator", "control", "reference", "conventional", "diesel", "base line"),
    },
    "baseline_kind": {
        "diesel": ("diesel machine", "diesel baseline", "conventional diesel"),
        "electric": ("electric baseline", "electric machine", "already electric", "shore power"),
        "none": ("no baseline", "no comparison", "not compared"),
    },
    "hydrogen_pathway": {
        "grey": ("gray", "grey hydrogen", "gray hydrogen", "SMR", "steam methane reforming", "steam reforming"),
        "electrolytic_grid": ("electrolytic", "electrolysis", "grid electrolysis", "electrolyser", "electrolyzer"),
        "declared": ("declared factor", "supplier factor", "certified"),
    },
    "baseline_engine": {
        "nonroad_tier3": ("tier 3", "nonroad tier 3", "non-road tier 3", "T3"),
        "nonroad_tier4f": ("tier 4 final", "tier 4f", "T4F", "nonroad tier 4 final", "non-road tier 4 final"),
        "marine_tier3": ("marine tier 3",),
        "marine_tier4": ("marine tier 4",),
        "onroad_2010": ("on-road 2010", "onroad 2010", "EPA 2010", "2010 on-road", "US 2010"),
    },
}

FieldKind = Literal["text", "code", "enum", "quantity", "count", "number", "date", "period", "bound"]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """What one target field holds, so every cell of its column is read the same way."""

    kind: FieldKind
    unit: str | None = None  # canonical unit of a quantity (a pint spelling)
    signed: bool = False  # may be negative: reported "avoided" figures (a trial can emit more than its baseline), and
    # declared rates and factors, whose sign the trial's rules judge with their own message (validate.trial_problems)
    max_len: int = 0  # text and codes
    enum: str | None = None  # key into ALLOWED
    unit_as_text: bool = False  # the header's unit is kept as written, not converted (baseline_rate: 'L/h', 'L/move')


_CODE = FieldSpec("code", max_len=100)
_NOTES = FieldSpec("text", max_len=2000)

#: Measurement fields (METHODOLOGY.md §1) and how their cells are read.
MEASUREMENT_SPECS: dict[str, FieldSpec] = {
    "trial_code": _CODE,
    "unit_id": _CODE,
    "role": FieldSpec("enum", enum="role"),
    "period": FieldSpec("period"),
    "period_start": FieldSpec("bound"),
    "period_end": FieldSpec("bound"),
    "operating_hours": FieldSpec("quantity", unit="h"),
    "energy_kwh": FieldSpec("quantity", unit="kWh"),
    "hydrogen_kg": FieldSpec("quantity", unit="kg"),
    "diesel_l": FieldSpec("quantity", unit="L"),
    "distance_km": FieldSpec("quantity", unit="km"),
    "moves": FieldSpec("count"),
    "teu": FieldSpec("count"),
    "cargo_tonnes": FieldSpec("quantity", unit="t"),
    "scheduled_hours": FieldSpec("quantity", unit="h"),
    "downtime_hours": FieldSpec("quantity", unit="h"),
    "charging_sessions": FieldSpec("count"),
    "notes": _NOTES,
    "reported_ghg_kg": FieldSpec("quantity", unit="kg"),
    "reported_ghg_avoided_kg": FieldSpec("quantity", unit="kg", signed=True),
    "reported_nox_avoided_kg": FieldSpec("quantity", unit="kg", signed=True),
}

#: Trial fields (ARCHITECTURE.md "Data model") and how their cells are read.
TRIAL_SPECS: dict[str, FieldSpec] = {
    "code": _CODE,
    "name": FieldSpec("text", max_len=200),
    "port": FieldSpec("text", max_len=100),
    "terminal": FieldSpec("text", max_len=100),
    "equipment_class": FieldSpec("enum", enum="equipment_class"),
    "technology": FieldSpec("enum", enum="technology"),
    "units_planned": FieldSpec("count"),
    "start_date": FieldSpec("date"),
    "end_date": FieldSpec("date"),
    "status": FieldSpec("enum", enum="status"),
    "vendor": FieldSpec("text", max_len=200),
    "model": FieldSpec("text", max_len=200),
    "funding": FieldSpec("text", max_len=500),
    "baseline_rate": FieldSpec("number", signed=True, unit_as_text=True),
    "baseline_unit": FieldSpec("text", max_len=30),
    "baseline_source": FieldSpec("text", max_len=500),
    "rated_power_kw": FieldSpec("quantity", unit="kW"),
    "load_factor": FieldSpec("number"),
    "market_factor_g_per_kwh": FieldSpec("quantity", unit="g/kWh"),
    "baseline_kind": FieldSpec("enum", enum="baseline_kind"),
    "hydrogen_pathway": FieldSpec("enum", enum="hydrogen_pathway"),
    "hydrogen_factor_kg_per_kg": FieldSpec("number", signed=True),
    "hydrogen_factor_source": FieldSpec("text", max_len=500),
    "baseline_engine": FieldSpec("enum", enum="baseline_engine"),
    "visibility": FieldSpec("enum", enum="visibility"),
    "notes": _NOTES,
}


Value = str | float | int | date | time | Month
Parsed = Value | Invalid | None
Parser = Callable[[object], Parsed]

# --- text and choices ------------------------------------------------------------------------------------------

# Control characters (but not tab and line breaks, which are whitespace), zero-width and text-direction marks.
_INVISIBLE_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def _as_text(raw: object) -> str | Invalid | None:
    """Render a cell as text; a whole float is an integer the reader widened (unit 1234, not '1234.0')."""
    if isinstance(raw, str):
        return raw
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else repr(raw)
    if isinstance(raw, int | date | time):
        return raw.isoformat() if isinstance(raw, date | time) else str(raw)
    if isinstance(raw, FormulaCell):
        return Invalid(FORMULA_MESSAGE)
    return str(raw)


@lru_cache(maxsize=4096)
def _tidy(text: str) -> str:
    """Remove invisible and control characters and collapse runs of whitespace, so equal texts compare equal;
    remembered, because a sheet repeats its trial codes and unit ids on every row."""
    return " ".join(_INVISIBLE_RE.sub("", unicodedata.normalize("NFC", text)).split())


def clean_free_text(raw: object, max_len: int = 2000) -> str | Invalid | None:
    """Read free text (names, notes); text beyond max_len is cut with an ellipsis rather than refused."""
    text = _as_text(raw)
    if not isinstance(text, str):
        return text
    tidy = _tidy(text)
    if len(tidy) > max_len:
        return tidy[: max_len - 1] + "…"
    return tidy or None


def clean_code(raw: object, max_len: int = 100) -> str | Invalid | None:
    """Read an identifier (trial code, unit id), which must fit whole, because a cut code names another thing."""
    if isinstance(raw, bool):
        return Invalid("expected a code or id, found TRUE/FALSE")
    text = _as_text(raw)
    if not isinstance(text, str):
        return text
    tidy = _tidy(text)
    if len(tidy) > max_len:
        return Invalid(f"too long for a code or id: {len(tidy)} characters, at most {max_len}")
    return tidy or None


_ACCENT_RE = re.compile(r"[\u0300-\u036f]")


@lru_cache(maxsize=8192)
def choice_key(text: str) -> str:
    """Fold text for matching: case, width, spaces, punctuation and Latin accents do not matter ('Bränsle' is
    'bransle'); other letters stay, so Japanese, Chinese and Danish 'æ' and 'ø' still tell words apart."""
    decomposed = _ACCENT_RE.sub("", unicodedata.normalize("NFKD", text).casefold())
    return "".join(c for c in unicodedata.normalize("NFC", decomposed) if c.isalnum())


@cache
def _choices(kind: str) -> dict[str, str]:
    """Index every allowed value and synonym of one enumeration, in English and the partner languages, by its folded
    spelling; a partner-language spelling that would change an English one's meaning is a bug in the data."""
    index = {choice_key(value): value for value in ALLOWED[kind]}
    for value, names in ENUM_SYNONYMS.get(kind, {}).items():
        index.update({choice_key(name): value for name in names})
    for value, name in value_spellings(kind):
        if index.setdefault(choice_key(name), value) != value:
            raise ValueError(f"{kind} spelling {name!r} is claimed by {index[choice_key(name)]!r} and {value!r}")
    return index


def parse_enum(raw: object, kind: str) -> str | Invalid | None:
    """Read one of a fixed set of values (role, class, technology, status, visibility), allowing common synonyms."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        return unexpected(raw, "one of " + ", ".join(ALLOWED[kind]))
    folded = raw.strip().casefold()
    if folded in MISSING and folded not in ALLOWED[kind]:  # 'none' is a baseline kind, not a blank
        return None
    marker = text_marker(raw.strip(), "one of " + ", ".join(ALLOWED[kind]))
    if marker is not None:
        return marker
    value = _choices(kind).get(choice_key(raw))
    if value is None:
        return Invalid(f"not a known {kind.replace('_', ' ')}; expected one of " + ", ".join(ALLOWED[kind]))
    return value


# --- one parser per column -------------------------------------------------------------------------------------

_CODES_REMEMBERED = 4096


def cell_parser(
    spec: FieldSpec,
    *,
    unit: str | None = None,
    factor: float = 1.0,
    monthly: bool = False,
    decimal_comma: bool = False,
    date1904: bool = False,
    day_first: bool | None = None,
) -> Parser:
    """Build the reader for one column once, so the row loop makes a single call per cell."""
    if spec.kind == "quantity":
        signed = spec.signed

        def quantity(raw: object) -> float | Invalid | None:
            """A measured amount; the common cells, numbers of zero or more, without a further call."""
            if type(raw) is float and 0.0 <= raw < math.inf:
                return raw * factor
            if type(raw) is int and 0 <= raw <= MAX_EXACT_INT:
                return raw * factor  # a float, as parse_amount gives: the int is exact as a float
            return parse_amount(raw, factor=factor, signed=signed, decimal_comma=decimal_comma, unit=unit)

        return quantity
    if spec.kind == "number":
        sign = spec.signed
        return lambda raw: parse_amount(raw, factor=factor, signed=sign, decimal_comma=decimal_comma, unit=unit)
    if spec.kind == "count":
        return lambda raw: parse_count(raw, decimal_comma=decimal_comma)
    if spec.kind == "date":
        return lambda raw: parse_date(raw, date1904=date1904, day_first=day_first)
    if spec.kind == "period":
        return lambda raw: parse_period(raw, date1904=date1904, day_first=day_first, monthly=monthly)
    if spec.kind == "bound":
        return lambda raw: parse_bound(raw, date1904=date1904, day_first=day_first)
    if spec.kind == "enum":
        assert spec.enum is not None
        enum = spec.enum
        return lambda raw: parse_enum(raw, enum)
    max_len = spec.max_len
    if spec.kind == "code":
        cleaned: dict[str, str | Invalid | None] = {}

        def code(raw: object) -> str | Invalid | None:
            """An identifier; a sheet repeats the same few on every row, so each text is cleaned once."""
            if type(raw) is not str:
                return clean_code(raw, max_len)
            found = cleaned.get(raw)
            if found is None:
                if len(cleaned) >= _CODES_REMEMBERED:
                    cleaned.clear()
                found = cleaned[raw] = clean_code(raw, max_len)
            return found

        return code
    return lambda raw: clean_free_text(raw, max_len)
