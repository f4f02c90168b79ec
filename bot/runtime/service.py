"""The runtime service: job reconciliation, materialisation and the dispatcher, run by the elected leader."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.runtime import jobs as job_module
from bot.runtime.dispatcher import Dispatcher, SendFunction
from bot.runtime.jobs import JOBSTORE_ALIAS, ReconcileResult, RuntimeJobStore, desired_jobs, reconcile_jobs
from bot.runtime.limiter import RateLimiter
from bot.runtime.materialise import DEFAULT_HORIZON, MaterialiseReport, PlanSource, ReminderPolicy, materialise
from bot.runtime.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours
from bot.runtime.render import OutboxRenderers
from bot.runtime.sending import SendPolicy
from bot.settings import DEFAULT_TIMEZONE, Settings
from storage import models
from storage.db import transaction
from storage.repositories import outbox
from storage.repositories.leadership import Fence
from schedules.roster import Roster
from storage.repositories.roster import load_roster

log = logging.getLogger(__name__)

ROSTER_CACHE_SECONDS = 300


def default_worker_id() -> str:
    """Names this process in `claimed_by`: host, pid and a random part (pids are reused across restarts)."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class RuntimeOptions:
    zone: ZoneInfo = DEFAULT_TIMEZONE
    quiet: QuietHours = DEFAULT_QUIET_HOURS
    horizon: timedelta = DEFAULT_HORIZON
    concurrency: int = Settings.concurrency  # the dispatcher's sends in flight at once (and the outbox transport's connections)
    limiter_enabled: bool = True
    poll_seconds: float = Settings.poll_seconds
    worker: str = field(default_factory=default_worker_id)
    # Rows another claimer (a previous term) still holds are put back only once claimed this long ago:
    # an old leader cut off from the database may have sent them and record that when it is back.
    # None: at once (a single process, the sandbox).
    reclaim_after: timedelta | None = None
    sending: SendPolicy = SendPolicy()  # send timeouts and when a failed send is tried again


class Runtime:
    """Everything the leader runs. `start()` assumes this process already holds the leader lock."""

    def __init__(
        self,
        *,
        database_url: str,
        session_factory: sessionmaker[Session],
        clock: Clock,
        send: SendFunction,
        renderers: OutboxRenderers,
        options: RuntimeOptions = RuntimeOptions(),
        plan: PlanSource | None = None,
        scheduler: Any | None = None,
        limiter: RateLimiter | None = None,
        fence: Fence | None = None,
        may_send: Callable[[], bool] | None = None,
    ) -> None:
        self.database_url = database_url
        self._sessions = session_factory
        self.clock = clock
        if fence is not None:  # rows this term claims carry the term, so no other term can mark them
            options = replace(options, worker=fence.claimer)
        self.options = options
        self.fence = fence
        self.plan = plan
        self.scheduler = scheduler
        self.policy = ReminderPolicy(zone=options.zone, quiet=options.quiet)
        self.dispatcher = Dispatcher(
            session_factory, send, clock, renderers=renderers, worker=options.worker,
            limiter=limiter or RateLimiter(enabled=options.limiter_enabled),
            concurrency=options.concurrency, zone=options.zone, quiet=options.quiet,
            poll_seconds=options.poll_seconds, fence=fence, may_send=may_send, sending=options.sending,
        )
        self.store: RuntimeJobStore | None = None
        self._dispatch_task: asyncio.Task[None] | None = None
        self._materialise_lock = asyncio.Lock()
        self._roster_fingerprint: tuple | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self.last_reconcile: ReconcileResult | None = None
        self._materialise_queued = False
        self._roster_cache: tuple[tuple, Roster] | None = None
        self._accepting_jobs = False  # between start() and stop(): the jobs of this term may act

    @property
    def accepting_jobs(self) -> bool:
        return self._accepting_jobs

    # ---- life cycle ------------------------------------------------------------------------------

    async def start(self, *, materialise_first: bool = True) -> None:
        self._loop = asyncio.get_running_loop()
        self._accepting_jobs = True
        await self._reclaim_abandoned()
        if self.options.reclaim_after is not None:
            self._spawn(self._reclaim_periodically(max(1.0, self.options.reclaim_after.total_seconds() / 4)))
        if self.scheduler is not None:
            self.store = RuntimeJobStore(self.database_url, host=self)
            await asyncio.to_thread(self.store.ensure_table)
            self.scheduler.add_jobstore(self.store, alias=JOBSTORE_ALIAS)
            await self.reconcile_now()
        self.clock.on_change(self._on_clock_change)
        self._dispatch_task = asyncio.create_task(self.dispatcher.run(), name="dispatcher")
        if materialise_first:
            self._spawn(self._materialise_and_wake())

    async def stop(self) -> None:
        """Stop sending (in-flight sends finish and are recorded; queued ones go back to the outbox)."""
        self._accepting_jobs = False
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self.store is not None and self.scheduler is not None:
            # First: no job of this term fires while the dispatcher drains (which waits for a database that
            # may be away). A later term of this process adds the store again; the jobs stay in the database.
            try:
                self.scheduler.remove_jobstore(JOBSTORE_ALIAS, shutdown=False)
            except Exception:  # noqa: BLE001 - already gone
                pass
            self.store = None
        self.dispatcher.stop()
        if self._dispatch_task is not None:
            try:
                await self._dispatch_task
            except Exception:  # noqa: BLE001 - e.g. the database is away: rows left claimed are reclaimed
                log.exception("runtime: the dispatcher stopped with an error; the next leader reclaims its rows")
            self._dispatch_task = None

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _reclaim_abandoned(self) -> int:
        reclaimed = await asyncio.to_thread(self._reclaim_from_previous_leader)
        if reclaimed:
            log.warning("runtime: %d messages claimed by a previous scheduler were put back in the queue", reclaimed)
            self.wake_dispatcher()
        return reclaimed

    async def _reclaim_periodically(self, every_seconds: float) -> None:
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await self._reclaim_abandoned()
            except Exception as error:  # noqa: BLE001 - the next round tries again
                log.warning("runtime: reclaiming abandoned rows failed (%s)", type(error).__name__)

    def _reclaim_from_previous_leader(self) -> int:
        with transaction(self._sessions) as session:
            return outbox.reclaim_abandoned(session, worker=self.options.worker, now=self.clock.now(),
                                            lease=self.options.reclaim_after, fence=self.fence)

    def _on_clock_change(self, _now: datetime) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._schedule_materialise)

    def _schedule_materialise(self) -> None:
        # Coalesce: many clock steps in a row (the sandbox walking through a month) need one run after
        # the last of them, not one run each.
        if self._materialise_queued:
            return
        self._materialise_queued = True
        self._spawn(self._materialise_and_wake())

    async def _materialise_and_wake(self) -> None:
        self._materialise_queued = False
        try:
            await self.materialise_now()
        except Exception:  # noqa: BLE001 - the next timer tries again
            log.exception("runtime: materialising failed")
        self.wake_dispatcher()

    # ---- what the jobs call ----------------------------------------------------------------------

    def wake_dispatcher(self) -> None:
        self.dispatcher.wake()

    async def materialise_now(
        self, *, org_codes: Iterable[str] | None = None, obligation: str | None = None
    ) -> MaterialiseReport:
        codes = list(org_codes) if org_codes is not None else None
        async with self._materialise_lock:
            report = await asyncio.to_thread(self._materialise, codes, obligation)
        if report.reminders_enqueued:
            self.wake_dispatcher()
        return report

    def _current_roster(self, session: Session) -> Roster:
        """The roster, reloaded only when its fingerprint changed (obligation jobs fire thousands of times a day)."""
        # The fingerprint misses a same-count seat swap, so the cache also expires after a few minutes.
        fingerprint = (roster_fingerprint(session), int(time.monotonic() // ROSTER_CACHE_SECONDS))
        if self._roster_cache is None or self._roster_cache[0] != fingerprint:
            self._roster_cache = (fingerprint, load_roster(session))
        return self._roster_cache[1]

    def _materialise(self, org_codes: list[str] | None, obligation: str | None) -> MaterialiseReport:
        with transaction(self._sessions) as session:
            roster = self._current_roster(session) if self.plan is not None else None
            report = materialise(session, now=self.clock.now(), policy=self.policy, plan=self.plan,
                                 horizon=self.options.horizon, org_codes=org_codes, obligation=obligation,
                                 roster=roster)
        log.info("materialised: %d occurrences, %d new activities, %d moved, %d reminders enqueued",
                 report.occurrences, report.created, report.moved, report.reminders_enqueued)
        return report

    def _desired(self) -> dict[str, job_module.JobSpec]:
        with transaction(self._sessions) as session:
            roster = load_roster(session)
            self._roster_fingerprint = roster_fingerprint(session)
        by_org = self.plan.obligations_by_org(roster) if self.plan is not None else {}
        return desired_jobs(by_org)

    async def reconcile_now(self) -> ReconcileResult | None:
        if self.store is None:
            return None
        specs = await asyncio.to_thread(self._desired)
        now = datetime.now(timezone.utc)  # APScheduler's timers run on real time
        self.last_reconcile = await asyncio.to_thread(reconcile_jobs, self.scheduler, self.store, specs, now)
        return self.last_reconcile

    async def reconcile_if_changed(self) -> ReconcileResult | None:
        """The roster or the catalog changed since the last reconcile: reconcile and re-materialise."""
        changed_on_disk = getattr(self.plan, "changed_on_disk", None)
        files_changed = bool(changed_on_disk and changed_on_disk())
        if files_changed:
            await asyncio.to_thread(self.plan.reload)  # type: ignore[union-attr]
        fingerprint = await asyncio.to_thread(self._current_fingerprint)
        if not files_changed and fingerprint == self._roster_fingerprint:
            return None
        log.info("runtime: roster or catalog changed; reconciling jobs")
        result = await self.reconcile_now()
        await self._materialise_and_wake()
        return result

    def _current_fingerprint(self) -> tuple:
        with transaction(self._sessions) as session:
            return roster_fingerprint(session)

    async def settle(self, _now: datetime | None = None) -> None:
        """Handle everything due now (the sandbox's time control calls this after moving the clock)."""
        await self.materialise_now()
        await self.dispatcher.wait_idle()


def roster_fingerprint(session: Session) -> tuple:
    """Cheap aggregates that change whenever the roster, seats or bindings change."""
    parts = []
    for model, stamp in (
        (models.Organization, models.Organization.updated_at),
        (models.Member, models.Member.updated_at),
    ):
        parts.extend(session.execute(select(func.count(), func.max(stamp)).select_from(model)).one())
    parts.append(session.scalar(select(func.count()).select_from(models.MemberRole)))
    parts.append(session.scalar(select(func.count()).select_from(models.TelegramBinding)))
    return tuple(parts)
