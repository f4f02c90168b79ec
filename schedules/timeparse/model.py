"""Result and error types of time parsing, plus the zone-safe construction of a local moment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from schedules.weekdays import WEEKDAY_DIGITS

# Shown whenever we cannot read a text: one example of each family of forms a secretary can use.
GENERAL_EXAMPLES: tuple[str, ...] = (
    "下周三下午3点",
    "明天上午9点",
    "3月5日 14:30",
    "两小时后",
    "2025-03-12 15:00",
)

WEEKDAY_NAMES = tuple(f"星期{digit}" for digit in WEEKDAY_DIGITS)

# A date without a year that has passed this year means next year only this close ahead (December → January).
NEXT_YEAR_WINDOW = timedelta(days=92)


def within_next_year_window(day: date, today: date) -> bool:
    """Whether a yearless date read as next year's `day` is close enough ahead of `today` to mean that (in days)."""
    return day - today <= NEXT_YEAR_WINDOW


@dataclass(frozen=True)
class ParsedTime:
    """A resolved moment: `at` is aware and in the organisation's zone."""

    at: datetime
    reading: str  # Chinese account of how the text was read, e.g. "下周三（2025年3月12日 星期三）下午3点（15:00）"
    matched: str  # the substring of the input that was the time
    end: datetime | None = None  # the end of a range ("下午3点到5点"), always after `at`; None for one moment


class TimeParseError(ValueError):
    """A text that does not name one future moment; `.message` is Chinese, `.examples` show what works.

    `.suggestion`, when set, is the whole text rewritten to what the user most likely meant ("2027年3月8日" for a
    3月8日 that has passed): a question to put to them, never an answer to use without asking.
    """

    def __init__(self, message: str, examples: tuple[str, ...] = GENERAL_EXAMPLES, *,
                 suggestion: str | None = None) -> None:
        self.message = message
        self.examples = tuple(examples)
        self.suggestion = suggestion
        super().__init__(message)

    def __str__(self) -> str:
        if not self.examples:
            return self.message
        return f"{self.message}\n例如：" + "、".join(self.examples)


def describe_day(day: date) -> str:
    """'2025年3月12日 星期三'."""
    return f"{day.year}年{day.month}月{day.day}日 {WEEKDAY_NAMES[day.weekday()]}"


def describe_clock(hour: int, minute: int) -> str:
    """A 24-hour clock time the way a secretary says it, with the 24-hour form for certainty: '下午3点（15:00）'."""
    if hour == 0:
        period, spoken = "午夜", 0
    elif hour < 6:
        period, spoken = "凌晨", hour
    elif hour < 12:
        period, spoken = "上午", hour
    elif hour == 12:
        period, spoken = "中午", 12
    elif hour < 18:
        period, spoken = "下午", hour - 12
    else:
        period, spoken = "晚上", hour - 12
    if minute == 0:
        tail = "点"
    elif minute == 30:
        tail = "点半"
    else:
        tail = f"点{minute:02d}分"
    return f"{period}{spoken}{tail}（{hour:02d}:{minute:02d}）"


def local_moment(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    """The aware moment of a wall-clock time in `zone`; a time skipped or repeated by a DST change is an error."""
    if not 0 <= hour <= 23:
        raise TimeParseError(f"{hour}点不存在：一天只有0点到23点", ("下午3点", "15:00", "晚上8点"))
    if not 0 <= minute <= 59:
        raise TimeParseError(f"{minute}分不存在：分钟只能是0到59", ("下午3点30分", "15:45"))
    wall = datetime.combine(day, time(hour, minute))
    moment = wall.replace(tzinfo=zone)
    # zoneinfo accepts any wall time; a round trip through UTC exposes one that the clock skipped.
    if moment.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != wall:
        raise TimeParseError(
            f"{describe_day(day)} {hour:02d}:{minute:02d} 在时区 {zone.key} 不存在（夏令时拨快跳过了这段时间）",
            ("换一个整点", "写明时差，如 2025-03-12T15:00+08:00"),
        )
    if moment.replace(fold=1).utcoffset() != moment.utcoffset():
        raise TimeParseError(
            f"{describe_day(day)} {hour:02d}:{minute:02d} 在时区 {zone.key} 出现两次（夏令时回拨），无法确定是哪一次",
            ("写明时差，如 2025-11-02T01:30-04:00",),
        )
    return moment
