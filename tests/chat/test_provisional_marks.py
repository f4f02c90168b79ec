"""Chat marks activities placed on the provisional calendar close to a holiday "（暂定）"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import models
from storage.db import transaction
from tests.chat.dialog import running_bot
from tests.chat.world import MEETING_START

T = MEETING_START


@pytest.fixture
def world(world, session_factory):  # noqa: ANN001, ANN201
    """The shared world with its 主题党日 on a provisional calendar's date."""
    with transaction(session_factory) as session:
        party_day = session.get(models.Activity, world.activities["party_day"])
        party_day.calendar, party_day.tentative = "provisional", True
    return world


async def test_reminders_and_lists_mark_tentative_dates(session_factory, world):
    async with running_bot(session_factory, world, T - timedelta(days=1)) as chat:
        reminder = await chat.remind("alice", "party_day")
        assert reminder["text"] == ("⏰ 活动提醒：主题党日\n"
                                    "时间：3月15日（周六）09:00（暂定）（1天后）\n"
                                    "组织：第一党支部\n"
                                    "地点：三楼会议室\n"
                                    "议程：学习党章\n"
                                    "（暂定：当年节假日安排尚未公布，日期可能调整，调整时会另行通知）\n"
                                    "请按时参加；如不能参加，请提前请假。")
        await chat.step("secretary", "/plan", ("🗓 本支部近四周的安排：\n"
                                               "• 3月15日（周六）09:00（暂定） 主题党日，三楼会议室\n"
                                               "• 3月15日（周六）09:00 转正提醒\n"
                                               "• 3月18日（周二）09:00 党小组会（第一党小组）\n"
                                               "• 3月20日（周四）09:00 支委会\n"
                                               "• 3月25日（周二）09:00 支部党员大会"))
