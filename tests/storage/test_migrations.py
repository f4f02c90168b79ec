"""Alembic migrations build exactly the models' schema on both backends, and run down and up again."""

from __future__ import annotations

from sqlalchemy import inspect

from storage import migrate
from storage.db import is_sqlite, make_engine
from storage.models import Base


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_gives_the_models_schema_then_down_and_up_again(db_url):
    assert migrate.current(db_url) is None

    first = migrate.upgrade(db_url)
    assert (first.before, first.after) == (None, migrate.head())
    assert migrate.schema_differences(db_url) == []
    assert table_names(db_url) == set(Base.metadata.tables) | {"alembic_version"}

    down = migrate.downgrade(db_url, "base")
    assert down.after is None
    assert table_names(db_url) <= {"alembic_version"}

    migrate.upgrade(db_url)
    assert migrate.current(db_url) == migrate.head()
    assert migrate.schema_differences(db_url) == []


def test_ensure_schema_is_idempotent(db_url):
    created = migrate.ensure_schema(db_url)
    again = migrate.ensure_schema(db_url)
    assert created.changed and (created.before, created.after) == (None, migrate.head())
    assert not again.changed


def test_a_database_made_by_create_all_is_adopted_not_recreated(engine, db_url):
    adopted = migrate.ensure_schema(db_url)
    assert adopted.adopted and adopted.after == migrate.head()
    assert not migrate.ensure_schema(db_url).changed


def test_the_job_stores_own_table_is_not_ours_to_migrate(db_url):
    migrate.ensure_schema(db_url)
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY, next_run_time FLOAT, job_state BYTEA)"
            if not is_sqlite(engine)
            else "CREATE TABLE apscheduler_jobs (id VARCHAR(191) PRIMARY KEY, next_run_time FLOAT, job_state BLOB)"
        )
    engine.dispose()
    assert migrate.schema_differences(db_url) == []
    assert not migrate.ensure_schema(db_url).changed
