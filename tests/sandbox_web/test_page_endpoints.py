"""The page's endpoints: who can be played, their chats, sending, pressing, binding, files, the clock, live events."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from aiohttp import FormData
from sqlalchemy import select

from bot.clock import ManualClock
from bot.sandbox.app import SandboxBackend
from loopback import BotApiServer
from bot.sandbox.people import load_directory
from loopback.spec import UploadedFile
from bot.sandbox.timecontrol import TimeControl
from bot.sandbox.web import MAX_QUEUED_EVENTS, EventHub, message_view
from storage import models
from storage.db import transaction
from tests.sandbox_web.conftest import (
    SHANGHAI,
    START,
    EventStream,
    PageWorld,
    add_roster,
)

CHECKIN_KEYBOARD = {"inline_keyboard": [[
    {"text": "✅ 签到", "callback_data": "ci:1"}, {"text": "📝 请假", "callback_data": "lv:1"},
], [{"text": "会议材料", "url": "https://example.org/agenda"}]]}


async def test_the_page_and_its_static_files_are_served_in_chinese(page: PageWorld) -> None:
    index = await page.client.get("/")
    html = await index.text()
    assert index.status == 200 and "branchbot 沙盒" in html and 'lang="zh-CN"' in html
    for name, kind in [("app.js", "javascript"), ("app.css", "css")]:
        response = await page.client.get(f"/static/{name}")
        assert response.status == 200 and kind in response.headers["Content-Type"]
    assert (await page.client.get("/static/../app.py")).status == 404


async def test_people_lists_every_member_with_title_and_binding_state(page: PageWorld) -> None:
    body = await page.get("/api/people")

    assert [(p["name"], p["title"], p["bound"]) for p in body["people"]] == [
        ("张书记", "书记", False), ("王五", "", False), ("李委员", "党委委员", False),
    ]
    assert body["bot"] == "branchbot_sandbox_bot"


async def test_chats_are_the_private_chat_and_the_persons_branch_group(page: PageWorld) -> None:
    secretary = page.person("M001")

    body = await page.get(f"/api/chats?user={secretary.user_id}")

    assert [(c["type"], c["title"]) for c in body["chats"]] == [("private", "与机器人的私聊"), ("group", "第一党支部群")]
    assert all(c["messages"] == [] for c in body["chats"])


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        pytest.param("", 400, "用户编号", id="missing-user"),
        pytest.param("user=abc", 400, "用户编号", id="not-a-number"),
        pytest.param("user=1", 404, "名单中没有", id="unknown-user"),
    ],
)
async def test_chats_refuses_unknown_people_in_chinese(page: PageWorld, query: str, status: int, error: str) -> None:
    response = await page.client.get(f"/api/chats?{query}")
    body = await response.json()
    assert response.status == status and error in body["error"] and body["ok"] is False


async def test_bind_creates_an_invite_and_sends_start_with_it_as_the_person(page: PageWorld) -> None:
    member = page.person("M002")

    status, body = await page.post("/api/bind", {"user_id": member.user_id})

    assert status == 200
    with transaction(page.factory) as session:
        invite = session.scalars(select(models.InviteCode).where(models.InviteCode.code == body["code"])).one()
        assert invite.used_at is None, "the bot redeems it, not the page"
    # The person's client sent /start CODE in the private chat and the bot has it as an update.
    assert page.world.snapshot(member.user_id).last["text"] == f"/start {body['code']}"
    assert page.world.updates[-1]["message"]["text"] == f"/start {body['code']}"


async def test_bind_refuses_someone_already_bound(page: PageWorld) -> None:
    member = page.person("M003")
    with transaction(page.factory) as session:
        session.add(models.TelegramBinding(member_id=member.member_id, telegram_user_id=member.user_id))

    status, body = await page.post("/api/bind", {"user_id": member.user_id})

    assert status == 400 and "已经绑定" in body["error"]


async def test_send_puts_the_text_in_the_group_and_refuses_chats_the_person_is_not_in(page: PageWorld) -> None:
    member, outsider = page.person("M002"), page.person("M003")
    group = member.group_chat_ids[0]

    status, body = await page.post("/api/send", {"user_id": member.user_id, "chat_id": group, "text": "/upcoming"})
    assert status == 200 and body["message"]["text"] == "/upcoming"
    assert page.world.snapshot(group).last["from"]["id"] == member.user_id

    status, body = await page.post("/api/send", {"user_id": outsider.user_id, "chat_id": group, "text": "你好"})
    assert status == 403 and "不在这个聊天" in body["error"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        pytest.param({"chat_id": 1, "text": ""}, "不能为空", id="empty-text"),
        pytest.param({"chat_id": 1, "text": "x" * 4097}, "太长", id="too-long"),
        pytest.param({"text": "hi"}, "chat_id", id="no-chat"),
    ],
)
async def test_send_validates_before_anything_reaches_the_world(page: PageWorld, body: dict, error: str) -> None:
    member = page.person("M002")
    status, answer = await page.post("/api/send", {"user_id": member.user_id, **body})
    assert status == 400 and error in answer["error"]
    assert page.world.updates == []


async def test_press_delivers_the_buttons_callback_and_refuses_buttons_that_are_not_there(page: PageWorld) -> None:
    member = page.person("M002")
    group = member.group_chat_ids[0]
    reminder = page.bot_says(group, "明天 15:00 主题党日", reply_markup=CHECKIN_KEYBOARD)

    status, _ = await page.post("/api/press", {"user_id": member.user_id, "chat_id": group, "message_id": reminder["message_id"], "data": "ci:1"})
    assert status == 200
    query = page.world.updates[-1]["callback_query"]
    assert (query["from"]["id"], query["data"]) == (member.user_id, "ci:1")

    status, body = await page.post("/api/press", {"user_id": member.user_id, "chat_id": group, "message_id": reminder["message_id"], "data": "forged"})
    assert status == 400 and "不可用" in body["error"]


async def test_chats_show_keyboards_url_buttons_edits_and_documents(page: PageWorld) -> None:
    member = page.person("M002")
    group = member.group_chat_ids[0]
    reminder = page.bot_says(group, "<b>主题党日</b> 明天 15:00", parse_mode="HTML", reply_markup=CHECKIN_KEYBOARD)
    page.world.edit_message_text({"chat_id": group, "message_id": reminder["message_id"], "text": "主题党日（已签到 1 人）"})
    page.world.send_document({"chat_id": group, "document": UploadedFile("台账.xlsx", "application/vnd.ms-excel", b"PK\x03\x04")})

    chats = (await page.get(f"/api/chats?user={member.user_id}"))["chats"]
    edited, document = chats[1]["messages"]

    assert (edited["text"], edited["edited"], edited["reply_markup"]) == ("主题党日（已签到 1 人）", True, None)
    assert document["document"]["name"] == "台账.xlsx"
    served = await page.client.get("/" + document["document"]["url"])
    assert served.status == 200 and await served.read() == b"PK\x03\x04"
    assert "attachment" in served.headers["Content-Disposition"]


def test_message_view_keeps_entities_and_both_kinds_of_buttons() -> None:
    message = {
        "message_id": 7, "chat": {"id": -5}, "date": int(datetime(2025, 3, 14, 1, 0, tzinfo=timezone.utc).timestamp()),
        "from": {"id": 1, "is_bot": True, "first_name": "支部助手"},
        "text": "主题党日", "entities": [{"type": "bold", "offset": 0, "length": 4}],
        "reply_markup": CHECKIN_KEYBOARD,
    }

    view = message_view(message, SHANGHAI)

    assert view["from"] == {"id": 1, "name": "支部助手", "is_bot": True}
    assert view["entities"] == [{"type": "bold", "offset": 0, "length": 4}]
    assert view["reply_markup"]["inline_keyboard"][1] == [{"text": "会议材料", "url": "https://example.org/agenda"}]
    assert view["edited"] is False and view["photo_url"] is None
    assert (view["date"], view["time_label"]) == ("2025-03-14T01:00:00+00:00", "3月14日 09:00")  # machine, people


async def test_events_stream_only_the_persons_own_chats(page: PageWorld) -> None:
    member, outsider = page.person("M002"), page.person("M003")
    group = member.group_chat_ids[0]
    response = await page.client.get(f"/api/events?user={outsider.user_id}")
    stream = EventStream(response)
    mine = await page.client.get(f"/api/events?user={member.user_id}")
    member_stream = EventStream(mine)

    page.bot_says(group, "第一党支部的通知")  # the outsider is not in this group
    outsider_group = outsider.group_chat_ids[0]
    page.bot_says(outsider_group, "第二党支部的通知")

    first = await member_stream.next()
    assert (first["type"], first["message"]["text"]) == ("message", "第一党支部的通知")
    seen = await stream.next()
    assert seen["message"]["text"] == "第二党支部的通知", "the first branch's notice must not reach the outsider"
    response.close()
    mine.close()


async def test_clock_advance_moves_to_the_next_reminder_and_tells_every_page(page: PageWorld) -> None:
    member = page.person("M002")
    due = datetime(2025, 3, 14, 10, 30, tzinfo=SHANGHAI)
    with transaction(page.factory) as session:
        session.add(models.OutboxMessage(dedup_key="x", recipient="chat:-1", chat_id=-1, due_at=due,
                                         kind="calendar_provisional", payload={"year": 2026}))
    response = await page.client.get(f"/api/events?user={member.user_id}")
    stream = EventStream(response)

    status, body = await page.post("/api/clock/advance", {"to": "next"})

    assert status == 200 and body["label"] == "2025年3月14日（周五）10:30"
    event = await stream.next()
    assert (event["type"], event["label"]) == ("clock", "2025年3月14日（周五）10:30")
    assert (await page.get("/api/clock"))["now"] == body["now"]
    response.close()


async def test_clock_advance_refuses_unknown_targets(page: PageWorld) -> None:
    status, body = await page.post("/api/clock/advance", {"to": "yesterday"})
    assert status == 400 and "month_end" in body["error"]


# The smallest valid PNG: 1×1 pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.mark.parametrize(
    ("filename", "content_type", "data", "shown_as"),
    [
        pytest.param("会议记录.png", "image/png", PNG, "photo", id="image-goes-as-a-photo"),
        pytest.param("会议纪要.pdf", "application/pdf", b"%PDF-1.4 minutes", "document", id="pdf-goes-as-a-document"),
    ],
)
async def test_upload_sends_photos_and_documents_as_the_person(
    page: PageWorld, filename: str, content_type: str, data: bytes, shown_as: str,
) -> None:
    secretary = page.person("M001")
    form = FormData()
    form.add_field("user_id", str(secretary.user_id))
    form.add_field("chat_id", str(secretary.user_id))
    form.add_field("caption", "主题党日会议记录")
    form.add_field("file", data, filename=filename, content_type=content_type)

    response = await page.client.post("/api/upload", data=form)
    body = await response.json()

    assert response.status == 200, body
    view = body["message"]
    url = view["photo_url"] if shown_as == "photo" else view["document"]["url"]
    assert url is not None and view["caption"] == "主题党日会议记录"
    served = await page.client.get("/" + url)
    assert await served.read() == data
    # The bot receives it like any Telegram message with a photo or a document.
    update = page.world.updates[-1]["message"]
    assert (shown_as in update) and update["from"]["id"] == secretary.user_id


async def test_upload_refuses_chats_the_person_is_not_in(page: PageWorld) -> None:
    outsider = page.person("M003")
    form = FormData()
    form.add_field("user_id", str(outsider.user_id))
    form.add_field("chat_id", str(page.person("M001").group_chat_ids[0]))
    form.add_field("file", PNG, filename="x.png", content_type="image/png")

    response = await page.client.post("/api/upload", data=form)

    assert response.status == 403 and "不在这个聊天" in (await response.json())["error"]
    assert page.world.updates == []


async def test_a_stalled_page_is_told_to_reload_instead_of_queueing_forever() -> None:
    hub = EventHub()
    hub.bind_loop(asyncio.get_running_loop())
    queue = hub.open(lambda event: True)

    for number in range(MAX_QUEUED_EVENTS + 5):
        hub.publish({"type": "message", "chat_id": 1, "n": number})

    backlog = [queue.get_nowait() for _ in range(queue.qsize())]
    assert backlog[0] == {"type": "chats", "chat_id": None}
    assert len(backlog) < MAX_QUEUED_EVENTS


async def test_after_a_restart_people_already_bound_can_be_written_to(session_factory) -> None:  # noqa: ANN001
    """The world is in memory, the bindings are not: a bound member's private chat exists from the start."""
    add_roster(session_factory)
    with transaction(session_factory) as session:
        bound = next(p for p in load_directory(session).people if p.member_no == "M002")
        session.add(models.TelegramBinding(member_id=bound.member_id, telegram_user_id=bound.user_id))
    clock = ManualClock(START)
    async with BotApiServer(clock=clock) as server:
        backend = SandboxBackend(server=server, session_factory=session_factory, zone=SHANGHAI,
                                 time=TimeControl(clock, SHANGHAI, session_factory))
        backend.mirror_roster()

        sent = server.world.send_message({"chat_id": bound.user_id, "text": "⏰ 活动提醒"})

        assert backend.chat_messages(bound.user_id) == [sent]
