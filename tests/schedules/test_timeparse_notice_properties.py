"""Properties of the notice forms: a range ends after it starts, both ends carry the zone, a day the text calls a
工作日 is one by the official calendar, and a deadline is a future moment in the zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.settings import PROJECT_CONFIG_DIR
from bot.deployment import load_official_calendar
from schedules.timeparse import TimeParseError, parse_deadline, parse_time

CALENDAR = load_official_calendar(PROJECT_CONFIG_DIR / "holidays")
ZONES = [ZoneInfo("Asia/Shanghai"), ZoneInfo("UTC"), ZoneInfo("America/New_York")]
NUMBERS = st.one_of(st.integers(0, 25).map(str), st.sampled_from(["一", "两", "三", "五", "九", "十", "十一", "十二"]))
PERIODS = st.sampled_from(["", "上午", "中午", "下午", "傍晚", "晚上", "凌晨"])
CONNECTORS = st.sampled_from(["到", "至", "-", "—", "~", "～", " 到 "])
DAYS = st.sampled_from(["", "明天", "后天", "下周三", "周五", "3月20日", "3.20", "下个月第一个周一", "七一",
                        "清明节后第一个工作日", "12月20日"])
CLOCKS = st.one_of(
    st.builds(lambda hour, tail: f"{hour}点{tail}", NUMBERS, st.sampled_from(["", "半", "30分", "整", "钟"])),
    st.builds(lambda hour, minute: f"{hour}:{minute:02d}", st.integers(0, 24), st.sampled_from([0, 15, 30, 59])),
)
END_DAYS = st.sampled_from(["", "", "", "明天", "22日", "3月22日", "周五", "下周一"])
RANGES = st.builds(lambda day, period, clock, conn, end_day, end_period, end_clock:
                   f"{day}{period}{clock}{conn}{end_day}{end_period}{end_clock}",
                   DAYS, PERIODS, CLOCKS, CONNECTORS, END_DAYS, PERIODS, st.one_of(st.just(""), CLOCKS))
NOWS = st.builds(lambda moment, zone: moment.replace(tzinfo=zone),
                 st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2026, 6, 30)), st.sampled_from(ZONES))
WORKDAY_TEXTS = st.one_of(
    st.builds(lambda holiday, side, nth: f"{holiday}{side}{nth}工作日",
              st.sampled_from(["元旦", "春节", "清明节", "五一", "劳动节", "端午节", "中秋节", "国庆节", "七一", "八一"]),
              st.sampled_from(["后", "之后", "前", "以前"]),
              st.sampled_from(["第一个", "第二个", "第3个", "最后一个", "首个", ""])),
    st.builds(lambda month, nth: f"{month}{nth}工作日",
              st.sampled_from(["本月", "下个月", "下下个月", "1月", "2月", "5月", "10月"]),
              st.sampled_from(["第一个", "第二个", "第五个", "最后一个"])),
    st.builds(lambda count: f"{count}个工作日后", NUMBERS),
    st.just("下一个工作日"),
)


@settings(max_examples=400, deadline=None)
@given(text=RANGES, now=NOWS)
def test_a_range_ends_after_it_starts_and_both_carry_the_zone(text: str, now: datetime) -> None:
    zone = now.tzinfo
    try:
        parsed = parse_time(text, now, zone, CALENDAR)  # type: ignore[arg-type]
    except TimeParseError as error:
        assert error.message
        return
    assert parsed.at > now and parsed.at.tzinfo is zone
    if parsed.end is not None:
        assert parsed.end > parsed.at
        assert parsed.end.tzinfo is zone
        assert parsed.end.utcoffset() == zone.utcoffset(parsed.end.replace(tzinfo=None))  # type: ignore[union-attr]


@settings(max_examples=400, deadline=None)
@given(text=WORKDAY_TEXTS, clock=st.sampled_from(["", "上午9点", "下午3点半", "14:00"]), now=NOWS)
def test_a_day_called_a_workday_is_one_by_the_official_calendar(text: str, clock: str, now: datetime) -> None:
    try:
        parsed = parse_time(text + clock, now, now.tzinfo, CALENDAR)  # type: ignore[arg-type]
    except TimeParseError as error:
        assert error.message
        return
    assert CALENDAR.is_workday(parsed.at.date())
    assert parsed.at > now


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(
    st.sampled_from(["本月底前", "月底", "下个月底前", "年底前", "今年内", "国庆节前", "七一前", "五一前", "春节前",
                     "3个工作日内", "10天内", "周五前", "下周三前", "周五下午5点前", "3月15日前", "3.15前"]),
    st.builds(lambda day, before: f"{day}{before}", DAYS, st.sampled_from(["前", "之前", "为止", ""])),
), now=NOWS)
def test_a_deadline_is_a_future_moment_in_the_zone(text: str, now: datetime) -> None:
    zone = now.tzinfo
    try:
        deadline = parse_deadline(text, now, zone, CALENDAR)  # type: ignore[arg-type]
    except TimeParseError as error:
        assert error.message and error.examples is not None
        return
    assert deadline.due > now and deadline.due.tzinfo is zone
