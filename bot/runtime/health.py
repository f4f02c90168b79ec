"""Health and metrics on a small HTTP port: /healthz (JSON) and /metrics (Prometheus, the official client)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.runtime.replies import AnsweringUpdateProcessor
from storage import models
from storage.db import transaction
from storage.models import OutboxState
from storage.repositories import leadership as lease_repo

log = logging.getLogger(__name__)

# A stalled database must not stall the health answer: past this, it counts as unreachable.
DATABASE_TIMEOUT_SECONDS = 2.0
# Dispatcher statistics exported as counters: attribute of DispatchStats -> metric name and help.
DISPATCH_COUNTERS = {
    "sent": ("branchbot_outbox_sent", "Messages sent and recorded (rate() gives sends per second)"),
    "rate_limited": ("branchbot_telegram_429", "429 Too Many Requests answers from Telegram"),
    "retried": ("branchbot_outbox_retries", "Sends retried after a network error, a timeout or a 5xx"),
    "timeouts": ("branchbot_send_timeouts", "Sends (outbox and replies) with no answer within the read timeout"),
    "ambiguous": ("branchbot_outbox_ambiguous",
                  "Outbox sends that failed after the request was written (timeout, 5xx, broken connection): "
                  "Telegram may have delivered them, so their retry may be a second copy"),
    "failed": ("branchbot_outbox_failed", "Sends given up (blocked, chat gone, bad request, too many attempts)"),
    "skipped": ("branchbot_outbox_skipped", "Rows closed without sending (answered, cancelled, unreachable)"),
    "missed": ("branchbot_outbox_missed", "Reminders recorded as missed after downtime"),
}


@dataclass
class ServiceState:
    """What this process is doing, for /healthz and /metrics (one per `serve`)."""

    mode: str  # "webhook" or "polling"
    holder: str
    role: str = "starting"  # "leader", "follower", or "unknown" while the database cannot be asked
    term: int | None = None
    runtime: Any | None = None  # the current term's Runtime while leading
    replies: Any | None = None  # the Application's ReplyLimiter (bot.runtime.replies), for its counters
    listener: Any | None = None  # the current term's OutboxListener (bot.runtime.notify): PostgreSQL, leading
    leadership_changes: int = 0
    polling_conflicts: int = 0
    started_at: float = field(default_factory=time.time)
    _finished_totals: dict[str, int] = field(default_factory=dict)

    def became_leader(self, term: int) -> None:
        self.role, self.term = "leader", term
        self.leadership_changes += 1

    def stopped_leading(self, runtime: Any) -> None:
        """A term ended: keep its counters (each term has a fresh dispatcher)."""
        stats = getattr(getattr(runtime, "dispatcher", None), "stats", None)
        for name, value in _numeric_fields(stats):
            self._finished_totals[name] = self._finished_totals.get(name, 0) + value
        if self.runtime is runtime:
            self.runtime = None
        self.role, self.term = "follower", None
        self.leadership_changes += 1

    def dispatch_totals(self) -> dict[str, int]:
        totals = dict(self._finished_totals)
        stats = getattr(getattr(self.runtime, "dispatcher", None), "stats", None)
        for name, value in _numeric_fields(stats):
            totals[name] = totals.get(name, 0) + value
        return totals

    def last_tick(self) -> float | None:
        """time.time() of the dispatcher's last look at the outbox (leader only)."""
        return getattr(getattr(self.runtime, "dispatcher", None), "last_pass", None)


def _numeric_fields(stats: Any) -> Iterator[tuple[str, int]]:
    if stats is None:
        return
    names = [f.name for f in fields(stats)] if hasattr(stats, "__dataclass_fields__") else list(vars(stats))
    for name in names:
        value = getattr(stats, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            yield name, value


class TimedUpdateProcessor(AnsweringUpdateProcessor):
    """The concurrent update processor (each update's replies known as such), observing how long each takes."""

    def __init__(self, max_concurrent_updates: int, histogram: Histogram) -> None:
        super().__init__(max_concurrent_updates)
        self._histogram = histogram

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        started = time.perf_counter()
        try:
            await super().do_process_update(update, coroutine)
        finally:
            self._histogram.observe(time.perf_counter() - started)


@dataclass(frozen=True)
class DatabaseSnapshot:
    reachable: bool
    schema: str | None = None
    by_state_kind: dict[tuple[str, str], int] = field(default_factory=dict)
    oldest_due: datetime | None = None
    lease: lease_repo.LeaseView | None = None
    error: str | None = None


def read_database(sessions: sessionmaker[Session], now: datetime) -> DatabaseSnapshot:
    """One short read of what health and metrics report (blocking; run it in a thread)."""
    row = models.OutboxMessage
    with transaction(sessions) as session:
        schema = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        counts = {(state, kind): count for state, kind, count in session.execute(
            select(row.state, row.kind, func.count()).group_by(row.state, row.kind))}
        oldest = session.scalar(select(func.min(row.due_at)).where(
            row.state.in_([OutboxState.PENDING.value, OutboxState.CLAIMED.value]), row.due_at <= now))
        lease = lease_repo.view(session)
    return DatabaseSnapshot(True, schema, counts, oldest, lease)


class ServiceMetrics(Collector):
    """This process's Prometheus registry: an update-latency histogram, and the rest read at scrape time."""

    def __init__(self, state: ServiceState, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.state = state
        self.sessions = sessions
        self.clock = clock
        self.registry = CollectorRegistry()
        self.update_latency = Histogram(
            "branchbot_update_handling_seconds", "Time to handle one Telegram update (commands, button presses)",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0), registry=self.registry)
        self.registry.register(self)
        self._snapshot: DatabaseSnapshot | None = None

    async def refresh(self) -> DatabaseSnapshot:
        try:
            snapshot = await asyncio.wait_for(
                asyncio.to_thread(read_database, self.sessions, self.clock.now()), DATABASE_TIMEOUT_SECONDS)
        except Exception as error:  # noqa: BLE001 - the answer is "unreachable", with the reason
            snapshot = DatabaseSnapshot(False, error=f"{type(error).__name__}: {error}"[:300])
        self._snapshot = snapshot
        return snapshot

    def collect(self) -> Iterator[Any]:
        state, snapshot = self.state, self._snapshot
        up = GaugeMetricFamily("branchbot_database_up", "1 when the last look at the database succeeded")
        up.add_metric([], 1.0 if snapshot is not None and snapshot.reachable else 0.0)
        yield up
        leader = GaugeMetricFamily("branchbot_leader", "1 while this process holds the scheduler lease")
        leader.add_metric([], 1.0 if state.role == "leader" else 0.0)
        yield leader
        changes = CounterMetricFamily("branchbot_leadership_changes", "Times this process started or stopped leading")
        changes.add_metric([], state.leadership_changes)
        yield changes
        conflicts = CounterMetricFamily("branchbot_polling_conflicts", "409 Conflict answers to getUpdates")
        conflicts.add_metric([], state.polling_conflicts)
        yield conflicts
        totals = state.dispatch_totals()
        replies = state.replies
        # A reply that timed out is a send that timed out too (never retried: PTB does not).
        totals["timeouts"] = totals.get("timeouts", 0) + (getattr(replies, "timeouts", 0) or 0)
        dropped = CounterMetricFamily("branchbot_replies_dropped",
                                      "Handler replies not sent: a chat's new update within a second of the last "
                                      "answered one (a flood gets one answer)")
        dropped.add_metric([], getattr(replies, "dropped", 0) or 0)
        yield dropped
        for attribute, (name, help_text) in DISPATCH_COUNTERS.items():
            counter = CounterMetricFamily(name, help_text)
            counter.add_metric([], totals.get(attribute, 0))
            yield counter
        if snapshot is None or not snapshot.reachable:
            return
        rows = GaugeMetricFamily("branchbot_outbox_rows", "Outbox rows by state and kind", labels=["state", "kind"])
        for (row_state, kind), count in sorted(snapshot.by_state_kind.items()):
            rows.add_metric([row_state, kind], count)
        yield rows
        lag = GaugeMetricFamily("branchbot_dispatcher_lag_seconds",
                                "Age of the oldest due row not yet sent (0 when nothing is waiting)")
        lag.add_metric([], _age(snapshot.oldest_due, self.clock.now()) or 0.0)
        yield lag


def _age(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else max(0.0, (now - moment).total_seconds())


def health_report(state: ServiceState, snapshot: DatabaseSnapshot, now: datetime, head: str) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of /healthz: 200 when the database is reachable and on this code's schema."""
    tick = state.last_tick()
    body: dict[str, Any] = {
        "status": "ok",
        "mode": state.mode,
        "role": state.role,
        "term": state.term,
        "database": {"reachable": snapshot.reachable, "schema": snapshot.schema, "expected_schema": head},
        "last_scheduler_tick_age_seconds": None if tick is None else round(max(0.0, time.time() - tick), 3),
        "oldest_due_outbox_age_seconds": _age(snapshot.oldest_due, now),
        "polling_conflicts": state.polling_conflicts,
        # null: this process hears no NOTIFY (SQLite, or not leading); false: reconnecting, the dispatcher polls.
        "notify_listening": None if state.listener is None else bool(state.listener.listening),
    }
    if snapshot.lease is not None:
        body["leader"] = {"term": snapshot.lease.term, "holder": snapshot.lease.holder,
                          "renewed_age_seconds": _age(snapshot.lease.renewed_at, snapshot.lease.database_now)}
    if not snapshot.reachable:
        body["status"] = "database unreachable"
        body["database"]["error"] = snapshot.error
        return 503, body
    if snapshot.schema != head:
        body["status"] = "schema mismatch: run branchbot init"
        return 503, body
    return 200, body


async def start_health_server(listen: tuple[str, int] | None, state: ServiceState,
                              sessions: sessionmaker[Session], metrics: ServiceMetrics) -> web.AppRunner | None:
    """Serve /healthz and /metrics on `listen`; None when not configured. A busy port is logged, not fatal."""
    if listen is None:
        return None
    from storage.migrate import head

    expected = head()

    async def healthz(_request: web.Request) -> web.Response:
        snapshot = await metrics.refresh()
        status, body = health_report(state, snapshot, metrics.clock.now(), expected)
        return web.Response(status=status, text=json.dumps(body, ensure_ascii=False, default=str),
                            content_type="application/json")

    async def prometheus(_request: web.Request) -> web.Response:
        await metrics.refresh()
        payload = generate_latest(metrics.registry)
        return web.Response(body=payload, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, listen[0], listen[1]).start()
    except OSError as error:
        log.error("health: cannot listen on %s:%d (%s); running without /healthz and /metrics", *listen, error)
        await runner.cleanup()
        return None
    log.info("health: /healthz and /metrics on %s:%d", *listen)
    return runner
