"""Injected failures (429, 5xx, 403, slow answers) and Telegram-like rate limits for the loopback server."""

from __future__ import annotations

import math
import random as _random
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

# Methods that put a new message into a chat; only these count against Telegram's sending limits.
SENDING_METHODS = frozenset({
    "sendMessage", "sendPhoto", "sendDocument", "sendAudio", "sendVideo", "sendAnimation", "sendVoice",
    "sendVideoNote", "sendMediaGroup", "sendLocation", "sendVenue", "sendContact", "sendPoll", "sendDice",
    "sendSticker", "copyMessage", "forwardMessage",
})

_STATUS_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    409: "Conflict: injected failure",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class TelegramError(Exception):
    """An answer the server gives instead of a result: HTTP status, description, optional parameters."""

    def __init__(self, status: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict:
        answer: dict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            answer["parameters"] = self.parameters
        return answer


def too_many_requests(retry_after: int) -> TelegramError:
    return TelegramError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def failure(status: int, retry_after: int | None = None, description: str | None = None) -> TelegramError:
    if status == 429:
        error = too_many_requests(retry_after if retry_after is not None else 1)
        if description:
            error.description = description
        return error
    return TelegramError(status, description or _STATUS_DESCRIPTIONS.get(status, f"Error {status}"))


@dataclass
class _Planned:
    method: str  # "*" = any method except getUpdates
    times: int
    status: int | None = None
    retry_after: int | None = None
    description: str | None = None
    delay: float = 0.0

    def matches(self, method: str) -> bool:
        return self.method == method or (self.method == "*" and method != "getUpdates")


@dataclass
class _RandomMode:
    rate_429: float
    rate_5xx: float
    rate_403: float
    retry_after: int
    status_5xx: int
    methods: frozenset[str]
    rng: _random.Random


@dataclass
class FaultDecision:
    """What to do to one request: wait `delay` seconds first, then fail with `error` (or proceed)."""

    delay: float = 0.0
    error: TelegramError | None = None


class Faults:
    """Failures for tests and benchmarks to inject: one-shot, repeated, or random with a seeded RNG."""

    def __init__(self, on_block: Callable[[int], None] | None = None,
                 on_unblock: Callable[[int], None] | None = None) -> None:
        self._planned: list[_Planned] = []
        self._outages: dict[str, int] = {}
        self._html: dict[str, int] = {}
        self._random: _RandomMode | None = None
        self._on_block = on_block
        self._on_unblock = on_unblock
        # Tests in another thread plan faults while the server's loop consumes them.
        self._lock = threading.Lock()
        self.injected: int = 0  # how many requests a fault was applied to

    def fail_next(self, method: str, status: int = 429, *, retry_after: int | None = None, times: int = 1,
                  description: str | None = None) -> None:
        """The next `times` calls of `method` ("*" = any but getUpdates) fail with `status`.

        429 carries `parameters.retry_after` (default 1 s); 403 reads like a blocked bot; 5xx like Telegram's
        front ends. The request is not executed.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._planned.append(_Planned(method, times, status=status, retry_after=retry_after,
                                          description=description))

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next `times` calls of `method` are answered only after `seconds` (a client timeout, if short).

        The request is executed after the delay, like a real slow Telegram: the message may arrive even though
        the client gave up waiting.
        """
        if seconds < 0 or times < 1:
            raise ValueError("seconds must be >= 0 and times >= 1")
        with self._lock:
            self._planned.append(_Planned(method, times, delay=seconds))

    def random(self, *, rate_429: float = 0.0, rate_5xx: float = 0.0, rate_403: float = 0.0, seed: int | None = None,
               retry_after: int = 1, status_5xx: int = 502, methods: Iterable[str] | None = None) -> None:
        """Fail a random share of calls (default: the sending methods) with a reproducible RNG."""
        for rate in (rate_429, rate_5xx, rate_403):
            if not 0.0 <= rate <= 1.0:
                raise ValueError("rates are probabilities between 0 and 1")
        with self._lock:
            self._random = _RandomMode(rate_429, rate_5xx, rate_403, retry_after, status_5xx,
                                       frozenset(methods) if methods is not None else SENDING_METHODS,
                                       _random.Random(seed))

    def block(self, user_id: int) -> None:
        """The user blocks the bot: every send to their private chat answers 403."""
        if self._on_block is not None:
            self._on_block(user_id)

    def unblock(self, user_id: int) -> None:
        if self._on_unblock is not None:
            self._on_unblock(user_id)

    def outage(self, method: str = "*", status: int = 502) -> None:
        """Until `end_outage`, every call of `method` ("*" = any but getUpdates) fails with `status` at the
        moment it would execute, including calls already waiting out the server's latency: nothing is done."""
        with self._lock:
            self._outages[method] = status

    def end_outage(self, method: str | None = None) -> None:
        with self._lock:
            if method is None:
                self._outages.clear()
                self._html.clear()
            else:
                self._outages.pop(method, None)
                self._html.pop(method, None)

    def answer_html(self, method: str = "*", status: int = 200) -> None:
        """Until `end_outage`, every call of `method` ("*" = any) gets an HTML page with `status` instead of the
        Bot API's JSON, before the token is even looked at: a proxy's error or login page, a wrong URL. Nothing
        is done."""
        with self._lock:
            self._html[method] = status

    def html_status(self, method: str) -> int | None:
        """The status of the HTML page `method` gets now (None: it gets the Bot API)."""
        with self._lock:
            return self._html.get(method, self._html.get("*"))

    def outage_error(self, method: str) -> TelegramError | None:
        """The failure an ongoing outage gives `method` right before it executes (None: no outage)."""
        if method == "getUpdates":
            return None
        with self._lock:
            status = self._outages.get(method, self._outages.get("*"))
        return failure(status) if status is not None else None

    def clear(self) -> None:
        """Forget every planned and random failure and outage (blocks stay: they are part of the world)."""
        with self._lock:
            self._planned.clear()
            self._random = None
            self._outages.clear()
            self._html.clear()

    @property
    def pending(self) -> int:
        """How many planned one-shot failures and delays are still waiting for their request."""
        with self._lock:  # the server's loop may be consuming them in another thread
            return sum(p.times for p in self._planned)

    def decide(self, method: str) -> FaultDecision | None:
        with self._lock:
            return self._decide(method)

    def _decide(self, method: str) -> FaultDecision | None:
        decision: FaultDecision | None = None
        for planned in self._planned:
            if planned.matches(method):
                planned.times -= 1
                if planned.times == 0:
                    self._planned.remove(planned)
                if planned.status is not None:
                    decision = FaultDecision(error=failure(planned.status, planned.retry_after,
                                                           planned.description))
                else:
                    decision = FaultDecision(delay=planned.delay)
                break
        if decision is None and self._random is not None and method in self._random.methods:
            mode = self._random
            roll = mode.rng.random()
            if roll < mode.rate_429:
                decision = FaultDecision(error=failure(429, mode.retry_after))
            elif roll < mode.rate_429 + mode.rate_5xx:
                decision = FaultDecision(error=failure(mode.status_5xx))
            elif roll < mode.rate_429 + mode.rate_5xx + mode.rate_403:
                decision = FaultDecision(error=failure(403))
        if decision is not None:
            self.injected += 1
        return decision


@dataclass
class RateLimits:
    """Telegram's documented sending limits; `enabled` is off by default so tests and benchmarks run fast."""

    enabled: bool = False
    per_chat_per_second: int = 1
    per_group_per_minute: int = 20
    global_per_second: int = 30


@dataclass
class RateLimiter:
    """Sliding windows over the injected clock; a refusal carries the seconds until a slot frees up."""

    limits: RateLimits
    clock: Callable[[], float]
    _global: deque[float] = field(default_factory=deque)
    _per_chat: dict[int, deque[float]] = field(default_factory=dict)
    _per_group: dict[int, deque[float]] = field(default_factory=dict)

    def check(self, chat_id: int, is_group: bool) -> TelegramError | None:
        """Refuse (429) or admit one message to `chat_id`; an admitted message is counted."""
        if not self.limits.enabled:
            return None
        now = self.clock()
        windows = [(self._global, 1.0, self.limits.global_per_second),
                   (self._per_chat.setdefault(chat_id, deque()), 1.0, self.limits.per_chat_per_second)]
        if is_group:
            windows.append((self._per_group.setdefault(chat_id, deque()), 60.0, self.limits.per_group_per_minute))
        wait = 0.0
        for window, span, allowed in windows:
            while window and window[0] <= now - span:
                window.popleft()
            if len(window) >= allowed:
                wait = max(wait, window[len(window) - allowed] + span - now)
        if wait > 0:
            return too_many_requests(max(1, math.ceil(wait)))
        for window, _, _ in windows:
            window.append(now)
        return None
