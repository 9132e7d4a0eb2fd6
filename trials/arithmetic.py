"""Arithmetic on figures that may be missing: null in, null out, and a sum of nothing is None, never 0."""

from __future__ import annotations

from collections.abc import Iterable

Number = float | None


def total(values: Iterable[Number]) -> Number:
    """Sum the values present; a sum with no values at all is None, never 0."""
    present = [value for value in values if value is not None]
    return sum(present) if present else None


def strict_total(values: Iterable[Number]) -> Number:
    """Sum values that must all be known: one unknown term makes the whole unknown, so nothing is silently dropped."""
    listed = list(values)
    return None if any(value is None for value in listed) else sum(value for value in listed if value is not None)


def ratio(numerator: Number, denominator: Number) -> Number:
    """Divide, or None when either side is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def difference(minuend: Number, subtrahend: Number) -> Number:
    """Subtract, or None when either side is missing."""
    return None if minuend is None or subtrahend is None else minuend - subtrahend


def times(*factors: Number) -> Number:
    """Multiply, or None when any factor is missing."""
    product = 1.0
    for value in factors:
        if value is None:
            return None
        product *= value
    return product


def percent(part: Number, whole: Number) -> Number:
    """Express part as a percentage of whole."""
    share = ratio(part, whole)
    return None if share is None else 100 * share
