"""The schema, built by migrations on both databases, and the SQLite settings that keep writers apart."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from tests.checksums import opened, table_checksums
from tests.conftest import ReusedSchema, empty_database
from tests.factories import make_trial
from trials.db import is_sqlite, lock_imports, make_engine, normalise_url, write_session
from trials.factors import SHIPPED_SETS
from trials.models import FactorSet, Port, Trial, utcnow
from trials.seed import initialise


def test_migrated_schema_equals_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_initialise_twice_changes_nothing(engine: Engine) -> None:
    initialise(engine)
    with Session(engine) as session:
        assert len(session.exec(select(Port)).all()) == 8
        assert [(s.name, s.is_default) for s in session.exec(select(FactorSet)).all()] == [
            ("ZE-2024", False),
            ("ZE-2025", True),
        ]


def test_seeded_ports_carry_their_grid_regions(session: Session) -> None:
    regions = {port.locode: port.grid_region for port in session.exec(select(Port))}
    assert regions == {
        "USLAX": "US-CAL-LDWP",
        "USLGB": "US-CAL-CISO",
        "JPNGO": "JP-CB",
        "CNSHA": "CN",
        "SGSIN": "SG",
        "DKCPH": "DK-DK2",
        "SEMMA": "SE-SE4",
        "IDTPP": "ID",
    }


def test_timestamps_come_back_aware_in_utc(session: Session) -> None:
    trial = Trial(
        code="T",
        name="t",
        port_locode="USLAX",
        equipment_class="tug",
        technology="battery_electric",
        start_date=date(2024, 1, 1),
    )
    session.add(trial)
    session.commit()
    session.expire_all()
    stored = session.exec(select(Trial)).one()
    assert stored.created_at.tzinfo is not None
    assert stored.created_at.utcoffset() == utcnow().utcoffset()


def test_naive_timestamps_are_refused(session: Session) -> None:
    session.add(FactorSet(name="naive", created_at=utcnow().replace(tzinfo=None)))
    with pytest.raises(sa.exc.StatementError, match="naive datetime refused"):
        session.commit()


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(
        Trial(
            code="T",
            name="t",
            port_locode="XXXXX",
            equipment_class="tug",
            technology="battery_electric",
            start_date=date(2024, 1, 1),
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        session.commit()


def test_write_session_rolls_back_everything_on_error(engine: Engine) -> None:
    with pytest.raises(RuntimeError), write_session(engine) as session:
        session.add(FactorSet(name="half"))
        session.flush()
        raise RuntimeError("stop midway")
    with Session(engine) as session:
        assert session.exec(select(FactorSet).where(FactorSet.name == "half")).first() is None


def test_sqlite_pragmas(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/p.sqlite")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -65_536  # KiB: 64 MiB
    assert is_sqlite(engine)


def test_sqlite_cache_can_be_set_and_a_wrong_setting_is_named(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZETRIALS_SQLITE_CACHE_MIB", "2")
    engine = make_engine(f"sqlite:///{tmp_path}/small.sqlite")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -2048
    monkeypatch.setenv("ZETRIALS_SQLITE_CACHE_MIB", "lots")
    wrong = "ZETRIALS_SQLITE_CACHE_MIB must be a whole number of MiB, 1 or more; it is 'lots'"
    with pytest.raises(ValueError, match=wrong):
        make_engine(f"sqlite:///{tmp_path}/other.sqlite")


def test_concurrent_sqlite_writers_wait_their_turn_instead_of_failing(tmp_path: object) -> None:
    """Two writers that read first and write later would deadlock into 'database is locked' without BEGIN IMMEDIATE."""
    engine = make_engine(f"sqlite:///{tmp_path}/w.sqlite")
    initialise(engine)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(20):
                with write_session(engine) as session:
                    count = len(session.exec(select(FactorSet)).all())
                    session.add(FactorSet(name=f"w{n}-{i}-{count}"))
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Session(engine) as session:
        assert len(session.exec(select(FactorSet)).all()) == len(SHIPPED_SETS) + 4 * 20


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.sqlite", "sqlite:///x.sqlite"),
    ],
)
def test_every_postgres_spelling_uses_psycopg3(given: str, used: str) -> None:
    assert normalise_url(given) == used


@pytest.mark.postgres
def test_the_import_lock_holds_within_a_schema_and_never_across_schemas(tmp_path: Path) -> None:
    """An import in one schema waits for another in the same schema, never for one in another schema of the
    server (another app's database, or another test's)."""
    with empty_database("postgres", tmp_path / "a") as first, empty_database("postgres", tmp_path / "b") as second:
        engines = [make_engine(first), make_engine(first), make_engine(second)]
        holder, same, other = sessions = [Session(engine) for engine in engines]
        try:
            for waiting in (same, other):
                waiting.execute(sa.text("SET LOCAL lock_timeout = '500ms'"))
            lock_imports(holder)
            lock_imports(other)  # another schema: taken at once while the first is held
            with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
                lock_imports(same)
        finally:
            for session, engine in zip(sessions, engines, strict=True):
                session.close()
                engine.dispose()


@pytest.mark.postgres
def test_a_reused_postgres_schema_is_put_back_row_for_row_and_id_for_id_as_a_fresh_copy(
    postgres_schema: ReusedSchema,
) -> None:
    def add_trial(url: str) -> int | None:
        with opened(url) as engine, Session(engine) as session:
            return make_trial(session).id

    first = postgres_schema.reset()
    fresh = table_checksums(first)
    first_id = add_trial(first)
    assert table_checksums(first) != fresh
    postgres_schema.check_shape()

    again = postgres_schema.reset()
    assert again == first, "an unchanged schema is reused"
    assert table_checksums(again) == fresh
    assert add_trial(again) == first_id, "its sequences start again where the template's do"

    with opened(again) as engine, engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE note (text TEXT)"))
    postgres_schema.check_shape()
    renewed = postgres_schema.reset()
    assert renewed != again, "a schema a test changed the shape of is dropped, not reused"
    assert table_checksums(renewed) == fresh
