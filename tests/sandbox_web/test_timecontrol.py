"""The sandbox clock jumps: where "明天" and "月底" land, and that a jump stops at every due reminder."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot import texts
from bot.clock import ManualClock
from bot.sandbox.timecontrol import (
    Target,
    TimeControl,
    end_of_month,
    tomorrow_morning,
)
from storage import models
from storage.db import transaction

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param("2025-03-14 09:30", "2025-03-15 08:00", id="weekday-morning"),
        pytest.param("2025-03-14 00:10", "2025-03-15 08:00", id="just-after-midnight-skips-to-next-day"),
        pytest.param("2025-03-31 22:00", "2025-04-01 08:00", id="month-boundary"),
        pytest.param("2025-12-31 23:59", "2026-01-01 08:00", id="year-boundary"),
    ],
)
def test_tomorrow_is_eight_in_the_morning_of_the_next_local_day(now: str, expected: str) -> None:
    assert tomorrow_morning(local(now), SHANGHAI) == local(expected)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param("2025-03-14 09:30", "2025-03-31 23:59", id="mid-month"),
        pytest.param("2025-02-03 10:00", "2025-02-28 23:59", id="february-common-year"),
        pytest.param("2024-02-03 10:00", "2024-02-29 23:59", id="february-leap-year"),
        pytest.param("2025-03-31 23:59", "2025-04-30 23:59", id="already-at-month-end-goes-to-next"),
        pytest.param("2025-12-31 23:59:30", "2026-01-31 23:59", id="december-rolls-into-january"),
        # 2025-03-31 16:00 UTC is already April 1st in Shanghai: the local month counts.
        pytest.param("2025-04-01 00:00", "2025-04-30 23:59", id="local-month-not-utc-month"),
    ],
)
def test_month_end_is_the_last_local_evening_minute_of_the_month(now: str, expected: str) -> None:
    assert end_of_month(local(now), SHANGHAI) == local(expected)


@pytest.mark.parametrize(("now", "label"), [
    pytest.param(datetime(2025, 3, 14, 1, 0, tzinfo=timezone.utc), "2025年3月14日（周五）09:00", id="local-time"),
    pytest.param(datetime(2025, 12, 31, 16, 30, tzinfo=timezone.utc), "2026年1月1日（周四）00:30",
                 id="local-day-and-year-not-utc"),
])
def test_the_clock_reads_like_chat_with_its_year(now: datetime, label: str) -> None:
    assert texts.moment_with_year(now, SHANGHAI) == label


def _add_outbox(session, due_at: datetime, key: str, state: str = "pending") -> None:  # noqa: ANN001
    session.add(models.OutboxMessage(
        dedup_key=key, recipient="chat:-1", chat_id=-1, due_at=due_at, state=state, kind="calendar_provisional",
        payload={"year": 2026},
    ))


class RecordingDispatcher:
    """Stands in for the runtime's dispatcher: at every stop it sends (marks) what is due and records when."""

    def __init__(self, session_factory, clock: ManualClock) -> None:  # noqa: ANN001
        self.sessions = session_factory
        self.clock = clock
        self.sent: list[tuple[str, datetime]] = []

    async def settle(self, now: datetime) -> None:
        with transaction(self.sessions) as session:
            for row in session.query(models.OutboxMessage).filter_by(state="pending").order_by(models.OutboxMessage.due_at):
                if row.due_at <= now:
                    row.state = "sent"
                    self.sent.append((row.dedup_key, now))


@pytest.fixture
def start() -> datetime:
    return local("2025-03-14 09:00")


async def test_next_jumps_just_past_the_earliest_pending_reminder(session_factory, start: datetime) -> None:
    with transaction(session_factory) as session:
        _add_outbox(session, local("2025-03-14 10:00"), "later")
        _add_outbox(session, local("2025-03-14 09:30"), "sooner")
        _add_outbox(session, local("2025-03-14 09:10"), "already-sent", state="sent")
    clock = ManualClock(start)
    dispatcher = RecordingDispatcher(session_factory, clock)
    control = TimeControl(clock, SHANGHAI, session_factory, settle=dispatcher.settle)

    result = await control.advance(Target.NEXT)

    assert clock.now() == local("2025-03-14 09:30:01")
    assert result.label == "2025年3月14日（周五）09:30"
    assert dispatcher.sent == [("sooner", local("2025-03-14 09:30:01"))]


async def test_next_with_nothing_pending_leaves_the_clock_alone(session_factory, start: datetime) -> None:
    clock = ManualClock(start)
    control = TimeControl(clock, SHANGHAI, session_factory, settle_timeout=0.2)

    result = await control.advance("next")

    assert clock.now() == start
    assert result.stops == 0
    assert "没有待发送" in result.description


async def test_month_end_walks_through_every_due_moment_in_order(session_factory, start: datetime) -> None:
    dues = ["2025-03-20 08:00", "2025-03-15 09:00", "2025-03-31 23:00", "2025-04-01 09:00"]
    with transaction(session_factory) as session:
        for due in dues:
            _add_outbox(session, local(due), due)
    clock = ManualClock(start)
    dispatcher = RecordingDispatcher(session_factory, clock)
    control = TimeControl(clock, SHANGHAI, session_factory, settle=dispatcher.settle)

    result = await control.advance(Target.MONTH_END)

    # Each reminder went out at its own moment, not all at once at the end; April's waits.
    assert dispatcher.sent == [
        ("2025-03-15 09:00", local("2025-03-15 09:00:01")),
        ("2025-03-20 08:00", local("2025-03-20 08:00:01")),
        ("2025-03-31 23:00", local("2025-03-31 23:00:01")),
    ]
    assert result.stops == 3
    assert clock.now() == local("2025-03-31 23:59")


async def test_timers_outside_the_outbox_are_stops_too(session_factory, start: datetime) -> None:
    """The scheduler's own timers (e.g. the nightly materialiser) count as due moments."""
    clock = ManualClock(start)
    seen: list[datetime] = []

    async def settle(now: datetime) -> None:
        seen.append(now)

    nightly = local("2025-03-15 02:00")
    control = TimeControl(
        clock, SHANGHAI, session_factory, settle=settle,
        extra_sources=[lambda after: nightly if after < nightly else None],
    )

    await control.advance(Target.TOMORROW)

    assert seen == [nightly + timedelta(seconds=1), local("2025-03-15 08:00")]


async def test_next_keeps_going_past_silent_moments_until_the_bot_speaks(session_factory, start: datetime) -> None:
    """A window closing with nothing to report is not worth a click: "下一个提醒" walks on to a message."""
    with transaction(session_factory) as session:
        _add_outbox(session, local("2025-03-14 10:00"), "silent")
        _add_outbox(session, local("2025-03-14 11:00"), "speaks")
    clock = ManualClock(start)
    said: list[datetime] = []

    async def settle(now: datetime) -> None:
        if now >= local("2025-03-14 11:00"):
            said.append(now)

    control = TimeControl(clock, SHANGHAI, session_factory, settle=settle)
    control.progress_probe = lambda: len(said)

    result = await control.advance(Target.NEXT)

    assert clock.now() == local("2025-03-14 11:00:01")
    assert result.stops == 2


async def test_next_stops_at_a_landmark_even_when_the_bot_is_silent(session_factory, start: datetime) -> None:
    """A check-in window opening is a moment to act, so the jump ends there."""
    with transaction(session_factory) as session:
        _add_outbox(session, local("2025-03-14 11:00"), "later-reminder")
    clock = ManualClock(start)

    async def settle(now: datetime) -> None:
        return None

    opening = local("2025-03-14 09:30")
    control = TimeControl(clock, SHANGHAI, session_factory, settle=settle)
    control.progress_probe = lambda: 0
    control.add_source(lambda after: opening if after < opening else None, landmark=True)

    result = await control.advance(Target.NEXT)

    assert clock.now() == opening + timedelta(seconds=1)
    assert result.stops == 1
