"""A small sandbox for the page tests: a roster in the database, the Bot API world, the page's HTTP app."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import ManualClock
from bot.sandbox.app import SandboxBackend
from loopback import BotApiServer
from loopback.world import World
from bot.sandbox.people import assign_missing_group_chats, load_directory
from bot.sandbox.timecontrol import TimeControl
from bot.sandbox.web import build_web_app
from storage import models
from storage.db import transaction

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 3, 14, 9, 0, tzinfo=SHANGHAI)


def add_roster(factory) -> None:  # noqa: ANN001
    """One branch (with a group chat) and its 书记, one member, and a committee member bound already."""
    with transaction(factory) as session:
        committee = models.Organization(code="D01", name="机关党委", type="党委")
        session.add(committee)
        session.flush()
        branch = models.Organization(code="B01", name="第一党支部", type="党支部", parent_id=committee.id)
        other = models.Organization(code="B02", name="第二党支部", type="党支部", parent_id=committee.id)
        session.add_all([branch, other])
        session.flush()
        people = [
            ("M001", "张书记", branch, [(branch, "书记", False)]),
            ("M002", "王五", branch, []),
            ("M003", "李委员", other, [(committee, "委员", True)]),
        ]
        for no, name, org, roles in people:
            member = models.Member(member_no=no, name=name, org_id=org.id, category="正式党员", joined_on=date(2010, 7, 1))
            session.add(member)
            session.flush()
            for role_org, role, upper in roles:
                session.add(models.MemberRole(member_id=member.id, org_id=role_org.id, role=role, upper=upper))
        assign_missing_group_chats(session)


@dataclass
class PageWorld:
    client: TestClient
    world: World
    backend: SandboxBackend
    clock: ManualClock
    factory: Any

    def person(self, member_no: str):  # noqa: ANN201
        with transaction(self.factory) as session:
            return next(p for p in load_directory(session).people if p.member_no == member_no)

    def bot_says(self, chat_id: int, text: str, **params: Any) -> dict[str, Any]:
        """The bot sending, as the real bot would through the Bot API."""
        return self.world.send_message({"chat_id": chat_id, "text": text, **params})

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = await self.client.post(path, json=body)
        return response.status, await response.json()

    async def get(self, path: str) -> dict[str, Any]:
        response = await self.client.get(path)
        assert response.status == 200, await response.text()
        return await response.json()


class EventStream:
    """Reads a Server-Sent Events response one `data:` event at a time."""

    def __init__(self, response) -> None:  # noqa: ANN001
        self.response = response

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        async def read() -> dict[str, Any]:
            while True:
                line = (await self.response.content.readline()).decode()
                if line.startswith("data: "):
                    return json.loads(line[len("data: "):])

        return await asyncio.wait_for(read(), timeout)


@pytest.fixture
async def page(session_factory) -> AsyncIterator[PageWorld]:  # noqa: ANN001
    add_roster(session_factory)
    clock = ManualClock(START)
    server = BotApiServer(clock=clock)
    await server.start()
    time = TimeControl(clock, SHANGHAI, session_factory, settle_timeout=0.5)
    backend = SandboxBackend(server=server, session_factory=session_factory, zone=SHANGHAI, time=time)
    backend.mirror_roster()
    client = TestClient(TestServer(build_web_app(backend)))
    await client.start_server()
    try:
        yield PageWorld(client, server.world, backend, clock, session_factory)
    finally:
        await client.close()
        await server.stop()
