"""Button presses: verify the signature, then let the services re-check everything against the database."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from telegram import Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes
from sqlalchemy.orm import Session

from bot import keyboards, texts
from bot.callbacks import Action, Callback, ForgedCallback
from bot.handlers.common import ChatContext, audit_refusal, bot_username, is_private
from bot.handlers import reminders
from bot.handlers.routing import ButtonRouter
from storage import changes
from storage.errors import AlreadyHandled, NotBound, PermissionDenied
from storage.services import attendance as attendance_svc
from storage.services.actors import Actor
from storage.services.attendance import ButtonAnswer
from storage.services.runner import ReadAhead
from storage.models import AttendanceStatus
from storage.services.views import ActivityView, ConfirmResult, Roll, StaleButton

log = logging.getLogger("bot.handlers")
T = TypeVar("T")

async def append_stamp(update: Update, stamp: str, reply_markup=None) -> None:  # noqa: ANN001
    """Updates the pressed message in place: its text plus the answer, buttons replaced."""
    text = (getattr(update.callback_query.message, "text", None) or "").rstrip()
    if text.endswith(stamp):  # pressed again: the message already says so
        return
    try:
        await update.callback_query.edit_message_text(reminders.stamped(text, stamp), reply_markup=reply_markup)
    except BadRequest as exc:  # "message is not modified" and the like: the answer was already shown
        log.info("could not edit message: %s", exc)


async def answer_stranger(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext,
                          refused: NotBound) -> None:
    """Someone in the group who is not bound: a link that opens a private chat with the bot."""
    username = bot_username(context.bot, chat)
    if is_private(update) or not username:
        raise refused
    await update.callback_query.answer(texts.start_chat_first(username), show_alert=True,
                                       url=keyboards.start_link(username, keyboards.START_CHAT_PAYLOAD))


async def answer_stale(update: Update, chat: ChatContext, stale: ActivityView) -> None:
    """A check-in / leave button made before its activity moved or was cancelled: it answers with what changed,
    and its message loses its buttons and says so (a group's old announcement stops offering the old time)."""
    stamp = texts.stale_button(stale, chat.zone)
    await update.callback_query.answer(stamp[:200], show_alert=True)
    await append_stamp(update, stamp)


async def for_presser(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext,
                      work: Callable[[Session, Callable[[], Actor], datetime], T], *, together: bool = False,
                      ahead: Callable[[int], ReadAhead] | None = None) -> T | None:
    """A check-in / leave press's `work` for whoever pressed it (`ChatContext.for_sender`); a stranger is asked to
    bind first (`answer_stranger`) and an older revision's button says what changed (`answer_stale`): then the
    press is answered and None comes back. `together` and `ahead`: see `ChatContext.for_sender`."""
    try:
        return await chat.for_sender(update, work, together=together, ahead=ahead)
    except NotBound as refused:
        await answer_stranger(update, context, chat, refused)
    except StaleButton as stale:
        await answer_stale(update, chat, stale.activity)
    return None


async def press_checkin(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    query = update.callback_query
    in_group = not is_private(update)
    pressed = (query.message.chat_id, query.message.message_id)

    def work(session, member, now):  # noqa: ANN001, ANN202
        checked = attendance_svc.answer_button(
            session, cb.activity_id, cb.arg, ButtonAnswer.CHECK_IN,
            lambda: attendance_svc.check_in(session, member(), cb.activity_id, now,
                                            via="group" if in_group else "private",
                                            self_checkin=chat.self_checkin_for))
        if in_group:  # the pressed card shows the tally after the commit, even if it is not a delivered one
            changes.card_pressed(session, cb.activity_id, *pressed)
        # The member's other reminders of it show the check-in too (the pressed one is edited as it reads).
        return checked, reminders.as_sent(session, checked.reminders, chat.zone, besides=pressed), now

    # Together: a burst of presses shares transactions (bot.handlers.group_commit); `work` only reads and writes
    # the session, so running it again after a neighbour's refusal or failure is harmless. What it reads is read
    # for the whole group at once (`ahead`).
    answered = await for_presser(update, context, chat, work, together=True, ahead=lambda user: ReadAhead(
        attendance_svc.read_check_ins_ahead, (user, cb.activity_id)))
    if answered is None:
        return
    checked, others, now = answered
    if in_group:
        await query.answer(texts.checked_in(checked, now, chat.zone))
    elif checked.already:
        await query.answer(texts.checked_in(checked, now, chat.zone))
    else:
        # The toast first, then the edit. Sending both at once (asyncio.gather) cost ~0.6 ms more CPU per press
        # (two tasks, twice the connections in flight) and lowered throughput under a burst: measured with
        # bench/bench_checkin.py. The member still sees the toast first.
        await query.answer(texts.checked_in(checked, now, chat.zone))
        await append_stamp(update, texts.checked_in_stamp(now, chat.zone))
    await reminders.stamp(context, others, texts.checked_in_stamp(now, chat.zone))


async def press_leave(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    query = update.callback_query
    private = is_private(update)
    origin = (query.message.chat_id, query.message.message_id) if private else None
    origin_text = getattr(query.message, "text", None) if private else None

    def work(session, member, now):  # noqa: ANN001, ANN202
        return attendance_svc.answer_button(
            session, cb.activity_id, cb.arg, ButtonAnswer.LEAVE,
            lambda: attendance_svc.begin_leave(session, member(), cb.activity_id, now,
                                               origin=origin, origin_text=origin_text))

    activity = await for_presser(update, context, chat, work)
    if activity is None:
        return
    prompt = texts.ask_leave_reason(activity)
    if private:
        # Asked at the bottom of the chat, where the answer will be typed; the reminder (perhaps far up) is
        # marked only once the request is in (members.text_message).
        await query.answer()
        await context.bot.send_message(query.message.chat_id, prompt)
        return
    try:
        await context.bot.send_message(query.from_user.id, prompt)
    except Forbidden:
        username = bot_username(context.bot, chat)
        await query.answer(texts.LEAVE_IN_PRIVATE_FIRST, show_alert=True,
                           url=keyboards.start_link(username, keyboards.START_CHAT_PAYLOAD) if username else None)
        return
    await query.answer(texts.ASK_LEAVE_REASON_IN_PRIVATE, show_alert=True)


async def press_leave_decision(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext,
                               cb: Callback) -> None:
    approve = cb.action is Action.APPROVE_LEAVE
    result = await chat.as_member(update, lambda session, actor, now: attendance_svc.decide_leave(
        session, actor, cb.activity_id, cb.arg, approve, now))
    # The member hears of it through the outbox (quiet hours and Telegram's limits apply there).
    await update.callback_query.answer(texts.leave_decided_stamp(result))
    await append_stamp(update, texts.leave_decided_stamp(result))


async def press_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    """Held / not held under a roll. While anyone has not answered, held first brings the card of those
    members (proxy / leave / absent each), whose confirm-held records the rest absent (press_held_rest)."""
    held = cb.action is Action.HELD
    result = await chat.as_member(update, lambda session, actor, now: attendance_svc.confirm_activity(
        session, actor, cb.activity_id, held, now, unanswered_absent=not held))
    if result.waiting is not None:
        await update.callback_query.answer(texts.held_waiting(len(result.waiting.unanswered)))
        await context.bot.send_message(update.callback_query.from_user.id, texts.roll_members(result.waiting),
                                       reply_markup=keyboards.roll_members(chat.signer, result.waiting))
        return
    await _confirmed(update, chat, result)


async def press_held_rest(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext,
                          cb: Callback) -> None:
    result = await chat.as_member(update, lambda session, actor, now: attendance_svc.confirm_activity(
        session, actor, cb.activity_id, True, now))
    await _confirmed(update, chat, result)


async def _confirmed(update: Update, chat: ChatContext, result: ConfirmResult) -> None:
    message = texts.confirmed(result)
    await update.callback_query.answer(message)
    # Once confirmed, only the record-keeping buttons stay.
    await append_stamp(update, message,
                       reply_markup=keyboards.roll_actions(chat.signer, result.activity, closing=True, confirmed=True))


async def press_field(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    field = {Action.TOPIC: "topic", Action.LECTURER: "lecturer", Action.MINUTES: "minutes"}[cb.action]
    activity = await chat.as_member(update, lambda session, actor, now: attendance_svc.begin_activity_field(
        session, actor, cb.activity_id, field, now))
    await update.callback_query.answer()
    await context.bot.send_message(update.callback_query.from_user.id, texts.ask_activity_field(field, activity.label))


async def press_proxy_menu(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    roll = await chat.as_member(update, lambda session, actor, now: attendance_svc.roll_for(
        session, actor, cb.activity_id, now))
    await update.callback_query.answer()
    if not roll.not_present:
        await context.bot.send_message(update.callback_query.from_user.id, texts.NOBODY_TO_PROXY)
        return
    await context.bot.send_message(update.callback_query.from_user.id, texts.roll_members(roll),
                                   reply_markup=keyboards.roll_members(chat.signer, roll))


async def redraw_members_card(context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, where: tuple[int, int],
                              roll: Roll) -> None:
    """The members card as the roll is now: who is handled drops out, the confirm button counts the rest."""
    try:
        await context.bot.edit_message_text(texts.roll_members(roll), chat_id=where[0], message_id=where[1],
                                            reply_markup=keyboards.roll_members(chat.signer, roll))
    except BadRequest as exc:  # "message is not modified" and the like
        log.info("members card %s not updated: %s", where, exc)


async def press_mark(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    """Proxy / absent beside a member's name."""
    status = AttendanceStatus.PROXY if cb.action is Action.PROXY else AttendanceStatus.ABSENT

    def work(session, actor, now):  # noqa: ANN001, ANN202
        entry = attendance_svc.mark_attendance(session, actor, cb.activity_id, cb.arg, status, now)
        return entry, attendance_svc.roll_for(session, actor, cb.activity_id, now)

    entry, roll = await chat.as_member(update, work)
    query = update.callback_query
    await query.answer(texts.marked(entry))
    await redraw_members_card(context, chat, (query.message.chat_id, query.message.message_id), roll)


async def press_mark_leave(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext,
                           cb: Callback) -> None:
    """Leave beside a member's name: the reason is asked at the bottom of the chat; the card is redrawn once it
    is in (members.text_message)."""
    query = update.callback_query
    origin = (query.message.chat_id, query.message.message_id)
    entry, activity = await chat.as_member(update, lambda session, actor, now: attendance_svc.begin_marked_leave(
        session, actor, cb.activity_id, cb.arg, now, origin=origin))
    await query.answer()
    await context.bot.send_message(query.from_user.id, texts.ask_marked_leave_reason(entry.name, activity.label))


async def press_remind(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    recipients = await chat.as_member(update, lambda session, actor, now: attendance_svc.remind_unanswered(
        session, actor, cb.activity_id, now))
    await update.callback_query.answer(texts.reminded(len(recipients)), show_alert=True)


def register(router: ButtonRouter) -> None:
    """The buttons of reminders, rolls and leave requests."""
    for action, handler in (
        (Action.CHECKIN, press_checkin),
        (Action.LEAVE, press_leave),
        (Action.APPROVE_LEAVE, press_leave_decision),
        (Action.REJECT_LEAVE, press_leave_decision),
        (Action.HELD, press_confirm),
        (Action.NOT_HELD, press_confirm),
        (Action.TOPIC, press_field),
        (Action.LECTURER, press_field),
        (Action.MINUTES, press_field),
        (Action.PROXY_MENU, press_proxy_menu),
        (Action.PROXY, press_mark),
        (Action.MARK_ABSENT, press_mark),
        (Action.MARK_LEAVE, press_mark_leave),
        (Action.HELD_REST, press_held_rest),
        (Action.REMIND_UNANSWERED, press_remind),
    ):
        router.add(action, handler)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    """Every press: a forged or unknown button is refused and logged; the rest go to their handler."""
    query = update.callback_query
    user_id = query.from_user.id
    try:
        cb = chat.signer.decode(query.data)
        handler = chat.buttons.handler_for(cb.action)
    except (ForgedCallback, KeyError) as forged:
        log.warning("forged or stale button from user %s: %s", user_id, forged)
        details = {"data": (query.data or "")[:64], "reason": str(forged)}
        await chat.db(lambda session, now: audit_refusal(user_id, "callback.forged", details, now)(session))
        await query.answer(texts.FORGED_BUTTON, show_alert=True)
        return
    try:
        await handler(update, context, chat, cb)
    except (PermissionDenied, AlreadyHandled) as refused:
        # Someone pressed what is not theirs to press, or replayed a one-shot button: on the record.
        action = f"callback.refused.{refused.code}"
        details = {"action": cb.action.value, "activity_id": cb.activity_id, "arg": cb.arg}
        await chat.db(lambda session, now: audit_refusal(user_id, action, details, now)(session))
        raise
