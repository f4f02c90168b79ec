"""Delivery rules: whether a claimed outbox row still goes out, what became of those that cannot, who is told.

The dispatcher is transport only (claim, limit, send, mark); everything it must decide about a row against
the database as it is now happens here, in the dispatcher's transaction: eligibility (the activity still on,
the member still active, reachable and not answered, a change still worth telling, a group announcement
before its window closes), quiet hours, the downtime rule with the reason a reminder came too late, and the
notices to secretaries (missed reminders, unreachable members). No commits here: the caller owns the
transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import models
from storage.models import ActivityStatus, OutboxState
from storage.outbox_kinds import OutboxKind
from storage.repositories import activities as activity_repo
from storage.repositories import members as member_repo
from storage.repositories import organizations as organization_repo
from storage.repositories import outbox
from storage.repositories.outbox import ClaimedMessage, MissedReminder
from storage.services.followup import announcement_span

# A reminder "on the day" (lead 0, e.g. a political birthday greeting) is due when the item starts; it is
# still timely for a while after, where a reminder with a lead is pointless once the activity has begun.
ON_THE_DAY_GRACE = timedelta(hours=12)
# `last_error` of a row the dispatcher held back for quiet hours.
QUIET_HOURS = "quiet hours"

# When a reminder may go out, given when it fell due, when its activity starts and the zone (quiet hours).
DeliverAt = Callable[[datetime, datetime | None, ZoneInfo], datetime]


def on_time_grace(lead_minutes: int | None) -> timedelta:
    """How long after the activity's start a reminder with this lead is still worth sending."""
    return ON_THE_DAY_GRACE if not lead_minutes else timedelta(0)


class MissedCause(StrEnum):
    """Why a reminder could not go out in time (named in the secretary's notice)."""

    DOWNTIME = "downtime"  # it fell due while no dispatcher was running (or the clock was moved past it)
    BACKLOG = "backlog"  # it fell due while we were running, and was not sent before it was too late
    QUIET_HOURS = "quiet_hours"  # it was held back for quiet hours, and then it was too late


@dataclass
class Watch:
    """When a dispatcher was looking at the outbox, in the clock's time: what fell due while nobody looked
    was lost to downtime; what fell due while we looked, to a backlog."""

    since: datetime | None = None  # when this dispatcher started
    # The clock jumped forward over these spans (the sandbox's time control): nobody looked in between.
    gaps: list[tuple[datetime, datetime]] = field(default_factory=list)

    MAX_GAPS = 64

    def jumped(self, before: datetime, after: datetime) -> None:
        if after > before:
            self.gaps = [*self.gaps[-(self.MAX_GAPS - 1):], (before, after)]

    def cause(self, due_at: datetime, last_error: str | None) -> MissedCause:
        if last_error == QUIET_HOURS:
            return MissedCause.QUIET_HOURS
        if self.since is None or due_at < self.since or any(start < due_at < end for start, end in self.gaps):
            return MissedCause.DOWNTIME
        return MissedCause.BACKLOG


# ---- the downtime rule ---------------------------------------------------------------------------------


def resolve_overdue(session: Session, now: datetime, watch: Watch) -> int:
    """Closes the due reminders that can no longer be useful and tells the secretaries; returns how many missed."""
    missed = outbox.resolve_overdue(session, now=now, grace=on_time_grace)
    tell_missed(session, missed, now, watch)
    return len(missed)


def tell_missed(session: Session, missed: Sequence[MissedReminder], now: datetime, watch: Watch) -> int:
    """One notice per secretary per activity and cause listing who was not reminded (never one per member)."""
    by_activity: dict[tuple[int, MissedCause], list[MissedReminder]] = defaultdict(list)
    for item in missed:
        by_activity[(item.activity_id, watch.cause(item.due_at, item.last_error))].append(item)
    notices = []
    for (activity_id, cause), items in by_activity.items():
        activity = session.get(models.Activity, activity_id)
        if activity is None or activity.status == ActivityStatus.CANCELLED.value:
            continue
        # Ids, not names: the notice names the members as they are called when it is sent.
        people = sorted({i.member_id for i in items if i.member_id})
        payload = {"missed": [{"member_id": member_id} for member_id in people],
                   "leads": sorted({i.lead_minutes for i in items}),
                   "cause": cause.value}
        for secretary in member_repo.secretary_ids(session, [activity.org_id])[activity.org_id]:
            recipient = outbox.member_recipient(secretary)
            suffix = "" if cause is MissedCause.DOWNTIME else f":{cause.value}"  # downtime keeps the old key
            notices.append(outbox.NewMessage(
                dedup_key=f"{OutboxKind.MISSED_SUMMARY}:{activity_id}:{recipient}{suffix}", recipient=recipient,
                due_at=now, kind=OutboxKind.MISSED_SUMMARY, activity_id=activity_id, member_id=secretary,
                priority=50, payload=payload,
            ))
    return outbox.enqueue(session, notices)


# ---- eligibility of claimed rows ---------------------------------------------------------------------


@dataclass(frozen=True)
class Deliverable:
    """A claimed row that still goes out, and the chat it goes to."""

    message: ClaimedMessage
    chat_id: int


@dataclass
class Checked:
    deliver: list[Deliverable]
    skipped: int = 0
    missed: int = 0
    deferred: int = 0


def _change_left_to_tell(message: ClaimedMessage, activity: models.Activity | None) -> bool:
    """A change notice whose activity is back at the time the member last heard has nothing left to say."""
    before = message.payload.get("before")
    if activity is None or not before or activity.status == ActivityStatus.CANCELLED.value:
        return True
    return datetime.fromisoformat(before) != activity.starts_at


# Kinds that only go out while their activity is still scheduled (a change notice tells of a cancellation).
_FOR_A_SCHEDULED_ACTIVITY = frozenset({OutboxKind.REMINDER, OutboxKind.GROUP_ANNOUNCEMENT})


def check_claimed(session: Session, claimed: Sequence[ClaimedMessage], now: datetime, *, zone: ZoneInfo,
                  deliver_at: DeliverAt, worker: str, watch: Watch) -> Checked:
    """Re-checks each claimed row against the database as it is now; closes or defers what must not go now.

    Returns the rows that still go out with their chats (the caller renders and sends them).
    """
    activity_ids = {m.activity_id for m in claimed if m.activity_id}
    member_ids = {m.member_id for m in claimed if m.member_id}
    activities = {a.id: a for a in session.scalars(select(models.Activity).where(
        models.Activity.id.in_(activity_ids)))} if activity_ids else {}
    org_ids = {a.org_id for a in activities.values()}
    orgs = {o.id: o for o in session.scalars(select(models.Organization).where(
        models.Organization.id.in_(org_ids)))} if org_ids else {}
    # Plain columns, not Member objects: loading those would also load every member's roles.
    members = {row.id: row for row in session.execute(select(
        models.Member.id, models.Member.status, models.Member.unreachable_since,
    ).where(models.Member.id.in_(member_ids)))} if member_ids else {}
    chats: dict[int, int] = {}
    answered: set[tuple[int, int]] = set()
    if member_ids:
        for member_id, private, user in session.execute(select(
            models.TelegramBinding.member_id, models.TelegramBinding.private_chat_id,
            models.TelegramBinding.telegram_user_id,
        ).where(models.TelegramBinding.member_id.in_(member_ids))):
            chats[member_id] = private or user
        if activity_ids:
            answered = set(session.execute(select(models.Attendance.activity_id, models.Attendance.member_id).where(
                models.Attendance.activity_id.in_(activity_ids), models.Attendance.member_id.in_(member_ids),
            )).all())
    skip: dict[str, list[int]] = defaultdict(list)
    started: list[ClaimedMessage] = []
    deferred: dict[datetime, list[int]] = defaultdict(list)
    result = Checked(deliver=[])
    for message in claimed:
        activity = activities.get(message.activity_id) if message.activity_id else None
        member = members.get(message.member_id) if message.member_id else None
        if message.kind in _FOR_A_SCHEDULED_ACTIVITY and (
                activity is None or activity.status != ActivityStatus.SCHEDULED.value):
            skip["activity cancelled or gone"].append(message.id)
            continue
        if message.kind == OutboxKind.REMINDER:
            if activity.starts_at + on_time_grace(message.lead_minutes) <= now:
                started.append(message)
                continue
            if member is not None and (activity.id, member.id) in answered:
                skip["member already answered"].append(message.id)
                continue
        until = None  # a group announcement goes out only until its window closes (`followup.announcement_span`)
        if message.kind == OutboxKind.GROUP_ANNOUNCEMENT:
            until = announcement_span(activity)[1]
            if until <= now:
                skip["check-in window closed"].append(message.id)
                continue
        if message.kind == OutboxKind.CHANGE_NOTICE and not _change_left_to_tell(message, activity):
            skip["moved back to what the member last heard"].append(message.id)
            continue
        if member is not None:
            if member.status != "active":
                skip["member no longer active"].append(message.id)
                continue
            if member.unreachable_since is not None:
                skip["member unreachable"].append(message.id)
                continue
        chat_id = chats.get(member.id) if member is not None else message.chat_id
        if chat_id is None:
            skip["no Telegram chat"].append(message.id)
            continue
        org = orgs.get(activity.org_id) if activity is not None else None
        local_zone = activity_repo.org_zone(org, zone) if org is not None else zone
        starts = activity.starts_at if (activity is not None and message.kind == OutboxKind.REMINDER) else until
        # Now, unless it is quiet hours: then the morning, or (the activity starts, or the announcement's
        # window closes, before the morning) the evening before, which has passed, so the row is dropped.
        moment = deliver_at(now, starts, local_zone)
        if moment > now:
            deferred[moment].append(message.id)
            continue
        if moment < now:
            skip["activity starts before quiet hours end" if until is None
                 else "check-in window closes before quiet hours end"].append(message.id)
            continue
        result.deliver.append(Deliverable(message, chat_id))
    for reason, ids in skip.items():
        outbox.finish(session, ids, OutboxState.SKIPPED, reason=reason, worker=worker)
        result.skipped += len(ids)
    for moment, ids in deferred.items():
        outbox.release(session, ids, worker=worker, next_attempt_at=moment, error=QUIET_HOURS)
        result.deferred += len(ids)
    if started:
        outbox.finish(session, [m.id for m in started], OutboxState.MISSED,
                      reason="activity started before the reminder went out", worker=worker)
        result.missed += len(started)
        tell_missed(session, [MissedReminder(m.id, m.activity_id, m.member_id, m.lead_minutes, m.due_at,
                                             m.last_error) for m in started], now, watch)
    return result


# ---- after a send failed for good ------------------------------------------------------------------


def record_unreachable(session: Session, message: ClaimedMessage, reason: str, error: str, now: datetime,
                       worker: str) -> None:
    """403 / chat not found: the row failed, the member is unreachable, their secretaries are told once."""
    outbox.finish(session, [message.id], OutboxState.FAILED, reason=error, worker=worker)
    member = session.get(models.Member, message.member_id) if message.member_id else None
    if member is None:
        return
    if member.unreachable_since is None:
        member.unreachable_since = now
    since = member.unreachable_since.strftime("%Y%m%d%H%M%S")
    notices = []
    for secretary in member_repo.secretary_ids(session, [member.org_id])[member.org_id]:
        if secretary == member.id:
            continue
        recipient = outbox.member_recipient(secretary)
        notices.append(outbox.NewMessage(
            dedup_key=f"{OutboxKind.UNREACHABLE_NOTICE}:{member.id}:{since}:{recipient}",
            recipient=recipient, due_at=now, kind=OutboxKind.UNREACHABLE_NOTICE, member_id=secretary,
            priority=40, payload={"name": member.name, "member_no": member.member_no, "reason": reason,
                                  "unreachable_member_id": member.id},
        ))
    outbox.enqueue(session, notices)


def follow_migrated_group(session: Session, message: ClaimedMessage, old_chat_id: int, new_chat_id: int,
                          worker: str) -> None:
    """A group became a supergroup: its new id everywhere (organisation, queued group messages); send again."""
    organization_repo.move_group_chat(session, old_chat_id, new_chat_id)
    outbox.move_group_chat(session, old_chat_id, new_chat_id)
    outbox.release(session, [message.id], worker=worker, error=f"chat migrated to {new_chat_id}")
