"""The runtime service in-process: clock jumps make due work run; the sandbox's settle waits for it."""

from __future__ import annotations

import asyncio

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from datetime import timezone
from sqlalchemy import select

from bot.clock import ManualClock
from bot.runtime.limiter import RateLimiter
from bot.runtime.service import Runtime, RuntimeOptions
from storage import models
from storage.db import transaction
from tests.runtime.factories import SHANGHAI, at, make_branch, renderers
from tests.runtime.test_dispatcher import RecordingTelegram
from tests.runtime.test_materialise import TablePlan, occurrence


class PlanWithJobs(TablePlan):
    def obligations_by_org(self, roster):
        return {org.code: {"theme_party_day"} for org in roster.branches()}


async def test_a_clock_jump_materialises_and_delivers_what_fell_due(db_url, session_factory):
    with transaction(session_factory) as session:
        make_branch(session, members=2)
    clock = ManualClock(at("2025-03-01 09:00"))
    telegram = RecordingTelegram()
    scheduler = AsyncIOScheduler(timezone=timezone.utc)
    runtime = Runtime(database_url=db_url, session_factory=session_factory, clock=clock, send=telegram.send, renderers=renderers(),
                      options=RuntimeOptions(zone=SHANGHAI, poll_seconds=0.5, worker="svc"),
                      plan=PlanWithJobs([occurrence()]), scheduler=scheduler,
                      limiter=RateLimiter(enabled=False))
    await runtime.start()
    try:
        await asyncio.wait_for(runtime.settle(), 20)
        assert telegram.sent == []
        assert runtime.store.job_ids() >= {"obligation:theme_party_day:B01", "materialise", "reconcile", "dispatch"}
        clock.set(at("2025-03-14 09:00:30"))  # past the 3-day and the 1-day reminder: only the 1-day one goes
        await asyncio.wait_for(runtime.settle(), 20)
        reminders = [text for _, text in telegram.sent if "活动提醒" in text]
        assert len(reminders) == 2 and all("1天后" in text for text in reminders)
        assert [chat for chat, text in telegram.sent if "停机" in text] == [1001]  # the jump counts as downtime
        # A second reconcile with nothing changed adds and removes nothing.
        assert (await runtime.reconcile_now()).added == 0
        assert await runtime.reconcile_if_changed() is None
        with transaction(session_factory) as session:
            session.add(models.Organization(code="B02", name="第二党支部", type="党支部"))
        result = await runtime.reconcile_if_changed()
        assert result is not None and result.added == 1
    finally:
        await runtime.stop()
    with transaction(session_factory) as session:
        states = sorted(session.scalars(select(models.OutboxMessage.state)))
    assert states == ["missed"] * 2 + ["pending"] * 2 + ["sent"] * 3
