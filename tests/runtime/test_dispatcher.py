"""The dispatcher against SQLite and PostgreSQL, with a recording Telegram and a manual clock."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.clock import ManualClock
from bot.runtime.dispatcher import Dispatcher
from bot.runtime.limiter import RateLimiter
from bot.runtime.materialise import ReminderPolicy, enqueue_reminders
from bot.runtime.transport import ConnectFailed
from storage import models
from storage.db import transaction
from storage.outbox_kinds import OutboxKind
from storage.repositories import outbox
from tests.runtime.factories import SHANGHAI, at, make_activity, make_branch, members_of, renderers
from tests.runtime.waiting import until

# PTB warns when a RetryAfter is built with seconds; the dispatcher reads either form.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


class RecordingTelegram:
    """Answers sends like Telegram would; `fail[chat_id]` holds errors to raise, one per attempt."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.fail: dict[int, list[Exception]] = {}

    async def send(self, chat_id: int, text: str, markup) -> int:
        await asyncio.sleep(0)
        errors = self.fail.get(chat_id)
        if errors:
            raise errors.pop(0)
        self.sent.append((chat_id, text))
        return len(self.sent)

    def chats(self) -> list[int]:
        return sorted(chat for chat, _ in self.sent)


@pytest.fixture
def telegram():
    return RecordingTelegram()


def build(session_factory, telegram, clock, **kwargs) -> Dispatcher:
    return Dispatcher(session_factory, telegram.send, clock, renderers=renderers(), worker="test", limiter=RateLimiter(enabled=False),
                      concurrency=4, zone=SHANGHAI, poll_seconds=0.5, **kwargs)


async def settle(dispatcher: Dispatcher) -> None:
    await asyncio.wait_for(dispatcher.wait_idle(), 20)


class Running:
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    async def __aenter__(self) -> Dispatcher:
        self.task = asyncio.create_task(self.dispatcher.run())
        await asyncio.sleep(0)
        return self.dispatcher

    async def __aexit__(self, *exc) -> None:
        self.dispatcher.stop()
        await asyncio.wait_for(self.task, 20)


def seed(session_factory, *, starts: str, members: int = 3, leads: str = "4320,1440,60", now: str):
    """A branch (first member is 书记, chats 1001…) with one activity and its reminders materialised at `now`."""
    with transaction(session_factory) as session:
        org = make_branch(session, members=members)
        activity = make_activity(session, org, at(starts), leads=leads)
        enqueue_reminders(session, [activity], now=at(now), policy=ReminderPolicy(zone=SHANGHAI))
        return activity.id, [m.id for m in members_of(session, org)]


def outbox_states(session_factory) -> list[tuple[int, int, str]]:
    with transaction(session_factory) as session:
        rows = session.execute(select(models.OutboxMessage.member_id, models.OutboxMessage.lead_minutes,
                                      models.OutboxMessage.state).where(models.OutboxMessage.kind == "reminder")
                               .order_by(models.OutboxMessage.member_id, models.OutboxMessage.lead_minutes)).all()
    return [tuple(r) for r in rows]


async def test_each_reminder_goes_out_once_when_due(session_factory, telegram):
    clock = ManualClock(at("2025-03-10 09:00"))
    seed(session_factory, starts="2025-03-15 09:00", now="2025-03-10 09:00")
    async with Running(build(session_factory, telegram, clock)) as dispatcher:
        await settle(dispatcher)
        assert telegram.sent == []
        clock.set(at("2025-03-12 09:00"))  # the 3-day reminders fall due
        await settle(dispatcher)
        assert telegram.chats() == [1001, 1002, 1003]
        assert "主题党日" in telegram.sent[0][1] and "3天后" in telegram.sent[0][1]
        clock.set(at("2025-03-12 09:30"))
        await settle(dispatcher)
        assert len(telegram.sent) == 3
    with transaction(session_factory) as session:
        sent = session.scalars(select(models.OutboxMessage).where(models.OutboxMessage.state == "sent")).all()
        assert sorted(row.telegram_message_id for row in sent) == [1, 2, 3]


async def test_nobody_is_reminded_after_answering_or_after_a_cancellation(session_factory, telegram):
    clock = ManualClock(at("2025-03-10 09:00"))
    activity_id, (first, second, third) = seed(session_factory, starts="2025-03-15 09:00", now="2025-03-10 09:00")
    with transaction(session_factory) as session:
        session.add(models.Attendance(activity_id=activity_id, member_id=second, status="leave"))
    async with Running(build(session_factory, telegram, clock)) as dispatcher:
        clock.set(at("2025-03-12 09:00"))
        await settle(dispatcher)
        assert telegram.chats() == [1001, 1003]
        with transaction(session_factory) as session:
            session.get(models.Activity, activity_id).status = "cancelled"
        clock.set(at("2025-03-14 09:00"))
        await settle(dispatcher)
        assert telegram.chats() == [1001, 1003]
    states = outbox_states(session_factory)
    assert (second, 4320, "skipped") in states
    assert (first, 1440, "skipped") in states and (first, 60, "pending") in states  # the 1h one is not due yet


async def test_rate_limited_and_transient_failures_are_retried_and_delivered_once(session_factory, telegram):
    clock = ManualClock(at("2025-03-12 09:00"))
    seed(session_factory, starts="2025-03-15 09:00", leads="4320", now="2025-03-10 09:00")
    telegram.fail = {
        1001: [RetryAfter(0)],
        1002: [ConnectFailed("no route")],  # nothing sent: the usual back-off
        # Written, so maybe delivered: each waits out the ambiguous pause.
        1003: [TimedOut("Timed out"), NetworkError("Internal Server Error (500)")],
    }
    async with Running(build(session_factory, telegram, clock)) as dispatcher:
        await settle(dispatcher)
        assert telegram.chats() == [1001]  # a 429 waits in memory; the others wait for their pause
        clock.advance(seconds=3)
        await settle(dispatcher)
        assert telegram.chats() == [1001, 1002]
        clock.advance(seconds=60)
        await settle(dispatcher)
        assert telegram.chats() == [1001, 1002]
        clock.advance(seconds=60)
        await settle(dispatcher)
        assert telegram.chats() == [1001, 1002, 1003]
        assert dispatcher.stats.rate_limited == 1 and dispatcher.stats.retried == 3
        assert (dispatcher.stats.ambiguous, dispatcher.stats.timeouts) == (2, 1)


async def test_blocked_member_is_marked_unreachable_and_the_secretary_told_once(session_factory, telegram):
    clock = ManualClock(at("2025-03-12 09:00"))
    _, (secretary, blocked, _) = seed(session_factory, starts="2025-03-15 09:00", leads="4320,1440", now="2025-03-10 09:00")
    telegram.fail = {1002: [Forbidden("Forbidden: bot was blocked by the user")]}
    async with Running(build(session_factory, telegram, clock)) as dispatcher:
        await settle(dispatcher)
        clock.set(at("2025-03-14 09:00"))
        await settle(dispatcher)
    texts_to_secretary = [text for chat, text in telegram.sent if chat == 1001]
    assert sum("已屏蔽机器人" in text for text in texts_to_secretary) == 1
    assert 1002 not in telegram.chats()
    with transaction(session_factory) as session:
        assert session.get(models.Member, blocked).unreachable_since == at("2025-03-12 09:00")
    assert (blocked, 1440, "skipped") in outbox_states(session_factory)


async def test_chat_not_found_counts_as_unreachable(session_factory, telegram):
    clock = ManualClock(at("2025-03-12 09:00"))
    _, (_, gone, _) = seed(session_factory, starts="2025-03-15 09:00", leads="4320", now="2025-03-10 09:00")
    telegram.fail = {1002: [BadRequest("Chat not found")]}
    async with Running(build(session_factory, telegram, clock)) as dispatcher:
        await settle(dispatcher)
    assert sum("聊天已不可用" in text for chat, text in telegram.sent if chat == 1001) == 1
    assert (gone, 4320, "failed") in outbox_states(session_factory)


async def test_after_downtime_only_the_latest_lead_goes_out_and_the_secretary_gets_one_summary(session_factory, telegram):
    clock = ManualClock(at("2025-03-10 09:00"))
    seed(session_factory, starts="2025-03-15 09:00", now="2025-03-10 09:00")
    # The service was down from the 10th until 08:30 on the day: 3d, 1d and 1h reminders are all overdue.
    clock.set(at("2025-03-15 08:30"))
    async with Running(build(session_factory, telegram, clock)) as dispatcher:
        await settle(dispatcher)
    reminders = [text for _, text in telegram.sent if "活动提醒" in text]
    summaries = [(chat, text) for chat, text in telegram.sent if "停机" in text]
    # Sent at 08:30 for a 09:00 start: the text counts from the real send, not from the 1-hour lead.
    assert len(reminders) == 3 and all("30分钟后" in text for text in reminders)
    assert [chat for chat, _ in summaries] == [1001]
    assert "党员B011" in summaries[0][1] and "共 3 人" in summaries[0][1]
    assert sorted(state for _, lead, state in outbox_states(session_factory)) == ["missed"] * 6 + ["sent"] * 3


async def test_reminders_falling_due_in_quiet_hours_wait_for_the_morning(session_factory, telegram):
    clock = ManualClock(at("2025-03-13 23:30"))
    with transaction(session_factory) as session:
        org = make_branch(session, members=1)
        activity = make_activity(session, org, at("2025-03-16 09:00"), leads="4320")
        # Enqueued directly at 23:00, as if the plan had not moved it out of quiet hours.
        outbox.enqueue(session, [outbox.NewMessage.reminder(activity.id, members_of(session, org)[0].id, 4320,
                                                            at("2025-03-13 23:00"))])
    async with Running(build(session_factory, telegram, clock)) as dispatcher:
        await settle(dispatcher)
        assert telegram.sent == []
        clock.set(at("2025-03-14 08:00"))
        await settle(dispatcher)
        assert telegram.chats() == [1001]


async def test_stop_hands_back_everything_claimed_but_unsent(session_factory, telegram):
    clock = ManualClock(at("2025-03-12 09:00"))
    seed(session_factory, starts="2025-03-15 09:00", members=30, leads="4320", now="2025-03-10 09:00")
    gate = asyncio.Event()

    async def slow_send(chat_id, text, markup):
        await gate.wait()
        return await telegram.send(chat_id, text, markup)

    dispatcher = Dispatcher(session_factory, slow_send, clock, renderers=renderers(), worker="w", limiter=RateLimiter(enabled=False),
                            concurrency=4, zone=SHANGHAI, poll_seconds=0.5)
    task = asyncio.create_task(dispatcher.run())

    await until(lambda: dispatcher.held_count() >= 10, "ten reminders claimed", timeout=20)
    dispatcher.stop()
    gate.set()
    await asyncio.wait_for(task, 20)
    states = [state for _, _, state in outbox_states(session_factory)]
    assert "claimed" not in states
    assert states.count("sent") == len(telegram.sent) <= 4


async def test_a_group_that_became_a_supergroup_is_followed_to_its_new_id(session_factory, telegram):
    from telegram.error import ChatMigrated

    clock = ManualClock(at("2025-03-12 09:00"))
    with transaction(session_factory) as session:
        org = make_branch(session, members=1, group_chat_id=-100)
        activity = make_activity(session, org, at("2025-03-15 09:00"))
        outbox.enqueue(session, [outbox.NewMessage(
            dedup_key="announce", recipient=outbox.chat_recipient(-100), due_at=at("2025-03-12 09:00"),
            kind=OutboxKind.GROUP_ANNOUNCEMENT, activity_id=activity.id, chat_id=-100)])
        org_id = org.id
    telegram.fail = {-100: [ChatMigrated(-1009)]}
    async with Running(build(session_factory, telegram, clock)) as dispatcher:
        await settle(dispatcher)
    assert [(chat, text.splitlines()[0]) for chat, text in telegram.sent] == [(-1009, "📣 主题党日")]
    with transaction(session_factory) as session:
        assert session.get(models.Organization, org_id).group_chat_id == -1009


# ---- #12 point 4: a missed-reminder notice names its real cause, and comes only when one was missed ------


async def test_an_on_the_day_reminder_reached_a_second_late_is_sent_not_reported_as_downtime(session_factory, telegram):
    """The sandbox steps a second past each due moment; a lead-0 item (a greeting on the day) is due at its start.

    Before: the downtime rule, run after every clock move, took it for missed ("⚠️ 系统停机期间 …") although
    the service had been running all along; it is timely for hours on the day.
    """
    clock = ManualClock(at("2025-03-15 08:00"))
    seed(session_factory, starts="2025-03-15 09:00", members=2, leads="0", now="2025-03-15 08:00")
    async with Running(build(session_factory, telegram, clock)) as dispatcher:
        await settle(dispatcher)
        assert telegram.sent == []
        clock.set(at("2025-03-15 09:00:01"))
        await settle(dispatcher)
    assert sorted(telegram.sent) == [
        (1001, "⏰ 活动提醒：主题党日\n时间：3月15日（周六）09:00（现在）\n组织：第B01党支部\n请按时参加；如不能参加，请提前请假。"),
        (1002, "⏰ 活动提醒：主题党日\n时间：3月15日（周六）09:00（现在）\n组织：第B01党支部\n请按时参加；如不能参加，请提前请假。"),
    ]
    assert [state for _, _, state in outbox_states(session_factory)] == ["sent", "sent"]


def _summaries(telegram) -> list[tuple[int, str]]:
    return [(chat, text) for chat, text in telegram.sent if text.startswith("⚠️")]


async def _downtime(session_factory, telegram) -> None:
    clock = ManualClock(at("2025-03-10 09:00"))
    seed(session_factory, starts="2025-03-15 09:00", members=2, leads="1440,60", now="2025-03-10 09:00")
    clock.set(at("2025-03-15 08:30"))  # nothing ran from the 10th until 08:30 on the day
    async with Running(build(session_factory, telegram, clock)) as dispatcher:
        await settle(dispatcher)


async def _backlog(session_factory, telegram) -> None:
    # Running since 08:00; the 10-minute reminder to the second member cannot be sent (the network fails)
    # until the meeting has begun.
    clock = ManualClock(at("2025-03-15 08:00"))
    seed(session_factory, starts="2025-03-15 09:00", members=2, leads="10", now="2025-03-15 08:00")
    telegram.fail = {1002: [NetworkError("Bad Gateway")]}
    async with Running(build(session_factory, telegram, clock)) as dispatcher:
        await settle(dispatcher)
        clock.set(at("2025-03-15 08:50"))
        await settle(dispatcher)
        clock.set(at("2025-03-15 09:00:30"))
        await settle(dispatcher)


async def _quiet_hours(session_factory, telegram) -> None:
    # Both reminders fell due in the night (as after a retry): held for the morning, where only the
    # shorter one is still worth sending.
    clock = ManualClock(at("2025-03-13 22:50"))
    with transaction(session_factory) as session:
        org = make_branch(session, members=2)
        activity = make_activity(session, org, at("2025-03-14 08:30"), leads="1440,60")
        member = members_of(session, org)[1]
        outbox.enqueue(session, [outbox.NewMessage.reminder(activity.id, member.id, lead, due) for lead, due in (
            (1440, at("2025-03-13 23:00")), (60, at("2025-03-14 07:30")))])
    async with Running(build(session_factory, telegram, clock)) as dispatcher:
        for moment in ("2025-03-13 23:00", "2025-03-14 07:30", "2025-03-14 08:00"):
            clock.set(at(moment))
            await settle(dispatcher)


@pytest.mark.parametrize(("scenario", "expected"), [
    pytest.param(_downtime, [(1001, "⚠️ 系统停机期间，“主题党日”（3月15日（周六）09:00）的部分提醒未能按时发出，已记为“错过”：\n"
                                    "党员B011、党员B012（共 2 人）\n请视情况另行通知。")], id="downtime"),
    pytest.param(_backlog, [(1001, "⚠️ 因发送积压，“主题党日”（3月15日（周六）09:00）的部分提醒未能按时发出，已记为“错过”：\n"
                                   "党员B012（共 1 人）\n请视情况另行通知。")], id="backlog"),
    pytest.param(_quiet_hours, [(1001, "⚠️ 因夜间免打扰时段，“主题党日”（3月14日（周五）08:30）的部分提醒未能按时发出，"
                                       "已记为“错过”：\n党员B012（共 1 人）\n请视情况另行通知。")], id="quiet-hours"),
])
async def test_the_missed_notice_names_what_really_kept_the_reminder(session_factory, telegram, scenario, expected):
    await scenario(session_factory, telegram)
    assert _summaries(telegram) == expected
