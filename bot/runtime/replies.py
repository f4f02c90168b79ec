"""Handler replies within Telegram's limits: the outbox's limiter paces them, and a flood gets one answer.

1,000 `/start WRONG` from one user in a second were each refused properly, and each refusal was a message to
that chat: Telegram allows about one a second per chat. So every message a handler sends while answering an
update goes through `ReplyLimiter`, PTB's rate-limiter hook on the Application's bot:

- it waits for a slot of the process's one `RateLimiter`, the dispatcher's (30/s per bot, 1/s per chat,
  20/min per group), so replies and reminders share Telegram's budget;
- a *new* update from the same person in the same chat, less than the chat interval (1 s) after the last one
  that was answered, is not answered at all: its messages to that chat are dropped (`ReplyDropped`, counted as
  `branchbot_replies_dropped_total`, logged once per flood). The messages of one answer are never dropped
  (a summary and its cards wait for their slots instead), nor messages to other chats (a secretary told).
- with the limiter off (`BRANCHBOT_RATE_LIMIT=off`: a self-hosted Bot API, the sandbox) nothing is dropped.

Only the sending methods count (`SENDING_METHODS`); edits, callback answers and everything outside an update
(the chat's jobs) go straight through. The update being answered is carried by a context variable set by
`AnsweringUpdateProcessor`, PTB's per-update hook, so each update's task sees its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from telegram import Update
from telegram.error import RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseRateLimiter, SimpleUpdateProcessor

from bot.runtime.dispatcher import retry_after_seconds
from bot.runtime.limiter import RateLimiter

log = logging.getLogger(__name__)

# Methods that put a new message into a chat: what Telegram's per-chat limits count.
SENDING_METHODS = frozenset({
    "sendMessage", "sendPhoto", "sendDocument", "sendAudio", "sendVideo", "sendAnimation", "sendVoice",
    "sendVideoNote", "sendMediaGroup", "sendLocation", "sendVenue", "sendContact", "sendPoll", "sendDice",
    "sendSticker", "copyMessage", "forwardMessage",
})
# A flood is logged at its first dropped reply, and again only after this long without drops.
FLOOD_LOG_QUIET_SECONDS = 60.0
_FORGET_AFTER = 1000  # entries kept per process before old ones are forgotten
# How often one message of a burst waits out a 429 before its handler gives up.
FLOOD_RETRIES = 3

T = TypeVar("T")


@dataclass(frozen=True)
class Answering:
    """The update a handler is answering: its id, and who sent it where."""

    update_id: int
    chat_id: int | None
    user_id: int | None


_ANSWERING: ContextVar[Answering | None] = ContextVar("branchbot_answering", default=None)


@contextmanager
def answering(update: object) -> Iterator[None]:
    """While the block runs (one update's handling, in its own task), sends count as replies to `update`."""
    if not isinstance(update, Update):
        yield
        return
    chat, user = update.effective_chat, update.effective_user
    token = _ANSWERING.set(Answering(update.update_id, chat.id if chat else None, user.id if user else None))
    try:
        yield
    finally:
        _ANSWERING.reset(token)


class AnsweringUpdateProcessor(SimpleUpdateProcessor):
    """PTB's concurrent update processor, marking each update's task with the update it answers."""

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        with answering(update):
            await coroutine


class ReplyDropped(TelegramError):
    """Not sent: the chat is over its reply budget. The handler stops; silence is the answer to a flood."""


@dataclass
class _Answered:
    update_id: int
    at: float
    last_drop: float | None = None


class ReplyLimiter(BaseRateLimiter[None]):
    """Paces handler replies on the shared `RateLimiter` and drops replies to a flood (see the module)."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter
        self._monotonic = limiter.now  # one clock for the budget and the slots
        self._answered: dict[tuple[int, int | None], _Answered] = {}
        self.dropped = 0
        self.timeouts = 0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self, callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any, kwargs: dict[str, Any], endpoint: str, data: dict[str, Any], rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        current = _ANSWERING.get()
        if current is None or endpoint not in SENDING_METHODS or not isinstance(chat_id, int):
            return await callback(*args, **kwargs)
        if self.limiter.enabled and chat_id == current.chat_id and not self._admit(current, chat_id):
            raise ReplyDropped(f"reply to update {current.update_id} dropped: chat {chat_id} is flooding")
        slot = await self.limiter.acquire(chat_id)
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as error:
            self.limiter.refund(slot)
            seconds = retry_after_seconds(error)
            self.limiter.pause_chat(chat_id, seconds)
            log.warning("replies: 429 for chat %s, pausing it %.0f s", chat_id, seconds)
            raise
        except TimedOut:
            self.timeouts += 1
            log.warning("replies: no answer to %s for chat %s within the read timeout; not retried", endpoint, chat_id)
            raise

    def _admit(self, current: Answering, chat_id: int) -> bool:
        """One answered update per person and chat per chat interval; the rest of that answer always goes."""
        key = (chat_id, current.user_id)
        now = self._monotonic()
        last = self._answered.get(key)
        if last is not None and last.update_id == current.update_id:
            return True
        if last is None or now - last.at >= self.limiter.limits.chat_interval:
            self._answered[key] = _Answered(current.update_id, now, last.last_drop if last else None)
            if len(self._answered) > _FORGET_AFTER:
                self._forget(now)
            return True
        self.dropped += 1
        if last.last_drop is None or now - last.last_drop >= FLOOD_LOG_QUIET_SECONDS:
            log.warning("replies: chat %s (user %s) sends faster than Telegram lets us answer; dropping replies to "
                        "its new updates until it slows down (update %s not answered)",
                        chat_id, current.user_id, current.update_id)
        last.last_drop = now
        return False

    def _forget(self, now: float) -> None:
        quiet = max(self.limiter.limits.chat_interval, FLOOD_LOG_QUIET_SECONDS)
        for key in [k for k, v in self._answered.items() if now - max(v.at, v.last_drop or v.at) > quiet]:
            del self._answered[key]


async def _pause(seconds: float) -> None:
    await asyncio.sleep(seconds)


async def waiting_out_floods(send: Callable[[], Awaitable[T]], retries: int = FLOOD_RETRIES) -> T:
    """One message of a burst into one chat (a proposal's cards): past Telegram's per-chat limit, wait as told
    and send it again, up to `retries` times."""
    for attempt in range(retries + 1):
        try:
            return await send()
        except RetryAfter as flood:
            if attempt == retries:
                raise
            await _pause(retry_after_seconds(flood))
    raise AssertionError("unreachable")
