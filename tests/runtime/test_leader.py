"""The scheduler lease and its fence: one holder per database, takeover only after the lease ran out, and an
old holder that claims, marks or sends nothing more (the lease's run-out is moved in the database, not waited for)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.clock import ManualClock
from bot.runtime.dispatcher import Dispatcher
from bot.runtime.leader import LeaseLeadership
from bot.runtime.limiter import RateLimiter
from storage import models
from storage.db import transaction
from storage.repositories import outbox
from tests.runtime.factories import SHANGHAI, at, renderers
from tests.runtime.test_dispatcher import RecordingTelegram, seed

LEASE = timedelta(seconds=20)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def expire_lease(session_factory) -> None:
    """What 20 s without a renewal does: the lease's end is in the past."""
    with transaction(session_factory) as session:
        session.execute(update(models.Leadership).values(lease_until=at("2000-01-01 00:00")))


@pytest.fixture
def pair(session_factory):
    first_clock, second_clock = FakeMonotonic(), FakeMonotonic()
    first = LeaseLeadership(session_factory, "host:1:aaaa", lease=LEASE, monotonic=first_clock)
    second = LeaseLeadership(session_factory, "host:2:bbbb", lease=LEASE, monotonic=second_clock)
    return first, second, first_clock


def test_one_holder_at_a_time_and_a_standby_takes_over_only_when_the_lease_ran_out(pair, session_factory):
    first, second, _ = pair
    assert first.try_acquire() and first.fence.term == 1
    assert not second.try_acquire()
    assert first.renew()
    expire_lease(session_factory)
    assert second.try_acquire() and second.fence.term == 2
    assert not first.renew(), "the old term is over once someone else holds a newer one"


def test_a_clean_release_lets_the_standby_take_over_at_once(pair):
    first, second, _ = pair
    assert first.try_acquire()
    first.release()
    assert second.try_acquire() and second.fence.term == 2


def test_the_holder_stops_trusting_its_lease_three_quarters_of_it_after_the_last_renewal_began(pair):
    first, _, clock = pair
    assert first.try_acquire()
    clock.now += 14.9
    assert first.valid()
    clock.now += 0.2  # 15.1 s: a frozen or cut-off holder stops 5 s before anyone may take over
    assert not first.valid()
    assert first.renew()
    assert first.valid()


def test_a_holder_whose_late_renewal_still_landed_takes_a_new_term_for_itself(pair):
    first, second, clock = pair
    assert first.try_acquire()
    clock.now += 60  # frozen; nobody took over meanwhile
    first.lose()
    assert first.try_acquire() and first.fence.term == 2
    assert not second.try_acquire()


def an_expired_term(pair, session_factory):  # noqa: ANN001, ANN201
    """Three reminders due; the first holder's term, taken and then run out unrenewed (nobody else holds it yet)."""
    first = pair[0]
    seed(session_factory, starts="2025-03-15 10:00", now="2025-03-12 09:00", leads="4320")
    assert first.try_acquire()
    old = first.fence
    expire_lease(session_factory)
    return old, at("2025-03-12 10:00")


def test_claims_are_fenced_on_the_current_unexpired_term(pair, session_factory):
    second = pair[1]
    old, now = an_expired_term(pair, session_factory)
    with transaction(session_factory) as session:
        assert outbox.claim_due(session, now=now, worker=old.claimer, limit=10, fence=old) == [], \
            "an expired term claims nothing, even before a standby took over"
    assert second.try_acquire()
    with transaction(session_factory) as session:
        assert outbox.claim_due(session, now=now, worker=old.claimer, limit=10, fence=old) == []
        claimed = outbox.claim_due(session, now=now, worker=second.fence.claimer, limit=10, fence=second.fence)
        assert len(claimed) == 3
        # What the old term marks later cannot touch the new term's rows.
        assert outbox.mark_sent(session, [(claimed[0].id, 77)], now=now, worker=old.claimer) == 0
        assert outbox.mark_sent(session, [(claimed[0].id, 77)], now=now, worker=second.fence.claimer) == 1


def test_an_old_term_reclaims_nothing_the_new_term_claimed(pair, session_factory):
    """A leader resumed after a freeze still runs its periodic reclaim until it notices: were that unfenced, it
    would put the new leader's claimed rows back in the queue, and the new leader would claim and send them again."""
    second = pair[1]
    old, now = an_expired_term(pair, session_factory)
    assert second.try_acquire()
    with transaction(session_factory) as session:
        claimed = outbox.claim_due(session, now=now, worker=second.fence.claimer, limit=10, fence=second.fence)
        assert len(claimed) == 3
        assert outbox.reclaim_abandoned(session, worker=old.claimer, now=now, fence=old) == 0
        assert outbox.reclaim_abandoned(session, worker="a-later-term", now=now, fence=second.fence) == 3, \
            "the current term still reclaims what others hold"


async def test_a_dispatcher_whose_lease_is_no_longer_trusted_sends_nothing_and_hands_its_rows_back(pair, session_factory):
    first, _, clock = pair
    seed(session_factory, starts="2025-03-15 10:00", now="2025-03-12 09:00", leads="4320")
    assert first.try_acquire()
    telegram = RecordingTelegram()
    held_before_send = asyncio.Event()

    def may_send() -> bool:
        held_before_send.set()
        return first.valid()

    dispatcher = Dispatcher(session_factory, telegram.send, ManualClock(at("2025-03-12 10:00")), renderers=renderers(),
                            worker=first.fence.claimer, limiter=RateLimiter(enabled=False), concurrency=1,
                            zone=SHANGHAI, poll_seconds=0.5, fence=first.fence, may_send=may_send)
    clock.now += 16  # frozen past the trusted part of the lease between claiming and sending
    task = asyncio.create_task(dispatcher.run())
    await asyncio.wait_for(held_before_send.wait(), 20)
    await asyncio.wait_for(task, 20)  # it stops by itself
    assert telegram.sent == []
    with transaction(session_factory) as session:
        states = sorted(session.scalars(select(models.OutboxMessage.state)))
    assert states == ["pending"] * 3


class Answers:
    """A lease whose try_acquire answers in turn (an exception: the database could not be reached)."""

    def __init__(self, *answers: bool | Exception) -> None:
        self.answers = list(answers)

    def try_acquire(self) -> bool:
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class PollingIntake:
    polling = True

    def __init__(self) -> None:
        self.stopped = 0

    async def stop(self) -> None:
        self.stopped += 1
        self.polling = False


@pytest.mark.parametrize(("answers", "stop_first", "outcome"), [
    pytest.param((True,), False, (True, "starting", 0, []), id="the-lease-is-free"),
    pytest.param((OSError("down"), False, True), False, (True, "follower", 1, []),
                 id="unreachable-then-another-leads-then-it-is-ours"),
    pytest.param((False,), True, (False, "starting", 0, [False]), id="stopped-before-trying"),
])
async def test_a_standby_tries_for_the_lease_until_it_wins_or_is_stopped(answers, stop_first, outcome):
    from bot.runtime.app import _wait_to_lead
    from bot.runtime.health import ServiceState

    lease, intake, state, stop = Answers(*answers), PollingIntake(), ServiceState(mode="polling", holder="h"), asyncio.Event()
    if stop_first:
        stop.set()
    won = await _wait_to_lead(lease, stop, 0, intake, state)
    assert (won, state.role, intake.stopped, lease.answers) == outcome


@pytest.mark.parametrize(("stopped", "expected"), [
    pytest.param(True, True, id="stop-ends-the-pause"),
    pytest.param(False, False, id="the-time-runs-out"),
])
async def test_the_pause_between_tries(stopped, expected):
    from bot.runtime.app import _stopped_within

    stop = asyncio.Event()
    if stopped:
        stop.set()
    assert await _stopped_within(stop, 0) is expected
