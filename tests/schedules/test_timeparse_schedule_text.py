"""split_schedule_text: the time is found anywhere in "/schedule 标题 时间 地点"; before it the title, after it the place."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from schedules.timeparse import TimeParseError, split_schedule_text

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10AM = datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "title", "matched", "at", "place"),
    [
        pytest.param("专题党课 下周三下午3点 三楼会议室", "专题党课", "下周三下午3点", "2025-03-12T15:00:00+08:00", "三楼会议室",
                     id="title time place"),
        pytest.param("/schedule 专题党课 下周三下午3点 三楼会议室", "专题党课", "下周三下午3点", "2025-03-12T15:00:00+08:00",
                     "三楼会议室", id="bot command dropped"),
        pytest.param("/schedule@branch_bot 支委会 明天上午9点", "支委会", "明天上午9点", "2025-03-04T09:00:00+08:00", None,
                     id="no place"),
        pytest.param("专题党课下周三下午3点三楼会议室", "专题党课", "下周三下午3点", "2025-03-12T15:00:00+08:00", "三楼会议室",
                     id="without spaces, 三楼 is not taken as a minute"),
        pytest.param("主题党日 3月5日 14:30 党员活动室", "主题党日", "3月5日 14:30", "2025-03-05T14:30:00+08:00", "党员活动室",
                     id="date and 24-hour time"),
        pytest.param("周一例会 周三下午3点 2号楼", "周一例会", "周三下午3点", "2025-03-05T15:00:00+08:00", "2号楼",
                     id="a weekday inside the title loses to the time standing alone"),
        pytest.param("组织生活会 2025-03-12 15:00 第一会议室", "组织生活会", "2025-03-12 15:00", "2025-03-12T15:00:00+08:00",
                     "第一会议室", id="ISO-like date and time"),
        pytest.param("组织生活会 2025-03-12T15:00+08:00 线上", "组织生活会", "2025-03-12T15:00+08:00",
                     "2025-03-12T15:00:00+08:00", "线上", id="ISO with offset"),
        pytest.param("党课，两小时后，三楼", "党课", "两小时后", "2025-03-03T12:00:00+08:00", "三楼", id="Chinese commas"),
        pytest.param("专题党课　下周三下午３点　三楼会议室", "专题党课", "下周三下午３点", "2025-03-12T15:00:00+08:00", "三楼会议室",
                     id="full-width spaces and digits"),
        pytest.param("Party lecture tomorrow 9am Room 301", "Party lecture", "tomorrow 9am", "2025-03-04T09:00:00+08:00",
                     "Room 301", id="English"),
        pytest.param("周一例会 tomorrow 9am 2号楼", "周一例会", "tomorrow 9am", "2025-03-04T09:00:00+08:00", "2号楼",
                     id="an English time beats a weekday glued into the title"),
        pytest.param("Branch meeting on Friday 8pm in the hall", "Branch meeting", "Friday 8pm",
                     "2025-03-07T20:00:00+08:00", "in the hall", id="English filler words stay outside the time"),
        pytest.param("[支部]党课 下周三下午3点 [线上]", "[支部]党课", "下周三下午3点", "2025-03-12T15:00:00+08:00", "[线上]",
                     id="brackets the secretary closed are kept"),
        pytest.param("学习[bold]党章[/bold] 下周三下午3点 三楼", "学习[bold]党章[/bold]", "下周三下午3点",
                     "2025-03-12T15:00:00+08:00", "三楼", id="markup-like brackets are text"),
        pytest.param("【主题党日】下周三下午3点 三楼会议室（301室）", "【主题党日】", "下周三下午3点", "2025-03-12T15:00:00+08:00",
                     "三楼会议室（301室）", id="a place ending in brackets keeps them"),
        pytest.param("专题党课（下周三下午3点）三楼", "专题党课", "下周三下午3点", "2025-03-12T15:00:00+08:00", "三楼",
                     id="brackets around the time go"),
        pytest.param("[专题党课 下周三下午3点]", "专题党课", "下周三下午3点", "2025-03-12T15:00:00+08:00", None,
                     id="brackets around the whole text go"),
    ],
)
def test_split(text: str, title: str, matched: str, at: str, place: str | None) -> None:
    result = split_schedule_text(text, MONDAY_10AM, SHANGHAI)
    assert (result.title, result.parsed.matched, result.parsed.at.isoformat(), result.place) == (title, matched, at, place)


@pytest.mark.parametrize(
    ("text", "message_part"),
    [
        pytest.param("专题党课 三楼会议室", "没有找到时间", id="no time"),
        pytest.param("下周三下午3点 三楼会议室", "活动名称", id="no title"),
        pytest.param("专题党课 3点 三楼", "不清楚是下午还是凌晨", id="ambiguous time is reported, not skipped"),
        pytest.param("专题党课 昨天下午3点", "已经过去了", id="past"),
        pytest.param("专题党课 2月30日 三楼", "不存在", id="impossible"),
    ],
)
def test_split_refuses(text: str, message_part: str) -> None:
    with pytest.raises(TimeParseError) as raised:
        split_schedule_text(text, MONDAY_10AM, SHANGHAI)
    assert message_part in raised.value.message
    assert raised.value.examples


def test_split_refuses_naive_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        split_schedule_text("专题党课 明天上午9点", datetime(2025, 3, 3, 10, 0), SHANGHAI)
