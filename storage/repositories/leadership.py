"""The scheduler's lease: take it when free or expired, renew it, hand it back, and the fence claims check (no commits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from storage import models
from storage.db import is_sqlite
from storage.types import UTCDateTime

SCHEDULER = "scheduler"


@dataclass(frozen=True)
class Fence:
    """A holder's term: what claims and marks must still match for the holder to act."""

    holder: str
    term: int

    @property
    def claimer(self) -> str:
        """The outbox's `claimed_by` for rows claimed in this term (a later term never matches it)."""
        return f"{self.holder}#t{self.term}"


@dataclass(frozen=True)
class LeaseView:
    role: str
    term: int
    holder: str | None
    lease_until: datetime | None
    renewed_at: datetime | None
    database_now: datetime


def database_now(session: Session) -> ColumnElement[datetime]:
    """The lease clock: PostgreSQL's own clock (one clock for every host); SQLite's hosts share this machine's."""
    if not is_sqlite(session):
        return func.clock_timestamp()
    return literal(datetime.now(timezone.utc), UTCDateTime())


def _lease_end(session: Session, lease: timedelta) -> ColumnElement[datetime]:
    if not is_sqlite(session):
        return func.clock_timestamp() + lease
    return literal(datetime.now(timezone.utc) + lease, UTCDateTime())


def _ensure_row(session: Session, role: str) -> None:
    table = models.Leadership.__table__
    insert = sqlite.insert(table) if is_sqlite(session) else postgresql.insert(table)
    session.execute(insert.values(role=role, term=0).on_conflict_do_nothing())


def try_take(session: Session, *, holder: str, lease: timedelta, role: str = SCHEDULER) -> Fence | None:
    """Become the holder with a new term if the lease is free, expired, or still this holder's own (a renewal
    that landed after the holder had given up on it); None while someone else holds it."""
    _ensure_row(session, role)
    row = models.Leadership
    now = database_now(session)
    result = session.execute(
        update(row)
        .where(row.role == role, or_(row.holder.is_(None), row.lease_until.is_(None), row.lease_until < now,
                                      row.holder == holder))
        .values(term=row.term + 1, holder=holder, lease_until=_lease_end(session, lease), acquired_at=now, renewed_at=now)
        .returning(row.term)
        .execution_options(synchronize_session=False)
    ).first()
    return Fence(holder, int(result[0])) if result is not None else None


def renew(session: Session, fence: Fence, *, lease: timedelta, role: str = SCHEDULER) -> bool:
    """Extend the lease of `fence`'s term; False when that term is over (someone took over)."""
    row = models.Leadership
    now = database_now(session)
    result = session.execute(
        update(row)
        .where(row.role == role, row.term == fence.term, row.holder == fence.holder)
        .values(lease_until=_lease_end(session, lease), renewed_at=now)
        .execution_options(synchronize_session=False)
    )
    return (result.rowcount or 0) == 1


def give_up(session: Session, fence: Fence, *, role: str = SCHEDULER) -> bool:
    """End `fence`'s term now, so a standby takes over at its next try instead of when the lease runs out."""
    row = models.Leadership
    result = session.execute(
        update(row)
        .where(row.role == role, row.term == fence.term, row.holder == fence.holder)
        .values(holder=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return (result.rowcount or 0) == 1


def holds(session: Session, fence: Fence, *, role: str = SCHEDULER) -> ColumnElement[bool]:
    """A condition true only while `fence` is the current, unexpired term (for claims' WHERE)."""
    row = models.Leadership
    return exists(select(row.role).where(
        row.role == role, row.term == fence.term, row.holder == fence.holder, row.lease_until > database_now(session),
    ))


def view(session: Session, *, role: str = SCHEDULER) -> LeaseView | None:
    row = models.Leadership
    found = session.execute(
        select(row.role, row.term, row.holder, row.lease_until, row.renewed_at, database_now(session))
        .where(row.role == role)
    ).first()
    if found is None:
        return None
    now = found[5]
    if isinstance(now, datetime) and now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return LeaseView(found[0], found[1], found[2], found[3], found[4], now)
