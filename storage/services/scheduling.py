"""/schedule, /reschedule and /cancel: a secretary's draft, its warnings, and the confirmed change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import models
from storage.models import ActivityKind, ActivityStatus, OutboxState
from storage.outbox_kinds import OutboxKind
from storage.repositories import activities as activity_repo
from storage.repositories import attendance as attendance_repo
from storage.repositories import bindings as binding_repo
from storage.repositories import outbox
from storage.services.actors import Actor, OrgTree, require_manager
from storage.services.errors import AlreadyHandled, InvalidInput, NotFound, PermissionDenied
from storage.services.views import ActivityView

PENDING_SCHEDULE = "schedule_draft"
DRAFT_TTL = timedelta(hours=2)
WORK_START, WORK_END = time(8, 30), time(18, 0)
CLASH_WINDOW = timedelta(hours=2)

NEW, MOVE, CANCEL = "new", "move", "cancel"


@dataclass(frozen=True)
class Draft:
    """A change waiting for the secretary's ✅: what it is, the resolved time, and what to watch out for."""

    pending_id: int
    operation: str  # new | move | cancel
    title: str
    starts_at: datetime | None
    place: str | None
    org_name: str
    activity: ActivityView | None  # the existing activity for move / cancel
    warnings: tuple[str, ...]
    ends_at: datetime | None = None  # the end, when the secretary wrote a range (下午3点到5点)


@dataclass(frozen=True)
class Applied:
    operation: str
    activity: ActivityView
    before: datetime | None
    told: int  # members who had been reminded and are now told of the change


# is_workday(day) -> True / False, or None when the official calendar does not know that year.
WorkdayCheck = Callable[[date], bool | None]


def _short(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def managed_branch(actor: Actor, tree: OrgTree) -> int:
    """The branch (or 党小组) the secretary schedules for: the first organisation they run."""
    orgs = sorted(actor.managed_org_ids, key=lambda org: (not tree.is_branch(org), org))
    if not orgs:
        raise PermissionDenied("只有支部书记、副书记或组织委员可以安排活动。", actor=actor.member_no)
    return orgs[0]


def _warnings(session: Session, org_id: int, starts_at: datetime, zone: ZoneInfo, is_workday: WorkdayCheck,
              tree: OrgTree, exclude: int | None) -> tuple[str, ...]:
    local = starts_at.astimezone(zone)
    found = []
    workday = is_workday(local.date())
    if workday is None:
        found.append(f"⚠️ 系统还不知道 {local.year} 年的法定节假日安排，无法判断这天是否上班。")
    elif not workday:
        found.append("⚠️ 这天是节假日或周末（按国家调休安排不上班）。")
    if not (WORK_START <= local.time() <= WORK_END):
        found.append(f"⚠️ 时间在工作时间（{WORK_START:%H:%M}–{WORK_END:%H:%M}）之外。")
    related = tree.with_groups([org_id])
    for other in attendance_repo.activities_between(
        session, related, starts_at - CLASH_WINDOW, starts_at + CLASH_WINDOW,
        kinds=[ActivityKind.MEETING.value], statuses=[ActivityStatus.SCHEDULED.value],
    ):
        if other.id != exclude:
            found.append(f"⚠️ 与「{other.title}」（{_short(other.starts_at, zone)}）时间冲突。")
    return tuple(found)


def _find_activity(session: Session, org_id: int, tree: OrgTree, title: str, now: datetime) -> models.Activity:
    """The branch's next scheduled activity whose title contains `title`."""
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


def draft(
    session: Session, actor: Actor, operation: str, now: datetime, zone: ZoneInfo, is_workday: WorkdayCheck, *,
    title: str, starts_at: datetime | None = None, place: str | None = None, ends_at: datetime | None = None,
) -> Draft:
    """Checks a /schedule, /reschedule or /cancel and keeps it as the secretary's pending draft."""
    if actor.telegram_user_id is None:
        raise InvalidInput("请在私聊中安排活动。")
    title = title.strip()
    if not title:
        raise InvalidInput("请写明活动名称。")
    if len(title) > 200:
        raise InvalidInput("活动名称太长了（最多 200 字）。")
    if starts_at is not None and starts_at <= now:
        raise InvalidInput("这个时间已经过去了，请写一个将来的时间。")
    if ends_at is not None and (starts_at is None or ends_at <= starts_at):
        raise InvalidInput("结束时间必须晚于开始时间。")
    tree = OrgTree.load(session)
    org_id = managed_branch(actor, tree)
    existing = None
    if operation in (MOVE, CANCEL):
        existing = _find_activity(session, org_id, tree, title, now)
        require_manager(actor, tree, existing.org_id)
        title = existing.title
        place = place or existing.place
    warnings: tuple[str, ...] = ()
    if starts_at is not None:
        warnings = _warnings(session, org_id, starts_at, zone, is_workday, tree, existing.id if existing else None)
    payload = {
        "operation": operation, "title": title, "place": place, "org_id": existing.org_id if existing else org_id,
        "starts_at": starts_at.isoformat() if starts_at else None, "activity_id": existing.id if existing else None,
        "ends_at": ends_at.isoformat() if ends_at else None,
    }
    pending = binding_repo.set_pending_input(session, actor.telegram_user_id, PENDING_SCHEDULE, payload,
                                             now + DRAFT_TTL)
    return Draft(
        pending_id=pending.id, operation=operation, title=title, starts_at=starts_at, place=place, ends_at=ends_at,
        org_name=tree.name.get(payload["org_id"], ""),
        activity=ActivityView.of(existing, tree.name.get(existing.org_id, "")) if existing else None,
        warnings=warnings,
    )


def discard(session: Session, actor: Actor, pending_id: int, now: datetime) -> None:
    _take(session, actor, pending_id, now)
    binding_repo.clear_pending_input(session, actor.telegram_user_id)  # type: ignore[arg-type]


def _take(session: Session, actor: Actor, pending_id: int, now: datetime) -> models.PendingInput:
    if actor.telegram_user_id is None:
        raise InvalidInput("请在私聊中操作。")
    pending = binding_repo.pending_input(session, actor.telegram_user_id, now)
    if pending is None or pending.id != pending_id or pending.kind != PENDING_SCHEDULE:
        raise AlreadyHandled("这张确认卡已经处理过或已失效，请重新发送命令。", pending_id=pending_id)
    return pending


def apply(
    session: Session, actor: Actor, pending_id: int, now: datetime, zone: ZoneInfo, *,
    lead_minutes: tuple[int, ...],
) -> Applied:
    """Carries out the confirmed draft; members who had been reminded of a moved or cancelled activity are told."""
    pending = _take(session, actor, pending_id, now)
    data = dict(pending.payload)
    tree = OrgTree.load(session)
    require_manager(actor, tree, int(data["org_id"]))
    starts_at = datetime.fromisoformat(data["starts_at"]) if data.get("starts_at") else None
    ends_at = datetime.fromisoformat(data["ends_at"]) if data.get("ends_at") else None
    if starts_at is not None and starts_at <= now:
        raise InvalidInput("这个时间已经过去了，请重新安排。")
    before = None
    if data["operation"] == NEW:
        activity = activity_repo.add_activity(
            session, org_id=int(data["org_id"]), title=data["title"], starts_at=starts_at, lead_minutes=lead_minutes,
            place=data.get("place"), ends_at=ends_at,
        )
    else:
        activity = attendance_repo.activity(session, int(data["activity_id"]), for_update=True)
        if activity is None or activity.status != ActivityStatus.SCHEDULED.value:
            raise AlreadyHandled("这个活动已经不在安排中了。")
        before = activity.starts_at
        if data["operation"] == MOVE:
            activity_repo.move_activity(session, activity, starts_at=starts_at, lead_minutes=None,
                                        place=data.get("place"), zone=zone)
            if ends_at is not None:  # a new range replaces the old end; otherwise the duration is kept
                activity.ends_at = ends_at
            outbox.replan_pending(session, activity.id)
        else:
            activity.status = ActivityStatus.CANCELLED.value
    binding_repo.clear_pending_input(session, actor.telegram_user_id)  # type: ignore[arg-type]
    attendance_repo.add_audit(
        session, now=now, action=f"activity.{data['operation']}", entity="activity", entity_id=activity.id,
        actor_member_id=actor.member_id, actor_telegram_id=actor.telegram_user_id,
        details={"starts_at": data.get("starts_at"), "before": before.isoformat() if before else None},
    )
    view = ActivityView.of(activity, tree.name.get(activity.org_id, ""))
    told = tell_reminded(session, activity, data["operation"], before, now, zone, by=actor.member_id) if before else 0
    return Applied(operation=data["operation"], activity=view, before=before, told=told)


def tell_reminded(session: Session, activity: models.Activity, operation: str, before: datetime, now: datetime,
                  zone: ZoneInfo, *, by: int | None = None, why: str = "schedule") -> int:
    """After `activity` was moved (MOVE) or cancelled (CANCEL) from `before`: every member already reminded
    of it is told once (the runtime calls this too, when a holiday notice moves a provisional date).

    The notice stores the facts (before, after, place, who, why); its text is written when it is sent, from
    the activity as it stands then. A member with an earlier notice still waiting gets one notice, from what
    they last heard (`before` of the waiting one) to now. `zone` is kept for callers: nothing is formatted here.
    """
    reminded = sorted(set(session.scalars(select(models.OutboxMessage.member_id).where(
        models.OutboxMessage.activity_id == activity.id, models.OutboxMessage.kind == OutboxKind.REMINDER.value,
        models.OutboxMessage.state == OutboxState.SENT.value, models.OutboxMessage.member_id.is_not(None),
    ))))
    if not reminded:
        return 0
    notices = outbox.activity_messages(session, activity.id, OutboxKind.CHANGE_NOTICE, reminded)
    waiting: dict[int, models.OutboxMessage] = {}
    told: dict[int, int] = {}
    for row in notices:
        told[row.member_id] = told.get(row.member_id, 0) + 1
        if row.state == OutboxState.PENDING.value:
            earlier = waiting.get(row.member_id)
            if earlier is None or row.id < earlier.id:
                waiting[row.member_id] = row
    outbox.close_pending(session, [row.id for row in notices if row.state == OutboxState.PENDING.value],
                         OutboxState.SKIPPED, "superseded by a later change")
    after = activity.starts_at.isoformat() if operation == MOVE else None
    messages = []
    for member_id in reminded:
        recipient = outbox.member_recipient(member_id)
        earlier = waiting.get(member_id)
        heard = earlier.payload.get("before") if earlier is not None else None
        messages.append(outbox.NewMessage(
            # The n-th change told to this member about this activity: one row per change, never merged with
            # another change that happens to have the same times (moved away and back again).
            dedup_key=f"{OutboxKind.CHANGE_NOTICE}:{activity.id}:{recipient}:{told.get(member_id, 0) + 1}",
            recipient=recipient, due_at=now, kind=OutboxKind.CHANGE_NOTICE, activity_id=activity.id,
            member_id=member_id, priority=5,
            payload={"operation": operation, "before": heard or before.isoformat(), "after": after,
                     "place": activity.place, "by": by, "why": why},
        ))
    return outbox.enqueue(session, messages)
