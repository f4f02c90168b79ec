"""A plan sent to the bot: its proposal as one card per entry with ✅ / ❌; ✅ writes the override and re-plans."""

from __future__ import annotations

import logging
from pathlib import PurePath

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot import keyboards
from bot import proposal_format as fmt
from bot.callbacks import Action, Callback
from bot.handlers import buttons, members
from bot.handlers.common import ChatContext, edge
from bot.runtime.replies import waiting_out_floods
from schedules.proposal.documents import SUFFIXES
from storage.services import proposals as proposal_svc

log = logging.getLogger("bot.handlers")

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # what a bot may download through the Bot API


async def _reply(message: Message, text: str, reply_markup: InlineKeyboardMarkup | None = None) -> None:
    """A proposal is a burst of cards into one chat: past Telegram's per-chat limit, wait as told and go on."""
    await waiting_out_floods(lambda: message.reply_text(text, reply_markup=reply_markup))


async def plan_document(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    message = update.effective_message
    user_id = update.effective_user.id
    if await chat.db(lambda session, now: proposal_svc.waiting_for_other_input(session, user_id, now)):
        await members.photo_message(update, context, chat)  # the file answers what the bot asked for
        return
    document = message.document
    name = document.file_name or "plan"
    if PurePath(name).suffix.lower() not in SUFFIXES:
        await message.reply_text(fmt.UNSUPPORTED_DOCUMENT)
        return
    if document.file_size and document.file_size > MAX_DOCUMENT_BYTES:
        await message.reply_text(fmt.DOCUMENT_TOO_LARGE)
        return
    data = bytes(await (await context.bot.get_file(document.file_id)).download_as_bytearray())
    pending = await chat.as_member(update, lambda session, actor, now: proposal_svc.start_proposal(
        session, actor, now, chat.config.current(), data, name))
    proposal = pending.proposal
    entries = [*proposal.obligations, *proposal.new]
    if not entries and not proposal.activities:
        await message.reply_text(fmt.NOTHING_FOUND)
        return
    await _reply(message, fmt.chat_intro(proposal, pending.org_name))
    for index, entry in enumerate(entries):
        await _reply(message, fmt.chat_card(index + 1, entry), keyboards.proposal_card(chat.signer, pending.pending_id, index))
    if proposal.activities:
        await _reply(message, fmt.chat_activities(proposal.activities))


async def press_decision(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    accept = cb.action is Action.PROPOSAL_ACCEPT
    decision = await chat.as_member(update, lambda session, actor, now: proposal_svc.decide(
        session, actor, cb.activity_id, cb.arg, accept, now, chat.config.fresh))
    if decision.edit is None:
        stamp = fmt.PROPOSAL_REJECTED
    else:
        stamp = fmt.accepted_stamp(decision.name, decision.org_code, decision.edit.path.name, decision.edit.changed)
    if decision.edit is not None and decision.edit.changed:
        # The scheduler polls config/ every minute anyway; the leader in this process re-plans at once, before
        # saying so.
        runtime = context.application.bot_data.get("runtime")
        if runtime is not None:
            await runtime.reconcile_if_changed()
    await update.callback_query.answer(stamp[:200])
    await buttons.append_stamp(update, stamp)


def register(application: Application, chat: ChatContext) -> None:
    application.add_handler(MessageHandler(
        filters.ChatType.PRIVATE & filters.Document.ALL & ~filters.Document.IMAGE,
        edge(chat, plan_document, name="plan document")))
    chat.buttons.add(Action.PROPOSAL_ACCEPT, press_decision)
    chat.buttons.add(Action.PROPOSAL_REJECT, press_decision)
