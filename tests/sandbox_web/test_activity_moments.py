"""The moments around a meeting where the sandbox clock must stop: announcement, window open and close, nag, escalation."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from storage.services.followup import next_checkin_opening as checkin_openings
from storage.services.followup import next_moment as activity_moments
from storage import models

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def meeting(session):  # noqa: ANN001, ANN201
    """主题党日 on 2025-03-14 at 10:00 with the default window (09:30 to 12:00)."""
    org = models.Organization(code="B01", name="第一党支部", type="党支部")
    session.add(org)
    session.flush()
    activity = models.Activity(
        occurrence_key="theme_party_day:B01:2025-03", org_id=org.id, obligation="theme_party_day",
        kind=models.ActivityKind.MEETING.value, title="主题党日", starts_at=local("2025-03-14 10:00"),
        requires_confirmation=True,
    )
    session.add(activity)
    session.flush()
    return activity


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        pytest.param("2025-03-10 08:00", "2025-03-13 10:00", id="group-announcement-a-day-ahead"),
        pytest.param("2025-03-13 10:00", "2025-03-14 09:30", id="check-in-window-opens"),
        pytest.param("2025-03-14 09:30", "2025-03-14 12:00", id="window-closes-and-the-roll-goes-out"),
        pytest.param("2025-03-14 12:00", "2025-03-15 12:00", id="secretary-nagged-a-day-later"),
        pytest.param("2025-03-15 12:00", "2025-03-17 12:00", id="escalated-three-days-later"),
        pytest.param("2025-03-17 12:00", None, id="nothing-after-the-escalation"),
    ],
)
def test_activity_moments_walk_through_a_meetings_follow_ups(session, meeting, after: str, expected: str | None) -> None:  # noqa: ANN001
    moment = activity_moments(session, local(after))
    assert moment == (local(expected) if expected else None)


def test_a_confirmed_or_cancelled_meeting_has_no_more_moments(session, meeting) -> None:  # noqa: ANN001
    meeting.status = models.ActivityStatus.CANCELLED.value
    session.flush()
    assert activity_moments(session, local("2025-03-10 08:00")) is None
    assert checkin_openings(session, local("2025-03-10 08:00")) is None


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        pytest.param("2025-03-14 08:00", "2025-03-14 09:30", id="before-the-window"),
        pytest.param("2025-03-14 09:30", None, id="already-open"),
    ],
)
def test_checkin_openings(session, meeting, after: str, expected: str | None) -> None:  # noqa: ANN001
    moment = checkin_openings(session, local(after))
    assert moment == (local(expected) if expected else None)


def test_the_earliest_moment_across_meetings_wins(session, meeting) -> None:  # noqa: ANN001
    """An earlier meeting's escalation and a later meeting's announcement interleave; order by time, not by meeting."""
    later = models.Activity(
        occurrence_key="party_lecture:B01:2025-03", org_id=meeting.org_id, obligation="party_lecture",
        kind=models.ActivityKind.MEETING.value, title="党课", starts_at=local("2025-03-18 15:00"),
    )
    session.add(later)
    session.flush()

    walk, after = [], local("2025-03-15 12:00")
    while (moment := activity_moments(session, after)) is not None:
        walk.append(moment)
        after = moment

    assert walk == [
        local("2025-03-17 12:00"),  # 主题党日 escalated
        local("2025-03-17 15:00"),  # 党课 announced in the group
        local("2025-03-18 14:30"),  # 党课 check-in opens
        local("2025-03-18 17:00"),  # closes: the roll
        local("2025-03-19 17:00"),  # nag
        local("2025-03-21 17:00"),  # escalation
    ]


def test_a_window_closing_days_ahead_stops_the_clock_at_its_close(session, meeting) -> None:  # noqa: ANN001
    """A window opening three days and closing two days before the start: the clock stops at the close (the roll),
    not only once the meeting is a day away."""
    meeting.checkin_opens_minutes, meeting.checkin_closes_minutes = -3 * 24 * 60, -2 * 24 * 60
    session.flush()

    walk, after = [], local("2025-03-10 08:00")
    while (moment := activity_moments(session, after)) is not None:
        walk.append(moment)
        after = moment

    assert walk == [
        local("2025-03-11 10:00"),  # check-in opens
        local("2025-03-12 10:00"),  # closes: the roll
        local("2025-03-13 10:00"),  # nag, with the (no longer sent) announcement
        local("2025-03-15 10:00"),  # escalation
    ]
