"""/report and /calendar through a real python-telegram-bot Application and the loopback Bot API server."""

from __future__ import annotations

import io
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from icalendar import Calendar
from openpyxl import load_workbook
from PIL import Image
from telegram.ext import ApplicationBuilder

from bot.callbacks import CallbackSigner
from bot.clock import ManualClock
from bot.deployment import DeploymentSource
from bot.handlers.common import ChatContext
from bot.handlers.reports import handlers
from loopback.server import BotApiServer
from bot.settings import PROJECT_CONFIG_DIR
from storage import models
from storage.db import transaction
from tests.reports.conftest import SHANGHAI, build_world, local

# Telegram users bound to roster members: 王书记 (B01 书记, D01 委员), 李明 (plain member), 陈书记 (B02 书记).
USERS = {"M001": 7001, "M002": 7002, "M010": 7010}
GROUP = -1007001


@asynccontextmanager
async def running_bot(session_factory, config_dir, *, also=None) -> AsyncIterator[BotApiServer]:
    with transaction(session_factory) as session:
        world = build_world(session)
        if also is not None:
            also(session, world)
        for member_no, user_id in USERS.items():
            session.add(models.TelegramBinding(member_id=world.members[member_no], telegram_user_id=user_id,
                                               private_chat_id=user_id))
    clock = ManualClock(local("2025-04-02T10:00"))
    async with BotApiServer(strict=True, clock=clock) as server:
        for member_no, user_id in USERS.items():
            server.add_user(user_id, member_no, started=True)
        server.add_group(GROUP, "第一支部群", list(USERS.values()))
        app = ApplicationBuilder().token(server.token).base_url(server.base_url).base_file_url(server.base_file_url).build()
        chat = ChatContext(session_factory=session_factory, clock=clock, zone=SHANGHAI,
                           signer=CallbackSigner.from_token(server.token), config=DeploymentSource.for_dir(config_dir))
        app.add_handlers(handlers(chat))
        await app.initialize()
        await app.start()
        await app.updater.start_polling(poll_interval=0)
        try:
            yield server
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()


async def sent_file(server: BotApiServer, method: str, key: str) -> tuple[bytes, dict]:
    record = await server.next_bot_request(method=method, timeout=30)
    assert record.ok, record.outcome
    message = record.result
    file_id = message[key][-1]["file_id"] if key == "photo" else message[key]["file_id"]
    return server.file_bytes(file_id), message


async def reply(server: BotApiServer) -> str:
    """The text of the bot's next message."""
    record = await server.next_bot_request(method="sendMessage", timeout=30)
    return record.params["text"]


@pytest.fixture
def config_dir(tmp_path):
    path = tmp_path / "config"
    path.mkdir()
    shutil.copy(PROJECT_CONFIG_DIR / "catalog.yaml", path / "catalog.yaml")
    return path


async def test_secretary_gets_the_workbook_and_two_charts(session_factory, config_dir):
    async with running_bot(session_factory, config_dir) as server:
        server.user_sends(USERS["M001"], "/report B01 2025Q1")
        workbook, message = await sent_file(server, "sendDocument", "document")
        assert message["document"]["file_name"] == "台账_B01_20250101-20250331.xlsx"
        assert message["caption"] == ("第一支部 台账（2025年第一季度）\n"
                                      "三会一课未开展：\n"
                                      "第一支部：支委会 2025-02、2025-03；党员大会 2025Q1；党课 2025Q1；党小组会（第一党小组） 2025-01、2025-03")
        book = load_workbook(io.BytesIO(workbook))
        assert "出勤-第一支部" in book.sheetnames
        assert [c.value for c in book["主题党日记录"][4]][:8] == ["2025-01-15", "第一支部", "主题党日",
                                                            "学习二十届三中全会精神", "王书记", "李明", 4, 2]
        for _ in range(2):
            png, _ = await sent_file(server, "sendPhoto", "photo")
            assert Image.open(io.BytesIO(png)).format == "PNG"


REFUSALS = [
    # (who, where, says, the bot's whole answer)
    ("M002", "private", "/report", "报表只向支部委员和上级党组织委员提供。"),
    ("M010", "private", "/report B01", "您只能查看本组织及下级组织的情况。"),
    ("M001", "private", "/report B01 下辈子", (
        "无法识别“下辈子”。\n"
        "用法：/report [组织编码] [时间段]\n"
        "时间段可写：本月、上月、本季度、上季度、今年、去年、一季度、12月、上半年、下半年、2025、2025年、2025-03、2025年3月、"
        "2025Q1、2025年第一季度、2025H1、2025年上半年；不写为今年以来。\n"
        "例：/report B01 上季度")),
    ("M002", "private", "/calendar B02", "只能获取本人所在组织或所管理组织的日历。"),
    ("M001", "private", "/calendar X99", "没有组织编码 X99。"),
    ("M001", "group", "/report B01", "台账含党员个人的出勤情况，请在与我的私聊中发送 /report。"),
    ("M001", "group", "/calendar", "个人日历请在与我的私聊中发送 /calendar 获取。"),
]


async def test_refusals_are_clear_and_send_nothing(session_factory, config_dir):
    async with running_bot(session_factory, config_dir) as server:
        answers = []
        for who, where, says, _ in REFUSALS:
            server.user_sends(USERS[who], says, chat_id=GROUP if where == "group" else None)
            answers.append((says, await reply(server)))
        assert answers == [(says, answer) for _, _, says, answer in REFUSALS]
        assert server.calls("sendDocument") == [] and server.calls("sendPhoto") == []


async def test_member_gets_their_own_calendar_file(session_factory, config_dir):
    async with running_bot(session_factory, config_dir) as server:
        server.user_sends(USERS["M002"], "/calendar")
        data, message = await sent_file(server, "sendDocument", "document")
        assert message["document"]["file_name"] == "calendar_M002.ics"
        events = Calendar.from_ical(data).walk("VEVENT")
        # From a month back (2 March 2025) to a year ahead: February is gone, next January is in.
        assert [str(e["SUMMARY"]) for e in events] == ["李明的政治生日", "2026年一月主题党日"]


async def test_member_gets_their_branch_calendar(session_factory, config_dir):
    async with running_bot(session_factory, config_dir) as server:
        server.user_sends(USERS["M002"], "/calendar B01")
        data, message = await sent_file(server, "sendDocument", "document")
        calendar = Calendar.from_ical(data)
        assert str(calendar["X-WR-CALNAME"]) == "第一支部活动安排"
        assert "李明的政治生日" not in [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")]


async def test_branch_calendar_may_be_shared_in_the_group(session_factory, config_dir):
    async with running_bot(session_factory, config_dir) as server:
        server.user_sends(USERS["M001"], "/calendar B01", chat_id=GROUP)
        _, message = await sent_file(server, "sendDocument", "document")
        assert message["chat"]["id"] == GROUP and message["document"]["file_name"] == "calendar_B01.ics"


async def test_report_names_plainly_cuts_whole_lines_and_tells_no_record_from_missed(session_factory, config_dir):
    """#12 point 8: the file name as sent, the caption, 无记录 before the ledger begins, groups named."""
    def second_group(session, world):
        g2 = models.Organization(code="B01G2", name="第二党小组", type="党小组", parent_id=world.orgs["B01"])
        session.add(g2)
        session.flush()
        session.add(models.Activity(occurrence_key="group_meeting:B01G2:2025-02", org_id=g2.id,
                                    obligation="group_meeting", kind="meeting", title="二月党小组会",
                                    starts_at=local("2025-02-11T15:00"), audience="group_members", status="held"))

    async with running_bot(session_factory, config_dir, also=second_group) as server:
        server.user_sends(USERS["M001"], "/report B01 2025Q1")
        workbook, message = await sent_file(server, "sendDocument", "document")
        assert message["document"]["file_name"] == "台账_B01_20250101-20250331.xlsx"
        assert message["caption"] == (
            "第一支部 台账（2025年第一季度）\n三会一课未开展：\n"
            "第一支部：支委会 2025-02、2025-03；党员大会 2025Q1；党课 2025Q1；党小组会（第一党小组） 2025-01、2025-03；"
            "党小组会（第二党小组） 2025-01、2025-03"
        )
        headers = [c.value for c in load_workbook(io.BytesIO(workbook))["出勤-第一支部"][3]]
        assert "02-11\n党小组会（第一党小组）" in headers and "02-11\n党小组会（第二党小组）" in headers
        for _ in range(2):
            await sent_file(server, "sendPhoto", "photo")
        server.user_sends(USERS["M001"], "/report B01 2024")
        workbook, message = await sent_file(server, "sendDocument", "document")
        assert message["caption"] == ("第一支部 台账（2024年）\n"
                                      "这段时间台账尚无记录（开始使用本系统之前的期间记为“无记录”，不计为未开展）。")
        detail = load_workbook(io.BytesIO(workbook))["完成明细"]
        assert {row[4] for row in detail.iter_rows(min_row=4, values_only=True)} == {"无记录"}
