"""The leader hears other processes' commits: LISTEN on `branchbot_outbox` (PostgreSQL), reconnecting after outages.

Followers and the command line send the notification in the transaction that queued outbox rows or changed
activities (`storage.changes`), so it arrives only once that committed. The leader's handler runs what its own
chat edge runs after a commit (wake the dispatcher, follow the changed meetings up). A lost connection is never
fatal: the dispatcher still polls the outbox every `BRANCHBOT_POLL_SECONDS`; the listener connects again, and
once it listens again it wakes the leader once, for whatever was committed while it was deaf.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

from storage.changes import CHANNEL, Notice
from storage.db import POSTGRES_CONNECT_ARGS

log = logging.getLogger(__name__)

# How often a quiet connection is asked whether it is still there: a stalled link (packets dropped, the TCP
# session still open) otherwise keeps the listener deaf without any error.
CHECK_SECONDS = 10.0
CHECK_TIMEOUT_SECONDS = 5.0


def libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL as a libpq connection string (without the `+psycopg` driver part)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class OutboxListener:
    """`await listener.run()` until cancelled; `on_notice(notice)` is called on the event loop for each
    notification from another process (None: it may have missed some, look at everything)."""

    def __init__(self, database_url: str, on_notice: Callable[[Notice | None], None], *, own_origin: str | None,
                 retry_seconds: float = 1.0, max_retry_seconds: float = 15.0) -> None:
        self.url = libpq_url(database_url)
        self.on_notice = on_notice
        self.own_origin = own_origin
        self.retry_seconds = retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.listening = False
        self.connects = 0  # successful LISTENs (the first, then one per reconnection)

    async def run(self) -> None:
        delay = self.retry_seconds
        while True:
            connects = self.connects
            try:
                await self._listen()
            except (psycopg.Error, OSError, asyncio.TimeoutError) as error:
                if self.connects > connects or delay == self.retry_seconds:  # once per outage, not per retry
                    log.warning("outbox notifications: connection lost or refused (%s); the dispatcher polls "
                                "meanwhile; trying to listen again", type(error).__name__)
            finally:
                self.listening = False
            if self.connects > connects:
                delay = self.retry_seconds
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_retry_seconds)

    async def _listen(self) -> None:
        connection = await psycopg.AsyncConnection.connect(self.url, autocommit=True, **POSTGRES_CONNECT_ARGS)
        # Closed, not left by `async with`: that rolls back first, which waits for ever on a stalled link.
        try:
            await connection.execute(f"LISTEN {CHANNEL}")
            self.listening = True
            self.connects += 1
            if self.connects == 1:
                log.info("outbox notifications: listening on %s", CHANNEL)
            else:
                log.info("outbox notifications: listening again")
                self.on_notice(None)  # what was committed while this was deaf goes out now, not at the next poll
            while True:
                async for notify in connection.notifies(timeout=CHECK_SECONDS):
                    notice = Notice.parse(notify.payload)
                    if notice.origin is None or notice.origin != self.own_origin:
                        self.on_notice(notice)
                await asyncio.wait_for(connection.execute("SELECT 1"), CHECK_TIMEOUT_SECONDS)
        finally:
            await connection.close()
