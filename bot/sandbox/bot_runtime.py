"""Runs the real bot (the runtime's Application, handlers, scheduler, dispatcher) against the sandbox's Bot API."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import Application, Job

from bot.clock import ManualClock
from bot.runtime.app import build_application, options_from_env, telegram_sender
from bot.runtime.leader import leader_lock_for
from bot.runtime.service import Runtime
from bot.sandbox.timecontrol import DueSource
from bot.settings import Settings
from storage import models
from storage.db import make_engine, make_session_factory, transaction
from storage.models import ActivityKind, ActivityStatus
from storage.services import followup
from storage.services.views import checkin_window

log = logging.getLogger(__name__)


class SandboxBusyError(RuntimeError):
    """Another process already runs the scheduler on this sandbox database."""


def _scheduled_meetings(session: Session, starting_after: datetime, page: int = 500) -> Iterator[models.Activity]:
    """Scheduled meetings in order of start, read a page at a time (the caller stops when it has its answer)."""
    offset = 0
    while True:
        rows = session.scalars(select(models.Activity).where(
            models.Activity.kind == ActivityKind.MEETING.value,
            models.Activity.status == ActivityStatus.SCHEDULED.value,
            models.Activity.starts_at > starting_after,
        ).order_by(models.Activity.starts_at, models.Activity.id).offset(offset).limit(page)).all()
        yield from rows
        if len(rows) < page:
            return
        offset += page


def checkin_openings(session: Session, after: datetime) -> datetime | None:
    """The next moment a meeting's check-in window opens (the person may press 签到 from then on)."""
    best: datetime | None = None
    for activity in _scheduled_meetings(session, after):
        if best is not None and activity.starts_at - followup.ANNOUNCE_BEFORE > best:
            break  # windows open at most a day ahead of the start
        opens = checkin_window(activity)[0]
        if opens > after and (best is None or opens < best):
            best = opens
    return best


def activity_moments(session: Session, after: datetime) -> datetime | None:
    """The next moment something happens around a meeting: a group announcement a day ahead, the check-in
    window opening, the roll when it closes, the nag a day later, the escalation three days later.

    The chat's follow-up sweep runs on a real-time interval, so the time control stops at these moments and
    runs it, or a jump would pass a window's close without the secretary ever getting the roll in time.
    """
    best: datetime | None = None
    for activity in _scheduled_meetings(session, after - followup.LOOKBACK):
        if best is not None and activity.starts_at - followup.ANNOUNCE_BEFORE > best:
            break  # every later meeting's moments come after this one
        opens, closes = checkin_window(activity)
        moments = [activity.starts_at - followup.ANNOUNCE_BEFORE, opens, closes]
        if activity.requires_confirmation:
            moments += [closes + followup.NAG_AFTER, closes + followup.ESCALATE_AFTER]
        for moment in moments:
            if moment > after and (best is None or moment < best):
                best = moment
    return best


@dataclass
class BotRuntime:
    """The started bot: its Application and Runtime, and how the time control waits for them."""

    application: Application
    runtime: Runtime
    engine: Engine
    session_factory: sessionmaker[Session]
    lock: object
    due_sources: list[DueSource] = field(default_factory=list)
    landmarks: list[DueSource] = field(default_factory=list)

    async def run_sweeps(self) -> None:
        """Runs the application's periodic jobs now (the follow-up sweep …): they run on real-time intervals."""
        job_queue = self.application.job_queue
        if job_queue is None:
            return
        # PTB's own jobs live in APScheduler's default store; the runtime's persistent jobs have their own.
        for aps_job in job_queue.scheduler.get_jobs(jobstore="default"):
            # A paused job has no next run time (PTB's own `enabled` flag is not kept on the stored copy).
            if not isinstance(aps_job.trigger, IntervalTrigger) or len(aps_job.args) < 2 or aps_job.next_run_time is None:
                continue
            job = Job.from_aps_job(aps_job)
            try:
                await job.run(self.application)
            except Exception:  # noqa: BLE001 - one failing sweep must not stop the clock
                log.exception("sandbox: job %s failed", job.name)

    async def settle(self) -> None:
        """Everything due at the clock's new time: materialise, sweep, and deliver until the outbox is idle."""
        await self.runtime.materialise_now()
        await self.run_sweeps()
        await self.runtime.dispatcher.wait_idle()

    async def stop(self) -> None:
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        await self.runtime.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        await asyncio.to_thread(self.lock.release)  # type: ignore[attr-defined]
        self.engine.dispose()


async def start_bot(settings: Settings, clock: ManualClock, *, plan: object | None = None) -> BotRuntime:
    """Builds the bot exactly as `branchbot run` does, but on the sandbox clock and Bot API, and starts it."""
    engine = make_engine(settings.database_url)
    lock = leader_lock_for(engine)
    if not await asyncio.to_thread(lock.try_acquire):
        engine.dispose()
        raise SandboxBusyError("另一个沙盒（或 branchbot run）正在使用这个数据库；请先停止它，或设置另一个 BRANCHBOT_DATABASE_URL")
    factory = make_session_factory(engine)
    if plan is None:
        from bot.runtime.plan_source import CatalogPlan  # noqa: PLC0415 - reads the catalog from disk

        plan = CatalogPlan(settings.config_dir, settings.timezone)
    # The loopback server enforces no flood limits, and pacing sends at 1/s per chat in real seconds would
    # make a month's jump crawl; BRANCHBOT_RATE_LIMIT=on still turns the bot's limiter on when wanted.
    environ = {**os.environ}
    environ.setdefault("BRANCHBOT_RATE_LIMIT", "off")
    options = options_from_env(settings, environ)
    application = build_application(settings, clock, session_factory=factory, concurrency=options.runtime.concurrency)
    await application.initialize()
    runtime = Runtime(
        database_url=settings.database_url, session_factory=factory, clock=clock,
        send=telegram_sender(application), options=options.runtime, plan=plan,  # type: ignore[arg-type]
        scheduler=application.job_queue.scheduler if application.job_queue else None,
    )
    application.bot_data["runtime"] = runtime
    await runtime.start()
    await application.start()
    if application.updater is not None:
        await application.updater.start_polling(poll_interval=0.0, drop_pending_updates=False)

    def next_followup(after: datetime) -> datetime | None:
        with transaction(factory) as session:
            return activity_moments(session, after)

    def next_opening(after: datetime) -> datetime | None:
        with transaction(factory) as session:
            return checkin_openings(session, after)

    return BotRuntime(application, runtime, engine, factory, lock, due_sources=[next_followup],
                      landmarks=[next_opening])
