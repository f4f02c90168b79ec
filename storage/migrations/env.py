"""Alembic environment: migrates the database whose URL or connection storage.migrate passes in."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection

from storage.db import is_sqlite, make_engine
from storage.migrate import include_name
from storage.models import Base
from storage.types import UTCDateTime

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write our UTC column type as a plain timestamptz so revisions never import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _database_url() -> str:
    # Passed as an attribute, not a main option: ConfigParser would choke on "%" in passwords.
    return config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=is_sqlite(connection),
        render_item=render_item,
        include_name=include_name,
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_database_url(), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            sqlite = is_sqlite(connection)
            if sqlite:
                # Batch mode rebuilds a table by copy-and-drop; with foreign keys on, SQLite's DROP TABLE
                # would fire ON DELETE CASCADE and wipe e.g. attendance when `activities` is rebuilt.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left rows with dangling foreign keys: {broken[:5]}")
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
