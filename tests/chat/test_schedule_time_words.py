"""/schedule reads the time as notices write it and never folds time words into the title or the place (#12.6, #14)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from storage import models
from storage.db import transaction
from tests.chat.dialog import press, running_bot
from tests.chat.world import MEETING_START, SHANGHAI, build_world

NOW = MEETING_START - timedelta(days=1)  # Friday 14 March 2025, 09:00


async def test_a_range_is_the_time_and_sets_the_end(session_factory):
    with transaction(session_factory) as session:
        world = build_world(session)
    async with running_bot(session_factory, world, NOW) as chat:
        await chat.step("secretary", "/schedule 党员活动 12月20日下午2点到4点 党员活动室", ("🗓 新活动\n"
                                                                            "活动：党员活动（第一党支部）\n"
                                                                            "时间：12月20日（周六）14:00至16:00\n"
                                                                            "（时间理解为：2025年12月20日 星期六 下午2点（14:00） 至 下午4点（16:00））\n"
                                                                            "地点：党员活动室\n"
                                                                            "⚠️ 这天是节假日或周末（按国家调休安排不上班）。\n"
                                                                            "请确认："))
        await chat.step("secretary", press("✅ 确认"), "✅ 已安排「党员活动」：12月20日（周六）14:00至16:00。届时会提醒参加的党员。")
    with transaction(session_factory) as session:
        activity = session.scalars(select(models.Activity).where(models.Activity.title == "党员活动")).one()
        assert (activity.place, activity.starts_at, activity.ends_at) == (
            "党员活动室", datetime(2025, 12, 20, 14, 0, tzinfo=SHANGHAI), datetime(2025, 12, 20, 16, 0, tzinfo=SHANGHAI))


async def test_an_ordinal_weekday_is_the_time_not_the_title(session_factory):
    with transaction(session_factory) as session:
        world = build_world(session)
    async with running_bot(session_factory, world, NOW) as chat:
        await chat.step("secretary", "/schedule 集中学习 下个月第一个周五", ("🗓 新活动\n"
                                                                 "活动：集中学习（第一党支部）\n"
                                                                 "时间：4月4日（周五）09:00\n"
                                                                 "（时间理解为：下个月第一个周五（2025年4月4日 星期五）上午9点（09:00）（未写具体几点，按约定））\n"
                                                                 "⚠️ 这天是节假日或周末（按国家调休安排不上班）。\n"
                                                                 "请确认："))


async def test_time_words_that_were_not_read_are_said_not_folded(session_factory):
    with transaction(session_factory) as session:
        world = build_world(session)
    async with running_bot(session_factory, world, NOW) as chat:
        await chat.step("secretary", "/schedule 集中学习 下个月初 周五上午9点 三楼", ("只看懂了时间“周五上午9点”，旁边的“下个月初”看起来也是时间，但看不懂；请把时间写在一处\n"
                                                                       "例如：专题党课 下周三下午3点 三楼会议室、支委会 明天上午9点 党员活动室、主题党日 3月5日 14:30、党员大会 12月20日下午2点到4点 党员活动室、集中学习 下个月第一个周五上午9点\n"
                                                                       "用法：/schedule 活动名称 时间 地点，例如 /schedule 专题党课 下周三下午3点 三楼会议室"))
        await chat.step("secretary", "/schedule 党员大会 3月20日下午2点 到四点左右 党员活动室", ("只看懂了时间“3月20日下午2点 到四点”，旁边的“左右”看起来也是时间，但看不懂；请把时间写在一处\n"
                                                                              "例如：专题党课 下周三下午3点 三楼会议室、支委会 明天上午9点 党员活动室、主题党日 3月5日 14:30、党员大会 12月20日下午2点到4点 党员活动室、集中学习 下个月第一个周五上午9点\n"
                                                                              "用法：/schedule 活动名称 时间 地点，例如 /schedule 专题党课 下周三下午3点 三楼会议室"))
    with transaction(session_factory) as session:
        assert session.scalars(select(models.PendingInput)).all() == []


async def test_a_passed_yearless_date_is_asked_about(session_factory):
    with transaction(session_factory) as session:
        world = build_world(session)
    async with running_bot(session_factory, world, NOW) as chat:
        await chat.step("secretary", "/schedule 专题党课 3月8号下午3点 三楼", ("❓ 今年的这一天已经过去了。是指 2026年3月8日 吗？是的话请按 ✅ 确认。\n"
                                                                    "🗓 新活动\n"
                                                                    "活动：专题党课（第一党支部）\n"
                                                                    "时间：3月8日（周日）15:00\n"
                                                                    "（时间理解为：2026年3月8日 星期日 下午3点（15:00））\n"
                                                                    "地点：三楼\n"
                                                                    "⚠️ 这天是节假日或周末（按国家调休安排不上班）。\n"
                                                                    "请确认："))
        await chat.step("secretary", press("✅ 确认"), "✅ 已安排「专题党课」：3月8日（周日）15:00。届时会提醒参加的党员。")
    with transaction(session_factory) as session:
        activity = session.scalars(select(models.Activity).where(models.Activity.title == "专题党课")).one()
        assert activity.starts_at == datetime(2026, 3, 8, 15, 0, tzinfo=SHANGHAI)
