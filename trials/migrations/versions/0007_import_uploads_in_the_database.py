"""uploads' bytes in the database (importupload), so any host's worker runs any job without a shared disk

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the uploads' table and say on each job whether its upload is kept.

    Files waiting on disk are not carried over: their jobs read as expired (upload again), and a job still queued
    fails saying so when a worker takes it."""
    op.create_table(
        "importupload",
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["importjob.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id"),
    )
    with op.batch_alter_table("importjob") as batch:
        batch.add_column(sa.Column("upload_kept", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.drop_column("upload_path")


def downgrade() -> None:
    """Drop what upgrade added; kept uploads are lost with their table (their jobs read as expired)."""
    with op.batch_alter_table("importjob") as batch:
        batch.add_column(sa.Column("upload_path", sa.String(1000), nullable=True))
        batch.drop_column("upload_kept")
    op.drop_table("importupload")
