"""Every row of tests/schedules/notice-time-expressions.tsv (issue 14's forms) resolves exactly as the file says."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.settings import PROJECT_CONFIG_DIR
from bot.deployment import load_official_calendar
from schedules.timeparse import TimeParseError, parse_deadline, parse_time, split_schedule_text

NOTICES = Path(__file__).with_name("notice-time-expressions.tsv")
SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_NOW = datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI)
CALENDAR = load_official_calendar(PROJECT_CONFIG_DIR / "holidays")


def _rows() -> list[pytest.param]:
    rows = []
    for line in NOTICES.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        mode, expression, expected, end, now = line.split("\t")
        rows.append(pytest.param(mode, expression, expected, end or None, now or None,
                                 id=f"{mode}: {expression} -> {expected}{' ~ ' + end if end else ''}"))
    return rows


def test_the_notice_file_covers_every_family() -> None:
    assert len(_rows()) >= 110


@pytest.mark.parametrize(("mode", "expression", "expected", "end", "now"), _rows())
def test_notice_expression(mode: str, expression: str, expected: str, end: str | None, now: str | None) -> None:
    moment = datetime.fromisoformat(now) if now else DEFAULT_NOW
    read = parse_deadline if mode == "deadline" else parse_time
    if expected == "ERROR":
        with pytest.raises(TimeParseError) as raised:
            read(expression, moment, SHANGHAI, CALENDAR)
        assert raised.value.message and raised.value.examples
        return
    result = read(expression, moment, SHANGHAI, CALENDAR)
    if mode == "deadline":
        assert (result.due.isoformat(), result.due.tzinfo) == (expected, SHANGHAI)
    else:
        assert (result.at.isoformat(), result.end.isoformat() if result.end else None) == (expected, end)
        assert result.at.tzinfo is SHANGHAI and (result.end is None or result.end.tzinfo is SHANGHAI)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("下午3点左右", "只看懂了“下午3点”，看不懂“左右”，请只写时间", id="the unread part is quoted"),
        pytest.param("明天下午3点到2点",
                     "“明天下午3点到2点”的结束时间（2025年3月4日 星期二 下午2点（14:00））不晚于开始时间（下午3点（15:00）），请检查",
                     id="end before start"),
        pytest.param("下午3点到", "“下午3点到”的“到”后面没有写结束时间", id="range without an end"),
        pytest.param("第一个周一", "“第一个周一”是哪个月的？请写明月份", id="ordinal without a month"),
        pytest.param("节后第一个工作日", "“节后第一个工作日”是哪个节日？请写明", id="holiday not named"),
        pytest.param("月底", "“月底”是一个期限，不是具体时间；活动请写明哪天几点（期限请用 --deadline 或整改事项的期限栏）",
                     id="a deadline is not a meeting time"),
        pytest.param("下个月第五个周一", "2025年4月没有第5个星期一", id="no fifth Monday"),
    ],
)
def test_refusals_say_what_was_not_read(text: str, message: str) -> None:
    with pytest.raises(TimeParseError) as raised:
        parse_time(text, DEFAULT_NOW, SHANGHAI, CALENDAR)
    assert raised.value.message == message
    assert raised.value.examples


def test_a_passed_yearless_date_asks_about_next_year() -> None:
    december = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
    with pytest.raises(TimeParseError) as raised:
        parse_time("3月8号下午3点", december, SHANGHAI, CALENDAR)
    assert raised.value.message == ("2026年3月8日 星期日 下午3点（15:00）已经过去了。是指 2027年3月8日 吗？"
                                    "如果指的是明年，请写明年份")
    assert raised.value.suggestion == "2027年3月8号下午3点"
    assert parse_time(raised.value.suggestion, december, SHANGHAI, CALENDAR).at.isoformat() == "2027-03-08T15:00:00+08:00"


def test_days_by_the_calendar_need_the_calendar() -> None:
    with pytest.raises(TimeParseError) as raised:
        parse_time("清明节后第一个工作日", DEFAULT_NOW, SHANGHAI)
    assert "节假日日历" in raised.value.message


def test_a_year_the_calendar_does_not_know_is_refused_with_its_reason() -> None:
    with pytest.raises(TimeParseError) as raised:
        parse_time("国庆节后第一个工作日", datetime(2026, 10, 20, 10, 0, tzinfo=SHANGHAI), SHANGHAI,
                   load_official_calendar(None, provisional=False))  # 2027 neither published nor provisional
    assert "2027" in raised.value.message and "config/holidays" in raised.value.message


@pytest.mark.parametrize(
    ("text", "title", "start", "end", "place"),
    [
        pytest.param("党员活动 12月20日下午2点到4点 党员活动室", "党员活动", "2025-12-20T14:00:00+08:00",
                     "2025-12-20T16:00:00+08:00", "党员活动室", id="a range is the time, not the place"),
        pytest.param("集中学习 下个月第一个周五", "集中学习", "2025-04-04T09:00:00+08:00", None, None,
                     id="an ordinal weekday is the time, not the title"),
        pytest.param("专题党课 明天下午3点到党员活动室", "专题党课", "2025-03-04T15:00:00+08:00", None, "党员活动室",
                     id="到 before a place is not a range"),
        pytest.param("清明祭扫 清明节后第一个工作日上午9点 烈士陵园", "清明祭扫", "2025-04-07T09:00:00+08:00", None, "烈士陵园",
                     id="holiday-relative day"),
        pytest.param("支委会 3.15 14:00-16:00 二楼", "支委会", "2025-03-15T14:00:00+08:00", "2025-03-15T16:00:00+08:00",
                     "二楼", id="compact date and range"),
        pytest.param("推动发展遇到 下周三上午9点 三楼", "推动发展遇到", "2025-03-12T09:00:00+08:00", None, "三楼",
                     id="a title ending in 到 is not the start of a range"),
        pytest.param("农村驻点工作一周 3.15 14:00 三楼", "农村驻点工作一周", "2025-03-15T14:00:00+08:00", None, "三楼",
                     id="the 3 of a compact date is not a weekday after 一周"),
        pytest.param("表彰优秀党员不少于 下周三上午9点 三楼", "表彰优秀党员不少于", "2025-03-12T09:00:00+08:00", None, "三楼",
                     id="a title ending in 于 keeps it"),
    ],
)
def test_schedule_text_with_notice_forms(text: str, title: str, start: str, end: str | None, place: str | None) -> None:
    result = split_schedule_text(text, DEFAULT_NOW, SHANGHAI, CALENDAR)
    got_end = result.parsed.end.isoformat() if result.parsed.end else None
    assert (result.title, result.parsed.at.isoformat(), got_end, result.place) == (title, start, end, place)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("集中学习 下个月初 周五上午9点", "只看懂了时间“周五上午9点”，旁边的“下个月初”看起来也是时间，但看不懂；请把时间写在一处",
                     id="time words before the time are not the title"),
        pytest.param("党员大会 12月20日下午2点 到四点半左右 党员活动室",
                     "只看懂了时间“12月20日下午2点 到四点半”，旁边的“左右”看起来也是时间，但看不懂；请把时间写在一处",
                     id="time words after the time are not the place"),
        pytest.param("集中学习 下个月第一个周八", "“下个月第一个周八”看起来是时间，但看不懂", id="unreadable time words"),
    ],
)
def test_schedule_text_never_folds_time_words_into_title_or_place(text: str, message: str) -> None:
    with pytest.raises(TimeParseError) as raised:
        split_schedule_text(text, DEFAULT_NOW, SHANGHAI, CALENDAR)
    assert raised.value.message == message
