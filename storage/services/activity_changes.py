"""Adding, moving and cancelling an activity: the use cases chat and CLI share (permission, audit, who is told).

Each one checks permission (`storage.services.permissions`), changes the activity and everything that hangs
on its time (unsent reminders, the roll and its nags, the group's announcement), writes one audit row, and
tells the people affected: members already reminded get a change notice (`scheduling.tell_reminded`), a
branch group that already saw the announcement gets a correction. The caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage import models
from storage.errors import AlreadyHandled, InvalidInput, NotFound
from storage.models import ActivityStatus, OutboxState
from storage.outbox_kinds import OutboxKind
from storage.repositories import activities as activity_repo
from storage.repositories import attendance as attendance_repo
from storage.repositories import outbox
from storage.services import scheduling
from storage.services.actors import OrgTree
from storage.services.permissions import Operator, SystemOperator, audit_fields, require_may_change_activities
from storage.services.views import ActivityView
from storage.text import typed_text

NEW, MOVE, CANCEL = scheduling.NEW, scheduling.MOVE, scheduling.CANCEL
# Posted to a branch group that already saw an activity's announcement, once per move or cancellation.
ANNOUNCEMENT_CHANGED = OutboxKind.ANNOUNCEMENT_CHANGED
# What hangs on an activity's time besides its reminders: queued for the old time, never sent for the new one.
_FOLLOWUP_KINDS = (OutboxKind.GROUP_ANNOUNCEMENT, OutboxKind.ROLL_SUMMARY, OutboxKind.CONFIRM_NAG,
                   OutboxKind.CONFIRM_ESCALATION, OutboxKind.NUDGE)
# Who changes an activity when the plan does (a holiday notice arrived): named so in the audit log.
PLAN_OPERATOR = SystemOperator("scheduler")

# Queues the reminders of these activities (the runtime's materialiser with the deployment's quiet hours).
Reminders = Callable[[Session, Sequence[models.Activity], datetime], int]


@dataclass(frozen=True)
class Change:
    """What a use case did: the activity as it is now, its time before (move, cancel), who was told."""

    operation: str
    activity: ActivityView
    before: datetime | None
    told: int  # members who had been reminded and were told of the change
    reminders: int = 0  # reminder rows queued for the activity's (new) time
    corrected_groups: int = 0  # branch groups that get a correction of an announcement they saw


def _utc(moment: datetime | None) -> datetime | None:
    """Times enter the activity in UTC, as the database gives them back: what is written from the row in the
    same transaction (a notice's `after`) reads the same whichever edge parsed the time."""
    return None if moment is None else moment.astimezone(timezone.utc)


def _check_time(starts_at: datetime, ends_at: datetime | None, now: datetime) -> None:
    if starts_at <= now:
        raise InvalidInput("这个时间已经过去了，请写一个将来的时间。")
    if ends_at is not None and ends_at <= starts_at:
        raise InvalidInput("结束时间必须晚于开始时间。")


def _check_title(title: str) -> str:
    title = typed_text(title, models.Activity.title, "活动名称")  # controls and length: storage.text, as all typed text
    if not title:
        raise InvalidInput("请写明活动名称。")
    return title


def _check_place(place: str | None) -> str | None:
    return typed_text(place, models.Activity.place, "地点") or None


def _audit(session: Session, who: Operator, operation: str, activity: models.Activity, now: datetime,
           before: datetime | None) -> None:
    def utc(moment: datetime | None) -> str | None:  # one spelling, whichever edge parsed the time
        return None if moment is None else moment.astimezone(timezone.utc).isoformat()

    attendance_repo.add_audit(
        session, now=now, action=f"activity.{operation}", entity="activity", entity_id=activity.id,
        details={"starts_at": utc(activity.starts_at), "before": utc(before), "ends_at": utc(activity.ends_at),
                 "place": activity.place, "revision": activity.revision},
        **audit_fields(who),
    )


def _view(session: Session, activity: models.Activity) -> ActivityView:
    org = session.get(models.Organization, activity.org_id)
    return ActivityView.of(activity, org.name if org is not None else "")


def no_such_activity(activity_id: int) -> NotFound:
    """The refusal for an activity number that names nothing (chat's cards and the command line)."""
    return NotFound(f"没有编号为 {activity_id} 的活动。", activity_id=activity_id)


def scheduled_activity(session: Session, activity_id: int) -> models.Activity:
    """The activity to move or cancel, locked; refused when it is gone or no longer scheduled."""
    activity = attendance_repo.activity(session, activity_id, for_update=True)
    if activity is None:
        raise no_such_activity(activity_id)
    if activity.status != ActivityStatus.SCHEDULED.value:
        raise AlreadyHandled(f"「{activity.title}」已经不在安排中了（已召开、未召开或已取消）。", activity_id=activity_id)
    return activity


def find_scheduled(session: Session, tree: OrgTree, org_id: int, title: str, now: datetime) -> models.Activity:
    """The organisation's (or its 党小组') next scheduled activity whose title contains `title`: how /reschedule,
    /cancel and `branchbot activity move|cancel --title` name the activity they change."""
    related = tree.with_groups([org_id])
    candidates = [
        a for a in attendance_repo.activities_between(
            session, related, now - timedelta(hours=2), now + timedelta(days=400),
            statuses=[ActivityStatus.SCHEDULED.value])
        if title in a.title
    ]
    if not candidates:
        raise NotFound(f"没有找到名为“{title}”的待开展活动。发送 /plan 查看本支部的安排。", title=title)
    return candidates[0]


def add(
    session: Session, who: Operator, *, org_id: int, title: str, starts_at: datetime, now: datetime, zone: ZoneInfo,
    reminders: Reminders, lead_minutes: Sequence[int], ends_at: datetime | None = None, place: str | None = None,
    obligation: str | None = None,
) -> Change:
    """A new activity. With an obligation whose planned occurrence falls in the same month, that occurrence
    is moved instead (an ad-hoc 主题党日 replaces the planned one, it does not double it)."""
    title, place = _check_title(title), _check_place(place)
    _check_time(starts_at, ends_at, now)
    starts_at, ends_at = _utc(starts_at), _utc(ends_at)
    tree = OrgTree.load(session)
    require_may_change_activities(who, tree, org_id)
    if obligation:
        planned = activity_repo.planned_in_same_month(session, org_id=org_id, obligation=obligation,
                                                      moment=starts_at, zone=zone)
        if planned is not None:
            return move(session, who, planned.id, starts_at=starts_at, ends_at=ends_at, place=place, title=title,
                        lead_minutes=lead_minutes, now=now, zone=zone, reminders=reminders)
    activity = activity_repo.add_activity(session, org_id=org_id, title=title, starts_at=starts_at,
                                          lead_minutes=lead_minutes, obligation=obligation, place=place, ends_at=ends_at)
    queued = reminders(session, [activity], now)
    _audit(session, who, NEW, activity, now, None)
    return Change(NEW, _view(session, activity), None, 0, queued)


def move(
    session: Session, who: Operator, activity_id: int, *, starts_at: datetime, now: datetime, zone: ZoneInfo,
    reminders: Reminders, ends_at: datetime | None = None, place: str | None = None, title: str | None = None,
    lead_minutes: Sequence[int] | None = None,
) -> Change:
    """Moves a scheduled activity to `starts_at` (a given `ends_at` replaces the end, else the duration is
    kept): its check-in window, reminders, roll and nags follow; the reminded and the group are told."""
    place = _check_place(place)
    _check_time(starts_at, ends_at, now)
    starts_at, ends_at = _utc(starts_at), _utc(ends_at)
    activity = scheduled_activity(session, activity_id)
    require_may_change_activities(who, OrgTree.load(session), activity.org_id)
    before = activity.starts_at
    activity_repo.move_activity(session, activity, starts_at=starts_at, lead_minutes=lead_minutes,
                                title=_check_title(title) if title else None, place=place, zone=zone,
                                **({"ends_at": ends_at} if ends_at is not None else {}))
    outbox.replan_pending(session, activity.id)
    corrected = _retire_followups(session, activity, MOVE, before, now)
    queued = reminders(session, [activity], now)
    _audit(session, who, MOVE, activity, now, before)
    # A system operator's member_id is None: the notice then names nobody as having moved it.
    told = scheduling.tell_reminded(session, activity, MOVE, before, now, zone, by=who.member_id)
    return Change(MOVE, _view(session, activity), before, told, queued, corrected)


def cancel(session: Session, who: Operator, activity_id: int, *, now: datetime, zone: ZoneInfo,
           why: str = "schedule") -> Change:
    """Cancels a scheduled activity: nothing more is sent for it; the reminded and the group are told."""
    activity = scheduled_activity(session, activity_id)
    require_may_change_activities(who, OrgTree.load(session), activity.org_id)
    before = activity.starts_at
    activity.status = ActivityStatus.CANCELLED.value
    activity.revision = (activity.revision or 0) + 1
    session.flush()
    pending = models.OutboxMessage
    session.execute(update(pending).where(
        pending.activity_id == activity.id, pending.kind == OutboxKind.REMINDER,
        pending.state == OutboxState.PENDING.value,
    ).values(state=OutboxState.SKIPPED.value, last_error="activity cancelled").execution_options(synchronize_session=False))
    corrected = _retire_followups(session, activity, CANCEL, before, now)
    _audit(session, who, CANCEL, activity, now, before)
    told = scheduling.tell_reminded(session, activity, CANCEL, before, now, zone, by=who.member_id, why=why)
    return Change(CANCEL, _view(session, activity), before, told, 0, corrected)


def follow_plan_move(session: Session, activity: models.Activity, before: datetime, now: datetime,
                     zone: ZoneInfo) -> int:
    """The plan moved `activity` (a holiday notice replaced the provisional calendar): the time, window and
    revision are already the plan's (`activity_repo.reschedule`) and the materialiser re-plans the reminders;
    here the rest of a move happens, as for a hand move: old follow-ups dropped, the group corrected, the
    reminded told, the change audited as the scheduler's. Returns how many members were told."""
    _retire_followups(session, activity, MOVE, before, now)
    _audit(session, PLAN_OPERATOR, MOVE, activity, now, before)
    return scheduling.tell_reminded(session, activity, MOVE, before, now, zone, why="calendar")


def _retire_followups(session: Session, activity: models.Activity, operation: str, before: datetime,
                      now: datetime) -> int:
    """Follow-ups queued for the old time are dropped (the sweep queues the new time's, keyed by revision);
    every group that was shown the announcement gets one correction, and the old post's buttons answer
    with what changed (the revision in their data is no longer the activity's)."""
    row = models.OutboxMessage
    session.execute(update(row).where(
        row.activity_id == activity.id, row.kind.in_(_FOLLOWUP_KINDS),
        row.state.in_([OutboxState.PENDING.value, OutboxState.MISSED.value]),
    ).values(state=OutboxState.SKIPPED.value, last_error=f"activity {operation}d").execution_options(
        synchronize_session=False))
    shown = session.execute(select(row.chat_id, row.telegram_message_id).where(
        row.activity_id == activity.id, row.kind == OutboxKind.GROUP_ANNOUNCEMENT,
        row.state == OutboxState.SENT.value, row.chat_id.is_not(None),
    ).order_by(row.id)).all()
    latest: dict[int, int | None] = {}
    for chat_id, message_id in shown:
        latest[chat_id] = message_id
    return outbox.enqueue(session, [
        outbox.NewMessage(
            dedup_key=f"{ANNOUNCEMENT_CHANGED}:{activity.id}:r{activity.revision}:{outbox.chat_recipient(chat_id)}",
            recipient=outbox.chat_recipient(chat_id), due_at=now, kind=ANNOUNCEMENT_CHANGED,
            activity_id=activity.id, chat_id=chat_id, priority=5,
            payload={"operation": operation, "before": before.astimezone(timezone.utc).isoformat(),
                     "revision": activity.revision,
                     "replaces_message_id": message_id},
        )
        for chat_id, message_id in sorted(latest.items())
    ])


def stale_button(session: Session, activity_id: int, revision: int) -> ActivityView | None:
    """The activity as it is now when a button made for `revision` of it is out of date (moved or cancelled
    since); None when the button is current."""
    current = session.scalar(select(models.Activity.revision).where(models.Activity.id == activity_id))
    if current is None or current == revision:  # the common case: one small read on the check-in path
        return None
    return _view(session, attendance_repo.activity_with_org(session, activity_id))
