"""rollups: daily and monthly sums of measurements that dashboards read instead of raw rows

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose: a migration must not call code that later revisions may change.
FIELDS = (
    "operating_hours",
    "energy_kwh",
    "hydrogen_kg",
    "diesel_l",
    "distance_km",
    "moves",
    "teu",
    "cargo_tonnes",
    "scheduled_hours",
    "downtime_hours",
    "charging_sessions",
    "reported_ghg_kg",
    "reported_ghg_avoided_kg",
    "reported_nox_avoided_kg",
)
SUM_COLUMNS = [name for field in FIELDS for name in (field, f"n_{field}")]


def _role():
    """The unit role column type, as the models store it."""
    return sa.Enum("trial", "baseline", name="unitrole", native_enum=False, length=32)


def _sum_columns() -> list[sa.Column]:
    """The measurement count, and a sum and count of every measured number."""
    columns = [sa.Column("measurements", sa.Integer(), nullable=False)]
    for field in FIELDS:
        columns.append(sa.Column(field, sa.Float(), nullable=True))
        columns.append(sa.Column(f"n_{field}", sa.Integer(), nullable=False))
    return columns


def upgrade() -> None:
    """Apply this revision, and fill the new tables from the measurements already stored."""
    op.create_table(
        "dailyrollup",
        *_sum_columns(),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("role", _role(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["trial_id"], ["trial.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("trial_id", "role", "day"),
    )
    op.create_table(
        "monthlyrollup",
        *_sum_columns(),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("role", _role(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("days_covered", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["trial_id"], ["trial.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("trial_id", "role", "month"),
    )
    op.create_table(
        "unitrunningtotal",
        *_sum_columns(),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("role", _role(), nullable=False),
        sa.ForeignKeyConstraint(["trial_id"], ["trial.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("trial_id", "unit_id", "month"),
    )
    _backfill(op.get_bind())


def _backfill(connection: sa.Connection) -> None:
    """Build the rollups of every measurement stored before this revision, as trials.rollups would."""
    meta = sa.MetaData()
    m = sa.Table("measurement", meta, autoload_with=connection)
    u = sa.Table("unit", meta, autoload_with=connection)
    daily = sa.Table("dailyrollup", meta, autoload_with=connection)
    monthly = sa.Table("monthlyrollup", meta, autoload_with=connection)
    running = sa.Table("unitrunningtotal", meta, autoload_with=connection)
    joined = m.join(u, u.c.id == m.c.unit_id)

    def month(column):
        return sa.cast(sa.extract("year", column) * 100 + sa.extract("month", column), sa.Integer)

    def sums(source, summed_counts):
        columns = []
        for field in FIELDS:
            columns.append(sa.func.sum(source.c[field]))
            count = source.c[f"n_{field}"] if summed_counts else source.c[field]
            columns.append(sa.func.sum(count) if summed_counts else sa.func.count(count))
        return columns

    by_day = sa.select(m.c.trial_id, u.c.role, m.c.period_start, sa.func.count(), *sums(m, False))
    by_day = by_day.select_from(joined).group_by(m.c.trial_id, u.c.role, m.c.period_start)
    connection.execute(
        sa.insert(daily).from_select(["trial_id", "role", "day", "measurements", *SUM_COLUMNS], by_day)
    )
    periods = sa.select(m.c.trial_id, u.c.role, m.c.period_start, m.c.period_end).distinct().select_from(joined)
    rows = connection.execute(periods).all()
    starts = {(r.trial_id, r.role, r.period_start) for r in rows}
    further = {
        (r.trial_id, r.role, r.period_start + timedelta(days=offset))
        for r in rows
        for offset in range(1, (r.period_end - r.period_start).days)
    } - starts
    empty = {name: 0 if name.startswith("n_") else None for name in SUM_COLUMNS}
    if further:
        connection.execute(
            sa.insert(daily),
            [{"trial_id": t, "role": r, "day": d, "measurements": 0, **empty} for t, r, d in sorted(further)],
        )
    day_month = month(daily.c.day)
    by_month = sa.select(
        daily.c.trial_id,
        daily.c.role,
        day_month,
        sa.func.sum(daily.c.measurements),
        *sums(daily, True),
        sa.func.count(),
        sa.func.min(daily.c.day),
        sa.func.max(daily.c.day),
    ).group_by(daily.c.trial_id, daily.c.role, day_month)
    connection.execute(
        sa.insert(monthly).from_select(
            ["trial_id", "role", "month", "measurements", *SUM_COLUMNS, "days_covered", "first_day", "last_day"],
            by_month,
        )
    )
    start_month = month(m.c.period_start)
    by_unit = sa.select(
        m.c.trial_id,
        m.c.unit_id,
        start_month.label("month"),
        u.c.role,
        sa.func.count().label("measurements"),
        *[column.label(name) for column, name in zip(sums(m, False), SUM_COLUMNS)],
    )
    by_unit = by_unit.select_from(joined).group_by(m.c.trial_id, m.c.unit_id, start_month, u.c.role).subquery()
    window = {"partition_by": [by_unit.c.unit_id], "order_by": by_unit.c.month}
    totals = sa.select(
        by_unit.c.trial_id,
        by_unit.c.unit_id,
        by_unit.c.month,
        by_unit.c.role,
        *[sa.func.sum(by_unit.c[name]).over(**window) for name in ("measurements", *SUM_COLUMNS)],
    )
    connection.execute(
        sa.insert(running).from_select(["trial_id", "unit_id", "month", "role", "measurements", *SUM_COLUMNS], totals)
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("unitrunningtotal")
    op.drop_table("monthlyrollup")
    op.drop_table("dailyrollup")
