"""Tasks to tick off: the 政治生日 "五个一" checklist, 转正 and 换届 reminders, and other secretary tasks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from schedules.plan import names_subject
from storage import models
from storage.errors import AlreadyHandled, InvalidInput, NotFound, PermissionDenied
from storage.models import ActivityKind, ActivityStatus
from storage.repositories import attendance as attendance_repo
from storage.services.actors import Actor, OrgTree, require_manager
from storage.services.permissions import audit_fields
from storage.services.views import ActivityView

LOOK_BACK = timedelta(days=90)  # overdue tasks stay on the list for a quarter
LOOK_AHEAD = timedelta(days=31)

# The catalog's checklist for an obligation key (empty when it has none).
ChecklistSource = Callable[[str | None], Sequence[str]]


@dataclass(frozen=True, slots=True)
class ChecklistEntry:
    id: int
    label: str
    done: bool


@dataclass(frozen=True)
class TaskView:
    activity: ActivityView
    member_name: str | None  # whose 政治生日 / 转正 it is
    items: tuple[ChecklistEntry, ...]
    title_names_member: bool = False  # the plan's title already names them ("政治生日：李四")

    @property
    def done(self) -> bool:
        return self.activity.status == ActivityStatus.HELD.value


def _ensure_items(session: Session, activity: models.Activity, checklist_for: ChecklistSource) -> list[models.ChecklistItem]:
    items = list(session.scalars(select(models.ChecklistItem).where(
        models.ChecklistItem.activity_id == activity.id).order_by(models.ChecklistItem.position)))
    if not items:
        for position, label in enumerate(checklist_for(activity.obligation)):
            item = models.ChecklistItem(activity_id=activity.id, label=label, position=position)
            session.add(item)
            items.append(item)
        session.flush()
    return items


def _task_view(session: Session, activity: models.Activity, tree: OrgTree, checklist_for: ChecklistSource) -> TaskView:
    items = _ensure_items(session, activity, checklist_for)
    member = session.get(models.Member, activity.member_id) if activity.member_id else None
    return TaskView(
        activity=ActivityView.of(activity, tree.name.get(activity.org_id, "")),
        member_name=member.name if member else None,
        items=tuple(ChecklistEntry(i.id, i.label, i.done_at is not None) for i in items),
        title_names_member=member is not None and names_subject(activity.title, member.name),
    )


def open_tasks(session: Session, actor: Actor, now: datetime, checklist_for: ChecklistSource, *,
               limit: int = 10) -> list[TaskView]:
    """The secretary's tasks around now that are not done yet, earliest first."""
    tree = OrgTree.load(session)
    if not actor.managed_org_ids:
        raise PermissionDenied("只有支部书记、副书记或组织委员有待办任务清单。", actor=actor.member_no)
    managed = tree.with_groups(actor.managed_org_ids)
    rows = attendance_repo.activities_between(
        session, managed, now - LOOK_BACK, now + LOOK_AHEAD,
        kinds=[ActivityKind.TASK.value], statuses=[ActivityStatus.SCHEDULED.value],
    )
    return [_task_view(session, row, tree, checklist_for) for row in rows[:limit]]


def _finish(activity: models.Activity, actor: Actor, now: datetime) -> None:
    """A task is done: recorded like a meeting confirmed as held, by whom and when."""
    activity.status = ActivityStatus.HELD.value
    activity.confirmed_at = now
    activity.confirmed_by_member_id = actor.member_id


def tick(session: Session, actor: Actor, item_id: int, now: datetime, checklist_for: ChecklistSource, *,
         done: bool = True) -> TaskView:
    """Ticks one checklist item (done=False unticks it: a tap by mistake is undone); the task is done when every
    item is, and open again when one is unticked."""
    item = session.get(models.ChecklistItem, item_id)
    if item is None:
        raise NotFound("找不到这一项，可能已被删除。", item_id=item_id)
    activity = attendance_repo.activity(session, item.activity_id, for_update=True)
    tree = OrgTree.load(session)
    require_manager(actor, tree, activity.org_id)
    if (item.done_at is not None) == done:
        raise AlreadyHandled(f"“{item.label}”已经{'勾选' if done else '取消勾选'}过了。", item_id=item_id)
    item.done_at = now if done else None
    item.done_by_member_id = actor.member_id if done else None
    items = _ensure_items(session, activity, checklist_for)
    if done and all(i.done_at is not None for i in items):
        _finish(activity, actor, now)
    elif not done and activity.status == ActivityStatus.HELD.value:
        _reopen(activity)
    attendance_repo.add_audit(
        session, now=now, action="task.tick" if done else "task.untick", entity="checklist_item", entity_id=item.id,
        details={"activity_id": activity.id, "label": item.label}, **audit_fields(actor),
    )
    return _task_view(session, activity, tree, checklist_for)


def toggle(session: Session, actor: Actor, item_id: int, now: datetime, checklist_for: ChecklistSource) -> TaskView:
    """The checklist button: ticks an unticked item, unticks a ticked one."""
    item = session.get(models.ChecklistItem, item_id)
    if item is None:
        raise NotFound("找不到这一项，可能已被删除。", item_id=item_id)
    return tick(session, actor, item_id, now, checklist_for, done=item.done_at is None)


def _reopen(activity: models.Activity) -> None:
    activity.status = ActivityStatus.SCHEDULED.value
    activity.confirmed_at = None
    activity.confirmed_by_member_id = None


def complete(session: Session, actor: Actor, activity_id: int, now: datetime, checklist_for: ChecklistSource) -> TaskView:
    """Marks a task without a checklist as done (a task with one is done by ticking every item)."""
    activity = attendance_repo.activity(session, activity_id, for_update=True)
    if activity is None or activity.kind != ActivityKind.TASK.value:
        raise NotFound("找不到这项任务。", activity_id=activity_id)
    tree = OrgTree.load(session)
    require_manager(actor, tree, activity.org_id)
    if activity.status != ActivityStatus.SCHEDULED.value:
        raise AlreadyHandled(f"「{activity.title}」已经完成了。", activity_id=activity_id)
    items = _ensure_items(session, activity, checklist_for)
    if items and not all(i.done_at for i in items):
        raise InvalidInput("请逐项勾选清单，全部完成后任务自动办结。", activity_id=activity_id)
    _finish(activity, actor, now)
    attendance_repo.add_audit(
        session, now=now, action="task.complete", entity="activity", entity_id=activity.id,
        **audit_fields(actor),
    )
    return _task_view(session, activity, tree, checklist_for)
