"""The whole sandbox in-process (real bot, runtime and page) driven over HTTP, without a browser."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import aiohttp
import pytest

from bot.sandbox.app import Sandbox, SandboxOptions, SandboxStartError
from bot.settings import Settings
from storage import models
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import ensure_schema

START = datetime.fromisoformat("2026-11-16T07:00:00+08:00")  # the demo branch's 主题党日 and 党课 day


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    settings = Settings.from_env({"BRANCHBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.db'}"})
    running = Sandbox(settings, SandboxOptions(port=0, clock_start=START, clock_ticking=False))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


class Page:
    """What one browser tab does: HTTP calls and one event stream, for one person."""

    def __init__(self, http: aiohttp.ClientSession, url: str, user_id: int) -> None:
        self.http, self.url, self.user_id = http, url, user_id
        self.stream: aiohttp.ClientResponse | None = None

    async def open(self) -> None:
        self.stream = await self.http.get(f"{self.url}api/events?user={self.user_id}")

    async def post(self, path: str, body: dict) -> dict:
        async with self.http.post(self.url + path, json={"user_id": self.user_id, **body}) as response:
            payload = await response.json()
            assert response.status == 200, payload
            return payload

    async def next_event(self, wanted, limit: int = 200) -> dict:  # noqa: ANN001 - a predicate on the event
        assert self.stream is not None
        for _ in range(limit):
            line = (await self.stream.content.readline()).decode()
            if line.startswith("data: "):
                event = json.loads(line[6:])
                if wanted(event):
                    return event
        raise AssertionError("the awaited event never came")


def bot_message(text: str):  # noqa: ANN201
    return lambda e: e["type"] in ("message", "edit") and e["message"]["from"]["is_bot"] and text in (e["message"]["text"] or "")


async def test_bind_remind_check_in_and_the_roll_reaches_the_secretary(sandbox: Sandbox) -> None:
    directory = sandbox.backend.directory()
    member_no = {p.member_no: p for p in directory.people}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        member = Page(http, sandbox.url, member_no["1007"].user_id)
        secretary = Page(http, sandbox.url, member_no["1002"].user_id)
        await member.open()
        await secretary.open()

        await member.post("api/bind", {})
        assert "欢迎您，杨帆同志" in (await member.next_event(bot_message("欢迎")))["message"]["text"]
        await member.next_event(lambda e: e["type"] == "people")  # every page learns of the binding
        await secretary.post("api/bind", {})
        await secretary.next_event(bot_message("欢迎"))

        # Run the clock on until a ✅ 签到 is accepted.
        answer = ""
        for _ in range(10):
            await member.post("api/clock/advance", {"to": "next"})
            async with http.get(f"{sandbox.url}api/chats?user={member.user_id}") as response:
                private = (await response.json())["chats"][0]
            buttons = [(m["message_id"], key["callback_data"]) for m in private["messages"]
                       for row in (m["reply_markup"] or {}).get("inline_keyboard", []) for key in row
                       if "签到" in key["text"]]
            if not buttons:
                continue
            message_id, data = buttons[-1]
            await member.post("api/press", {"chat_id": member.user_id, "message_id": message_id, "data": data})
            answer = (await member.next_event(lambda e: e["type"] == "notice"))["text"]
            if "签到成功" in answer:
                break
        assert "签到成功" in answer

        title = answer.split("「")[1].split("」")[0]
        for _ in range(10):
            await secretary.post("api/clock/advance", {"to": "next"})
            async with http.get(f"{sandbox.url}api/chats?user={secretary.user_id}") as response:
                texts = [m["text"] or "" for m in (await response.json())["chats"][0]["messages"]]
            rolls = [t for t in texts if f"「{title}」" in t and "签到情况" in t]
            if rolls:
                break
        assert rolls and "已签到（1）：杨帆" in rolls[-1]


async def test_tomorrow_lands_at_eight_and_every_page_sees_the_new_time(sandbox: Sandbox) -> None:
    person = sandbox.backend.directory().people[0]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        page = Page(http, sandbox.url, person.user_id)
        await page.open()

        result = await page.post("api/clock/advance", {"to": "tomorrow"})

        assert result["label"] == "2026年11月17日（周二）08:00"
        assert result["stops"] > 0, "the 16th's reminders, windows and rolls were played on the way"
        clock = await page.next_event(lambda e: e["type"] == "clock" and e["label"] == result["label"])
        assert clock["timezone"] == "Asia/Shanghai"


async def test_a_busy_port_is_refused_in_chinese_and_nothing_is_left_running(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings.from_env({"BRANCHBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.db'}"})
        sandbox = Sandbox(settings, SandboxOptions(port=port, clock_start=START, clock_ticking=False))
        with pytest.raises(SandboxStartError, match="端口"):
            await sandbox.start()
    assert sandbox.server is None and sandbox.bot is None
    await sandbox.stop()  # stopping again is harmless


async def test_a_database_with_real_telegram_accounts_is_refused(tmp_path: Path) -> None:
    """An explicitly configured SQLite file that served a real bot must not have its clock moved."""
    url = f"sqlite:///{tmp_path / 'real.db'}"
    ensure_schema(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        org = models.Organization(code="B01", name="第一党支部", type="党支部")
        session.add(org)
        session.flush()
        member = models.Member(member_no="1", name="张三", org_id=org.id, category="正式党员", joined_on=date(2010, 1, 1))
        session.add(member)
        session.flush()
        session.add(models.TelegramBinding(member_id=member.id, telegram_user_id=123456789))
    engine.dispose()

    sandbox = Sandbox(Settings.from_env({"BRANCHBOT_DATABASE_URL": url}), SandboxOptions(port=0, clock_start=START))
    with pytest.raises(SandboxStartError, match="真实 Telegram 账号"):
        await sandbox.start()
    assert sandbox.server is None


async def test_a_restarted_sandbox_keeps_its_time_bindings_and_keeps_reminding(tmp_path: Path) -> None:
    settings = Settings.from_env({"BRANCHBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.db'}"})
    first = Sandbox(settings, SandboxOptions(port=0, clock_start=START, clock_ticking=False))
    await first.start()
    try:
        member = next(p for p in first.backend.directory().people if p.member_no == "1007")
        await first.backend.bind(member)
        await first.server.next_bot_request(method="sendMessage", timeout=20)  # the welcome
        await first.backend.time.advance("next")
        moved_to = first.clock.now()
    finally:
        await first.stop()

    # No explicit start this time, and the real clock reads earlier than the sandbox had got to: it continues.
    again = Sandbox(settings, SandboxOptions(port=0, clock_ticking=False), wall_clock=lambda: START)
    await again.start()
    try:
        assert again.clock.now() == moved_to
        person = next(p for p in again.backend.directory().people if p.member_no == "1007")
        assert person.bound
        await again.backend.time.advance("next")
        reminders = [m for m in again.server.chat(person.user_id).messages if "活动提醒" in (m.get("text") or "")]
        assert reminders, "the bound member's private chat works after the restart"
    finally:
        await again.stop()
