"""Runs chat dialogs through a real python-telegram-bot Application against the loopback Bot API server.

A dialog is a table of steps (who, what they say or press, the bot's whole answer). The harness waits for
the bot's request whose text is exactly that answer (no sleeping) and fails with everything the bot said
instead, so a reply that grows, loses or changes a line fails the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import Application, ApplicationBuilder

from bot.callbacks import CallbackSigner
from bot.clock import ManualClock
from bot.deployment import DeploymentSource
from bot.handlers import ChatContext, outbox_renderers, register
from loopback import BotApiServer
from storage import models
from storage.db import transaction
from storage.outbox_kinds import OutboxKind
from storage.repositories.outbox import ClaimedMessage
from storage.services import followup
from tests.chat.world import MEMBERS, SHANGHAI, World
from tests.runtime.factories import add_reminder, as_claimed

TEXT_METHODS = {"sendMessage", "editMessageText", "answerCallbackQuery", "editMessageReplyMarkup"}


@dataclass(frozen=True)
class Press:
    """Pressing the button labelled `label` on the newest message that has it, in `chat` (default: private)."""

    label: str
    chat: str | None = None  # "group" for the actor's branch group
    message_id: int | None = None  # that message's button rather than the newest one's


def press(label: str, chat: str | None = None, *, on: int | None = None) -> Press:
    return Press(label, chat, on)


def text_of(record: Any) -> str:
    """What a request shows: its text (a message, an edit, a callback's toast) or, for a keyboard edit, the keyboard."""
    params = record.params
    if record.method == "editMessageReplyMarkup":
        return str(params.get("reply_markup"))
    return params.get("text") or ""


def said(record: Any) -> str:
    params = record.params
    return f"{record.method}[{params.get('chat_id', params.get('callback_query_id', ''))}]: {text_of(record)}"


class Dialog:
    """The world of one test: the server, the running bot, the roster's Telegram users and the clock."""

    def __init__(self, server: BotApiServer, app: Application, chat: ChatContext, world: World,
                 factory: sessionmaker[Session], clock: ManualClock) -> None:
        self.server, self.app, self.chat, self.world = server, app, chat, world
        self.factory, self.clock = factory, clock
        self.renderers = outbox_renderers(chat, app)  # the dispatcher's, as the bot wires them
        self.names = {key: MEMBERS[key][1] for key in MEMBERS}

    def user(self, who: str) -> int:
        return self.world.telegram[who] if who in self.world.telegram else int(who)

    def group_chat(self, org: str = "B01") -> int:
        with transaction(self.factory) as session:
            return session.scalars(select(models.Organization.group_chat_id).where(
                models.Organization.code == org)).one()

    def find_button(self, chat_id: int, label: str, message_id: int | None = None) -> tuple[int, str]:
        for message in reversed(self.server.chat(chat_id).messages):
            if message_id is not None and message["message_id"] != message_id:
                continue
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label and "callback_data" in button:
                        return message["message_id"], button["callback_data"]
        raise AssertionError(f"no button {label!r} in chat {chat_id}: {self.server.chat(chat_id).messages}")

    def act(self, who: str, action: str | Press) -> None:
        """`who` says something to the bot or presses a button; what follows is awaited by the caller (`step`, or
        a test whose answers may come in either order, such as a reply and a group card's edit)."""
        user_id = self.user(who)
        if isinstance(action, Press):
            chat_id = self.group_chat() if action.chat == "group" else user_id
            message_id, data = self.find_button(chat_id, action.label, action.message_id)
            self.server.user_presses(user_id, chat_id, message_id, data)
        else:
            self.server.user_sends(user_id, action)

    async def step(self, who: str, action: str | Press, expected: str) -> Any:
        """Acts as `who` and waits for the bot's request whose whole text is `expected`."""
        self.act(who, action)
        return await self.expect(expected)

    async def expect(self, expected: str) -> Any:
        seen: list[str] = []

        def matches(record: Any) -> bool:
            if record.method not in TEXT_METHODS:
                return False
            seen.append(said(record))
            return text_of(record) == expected

        try:
            return await self.server.next_bot_request(matches, timeout=10)
        except TimeoutError:
            raise AssertionError(f"the bot never said {expected!r}; it said: {seen}") from None

    async def run(self, steps: list[tuple[str, str | Press, str]]) -> None:
        for who, action, expected in steps:
            await self.step(who, action, expected)

    async def deliver(self, kind: str, activity: str, *, to: str | None = None, lead: int = 60) -> dict:
        """Sends an outbox message through the runtime's renderer, as the dispatcher would."""
        activity_id = self.world.activities[activity]
        chat_id = self.group_chat() if to is None else self.user(to)
        member_id = None if to is None else self.world.members[to]
        row = ClaimedMessage(
            id=0, kind=kind, activity_id=activity_id, member_id=member_id, chat_id=chat_id,
            recipient=f"member:{member_id}" if member_id else f"chat:{chat_id}", lead_minutes=lead,
            due_at=self.clock.now(), priority=0, attempts=0, payload={},
        )
        with transaction(self.factory) as session:
            text, markup = self.renderers.render(session, row, SHANGHAI)
        sent = await self.app.bot.send_message(chat_id, text, reply_markup=markup)
        return sent.to_dict()

    async def dispatch(self, kind: str, to: str) -> list[dict]:
        """Sends the queued outbox rows of `kind` for `who`, rendered as the dispatcher renders them."""
        member_id = self.world.members[to]
        with transaction(self.factory) as session:
            rows = session.scalars(select(models.OutboxMessage).where(
                models.OutboxMessage.kind == kind, models.OutboxMessage.member_id == member_id,
                models.OutboxMessage.state == "pending").order_by(models.OutboxMessage.id)).all()
            rendered = []
            for row in rows:
                rendered.append(self.renderers.render(session, as_claimed(row), SHANGHAI))
                row.state = "sent"
        sent = []
        for text, markup in rendered:
            message = await self.app.bot.send_message(self.user(to), text, reply_markup=markup)
            sent.append(message.to_dict())
        return sent

    async def dispatch_group(self, org: str = "B01") -> list[dict]:
        """Sends the queued outbox rows for the branch group as the dispatcher does, and records them as
        sent with Telegram's message id (what a later change looks up to correct)."""
        chat_id = self.group_chat(org)
        with transaction(self.factory) as session:
            rows = session.scalars(select(models.OutboxMessage).where(
                models.OutboxMessage.chat_id == chat_id, models.OutboxMessage.member_id.is_(None),
                models.OutboxMessage.state == "pending").order_by(models.OutboxMessage.id)).all()
            rendered = [(row.id, self.renderers.render(session, as_claimed(row), SHANGHAI)) for row in rows]
        sent = []
        for row_id, (text, markup) in rendered:
            message = await self.app.bot.send_message(chat_id, text, reply_markup=markup)
            with transaction(self.factory) as session:
                row = session.get(models.OutboxMessage, row_id)
                row.state, row.telegram_message_id, row.sent_at = "sent", message.message_id, self.clock.now()
            sent.append(message.to_dict())
        return sent

    async def send_reminder(self, who: str, activity: str, *, lead: int) -> dict:
        """A reminder as the dispatcher sends one: its outbox row (activity, member, lead) claimed and rendered at
        the clock's time, sent, and recorded as sent with Telegram's message id (what a later answer finds)."""
        activity_id, member_id, chat_id = self.world.activities[activity], self.world.members[who], self.user(who)
        now = self.clock.now()
        with transaction(self.factory) as session:
            row = add_reminder(session, activity_id, member_id, lead, now, chat_id=chat_id, state="claimed",
                               claimed_at=now, claimed_by="dialog")
            row_id = row.id
            text, markup = self.renderers.render(session, as_claimed(row), SHANGHAI, now)
        message = await self.app.bot.send_message(chat_id, text, reply_markup=markup)
        with transaction(self.factory) as session:
            row = session.get(models.OutboxMessage, row_id)
            row.state, row.telegram_message_id, row.sent_at = "sent", message.message_id, self.clock.now()
        return message.to_dict()

    def sweep(self) -> int:
        """The follow-up sweep at the clock's time (the runtime runs it every minute)."""
        with transaction(self.factory) as session:
            return followup.enqueue_followups(session, self.clock.now())

    async def remind(self, who: str, activity: str) -> dict:
        return await self.deliver("reminder", activity, to=who)

    async def announce(self, activity: str) -> dict:
        return await self.deliver(OutboxKind.GROUP_ANNOUNCEMENT, activity)

    def set_now(self, moment: datetime) -> None:
        self.clock.set(moment)

    def private_texts(self, who: str) -> list[str]:
        return [m.get("text", "") for m in self.server.chat(self.user(who)).messages]


@asynccontextmanager
async def running_bot(factory: sessionmaker[Session], world: World, now: datetime, *,
                      started: tuple[str, ...] | None = None, schedule_jobs: bool = False,
                      config_dir: Path | None = None, group_edit_delay: float = 0) -> AsyncIterator[Dialog]:
    """A loopback server with the roster's users (and B01's group), and the bot polling it. The bot's waits (the
    group cards' `group_edit_delay`) are on the test's clock: they end when the test moves it."""
    clock = ManualClock(now)
    async with BotApiServer(strict=True, clock=clock) as server:
        for key, (_, name, *_rest) in MEMBERS.items():
            if key in world.telegram:
                server.add_user(world.telegram[key], name,
                                started=started is None or key in started)
        server.add_user(5005, "新用户", started=True)
        with transaction(factory) as session:
            groups = dict(session.execute(select(models.Organization.code, models.Organization.group_chat_id)).all())
        b01 = [world.telegram[k] for k, spec in MEMBERS.items() if spec[2] == "B01" and k in world.telegram]
        server.add_group(groups["B01"], "第一党支部群", b01)
        app = (ApplicationBuilder().token(server.token).base_url(server.base_url)
               .base_file_url(server.base_file_url).build())
        chat = ChatContext(session_factory=factory, clock=clock, zone=SHANGHAI,
                           signer=CallbackSigner.from_token(server.token),
                           group_edit_delay=group_edit_delay, sleep=clock.sleep,
                           **({"config": DeploymentSource.for_dir(config_dir)} if config_dir is not None else {}))
        register(app, chat, schedule_jobs=schedule_jobs)
        await app.initialize()
        await app.start()
        await app.updater.start_polling(poll_interval=0)
        try:
            yield Dialog(server, app, chat, world, factory, clock)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()

