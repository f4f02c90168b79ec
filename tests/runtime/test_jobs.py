"""Persistent jobs: one per enabled obligation per organisation, reconciled idempotently, nothing orphaned."""

from __future__ import annotations

import asyncio
import pickle
from datetime import datetime, timedelta, timezone

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select

from bot.runtime.jobs import JOBSTORE_ALIAS, RuntimeJobStore, desired_jobs, reconcile_jobs

NOW = datetime(2025, 3, 10, 1, 0, tzinfo=timezone.utc)


class Host:
    """Records what the jobs ask of it (stands in for the Runtime that owns the store)."""

    def __init__(self, accepting: bool = True) -> None:
        self.accepting_jobs = accepting
        self.calls: list[tuple[tuple[str, ...], str | None]] = []
        self.done = asyncio.Event()

    async def materialise_now(self, *, org_codes=None, obligation=None):  # noqa: ANN001, ANN201
        self.calls.append((tuple(org_codes or ()), obligation))
        self.done.set()

    async def reconcile_if_changed(self):  # noqa: ANN201
        return None

    def wake_dispatcher(self) -> None:
        return None


@pytest.fixture
def host():
    return Host()


@pytest.fixture
def store(engine, db_url, host):
    store = RuntimeJobStore(db_url, host=host)
    store.ensure_table()
    yield store
    store.engine.dispose()


def test_desired_jobs_have_stable_ids():
    specs = desired_jobs({"B01": {"theme_party_day", "committee_meeting"}, "D01": {"monthly_reminder"}})
    assert sorted(specs) == [
        "dispatch", "materialise",
        "obligation:committee_meeting:B01", "obligation:monthly_reminder:D01", "obligation:theme_party_day:B01",
        "reconcile",
    ]
    assert specs["obligation:theme_party_day:B01"].args == ("theme_party_day", "B01")
    assert specs["obligation:theme_party_day:B01"].func == "bot.runtime.jobs:fire_obligation"


def test_reconcile_adds_missing_removes_orphans_and_is_idempotent(store):
    scheduler = AsyncIOScheduler(timezone=timezone.utc)
    first = desired_jobs({"B01": {"theme_party_day", "committee_meeting"}, "B02": {"theme_party_day"}})
    assert reconcile_jobs(scheduler, store, first, NOW).added == len(first)
    assert reconcile_jobs(scheduler, store, first, NOW).added == 0
    assert store.job_ids() == set(first)
    # B02 left the roster and B01 disabled its committee meeting; B03 arrived.
    second = desired_jobs({"B01": {"theme_party_day"}, "B03": {"theme_party_day"}})
    result = reconcile_jobs(scheduler, store, second, NOW)
    assert (result.added, result.removed) == (1, 2)
    assert store.job_ids() == set(second)
    assert reconcile_jobs(scheduler, store, second, NOW).added == 0


def test_stored_jobs_survive_reloading_and_never_drop_a_missed_run(store):
    scheduler = AsyncIOScheduler(timezone=timezone.utc)
    reconcile_jobs(scheduler, store, desired_jobs({"B01": {"theme_party_day"}}), NOW)
    with store.engine.connect() as connection:
        state = connection.execute(select(store.jobs_t.c.job_state).where(
            store.jobs_t.c.id == "obligation:theme_party_day:B01")).scalar_one()
    job = pickle.loads(state)
    assert job["func"] == "bot.runtime.jobs:fire_obligation"
    assert job["misfire_grace_time"] is None and job["coalesce"] is True
    assert job["next_run_time"] > NOW


async def test_jobs_run_from_the_store_through_the_scheduler(store, host):
    """A due job is loaded from the database, its text reference resolved, and the store's own host called."""
    scheduler = AsyncIOScheduler(timezone=timezone.utc)
    scheduler.add_jobstore(store, alias=JOBSTORE_ALIAS)
    # As if the service had been down for two days: every timer has missed runs.
    past = datetime.now(timezone.utc) - timedelta(days=2)
    reconcile_jobs(scheduler, store, desired_jobs({"B01": {"theme_party_day"}}), past)
    scheduler.start()
    try:
        await asyncio.wait_for(host.done.wait(), 10)
    finally:
        scheduler.shutdown(wait=False)
    assert (("B01",), "theme_party_day") in host.calls
    assert host.calls.count((("B01",), "theme_party_day")) == 1  # coalesced: one run for the missed ones


@pytest.mark.parametrize("accepting", [True, False], ids=["host-running", "host-stopped"])
async def test_a_loaded_job_calls_the_host_of_its_store_only_while_it_accepts_jobs(db_url, engine, accepting):
    ours, other = Host(accepting), Host()
    store = RuntimeJobStore(db_url, host=ours)
    store.ensure_table()
    RuntimeJobStore(db_url, host=other)  # another store (another term) exists: no global decides who is called
    try:
        reconcile_jobs(AsyncIOScheduler(timezone=timezone.utc), store,
                       desired_jobs({"B01": {"theme_party_day"}}), NOW)
        [job] = [j for j in store.get_all_jobs() if j.id == "obligation:theme_party_day:B01"]
        await job.func(*job.args, **job.kwargs)
        # What is stored stays the text reference and plain arguments.
        assert job.__getstate__()["func"] == "bot.runtime.jobs:fire_obligation"
        assert job.__getstate__()["args"] == ("theme_party_day", "B01")
    finally:
        store.engine.dispose()
    assert ours.calls == ([(("B01",), "theme_party_day")] if accepting else [])
    assert other.calls == []
