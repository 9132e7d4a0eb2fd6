"""'Did you mean ...?': the known value closest to a mistyped trial code, port, class, technology or role."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from importers.values import ALLOWED, ENUM_SYNONYMS, choice_key
from trials.models import Port

#: Which list of known values a problem's message is about, read from the wording the checks use.
_KINDS = (
    (re.compile(r"^not a known ([a-z ]+);"), None),  # an enumerated column: role, equipment class, technology ...
    (re.compile(r"^unknown (baseline kind|hydrogen pathway|baseline engine) "), None),
    (re.compile(r"^unknown port;"), "port"),
    (re.compile(r"^unknown trial "), "trial"),
)
#: How close a spelling must be to be offered (difflib's ratio); below it a guess would mislead more than help.
CUTOFF = 0.75


def kind_of(message: str) -> str | None:
    """Name the list of known values a problem is about, or None for a problem no suggestion can help."""
    for pattern, kind in _KINDS:
        found = pattern.match(message)
        if found is not None:
            return kind or found.group(1).replace(" ", "_")
    return None


def _enum_spellings(kind: str) -> dict[str, str]:
    """Every allowed value and synonym of one enumeration, folded, with the value to write."""
    spellings = {choice_key(value): value for value in ALLOWED[kind]}
    for value, names in ENUM_SYNONYMS.get(kind, {}).items():
        spellings.update({choice_key(name): value for name in names})
    return spellings


@dataclass(frozen=True)
class Suggestions:
    """The known values an import may name: trial codes the importer may write to, partner ports, and choices."""

    trial_codes: tuple[str, ...]
    ports: Mapping[str, str]  # folded locode or name -> 'USLGB (Long Beach)'

    @classmethod
    def of(cls, trial_codes: Iterable[str], ports: Iterable[Port]) -> Suggestions:
        """Gather the known values; trial_codes must hold only trials the importer may see."""
        spellings: dict[str, str] = {}
        for port in ports:
            shown = f"{port.locode} ({port.name})"
            spellings[choice_key(port.locode)] = spellings[choice_key(port.name)] = shown
        return cls(tuple(sorted(trial_codes)), spellings)

    def spellings(self, kind: str) -> Mapping[str, str]:
        """The folded spellings of one kind of value, with the value to write for each."""
        if kind == "trial":
            return {choice_key(code): code for code in self.trial_codes}
        if kind == "port":
            return self.ports
        return _enum_spellings(kind) if kind in ALLOWED else {}

    def __call__(self, message: str, value: str) -> str | None:
        """The known value closest to the value a problem names, if one is close enough."""
        kind = kind_of(message)
        if kind is None:
            return None
        spellings = self.spellings(kind)
        close = difflib.get_close_matches(choice_key(value), list(spellings), n=1, cutoff=CUTOFF)
        return spellings[close[0]] if close else None
