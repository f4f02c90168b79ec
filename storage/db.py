"""Engines and sessions: the edge opens one session and one transaction per command, update or job."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DATABASE_URL = "sqlite:///branchbot.db"
# PostgreSQL behind an unreliable network: a connection attempt gives up after 5 s instead of the OS's
# minutes, and the server aborts a transaction whose client went silent for 30 s (a stalled link), so
# its row locks do not block the next leader and nothing half-done commits long after the caller gave up.
# Text travels as UTF-8 whatever the database's encoding: on a SQL_ASCII database (a cluster made without a
# locale) the client encoding would otherwise be SQL_ASCII too, psycopg would return text as bytes, and the
# first connection failed in SQLAlchemy's version check (a TypeError).
POSTGRES_CONNECT_ARGS = {
    "connect_timeout": 5,
    "options": "-c idle_in_transaction_session_timeout=30000",
    "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
    "client_encoding": "UTF8",
}


# Whatever names or reaches a database: its URL, a dialect, an engine or connection, a session or its factory.
DatabaseTarget = str | URL | Dialect | Engine | Connection | Session | sessionmaker


def is_sqlite(target: DatabaseTarget) -> bool:
    """The one rule for which database this is: SQLite, else PostgreSQL (the only two the project supports)."""
    if isinstance(target, Dialect):  # first: UTCDateTime asks for every value it binds
        return target.name == "sqlite"
    if isinstance(target, (Engine, Connection)):
        return target.dialect.name == "sqlite"
    if isinstance(target, Session):
        return target.get_bind().dialect.name == "sqlite"
    if isinstance(target, sessionmaker):
        return target.kw["bind"].dialect.name == "sqlite"
    if isinstance(target, URL):
        return target.get_backend_name() == "sqlite"
    # A URL as written: its backend is the scheme before any "+driver" (read without parsing, so a URL that
    # is not one yet is answered too; make_engine refuses it later).
    return target.partition(":")[0].partition("+")[0].strip().lower() == "sqlite"


def shown_url(url: str | URL) -> str:
    """The one way a database URL is shown to people (messages, logs, doctor): the password as `***`, the rest
    as configured. A URL SQLAlchemy cannot parse is shown as written with its password hidden the same way, so
    the error about it can still name it."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return _password_hidden_as_written(str(url))


def _password_hidden_as_written(url: str) -> str:
    """`user:password@` as written, hidden as `user:***@`; the credentials end at the last `@` (a password may hold
    one) and begin after `//` (else at the start: then a scheme without `//` is hidden too, never a password shown)."""
    credentials, at, place = url.rpartition("@")
    if not at:
        return url
    start = credentials.find("//") + 2 if "//" in credentials else 0
    user, colon, _password = credentials[start:].partition(":")
    return f"{credentials[:start]}{user}:***@{place}" if colon else url


# A connection that was in use this recently is trusted at checkout; an older one is pinged first. Pinging every
# checkout (SQLAlchemy's pool_pre_ping) cost a round trip and ~50 µs of CPU per update and job: a tenth of a
# check-in's database work (bench/bench_checkin.py). A trusted connection that died meanwhile fails its first
# statement as a disconnect: SQLAlchemy then drops the whole pool, and the edge answers "busy" for that update.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_connection, record) -> None:  # noqa: ANN001
        record.info["used_at"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:  # noqa: ANN001
        if record is not None:
            record.info["used_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, _proxy) -> None:  # noqa: ANN001
        if time.monotonic() - record.info.get("used_at", float("-inf")) <= idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as dead:  # noqa: BLE001 - any failure: the pool replaces the connection and retries
            raise DisconnectionError(f"connection failed its ping: {dead}") from dead


# In a pooled connection's `info`: how many statements it ran that were not a plain SELECT (one that locks rows,
# FOR UPDATE or FOR SHARE, counts: its locks end with a rollback too).
_WRITES_KEY = "branchbot.writes"


def _count_writes(connection: Connection, _cursor: object, statement: str, *_rest: object) -> None:
    if statement.lstrip()[:6].upper() != "SELECT" or " FOR " in statement:
        connection.info[_WRITES_KEY] = connection.info.get(_WRITES_KEY, 0) + 1


# An engine execution option (every connection of the engine inherits it): its writes are counted.
_COUNTED_OPTION = "branchbot_counts_writes"


def count_writes(engine: Engine) -> None:
    """`engine` counts the statements that write from now on (idempotent: told by the engine's own execution
    option, not `event.contains`). `make_session_factory` sees to it for every factory's engine."""
    if not engine.get_execution_options().get(_COUNTED_OPTION):
        event.listen(engine, "before_cursor_execute", _count_writes)
        engine.update_execution_options(**{_COUNTED_OPTION: True})


def writes_on(connection: Connection) -> int:
    """How many statements `connection` has run so far that wrote or locked rows (all but plain SELECTs), the
    driver-level ones of `storage.direct` included: group commit asks whether a refused use-case wrote anything
    (`storage.services.runner`). Refused on an engine that does not count (`count_writes`): "nothing counted"
    would read as "wrote nothing", and a refused use-case's writes would be committed with its refusal."""
    if not connection.get_execution_options().get(_COUNTED_OPTION):
        raise RuntimeError("this engine does not count its writes: make it with storage.db.make_engine "
                           "(or give it storage.db.count_writes)")
    return connection.info.get(_WRITES_KEY, 0)


def make_engine(url: str = DEFAULT_DATABASE_URL, **kwargs) -> Engine:
    """An engine with the settings each backend needs (SQLite: WAL, foreign keys, busy timeout)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if is_sqlite(url):
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url and url != "sqlite://":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
    else:
        connect_args = dict(POSTGRES_CONNECT_ARGS)
        connect_args.update(kwargs.pop("connect_args", {}))
        ping_idle = not kwargs.get("pool_pre_ping", False)  # a caller asking for pre-ping gets SQLAlchemy's own
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        if ping_idle:
            _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


MEMO_KEY = "branchbot.memo"


class FactoryMemo:
    """Values read from the database that every session of one factory may reuse while a fingerprint says
    the rows behind them are unchanged (the organisation tree: `OrgTree.load`). Owned by the session factory
    that made it, never by a module, so two databases (or two tests) never share one."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[object, object]] = {}

    def get(self, name: str, fingerprint: object) -> object | None:
        found = self._values.get(name)
        return found[1] if found is not None and found[0] == fingerprint else None

    def put(self, name: str, fingerprint: object, value: object) -> None:
        self._values[name] = (fingerprint, value)  # one assignment: safe across worker threads


def memo_of(session: Session) -> FactoryMemo | None:
    """The memo of the factory that opened `session` (None for a session made without one)."""
    return session.info.get(MEMO_KEY)


def make_session_factory(engine: Engine, *, origin: str | None = None) -> sessionmaker[Session]:
    """Sessions that, on PostgreSQL, tell the leader what they queued or changed when they commit
    (`storage.changes`); `origin` names the sending bot process (the leader ignores its own notifications), and
    None is the command line, whose tally changes the leader shows on the group cards (a bot process shows its
    own): a bot-side factory must name itself. Its engine counts its writes (`count_writes`: group commit asks).
    Its sessions share one `FactoryMemo` (sessionmaker copies `info` shallowly into each session)."""
    from storage import changes  # here: storage.changes reaches storage.models, which ask is_sqlite above

    count_writes(engine)
    factory = sessionmaker(engine, expire_on_commit=False, info={changes.ORIGIN_KEY: origin, MEMO_KEY: FactoryMemo()})
    changes.announce_commits(factory)
    return factory


@contextmanager
def transaction(factory: sessionmaker[Session], *, savepoints: bool = False) -> Iterator[Session]:
    """One session, one transaction: committed on success, rolled back on any error.

    With `savepoints` the transaction may hold SAVEPOINTs (`Session.begin_nested`). On SQLite it is then begun
    at once (BEGIN IMMEDIATE: it takes the one writer's lock now, waiting as a write does): pysqlite begins a
    transaction only before its first write, and a SAVEPOINT outside a transaction is one of its own whose
    RELEASE commits, out of reach of the rollback of the rest."""
    with factory() as session, session.begin():
        if savepoints and is_sqlite(session):
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        yield session


@contextmanager
def command_transaction(url: str, *, dry_run: bool = False) -> Iterator[Session]:
    """A command line run's one session and transaction on the database at `url` (`transaction`); the engine
    made for it is disposed of afterwards, whatever happened, so the process leaves no connection open. A
    `dry_run`'s transaction is rolled back even when its work finished: it sees what it would do, keeps nothing."""
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        if not dry_run:
            with transaction(factory) as session:
                yield session
            return
        with factory() as session, session.begin() as begun:
            yield session
            begun.rollback()
    finally:
        engine.dispose()
