"""Schema migrations in code: upgrade, downgrade and inspect a database through Alembic."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from storage.db import is_sqlite, make_engine
from storage.models import Base

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Tables that other libraries own in our database: APScheduler's job store creates and migrates its own.
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})
# PostgreSQL's advisory lock key for schema changes (the bytes of "bbschema"). Nothing else of ours takes an
# advisory lock (the scheduler's leadership is a lease row, storage/repositories/leadership.py), and a
# one-bigint key never meets a two-int4 key (pg_locks tells them apart), should another tool lock that way.
SCHEMA_LOCK_KEY = int.from_bytes(b"bbschema", "big")
# How often a process waiting for another's schema change tries the lock again: the wait is a loop of tries, not
# one blocking call, so a stop (SIGTERM, Ctrl-C) ends it at once instead of after the other's migration.
LOCK_RETRY_SECONDS = 0.1


class SchemaMismatchError(RuntimeError):
    """The database has tables but no migration history, and they do not match the models."""


class SchemaWaitStopped(RuntimeError):
    """The wait for the schema lock (another process changing the schema) was stopped; nothing was changed."""


@dataclass(frozen=True)
class SchemaChange:
    """What `upgrade`/`ensure_schema` did: from which revision (None: empty) to which."""

    before: str | None
    after: str | None
    adopted: bool = False  # tables made by create_all were stamped rather than migrated

    @property
    def changed(self) -> bool:
        return self.before != self.after or self.adopted


def alembic_config(url: str) -> Config:
    """An Alembic Config built in code: no alembic.ini is needed at runtime."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    return config


def head() -> str:
    """The newest revision shipped with this code."""
    revision = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert revision is not None, "storage/migrations/versions holds no revision"
    return revision


def current(url: str) -> str | None:
    """The revision the database is at; None for an empty (or never-migrated) database."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database stands against this code: `current` is its revision (None: never initialised)."""

    current: str | None
    head: str
    known: bool  # the database's revision is one this code ships (False: a newer branchbot migrated it)
    # Tables made by `create_all` without a version row (tests, early prototypes): used as they are.
    unversioned_tables: bool = False

    @property
    def ready(self) -> bool:
        return self.current == self.head or self.unversioned_tables

    @property
    def uninitialised(self) -> bool:
        return self.current is None and not self.unversioned_tables

    @property
    def older(self) -> bool:
        return self.current is not None and self.known and self.current != self.head


def schema_status(url: str) -> SchemaStatus:
    """The database's revision compared with the newest one shipped (raises SQLAlchemyError if unreachable)."""
    revision = current(url)
    scripts = ScriptDirectory.from_config(alembic_config(url))
    known = revision is None or any(script.revision == revision for script in scripts.walk_revisions())
    unversioned = revision is None and _has_application_tables(url)
    return SchemaStatus(current=revision, head=head(), known=known, unversioned_tables=unversioned)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Comparisons see only our tables, so autogenerate never proposes dropping the job store."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


def schema_differences(url: str) -> list[tuple]:
    """Alembic's autogenerate diff between the database and the models; empty when they agree."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
            # compare_metadata itself leaves out Alembic's version table.
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def _take(try_lock: Callable[[], bool], stop: threading.Event | None) -> None:
    """Try the lock every LOCK_RETRY_SECONDS until it is taken, or until `stop` is set (SchemaWaitStopped)."""
    stop = stop if stop is not None else threading.Event()  # never set: wait as long as the other takes
    while not try_lock():
        if stop.wait(LOCK_RETRY_SECONDS):
            raise SchemaWaitStopped("stopped while another process held the schema lock")


@contextmanager
def schema_lock(url: str, stop: threading.Event | None = None) -> Iterator[None]:
    """Hold the database's schema lock: one process at a time checks and changes the schema, so two replicas
    (or `branchbot init` beside a starting `run`) never both create `alembic_version` or run one revision.

    PostgreSQL: a session-level `pg_advisory_lock` on its own autocommit connection (never idle in a
    transaction, so `idle_in_transaction_session_timeout` cannot end it however long a migration takes);
    released in `finally`, and by the server should this process die. SQLite: Alembic's DDL there is not
    transactional (each CREATE TABLE commits at once), so two processes race as well (measured: "table
    alembic_version already exists"); an exclusive `flock` on `<database file>.migrate` beside it, where
    SQLite already writes its -wal and -shm files. An in-memory database belongs to one process: no lock.

    Either is waited for by trying it again and again (`_take`): `stop` set while waiting ends the wait
    (SchemaWaitStopped); once the lock is held, the change it guards runs to its end.
    """
    if is_sqlite(url):
        database = make_url(url).database
        if not database or database == ":memory:":
            yield
            return
        fd = os.open(f"{database}.migrate", os.O_RDWR | os.O_CREAT, 0o644)

        def try_flock() -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        try:
            _take(try_flock, stop)
            yield
        finally:
            os.close(fd)  # closing the file releases the flock
        return
    engine = make_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            _take(lambda: connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                             {"key": SCHEMA_LOCK_KEY}).scalar_one(), stop)
            try:
                yield
            finally:
                try:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK_KEY})
                except SQLAlchemyError:
                    pass  # the connection is gone, and with it the lock; closing it below releases it too
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> SchemaChange:
    """Migrate the database up to `revision` (default: the newest)."""
    with schema_lock(url):
        return _upgrade(url, revision)


def downgrade(url: str, revision: str) -> SchemaChange:
    """Migrate the database down to `revision` ("base" removes every table)."""
    with schema_lock(url):
        before = current(url)
        command.downgrade(alembic_config(url), revision)
        return SchemaChange(before, current(url))


def ensure_schema(url: str, stop: threading.Event | None = None) -> SchemaChange:
    """Bring the schema to the newest revision; a no-op when it is there already.

    A database whose tables were made by `Base.metadata.create_all` (tests, early prototypes) has no
    version row; if its tables match the models it is stamped as current instead of failing on
    "table already exists". The revision is read under the schema lock, so a process that waited for
    another's migration finds it done; `stop` set during that wait gives it up (SchemaWaitStopped).
    """
    with schema_lock(url, stop):
        before = current(url)
        if before is None and _has_application_tables(url):
            differences = schema_differences(url)
            if differences:
                raise SchemaMismatchError(
                    f"数据库中已有数据表，但没有迁移记录，且与当前模型不一致（{len(differences)} 处差异）"
                )
            command.stamp(alembic_config(url), "head")
            return SchemaChange(None, current(url), adopted=True)
        if before == head():
            return SchemaChange(before, before)
        return _upgrade(url, "head")


def _upgrade(url: str, revision: str) -> SchemaChange:
    """`upgrade` for a caller that holds the schema lock (a second hold would wait on itself on PostgreSQL)."""
    before = current(url)
    command.upgrade(alembic_config(url), revision)
    return SchemaChange(before, current(url))


def _has_application_tables(url: str) -> bool:
    engine = make_engine(url, poolclass=NullPool)
    try:
        names = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    return bool(names & set(Base.metadata.tables))


def autogenerate_revision(message: str, scratch_url: str) -> None:
    """Developer helper: migrate a scratch database to head, then write a revision with the models'
    changes since then (review it before committing)."""
    upgrade(scratch_url)
    command.revision(alembic_config(scratch_url), message=message, autogenerate=True)


if __name__ == "__main__":  # pragma: no cover - developer tool
    import sys
    import tempfile

    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m storage.migrate revision "what changed"')
    with tempfile.TemporaryDirectory() as scratch_dir:
        autogenerate_revision(sys.argv[2], f"sqlite:///{scratch_dir}/scratch.db")
