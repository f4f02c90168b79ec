"""Deadlines as notices write them (本月底前, 周五前, 国庆节前, 3个工作日内): the last moment that is still on time.

Rules (each is tested; `rect`'s 整改 items and the 五个一 checklists call `parse_deadline`):

- A day without a time of day runs to its end: "周五前", "3月15日前" and "周五" are due 23:59:59 that day
  ("X日前" in a notice includes X日). A time of day is kept: "周五下午5点前" is due 17:00.
- 月底 / 本月底前 / 本月内: the last day of this month; 下个月底, 3月底: of that month. 年底 / 年底前 / 今年内: 31 December.
- A holiday: before its first day off ("国庆节前" 2025: 9月30日 23:59:59; "七一前": 6月30日), the coming one.
- N天内 / N周内 / N个月内: the end of that many days, weeks or months after today; N个工作日内: the end of the Nth
  workday after today (official calendar). 本季度末: the quarter's last day. "3月15日24时前" is the end of the 15th.
- Words notices put around a deadline are dropped: 截至/于/请于 before it, 完成/报送/上报/提交 after it.
- Anything else must read as a time under the ordinary grammar; a range, a past day and unread words are errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from schedules.recurrence import add_months, last_day_of_month
from schedules.timeparse import chinese
from schedules.timeparse.holidays import WorkCalendar, holiday, holiday_span, require_calendar, workday_after
from schedules.timeparse.model import TimeParseError, describe_day, local_moment
from schedules.timeparse.numerals import NUMBER_PATTERN as N
from schedules.timeparse.numerals import read_number
from schedules.weekdays import WEEK

DEADLINE_EXAMPLES = ("本月底前", "周五前", "3月15日前", "国庆节前", "年底前", "3个工作日内")
_END_OF_DAY = time(23, 59, 59)
_BEFORE = r"(?:之前|以前|前|为止|截止)?"
_MONTH_END = re.compile(
    rf"(?P<which>本月|这个?月|当月|下下个?月|下个?月|(?P<month>{N})\s*月份?)?\s*(?:月?(?:底|末)|(?<=月)内|(?<=月份)内){_BEFORE}"
)
_YEAR_END = re.compile(rf"(?P<which>今年|本年|明年|(?P<year>\d{{4}})\s*年)?\s*(?:年底|年末|年内|(?<=年)(?:底|末|内)){_BEFORE}")
_WITHIN_DAYS = re.compile(rf"(?P<count>{N})\s*(?P<workdays>个\s*工作日|天|日|个?星期|周|个月)\s*(?:之内|以内|内)")
_QUARTER_END = re.compile(rf"(?P<which>本|这个?|下个?)?季度(?:末|底|内){_BEFORE}")
# What notices put around a deadline: "截至3月15日", "3月15日前完成", "于月底前报送".
_LEAD_WORDS = re.compile(r"^(?:请于|请在|须于|需于|应于|于|在|截止到?|截至)")
_TAIL_WORDS = re.compile(r"(?:完成|报送|上报|提交|办结|整改到位|到位|报到)$")
_MIDNIGHT = re.compile(r"(?:24|二十四)\s*(?:时|点|:00)(?=(?:之前|以前|前|为止|截止)?$)")
_GENERAL = re.compile(r"(?P<body>.*?)\s*(?P<before>之前|以前|前|为止|截止)?")
_TRAILING_PUNCTUATION = " \t\r\n。！？!?，,；;、"


@dataclass(frozen=True)
class Deadline:
    """When something is due: `due` is aware, in the organisation's zone, the last moment still on time."""

    due: datetime
    reading: str  # "本月底（2025年3月31日 星期一）当天结束前"
    matched: str


def parse_deadline(text: str, now: datetime, zone: ZoneInfo, calendar: WorkCalendar | None = None) -> Deadline:
    """The due moment `text` names; TimeParseError (Chinese message, examples) when it names none or one past."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(zone)
    original = text.strip(_TRAILING_PUNCTUATION)
    cleaned = re.sub(r"\s+", "", chinese.to_half_width(original))
    cleaned = _TAIL_WORDS.sub("", _LEAD_WORDS.sub("", cleaned))
    cleaned = _MIDNIGHT.sub("", cleaned)  # 3月15日24时前: the end of the 15th, as a day alone means
    if not cleaned:
        raise TimeParseError("请写一个期限", DEADLINE_EXAMPLES)
    deadline = _read(cleaned, now, zone, calendar)
    if deadline.due <= now:
        raise TimeParseError(f"期限{deadline.reading}已经过去了", DEADLINE_EXAMPLES)
    return Deadline(due=deadline.due, reading=deadline.reading, matched=original)


def _read(text: str, now: datetime, zone: ZoneInfo, calendar: WorkCalendar | None) -> Deadline:
    today = now.date()
    if (match := _MONTH_END.fullmatch(text)) is not None:
        if match.group("month"):
            month = read_number(match.group("month"), DEADLINE_EXAMPLES)
            if not 1 <= month <= 12:
                raise TimeParseError(f"{month}月不存在", DEADLINE_EXAMPLES)
            year = today.year if month >= today.month else today.year + 1
            label = f"{month}月底"
        else:
            which = match.group("which") or "本月"
            offset = 2 if which.startswith("下下") else 1 if which.startswith("下") else 0
            stepped = add_months(today.replace(day=1), offset)
            year, month = stepped.year, stepped.month
            label = f"{which}底" if which != "当月" else "月底"
        return _end_of(last_day_of_month(year, month), label, text, zone)
    if (match := _YEAR_END.fullmatch(text)) is not None:
        which = match.group("which")
        year = int(match.group("year")) if match.group("year") else today.year + (1 if which == "明年" else 0)
        return _end_of(date(year, 12, 31), f"{year}年底", text, zone)
    if (match := _QUARTER_END.fullmatch(text)) is not None:
        offset = 1 if (match.group("which") or "").startswith("下") else 0
        stepped = add_months(today.replace(day=1), 3 * offset)
        year, quarter = stepped.year, (stepped.month - 1) // 3 + 1
        return _end_of(last_day_of_month(year, quarter * 3), f"{year}年第{'一二三四'[quarter - 1]}季度末", text, zone)
    if (match := _WITHIN_DAYS.fullmatch(text)) is not None:
        count = read_number(match.group("count"), DEADLINE_EXAMPLES)
        unit = match.group("workdays")
        if count < 1:
            raise TimeParseError(f"“{text}”：请至少写1天", DEADLINE_EXAMPLES)
        if "工作日" in unit:
            day = workday_after(require_calendar(calendar, text), today, count)
            return _end_of(day, f"{count}个工作日内", text, zone)
        if "月" in unit:
            return _end_of(add_months(today, count), f"{count}个月内", text, zone)
        days = count * (7 if ("周" in unit or "星期" in unit) else 1)
        return _end_of(today + timedelta(days=days), f"{count}{unit}内", text, zone)
    general = _GENERAL.fullmatch(text)
    assert general is not None  # the pattern accepts any text
    body = general.group("body")
    if (holiday_match := re.fullmatch(rf"(?P<year>今年|明年|\d{{4}}年)?(?P<name>{chinese.HOLIDAY_PATTERN})", body)):
        return _before_holiday(holiday_match, text, today, zone, calendar)
    match = chinese.match_whole(body) if body else None
    if match is None:
        raise _unreadable(text, body)
    if chinese.is_range(match):
        raise TimeParseError(f"“{text}”是一段时间，期限只能是一个时刻", DEADLINE_EXAMPLES)
    if match.group("offset_time"):
        parsed = chinese.resolve(match, now, zone, calendar)
        return Deadline(parsed.at, parsed.reading, text)
    if chinese.has_clock(match):
        parsed = chinese.resolve(match, now, zone, calendar)
        return Deadline(parsed.at, f"{parsed.reading}前", text)
    parsed = chinese.resolve(match, now, zone, calendar, default_clock=(23, 59))
    day = parsed.at.date()
    label = match.group(0)
    return _end_of(day, label, text, zone)


def _before_holiday(match: re.Match[str], text: str, today: date, zone: ZoneInfo,
                    calendar: WorkCalendar | None) -> Deadline:
    found = holiday(match.group("name"))
    word = match.group("year")
    years = ((today.year,) if word == "今年" else (today.year + 1,) if word == "明年"
             else (int(word[:-1]),) if word else (today.year, today.year + 1))
    for year in years:
        first, _ = holiday_span(found, year, calendar)
        day = first - timedelta(days=1)
        if day >= today:
            return _end_of(day, f"{found.name}前", text, zone)
    raise TimeParseError(f"{years[-1]}年的{found.name}已经过去了", DEADLINE_EXAMPLES)


def _end_of(day: date, label: str, text: str, zone: ZoneInfo) -> Deadline:
    due = local_moment(day, 23, 59, zone).replace(second=59)
    return Deadline(due, f"{label}（{describe_day(day)}）当天结束前", text)


def _unreadable(text: str, body: str) -> TimeParseError:
    if re.fullmatch(rf"(?:本|这){WEEK}内", text):
        return TimeParseError(f"“{text}”是到周五还是周日？请写明", ("本周五前", "本周日前"))
    if re.search(r"节[前后]", text) and not re.search(chinese.HOLIDAY_PATTERN, text):
        return TimeParseError(f"“{text}”是哪个节日？请写明", ("国庆节前", "春节前", "七一前"))
    partial = chinese.find_all(body)
    if partial:
        best = max(partial, key=lambda match: len(match.group(0)))
        start, end = chinese.span_of(best)
        unread = (body[:start] + " " + body[end:]).strip()
        return TimeParseError(f"期限“{text}”：只看懂了“{body[start:end]}”，看不懂“{unread}”", DEADLINE_EXAMPLES)
    return TimeParseError(f"看不懂期限“{text}”", DEADLINE_EXAMPLES)
