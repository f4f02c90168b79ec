"""Member commands: /start with a binding code, /help, /upcoming, /checkin, /leave, /me, and free-text answers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session
from telegram import BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import keyboards, texts
from bot.callbacks import Action
from bot.handlers import buttons, reminders, rectify, schedule
from bot.handlers.common import ChatContext, tell
from storage.errors import NotBound
from storage.services import attendance as attendance_svc
from storage.services import binding as binding_svc
from storage.services import queries
from storage.services.views import ActivityView, LeaveRequest, MarkedLeave, Roll

log = logging.getLogger("bot.handlers")


async def scope_commands(context: ContextTypes.DEFAULT_TYPE, chat_id: int, *, secretary: bool, committee: bool) -> None:
    """Secretaries and committee members see their extra commands in this chat's menu."""
    if not (secretary or committee):
        return
    commands = list(texts.MEMBER_COMMANDS)
    if secretary:
        commands += texts.SECRETARY_COMMANDS
    if committee:
        commands += texts.COMMITTEE_COMMANDS
    unique: dict[str, str] = {}
    for name, description in commands:
        unique.setdefault(name, description)  # one entry per command, in menu order
    commands = list(unique.items())
    try:
        await context.bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))
    except TelegramError:
        log.warning("could not set the command menu of chat %s", chat_id, exc_info=True)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    user = update.effective_user
    code = context.args[0] if context.args else None
    if code and code != keyboards.START_CHAT_PAYLOAD:
        result, now = await chat.db(lambda session, now: (binding_svc.redeem_invite(
            session, code, telegram_user_id=user.id, private_chat_id=update.effective_chat.id,
            username=user.username, now=now,
        ), now))
        await update.effective_message.reply_text(texts.welcome(result, chat.zone, now))
        await scope_commands(context, update.effective_chat.id, secretary=result.is_secretary,
                             committee=result.is_committee)
        return

    known, now = await chat.db(lambda session, now: (binding_svc.resume_binding(
        session, user.id, update.effective_chat.id, now), now))
    if known is None:
        await update.effective_message.reply_text(texts.START_WITHOUT_CODE)
        return
    actor, upcoming = known
    await update.effective_message.reply_text(texts.welcome_back(actor.name, upcoming, chat.zone, now))
    # Seats change with the roster: a returning secretary gets the menu of what they may do now.
    await scope_commands(context, update.effective_chat.id, secretary=actor.is_secretary_anywhere,
                         committee=actor.is_upper_committee_member)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    try:
        actor = await chat.as_member(update, lambda session, actor, now: actor)
    except NotBound:
        await update.effective_message.reply_text(texts.START_WITHOUT_CODE + "\n\n" + texts.HELP)
        return
    text = texts.HELP
    if actor.is_secretary_anywhere:
        text += texts.HELP_SECRETARY
    if actor.is_upper_committee_member:
        text += texts.HELP_COMMITTEE
    await update.effective_message.reply_text(text)


async def upcoming(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    views, now = await chat.as_member(update, lambda session, actor, now: (queries.upcoming_for(session, actor, now),
                                                                           now))
    await update.effective_message.reply_text(texts.upcoming(views, chat.zone, now))


async def offer_choice(update: Update, chat: ChatContext, action: Action, activities: list[ActivityView],
                       none_text: str, choose_text: str) -> None:
    """/checkin and /leave when not exactly one activity fits: say there is none, or a button per activity."""
    if not activities:
        await update.effective_message.reply_text(none_text)
        return
    await update.effective_message.reply_text(
        choose_text, reply_markup=keyboards.choose_activity(chat.signer, action, activities))


async def checkin(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    def work(session, actor, now):  # noqa: ANN001, ANN202
        open_now = queries.open_for_checkin(session, actor, now)
        if len(open_now) == 1:
            result = attendance_svc.check_in(session, actor, open_now[0].id, now, self_checkin=chat.self_checkin_for)
            return (result, reminders.as_sent(session, result.reminders, chat.zone)), open_now, now
        return None, open_now, now

    checked, open_now, now = await chat.as_member(update, work)
    if checked is not None:
        result, shown = checked
        await update.effective_message.reply_text(texts.checked_in(result, now, chat.zone))
        await reminders.stamp(context, shown, texts.checked_in_stamp(now, chat.zone))
    else:
        await offer_choice(update, chat, Action.CHECKIN, open_now, texts.NO_OPEN_ACTIVITY,
                           texts.CHOOSE_ACTIVITY_TO_CHECKIN)


async def leave(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    def work(session, actor, now):  # noqa: ANN001, ANN202
        coming = queries.answerable_for(session, actor, now)
        if len(coming) == 1:
            return attendance_svc.begin_leave(session, actor, coming[0].id, now), coming
        return None, coming

    asked, coming = await chat.as_member(update, work)
    if asked is not None:
        await update.effective_message.reply_text(texts.ask_leave_reason(asked))
    else:
        await offer_choice(update, chat, Action.LEAVE, coming, texts.NO_UPCOMING, texts.CHOOSE_ACTIVITY_TO_LEAVE)


async def me(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    year = await chat.as_member(update, lambda session, actor, now: queries.my_year(session, actor, now, chat.zone))
    await update.effective_message.reply_text(texts.my_year(year))


@dataclass(frozen=True, slots=True)
class SubmittedLeave:
    """A leave request and what its reminders need, read in its transaction: the reminder whose leave button was
    pressed (as it read then) and the member's other reminders (as they were sent), and whether the check-in
    button stays under them."""

    request: LeaveRequest
    reminders: tuple[reminders.ShownReminder, ...]
    self_checkin: bool


def submitted_leave(session: Session, chat: ChatContext, request: LeaveRequest) -> SubmittedLeave:
    pressed = () if request.origin is None else (reminders.ShownReminder(*request.origin, request.origin_text or ""),)
    others = reminders.as_sent(session, request.reminders, chat.zone, besides=request.origin)
    return SubmittedLeave(request, pressed + others, chat.self_checkin_for(session, request.activity.org_id))


@dataclass(frozen=True, slots=True)
class MarkedOnRoll:
    """A leave mark typed for the secretary's roll, and the roll its card is drawn again as."""

    leave: MarkedLeave
    roll: Roll


@dataclass(frozen=True, slots=True)
class TextAnswer:
    """What a private text answered (an edited card, a rectify answer, a leave request, a field saved, a leave mark;
    None: nothing was asked), read at `now`."""

    value: object
    now: datetime


async def text_message(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    """A private text that is not a command answers whatever the bot asked for (leave reason, minutes, rectify …)."""
    text = update.effective_message.text or ""

    def work(session, actor, now):  # noqa: ANN001, ANN202
        edited = schedule.answer_edit(session, actor, text, now, chat)
        if edited is not None:
            return TextAnswer(edited, now)
        answered = rectify.answer_text(session, actor, text, now, chat.zone)
        if answered is not None:
            return TextAnswer(answered, now)
        result = attendance_svc.submit_pending_text(session, actor, text, now)
        if isinstance(result, MarkedLeave):  # the card it was asked from is drawn again as the roll is now
            return TextAnswer(MarkedOnRoll(result, attendance_svc.roll_for(session, actor, result.activity_id, now)),
                              now)
        if isinstance(result, LeaveRequest):
            return TextAnswer(submitted_leave(session, chat, result), now)
        return TextAnswer(result, now)

    try:
        answer = await chat.as_member(update, work)
    except NotBound:
        await update.effective_message.reply_text(texts.START_WITHOUT_CODE)
        return
    result = answer.value
    if isinstance(result, schedule.EditedCard):
        await schedule.reply_to_edit(update, context, chat, result)
    elif rectify.is_answer(result):
        await rectify.reply_to_answer(update, chat, result, answer.now)
    elif isinstance(result, SubmittedLeave):
        request = result.request
        await update.effective_message.reply_text(texts.leave_submitted(request))
        # Every reminder of it shows the request; check-in stays, in case they come after all.
        await reminders.stamp(context, result.reminders, texts.leave_requested_stamp(request),
                              keyboards.checkin_only(chat.signer, request.activity.id, self_checkin=result.self_checkin,
                                                     revision=request.activity.revision))
    elif isinstance(result, ActivityView):
        await update.effective_message.reply_text(texts.activity_field_saved(result))
    elif isinstance(result, MarkedOnRoll):
        leave = result.leave
        await update.effective_message.reply_text(texts.marked(leave.entry))
        if leave.origin is not None:
            await buttons.redraw_members_card(context, chat, leave.origin, result.roll)
    else:
        await update.effective_message.reply_text(texts.UNKNOWN_TEXT)


async def photo_message(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    """A photo or file sent while the bot waits for one: a rectify progress note, or the minutes of an activity."""
    message = update.effective_message
    is_photo = bool(message.photo)
    file_id = message.photo[-1].file_id if is_photo else message.document.file_id
    is_image = is_photo or (message.document.mime_type or "").startswith("image/")

    def work(session, actor, now):  # noqa: ANN001, ANN202
        answered = rectify.answer_file(session, actor, file_id, message.caption, is_photo, now)
        if answered is not None:
            return answered, now
        if not is_image:
            return None, now
        return attendance_svc.add_minutes_photo(session, actor, file_id, message.caption, now), now

    result, now = await chat.as_member(update, work)
    if rectify.is_answer(result):
        await rectify.reply_to_answer(update, chat, result, now)
        return
    await tell(update, texts.MINUTES_PHOTO_SAVED if result else texts.UNKNOWN_TEXT)
