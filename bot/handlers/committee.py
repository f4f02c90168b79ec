"""/attendance: a member, an organisation or the whole scope below the asker, over a period, in any order."""

from __future__ import annotations

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import ContextTypes

from bot import texts
from bot.handlers.common import ChatContext
from bot.reports.requirements import requirements_for_org
from storage.services import queries


def _choices_keyboard(answer: queries.AttendanceAnswer) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """Each choice is a button that sends the unambiguous command (checked again on the server like any)."""
    if answer.ambiguous is not None:
        words = [[c.word, *answer.other_words] for c in answer.choices]
    else:
        words = [[c.word, answer.period.label] for c in answer.menu]
    if not words:
        return ReplyKeyboardRemove()
    buttons = [[KeyboardButton("/attendance " + " ".join(w))] for w in words]
    return ReplyKeyboardMarkup(buttons, one_time_keyboard=True, resize_keyboard=True)


async def attendance(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    words = list(context.args or [])
    answer = await chat.as_member(update, lambda session, actor, now: queries.attendance(
        session, actor, words, now, chat.zone,
        requirements_of=lambda s, code: requirements_for_org(s, chat.config.current().catalog, code)))
    await update.effective_message.reply_text(texts.attendance_answer(answer), reply_markup=_choices_keyboard(answer))
