"""Properties: whatever a secretary types, a resolved time is in the future and carries the organisation's zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from schedules.timeparse import TimeParseError, parse_time

ZONES = [ZoneInfo("Asia/Shanghai"), ZoneInfo("UTC"), ZoneInfo("America/New_York"), ZoneInfo("Australia/Sydney")]
CHINESE_NUMBERS = ["零", "一", "两", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十五", "二十", "二十三", "三十"]

numbers = st.one_of(st.integers(0, 40).map(str), st.sampled_from(CHINESE_NUMBERS))
days = st.one_of(
    st.just(""),
    st.sampled_from(["今天", "明天", "后天", "大后天", "昨天", "前天", "今晚", "明早", "明晚", "昨晚"]),
    st.builds(lambda week, day: f"{week}周{day}", st.sampled_from(["", "本", "这", "下", "下下", "上", "上上"]),
              st.sampled_from("一二三四五六日天")),
    st.builds(lambda month, day: f"{month}{day}号", st.sampled_from(["本月", "下个月", "下月", ""]), numbers),
    st.builds(lambda year, month, day: f"{year}{month}月{day}日",
              st.sampled_from(["", "2024年", "2025年", "2026年", "明年"]), numbers, numbers),
    st.builds(lambda count, unit: f"{count}{unit}后", numbers, st.sampled_from(["天", "周", "个星期", "个月"])),
)
periods = st.sampled_from(["", "凌晨", "早上", "上午", "中午", "下午", "傍晚", "晚上"])
clocks = st.one_of(
    st.just(""),
    st.builds(lambda hour, tail: f"{hour}点{tail}", numbers,
              st.sampled_from(["", "半", "一刻", "三刻", "钟", "整", "05分", "30", "二十分", "六十一分"])),
    st.builds(lambda hour, minute: f"{hour}:{minute:02d}", st.integers(0, 25), st.integers(0, 61)),
)
expressions = st.one_of(
    st.builds(lambda day, period, clock: day + period + clock, days, periods, clocks),
    st.builds(lambda count, unit: f"{count}{unit}后", numbers, st.sampled_from(["小时", "个小时", "分钟", "个半小时"])),
)
nows = st.builds(
    lambda moment, zone: moment.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)),
    st.sampled_from(ZONES),
)


def _assert_future_in_zone(text: str, now: datetime, zone: ZoneInfo) -> None:
    try:
        parsed = parse_time(text, now, zone)
    except TimeParseError as error:
        assert error.message and error.examples
        return
    assert parsed.at > now
    assert parsed.at.tzinfo is zone
    assert parsed.at.utcoffset() == zone.utcoffset(parsed.at.replace(tzinfo=None))
    assert parsed.reading


@settings(max_examples=400, deadline=None)
@given(text=expressions, now=nows)
def test_grammar_expression_is_future_and_zoned_or_refused(text: str, now: datetime) -> None:
    _assert_future_in_zone(text, now, now.tzinfo)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(text=expressions, now=nows, zone=st.sampled_from(ZONES))
def test_now_in_another_zone_changes_nothing_about_the_guarantee(text: str, now: datetime, zone: ZoneInfo) -> None:
    _assert_future_in_zone(text, now, zone)


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("明天下午周三点半号月日后 3:5abcpmtomorwinhus")), max_size=14), now=nows)
def test_any_text_is_future_and_zoned_or_refused(text: str, now: datetime) -> None:
    _assert_future_in_zone(text, now, now.tzinfo)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(now=nows, ahead=st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=700)))
def test_a_full_date_and_24_hour_time_round_trips(now: datetime, ahead: timedelta) -> None:
    zone = now.tzinfo
    assert isinstance(zone, ZoneInfo)
    moment = (now + ahead).astimezone(zone).replace(second=0, microsecond=0)
    if moment <= now:
        return
    text = f"{moment.year}年{moment.month}月{moment.day}日 {moment.hour:02d}:{moment.minute:02d}"
    try:
        parsed = parse_time(text, now, zone)
    except TimeParseError as error:
        # Only a wall time that a DST change skips or repeats may be refused.
        assert "夏令时" in error.message
        return
    assert parsed.at == moment and parsed.at.tzinfo is zone
