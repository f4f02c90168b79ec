"""Wires the sandbox: its own SQLite database, the demo roster, the loopback Bot API, the real bot, the page."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot import texts
from bot.clock import ManualClock
from bot.deployment import DeploymentError, DeploymentSource
from bot.runtime.app import ensure_schema_unless_stopped
from bot.sandbox.bot_runtime import BotRuntime, SandboxBusyError, start_bot
from loopback import BotApiServer, SandboxError
from loopback.world import StoredFile
from bot.sandbox.demo import DemoLoad, load_demo_if_empty
from bot.sandbox.people import (
    SANDBOX_USER_ID_BASE,
    SANDBOX_USER_ID_SPAN,
    Directory,
    Person,
    assign_missing_group_chats,
    load_directory,
)
from bot.sandbox.timecontrol import TimeControl
from bot.sandbox.web import PageError, build_web_app
from bot.settings import Settings
from storage import models
from storage.db import (
    DEFAULT_DATABASE_URL,
    is_sqlite,
    make_engine,
    make_session_factory,
    shown_url,
    transaction,
)
from storage.errors import ServiceError
from storage.repositories import bindings as binding_repo
from storage.roster_io import RosterError
from storage.services.binding import create_invite
from storage.services.permissions import SystemOperator
from storage.services.runner import run_in_transaction

log = logging.getLogger(__name__)

DEFAULT_PORT = 8765
SANDBOX_DATABASE_URL = "sqlite:///branchbot-sandbox.db"
LOOPBACK = "127.0.0.1"
# The bot token the real bot uses against the loopback server; it never leaves this machine.
SANDBOX_BOT_TOKEN = "123456789:SANDBOX-branchbot-loopback-token"
# Who creates the codes the page's "bind" button redeems: named like the demo roster's import in the audit log.
SANDBOX_OPERATOR = SystemOperator("sandbox")


class SandboxStartError(RuntimeError):
    """The sandbox cannot start; the message says why in Chinese."""


@dataclass(frozen=True)
class SandboxOptions:
    port: int | None = None  # None: 8765; 0: any free port
    host: str = LOOPBACK
    load_demo: bool = True
    clock_start: datetime | None = None  # None: $BRANCHBOT_CLOCK_START, the saved sandbox time, or now
    clock_ticking: bool = True  # real seconds pass between jumps; tests freeze it


def sandbox_database_url(settings: Settings) -> str:
    """The database the sandbox may write and time-travel in: never a production PostgreSQL.

    An explicitly configured SQLite database is used as is; the default `branchbot.db` is what a real
    deployment uses without configuration, so the sandbox keeps to its own file instead.
    """
    url = settings.database_url
    if is_sqlite(url) and url != DEFAULT_DATABASE_URL:
        return url
    return SANDBOX_DATABASE_URL


def sqlite_path(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database).resolve()


def real_accounts_bound(session: Session) -> int:
    """Bindings to Telegram accounts outside the sandbox's id range: a sign the database served a real bot."""
    user_id = models.TelegramBinding.telegram_user_id
    return session.scalar(select(func.count()).select_from(models.TelegramBinding).where(
        (user_id < SANDBOX_USER_ID_BASE) | (user_id >= SANDBOX_USER_ID_BASE + SANDBOX_USER_ID_SPAN)
    )) or 0


class SavedClock:
    """Remembers the sandbox time beside its database, so a restart does not rewind a month already played."""

    def __init__(self, database: Path | None) -> None:
        self.path = database.with_name(database.name + ".clock.json") if database else None

    def load(self) -> datetime | None:
        if self.path is None or not self.path.exists():
            return None
        try:
            moment = datetime.fromisoformat(json.loads(self.path.read_text("utf-8"))["now"])
        except (ValueError, KeyError, TypeError):
            return None
        return moment if moment.tzinfo else None

    def save(self, moment: datetime) -> None:
        if self.path is not None:
            self.path.write_text(json.dumps({"now": moment.isoformat()}), "utf-8")


def choose_start(options: SandboxOptions, saved: datetime | None, configured: datetime | None,
                 real_now: datetime) -> datetime:
    """Where the sandbox clock starts: an explicit start wins, then `configured` (`Settings.clock_start`, as
    `branchbot run` reads it), else never before the saved time or now."""
    if options.clock_start is not None:
        return options.clock_start
    if configured is not None:
        return configured
    return max(real_now, saved) if saved else real_now


class SandboxBackend:
    """What the page drives: the Bot API world seen as the roster's people, invites, files and the clock."""

    def __init__(self, *, server: BotApiServer, session_factory: sessionmaker[Session], zone: ZoneInfo,
                 time: TimeControl) -> None:
        self.server = server
        self._sessions = session_factory
        self.zone = zone
        self.time = time
        self._listeners: list[Callable[[dict[str, Any]], None]] = []
        self._known_users: set[int] = set()
        self._known_groups: dict[int, set[int]] = {}
        self._bound_seen: set[int] = set()
        self._bot_messages = 0
        server.subscribe(self._on_world_event)

    # -- the roster, mirrored into the world ------------------------------------------------------

    def directory(self) -> Directory:
        """The people and groups as the database has them now, mirrored into the world on the way."""
        with transaction(self._sessions) as session:
            directory = load_directory(session)
        self._mirror(directory)
        return directory

    def mirror_roster(self) -> Directory:
        """Called at start, so the bot can post to branch groups before anyone opens the page."""
        return self.directory()

    def _mirror(self, directory: Directory) -> None:
        """Every roster member is a Telegram user and every branch group a chat, before anyone acts.

        The world lives in memory; after a restart the database still has the bindings, so someone already
        bound has "started" the bot before and the bot may write to them (else every send would be a 403).
        """
        for person in directory.people:
            if person.user_id not in self._known_users:
                self.server.add_user(person.user_id, person.name, username=person.username, started=person.bound)
                self._known_users.add(person.user_id)
        for group in directory.groups:
            members = set(group.member_user_ids)
            known = self._known_groups.get(group.chat_id)
            if known is None:
                self.server.add_group(group.chat_id, group.title, sorted(members), supergroup=True)
            else:
                for user_id in members - known:
                    self.server.add_member(group.chat_id, user_id)
            self._known_groups[group.chat_id] = members

    def bot_name(self) -> str:
        return self.server.bot_username

    def chat_messages(self, chat_id: int) -> list[dict[str, Any]]:
        try:
            return self.server.chat(chat_id).messages
        except SandboxError:
            return []  # a private chat exists only once the person has written to the bot

    # -- acting as a person -----------------------------------------------------------------------

    async def user_sends(self, person: Person, chat_id: int, text: str) -> dict[str, Any]:
        self.directory()
        try:
            return self.server.user_sends(person.user_id, text, chat_id)
        except SandboxError as exc:
            raise PageError(texts.sandbox_not_sent(exc)) from exc

    async def user_presses(self, person: Person, chat_id: int, message_id: int, data: str) -> None:
        try:
            self.server.user_presses(person.user_id, chat_id, message_id, data)
        except SandboxError as exc:
            raise PageError(texts.sandbox_button_gone(exc)) from exc

    async def user_sends_file(self, person: Person, chat_id: int, *, data: bytes, filename: str,
                              content_type: str, caption: str | None, as_photo: bool) -> dict[str, Any]:
        try:
            if as_photo:
                return self.server.user_sends_photo(person.user_id, data, chat_id, caption=caption, filename=filename)
            return self.server.user_sends_document(person.user_id, data, filename, chat_id, caption=caption,
                                                   mime_type=content_type)
        except SandboxError as exc:
            raise PageError(texts.sandbox_file_not_sent(exc)) from exc

    async def bind(self, person: Person) -> str:
        """Creates an invite code as the secretary would, then sends `/start CODE` as the person."""
        now = self.time.now()

        def create(session: Session) -> str:
            return create_invite(session, person.member_no, now, created_by=SANDBOX_OPERATOR).code

        try:
            code = run_in_transaction(self._sessions, create)
        except ServiceError as exc:
            raise PageError(str(exc)) from exc
        await self.user_sends(person, person.user_id, f"/start {code}")
        return code

    def people_changed(self) -> None:
        """Tell every page to reload its people list (a binding was made or the roster changed)."""
        self._publish({"type": "people"})

    # -- files and events -------------------------------------------------------------------------

    def file(self, file_id: str) -> StoredFile | None:
        return self.server.world.files.get(file_id)

    def subscribe(self, callback: Callable[[dict[str, Any]], None]) -> None:
        self._listeners.append(callback)

    def _publish(self, event: dict[str, Any]) -> None:
        for callback in list(self._listeners):
            try:
                callback(event)
            except Exception:  # noqa: BLE001 - one broken page must not stop the others
                log.exception("sandbox page listener failed")

    def bot_message_count(self) -> int:
        """How many messages and edits the bot has made so far (the time control watches it)."""
        return self._bot_messages

    def _on_world_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        from_bot = kind in ("message", "edit") and bool((event["message"].get("from") or {}).get("is_bot"))
        if from_bot:
            self._bot_messages += 1
        self._publish(event)
        # The bot answers `/start CODE` after binding: that is when the pages' people lists must catch up.
        if from_bot and kind == "message" and event["chat_id"] > 0:
            user_id = event["chat_id"]
            if user_id not in self._bound_seen and self._is_bound(user_id):
                self._bound_seen.add(user_id)
                self.people_changed()

    def _is_bound(self, telegram_user_id: int) -> bool:
        with transaction(self._sessions) as session:
            return binding_repo.binding_for_telegram(session, telegram_user_id) is not None


# ---- the running sandbox ------------------------------------------------------------------------------


class Sandbox:
    """The whole sandbox in one process: database, clock, Bot API server, the real bot and the page."""

    def __init__(self, settings: Settings, options: SandboxOptions | None = None,
                 wall_clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 config: DeploymentSource | None = None) -> None:
        self.settings = settings
        self.config = config  # the deployment's configuration; read from settings.config_dir at start when None
        self._wall_clock = wall_clock  # real time, only to decide where the sandbox clock starts
        self.options = options or SandboxOptions()
        self.database_url = sandbox_database_url(settings)
        self.database_path = sqlite_path(self.database_url)
        self.zone = settings.timezone
        self.clock: ManualClock | None = None
        self.server: BotApiServer | None = None
        self.backend: SandboxBackend | None = None
        self.demo: DemoLoad | None = None
        self.bot: BotRuntime | None = None
        self._saved_clock = SavedClock(self.database_path)
        self._engine = None
        self._web_runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://{self.options.host}:{self.port}/"

    async def start(self, stop: asyncio.Event | None = None) -> str | None:
        """Starts everything and returns the page's address; a failed start leaves nothing running. None: `stop`
        was set while the schema waited for another process's change (Ctrl-C ends the wait, not that migration's
        end), before anything was started."""
        try:
            return await self._start(stop or asyncio.Event())
        except BaseException:
            await self.stop()
            raise

    async def _start(self, stop: asyncio.Event) -> str | None:
        if self.config is None:
            try:
                self.config = DeploymentSource(self.settings)
            except DeploymentError as exc:
                raise SandboxStartError(str(exc)) from exc
        try:
            if not await ensure_schema_unless_stopped(self.database_url, stop):
                return None
        except Exception as exc:  # noqa: BLE001 - any failure here is a start failure the user must see
            raise SandboxStartError(texts.sandbox_database_failed(self.database_url, exc)) from exc
        self._engine = make_engine(self.database_url)
        factory = make_session_factory(self._engine, origin="sandbox")
        with transaction(factory) as session:
            real = real_accounts_bound(session)
        if real:
            raise SandboxStartError(texts.sandbox_real_database(self.database_path or self.database_url, real))

        start = choose_start(self.options, self._saved_clock.load(), self.settings.clock_start, self._wall_clock())
        self.clock = ManualClock(start, ticking=self.options.clock_ticking)
        self.clock.on_change(self._saved_clock.save)

        if self.options.load_demo:
            try:
                self.demo = load_demo_if_empty(factory, self.settings.config_dir, now=self.clock.now(), zone=self.zone)
            except RosterError as exc:
                raise SandboxStartError(texts.sandbox_demo_refused(exc)) from exc
        with transaction(factory) as session:
            assign_missing_group_chats(session)

        # The server's default bot identity (branchbot_sandbox_bot, loopback.server.DEFAULT_BOT_NAME) is the sandbox's bot.
        self.server = BotApiServer(token=SANDBOX_BOT_TOKEN, host=LOOPBACK, port=0, clock=self.clock)
        await self.server.start()
        time_control = TimeControl(self.clock, self.zone, factory, settle=self._settle)
        self.backend = SandboxBackend(server=self.server, session_factory=factory, zone=self.zone, time=time_control)
        self.backend.mirror_roster()
        time_control.progress_probe = self.backend.bot_message_count

        bot_settings = replace(
            self.settings, database_url=self.database_url, telegram_token=SANDBOX_BOT_TOKEN,
            telegram_api_base_url=self.server.base_url,
        )
        try:
            self.bot = await start_bot(bot_settings, self.clock, config=self.config)
        except SandboxBusyError as exc:
            raise SandboxStartError(str(exc)) from exc
        # The first plan is in the database before the address is printed, so the page's next-reminder button finds it at once.
        await self.bot.runtime.materialise_now()
        for source in self.bot.due_sources:
            time_control.add_source(source)
        for source in self.bot.landmarks:
            time_control.add_source(source, landmark=True)

        self._web_runner = web.AppRunner(build_web_app(self.backend), access_log=None, shutdown_timeout=1.0)
        await self._web_runner.setup()
        port = DEFAULT_PORT if self.options.port is None else self.options.port
        site = web.TCPSite(self._web_runner, self.options.host, port)
        try:
            await site.start()
        except OSError as exc:
            raise SandboxStartError(texts.sandbox_port_taken(port, exc.strerror)) from exc
        sockets = site._server.sockets if site._server is not None else ()  # noqa: SLF001 - aiohttp has no public port
        self.port = sockets[0].getsockname()[1] if sockets else port
        return self.url

    async def _settle(self, now: datetime) -> None:
        """After a clock jump: let the bot's timers and dispatcher do what fell due, and the bot answer."""
        assert self.bot is not None and self.server is not None
        await self.bot.settle()
        await self.server.wait_idle(timeout=10.0)

    async def stop(self) -> None:
        if self.clock is not None:
            self._saved_clock.save(self.clock.now())
        if self._web_runner is not None:
            await self._web_runner.cleanup()
            self._web_runner = None
        if self.bot is not None:
            await self.bot.stop()
            self.bot = None
        if self.server is not None:
            await self.server.stop()
            self.server = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def describe_start(sandbox: Sandbox) -> str:
    """What `branchbot sandbox` prints: the address first, in Chinese and English, then the facts behind it."""
    assert sandbox.clock is not None
    clock = sandbox.backend.time.label() if sandbox.backend else sandbox.clock.now().isoformat()
    lines = texts.sandbox_started(sandbox.url, sandbox.database_path or sandbox.database_url, clock, sandbox.zone.key)
    if sandbox.demo is not None and sandbox.demo.loaded:
        lines.append(texts.sandbox_demo_loaded(sandbox.demo.organizations, sandbox.demo.members, sandbox.demo.source))
    configured = sandbox.settings.database_url
    if configured != sandbox.database_url and configured != DEFAULT_DATABASE_URL:
        lines.append(texts.cli_note(texts.sandbox_not_sqlite(shown_url(configured))))
    lines.append(texts.SANDBOX_STOP_HINT)
    return "\n".join(lines)


async def serve_until_stopped(settings: Settings, options: SandboxOptions) -> int:
    """Runs the sandbox until Ctrl-C or SIGTERM, then shuts everything down in order."""
    sandbox = Sandbox(settings, options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread, or a platform without signals
            pass
    try:
        if await sandbox.start(stop) is not None:
            print(describe_start(sandbox), flush=True)
            await stop.wait()
        print(texts.SANDBOX_STOPPING, flush=True)
    finally:
        await sandbox.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.remove_signal_handler(signum)
            except (NotImplementedError, RuntimeError):
                pass
    return 0
