"""How a span of days is written to people, in every message, caption, table and sheet: "2026年第四季度", not
"2026-10-01 至 2027-01-01 前"."""

from __future__ import annotations

from datetime import date, timedelta

_QUARTERS = "一二三四"


def period_text(first_day: date, last_day: date) -> str:
    """A whole year, half, quarter or month by its name (2026年, 2026年上半年, 2026年第四季度, 2026年10月);
    any other span as its first and last day, both included (2026年10月8日至12月31日)."""
    if last_day < first_day:
        raise ValueError(f"period ends before it starts: {first_day}..{last_day}")
    following = last_day + timedelta(days=1)
    if first_day.day == 1 and following.day == 1:
        months = (following.year - first_day.year) * 12 + following.month - first_day.month
        start = first_day.month
        if months == 12 and start == 1:
            return f"{first_day.year}年"
        if months == 6 and start in (1, 7):
            return f"{first_day.year}年{'上' if start == 1 else '下'}半年"
        if months == 3 and start % 3 == 1:
            return f"{first_day.year}年第{_QUARTERS[start // 3]}季度"
        if months == 1:
            return f"{first_day.year}年{start}月"
    if first_day == last_day:
        return f"{first_day.year}年{first_day.month}月{first_day.day}日"
    end = f"{last_day.month}月{last_day.day}日" if last_day.year == first_day.year else \
        f"{last_day.year}年{last_day.month}月{last_day.day}日"
    return f"{first_day.year}年{first_day.month}月{first_day.day}日至{end}"


def period_text_exclusive(start: date, end: date) -> str:
    """The same for a span given as [start, end): the form reports and queries keep internally."""
    return period_text(start, end - timedelta(days=1))
