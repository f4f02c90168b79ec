"""The dispatcher, transport only: claims due outbox rows, sends them within Telegram's limits, marks them.

What a row must be checked against before it goes (eligibility, quiet hours, the downtime rule, the notices
to secretaries) is `storage.services.delivery`, called in the claim transaction; the text is the wired
`OutboxRenderers`'.

Delivery guarantee. A row is claimed (state CLAIMED, claimed_by = this worker) in one transaction, sent,
and marked SENT in a later short transaction. Marks are group-committed, but a worker waits for its
mark to be durable before it takes the next row, so at any instant each of the `concurrency` workers
holds at most one message that was sent but not yet recorded: a SIGKILL can duplicate at most
`concurrency` messages. Rows claimed but not yet sent go back to PENDING when the next leader takes
over (`reclaim_abandoned`) or at a clean shutdown, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.clock import Clock
from bot.runtime.limiter import RateLimiter
from bot.runtime.loops import call_on_loop
from bot.runtime.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours, deliverable_at
from bot.runtime.render import OutboxRenderers
from bot.runtime.sending import SendPolicy
from bot.runtime.transport import WriteRefused
from bot.settings import DEFAULT_TIMEZONE
from storage.db import is_sqlite, transaction
from storage.models import OutboxState
from storage.repositories import outbox
from storage.repositories.leadership import Fence
from storage.repositories.outbox import ClaimedMessage
from storage.services import delivery

log = logging.getLogger(__name__)

# Sends `text` to `chat_id` and returns Telegram's message id; raises telegram.error exceptions.
SendFunction = Callable[[int, str, Any], Awaitable[int]]

MAX_ATTEMPTS = 8
RESOLVE_EVERY_SECONDS = 60.0
# A worker waits for a chat's next slot itself only when it is this close; longer waits are parked.
CHAT_WAIT_IN_WORKER = 0.05
BACKOFF_BASE = timedelta(seconds=0.5)
BACKOFF_CAP = timedelta(minutes=10)


def backoff(attempts: int) -> timedelta:
    """Exponential back-off for transient errors: 0.5 s, 1 s, 2 s … capped at 10 minutes."""
    return min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, attempts)))


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def retry_after_seconds(error: RetryAfter) -> float:
    """How long a 429 asks us to wait, in seconds (outbox sends, replies and proposal broadcasts alike)."""
    raw = getattr(error, "_retry_after", None)
    return _seconds(raw if raw is not None else error.retry_after)


def is_chat_gone(error: BadRequest) -> bool:
    text = str(error).lower()
    return "chat not found" in text or "user not found" in text or "peer_id_invalid" in text


@dataclass(order=True)
class _Job:
    sort_key: tuple
    message: ClaimedMessage = field(compare=False)
    chat_id: int = field(compare=False)
    text: str = field(compare=False)
    markup: Any = field(compare=False)


@dataclass
class DispatchStats:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    rate_limited: int = 0
    missed: int = 0
    timeouts: int = 0
    ambiguous: int = 0  # failed after the request was written: retried, so possibly delivered twice


class Dispatcher:
    """Delivers due outbox rows until stopped. All database work runs in worker threads."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        send: SendFunction,
        clock: Clock,
        *,
        renderers: OutboxRenderers,
        worker: str,
        limiter: RateLimiter | None = None,
        concurrency: int = 8,
        zone: ZoneInfo = DEFAULT_TIMEZONE,
        quiet: QuietHours = DEFAULT_QUIET_HOURS,
        poll_seconds: float = 30.0,
        batch_size: int = 200,
        fence: Fence | None = None,
        may_send: Callable[[], bool] | None = None,
        sending: SendPolicy = SendPolicy(),
    ) -> None:
        self._sessions = session_factory
        self.sending = sending
        self._send = send
        self._clock = clock
        self.renderers = renderers
        self.worker = worker
        self.limiter = limiter or RateLimiter()
        self.concurrency = concurrency
        self.zone = zone
        self.quiet = quiet
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        # Leadership: claims are fenced on this term in SQL, and every send first asks `may_send` (the
        # lease still trusted locally), so a leader that lost its lease sends nothing more.
        self.fence = fence
        self._may_send = may_send
        self.last_pass: float | None = None  # time.time() of the last claim pass (health: the scheduler's tick)
        self.stats = DispatchStats()
        # When this dispatcher was looking (clock time): names the cause of a missed reminder.
        self.watch = delivery.Watch()
        self._seen_at: datetime | None = None
        self._queue: asyncio.PriorityQueue[_Job] = asyncio.PriorityQueue()
        self._held: set[int] = set()  # claimed by us and not yet finished
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._marks: list[tuple[int, int | None, asyncio.Future[None]]] = []
        self._marks_ready = asyncio.Event()
        self._sequence = itertools.count()
        self._idle = asyncio.Event()
        self._acquiring: set[asyncio.Task[Any]] = set()
        self._idle_requested = 0
        self._idle_seen = 0
        self._resolve_needed = True
        self._next_resolve = 0.0
        self._next_tidy = 0.0
        self._marks_conn: Connection | None = None
        self._flush_lock = asyncio.Lock()
        self._marks_inline = is_sqlite(session_factory)

    # ---- control -------------------------------------------------------------------------------

    def wake(self) -> None:
        """Look for due work now (after a clock jump, a new activity, a materialiser run); thread-safe."""
        call_on_loop(self._loop, self._wake.set)

    def _on_clock_change(self, now: datetime) -> None:
        # A clock moved forward (the sandbox's time control) skipped what fell due in between: nobody looked.
        seen = self._seen_at
        if seen is not None and now > seen:
            self.watch.jumped(seen, now)
        self._resolve_needed = True
        self.wake()

    def stop(self) -> None:
        """Stop claiming; sends in flight finish and are recorded, queued rows go back to PENDING."""
        self._stopping = True
        call_on_loop(self._loop, self._stop_on_loop)

    def _stop_on_loop(self) -> None:
        # Runs on the loop, so the tasks in `_acquiring` really are waiting for a slot (nothing sent).
        self._room.set()
        self._wake.set()
        for task in list(self._acquiring):
            task.cancel()

    def held_count(self) -> int:
        return len(self._held)

    async def wait_idle(self) -> None:
        """Until nothing due is left to claim and nothing is queued or in flight (used by the sandbox)."""
        # Only a claim pass that starts after this request may report idleness (not one already running).
        self._idle_requested += 1
        wanted = self._idle_requested
        while self._idle_seen < wanted:
            self._idle.clear()
            self.wake()
            await self._idle.wait()

    async def run(self) -> None:
        """Claim, send and mark until `stop()`; then hand back what was claimed but not sent."""
        self._loop = asyncio.get_running_loop()
        self.watch.since = self._seen_at = self._clock.now()
        self._clock.on_change(self._on_clock_change)
        workers = [asyncio.create_task(self._worker(), name=f"dispatch-{i}") for i in range(self.concurrency)]
        marker = asyncio.create_task(self._marker(), name="dispatch-marks")
        try:
            await self._claim_loop()
        finally:
            self._stopping = True
            for task in list(self._acquiring):
                task.cancel()
            for _ in workers:
                self._queue.put_nowait(_Job((float("inf"),), None, 0, "", None))  # type: ignore[arg-type]
            await asyncio.gather(*workers, return_exceptions=True)
            await self._flush_marks()
            marker.cancel()
            await asyncio.gather(marker, return_exceptions=True)
            await asyncio.to_thread(self._close_marks)
            leftovers = [job.message.id for job in self._drain_queue() if job.message is not None]
            leftovers += [i for i in self._held if i not in leftovers]
            if leftovers:
                await asyncio.to_thread(self._db_release, leftovers)
            self._held.clear()

    # ---- claiming ------------------------------------------------------------------------------

    def _max_queued(self) -> int:
        if self.limiter.enabled:
            # At Telegram's pace keep about two seconds of work claimed, so the re-check before sending
            # (answered? cancelled?) is never stale by more than that.
            return max(self.concurrency * 2, int(self.limiter.limits.global_per_second * 2))
        return self.batch_size

    async def _claim_loop(self) -> None:
        while not self._stopping:
            room = self._max_queued() - self._queue.qsize()
            if self._queue.qsize() > self._max_queued() // 2:
                # Refill only below the low-water mark: one claim transaction per batch, not per free slot.
                self._room.clear()
                await self._wait_for(self._room, 1.0)
                continue
            self._wake.clear()
            if time.monotonic() >= self._next_tidy:
                self._next_tidy = time.monotonic() + RESOLVE_EVERY_SECONDS
                self.limiter.forget_idle_chats()  # keeps the per-chat bookkeeping flat over years
            pass_generation = self._idle_requested
            # Idle only if nothing was in our hands when this pass began: work finishing during the
            # pass (a send's follow-up notice, say) may have enqueued rows this pass did not see.
            busy_before = bool(self._held) or not self._queue.empty()
            self.last_pass = time.time()
            try:
                prepared = await asyncio.to_thread(self._db_claim, room)
            except Exception:  # noqa: BLE001 - a database hiccup must not kill the service
                log.exception("dispatcher: claiming failed; retrying")
                await self._wait_for(self._wake, 5.0)
                continue
            for job in prepared:
                self._queue.put_nowait(job)
            if len(prepared) >= room:
                continue
            if self._queue.empty() and not self._held and not busy_before:
                self._idle_seen = max(self._idle_seen, pass_generation)
                self._idle.set()
            timeout = await asyncio.to_thread(self._seconds_until_next_due)
            await self._wait_for(self._wake, timeout)

    async def _wait_for(self, event: asyncio.Event, timeout: float | None) -> None:
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    def _seconds_until_next_due(self) -> float:
        with transaction(self._sessions) as session:
            moment = outbox.next_due_at(session)
        if moment is None:
            return self.poll_seconds
        # The clock may be a sandbox clock: only sleep the real-time equivalent, capped by the poll.
        wait = (moment - self._clock.now()).total_seconds()
        return min(self.poll_seconds, max(0.05, wait))

    def _db_claim(self, limit: int) -> list[_Job]:
        now = self._clock.now()
        with transaction(self._sessions) as session:
            if self._resolve_needed or time.monotonic() >= self._next_resolve:
                # The downtime rule scans every due reminder: run it at start, after clock jumps and once a
                # minute, not on every claim (a started activity is also caught row by row when claimed).
                self._resolve_needed = False
                self._next_resolve = time.monotonic() + RESOLVE_EVERY_SECONDS
                self.stats.missed += delivery.resolve_overdue(session, now, self.watch)
            claimed = outbox.claim_due(session, now=now, worker=self.worker, limit=limit, fence=self.fence)
            self._seen_at = now
            if not claimed:
                return []
            checked = delivery.check_claimed(session, claimed, now, zone=self.zone, deliver_at=self._deliver_at,
                                             worker=self.worker, watch=self.watch)
            self.stats.skipped += checked.skipped
            self.stats.missed += checked.missed
            jobs = []
            for item in checked.deliver:
                text, markup = self.renderers.render(session, item.message, self.zone, now)
                key = (item.message.priority, item.message.due_at.timestamp(), next(self._sequence))
                jobs.append(_Job(key, item.message, item.chat_id, text, markup))
        self._held.update(job.message.id for job in jobs)
        return jobs

    def _deliver_at(self, due: datetime, starts_at: datetime | None, zone: ZoneInfo) -> datetime:
        return deliverable_at(due, starts_at, zone, self.quiet)

    # ---- sending -------------------------------------------------------------------------------

    def _drain_queue(self) -> list[_Job]:
        jobs = []
        while not self._queue.empty():
            jobs.append(self._queue.get_nowait())
        return jobs

    async def _worker(self) -> None:
        while True:
            job = await self._queue.get()
            if self._queue.qsize() <= self._max_queued() // 2:
                self._room.set()
            if job.message is None:
                return
            if self._stopping:
                self._queue.put_nowait(job)  # handed back in run()'s cleanup
                return
            wait = self.limiter.chat_wait(job.chat_id)
            if wait > CHAT_WAIT_IN_WORKER:
                # This chat is paused (a 429, or its one-per-second spacing): park the message instead of
                # letting a worker sit idle while other chats could be served.
                self._park(job, wait)
                continue
            task = asyncio.current_task()
            self._acquiring.add(task)
            try:
                slot = await self.limiter.acquire(job.chat_id)
            except asyncio.CancelledError:
                self._queue.put_nowait(job)
                return
            finally:
                self._acquiring.discard(task)
            if self._stopping:
                self._queue.put_nowait(job)
                return
            await self._deliver(job, slot)
            if self._queue.empty() and not self._held:
                self.wake()

    def _park(self, job: _Job, seconds: float) -> None:
        loop = asyncio.get_running_loop()

        def back() -> None:
            if not self._stopping:
                self._queue.put_nowait(job)
            # When stopping, the row is still in `_held` and is released with the rest.

        loop.call_later(seconds, back)

    async def _deliver(self, job: _Job, slot: float) -> None:
        message = job.message
        if self._may_send is not None and not self._may_send():
            self._lease_gone(job, slot)
            return
        try:
            message_id = await self._send_one(job)
        except WriteRefused:  # the same question, asked again by the transport right before writing
            self._lease_gone(job, slot)
            return
        except RetryAfter as error:
            self.limiter.refund(slot)
            seconds = retry_after_seconds(error)
            self.stats.rate_limited += 1
            log.warning("dispatcher: 429 for chat %s, pausing it %.0f s", job.chat_id, seconds)
            self.limiter.pause_chat(job.chat_id, seconds)
            self._park(job, seconds)
            return
        except Forbidden as error:
            await asyncio.to_thread(self._db_unreachable, message, "blocked", str(error))
            return
        except ChatMigrated as error:
            self.limiter.refund(slot)
            await asyncio.to_thread(self._db_migrated, message, job.chat_id, int(error.new_chat_id))
            return
        except BadRequest as error:
            if is_chat_gone(error):
                await asyncio.to_thread(self._db_unreachable, message, "chat_not_found", str(error))
            else:
                await asyncio.to_thread(self._db_fail, message, f"bad request: {error}")
            return
        except (TimedOut, NetworkError) as error:  # when to retry, and whether it may double: bot.runtime.sending
            retry = self.sending.after_failure(error, outbox_id=message.id, chat_id=job.chat_id,
                                               attempt=message.attempts + 1, backoff=backoff(message.attempts),
                                               final=message.attempts + 1 >= MAX_ATTEMPTS)
            self.stats.timeouts += retry.timed_out
            self.stats.ambiguous += retry.maybe_delivered
            if not retry.maybe_delivered:
                self.limiter.refund(slot)
            await asyncio.to_thread(self._db_retry, message, f"{type(error).__name__}: {error}", retry.delay)
            return
        except Exception as error:  # noqa: BLE001 - unknown failure: retry later rather than lose it
            log.exception("dispatcher: unexpected error sending outbox row %s", message.id)
            await asyncio.to_thread(self._db_retry, message, f"{type(error).__name__}: {error}")
            return
        await self._mark_sent(message.id, message_id)

    def _lease_gone(self, job: _Job, slot: float) -> None:
        # The lease is no longer trusted: another process may lead by now. Not sent; the row goes
        # back with the rest when the run ends (or the next leader reclaims it).
        self.limiter.refund(slot)
        self._queue.put_nowait(job)
        if not self._stopping:
            log.warning("dispatcher: the scheduler lease is no longer held; stopping before the next send")
            self.stop()

    async def _send_one(self, job: _Job) -> int:
        """The one call that talks to Telegram: Telegram's message id, or a telegram.error exception."""
        return await self._send(job.chat_id, job.text, job.markup)

    async def _mark_sent(self, outbox_id: int, message_id: int | None) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._marks.append((outbox_id, message_id, future))
        self._marks_ready.set()
        await future

    async def _marker(self) -> None:
        while True:
            await self._marks_ready.wait()
            self._marks_ready.clear()
            await self._flush_marks()

    async def _flush_marks(self) -> None:
        async with self._flush_lock:  # the marker task and shutdown may both flush; one at a time
            await self._flush_marks_locked()

    async def _flush_marks_locked(self) -> None:
        while self._marks:
            batch, self._marks = self._marks, []
            sent = [(i, m) for i, m, _ in batch]
            try:
                if self._marks_inline:
                    # SQLite: one local autocommit UPDATE is quicker than handing it to a worker thread,
                    # and every sender in the batch is waiting for exactly this.
                    self._db_mark_sent(sent)
                else:
                    # PostgreSQL: a network round trip; do not hold the event loop for it.
                    await asyncio.to_thread(self._db_mark_sent, sent)
            except Exception:  # noqa: BLE001
                log.exception("dispatcher: recording sent messages failed; retrying")
                self._marks = batch + self._marks
                await asyncio.sleep(1.0)
                continue
            for _, _, future in batch:
                if not future.done():
                    future.set_result(None)

    # ---- short transactions after a send ---------------------------------------------------------

    def _mark_connection(self) -> Connection:
        """A connection of our own for recording sends, in autocommit mode (one statement = one commit)."""
        if self._marks_conn is None or self._marks_conn.closed:
            engine = self._sessions.kw["bind"]
            connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if not is_sqlite(connection):
                # The record must be durable against *our* death, which a committed statement is even
                # before PostgreSQL flushes its WAL (it does so within a fraction of a second); only a
                # crash of the database server in that instant could let a message go out twice.
                connection.execute(text("SET synchronous_commit TO OFF"))
            self._marks_conn = connection
        return self._marks_conn

    def _db_mark_sent(self, sent: list[tuple[int, int | None]]) -> None:
        try:
            statement, params = outbox.mark_sent_statement(sent, now=self._clock.now(), worker=self.worker)
            self._mark_connection().execute(statement, params)
        except Exception:
            if self._marks_conn is not None:
                self._marks_conn.invalidate()
                self._marks_conn = None
            raise
        self.stats.sent += len(sent)
        self._held.difference_update(i for i, _ in sent)

    def _close_marks(self) -> None:
        if self._marks_conn is not None:
            self._marks_conn.close()
            self._marks_conn = None

    def _db_release(self, ids: list[int]) -> None:
        with transaction(self._sessions) as session:
            outbox.release(session, ids, worker=self.worker)

    def _db_retry(self, message: ClaimedMessage, error: str, delay: timedelta | None = None) -> None:
        attempts = message.attempts + 1
        with transaction(self._sessions) as session:
            if attempts >= MAX_ATTEMPTS:
                outbox.finish(session, [message.id], OutboxState.FAILED, reason=error, worker=self.worker)
                self.stats.failed += 1
                log.error("dispatcher: giving up on outbox row %s after %d attempts: %s", message.id, attempts, error)
            else:
                outbox.release(session, [message.id], worker=self.worker,
                               next_attempt_at=self._clock.now() + (delay or backoff(attempts - 1)), error=error,
                               count_attempt=True)
                self.stats.retried += 1
        self._held.discard(message.id)

    def _db_migrated(self, message: ClaimedMessage, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: remember its new id everywhere and send again at once."""
        with transaction(self._sessions) as session:
            delivery.follow_migrated_group(session, message, old_chat_id, new_chat_id, self.worker)
        self._held.discard(message.id)
        self.wake()

    def _db_fail(self, message: ClaimedMessage, error: str) -> None:
        with transaction(self._sessions) as session:
            outbox.finish(session, [message.id], OutboxState.FAILED, reason=error, worker=self.worker)
        self.stats.failed += 1
        self._held.discard(message.id)

    def _db_unreachable(self, message: ClaimedMessage, reason: str, error: str) -> None:
        """403 / chat not found: the member is unreachable; their secretary is told once."""
        with transaction(self._sessions) as session:
            delivery.record_unreachable(session, message, reason, error, self._clock.now(), self.worker)
        self.stats.failed += 1
        self._held.discard(message.id)
        self.wake()
