"""Group commit for the chat's hottest path: presses that arrive while the database threads are busy share
one transaction and one thread hand-off (storage.services.runner.run_together)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from storage.services.runner import Outcome, ReadAhead, run_together

# A group larger than this is split: one long transaction would hold its first press's answer back.
MAX_GROUP = 16
# Groups running at once. More threads than this only queue for the interpreter lock; fewer groups at a time
# makes them larger (measured with bench/bench_checkin.py).
MAX_RUNNING = 2


class GroupCommit:
    """A queue of use-cases in front of the chat's database threads.

    A use-case joins the queue; while fewer than `max_running` threads work the queue, one more is started.
    A thread takes everything queued (up to MAX_GROUP), runs it in one transaction, hands the outcomes to
    the event loop at once, and goes on with whatever queued meanwhile until the queue is empty. A press on
    a quiet bot is a group of one (its own transaction, no waiting); during a burst, presses pile up while
    the threads work and go together: one pool checkout, BEGIN and COMMIT, and one wake-up of the event
    loop for the lot.
    """

    def __init__(self, factory: sessionmaker[Session], executor: Callable[[], Executor],
                 max_running: int = MAX_RUNNING) -> None:
        self._factory = factory
        self._executor = executor
        self._max_running = max_running
        self._lock = threading.Lock()
        self._queue: list[tuple[int, Callable[[Session], Any], asyncio.Future, ReadAhead | None]] = []
        self._running = 0  # threads started on the queue that have not yet found it empty

    def submit(self, work: Callable[[Session], Any], *, order_key: int = 0,
               ahead: ReadAhead | None = None) -> asyncio.Future[Outcome]:
        """Queues `work`; the future gets its Outcome once its group has run (on the calling event loop). What it
        will read, `ahead`, is read for its whole group at once (`run_together`).

        Each group runs its work in `order_key` order (the presser's Telegram id): two groups running at once
        then take the rows they share (one member's repeated press) in the same order, so one waits for the
        other instead of both deadlocking (PostgreSQL aborted one after deadlock_timeout, ~1 s)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        item = (order_key, work, future, ahead)
        with self._lock:
            self._queue.append(item)
            start = self._running < self._max_running
            self._running += start
        if start:
            try:
                self._executor().submit(self._work_queue, loop)
            except BaseException:  # no thread will come (the executor is shut down): take the work back
                with self._lock:
                    self._queue.remove(item)
                    self._running -= 1
                raise
        return future

    def _work_queue(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._running -= 1
                    return
                group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
            group.sort(key=lambda item: item[0])  # stable: one member's presses keep their order
            try:
                outcomes = run_together(self._factory, [work for _, work, _, _ in group],
                                        [ahead for _, _, _, ahead in group])
            except BaseException as error:  # noqa: BLE001 - every waiting press must hear something
                outcomes = [Outcome(error=error if isinstance(error, Exception) else RuntimeError(repr(error)))
                            for _ in group]
            try:
                loop.call_soon_threadsafe(_resolve, [future for _, _, future, _ in group], outcomes)
            except RuntimeError:
                pass  # the event loop is closed: nobody waits any more


def _resolve(futures: list[asyncio.Future], outcomes: list[Outcome]) -> None:
    for future, outcome in zip(futures, outcomes):
        if not future.done():
            future.set_result(outcome)
