"""Leader election: one scheduler per database, by a fenced lease in the database (and the sandbox's file lock).

`LeaseLeadership` (what `branchbot run` uses, on PostgreSQL and SQLite alike): the `leadership` row names a
holder, a term and a lease end (the database's clock on PostgreSQL). A standby takes the lease only when it
has run out, with a new term. The holder renews it every quarter lease and considers itself leader only
until three quarters of a lease after the *start* of its last successful renewal, measured on its own
monotonic clock, so it stops sending a quarter lease before anyone else can take over, however long it
was frozen, stalled or cut off. Claims are fenced in SQL on the current term (`outbox.claim_due`) and
`claimed_by` carries the term, so nothing an old term does later touches a newer term's rows.

`leader_lock_for` (the sandbox only): an exclusive `flock` on `<database file>.leader`, released by the
kernel when the process exits; an in-memory SQLite database belongs to one process and needs no lock.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import Protocol

import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings
from storage.db import transaction
from storage.repositories import leadership as lease_repo
from storage.repositories.leadership import Fence

log = logging.getLogger(__name__)

DEFAULT_LEASE = Settings.leader_lease  # the contract's default lives with the other settings
# The holder trusts its lease for this share of it after a renewal started; the rest is the margin in
# which its last sends finish before a standby may take over.
TRUSTED_SHARE = 0.75
RENEWALS_PER_LEASE = 4


class LeaderLock(Protocol):
    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...


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
    """The sandbox's guard against a second sandbox on the same SQLite file."""
    database = engine.url.database
    if not database or database == ":memory:":
        return NoLock()
    return FileLock(Path(database).with_name(Path(database).name + ".leader"))


class LeaseLeadership:
    """This process's hold on the scheduler lease: acquire, renew, give up, and "may I still send?"."""

    def __init__(self, session_factory: sessionmaker[Session], holder: str, *, lease: timedelta = DEFAULT_LEASE,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._sessions = session_factory
        self.holder = holder
        self.lease = lease
        self._monotonic = monotonic
        self.fence: Fence | None = None
        self._trusted_until = 0.0
        self.terms_won = 0

    @property
    def renew_seconds(self) -> float:
        return self.lease.total_seconds() / RENEWALS_PER_LEASE

    def _trust_from(self, started: float) -> None:
        self._trusted_until = max(self._trusted_until, started + self.lease.total_seconds() * TRUSTED_SHARE)

    def try_acquire(self) -> bool:
        """Take the lease with a new term if it is free, expired or (after a stall) still ours; blocking."""
        started = self._monotonic()
        with transaction(self._sessions) as session:
            fence = lease_repo.try_take(session, holder=self.holder, lease=self.lease)
        if fence is None:
            return False
        self.fence = fence
        self._trusted_until = 0.0
        self._trust_from(started)
        self.terms_won += 1
        return True

    def renew(self) -> bool:
        """Extend this term's lease; False when the term is over. Raises when the database is unreachable."""
        fence = self.fence
        if fence is None:
            return False
        started = self._monotonic()
        with transaction(self._sessions) as session:
            renewed = lease_repo.renew(session, fence, lease=self.lease)
        if renewed and self.fence == fence:
            self._trust_from(started)
        return renewed

    def valid(self) -> bool:
        """May this process still send? Cheap (no database): called before every single send."""
        return self.fence is not None and self._monotonic() < self._trusted_until

    def seconds_left(self) -> float:
        return max(0.0, self._trusted_until - self._monotonic()) if self.fence is not None else 0.0

    def lose(self) -> None:
        """Forget the term locally (it ran out or someone took over); the database row is left as it is."""
        self.fence = None
        self._trusted_until = 0.0

    def release(self) -> None:
        """Hand the lease back at a clean stop, so a standby takes over at once."""
        fence, self.fence = self.fence, None
        if fence is None:
            return
        try:
            with transaction(self._sessions) as session:
                lease_repo.give_up(session, fence)
        except Exception:  # noqa: BLE001 - the lease then simply runs out
            log.warning("leader: could not hand the lease back; a standby takes over when it runs out")
