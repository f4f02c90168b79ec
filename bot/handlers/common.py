"""The edge of every chat update: one session and transaction, the clock's `now`, friendly errors, logs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import texts
from bot.callbacks import CallbackSigner
from bot.clock import Clock
from bot.handlers.group_commit import GroupCommit
from bot.handlers.routing import ButtonRouter
from bot.runtime.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours
from bot.runtime.replies import ReplyDropped
from bot.deployment import DeploymentSource
from bot.settings import PROJECT_CONFIG_DIR
from storage.db import is_sqlite
from storage.changes import Changes
from storage.errors import ServiceError
from storage.repositories import attendance as attendance_repo
from storage.services.actors import Actor, OrgTree, actor_for_telegram
from storage.services.runner import Outcome, ReadAhead, run_together

if TYPE_CHECKING:
    from bot.handlers.group_cards import CardRefresh

log = logging.getLogger("bot.handlers")
T = TypeVar("T")


# PostgreSQL chat transactions run in this many threads at once (SQLite: one); the runtime's connection pool
# keeps at least this many connections open (bot.runtime.app).
CHAT_DB_THREADS = 8


@dataclass
class ChatContext:
    """What every chat handler needs, handed to `register` by the runtime."""

    session_factory: sessionmaker[Session]
    clock: Clock
    zone: ZoneInfo
    signer: CallbackSigner
    bot_username: str | None = None  # a fixed @name (tests); else getMe's, asked through `bot_username`
    # The deployment's configuration (catalog, overrides, calendar, reports.yaml, lexicon): the same source the
    # runtime plans from, so an edit reaches the scheduler and every chat command together.
    config: DeploymentSource = field(default_factory=lambda: DeploymentSource.for_dir(PROJECT_CONFIG_DIR, lazy=True))
    quiet: QuietHours = DEFAULT_QUIET_HOURS  # reminders queued from chat honour the deployment's quiet hours
    # Group announcements are edited at most once per this many seconds (Telegram: 20 messages/min per group).
    group_edit_delay: float = 3.0
    # How the group cards' refresh waits out `group_edit_delay` (bot.handlers.group_cards): real seconds; tests pass
    # their clock's `ManualClock.sleep`, so a refresh waits until the test moves the clock.
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    # Where database work runs. None: PostgreSQL in worker threads (network round trips overlap), SQLite on
    # the event loop (a local file answers in about a millisecond, and thread hand-offs cost more than that:
    # measured with bench/bench_checkin.py).
    db_in_thread: bool | None = None
    db_timeout: float = 10.0  # seconds a chat transaction may take before the member is told the system is busy
    # Which handler answers each button; filled by `bot.handlers.register` (one router per Application).
    buttons: ButtonRouter = field(default_factory=ButtonRouter)
    # Called once a transaction that queued outbox rows or changed activities has committed (the app wires it:
    # wake the dispatcher, follow those activities up now), so what a person's action causes goes out at once.
    after_commit: Callable[[Changes], None] | None = None
    # Group cards waiting to be refreshed, by activity id (bot.handlers.group_cards).
    _card_refreshes: dict[int, CardRefresh] = field(default_factory=dict, repr=False)
    _executor: ThreadPoolExecutor | None = field(default=None, repr=False)
    _group: GroupCommit | None = field(default=None, repr=False)

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            # SQLite has one writer: parallel writers only meet its busy handler, which sleeps. One thread
            # keeps SQLite busy without waiting; PostgreSQL gets a few connections' worth.
            workers = 1 if is_sqlite(self.session_factory) else CHAT_DB_THREADS
            self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chat-db")
        return self._executor

    async def db(self, work: Callable[[Session, datetime], T], *, follow_up: bool = True,
                 together: bool = False, order_key: int = 0, ahead: ReadAhead | None = None) -> T:
        """Runs `work(session, now)` in one transaction; refusal records survive a ServiceError.

        Once it committed, `after_commit` hears what it queued or changed (not with `follow_up=False`: the
        follow-up's own transaction, which must not follow itself up). With `together` (PostgreSQL's threads
        only), work arriving while the threads are busy shares a transaction (`GroupCommit`): only for short
        work that touches nothing but the session, since it may run twice; what it will read, `ahead`, is read
        for its whole group at once."""
        now = self.clock.now()

        def bound(session: Session) -> T:
            return work(session, now)

        def alone() -> Outcome:
            return run_together(self.session_factory, [bound])[0]

        if self._threaded():
            if together:
                future = self._group_commit().submit(bound, order_key=order_key, ahead=ahead)
            else:
                future = asyncio.get_running_loop().run_in_executor(self._pool(), alone)
            try:
                # A stalled database must not hold the member's answer hostage: past the timeout they hear
                # "busy" (the server aborts the stalled transaction: idle_in_transaction_session_timeout).
                outcome = await asyncio.wait_for(asyncio.shield(future), self.db_timeout)
            except asyncio.TimeoutError:
                # The work may still commit, and in a group only the first outcome carries the commit (every
                # press's tallies and follow-ups): it is still heard once it comes, though nobody waits for it.
                if follow_up:
                    future.add_done_callback(self._heard_late)
                raise PoolTimeoutError(f"database did not answer within {self.db_timeout:.0f} s") from None
        else:
            outcome = alone()
        if follow_up:
            self._heard(outcome)
        if outcome.error is not None:
            raise outcome.error
        return outcome.value

    def _heard(self, outcome: Outcome) -> None:
        # `committed` was read after the commit: its last flush is recorded too.
        if self.after_commit is not None and outcome.committed:
            self.after_commit(outcome.committed)

    def _heard_late(self, future: asyncio.Future[Outcome]) -> None:
        if not future.cancelled() and future.exception() is None:
            self._heard(future.result())

    def _group_commit(self) -> GroupCommit:
        if self._group is None:
            self._group = GroupCommit(self.session_factory, self._pool)
        return self._group

    def _threaded(self) -> bool:
        if self.db_in_thread is None:
            self.db_in_thread = not is_sqlite(self.session_factory)
        return self.db_in_thread

    def self_checkin_for(self, session: Session, org_id: int) -> bool:
        """Whether members of the organisation check themselves in: the deployment's config
        (`organization.self_checkin` in config/overrides, inherited down the tree). Without any override
        turning it off no tree is read: this runs on every check-in press."""
        catalog = self.config.current().catalog
        if not catalog.any_org_setting("self_checkin", False):
            return True
        return catalog.org_settings(OrgTree.load(session).lineage_codes(org_id)).self_checkin

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    async def as_member(self, update: Update, work: Callable[[Session, Actor, datetime], T], *,
                        together: bool = False) -> T:
        """Runs `work` for the member bound to the sender (NotBound if there is none); `together`: see `db`."""
        return await self.for_sender(update, lambda session, member, now: work(session, member(), now),
                                     together=together)

    async def for_sender(self, update: Update, work: Callable[[Session, Callable[[], Actor], datetime], T], *,
                         together: bool = False, ahead: Callable[[int], ReadAhead] | None = None) -> T:
        """Runs `work` with `member()`, the member bound to the sender, resolved when `work` calls it (NotBound if
        there is none): for work that checks something else first (an older revision's check-in / leave button tells
        whoever presses it what changed, bound or not). `together`: see `db`; the sender's id orders the group,
        and `ahead(sender's id)` is what `work` will read."""
        user_id = update.effective_user.id  # type: ignore[union-attr]
        return await self.db(lambda session, now: work(session, lambda: actor_for_telegram(session, user_id), now),
                             together=together, order_key=user_id,
                             ahead=ahead(user_id) if ahead is not None else None)


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE, ChatContext], Awaitable[Any]]


def bot_username(bot: Bot, chat: ChatContext) -> str | None:
    """The bot's @name, for t.me links and for telling a command addressed to it: `chat`'s fixed one, else the one
    getMe gave `bot` at start-up (None before: the dispatcher's renderers may ask while the bot is initialised)."""
    try:
        return chat.bot_username or bot.username
    except RuntimeError:  # PTB: the bot has not called getMe yet
        return None


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


async def tell(update: Update, text: str, *, alert: bool = True, url: str | None = None) -> None:
    """Answers the user where they are: a toast/alert for a button, a reply for a message."""
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text[:200], show_alert=alert and len(text) > 0, url=url)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text)
    except ReplyDropped:
        pass  # a flood: see bot.runtime.replies
    except TelegramError:
        log.warning("could not tell user %s: %s", update.effective_user and update.effective_user.id, text,
                    exc_info=True)


def private_only(handler: Handler) -> Handler:
    """Personal commands sent in a group get one short pointer to the private chat, not the answer."""

    async def wrapped(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
        if not is_private(update):
            await update.effective_message.reply_text(texts.PRIVATE_ONLY)
            return
        await handler(update, context, chat)

    return wrapped


# Errors that mean "the database cannot be reached right now" rather than a defect.
DATABASE_AWAY = (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError)


def edge(chat: ChatContext, handler: Handler, *, name: str):  # noqa: ANN201 - a PTB callback
    """Wraps a handler: ServiceErrors become their Chinese sentence, anything else a generic apology."""

    async def wrapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await handler(update, context, chat)
        except ReplyDropped:
            pass  # a flood from this chat (bot.runtime.replies): an earlier update was answered, this gets silence
        except ServiceError as refused:
            log.info("%s refused for user %s: %s", name,
                     update.effective_user and update.effective_user.id, refused)
            await tell(update, refused.message)
        except DATABASE_AWAY as away:
            # The transaction was rolled back: nothing half-written; the pool reconnects by itself.
            log.warning("%s: database unavailable for update %s (%s)", name, update.update_id, type(away).__name__)
            await tell(update, texts.DATABASE_BUSY)
        except Exception:  # noqa: BLE001 - nobody gets a silent failure; the log gets the details
            log.exception("%s failed for update %s", name, update.update_id)
            await tell(update, texts.GENERIC_ERROR)

    wrapped.__name__ = name
    return wrapped


def audit_refusal(
    telegram_user_id: int | None, action: str, details: dict[str, Any], now: datetime
) -> Callable[[Session], None]:
    """A refusal record for the audit log (forged or replayed buttons, permission refusals on buttons)."""

    def write(session: Session) -> None:
        attendance_repo.add_audit(
            session, now=now, action=action, entity="callback", entity_id=None,
            actor_telegram_id=telegram_user_id, details=details,
        )

    return write
