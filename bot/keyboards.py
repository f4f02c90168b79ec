"""Inline keyboards: every button carries signed callback data, or a t.me link to start a private chat."""

from __future__ import annotations

from collections.abc import Iterable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot.callbacks import Action, CallbackSigner
from storage.services.tasks import TaskView
from storage.services.views import ActivityView, RollEntry


# The /start payload of "start a chat with me" links: not a binding code, just an open door.
START_CHAT_PAYLOAD = "join"


def start_link(bot_username: str, payload: str | None = None) -> str:
    return f"https://t.me/{bot_username}" + (f"?start={payload}" if payload else "")


def reminder(signer: CallbackSigner, activity_id: int) -> InlineKeyboardMarkup:
    """The private reminder's buttons: ✅ 签到 and 📝 请假 (the server checks the window on press)."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.BUTTON_CHECKIN, callback_data=signer.button(Action.CHECKIN, activity_id)),
        InlineKeyboardButton(texts.BUTTON_LEAVE, callback_data=signer.button(Action.LEAVE, activity_id)),
    ]])


def checkin_only(signer: CallbackSigner, activity_id: int) -> InlineKeyboardMarkup:
    """After a leave request: a member who comes after all can still check in."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.BUTTON_CHECKIN, callback_data=signer.button(Action.CHECKIN, activity_id)),
    ]])


def group_announcement(signer: CallbackSigner, activity_id: int, bot_username: str | None) -> InlineKeyboardMarkup:
    """One message serves the whole group; members who never started the bot get a link to do so."""
    rows = [[
        InlineKeyboardButton(texts.BUTTON_CHECKIN, callback_data=signer.button(Action.CHECKIN, activity_id)),
        InlineKeyboardButton(texts.BUTTON_LEAVE, callback_data=signer.button(Action.LEAVE, activity_id)),
    ]]
    if bot_username:
        rows.append([InlineKeyboardButton(texts.BUTTON_START_CHAT, url=start_link(bot_username))])
    return InlineKeyboardMarkup(rows)


def choose_activity(signer: CallbackSigner, action: Action, activities: Iterable[ActivityView]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(activity.title, callback_data=signer.button(action, activity.id))]
        for activity in activities
    ])


def leave_decision(signer: CallbackSigner, activity_id: int, member_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.BUTTON_APPROVE, callback_data=signer.button(Action.APPROVE_LEAVE, activity_id, member_id)),
        InlineKeyboardButton(texts.BUTTON_REJECT, callback_data=signer.button(Action.REJECT_LEAVE, activity_id, member_id)),
    ]])


def roll_actions(
    signer: CallbackSigner, activity: ActivityView, *, closing: bool, confirmed: bool = False
) -> InlineKeyboardMarkup:
    """The secretary's buttons under a roll: confirm (once closed, until `confirmed`), record details, 代签, remind."""
    rows = []
    if closing and not confirmed:
        rows.append([
            InlineKeyboardButton(texts.BUTTON_HELD, callback_data=signer.button(Action.HELD, activity.id)),
            InlineKeyboardButton(texts.BUTTON_NOT_HELD, callback_data=signer.button(Action.NOT_HELD, activity.id)),
        ])
    if closing:
        rows.append([
            InlineKeyboardButton(texts.BUTTON_TOPIC, callback_data=signer.button(Action.TOPIC, activity.id)),
            InlineKeyboardButton(texts.BUTTON_LECTURER, callback_data=signer.button(Action.LECTURER, activity.id)),
        ])
        rows.append([InlineKeyboardButton(texts.BUTTON_MINUTES, callback_data=signer.button(Action.MINUTES, activity.id))])
    else:
        rows.append([InlineKeyboardButton(
            texts.BUTTON_REMIND, callback_data=signer.button(Action.REMIND_UNANSWERED, activity.id))])
    rows.append([InlineKeyboardButton(texts.BUTTON_PROXY, callback_data=signer.button(Action.PROXY_MENU, activity.id))])
    return InlineKeyboardMarkup(rows)


def proxy_candidates(signer: CallbackSigner, activity_id: int, entries: Iterable[RollEntry]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(f"{texts.BUTTON_PROXY} {entry.name}",
                              callback_data=signer.button(Action.PROXY, activity_id, entry.member_id))]
        for entry in entries
    ])


def schedule_card(signer: CallbackSigner, pending_id: int, cancelling: bool = False) -> InlineKeyboardMarkup:
    """Under a /schedule, /reschedule or /cancel card: carry out the pending draft, or drop it (each button says
    which: under a /cancel card "取消" alone could mean either)."""
    confirm = texts.BUTTON_SCHEDULE_CONFIRM_CANCEL if cancelling else texts.BUTTON_SCHEDULE_CONFIRM
    drop = texts.BUTTON_SCHEDULE_KEEP if cancelling else texts.BUTTON_SCHEDULE_DISCARD
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(confirm, callback_data=signer.button(Action.SCHEDULE_CONFIRM, 0, pending_id)),
        InlineKeyboardButton(drop, callback_data=signer.button(Action.SCHEDULE_CANCEL, 0, pending_id)),
    ]])


def task(signer: CallbackSigner, task: TaskView) -> InlineKeyboardMarkup | None:
    """A /tasks card: a button per checklist item, ☐ or ☑, that ticks or unticks it (even once all are done, so a
    slip can be undone); or one ✅ 已办结 for a task without a checklist."""
    if not task.items:
        if task.done:
            return None
        return InlineKeyboardMarkup([[InlineKeyboardButton(
            texts.BUTTON_TASK_DONE, callback_data=signer.button(Action.TASK_DONE, task.activity.id))]])
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(f"{'☑' if item.done else '☐'} {item.label}",
                              callback_data=signer.button(Action.TICK_ITEM, task.activity.id, item.id))]
        for item in task.items
    ])
