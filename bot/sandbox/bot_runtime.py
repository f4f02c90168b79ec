"""Runs the real bot (the runtime's Application, handlers, scheduler, dispatcher) against the sandbox's Bot API."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import Application, Job

from bot import texts
from bot.clock import ManualClock
from bot.deployment import DeploymentSource
from bot.runtime import app as runtime_app
from bot.runtime.app import RunningBot, service_options
from bot.runtime.leader import leader_lock_for
from bot.runtime.plan_source import CatalogPlan
from bot.runtime.service import Runtime
from bot.sandbox.timecontrol import DueSource
from bot.settings import Settings
from storage.db import make_engine, make_session_factory, transaction
from storage.services import followup

log = logging.getLogger(__name__)


class SandboxBusyError(RuntimeError):
    """Another process already runs the scheduler on this sandbox database."""


@dataclass
class BotRuntime:
    """The started bot: its Application and Runtime, and how the time control waits for them."""

    running: RunningBot
    engine: Engine
    session_factory: sessionmaker[Session]
    lock: object
    due_sources: list[DueSource] = field(default_factory=list)
    landmarks: list[DueSource] = field(default_factory=list)

    @property
    def application(self) -> Application:
        return self.running.application

    @property
    def runtime(self) -> Runtime:
        return self.running.runtime

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
        await self.running.stop()
        await asyncio.to_thread(self.lock.release)  # type: ignore[attr-defined]
        self.engine.dispose()


async def start_bot(settings: Settings, clock: ManualClock, *, plan: object | None = None,
                    config: DeploymentSource | None = None) -> BotRuntime:
    """Builds the bot exactly as `branchbot run` does, but on the sandbox clock and Bot API, and starts it."""
    engine = make_engine(settings.database_url)
    lock = leader_lock_for(engine)
    if not await asyncio.to_thread(lock.try_acquire):
        engine.dispose()
        raise SandboxBusyError(texts.SANDBOX_DATABASE_BUSY)
    factory = make_session_factory(engine, origin="sandbox")
    config = config if config is not None else DeploymentSource(settings)
    if plan is None:
        plan = CatalogPlan(config)
    # The loopback server enforces no flood limits, and pacing sends at 1/s per chat in real seconds would
    # make a month's jump crawl; BRANCHBOT_RATE_LIMIT=on still turns the bot's limiter on when wanted.
    options = service_options(settings, limiter_default=False)
    running = await runtime_app.start_bot(settings, clock, factory, options=options.runtime, plan=plan,  # type: ignore[arg-type]
                                          config=config)

    def next_followup(after: datetime) -> datetime | None:
        with transaction(factory) as session:
            return followup.next_moment(session, after, config.current().catalog)

    def next_opening(after: datetime) -> datetime | None:
        with transaction(factory) as session:
            return followup.next_checkin_opening(session, after)

    return BotRuntime(running, engine, factory, lock, due_sources=[next_followup], landmarks=[next_opening])
