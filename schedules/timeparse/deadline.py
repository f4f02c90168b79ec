"""Days rather than moments: a deadline ("本月底前", "6月30日前") and a day that has been (a talk "12月5日").

Pure like the rest of the parser: `today` is an argument. A deadline is the last day on which the work may
still be done (the day itself counts); a past day may not lie in the future.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from schedules.timeparse.chinese import to_half_width
from schedules.timeparse.model import TimeParseError, describe_day, within_next_year_window
from schedules.timeparse.numerals import NUMBER_PATTERN as N
from schedules.timeparse.numerals import parse_number

DEADLINE_EXAMPLES = ("本月底前", "6月30日前", "下月底前", "年底前", "2025-06-30")
PAST_DAY_EXAMPLES = ("今天", "昨天", "12月5日", "2025-12-05")

_BEFORE = r"(?:之前|以前|前)?"
_ISO_DAY = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})" + _BEFORE)
_YEAR_MONTH_DAY = re.compile(rf"(?:(\d{{4}})年)?(?P<month>{N})月(?P<day>{N})[日号]" + _BEFORE)
_MONTH_END = re.compile(r"(?P<which>本月|这个?月|当月|下下个?月|下个?月|月)底" + _BEFORE)
_NAMED_MONTH_END = re.compile(rf"(?P<month>{N})月(?:份)?底" + _BEFORE)
_YEAR_END = re.compile(r"(?:今年|本年度?|年)底" + _BEFORE)
_RELATIVE_PAST = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}
_DAY_OF_MONTH = re.compile(rf"(?P<day>{N})[日号]")


@dataclass(frozen=True)
class ParsedDay:
    """A resolved day; `reading` says how it was read ("本月底（2025年3月31日 星期一）")."""

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


def _number(token: str, examples: tuple[str, ...]) -> int:
    try:
        return parse_number(token)
    except ValueError:
        raise TimeParseError(f"看不懂数字“{token}”", examples) from None


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _months_later(today: date, months: int) -> tuple[int, int]:
    index = today.year * 12 + today.month - 1 + months
    return index // 12, index % 12 + 1


def parse_deadline(text: str, today: date) -> ParsedDay:
    """The last day `text` allows: "本月底前", "月底", "6月30日前", "2025年6月30日", "12月底前", "年底前", ISO dates.

    A day without a year is this year's; if it has passed, next year's when that is at most 92 days away (as
    for times), else an error. A deadline that has already passed is an error.
    """
    cleaned = _clean(text)
    if not cleaned:
        raise TimeParseError("请写整改时限", DEADLINE_EXAMPLES)
    day: date | None = None
    label = cleaned
    if match := _ISO_DAY.fullmatch(cleaned):
        day = _date(int(match[1]), int(match[2]), int(match[3]), DEADLINE_EXAMPLES)
    elif match := _YEAR_MONTH_DAY.fullmatch(cleaned):
        month, number = _number(match["month"], DEADLINE_EXAMPLES), _number(match["day"], DEADLINE_EXAMPLES)
        if match[1]:
            day = _date(int(match[1]), month, number, DEADLINE_EXAMPLES)
        else:
            day = _date(today.year, month, number, DEADLINE_EXAMPLES)
            if day < today:
                later = _date(today.year + 1, month, number, DEADLINE_EXAMPLES)
                if not within_next_year_window(later, today):
                    raise TimeParseError(f"{cleaned}已经过去了；如果指的是明年，请写明年份",
                                         (f"{today.year + 1}年{month}月{number}日前",))
                day = later
    elif match := _MONTH_END.fullmatch(cleaned):
        which = match["which"]
        offset = 2 if which.startswith("下下") else 1 if which.startswith("下") else 0
        day = _last_day(*_months_later(today, offset))
    elif match := _NAMED_MONTH_END.fullmatch(cleaned):
        month = _number(match["month"], DEADLINE_EXAMPLES)
        if not 1 <= month <= 12:
            raise TimeParseError(f"{month}月不存在：月份只能是1到12", DEADLINE_EXAMPLES)
        year = today.year if _last_day(today.year, month) >= today else today.year + 1
        day = _last_day(year, month)
    elif _YEAR_END.fullmatch(cleaned):
        day = date(today.year, 12, 31)
    if day is None:
        raise TimeParseError(f"看不懂整改时限“{cleaned}”", DEADLINE_EXAMPLES)
    if day < today:
        raise TimeParseError(f"{cleaned}（{describe_day(day)}）已经过去了，请写今后的时限", DEADLINE_EXAMPLES)
    return ParsedDay(day=day, reading=f"{label}（{describe_day(day)}）", matched=cleaned)


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
    elif (match := _YEAR_MONTH_DAY.fullmatch(cleaned)) and not cleaned.endswith("前"):
        month, number = _number(match["month"], PAST_DAY_EXAMPLES), _number(match["day"], PAST_DAY_EXAMPLES)
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
        day = _date(today.year, today.month, _number(match["day"], PAST_DAY_EXAMPLES), PAST_DAY_EXAMPLES)
    if day is None:
        raise TimeParseError(f"看不懂日期“{cleaned}”", PAST_DAY_EXAMPLES)
    if day > today:
        raise TimeParseError(f"{cleaned}（{describe_day(day)}）还没到", PAST_DAY_EXAMPLES)
    return ParsedDay(day=day, reading=f"{cleaned}（{describe_day(day)}）", matched=cleaned)
