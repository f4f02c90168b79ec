"""The bot process: the PTB Application (built in one place), leader election and the runtime, until a signal.

Runtime tuning from the environment (all optional; read and checked once by `bot.settings.Settings.from_env`,
turned into the runtime's options by `service_options`):

- `BRANCHBOT_RATE_LIMIT`: `on` (default; Telegram's 30/s, 1/s per chat, 20/min per group) or `off` (a
  self-hosted Bot API server without flood limits; 429 answers are still honoured).
- `BRANCHBOT_QUIET_HOURS`: default `22:00-08:00`; `off` disables.
- `BRANCHBOT_HORIZON_DAYS`: how far ahead activities are materialised (default 60).
- `BRANCHBOT_CONCURRENCY`: the dispatcher's sends in flight at once (default 8).
- `BRANCHBOT_CHAT_CONCURRENCY`: chat updates handled at once (default 16 on PostgreSQL, 8 on SQLite).
- `BRANCHBOT_LEADER_RETRY_SECONDS`: how often a standby tries to take over (default 5).
- `BRANCHBOT_LEADER_LEASE_SECONDS`: the scheduler lease (default 20): a dead or frozen leader is replaced
  after at most this long; it stops sending a quarter of it before that.
- `BRANCHBOT_CHAT_DB_TIMEOUT_SECONDS`: a chat transaction longer than this answers `texts.DATABASE_BUSY` (default 10).
- `BRANCHBOT_RECLAIM_AFTER_SECONDS`: rows a previous leader claimed go back to the queue once claimed this
  long ago (default 120): a leader cut off from the database records what it sent when it is back, so
  an outage shorter than this doubles nothing; after a crash those reminders wait this long.
- `BRANCHBOT_WEBHOOK_URL`, `BRANCHBOT_WEBHOOK_LISTEN`, `BRANCHBOT_WEBHOOK_SECRET`: webhook mode (bot.runtime.intake).
- `BRANCHBOT_HEALTH_LISTEN`: `host:port` of /healthz and /metrics (bot.runtime.health); unset: none.
- `BRANCHBOT_POLL_SECONDS`: the dispatcher's longest sleep between looks at the outbox (default 30); on PostgreSQL
  other processes' commits wake the leader at once (bot.runtime.notify), so this is the fallback.
- `BRANCHBOT_SEND_READ_TIMEOUT_SECONDS` (45), `BRANCHBOT_AMBIGUOUS_RETRY_SECONDS` (60): how long a send waits for
  Telegram's answer, and the pause before a send that may have been delivered is tried again (bot.runtime.sending).
- `BRANCHBOT_CLOCK_START` (testing/sandbox aid only): start the clock at this ISO 8601 instant.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot
from telegram.ext import Application, ApplicationBuilder, JobQueue

from bot import handlers
from bot.callbacks import CallbackSigner
from bot.clock import Clock
from bot.deployment import DeploymentSource
from bot.handlers.common import CHAT_DB_THREADS, ChatContext
from bot.runtime.health import ServiceMetrics, ServiceState, TimedUpdateProcessor, start_health_server
from bot.runtime.intake import ChatIntake, WebhookOptions, parse_listen, webhook_options
from bot.runtime.leader import DEFAULT_LEASE, LeaseLeadership
from bot.runtime.materialise import PlanSource
from bot.runtime.limiter import RateLimiter
from bot.runtime.notify import OutboxListener
from bot.runtime.replies import AnsweringUpdateProcessor, ReplyLimiter
from bot.runtime.sending import SendPolicy, SendTimeouts
from bot.runtime.service import Runtime, RuntimeOptions
from bot.settings import Settings
from storage.db import is_sqlite, make_engine, make_session_factory
from storage.migrate import SchemaWaitStopped, ensure_schema

# Threads besides the chat's that may hold a connection at once: the dispatcher's, the lease's, the metrics'
# and the scheduler's jobs.
RUNTIME_DB_THREADS = 4

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class ServiceOptions:
    runtime: RuntimeOptions
    leader_retry_seconds: float = Settings.leader_retry_seconds
    lease: timedelta = DEFAULT_LEASE
    webhook: WebhookOptions | None = None
    health_listen: tuple[str, int] | None = None


def service_options(settings: Settings, *, limiter_default: bool = True) -> ServiceOptions:
    """The runtime's tuning from the values `settings` read and checked at start (bot.settings); the webhook and
    the health server from the rest of its environment. `limiter_default`: the limiter when
    BRANCHBOT_RATE_LIMIT is unset (the sandbox's is off)."""
    env = settings.environ
    runtime = RuntimeOptions(
        zone=settings.timezone,
        quiet=settings.quiet_hours,
        horizon=settings.horizon,
        concurrency=settings.concurrency,
        limiter_enabled=limiter_default if settings.rate_limit is None else settings.rate_limit,
        poll_seconds=settings.poll_seconds,
        reclaim_after=settings.reclaim_after,
        sending=SendPolicy(timeouts=SendTimeouts(read=settings.send_read_timeout),
                           ambiguous_pause=settings.ambiguous_retry),
    )
    health = env.get("BRANCHBOT_HEALTH_LISTEN") or None
    return ServiceOptions(runtime=runtime, leader_retry_seconds=settings.leader_retry_seconds,
                          lease=settings.leader_lease, webhook=webhook_options(settings),
                          health_listen=parse_listen(health, "BRANCHBOT_HEALTH_LISTEN") if health else None)


def file_base_url(base_url: str) -> str:
    """PTB's base_file_url for a Bot API base such as http://host:8081/bot → http://host:8081/file/bot."""
    trimmed = base_url.rstrip("/")
    if trimmed.endswith("/bot"):
        return trimmed[: -len("/bot")] + "/file/bot"
    return trimmed + "/file"


def build_application(
    settings: Settings, clock: Clock, *, session_factory: sessionmaker[Session] | None = None,
    schedule_chat_jobs: bool = True, update_latency: Any | None = None,
    timeouts: SendTimeouts = SendTimeouts(),
    config: DeploymentSource | None = None, limiter: RateLimiter | None = None,
) -> Application:
    """The PTB Application: token, optional self-hosted Bot API, job queue, and the chat layer's handlers.

    Handlers come from `bot.handlers.register(application, chat)` (given a `ChatContext` on
    `session_factory`), `settings.chat_updates_at_once` updates at a time. `application.bot_data` holds the
    `clock`, the `settings`, the `chat` context and the dispatcher's `renderers` (every outbox kind's, with the chat's buttons: `bot.handlers.outbox_renderers`).
    `config` is the deployment's configuration the runtime plans from (default: read from `settings`).
    With `limiter` (the dispatcher's, one per process), handler replies are paced and floods get one answer
    (bot.runtime.replies); `shared_limiter(application)` gives it back for the Runtime.
    """
    if not settings.telegram_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is required for the real bot")
    builder = ApplicationBuilder().token(settings.telegram_token).job_queue(JobQueue())
    if settings.telegram_api_base_url:
        builder = builder.base_url(settings.telegram_api_base_url).base_file_url(
            file_base_url(settings.telegram_api_base_url))
    # Handlers' replies go through the aiohttp transport too: PTB's default (httpx) costs more CPU per call
    # than the rest of a check-in press (bench/bench_checkin.py: ~2 ms less per press). The long poll keeps
    # PTB's own request. Replies run `chat_concurrency` at a time next to the long poll; each gets its own
    # connection. Its timeouts are the sends' (bot.runtime.sending): a reply is a send too.
    chat_concurrency = settings.chat_updates_at_once
    builder = builder.request(timeouts.request(max(16, chat_concurrency * 2)))
    # Updates are handled `chat_concurrency` at a time (PTB's default is one by one): while one press waits on
    # Telegram, the next one's checks run (bench/bench_checkin.py, SQLite: ~370 -> ~500 presses/s). Safe here:
    # no ConversationHandler, every handler rereads its state in its own transaction, and the services are
    # written for racing presses (insert-or-nothing check-ins, one-shot decisions).
    # With `update_latency` (a prometheus Histogram), each update's handling time is observed.
    builder = builder.concurrent_updates(TimedUpdateProcessor(chat_concurrency, update_latency)
                                         if update_latency is not None else AnsweringUpdateProcessor(chat_concurrency))
    if limiter is not None:
        builder = builder.rate_limiter(ReplyLimiter(limiter))
    application = builder.build()
    application.bot_data["clock"] = clock
    application.bot_data["settings"] = settings
    if session_factory is not None:
        chat = ChatContext(session_factory=session_factory, clock=clock, zone=settings.timezone,
                           signer=CallbackSigner.from_token(settings.telegram_token),
                           config=config if config is not None else DeploymentSource(settings),
                           quiet=settings.quiet_hours, db_timeout=settings.chat_db_timeout)
        application.bot_data["chat"] = chat
        handlers.register(application, chat, schedule_jobs=schedule_chat_jobs)
        # Checked here, at start-up: a kind without a renderer refuses to build (MissingRenderers).
        application.bot_data["renderers"] = handlers.outbox_renderers(chat, application)
    return application


def shared_limiter(application: Application) -> RateLimiter | None:
    """The limiter the Application's replies share with the dispatcher (None: replies are not limited)."""
    replies = application.bot.rate_limiter
    return replies.limiter if isinstance(replies, ReplyLimiter) else None


def outbox_bot(settings: Settings, *, concurrency: int = 8, timeouts: SendTimeouts = SendTimeouts(),
               may_write: Callable[[], bool] | None = None) -> Bot:
    """The Bot the dispatcher sends with: same token and Bot API, PTB's errors, an aiohttp transport that asks
    `may_write` (the lease still trusted) at the last moment before each request is written."""
    kwargs: dict[str, Any] = {}
    if settings.telegram_api_base_url:
        kwargs["base_url"] = settings.telegram_api_base_url
        kwargs["base_file_url"] = file_base_url(settings.telegram_api_base_url)
    return Bot(settings.telegram_token or "", request=timeouts.request(max(4, concurrency + 2), may_write=may_write),
               **kwargs)


def telegram_sender(application: Application, bot: Bot | None = None) -> Callable[[int, str, Any], Any]:
    """Sends through PTB's request layer (its errors, timeouts, base_url) of `bot` (default: the app's).

    The reply is used only for its message id, so it is read as the raw JSON result rather than turned
    into a `telegram.Message` — building that object costs about as much CPU as the send itself.
    """
    sender = bot or application.bot
    post = getattr(sender, "_post", None)  # PTB's internal request method (stable through v22)

    async def send(chat_id: int, text: str, reply_markup: Any) -> int:
        if post is None:  # pragma: no cover - a future PTB without it
            message = await sender.send_message(chat_id=chat_id, text=text, reply_markup=reply_markup)
            return message.message_id
        data: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if reply_markup is not None:
            data["reply_markup"] = reply_markup
        result = await post("sendMessage", data)
        return int(result["message_id"])

    return send


# Database work runs in threads next to the event loop; a short GIL slice keeps each hand-off from costing up to
# the default 5 ms (a serving process is I/O bound, so the extra switching is cheap).
SWITCH_INTERVAL_SECONDS = 0.0005


def serving_interpreter() -> None:
    """The interpreter's thread switching for a serving process (`branchbot run`, and the benches that stand in
    for it)."""
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)


def freeze_start_up_objects() -> None:
    """Once the bot has started, what exists lives as long as the process (modules, SQLAlchemy's metadata and
    statement caches, PTB's handlers, the catalog: ~220,000 objects); moved out of the cyclic collector's reach
    (gc.freeze), a full collection costs ~10 ms of CPU instead of ~160 ms, a pause every update in flight waited
    behind (bench/bench_checkin.py's full_collection_ms, with and without --no-freeze). Only for a process that starts once: frozen garbage is never collected."""
    gc.collect()
    gc.freeze()


@dataclass
class RunningBot:
    """The started Application (handlers, polling) and Runtime (scheduler, materialiser, dispatcher)."""

    application: Application
    runtime: Runtime
    sender_bot: Bot | None = None

    async def stop(self) -> None:
        """Stop polling, then sending (queued messages go back to the outbox), then the Application."""
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        await self.runtime.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        if self.sender_bot is not None:
            await self.sender_bot.shutdown()


async def start_bot(
    settings: Settings, clock: Clock, sessions: sessionmaker[Session], *, options: RuntimeOptions,
    plan: PlanSource | None, sender_bot: Bot | None = None, config: DeploymentSource | None = None,
) -> RunningBot:
    """The one way the bot starts, for `branchbot run` and the sandbox alike: build the Application, start the
    Runtime (this process holds the leader lock), then the Application and its polling."""
    application = build_application(settings, clock, session_factory=sessions,
                                    timeouts=options.sending.timeouts, config=config,
                                    limiter=RateLimiter(enabled=options.limiter_enabled))
    try:
        await application.initialize()
        if sender_bot is not None:
            await sender_bot.initialize()
    except BaseException:
        await close_transports(application.bot, sender_bot)
        raise
    runtime = Runtime(
        database_url=settings.database_url, session_factory=sessions, clock=clock,
        send=telegram_sender(application, sender_bot), renderers=application.bot_data["renderers"],
        options=options, plan=plan,
        scheduler=application.job_queue.scheduler if application.job_queue else None,
        limiter=shared_limiter(application),
    )
    application.bot_data["runtime"] = runtime
    await runtime.start()
    await application.start()
    if application.handlers and application.updater is not None:
        await application.updater.start_polling(poll_interval=0.0, drop_pending_updates=False)
    return RunningBot(application, runtime, sender_bot)


async def serve(
    settings: Settings, clock: Clock, stop: asyncio.Event, *, options: ServiceOptions,
    plan: PlanSource | None = None, config: DeploymentSource | None = None,
) -> int:
    """Answer chat and, whenever this process holds the scheduler lease, run the scheduler and the dispatcher.

    Losing the lease (the database away, a freeze, a standby that took over) stops sending and goes back to
    trying to lead; it never ends the process. Returns the exit code once `stop` is set.
    """
    serving_interpreter()
    await _schema_when_reachable(settings.database_url, stop)
    if stop.is_set():
        return 0
    # SQLAlchemy's default pool keeps 5 connections: with 8 chat threads (however many updates are handled at
    # once, only CHAT_DB_THREADS of them hold a connection), the dispatcher's, the lease's and the
    # metrics' threads busy in a burst, every connection past 5 was closed when returned and opened again for the
    # next update (13 new connections per 300-press burst in bench_webhook, each a TCP+auth handshake in the bot
    # and a fresh PostgreSQL backend with cold caches). Keep enough open for all of them at once.
    engine = make_engine(settings.database_url, **({} if is_sqlite(settings.database_url)
                                                   else {"pool_size": CHAT_DB_THREADS + RUNTIME_DB_THREADS}))
    sessions = make_session_factory(engine, origin=options.runtime.worker)
    state = ServiceState(mode="webhook" if options.webhook else "polling", holder=options.runtime.worker)
    leadership = LeaseLeadership(sessions, options.runtime.worker, lease=options.lease)
    metrics = ServiceMetrics(state, sessions, clock)
    try:
        application = build_application(settings, clock, session_factory=sessions,
                                        update_latency=metrics.update_latency,
                                        timeouts=options.runtime.sending.timeouts, config=config,
                                        limiter=RateLimiter(enabled=options.runtime.limiter_enabled))
        state.replies = application.bot.rate_limiter
        sender_bot = outbox_bot(settings, concurrency=options.runtime.concurrency,
                                timeouts=options.runtime.sending.timeouts, may_write=leadership.valid)
        try:
            async with application, sender_bot:
                freeze_start_up_objects()
                intake = ChatIntake(application, options.webhook, state)
                health = await start_health_server(options.health_listen, state, sessions, metrics)
                try:
                    await application.start()
                    if options.webhook is not None:
                        await intake.start()  # every process answers webhook updates, leader or not
                    await _lead_while_running(application, telegram_sender(application, sender_bot), settings,
                                              sessions, clock, stop, options, plan, leadership, intake, state)
                finally:
                    await intake.stop()
                    if application.running:
                        await application.stop()
                    if health is not None:
                        await health.cleanup()
        finally:
            # After a failed start (token rejected, address unreachable) PTB's shutdown does nothing, which
            # would leave the transports' sessions open ("Unclosed client session"): close them here.
            await close_transports(application.bot, sender_bot)
        return 0
    finally:
        await asyncio.to_thread(leadership.release)
        engine.dispose()


async def close_transports(*bots: Bot | None) -> None:
    """Close the HTTP sessions of these bots' transports (idempotent; safe after a failed initialize)."""
    for bot in bots:
        if bot is not None:
            await bot.request.shutdown()


async def ensure_schema_unless_stopped(url: str, stop: asyncio.Event) -> bool:
    """`ensure_schema` in a worker thread that `stop` ends while it waits for another process's schema change
    (the thread sees it as `stopping`; nothing changed then): True once the schema is current, False if stopped.
    The one stoppable wait for the schema, of `branchbot run` and the sandbox."""
    stopping = threading.Event()
    watch = asyncio.ensure_future(stop.wait())
    watch.add_done_callback(lambda _: stopping.set())
    try:
        await asyncio.to_thread(ensure_schema, url, stopping)
        return True
    except SchemaWaitStopped:
        return False
    finally:
        watch.cancel()


async def _schema_when_reachable(url: str, stop: asyncio.Event, retry_seconds: float = 5.0) -> None:
    """Bring the schema up to date, waiting (not exiting) while the database cannot be reached; `stop` ends
    the wait, also for another process's migration."""
    announced = False
    while not stop.is_set():
        try:
            await ensure_schema_unless_stopped(url, stop)
            return
        except OperationalError as error:
            if not announced:
                log.warning("database unreachable at start (%s); waiting for it", type(error).__name__)
                announced = True
        await _stopped_within(stop, retry_seconds)


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    """The loops' one pause: up to `seconds`, ended early by `stop` (True: it was set; False: the time ran out).
    A stop already set answers True even when no time is left (asyncio.wait_for with 0 s would time out first)."""
    if stop.is_set():
        return True
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        return False
    return True


async def _lead_while_running(
    application: Application, send: Callable[[int, str, Any], Any], settings: Settings, sessions: sessionmaker[Session], clock: Clock,
    stop: asyncio.Event, options: ServiceOptions, plan: PlanSource | None, leadership: LeaseLeadership,
    intake: ChatIntake, state: ServiceState,
) -> None:
    """Follow, lead, lose, follow again … until `stop`."""
    while not stop.is_set():
        if not await _wait_to_lead(leadership, stop, options.leader_retry_seconds, intake, state):
            return
        fence = leadership.fence
        assert fence is not None
        state.became_leader(fence.term)
        log.info("leader: term %d: this process runs the scheduler and the dispatcher", fence.term)
        runtime = Runtime(
            database_url=settings.database_url, session_factory=sessions, clock=clock,
            send=send, renderers=application.bot_data["renderers"], options=options.runtime,
            plan=plan, scheduler=application.job_queue.scheduler if application.job_queue else None,
            fence=fence, may_send=leadership.valid, limiter=shared_limiter(application),
        )
        application.bot_data["runtime"] = runtime
        state.runtime = runtime
        listening = _listen_for_commits(application, settings.database_url, options.runtime.worker, state)
        # The lease is renewed from the moment it is won: starting (reclaiming, reconciling jobs, the first
        # getUpdates' deleteWebhook) can take longer than a lease on a slow Bot API, and a term that ran out
        # while starting would be taken again by this process with its first sends still in flight.
        holding = asyncio.ensure_future(_hold_lease(leadership, stop))
        starting = asyncio.ensure_future(_start_leading(runtime, intake, options))
        try:
            await asyncio.wait({holding, starting}, return_when=asyncio.FIRST_COMPLETED)
            if not starting.done():  # the lease was lost (or `stop`) before the start finished
                starting.cancel()
                await asyncio.gather(starting, return_exceptions=True)
            else:
                starting.result()
            lost = await holding
        except Exception:  # noqa: BLE001 - e.g. the database went away while starting: follow, try again
            log.exception("leader: starting the scheduler failed; giving the lease up and trying again")
            lost = True
        finally:
            # Neither task outlives this term, also when this coroutine itself is cancelled.
            for task in (holding, starting):
                if not task.done():
                    task.cancel()
            await asyncio.gather(holding, starting, return_exceptions=True)
        if lost:
            log.warning("leader: lost the scheduler lease (term %d); stopping sending, then trying to lead again",
                        fence.term)
            leadership.lose()
        try:
            # Sends already made are recorded before this returns (waiting for the database if it is away).
            await runtime.stop()
        finally:
            if listening is not None:
                await listening.stop()  # bounded, also on a frozen link
                state.listener = None
        state.stopped_leading(runtime)
        if application.bot_data.get("runtime") is runtime:
            application.bot_data["runtime"] = None


async def _start_leading(runtime: Runtime, intake: ChatIntake, options: ServiceOptions) -> None:
    await runtime.start()
    if options.webhook is None:
        await intake.start()  # polling: one consumer per token, the leader


def _listen_for_commits(application: Application, database_url: str, worker: str,
                        state: ServiceState) -> OutboxListener | None:
    """PostgreSQL: while leading, hear what followers and the command line committed (bot.runtime.notify),
    so their confirmations and change notices go out at once; /healthz shows whether it listens (`state`).
    SQLite: None (one process; the dispatcher polls)."""
    after_commit = application.bot_data.get("after_commit")
    if is_sqlite(database_url) or after_commit is None:
        return None
    listener = OutboxListener(database_url, after_commit.heard, own_origin=worker)
    state.listener = listener
    listener.start()
    return listener


async def _wait_to_lead(leadership: LeaseLeadership, stop: asyncio.Event, retry_seconds: float,
                        intake: ChatIntake, state: ServiceState) -> bool:
    """Try for the lease until won (True) or `stop` (False). A poller stops polling once another process leads."""
    announced = False
    attempt: asyncio.Future[bool] | None = None
    while not stop.is_set():
        # One attempt at a time: on a stalled database it stays pending, and is not piled up behind.
        if attempt is None:
            attempt = asyncio.ensure_future(asyncio.to_thread(leadership.try_acquire))
        done, _ = await asyncio.wait({attempt}, timeout=max(1.0, retry_seconds * 2))
        if done:
            finished, attempt = attempt, None
            try:
                if finished.result():
                    return True
                state.role = "follower"
                if intake.polling:
                    log.info("polling: another process leads now; it receives the updates")
                    await intake.stop()
                if not announced:
                    log.info("leader: another branchbot scheduler is running on this database; waiting to take over")
                    announced = True
            except Exception as error:  # noqa: BLE001 - database unreachable: keep waiting
                state.role = "unknown"
                log.warning("leader: could not reach the database to try the lease (%s); trying again",
                            type(error).__name__)
        else:
            state.role = "unknown"
        await _stopped_within(stop, retry_seconds)
    return False


async def _hold_lease(leadership: LeaseLeadership, stop: asyncio.Event) -> bool:
    """Renew the lease until `stop` (False) or until it is lost or no longer trusted (True)."""
    renewal: asyncio.Future[bool] | None = None
    while True:
        if await _stopped_within(stop, min(leadership.renew_seconds, leadership.seconds_left())):
            return False
        if not leadership.valid():
            return True
        if renewal is None:
            renewal = asyncio.ensure_future(asyncio.to_thread(leadership.renew))
        # Bounded by what is left of the lease: a stalled database must not keep us waiting past it.
        done, _ = await asyncio.wait({renewal}, timeout=max(0.05, leadership.seconds_left()))
        if not done:
            log.warning("leader: renewing the lease is taking long; %.1f s of it left", leadership.seconds_left())
            continue
        finished, renewal = renewal, None
        try:
            renewed = finished.result()
        except Exception as error:  # noqa: BLE001 - database away: the lease decides
            log.warning("leader: renewing the lease failed (%s); %.1f s of it left",
                        type(error).__name__, leadership.seconds_left())
            continue
        if not renewed:
            return True
