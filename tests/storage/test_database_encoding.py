"""A PostgreSQL database in any encoding serves branchbot: its connections ask for UTF-8 text
(storage.db.POSTGRES_CONNECT_ARGS), so a SQL_ASCII database (a cluster made without a locale) stores and reads
Chinese text as a UTF-8 one does, instead of failing at the first connection."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from storage import models
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import ensure_schema, schema_status


@pytest.fixture
def sql_ascii_url(pg_server_url: str) -> Iterator[str]:
    admin = make_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    name = f"branchbot_ascii_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' "
                                "TEMPLATE template0"))
    try:
        yield make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_sql_ascii_database_is_migrated_and_keeps_chinese_text(sql_ascii_url):
    ensure_schema(sql_ascii_url)
    status = schema_status(sql_ascii_url)
    assert status.known and not status.older and not status.uninitialised
    engine = make_engine(sql_ascii_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW server_encoding")).scalar_one() == "SQL_ASCII"
        factory = make_session_factory(engine, origin="test")
        with transaction(factory) as session:
            session.add(models.Organization(code="B01", name="第一党支部", type="党支部"))
        with transaction(factory) as session:
            assert session.scalars(select(models.Organization.name)).all() == ["第一党支部"]
    finally:
        engine.dispose()
