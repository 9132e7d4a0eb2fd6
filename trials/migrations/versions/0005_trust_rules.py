"""trust rules (METHODOLOGY.md v2 §7-8): baseline kind, hydrogen pathway and engine on trials, paired sums and unit-days in
the rollups, plausible ranges

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose: a migration must not call code that later revisions may change.
ACTIVITIES = ("operating_hours", "moves", "teu", "distance_km")
CARRIERS = ("energy_kwh", "hydrogen_kg", "diesel_l")
PAIRED = ["unit_days", *(name for a in ACTIVITIES for name in (f"p_{a}", *(f"p_{a}_{c}" for c in CARRIERS)))]
ROLLUP_TABLES = ("dailyrollup", "monthlyrollup", "unitrunningtotal")


def upgrade() -> None:
    """Add the columns and the ranges' table; every trial's rollups are rebuilt by `zetrials init` (no stamp)."""
    with op.batch_alter_table("trial") as batch:
        batch.add_column(sa.Column("baseline_kind", sa.String(32), nullable=False, server_default="diesel"))
        batch.add_column(sa.Column("hydrogen_factor_kg_per_kg", sa.Float(), nullable=True))
        batch.add_column(sa.Column("hydrogen_factor_source", sa.String(200), nullable=True))
        batch.add_column(sa.Column("baseline_engine", sa.String(40), nullable=True))
    for table in ROLLUP_TABLES:
        with op.batch_alter_table(table) as batch:
            for name in PAIRED:
                batch.add_column(sa.Column(name, sa.Float(), nullable=True))
                batch.add_column(sa.Column(f"n_{name}", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "plausiblerange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("equipment_class", sa.String(32), nullable=False),
        sa.Column("quantity", sa.String(20), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("equipment_class", "quantity", name="uq_plausible_range"),
    )
    # The stored rollups lack the paired sums: dropping the stamps makes the next `zetrials init` rebuild them all.
    op.execute("DELETE FROM rollupstamp")


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("plausiblerange")
    for table in ROLLUP_TABLES:
        with op.batch_alter_table(table) as batch:
            for name in PAIRED:
                batch.drop_column(f"n_{name}")
                batch.drop_column(name)
    with op.batch_alter_table("trial") as batch:
        for name in ("baseline_engine", "hydrogen_factor_source", "hydrogen_factor_kg_per_kg", "baseline_kind"):
            batch.drop_column(name)
