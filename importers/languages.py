"""Partner ports' own words for headers, choices and units, read once from importers/data/languages/*.json.

English spellings stay in the Python tables of mapping.py and values.py: their first spelling names each field
and value in messages, and the template and tests speak English. Each partner language is data beside them,
one file per language, so a native speaker can correct a word without touching code. Nothing here knows the
fields: mapping.py and values.py merge these words into their indexes, which refuse a spelling claimed twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

Spellings = dict[str, tuple[str, ...]]  # a field, value or unit -> the ways it is written


@dataclass(frozen=True, slots=True)
class Language:
    """One partner language's words, as its data file gives them."""

    code: str  # the file's name: ja, zh, da, sv, id
    name: str
    headers: dict[str, Spellings]  # sheet kind ('measurements', 'trials') -> field -> header spellings
    month_headers: tuple[str, ...]  # period headers meaning a whole month ('年月', 'Måned')
    fuel_headers: tuple[str, ...]  # headers naming a fuel without saying which ('燃料', 'Bränsle')
    values: dict[str, Spellings]  # enumeration -> allowed value -> spellings
    units: Spellings  # unit (a trials.units spelling) -> spellings ('時間', 'timmar', 'jam')


def _spellings(table: dict[str, list[str]]) -> Spellings:
    """Turn a JSON table of lists into the tuples the indexes take."""
    return {key: tuple(words) for key, words in table.items()}


def _language(code: str, data: dict[str, Any]) -> Language:
    """Build one language from its parsed file."""
    return Language(
        code=code,
        name=data["language"],
        headers={kind: _spellings(table) for kind, table in data["headers"].items()},
        month_headers=tuple(data.get("month_headers", ())),
        fuel_headers=tuple(data.get("fuel_headers", ())),
        values={kind: _spellings(table) for kind, table in data.get("values", {}).items()},
        units=_spellings(data.get("units", {})),
    )


@cache
def languages() -> tuple[Language, ...]:
    """Read every language file once, in the order of their names."""
    folder = resources.files("importers").joinpath("data", "languages")
    files = sorted((entry for entry in folder.iterdir() if entry.name.endswith(".json")), key=lambda e: e.name)
    return tuple(_language(entry.name.removesuffix(".json"), json.loads(entry.read_text("utf-8"))) for entry in files)


def header_spellings(kind: str) -> list[tuple[str, str]]:
    """List (field, spelling) for every partner-language header of one sheet kind."""
    return [
        (field, word)
        for language in languages()
        for field, words in language.headers.get(kind, {}).items()
        for word in words
    ]


def value_spellings(kind: str) -> list[tuple[str, str]]:
    """List (allowed value, spelling) for every partner-language spelling of one enumeration."""
    return [
        (value, word)
        for language in languages()
        for value, words in language.values.get(kind, {}).items()
        for word in words
    ]


def unit_spellings() -> dict[str, str]:
    """Map every partner-language unit word, case-folded, to its unit."""
    return {
        word.casefold(): unit for language in languages() for unit, words in language.units.items() for word in words
    }
