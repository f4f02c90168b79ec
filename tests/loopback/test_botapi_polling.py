"""A real PTB Application polling the loopback server: updates reach handlers, replies come back, no sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import Conflict
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from loopback import BotApiServer, SandboxError

from tests.loopback.conftest import make_bot


def build_app(server: BotApiServer) -> Application:
    return (
        ApplicationBuilder()
        .token(server.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )


@asynccontextmanager
async def polling(app: Application) -> AsyncIterator[Application]:
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    code = context.args[0] if context.args else "无"
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("✅ 签到", callback_data=f"checkin:{code}")]])
    await update.effective_message.reply_text(f"欢迎！邀请码：{code}", reply_markup=keyboard)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(f"你说：{update.effective_message.text}")


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer(f"收到 {query.data}")
    await query.edit_message_text(f"已处理 {query.data}")


@pytest.fixture
async def app(server: BotApiServer) -> AsyncIterator[Application]:
    application = build_app(server)
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(pressed))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with polling(application):
        yield application


@pytest.mark.parametrize(
    "dialog",
    [
        pytest.param([("/start ABC123", "欢迎！邀请码：ABC123")], id="start-with-code"),
        pytest.param([("/start", "欢迎！邀请码：无")], id="start-without-code"),
        pytest.param([("你好", "你说：你好"), ("再见", "你说：再见")], id="two-texts-in-order"),
    ],
)
async def test_dialog_in_a_private_chat(server: BotApiServer, app: Application, dialog) -> None:
    user = server.add_user(4001, "李四")
    for says, answer in dialog:
        server.user_sends(user["id"], says)
        reply = await server.next_bot_request(method="sendMessage")
        assert (reply.params["chat_id"], reply.params["text"]) == (user["id"], answer)
        assert reply.ok


async def test_pressing_a_button_reaches_the_handler_and_the_answer_and_edit_come_back(server, app) -> None:
    user = server.add_user(4001, "李四")
    server.user_sends(user["id"], "/start XYZ")
    welcome = await server.next_bot_request(method="sendMessage")

    query_id = server.user_presses(user["id"], user["id"], welcome.result["message_id"], "checkin:XYZ")
    await server.next_bot_request(method="answerCallbackQuery")
    await server.next_bot_request(method="editMessageText")

    assert server.callback_answers[query_id]["text"] == "收到 checkin:XYZ"
    assert server.chat(user["id"]).texts == ["/start XYZ", "已处理 checkin:XYZ"]


async def test_a_button_that_is_not_on_the_message_cannot_be_pressed(server, app) -> None:
    user = server.add_user(4001, "李四")
    server.user_sends(user["id"], "/start XYZ")
    welcome = await server.next_bot_request(method="sendMessage")
    with pytest.raises(SandboxError, match="no button"):
        server.user_presses(user["id"], user["id"], welcome.result["message_id"], "checkin:FORGED")


async def test_a_forged_callback_query_can_still_be_injected_and_answered(server, app) -> None:
    user = server.add_user(4001, "李四")
    server.user_sends(user["id"], "/start XYZ")
    welcome = await server.next_bot_request(method="sendMessage")

    server.inject_update({"callback_query": {
        "id": "forged-1", "from": user, "chat_instance": "1", "data": "checkin:FORGED",
        "message": welcome.result,
    }})

    answer = await server.next_bot_request(method="answerCallbackQuery")
    assert answer.ok and server.callback_answers["forged-1"]["text"] == "收到 checkin:FORGED"


async def test_updates_are_confirmed_by_offset_and_not_delivered_twice(server, app) -> None:
    user = server.add_user(4001, "李四")
    for text in ("一", "二", "三"):
        server.user_sends(user["id"], text)
    replies = [await server.next_bot_request(method="sendMessage") for _ in range(3)]

    assert sorted(r.params["text"] for r in replies) == ["你说：一", "你说：三", "你说：二"]
    await server.wait_idle()
    assert server.pending_updates() == 0
    assert len(server.calls("sendMessage")) == 3


async def test_groups_deliver_only_commands_and_replies_in_privacy_mode(server, app) -> None:
    members = [server.add_user(uid, name) for uid, name in ((4001, "李四"), (4002, "王五"))]
    group = server.add_group(-5001, "第一党支部", [m["id"] for m in members])

    server.user_sends(4001, "大家好", chat_id=group["id"])  # plain chatter: the bot does not see it
    server.user_sends(4002, f"/start@{server.bot_username} G1", chat_id=group["id"])

    reply = await server.next_bot_request(method="sendMessage")
    assert reply.params["text"] == "欢迎！邀请码：G1"
    await server.wait_idle()
    assert len(server.calls("sendMessage")) == 1
    outsider = server.add_user(4999, "外人")
    with pytest.raises(SandboxError, match="not a member"):
        server.user_sends(outsider["id"], "hi", chat_id=group["id"])


async def test_a_second_poller_terminates_the_first_with_conflict(server: BotApiServer) -> None:
    async with make_bot(server, read_timeout=10) as first, make_bot(server, read_timeout=10) as second:
        waiting = asyncio.create_task(first.get_updates(timeout=5))
        await server.wait_for_polling()

        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await waiting


async def test_get_updates_refuses_while_a_webhook_is_set(server, bot) -> None:
    await bot.set_webhook("https://example.org/hook")
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_allowed_updates_filters_what_the_bot_receives(server, bot) -> None:
    user = server.add_user(4001, "李四", started=True)
    sent = await bot.send_message(user["id"], "请签到", reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton("✅", callback_data="c:1")]]))
    server.user_sends(user["id"], "文字")
    server.user_presses(user["id"], user["id"], sent.message_id, "c:1")

    updates = await bot.get_updates(allowed_updates=["callback_query"])

    assert [u.callback_query.data for u in updates] == ["c:1"]
