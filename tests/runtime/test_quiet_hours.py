"""Quiet hours: reminders due between 22:00 and 08:00 move, and never land after the activity starts."""

from __future__ import annotations

from datetime import time

import pytest

from bot.runtime.quiet_hours import NO_QUIET_HOURS, QuietHours, deliverable_at, is_quiet
from tests.runtime.factories import SHANGHAI, at


@pytest.mark.parametrize(
    ("due", "starts", "expected"),
    [
        pytest.param("2025-03-14 09:00", "2025-03-15 09:00", "2025-03-14 09:00", id="daytime-unchanged"),
        pytest.param("2025-03-14 21:59", "2025-03-15 09:00", "2025-03-14 21:59", id="just-before-quiet-unchanged"),
        pytest.param("2025-03-14 22:00", "2025-03-17 09:00", "2025-03-15 08:00", id="quiet-start-moves-to-0800"),
        pytest.param("2025-03-15 03:00", "2025-03-17 09:00", "2025-03-15 08:00", id="after-midnight-moves-to-same-morning"),
        pytest.param("2025-03-15 08:00", "2025-03-15 09:00", "2025-03-15 08:00", id="quiet-end-is-allowed"),
        pytest.param("2025-03-15 07:00", "2025-03-15 08:00", "2025-03-14 21:59", id="0800-is-start-moves-to-evening-before"),
        pytest.param("2025-03-15 06:30", "2025-03-15 07:30", "2025-03-14 21:59", id="start-before-0800-moves-to-evening-before"),
        pytest.param("2025-03-14 23:00", "2025-03-15 00:00", "2025-03-14 21:59", id="midnight-activity-evening-before"),
        pytest.param("2025-03-15 07:00", "2025-03-15 08:01", "2025-03-15 08:00", id="0800-just-before-start-is-fine"),
    ],
)
def test_deliverable_at(due, starts, expected):
    assert deliverable_at(at(due), at(starts), SHANGHAI) == at(expected)


def test_quiet_hours_in_the_organisations_zone():
    # 15:00 UTC is 23:00 in Shanghai but 16:00 in Berlin (winter).
    from zoneinfo import ZoneInfo

    moment = at("2025-01-15 23:00")
    assert is_quiet(moment, SHANGHAI)
    assert not is_quiet(moment, ZoneInfo("Europe/Berlin"))


@pytest.mark.parametrize(
    ("text", "local", "quiet"),
    [
        pytest.param("22:00-08:00", time(23, 0), True, id="overnight-window"),
        pytest.param("22:00-08:00", time(12, 0), False, id="overnight-window-noon"),
        pytest.param("12:00-13:30", time(12, 45), True, id="daytime-window"),
        pytest.param("12:00-13:30", time(13, 30), False, id="daytime-window-end-exclusive"),
    ],
)
def test_quiet_hours_parse_and_contains(text, local, quiet):
    assert QuietHours.parse(text).contains(local) is quiet


def test_no_quiet_hours_hold_nothing_back():
    assert [NO_QUIET_HOURS.contains(time(hour)) for hour in (0, 3, 12, 22)] == [False] * 4
