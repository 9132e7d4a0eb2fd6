"""Mappings a person corrects in an import's review (a column to a field, a value to its meaning), applied to a
file, and saved per port as import profiles that apply by themselves to the next file with the same headers."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from importers.mapping import (
    BRACKET_RE,
    HeaderMatch,
    Matcher,
    Row,
    SheetKind,
    SheetMapping,
    column_parser,
    field_label,
    map_columns,
    match_header,
)
from importers.values import ALLOWED, MEASUREMENT_SPECS, TRIAL_SPECS, Invalid, Parsed, Parser, choice_key
from trials import audit
from trials.models import ImportProfile, utcnow
from trials.scope import Scope

_SPECS = {"measurements": MEASUREMENT_SPECS, "trials": TRIAL_SPECS}
#: The longest profile name, header, field or value a mapping keeps (the table's name column, a cell's text).
NAME_LENGTH: int = ImportProfile.__table__.c["name"].type.length  # type: ignore[attr-defined]
TEXT_LENGTH = 200
#: How many distinct values of a column the review shows for mapping them.
VALUES_SHOWN = 30
#: The most columns and values one mapping holds: more than any real file needs, few enough to store with a job.
MAX_COLUMNS, MAX_VALUES = 200, 2000


class ProfileError(ValueError):
    """A profile that cannot be saved or found as asked; the message says why, in plain words."""


@dataclass(frozen=True)
class ImportMapping:
    """What a person said about a file: columns by header to fields, and values by field to what they mean."""

    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    profile: str | None = None  # the profile it came from, by name

    def __bool__(self) -> bool:
        """An empty mapping says 'read the file as written': false, though a person gave it."""
        return bool(self.columns or self.values)

    def as_json(self) -> dict[str, Any]:
        """The mapping as a job's options and the review's JSON keep it."""
        return {"columns": self.columns, "values": self.values, "profile": self.profile}

    @classmethod
    def from_json(cls, data: object) -> ImportMapping | None:
        """Read a mapping back, keeping only well-formed entries (header and value text, known fields)."""
        if not isinstance(data, Mapping):
            return None
        known = MEASUREMENT_SPECS.keys() | TRIAL_SPECS.keys()
        columns = {
            str(header)[:TEXT_LENGTH]: str(name)
            for header, name in islice(dict(data.get("columns") or {}).items(), MAX_COLUMNS)
            if isinstance(header, str) and header.strip() and name in known
        }
        values = {
            str(name): {
                str(raw)[:TEXT_LENGTH]: str(meaning)[:TEXT_LENGTH]
                for raw, meaning in islice(dict(table).items(), MAX_VALUES)
                if isinstance(raw, str) and raw.strip() and isinstance(meaning, str) and meaning.strip()
            }
            for name, table in dict(data.get("values") or {}).items()
            if name in known and isinstance(table, Mapping)
        }
        profile = data.get("profile")
        return cls(columns, {name: table for name, table in values.items() if table}, profile if profile else None)

    @classmethod
    def of(cls, profile: ImportProfile) -> ImportMapping:
        """The mapping a saved profile holds."""
        return cls(dict(profile.columns), {name: dict(table) for name, table in profile.values.items()}, profile.name)


def header_key(headers: Iterable[str]) -> str:
    """Fingerprint a header set as the importer reads it: case, width, spaces, punctuation and order do not matter."""
    folded = sorted({choice_key(header) for header in headers if header and choice_key(header)})
    return hashlib.sha256("\n".join(folded).encode("utf-8")).hexdigest()


def _matcher(columns: Mapping[str, str]) -> Matcher:
    """Match headers as the synonyms do, except those a person mapped: to their field, with the units they state."""

    def match(header: str, kind: SheetKind) -> HeaderMatch | None:
        chosen = columns.get(header)
        found = match_header(header, kind)
        if chosen is None or chosen not in _SPECS[kind]:
            return found
        if found is not None:
            return found if found.field == chosen else replace(found, field=chosen, monthly=False, unit_required=False)
        text = unicodedata.normalize("NFKC", header)
        return HeaderMatch(chosen, None, False, tuple(p.strip() for p in BRACKET_RE.findall(text) if p.strip()), False)

    return match


def remap(mapping: SheetMapping, columns: Mapping[str, str], *, file: str, sheet: str) -> SheetMapping:
    """Map a sheet's header row again with a person's column mapping over the synonyms."""
    if not any(header in columns for header in mapping.headers):
        return mapping
    return map_columns(
        mapping.header_row, mapping.headers, kind=mapping.kind, file=file, sheet=sheet, matcher=_matcher(columns)
    )


def with_values(parsers: list[tuple[Any, Parser]], values: Mapping[str, Mapping[str, str]]) -> list[tuple[Any, Parser]]:
    """Read each mapped value as the meaning a person gave it ('Pilot EV' as trial) before the column's own reader."""
    wrapped: list[tuple[Any, Parser]] = []
    for column, parse in parsers:
        table = {choice_key(raw): meaning for raw, meaning in values.get(column.field, {}).items()}
        wrapped.append((column, _translated(parse, table) if table else parse))
    return wrapped


def _translated(parse: Parser, table: Mapping[str, str]) -> Parser:
    """A cell reader that first swaps a mapped value for its meaning."""

    def read(raw: object) -> Parsed:
        if isinstance(raw, str):
            meaning = table.get(choice_key(raw))
            if meaning is not None:
                return parse(meaning)
        return parse(raw)

    return read


def _watched(mapping: SheetMapping) -> dict[int, tuple[str, Parser | None]]:
    """The columns whose values a person may need to map, by index: those nobody recognised (every value), and those
    holding a choice (the values their reader refuses, such as 'Pilot EV' for a role)."""
    watched: dict[int, tuple[str, Parser | None]] = {index: (header, None) for index, header in mapping.kept_as_notes}
    for column in mapping.columns:
        if _SPECS[mapping.kind][column.field].kind == "enum":
            watched[column.index] = (column.header, column_parser(column, mapping.kind))
    return watched


def sampled(rows: Iterable[Row], mapping: SheetMapping, found: dict[str, list[str]]) -> Iterator[Row]:
    """Pass a sheet's rows through, noting for the review the first distinct values a person may need to map."""
    watched = _watched(mapping)
    seen: dict[int, set[str]] = {index: set() for index in watched}
    for row in rows:
        cells = row[1]
        for index, values in seen.items():
            cell = cells[index] if index < len(cells) else None
            if len(values) >= VALUES_SHOWN or not isinstance(cell, str | int | float):
                continue
            text = str(cell).strip()
            if text and text not in values:
                values.add(text)
                header, reader = watched[index]
                if reader is None or isinstance(reader(cell), Invalid):
                    found.setdefault(header, []).append(text[:TEXT_LENGTH])
        yield row


def field_words(name: str) -> str:
    """A field in the importer's own words ('Role', 'Energy'), whichever kind of sheet holds it."""
    return field_label(name, "measurements" if name in MEASUREMENT_SPECS else "trials")


def choices(field_name: str, kind: SheetKind) -> tuple[str, ...]:
    """The meanings a value of this field may be mapped to: the field's allowed values, or any text."""
    enum = _SPECS[kind][field_name].enum
    return ALLOWED[enum] if enum else ()


# --- profiles in the database -----------------------------------------------------------------------------------


def visible_profiles(session: Session, scope: Scope) -> list[ImportProfile]:
    """The profiles this importer may see and apply: their port's and the port-less ones; all for a port-less user."""
    query = select(ImportProfile).order_by(sa.func.lower(ImportProfile.name), col(ImportProfile.id))
    if scope.port_locode is not None:
        query = query.where(
            sa.or_(col(ImportProfile.port_locode) == scope.port_locode, col(ImportProfile.port_locode).is_(None))
        )
    return list(session.exec(query)) if scope.can_import else []


def may_edit(scope: Scope, profile: ImportProfile) -> bool:
    """Editors change their own port's profiles; port-less ones are changed by port-less admins and editors."""
    return scope.can_import and scope.port_locode in (None, profile.port_locode)


def _preferred(scope: Scope, found: list[ImportProfile]) -> ImportProfile | None:
    """Of several profiles, the importer's own port's first, then the port-less, then the most recently changed."""
    ranked = sorted(found, key=lambda p: p.updated_at, reverse=True)
    ranked.sort(key=lambda p: 0 if p.port_locode == scope.port_locode else 1 if p.port_locode is None else 2)
    return ranked[0] if ranked else None


def profile_for_headers(session: Session, scope: Scope, headers: Iterable[str]) -> ImportProfile | None:
    """The saved profile for a sheet with these headers, if the importer may apply one."""
    key = header_key(headers)
    return _preferred(scope, [p for p in visible_profiles(session, scope) if p.header_key == key])


def profile_named(session: Session, scope: Scope, name: str) -> ImportProfile:
    """Find a profile by name among those the importer may apply, or say which exist."""
    visible = visible_profiles(session, scope)
    found = [profile for profile in visible if profile.name.casefold() == name.strip().casefold()]
    if not found:
        names = ", ".join(f"'{profile.name}'" for profile in visible) or "none yet"
        raise ProfileError(f"no import profile named '{name}'; profiles you may use: {names}")
    chosen = _preferred(scope, found)
    assert chosen is not None
    return chosen


def _snapshot(profile: ImportProfile) -> dict[str, Any]:
    """A profile's contents for the audit log."""
    return {
        "name": profile.name,
        "port": profile.port_locode,
        "headers": list(profile.headers),
        "columns": dict(profile.columns),
        "values": {name: dict(table) for name, table in profile.values.items()},
    }


def _checked_name(session: Session, name: str, port: str | None, own_id: int | None) -> str:
    """A profile's name, trimmed, refused when empty, too long or taken in the same port."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ProfileError("give the profile a name, e.g. 'Terminal X telematics'")
    if len(cleaned) > NAME_LENGTH:
        raise ProfileError(f"a profile name is at most {NAME_LENGTH} characters")
    same_port = ImportProfile.port_locode == port if port is not None else col(ImportProfile.port_locode).is_(None)
    taken = session.exec(select(ImportProfile).where(same_port)).all()
    if any(p.name.casefold() == cleaned.casefold() and p.id != own_id for p in taken):
        raise ProfileError(f"a profile named '{cleaned}' exists already; choose another name or edit that one")
    return cleaned


def save_profile(
    session: Session, scope: Scope, *, name: str, headers: Iterable[str], mapping: ImportMapping
) -> ImportProfile:
    """Save a confirmed mapping as a new profile of the importer's port, audited like other editors' changes."""
    if not mapping:
        raise ProfileError("the mapping is empty: map a column or a value first")
    header_list = [header for header in headers if header]
    profile = ImportProfile(
        name=_checked_name(session, name, scope.port_locode, None),
        port_locode=scope.port_locode,
        header_key=header_key(header_list),
        headers=header_list,
        columns=dict(mapping.columns),
        values={name: dict(table) for name, table in mapping.values.items()},
        created_by=scope.user_id,
    )
    session.add(profile)
    session.flush()
    audit.record(
        session, actor=scope.actor, action="import_profile.create", object=f"import_profile:{profile.id}",
        after=_snapshot(profile),
    )  # fmt: skip
    return profile


def _editable(session: Session, scope: Scope, profile_id: int) -> ImportProfile:
    """A profile this importer may change; one they may not is as missing as one that does not exist."""
    profile = session.get(ImportProfile, profile_id)
    if profile is None or not may_edit(scope, profile):
        raise LookupError(f"no import profile {profile_id}")
    return profile


def update_profile(
    session: Session, scope: Scope, profile_id: int, *, name: str, mapping: ImportMapping
) -> ImportProfile:
    """Rename a profile or change its mappings (its header set stays), audited with before and after."""
    profile = _editable(session, scope, profile_id)
    before = _snapshot(profile)
    profile.name = _checked_name(session, name, profile.port_locode, profile.id)
    profile.columns = dict(mapping.columns)
    profile.values = {field_name: dict(table) for field_name, table in mapping.values.items()}
    profile.updated_at = utcnow()
    session.add(profile)
    session.flush()
    audit.record(
        session, actor=scope.actor, action="import_profile.update", object=f"import_profile:{profile.id}",
        before=before, after=_snapshot(profile),
    )  # fmt: skip
    return profile


def delete_profile(session: Session, scope: Scope, profile_id: int) -> str:
    """Delete a profile, keeping its contents in the audit log; give its name."""
    profile = _editable(session, scope, profile_id)
    audit.record(
        session, actor=scope.actor, action="import_profile.delete", object=f"import_profile:{profile.id}",
        before=_snapshot(profile),
    )  # fmt: skip
    session.delete(profile)
    return profile.name
