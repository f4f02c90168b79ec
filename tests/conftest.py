"""Shared fixtures: every storage-touching test runs against SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

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


@pytest.fixture
def pg_url(pg_server_url: str) -> str:
    """An empty PostgreSQL database, for tests that only make sense there (processes, proxies, advisory locks)."""
    return emptied(pg_server_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database URL, one per backend; PostgreSQL cases skip cleanly where unreachable."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'branchbot.db'}"
        return
    yield emptied(request.getfixturevalue("pg_server_url"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database with the current schema (models; the migration test checks Alembic)."""
    engine = make_engine(db_url)
    Base.metadata.create_all(engine)
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
