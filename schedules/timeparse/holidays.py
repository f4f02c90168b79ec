"""Days named by the calendar: holidays as dates, days before or after a holiday, workday counts, ordinal weekdays.

Pure: the official (or provisional) calendar is an argument. We rely only on its query methods
`is_workday(day)` and `holidays_in(year)` (periods with `codes`, `first_day`, `last_day`), and treat any
LookupError it raises (an unknown year) as a refusal with its own message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any, Protocol, Sequence

from schedules.recurrence import last_day_of_month, nth_weekday
from schedules.timeparse.model import TimeParseError
from schedules.weekdays import WEEKDAY_DIGITS


class WorkCalendar(Protocol):
    """What the parser asks of a calendar (schedules.calendar.OfficialCalendar, or a provisional one)."""

    def is_workday(self, day: date) -> bool: ...

    def holidays_in(self, year: int) -> Sequence[Any]: ...


@dataclass(frozen=True)
class Holiday:
    """A name people write for a holiday: its statutory code (None for 七一 etc.) and fixed day, if it has one."""

    name: str
    code: str | None
    fixed: tuple[int, int] | None  # (month, day); None for the lunar and solar-term festivals


_HOLIDAYS: dict[str, Holiday] = {}
for _names, _code, _fixed in (
    (("元旦节", "元旦"), "new_years_day", (1, 1)),
    (("春节",), "spring_festival", None),
    (("清明节", "清明"), "tomb_sweeping_day", None),
    (("五一劳动节", "五一国际劳动节", "劳动节", "五一节", "五一"), "labour_day", (5, 1)),
    (("端午节", "端午"), "dragon_boat_festival", None),
    (("中秋节", "中秋"), "mid_autumn_festival", None),
    (("国庆节", "国庆", "十一"), "national_day", (10, 1)),
    (("七一建党节", "建党节", "七一"), None, (7, 1)),
    (("八一建军节", "建军节", "八一"), None, (8, 1)),
    (("五四青年节", "青年节", "五四"), None, (5, 4)),
):
    for _name in _names:
        _HOLIDAYS[_name] = Holiday(_names[0], _code, _fixed)

# Longest first so 五一劳动节 wins over 五一; 十一 is not the hour or month (十一点, 十一月, 十一号).
HOLIDAY_PATTERN = "|".join(
    name + (r"(?![点时月号日:：个分钟\d一二三四五六七八九十])" if name == "十一" else "")
    for name in sorted(_HOLIDAYS, key=len, reverse=True)
)

# The `holidays` package's English names of the festivals whose day moves with the lunar calendar or solar term.
_FESTIVAL_NAMES = {
    "spring_festival": "spring festival",
    "tomb_sweeping_day": "tomb-sweeping",
    "dragon_boat_festival": "dragon boat",
    "mid_autumn_festival": "mid-autumn",
}


def holiday(name: str) -> Holiday:
    return _HOLIDAYS[name]


def require_calendar(calendar: WorkCalendar | None, text: str) -> WorkCalendar:
    if calendar is None:
        raise TimeParseError(f"“{text}”要按节假日安排推算，但这里没有节假日日历，请写具体日期", ("4月7日上午9点", "下周一上午9点"))
    return calendar


def festival_day(holiday_: Holiday, year: int) -> date:
    """The day of the festival itself in `year` (国庆节 10月1日; 中秋节 by the lunar calendar)."""
    if holiday_.fixed is not None:
        return date(year, *holiday_.fixed)
    return _lunar_festival_day(holiday_.code, year)


@cache
def _lunar_festival_day(code: str | None, year: int) -> date:
    import holidays  # lazy: only a festival named by its lunar day needs the astronomical tables

    wanted = _FESTIVAL_NAMES[code or ""]
    days = sorted(day for day, name in holidays.China(years=year, language="en_US").items()
                  if wanted in name.lower() and "eve" not in name.lower() and "observed" not in name.lower())
    if not days:
        raise TimeParseError(f"不知道 {year} 年的这个节日是哪一天，请写具体日期", ("4月4日上午9点",))
    return days[0]


def holiday_span(holiday_: Holiday, year: int, calendar: WorkCalendar | None) -> tuple[date, date]:
    """First and last day off of the holiday in `year` (国庆 2025: 10-01..10-08); a single day for 七一."""
    if holiday_.code is None:
        day = festival_day(holiday_, year)
        return day, day
    calendar = require_calendar(calendar, holiday_.name)
    periods = [p for p in _ask(lambda: calendar.holidays_in(year)) if holiday_.code in p.codes]
    if not periods:
        raise TimeParseError(f"{year} 年的节假日安排里没有{holiday_.name}", ("4月7日上午9点",))
    return periods[0].first_day, periods[0].last_day


def is_workday(calendar: WorkCalendar, day: date) -> bool:
    return _ask(lambda: calendar.is_workday(day))


def workday_after(calendar: WorkCalendar, day: date, nth: int = 1) -> date:
    """The nth workday strictly after `day`."""
    for _ in range(nth):
        day += timedelta(days=1)
        while not is_workday(calendar, day):
            day += timedelta(days=1)
    return day


def workday_before(calendar: WorkCalendar, day: date, nth: int = 1) -> date:
    """The nth workday strictly before `day`."""
    for _ in range(nth):
        day -= timedelta(days=1)
        while not is_workday(calendar, day):
            day -= timedelta(days=1)
    return day


def nth_workday_of_month(calendar: WorkCalendar, year: int, month: int, nth: int) -> date:
    """nth > 0 counts from the 1st, nth < 0 from the end (-1: the last workday)."""
    first = date(year, month, 1)
    following = last_day_of_month(year, month) + timedelta(days=1)
    day = first - timedelta(days=1) if nth > 0 else following
    found = workday_after(calendar, day, nth) if nth > 0 else workday_before(calendar, day, -nth)
    if found.month != month:
        raise TimeParseError(f"{year}年{month}月没有第{abs(nth)}个工作日", ("下个月第一个工作日",))
    return found


def nth_weekday_of_month(year: int, month: int, weekday: int, nth: int) -> date:
    """nth > 0: the nth such weekday of the month; nth < 0: counted from the end."""
    day = nth_weekday(year, month, weekday, nth)
    if day is None:
        raise TimeParseError(f"{year}年{month}月没有第{abs(nth)}个星期{WEEKDAY_DIGITS[weekday]}",
                             ("下个月第一个周一", "本月最后一个周五"))
    return day


def _ask(question):  # noqa: ANN001, ANN202
    try:
        return question()
    except LookupError as exc:  # CalendarUnknownYear: its message says how to supply the year
        raise TimeParseError(str(exc), ()) from None
