"""import jobs on a queue (state in the database, heartbeats, upload expiry) and import profiles (saved mappings)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamp(name: str, nullable: bool = True) -> sa.Column[object]:
    """A UTC timestamp column, as the models store them."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create the two tables."""
    op.create_table(
        "importjob",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("port_locode", sa.String(5), nullable=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("upload_path", sa.String(1000), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        _stamp("created_at", nullable=False),
        _stamp("started_at"),
        _stamp("heartbeat_at"),
        _stamp("finished_at"),
        _stamp("expires_at"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["batch_id"], ["importbatch.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_importjob_user_id", "importjob", ["user_id"])
    op.create_index("ix_importjob_status", "importjob", ["status"])
    op.create_table(
        "importprofile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("port_locode", sa.String(5), nullable=True),
        sa.Column("header_key", sa.String(64), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _stamp("created_at", nullable=False),
        _stamp("updated_at", nullable=False),
        sa.ForeignKeyConstraint(["port_locode"], ["port.locode"]),
        sa.ForeignKeyConstraint(["created_by"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("port_locode", "name", name="uq_import_profile_name"),
    )
    op.create_index("ix_importprofile_header_key", "importprofile", ["header_key"])


def downgrade() -> None:
    """Drop what upgrade created."""
    op.drop_table("importprofile")
    op.drop_table("importjob")
