"""/tasks: the secretary's checklists (political birthday, full membership, re-election …), ticked off with buttons."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import keyboards, texts
from bot.callbacks import Action, Callback
from bot.handlers.common import ChatContext, edge, private_only
from storage.services import tasks as task_svc

log = logging.getLogger("bot.handlers")


def checklists(chat: ChatContext) -> Callable[[str | None], Sequence[str]]:
    """The catalog's checklist for an obligation, from the deployment's current configuration."""
    catalog = chat.config.current().catalog
    return lambda obligation: tuple(catalog[obligation].checklist) if obligation in catalog else ()


async def list_tasks(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    found = await chat.as_member(update, lambda session, actor, now: task_svc.open_tasks(
        session, actor, now, checklists(chat)))
    if not found:
        await update.effective_message.reply_text(texts.NO_TASKS)
        return
    for task in found:
        await update.effective_message.reply_text(texts.task_card(task, chat.zone), reply_markup=keyboards.task(chat.signer, task))


async def press_tick(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    if cb.action is Action.TICK_ITEM:
        task = await chat.as_member(update, lambda session, actor, now: task_svc.toggle(
            session, actor, cb.arg, now, checklists(chat)))
        ticked = next((item.done for item in task.items if item.id == cb.arg), True)
        answer = texts.TASK_DONE if task.done else texts.TASK_TICKED if ticked else texts.TASK_UNTICKED
    else:
        task = await chat.as_member(update, lambda session, actor, now: task_svc.complete(
            session, actor, cb.activity_id, now, checklists(chat)))
        answer = texts.TASK_DONE
    await update.callback_query.answer(answer)
    try:
        await update.callback_query.edit_message_text(texts.task_card(task, chat.zone),
                                                      reply_markup=keyboards.task(chat.signer, task))
    except Exception as exc:  # noqa: BLE001 - the answer was given; a failed edit is only logged
        log.info("task card not edited: %s", exc)


def register(application: Application, chat: ChatContext) -> None:
    application.add_handler(CommandHandler("tasks", edge(chat, private_only(list_tasks), name="/tasks")))
    chat.buttons.add(Action.TICK_ITEM, press_tick)
    chat.buttons.add(Action.TASK_DONE, press_tick)
