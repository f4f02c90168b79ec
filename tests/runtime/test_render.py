"""A reminder says how far off the activity is when it is actually sent, not what its lead time was."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.runtime.render import format_until
from storage.db import transaction
from storage.repositories.outbox import ClaimedMessage
from tests.runtime.factories import SHANGHAI, at, make_activity, make_branch, members_of, renderers


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
        pytest.param(timedelta(minutes=7, seconds=1), "7分钟后", id="minutes-round-to-the-nearest"),
        pytest.param(timedelta(minutes=7, seconds=30), "8分钟后", id="half-a-minute-rounds-up"),
        pytest.param(timedelta(seconds=59), "1分钟后", id="one-minute-reminder-sent-59-s-before"),
        pytest.param(timedelta(seconds=30), "1分钟后", id="half-a-minute-is-a-minute"),
        pytest.param(timedelta(seconds=29), "现在", id="under-half-a-minute-is-now"),
        pytest.param(timedelta(hours=2, minutes=30), "3小时后", id="half-an-hour-rounds-up-not-to-even"),
        pytest.param(timedelta(hours=1, minutes=29), "1小时后", id="under-half-an-hour-rounds-down"),
        pytest.param(timedelta(days=2, hours=12), "3天后", id="half-a-day-rounds-up-not-to-even"),
        pytest.param(timedelta(minutes=-5), "现在", id="already-started"),
    ],
)
def test_format_until(remaining: timedelta, said: str) -> None:
    assert format_until(remaining) == said


def test_a_one_minute_reminder_sent_59_seconds_before_the_start_says_one_minute(session_factory):
    with transaction(session_factory) as session:
        org = make_branch(session, members=1)
        activity = make_activity(session, org, at("2025-03-15 09:00"), leads="1")
        member = members_of(session, org)[0]
        row = ClaimedMessage(id=0, kind="reminder", activity_id=activity.id, member_id=member.id, chat_id=None,
                             recipient=f"member:{member.id}", lead_minutes=1, due_at=at("2025-03-15 08:59"),
                             priority=0, attempts=0, payload={})
        text, _ = renderers().render(session, row, SHANGHAI, at("2025-03-15 08:59:01"))
    assert text == ("⏰ 活动提醒：主题党日\n时间：3月15日（周六）09:00（1分钟后）\n组织：第B01党支部\n"
                    "请按时参加；如不能参加，请提前请假。")
