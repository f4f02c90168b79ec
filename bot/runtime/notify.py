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
from collections.abc import Awaitable, Callable

import psycopg
from sqlalchemy.engine import make_url

from storage.changes import CHANNEL, Notice
from storage.db import POSTGRES_CONNECT_ARGS

log = logging.getLogger(__name__)

# How often a quiet connection is asked whether it is still there: a stalled link (packets dropped, the TCP
# session still open) otherwise keeps the listener deaf without any error.
CHECK_SECONDS = 10.0
CHECK_TIMEOUT_SECONDS = 5.0
# How long `stop` waits for the listener to end. The connection is closed first, so nothing is left to wait
# for on the network; this only bounds the task's own unwinding.
STOP_SECONDS = 1.0


def libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL as a libpq connection string (without the `+psycopg` driver part)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class OutboxListener:
    """`listener.start()` on the event loop, `await listener.stop()` (bounded, also on a frozen link);
    `on_notice(notice)` is called on the event loop for each notification from another process (None: it may
    have missed some, look at everything).

    An interrupted query is never cancelled while its connection is open: psycopg would first ask the server
    to cancel it, through the same (maybe frozen) path, for up to 5 s, and then wait 5 s more for the answer.
    The connection is closed instead, which sends nothing that waits; the query then ends at once."""

    def __init__(self, database_url: str, on_notice: Callable[[Notice | None], None], *, own_origin: str | None,
                 retry_seconds: float = 1.0, max_retry_seconds: float = 15.0, check_seconds: float = CHECK_SECONDS,
                 check_timeout_seconds: float = CHECK_TIMEOUT_SECONDS) -> None:
        self.url = libpq_url(database_url)
        self.on_notice = on_notice
        self.own_origin = own_origin
        self.retry_seconds = retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.check_seconds = check_seconds
        self.check_timeout_seconds = check_timeout_seconds
        self.listening = False
        self.connects = 0  # successful LISTENs (the first, then one per reconnection)
        self.checks = 0  # liveness checks sent on quiet connections
        self._connection: psycopg.AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        """Listens in a task of the running loop until `stop`."""
        self._task = asyncio.get_running_loop().create_task(self.run(), name="outbox-listener")
        return self._task

    async def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stops listening, waiting at most `timeout`, however the link behaves: the connection is closed
        before the task is cancelled, so an interrupted LISTEN or check has nothing left to wait for."""
        task, self._task = self._task, None
        if task is None:
            return
        if self._connection is not None:
            await self._connection.close()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            log.warning("outbox notifications: the listener did not stop within %.1f s; left to end alone", timeout)
        self.listening = False

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
        self._connection = connection
        # Closed, not left by `async with`: that rolls back first, which waits for ever on a stalled link.
        try:
            await self._bounded(connection, connection.execute(f"LISTEN {CHANNEL}"), self.check_timeout_seconds)
            self.listening = True
            self.connects += 1
            if self.connects == 1:
                log.info("outbox notifications: listening on %s", CHANNEL)
            else:
                log.info("outbox notifications: listening again")
                self.on_notice(None)  # what was committed while this was deaf goes out now, not at the next poll
            while True:
                async for notify in connection.notifies(timeout=self.check_seconds):
                    notice = Notice.parse(notify.payload)
                    if notice.origin is None or notice.origin != self.own_origin:
                        self.on_notice(notice)
                self.checks += 1
                await self._bounded(connection, connection.execute("SELECT 1"), self.check_timeout_seconds)
        finally:
            if self._connection is connection:
                self._connection = None
            await connection.close()

    @staticmethod
    async def _bounded(connection: psycopg.AsyncConnection, query: Awaitable[object], timeout: float) -> None:
        """Awaits `query` on `connection` for at most `timeout` (`asyncio.TimeoutError`); a query left unfinished
        (timed out, or this task cancelled) is ended by closing the connection first (see the class)."""
        running = asyncio.ensure_future(query)
        try:
            done, _ = await asyncio.wait({running}, timeout=timeout)
            if not done:
                raise asyncio.TimeoutError
            running.result()
        finally:
            if not running.done():
                await connection.close()
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
