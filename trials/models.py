"""The tables and enums of ZE Trials' data, in one module so that relationships never import in circles; the import
queue's tables, which only point at these, are in trials.import_tables and named here too."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from trials.columns import UTCDateTime as UTCDateTime
from trials.columns import stored_enum
from trials.columns import utcnow as utcnow
from trials.import_tables import ImportJob as ImportJob
from trials.import_tables import ImportProfile as ImportProfile
from trials.import_tables import ImportUpload as ImportUpload
from trials.import_tables import JobStatus as JobStatus


class Role(enum.StrEnum):
    """What a signed-in person may do (ARCHITECTURE.md, 'Who sees what')."""

    admin = "admin"
    editor = "editor"
    executive = "executive"
    partner = "partner"


class EquipmentClass(enum.StrEnum):
    """What the machine does (METHODOLOGY.md §1)."""

    drayage_truck = "drayage_truck"
    yard_tractor = "yard_tractor"
    rtg_crane = "rtg_crane"
    sts_crane = "sts_crane"
    straddle_carrier = "straddle_carrier"
    top_handler = "top_handler"
    reach_stacker = "reach_stacker"
    forklift = "forklift"
    tug = "tug"
    harbor_craft = "harbor_craft"
    ferry = "ferry"


class Technology(enum.StrEnum):
    """How the machine is powered; `diesel` only for baselines (METHODOLOGY.md §1)."""

    battery_electric = "battery_electric"
    hydrogen_fuel_cell = "hydrogen_fuel_cell"
    hydrogen_combustion = "hydrogen_combustion"
    hybrid_diesel_electric = "hybrid_diesel_electric"
    grid_electric = "grid_electric"
    diesel = "diesel"


class TrialStatus(enum.StrEnum):
    """Where a trial stands in its life."""

    planned = "planned"
    active = "active"
    completed = "completed"
    cancelled = "cancelled"


class Visibility(enum.StrEnum):
    """Whether partner ports may see a trial: `private` stays with its own port."""

    private = "private"
    partners = "partners"


class UnitRole(enum.StrEnum):
    """A unit under trial, or a conventional diesel comparator measured alongside."""

    trial = "trial"
    baseline = "baseline"


class BaselineKind(enum.StrEnum):
    """What a trial is compared against (METHODOLOGY.md §7.1): a diesel machine, an electric one, or nothing."""

    diesel = "diesel"
    electric = "electric"
    none = "none"


class HydrogenPathway(enum.StrEnum):
    """How a trial's hydrogen was made, which sets its factor (METHODOLOGY.md §7.6)."""

    grey = "grey"
    electrolytic_grid = "electrolytic_grid"
    declared = "declared"


class EngineStandard(enum.StrEnum):
    """The emission standard of the diesel engine a trial replaces, for its NOx and PM2.5 (METHODOLOGY.md §7.7)."""

    nonroad_tier3 = "nonroad_tier3"
    nonroad_tier4f = "nonroad_tier4f"
    marine_tier3 = "marine_tier3"
    marine_tier4 = "marine_tier4"
    onroad_2010 = "onroad_2010"


class BatchStatus(enum.StrEnum):
    """Whether an import batch's rows are in the database or were undone."""

    imported = "imported"
    undone = "undone"


# A partner port, by UN/LOCODE, with the grid region that sets its electricity factor.
class Port(SQLModel, table=True):
    locode: str = Field(primary_key=True, max_length=5)
    name: str = Field(max_length=120)
    country: str = Field(max_length=2)
    grid_region: str = Field(max_length=40)
    timezone: str = Field(max_length=64)
    lat: float
    lon: float


# A trial: N units of one technology in one equipment class at one port, with its declared baseline.
class Trial(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=200)
    port_locode: str = Field(foreign_key="port.locode", max_length=5, index=True)
    terminal: str | None = Field(default=None, max_length=120)
    equipment_class: EquipmentClass = Field(sa_type=stored_enum(EquipmentClass))
    technology: Technology = Field(sa_type=stored_enum(Technology))
    units_planned: int | None = None
    start_date: date
    end_date: date | None = None  # last day of the trial, inclusive
    status: TrialStatus = Field(default=TrialStatus.planned, sa_type=stored_enum(TrialStatus))
    vendor: str | None = Field(default=None, max_length=120)
    model: str | None = Field(default=None, max_length=120)
    funding: str | None = Field(default=None, max_length=200)
    baseline_kind: BaselineKind = Field(
        default=BaselineKind.diesel, sa_type=stored_enum(BaselineKind), sa_column_kwargs={"server_default": "diesel"}
    )
    baseline_rate: float | None = None  # litres, US gallons or kWh per activity unit, as declared
    baseline_unit: str | None = Field(default=None, max_length=20)  # e.g. "L/h", "gal/mi", "L/move", "kWh/move"
    baseline_source: str | None = Field(default=None, max_length=200)
    rated_power_kw: float | None = None  # of the diesel machine replaced, for the EPA pollutant estimate
    load_factor: float | None = None  # overrides the class default of the factor set
    market_factor_g_per_kwh: float | None = None  # market-based grid factor (e.g. a renewable PPA)
    market_factor_source: str | None = Field(default=None, max_length=200)
    hydrogen_pathway: str | None = Field(default=None, max_length=40)  # a HydrogenPathway; grey when unknown
    hydrogen_factor_kg_per_kg: float | None = None  # kg CO2e per kg H2, when the pathway is `declared`
    hydrogen_factor_source: str | None = Field(default=None, max_length=200)
    baseline_engine: str | None = Field(default=None, max_length=40)  # an EngineStandard; the class default if None
    visibility: Visibility = Field(default=Visibility.private, sa_type=stored_enum(Visibility))
    notes: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


#: The unit a row without a unit belongs to: the trial's whole fleet, every planned unit.
FLEET_UNIT = "fleet"


# One machine of a trial, by its own id; a row with no unit in a file belongs to the unit "fleet".
class Unit(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("trial_id", "unit_id", name="uq_unit_trial_unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", index=True, ondelete="CASCADE")
    unit_id: str = Field(max_length=100)
    role: UnitRole = Field(default=UnitRole.trial, sa_type=stored_enum(UnitRole))


# A file that was imported, once: its sha256 makes a second import of the same bytes a no-op.
class ImportBatch(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True)
    filename: str = Field(max_length=255)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status: BatchStatus = Field(default=BatchStatus.imported, sa_type=stored_enum(BatchStatus))
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0


# One record for one unit over one period [period_start, period_end); units as METHODOLOGY.md §1.
class Measurement(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("unit_id", "period_start", "period_end", name="uq_measurement_natural_key"),
        sa.CheckConstraint("period_end > period_start", name="ck_measurement_period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    trial_id: int = Field(foreign_key="trial.id", index=True, ondelete="CASCADE")
    unit_id: int = Field(foreign_key="unit.id", ondelete="CASCADE")
    period_start: date
    period_end: date  # exclusive
    operating_hours: float | None = None  # h
    energy_kwh: float | None = None  # kWh of electricity at the meter or charger
    hydrogen_kg: float | None = None  # kg
    diesel_l: float | None = None  # L
    distance_km: float | None = None  # km
    moves: float | None = None  # container lifts or moves
    teu: float | None = None
    cargo_tonnes: float | None = None  # t
    scheduled_hours: float | None = None  # h the unit was planned to be available
    downtime_hours: float | None = None  # h of unplanned unavailability
    charging_sessions: int | None = None
    reported_ghg_kg: float | None = None  # kg CO2e, as the source stated it; never an input
    reported_ghg_avoided_kg: float | None = None  # kg CO2e, as the source stated it
    reported_nox_avoided_kg: float | None = None  # kg, as the source stated it
    notes: str | None = Field(default=None, max_length=2000)
    import_batch_id: int | None = Field(default=None, foreign_key="importbatch.id", index=True)
    source_sheet: str | None = Field(default=None, max_length=100)
    source_row: int | None = None


#: The activities a row can be paired on, and the energy carriers that pair it (METHODOLOGY.md §7.2).
PAIRING_ACTIVITIES: tuple[str, ...] = ("operating_hours", "moves", "teu", "distance_km")
ENERGY_CARRIERS: tuple[str, ...] = ("energy_kwh", "hydrogen_kg", "diesel_l")


def paired_name(activity: str, carrier: str | None = None) -> str:
    """Name the rollup sum of an activity (or of a carrier) over the rows paired on that activity."""
    return f"p_{activity}" if carrier is None else f"p_{activity}_{carrier}"


#: The rollup sums made from a row's period rather than a stored number (METHODOLOGY.md §7.4).
PERIOD_NUMBERS: tuple[str, ...] = ("unit_days",)
#: Every paired sum the rollups keep, activity by activity.
PAIRED_NUMBERS: tuple[str, ...] = tuple(
    name
    for activity in PAIRING_ACTIVITIES
    for name in (paired_name(activity), *(paired_name(activity, carrier) for carrier in ENERGY_CARRIERS))
)

#: The numeric fields of a Measurement (METHODOLOGY.md §1), the ones imports carry and rollups sum.
MEASURED_NUMBERS: tuple[str, ...] = (
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


# A named, versioned set of emission factors; results record which set they used.
class FactorSet(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40, unique=True)
    description: str | None = Field(default=None, max_length=500)
    is_default: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# One factor of a set: key (e.g. grid, diesel_ttw, load_factor), region or class, year, value and its source.
class EmissionFactor(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("factor_set_id", "key", "region", "year", name="uq_factor"),)

    id: int | None = Field(default=None, primary_key=True)
    factor_set_id: int = Field(foreign_key="factorset.id", index=True, ondelete="CASCADE")
    key: str = Field(max_length=40)
    region: str = Field(default="", max_length=40)  # grid region or equipment class; "" when global
    year: int = 0  # 0 when the factor holds for every year
    value: float
    unit: str = Field(max_length=40)
    scope: str = Field(max_length=10)  # TTW, WTT, WTW, or "" for non-GHG factors
    source: str = Field(max_length=300)


# Where a class's energy or fuel per unit of work plausibly lies (METHODOLOGY.md §8): data with sources, like factors.
class PlausibleRange(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("equipment_class", "quantity", name="uq_plausible_range"),)

    id: int | None = Field(default=None, primary_key=True)
    equipment_class: EquipmentClass = Field(sa_type=stored_enum(EquipmentClass))
    quantity: str = Field(max_length=20)  # diesel_l, energy_kwh or hydrogen_kg, per unit of primary activity
    low: float
    high: float
    unit: str = Field(max_length=20)  # e.g. "L/h", "kWh/move"
    source: str = Field(max_length=300)


# A person who signs in; a port limits what they see (ARCHITECTURE.md, 'Who sees what').
class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    role: Role = Field(sa_type=stored_enum(Role))
    port_locode: str | None = Field(default=None, foreign_key="port.locode", max_length=5)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# A bearer token for the API; only its sha256 is kept, the token itself is shown once.
class ApiToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# Who did what, when, with the state before and after, for admins and for undoing imports.
class AuditEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=254)  # the user's email, or "cli" for the command line
    action: str = Field(max_length=40, index=True)
    object: str = Field(max_length=200)
    import_batch_id: int | None = Field(default=None, foreign_key="importbatch.id", index=True)
    before: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)


# The sums (None when no row carried the field) and counts of every measured number, shared by the rollup tables;
# the importer keeps them current in its own transaction (trials/rollups.py), so dashboards never scan raw rows.
class RollupSums(SQLModel):
    measurements: int = 0
    operating_hours: float | None = None
    n_operating_hours: int = 0
    energy_kwh: float | None = None
    n_energy_kwh: int = 0
    hydrogen_kg: float | None = None
    n_hydrogen_kg: int = 0
    diesel_l: float | None = None
    n_diesel_l: int = 0
    distance_km: float | None = None
    n_distance_km: int = 0
    moves: float | None = None
    n_moves: int = 0
    teu: float | None = None
    n_teu: int = 0
    cargo_tonnes: float | None = None
    n_cargo_tonnes: int = 0
    scheduled_hours: float | None = None
    n_scheduled_hours: int = 0
    downtime_hours: float | None = None
    n_downtime_hours: int = 0
    charging_sessions: float | None = None
    n_charging_sessions: int = 0
    reported_ghg_kg: float | None = None
    n_reported_ghg_kg: int = 0
    reported_ghg_avoided_kg: float | None = None
    n_reported_ghg_avoided_kg: int = 0
    reported_nox_avoided_kg: float | None = None
    n_reported_nox_avoided_kg: int = 0
    # Days of data times the units they cover (a fleet-level row: every planned unit), for coverage and unit-years.
    unit_days: float | None = None
    n_unit_days: int = 0
    # The same sums over paired rows only (METHODOLOGY.md §7.2): p_<activity> is the activity on rows that carry it and
    # an energy carrier, p_<activity>_<carrier> the carrier on those rows.
    p_operating_hours: float | None = None
    n_p_operating_hours: int = 0
    p_operating_hours_energy_kwh: float | None = None
    n_p_operating_hours_energy_kwh: int = 0
    p_operating_hours_hydrogen_kg: float | None = None
    n_p_operating_hours_hydrogen_kg: int = 0
    p_operating_hours_diesel_l: float | None = None
    n_p_operating_hours_diesel_l: int = 0
    p_moves: float | None = None
    n_p_moves: int = 0
    p_moves_energy_kwh: float | None = None
    n_p_moves_energy_kwh: int = 0
    p_moves_hydrogen_kg: float | None = None
    n_p_moves_hydrogen_kg: int = 0
    p_moves_diesel_l: float | None = None
    n_p_moves_diesel_l: int = 0
    p_teu: float | None = None
    n_p_teu: int = 0
    p_teu_energy_kwh: float | None = None
    n_p_teu_energy_kwh: int = 0
    p_teu_hydrogen_kg: float | None = None
    n_p_teu_hydrogen_kg: int = 0
    p_teu_diesel_l: float | None = None
    n_p_teu_diesel_l: int = 0
    p_distance_km: float | None = None
    n_p_distance_km: int = 0
    p_distance_km_energy_kwh: float | None = None
    n_p_distance_km_energy_kwh: int = 0
    p_distance_km_hydrogen_kg: float | None = None
    n_p_distance_km_hydrogen_kg: int = 0
    p_distance_km_diesel_l: float | None = None
    n_p_distance_km_diesel_l: int = 0


# Every day a measurement of a trial's units of one role covers, with the sums of the measurements starting on it
# (a month-long measurement adds one day with sums and the rest of its days with none).
class DailyRollup(RollupSums, table=True):
    trial_id: int = Field(foreign_key="trial.id", primary_key=True, ondelete="CASCADE")
    role: UnitRole = Field(primary_key=True, sa_type=stored_enum(UnitRole))
    day: date = Field(primary_key=True)


# One trial's sums per unit role and calendar month of period_start, with the days its measurements cover.
class MonthlyRollup(RollupSums, table=True):
    trial_id: int = Field(foreign_key="trial.id", primary_key=True, ondelete="CASCADE")
    role: UnitRole = Field(primary_key=True, sa_type=stored_enum(UnitRole))
    month: int = Field(primary_key=True)  # year * 100 + month, e.g. 202501
    days_covered: int = 0
    first_day: date  # first day covered
    last_day: date  # last day covered, inclusive


# A random stamp drawn by every rebuild of a trial's rollups (import, undo): results remembered across requests are
# keyed on it, so none outlives the data it came from, even across databases or a restored backup.
class RollupStamp(SQLModel, table=True):
    trial_id: int = Field(foreign_key="trial.id", primary_key=True, ondelete="CASCADE")
    stamp: int = Field(sa_type=sa.BigInteger)


# One unit's running totals (sums and counts) from its first month through this one, by month of period_start:
# any period's unit-level sums are the difference of two rows, however many months it spans.
class UnitRunningTotal(RollupSums, table=True):
    # The dashboards read every unit of some trials at one month: by trial and month, not trial, unit and month.
    __table_args__ = (sa.Index("ix_unitrunningtotal_trial_month", "trial_id", "month"),)

    trial_id: int = Field(foreign_key="trial.id", primary_key=True, ondelete="CASCADE")
    unit_id: int = Field(foreign_key="unit.id", primary_key=True, ondelete="CASCADE")
    month: int = Field(primary_key=True)  # year * 100 + month, e.g. 202501
    role: UnitRole = Field(sa_type=stored_enum(UnitRole))
