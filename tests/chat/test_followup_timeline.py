"""The follow-up timeline of a meeting (announcement, window, roll, nag, escalation), and the next moment the
sandbox's clock stops at, including windows that open more than a day ahead of the start."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage import models
from storage.services import followup
from storage.services.followup import Timeline, timeline

SHANGHAI = ZoneInfo("Asia/Shanghai")
T = datetime(2025, 3, 15, 9, 0, tzinfo=SHANGHAI)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def meeting(starts_at: datetime = T, *, opens: int | None = None, closes: int | None = None,
            confirm: bool = True, key: str = "m") -> models.Activity:
    return models.Activity(occurrence_key=key, title="主题党日", starts_at=starts_at, checkin_opens_minutes=opens,
                           checkin_closes_minutes=closes, requires_confirmation=confirm,
                           kind=models.ActivityKind.MEETING.value, status=models.ActivityStatus.SCHEDULED.value)


@pytest.mark.parametrize(("activity", "escalate_after", "expected"), [
    pytest.param(meeting(), 3 * DAY,
                 Timeline(T - DAY, T - 30 * MINUTE, T + 2 * HOUR, T + 2 * HOUR + DAY, T + 2 * HOUR + 3 * DAY),
                 id="default-window-nag-a-day-escalate-three-days-after-close"),
    pytest.param(meeting(opens=-10, closes=60), 3 * DAY,
                 Timeline(T - DAY, T - 10 * MINUTE, T + HOUR, T + HOUR + DAY, T + HOUR + 3 * DAY),
                 id="own-window-moves-roll-nag-and-escalation"),
    pytest.param(meeting(opens=-3 * 24 * 60), 3 * DAY,
                 Timeline(T - DAY, T - 3 * DAY, T + 2 * HOUR, T + 2 * HOUR + DAY, T + 2 * HOUR + 3 * DAY),
                 id="window-opening-three-days-ahead-opens-before-the-announcement"),
    pytest.param(meeting(opens=-3 * 24 * 60, closes=-2 * 24 * 60), 3 * DAY,
                 Timeline(T - 3 * DAY, T - 3 * DAY, T - 2 * DAY, T - DAY, T + DAY),
                 id="window-closing-before-the-day-ahead-announced-as-it-opens"),
    pytest.param(meeting(), 7 * DAY,
                 Timeline(T - DAY, T - 30 * MINUTE, T + 2 * HOUR, T + 2 * HOUR + DAY, T + 2 * HOUR + 7 * DAY),
                 id="catalog-escalates-after-a-week"),
    pytest.param(meeting(confirm=False), 3 * DAY,
                 Timeline(T - DAY, T - 30 * MINUTE, T + 2 * HOUR, None, None),
                 id="no-confirmation-asked-no-nag-no-escalation"),
])
def test_timeline(activity, escalate_after, expected):
    assert timeline(activity, escalate_after) == expected


def test_moments_are_in_order_without_the_missing_ones():
    assert timeline(meeting(confirm=False), 3 * DAY).moments == (T - DAY, T - 30 * MINUTE, T + 2 * HOUR)


LATER = T + 2 * DAY  # a second meeting, two days after the first


@pytest.mark.parametrize(("later_opens", "after", "moment", "opening"), [
    pytest.param(None, T - 20 * HOUR, T - 30 * MINUTE, T - 30 * MINUTE, id="default-windows-first-meeting-first"),
    pytest.param(-(2 * 24 + 10) * 60, T - 20 * HOUR, T - 10 * HOUR, T - 10 * HOUR,
                 id="later-meeting-window-opening-more-than-a-day-ahead-comes-first"),
    pytest.param(-(2 * 24 + 10) * 60, T - 9 * HOUR, T - 30 * MINUTE, T - 30 * MINUTE,
                 id="after-that-opening-the-first-meeting-again"),
])
def test_next_moment_and_opening_with_windows_opening_days_ahead(session, later_opens, after, moment, opening):
    org = models.Organization(code="B01", name="第一党支部", type="党支部")
    session.add(org)
    session.flush()
    for activity in (meeting(T, key="first"), meeting(LATER, opens=later_opens, key="later")):
        activity.org_id = org.id
        session.add(activity)
    session.flush()
    assert followup.next_moment(session, after) == moment
    assert followup.next_checkin_opening(session, after) == opening


SECOND = T + HOUR  # a second meeting an hour after the first, with the default window (opens at T + 30 minutes)


@pytest.mark.parametrize(("first_opens", "first_closes", "after", "opening", "moment"), [
    pytest.param(None, None, T + 10 * MINUTE, T + 30 * MINUTE, T + 30 * MINUTE,
                 id="default-window-already-open-the-second-meeting-s-next"),
    pytest.param(60, None, T + 10 * MINUTE, T + 30 * MINUTE, T + 30 * MINUTE,
                 id="before-either-opens-the-second-meeting-s-first"),
    pytest.param(60, None, T + 40 * MINUTE, T + HOUR, T + HOUR,
                 id="window-opening-an-hour-after-the-start-of-a-meeting-already-begun"),
    pytest.param(60, None, T + HOUR, None, T + 2 * HOUR, id="once-it-opened-no-opening-left-the-roll-next"),
    pytest.param(2 * 24 * 60, (2 * 24 + 1) * 60, T + DAY, T + 2 * DAY, SECOND + 2 * HOUR + DAY,
                 id="window-opening-two-days-after-the-start-the-second-meeting-s-nag-first"),
])
def test_next_opening_of_a_window_that_opens_after_its_meeting_began(session, first_opens, first_closes, after,
                                                                     opening, moment):
    org = models.Organization(code="B01", name="第一党支部", type="党支部")
    session.add(org)
    session.flush()
    for activity in (meeting(T, opens=first_opens, closes=first_closes, key="first"), meeting(SECOND, key="second")):
        activity.org_id = org.id
        session.add(activity)
    session.flush()
    assert followup.next_checkin_opening(session, after) == opening
    assert followup.next_moment(session, after) == moment
