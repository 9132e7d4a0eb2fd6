"""Find a sheet's header row, match its headers to ZE Trials fields, and read the units the headers carry.

Headers match case-, space- and punctuation-insensitively against the synonym tables (synonyms.py, and the partner
languages' files read by languages.py), which are data:
add a spelling there, never a branch in code. A header may carry its unit in brackets ("Energy (MWh)",
"Fuel used [gal]") or as a word at either end ("kWh charged", "Diesel L", "Mileage mi"); each mapped column
carries the factor to its field's canonical unit. Columns nobody recognises are kept as notes, never refused.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import chain, islice
from typing import Literal

from importers.dates import is_month_order, stated_day_first
from importers.languages import header_spellings
from importers.problems import Problem, shown_value
from importers.synonyms import (
    ALL_FUEL_HEADERS,
    ALL_MONTH_HEADERS,
    FUEL_BY_UNIT_KIND,
    FUEL_HEADERS,
    MEASUREMENT_SYNONYMS,
    MONTH_HEADERS,
    TRIAL_SYNONYMS,
)
from importers.values import (
    MEASUREMENT_SPECS,
    TRIAL_SPECS,
    UNIT_SPELLINGS,
    FieldSpec,
    FormulaCell,
    Invalid,
    Parser,
    cell_parser,
    choice_key,
    read_unit,
    unit_factor,
)
from trials.units import kind_of

__all__ = ["FUEL_HEADERS", "MEASUREMENT_SYNONYMS", "MONTH_HEADERS", "TRIAL_SYNONYMS"]  # kept where callers look

SheetKind = Literal["measurements", "trials"]
Row = tuple[int, Sequence[object]]  # (1-based row number as the file numbers it, cells from column A)

#: The header row is looked for among this many rows at the top of a sheet.
HEADER_SEARCH_ROWS = 20

#: A measurements header row needs one of these (when) ...
PERIOD_FIELDS = frozenset({"period", "period_start", "period_end"})
#: ... and one of these (what was measured).
ACTIVITY_FIELDS = frozenset(
    {
        "operating_hours", "energy_kwh", "hydrogen_kg", "diesel_l", "distance_km", "moves", "teu", "cargo_tonnes",
        "scheduled_hours", "downtime_hours", "charging_sessions", "reported_ghg_kg", "reported_ghg_avoided_kg",
        "reported_nox_avoided_kg",
    }
)  # fmt: skip

_SPECS: dict[str, dict[str, FieldSpec]] = {"measurements": MEASUREMENT_SPECS, "trials": TRIAL_SPECS}
_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {"measurements": MEASUREMENT_SYNONYMS, "trials": TRIAL_SYNONYMS}
_EXPECTED = {
    "measurements": "'Unit', 'Date', 'Energy (kWh)'",
    "trials": "'Code', 'Name', 'Port', 'Equipment class', 'Technology'",
}

# --- results ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MappedColumn:
    """One column matched to a field, with what it takes to bring its values to the field's canonical unit."""

    index: int  # 0-based position in the row
    header: str  # as written in the file
    field: str
    unit: str | None  # the column's unit (a trials.units spelling); None for counts, dates and text
    factor: float  # multiply a value in `unit` by this to get the canonical unit
    unit_assumed: bool  # the header named no unit, so the canonical one is assumed (the UI should say so)
    monthly: bool = False  # a period column whose dates each stand for a whole month ("Month")
    day_first: bool | None = None  # date order stated in the header, e.g. "Date (dd/mm/yyyy)"


@dataclass(slots=True)
class SheetMapping:
    """How one sheet's columns map to fields, and what was wrong with its headers."""

    kind: SheetKind
    header_row: int  # 1-based, as the spreadsheet program shows it
    columns: list[MappedColumn]
    kept_as_notes: list[tuple[int, str]]  # (0-based index, header) of columns nobody recognised
    problems: list[Problem]
    headers: tuple[str, ...] = ()  # the header row's text, column by column

    def column(self, field: str) -> MappedColumn | None:
        """Find the column that holds a field, if the sheet has one."""
        return next((column for column in self.columns if column.field == field), None)

    def field_index(self, field: str) -> int | None:
        """Give the position of a field's column in each row, if the sheet has one."""
        column = self.column(field)
        return None if column is None else column.index

    def parsers(
        self, *, decimal_comma: bool = False, date1904: bool = False, day_first: bool | None = None
    ) -> list[tuple[MappedColumn, Parser]]:
        """Build one cell reader per column, once per sheet, for the row loop."""
        return [
            (
                column,
                column_parser(column, self.kind, decimal_comma=decimal_comma, date1904=date1904, day_first=day_first),
            )
            for column in self.columns
        ]


def column_parser(
    column: MappedColumn,
    kind: SheetKind,
    *,
    decimal_comma: bool = False,
    date1904: bool = False,
    day_first: bool | None = None,
) -> Parser:
    """Build the reader for one mapped column; a date order stated in its header beats the file's."""
    return cell_parser(
        _SPECS[kind][column.field],
        unit=column.unit,
        factor=column.factor,
        monthly=column.monthly,
        decimal_comma=decimal_comma,
        date1904=date1904,
        day_first=column.day_first if column.day_first is not None else day_first,
    )


def sheet_kind(sheet_name: str) -> SheetKind:
    """Tell what a sheet holds from its name: 'Trials' holds trials, any other sheet measurements."""
    return "trials" if choice_key(sheet_name) in {"trials", "trial"} else "measurements"


def field_label(field: str, kind: SheetKind = "measurements") -> str:
    """Name a field in plain words, by the first spelling in its synonym table."""
    return _SYNONYMS[kind][field][0]


# --- matching one header ---------------------------------------------------------------------------------------

BRACKET_RE = re.compile(r"[(\[【]([^)\]】]*)[)\]】]?")
# Chinese and Japanese write no spaces, so a run of their characters is a word of its own: '電力量kWh' is two.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD_RE = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")


@dataclass(frozen=True, slots=True)
class HeaderMatch:
    """What a header says: its field, and the unit or date order written into it."""

    field: str
    unit_text: str | None  # a unit word glued to the name ('kWh charged'), else None
    unit_required: bool  # the name matched only once that unit word was set aside, so the unit must fit
    brackets: tuple[str, ...]
    monthly: bool


@cache
def _index(kind: SheetKind) -> dict[str, str]:
    """Index every spelling of every field, English and partner-language, by its folded key; a key claimed by two
    fields is a bug in the tables."""
    index: dict[str, str] = {}
    entries = [(field, name) for field, names in _SYNONYMS[kind].items() for name in (field, *names)]
    entries += header_spellings(kind)
    if kind == "measurements":
        entries += [("period", name) for name in ALL_MONTH_HEADERS] + [("diesel_l", name) for name in ALL_FUEL_HEADERS]
    for field, name in entries:
        key = choice_key(name)
        if index.setdefault(key, field) != field:
            raise ValueError(f"header spelling {name!r} is claimed by {index[key]!r} and {field!r}")
    return index


_MONTH_KEYS = frozenset(choice_key(name) for name in ALL_MONTH_HEADERS)
_FUEL_KEYS = frozenset(choice_key(name) for name in ALL_FUEL_HEADERS)


def _glued_unit(words: list[str]) -> tuple[str | None, list[str]]:
    """Set aside a unit word at the end or start of a header ('Diesel L', 'kWh charged', 'Energy in kWh')."""
    if len(words) >= 2 and words[-1].casefold() in UNIT_SPELLINGS:
        rest = words[:-2] if words[-2].casefold() == "in" and len(words) > 2 else words[:-1]
        return words[-1], rest
    if len(words) >= 2 and words[0].casefold() in UNIT_SPELLINGS:
        return words[0], words[1:]
    return None, words


@lru_cache(maxsize=4096)
def match_header(header: str, kind: SheetKind) -> HeaderMatch | None:
    """Match one header to a field, or None if it names nothing we store."""
    text = unicodedata.normalize("NFKC", header)
    brackets = tuple(part.strip() for part in BRACKET_RE.findall(text) if part.strip())
    words = _WORD_RE.findall(BRACKET_RE.sub(" ", text))
    index = _index(kind)
    key = choice_key("".join(words))
    unit_word, rest = _glued_unit(words)
    if key in index:
        field, required = index[key], False
        if len(words) == 1 and words[0].casefold() in UNIT_SPELLINGS:
            unit_word = words[0]  # 'Hours', 'kWh', 'Litres': the name is the unit
        if key == choice_key(field) and _SPECS[kind][field].unit is not None:
            unit_word = _SPECS[kind][field].unit  # a field's own name ('energy_kwh') states its canonical unit
    elif unit_word is not None and choice_key("".join(rest)) in index:
        key = choice_key("".join(rest))
        field, required = index[key], True
    else:
        return None
    monthly = key in _MONTH_KEYS or (field == "period" and any(is_month_order(part) for part in brackets))
    if key in _FUEL_KEYS:
        field = FUEL_BY_UNIT_KIND.get(_unit_kind(unit_word, brackets), "diesel_l")
    return HeaderMatch(field, unit_word, required, brackets, monthly)


#: How a header is matched to a field: match_header, or a person's mapping over it (importers.profiles).
Matcher = Callable[[str, SheetKind], HeaderMatch | None]


def _unit_kind(unit_word: str | None, brackets: tuple[str, ...]) -> str | None:
    """Name the kind of quantity a header's unit measures, to tell diesel from hydrogen in a 'Fuel' column."""
    for text in (*brackets, unit_word):
        unit = read_unit(text) if text else None
        if isinstance(unit, str):
            return kind_of(unit)
    return None


# --- units of one column ---------------------------------------------------------------------------------------


def _bracket_unit(text: str) -> str | Invalid | None:
    """Read the unit in a header's brackets: the whole text, else a unit word within it, else None (a remark)."""
    unit = read_unit(text)
    if isinstance(unit, str) or "unknown unit" not in unit.message:
        return unit
    for word in re.split(r"[\s,;]+", text):
        if word.casefold() in UNIT_SPELLINGS:
            return read_unit(word)
    return None


def _quantity_unit(match: HeaderMatch, spec: FieldSpec) -> tuple[str, float, bool] | Invalid:
    """Settle a quantity column's unit and factor; with no unit in the header the canonical one is assumed."""
    assert spec.unit is not None
    for text in match.brackets:
        unit = _bracket_unit(text)
        if unit is None:
            continue
        if isinstance(unit, Invalid):
            return unit
        scale = unit_factor(unit, spec.unit, written=text)
        return scale if isinstance(scale, Invalid) else (unit, scale, False)
    if match.unit_text is not None:
        unit = read_unit(match.unit_text)
        if isinstance(unit, Invalid):
            return unit if match.unit_required else (spec.unit, 1.0, True)
        scale = unit_factor(unit, spec.unit, written=match.unit_text)
        if not isinstance(scale, Invalid):
            return unit, scale, False
        if match.unit_required:  # the name matched only with this word set aside, so it must be the unit
            return scale
    return spec.unit, 1.0, True


def _column(index: int, header: str, match: HeaderMatch, spec: FieldSpec) -> MappedColumn | Invalid:
    """Build a mapped column, settling its unit, or say why its unit cannot be used."""
    if spec.kind == "quantity":
        settled = _quantity_unit(match, spec)
        if isinstance(settled, Invalid):
            return settled
        unit, scale, assumed = settled
        return MappedColumn(index, header, match.field, unit, scale, assumed)
    if spec.kind == "count":
        for text in (*match.brackets, match.unit_text or ""):
            stated = [word for word in re.split(r"[\s,;/]+", text) if word.casefold() in UNIT_SPELLINGS]
            if stated:
                return Invalid(f"a count takes no unit, but the header says '{stated[0]}'")
        return MappedColumn(index, header, match.field, None, 1.0, False)
    if spec.kind == "number" and match.brackets:
        if match.brackets[0] == "%":
            return MappedColumn(index, header, match.field, "%", 0.01, False)
        if spec.unit_as_text:
            return MappedColumn(index, header, match.field, match.brackets[0], 1.0, False)
    day_first = stated_day_first(match.brackets) if spec.kind in ("date", "period", "bound") else None
    return MappedColumn(index, header, match.field, None, 1.0, False, match.monthly, day_first)


# --- the header row --------------------------------------------------------------------------------------------


def _header_text(cell: object) -> str:
    """Render a header cell as text; blanks and formulas without a value give ''."""
    if cell is None or isinstance(cell, FormulaCell):
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return cell.strip() if isinstance(cell, str) else str(cell)


def _row_fields(cells: Sequence[object], kind: SheetKind) -> set[str]:
    """Collect the fields a row's cells would name if it were the header row."""
    matches = (match_header(cell, kind) for cell in cells if isinstance(cell, str) and cell.strip())
    return {match.field for match in matches if match is not None}


def _qualifies(fields: set[str], kind: SheetKind) -> bool:
    """Tell whether a row names enough fields to be the header: a period and a measured quantity, or a trial code
    and something about the trial."""
    if kind == "trials":
        return "code" in fields and len(fields) >= 2
    return bool(fields & PERIOD_FIELDS) and bool(fields & ACTIVITY_FIELDS)


def _no_header(near: tuple[int, Sequence[object], set[str]] | None, kind: SheetKind, file: str, sheet: str) -> Problem:
    """Say that no row looks like a header, and what the closest row lacks."""
    message = f"no header row found in the first {HEADER_SEARCH_ROWS} rows; expected headers such as {_EXPECTED[kind]}"
    if near is not None:
        number, cells, fields = near
        found = ", ".join(repr(c.strip()) for c in cells if isinstance(c, str) and match_header(c, kind) is not None)
        if kind == "trials":
            lacks = "no trial code column ('Code')"
        elif not fields & PERIOD_FIELDS:
            lacks = "no date or period column ('Date', 'Month', or 'Start' and 'End')"
        else:
            lacks = "no measured quantity ('Operating hours', 'Energy (kWh)', 'Diesel (L)', 'Moves', ...)"
        message += f"; row {number} has {found} but {lacks}"
    return Problem(file, message, sheet=sheet)


def _cell_text(cells: Sequence[object], index: int) -> str:
    """Give one header cell's text, '' beyond the row's end."""
    return _header_text(cells[index]) if index < len(cells) else ""


def _completes(both: str, field: str, kind: SheetKind) -> bool:
    """Tell whether a group and the field cell below it name a field together: the field cell alone names none
    ('Hydrogen' over 'kg'), or it is the unit of the quantity the group names ('Energy' over 'kWh')."""
    if both == field:
        return False
    match = match_header(both, kind)
    if match is None:
        return False
    return match_header(field, kind) is None or (
        _SPECS[kind][match.field].kind == "quantity" and isinstance(read_unit(field), str)
    )


def two_row_header(group: Sequence[object], cells: Sequence[object], kind: SheetKind) -> list[str] | None:
    """Read a header written on two rows, a group row ('Energy', 'Hydrogen') over the field row ('kWh', 'kg').

    A group name heads its own column and, written once or merged (a merged range reads as the name then blanks),
    the columns to its right while the field row goes on naming them. Each column becomes 'group / field' when that
    names a field ('Energy / kWh' is energy in kWh), else the field row's own text when that names one, else
    'group / field' again, to be kept as a note; a column whose field cell is blank has its header in the group
    row (a cell merged down). None when no group and field make a header together: the field row stands alone.
    """
    joined: list[str] = []
    group_name = ""
    combined = False
    for index in range(max(len(group), len(cells))):
        own, field = _cell_text(group, index), _cell_text(cells, index)
        if own:
            group_name = own
        elif not field or not _cell_text(cells, index - 1) or index == 0:
            group_name = ""  # a group spans only columns named in the row below, side by side
        if not field:
            joined.append(own)
            continue
        both = f"{group_name} / {field}" if group_name else field
        if _completes(both, field, kind):
            joined.append(both)
            combined = True
        else:  # the field alone, when it names a field; an unknown column keeps its group, to be shown as a note
            own_match, both_match = match_header(field, kind), match_header(both, kind)
            same = own_match is not None and both_match is not None and own_match.field == both_match.field
            joined.append(field if own_match is not None and not same else both)
    return joined if combined else None


def find_header(
    rows: Iterable[tuple[int, Sequence[object]]], *, kind: SheetKind, file: str, sheet: str
) -> SheetMapping | Problem:
    """Find the header row among the first rows (skipping titles and notes above it) and map its columns.

    The header is the row naming the most known fields, the earliest on a tie, among rows that qualify:
    for measurements a period column and a measured quantity, for trials a code and one more field.
    A row read together with a group row just above it (`two_row_header`) counts when that names as many fields,
    and then wins over the group row read alone.
    `rows` are (1-based row number, cells); rows numbered beyond HEADER_SEARCH_ROWS are not looked at.
    """
    best: tuple[int, Sequence[object], set[str]] | None = None
    near: tuple[int, Sequence[object], set[str]] | None = None
    above: Row | None = None
    for number, cells in islice(rows, HEADER_SEARCH_ROWS):
        if number > HEADER_SEARCH_ROWS:
            break
        fields = _row_fields(cells, kind)
        joined = two_row_header(above[1], cells, kind) if above is not None and above[0] == number - 1 else None
        above = (number, cells)
        under_best = False
        if joined is not None and len(joined_fields := _row_fields(joined, kind)) >= len(fields):
            cells, fields = joined, joined_fields
            under_best = best is not None and best[0] == number - 1  # the row above was only the header's top half
        if _qualifies(fields, kind) and (
            best is None or len(fields) > len(best[2]) or (under_best and len(fields) == len(best[2]))
        ):
            best = (number, cells, fields)
        elif len(fields) >= 2 and (near is None or len(fields) > len(near[2])):
            near = (number, cells, fields)
    if best is None:
        return _no_header(near, kind, file, sheet)
    return map_columns(best[0], best[1], kind=kind, file=file, sheet=sheet)


def split_header(
    rows: Iterable[Row], *, kind: SheetKind, file: str, sheet: str
) -> tuple[SheetMapping | Problem, Iterator[Row]]:
    """Find the header in a stream of rows that can be read only once, and hand back the data rows below it.

    The rows looked at for the header are held, so no data row near the top is lost.
    """
    stream = iter(rows)
    head: list[Row] = []
    for row in stream:
        head.append(row)
        if row[0] >= HEADER_SEARCH_ROWS or len(head) == HEADER_SEARCH_ROWS:
            break
    result = find_header(head, kind=kind, file=file, sheet=sheet)
    after = result.header_row if isinstance(result, SheetMapping) else 0
    return result, chain((row for row in head if row[0] > after), stream)


def map_columns(
    number: int, cells: Sequence[object], *, kind: SheetKind, file: str, sheet: str, matcher: Matcher = match_header
) -> SheetMapping:
    """Map the cells of a known header row to fields (by `matcher`: a person's mapping may overrule the synonyms),
    keeping unknown columns and reporting unusable ones."""
    mapping = SheetMapping(kind, number, [], [], [], tuple(_header_text(cell) for cell in cells))
    candidates: list[MappedColumn] = []
    for index, header in enumerate(mapping.headers):
        match = matcher(header, kind) if header else None
        if match is None:
            if header:
                mapping.kept_as_notes.append((index, header))
            continue
        column = _column(index, header, match, _SPECS[kind][match.field])
        if isinstance(column, Invalid):
            message = f"{column.message}; this column is not imported"
            mapping.problems.append(Problem(file, message, sheet=sheet, row=number, column=header))
        else:
            candidates.append(column)
    _settle_duplicates(mapping, candidates, file, sheet)
    return mapping


def _settle_duplicates(mapping: SheetMapping, candidates: list[MappedColumn], file: str, sheet: str) -> None:
    """Keep one column per field; two columns for one field are both refused, since neither can be trusted.

    Notes are the exception: extra notes columns are harmless free text and are kept as notes.
    """
    by_field: dict[str, list[MappedColumn]] = {}
    for column in candidates:
        by_field.setdefault(column.field, []).append(column)
    for field, columns in by_field.items():
        if len(columns) == 1:
            mapping.columns.append(columns[0])
        elif field == "notes":
            mapping.columns.append(columns[0])
            mapping.kept_as_notes.extend((column.index, column.header) for column in columns[1:])
        else:
            mapping.problems.append(_duplicate_problem(columns, mapping, file, sheet))
    mapping.columns.sort(key=lambda column: column.index)
    mapping.kept_as_notes.sort()


def _duplicate_problem(columns: list[MappedColumn], mapping: SheetMapping, file: str, sheet: str) -> Problem:
    """Name every column that claims the same field, so the analyst can remove or rename all but one."""
    names = ", ".join(f"'{column.header}'" for column in columns[:-1]) + f" and '{columns[-1].header}'"
    label = field_label(columns[0].field, mapping.kind).lower()
    both, neither = ("both", "neither") if len(columns) == 2 else ("all", "none")
    message = (
        f"columns {names} {both} hold {label}; {neither} is imported, because a row's value cannot be trusted "
        "to one of them: remove or rename the extra columns"
    )
    shown = shown_value(", ".join(column.header for column in columns))
    return Problem(file, message, sheet=sheet, row=mapping.header_row, column=columns[-1].header, value=shown)
