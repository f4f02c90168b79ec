"""English (and other non-Chinese) time expressions through dateparser, with the readings it gets wrong corrected.

What dateparser returns on its own, and what we do about it (verified against dateparser 1.5):
- "3pm" / "15:00" with PREFER_DATES_FROM='future' lands on TOMORROW even when 15:00 today is still ahead;
  a time alone follows our rule instead (today, or tomorrow when passed).
- "tomorrow" / "in 3 days" carry the current clock time (10:00) and "friday" gets 00:00; a day without a time
  is 09:00 by our convention. "tomorrow evening" is 18:00; our 晚上 is 19:00 (morning 09:00, afternoon 15:00).
- "tomorrow at 3" silently drops "at 3" → an hour without am/pm is an error, as in Chinese.
- "next week" / "next month" fill in today's weekday/day → a partial reading, an error. "in 2 weeks" is fine.
- "next friday" means the coming Friday to dateparser and Friday of next week to many people → an error that
  shows both dates.
- "march 1" (passed) jumps to next year; our rule: next year only within 92 days, otherwise ask for the year.
dateparser is imported lazily and always called with `languages=['en']`: language detection is slow and
guesses (it reads plenty of Chinese as partial dates), and the first call loads only the English locale.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from schedules.timeparse.model import ParsedTime, TimeParseError, describe_clock, describe_day, local_moment

ENGLISH_EXAMPLES = ("tomorrow 9am", "Friday 8pm", "March 20 2:30pm", "in 2 hours")
NEXT_YEAR_WINDOW = timedelta(days=92)

_WEEKDAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|rsday|urday)?"
_NEXT_WEEKDAY = re.compile(rf"\bnext\s+({_WEEKDAY})\b")
_HOUR_WITHOUT_MERIDIEM = re.compile(r"\b(?:at|@)\s*(\d{1,2})\b(?!\s*(?::|am|pm|a\.m|p\.m|o'?clock))")
_TIME_ONLY = re.compile(
    r"^(?:at\s+)?(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\d{1,2}:\d{2}|noon|midday|midnight)$"
)
_RELATIVE_OFFSET = re.compile(r"^in\s+(?:a|an|one|two|three|four|five|six|\d+)\s+(?:day|week|month)s?$")
_MONTH_NAME = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b")
_EXPLICIT_YEAR = re.compile(r"\b\d{4}\b")
_PART_OF_DAY_HOURS = (("morning", 9), ("afternoon", 15), ("evening", 19), ("tonight", 19), ("night", 19),
                      ("noon", 12), ("midday", 12))
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
        "DATE_ORDER": "YMD",  # 2025/03/05 and 3/5 never silently read day-first
    }


def parse_english(text: str, now: datetime, zone: ZoneInfo) -> ParsedTime:
    """`text` (stripped, any case) read by dateparser and checked against our conventions."""
    from dateparser.date import DateDataParser  # lazy: importing dateparser costs ~50 ms

    lowered = " ".join(text.lower().split())
    next_weekday = _NEXT_WEEKDAY.search(lowered)
    if next_weekday:
        ambiguity = _next_weekday_error(next_weekday.group(1), now)
        if ambiguity is not None:
            raise ambiguity
    bare_hour = _HOUR_WITHOUT_MERIDIEM.search(lowered)
    if bare_hour:
        hour = int(bare_hour.group(1))
        raise TimeParseError(f"“{text}”中的 {hour} 点不清楚是上午还是下午，请写明",
                             (f"tomorrow {hour}pm", f"tomorrow {hour}am", f"tomorrow {hour}:00"))
    parser = DateDataParser(languages=["en"], settings=dateparser_settings(now, zone))
    data = parser.get_date_data(lowered)
    if data.date_obj is None:
        raise TimeParseError(f"看不懂“{text}”这个时间", (*ENGLISH_EXAMPLES, "明天上午9点", "下周三下午3点"))
    parsed_day = data.date_obj.date()
    period = data.period
    if period == "time":
        hour, minute = data.date_obj.hour, data.date_obj.minute
        if _TIME_ONLY.match(lowered):  # no day given: today, or tomorrow when passed (dateparser says tomorrow)
            today = now.date()
            moment = local_moment(today, hour, minute, zone)
            if moment <= now:
                moment = local_moment(today + timedelta(days=1), hour, minute, zone)
            return _parsed(moment, text, defaulted=False)
        return _checked(parsed_day, hour, minute, text, lowered, now, zone, defaulted=False)
    if period == "part_of_day":
        hour = next((h for word, h in _PART_OF_DAY_HOURS if word in lowered), data.date_obj.hour)
        return _checked(parsed_day, hour, 0, text, lowered, now, zone, defaulted=True)
    if period == "day" or (period in ("week", "month") and _RELATIVE_OFFSET.match(lowered)):
        return _checked(parsed_day, 9, 0, text, lowered, now, zone, defaulted=True)
    raise TimeParseError(f"“{text}”只说到了{ {'week': '哪一周', 'month': '哪个月', 'year': '哪一年'}.get(period or '', '大概的时间') }，"
                         "请写明具体哪一天几点", ENGLISH_EXAMPLES)


def _checked(day: date, hour: int, minute: int, text: str, lowered: str, now: datetime, zone: ZoneInfo,
             *, defaulted: bool) -> ParsedTime:
    moment = local_moment(day, hour, minute, zone)
    if moment <= now:
        raise TimeParseError(f"“{text}”是 {describe_day(day)} {describe_clock(hour, minute)}，已经过去了",
                             ENGLISH_EXAMPLES)
    rolled_to_next_year = day.year > now.year and not _EXPLICIT_YEAR.search(lowered) and _MONTH_NAME.search(lowered)
    if rolled_to_next_year and moment.replace(tzinfo=None) - now.replace(tzinfo=None) > NEXT_YEAR_WINDOW:
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
        (f"this {name}", f"{name} {next_week.strftime('%B')} {next_week.day}", f"下周{'一二三四五六日'[weekday]}"),
    )
