"""One way to write a span of days to people (#12.13): whole years, halves, quarters and months by name."""

from __future__ import annotations

from datetime import date

import pytest

from schedules.period_text import period_text, period_text_exclusive


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        pytest.param(date(2026, 10, 1), date(2026, 12, 31), "2026年第四季度", id="quarter"),
        pytest.param(date(2025, 1, 1), date(2025, 12, 31), "2025年", id="year"),
        pytest.param(date(2025, 1, 1), date(2025, 6, 30), "2025年上半年", id="first half"),
        pytest.param(date(2025, 7, 1), date(2025, 12, 31), "2025年下半年", id="second half"),
        pytest.param(date(2025, 3, 1), date(2025, 3, 31), "2025年3月", id="month"),
        pytest.param(date(2025, 2, 1), date(2025, 3, 31), "2025年2月1日至3月31日", id="two months"),
        pytest.param(date(2026, 10, 8), date(2026, 12, 31), "2026年10月8日至12月31日", id="part of a quarter"),
        pytest.param(date(2026, 12, 1), date(2027, 1, 31), "2026年12月1日至2027年1月31日", id="across the year"),
        pytest.param(date(2026, 3, 3), date(2026, 3, 3), "2026年3月3日", id="one day"),
    ],
)
def test_period_text(first: date, last: date, expected: str) -> None:
    assert period_text(first, last) == expected


def test_an_exclusive_end_is_the_day_after_the_last() -> None:
    assert period_text_exclusive(date(2026, 10, 1), date(2027, 1, 1)) == "2026年第四季度"
