"""/schedule, /reschedule, /cancel: parse the secretary's sentence, show a confirmation card, apply on ✅."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import keyboards, texts
from bot.callbacks import Action, Callback
from bot.handlers import buttons
from bot.handlers.common import ChatContext, edge, private_only
from bot.runtime.materialise import DEFAULT_LEAD_MINUTES, ReminderPolicy, reminders_for
from schedules.calendar import CalendarUnknownYear, OfficialCalendar
from schedules.timeparse import TimeParseError, split_schedule_text
from storage import models
from storage.errors import InvalidInput
from storage.services import schedule_cards
from storage.services.actors import Actor

log = logging.getLogger("bot.handlers")


def workdays(calendar: OfficialCalendar) -> Callable[[date], bool | None]:
    """The official calendar's working days; None for a day of a year no source knows (the draft then warns
    instead of guessing)."""

    def is_workday(day: date) -> bool | None:
        try:
            return calendar.is_workday(day)
        except CalendarUnknownYear:
            return None

    return is_workday


@dataclass(frozen=True)
class _Reading:
    title: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    place: str | None = None
    reading: str | None = None
    question: str | None = None  # which year is meant (texts.schedule_year_question): asked before it is confirmed


def _parse(operation: str, text: str, now: datetime, zone: ZoneInfo, calendar: OfficialCalendar) -> _Reading:
    """What the command's text says; TimeParseError becomes a friendly InvalidInput. A passed yearless date is
    read as next year's, but only as a question on the card (its ✅ is the answer), never silently."""
    if operation == schedule_cards.CANCEL:
        return _Reading(text.strip())
    question = None
    try:
        parsed = split_schedule_text(text, now, zone, calendar)
    except TimeParseError as exc:
        if exc.suggestion is None:
            raise InvalidInput(texts.schedule_unreadable(operation, exc.message, exc.examples)) from None
        try:
            parsed = split_schedule_text(exc.suggestion, now, zone, calendar)
        except TimeParseError:
            raise InvalidInput(texts.schedule_unreadable(operation, exc.message, exc.examples)) from None
        question = texts.schedule_year_question(parsed.parsed.at, zone)
    return _Reading(parsed.title, parsed.parsed.at, parsed.parsed.end, parsed.place, parsed.parsed.reading, question)


def _read(operation: str, text: str, chat: ChatContext, now: datetime) -> _Reading:
    return _parse(operation, text, now, chat.zone, chat.config.current().calendar)


def _workdays(chat: ChatContext) -> Callable[[date], bool | None]:
    return workdays(chat.config.current().calendar)


async def _show_card(message, chat: ChatContext, draft: schedule_cards.Draft, read: _Reading) -> None:  # noqa: ANN001
    card = texts.schedule_card(draft, chat.zone, read.reading)
    await message.reply_text(f"{read.question}\n{card}" if read.question else card,
                             reply_markup=keyboards.schedule_card(chat.signer, draft.draft_id,
                                                                  cancelling=draft.operation == schedule_cards.CANCEL))


def command(operation: str):  # noqa: ANN201
    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
        text = " ".join(context.args or [])
        if not text.strip():
            await update.effective_message.reply_text(texts.SCHEDULE_USAGE[operation])
            return

        def work(session, actor, now):  # noqa: ANN001, ANN202
            read = _read(operation, text, chat, now)
            return schedule_cards.draft(session, actor, operation, now, chat.zone, _workdays(chat),
                                        title=read.title, starts_at=read.starts_at, place=read.place,
                                        ends_at=read.ends_at), read

        draft, read = await chat.as_member(update, work)
        await _show_card(update.effective_message, chat, draft, read)

    return handle


def reminders(chat: ChatContext):  # noqa: ANN201 - activity_changes.Reminders
    return reminders_for(ReminderPolicy(zone=chat.zone, quiet=chat.quiet))


async def press_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    applied = await chat.as_member(update, lambda session, actor, now: schedule_cards.apply(
        session, actor, cb.arg, now, chat.zone, reminders=reminders(chat), lead_minutes=DEFAULT_LEAD_MINUTES))
    done = texts.schedule_applied(applied, chat.zone)
    await update.callback_query.answer(done[:200])
    await buttons.append_stamp(update, done)


async def press_discard(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    def work(session, actor, now):  # noqa: ANN001, ANN202
        operation = session.get(models.ScheduleDraft, cb.arg)
        schedule_cards.discard(session, actor, cb.arg, now)
        return operation.operation

    operation = await chat.as_member(update, work)
    await update.callback_query.answer()
    await buttons.append_stamp(update, texts.SCHEDULE_KEPT if operation == schedule_cards.CANCEL
                               else texts.SCHEDULE_DISCARDED)


async def press_edit(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    """The edit button: the corrected sentence is asked for at the bottom of the chat; the card stays until it comes."""
    message = update.callback_query.message
    edit = await chat.as_member(update, lambda session, actor, now: schedule_cards.begin_edit(
        session, actor, cb.arg, now, card=(message.chat_id, message.message_id)))
    await update.callback_query.answer()
    await context.bot.send_message(message.chat_id, texts.schedule_edit_prompt(edit))


@dataclass(frozen=True)
class EditedCard:
    """A card's corrected sentence, read: the card it corrects, its new draft, and how the time was read."""

    edit: schedule_cards.EditRequest
    draft: schedule_cards.Draft
    read: _Reading


def answer_edit(session: Session, actor: Actor, text: str, now: datetime, chat: ChatContext) -> EditedCard | None:
    """A private text while a card waits for its corrected sentence: read by the command's own parser into
    that card's new draft. None when no card waits."""
    edit = schedule_cards.pending_edit(session, actor, now)
    if edit is None:
        return None
    read = _read(edit.operation, text, chat, now)
    draft = schedule_cards.replace(session, actor, edit, now, chat.zone, _workdays(chat), title=read.title,
                                   starts_at=read.starts_at, place=read.place, ends_at=read.ends_at)
    return EditedCard(edit, draft, read)


async def reply_to_edit(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext,
                        answered: EditedCard) -> None:
    """The new card at the bottom; the old one loses its buttons."""
    edit, draft, read = answered.edit, answered.draft, answered.read
    await _show_card(update.effective_message, chat, draft, read)
    if edit.card is None:
        return
    try:
        await context.bot.edit_message_reply_markup(chat_id=edit.card[0], message_id=edit.card[1], reply_markup=None)
    except TelegramError:
        log.info("old schedule card %s not retired", edit.card, exc_info=True)


def register(application: Application, chat: ChatContext) -> None:
    for name, operation in (("schedule", schedule_cards.NEW), ("reschedule", schedule_cards.MOVE),
                            ("cancel", schedule_cards.CANCEL)):
        application.add_handler(CommandHandler(name, edge(chat, private_only(command(operation)), name=f"/{name}")))
    chat.buttons.add(Action.SCHEDULE_CONFIRM, press_confirm)
    chat.buttons.add(Action.SCHEDULE_EDIT, press_edit)
    chat.buttons.add(Action.SCHEDULE_CANCEL, press_discard)

