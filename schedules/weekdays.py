"""How a day of the week is written in Chinese, Monday first as `date.weekday()` counts: 一 … 日, 周三, 星期三."""

from __future__ import annotations

from datetime import date

WEEKDAY_DIGITS = "一二三四五六日"  # as in 周一 … 周日
# How people write them (patterns): the word for a week, then the day's character; 周天 is 周日.
WEEK_WORDS = ("周", "星期", "礼拜")
WEEK = f"(?:{'|'.join(WEEK_WORDS)})"
WEEKDAY_CHARACTER = f"[{WEEKDAY_DIGITS}天]"


def weekday_zh(day: date) -> str:
    """'周三'."""
    return f"周{WEEKDAY_DIGITS[day.weekday()]}"
