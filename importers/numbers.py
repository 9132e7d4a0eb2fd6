"""Read numbers and units as people write them: '1.234,5', '12 500', '1.5 MWh', 'kgCO2e/MWh', 'US gallons'."""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache

from importers.cells import MISSING, Invalid, text_marker, unexpected
from importers.languages import unit_spellings
from trials.units import UnknownUnitError, factor, kind_of, parse_unit

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
#: Case-folded unit spellings -> pint spellings, with the partner languages' unit words ('時間', '千瓦时', 'timmar').
UNIT_SPELLINGS: dict[str, str] = {
    word: unit for unit, words in _UNIT_WORDS.items() for word in words
} | unit_spellings()

#: Spellings that mean different amounts to different readers: refuse them rather than guess.
AMBIGUOUS_UNITS: dict[str, str] = {
    "ton": "'ton' means 907 kg in the US and 1000 kg elsewhere; write 't' for tonnes or 'short ton'",
    "tons": "'tons' means 907 kg in the US and 1000 kg elsewhere; write 't' for tonnes or 'short ton'",
    "mt": "'MT' may mean tonnes or megatonnes; write 't' for tonnes",
    "mil": "'mil' is 10 km in Sweden and Norway and a thousandth of an inch elsewhere; write 'km'",
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
MAX_EXACT_INT = 2**53


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
    if not text.isascii():  # full-width digits and units as Japanese and Chinese input writes them: '１２．５ｋＷｈ'
        text = unicodedata.normalize("NFKC", text).strip()
        if text.isascii():
            return _number_from_text(text, decimal_comma, unit)
    if text.casefold() in MISSING:
        return None
    marker = text_marker(text, "a number")
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
        return float(raw) if -MAX_EXACT_INT <= raw <= MAX_EXACT_INT else Invalid("this number is too large")
    if raw is None:
        return None
    if isinstance(raw, str):
        return _number_from_text(raw.strip(), decimal_comma, unit)
    return unexpected(raw, "a number")


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
