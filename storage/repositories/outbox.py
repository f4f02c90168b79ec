"""The reminder outbox: enqueue once, claim, mark sent, retry, and the downtime rule (no commits here)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage import changes, models
from storage.db import is_sqlite
from storage.direct import KeyedRead
from storage.models import ActivityStatus, OutboxState
from storage.repositories import leadership
from storage.outbox_kinds import OutboxKind, outbox_kind
from storage.repositories.leadership import Fence
from storage.types import UTCDateTime

# Ids per IN (...) list in bulk updates.
_IN_LIST_CHUNK = 500


def member_recipient(member_id: int) -> str:
    return f"member:{member_id}"


def chat_recipient(chat_id: int) -> str:
    return f"chat:{chat_id}"


def reminder_dedup_key(activity_id: int, recipient: str, lead_minutes: int,
                       kind: OutboxKind = OutboxKind.REMINDER) -> str:
    return f"{kind}:{activity_id}:{recipient}:{lead_minutes}"


def reminder_priority(lead_minutes: int) -> int:
    """Lower goes first: the shorter the lead, the more time-critical the reminder."""
    return max(0, min(lead_minutes, 1_000_000))


@dataclass(frozen=True)
class NewMessage:
    """A row to enqueue; `dedup_key` (unique) makes enqueueing idempotent. `kind` must be an OutboxKind."""

    dedup_key: str
    recipient: str
    due_at: datetime
    kind: OutboxKind = OutboxKind.REMINDER
    activity_id: int | None = None
    member_id: int | None = None
    chat_id: int | None = None
    lead_minutes: int = 0
    priority: int = 100
    payload: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def reminder(cls, activity_id: int, member_id: int, lead_minutes: int, due_at: datetime, *,
                 chat_id: int | None = None) -> NewMessage:
        """A member's reminder of an activity at one lead: one per (activity, member, lead), the shorter lead
        first."""
        recipient = member_recipient(member_id)
        return cls(dedup_key=reminder_dedup_key(activity_id, recipient, lead_minutes), recipient=recipient,
                   due_at=due_at, activity_id=activity_id, member_id=member_id, chat_id=chat_id,
                   lead_minutes=lead_minutes, priority=reminder_priority(lead_minutes))

    def __post_init__(self) -> None:
        # Validated on write: a row of a kind nobody can render would sit in the outbox for ever.
        object.__setattr__(self, "kind", outbox_kind(self.kind))

    def values(self) -> dict[str, Any]:
        return {
            "dedup_key": self.dedup_key, "recipient": self.recipient, "due_at": self.due_at,
            "kind": self.kind.value, "activity_id": self.activity_id, "member_id": self.member_id,
            "chat_id": self.chat_id, "lead_minutes": self.lead_minutes, "priority": self.priority,
            "payload": self.payload, "state": OutboxState.PENDING.value, "attempts": 0,
        }


@dataclass(frozen=True)
class ClaimedMessage:
    """A claimed row as plain values: what the dispatcher needs to render and send it."""

    id: int
    kind: str
    activity_id: int | None
    member_id: int | None
    chat_id: int | None
    recipient: str
    lead_minutes: int
    due_at: datetime
    priority: int
    attempts: int
    payload: dict[str, Any]
    last_error: str | None = None  # why it was last put back (e.g. "quiet hours")


def _insert_ignoring_duplicates(session: Session):
    table = models.OutboxMessage.__table__
    return (sqlite if is_sqlite(session) else postgresql).insert(table).on_conflict_do_nothing()


def enqueue(session: Session, messages: Iterable[NewMessage]) -> int:
    """Insert messages whose dedup key is new; returns how many were new.

    One statement executed over all rows (SQLAlchemy batches them into multi-row INSERTs); RETURNING
    counts what was really inserted, since rowcount is unreliable for batched inserts.
    """
    rows = [message.values() for message in messages]
    if not rows:
        return 0
    statement = _insert_ignoring_duplicates(session).returning(models.OutboxMessage.__table__.c.id)
    created = 0
    connection = session.connection()
    for start in range(0, len(rows), 5000):
        created += len(connection.execute(statement, rows[start:start + 5000]).all())
    changes.outbox_queued(session, created)  # the chat edge wakes the dispatcher once this commits
    return created


_CLAIM_COLUMNS = (
    models.OutboxMessage.id, models.OutboxMessage.kind, models.OutboxMessage.activity_id,
    models.OutboxMessage.member_id, models.OutboxMessage.chat_id, models.OutboxMessage.recipient,
    models.OutboxMessage.lead_minutes, models.OutboxMessage.due_at, models.OutboxMessage.priority,
    models.OutboxMessage.attempts, models.OutboxMessage.payload, models.OutboxMessage.last_error,
)


def _due_condition(now: datetime):
    row = models.OutboxMessage
    return and_(
        row.state == OutboxState.PENDING.value,
        row.due_at <= now,
        or_(row.next_attempt_at.is_(None), row.next_attempt_at <= now),
    )


def claim_due(session: Session, *, now: datetime, worker: str, limit: int,
              fence: Fence | None = None) -> list[ClaimedMessage]:
    """Claim up to `limit` due rows, most time-critical first.

    PostgreSQL: the inner SELECT takes row locks with SKIP LOCKED, so concurrent claimers never get the
    same row. SQLite has a single writer; the state guard on the UPDATE is what keeps a row single-claimed.
    With `fence`, nothing is claimed unless that term is the current, unexpired lease (then `worker` should
    be `fence.claimer`, so later marks and releases of this term can never touch another term's rows).
    """
    row = models.OutboxMessage
    candidates = (
        select(row.id).where(_due_condition(now))
        .order_by(row.priority, row.due_at, row.id).limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(candidates))
    if not ids:
        return []
    guard = [leadership.holds(session, fence)] if fence is not None else []
    result = session.execute(
        update(row)
        .where(row.id.in_(ids), row.state == OutboxState.PENDING.value, *guard)
        .values(state=OutboxState.CLAIMED.value, claimed_at=now, claimed_by=worker)
        .returning(*_CLAIM_COLUMNS)
        .execution_options(synchronize_session=False)
    )
    claimed = [ClaimedMessage(*values) for values in result.all()]
    claimed.sort(key=lambda m: (m.priority, m.due_at, m.id))
    return claimed


# Built once: recording sends is the hottest statement, and building an UPDATE per batch costs more
# than running it. Executed with one parameter set per row (executemany).
_MARK_SENT = (
    update(models.OutboxMessage.__table__)
    .where(models.OutboxMessage.__table__.c.id == bindparam("p_outbox_id"),
           models.OutboxMessage.__table__.c.state == OutboxState.CLAIMED.value,
           models.OutboxMessage.__table__.c.claimed_by == bindparam("p_worker"))
    .values(state=OutboxState.SENT.value, sent_at=bindparam("p_sent_at", type_=UTCDateTime()),
            telegram_message_id=bindparam("p_message_id"),
            attempts=models.OutboxMessage.__table__.c.attempts + 1, last_error=None)
)


def mark_sent_statement(sent: Sequence[tuple[int, int | None]], *, now: datetime, worker: str):
    """(statement, parameter sets) recording Telegram's message ids for rows this worker delivered.

    Each row's UPDATE is atomic on its own, so the dispatcher may run them on an autocommit connection.
    """
    return _MARK_SENT, [
        {"p_outbox_id": outbox_id, "p_worker": worker, "p_sent_at": now, "p_message_id": message_id}
        for outbox_id, message_id in sent
    ]


def mark_sent(session: Session, sent: Sequence[tuple[int, int | None]], *, now: datetime, worker: str) -> int:
    """Record sends inside the caller's transaction; returns how many rows were this worker's to record."""
    if not sent:
        return 0
    statement, params = mark_sent_statement(sent, now=now, worker=worker)
    return session.connection().execute(statement, params).rowcount or 0


def release(session: Session, ids: Sequence[int], *, worker: str, next_attempt_at: datetime | None = None,
            error: str | None = None, count_attempt: bool = False) -> int:
    """Give claimed rows back to the queue (shutdown, or a retry after `next_attempt_at`)."""
    if not ids:
        return 0
    row = models.OutboxMessage
    values: dict[str, Any] = {"state": OutboxState.PENDING.value, "claimed_at": None, "claimed_by": None,
                              "next_attempt_at": next_attempt_at}
    if error is not None:
        values["last_error"] = error[:2000]
    if count_attempt:
        values["attempts"] = row.attempts + 1
    result = session.execute(
        update(row).where(row.id.in_(list(ids)), row.state == OutboxState.CLAIMED.value, row.claimed_by == worker)
        .values(**values).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def finish(session: Session, ids: Sequence[int], state: OutboxState, *, reason: str | None = None,
           worker: str | None = None) -> int:
    """Close rows for good (SKIPPED, FAILED or MISSED); with `worker`, only rows that worker holds."""
    if not ids:
        return 0
    row = models.OutboxMessage
    query = update(row).where(row.id.in_(list(ids)))
    if worker is not None:
        query = query.where(row.state == OutboxState.CLAIMED.value, row.claimed_by == worker)
    else:
        query = query.where(row.state.in_([OutboxState.PENDING.value, OutboxState.CLAIMED.value]))
    values: dict[str, Any] = {"state": state.value, "claimed_at": None, "claimed_by": None}
    if reason is not None:
        values["last_error"] = reason[:2000]
    return session.execute(query.values(**values).execution_options(synchronize_session=False)).rowcount or 0


def reclaim_abandoned(session: Session, *, worker: str, now: datetime, lease: timedelta | None = None,
                      fence: Fence | None = None) -> int:
    """Put rows claimed by other (dead) workers back to PENDING.

    Called by the leader when it takes over (`lease=None`: the previous holder is gone, since leadership
    passes only when its lock is released) and periodically with a lease as a safety net. A row this
    worker holds is never reclaimed: it may be in flight right now. With `fence`, nothing is reclaimed
    unless that term is the current, unexpired lease: a leader that lost its lease (frozen, cut off) must not
    hand the new leader's claimed rows back to the queue, where the new leader would claim and send them again.
    """
    row = models.OutboxMessage
    query = update(row).where(row.state == OutboxState.CLAIMED.value,
                              or_(row.claimed_by.is_(None), row.claimed_by != worker))
    if lease is not None:
        query = query.where(row.claimed_at < now - lease)
    if fence is not None:
        query = query.where(leadership.holds(session, fence))
    result = session.execute(
        query.values(state=OutboxState.PENDING.value, claimed_at=None, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


@dataclass(frozen=True)
class MissedReminder:
    outbox_id: int
    activity_id: int
    member_id: int | None
    lead_minutes: int
    due_at: datetime | None = None
    last_error: str | None = None  # why it had been held back, if it was (quiet hours)


def resolve_overdue(session: Session, *, now: datetime,
                    grace: Callable[[int], timedelta]) -> list[MissedReminder]:
    """The downtime rule over due, pending reminders.

    0. A reminder of a cancelled (or already held) activity is not needed: SKIPPED, not reported.
    1. A reminder whose activity started more than `grace(lead)` ago is useless: MISSED (the grace is the
       delivery service's, `storage.services.delivery.on_time_grace`: an on-the-day greeting stays timely
       for hours).
    2. Of several due reminders for one (activity, recipient), only the smallest lead is still useful;
       the longer ones become MISSED. The survivor is then delivered once.
    Returns what was marked missed, so the caller can tell the secretaries. One read of the due rows,
    decided here, then UPDATEs by id: a correlated "is there a shorter lead?" subquery per row would
    be quadratic after a long outage.
    """
    row = models.OutboxMessage
    activity = models.Activity
    due = session.execute(
        select(row.id, row.activity_id, row.recipient, row.member_id, row.lead_minutes,
               activity.starts_at, activity.status, row.due_at, row.last_error)
        .join(activity, activity.id == row.activity_id)
        .where(row.state == OutboxState.PENDING.value, row.kind == OutboxKind.REMINDER.value, row.due_at <= now)
    ).all()
    not_needed: list[int] = []
    missed: list[MissedReminder] = []
    shortest: dict[tuple[int, str], tuple[int, int]] = {}
    candidates: list[tuple[int, int, str, int | None, int, datetime, str | None]] = []
    for outbox_id, activity_id, recipient, member_id, lead, starts_at, status, due_at, last_error in due:
        if status != ActivityStatus.SCHEDULED.value:
            not_needed.append(outbox_id)
        elif starts_at + grace(lead) <= now:
            missed.append(MissedReminder(outbox_id, activity_id, member_id, lead, due_at, last_error))
        else:
            candidates.append((outbox_id, activity_id, recipient, member_id, lead, due_at, last_error))
            key = (activity_id, recipient)
            if key not in shortest or lead < shortest[key][0]:
                shortest[key] = (lead, outbox_id)
    superseded = [MissedReminder(outbox_id, activity_id, member_id, lead, due_at, last_error)
                  for outbox_id, activity_id, recipient, member_id, lead, due_at, last_error in candidates
                  if shortest[(activity_id, recipient)][1] != outbox_id]
    close_pending(session, not_needed, OutboxState.SKIPPED, "activity no longer scheduled")
    close_pending(session, [m.outbox_id for m in missed], OutboxState.MISSED,
                   "activity started before the reminder went out")
    close_pending(session, [m.outbox_id for m in superseded], OutboxState.MISSED,
                   "superseded by a shorter lead after downtime")
    return missed + superseded


def close_pending(session: Session, ids: Sequence[int], state: OutboxState, reason: str) -> None:
    """Close rows still waiting (never one a dispatcher has claimed: it may be in flight)."""
    ids = list(ids)
    row = models.OutboxMessage
    for start in range(0, len(ids), _IN_LIST_CHUNK):
        session.execute(
            update(row).where(row.id.in_(ids[start:start + _IN_LIST_CHUNK]), row.state == OutboxState.PENDING.value)
            .values(state=state.value, last_error=reason).execution_options(synchronize_session=False)
        )


def next_due_at(session: Session, after: datetime | None = None) -> datetime | None:
    """When the earliest pending row becomes claimable (for the dispatcher's sleep); with `after`, the
    earliest such moment later than it (for a clock that jumps from one due moment to the next)."""
    row = models.OutboxMessage
    moment = func.coalesce(row.next_attempt_at, row.due_at)
    query = select(func.min(moment)).where(row.state == OutboxState.PENDING.value)
    if after is not None:
        query = query.where(moment > after)
    return session.scalar(query)


def replan_pending(session: Session, activity_id: int) -> int:
    """Forget unsent reminders of an activity whose time changed, so they can be enqueued afresh."""
    row = models.OutboxMessage
    result = session.execute(
        delete(row).where(row.activity_id == activity_id, row.kind == OutboxKind.REMINDER.value,
                          row.state.in_([OutboxState.PENDING.value, OutboxState.MISSED.value]))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def counts_by_state(session: Session) -> dict[str, int]:
    row = models.OutboxMessage
    return dict(session.execute(select(row.state, func.count()).group_by(row.state)).all())


def activity_messages(session: Session, activity_id: int, kind: OutboxKind,
                      member_ids: Sequence[int] | None = None) -> list[models.OutboxMessage]:
    """The rows of one kind about one activity (optionally to these members), oldest first."""
    row = models.OutboxMessage
    query = select(row).where(row.activity_id == activity_id, row.kind == kind.value)
    if member_ids is not None:
        query = query.where(row.member_id.in_(list(member_ids)))
    return list(session.scalars(query.order_by(row.id)))


def delivered_about(session: Session, kind: OutboxKind, org_ids: Iterable[int], since: datetime) -> list[models.Activity]:
    """The scheduled activities of these organisations starting from `since` that have a delivered message of
    `kind` (in a chat, with its message id), earliest first."""
    row, activity = models.OutboxMessage, models.Activity
    delivered = select(row.id).where(row.activity_id == activity.id, row.kind == kind.value,
                                     row.state == OutboxState.SENT.value, row.chat_id.is_not(None),
                                     row.telegram_message_id.is_not(None)).exists()
    return list(session.scalars(select(activity).where(
        activity.org_id.in_(list(set(org_ids))), activity.starts_at >= since,
        activity.status == ActivityStatus.SCHEDULED.value, delivered,
    ).order_by(activity.starts_at, activity.id)))


@dataclass(frozen=True, slots=True)
class EditClaim:
    """The delivered messages of one kind about one activity, split by who may edit them now."""

    claimed: tuple[tuple[int, int], ...] = ()  # (chat id, message id): this refresh edits them
    held: tuple[tuple[int, int], ...] = ()  # edited by another refresh (maybe another process) too recently
    free_at: datetime | None = None  # when every held one may be edited again


def claim_edits(session: Session, activity_id: int, kind: OutboxKind, now: datetime,
                every: timedelta) -> EditClaim:
    """Claims the edits of the delivered messages of one kind about one activity: each is edited at most once
    per `every`, across all processes on the database (their `edited_at` is the last claim). Read once per
    refresh, never per press; the update claims only rows still free when it runs (PostgreSQL re-checks the
    condition on a row another transaction just claimed), so two processes never both win one."""
    row = models.OutboxMessage
    cards = session.execute(select(row.id, row.chat_id, row.telegram_message_id, row.edited_at).where(
        row.activity_id == activity_id, row.kind == kind.value, row.state == OutboxState.SENT.value,
        row.chat_id.is_not(None), row.telegram_message_id.is_not(None),
    ).order_by(row.id)).all()
    cutoff = now - every
    free = [card.id for card in cards if card.edited_at is None or card.edited_at <= cutoff]
    won: set[int] = set()
    if free:
        won = set(session.scalars(update(row).where(
            row.id.in_(free), or_(row.edited_at.is_(None), row.edited_at <= cutoff),
        ).values(edited_at=now).returning(row.id).execution_options(synchronize_session=False)))
    held = [card for card in cards if card.id not in won]
    # A card lost to a claim made after it was read was claimed at about `now`.
    free_at = max((card.edited_at + every if card.id not in free else now + every for card in held), default=None)
    return EditClaim(claimed=tuple((int(c.chat_id), int(c.telegram_message_id)) for c in cards if c.id in won),
                     held=tuple((int(c.chat_id), int(c.telegram_message_id)) for c in held), free_at=free_at)


@dataclass(frozen=True, slots=True)
class DeliveredMessage:
    """A delivered row: where it is in Telegram and what it was rendered from, as at `rendered_at` (its claim,
    when the dispatcher rendered it), so its text can be written again as it was sent."""

    chat_id: int
    message_id: int
    rendered_at: datetime
    row: ClaimedMessage


def delivered_in_chat(session: Session, activity_id: int, kind: OutboxKind, recipient: str,
                      chat_id: int) -> list[DeliveredMessage]:
    """The messages of one kind about one activity delivered to `recipient` in `chat_id`, oldest first (for
    a reminder: the partial unique index on activity and recipient). Read on every ✅ 签到 press: prebuilt,
    run on the driver's cursor (storage.direct), or answered from what `read_delivered_ahead` read."""
    return _delivered(_DELIVERED_IN_CHAT.rows(session, {
        "activity_id": activity_id, "recipient": recipient, "chat_id": chat_id, **_delivered_fixed(kind)}))


def read_delivered_ahead(session: Session, kind: OutboxKind, asked: Iterable[tuple[int, str, int]]) -> None:
    """`delivered_in_chat` of each (activity id, recipient, chat id) in one statement, answered once per time
    asked later in this session."""
    _DELIVERED_IN_CHAT.read_ahead(session, asked, _delivered_fixed(kind))


def _delivered_fixed(kind: OutboxKind) -> dict[str, str]:
    return {"kind": kind.value, "state": OutboxState.SENT.value}


def _delivered(rows: list[tuple]) -> list[DeliveredMessage]:
    return [DeliveredMessage(chat_id=int(values[4]), message_id=int(message_id), rendered_at=claimed_at or sent_at,
                             row=ClaimedMessage(*values))
            for *values, message_id, claimed_at, sent_at in rows]


_outbox = models.OutboxMessage.__table__
_DELIVERED_IN_CHAT = KeyedRead(
    select(*(_outbox.c[column.key] for column in _CLAIM_COLUMNS), _outbox.c.telegram_message_id,
           _outbox.c.claimed_at, _outbox.c.sent_at)
    .where(_outbox.c.kind == bindparam("kind"), _outbox.c.state == bindparam("state"),
           _outbox.c.telegram_message_id.is_not(None))
    .order_by(_outbox.c.id),
    {"activity_id": _outbox.c.activity_id, "recipient": _outbox.c.recipient, "chat_id": _outbox.c.chat_id},
)


def move_group_chat(session: Session, old_chat_id: int, new_chat_id: int) -> int:
    """Group messages (no member) addressed to a chat that became a supergroup now go to its new id."""
    row = models.OutboxMessage
    result = session.execute(
        update(row).where(row.chat_id == old_chat_id, row.member_id.is_(None))
        .values(chat_id=new_chat_id).execution_options(synchronize_session=False))
    return result.rowcount or 0
