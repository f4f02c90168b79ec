"""What a committed transaction changed that someone waits for: outbox rows queued, activities changed.

The chat edge reads it after its transaction committed, to wake the dispatcher and follow up the changed
activities at once instead of at the next minute's sweep. Recorded in `Session.info` (per session, no globals).
On PostgreSQL the same transaction also sends `NOTIFY branchbot_outbox` (delivered only if it commits), so the
leader hears what a follower or the command line did (`bot.runtime.notify` listens).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import event, text
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from storage import models
from storage.db import is_sqlite

_KEY = "branchbot.changes"
_SAVED_KEY = "branchbot.changes.saved"  # the record as each open SAVEPOINT of the session found it
ORIGIN_KEY = "branchbot.origin"  # in a session factory's `info`: who sends the notifications (a worker id)
CHANNEL = "branchbot_outbox"
# Past this many changed activities a notification says "all" (null): the payload stays far under
# PostgreSQL's 8000 bytes, and the listener follows every meeting up, as the minute's sweep does.
MAX_NOTIFIED_IDS = 200


@dataclass
class Changes:
    outbox_queued: int = 0
    activity_ids: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.outbox_queued or self.activity_ids)


def of(session: Session) -> Changes:
    """The changes recorded in this session so far (an empty record when none)."""
    found = session.info.get(_KEY)
    if found is None:
        found = session.info[_KEY] = Changes()
    return found


def _copy_of(session: Session) -> Changes:
    """The record as it stands now, apart from what is recorded later."""
    recorded = of(session)
    return Changes(recorded.outbox_queued, set(recorded.activity_ids))


def outbox_queued(session: Session, count: int) -> None:
    if count:
        of(session).outbox_queued += count


def _after_flush(session: Session, _context: object) -> None:
    # `dirty` also holds objects whose attributes were set to what they held: no statement wrote them (group
    # commit relies on that: `storage.services.runner._in_place`), so they changed nothing to follow up.
    changed = [obj.id for obj in session.new if isinstance(obj, models.Activity)]
    changed += [obj.id for obj in session.dirty if isinstance(obj, models.Activity) and session.is_modified(obj)]
    if changed:
        of(session).activity_ids.update(changed)


def _savepoint_begun(session: Session, transaction: SessionTransaction) -> None:
    # After the SAVEPOINT's own first flush (of what came before it): the record as it stands outside.
    if transaction.nested:
        session.info.setdefault(_SAVED_KEY, weakref.WeakKeyDictionary())[transaction] = _copy_of(session)


def _savepoint_rolled_back(session: Session, previous: SessionTransaction) -> None:
    saved = session.info.get(_SAVED_KEY, {}).pop(previous, None) if previous.nested else None
    if saved is not None:
        recorded = of(session)
        recorded.outbox_queued, recorded.activity_ids = saved.outbox_queued, saved.activity_ids




@dataclass(frozen=True)
class Notice:
    """One `branchbot_outbox` notification: who committed, how many rows, which activities (None: any)."""

    origin: str | None
    outbox_queued: int
    activity_ids: frozenset[int] | None

    def payload(self) -> str:
        return json.dumps({"from": self.origin, "outbox": self.outbox_queued,
                           "activities": None if self.activity_ids is None else sorted(self.activity_ids)})

    @classmethod
    def of(cls, origin: str | None, changed: Changes) -> Notice:
        ids = changed.activity_ids
        return cls(origin, changed.outbox_queued, frozenset(ids) if len(ids) <= MAX_NOTIFIED_IDS else None)

    @classmethod
    def parse(cls, payload: str) -> Notice:
        """A payload read back; anything unreadable means "something changed, look at everything"."""
        try:
            data = json.loads(payload)
            ids = data.get("activities")
            return cls(data.get("from"), int(data.get("outbox") or 0),
                       None if ids is None else frozenset(int(i) for i in ids))
        except (ValueError, TypeError, AttributeError):
            return cls(None, 0, None)


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT released (SQLAlchemy calls this hook for those too): the transaction goes on
    if is_sqlite(session):
        return  # SQLite: one process leads and polls (docs/ARCHITECTURE.md, #12.14)
    session.flush()  # the commit's own last flush comes after this hook: record its activities now
    changed = of(session)
    if changed:
        notice = Notice.of(session.info.get(ORIGIN_KEY), changed)
        session.execute(text("SELECT pg_notify(:channel, :payload)"),
                        {"channel": CHANNEL, "payload": notice.payload()})


def announce_commits(factory: sessionmaker[Session]) -> None:
    """Sessions of `factory` record which activities they flushed and, on PostgreSQL, notify `CHANNEL` when they
    commit. A SAVEPOINT rolled back (`Session.begin_nested`) takes back what was recorded inside it: the record
    is what the commit carries.

    Called once, by `storage.db.make_session_factory` as it makes the factory, and never guarded by
    `event.contains`: SQLAlchemy keys a sessionmaker's listeners by `id()` and never forgets a dead one's, so a
    new factory at a reused address looked wired already and recorded nothing (no NOTIFY, no follow-up)."""
    for name, listener in (("after_flush", _after_flush), ("after_transaction_create", _savepoint_begun),
                           ("after_soft_rollback", _savepoint_rolled_back), ("before_commit", _before_commit)):
        event.listen(factory, name, listener)


def changed_ids(notices: Collection[Notice]) -> set[int] | None:
    """The activities several notices changed together (None: any of them did not say)."""
    found: set[int] = set()
    for notice in notices:
        if notice.activity_ids is None:
            return None
        found |= notice.activity_ids
    return found
