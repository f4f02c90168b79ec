"""A member's delivered private reminders of an activity show their answer, whichever message gave it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.runtime.render import reminder_as_sent
from storage.repositories.outbox import DeliveredMessage

log = logging.getLogger("bot.handlers")


@dataclass(frozen=True, slots=True)
class ShownReminder:
    """A delivered reminder and its text as it was sent (the stamp goes under it)."""

    chat_id: int
    message_id: int
    text: str


def as_sent(session: Session, reminders: Iterable[DeliveredMessage], zone: ZoneInfo, *,
            besides: tuple[int, int] | None = None) -> tuple[ShownReminder, ...]:
    """The texts of the member's delivered reminders (`CheckInResult.reminders`, `LeaveRequest.reminders`), read
    in the answer's transaction; `besides` is the pressed one, which the callback shows as it is."""
    return tuple(ShownReminder(r.chat_id, r.message_id, reminder_as_sent(session, r, zone))
                 for r in reminders if (r.chat_id, r.message_id) != besides)


def stamped(text: str | None, stamp_text: str) -> str:
    """A message's text with an answer's stamp under it (the stamp alone under a message without text)."""
    text = (text or "").rstrip()
    return f"{text}\n\n{stamp_text}" if text else stamp_text


async def stamp(context: ContextTypes.DEFAULT_TYPE, shown: Iterable[ShownReminder], stamp_text: str,
                reply_markup: Any = None) -> None:
    """Each reminder gets the stamp under its text and `reply_markup` for buttons, as the pressed one does."""
    for reminder in shown:
        try:
            await context.bot.edit_message_text(stamped(reminder.text, stamp_text), chat_id=reminder.chat_id,
                                                message_id=reminder.message_id, reply_markup=reply_markup)
        except TelegramError:  # deleted by the member, "message is not modified" and the like
            log.info("reminder %s not stamped", (reminder.chat_id, reminder.message_id), exc_info=True)
