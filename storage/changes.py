"""What a committed transaction changed that someone waits for: outbox rows queued, activities changed,
activities whose attendance (their tally) changed, organisations whose members changed (the 应到 of their cards).

The chat edge reads it after its transaction committed, to wake the dispatcher, follow up the changed
activities at once instead of at the next minute's sweep, and refresh the groups' cards of the changed tallies.
Recorded in `Session.info` (per session, no globals). On PostgreSQL the same transaction also sends
`NOTIFY branchbot_outbox` (delivered only if it commits), so the leader hears what a follower or the command line
did (`bot.runtime.notify` listens).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from storage import models
from storage.db import is_sqlite

_KEY = "branchbot.changes"
_SAVED_KEY = "branchbot.changes.saved"  # the record as each open SAVEPOINT of the session found it
# In a session factory's `info`: who sends the notifications, a bot process's worker id; None: the command line.
ORIGIN_KEY = "branchbot.origin"
CHANNEL = "branchbot_outbox"
# Past this many changed activities (or tallies, or organisations) a notification names none (null): the lists
# together stay far under PostgreSQL's 8000 bytes. The listener then follows every meeting up, as the minute's
# sweep does; for tallies it refreshes no card (bot.handlers.AfterCommit.heard says why); for organisations it
# refreshes the cards still answerable of every organisation.
MAX_NOTIFIED_IDS = 200


@dataclass
class Changes:
    outbox_queued: int = 0
    activity_ids: set[int] = field(default_factory=set)
    # Activities an attendance row was written for (check-in, leave, its decision, 代签, 缺席 …): their tally.
    tallies: set[int] = field(default_factory=set)
    # (activity id, chat id, message id): group messages showing an activity's tally that an answer of this
    # transaction was given on; they follow the tally too, even when they are not a delivered announcement.
    pressed_cards: set[tuple[int, int, int]] = field(default_factory=set)
    # Organisations whose members changed as the audience rule sees them (a member added, moved, transferred out,
    # their category, 领导干部 or seats): before and after, each member's organisation, group and seats. The cards
    # counting their members may show another 应到 (storage.services.attendance.cards_counting finds them).
    roster_orgs: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.outbox_queued or self.activity_ids or self.tallies or self.pressed_cards or self.roster_orgs)

    def worth_notifying(self, origin: str | None) -> bool:
        """Whether the leader needs to hear of this commit: outbox rows or activities always; tallies and roster
        changes only from outside a bot process (a bot process refreshes its own commits' cards, so a check-in
        sends nothing)."""
        return bool(self.outbox_queued or self.activity_ids or ((self.tallies or self.roster_orgs) and origin is None))


def of(session: Session) -> Changes:
    """The changes recorded in this session so far (an empty record when none)."""
    found = session.info.get(_KEY)
    if found is None:
        found = session.info[_KEY] = Changes()
    return found


def _copy_of(session: Session) -> Changes:
    """The record as it stands now, apart from what is recorded later."""
    recorded = of(session)
    return Changes(recorded.outbox_queued, set(recorded.activity_ids), set(recorded.tallies),
                   set(recorded.pressed_cards), set(recorded.roster_orgs))


def outbox_queued(session: Session, count: int) -> None:
    if count:
        of(session).outbox_queued += count


def tally_changed(session: Session, activity_id: int) -> None:
    """An attendance row of the activity was written by a statement the session does not flush (a Core INSERT);
    rows the session flushes are recorded by themselves."""
    of(session).tallies.add(activity_id)


def roster_changed(session: Session, org_ids: Collection[int]) -> None:
    """Members of these organisations were written by statements the session does not flush (the roster import's
    bulk INSERTs and UPDATEs); members and seats the session flushes are recorded by themselves."""
    of(session).roster_orgs.update(org_ids)


def card_pressed(session: Session, activity_id: int, chat_id: int, message_id: int) -> None:
    """An answer was given on this group message showing the activity's tally: it is refreshed with the tally."""
    recorded = of(session)
    recorded.tallies.add(activity_id)
    recorded.pressed_cards.add((activity_id, chat_id, message_id))


def _after_flush(session: Session, _context: object) -> None:
    # `dirty` also holds objects whose attributes were set to what they held: no statement wrote them (group
    # commit relies on that: `storage.services.runner._in_place`), so they changed nothing to follow up or show.
    activities: list[int] = []
    tallies: list[int] = []
    roster: set[int] = set()
    written = [*session.new, *session.deleted, *(obj for obj in session.dirty if session.is_modified(obj))]
    for obj in written:
        if isinstance(obj, models.Activity):
            activities.append(obj.id)
        elif isinstance(obj, models.Attendance):
            tallies.append(obj.activity_id)
        elif isinstance(obj, models.Member):
            roster.update(_orgs_of_member(obj, new_or_gone=obj in session.new or obj in session.deleted))
        elif isinstance(obj, models.MemberRole):
            roster.update(_values_before_and_after(obj, "org_id"))
    if activities or tallies or roster:
        recorded = of(session)
        recorded.activity_ids.update(activities)
        recorded.tallies.update(tallies)
        recorded.roster_orgs.update(roster)


def _values_before_and_after(obj: object, column: str) -> set[int]:
    history = inspect(obj).attrs[column].history
    return {value for value in (*history.deleted, *history.unchanged, *history.added) if value is not None}


def _orgs_of_member(member: models.Member, *, new_or_gone: bool) -> set[int]:
    """A member's organisation and group, before and after, when the write changes who counts them: a column the
    audience rule reads (`models.MEMBER_AUDIENCE_COLUMNS`; a name, a binding or `unreachable_since` is none). Their
    seats are `MemberRole` rows, recorded by themselves."""
    state = inspect(member)
    if not new_or_gone and not any(state.attrs[column].history.has_changes() for column in models.MEMBER_AUDIENCE_COLUMNS):
        return set()
    return _values_before_and_after(member, "org_id") | _values_before_and_after(member, "group_id")


def _savepoint_begun(session: Session, transaction: SessionTransaction) -> None:
    # After the SAVEPOINT's own first flush (of what came before it): the record as it stands outside.
    if transaction.nested:
        session.info.setdefault(_SAVED_KEY, weakref.WeakKeyDictionary())[transaction] = _copy_of(session)


def _savepoint_rolled_back(session: Session, previous: SessionTransaction) -> None:
    saved = session.info.get(_SAVED_KEY, {}).pop(previous, None) if previous.nested else None
    if saved is not None:
        session.info[_KEY] = saved  # the record as the SAVEPOINT found it, every field alike




def _named(ids: set[int]) -> frozenset[int] | None:
    return frozenset(ids) if len(ids) <= MAX_NOTIFIED_IDS else None


def _listed(ids: frozenset[int] | None) -> list[int] | None:
    return None if ids is None else sorted(ids)


def _read_ids(ids: object) -> frozenset[int] | None:
    return None if ids is None else frozenset(int(i) for i in ids)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Notice:
    """One `branchbot_outbox` notification: who committed (None: the command line), how many rows, which
    activities changed (None: any), which tallies (None: not named; a sender without the key names none) and
    the organisations whose members changed (None: too many to name; a sender without the key names none)."""

    origin: str | None
    outbox_queued: int
    activity_ids: frozenset[int] | None
    tallies: frozenset[int] | None = frozenset()
    roster_orgs: frozenset[int] | None = frozenset()

    def payload(self) -> str:
        return json.dumps({"from": self.origin, "outbox": self.outbox_queued,
                           "activities": _listed(self.activity_ids), "tallies": _listed(self.tallies),
                           "roster": _listed(self.roster_orgs)})

    @classmethod
    def of(cls, origin: str | None, changed: Changes) -> Notice:
        return cls(origin, changed.outbox_queued, _named(changed.activity_ids), _named(changed.tallies),
                   _named(changed.roster_orgs))

    @classmethod
    def parse(cls, payload: str) -> Notice:
        """A payload read back; anything unreadable means "something changed, look at everything" (but no card:
        which tallies or rosters changed is unknown)."""
        try:
            data = json.loads(payload)
            return cls(data.get("from"), int(data.get("outbox") or 0), _read_ids(data.get("activities")),
                       _read_ids(data.get("tallies", [])), _read_ids(data.get("roster", [])))
        except (ValueError, TypeError, AttributeError):
            return cls(None, 0, None, None, frozenset())


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT released (SQLAlchemy calls this hook for those too): the transaction goes on
    if is_sqlite(session):
        return  # SQLite: one process leads and polls (docs/ARCHITECTURE.md, #12.14)
    session.flush()  # the commit's own last flush comes after this hook: record its activities now
    changed, origin = of(session), session.info.get(ORIGIN_KEY)
    if changed.worth_notifying(origin):
        notice = Notice.of(origin, changed)
        session.execute(text("SELECT pg_notify(:channel, :payload)"),
                        {"channel": CHANNEL, "payload": notice.payload()})


def announce_commits(factory: sessionmaker[Session]) -> None:
    """Sessions of `factory` record which activities and attendance rows they flushed and, on PostgreSQL, notify
    `CHANNEL` when they commit. A SAVEPOINT rolled back (`Session.begin_nested`) takes back what was recorded
    inside it: the record is what the commit carries.

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
