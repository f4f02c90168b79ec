"""Fixtures: a strict loopback Bot API server per test and a real python-telegram-bot Bot talking HTTP to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from loopback import BotApiServer


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer(strict=True) as running:
        yield running


def make_bot(server: BotApiServer, read_timeout: float = 5.0) -> Bot:
    return Bot(
        server.token,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        request=HTTPXRequest(read_timeout=read_timeout, connect_timeout=2.0),
    )


@pytest.fixture
async def bot(server: BotApiServer) -> AsyncIterator[Bot]:
    async with make_bot(server) as client:
        yield client


@pytest.fixture
def alice(server: BotApiServer) -> dict:
    """A member who has started the bot."""
    return server.add_user(2001, "张三", username="zhangsan", started=True)
