"""Turn one raw spreadsheet cell into a typed value, or into the plain-words reason it cannot be one.

Every parser returns the value, None for a blank (missing) cell, or an `Invalid` saying what was expected.
Bad cells are data, not exceptions (STYLE.md §10), and a row loop checks them with one `type(v) is Invalid`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Literal, Protocol, runtime_checkable

from importers.problems import Problem, shown_value
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
from trials.units import UnknownUnitError, factor, kind_of, parse_unit

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
MEASUREMENT_FIELDS: dict[str, FieldSpec] = {
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
TRIAL_FIELDS: dict[str, FieldSpec] = {
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

FORMULA_MESSAGE = "formula without a cached value; open the file in Excel, let it calculate, and save it"

# Cells that mean "no value" in a number, date or choice column.
_MISSING = frozenset({"", "-", "--", "–", "—", "n/a", "na", "n.a.", "n.a", "none", "null", "nil", "?", "."})
# Excel's error values as they appear when a sheet is saved as text.
_EXCEL_ERRORS = frozenset(
    {"#n/a", "#div/0!", "#value!", "#ref!", "#name?", "#num!", "#null!", "#spill!", "#calc!", "#getting_data"}
)
_NOT_FINITE = frozenset({"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "∞"})


@runtime_checkable
class FormulaCell(Protocol):
    """A formula cell the reader found without a cached value (importers.read.FormulaWithoutValue)."""

    formula: str


@dataclass(frozen=True, slots=True)
class Invalid:
    """Why a cell cannot be used, in words a sustainability analyst understands."""

    message: str
    field: str | None = None  # set when a value built from several columns (the period) names the one at fault

    def problem(self, *, file: str, sheet: str | None, row: int | None, column: str | None, value: object) -> Problem:
        """Place this reason in the file, so the analyst can find the cell."""
        return Problem(file, self.message, sheet=sheet, row=row, column=column, value=shown_value(value))


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A whole calendar month, the period of a monthly report row."""

    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> Month:
        """Name the month a day falls in, because a monthly column may hold any day of it."""
        return cls(day.year, day.month)

    @property
    def start(self) -> date:
        """Give the first day, the inclusive start of the month."""
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        """Give the first day of the next month, the exclusive end."""
        return date(self.year + self.month // 12, self.month % 12 + 1, 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


Value = str | float | int | date | time | Month
Parsed = Value | Invalid | None
Parser = Callable[[object], Parsed]

# --- odd cells -------------------------------------------------------------------------------------------------


def _unexpected(raw: object, expected: str) -> Invalid:
    """Explain a cell of the wrong type, naming what the column needs."""
    if isinstance(raw, FormulaCell):
        return Invalid(FORMULA_MESSAGE)
    if isinstance(raw, bool):
        return Invalid(f"expected {expected}, found TRUE/FALSE")
    if isinstance(raw, datetime | date):
        return Invalid(f"expected {expected}, found a date")
    if isinstance(raw, time):
        return Invalid(f"expected {expected}, found a time of day")
    return Invalid(f"expected {expected}")


def _text_marker(text: str, expected: str) -> Invalid | None:
    """Catch cells that look like values but are not: Excel errors, NaN and infinity written as text."""
    folded = text.casefold()
    if folded in _EXCEL_ERRORS:
        return Invalid(f"the cell shows the Excel error {text}; fix the formula, or leave the cell blank")
    if folded in _NOT_FINITE:
        return Invalid(f"expected {expected}; {text} is not a real value (leave the cell blank if it is unknown)")
    return None


# --- units -----------------------------------------------------------------------------------------------------

#: Case-folded unit spellings -> pint spellings. Headers are case-insensitive, so 'mWh' and 'MWH' mean the megawatt
#: hour (a milliwatt hour never occurs in port data); likewise 'mw' is the megawatt.
_UNIT_WORDS: dict[str, tuple[str, ...]] = {
    "kWh": ("kwh",),
    "MWh": ("mwh",),
    "GWh": ("gwh",),
    "Wh": ("wh",),
    "GJ": ("gj",),
    "MJ": ("mj",),
    "kJ": ("kj",),
    "L": ("l", "lt", "ltr", "ltrs", "litre", "litres", "liter", "liters"),
    "gal": ("gal", "gals", "gallon", "gallons", "usgal", "us gal", "gal us", "us gallons", "usg"),
    "imperial_gallon": ("imp gal", "uk gal", "imperial gallons"),
    "m**3": ("m3", "cbm", "cubic metres", "cubic meters"),
    "kg": ("kg", "kgs", "kilograms"),
    "g": ("g",),
    "t": ("t", "tonne", "tonnes", "metric tons", "metric tonnes"),
    "lb": ("lb", "lbs"),
    "km": ("km", "kms", "kilometres", "kilometers"),
    "mi": ("mi", "mile", "miles"),
    "nmi": ("nmi", "nm", "nautical miles"),
    "h": ("h", "hr", "hrs", "hour", "hours"),
    "min": ("min", "mins", "minute", "minutes"),
    "s": ("s", "sec", "secs", "seconds"),
    "d": ("d", "day", "days"),
    "kW": ("kw",),
    "MW": ("mw",),
    "hp": ("hp", "bhp"),
    "percent": ("%", "pct", "percent"),
}
#: Case-folded unit spellings -> pint spellings. Headers are case-insensitive, so 'mWh' and 'MWH' mean the megawatt
#: hour (a milliwatt hour never occurs in port data); likewise 'mw' is the megawatt.
UNIT_SPELLINGS: dict[str, str] = {word: unit for unit, words in _UNIT_WORDS.items() for word in words}

#: Spellings that mean different amounts to different readers: refuse them rather than guess.
AMBIGUOUS_UNITS: dict[str, str] = {
    "ton": "'ton' means 907 kg in the US and 1000 kg elsewhere; write 't' for tonnes or 'short ton'",
    "tons": "'tons' means 907 kg in the US and 1000 kg elsewhere; write 't' for tonnes or 'short ton'",
    "mt": "'MT' may mean tonnes or megatonnes; write 't' for tonnes",
}

# What a header needs, by canonical unit, for messages.
_NEEDS: dict[str, str] = {
    "kWh": "an energy unit such as kWh, MWh or GJ",
    "L": "a volume unit such as L, gal or m3",
    "kg": "a mass unit such as kg or t",
    "t": "a mass unit such as t or kg",
    "km": "a distance unit such as km, mi or nmi",
    "h": "a time unit such as h or min",
    "kW": "a power unit such as kW or hp",
    "g/kWh": "an emission intensity such as g/kWh or kg/MWh",
}

_SUBSTANCE_RE = re.compile(r"co2[\s-]?e(?:q)?|co2|ghg|nox", re.IGNORECASE)


@lru_cache(maxsize=512)
def read_unit(text: str) -> str | Invalid:
    """Turn a unit as people write it ('litres', 'kgCO2e/MWh', 'gal (US)') into a spelling trials.units accepts."""
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split()).strip(" .")
    if folded in AMBIGUOUS_UNITS:
        return Invalid(AMBIGUOUS_UNITS[folded])
    folded = " ".join(_SUBSTANCE_RE.sub(" ", folded).split())  # 'kg CO2e' is a mass in kg
    folded = re.sub(r"\s+per\s+|\s*/\s*", "/", folded)
    spelled = "/".join(UNIT_SPELLINGS.get(part.strip(), part.strip()) for part in folded.split("/"))
    for candidate in (spelled, text.strip()):
        try:
            parse_unit(candidate)
        except UnknownUnitError:
            continue
        return candidate
    return Invalid(f"unknown unit '{text.strip()}'")


def unit_factor(unit: str, target: str, *, written: str | None = None) -> float | Invalid:
    """Give the factor from a unit to the one a field is kept in, or say why the unit does not fit."""
    try:
        return factor(unit, target)
    except UnknownUnitError:
        needs = _NEEDS.get(target, f"a unit convertible to {target}")
        return Invalid(f"'{written or unit}' is {_kind_words(unit)}, but this column needs {needs}")


def _kind_words(unit: str) -> str:
    """Say what kind of quantity a unit measures ('a volume unit'), for messages."""
    if parse_unit(unit) == parse_unit("percent"):
        return "a percentage"
    kind = kind_of(unit)
    if kind is None:
        return "another kind of unit"
    return f"an {kind} unit" if kind[0] in "aeiou" else f"a {kind} unit"


# --- numbers ---------------------------------------------------------------------------------------------------

_SPACERS = " \u00a0\u202f\u2009'\u2019"
_NUMBER_RE = re.compile(r"([0-9.,' \u00a0\u202f\u2009\u2019]*[0-9])([eE][+-]?[0-9]+)?(.*)", re.DOTALL)
_SPACED_RE = re.compile(r"([0-9]{1,3}(?:[ \u00a0\u202f\u2009'\u2019][0-9]{3})+)(?:([.,])([0-9]*))?")
_SPACER_RE = re.compile(r"[ \u00a0\u202f\u2009'\u2019]")
_PLAIN_DOT_RE = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,15})?")
_PLAIN_COMMA_RE = re.compile(r"-?[0-9]{1,15}(?:,[0-9]{1,15})?")
_MAX_EXACT_INT = 2**53


def _grouped(text: str, sep: str) -> bool:
    """Tell whether text is digits in thousands groups ('1,234,567'), the only shape a separator can group."""
    return re.fullmatch(rf"[1-9][0-9]{{0,2}}(?:{re.escape(sep)}[0-9]{{3}})*", text) is not None


def _plain_digits(body: str, decimal_comma: bool) -> str | None:
    """Rewrite digits with '.' as the decimal point and no grouping; None if no reading of them is sound.

    Only a lone separator followed by exactly three digits ('1,234', '1.234') can be read two ways; the file's
    decimal style decides it. Every other shape has one reading whatever the file says ('12,5', '1.234,5').
    """
    if any(c in _SPACERS for c in body):
        spaced = _SPACED_RE.fullmatch(body)
        if spaced is None:
            return None
        return _SPACER_RE.sub("", spaced[1]) + ("." + spaced[3] if spaced[2] else "")
    commas, dots = body.count(","), body.count(".")
    if commas and dots:
        point = "," if body.rfind(",") > body.rfind(".") else "."
        group = "." if point == "," else ","
        whole, _, fraction = body.rpartition(point)
        if point in whole or not _grouped(whole, group):
            return None
        return whole.replace(group, "") + "." + fraction
    if not commas and not dots:
        return body
    sep = "," if commas else "."
    if commas + dots > 1:
        return body.replace(sep, "") if _grouped(body, sep) else None
    whole, _, fraction = body.partition(sep)
    file_point = "," if decimal_comma else "."
    if sep != file_point and len(fraction) == 3 and _grouped(body, sep):
        return whole + fraction
    return whole + "." + fraction


def _suffix_factor(suffix: str, unit: str | None) -> float | Invalid:
    """Read the unit written after a number in a cell and give its factor to the column's unit."""
    if suffix == "%":
        if unit is None:
            return 0.01
        return 1.0 if unit == "%" else Invalid(f"expected an amount in {unit}, not a percentage")
    cell_unit = read_unit(suffix)
    if isinstance(cell_unit, Invalid):
        return Invalid(f"expected a number; cannot read '{suffix}' after it")
    if unit is None:
        return Invalid(f"expected a plain number, without the unit '{suffix}'")
    try:
        parse_unit(unit)
    except UnknownUnitError:  # a unit kept as text, such as 'L/move': the cell must not carry its own
        return Invalid(f"expected a plain number in {unit}, without the unit '{suffix}'")
    return unit_factor(cell_unit, "percent" if unit == "%" else unit, written=suffix)


def _number_from_text(text: str, decimal_comma: bool, unit: str | None) -> float | Invalid | None:
    """Read a number written as text, with grouping, either decimal style, and perhaps a unit after it."""
    if decimal_comma:
        if _PLAIN_COMMA_RE.fullmatch(text):  # most csv cells: '12', '12,5'
            return float(text.replace(",", "."))
    elif _PLAIN_DOT_RE.fullmatch(text):
        return float(text)
    if text.casefold() in _MISSING:
        return None
    marker = _text_marker(text, "a number")
    if marker is not None:
        return marker
    negative = False
    if text.startswith("(") and text.endswith(")"):  # accountants' negative: (1,234)
        negative, text = True, text[1:-1].strip()
    if text[:1] in ("+", "-", "\u2212"):
        if text[0] != "+":
            negative = not negative
        text = text[1:].lstrip()
    match = _NUMBER_RE.fullmatch(text)
    digits = _plain_digits(match[1], decimal_comma) if match else None
    if match is None or digits is None:
        return Invalid("expected a number such as 1234.5")
    value = float(digits + (match[2] or ""))
    if not math.isfinite(value):
        return Invalid("this number is too large to be a measurement")
    suffix = match[3].strip()
    if suffix:
        scale = _suffix_factor(suffix, unit)
        if isinstance(scale, Invalid):
            return scale
        value *= scale
    return -value if negative else value


def parse_number(raw: object, *, decimal_comma: bool = False, unit: str | None = None) -> float | Invalid | None:
    """Read any number, in the column's unit: a text cell may carry its own unit ('1.5 MWh'), which is converted."""
    kind = type(raw)
    if kind is float:
        assert isinstance(raw, float)
        if math.isfinite(raw):
            return raw
        if math.isnan(raw):
            return Invalid("expected a number; NaN is not a value (leave the cell blank if it is unknown)")
        return Invalid("expected a number; an infinite value is not a measurement")
    if kind is int:
        assert isinstance(raw, int)
        return float(raw) if -_MAX_EXACT_INT <= raw <= _MAX_EXACT_INT else Invalid("this number is too large")
    if raw is None:
        return None
    if isinstance(raw, str):
        return _number_from_text(raw.strip(), decimal_comma, unit)
    return _unexpected(raw, "a number")


def parse_amount(
    raw: object, *, factor: float = 1.0, signed: bool = False, decimal_comma: bool = False, unit: str | None = None
) -> float | Invalid | None:
    """Read a measured amount and express it in the canonical unit; negative amounts of energy, fuel or time are
    impossible."""
    if type(raw) is float and 0.0 <= raw < math.inf:  # the common cell, checked in two steps
        return raw * factor
    value = parse_number(raw, decimal_comma=decimal_comma, unit=unit)
    if type(value) is float and value < 0.0 and not signed:
        return Invalid("expected zero or more; a negative amount is not possible here")
    return value * factor if type(value) is float else value


def parse_count(raw: object, *, decimal_comma: bool = False) -> int | Invalid | None:
    """Read a count (moves, TEU, sessions, units), which must be a whole number of zero or more."""
    if type(raw) is int and raw >= 0:
        return raw
    value = parse_number(raw, decimal_comma=decimal_comma)
    if value is None or isinstance(value, Invalid):
        return value
    if value < 0:
        return Invalid("expected a count of zero or more; a negative count is not possible")
    if not value.is_integer():
        return Invalid(f"expected a whole number; {value:g} is not a count")
    return int(value)


# --- dates -----------------------------------------------------------------------------------------------------

_EPOCH_1900 = date(1899, 12, 30)  # serial 61 is 1900-03-01 counted from here (Excel keeps Lotus's 1900-02-29)
_EPOCH_1904 = date(1904, 1, 1)
_MONTH_WORDS: tuple[tuple[str, ...], ...] = (
    ("january", "jan"),
    ("february", "feb"),
    ("march", "mar"),
    ("april", "apr"),
    ("may",),
    ("june", "jun"),
    ("july", "jul"),
    ("august", "aug"),
    ("september", "sep", "sept"),
    ("october", "oct"),
    ("november", "nov"),
    ("december", "dec"),
)
_MONTH_NAMES: dict[str, int] = {name: number for number, names in enumerate(_MONTH_WORDS, 1) for name in names}
_MONTH_TITLES: tuple[str, ...] = ("", *(names[0].capitalize() for names in _MONTH_WORDS))
_IGNORED_WORDS = frozenset(
    {"st", "nd", "rd", "th", "of", "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"}
    | {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
)
_ISO_RE = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"  # the date, then perhaps a time and a UTC offset, which are dropped
    r"(?:[T ][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?\s*(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
)
_TIME_SUFFIX_RE = re.compile(
    r"[T ]+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?\s*(?:[ap]\.?m\.?)?\s*$", re.IGNORECASE
)
_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?\s*([ap])?\.?m?\.?", re.IGNORECASE)
_SERIAL_TEXT_RE = re.compile(r"[0-9]{1,7}(?:\.[0-9]+)?")
_MIN_YEAR = 1900


def _make_date(year: int, month: int, day: int) -> date | Invalid:
    """Build a date, saying plainly when the calendar has no such day."""
    if year < _MIN_YEAR:
        return Invalid(f"the year {year} is before 1900; write the date as 2024-03-05")
    try:
        return date(year, month, day)
    except ValueError:
        if 1 <= month <= 12:
            return Invalid(f"there is no day {day} in {_MONTH_TITLES[month]} {year}")
        return Invalid(f"there is no month {month}; write the date as 2024-03-05")


def date_from_serial(serial: float, *, date1904: bool) -> date | Invalid:
    """Turn an Excel date serial into a date, in the workbook's 1900 or 1904 date system."""
    serial = float(serial)  # an int cell, too
    shown = f"{serial:.0f}" if serial.is_integer() else f"{serial}"
    if not math.isfinite(serial):
        return Invalid("expected a date; this is not a number of days")
    if serial.is_integer() and 1900 <= serial <= 2100:
        return Invalid(f"{shown} looks like a year; a date needs a day and a month too, e.g. 2024-03-05")
    days = math.floor(serial)
    epoch = _EPOCH_1904 if date1904 else _EPOCH_1900
    if days < (0 if date1904 else 1):
        return Invalid(f"date serial {shown} is before {'1904' if date1904 else '1900'}")
    if days > (date.max - epoch).days:
        return Invalid(f"date serial {shown} is beyond the year 9999")
    if not date1904 and days == 60:
        return Invalid("date serial 60 is 29 February 1900, a day that never existed (an Excel quirk)")
    if not date1904 and days < 60:
        days += 1  # before Excel's phantom 1900-02-29 the serials run one day behind
    return epoch + timedelta(days=days)


def _day_month(a: int, b: int, year: int, day_first: bool | None) -> date | Invalid:
    """Read 'a/b/year' as day/month or month/day, refusing to guess when both readings are real dates."""
    may_be_day_first, may_be_month_first = 1 <= b <= 12, 1 <= a <= 12
    if may_be_day_first and may_be_month_first and a != b:
        if day_first is None:
            return Invalid(
                f"ambiguous date: {a} {_MONTH_TITLES[b]} or {b} {_MONTH_TITLES[a]}? write it as "
                f"{year:04d}-{b:02d}-{a:02d}, or state the order (for example a header 'Date (dd/mm/yyyy)')"
            )
        return _make_date(year, b, a) if day_first else _make_date(year, a, b)
    if day_first is True and not may_be_day_first:
        return Invalid(f"{a}/{b}/{year} does not fit the day/month/year order stated for this file")
    if day_first is False and not may_be_month_first:
        return Invalid(f"{a}/{b}/{year} does not fit the month/day/year order stated for this file")
    return _make_date(year, b, a) if may_be_day_first else _make_date(year, a, b)


def _year(token: str) -> int:
    """Read a year, taking two digits as this century (every zero-emission pilot is)."""
    return int(token) + (2000 if len(token) == 2 else 0)


def _named_month_date(tokens: list[str], month: int, numbers: list[str]) -> date | Month | Invalid:
    """Read dates with a month name: '5 Mar 2024', 'March 5, 2024', '05-Mar-24', 'Mar 2024'."""
    if len(numbers) == 1 and len(numbers[0]) == 4:
        return Month(int(numbers[0]), month)
    if len(numbers) == 2:
        years = [n for n in numbers if len(n) == 4]
        if len(years) == 1:
            day = numbers[1] if len(numbers[0]) == 4 else numbers[0]
            return _make_date(int(years[0]), month, int(day))
        if not years and tokens[0] == numbers[0] and tokens[-1] == numbers[1] and len(numbers[1]) == 2:
            return _make_date(_year(numbers[1]), month, int(numbers[0]))  # Excel's d-mmm-yy
    return Invalid("expected a date such as 2024-03-05 or 5 Mar 2024")


def _numeric_date(numbers: list[str], day_first: bool | None) -> date | Month | Invalid:
    """Read dates written in digits: '2024/03/05', '15/03/2024', '03/2024', '20240305'."""
    lengths = [len(n) for n in numbers]
    if lengths == [8]:
        return _make_date(int(numbers[0][:4]), int(numbers[0][4:6]), int(numbers[0][6:]))
    if len(numbers) == 2 and sorted(lengths)[1] == 4 and min(lengths) <= 2:
        year, month = (numbers[0], numbers[1]) if lengths[0] == 4 else (numbers[1], numbers[0])
        return Month(int(year), int(month)) if 1 <= int(month) <= 12 else Invalid(f"there is no month {int(month)}")
    if len(numbers) == 3 and lengths[0] == 4 and max(lengths[1:]) <= 2:
        return _make_date(int(numbers[0]), int(numbers[1]), int(numbers[2]))
    if len(numbers) == 3 and lengths[2] in (2, 4) and max(lengths[:2]) <= 2:
        return _day_month(int(numbers[0]), int(numbers[1]), _year(numbers[2]), day_first)
    return Invalid("expected a date such as 2024-03-05")


def _date_from_text(text: str, date1904: bool, day_first: bool | None) -> date | Month | Invalid | None:
    """Read a date or month written as text, in any unambiguous form people use."""
    if text.casefold() in _MISSING:
        return None
    marker = _text_marker(text, "a date")
    if marker is not None:
        return marker
    iso = _ISO_RE.fullmatch(text)
    if iso:
        return _make_date(int(iso[1]), int(iso[2]), int(iso[3]))
    if _SERIAL_TEXT_RE.fullmatch(text):
        return date_from_serial(float(text), date1904=date1904)
    words = re.findall(r"[a-z]+|[0-9]+", _TIME_SUFFIX_RE.sub("", text).casefold())
    tokens = [t for t in words if t not in _IGNORED_WORDS]
    numbers = [t for t in tokens if t.isdigit()]
    names = [t for t in tokens if not t.isdigit()]
    if len(names) == 1 and names[0] in _MONTH_NAMES:
        return _named_month_date(tokens, _MONTH_NAMES[names[0]], numbers)
    if not names and numbers:
        return _numeric_date(numbers, day_first)
    return Invalid("expected a date such as 2024-03-05")


def _any_date(raw: object, date1904: bool, day_first: bool | None) -> date | Month | Invalid | None:
    """Read a date cell of any type: a real date, text, or an Excel serial number."""
    kind = type(raw)
    if kind is date:
        assert isinstance(raw, date)
        return raw
    if kind is datetime:
        assert isinstance(raw, datetime)
        return raw.date()
    if raw is None:
        return None
    if isinstance(raw, str):
        return _date_from_text(raw.strip(), date1904, day_first)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return date_from_serial(float(raw), date1904=date1904)
    return _unexpected(raw, "a date")


def parse_date(raw: object, *, date1904: bool = False, day_first: bool | None = None) -> date | Invalid | None:
    """Read a single day (a trial's start or end), from a date cell, text, or an Excel serial."""
    value = _any_date(raw, date1904, day_first)
    if isinstance(value, Month):
        return Invalid(f"expected a day, not a whole month; write the day, e.g. {value.start.isoformat()}")
    return value


def parse_period(
    raw: object, *, date1904: bool = False, day_first: bool | None = None, monthly: bool = False
) -> date | Month | Invalid | None:
    """Read a measurement's period cell: a day, or a month; in a monthly column any day stands for its month."""
    value = _any_date(raw, date1904, day_first)
    return Month.of(value) if monthly and type(value) is date else value


def parse_bound(raw: object, *, date1904: bool = False, day_first: bool | None = None) -> date | time | Invalid | None:
    """Read a Start or End cell: a date, or a shift's time of day when a Date column gives the day."""
    if type(raw) is time:
        assert isinstance(raw, time)
        return raw
    if isinstance(raw, str):
        clock = _TIME_RE.fullmatch(raw.strip())
        if clock:
            hour = int(clock[1])
            if clock[4]:  # 12-hour clock: 12 am is midnight, 12 pm is noon
                hour = hour % 12 + (12 if clock[4].lower() == "p" else 0)
            if hour > 23 or int(clock[2]) > 59:
                return Invalid("expected a time of day such as 06:30")
            return time(hour, int(clock[2]), int(clock[3] or 0))
    return parse_date(raw, date1904=date1904, day_first=day_first)


_LAST_MONTH = Month(date.max.year, date.max.month)
_PLACEHOLDER = "9999-12-31 is a placeholder, not a day of operation (no period can end after it); write the real date"


def resolve_period(
    period: date | Month | None, start: date | time | None, end: date | time | None
) -> tuple[date, date] | Invalid:
    """Give a row's period as [start, end) with an exclusive end.

    A day D is [D, D+1); a month is the whole month. Start and End are calendar dates as people write them,
    both inclusive, so the period is [Start, End + 1 day); times of day in them are ignored. When Start and End
    hold only times of day (a shift log), the Date column gives the day. Start/End win over a Date or Month.
    """
    start_day = start if isinstance(start, date) else None
    end_day = end if isinstance(end, date) else None
    if start_day is not None and end_day is not None:
        if end_day < start_day:
            return Invalid(f"the end date {end_day} is before the start date {start_day}", field="period_end")
        if end_day == date.max:
            return Invalid(_PLACEHOLDER, field="period_end")
        return start_day, end_day + timedelta(days=1)
    if start_day is not None and period is None:
        return Invalid("a start date without an end date; give the end date too", field="period_end")
    if end_day is not None and period is None:
        return Invalid("an end date without a start date; give the start date too", field="period_start")
    if period == _LAST_MONTH or period == date.max:
        return Invalid(_PLACEHOLDER, field="period")
    if isinstance(period, Month):
        return period.start, period.end
    if period is not None:
        return period, period + timedelta(days=1)
    if start is not None or end is not None:
        return Invalid("a time of day without a date; add a 'Date' column or write full dates", field="period")
    return Invalid("no period: each row needs a date, a month, or start and end dates", field="period")


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


def clean_text(raw: object, max_len: int = 2000) -> str | Invalid | None:
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


def choice_key(text: str) -> str:
    """Fold text for matching: case, spaces, punctuation and accents do not matter."""
    decomposed = unicodedata.normalize("NFKD", text).casefold()
    return "".join(c for c in decomposed if c.isalnum() and c.isascii())


@cache
def _choices(kind: str) -> dict[str, str]:
    """Index every allowed value and synonym of one enumeration by its folded spelling."""
    index = {choice_key(value): value for value in ALLOWED[kind]}
    for value, names in ENUM_SYNONYMS.get(kind, {}).items():
        index.update({choice_key(name): value for name in names})
    return index


def parse_enum(raw: object, kind: str) -> str | Invalid | None:
    """Read one of a fixed set of values (role, class, technology, status, visibility), allowing common synonyms."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        return _unexpected(raw, "one of " + ", ".join(ALLOWED[kind]))
    folded = raw.strip().casefold()
    if folded in _MISSING and folded not in ALLOWED[kind]:  # 'none' is a baseline kind, not a blank
        return None
    marker = _text_marker(raw.strip(), "one of " + ", ".join(ALLOWED[kind]))
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
            if type(raw) is int and 0 <= raw <= _MAX_EXACT_INT:
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
    return lambda raw: clean_text(raw, max_len)
