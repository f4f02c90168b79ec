"""What a committed transaction changed that someone waits for: outbox rows queued, activities changed.

The chat edge reads it after its transaction committed, to wake the dispatcher and follow up the changed
activities at once instead of at the next minute's sweep. Recorded in `Session.info` (per session, no globals).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from storage import models

_KEY = "branchbot.changes"


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


def outbox_queued(session: Session, count: int) -> None:
    if count:
        of(session).outbox_queued += count


def _after_flush(session: Session, _context: object) -> None:
    changed = [obj.id for obj in (*session.new, *session.dirty) if isinstance(obj, models.Activity)]
    if changed:
        of(session).activity_ids.update(changed)


def track_activities(factory: sessionmaker[Session]) -> None:
    """Sessions of `factory` record which activities they flushed (idempotent)."""
    if not event.contains(factory, "after_flush", _after_flush):
        event.listen(factory, "after_flush", _after_flush)
