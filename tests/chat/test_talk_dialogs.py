"""谈心谈话 in chat: either side records a talk, the secretary sees who still owes whom, and one gentle
fourth-quarter reminder lists whom, with a button that records today's talk."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.handlers import rectify
from storage.outbox_kinds import OutboxKind
from storage import models
from storage.db import transaction
from storage.services import talks as talk_svc
from tests.chat.dialog import press, running_bot
from tests.chat.world import SHANGHAI

NOW = datetime(2025, 12, 10, 10, 0, tzinfo=SHANGHAI)
EXAMPLES = "例如：今天、昨天、12月5日、2025-12-05"


async def test_either_side_records_and_the_secretary_sees_progress(session_factory, world):
    async with running_bot(session_factory, world, NOW) as chat:
        await chat.step("alice", "/talk 王书记 12月5日 工作思想交流", "✅ 已记录：12月5日与王书记谈心谈话。")
        await chat.step("secretary", "/talk 张三 12月5日", "12月5日与张三的谈心谈话已经记录过了。")
        await chat.step("secretary", "/talk 李四 昨天",
                        "✅ 已记录：12月9日与李四谈心谈话。\n2025年您还需与 3 位同志谈话：李副书记、赵老、郑新")
        await chat.step("alice", "/talk 李四", "谈心谈话由支委与党员进行：双方至少有一位是本支部支委。")
        await chat.step("secretary", "/talk 周五", "本支部没有名叫“周五”的党员。")
        await chat.step("secretary", "/talk 张三 12月25日", f"12月25日（2025年12月25日 星期四）还没到\n{EXAMPLES}")
        await chat.step("secretary", "/talk", texts_usage())
        progress = ("💬 第一党支部 2025年谈心谈话进度\n王书记：已谈 2 人，待谈 3 人（李副书记、赵老、郑新）\n"
                    "李副书记：已谈 0 人，待谈 5 人（王书记、张三、李四、赵老、郑新）")
        await chat.step("secretary", "/talks", progress)
        await chat.step("committee", "/talks B01", progress)
        await chat.step("alice", "/talks", "您只能查看本组织及下级组织的情况。")
    with transaction(session_factory) as session:
        rows = session.scalars(select(models.HeartToHeartTalk).order_by(models.HeartToHeartTalk.id)).all()
        assert [(r.committee_member_id, r.member_id, r.topic) for r in rows] == [
            (world.members["secretary"], world.members["alice"], "工作思想交流"),
            (world.members["secretary"], world.members["bob"], None),
        ]
        assert session.scalars(select(models.AuditEntry.action).where(
            models.AuditEntry.entity == "heart_to_heart_talk")).all() == ["talk.record", "talk.record"]


def texts_usage() -> str:
    from bot import texts

    return texts.TALK_USAGE


async def test_committee_members_talk_with_each_other_once_for_both(session_factory, world):
    async with running_bot(session_factory, world, NOW) as chat:
        await chat.step("deputy", "/talk 王书记 12月1日",
                        "✅ 已记录：12月1日与王书记谈心谈话。\n2025年您还需与 4 位同志谈话：张三、李四、赵老、郑新")
        await chat.step("secretary", "/talk 李副书记 12月1日", "12月1日与李副书记的谈心谈话已经记录过了。")
    with transaction(session_factory) as session:
        coverage = talk_svc.coverage(session, world.orgs["B01"], 2025)
        assert [p.name for p in coverage.owed_by(world.members["secretary"]).done] == ["李副书记"]


async def test_one_gentle_reminder_in_the_fourth_quarter(session_factory, world):
    async with running_bot(session_factory, world, datetime(2025, 10, 15, 8, 0, tzinfo=SHANGHAI)) as chat:
        def sweep(moment):
            chat.set_now(moment)
            with transaction(session_factory) as session:
                return rectify.enqueue_notices(session, moment, chat.chat)

        assert sweep(datetime(2025, 9, 30, 9, 0, tzinfo=SHANGHAI)) == 0
        assert sweep(datetime(2025, 10, 15, 8, 59, tzinfo=SHANGHAI)) == 0
        assert sweep(datetime(2025, 10, 15, 9, 0, tzinfo=SHANGHAI)) == 3  # B01: 书记, 副书记; B02: 书记
        assert sweep(datetime(2025, 11, 15, 9, 0, tzinfo=SHANGHAI)) == 0  # once a year
        chat.set_now(datetime(2025, 10, 15, 9, 0, tzinfo=SHANGHAI))
        [reminder] = await chat.dispatch(OutboxKind.TALK_OWED, to="deputy")
        assert reminder["text"] == ("💬 谈心谈话提醒（2025年）\n今年您还没有与以下同志谈心谈话：王书记、张三、李四、赵老、郑新\n"
                                    "谈过后请发送 /talk 姓名 日期，或点下面的按钮记录今天的谈话。")
        labels = [b["text"] for row in reminder["reply_markup"]["inline_keyboard"] for b in row]
        assert labels == ["今天已与王书记谈话", "今天已与张三谈话", "今天已与李四谈话", "今天已与赵老谈话", "今天已与郑新谈话"]
        await chat.step("deputy", press("今天已与张三谈话"), "✅ 已记录：10月15日与张三谈心谈话。")
        await chat.expect(("💬 谈心谈话提醒（2025年）\n"
                           "今年您还没有与以下同志谈心谈话：王书记、李四、赵老、郑新\n"
                           "谈过后请发送 /talk 姓名 日期，或点下面的按钮记录今天的谈话。"))


@pytest.mark.parametrize("moment, created", [
    pytest.param(datetime(2025, 10, 20, 14, 0, tzinfo=SHANGHAI), 3, id="after-downtime-on-the-day"),
    pytest.param(datetime(2025, 10, 22, 9, 0, tzinfo=SHANGHAI), 0, id="a-week-later-it-is-not-sent"),
    pytest.param(datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI), 0, id="not-in-the-new-year"),
])
def test_the_reminder_is_looked_for_one_week(session_factory, world, moment, created):
    with transaction(session_factory) as session:
        assert talk_svc.enqueue_owed_reminders(session, moment, SHANGHAI) == created


async def test_the_years_talks_open_with_a_reminder_that_records_by_button(session_factory, world):
    start = datetime(2025, 1, 8, 9, 0, tzinfo=SHANGHAI)  # the catalog's heart_to_heart: the 5th workday of January
    with transaction(session_factory) as session:
        session.add(models.Activity(occurrence_key="test:heart_to_heart", org_id=world.orgs["B01"], title="谈心谈话",
                                    obligation="heart_to_heart", kind="task", audience="committee_and_members",
                                    starts_at=start))
    async with running_bot(session_factory, world, start) as chat:
        with transaction(session_factory) as session:
            assert talk_svc.enqueue_owed_reminders(session, start - timedelta(minutes=1), SHANGHAI) == 0
            assert talk_svc.enqueue_owed_reminders(session, start, SHANGHAI) == 2  # B01's 书记 and 副书记
            assert talk_svc.enqueue_owed_reminders(session, start + timedelta(hours=1), SHANGHAI) == 0
        [opening] = await chat.dispatch(OutboxKind.TALK_OWED, to="secretary")
        assert opening["text"] == ("💬 2025年谈心谈话\n今年请与以下 5 位同志各谈心谈话至少一次：李副书记、张三、李四、赵老、郑新\n"
                                   "谈过后请发送 /talk 姓名 日期，或点下面的按钮记录今天的谈话。")
        await chat.step("secretary", press("今天已与赵老谈话"), "✅ 已记录：1月8日与赵老谈心谈话。")
    with transaction(session_factory) as session:
        [talk] = session.scalars(select(models.HeartToHeartTalk)).all()
        assert (talk.member_id, talk.held_on, talk.topic) == (world.members["offline"], start.date(), None)
