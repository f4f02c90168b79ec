"""Leader election in-process: only one holder per database; the lock passes on when released."""

from __future__ import annotations

import asyncio

from bot.runtime.leader import leader_lock_for, wait_for_leadership
from storage.db import make_engine


def test_only_one_leader_per_database_and_the_lock_passes_on(db_url):
    first_engine, second_engine = make_engine(db_url), make_engine(db_url)
    first, second = leader_lock_for(first_engine), leader_lock_for(second_engine)
    try:
        assert first.try_acquire()
        assert first.still_held()
        assert not second.try_acquire()
        first.release()
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()
        first_engine.dispose()
        second_engine.dispose()


async def test_a_standby_waits_and_takes_over(db_url):
    first_engine, second_engine = make_engine(db_url), make_engine(db_url)
    first, second = leader_lock_for(first_engine), leader_lock_for(second_engine)
    stop = asyncio.Event()
    attempts = []
    try_acquire = second.try_acquire
    second.try_acquire = lambda: attempts.append(1) or try_acquire()  # type: ignore[method-assign]
    try:
        assert first.try_acquire()
        standby = asyncio.create_task(wait_for_leadership(second, stop, retry_seconds=0.05))

        async def refused_twice() -> None:  # a third try means the first two were refused
            while len(attempts) < 3:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(refused_twice(), 10)
        assert not standby.done()
        first.release()
        assert await asyncio.wait_for(standby, 10) is True
    finally:
        first.release()
        second.release()
        first_engine.dispose()
        second_engine.dispose()
