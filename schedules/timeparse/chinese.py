"""Our own grammar for the Chinese time expressions dateparser misses, resolved deterministically against `now`.

Rules a secretary can rely on (each is tested):

- A day without a time of day is 09:00. A part of day alone is 上午 09:00, 早上 08:00, 中午 12:00, 下午 15:00,
  傍晚 18:00, 晚上 19:00; 凌晨 alone is an error (nobody meets "some time before dawn").
- No day at all ("下午3点", "9点"): today, or tomorrow when that time of day has already passed today.
- 周五 / 星期五 alone: the coming Friday (today counts while the time is still ahead, otherwise next week).
  本周/这周 = this calendar week, 下周 = next, 下下周 = the one after, 上周 = last (weeks run Monday to Sunday);
  a day in a named week that has passed is an error, never silently moved to another week.
- 15号 alone: the coming 15th (this month while still ahead, otherwise next month). 本月/下个月/下月 + 日/号 name the month.
- 3月5日 without a year: this year; if that has passed, next year only when it is at most 92 days away (in December,
  "1月5日" means next January); otherwise an error asking for the year.
- An hour without 上午/下午 etc.: 7–12 are read as written (work hours: 9点 = 09:00, 12点 = noon), 13–23 and a
  zero-padded hour (03:00) are 24-hour times, 0 is midnight. 1–6 are ERRORS with suggestions: "3点" is 03:00 or
  15:00 and we do not guess which.
- Part of day + hour: 下午3点 = 15:00, 下午15点 = 15:00, 晚上8点 = 20:00, 晚上12点 = midnight at the end of that day,
  中午1点 = 13:00, 上午12点 = noon; contradictions such as 上午15点 or 晚上3点 are errors.
- N小时后 / N分钟后 / 半小时后 / 一个半小时后 count real elapsed time from now (seconds dropped);
  N天后 / N周后 / N个月后 count calendar days, weeks and months and then follow the day rules above.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from schedules.recurrence import add_months
from schedules.weekdays import WEEK, WEEK_WORDS, WEEKDAY_CHARACTER, WEEKDAY_DIGITS
from schedules.timeparse.model import (
    ParsedTime,
    TimeParseError,
    describe_clock,
    describe_day,
    local_moment,
    within_next_year_window,
)
from schedules.timeparse.holidays import (
    HOLIDAY_PATTERN,
    WorkCalendar,
    festival_day,
    holiday,
    holiday_span,
    nth_weekday_of_month,
    nth_workday_of_month,
    require_calendar,
    workday_after,
    workday_before,
)
from schedules.timeparse.numerals import NUMBER_PATTERN as N
from schedules.timeparse.numerals import read_number

# Full-width digits, letters, colon and space become ASCII one character for one, so spans stay aligned.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def to_half_width(text: str) -> str:
    return text.translate(_FULL_WIDTH)


_SEPARATOR = r"[\s的,，]*"
_PERIODS = "凌晨|早上|早晨|清晨|上午|中午|午后|下午|傍晚|晚上|晚间|夜里|夜间|早|晚"  # 早8点, 晚7点
# What joins the two ends of a range: 下午3点到5点, 14:00-16:00, 3月5日至7日.
CONNECTOR = r"到|至|——|—|–|-|~|〜"
_WEEKDAY = rf"(?:{WEEKDAY_CHARACTER}|[1-7](?![\d.:]))"  # 周3, but not the 3 of "一周 3.15"

_OFFSET_TIME = rf"""
    (?P<offset_time>
        (?: (?P<offset_decimal>\d{{1,2}}\.5)\s*个?\s*(?:小时|钟头)
          | (?P<offset_hours>{N})\s*(?P<offset_and_half>个半)?\s*个?\s*(?:小时|钟头)(?:\s*(?P<offset_hour_minutes>{N})\s*分钟?)?
          | (?P<offset_half_hour>半)\s*个?\s*(?:小时|钟头)
          | (?P<offset_minutes>{N})\s*分钟?
        )\s*(?:以后|之后|后)
    )
"""

# One moment: a day (any of the forms below, or none), a part of day, an hour. The range's end is the same
# grammar with every group prefixed "end_" (see EXPRESSION).
_DAY_AND_TIME = rf"""
        (?:
            (?P<hol_year>今年|明年|\d{{4}}\s*年)?\s*(?P<hol_rel>{HOLIDAY_PATTERN})\s*(?:小长假|长假|假期|放假)?\s*
                (?P<hol_side>之前|以前|前|之后|以后|后)\s*的?\s*
                (?: (?:第\s*(?P<hol_n>{N})\s*个|(?P<hol_last>最后一?个)|首个|头一个)?\s*(?:工作日|上班日)
                  | 上班(?:第一天|首日)|第一天上班
                  | (?P<hol_days>{N})\s*天 )
          | (?:(?P<ord_year>\d{{4}})\s*年|(?P<ord_year_word>今年|明年))?\s*
                (?P<ord_month>本月|这个?月|下下个?月|下个?月|{N}\s*月份?)\s*的?\s*
                (?:第\s*(?P<ord_n>{N})\s*个?|(?P<ord_last>最后一?个)|倒数第\s*(?P<ord_back>{N})\s*个)\s*
                (?:{WEEK}(?P<ord_weekday>{_WEEKDAY})|(?P<ord_workday>工作日))
          | (?P<weeks_ahead>{N})\s*个?\s*{WEEK}\s*(?:以后|之后|后)\s*的?\s*{WEEK}(?P<weeks_ahead_weekday>{_WEEKDAY})
          | (?P<week_workday>本|这个?|下下个?|下个?)\s*{WEEK}\s*的?\s*(?:(?P<week_workday_last>最后一个)|第一个|首个)\s*工作日
          | (?P<workdays_ahead>{N})\s*个\s*工作日\s*(?:以后|之后|后)
          | (?P<next_workday>下一?个工作日)
          | (?P<iso_year>\d{{4}})[-/.](?P<iso_month>\d{{1,2}})[-/.](?P<iso_day>\d{{1,2}})(?:\s*[日号])?
          | (?P<compact_month>\d{{1,2}})[./-](?P<compact_day>\d{{1,2}})(?:\s*[日号])?(?![\d.]|\s*(?:[点时:]|分钟|小时))
          | (?:(?P<year>\d{{4}}|[零〇一二三四五六七八九]{{4}})\s*年|(?P<year_word>今年|明年))?
            \s*(?P<month>{N})\s*月份?\s*(?P<day>{N})\s*(?:日|号|(?![\d点时分:.]))
          | (?P<offset_days>{N})\s*个?\s*(?P<offset_unit>天|日|{WEEK}|月)\s*(?:以后|之后|后)
          | (?P<day_period>今晚|今夜|今早|明早|明晨|明晚|昨晚)
          | (?P<relative_day>大后天|今天|今日|明天|明日|后天|昨天|昨日|前天)
          | (?P<week_word>本|这个?|下下个?|下个?|上上个?|上个?)?\s*{WEEK}\s*(?P<weekday>{_WEEKDAY})
          | (?P<month_word>本月|这个?月|下下个?月|下个?月)\s*(?P<month_day>{N})\s*(?:日|号)
          | (?P<holiday_year>今年|明年|\d{{4}}\s*年)?\s*(?P<holiday_date>{HOLIDAY_PATTERN})(?:当天|那天)?
          | (?P<bare_day>{N})\s*(?:日|号)
        )?
        (?:\s*[（(]\s*{WEEK}(?P<stated_weekday>{WEEKDAY_CHARACTER})\s*[)）])?  # 3月5日（周三）: checked
        (?:{_SEPARATOR}(?P<period>{_PERIODS}))?
        (?:{_SEPARATOR}
            (?P<hour>{N})\s*
            (?: (?:点钟|点|时)
                (?: \s*(?P<half>半)
                  | \s*(?P<quarter>一刻|三刻|1刻|3刻)
                  | \s*(?P<minute>{N})\s*分
                  | (?P<bare_minute>\d{{2}}|[零〇][一二三四五六七八九]|[一二三四五]?十[一二三四五六七八九]?)
                )?
                整?
              | :(?P<colon_minute>\d{{2}})(?::\d{{2}})?
              | (?=\s*(?:{CONNECTOR})\s*(?:{_PERIODS})?\s*{N}\s*(?:点|时|:))  # 下午2-4点: the unit comes at the end
            )
        )?
"""

_END_PREFIX = "end_"
_END_DAY_AND_TIME = re.sub(r"\(\?P<(\w+)>", rf"(?P<{_END_PREFIX}\1>", _DAY_AND_TIME)
EXPRESSION = re.compile(
    rf"""
    {_OFFSET_TIME}
    |
    (?:
        (?:(?:定|拟|兹定)?于|从|自)?  # 定于3月5日上午9点, 从下午3点到5点 (glued: "不少于 下周三" keeps its 于)
        {_DAY_AND_TIME}
        (?: \s*(?P<connector>{CONNECTOR})\s* {_END_DAY_AND_TIME} (?:\s*之间)? )?
        (?:\s*(?:准时)?(?:开始|召开|举行))?
    )
    """,
    re.VERBOSE,
)

# The groups that make a stretch of text a time (a day, a part of day or an hour), for either end of a range.
_TIME_GROUPS = ("iso_year", "month", "compact_month", "offset_days", "day_period", "relative_day", "weekday",
                "month_day", "bare_day", "hol_rel", "ord_month", "weeks_ahead", "workdays_ahead", "next_workday",
                "holiday_date", "week_workday", "period", "hour")
_DAY_GROUPS = tuple(name for name in _TIME_GROUPS if name not in ("period", "hour"))

RELATIVE_DAYS = {"前天": -2, "昨天": -1, "昨日": -1, "今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3}
_DAY_PERIODS = {  # word: (days from today, implied part of day)
    "今晚": (0, "晚上"), "今夜": (0, "晚上"), "昨晚": (-1, "晚上"), "明晚": (1, "晚上"),
    "今早": (0, "早上"), "明早": (1, "早上"), "明晨": (1, "早上"),
}
_WEEK_OFFSETS = {"本": 0, "这": 0, "这个": 0, "下": 1, "下个": 1, "下下": 2, "下下个": 2,
                 "上": -1, "上个": -1, "上上": -2, "上上个": -2}
_MONTH_OFFSETS = {"本月": 0, "这月": 0, "这个月": 0, "下月": 1, "下个月": 1, "下下月": 2, "下下个月": 2}
_WEEKDAYS = {**{digit: index for index, digit in enumerate(WEEKDAY_DIGITS)}, "天": 6,
             **{str(index + 1): index for index in range(7)}}

# A part of day alone: the hour a secretary means by it.
_PERIOD_DEFAULT_HOUR = {"早上": 8, "早晨": 8, "清晨": 8, "早": 8, "上午": 9, "中午": 12, "午后": 15, "下午": 15,
                        "傍晚": 18, "晚上": 19, "晚间": 19, "夜里": 19, "夜间": 19, "晚": 19}
# Part of day + written hour: (lowest, highest, hours to add) ranges that make sense.
_PERIOD_HOUR_RANGES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "凌晨": ((0, 5, 0),),
    "早上": ((4, 10, 0),),
    "上午": ((0, 12, 0),),
    "中午": ((11, 12, 0), (1, 2, 12), (13, 14, 0)),
    "下午": ((1, 11, 12), (12, 12, 0), (13, 23, 0)),
    "傍晚": ((4, 8, 12), (16, 20, 0)),
    "晚上": ((6, 11, 12), (18, 23, 0)),
}
_PERIOD_FAMILY = {"早晨": "早上", "清晨": "早上", "早": "早上", "午后": "下午",
                  "晚间": "晚上", "夜里": "晚上", "夜间": "晚上", "晚": "晚上"}
_EVENING = "晚上"

_ORDINAL_WORDS = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五"}
_LONGEST_RANGE = timedelta(days=31)
_LONGEST_WRAP_DAYS = 14
_DAY_DEFAULT = (9, 0)  # a day named without a time
_END_OF_DAY = (17, 0)  # the end of a range of days named without a time (3月5日至7日)

# Wall times this far behind now's wall time are past in any zone (DST moves clocks by at most 2 hours).
_DST_MARGIN = timedelta(hours=3)


def match_whole(text: str) -> re.Match[str] | None:
    """The grammar's reading of the whole (half-width, stripped) text, or None."""
    match = EXPRESSION.fullmatch(text)
    return match if match and _is_time(match) else None


def find_all(text: str) -> list[re.Match[str]]:
    """Every non-empty stretch of `text` the grammar reads as a time, left to right."""
    found, position = [], 0
    while position <= len(text):
        match = EXPRESSION.search(text, position)
        if match is None:
            break
        if _is_time(match):
            found.append(match)
        elif match.group("connector"):
            # "认识到 下周三上午9点": nothing before the 到 was a time, so it belongs to the text; read on after it.
            position = match.start("connector") + len(match.group("connector"))
            continue
        position = max(match.end(), position + 1)
    return found


def span_of(match: re.Match[str]) -> tuple[int, int]:
    """The stretch a match covers; a connector with no end after it ("3点到党员活动室") is not part of it."""
    if match.group("connector") and not _has_end(match.groupdict()):
        return match.start(), match.start("connector")
    return match.span()


def _is_time(match: re.Match[str]) -> bool:
    g = match.groupdict()
    return bool(g["offset_time"]) or any(g[name] for name in _TIME_GROUPS)


def _has_end(g: dict[str, str | None]) -> bool:
    return any(g[_END_PREFIX + name] for name in _TIME_GROUPS)


def _end_groups(g: dict[str, str | None]) -> dict[str, str | None]:
    return {name[len(_END_PREFIX):]: value for name, value in g.items() if name.startswith(_END_PREFIX)}


def has_clock(match: re.Match[str]) -> bool:
    """Whether the text named a part of day or an hour (a deadline without one runs to the end of the day)."""
    g = match.groupdict()
    return bool(g["offset_time"] or g["period"] or g["hour"] or g["day_period"])


def is_range(match: re.Match[str]) -> bool:
    return bool(match.group("connector")) and _has_end(match.groupdict())


@dataclass(frozen=True)
class _TimeOfDay:
    hour: int
    minute: int
    day_shift: int  # 1 for 晚上12点: midnight at the end of the named day
    defaulted: bool  # the text named no hour; a convention filled it in


# A candidate day, or a way to compute one only when it is needed (next year's holiday may be unknown).
DayCandidate = date | Callable[[], date]


@dataclass(frozen=True)
class _DayChoice:
    """Days the text may mean, in order of preference; the first whose moment is still ahead wins."""

    days: tuple[DayCandidate, ...]
    labels: tuple[str, ...]  # how the text named each day ("下周三", "明天"); empty for a plain calendar date
    accept_later: Callable[[datetime], bool] | None = None  # extra condition for candidates after the first
    past_advice: tuple[str, tuple[str, ...]] | None = None  # what to tell the user when every candidate has passed
    next_year: date | None = None  # the yearless date a year on, offered as a question when both have passed


@dataclass(frozen=True)
class _Point:
    """One end of what the text says, resolved."""

    at: datetime
    day: date
    time_of_day: _TimeOfDay
    label: str


def _single(day: DayCandidate, label: str, advice: tuple[str, tuple[str, ...]] | None = None) -> _DayChoice:
    return _DayChoice((day,), (label,), past_advice=advice)


def _day_of(candidate: DayCandidate) -> date:
    return candidate() if callable(candidate) else candidate


def resolve(match: re.Match[str], now: datetime, zone: ZoneInfo, calendar: WorkCalendar | None = None, *,
            default_clock: tuple[int, int] | None = None) -> ParsedTime:
    """The moment (or range) a grammar match means, given aware `now` (already in `zone`).

    `default_clock` replaces the 09:00 of a day named without a time (deadlines run to the end of the day).
    """
    g = match.groupdict()
    matched = match.group(0).strip(" 的,，")
    if g["offset_time"]:
        return _resolve_elapsed(g, matched, now, zone)
    if g["connector"] and not _has_end(g):
        raise TimeParseError(f"“{matched}”的“{g['connector']}”后面没有写结束时间", ("下午3点到5点", "14:00-16:00"))
    start = _resolve_point(g, match, matched, now, zone, calendar, default_clock)
    if not g["connector"]:
        return ParsedTime(at=start.at, reading=_reading(start.label, start.day, start.time_of_day), matched=matched)
    end = _resolve_end(_end_groups(g), g, start, now, zone, calendar, matched)
    if end.at - start.at > _LONGEST_RANGE:  # 3月5日至3日: a slip of the pen, not a month-long meeting
        raise TimeParseError(f"“{matched}”从{describe_day(start.day)}到{describe_day(end.day)}，超过{_LONGEST_RANGE.days}天，"
                             "请检查结束日期", ("3月5日至7日", "下午3点到5点"))
    same_day = end.day == start.day
    end_reading = (describe_clock(end.time_of_day.hour, end.time_of_day.minute) if same_day
                   else _reading(end.label, end.day, end.time_of_day))
    reading = f"{_reading(start.label, start.day, start.time_of_day)} 至 {end_reading}"
    return ParsedTime(at=start.at, reading=reading, matched=matched, end=end.at)


def _resolve_point(g: dict[str, str | None], match: re.Match[str], matched: str, now: datetime, zone: ZoneInfo,
                   calendar: WorkCalendar | None, default_clock: tuple[int, int] | None) -> _Point:
    time_of_day = _time_of_day(g, default_clock)
    choice = _day_choice(g, now.date(), calendar, matched)
    first_day = None
    for index, candidate in enumerate(choice.days):
        day = _day_of(candidate)
        first_day = first_day or day
        wall_day = day + timedelta(days=time_of_day.day_shift)
        if datetime.combine(wall_day, time(time_of_day.hour, time_of_day.minute)) < now.replace(tzinfo=None) - _DST_MARGIN:
            continue  # long past: no need to ask whether that wall time existed (today's 02:30 on a DST day)
        moment = local_moment(wall_day, time_of_day.hour, time_of_day.minute, zone)
        if moment <= now:
            continue
        if index > 0 and choice.accept_later is not None and not choice.accept_later(moment):
            break
        if g["stated_weekday"] is not None:
            _check_stated_weekday(day, _WEEKDAYS[g["stated_weekday"]], matched)
        return _Point(moment, day, time_of_day, choice.labels[index])
    reading = _reading(choice.labels[0], first_day, time_of_day)  # type: ignore[arg-type]
    if choice.next_year is not None:
        later = choice.next_year
        fixed = _with_year(match, later.year)
        raise TimeParseError(f"{reading}已经过去了。是指 {later.year}年{later.month}月{later.day}日 吗？"
                             "如果指的是明年，请写明年份",
                             (fixed,), suggestion=fixed)
    advice, examples = choice.past_advice or ("不能安排在过去的时间", ("明天上午9点", "下周三下午3点"))
    raise TimeParseError(f"{reading}已经过去了；{advice}", examples)


def _with_year(match: re.Match[str], year: int) -> str:
    """The matched text with `year` written into its yearless date: "3月8号下午3点" → "2027年3月8号下午3点"."""
    text, base = match.group(0), match.start()
    if match.group("compact_month"):
        start, end = match.start("compact_month") - base, match.end("compact_day") - base
        return f"{text[:start]}{year}年{match.group('compact_month')}月{match.group('compact_day')}日{text[end:]}"
    start = match.start("month") - base
    return f"{text[:start]}{year}年{text[start:]}".strip(" 的,，")


def _resolve_end(ge: dict[str, str | None], g: dict[str, str | None], start: _Point, now: datetime,
                 zone: ZoneInfo, calendar: WorkCalendar | None, matched: str) -> _Point:
    """The end of a range, read against its start: "到5点" keeps the start's day and part of day."""
    has_day = any(ge[name] for name in _DAY_GROUPS)
    day, label = (_end_day(ge, start.day, now.date(), calendar, matched) if has_day else (start.day, ""))
    if ge["hour"] is None and ge["period"] is None:
        candidates = [_TimeOfDay(*_END_OF_DAY, 0, defaulted=True)]  # 3月5日至7日: the last day's working hours
    else:
        candidates = _end_clock_candidates(ge, g, ambiguous_allowed=day == start.day)
    moment = None
    for time_of_day in candidates:
        wall_day = day + timedelta(days=time_of_day.day_shift)
        moment = local_moment(wall_day, time_of_day.hour, time_of_day.minute, zone)
        if moment > start.at:
            return _Point(moment, day, time_of_day, label)
    assert moment is not None
    raise TimeParseError(
        f"“{matched}”的结束时间（{describe_day(moment.date())} {describe_clock(moment.hour, moment.minute)}）"
        f"不晚于开始时间（{describe_clock(start.at.hour, start.at.minute)}），请检查",
        ("下午3点到5点", "14:00-16:00", "3月5日至7日"),
    )


def _end_clock_candidates(ge: dict[str, str | None], g: dict[str, str | None], *,
                          ambiguous_allowed: bool) -> list[_TimeOfDay]:
    """Readings of the end's hour, most likely first. With no part of day of its own it takes the start's
    (下午3点到5点 = 17:00); on the start's day an hour 1–6 may also mean the afternoon (上午11点到1点 = 13:00)."""
    if ge["period"] is not None or ge["day_period"]:
        return [_time_of_day(ge)]
    inherited = g["period"] or (_DAY_PERIODS[g["day_period"]][1] if g["day_period"] else None)
    written = read_number(ge["hour"])
    afternoon = ambiguous_allowed and 1 <= written <= 6
    if inherited is not None:
        try:
            first = _time_of_day({**ge, "period": inherited})
        except TimeParseError:
            first = None  # 上午9点到15点: the end's own hour is a 24-hour time
        if first is not None:
            return [first] + ([_TimeOfDay(first.hour + 12, first.minute, 0, False)]
                              if afternoon and first.hour < 12 else [])
    if afternoon and not (ge["hour"] or "").startswith("0"):
        minute = _minute(ge)
        return [_TimeOfDay(written, minute, 0, False), _TimeOfDay(written + 12, minute, 0, False)]
    return [_time_of_day(ge)]


def _end_day(ge: dict[str, str | None], start: date, today: date, calendar: WorkCalendar | None,
             matched: str) -> tuple[date, str]:
    """The end's day: a day number, a month-day or a weekday alone follow the start (3月30日至4月2日, 周三至周五)."""
    if ge["bare_day"]:
        number = read_number(ge["bare_day"])
        day = _day_of_month(start.replace(day=1), 0 if number >= start.day else 1, number)
        return _unless_far_wrap(day, start, number < start.day, matched), ""
    month_text, day_text = ((ge["month"], ge["day"]) if ge["month"]
                            else (ge["compact_month"], ge["compact_day"]) if ge["compact_month"] else (None, None))
    if month_text and not (ge["year"] or ge["year_word"]):
        month, number = read_number(month_text), read_number(day_text)
        day = _calendar_date(start.year, month, number)
        if day >= start:
            return day, ""
        return _unless_far_wrap(_calendar_date(start.year + 1, month, number), start, True, matched), ""
    if ge["weekday"] and not ge["week_word"]:
        weekday = _WEEKDAYS[ge["weekday"]]
        day = start + timedelta(days=(weekday - start.weekday()) % 7)
        return day, f"周{WEEKDAY_DIGITS[weekday]}"
    choice = _day_choice(ge, today, calendar, matched)
    return _day_of(choice.days[0]), choice.labels[0]


def _unless_far_wrap(day: date, start: date, wrapped: bool, matched: str) -> date:
    """An end written smaller than the start runs into the next month or year only across a short turn
    (3月30日至2日, 12月30日至1月2日); "3月5日至3日" is a slip, and we do not turn it into a month."""
    if wrapped and (day - start).days > _LONGEST_WRAP_DAYS:
        raise TimeParseError(f"“{matched}”的结束日期早于开始日期，请检查", ("3月5日至7日", "3月30日至4月2日"))
    return day


def _check_stated_weekday(day: date, stated: int, matched: str) -> None:
    """'3月5日（周四）' when 3月5日 is a Wednesday: one of the two is a typo, and we cannot tell which."""
    if day.weekday() != stated:
        actual, said = WEEKDAY_DIGITS[day.weekday()], WEEKDAY_DIGITS[stated]
        raise TimeParseError(
            f"“{matched}”前后矛盾：{day.month}月{day.day}日是星期{actual}，不是星期{said}",
            (f"{day.month}月{day.day}日（周{actual}）", f"下周{said}"),
        )


def _reading(label: str, day: date, time_of_day: _TimeOfDay) -> str:
    day_text = f"{label}（{describe_day(day)}）" if label else f"{describe_day(day)} "
    clock = describe_clock(time_of_day.hour, time_of_day.minute)
    if time_of_day.day_shift:
        clock = f"夜里12点，即次日{clock}"
    note = "（未写具体几点，按约定）" if time_of_day.defaulted else ""
    return f"{day_text}{clock}{note}"


def _resolve_elapsed(g: dict[str, str | None], matched: str, now: datetime, zone: ZoneInfo) -> ParsedTime:
    if g["offset_decimal"]:
        minutes = round(float(g["offset_decimal"]) * 60)
    elif g["offset_half_hour"]:
        minutes = 30
    elif g["offset_hours"]:
        minutes = read_number(g["offset_hours"]) * 60
        if g["offset_and_half"]:
            minutes += 30
        if g["offset_hour_minutes"]:
            minutes += read_number(g["offset_hour_minutes"])
    else:
        minutes = read_number(g["offset_minutes"] or "0")
    if minutes <= 0:
        raise TimeParseError("“0分钟后”就是现在，请写一个将来的时间", ("30分钟后", "两小时后"))
    # Real elapsed time: add in UTC so a DST change in between does not shift the result.
    start = now.replace(second=0, microsecond=0)
    moment = (start.astimezone(timezone.utc) + timedelta(minutes=minutes)).astimezone(zone)
    reading = f"{matched}（{describe_day(moment.date())} {describe_clock(moment.hour, moment.minute)}）"
    return ParsedTime(at=moment, reading=reading, matched=matched)


def _day_choice(g: dict[str, str | None], today: date, calendar: WorkCalendar | None, matched: str) -> _DayChoice:
    if g["hol_rel"]:
        return _holiday_relative_choice(g, today, calendar)
    if g["ord_month"]:
        return _ordinal_choice(g, today, calendar, matched)
    if g["weeks_ahead"]:
        weeks = read_number(g["weeks_ahead"])
        if weeks < 1:
            raise TimeParseError(f"“{matched}”：请写几周后", ("两周后的周三", "下周三"))
        weekday = _WEEKDAYS[g["weeks_ahead_weekday"]]
        monday = today - timedelta(days=today.weekday())
        return _single(monday + timedelta(days=7 * weeks + weekday),
                       f"{_compact(g['weeks_ahead'])}周后的周{WEEKDAY_DIGITS[weekday]}")
    if g["week_workday"]:
        work = require_calendar(calendar, matched)
        word = _compact(g["week_workday"])
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7 * _WEEK_OFFSETS[word])
        last = bool(g["week_workday_last"])
        day = (workday_before(work, monday + timedelta(days=7)) if last else workday_after(work, monday - timedelta(days=1)))
        if not monday <= day < monday + timedelta(days=7):
            raise TimeParseError(f"“{matched}”：那一周没有工作日", ("下周一上午9点",))
        return _single(day, f"{word}周{'最后一个' if last else '第一个'}工作日")
    if g["workdays_ahead"] or g["next_workday"]:
        count = read_number(g["workdays_ahead"]) if g["workdays_ahead"] else 1
        if count < 1:
            raise TimeParseError(f"“{matched}”：请写几个工作日后", ("3个工作日后", "下一个工作日"))
        work = require_calendar(calendar, matched)
        return _single(workday_after(work, today, count), f"{count}个工作日后" if g["workdays_ahead"] else "下一个工作日")
    if g["holiday_date"]:
        found = holiday(g["holiday_date"])
        years = _holiday_years(g["holiday_year"], today)
        return _DayChoice(tuple(functools.partial(festival_day, found, year) for year in years),
                          tuple(found.name for _ in years))
    if g["iso_year"]:
        return _single(_calendar_date(int(g["iso_year"]), int(g["iso_month"] or 0), int(g["iso_day"] or 0)), "")
    if g["compact_month"]:
        return _yearless_choice(read_number(g["compact_month"]), read_number(g["compact_day"]), today)
    if g["month"]:
        return _month_day_choice(g, today)
    if g["offset_days"]:
        count, unit = read_number(g["offset_days"]), g["offset_unit"] or "天"
        if unit == "月":
            target = _day_of_month(today, count, today.day)
        else:
            target = today + timedelta(days=count * (7 if unit in WEEK_WORDS else 1))
        return _single(target, _compact(g["offset_days"] or "") + ("个" if unit in ("月", "星期", "礼拜") else "") + unit + "后")
    if g["day_period"]:
        offset, _ = _DAY_PERIODS[g["day_period"]]
        return _single(today + timedelta(days=offset), g["day_period"])
    if g["relative_day"]:
        return _single(today + timedelta(days=RELATIVE_DAYS[g["relative_day"]]), g["relative_day"])
    if g["weekday"]:
        return _week_choice(g["week_word"], _WEEKDAYS[g["weekday"]], today)
    if g["month_word"]:
        word, day = _compact(g["month_word"]), read_number(g["month_day"])
        return _single(_day_of_month(today.replace(day=1), _MONTH_OFFSETS[word], day), f"{word}{day}日")
    if g["bare_day"]:
        day = read_number(g["bare_day"])
        this_month = _day_of_month(today.replace(day=1), 0, day)
        try:
            next_month = _day_of_month(today.replace(day=1), 1, day)
        except TimeParseError:  # 31号 when next month has no 31st: only this month's can be meant
            return _single(this_month, "")
        return _DayChoice((this_month, next_month), ("", ""))
    return _DayChoice((today, today + timedelta(days=1)), ("今天", "明天"))


def _holiday_years(word: str | None, today: date) -> tuple[int, ...]:
    """今年/明年/2026年 name the year; without one the coming holiday is meant (this year's, else next year's)."""
    if word is None:
        return today.year, today.year + 1
    word = _compact(word)
    if word == "今年":
        return (today.year,)
    if word == "明年":
        return (today.year + 1,)
    return (int(word.rstrip("年")),)


def _holiday_relative_choice(g: dict[str, str | None], today: date, calendar: WorkCalendar | None) -> _DayChoice:
    """清明节后第一个工作日, 国庆节前最后一个工作日: counted in workdays from the holiday's days off."""
    found = holiday(g["hol_rel"])
    after = "后" in (g["hol_side"] or "")
    if after and g["hol_last"]:
        raise TimeParseError(f"“{found.name}后最后一个工作日”是哪一天？", (f"{found.name}后第一个工作日",))
    nth = read_number(g["hol_n"]) if g["hol_n"] else 1
    if nth < 1:
        raise TimeParseError(f"第{nth}个工作日不存在", (f"{found.name}后第一个工作日",))
    if g["hol_days"]:  # 国庆节前一天: counted in calendar days from the festival itself
        days = read_number(g["hol_days"])
        if not 1 <= days <= 7:
            raise TimeParseError(f"“{found.name}{g['hol_side']}{days}天”请写具体日期", ("10月1日", "9月30日"))
        shift = timedelta(days=days if after else -days)
        label = f"{found.name}{'后' if after else '前'}{days}天"
        years = _holiday_years(g["hol_year"], today)
        return _DayChoice(tuple(functools.partial(lambda y: festival_day(found, y) + shift, year) for year in years),
                          tuple(label for _ in years))
    work = require_calendar(calendar, found.name)

    def day_in(year: int) -> date:
        first, last = holiday_span(found, year, calendar)
        return workday_after(work, last, nth) if after else workday_before(work, first, nth)

    side = "后" if after else "前"
    which = "最后一个" if not after and (g["hol_last"] or not g["hol_n"]) else f"第{_ORDINAL_WORDS.get(nth, nth)}个"
    label = f"{found.name}{side}{which}工作日"
    years = _holiday_years(g["hol_year"], today)
    return _DayChoice(tuple(functools.partial(day_in, year) for year in years), tuple(label for _ in years))


def _ordinal_choice(g: dict[str, str | None], today: date, calendar: WorkCalendar | None, matched: str) -> _DayChoice:
    """下个月第一个周一, 本月最后一个工作日, 4月第二个星期四."""
    nth = -1 if g["ord_last"] else -read_number(g["ord_back"]) if g["ord_back"] else read_number(g["ord_n"])
    if nth == 0 or abs(nth) > (23 if g["ord_workday"] else 5):
        raise TimeParseError(f"“{matched}”：一个月里最多有5个同一星期几", ("下个月第一个周一", "本月最后一个周五"))
    word = _compact(g["ord_month"] or "")
    which = ("最后一个" if nth == -1 else f"倒数第{_ORDINAL_WORDS.get(-nth, -nth)}个" if nth < 0
             else f"第{_ORDINAL_WORDS.get(nth, nth)}个")
    if g["ord_workday"]:
        work = require_calendar(calendar, matched)
        pick: Callable[[int, int], date] = lambda year, month: nth_workday_of_month(work, year, month, nth)  # noqa: E731
        what = "工作日"
    else:
        weekday = _WEEKDAYS[g["ord_weekday"]]
        pick = lambda year, month: nth_weekday_of_month(year, month, weekday, nth)  # noqa: E731
        what = f"周{WEEKDAY_DIGITS[weekday]}"
    if word in _MONTH_OFFSETS:
        first = _day_of_month(today.replace(day=1), _MONTH_OFFSETS[word], 1)
        return _single(functools.partial(pick, first.year, first.month), f"{word}{which}{what}")
    month = read_number(word.rstrip("月份").rstrip("月"))
    if not 1 <= month <= 12:
        raise TimeParseError(f"{month}月不存在：月份只能是1到12", ("下个月第一个周一",))
    label = f"{month}月{which}{what}"
    if g["ord_year"] or g["ord_year_word"]:
        year = int(g["ord_year"]) if g["ord_year"] else today.year + (g["ord_year_word"] == "明年")
        return _single(functools.partial(pick, year, month), f"{year}年{label}")
    return _DayChoice(
        (functools.partial(pick, today.year, month), functools.partial(pick, today.year + 1, month)), (label, label),
        accept_later=lambda moment: within_next_year_window(moment.date(), today),
        past_advice=("如果指的是明年，请写明年份", (f"{today.year + 1}年{month}月{which}{what}",)),
    )


def _month_day_choice(g: dict[str, str | None], today: date) -> _DayChoice:
    month, day = read_number(g["month"]), read_number(g["day"])
    if g["year"]:
        return _single(_calendar_date(read_number(g["year"]), month, day), "")
    if g["year_word"]:
        year = today.year + (1 if g["year_word"] == "明年" else 0)
        return _single(_calendar_date(year, month, day), g["year_word"])
    return _yearless_choice(month, day, today)


def _yearless_choice(month: int, day: int, today: date) -> _DayChoice:
    """3月5日 without a year: this year's; next year's only when that is close (December → January)."""
    this_year = _calendar_date(today.year, month, day)
    try:
        next_year = date(today.year + 1, month, day)
    except ValueError:  # 2月29日 before a non-leap year: only this year's exists
        return _single(this_year, "")
    advice = ("如果指的是明年，请写明年份", (f"{next_year.year}年{month}月{day}日", f"明年{month}月{day}日"))
    return _DayChoice(
        (this_year, next_year),
        ("", ""),
        accept_later=lambda moment: within_next_year_window(moment.date(), today),
        past_advice=advice,
        next_year=next_year,
    )


def _week_choice(word: str | None, weekday: int, today: date) -> _DayChoice:
    monday = today - timedelta(days=today.weekday())
    day_name = WEEKDAY_DIGITS[weekday]
    if word is None:  # 周五 alone: the coming Friday
        this_week = monday + timedelta(days=weekday)
        label = f"周{day_name}"
        return _DayChoice((this_week, this_week + timedelta(days=7)), (label, label))
    target = monday + timedelta(days=7 * _WEEK_OFFSETS[word] + weekday)
    advice = None
    if _WEEK_OFFSETS[word] == 0:
        advice = (f"如果指的是下周，请写“下周{day_name}”", (f"下周{day_name}", f"下周{day_name}下午3点"))
    return _single(target, f"{word}周{day_name}", advice)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _calendar_date(year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12:
        raise TimeParseError(f"{month}月不存在：月份只能是1到12", ("3月5日", "下个月5号"))
    try:
        return date(year, month, day)
    except ValueError:
        raise TimeParseError(f"{year}年{month}月{day}日不存在", ("3月5日", "下个月5号", "本月20日")) from None


def _day_of_month(start: date, months: int, day: int) -> date:
    """Day `day` of the month `months` after `start`'s (the step: recurrence.add_months); a day that month lacks
    is a TimeParseError, never moved to its last day."""
    month = add_months(start.replace(day=1), months)
    return _calendar_date(month.year, month.month, day)


def _time_of_day(g: dict[str, str | None], default_clock: tuple[int, int] | None = None) -> _TimeOfDay:
    period = g["period"]
    if g["day_period"]:
        implied = _DAY_PERIODS[g["day_period"]][1]
        if period is not None and _PERIOD_FAMILY.get(period, period) not in (implied, "上午" if implied == "早上" else implied):
            raise TimeParseError(f"“{g['day_period']}”和“{period}”矛盾", ("今晚8点", "明早8点", "明天下午3点"))
        period = period or implied
    family = _PERIOD_FAMILY.get(period, period) if period else None
    if g["hour"] is None:
        if period is None:
            return _TimeOfDay(*(default_clock or _DAY_DEFAULT), 0, defaulted=True)
        if period == "凌晨":
            raise TimeParseError("“凌晨”是几点？请写明具体时间", ("凌晨5点", "明天凌晨5点半"))
        return _TimeOfDay(_PERIOD_DEFAULT_HOUR[period], 0, 0, defaulted=True)
    written = read_number(g["hour"])
    minute = _minute(g)
    zero_padded = g["hour"].startswith("0") and len(g["hour"]) == 2
    if written > 23:
        raise TimeParseError(f"{written}点不存在：一天只有0点到23点", ("晚上11点", "23:00", "明天0点"))
    if family is None:
        if 1 <= written <= 6 and not zero_padded:
            hour_text = f"{written}点" if g["colon_minute"] is None else f"{written}:{minute:02d}"
            raise TimeParseError(
                f"“{hour_text}”不清楚是下午还是凌晨，请写明",
                (f"下午{written}点", f"凌晨{written}点", f"{written + 12}:{minute:02d}"),
            )
        return _TimeOfDay(written, minute, 0, defaulted=False)
    if family == _EVENING and written in (0, 12):
        return _TimeOfDay(0, minute, 1, defaulted=False)
    for low, high, add in _PERIOD_HOUR_RANGES[family]:
        if low <= written <= high:
            return _TimeOfDay(written + add, minute, 0, defaulted=False)
    suggestions = {
        "晚上": (f"凌晨{written}点", f"下午{written}点"),
        "凌晨": (f"上午{written}点", f"晚上{written}点"),
    }.get(family, (f"下午{written % 12 or 12}点", f"上午{written % 12 or 12}点"))
    raise TimeParseError(f"“{period}{written}点”说法矛盾，请检查", (*suggestions, "15:00"))


def _minute(g: dict[str, str | None]) -> int:
    if g["half"]:
        return 30
    if g["quarter"]:
        return 15 if g["quarter"] in ("一刻", "1刻") else 45
    token = g["minute"] or g["bare_minute"] or g["colon_minute"]
    if token is None:
        return 0
    minute = read_number(token)
    if minute > 59:
        raise TimeParseError(f"{minute}分不存在：分钟只能是0到59", ("下午3点30分", "15:45"))
    return minute
