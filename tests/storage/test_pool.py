"""PostgreSQL connection checkout: connections idle past a threshold are pinged, recently used ones are trusted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from storage import db


@pytest.fixture
def admin(pg_server_url: str) -> Iterator[Engine]:
    engine = db.make_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def make(url: str, idle_seconds: float, monkeypatch: pytest.MonkeyPatch) -> tuple[Engine, list[int]]:
    """An engine whose pings are counted; one connection in its pool, so every checkout reuses it."""
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", idle_seconds)
    engine = db.make_engine(url, pool_size=1, max_overflow=0)
    pings: list[int] = []
    real_ping = engine.dialect.do_ping

    def counted(dbapi_connection) -> bool:  # noqa: ANN001
        pings.append(1)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return engine, pings


def backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def kill(admin: Engine, pid: int) -> None:
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def test_a_connection_used_moments_ago_is_not_pinged(pg_server_url, monkeypatch):
    engine, pings = make(pg_server_url, 3600.0, monkeypatch)
    try:
        pids = {backend_pid(engine) for _ in range(5)}
    finally:
        engine.dispose()
    assert (len(pids), len(pings)) == (1, 0)


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced_unseen(pg_server_url, admin, monkeypatch):
    engine, pings = make(pg_server_url, 0.0, monkeypatch)  # every connection counts as idle
    try:
        first = backend_pid(engine)
        kill(admin, first)
        second = backend_pid(engine)  # no error reaches the caller: the ping failed, the pool reconnected
    finally:
        engine.dispose()
    assert second != first
    assert len(pings) >= 2


def test_a_trusted_connection_that_died_fails_once_then_the_pool_recovers(pg_server_url, admin, monkeypatch):
    engine, pings = make(pg_server_url, 3600.0, monkeypatch)
    try:
        first = backend_pid(engine)
        kill(admin, first)
        with pytest.raises(OperationalError):
            backend_pid(engine)
        second = backend_pid(engine)
    finally:
        engine.dispose()
    assert (second != first, len(pings)) == (True, 0)
