"""Rendered when sent: a reminder says how far off the activity is then; a notice names members as they are then."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.runtime.materialise import ReminderPolicy, enqueue_reminders
from bot.texts import until
from storage import models
from storage.db import transaction
from storage.outbox_kinds import OutboxKind
from storage.repositories.outbox import ClaimedMessage
from storage.services import delivery
from tests.runtime.factories import SHANGHAI, at, make_activity, make_branch, members_of, rendered, renderers


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
def test_until(remaining: timedelta, said: str) -> None:
    assert until(remaining) == said


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


def test_a_missed_notice_names_the_members_as_they_are_called_when_it_is_sent(session_factory):
    """The payload holds who was missed (ids); a member renamed before the notice goes out reads by the new name."""
    with transaction(session_factory) as session:
        org = make_branch(session, members=3)
        activity = make_activity(session, org, at("2025-03-15 09:00"), leads="60")
        enqueue_reminders(session, [activity], now=at("2025-03-10 09:00"), policy=ReminderPolicy(zone=SHANGHAI))
        assert delivery.resolve_overdue(session, at("2025-03-15 10:00"), delivery.Watch()) == 3
        members_of(session, org)[2].name = "王新名"
        notice = session.scalars(select(models.OutboxMessage).where(
            models.OutboxMessage.kind == OutboxKind.MISSED_SUMMARY.value)).one()
        text = rendered(session, notice)
    assert text == ("⚠️ 系统停机期间，“主题党日”（3月15日（周六）09:00）的部分提醒未能按时发出，已记为“错过”：\n"
                    "党员B011、党员B012、王新名（共 3 人）\n请视情况另行通知。")
