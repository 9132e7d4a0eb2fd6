"""Bring a database from empty to ready: the schema, the partner ports, the factor sets and plausible ranges."""

from __future__ import annotations

import csv

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from trials.db import migrate, write_session
from trials.factors import DATA, seed_shipped_sets
from trials.models import EquipmentClass, PlausibleRange, Port, RollupStamp, Trial
from trials.rollups import refresh_rollups


def seed_ports(session: Session) -> int:
    """Add the partner ports of METHODOLOGY.md §4 that are missing; an existing port is left as its admins set it."""
    added = 0
    with (DATA / "ports.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if session.get(Port, row["locode"]) is None:
                session.add(
                    Port(
                        locode=row["locode"],
                        name=row["name"],
                        country=row["country"],
                        grid_region=row["grid_region"],
                        timezone=row["timezone"],
                        lat=float(row["lat"]),
                        lon=float(row["lon"]),
                    )
                )
                added += 1
    session.flush()
    return added


def seed_ranges(session: Session) -> int:
    """Add the plausible ranges of METHODOLOGY.md §8 that are missing; an existing range is left as admins set it."""
    existing = {(row.equipment_class, row.quantity) for row in session.exec(select(PlausibleRange))}
    added = 0
    with (DATA / "ranges.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key = (EquipmentClass(row["equipment_class"]), row["quantity"])
            if key not in existing:
                session.add(
                    PlausibleRange(
                        equipment_class=key[0],
                        quantity=key[1],
                        low=float(row["low"]),
                        high=float(row["high"]),
                        unit=row["unit"],
                        source=row["source"],
                    )
                )
                added += 1
    session.flush()
    return added


def rebuild_unstamped_rollups(session: Session) -> int:
    """Rebuild the rollups of trials that have none stamped (a migration that adds rollup columns drops the stamps)."""
    stamped = sa.select(col(RollupStamp.trial_id))
    ids = [trial_id for trial_id in session.exec(select(Trial.id).where(col(Trial.id).not_in(stamped))) if trial_id]
    refresh_rollups(session, ids)
    return len(ids)


def initialise(engine: Engine) -> None:
    """Migrate and seed; safe to run again on a database already set up."""
    migrate(engine)
    with write_session(engine) as session:
        seed_ports(session)
        seed_shipped_sets(session)
        seed_ranges(session)
        rebuild_unstamped_rollups(session)
