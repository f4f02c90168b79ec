"""A day that has been, in plain Chinese ("12月5日", "昨天"): the day a 谈心谈话 talk was held.

Pure like the rest of the parser: `today` is an argument. A past day may not lie in the future.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from schedules.timeparse.chinese import RELATIVE_DAYS, to_half_width
from schedules.timeparse.model import TimeParseError, describe_day
from schedules.timeparse.numerals import NUMBER_PATTERN as N
from schedules.timeparse.numerals import read_number

PAST_DAY_EXAMPLES = ("今天", "昨天", "12月5日", "2025-12-05")

_ISO_DAY = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_YEAR_MONTH_DAY = re.compile(rf"(?:(\d{{4}})年)?(?P<month>{N})月(?P<day>{N})[日号]")
# The parser's day words that do not lie ahead (今天, 昨天, 前天 …), as days back; 明天 stays unreadable here.
_RELATIVE_PAST = {word: -offset for word, offset in RELATIVE_DAYS.items() if offset <= 0}
_DAY_OF_MONTH = re.compile(rf"(?P<day>{N})[日号]")


@dataclass(frozen=True)
class ParsedDay:
    """A resolved day; `reading` says how it was read ("12月5日（2025年12月5日 星期五）")."""

    day: date
    reading: str
    matched: str


def _clean(text: str) -> str:
    return re.sub(r"\s+", "", to_half_width(text)).strip("。！？!?，,；;、")


def _date(year: int, month: int, day: int, examples: tuple[str, ...]) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise TimeParseError(f"{year}年{month}月{day}日不存在", examples) from None


def parse_past_day(text: str, today: date) -> ParsedDay:
    """A day that has been (today counts): "今天", "昨天", "前天", "12月5日", "5号", "2025年12月5日", ISO dates.

    A yearless date still ahead this year means last year's when that is at most 92 days back (in January,
    "12月5日" is last December); a day in the future is an error.
    """
    cleaned = _clean(text)
    if not cleaned:
        raise TimeParseError("请写日期", PAST_DAY_EXAMPLES)
    day: date | None = None
    if cleaned in _RELATIVE_PAST:
        day = today - timedelta(days=_RELATIVE_PAST[cleaned])
    elif match := _ISO_DAY.fullmatch(cleaned):
        day = _date(int(match[1]), int(match[2]), int(match[3]), PAST_DAY_EXAMPLES)
    elif (match := _YEAR_MONTH_DAY.fullmatch(cleaned)):
        month, number = read_number(match["month"], PAST_DAY_EXAMPLES), read_number(match["day"], PAST_DAY_EXAMPLES)
        if match[1]:
            day = _date(int(match[1]), month, number, PAST_DAY_EXAMPLES)
        else:
            day = _date(today.year, month, number, PAST_DAY_EXAMPLES)
            if day > today:
                earlier = _date(today.year - 1, month, number, PAST_DAY_EXAMPLES)
                if today - earlier > timedelta(days=92):
                    raise TimeParseError(f"{cleaned}（{describe_day(day)}）还没到", PAST_DAY_EXAMPLES)
                day = earlier
    elif match := _DAY_OF_MONTH.fullmatch(cleaned):
        day = _date(today.year, today.month, read_number(match["day"], PAST_DAY_EXAMPLES), PAST_DAY_EXAMPLES)
    if day is None:
        raise TimeParseError(f"看不懂日期“{cleaned}”", PAST_DAY_EXAMPLES)
    if day > today:
        raise TimeParseError(f"{cleaned}（{describe_day(day)}）还没到", PAST_DAY_EXAMPLES)
    return ParsedDay(day=day, reading=f"{cleaned}（{describe_day(day)}）", matched=cleaned)
