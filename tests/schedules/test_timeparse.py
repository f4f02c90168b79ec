"""The Chinese and English forms secretaries write, each resolved against a fixed `now`, and the errors we refuse with."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from schedules.timeparse import ParsedTime, TimeParseError, parse_time
from schedules.timeparse.numerals import parse_number

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_10AM = datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI)


def at(text: str) -> str:
    """'2025-03-12 15:00' in Shanghai, as ISO with offset, so the tables read like a calendar."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).isoformat()


def resolved(text: str, now: datetime = MONDAY_10AM) -> str:
    return parse_time(text, now, SHANGHAI).at.isoformat()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Chinese numerals and the ways of saying the hour
        pytest.param("明天上午十点", at("2025-03-04 10:00"), id="十"),
        pytest.param("明天晚上十一点", at("2025-03-04 23:00"), id="十一 evening"),
        pytest.param("明天中午十二点", at("2025-03-04 12:00"), id="十二 noon"),
        pytest.param("明天两点半", None, id="两点 without period is ambiguous"),
        pytest.param("明天下午两点", at("2025-03-04 14:00"), id="两"),
        pytest.param("明天二十点", at("2025-03-04 20:00"), id="二十 as 24-hour"),
        pytest.param("明天下午3点钟", at("2025-03-04 15:00"), id="点钟"),
        pytest.param("明天15时", at("2025-03-04 15:00"), id="时"),
        pytest.param("明天下午3点整", at("2025-03-04 15:00"), id="整"),
        pytest.param("明天下午三点半", at("2025-03-04 15:30"), id="半"),
        pytest.param("明天下午3点一刻", at("2025-03-04 15:15"), id="一刻"),
        pytest.param("明天下午3点三刻", at("2025-03-04 15:45"), id="三刻"),
        pytest.param("明天下午3点20分", at("2025-03-04 15:20"), id="N分"),
        pytest.param("明天下午三点二十分", at("2025-03-04 15:20"), id="Chinese N分"),
        pytest.param("明天下午三点零五分", at("2025-03-04 15:05"), id="零五分"),
        pytest.param("明天下午3点40", at("2025-03-04 15:40"), id="点MM without 分"),
        pytest.param("明天下午三点十五", at("2025-03-04 15:15"), id="点十五 without 分"),
        pytest.param("明天 14:30", at("2025-03-04 14:30"), id="24-hour with space"),
        pytest.param("明天14：30", at("2025-03-04 14:30"), id="full-width colon"),
        pytest.param("明天１４:３０", at("2025-03-04 14:30"), id="full-width digits"),
        pytest.param("明天03:00", at("2025-03-04 03:00"), id="zero-padded hour is 24-hour"),
        pytest.param("明天0点", at("2025-03-04 00:00"), id="0点 is midnight"),
        # parts of day alone and with hours
        pytest.param("明天上午", at("2025-03-04 09:00"), id="上午 alone 9:00"),
        pytest.param("明天早上", at("2025-03-04 08:00"), id="早上 alone 8:00"),
        pytest.param("明天中午", at("2025-03-04 12:00"), id="中午 alone 12:00"),
        pytest.param("明天下午", at("2025-03-04 15:00"), id="下午 alone 15:00"),
        pytest.param("明天傍晚", at("2025-03-04 18:00"), id="傍晚 alone 18:00"),
        pytest.param("明天晚上", at("2025-03-04 19:00"), id="晚上 alone 19:00"),
        pytest.param("中午1点", at("2025-03-03 13:00"), id="中午1点 is 13:00"),
        pytest.param("明天上午12点", at("2025-03-04 12:00"), id="上午12点 is noon"),
        pytest.param("明天下午15点", at("2025-03-04 15:00"), id="下午15点 is 15:00"),
        pytest.param("明天晚上12点", at("2025-03-05 00:00"), id="晚上12点 is midnight ending that day"),
        pytest.param("明天凌晨5点", at("2025-03-04 05:00"), id="凌晨"),
        pytest.param("明天的下午3点", at("2025-03-04 15:00"), id="的 between day and time"),
        pytest.param("今晚", at("2025-03-03 19:00"), id="今晚 alone"),
        pytest.param("今晚8点", at("2025-03-03 20:00"), id="今晚8点"),
        pytest.param("明晚8点", at("2025-03-04 20:00"), id="明晚"),
        pytest.param("明早", at("2025-03-04 08:00"), id="明早 alone"),
        pytest.param("明天早上8点半", at("2025-03-04 08:30"), id="早上8点半"),
        pytest.param("明天早8点", at("2025-03-04 08:00"), id="早 short for 早上"),
        pytest.param("明天晚7点", at("2025-03-04 19:00"), id="晚 short for 晚上"),
        pytest.param("3月5日（周三）下午3点", at("2025-03-05 15:00"), id="weekday in brackets agrees"),
        pytest.param("15号(星期六)", at("2025-03-15 09:00"), id="weekday in ASCII brackets agrees"),
        # relative days
        pytest.param("明天", at("2025-03-04 09:00"), id="bare 明天 is 9:00"),
        pytest.param("明日下午", at("2025-03-04 15:00"), id="明日"),
        pytest.param("后天", at("2025-03-05 09:00"), id="后天"),
        pytest.param("大后天下午3点", at("2025-03-06 15:00"), id="大后天"),
        pytest.param("今天下午", at("2025-03-03 15:00"), id="今天下午"),
        # weekdays
        pytest.param("周三", at("2025-03-05 09:00"), id="周三 coming this week"),
        pytest.param("星期三下午", at("2025-03-05 15:00"), id="星期三"),
        pytest.param("礼拜三下午", at("2025-03-05 15:00"), id="礼拜三"),
        pytest.param("周日", at("2025-03-09 09:00"), id="周日"),
        pytest.param("星期天下午", at("2025-03-09 15:00"), id="星期天"),
        pytest.param("礼拜天", at("2025-03-09 09:00"), id="礼拜天"),
        pytest.param("周一上午9点", at("2025-03-10 09:00"), id="周一 today passed -> next week"),
        pytest.param("周一下午3点", at("2025-03-03 15:00"), id="周一 today still ahead -> today"),
        pytest.param("本周五", at("2025-03-07 09:00"), id="本周"),
        pytest.param("这周日晚上", at("2025-03-09 19:00"), id="这周日"),
        pytest.param("这个星期五下午", at("2025-03-07 15:00"), id="这个星期"),
        pytest.param("下周五", at("2025-03-14 09:00"), id="下周"),
        pytest.param("下个星期一", at("2025-03-10 09:00"), id="下个星期"),
        pytest.param("下礼拜二下午2点", at("2025-03-11 14:00"), id="下礼拜"),
        pytest.param("下周日", at("2025-03-16 09:00"), id="下周日 is in next calendar week"),
        pytest.param("下下周五晚上7点", at("2025-03-21 19:00"), id="下下周"),
        pytest.param("下周 三 下午 3点", at("2025-03-12 15:00"), id="spaces inside"),
        # months and days of month
        pytest.param("下个月5号", at("2025-04-05 09:00"), id="下个月 号"),
        pytest.param("下月5日下午", at("2025-04-05 15:00"), id="下月 日"),
        pytest.param("本月31日", at("2025-03-31 09:00"), id="本月"),
        pytest.param("这个月20号晚上8点", at("2025-03-20 20:00"), id="这个月"),
        pytest.param("下下个月1号", at("2025-05-01 09:00"), id="下下个月"),
        pytest.param("15号", at("2025-03-15 09:00"), id="bare day this month"),
        pytest.param("2号下午", at("2025-04-02 15:00"), id="bare day passed -> next month"),
        pytest.param("3月5日", at("2025-03-05 09:00"), id="month-day without year"),
        pytest.param("三月五日下午三点", at("2025-03-05 15:00"), id="Chinese numerals month-day"),
        pytest.param("3月5号 下午2点", at("2025-03-05 14:00"), id="号 with space"),
        pytest.param("12月31日", at("2025-12-31 09:00"), id="later this year"),
        pytest.param("2026年1月5日", at("2026-01-05 09:00"), id="explicit next year"),
        pytest.param("明年3月1日", at("2026-03-01 09:00"), id="明年"),
        pytest.param("二〇二五年三月二十日", at("2025-03-20 09:00"), id="Chinese year"),
        pytest.param("2025/3/20 14:00", at("2025-03-20 14:00"), id="slashes"),
        pytest.param("2025-03-20", at("2025-03-20 09:00"), id="ISO date alone is 9:00"),
        # time of day alone
        pytest.param("下午", at("2025-03-03 15:00"), id="下午 alone today"),
        pytest.param("上午", at("2025-03-04 09:00"), id="上午 passed -> tomorrow"),
        pytest.param("9点", at("2025-03-04 09:00"), id="9点 passed -> tomorrow 9:00"),
        pytest.param("11点", at("2025-03-03 11:00"), id="11点 ahead -> today"),
        pytest.param("19:30", at("2025-03-03 19:30"), id="24-hour alone"),
        pytest.param("晚上8点", at("2025-03-03 20:00"), id="晚上8点"),
        pytest.param("凌晨2点", at("2025-03-04 02:00"), id="凌晨2点 passed -> tomorrow"),
        # elapsed time and day offsets
        pytest.param("半小时后", at("2025-03-03 10:30"), id="半小时后"),
        pytest.param("一个半小时后", at("2025-03-03 11:30"), id="一个半小时后"),
        pytest.param("1个小时后", at("2025-03-03 11:00"), id="个小时"),
        pytest.param("1小时30分钟后", at("2025-03-03 11:30"), id="小时 and 分钟"),
        pytest.param("十分钟以后", at("2025-03-03 10:10"), id="以后"),
        pytest.param("90分钟之后", at("2025-03-03 11:30"), id="之后"),
        pytest.param("二十四小时后", at("2025-03-04 10:00"), id="二十四小时后"),
        pytest.param("两天后", at("2025-03-05 09:00"), id="两天后"),
        pytest.param("3天后下午3点", at("2025-03-06 15:00"), id="N天后 with time"),
        pytest.param("2周后", at("2025-03-17 09:00"), id="N周后"),
        pytest.param("两个星期后", at("2025-03-17 09:00"), id="两个星期后"),
        pytest.param("1个月后", at("2025-04-03 09:00"), id="N个月后"),
        # ISO 8601
        pytest.param("2025-03-12T15:00", at("2025-03-12 15:00"), id="ISO without offset is in the zone"),
        pytest.param("2025-03-12T07:00:00Z", at("2025-03-12 15:00"), id="ISO UTC converted to the zone"),
        pytest.param("2025-03-12T15:00:00+08:00", at("2025-03-12 15:00"), id="ISO with offset"),
        # English
        pytest.param("tomorrow", at("2025-03-04 09:00"), id="en tomorrow is 9:00"),
        pytest.param("Tomorrow 3pm", at("2025-03-04 15:00"), id="en capitalised"),
        pytest.param("tomorrow at 2:30 pm", at("2025-03-04 14:30"), id="en at 2:30 pm"),
        pytest.param("tomorrow evening", at("2025-03-04 19:00"), id="en evening is 19:00"),
        pytest.param("tomorrow afternoon", at("2025-03-04 15:00"), id="en afternoon"),
        pytest.param("3pm", at("2025-03-03 15:00"), id="en time alone still ahead -> today"),
        pytest.param("9am", at("2025-03-04 09:00"), id="en time alone passed -> tomorrow"),
        pytest.param("friday", at("2025-03-07 09:00"), id="en weekday is 9:00"),
        pytest.param("this friday 4pm", at("2025-03-07 16:00"), id="en this friday"),
        pytest.param("in 30 minutes", at("2025-03-03 10:30"), id="en in minutes"),
        pytest.param("in 3 days", at("2025-03-06 09:00"), id="en in days is 9:00"),
        pytest.param("in 2 weeks", at("2025-03-17 09:00"), id="en in weeks"),
        pytest.param("20 March 2025 14:30", at("2025-03-20 14:30"), id="en day-month-year"),
        pytest.param("Dec 24", at("2025-12-24 09:00"), id="en month-day later this year"),
        pytest.param("tomorrow 10 am", at("2025-03-04 10:00"), id="en spaced am (dateparser drops it)"),
        pytest.param("at 10 am tomorrow", at("2025-03-04 10:00"), id="en time before the day"),
        pytest.param("noon tomorrow", at("2025-03-04 12:00"), id="en noon"),
        pytest.param("tomorrow 7 o'clock pm", at("2025-03-04 19:00"), id="en o'clock pm"),
        pytest.param("tomorrow 15:00", at("2025-03-04 15:00"), id="en 24-hour"),
        pytest.param("20th march 3pm", at("2025-03-20 15:00"), id="en day-first month name"),
        pytest.param("2025/03/05 9am", at("2025-03-05 09:00"), id="en ISO-like date with am"),
        pytest.param("2 hours from now", at("2025-03-03 12:00"), id="en from now"),
        pytest.param("today 8pm", at("2025-03-03 20:00"), id="en today"),
        pytest.param("tonight", at("2025-03-03 19:00"), id="en tonight is 19:00"),
    ],
)
def test_form_resolves(text: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(TimeParseError):
            parse_time(text, MONDAY_10AM, SHANGHAI)
    else:
        assert resolved(text) == expected


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        pytest.param("1月5日", datetime(2025, 12, 20, 10, 0, tzinfo=SHANGHAI), at("2026-01-05 09:00"),
                     id="January in December means next year"),
        pytest.param("Jan 5", datetime(2025, 12, 20, 10, 0, tzinfo=SHANGHAI), at("2026-01-05 09:00"),
                     id="en January in December means next year"),
        pytest.param("1月5日", datetime(2025, 10, 5, 10, 0, tzinfo=SHANGHAI), at("2026-01-05 09:00"),
                     id="next year's date exactly 92 days away is meant"),
        pytest.param("Jan 5", datetime(2025, 10, 5, 10, 0, tzinfo=SHANGHAI), at("2026-01-05 09:00"),
                     id="en next year's date exactly 92 days away is meant"),
        pytest.param("1月5日", datetime(2025, 10, 4, 10, 0, tzinfo=SHANGHAI), None,
                     id="next year's date 93 days away needs the year"),
        pytest.param("Jan 5", datetime(2025, 10, 4, 10, 0, tzinfo=SHANGHAI), None,
                     id="en next year's date 93 days away needs the year"),
        pytest.param("周一", datetime(2025, 3, 9, 20, 0, tzinfo=SHANGHAI), at("2025-03-10 09:00"),
                     id="周一 said on Sunday is tomorrow"),
        pytest.param("下周一", datetime(2025, 3, 9, 20, 0, tzinfo=SHANGHAI), at("2025-03-10 09:00"),
                     id="下周一 said on Sunday is tomorrow (weeks start Monday)"),
        pytest.param("明天", datetime(2025, 12, 31, 10, 0, tzinfo=SHANGHAI), at("2026-01-01 09:00"),
                     id="明天 across the year"),
        pytest.param("下个月5号", datetime(2025, 12, 10, 10, 0, tzinfo=SHANGHAI), at("2026-01-05 09:00"),
                     id="下个月 across the year"),
        pytest.param("1个月后", datetime(2025, 1, 30, 10, 0, tzinfo=SHANGHAI), None,
                     id="1个月后 from 30 January does not exist"),
        pytest.param("29号", datetime(2025, 1, 30, 10, 0, tzinfo=SHANGHAI), None,
                     id="29号 after the 29th of a month followed by a short February"),
        pytest.param("2月29日", datetime(2028, 1, 10, 10, 0, tzinfo=SHANGHAI), at("2028-02-29 09:00"),
                     id="2月29日 in a leap year"),
        pytest.param("2月29日", datetime(2025, 1, 10, 10, 0, tzinfo=SHANGHAI), None,
                     id="2月29日 in a common year does not exist"),
        pytest.param("两小时后", datetime(2025, 3, 3, 10, 17, 42, 5, tzinfo=SHANGHAI), at("2025-03-03 12:17"),
                     id="elapsed time drops the seconds"),
        pytest.param("两小时后", datetime(2025, 3, 3, 2, 0, tzinfo=ZoneInfo("UTC")), at("2025-03-03 12:00"),
                     id="now in another zone is converted"),
    ],
)
def test_form_depends_on_now(text: str, now: datetime, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(TimeParseError):
            parse_time(text, now, SHANGHAI)
    else:
        assert resolved(text, now) == expected


@pytest.mark.parametrize(
    ("text", "message_part", "example"),
    [
        pytest.param("3点", "不清楚是下午还是凌晨", "下午3点", id="bare hour 1-6 is ambiguous"),
        pytest.param("明天6点", "不清楚是下午还是凌晨", "凌晨6点", id="明天6点 is ambiguous"),
        pytest.param("明天3:30", "不清楚是下午还是凌晨", "15:30", id="明天3:30 is ambiguous"),
        pytest.param("25点", "25点不存在", "23:00", id="25点 does not exist"),
        pytest.param("明天24点", "24点不存在", "明天0点", id="24点 does not exist"),
        pytest.param("明天下午3点61分", "61分不存在", "15:45", id="61 minutes"),
        pytest.param("2月30日", "2025年2月30日不存在", "3月5日", id="2月30日"),
        pytest.param("13月1日", "13月不存在", "3月5日", id="13月"),
        pytest.param("4月31号", "不存在", "3月5日", id="4月31号"),
        pytest.param("2025-02-30 10:00", "不存在", "2025-03-12 15:00", id="ISO impossible date"),
        pytest.param("上午15点", "说法矛盾", "15:00", id="上午15点 contradicts"),
        pytest.param("3月5日（周四）下午3点", "3月5日是星期三，不是星期四", "3月5日（周三）", id="weekday in brackets disagrees"),
        pytest.param("明天晚上3点", "说法矛盾", "凌晨3点", id="晚上3点 contradicts"),
        pytest.param("今晚上午9点", "矛盾", "今晚8点", id="今晚 with 上午 contradicts"),
        pytest.param("明天凌晨", "凌晨", "凌晨5点", id="凌晨 alone"),
        pytest.param("昨天", "已经过去了", "明天上午9点", id="昨天"),
        pytest.param("今天", "已经过去了", "明天上午9点", id="今天 at 10:00: 9:00 has passed"),
        pytest.param("今天上午9点", "已经过去了", "明天上午9点", id="today's time passed with explicit 今天"),
        pytest.param("上周五", "已经过去了", "明天上午9点", id="上周五"),
        pytest.param("本周一上午9点", "如果指的是下周", "下周一", id="本周 day passed is not moved to next week"),
        pytest.param("3月1日", "如果指的是明年", "2026年3月1日", id="passed date far from next year asks for the year"),
        pytest.param("2024年3月5日", "已经过去了", "明天上午9点", id="past year"),
        pytest.param("2025-03-03T09:00:00+08:00", "已经过去了", "明天上午9点", id="ISO in the past"),
        pytest.param("0分钟后", "现在", "30分钟后", id="0分钟后"),
        pytest.param("下个月", "没有写几号", "下个月5号", id="month without day is partial"),
        pytest.param("下周", "没有写星期几", "下周三下午3点", id="week without weekday is partial"),
        pytest.param("周末", "周六还是周日", "周六上午9点", id="周末 is ambiguous"),
        pytest.param("明天开会", "只看懂了“明天”", "明天上午9点", id="extra words are not skipped"),
        pytest.param("随便什么时候", "看不懂", "下周三下午3点", id="nonsense"),
        pytest.param("   ", "请写一个时间", "明天上午9点", id="empty"),
        pytest.param("next friday", "有两种理解", "下周五", id="en next friday is ambiguous"),
        pytest.param("tomorrow at 3", "请写明 am 或 pm", "tomorrow at 3pm", id="en hour without am/pm"),
        pytest.param("march 20 at 9", "请写明 am 或 pm", "march 20 at 9am", id="en hour after a date without am/pm"),
        pytest.param("tomorrow 3:30", "不清楚是上午还是下午", "tomorrow 15:30", id="en 3:30 is ambiguous"),
        pytest.param("tomorrow 13pm", "不存在", "tomorrow 9am", id="en 13pm"),
        pytest.param("tomorrow 3pm 5pm", "两个时刻", "tomorrow 9am", id="en two times"),
        pytest.param("3/5 9am", "日期", "3月5日 14:30", id="en numeric month/day is ambiguous"),
        pytest.param("15", "3月5日", "3月5日 14:30", id="a bare number"),
        pytest.param("next week", "没有说清是哪一天", "tomorrow 9am", id="en next week is partial"),
        pytest.param("yesterday 3pm", "已经过去了", "tomorrow 9am", id="en past"),
        pytest.param("March 1", "请写明年份", "March 1 2026", id="en passed date asks for the year"),
        pytest.param("February 30", "看不懂", "tomorrow 9am", id="en impossible date"),
        pytest.param("whenever", "看不懂", "明天上午9点", id="en nonsense"),
    ],
)
def test_error(text: str, message_part: str, example: str) -> None:
    with pytest.raises(TimeParseError) as raised:
        parse_time(text, MONDAY_10AM, SHANGHAI)
    error = raised.value
    assert message_part in error.message
    assert example in error.examples
    assert isinstance(error, ValueError)
    assert str(error).startswith(error.message) and example in str(error)


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        pytest.param("下周三下午3点", "下周三（2025年3月12日 星期三）下午3点（15:00）", id="weekday"),
        pytest.param("下午3点", "今天（2025年3月3日 星期一）下午3点（15:00）", id="time alone today"),
        pytest.param("9点", "明天（2025年3月4日 星期二）上午9点（09:00）", id="time alone rolled to tomorrow"),
        pytest.param("明天", "明天（2025年3月4日 星期二）上午9点（09:00）（未写具体几点，按约定）", id="default hour said"),
        pytest.param("3月5日 14:30", "2025年3月5日 星期三 下午2点半（14:30）", id="calendar date"),
        pytest.param("两小时后", "两小时后（2025年3月3日 星期一 中午12点（12:00））", id="elapsed"),
        pytest.param("明天晚上12点", "明天（2025年3月4日 星期二）夜里12点，即次日午夜0点（00:00）", id="midnight"),
    ],
)
def test_reading_tells_how_the_text_was_read(text: str, reading: str) -> None:
    assert parse_time(text, MONDAY_10AM, SHANGHAI).reading == reading


def test_matched_is_the_text_without_trailing_punctuation() -> None:
    assert parse_time(" 明天上午9点。", MONDAY_10AM, SHANGHAI).matched == "明天上午9点"


def test_result_is_a_frozen_value() -> None:
    parsed = parse_time("明天上午9点", MONDAY_10AM, SHANGHAI)
    with pytest.raises(AttributeError):
        parsed.at = MONDAY_10AM  # type: ignore[misc]
    assert parsed == ParsedTime(at=parsed.at, reading=parsed.reading, matched="明天上午9点")


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_time("明天上午9点", datetime(2025, 3, 3, 10, 0), SHANGHAI)


@pytest.mark.parametrize(
    ("zone_name", "text", "now", "expected"),
    [
        pytest.param("America/New_York", "明天上午9点", "2025-03-08T10:00", "2025-03-09T09:00:00-04:00",
                     id="day after spring-forward uses the new offset"),
        pytest.param("America/New_York", "3小时后", "2025-03-09T00:30", "2025-03-09T04:30:00-04:00",
                     id="elapsed time counts real hours across spring-forward"),
        pytest.param("America/New_York", "明天凌晨2点半", "2025-03-08T10:00", None,
                     id="a wall time skipped by spring-forward does not exist"),
        pytest.param("America/New_York", "明天凌晨1点半", "2025-11-01T10:00", None,
                     id="a wall time repeated by fall-back is ambiguous"),
        pytest.param("America/New_York", "凌晨2点半", "2025-03-09T10:00", "2025-03-10T02:30:00-04:00",
                     id="today's skipped 02:30 has passed anyway: tomorrow's is meant"),
    ],
)
def test_daylight_saving_zones(zone_name: str, text: str, now: str, expected: str | None) -> None:
    zone = ZoneInfo(zone_name)
    current = datetime.fromisoformat(now).replace(tzinfo=zone)
    if expected is None:
        with pytest.raises(TimeParseError):
            parse_time(text, current, zone)
    else:
        parsed = parse_time(text, current, zone)
        assert parsed.at.isoformat() == expected
        assert parsed.at.tzinfo is zone


def test_result_is_later_than_now_by_the_elapsed_time() -> None:
    assert parse_time("45分钟后", MONDAY_10AM, SHANGHAI).at - MONDAY_10AM == timedelta(minutes=45)


@pytest.mark.parametrize(
    ("token", "value"),
    [
        pytest.param("九", 9, id="digit"),
        pytest.param("十", 10, id="ten"),
        pytest.param("十二", 12, id="teens"),
        pytest.param("二十", 20, id="tens"),
        pytest.param("二十三", 23, id="tens and ones"),
        pytest.param("两", 2, id="两"),
        pytest.param("零五", 5, id="leading zero minute"),
        pytest.param("二〇二五", 2025, id="year digit by digit"),
        pytest.param("15", 15, id="arabic"),
        pytest.param("十十", None, id="double ten"),
        pytest.param("三四", None, id="two digits without ten"),
        pytest.param("二十零", None, id="trailing zero after ten"),
        pytest.param("两两", None, id="两 only alone"),
    ],
)
def test_chinese_numerals(token: str, value: int | None) -> None:
    if value is None:
        with pytest.raises(ValueError):
            parse_number(token)
    else:
        assert parse_number(token) == value
