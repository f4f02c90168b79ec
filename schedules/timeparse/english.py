"""English (and other non-Chinese) time expressions: our clock reading, dateparser's day reading, our checks.

What dateparser 1.5 returns on its own, and what we do about it (each case is a test):
- It drops or misplaces clock times ("tomorrow 10 am" → 10:00 only by accident of `now`, "tomorrow at 3" →
  the current time), so WE read the clock ("3pm", "2:30 pm", "7 o'clock pm", "15:00", "noon", "midnight") and give
  dateparser only the rest ("tomorrow", "friday", "march 20", "in 2 hours"). A number left unexplained
  ("tomorrow 3") is an error asking for am/pm; "3:30" without am/pm is ambiguous like 3点.
- "3pm" with PREFER_DATES_FROM='future' lands on TOMORROW even when 15:00 today is still ahead; a time alone
  follows our rule instead (today, or tomorrow when passed).
- "tomorrow" / "in 3 days" carry the current clock time and "friday" gets 00:00; a day without a time is 09:00.
  "tomorrow evening" is 18:00 to dateparser; our evening is 19:00 (morning 09:00, afternoon 15:00).
- "next week" / "next month" fill in today's weekday/day → a partial reading, an error. "in 2 weeks" is fine.
- "next friday" is the coming Friday to dateparser and Friday of next week to many people → an error showing both.
- "march 1" (passed) jumps to next year; our rule: next year only within 92 days, otherwise ask for the year.
- "3/5" is month-first to some and day-first to others → refused; dates are "March 5", "2025-03-05" or 3月5日.
dateparser is imported lazily and always called with `languages=['en']`: language detection is slow and
guesses, and the first call then loads only the English locale (first parse in a fresh process ~150 ms).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from schedules.weekdays import WEEKDAY_DIGITS
from schedules.timeparse.model import (
    ParsedTime,
    TimeParseError,
    describe_clock,
    describe_day,
    local_moment,
    within_next_year_window,
)

ENGLISH_EXAMPLES = ("tomorrow 9am", "Friday 8pm", "March 20 2:30pm", "in 2 hours")

_WEEKDAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|rsday|urday)?"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_NEXT_WEEKDAY = re.compile(rf"\bnext\s+({_WEEKDAY})\b")
# The clock is read by us, not dateparser: it drops "10 am" from "tomorrow 10 am" and "3" from "tomorrow at 3".
_CLOCK = re.compile(
    r"(?:\b(?:at|@)\s*)?(?:"
    r"\b(?P<hour12>\d{1,2})(?::(?P<minute12>\d{2}))?\s*(?:o'?clock\s*)?(?P<meridiem>am|pm|a\.m\.|p\.m\.)"
    r"|\b(?P<hour24>\d{1,2}):(?P<minute24>\d{2})\b"
    r"|\b(?P<word>noon|midday|midnight)\b)"
)
# Numbers that carry a date rather than an hour; whatever digits remain after these are unexplained.
_DATE_NUMBERS = re.compile(
    rf"\b\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}\b|\b\d{{4}}\b|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}"
    r"|\bin\s+\d+\s+(?:minute|min|hour|hr|day|week|month)s?\b"
    r"|\b\d+\s+(?:minute|min|hour|hr|day|week|month)s?\s+(?:later|from\s+now)\b"
)
_NUMERIC_DATE = re.compile(r"(?<![\d/.\-])\d{1,2}\s*[/.\-]\s*\d{1,2}(?![\d/.\-])")  # 3/5: month or day first?
_RELATIVE_OFFSET = re.compile(r"^in\s+(?:a|an|one|two|three|four|five|six|\d+)\s+(?:day|week|month)s?$")
_MONTH_NAME = re.compile(rf"\b{_MONTH}")
_EXPLICIT_YEAR = re.compile(r"\b\d{4}\b")
_FILLER = re.compile(r"\b(?:at|on|@)\b")
_PART_OF_DAY_HOURS = (("morning", 9), ("afternoon", 15), ("evening", 19), ("tonight", 19), ("night", 19))
_WEEKDAY_INDEX = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def dateparser_settings(now: datetime, zone: ZoneInfo) -> dict[str, Any]:
    """The settings we run dateparser with, each chosen on purpose (see the module docstring)."""
    return {
        "TIMEZONE": zone.key,  # read the text as wall-clock time in the organisation's zone
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "future",  # "friday" is the coming one; past readings are errors anyway
        "RELATIVE_BASE": now.astimezone(zone).replace(tzinfo=None),  # dateparser wants naive wall time
        "RETURN_TIME_AS_PERIOD": True,  # tells us whether the text named a time of day
        "PREFER_DAY_OF_MONTH": "first",
        # Only month names or four-digit years reach dateparser (bare "3/5" is refused first), so this merely
        # keeps "20 march" from being read as the year 2020's March.
        "DATE_ORDER": "MDY",
    }


def parse_english(text: str, now: datetime, zone: ZoneInfo) -> ParsedTime:
    """`text` (stripped, any case): our clock reading + dateparser's day reading, checked against our conventions."""
    lowered = " ".join(text.lower().split())
    if not re.search(r"[a-z]", lowered):  # "3/5", "3.5", "15": day-first or month-first? we do not guess
        raise TimeParseError(f"看不懂“{text}”：请用“3月5日”这样的写法写日期", ("3月5日 14:30", "2025-03-05 14:30"))
    next_weekday = _NEXT_WEEKDAY.search(lowered)
    if next_weekday:
        ambiguity = _next_weekday_error(next_weekday.group(1), now)
        if ambiguity is not None:
            raise ambiguity
    clock, rest = _take_clock(text, lowered)
    if _NUMERIC_DATE.search(rest):
        raise TimeParseError(f"看不懂“{text}”中的日期：请用“3月5日”或“2025-03-05”这样的写法", ("3月5日 14:30", "2025-03-05 14:30"))
    leftover = re.search(r"\d+", _DATE_NUMBERS.sub(" ", rest))
    if leftover:
        number = leftover.group(0)
        suggestions = tuple(re.sub(rf"\b{number}\b", number + suffix, text, count=1) for suffix in ("pm", "am"))
        raise TimeParseError(f"“{text}”中的“{number}”看不懂：如果是几点，请写明 am 或 pm", suggestions)
    day_text = " ".join(_FILLER.sub(" ", rest).split())
    if not day_text:  # a time of day alone: today, or tomorrow when it has passed (dateparser says tomorrow)
        if clock is None:
            raise TimeParseError(f"看不懂“{text}”这个时间", ENGLISH_EXAMPLES)
        today = now.date()
        moment = local_moment(today, *clock, zone)
        if moment <= now:
            moment = local_moment(today + timedelta(days=1), *clock, zone)
        return _parsed(moment, text, defaulted=False)
    if day_text == "today":
        return _checked(now.date(), *(clock or (9, 0)), text, lowered, now, zone, defaulted=clock is None)

    from dateparser.date import DateDataParser  # lazy: importing dateparser costs ~50 ms

    parser = DateDataParser(languages=["en"], settings=dateparser_settings(now, zone))
    data = parser.get_date_data(day_text)
    if data.date_obj is None or (data.date_obj.year > now.year + 1 and not _EXPLICIT_YEAR.search(lowered)):
        raise TimeParseError(f"看不懂“{text}”这个时间", (*ENGLISH_EXAMPLES, "明天上午9点", "下周三下午3点"))
    day = data.date_obj.date()
    period = data.period
    if period == "time":  # a relative time such as "in 2 hours": dateparser's moment is the answer
        if clock is not None:
            raise TimeParseError(f"“{text}”里有两个时间，请只写一个", ENGLISH_EXAMPLES)
        wall = data.date_obj.replace(tzinfo=None)
        return _checked(wall.date(), wall.hour, wall.minute, text, lowered, now, zone, defaulted=False)
    if clock is not None and period in ("day", "part_of_day"):
        return _checked(day, *clock, text, lowered, now, zone, defaulted=False)
    if period == "part_of_day":
        hour = next((h for word, h in _PART_OF_DAY_HOURS if word in lowered), data.date_obj.hour)
        return _checked(day, hour, 0, text, lowered, now, zone, defaulted=True)
    if period == "day" or (period in ("week", "month") and _RELATIVE_OFFSET.match(day_text)):
        return _checked(day, *(clock or (9, 0)), text, lowered, now, zone, defaulted=clock is None)
    raise TimeParseError(f"“{text}”没有说清是哪一天，请写明", ENGLISH_EXAMPLES)


def _take_clock(text: str, lowered: str) -> tuple[tuple[int, int] | None, str]:
    """The (hour, minute) the text names, if any, and the text without it."""
    matches = list(_CLOCK.finditer(lowered))
    if not matches:
        return None, lowered
    if len(matches) > 1:
        raise TimeParseError(f"“{text}”里有两个时刻，请只写一个", ENGLISH_EXAMPLES)
    match = matches[0]
    rest = lowered[: match.start()] + " " + lowered[match.end():]
    if match.group("word"):
        return ((0, 0) if match.group("word") == "midnight" else (12, 0)), rest
    if match.group("meridiem"):
        hour, minute = int(match.group("hour12")), int(match.group("minute12") or 0)
        if not 1 <= hour <= 12:
            raise TimeParseError(f"“{text}”中的 {hour}{match.group('meridiem')} 不存在", ENGLISH_EXAMPLES)
        hour = hour % 12 + (12 if match.group("meridiem").startswith("p") else 0)
    else:
        hour, minute = int(match.group("hour24")), int(match.group("minute24"))
        if 1 <= hour <= 6 and not match.group("hour24").startswith("0"):
            raise TimeParseError(f"“{text}”中的 {hour}:{minute:02d} 不清楚是上午还是下午，请写明",
                                 (f"tomorrow {hour}:{minute:02d}pm", f"tomorrow {hour}:{minute:02d}am",
                                  f"tomorrow {hour + 12}:{minute:02d}"))
    if hour > 23 or minute > 59:
        raise TimeParseError(f"“{text}”中的时刻不存在", ENGLISH_EXAMPLES)
    return (hour, minute), rest


def _checked(day: date, hour: int, minute: int, text: str, lowered: str, now: datetime, zone: ZoneInfo,
             *, defaulted: bool) -> ParsedTime:
    moment = local_moment(day, hour, minute, zone)
    if moment <= now:
        raise TimeParseError(f"“{text}”是 {describe_day(day)} {describe_clock(hour, minute)}，已经过去了",
                             ENGLISH_EXAMPLES)
    rolled_to_next_year = day.year > now.year and not _EXPLICIT_YEAR.search(lowered) and _MONTH_NAME.search(lowered)
    if rolled_to_next_year and not within_next_year_window(day, now.date()):
        raise TimeParseError(
            f"“{text}”今年的那一天已经过去了；如果指的是{day.year}年，请写明年份",
            (f"{text} {day.year}",),
        )
    return _parsed(moment, text, defaulted=defaulted)


def _parsed(moment: datetime, text: str, *, defaulted: bool) -> ParsedTime:
    note = "（未写具体几点，按约定）" if defaulted else ""
    reading = f"{text}（{describe_day(moment.date())}）{describe_clock(moment.hour, moment.minute)}{note}"
    return ParsedTime(at=moment, reading=reading, matched=text)


def _next_weekday_error(weekday_word: str, now: datetime) -> TimeParseError | None:
    weekday = _WEEKDAY_INDEX[weekday_word[:3]]
    today = now.date()
    coming = today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
    next_week = today - timedelta(days=today.weekday()) + timedelta(days=7 + weekday)
    if coming == next_week:  # said at the weekend: both readings are the same day
        return None
    name = weekday_word.capitalize()
    return TimeParseError(
        f"“next {weekday_word}”有两种理解：{coming.month}月{coming.day}日或{next_week.month}月{next_week.day}日，请写明",
        (f"this {name}", f"{name} {next_week.strftime('%B')} {next_week.day}", f"下周{WEEKDAY_DIGITS[weekday]}"),
    )
