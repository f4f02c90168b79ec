"""Benchmark: start-up of the runtime with 1,000 organisations' jobs (cold: jobs created; warm: reconciled).

Start-up = read the catalog, load the roster, compute the desired job set, reconcile the persistent job store,
start APScheduler and the dispatcher — everything before the first send can happen. The first
materialisation runs in the background after that and is reported separately.

    .venv/bin/python -m bench.bench_startup [--orgs 1000] [--members-per-org 5] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import insert

from bench.harness import report, run_main, scratch_postgres
from bot.callbacks import CallbackSigner
from bot.handlers.outbox_views import build_outbox_renderers
from bot.clock import SystemClock
from bot.runtime.limiter import RateLimiter
from bot.runtime.plan_source import CatalogPlan
from bot.runtime.service import Runtime, RuntimeOptions
from bot.settings import PROJECT_CONFIG_DIR
from storage import models
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Base

ZONE = ZoneInfo("Asia/Shanghai")


def seed(url: str, orgs: int, members_per_org: int) -> None:
    """A 党委 with `orgs` branches under it, each with members (the first is its 书记)."""
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    with transaction(make_session_factory(engine)) as session:
        session.execute(insert(models.Organization), [{"id": 1, "code": "D00", "name": "机关党委", "type": "党委"}])
        session.execute(insert(models.Organization), [
            {"id": b + 2, "code": f"B{b:04d}", "name": f"第{b}党支部", "type": "党支部", "parent_id": 1}
            for b in range(orgs)])
        session.execute(insert(models.Member), [
            {"id": b * members_per_org + m + 1, "member_no": f"M{b:04d}{m:02d}", "name": f"党员{b}-{m}",
             "org_id": b + 2, "category": "正式党员", "joined_on": None}
            for b in range(orgs) for m in range(members_per_org)])
        session.execute(insert(models.MemberRole), [
            {"member_id": b * members_per_org + 1, "org_id": b + 2, "role": "书记", "upper": False} for b in range(orgs)])
    engine.dispose()


async def noop_send(chat_id: int, text: str, markup: object) -> int:
    return 1


async def start_once(url: str, *, materialise: bool) -> dict:
    engine = make_engine(url)
    scheduler = AsyncIOScheduler(timezone=timezone.utc)
    started = time.perf_counter()
    plan = CatalogPlan.for_dir(PROJECT_CONFIG_DIR, ZONE)
    runtime = Runtime(database_url=url, session_factory=make_session_factory(engine), clock=SystemClock(),
                      send=noop_send, renderers=build_outbox_renderers(CallbackSigner.from_token("1:BENCH"), lambda: None),
                      options=RuntimeOptions(zone=ZONE, worker="bench"), plan=plan,
                      scheduler=scheduler, limiter=RateLimiter(enabled=False))
    await runtime.start(materialise_first=False)
    scheduler.start()
    startup = time.perf_counter() - started
    figures = {"startup_seconds": startup, "jobs": len(runtime.store.job_ids()),
               "added": runtime.last_reconcile.added, "kept": runtime.last_reconcile.kept}
    if materialise:
        began = time.perf_counter()
        result = await runtime.materialise_now()
        figures["materialise_seconds"] = time.perf_counter() - began
        figures["activities"] = result.created
    await runtime.stop()
    scheduler.shutdown(wait=False)
    engine.dispose()
    return figures


async def measure(url: str, orgs: int, members_per_org: int, materialise: bool) -> dict:
    seed(url, orgs, members_per_org)
    cold = await start_once(url, materialise=False)
    warm = await start_once(url, materialise=materialise)
    return {**{f"cold_{k}": v for k, v in cold.items()}, **{f"warm_{k}": v for k, v in warm.items()}}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=1000)
    parser.add_argument("--members-per-org", type=int, default=5)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--materialise", action="store_true", help="also time the first materialisation")
    args = parser.parse_args(argv)
    figures: dict = {"orgs": args.orgs, "members": args.orgs * args.members_per_org}
    for database in args.databases.split(","):
        if database == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                result = asyncio.run(measure(f"sqlite:///{Path(tmp) / 'startup.db'}", args.orgs,
                                             args.members_per_org, args.materialise))
        else:
            with scratch_postgres() as url:
                result = asyncio.run(measure(url, args.orgs, args.members_per_org, args.materialise))
        figures.update({f"{database}_{k}": v for k, v in result.items()})
    report("startup", **figures)


if __name__ == "__main__":
    run_main(main)
