"""Shared fixtures: every storage-touching test runs against SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, make_session_factory
from storage.models import Base

PG_ADMIN_URL = os.environ.get("BRANCHBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_admin_engine() -> Engine | None:
    """An engine on the `test` database, trying user postgres then root; None when unreachable."""
    candidates = [PG_ADMIN_URL]
    if "BRANCHBOT_TEST_PG_URL" not in os.environ:
        candidates.append("postgresql+psycopg://root@127.0.0.1:5432/test")
    for url in candidates:
        engine = make_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            return engine
        except Exception:  # noqa: BLE001 - any failure means "not reachable here"
            engine.dispose()
    return None


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A private PostgreSQL database for this test run, dropped at the end."""
    admin = _pg_admin_engine()
    if admin is None:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432 (database `test`); PostgreSQL cases skipped")
    name = f"branchbot_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def emptied(url: str) -> str:
    """The PostgreSQL database at `url` with an empty public schema (the session's database, reused per test)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


class _SchemaReady:
    """The models' tables, without rows, on the run's PostgreSQL database, made by `create_all` once.

    Dropping and creating the schema took 0.3-0.7 s per test on a loaded 2-core machine (the quick path: ~0.05 s).
    A test that finds the schema as the models make it (the same fingerprint: tables, columns, indexes,
    constraints, enum labels; a migration test leaves `alembic_version`) only has its rows deleted and its
    sequences restarted, in one round trip. Anything else (a test that emptied the schema, or changed it) gets
    the schema made again."""

    # What the schema is, as one value: tables, columns (type, default, nullability), indexes, constraints and
    # enum labels. A test that changed any of them (a migration, a downgrade) leaves another fingerprint.
    FINGERPRINT_SQL = """
        SELECT md5(string_agg(part, ' ' ORDER BY part)) FROM (
            SELECT 'table ' || tablename AS part FROM pg_tables WHERE schemaname = 'public'
            UNION ALL SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' '
                || coalesce(column_default, '') || ' ' || is_nullable
                FROM information_schema.columns WHERE table_schema = 'public'
            UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
            UNION ALL SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
                FROM pg_constraint WHERE connamespace = 'public'::regnamespace
            UNION ALL SELECT 'enum ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
                WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname
        ) parts"""

    def __init__(self) -> None:
        tables = Base.metadata.sorted_tables
        self.clear_sql = "".join(f'DELETE FROM "{table.name}";' for table in reversed(tables))
        self.restart_sql = ""  # the sequences, read once the tables exist
        self.fingerprint: str | None = None  # the schema as create_all made it
        self._engine: Engine | None = None

    def matches(self, conn) -> bool:  # noqa: ANN001
        return conn.exec_driver_sql(self.FINGERPRINT_SQL).scalar_one() == self.fingerprint

    def prepare(self, url: str) -> None:
        if self.fingerprint is not None:
            if self._engine is None:  # one pooled connection for the quick path (pre-pinged: tests cut backends)
                self._engine = make_engine(url, pool_size=1, pool_pre_ping=True)
            with self._engine.begin() as conn:
                if self.matches(conn):
                    conn.exec_driver_sql(self.clear_sql + self.restart_sql)
                    return
        emptied(url)
        engine = make_engine(url)
        try:
            Base.metadata.create_all(engine)
            with engine.connect() as conn:
                sequences = [row[0] for row in conn.exec_driver_sql(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")]
                fingerprint = conn.exec_driver_sql(self.FINGERPRINT_SQL).scalar_one()
        finally:
            engine.dispose()
        self.restart_sql = "".join(f'ALTER SEQUENCE "{name}" RESTART;' for name in sequences)
        self.fingerprint = fingerprint

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


@pytest.fixture(scope="session")
def pg_schema_ready() -> Iterator[_SchemaReady]:
    ready = _SchemaReady()
    yield ready
    ready.close()


@pytest.fixture
def pg_url(pg_server_url: str) -> str:
    """An empty PostgreSQL database, for tests that only make sense there (processes, proxies, advisory locks)."""
    return emptied(pg_server_url)


@pytest.fixture(scope="session")
def sqlite_with_tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the models' tables and no rows, copied for each test that asks for `engine`."""
    path = tmp_path_factory.mktemp("template") / "branchbot.db"
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A database URL, one per backend; PostgreSQL cases skip cleanly where unreachable. Empty, or, for a test
    that asks for `engine`, holding the models' tables without rows (made here: faster than create_all)."""
    with_tables = "engine" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path / "branchbot.db"
        if with_tables:
            shutil.copyfile(request.getfixturevalue("sqlite_with_tables"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("pg_server_url")
    if with_tables:
        request.getfixturevalue("pg_schema_ready").prepare(url)
        yield url
        return
    yield emptied(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database with the current schema (models; the migration test checks Alembic), made by
    `db_url`."""
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session inside an open transaction, rolled back at the end (the test owns it)."""
    with session_factory() as session:
        session.begin()
        try:
            yield session
        finally:
            session.rollback()
