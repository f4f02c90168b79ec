"""Keyboards: every inline button carries signed callback data or a t.me link; reply keyboards send commands."""

from __future__ import annotations

from collections.abc import Iterable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot import texts
from bot.callbacks import Action, CallbackSigner
from storage.services import queries
from storage.services.tasks import TaskView
from storage.services.views import ActivityView, Roll


# The /start payload of "start a chat with me" links: not a binding code, just an open door.
START_CHAT_PAYLOAD = "join"


def start_link(bot_username: str, payload: str | None = None) -> str:
    return f"https://t.me/{bot_username}" + (f"?start={payload}" if payload else "")


def _answers(signer: CallbackSigner, activity_id: int, self_checkin: bool, revision: int) -> list[InlineKeyboardButton]:
    """Check-in / leave, carrying the activity's revision: pressed after a move or a cancellation, they say what
    changed instead of acting on the old time."""
    buttons = [InlineKeyboardButton(texts.BUTTON_CHECKIN, callback_data=signer.button(Action.CHECKIN, activity_id, revision))]
    buttons.append(InlineKeyboardButton(texts.BUTTON_LEAVE, callback_data=signer.button(Action.LEAVE, activity_id, revision)))
    return buttons if self_checkin else buttons[1:]


def reminder(signer: CallbackSigner, activity_id: int, *, self_checkin: bool = True, revision: int = 0) -> InlineKeyboardMarkup:
    """The private reminder's buttons: check-in and leave (the server checks the window on press); leave alone
    where the organisation switched self check-in off."""
    return InlineKeyboardMarkup([_answers(signer, activity_id, self_checkin, revision)])


def checkin_only(signer: CallbackSigner, activity_id: int, *, self_checkin: bool = True,
                 revision: int = 0) -> InlineKeyboardMarkup | None:
    """After a leave request: a member who comes after all can still check in (nothing without self check-in)."""
    if not self_checkin:
        return None
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.BUTTON_CHECKIN, callback_data=signer.button(Action.CHECKIN, activity_id, revision)),
    ]])


def group_announcement(signer: CallbackSigner, activity_id: int, bot_username: str | None, *,
                       self_checkin: bool = True, revision: int = 0) -> InlineKeyboardMarkup:
    """One message serves the whole group; members who never started the bot get a link to do so."""
    rows = [_answers(signer, activity_id, self_checkin, revision)]
    if bot_username:
        rows.append([InlineKeyboardButton(texts.BUTTON_START_CHAT, url=start_link(bot_username))])
    return InlineKeyboardMarkup(rows)


def choose_activity(signer: CallbackSigner, action: Action, activities: Iterable[ActivityView]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(activity.title, callback_data=signer.button(action, activity.id, activity.revision))]
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
    """The secretary's buttons under a roll: confirm (once closed, until `confirmed`), record details, proxy, remind."""
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


# Telegram takes at most 100 buttons under a message: three per member leaves room for the confirm row.
ROLL_MEMBER_ROWS = 30


def roll_members(signer: CallbackSigner, roll: Roll) -> InlineKeyboardMarkup | None:
    """Beside each member who is not present: proxy, leave (unless on leave), absent (unless recorded absent);
    then, while the meeting may be confirmed, confirm-held (naming how many will be recorded absent). As members are
    handled the card is drawn again, so those beyond the first rows come up."""
    activity_id = roll.activity.id
    rows = []
    for entry in roll.not_present[:ROLL_MEMBER_ROWS]:
        row = [InlineKeyboardButton(f"{texts.BUTTON_PROXY} {entry.name}",
                                    callback_data=signer.button(Action.PROXY, activity_id, entry.member_id))]
        if entry.status != "leave":
            row.append(InlineKeyboardButton(f"{texts.BUTTON_MARK_LEAVE} {entry.name}", callback_data=signer.button(
                Action.MARK_LEAVE, activity_id, entry.member_id)))
        if entry.status is None:
            row.append(InlineKeyboardButton(f"{texts.BUTTON_MARK_ABSENT} {entry.name}", callback_data=signer.button(
                Action.MARK_ABSENT, activity_id, entry.member_id)))
        rows.append(row)
    if roll.confirmable:
        rows.append([InlineKeyboardButton(texts.button_confirm_held(len(roll.unanswered)),
                                          callback_data=signer.button(Action.HELD_REST, activity_id))])
    return InlineKeyboardMarkup(rows) if rows else None


def schedule_card(signer: CallbackSigner, draft_id: int, cancelling: bool = False) -> InlineKeyboardMarkup:
    """Under a /schedule, /reschedule or /cancel card, each button acting on that card's own draft: carry it
    out, edit its sentence, or drop it (under a /cancel card a bare "cancel" could mean either)."""
    if cancelling:
        return InlineKeyboardMarkup([[
            InlineKeyboardButton(texts.BUTTON_SCHEDULE_CONFIRM_CANCEL,
                                 callback_data=signer.button(Action.SCHEDULE_CONFIRM, 0, draft_id)),
            InlineKeyboardButton(texts.BUTTON_SCHEDULE_KEEP, callback_data=signer.button(Action.SCHEDULE_CANCEL, 0, draft_id)),
        ]])
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.BUTTON_SCHEDULE_CONFIRM, callback_data=signer.button(Action.SCHEDULE_CONFIRM, 0, draft_id)),
        InlineKeyboardButton(texts.BUTTON_SCHEDULE_EDIT, callback_data=signer.button(Action.SCHEDULE_EDIT, 0, draft_id)),
    ], [
        InlineKeyboardButton(texts.BUTTON_SCHEDULE_DISCARD, callback_data=signer.button(Action.SCHEDULE_CANCEL, 0, draft_id)),
    ]])


def proposal_card(signer: CallbackSigner, pending_id: int, index: int) -> InlineKeyboardMarkup:
    """Under entry `index` of a plan's proposal: ✅ writes it into the organisation's override, ❌ drops it."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(texts.BUTTON_PROPOSAL_ACCEPT,
                             callback_data=signer.button(Action.PROPOSAL_ACCEPT, pending_id, index)),
        InlineKeyboardButton(texts.BUTTON_PROPOSAL_REJECT,
                             callback_data=signer.button(Action.PROPOSAL_REJECT, pending_id, index)),
    ]])


def task(signer: CallbackSigner, task: TaskView) -> InlineKeyboardMarkup | None:
    """A /tasks card: a button per checklist item, ☐ or ☑, that ticks or unticks it (even once all are done, so a
    slip can be undone); or one done button for a task without a checklist."""
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


def rectify_sources(signer: CallbackSigner, sources) -> InlineKeyboardMarkup:  # noqa: ANN001
    """/rectify step 2: one button per source (storage.models.RectificationSource)."""
    buttons = [InlineKeyboardButton(str(s), callback_data=signer.button(Action.RECTIFY_SOURCE, 0, i))
               for i, s in enumerate(sources)]
    return InlineKeyboardMarkup([buttons[i:i + 3] for i in range(0, len(buttons), 3)])


def rectify_owners(signer: CallbackSigner, candidates) -> InlineKeyboardMarkup:  # noqa: ANN001
    """/rectify step 4: members of the branch (chosen ones ticked) and done."""
    buttons = [InlineKeyboardButton(("☑️ " if chosen else "") + name,
                                    callback_data=signer.button(Action.RECTIFY_OWNER, 0, member_id))
               for member_id, name, chosen in candidates]
    rows = [buttons[i:i + 3] for i in range(0, len(buttons), 3)]
    rows.append([InlineKeyboardButton(texts.BUTTON_RECTIFY_DONE, callback_data=signer.button(Action.RECTIFY_OWNERS_DONE, 0))])
    return InlineKeyboardMarkup(rows)


_RECTIFY_ACTIONS = {
    "note": (texts.BUTTON_RECTIFY_NOTE, Action.RECTIFY_NOTE),
    "close": (texts.BUTTON_RECTIFY_CLOSE, Action.RECTIFY_CLOSE),
    "reopen": (texts.BUTTON_RECTIFY_REOPEN, Action.RECTIFY_REOPEN),
}


def rectification(signer: CallbackSigner, item_id: int, actions) -> InlineKeyboardMarkup | None:  # noqa: ANN001
    """An item's card: the actions its reader may take (each checked again on press)."""
    if not actions:
        return None
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(_RECTIFY_ACTIONS[a][0], callback_data=signer.button(_RECTIFY_ACTIONS[a][1], item_id))
        for a in actions
    ]])


def talks_owed(signer: CallbackSigner, owed, limit: int = 30) -> InlineKeyboardMarkup | None:  # noqa: ANN001
    """The Q4 reminder: one button per person still owed, recording a talk held today."""
    buttons = [InlineKeyboardButton(texts.talk_held_button(p.name), callback_data=signer.button(
        Action.TALK_HELD_TODAY, 0, p.member_id)) for p in list(owed)[:limit]]
    if not buttons:
        return None
    return InlineKeyboardMarkup([buttons[i:i + 2] for i in range(0, len(buttons), 2)])


def attendance_choices(answer: queries.AttendanceAnswer) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """/attendance's choices: each button sends the unambiguous command (checked again on the server like any)."""
    if answer.ambiguous is not None:
        words = [[c.word, *answer.other_words] for c in answer.choices]
    else:
        words = [[c.word, answer.period.label] for c in answer.menu]
    if not words:
        return ReplyKeyboardRemove()
    buttons = [[KeyboardButton("/attendance " + " ".join(w))] for w in words]
    return ReplyKeyboardMarkup(buttons, one_time_keyboard=True, resize_keyboard=True)
