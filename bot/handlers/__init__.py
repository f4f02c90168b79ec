"""Chat handlers: `register(application, chat)` adds every command, button and message handler of the bot.

The runtime calls `register(application, ChatContext(...), schedule_jobs=...)` once per Application and
`outbox_renderers(chat, application)` for the dispatcher (every outbox kind's renderer, with the chat's
buttons). With `schedule_jobs`, `register` also publishes the default command menu and runs the follow-up
sweep (`chat.followups`, every minute) that queues the chat's kinds. Each handler is thin: parse, call a `storage.services` use-case in one transaction
(`ChatContext.db`), format with `bot.texts`, answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from datetime import timedelta

from telegram import BotCommandScopeDefault
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot import texts
from bot.handlers import (
    buttons, committee, group_cards, members, proposals, rectify, reports, schedule, secretary, tasks, unknown_command,
)
from bot.handlers.common import ChatContext, bot_username, edge, private_only
from bot.handlers.outbox_views import build_outbox_renderers
from bot.runtime.render import OutboxRenderers
from storage.changes import Changes, Notice
from storage.services import attendance as attendance_svc
from storage.services import followup

log = logging.getLogger("bot.handlers")

FOLLOWUP_JOB_ID = "chat.followups"
FOLLOWUP_INTERVAL = timedelta(minutes=1)

COMMANDS = {
    "start": members.start,
    "help": members.help_command,
    "upcoming": members.upcoming,
    "checkin": members.checkin,
    "leave": members.leave,
    "me": members.me,
    "plan": secretary.plan,
    "absent": secretary.absent,
    "invite": secretary.invite,
    "attendance": committee.attendance,
}


# Commands that make sense in a branch group; the rest answer personal questions and belong in private.
GROUP_COMMANDS = {"help"}


def outbox_renderers(chat: ChatContext, application: Application | None = None) -> OutboxRenderers:
    """Every outbox kind's renderer, with this chat's signer, bot name and check-in setting (for the dispatcher)."""

    def username() -> str | None:
        return chat.bot_username if application is None else bot_username(application.bot, chat)

    return build_outbox_renderers(chat.signer, username, chat.self_checkin_for)


class AfterCommit:
    """What a person's action causes goes out within seconds, not at the next minute's sweep: once a chat
    transaction that queued outbox rows or changed activities has committed, the changed meetings are followed
    up at once (their group announcement, roll …) and the leader's dispatcher is woken; once one changed
    attendance, the groups' cards of those activities show the tally (`group_cards.refresh_tallies`, the one
    place that asks for it); once one changed members (a roster import: `Changes.roster_orgs`), the cards that
    count them (`attendance.cards_counting`) show their new expected count the same way.

    The dispatcher is the runtime's in `application.bot_data["runtime"]` (this process leads); a follower has
    none: on PostgreSQL its commit notifies the leader, whose listener calls `heard` (bot.runtime.notify).
    """

    def __init__(self, application: Application, chat: ChatContext, *, follow_up: bool) -> None:
        self.application = application
        self.chat = chat
        self.follow_up = follow_up
        self._tasks: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        runtime = self.application.bot_data.get("runtime")
        if runtime is not None:
            runtime.wake_dispatcher()

    def committed(self, changes: Changes) -> None:
        """A chat transaction here committed: its changed activities are followed up, its tallies shown. A
        commit that only changed tallies (most check-ins) wakes no dispatcher: it queued nothing."""
        if changes.outbox_queued or changes.activity_ids:
            self._after(set(changes.activity_ids))
        if changes.tallies:
            group_cards.refresh_tallies(self.application.bot, self.chat, changes.tallies, changes.pressed_cards)
        if changes.roster_orgs:
            self._in_background(self._roster_cards(set(changes.roster_orgs)))

    def heard(self, notice: Notice | None) -> None:
        """Another process (a follower, the command line) committed: the same as after a commit here.
        None, or a notice naming no activities in particular: every meeting is followed up, as the sweep does.

        Cards: only the command line's tallies (origin None) are refreshed here; a bot process refreshes its own
        commits' cards (it answered the press). A notice that names no tallies (None: a reconnection, an
        unreadable payload, more than `MAX_NOTIFIED_IDS` in one transaction) refreshes no card: which tallies
        changed is unknown, and finding out would read the cards of every activity with a delivered
        announcement (hundreds once a plan is out); the next answer to each shows its tally again. The command
        line's roster changes refresh the cards counting those organisations' members (naming none, None: too many
        organisations, every card still answerable: few at any moment)."""
        ids = None if notice is None else notice.activity_ids
        self._after(None if ids is None else set(ids))
        if notice is not None and notice.origin is None and notice.tallies:
            group_cards.refresh_tallies(self.application.bot, self.chat, notice.tallies)
        if notice is not None and notice.origin is None and notice.roster_orgs != frozenset():
            orgs = notice.roster_orgs
            self._in_background(self._roster_cards(None if orgs is None else set(orgs)))

    def _after(self, activity_ids: set[int] | None) -> None:
        """Follows up `activity_ids` (None: every meeting; empty: none) and wakes the dispatcher."""
        if self.follow_up and (activity_ids is None or activity_ids):
            self._in_background(self._follow_up(activity_ids))
        self.wake()

    def _in_background(self, work: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)  # held: the event loop keeps only a weak reference to a running task
        task.add_done_callback(self._tasks.discard)

    async def _roster_cards(self, org_ids: set[int] | None) -> None:
        """The cards counting members of `org_ids` (None: any) are refreshed like a changed tally's."""
        try:
            tallies = await self.chat.db(lambda session, now: attendance_svc.cards_counting(session, org_ids, now),
                                         follow_up=False)
        except Exception:  # noqa: BLE001 - the next answer to each card shows its expected count; details logged
            log.exception("cards of organisations %s could not be found", "all" if org_ids is None else sorted(org_ids))
            return
        if tallies:
            group_cards.refresh_tallies(self.application.bot, self.chat, tallies)

    async def _follow_up(self, activity_ids: set[int] | None) -> None:
        try:
            created = await self.chat.db(lambda session, now: followup.enqueue_followups(
                session, now, activity_ids, catalog=self.chat.config.current().catalog), follow_up=False)
        except Exception:  # noqa: BLE001 - the minute's sweep does it anyway; the log has the details
            log.exception("follow-up of activities %s failed", "all" if activity_ids is None else sorted(activity_ids))
            return
        if created:
            self.wake()


async def publish_commands(context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    """The default command menu (members); secretaries' and committees' menus are set per chat at binding."""
    try:
        await context.bot.set_my_commands(texts.MEMBER_COMMANDS, scope=BotCommandScopeDefault())
    except TelegramError:
        log.warning("could not publish the command menu", exc_info=True)


def register(application: Application, chat: ChatContext, *, schedule_jobs: bool = True) -> None:
    """Adds the chat handlers; `schedule_jobs` also starts the follow-up sweep and publishes the menu."""
    private = filters.ChatType.PRIVATE
    for name, handler in COMMANDS.items():
        if name not in GROUP_COMMANDS:
            handler = private_only(handler)
        application.add_handler(CommandHandler(name, edge(chat, handler, name=f"/{name}")))
    buttons.register(chat.buttons)
    schedule.register(application, chat)
    tasks.register(application, chat)
    rectify.register(application, chat)
    proposals.register(application, chat)
    for handler in reports.handlers(chat):
        application.add_handler(handler)
    application.add_handler(CallbackQueryHandler(edge(chat, buttons.on_button, name="button")))
    application.add_handler(MessageHandler(
        private & (filters.PHOTO | filters.Document.ALL), edge(chat, members.photo_message, name="photo")))
    application.add_handler(MessageHandler(
        private & filters.TEXT & ~filters.COMMAND, edge(chat, members.text_message, name="text")))
    unknown_command.register(application, chat)  # last: only commands no handler above took

    async def startup(context: ContextTypes.DEFAULT_TYPE) -> None:
        await publish_commands(context, chat)

    async def sweep(context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            created = await chat.db(lambda session, now: (
                followup.enqueue_followups(session, now, catalog=chat.config.current().catalog)
                + rectify.enqueue_notices(session, now, chat)))
        except Exception:  # noqa: BLE001 - the next run tries again; the log has the details
            log.exception("follow-up sweep failed")
            return
        if created:
            log.info("follow-up sweep queued %d messages", created)
    after_commit = AfterCommit(application, chat, follow_up=schedule_jobs)
    chat.after_commit = after_commit.committed
    application.bot_data["after_commit"] = after_commit  # the leader's listener hears other processes' commits

    if schedule_jobs and application.job_queue is not None:
        application.job_queue.run_once(startup, when=0, name="chat.publish_commands")
        application.job_queue.run_repeating(
            sweep, interval=FOLLOWUP_INTERVAL, first=5, name=FOLLOWUP_JOB_ID,
            job_kwargs={"id": FOLLOWUP_JOB_ID, "replace_existing": True, "coalesce": True, "misfire_grace_time": 300},
        )


__all__ = ["ChatContext", "outbox_renderers", "register"]
