"""What a trial is compared against (METHODOLOGY.md §7.1): declared rates read and checked in one place."""

from __future__ import annotations

import math
import re
from enum import StrEnum
from functools import lru_cache

from trials import units
from trials.models import BaselineKind


class Activity(StrEnum):
    """What a class's work is counted in (METHODOLOGY.md §2); the stored column it is read from."""

    hour = "hour"
    move = "move"
    teu = "teu"
    km = "km"


#: The summed field each activity unit is counted in.
ACTIVITY_FIELDS: dict[Activity, str] = {
    Activity.hour: "operating_hours",
    Activity.move: "moves",
    Activity.teu: "teu",
    Activity.km: "distance_km",
}

_ACTIVITY_WORDS: dict[str, Activity] = {
    "move": Activity.move,
    "moves": Activity.move,
    "lift": Activity.move,
    "lifts": Activity.move,
    "teu": Activity.teu,
}

#: What a declared rate's amount is counted in, by baseline kind: litres of diesel, or kWh of electricity.
RATE_AMOUNT_UNIT: dict[BaselineKind, str] = {BaselineKind.diesel: "L", BaselineKind.electric: "kWh"}
_AMOUNT_WORDS: dict[BaselineKind, str] = {BaselineKind.diesel: "litres", BaselineKind.electric: "kWh"}
_EXAMPLES: dict[BaselineKind, str] = {BaselineKind.diesel: "'L/h' or 'gal/mi'", BaselineKind.electric: "'kWh/move'"}


class RateUnitError(ValueError):
    """A declared rate's unit that is not an amount per unit of work; the message says what to give instead."""


def _per_calendar_time(per: str) -> str | None:
    """Name the calendar span ('year', 'month', ...) a rate is per, if it is one: such a rate hides the hours."""
    try:
        hours = units.factor(per, "h")
    except units.UnknownUnitError:
        return None
    for name, span_hours in (("year", 8766.0), ("month", 730.5), ("week", 168.0), ("day", 24.0)):
        if hours >= span_hours * 0.99:
            return name
    return None


@lru_cache(maxsize=256)
def parse_rate_unit(unit: str, kind: BaselineKind = BaselineKind.diesel) -> tuple[float, Activity]:
    """Read a declared rate's unit ('L/h', 'gal/mi', 'kWh/move') as a factor to litres (or kWh) per activity unit."""
    if kind == BaselineKind.none:
        raise RateUnitError("a trial without a baseline (baseline kind 'none') takes no baseline rate")
    amount_word, example = _AMOUNT_WORDS[kind], _EXAMPLES[kind]
    match = re.fullmatch(r"\s*([^/]+?)\s*/\s*([^/]+?)\s*", unit)
    if match is None:
        raise RateUnitError(f"a baseline rate unit looks like {example}, not {unit!r}")
    amount, per = match.groups()
    try:
        to_amount = units.factor(amount, RATE_AMOUNT_UNIT[kind])
    except units.UnknownUnitError:
        raise RateUnitError(
            f"{'an' if kind == BaselineKind.electric else 'a'} {kind.value} baseline rate is in {amount_word} per unit "
            f"of work, like {example}; {amount!r} is not"
        ) from None
    word = per.lower()
    if word in _ACTIVITY_WORDS:
        return to_amount, _ACTIVITY_WORDS[word]
    span = _per_calendar_time(per)
    if span is not None:
        raise RateUnitError(
            f"a rate per {span} depends on the hours worked: give {amount_word} per hour (or per move, km), "
            f"e.g. {example}"
        )
    try:
        kind_of_per = units.kind_of(per)
    except units.UnknownUnitError:
        kind_of_per = None
    if kind_of_per == "time":
        return to_amount / units.factor(per, "h"), Activity.hour
    if kind_of_per == "distance":
        return to_amount / units.factor(per, "km"), Activity.km
    raise RateUnitError(f"a baseline rate is per hour, km, mile, nautical mile, move or TEU, not per {per!r}")


def declared_rate_problems(kind: BaselineKind, rate: float | None, unit: str | None) -> dict[str, str]:
    """Check a declared baseline as {field: message}: a rate > 0 per unit of work, or none for kind 'none'."""
    if rate is None:
        return {}
    if kind == BaselineKind.none:
        return {"baseline_rate": "a trial with baseline kind 'none' has no baseline rate: leave it blank"}
    if not math.isfinite(rate) or rate <= 0:
        return {
            "baseline_rate": f"a baseline rate is more than 0 {_AMOUNT_WORDS[kind]} per unit of work; for a trial "
            "with nothing to compare against, set the baseline kind to 'none'"
        }
    if not unit:
        return {"baseline_unit": f"a baseline rate needs its unit, e.g. {_EXAMPLES[kind]}"}
    try:
        parse_rate_unit(unit, kind)
    except RateUnitError as error:
        return {"baseline_unit": str(error)}
    return {}
