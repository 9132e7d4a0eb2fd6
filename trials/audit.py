"""The audit log: who did what, when, with the state before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from trials.models import AuditEvent


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    object: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    import_batch_id: int | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add one event to the caller's transaction, so it lands or vanishes with the change it describes; `at` is when
    it happened, for an event written after the fact (now by default)."""
    event = AuditEvent(
        actor=actor, action=action, object=object, before=before, after=after, import_batch_id=import_batch_id
    )
    if at is not None:
        event.at = at
    session.add(event)
    return event
