"""#12 point 14: what a person's action causes goes out within seconds, not at the next minute's sweep.

The bot runs with a real dispatcher whose poll is an hour and without its minute sweep (removed), on a clock
that never moves: a message arrives only because the committed chat transaction woke the dispatcher and
followed the changed activity up at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import select

from bot.handlers import FOLLOWUP_JOB_ID
from bot.runtime.app import telegram_sender
from bot.runtime.service import Runtime, RuntimeOptions
from storage import models
from storage.db import transaction
from tests.chat.dialog import Dialog, press, running_bot
from tests.chat.world import MEETING_START, SHANGHAI, add_sent_reminder, build_world

NOW = MEETING_START - timedelta(days=1)  # Friday 14 March 2025, 09:00


@asynccontextmanager
async def bot_with_dispatcher(db_url, session_factory, world) -> AsyncIterator[Dialog]:  # noqa: ANN001
    async with running_bot(session_factory, world, NOW, schedule_jobs=True) as chat:
        chat.app.job_queue.scheduler.remove_job(FOLLOWUP_JOB_ID)  # no minute sweep in this test
        runtime = Runtime(database_url=db_url, session_factory=session_factory, clock=chat.clock,
                          send=telegram_sender(chat.app), renderers=chat.renderers,
                          options=RuntimeOptions(zone=SHANGHAI, poll_seconds=3600, worker="t", limiter_enabled=False))
        chat.app.bot_data["runtime"] = runtime
        await runtime.start(materialise_first=False)
        try:
            await asyncio.wait_for(runtime.dispatcher.wait_idle(), 20)
            yield chat
        finally:
            await runtime.stop()


async def sent_to(chat: Dialog, chat_id: int, starts: str) -> str:
    record = await chat.server.next_bot_request(
        lambda r: r.method == "sendMessage" and r.params.get("chat_id") == chat_id
        and str(r.params.get("text", "")).startswith(starts), timeout=10)
    return record.params["text"]


async def test_a_change_notice_goes_out_as_soon_as_the_move_is_confirmed(db_url, session_factory):
    with transaction(session_factory) as session:
        world = build_world(session)
        add_sent_reminder(session, world, "bob", NOW)
    async with bot_with_dispatcher(db_url, session_factory, world) as chat:
        await chat.run([
            ("secretary", "/reschedule 主题党日 下周二上午9点 二楼会议室",
             "🔁 调整活动时间\n活动：主题党日（第一党支部）\n原定：3月15日（周六）09:00\n时间：3月18日（周二）09:00\n"
             "（时间理解为：下周二（2025年3月18日 星期二）上午9点（09:00））\n地点：二楼会议室\n"
             "⚠️ 与「党小组会」（3月18日 09:00）时间冲突。\n请确认："),
            ("secretary", press("✅ 确认"), "✅ 已将「主题党日」改到 3月18日（周二）09:00。已通知之前收到提醒的 1 位党员。"),
        ])
        notice = await sent_to(chat, world.telegram["bob"], "📢")
        assert notice == "📢 通知：「主题党日」由 3月15日 09:00 改为 3月18日 09:00，地点：二楼会议室。"
        assert chat.clock.now() == NOW


async def test_a_meeting_scheduled_for_tomorrow_is_announced_in_the_group_at_once(db_url, session_factory):
    with transaction(session_factory) as session:
        world = build_world(session)
    async with bot_with_dispatcher(db_url, session_factory, world) as chat:
        await chat.run([
            ("secretary", "/schedule 学习会 明天上午8点半 三楼会议室",
             "🗓 新活动\n活动：学习会（第一党支部）\n时间：3月15日（周六）08:30\n"
             "（时间理解为：明天（2025年3月15日 星期六）上午8点半（08:30））\n地点：三楼会议室\n"
             "⚠️ 这天是节假日或周末（按国家调休安排不上班）。\n⚠️ 与「主题党日」（3月15日 09:00）时间冲突。\n请确认："),
            ("secretary", press("✅ 确认"), "✅ 已安排「学习会」：3月15日（周六）08:30。届时会提醒参加的党员。"),
        ])
        announcement = await sent_to(chat, chat.group_chat(), "📣")
        assert announcement == ("📣 学习会\n时间：3月15日（周六）08:30\n地点：三楼会议室\n组织：第一党支部\n\n"
                                "签到时间：3月15日（周六）08:00 至 10:30\n已签到 0 人 · 请假 0 人 · 未答复 6 人")
        await asyncio.wait_for(chat.app.bot_data["runtime"].dispatcher.wait_idle(), 20)
        with transaction(session_factory) as session:
            [row] = session.scalars(select(models.OutboxMessage).where(
                models.OutboxMessage.kind == "group_announcement")).all()
            assert row.state == "sent"
        assert chat.clock.now() == NOW
