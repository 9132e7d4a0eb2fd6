"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "factorset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "port",
        sa.Column("locode", sa.String(length=5), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("grid_region", sa.String(length=40), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("locode"),
    )
    op.create_table(
        "emissionfactor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("factor_set_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["factor_set_id"], ["factorset.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("factor_set_id", "key", "region", "year", name="uq_factor"),
    )
    with op.batch_alter_table("emissionfactor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emissionfactor_factor_set_id"), ["factor_set_id"], unique=False)

    op.create_table(
        "trial",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("port_locode", sa.String(length=5), nullable=False),
        sa.Column("terminal", sa.String(length=120), nullable=True),
        sa.Column(
            "equipment_class",
            sa.Enum(
                "drayage_truck",
                "yard_tractor",
                "rtg_crane",
                "sts_crane",
                "straddle_carrier",
                "top_handler",
                "reach_stacker",
                "forklift",
                "tug",
                "harbor_craft",
                "ferry",
                name="equipmentclass",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "technology",
            sa.Enum(
                "battery_electric",
                "hydrogen_fuel_cell",
                "hydrogen_combustion",
                "hybrid_diesel_electric",
                "grid_electric",
                "diesel",
                name="technology",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("units_planned", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("planned", "active", "completed", "cancelled", name="trialstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("vendor", sa.String(length=120), nullable=True),
        sa.Column("model", sa.String(length=120), nullable=True),
        sa.Column("funding", sa.String(length=200), nullable=True),
        sa.Column("baseline_rate", sa.Float(), nullable=True),
        sa.Column("baseline_unit", sa.String(length=20), nullable=True),
        sa.Column("baseline_source", sa.String(length=200), nullable=True),
        sa.Column("rated_power_kw", sa.Float(), nullable=True),
        sa.Column("load_factor", sa.Float(), nullable=True),
        sa.Column("market_factor_g_per_kwh", sa.Float(), nullable=True),
        sa.Column("market_factor_source", sa.String(length=200), nullable=True),
        sa.Column("hydrogen_pathway", sa.String(length=40), nullable=True),
        sa.Column(
            "visibility",
            sa.Enum("private", "partners", name="visibility", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("notes", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["port_locode"],
            ["port.locode"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("trial", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trial_code"), ["code"], unique=True)
        batch_op.create_index(batch_op.f("ix_trial_port_locode"), ["port_locode"], unique=False)

    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum("admin", "editor", "executive", "partner", name="role", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("port_locode", sa.String(length=5), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["port_locode"],
            ["port.locode"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_email"), ["email"], unique=True)

    op.create_table(
        "apitoken",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_apitoken_user_id"), ["user_id"], unique=False)

    op.create_table(
        "importbatch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status", sa.Enum("imported", "undone", name="batchstatus", native_enum=False, length=32), nullable=False
        ),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(length=100), nullable=False),
        sa.Column("role", sa.Enum("trial", "baseline", name="unitrole", native_enum=False, length=32), nullable=False),
        sa.ForeignKeyConstraint(["trial_id"], ["trial.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("trial_id", "unit_id", name="uq_unit_trial_unit_id"),
    )
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_trial_id"), ["trial_id"], unique=False)

    op.create_table(
        "auditevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("object", sa.String(length=200), nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["importbatch.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auditevent_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_auditevent_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_auditevent_import_batch_id"), ["import_batch_id"], unique=False)

    op.create_table(
        "measurement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("operating_hours", sa.Float(), nullable=True),
        sa.Column("energy_kwh", sa.Float(), nullable=True),
        sa.Column("hydrogen_kg", sa.Float(), nullable=True),
        sa.Column("diesel_l", sa.Float(), nullable=True),
        sa.Column("distance_km", sa.Float(), nullable=True),
        sa.Column("moves", sa.Float(), nullable=True),
        sa.Column("teu", sa.Float(), nullable=True),
        sa.Column("cargo_tonnes", sa.Float(), nullable=True),
        sa.Column("scheduled_hours", sa.Float(), nullable=True),
        sa.Column("downtime_hours", sa.Float(), nullable=True),
        sa.Column("charging_sessions", sa.Integer(), nullable=True),
        sa.Column("reported_ghg_kg", sa.Float(), nullable=True),
        sa.Column("reported_ghg_avoided_kg", sa.Float(), nullable=True),
        sa.Column("reported_nox_avoided_kg", sa.Float(), nullable=True),
        sa.Column("notes", sa.String(length=2000), nullable=True),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.Column("source_sheet", sa.String(length=100), nullable=True),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.CheckConstraint("period_end > period_start", name="ck_measurement_period"),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["importbatch.id"],
        ),
        sa.ForeignKeyConstraint(["trial_id"], ["trial.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_id", "period_start", "period_end", name="uq_measurement_natural_key"),
    )
    with op.batch_alter_table("measurement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_measurement_import_batch_id"), ["import_batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_measurement_trial_id"), ["trial_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("measurement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_measurement_trial_id"))
        batch_op.drop_index(batch_op.f("ix_measurement_import_batch_id"))

    op.drop_table("measurement")
    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auditevent_import_batch_id"))
        batch_op.drop_index(batch_op.f("ix_auditevent_at"))
        batch_op.drop_index(batch_op.f("ix_auditevent_action"))

    op.drop_table("auditevent")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_trial_id"))

    op.drop_table("unit")
    op.drop_table("importbatch")
    with op.batch_alter_table("apitoken", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apitoken_user_id"))

    op.drop_table("apitoken")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_email"))

    op.drop_table("user")
    with op.batch_alter_table("trial", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trial_port_locode"))
        batch_op.drop_index(batch_op.f("ix_trial_code"))

    op.drop_table("trial")
    with op.batch_alter_table("emissionfactor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emissionfactor_factor_set_id"))

    op.drop_table("emissionfactor")
    op.drop_table("port")
    op.drop_table("factorset")
