"""Past days in plain Chinese: the day a 谈心谈话 talk was held (deadlines are in the notice reference rows)."""

from __future__ import annotations

from datetime import date

import pytest

from schedules.timeparse import TimeParseError, parse_past_day

TODAY = date(2025, 3, 15)  # a Saturday
DECEMBER = date(2025, 12, 20)
JANUARY = date(2026, 1, 10)


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
