"""Persistent APScheduler jobs: stable ids, text-referenced functions, reconciled with catalog and roster.

PTB's own `Job` objects wrap a callback bound to the application and cannot be pickled, so the
runtime's jobs are plain APScheduler jobs in a separate job store ("branchbot", an SQLAlchemy job store
in the application database). Each job's function is a module-level coroutine named by text
(`bot.runtime.jobs:fire_obligation`) whose stored arguments are plain strings. The store is built by the
running service and hands itself (`JobHost`) to every job it loads as the first argument, so a job finds
its host through that object, not through a module global; it then reloads what it needs from the database.

`misfire_grace_time=None` and `coalesce=True` on every job, deliberately: APScheduler's default grace
of one second would silently drop a run missed while the service was down, and without coalescing a
long outage would replay every missed run. One late run is right because every job is idempotent.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import pickle
import threading
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

JOBSTORE_ALIAS = "branchbot"
JOBSTORE_TABLE = "apscheduler_jobs"
OBLIGATION_PREFIX = "obligation:"
# Interval anchor; each obligation job is offset from it by a stable hash of its id so that a thousand
# organisations' jobs spread over the day instead of firing together.
_ANCHOR = datetime(2024, 1, 1, tzinfo=timezone.utc)


class JobHost(Protocol):
    """What the job functions call on the running service (the one that built the job store)."""

    @property
    def accepting_jobs(self) -> bool: ...

    async def materialise_now(self, *, org_codes: Iterable[str] | None = None, obligation: str | None = None) -> Any: ...

    async def reconcile_if_changed(self) -> Any: ...

    def wake_dispatcher(self) -> None: ...


# Each function's `host` is bound by the `RuntimeJobStore` that loaded the job (None: a job not loaded through
# a host's store, which has nobody to act for). A job already handed to the executor when its term ended
# finds its host no longer accepting jobs.


async def fire_obligation(obligation: str, org_code: str, *, host: JobHost | None = None) -> None:
    """Timer of one obligation of one organisation: bring its activities and reminders up to date."""
    if host is not None and host.accepting_jobs:
        await host.materialise_now(org_codes=[org_code], obligation=obligation)
        host.wake_dispatcher()


async def fire_materialise(*, host: JobHost | None = None) -> None:
    if host is not None and host.accepting_jobs:
        await host.materialise_now()
        host.wake_dispatcher()


async def fire_reconcile(*, host: JobHost | None = None) -> None:
    if host is not None and host.accepting_jobs:
        await host.reconcile_if_changed()


async def fire_dispatch(*, host: JobHost | None = None) -> None:
    """A safety net: the dispatcher wakes itself for due rows; this nudges it regardless."""
    if host is not None and host.accepting_jobs:
        host.wake_dispatcher()


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # "module:function"
    args: tuple[str, ...]
    trigger: BaseTrigger
    name: str


def _spread(job_id: str, period: timedelta) -> datetime:
    offset = zlib.crc32(job_id.encode()) % max(1, int(period.total_seconds()))
    return _ANCHOR + timedelta(seconds=offset)


def obligation_job_id(obligation: str, org_code: str) -> str:
    return f"{OBLIGATION_PREFIX}{obligation}:{org_code}"


# How often the running bot looks for a changed roster or configuration and follows it (the `reconcile` job);
# `catalog accept` and `calendar import --write` tell the operator so (texts.override_written, texts.notice_written).
RECONCILE_EVERY = timedelta(minutes=1)


def desired_jobs(
    obligations_by_org: Mapping[str, Iterable[str]],
    *,
    obligation_every: timedelta = timedelta(days=1),
    materialise_every: timedelta = timedelta(hours=6),
    reconcile_every: timedelta = RECONCILE_EVERY,
    dispatch_every: timedelta = timedelta(seconds=30),
) -> dict[str, JobSpec]:
    """The complete job set for a catalog and roster (pure): one job per enabled obligation per organisation."""
    specs: dict[str, JobSpec] = {}

    def every(period: timedelta, job_id: str) -> IntervalTrigger:
        return IntervalTrigger(seconds=int(period.total_seconds()), start_date=_spread(job_id, period),
                               timezone=timezone.utc)

    for org_code in sorted(obligations_by_org):
        for obligation in sorted(obligations_by_org[org_code]):
            job_id = obligation_job_id(obligation, org_code)
            specs[job_id] = JobSpec(job_id, f"{__name__}:fire_obligation", (obligation, org_code),
                                    every(obligation_every, job_id), f"{obligation} @ {org_code}")
    for job_id, func, period in (
        ("materialise", "fire_materialise", materialise_every),
        ("reconcile", "fire_reconcile", reconcile_every),
        ("dispatch", "fire_dispatch", dispatch_every),
    ):
        specs[job_id] = JobSpec(job_id, f"{__name__}:{func}", (), every(period, job_id), job_id)
    return specs


# How long a job store call made on the event loop may wait for the database, and when to ask again after.
LOOP_CALL_TIMEOUT_SECONDS = 2.0
LOOP_RETRY = timedelta(seconds=10)


class JobStoreUnavailable(Exception):
    """The job store's database did not answer in time (or an earlier call still waits for it)."""


class RuntimeJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy store plus the bulk operations reconciliation needs, owned by one host.

    Reconciling a thousand organisations one `add_job` at a time would be a thousand transactions and a
    thousand unpickled jobs; here ids are compared as text and missing jobs inserted in one statement.
    Every job it loads is bound to `host` (its function's `host` argument); what is stored stays the text
    reference and the plain arguments, so jobs written by another process or term load the same way.
    """

    def __init__(self, url: str, host: JobHost, *, loop_call_timeout: float = LOOP_CALL_TIMEOUT_SECONDS,
                 **kwargs: Any) -> None:
        super().__init__(url=url, tablename=JOBSTORE_TABLE, **kwargs)
        self.host = host
        self.loop_call_timeout = loop_call_timeout
        self._waiting: concurrent.futures.Future[Any] | None = None

    # APScheduler's asyncio scheduler asks its stores synchronously, on the event loop. A stalled database
    # would then hold the whole bot (chat could not even answer DATABASE_BUSY) until it came back: on the loop,
    # each call waits at most `loop_call_timeout`, and none is started while an earlier one still waits.

    def _bounded(self, call: Any, *args: Any) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a worker thread (reconciling): it may wait as long as the database takes
            return call(*args)
        if self._waiting is not None and not self._waiting.done():
            raise JobStoreUnavailable("an earlier job store call is still waiting for the database")
        self._waiting = waiting = concurrent.futures.Future()

        def run() -> None:
            try:
                waiting.set_result(call(*args))
            except BaseException as error:  # noqa: BLE001 - handed to the caller
                waiting.set_exception(error)

        # A daemon thread, not a pool's: one stuck on a stalled database must not hold the process at exit.
        threading.Thread(target=run, name="jobstore-call", daemon=True).start()
        try:
            return self._waiting.result(timeout=self.loop_call_timeout)
        except concurrent.futures.TimeoutError:
            raise JobStoreUnavailable(f"the database did not answer within {self.loop_call_timeout:g} s") \
                from None

    def get_due_jobs(self, now: datetime) -> list[Job]:
        # Raising is APScheduler's documented way to say "try again in jobstore_retry_interval".
        return self._bounded(super().get_due_jobs, now)

    def get_next_run_time(self) -> datetime | None:
        return self._or_else(lambda: datetime.now(timezone.utc) + LOOP_RETRY,
                             "next run time unknown; asking again soon", super().get_next_run_time)

    def update_job(self, job: Job) -> None:
        # Not stored, its next run time stays the old one: the job runs again once the database is back, which
        # is harmless (every job is idempotent and reloads its state when it fires).
        self._or_else(lambda: None, f"{job.id} not updated", super().update_job, job)

    def remove_job(self, job_id: str) -> None:
        self._or_else(lambda: None, f"{job_id} not removed", super().remove_job, job_id)

    def _or_else(self, fallback: Any, what: str, call: Any, *args: Any) -> Any:
        """`call` bounded; when the database is away, log `what` and answer `fallback()` (APScheduler does not
        expect these three to fail)."""
        try:
            return self._bounded(call, *args)
        except (JobStoreUnavailable, OSError, SQLAlchemyError) as error:
            log.warning("job store: %s (%s)", what, error)
            return fallback()

    def _reconstitute_job(self, job_state: bytes) -> Job:
        job = super()._reconstitute_job(job_state)
        # Bound on the loaded copy only: Job.__getstate__ stores `func_ref` (text), never this partial.
        job.func = functools.partial(job.func, host=self.host)
        return job

    def ensure_table(self) -> None:
        self.jobs_t.create(self.engine, checkfirst=True)

    def job_ids(self) -> set[str]:
        with self.engine.begin() as connection:
            return set(connection.execute(select(self.jobs_t.c.id)).scalars())

    def add_jobs_bulk(self, states: list[dict[str, Any]]) -> None:
        """Insert jobs given as APScheduler job states (what `Job.__getstate__()` returns)."""
        rows = [
            {"id": state["id"], "next_run_time": datetime_to_utc_timestamp(state["next_run_time"]),
             "job_state": pickle.dumps(state, self.pickle_protocol)}
            for state in states
        ]
        with self.engine.begin() as connection:
            for start in range(0, len(rows), 500):
                connection.execute(self.jobs_t.insert(), rows[start:start + 500])

    def remove_jobs_bulk(self, job_ids: Iterable[str]) -> None:
        ids = list(job_ids)
        with self.engine.begin() as connection:
            for start in range(0, len(ids), 500):
                connection.execute(delete(self.jobs_t).where(self.jobs_t.c.id.in_(ids[start:start + 500])))


@dataclass(frozen=True)
class ReconcileResult:
    added: int
    removed: int
    kept: int


def reconcile_jobs(scheduler: Any, store: RuntimeJobStore, specs: Mapping[str, JobSpec], now: datetime) -> ReconcileResult:
    """Make the store hold exactly `specs`: add the missing, remove orphans, keep the rest (idempotent).

    A kept job keeps its next run time, so restarting never postpones (or repeats) a timer.
    """
    store.ensure_table()
    existing = store.job_ids()
    missing = [specs[job_id] for job_id in specs.keys() - existing]
    orphans = existing - specs.keys()
    # Building an APScheduler Job validates the function's signature (inspect) each time; that dominates
    # a first start with tens of thousands of jobs. Build one Job per function and derive the others'
    # states from it: the state is plain data (ids, args, trigger), exactly what the store pickles.
    templates: dict[str, dict[str, Any]] = {}
    states = []
    for spec in missing:
        template = templates.get(spec.func)
        if template is None:
            template = Job(
                scheduler, id=spec.id, func=spec.func, args=spec.args, kwargs={}, trigger=spec.trigger,
                executor="default", name=spec.name, misfire_grace_time=None, coalesce=True, max_instances=1,
                next_run_time=spec.trigger.get_next_fire_time(None, now),
            ).__getstate__()
            templates[spec.func] = template
        states.append({**template, "id": spec.id, "args": tuple(spec.args), "trigger": spec.trigger,
                       "name": spec.name, "next_run_time": spec.trigger.get_next_fire_time(None, now)})
    if states:
        store.add_jobs_bulk(states)
    if orphans:
        store.remove_jobs_bulk(orphans)
    if (states or orphans) and getattr(scheduler, "running", False):
        scheduler.wakeup()
    result = ReconcileResult(added=len(states), removed=len(orphans), kept=len(existing & specs.keys()))
    log.info("jobs reconciled: %d added, %d removed, %d kept", result.added, result.removed, result.kept)
    return result
