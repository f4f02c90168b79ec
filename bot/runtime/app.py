"""The bot process: the PTB Application (built in one place), leader election and the runtime, until a signal.

Runtime tuning from the environment (all optional; read here because only `branchbot run` needs them):

- `BRANCHBOT_RATE_LIMIT`: `on` (default; Telegram's 30/s, 1/s per chat, 20/min per group) or `off` (a
  self-hosted Bot API server without flood limits; 429 answers are still honoured).
- `BRANCHBOT_QUIET_HOURS`: default `22:00-08:00`; `off` disables.
- `BRANCHBOT_HORIZON_DAYS`: how far ahead activities are materialised (default 60).
- `BRANCHBOT_CONCURRENCY`: sends in flight at once (default 8).
- `BRANCHBOT_LEADER_RETRY_SECONDS`: how often a standby tries to take over (default 5).
- `BRANCHBOT_POLL_SECONDS`: the dispatcher's longest sleep between looks at the outbox (default 30).
- `BRANCHBOT_CLOCK_START` (testing/sandbox aid only): start the clock at this ISO 8601 instant.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot
from telegram.ext import Application, ApplicationBuilder, JobQueue

from bot.clock import Clock
from bot.runtime.leader import leader_lock_for, wait_for_leadership
from bot.runtime.materialise import PlanSource
from bot.runtime.quiet_hours import quiet_hours_from_env
from bot.runtime.service import Runtime, RuntimeOptions
from bot.runtime.transport import AiohttpRequest
from bot.settings import Settings
from storage.db import make_engine, make_session_factory

log = logging.getLogger(__name__)

# Extension point: functions called with the Application after it is built (the chat layer's handlers).
APPLICATION_HOOKS: list[Callable[[Application], None]] = []


@dataclass(frozen=True)
class ServiceOptions:
    runtime: RuntimeOptions
    leader_retry_seconds: float = 5.0
    leadership_check_seconds: float = 5.0


def options_from_env(settings: Settings, environ: Mapping[str, str] | None = None) -> ServiceOptions:
    env = os.environ if environ is None else environ
    limiter = (env.get("BRANCHBOT_RATE_LIMIT") or "on").strip().lower() not in {"off", "0", "false", "no"}
    runtime = RuntimeOptions(
        zone=settings.timezone,
        quiet=quiet_hours_from_env(env),
        horizon=timedelta(days=float(env.get("BRANCHBOT_HORIZON_DAYS") or 60)),
        concurrency=int(env.get("BRANCHBOT_CONCURRENCY") or 8),
        limiter_enabled=limiter,
        poll_seconds=float(env.get("BRANCHBOT_POLL_SECONDS") or 30),
    )
    retry = float(env.get("BRANCHBOT_LEADER_RETRY_SECONDS") or 5)
    return ServiceOptions(runtime=runtime, leader_retry_seconds=retry, leadership_check_seconds=retry)


def file_base_url(base_url: str) -> str:
    """PTB's base_file_url for a Bot API base such as http://host:8081/bot → http://host:8081/file/bot."""
    trimmed = base_url.rstrip("/")
    if trimmed.endswith("/bot"):
        return trimmed[: -len("/bot")] + "/file/bot"
    return trimmed + "/file"


def build_application(
    settings: Settings, clock: Clock, *, session_factory: sessionmaker[Session] | None = None,
    concurrency: int = 8, schedule_chat_jobs: bool = True,
) -> Application:
    """The PTB Application: token, optional self-hosted Bot API, job queue, and the chat layer's handlers.

    Handlers come from `bot.handlers.register(application, chat)` (given a `ChatContext` on
    `session_factory`), then from `APPLICATION_HOOKS`. `application.bot_data["clock"]` is the clock.
    """
    if not settings.telegram_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is required for the real bot")
    builder = ApplicationBuilder().token(settings.telegram_token).job_queue(JobQueue())
    if settings.telegram_api_base_url:
        builder = builder.base_url(settings.telegram_api_base_url).base_file_url(
            file_base_url(settings.telegram_api_base_url))
    # Handlers' replies go through the aiohttp transport too: PTB's default (httpx) costs more CPU per call
    # than the rest of a check-in press (bench/bench_checkin.py: ~2 ms less per press). The long poll keeps
    # PTB's own request. Sends run `concurrency` at a time next to the long poll; each gets its own connection.
    builder = builder.request(AiohttpRequest(connection_pool_size=max(16, concurrency * 2), pool_timeout=10.0))
    # Updates are handled `concurrency` at a time (PTB's default is one by one): while one press waits on
    # Telegram, the next one's checks run (bench/bench_checkin.py, SQLite: ~370 -> ~500 presses/s). Safe here:
    # no ConversationHandler, every handler rereads its state in its own transaction, and the services are
    # written for racing presses (insert-or-nothing check-ins, one-shot decisions).
    builder = builder.concurrent_updates(concurrency)
    application = builder.build()
    application.bot_data["clock"] = clock
    application.bot_data["settings"] = settings
    try:
        handlers = importlib.import_module("bot.handlers")
    except ImportError:
        handlers = None
    register = getattr(handlers, "register", None)
    if callable(register) and session_factory is not None:
        from bot.callbacks import CallbackSigner
        from bot.handlers.common import ChatContext

        chat = ChatContext(session_factory=session_factory, clock=clock, zone=settings.timezone,
                           signer=CallbackSigner.from_token(settings.telegram_token),
                           config_dir=settings.config_dir, quiet=quiet_hours_from_env())
        application.bot_data["chat"] = chat
        register(application, chat, schedule_jobs=schedule_chat_jobs)
    for hook in APPLICATION_HOOKS:
        hook(application)
    return application


def outbox_bot(settings: Settings, *, concurrency: int = 8) -> Bot:
    """The Bot the dispatcher sends with: same token and Bot API, PTB's errors, an aiohttp transport."""
    kwargs: dict[str, Any] = {}
    if settings.telegram_api_base_url:
        kwargs["base_url"] = settings.telegram_api_base_url
        kwargs["base_file_url"] = file_base_url(settings.telegram_api_base_url)
    return Bot(settings.telegram_token or "", request=AiohttpRequest(connection_pool_size=max(4, concurrency + 2)),
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


def _ensure_schema(url: str) -> None:
    try:
        from storage.migrate import ensure_schema
    except ImportError:  # pragma: no cover - the migration module is part of the project
        from storage.models import Base

        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        return
    ensure_schema(url)


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
    plan: PlanSource | None, sender_bot: Bot | None = None,
) -> RunningBot:
    """The one way the bot starts, for `branchbot run` and the sandbox alike: build the Application, start the
    Runtime (this process holds the leader lock), then the Application and its polling."""
    application = build_application(settings, clock, session_factory=sessions, concurrency=options.concurrency)
    await application.initialize()
    if sender_bot is not None:
        await sender_bot.initialize()
    runtime = Runtime(
        database_url=settings.database_url, session_factory=sessions, clock=clock,
        send=telegram_sender(application, sender_bot), options=options, plan=plan,
        scheduler=application.job_queue.scheduler if application.job_queue else None,
    )
    application.bot_data["runtime"] = runtime
    await runtime.start()
    await application.start()
    if application.handlers and application.updater is not None:
        await application.updater.start_polling(poll_interval=0.0, drop_pending_updates=False)
    return RunningBot(application, runtime, sender_bot)


async def serve(
    settings: Settings, clock: Clock, stop: asyncio.Event, *, options: ServiceOptions,
    plan: PlanSource | None = None,
) -> int:
    """Wait to lead, then run the bot and its scheduler until `stop` is set. Returns the exit code."""
    # Database work runs in threads next to the event loop; a short GIL slice keeps each hand-off from
    # costing up to the default 5 ms (this process is I/O bound, so the extra switching is cheap).
    sys.setswitchinterval(0.0005)
    await asyncio.to_thread(_ensure_schema, settings.database_url)
    engine = make_engine(settings.database_url)
    lock = leader_lock_for(engine)
    try:
        if not await wait_for_leadership(lock, stop, options.leader_retry_seconds):
            return 0
        log.info("leader: this process runs the scheduler")
        sessions = make_session_factory(engine)
        running = await start_bot(settings, clock, sessions, options=options.runtime, plan=plan,
                                  sender_bot=outbox_bot(settings, concurrency=options.runtime.concurrency))
        try:
            lost = await _hold_until_stopped(lock, stop, options.leadership_check_seconds)
            log.info("shutting down: %s", "leadership lost" if lost else "signal")
        finally:
            await running.stop()
        return 1 if lost else 0
    finally:
        await asyncio.to_thread(lock.release)
        engine.dispose()


async def _hold_until_stopped(lock: Any, stop: asyncio.Event, check_seconds: float) -> bool:
    """Wait for `stop`; True if the leader lock was lost first (the process then exits to be restarted)."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), check_seconds)
        except asyncio.TimeoutError:
            if not await asyncio.to_thread(lock.still_held):
                log.error("leader: lost the scheduler lock; stopping so nothing is sent twice")
                return True
    return False
