"""How the bot talks to Telegram: the send timeouts, which failed sends may have been delivered, and when to retry.

Telegram sometimes answers a send only after many seconds and still delivers it. A read timeout shorter than
those answers turns each of them into a retry and so into a second copy (a 10 s timeout with 3% of answers
taking 12 s gave 16 extra copies to 15 members). So:

- sends wait `SendTimeouts.read` (45 s) for an answer, longer than Telegram's slow answers;
- a failure before the request was written (no connection, a connect or pool timeout: `transport.NotSent`) is
  retried with the dispatcher's usual back-off; nothing can have arrived;
- a failure after it was written (a read timeout, a 5xx, a connection broken mid-answer) is *ambiguous*: the
  message may have arrived. It is retried only after `ambiguous_pause` (60 s), logged as "possibly delivered
  twice", and counted (`branchbot_send_timeouts_total`, `branchbot_outbox_ambiguous_total`). Telegram offers no
  idempotency key and a bot cannot read its own chat history, so after the pause a retry is the only way
  not to lose the message.

Environment: `BRANCHBOT_SEND_READ_TIMEOUT_SECONDS` (45), `BRANCHBOT_AMBIGUOUS_RETRY_SECONDS` (60), read by `bot.settings`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut

from bot import texts
from bot.settings import Settings
from bot.runtime.transport import AiohttpRequest, NotSent

log = logging.getLogger(__name__)

DEFAULT_BOT_API = "https://api.telegram.org"


@dataclass(frozen=True)
class SendTimeouts:
    """Seconds; `read` is the one that decides whether a slow answer becomes a retry."""

    connect: float = 5.0
    write: float = 20.0
    read: float = Settings.send_read_timeout
    pool: float = 10.0

    def request(self, pool_size: int, *, may_write: Callable[[], bool] | None = None) -> AiohttpRequest:
        """The transport for sends (outbox and handler replies) with these timeouts; `may_write`: the fence
        asked right before each request's bytes are written (the outbox's sends only)."""
        return AiohttpRequest(connection_pool_size=pool_size, read_timeout=self.read, write_timeout=self.write,
                              connect_timeout=self.connect, pool_timeout=self.pool, may_write=may_write)


@dataclass(frozen=True)
class RetryDecision:
    delay: timedelta
    maybe_delivered: bool  # the request was written: Telegram may have delivered it, a retry may double it
    timed_out: bool


@dataclass(frozen=True)
class SendPolicy:
    timeouts: SendTimeouts = field(default_factory=SendTimeouts)
    ambiguous_pause: timedelta = Settings.ambiguous_retry

    def after_failure(self, error: TelegramError, *, outbox_id: int, chat_id: int, attempt: int,
                      backoff: timedelta, final: bool) -> RetryDecision:
        """Classify a failed send (a `NetworkError`, `TimedOut` included), log it, and say when to try again.

        `backoff` is the caller's pause for a failure that delivered nothing; `final`: no retry will follow.
        """
        maybe_delivered = not isinstance(error, NotSent)
        timed_out = isinstance(error, TimedOut)
        delay = max(backoff, self.ambiguous_pause) if maybe_delivered else backoff
        where = f"send: outbox row {outbox_id} to chat {chat_id} (attempt {attempt})"
        if timed_out and maybe_delivered:
            what = f"no answer within {self.timeouts.read:g} s; Telegram may have delivered it"
        elif maybe_delivered:
            what = f"failed after the request was written ({_name(error)}); Telegram may have delivered it"
        else:
            what = f"not sent ({_name(error)})"
        if final:
            log.warning("%s: %s", where, what)
        elif maybe_delivered:
            log.warning("%s: %s; retrying in %g s: possibly delivered twice", where, what, delay.total_seconds())
        else:
            log.warning("%s: %s; retrying in %g s", where, what, delay.total_seconds())
        return RetryDecision(delay=delay, maybe_delivered=maybe_delivered, timed_out=timed_out)


def _name(error: TelegramError) -> str:
    return f"{type(error).__name__}: {error.message}"


def failure_text(error: BaseException, base_url: str | None) -> str:
    """One Chinese sentence for a failed call to the Bot API (getMe at start, doctor, invite), never the token.

    The three things an operator can act on: the token was rejected, the address cannot be reached, or what
    answered is not the Bot API as expected (an HTML page from a proxy, a wrong URL, a 5xx).
    """
    address = shown_address(base_url)
    if isinstance(error, InvalidToken):
        return texts.TELEGRAM_TOKEN_REJECTED
    if _no_answer(error):
        return texts.telegram_unreachable(address)
    return texts.telegram_unexpected_answer(address)


# PTB's own transport and ours name the HTTP library in errors that mean "no answer came".
_NO_ANSWER_PREFIXES = ("httpx.", "aiohttp.", "Unknown error in HTTP implementation")


def _no_answer(error: BaseException) -> bool:
    if isinstance(error, (TimedOut, NotSent, OSError)):
        return True
    return isinstance(error, NetworkError) and str(error.message).startswith(_NO_ANSWER_PREFIXES)


def shown_address(base_url: str | None) -> str:
    """The Bot API's scheme, host and port only: a path (or user info) could carry a token."""
    parts = urlsplit(base_url or DEFAULT_BOT_API)
    netloc = parts.netloc.rpartition("@")[2]  # user info dropped: it may be a credential
    return f"{parts.scheme}://{netloc}" if parts.scheme else netloc or texts.EMPTY_ADDRESS
