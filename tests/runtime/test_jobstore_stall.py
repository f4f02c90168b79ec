"""The job store on a stalled database: APScheduler asks it on the event loop, which must never hang on it."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from datetime import datetime, timezone

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

from bot.runtime.jobs import LOOP_RETRY, JobStoreUnavailable, RuntimeJobStore


@pytest.fixture
def stalled(monkeypatch, tmp_path):
    """A store whose database does not answer until `release` is set (a stalled link, not a refused one)."""
    release = threading.Event()
    calls: list[str] = []

    def hanging(name):
        def call(self, *args):  # noqa: ANN001, ANN202
            calls.append(name)
            release.wait()
            return [] if name == "get_due_jobs" else None
        return call

    for name in ("get_due_jobs", "get_next_run_time", "update_job", "remove_job"):
        monkeypatch.setattr(SQLAlchemyJobStore, name, hanging(name))
    store = RuntimeJobStore(f"sqlite:///{tmp_path / 'jobs.db'}", host=object(), loop_call_timeout=0)
    yield store, release, calls
    release.set()


async def test_on_the_loop_a_stalled_store_answers_at_once_and_asks_the_database_once(stalled):
    store, release, calls = stalled
    with pytest.raises(JobStoreUnavailable):
        store.get_due_jobs(datetime.now(timezone.utc))  # APScheduler retries after jobstore_retry_interval
    before = datetime.now(timezone.utc)
    next_run = store.get_next_run_time()
    assert before + LOOP_RETRY <= next_run <= datetime.now(timezone.utc) + LOOP_RETRY, "ask again soon, not never"
    store.update_job(SimpleNamespace(id="obligation:x"))  # logged: the job's old next run time stays; it is idempotent
    store.remove_job("obligation:x")
    assert calls == ["get_due_jobs"], "no second call piles up behind the one still waiting"
    release.set()
    store._waiting.result(timeout=5)  # the stalled call returns once the database answers
    assert store.get_due_jobs(datetime.now(timezone.utc)) == [] and calls == ["get_due_jobs", "get_due_jobs"]


def test_off_the_loop_reconciling_waits_for_the_database(stalled):
    store, release, calls = stalled
    release.set()
    assert store.get_due_jobs(datetime.now(timezone.utc)) == []
    assert calls == ["get_due_jobs"]
