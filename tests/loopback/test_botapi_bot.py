"""A real telegram.Bot against the loopback server: sending, editing, answering, and what Telegram refuses."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyParameters,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken

from loopback import BotApiServer
from loopback.spec import load_spec

from tests.loopback.conftest import make_bot


def keyboard(*datas: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(f"按钮{i}", callback_data=d) for i, d in enumerate(datas)]])


async def test_get_me_is_the_sandbox_bot(server: BotApiServer, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (server.bot_id, "branchbot_sandbox_bot", True)


async def test_send_message_returns_a_real_message_and_lands_in_the_chat(server, bot, alice) -> None:
    sent = await bot.send_message(alice["id"], "<b>主题党日</b> 提醒", parse_mode="HTML", reply_markup=keyboard("c:1"))

    assert sent.text == "主题党日 提醒"
    assert sent.entities[0].type == "bold" and (sent.entities[0].offset, sent.entities[0].length) == (0, 4)
    assert sent.from_user.id == server.bot_id and sent.chat.id == alice["id"]
    shown = server.chat(alice["id"]).last
    assert shown["text"] == "主题党日 提醒"
    assert server.chat(alice["id"]).buttons(shown) == [[{"text": "按钮0", "callback_data": "c:1"}]]
    assert load_spec().validate_type("Message", shown) == []


async def test_edits_apply_in_place_and_keep_history(server, bot, alice) -> None:
    sent = await bot.send_message(alice["id"], "请签到", reply_markup=keyboard("c:1"))

    await bot.edit_message_text("已签到 ✅", chat_id=alice["id"], message_id=sent.message_id)

    chat = server.chat(alice["id"])
    assert [m["text"] for m in chat.messages] == ["已签到 ✅"]
    assert "reply_markup" not in chat.last, "editing text without reply_markup removes the keyboard, like Telegram"
    assert [m["text"] for m in chat.edits[sent.message_id]] == ["请签到"]


async def test_edit_reply_markup_replaces_only_the_keyboard(server, bot, alice) -> None:
    sent = await bot.send_message(alice["id"], "请签到", reply_markup=keyboard("c:1"))

    await bot.edit_message_reply_markup(alice["id"], sent.message_id, reply_markup=keyboard("c:2", "c:3"))

    shown = server.chat(alice["id"]).last
    assert shown["text"] == "请签到"
    assert [b["callback_data"] for b in server.chat(alice["id"]).buttons(shown)[0]] == ["c:2", "c:3"]


async def test_delete_message_hides_it(server, bot, alice) -> None:
    sent = await bot.send_message(alice["id"], "临时")
    assert await bot.delete_message(alice["id"], sent.message_id) is True
    assert server.chat(alice["id"]).messages == [] and server.chat(alice["id"]).deleted_ids == [sent.message_id]


async def test_answer_callback_query_records_the_answer_once(server, bot, alice) -> None:
    sent = await bot.send_message(alice["id"], "请签到", reply_markup=keyboard("checkin:7"))
    query_id = server.user_presses(alice["id"], alice["id"], sent.message_id, "checkin:7")

    assert await bot.answer_callback_query(query_id, text="已签到") is True
    assert server.callback_answers[query_id]["text"] == "已签到"
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id, text="again")


async def test_commands_are_kept_per_scope_and_language(server, bot, alice) -> None:
    await bot.set_my_commands([BotCommand("upcoming", "近期活动")], language_code="zh")
    await bot.set_my_commands([BotCommand("report", "报表")], scope=BotCommandScopeChat(alice["id"]))

    assert [c.command for c in await bot.get_my_commands(language_code="zh")] == ["upcoming"]
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(alice["id"]))] == ["report"]
    assert await bot.get_my_commands() == ()
    await bot.delete_my_commands(language_code="zh")
    assert server.my_commands(language_code="zh") == []


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        pytest.param(lambda bot, uid: bot.send_message(999999, "hi"), BadRequest, "Chat not found", id="unknown-chat"),
        pytest.param(lambda bot, uid: bot.send_message(uid, "x" * 4097), BadRequest, "Message is too long",
                     id="text-too-long"),
        pytest.param(lambda bot, uid: bot.send_message(uid, "   "), BadRequest, "Message text is empty",
                     id="text-only-spaces"),
        pytest.param(lambda bot, uid: bot.send_message(uid, "hi", reply_markup=keyboard("x" * 65)), BadRequest,
                     "Button_data_invalid", id="callback-data-over-64-bytes"),
        pytest.param(lambda bot, uid: bot.send_message(uid, "hi", reply_markup=keyboard("签" * 22)), BadRequest,
                     "Button_data_invalid", id="callback-data-66-utf8-bytes"),
        pytest.param(lambda bot, uid: bot.send_message(uid, "<b>hi", parse_mode="HTML"), BadRequest,
                     "Can't parse entities", id="unclosed-html-tag"),
        pytest.param(lambda bot, uid: bot.send_message(uid, "hi.", parse_mode="MarkdownV2"), BadRequest,
                     "reserved and must be escaped", id="markdown-v2-unescaped-dot"),
        pytest.param(lambda bot, uid: bot.send_message(uid, "hi", parse_mode="Fancy"), BadRequest,
                     "parse_mode", id="unknown-parse-mode"),
        pytest.param(lambda bot, uid: bot.edit_message_text("x", chat_id=uid, message_id=404), BadRequest,
                     "Message to edit not found", id="edit-missing-message"),
        pytest.param(lambda bot, uid: bot.delete_message(uid, 404), BadRequest, "Message to delete not found",
                     id="delete-missing-message"),
        pytest.param(lambda bot, uid: bot.answer_callback_query("nope"), BadRequest, "Query is too old",
                     id="unknown-callback-query"),
        pytest.param(lambda bot, uid: bot.send_chat_action(uid, "dancing"), BadRequest, "Wrong parameter action",
                     id="unknown-chat-action"),
        pytest.param(lambda bot, uid: bot.set_my_commands([BotCommand("Bad-Name", "x")]), BadRequest,
                     "Bot_command_invalid", id="command-name-invalid"),
    ],
)
async def test_telegram_refuses(server, bot, alice, call, error, message) -> None:
    with pytest.raises(error, match=message):
        await call(bot, alice["id"])
    assert server.requests[-1].status == 400


async def test_identical_edit_is_not_modified(server, bot, alice) -> None:
    sent = await bot.send_message(alice["id"], "同样", reply_markup=keyboard("c:1"))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("同样", chat_id=alice["id"], message_id=sent.message_id, reply_markup=keyboard("c:1"))


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        pytest.param(lambda s: s.add_user(3001, "未开始"), "bot can't initiate conversation", id="never-started"),
        pytest.param(lambda s: (s.add_user(3001, "拉黑", started=True), s.user_blocks_bot(3001)),
                     "bot was blocked by the user", id="blocked-by-user"),
        pytest.param(lambda s: (s.add_user(3001, "拉黑", started=True), s.faults.block(3001)),
                     "bot was blocked by the user", id="blocked-via-faults"),
    ],
)
async def test_private_chats_the_bot_may_not_write_to_are_forbidden(server, bot, setup, message) -> None:
    setup(server)
    with pytest.raises(Forbidden, match=message):
        await bot.send_message(3001, "提醒")


async def test_wrong_token_is_unauthorized(server) -> None:
    async with make_bot(server) as good:
        assert (await good.get_me()).id == server.bot_id
    impostor = Bot("7000000001:wrong-secret", base_url=server.base_url)
    with pytest.raises(InvalidToken):
        await impostor.initialize()



async def test_a_kicked_bot_is_forbidden_and_told_so(server, bot, alice) -> None:
    server.add_group(-5001, "第一党支部", [alice["id"]])
    server.remove_bot_from_group(-5001, by_user_id=alice["id"])

    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(-5001, "通知")
    (update,) = await bot.get_updates()
    assert (update.my_chat_member.chat.id, update.my_chat_member.new_chat_member.status) == (-5001, "kicked")


async def test_an_upgraded_group_answers_with_its_new_id(server, bot, alice) -> None:
    server.add_group(-5001, "第一党支部", [alice["id"]])
    supergroup = server.migrate_group(-5001)

    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(-5001, "通知")
    assert caught.value.new_chat_id == supergroup["id"] == -1000000005001
    await bot.send_message(supergroup["id"], "通知")
    assert [m["text"] for m in server.chat(supergroup["id"]).messages] == ["通知"]


async def test_a_log_limit_keeps_recent_records_and_waiting_still_works() -> None:
    async with BotApiServer(log_limit=5) as server:
        user = server.add_user(2001, "张三", started=True)
        async with make_bot(server) as bot:
            for n in range(20):
                await bot.send_message(user["id"], f"第{n}条")
            server.user_sends(user["id"], "你好")
            await bot.send_message(user["id"], "回复")
            reply = await server.next_bot_request(method="sendMessage")

        assert reply.params["text"] == "回复" and reply.index == 21  # getMe, 20 sends, the reply
        assert 5 <= len(server.requests) <= 10
        assert server.requests[-1] is reply


async def test_an_expired_callback_query_cannot_be_answered() -> None:
    async with BotApiServer(callback_query_ttl=0) as server:  # every query is already too old
        user = server.add_user(2001, "张三", started=True)
        async with make_bot(server) as bot:
            sent = await bot.send_message(user["id"], "请签到", reply_markup=keyboard("c:1"))
            query_id = server.user_presses(user["id"], user["id"], sent.message_id, "c:1")
            with pytest.raises(BadRequest, match="Query is too old"):
                await bot.answer_callback_query(query_id)
        assert server.callback_answers == {}


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda bot, uid, mid: bot.send_message(
            uid, "<b>提醒</b>", parse_mode="HTML", disable_notification=True, protect_content=True,
            link_preview_options=LinkPreviewOptions(is_disabled=True), reply_parameters=ReplyParameters(mid),
            reply_markup=keyboard("c:1")), id="send-message-every-common-option"),
        pytest.param(lambda bot, uid, mid: bot.send_message(
            uid, "提醒", entities=[MessageEntity(MessageEntity.BOLD, 0, 2)]), id="explicit-entities"),
        pytest.param(lambda bot, uid, mid: bot.edit_message_text(
            "改", chat_id=uid, message_id=mid, parse_mode="MarkdownV2",
            link_preview_options=LinkPreviewOptions(is_disabled=True)), id="edit-with-options"),
        pytest.param(lambda bot, uid, mid: bot.send_photo(
            uid, b"\x89PNG\r\n\x1a\n" + b"\x00" * 16, caption="<i>照片</i>", parse_mode="HTML", has_spoiler=True,
            show_caption_above_media=True), id="photo-with-options"),
        pytest.param(lambda bot, uid, mid: bot.send_document(
            uid, b"data", filename="a.txt", disable_content_type_detection=True), id="document-with-options"),
        pytest.param(lambda bot, uid, mid: bot.send_message(
            uid, "选择", reply_markup=ReplyKeyboardMarkup([["签到", "请假"]], resize_keyboard=True,
                                                         one_time_keyboard=True, input_field_placeholder="请选择")),
                     id="reply-keyboard-options"),
        pytest.param(lambda bot, uid, mid: bot.set_my_commands(
            [BotCommand("checkin", "签到")], scope=BotCommandScopeAllPrivateChats(), language_code="zh"),
                     id="commands-scope-language"),
        pytest.param(lambda bot, uid, mid: bot.delete_webhook(drop_pending_updates=True), id="delete-webhook-drop"),
    ],
)
async def test_ptb_serialisation_passes_the_strict_server(server, bot, alice, call) -> None:
    first = await bot.send_message(alice["id"], "第一条")
    await call(bot, alice["id"], first.message_id)
    assert server.requests[-1].ok and server.requests[-1].unknown == []
