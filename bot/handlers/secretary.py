"""Secretary commands (/plan, /absent, /invite) and the roll each branch gets when a check-in window closes."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot import keyboards, texts
from bot.handlers.common import ChatContext, bot_username
from storage.services import attendance as attendance_svc
from storage.services import binding as binding_svc
from storage.services import queries

log = logging.getLogger("bot.handlers")


async def plan(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    views, now = await chat.as_member(update, lambda session, actor, now: (queries.branch_plan(session, actor, now),
                                                                           now))
    await update.effective_message.reply_text(texts.branch_plan(views, chat.zone, now))


async def absent(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    roll = await chat.as_member(update, lambda session, actor, now: attendance_svc.current_roll(session, actor, now))
    await update.effective_message.reply_text(
        texts.roll(roll, chat.zone), reply_markup=keyboards.roll_actions(chat.signer, roll.activity, closing=False)
    )


async def invite(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    if not context.args:
        await update.effective_message.reply_text(texts.INVITE_USAGE)
        return
    member_no = context.args[0]
    created = await chat.as_member(update, lambda session, actor, now: binding_svc.create_invite(
        session, member_no, now, created_by=actor))
    username = bot_username(context.bot, chat)
    link = keyboards.start_link(username, created.code) if username else None
    await update.effective_message.reply_text(texts.invite_created(created, link, chat.zone))
