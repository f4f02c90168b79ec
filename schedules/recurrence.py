"""Pure calendar arithmetic for recurring obligations: periods, nth weekdays, month steps, anniversaries."""

from __future__ import annotations

import calendar as _stdlib_calendar
from dataclasses import dataclass
from datetime import date, timedelta



@dataclass(frozen=True, slots=True)
class Period:
    """One repetition window of a cadence, e.g. the month 2025-03 or the quarter 2025-Q1.

    `label` is part of the occurrence key, so it must never change for a given period.
    """

    label: str
    first_day: date
    last_day: date

    def month(self, index: int) -> tuple[int, int]:
        """(year, month) of the `index`-th month of the period (1-based; -1 is the last month)."""
        months = months_between(self.first_day, self.last_day)
        return months[index - 1] if index > 0 else months[index]

    def __contains__(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


def months_between(first: date, last: date) -> list[tuple[int, int]]:
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def last_day_of_month(year: int, month: int) -> date:
    return date(year, month, _stdlib_calendar.monthrange(year, month)[1])


def clamp_day(year: int, month: int, day: int) -> date:
    """Day `day` of the month, or the month's last day when the month is shorter (31 → 30/28/29)."""
    if day <= 28:  # every month has it; the common case needs no month-length look-up
        return date(year, month, day)
    return date(year, month, min(day, _stdlib_calendar.monthrange(year, month)[1]))


def add_months(day: date, months: int) -> date:
    """Calendar-month step that keeps the day of month where it exists (Aug 31 + 6 months → Feb 28/29)."""
    index = day.year * 12 + (day.month - 1) + months
    return clamp_day(index // 12, index % 12 + 1, day.day)


def anniversary(origin: date, year: int) -> date:
    """The anniversary of `origin` in `year`; Feb 29 falls on Feb 28 in common years."""
    return clamp_day(year, origin.month, origin.day)


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> date | None:
    """The nth (1-based) given weekday of a month, or counting from the end when nth < 0; None if absent."""
    if nth > 0:
        first = date(year, month, 1)
        day = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
        return day if day.month == month else None
    last = last_day_of_month(year, month)
    day = last - timedelta(days=(last.weekday() - weekday) % 7 + 7 * (-nth - 1))
    return day if day.month == month else None


def periods_of_year(cadence: str, year: int) -> list[Period]:
    """The periods a cadence divides a year into (weekly periods are handled by `weeks_with_weekday`)."""
    if cadence == "monthly":
        return [Period(f"{year}-{m:02d}", date(year, m, 1), last_day_of_month(year, m)) for m in range(1, 13)]
    if cadence == "quarterly":
        return [
            Period(f"{year}-Q{q}", date(year, 3 * q - 2, 1), last_day_of_month(year, 3 * q)) for q in range(1, 5)
        ]
    if cadence == "semiannual":
        return [Period(f"{year}-H1", date(year, 1, 1), date(year, 6, 30)),
                Period(f"{year}-H2", date(year, 7, 1), date(year, 12, 31))]
    if cadence == "yearly":
        return [Period(f"{year}", date(year, 1, 1), date(year, 12, 31))]
    raise ValueError(f"cadence {cadence!r} has no calendar periods")


def weeks_with_weekday(year: int, weekday: int) -> list[tuple[Period, date]]:
    """Every ISO week whose `weekday` falls in `year`, with that day; labels are ISO week numbers.

    A week that straddles New Year is cut at the year's edge, so a holiday move never changes the year.
    """
    first, last = date(year, 1, 1), date(year, 12, 31)
    day = first + timedelta(days=(weekday - first.weekday()) % 7)
    weeks = []
    while day.year == year:
        iso_year, iso_week, _ = day.isocalendar()
        monday = day - timedelta(days=day.weekday())
        period = Period(f"{iso_year}-W{iso_week:02d}", max(monday, first), min(monday + timedelta(days=6), last))
        weeks.append((period, day))
        day += timedelta(days=7)
    return weeks

