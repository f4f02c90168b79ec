"""The seam between accepting and the running bot: an accepted override is reconciled into jobs, once."""

from __future__ import annotations

import asyncio
import shutil
from datetime import timezone
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import ManualClock
from bot.runtime.limiter import RateLimiter
from bot.runtime.plan_source import CatalogPlan
from bot.runtime.service import Runtime, RuntimeOptions
from bot.deployment import deployment_at
from storage.db import transaction
from storage.services.proposals import plan_override_edit, propose_document, write_override
from tests.runtime.factories import SHANGHAI, at, make_branch, renderers
from tests.runtime.test_dispatcher import RecordingTelegram

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target, ignore=shutil.ignore_patterns("demo"))
    return target


async def test_an_accepted_plan_becomes_jobs_of_the_running_bot(db_url, session_factory, config_dir) -> None:  # noqa: ANN001
    with transaction(session_factory) as session:
        make_branch(session, members=1)
    runtime = Runtime(database_url=db_url, session_factory=session_factory, clock=ManualClock(at("2025-03-01 09:00")),
                      send=RecordingTelegram().send, renderers=renderers(), options=RuntimeOptions(zone=SHANGHAI, poll_seconds=0.5, worker="t"),
                      plan=CatalogPlan.for_dir(config_dir, SHANGHAI), scheduler=AsyncIOScheduler(timezone=timezone.utc),
                      limiter=RateLimiter(enabled=False))
    await runtime.start(materialise_first=False)
    try:
        assert "obligation:weekly_study:B01" not in runtime.store.job_ids()
        assert await runtime.reconcile_if_changed() is None
        plan = "支部计划\n1.坚持每周一次常态化政治理论学习制度。\n2.扎实开展廉政家访活动。\n"
        proposal = propose_document(deployment_at(config_dir), plan.encode(), "plan.txt", org_code="B01")
        write_override(plan_override_edit(deployment_at(config_dir), "B01", proposal))
        result = await asyncio.wait_for(runtime.reconcile_if_changed(), 30)
        assert result is not None and result.added == 2
        assert {"obligation:weekly_study:B01", "obligation:integrity_home_visit:B01"} <= runtime.store.job_ids()
        assert await runtime.reconcile_if_changed() is None  # nothing changed since
    finally:
        await runtime.stop()
