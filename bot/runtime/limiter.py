"""An async limiter for Telegram's limits: ~30 messages/s per bot, 1/s per chat, 20/min per group.

Our own rather than PTB's `AIORateLimiter`: the dispatcher needs priority ordering (it pops the most
time-critical message before asking for a slot), an injectable clock for tests, and per-chat pauses
after a 429 that do not stall every other chat. Time comes from `monotonic()`/`sleep()` callables so
tests move a fake clock instead of waiting.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import time

TELEGRAM_GLOBAL_PER_SECOND = 30.0
TELEGRAM_PRIVATE_INTERVAL = 1.0  # seconds between two messages to one chat
TELEGRAM_GROUP_PER_MINUTE = 20


@dataclass(frozen=True)
class Limits:
    global_per_second: float = TELEGRAM_GLOBAL_PER_SECOND
    # Our window is this much longer than Telegram's second, so network jitter cannot push 31 sends into
    # one of Telegram's windows.
    window_margin: float = 0.01
    chat_interval: float = TELEGRAM_PRIVATE_INTERVAL
    group_per_minute: int = TELEGRAM_GROUP_PER_MINUTE


def is_group_chat(chat_id: int) -> bool:
    """Telegram gives groups and channels negative ids; private chats are users' (positive) ids."""
    return chat_id < 0


class RateLimiter:
    """Hands out send slots; `acquire(chat_id)` returns when a message to that chat may go out.

    With `enabled=False` (a self-hosted Bot API server has no flood limits) only 429 pauses apply.
    """

    def __init__(
        self,
        limits: Limits = Limits(),
        *,
        enabled: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits
        self.enabled = enabled
        self._monotonic = monotonic
        self._sleep = sleep
        self._global_next = 0.0
        self._global_sends: deque[float] = deque()
        self._global_paused_until = 0.0
        self._chat_next: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = {}

    def now(self) -> float:
        """This limiter's clock (monotonic seconds; injected in tests)."""
        return self._monotonic()

    def pause_chat(self, chat_id: int, seconds: float) -> None:
        """Telegram answered 429 for this chat: nothing more to it until `retry_after` has passed."""
        until = self._monotonic() + max(0.0, seconds)
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), until)

    def pause_all(self, seconds: float) -> None:
        """Stop every send for `seconds` (a 429 that applies to the whole bot)."""
        self._global_paused_until = max(self._global_paused_until, self._monotonic() + max(0.0, seconds))

    def _chat_ready_at(self, chat_id: int) -> float:
        ready = max(self._chat_next.get(chat_id, 0.0), self._global_paused_until)
        if self.enabled and is_group_chat(chat_id):
            window = self._group_sends.get(chat_id)
            now = self._monotonic()
            while window and window[0] <= now - 60.0:
                window.popleft()
            if window and len(window) >= self.limits.group_per_minute:
                ready = max(ready, window[0] + 60.0)
        return ready

    def chat_wait(self, chat_id: int) -> float:
        """Seconds until `chat_id` may receive again (0 when it may now), ignoring the global cap."""
        return max(0.0, self._chat_ready_at(chat_id) - self._monotonic())

    def _global_slot(self, now: float) -> float:
        """The earliest moment >= now at which one more send keeps every global window within the cap.

        A sliding window (at most `global_per_second` sends in any `1 s + margin`) rather than fixed
        spacing: after an event-loop hiccup the limiter may catch up instead of losing the time, while
        a minimum gap of half the nominal spacing avoids micro-bursts.
        """
        window = self._global_sends
        span = 1.0 + self.limits.window_margin
        while window and window[0] <= now - span:
            window.popleft()
        slot = max(now, self._global_next)
        if len(window) >= self.limits.global_per_second:
            slot = max(slot, window[len(window) - int(self.limits.global_per_second)] + span)
        return slot

    async def acquire(self, chat_id: int) -> float:
        """Wait for a slot to `chat_id`; returns the slot (give it back with `refund` if the send failed)."""
        # First wait until the chat itself may receive (without holding a global slot), then take the
        # next global slot. All bookkeeping happens between awaits, so no lock is needed on one loop.
        while True:
            now = self._monotonic()
            ready = self._chat_ready_at(chat_id)
            if ready > now:
                await self._sleep(ready - now)
                continue
            if not self.enabled:
                slot = now
            else:
                slot = self._global_slot(now)
                self._global_next = slot + 0.5 / self.limits.global_per_second
                self._global_sends.append(slot)
            self._chat_next[chat_id] = slot + (self.limits.chat_interval if self.enabled else 0.0)
            if self.enabled and is_group_chat(chat_id):
                window = self._group_sends.setdefault(chat_id, deque())
                window.append(slot)
                while window and window[0] <= slot - 60.0:
                    window.popleft()
            if slot > now:
                await self._sleep(slot - now)
            if not self.enabled:
                return slot
            # Record when the send really starts: a late wake-up (a busy event loop) must count at its real
            # time, or the next sends would be planned too close behind it and break Telegram's window.
            actual = self._monotonic()
            if actual > slot:
                self._replace_global(slot, actual)
            return max(actual, slot)

    def _replace_global(self, planned: float, actual: float) -> None:
        window = self._global_sends
        try:
            window.remove(planned)
        except ValueError:
            return
        window.append(actual)
        if len(window) > 1 and window[-2] > actual:
            ordered = sorted(window)
            window.clear()
            window.extend(ordered)
        self._global_next = max(self._global_next, actual + 0.5 / self.limits.global_per_second)

    def refund(self, slot: float) -> None:
        """A send that Telegram refused (429, 5xx) delivered nothing: its global slot may be reused."""
        try:
            self._global_sends.remove(slot)
        except ValueError:
            pass

    def forget_idle_chats(self) -> None:
        """Drop bookkeeping for chats whose spacing has elapsed (keeps memory flat over years)."""
        now = self._monotonic()
        for chat_id in [c for c, t in self._chat_next.items() if t <= now]:
            del self._chat_next[chat_id]
        for chat_id in [c for c, w in self._group_sends.items() if not w or w[-1] <= now - 60.0]:
            del self._group_sends[chat_id]
