"""/schedule, /reschedule and /cancel cards: each card's own draft, its warnings, ✏️ 修改, and its ✅.

A card's buttons carry the id of its draft (a `schedule_drafts` row), so ✅ on an older card applies that
card's change, never a newer one; a card that can no longer be applied says why. Carrying it out is the
shared use case (`storage.services.activity_changes`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from storage import models
from storage.errors import AlreadyHandled, InvalidInput
from storage.models import ActivityKind, ActivityStatus
from storage.repositories import attendance as attendance_repo
from storage.repositories import bindings as binding_repo
from storage.services import activity_changes
from storage.services.activity_changes import CANCEL, MOVE, NEW, Change, Reminders
from storage.services.actors import Actor, OrgTree
from storage.services.permissions import require_may_change_activities, schedulable_org
from storage.services.views import ActivityView

DRAFT_TTL = timedelta(hours=2)
WORK_START, WORK_END = time(8, 30), time(18, 0)
CLASH_WINDOW = timedelta(hours=2)
# The pending input while the bot waits for a card's corrected sentence (✏️ 修改).
PENDING_EDIT = "schedule_edit"
OPEN, APPLIED, DISCARDED, REPLACED = "open", "applied", "discarded", "replaced"


@dataclass(frozen=True)
class Draft:
    """A change waiting for its card's ✅: what it is, the resolved time, and what to watch out for."""

    draft_id: int
    operation: str  # new | move | cancel
    title: str
    starts_at: datetime | None
    place: str | None
    org_name: str
    activity: ActivityView | None  # the existing activity for move / cancel
    warnings: tuple[str, ...]
    ends_at: datetime | None = None  # the end, when the secretary wrote a range (下午3点到5点)


@dataclass(frozen=True)
class EditRequest:
    """A card whose sentence is being corrected: which draft, and where its card is."""

    draft_id: int
    operation: str
    title: str
    card: tuple[int, int] | None  # (chat id, message id) of the card, to retire it once the new one is out


# is_workday(day) -> True / False, or None when the official calendar does not know that year.
WorkdayCheck = Callable[[date], bool | None]


def _short(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


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


def draft(
    session: Session, actor: Actor, operation: str, now: datetime, zone: ZoneInfo, is_workday: WorkdayCheck, *,
    title: str, starts_at: datetime | None = None, place: str | None = None, ends_at: datetime | None = None,
) -> Draft:
    """Checks a /schedule, /reschedule or /cancel and keeps it as the draft of the card about to be shown."""
    if actor.telegram_user_id is None:
        raise InvalidInput("请在私聊中安排活动。")
    title, place = activity_changes._check_title(title), activity_changes._check_place(place)
    if starts_at is not None and starts_at <= now:
        raise InvalidInput("这个时间已经过去了，请写一个将来的时间。")
    if ends_at is not None and (starts_at is None or ends_at <= starts_at):
        raise InvalidInput("结束时间必须晚于开始时间。")
    tree = OrgTree.load(session)
    org_id = schedulable_org(actor, tree)
    existing = None
    if operation in (MOVE, CANCEL):
        existing = activity_changes.find_scheduled(session, tree, org_id, title, now)
        require_may_change_activities(actor, tree, existing.org_id)
        title = existing.title
        place = place or existing.place
        org_id = existing.org_id
    warnings: tuple[str, ...] = ()
    if starts_at is not None:
        warnings = _warnings(session, org_id, starts_at, zone, is_workday, tree, existing.id if existing else None)
    row = models.ScheduleDraft(
        telegram_user_id=actor.telegram_user_id, member_id=actor.member_id, operation=operation, org_id=org_id,
        activity_id=existing.id if existing else None, activity_revision=existing.revision if existing else None,
        title=title, starts_at=starts_at, ends_at=ends_at, place=place, state=OPEN, created_at=now,
        expires_at=now + DRAFT_TTL,
    )
    session.add(row)
    session.flush()
    return Draft(
        draft_id=row.id, operation=operation, title=title, starts_at=starts_at, place=place, ends_at=ends_at,
        org_name=tree.name.get(org_id, ""),
        activity=ActivityView.of(existing, tree.name.get(existing.org_id, "")) if existing else None,
        warnings=warnings,
    )


_CLOSED = {
    APPLIED: "这张确认卡已经确认过了，不会重复执行。",
    DISCARDED: "这张确认卡已经放弃，没有做任何改动。如需安排，请重新发送命令。",
    REPLACED: "这张确认卡已经修改过，请使用下方新的确认卡。",
}


def _open_draft(session: Session, actor: Actor, draft_id: int, now: datetime,
                zone: ZoneInfo | None = None) -> models.ScheduleDraft:
    """The card's draft while it can still be acted on; otherwise the reason it cannot."""
    if actor.telegram_user_id is None:
        raise InvalidInput("请在私聊中操作。")
    row = session.get(models.ScheduleDraft, draft_id, with_for_update=True)
    if row is None or row.member_id != actor.member_id:
        raise AlreadyHandled("这张确认卡不是您的，或已失效。请重新发送命令。", draft_id=draft_id)
    if row.state != OPEN:
        raise AlreadyHandled(_CLOSED.get(row.state, _CLOSED[APPLIED]), draft_id=draft_id)
    if row.expires_at <= now:
        raise AlreadyHandled(f"这张确认卡已过期（{int(DRAFT_TTL.total_seconds() // 3600)} 小时内有效），没有做任何改动。"
                             "请重新发送命令。", draft_id=draft_id)
    if row.activity_id is not None:
        activity = session.get(models.Activity, row.activity_id)
        if activity is None or activity.status != ActivityStatus.SCHEDULED.value:
            raise AlreadyHandled(f"「{row.title}」已经不在安排中了（已召开、未召开或已取消），这张确认卡不再适用。",
                                 draft_id=draft_id)
        if (activity.revision or 0) != (row.activity_revision or 0):
            status = "已取消" if activity.status == ActivityStatus.CANCELLED.value else (
                f"现为 {_short(activity.starts_at, zone)}" if zone is not None else "")
            raise AlreadyHandled(f"「{row.title}」在这张确认卡之后已经改过" + (f"（{status}）" if status else "")
                                 + "，这张确认卡不再适用。请重新发送命令。", draft_id=draft_id)
    return row


def apply(session: Session, actor: Actor, draft_id: int, now: datetime, zone: ZoneInfo, *,
          reminders: Reminders, lead_minutes: tuple[int, ...]) -> Change:
    """Carries out this card's draft through the shared use case; the card is then spent."""
    row = _open_draft(session, actor, draft_id, now, zone)
    if row.operation == NEW:
        change = activity_changes.add(session, actor, org_id=row.org_id, title=row.title, starts_at=row.starts_at,
                                      ends_at=row.ends_at, place=row.place, now=now, zone=zone, reminders=reminders,
                                      lead_minutes=lead_minutes)
    elif row.operation == MOVE:
        change = activity_changes.move(session, actor, row.activity_id, starts_at=row.starts_at, ends_at=row.ends_at,
                                       place=row.place, now=now, zone=zone, reminders=reminders)
    else:
        change = activity_changes.cancel(session, actor, row.activity_id, now=now, zone=zone)
    row.state, row.decided_at = APPLIED, now
    return change


def discard(session: Session, actor: Actor, draft_id: int, now: datetime) -> None:
    row = _open_draft(session, actor, draft_id, now)
    row.state, row.decided_at = DISCARDED, now
    _forget_edit(session, actor, draft_id, now)


def begin_edit(session: Session, actor: Actor, draft_id: int, now: datetime, *,
               card: tuple[int, int] | None = None) -> EditRequest:
    """✏️ 修改: the bot waits for the corrected sentence; the card stays as it is until it comes."""
    row = _open_draft(session, actor, draft_id, now)
    if row.operation == CANCEL:
        raise InvalidInput("取消活动的确认卡没有可修改的内容：请确认取消，或保留活动。")
    binding_repo.set_pending_input(session, actor.telegram_user_id, PENDING_EDIT,  # type: ignore[arg-type]
                                   {"draft_id": row.id, "card": list(card) if card else None}, row.expires_at)
    return EditRequest(row.id, row.operation, row.title, card)


def pending_edit(session: Session, actor: Actor, now: datetime) -> EditRequest | None:
    """The card whose corrected sentence the bot waits for from this actor, if any."""
    if actor.telegram_user_id is None:
        return None
    pending = binding_repo.pending_input(session, actor.telegram_user_id, now)
    if pending is None or pending.kind != PENDING_EDIT:
        return None
    row = session.get(models.ScheduleDraft, int(pending.payload["draft_id"]))
    card = pending.payload.get("card")
    return EditRequest(int(pending.payload["draft_id"]), row.operation if row else NEW, row.title if row else "",
                       (int(card[0]), int(card[1])) if card else None)


def replace(session: Session, actor: Actor, edit: EditRequest, now: datetime, zone: ZoneInfo,
            is_workday: WorkdayCheck, *, title: str, starts_at: datetime | None, place: str | None,
            ends_at: datetime | None) -> Draft:
    """The corrected sentence, read by the same parser, becomes a new draft (its new card's); the old card
    is spent, so pressing it again says it was replaced."""
    old = _open_draft(session, actor, edit.draft_id, now)
    new = draft(session, actor, old.operation, now, zone, is_workday, title=title, starts_at=starts_at,
                place=place, ends_at=ends_at)
    old.state, old.decided_at = REPLACED, now
    binding_repo.clear_pending_input(session, actor.telegram_user_id)  # type: ignore[arg-type]
    return new


def _forget_edit(session: Session, actor: Actor, draft_id: int, now: datetime) -> None:
    edit = pending_edit(session, actor, now)
    if edit is not None and edit.draft_id == draft_id:
        binding_repo.clear_pending_input(session, actor.telegram_user_id)  # type: ignore[arg-type]
