"""/attendance: a member, an organisation or the whole scope below the asker, over a period, in any order."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import keyboards, texts
from bot.handlers.common import ChatContext
from bot.reports.requirements import requirements_for_org
from storage.services import queries


async def attendance(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    words = list(context.args or [])
    answer = await chat.as_member(update, lambda session, actor, now: queries.attendance(
        session, actor, words, now, chat.zone,
        requirements_of=lambda s, code: requirements_for_org(s, chat.config.current().catalog, code)))
    await update.effective_message.reply_text(texts.attendance_answer(answer), reply_markup=keyboards.attendance_choices(answer))
