"""/tasks: the "五个一" checklist of a political birthday is ticked item by item; plain tasks are closed at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage import models
from storage.db import transaction
from storage.errors import AlreadyHandled, PermissionDenied
from storage.services import tasks as task_svc
from tests.chat.dialog import press, running_bot
from tests.chat.world import MEETING_START, actor, add_activity, build_world

T = MEETING_START
FIVE = ["建立政治生日台账", "赠送政治生日贺卡", "开展一次谈心谈话", "重温一次入党誓词", "进行一次走访慰问"]


def checklist_for(obligation):
    return FIVE if obligation == "political_birthday" else []


def with_birthday(session):
    world = build_world(session)
    add_activity(session, world, "birthday", "B01", "政治生日", T + timedelta(days=5), kind="task",
                 obligation="political_birthday", member_id=world.members["alice"])
    return world


def test_ticking_every_item_finishes_the_task(session):
    world = with_birthday(session)
    secretary = actor(session, world, "secretary")
    tasks = task_svc.open_tasks(session, secretary, T, checklist_for)
    birthday = next(t for t in tasks if t.activity.title == "政治生日")
    assert (birthday.member_name, [i.label for i in birthday.items]) == ("张三", FIVE)
    for item in birthday.items:
        view = task_svc.tick(session, secretary, item.id, T, checklist_for)
    assert view.done and session.get(models.Activity, world.activities["birthday"]).status == "held"
    with pytest.raises(AlreadyHandled):
        task_svc.tick(session, secretary, birthday.items[0].id, T, checklist_for)
    assert [t.activity.title for t in task_svc.open_tasks(session, secretary, T, checklist_for)] == ["转正提醒"]


@pytest.mark.parametrize("who", [pytest.param("alice", id="member"), pytest.param("other_secretary", id="other-branch")])
def test_only_the_branch_secretary_ticks(session, who):
    world = with_birthday(session)
    secretary = actor(session, world, "secretary")
    item = task_svc.open_tasks(session, secretary, T, checklist_for)[-1].items[0]
    with pytest.raises(PermissionDenied):
        task_svc.tick(session, actor(session, world, who), item.id, T, checklist_for)


async def test_tasks_dialog(session_factory):
    with transaction(session_factory) as session:
        world = with_birthday(session)
    async with running_bot(session_factory, world, T) as chat:
        await chat.run([
            ("alice", "/tasks", "只有支部书记、副书记或组织委员有待办任务清单。"),
            ("secretary", "/tasks", ("📝 转正提醒\n"
                                     "日期：3月15日（周六）09:00")),
            ("secretary", press("✅ 已办结"), ("📝 政治生日（张三）\n"
                                           "日期：3月20日（周四）09:00\n"
                                           "清单：已完成 0/5 项；点按下方一项勾选，再点一次取消勾选")),
            ("secretary", "/tasks", ("📝 政治生日（张三）\n"
                                     "日期：3月20日（周四）09:00\n"
                                     "清单：已完成 0/5 项；点按下方一项勾选，再点一次取消勾选")),
            # The checklist comes from the project's catalog (config/catalog.yaml).
            ("secretary", press("☐ 赠送政治生日贺卡"), "已勾选"),
        ])
        await chat.expect(("📝 政治生日（张三）\n"
                           "日期：3月20日（周四）09:00\n"
                           "清单：已完成 1/5 项；点按下方一项勾选，再点一次取消勾选"))
    with transaction(session_factory) as session:
        assert session.get(models.Activity, world.activities["task"]).status == "held"
        assert session.scalars(select(models.AuditEntry.action).where(
            models.AuditEntry.action == "task.complete")).all() == ["task.complete"]
