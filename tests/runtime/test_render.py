"""A reminder says how far off the activity is when it is actually sent, not what its lead time was."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.runtime.render import format_until


@pytest.mark.parametrize(
    ("remaining", "said"),
    [
        pytest.param(timedelta(days=3), "3天后", id="on-time-3-days"),
        pytest.param(timedelta(days=1), "1天后", id="on-time-1-day"),
        pytest.param(timedelta(hours=1), "1小时后", id="on-time-1-hour"),
        pytest.param(timedelta(minutes=30), "30分钟后", id="on-time-30-minutes"),
        pytest.param(timedelta(days=2, hours=1), "2天后", id="3-day-lead-sent-a-day-late"),
        pytest.param(timedelta(hours=20), "20小时后", id="1-day-lead-sent-late-in-the-morning"),
        pytest.param(timedelta(minutes=59, seconds=30), "1小时后", id="just-under-an-hour-is-an-hour"),
        pytest.param(timedelta(hours=23, minutes=59), "1天后", id="just-under-a-day-is-a-day"),
        pytest.param(timedelta(minutes=7, seconds=1), "8分钟后", id="minutes-never-undersell"),
        pytest.param(timedelta(seconds=20), "现在", id="starting-now"),
        pytest.param(timedelta(minutes=-5), "现在", id="already-started"),
    ],
)
def test_format_until(remaining: timedelta, said: str) -> None:
    assert format_until(remaining) == said
