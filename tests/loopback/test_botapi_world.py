"""The world model: chats, keyboards, members, updates queue semantics, and the events the web page streams."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MenuButtonCommands,
    MenuButtonDefault,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ChatAction, ChatMemberStatus

from loopback import BotApiServer, SandboxError


async def test_subscribers_see_every_change_in_order(server: BotApiServer, bot: Bot, alice) -> None:
    events: list[dict] = []
    unsubscribe = server.subscribe(events.append)

    server.user_sends(alice["id"], "/start")
    sent = await bot.send_message(alice["id"], "请签到", reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton("✅ 签到", callback_data="c:1")]]))
    query_id = server.user_presses(alice["id"], alice["id"], sent.message_id, "c:1")
    await bot.answer_callback_query(query_id, text="已签到")
    await bot.edit_message_text("已签到 ✅", chat_id=alice["id"], message_id=sent.message_id)
    await bot.send_chat_action(alice["id"], ChatAction.TYPING)
    await bot.delete_message(alice["id"], sent.message_id)
    unsubscribe()
    await bot.send_message(alice["id"], "不再通知")

    assert [(e["type"], e.get("message", {}).get("text")) for e in events] == [
        ("message", "/start"), ("message", "请签到"), ("callback_answer", None), ("edit", "已签到 ✅"),
        ("chat_action", None), ("delete", None),
    ]
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert events[2]["text"] == "已签到" and events[2]["message_id"] == sent.message_id
    assert events[3]["previous"]["text"] == "请签到"


async def test_a_failing_subscriber_does_not_break_the_bot_api(server, bot, alice) -> None:
    def broken(event: dict) -> None:
        raise RuntimeError("page went away")

    server.subscribe(broken)
    assert (await bot.send_message(alice["id"], "照常")).text == "照常"


async def test_subscribers_get_copies_they_may_change(server, bot, alice) -> None:
    server.subscribe(lambda event: event["message"].update(text="篡改"))
    await bot.send_message(alice["id"], "原文")
    assert server.chat(alice["id"]).last["text"] == "原文"


async def test_reply_keyboards_show_until_removed(server, bot, alice) -> None:
    await bot.send_message(alice["id"], "请选择", reply_markup=ReplyKeyboardMarkup([[KeyboardButton("签到")]]))
    assert server.chat(alice["id"]).reply_keyboard["keyboard"] == [[{"text": "签到"}]]

    await bot.send_message(alice["id"], "好的", reply_markup=ReplyKeyboardRemove())
    assert server.chat(alice["id"]).reply_keyboard is None


async def test_chat_and_member_lookups_deserialise_in_ptb(server, bot, alice) -> None:
    server.add_group(-5001, "第一党支部", [alice["id"]])
    outsider = server.add_user(2002, "李四")

    chat = await bot.get_chat(-5001)
    assert (chat.title, chat.type) == ("第一党支部", "group")
    assert (await bot.get_chat_member(-5001, alice["id"])).status == ChatMemberStatus.MEMBER
    assert (await bot.get_chat_member(-5001, outsider["id"])).status == ChatMemberStatus.LEFT
    assert await bot.get_chat_member_count(-5001) == 2  # alice and the bot


async def test_menu_button_per_chat_and_default(server, bot, alice) -> None:
    await bot.set_chat_menu_button(alice["id"], MenuButtonCommands())
    assert isinstance(await bot.get_chat_menu_button(alice["id"]), MenuButtonCommands)
    assert isinstance(await bot.get_chat_menu_button(), MenuButtonDefault)


async def test_user_document_reaches_the_bot(server, bot, alice) -> None:
    server.user_sends_document(alice["id"], b"a,b\n1,2\n", "roster.csv", caption="名册")
    (update,) = await bot.get_updates()
    document = update.message.document
    assert (document.file_name, document.mime_type, update.message.caption) == ("roster.csv", "text/csv", "名册")


async def test_replies_carry_the_message_replied_to(server, bot, alice) -> None:
    sent = await bot.send_message(alice["id"], "几点开会？")
    message = server.user_sends(alice["id"], "下午三点", reply_to_message_id=sent.message_id)
    assert message["reply_to_message"]["text"] == "几点开会？"
    answer = await bot.send_message(alice["id"], "收到", reply_to_message_id=message["message_id"])
    assert answer.reply_to_message.text == "下午三点"


@pytest.mark.parametrize(
    ("calls", "expected"),
    [
        pytest.param([{"limit": 2}], [[1, 2]], id="limit"),
        pytest.param([{}, {"offset": 3}], [[1, 2, 3, 4], [3, 4]], id="offset-confirms-earlier"),
        pytest.param([{"offset": -1}, {}], [[4], [4]], id="negative-offset-keeps-the-last"),
        pytest.param([{"offset": 5}], [[]], id="all-confirmed"),
    ],
)
async def test_get_updates_queue(server, bot, alice, calls, expected) -> None:
    for text in ("一", "二", "三", "四"):
        server.user_sends(alice["id"], text)
    seen = []
    for params in calls:
        seen.append([u.update_id for u in await bot.get_updates(timeout=0, **params)])
    assert seen == expected


@pytest.mark.parametrize(
    ("act", "message"),
    [
        pytest.param(lambda s: s.user_sends(9999, "hi"), "no sandbox user 9999", id="unknown-user"),
        pytest.param(lambda s: s.user_sends(2001, "hi", chat_id=-42), "no sandbox group -42", id="unknown-group"),
        pytest.param(lambda s: s.user_sends(2001, "   "), "empty messages", id="empty-text"),
        pytest.param(lambda s: s.user_presses(2001, 2001, 77, "c:1"), "no message 77", id="press-missing-message"),
        pytest.param(lambda s: s.inject_update({"message": {}, "callback_query": {}}), "never sends such an update",
                     id="update-with-two-kinds"),
        pytest.param(lambda s: s.chat(-42), "no chat -42", id="observe-unknown-chat"),
    ],
)
def test_impossible_user_actions_are_refused(server, alice, act, message) -> None:
    with pytest.raises(SandboxError, match=message):
        act(server)


def test_an_injected_update_must_have_telegrams_shape(server, alice) -> None:
    with pytest.raises(SandboxError, match='"update.callback_query.chat_instance" is required'):
        server.inject_update({"callback_query": {"id": "1", "from": alice, "data": "forged"}})


@pytest.mark.parametrize(
    "act",
    [
        pytest.param(lambda s, uid, mid: s.user_sends(uid, "/start ABC"), id="command"),
        pytest.param(lambda s, uid, mid: s.user_sends(uid, "回复", reply_to_message_id=mid), id="reply"),
        pytest.param(lambda s, uid, mid: s.user_sends_photo(uid, b"\xff\xd8jpeg", caption="照片"), id="photo"),
        pytest.param(lambda s, uid, mid: s.user_sends_document(uid, b"x", "a.pdf"), id="document"),
        pytest.param(lambda s, uid, mid: s.user_presses(uid, uid, mid, "c:1"), id="button-press"),
        pytest.param(lambda s, uid, mid: (s.add_group(-5001, "支部群", [uid]), s.remove_bot_from_group(-5001, uid)),
                     id="bot-kicked"),
    ],
)
async def test_updates_the_world_produces_have_telegrams_shape(server, bot, alice, act) -> None:
    from loopback.spec import load_spec

    sent = await bot.send_message(alice["id"], "请签到", reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton("✅ 签到", callback_data="c:1")]]))
    act(server, alice["id"], sent.message_id)
    (update,) = server.world.take_updates(None, 100, None)
    assert load_spec().validate_type("Update", update) == []


async def test_a_user_edit_reaches_the_bot_as_edited_message(server, bot, alice) -> None:
    sent = server.user_sends(alice["id"], "明天请假")
    await bot.get_updates()

    server.user_edits(alice["id"], alice["id"], sent["message_id"], "后天请假")

    updates = await bot.get_updates(offset=2)
    assert [(u.edited_message.message_id, u.edited_message.text) for u in updates] == [(sent["message_id"], "后天请假")]
    assert server.chat(alice["id"]).edits[sent["message_id"]][0]["text"] == "明天请假"
    with pytest.raises(SandboxError, match="no text message"):
        server.user_edits(alice["id"], alice["id"], 999, "x")
