"""Leader election: one scheduler per database (PostgreSQL advisory lock; an OS file lock for SQLite).

PostgreSQL: `pg_try_advisory_lock` on a dedicated connection kept open for the life of the leader; the
server releases it the moment that connection dies (process killed, network gone), so a standby that
retries periodically takes over. SQLite: an exclusive `flock` on `<database file>.leader`, which the
kernel releases when the holding process exits however it exits. An in-memory SQLite database belongs
to one process and needs no lock.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

# A fixed 64-bit key: "branchbot scheduler" for pg_try_advisory_lock.
ADVISORY_LOCK_KEY = 0x6272616E63686274


class LeaderLock(Protocol):
    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...


class PostgresAdvisoryLock:
    def __init__(self, engine: Engine, key: int = ADVISORY_LOCK_KEY) -> None:
        self._engine = engine
        self._key = key
        self._connection = None

    def try_acquire(self) -> bool:
        if self._connection is not None:
            return True
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}).scalar())
        except Exception:
            connection.close()
            raise
        if got:
            self._connection = connection
        else:
            connection.close()
        return got

    def still_held(self) -> bool:
        if self._connection is None:
            return False
        try:
            held = self._connection.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                     "AND objid = (:key & 4294967295) AND classid = ((:key >> 32) & 4294967295) AND granted"),
                {"key": self._key},
            ).scalar()
            return bool(held)
        except Exception:  # noqa: BLE001 - a broken connection means the lock is gone
            log.exception("leader: lost the connection holding the advisory lock")
            return False

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
        except Exception:  # noqa: BLE001
            pass
        finally:
            self._connection.close()
            self._connection = None


class FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class NoLock:
    """For a private in-memory database: this process is trivially the only scheduler."""

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        return None


def leader_lock_for(engine: Engine) -> LeaderLock:
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return PostgresAdvisoryLock(engine)
    database = url.database
    if not database or database == ":memory:":
        return NoLock()
    return FileLock(Path(database).with_name(Path(database).name + ".leader"))


async def wait_for_leadership(lock: LeaderLock, stop: asyncio.Event, retry_seconds: float) -> bool:
    """Retry until this process leads (True) or `stop` is set (False); standbys log once."""
    announced = False
    while not stop.is_set():
        try:
            if await asyncio.to_thread(lock.try_acquire):
                return True
        except Exception:  # noqa: BLE001 - database unreachable: keep waiting
            log.exception("leader: could not try the lock")
        if not announced:
            log.info("leader: another branchbot scheduler is running on this database; waiting to take over")
            announced = True
        try:
            await asyncio.wait_for(stop.wait(), retry_seconds)
        except asyncio.TimeoutError:
            pass
    return False
