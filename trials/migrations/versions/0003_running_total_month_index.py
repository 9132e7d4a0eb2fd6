"""an index on unit running totals by trial and month, for reading every unit of a class at one month

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Index running totals by trial and month."""
    op.create_index("ix_unitrunningtotal_trial_month", "unitrunningtotal", ["trial_id", "month"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_unitrunningtotal_trial_month", table_name="unitrunningtotal")
