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

from aiohttp import web
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import CLOCK_START_ENV, ManualClock
from bot.sandbox.botapi import BotApiServer, SandboxError
from bot.sandbox.people import Directory, Person, assign_missing_group_chats, load_directory
from bot.sandbox.timecontrol import TimeControl
from bot.sandbox.web import PageError, StoredFile, build_web_app
from bot.settings import Settings
from storage import models
from storage.db import DEFAULT_DATABASE_URL, make_engine, make_session_factory, transaction
from storage.repositories import bindings as binding_repo
from storage.services.binding import create_invite
from storage.services.errors import ServiceError
from storage.services.runner import run_in_transaction

log = logging.getLogger(__name__)

DEFAULT_PORT = 8765
SANDBOX_DATABASE_URL = "sqlite:///branchbot-sandbox.db"
LOOPBACK = "127.0.0.1"
# The bot token the real bot uses against the loopback server; it never leaves this machine.
SANDBOX_BOT_TOKEN = "123456789:SANDBOX-branchbot-loopback-token"
SANDBOX_BOT_USERNAME = "branchbot_sandbox_bot"


class SandboxStartError(RuntimeError):
    """The sandbox cannot start; the message says why in Chinese."""


@dataclass(frozen=True)
class SandboxOptions:
    port: int | None = None  # None: 8765; 0: any free port
    host: str = LOOPBACK
    load_demo: bool = True
    clock_start: datetime | None = None  # None: $BRANCHBOT_CLOCK_START, the saved sandbox time, or now


def sandbox_database_url(settings: Settings) -> str:
    """The database the sandbox may write and time-travel in: never a production PostgreSQL.

    An explicitly configured SQLite database is used as is; the default `branchbot.db` is what a real
    deployment uses without configuration, so the sandbox keeps to its own file instead.
    """
    url = settings.database_url
    if url.startswith("sqlite") and url != DEFAULT_DATABASE_URL:
        return url
    return SANDBOX_DATABASE_URL


def sqlite_path(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database).resolve()


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


def choose_start(options: SandboxOptions, saved: datetime | None, environ: dict[str, str], real_now: datetime) -> datetime:
    """Where the sandbox clock starts: an explicit start wins, else never before the saved time or now."""
    if options.clock_start is not None:
        return options.clock_start
    configured = environ.get(CLOCK_START_ENV)
    if configured:
        moment = datetime.fromisoformat(configured)
        if moment.tzinfo is None:
            raise SandboxStartError(f"{CLOCK_START_ENV} 必须带时区偏移，例如 2025-03-14T09:00:00+08:00")
        return moment
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
        """Every roster member is a Telegram user and every branch group a chat, before anyone acts."""
        for person in directory.people:
            if person.user_id not in self._known_users:
                self.server.add_user(person.user_id, person.name, username=person.username)
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
            raise PageError(f"无法发送：{exc}") from exc

    async def user_presses(self, person: Person, chat_id: int, message_id: int, data: str) -> None:
        try:
            self.server.user_presses(person.user_id, chat_id, message_id, data)
        except SandboxError as exc:
            raise PageError(f"这个按钮已不可用：{exc}") from exc

    async def bind(self, person: Person) -> str:
        """Creates an invite code as the secretary would, then sends `/start CODE` as the person."""
        now = self.time.now()

        def create(session: Session) -> str:
            return create_invite(session, person.member_no, now).code

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
        stored = self.server.world.files.get(file_id)
        if stored is None:
            return None
        return StoredFile(data=stored.data, content_type=stored.mime_type, filename=stored.file_name)

    def subscribe(self, callback: Callable[[dict[str, Any]], None]) -> None:
        self._listeners.append(callback)

    def _publish(self, event: dict[str, Any]) -> None:
        for callback in list(self._listeners):
            try:
                callback(event)
            except Exception:  # noqa: BLE001 - one broken page must not stop the others
                log.exception("sandbox page listener failed")

    def _on_world_event(self, event: dict[str, Any]) -> None:
        self._publish(event)
        # The bot answers `/start CODE` after binding: that is when the pages' people lists must catch up.
        if event.get("type") == "message" and event["chat_id"] > 0 and (event["message"].get("from") or {}).get("is_bot"):
            user_id = event["chat_id"]
            if user_id not in self._bound_seen and self._is_bound(user_id):
                self._bound_seen.add(user_id)
                self.people_changed()

    def _is_bound(self, telegram_user_id: int) -> bool:
        with transaction(self._sessions) as session:
            return binding_repo.binding_for_telegram(session, telegram_user_id) is not None
