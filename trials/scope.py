"""Who may see and edit which trials; every query that returns trial data is given a Scope."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from trials.models import Role, Trial, User, Visibility


@dataclass(frozen=True)
class Scope:
    """What one viewer may see, built once per request from the signed-in user, never from request parameters."""

    role: Role
    port_locode: str | None = None  # None: every port
    user_id: int | None = None
    actor: str = "cli"  # who to name in the audit log

    @classmethod
    def for_user(cls, user: User) -> Scope:
        """Build the scope of a signed-in user."""
        return cls(role=user.role, port_locode=user.port_locode, user_id=user.id, actor=user.email)

    @classmethod
    def operator(cls) -> Scope:
        """Build the scope of the command line, run by whoever operates the server: everything."""
        return cls(role=Role.admin)

    def trial_filter(self) -> ColumnElement[bool]:
        """A WHERE clause on Trial keeping only what this viewer may see."""
        if self.port_locode is None:
            return sa.true()
        return sa.or_(Trial.port_locode == self.port_locode, Trial.visibility == Visibility.partners)  # type: ignore[arg-type]

    def can_see(self, trial: Trial) -> bool:
        """Tell whether this viewer may see one trial already loaded."""
        return self.port_locode in (None, trial.port_locode) or trial.visibility == Visibility.partners

    def visible_ids(self, trials: Iterable[Trial]) -> list[int]:
        """Give the ids of trials already loaded, refusing any this viewer may not see as if it did not exist."""
        ids: list[int] = []
        for trial in trials:
            if trial.id is None or not self.can_see(trial):
                raise LookupError(f"no trial {trial.code!r}")
            ids.append(trial.id)
        return ids

    def can_edit(self, trial: Trial) -> bool:
        """Admins edit everything; editors edit their own port's trials, or all trials if they have no port."""
        if self.role == Role.admin:
            return True
        return self.role == Role.editor and self.port_locode in (None, trial.port_locode)

    @property
    def can_import(self) -> bool:
        """Only admins and editors bring data in."""
        return self.role in (Role.admin, Role.editor)

    def code_refusal(self, code: str) -> str | None:
        """Why this viewer may not use a trial code, decided from the code alone and before any lookup, so a code
        another port's hidden trial holds answers exactly as a free one; None when the code is theirs to use.

        An editor with a port uses codes that start with its UN/LOCODE's location part and a separator (USLAX:
        LAX-YT-01, LAX.YT_02); admins and editors without a port use any."""
        if self.port_locode is None:
            return None
        place = self.port_locode[2:]
        if code.startswith(place) and code[len(place) : len(place) + 1] in {"-", ".", "_"}:
            return None
        starts = f"{place}-, {place}. or {place}_"
        return f"editors of {self.port_locode} create and import only trials whose code starts {starts}"
