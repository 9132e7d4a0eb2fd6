"""Bring a database from empty to ready: the schema, the partner ports and the default factor set."""

from __future__ import annotations

import csv

from sqlalchemy.engine import Engine
from sqlmodel import Session

from trials.db import migrate, write_session
from trials.factors import DATA, seed_default_set
from trials.models import Port


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


def initialise(engine: Engine) -> None:
    """Migrate and seed; safe to run again on a database already set up."""
    migrate(engine)
    with write_session(engine) as session:
        seed_ports(session)
        seed_default_set(session)
