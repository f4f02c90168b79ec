"""Clocks: aware UTC readings, manual jumps notify listeners, and the start-instant testing aid."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from bot.clock import CLOCK_START_ENV, ManualClock, OffsetClock, SystemClock, clock_starting, parse_clock_start
from tests.runtime.factories import at
from tests.runtime.waiting import until


def test_manual_clock_moves_only_when_told_and_tells_listeners():
    clock = ManualClock(at("2025-03-14 09:00"))
    seen = []
    clock.on_change(seen.append)
    assert clock.now() == at("2025-03-14 09:00") and clock.now().tzinfo == timezone.utc
    clock.advance(hours=2)
    clock.set(at("2025-03-20 08:00"))
    assert seen == [at("2025-03-14 11:00"), at("2025-03-20 08:00")]
    with pytest.raises(ValueError):
        clock.advance(timedelta(minutes=-1))
    with pytest.raises(ValueError):
        clock.set(datetime(2025, 3, 20, 8, 0))  # naive


async def test_a_frozen_clock_s_sleepers_wake_only_as_it_is_moved_past_their_time():
    clock = ManualClock(at("2025-03-14 09:00"))
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(name)

    tasks = [asyncio.create_task(sleeper(name, seconds)) for name, seconds in (("minute", 60), ("hour", 3600),
                                                                                  ("none", 0))]
    await until(lambda: woke == ["none"], "the sleeper of no time")
    for _ in range(10):
        await asyncio.sleep(0)
    assert woke == ["none"]  # wall-clock time passes, the clock does not
    clock.advance(seconds=59)
    for _ in range(10):
        await asyncio.sleep(0)
    assert woke == ["none"]
    clock.advance(seconds=1)
    await until(lambda: "minute" in woke, "the minute's sleeper")
    clock.set(at("2025-03-15 09:00"))
    await until(lambda: "hour" in woke, "the hour's sleeper")
    await asyncio.gather(*tasks)
    assert woke == ["none", "minute", "hour"] and clock._sleepers == []


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        pytest.param(None, SystemClock, id="default-system-time"),
        pytest.param("2025-03-14T09:00:00+08:00", OffsetClock, id="start-instant"),
    ],
)
def test_the_run_clock_starts_at_the_configured_instant(value, kind):
    clock = clock_starting(parse_clock_start(value))
    assert isinstance(clock, kind)
    if kind is OffsetClock:
        assert abs(clock.now() - at("2025-03-14 09:00")) < timedelta(seconds=5)


@pytest.mark.parametrize("value", ["yesterday", "2025-03-14T09:00:00"])
def test_a_bad_or_naive_start_instant_is_refused(value):
    with pytest.raises(ValueError, match=CLOCK_START_ENV):
        parse_clock_start(value)
