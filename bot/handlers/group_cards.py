"""The groups' cards of an activity follow its tally: one coalesced refresh per activity after any change of it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram import Bot
from telegram.error import BadRequest

from bot import keyboards, texts
from bot.handlers.common import ChatContext, bot_username
from storage.services import attendance as attendance_svc

log = logging.getLogger("bot.handlers")


@dataclass
class CardRefresh:
    """A refresh waiting out `group_edit_delay`; cards pressed meanwhile that are not delivered announcements
    (not in the outbox) ride along."""

    due: datetime  # when it runs (by `chat.clock`): `group_edit_delay` after the answer, or when held cards are free
    task: asyncio.Task | None = None  # held here: the event loop keeps only a weak reference to a running task
    pressed: set[tuple[int, int]] = field(default_factory=set)


def refresh_tallies(bot: Bot, chat: ChatContext, tallies: Iterable[int],
                    pressed: Iterable[tuple[int, int, int]] = ()) -> None:
    """After a commit that changed these activities' tallies (`storage.changes.Changes.tallies`: a check-in, leave
    request, leave decision, proxy or absent mark, from chat or the command line): each one's cards are refreshed, with
    the group messages answered on (`pressed`: activity id, chat id, message id). Called by
    `bot.handlers.AfterCommit` only, so no answer has to remember it."""
    on: dict[int, set[tuple[int, int]]] = {}
    for activity_id, chat_id, message_id in pressed:
        on.setdefault(activity_id, set()).add((chat_id, message_id))
    for activity_id in sorted(tallies):
        _refresh(bot, chat, activity_id, on.get(activity_id, ()))


def _refresh(bot: Bot, chat: ChatContext, activity_id: int, pressed: Iterable[tuple[int, int]],
             at: datetime | None = None) -> None:
    """Every group's card of the activity shows the tally as it is then, edited at most once per
    `group_edit_delay` (Telegram: 20 messages a minute per group) by all processes together: the refresh claims
    the cards' edits in the database (`attendance.claim_group_cards`), and cards another process edited too
    recently are refreshed again once they are free, so the last tally is always shown. Which cards there are
    is read when the refresh runs, once for the whole burst of answers. It waits with `chat.sleep` and reads the
    time from `chat.clock`, both injected by the runtime (a test's clock drives both)."""
    waiting = chat._card_refreshes.get(activity_id)
    if waiting is not None:
        waiting.pressed.update(pressed)
        return
    due = chat.clock.now() + timedelta(seconds=chat.group_edit_delay) if at is None else at
    waiting = chat._card_refreshes[activity_id] = CardRefresh(due=due, pressed=set(pressed))
    waiting.task = asyncio.get_running_loop().create_task(_refresh_later(bot, chat, activity_id, waiting))


async def _refresh_later(bot: Bot, chat: ChatContext, activity_id: int, waiting: CardRefresh) -> None:
    try:
        await chat.sleep(max((waiting.due - chat.clock.now()).total_seconds(), 0.0))
        # Answers from here on schedule the next refresh; this one reads the tally as it is now.
        chat._card_refreshes.pop(activity_id, None)
        every = timedelta(seconds=chat.group_edit_delay)

        def state(session, now):  # noqa: ANN001, ANN202
            view, tally = attendance_svc.announcement_state(session, activity_id)
            return (view, tally, chat.self_checkin_for(session, view.org_id),
                    attendance_svc.claim_group_cards(session, activity_id, now, every))

        view, tally, self_checkin, cards = await chat.db(state)
        if cards.held:
            # Another process edited these within the delay: refreshed again once they are free (cards pressed
            # here that are no announcement are edited now, by this process alone).
            _refresh(bot, chat, activity_id, (), at=cards.free_at)
        text = texts.group_announcement(view, tally, chat.zone)
        markup = keyboards.group_announcement(chat.signer, activity_id, bot_username(bot, chat),
                                              self_checkin=self_checkin, revision=view.revision)
        for chat_id, message_id in sorted({*cards.claimed, *(waiting.pressed - set(cards.held))}):
            try:
                await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, reply_markup=markup)
            except BadRequest as exc:  # "message is not modified", deleted by an admin, and the like
                log.info("group announcement %s not edited: %s", (chat_id, message_id), exc)
    except Exception:  # noqa: BLE001 - a background edit must never die silently
        log.exception("group announcements of activity %s could not be updated", activity_id)
    finally:
        if chat._card_refreshes.get(activity_id) is waiting:
            chat._card_refreshes.pop(activity_id, None)
