"""An aiohttp transport for python-telegram-bot, used for the bot's sends (outbox and handler replies).

PTB's default transport (httpx) spends more CPU per request than the send itself needs; with a
self-hosted Bot API server (no flood limits) that CPU is the ceiling of delivery. This implements PTB's
documented `BaseRequest.do_request` contract on aiohttp (already a dependency), so PTB keeps doing
everything else: building parameters, and turning statuses into `Forbidden`, `RetryAfter`, `BadRequest`.
The outbox bot and the Application's handler replies use it; only the long poll (getUpdates) keeps PTB's own request.

Failures before the request reached Telegram (no connection, a connect or pool timeout) are raised as
`NotSent` subclasses of PTB's errors, so the send policy (bot.runtime.sending) can tell them from a timeout
or a broken connection after the request was written, when Telegram may have delivered the message.

`may_write` (the leader's "is my lease still trusted?") is asked, for every request that carries parameters
(not getMe at start), at the last moment before its bytes go to the socket, with nothing that can wait in
between: aiohttp writes a body in a task of its own, so a check made when the send was decided leaves a gap of
an event-loop turn in which a process frozen (SIGSTOP, a paused VM) keeps every send it had started, and writes
them all when it resumes after a standby took over.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from telegram._utils.defaultvalue import DefaultValue


# The token is a path segment of every Bot API URL (/bot<token>/method); aiohttp names URLs in some errors.
_TOKEN_IN_URL = re.compile(r"/(file/)?bot[^/\s]+/")


def without_token(text: str) -> str:
    return _TOKEN_IN_URL.sub(lambda match: f"/{match.group(1) or ''}bot<redacted>/", text)


class NotSent:
    """Marks an error raised before the request was written: Telegram cannot have acted on it."""


class ConnectFailed(NetworkError, NotSent):
    """No connection to the Bot API (refused, DNS): nothing was sent."""


class ConnectTimedOut(TimedOut, NotSent):
    """No connection (or no free pooled one) within the connect/pool timeout: nothing was sent."""


class WriteRefused(NetworkError, NotSent):
    """`may_write` said no right before the request's bytes were written: nothing reached Telegram."""


class _GatedBody(aiohttp.BytesPayload):
    """A form body that asks `may_write` in the same step as its (and the buffered headers') one socket write."""

    def __init__(self, value: bytes, may_write: Callable[[], bool]) -> None:
        super().__init__(value, content_type="application/x-www-form-urlencoded")
        self._may_write = may_write
        self.refused = False

    def _check(self) -> None:
        if not self._may_write():
            self.refused = True
            raise WriteRefused("not written: this process may no longer send")

    async def write(self, writer: Any) -> None:
        self._check()
        await super().write(writer)

    async def write_with_length(self, writer: Any, content_length: int | None) -> None:
        self._check()
        await super().write_with_length(writer, content_length)


class AiohttpRequest(BaseRequest):
    def __init__(self, *, connection_pool_size: int = 16, read_timeout: float = 10.0,
                 connect_timeout: float = 5.0, pool_timeout: float = 10.0, write_timeout: float = 10.0,
                 may_write: Callable[[], bool] | None = None) -> None:
        self._may_write = may_write
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._write_timeout = write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | DefaultValue | None = BaseRequest.DEFAULT_NONE,
        write_timeout: float | DefaultValue | None = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | DefaultValue | None = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | DefaultValue | None = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        write = self._write_timeout if isinstance(write_timeout, DefaultValue) else write_timeout
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        total = None if read is None else read + (write or 0.0) + (connect or 0.0) + (pool or 0.0)
        timeout = aiohttp.ClientTimeout(total=total, connect=pool, sock_connect=connect, sock_read=read)
        data: aiohttp.FormData | aiohttp.BytesPayload | dict[str, str] | None = None
        gated: _GatedBody | None = None
        if request_data is not None:
            files = request_data.multipart_data
            may_write = self._may_write if request_data.json_parameters else None  # not getMe at start
            if may_write is not None and not may_write():
                raise WriteRefused("not sent: this process may no longer send")
            if may_write is not None and not files:
                data = gated = _GatedBody(urlencode(request_data.json_parameters).encode(), may_write)
            elif files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, part in files.items():
                    filename, content, *rest = part
                    form.add_field(name, content, filename=filename, content_type=rest[0] if rest else None)
                data = form
            else:
                data = request_data.json_parameters
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as response:
                return response.status, await response.read()
        except Exception as error:
            if gated is not None and gated.refused:  # aiohttp wraps what the body raised
                raise WriteRefused("not written: this process may no longer send") from error
            translated = _telegram_error(error)
            if translated is None:
                raise
            raise translated from error


def _telegram_error(error: Exception) -> Exception | None:
    """aiohttp's failure as PTB's error (None: not a transport failure; raise it as it is)."""
    name = f"aiohttp.{error.__class__.__name__}"
    if isinstance(error, aiohttp.ConnectionTimeoutError):  # before asyncio.TimeoutError: it is one too
        return ConnectTimedOut(f"{name}: no connection in time")
    if isinstance(error, asyncio.TimeoutError):
        return TimedOut()
    if isinstance(error, aiohttp.ClientConnectorError):
        return ConnectFailed(without_token(f"{name}: {error}"))
    if isinstance(error, aiohttp.ClientError):
        return NetworkError(without_token(f"{name}: {error}"))
    return None
