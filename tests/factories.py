"""Small makers of rows with sensible defaults; tests override what they are about."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session
from werkzeug.security import generate_password_hash

from trials.models import (
    EquipmentClass,
    Measurement,
    Role,
    Technology,
    Trial,
    TrialStatus,
    Unit,
    UnitRole,
    User,
    Visibility,
)


def make_trial(session: Session, **overrides: Any) -> Trial:
    """Add a battery-electric yard tractor trial at Long Beach, unless told otherwise."""
    fields: dict[str, Any] = {
        "code": "LGB-YT-01",
        "name": "Battery-electric yard tractors",
        "port_locode": "USLGB",
        "equipment_class": EquipmentClass.yard_tractor,
        "technology": Technology.battery_electric,
        "start_date": date(2024, 1, 1),
        "end_date": date(2024, 12, 31),
        "status": TrialStatus.active,
        "visibility": Visibility.private,
    }
    trial = Trial(**(fields | overrides))
    session.add(trial)
    session.commit()
    return trial


def make_unit(session: Session, trial: Trial, unit_id: str = "YT-1", role: UnitRole = UnitRole.trial) -> Unit:
    """Add one unit to a trial."""
    assert trial.id is not None
    unit = Unit(trial_id=trial.id, unit_id=unit_id, role=role)
    session.add(unit)
    session.commit()
    return unit


def make_measurement(session: Session, unit: Unit, day: date, days: int = 1, **values: Any) -> Measurement:
    """Add one measurement of a unit over [day, day + days)."""
    assert unit.id is not None
    row = Measurement(
        trial_id=unit.trial_id, unit_id=unit.id, period_start=day, period_end=day + timedelta(days=days), **values
    )
    session.add(row)
    session.commit()
    return row


#: scrypt is slow on purpose: hash the test password once, not once per user.
PASSWORD_HASH = generate_password_hash("correct horse battery")


def make_user(session: Session, email: str = "ana@example.org", **overrides: Any) -> User:
    """Add an active user with the password 'correct horse battery'."""
    fields: dict[str, Any] = {"email": email, "password_hash": PASSWORD_HASH, "role": Role.executive}
    user = User(**(fields | overrides))
    session.add(user)
    session.commit()
    return user
