"""The rate limiter on a fake clock: global pace, per-chat spacing, group minute budget, 429 pauses."""

from __future__ import annotations


import pytest

from bot.runtime.limiter import Limits, RateLimiter
from tests.runtime.fake_time import FakeTime


async def send_times(limiter: RateLimiter, clock: FakeTime, chats: list[int]) -> list[float]:
    times = []
    for chat in chats:
        await limiter.acquire(chat)
        times.append(round(clock.now, 4))
    return times


@pytest.mark.parametrize(
    ("chats", "expected_last"),
    [
        pytest.param([7, 7, 7], 2.0, id="one-private-chat-one-per-second"),
        pytest.param([-100] * 21, 60.0, id="a-group-gets-20-per-minute"),
    ],
)
async def test_per_chat_pace(chats, expected_last):
    clock = FakeTime()
    limiter = RateLimiter(Limits(), monotonic=clock.monotonic, sleep=clock.sleep)
    times = await send_times(limiter, clock, chats)
    assert times[-1] == pytest.approx(expected_last, abs=1e-3)
    assert times == sorted(times)


async def test_global_cap_holds_in_every_second_and_is_nearly_reached():
    clock = FakeTime()
    limiter = RateLimiter(Limits(), monotonic=clock.monotonic, sleep=clock.sleep)
    times = await send_times(limiter, clock, list(range(1, 601)))
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 30
    assert 600 / times[-1] >= 0.95 * 30


async def test_a_refunded_slot_is_reused():
    clock = FakeTime()
    limiter = RateLimiter(Limits(global_per_second=2, chat_interval=0), monotonic=clock.monotonic, sleep=clock.sleep)
    first = await limiter.acquire(1)
    await limiter.acquire(2)
    limiter.refund(first)  # Telegram refused it: it did not count
    await limiter.acquire(3)
    assert clock.now < 1.0


async def test_a_429_pauses_only_that_chat():
    clock = FakeTime()
    limiter = RateLimiter(Limits(), monotonic=clock.monotonic, sleep=clock.sleep)
    limiter.pause_chat(5, 10)
    await limiter.acquire(6)
    assert clock.now < 1
    await limiter.acquire(5)
    assert clock.now == pytest.approx(10)


async def test_pause_all_and_disabled_limiter():
    clock = FakeTime()
    limiter = RateLimiter(enabled=False, monotonic=clock.monotonic, sleep=clock.sleep)
    assert await send_times(limiter, clock, [1, 1, 1, -5, -5]) == [0, 0, 0, 0, 0]
    limiter.pause_all(3)
    await limiter.acquire(2)
    assert clock.now == pytest.approx(3)


async def test_late_wake_ups_still_never_put_31_sends_in_one_second():
    class LaggyTime(FakeTime):
        """A busy event loop: every sleep overshoots by a varying few milliseconds."""

        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        async def sleep(self, seconds: float) -> None:
            self.calls += 1
            await super().sleep(seconds + (self.calls % 7) * 0.009)

    clock = LaggyTime()
    limiter = RateLimiter(Limits(window_margin=0.0), monotonic=clock.monotonic, sleep=clock.sleep)
    times = await send_times(limiter, clock, list(range(1, 301)))
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) <= 30
