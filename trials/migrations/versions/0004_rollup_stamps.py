"""a stamp per trial, drawn anew whenever its rollups are rebuilt, for results remembered across requests

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the stamps' table; a trial without a stamp counts as stamped 0 until its next rebuild."""
    op.create_table(
        "rollupstamp",
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["trial_id"], ["trial.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("trial_id"),
    )


def downgrade() -> None:
    """Drop the stamps."""
    op.drop_table("rollupstamp")
