"""Deadlines and past days in plain Chinese: the last day a 整改 item allows, the day a talk was held."""

from __future__ import annotations

from datetime import date

import pytest

from schedules.timeparse import TimeParseError, parse_deadline, parse_past_day

TODAY = date(2025, 3, 15)  # a Saturday
DECEMBER = date(2025, 12, 20)
JANUARY = date(2026, 1, 10)


@pytest.mark.parametrize("text, today, expected", [
    pytest.param("本月底前", TODAY, date(2025, 3, 31), id="this-month-end"),
    pytest.param("月底", TODAY, date(2025, 3, 31), id="month-end-bare"),
    pytest.param("这个月底之前", TODAY, date(2025, 3, 31), id="this-month-end-zhiqian"),
    pytest.param("下月底前", TODAY, date(2025, 4, 30), id="next-month-end"),
    pytest.param("下个月底", DECEMBER, date(2026, 1, 31), id="next-month-end-across-year"),
    pytest.param("6月30日前", TODAY, date(2025, 6, 30), id="month-day"),
    pytest.param("六月三十日前", TODAY, date(2025, 6, 30), id="chinese-numerals"),
    pytest.param("3月15日前", TODAY, date(2025, 3, 15), id="today-counts"),
    pytest.param("1月15号前", DECEMBER, date(2026, 1, 15), id="yearless-next-january"),
    pytest.param("2026年6月30日", TODAY, date(2026, 6, 30), id="with-year"),
    pytest.param("2月底前", TODAY, date(2026, 2, 28), id="named-month-end-next-year"),
    pytest.param("12月底前", TODAY, date(2025, 12, 31), id="named-month-end"),
    pytest.param("年底前", TODAY, date(2025, 12, 31), id="year-end"),
    pytest.param("２０２５-０６-３０", TODAY, date(2025, 6, 30), id="full-width-iso"),
])
def test_deadlines(text, today, expected):
    assert parse_deadline(text, today).day == expected


@pytest.mark.parametrize("text, today, message", [
    pytest.param("3月1日前", TODAY, "3月1日前已经过去了；如果指的是明年，请写明年份", id="passed-too-far-for-next-year"),
    pytest.param("2025-03-14", TODAY, "2025-03-14（2025年3月14日 星期五）已经过去了，请写今后的时限", id="past-iso"),
    pytest.param("2月30日前", TODAY, "2025年2月30日不存在", id="no-such-day"),
    pytest.param("周五前", TODAY, "看不懂整改时限“周五前”", id="weekday-not-read-here"),
    pytest.param("", TODAY, "请写整改时限", id="empty"),
])
def test_deadlines_refused(text, today, message):
    with pytest.raises(TimeParseError) as refused:
        parse_deadline(text, today)
    assert refused.value.message == message


@pytest.mark.parametrize("text, today, expected", [
    pytest.param("今天", TODAY, date(2025, 3, 15), id="today"),
    pytest.param("昨天", TODAY, date(2025, 3, 14), id="yesterday"),
    pytest.param("前天", TODAY, date(2025, 3, 13), id="day-before"),
    pytest.param("3月5日", TODAY, date(2025, 3, 5), id="month-day"),
    pytest.param("12月5日", JANUARY, date(2025, 12, 5), id="last-december-in-january"),
    pytest.param("5号", TODAY, date(2025, 3, 5), id="day-of-this-month"),
    pytest.param("2024年12月5日", TODAY, date(2024, 12, 5), id="with-year"),
])
def test_past_days(text, today, expected):
    assert parse_past_day(text, today).day == expected


@pytest.mark.parametrize("text, message", [
    pytest.param("20号", "20号（2025年3月20日 星期四）还没到", id="later-this-month"),
    pytest.param("明天", "看不懂日期“明天”", id="tomorrow"),
    pytest.param("3月5日前", "看不懂日期“3月5日前”", id="a-deadline-is-not-a-day"),
])
def test_past_days_refused(text, message):
    with pytest.raises(TimeParseError) as refused:
        parse_past_day(text, TODAY)
    assert refused.value.message == message
