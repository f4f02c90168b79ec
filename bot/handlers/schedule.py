"""/schedule, /reschedule, /cancel: parse the secretary's sentence, show a confirmation card, apply on ✅."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import keyboards, texts
from bot.callbacks import Action, Callback
from bot.handlers import buttons
from bot.handlers.common import ChatContext, edge, private_only
from bot.runtime.materialise import DEFAULT_LEAD_MINUTES, ReminderPolicy, enqueue_reminders
from schedules.calendar import CalendarUnknownYear, OfficialCalendar
from schedules.timeparse import TimeParseError, split_schedule_text
from storage import models
from storage.services import scheduling
from storage.services.actors import actor_for_telegram
from storage.services.errors import InvalidInput


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
    question: str | None = None  # "是指 2027年3月8日 吗？": the card then asks before it is confirmed


def _parse(operation: str, text: str, now: datetime, zone: ZoneInfo, calendar: OfficialCalendar) -> _Reading:
    """What the command's text says; TimeParseError becomes a friendly InvalidInput. A passed yearless date is
    read as next year's, but only as a question on the card (its ✅ is the answer), never silently."""
    if operation == scheduling.CANCEL:
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


def command(operation: str):  # noqa: ANN201
    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
        text = " ".join(context.args or [])
        if not text.strip():
            await update.effective_message.reply_text(texts.SCHEDULE_USAGE[operation])
            return
        user_id = update.effective_user.id

        def work(session, now):  # noqa: ANN001, ANN202
            actor = actor_for_telegram(session, user_id)
            calendar = chat.config.current().calendar
            read = _parse(operation, text, now, chat.zone, calendar)
            return scheduling.draft(session, actor, operation, now, chat.zone, workdays(calendar),
                                    title=read.title, starts_at=read.starts_at, place=read.place,
                                    ends_at=read.ends_at), read

        draft, read = await chat.db(work)
        card = texts.schedule_card(draft, chat.zone, read.reading)
        await update.effective_message.reply_text(f"{read.question}\n{card}" if read.question else card,
                                                  reply_markup=keyboards.schedule_card(
                                                      chat.signer, draft.pending_id,
                                                      cancelling=draft.operation == scheduling.CANCEL))

    return handle


async def press_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    def work(session, actor, now):  # noqa: ANN001, ANN202
        applied = scheduling.apply(session, actor, cb.arg, now, chat.zone, lead_minutes=DEFAULT_LEAD_MINUTES)
        if applied.operation != scheduling.CANCEL:
            activity = session.get(models.Activity, applied.activity.id)
            enqueue_reminders(session, [activity], now=now, policy=ReminderPolicy(zone=chat.zone, quiet=chat.quiet))
        return applied

    applied = await chat.as_member(update, work)
    done = texts.schedule_applied(applied, chat.zone)
    await update.callback_query.answer(done[:200])
    await buttons.append_stamp(update, done)


async def press_discard(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext, cb: Callback) -> None:
    await chat.as_member(update, lambda session, actor, now: scheduling.discard(session, actor, cb.arg, now))
    await update.callback_query.answer()
    await buttons.append_stamp(
        update, texts.SCHEDULE_EDIT_AGAIN if cb.action is Action.SCHEDULE_EDIT else texts.SCHEDULE_DISCARDED)


def register(application: Application, chat: ChatContext) -> None:
    for name, operation in (("schedule", scheduling.NEW), ("reschedule", scheduling.MOVE),
                            ("cancel", scheduling.CANCEL)):
        application.add_handler(CommandHandler(name, edge(chat, private_only(command(operation)), name=f"/{name}")))
    chat.buttons.add(Action.SCHEDULE_CONFIRM, press_confirm)
    chat.buttons.add(Action.SCHEDULE_EDIT, press_discard)
    chat.buttons.add(Action.SCHEDULE_CANCEL, press_discard)

