"""Smaller chat wording and flow points of issue 12: unknown commands (9), the leave reason asked at the bottom (15)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.db import transaction
from tests.chat.dialog import press, running_bot
from tests.chat.replies import PARTY_DAY_REMINDER_LEAVE_PENDING, party_day_card
from tests.chat.world import MEETING_START, build_world

T = MEETING_START


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        pytest.param("/attendence", "没有“/attendence”这个命令。您要找的是不是 /attendance？\n发送 /help 查看全部命令。",
                     id="a typo gets the nearest command"),
        pytest.param("/shedule 党课 明天上午9点", "没有“/shedule”这个命令。您要找的是不是 /schedule？\n发送 /help 查看全部命令。",
                     id="with arguments"),
        pytest.param("/foo", "没有“/foo”这个命令。发送 /help 查看全部命令。", id="nothing close: /help"),
    ],
)
async def test_unknown_commands_are_answered(session_factory, world, command, reply):
    async with running_bot(session_factory, world, T - timedelta(days=1)) as chat:
        answer = await chat.step("secretary", command, reply)
        assert answer.method == "sendMessage"


async def test_unknown_commands_in_the_group_are_answered_only_when_addressed_to_us(session_factory, world):
    async with running_bot(session_factory, world, T - timedelta(days=1)) as chat:
        group = chat.group_chat()
        username = (await chat.app.bot.get_me()).username
        chat.server.user_sends(chat.user("alice"), "/foo@some_other_bot", chat_id=group)
        chat.server.user_sends(chat.user("alice"), f"/foo@{username}", chat_id=group)
        await chat.expect("没有“/foo”这个命令。发送 /help 查看全部命令。")
        assert [m["text"] for m in chat.server.sent_to(group)] == ["没有“/foo”这个命令。发送 /help 查看全部命令。"]


async def test_the_leave_reason_is_asked_at_the_bottom_of_the_chat(session_factory, world):
    async with running_bot(session_factory, world, T - timedelta(days=1)) as chat:
        reminder = await chat.remind("bob", "party_day")
        asked = await chat.step("bob", press("📝 请假"), "📝 您要为「主题党日」请假。请直接回复一句话说明原因：")
        assert asked.method == "sendMessage"
        bob = chat.server.chat(chat.user("bob"))
        assert bob.last["text"] == "📝 您要为「主题党日」请假。请直接回复一句话说明原因："
        assert bob.message(reminder["message_id"])["text"] == reminder["text"]  # the reminder is left as it was
        await chat.step("bob", "单位值班", "已提交请假：「主题党日」，原因：单位值班。王书记、李副书记审批后会通知您。")
        marked = await chat.expect(PARTY_DAY_REMINDER_LEAVE_PENDING)
        assert marked.params["message_id"] == reminder["message_id"]


async def test_a_group_meetings_roll_and_reminder_say_which_group(session_factory, world):
    async with running_bot(session_factory, world, T + timedelta(days=3, hours=-1)) as chat:
        reminder = await chat.remind("alice", "group_meeting")
        assert reminder["text"] == (
            "⏰ 活动提醒：党小组会（第一党小组）\n"
            "时间：3月18日（周二）09:00（1小时后）\n"
            "组织：第一党小组\n"
            "请按时参加；如不能参加，请提前请假。"
        )
        chat.set_now(T + timedelta(days=3, hours=2))
        roll = await chat.deliver("roll_summary", "group_meeting", to="secretary")
        assert roll["text"] == ("📋 「党小组会（第一党小组）」（3月18日（周二）09:00）签到情况\n"
                                "已签到（0）：无\n"
                                "请假（0）：无\n"
                                "未签到（2）：张三、李四\n"
                                "\n"
                                "签到已结束。请确认活动是否召开，并可记录议题、主讲人和会议记录。\n"
                                "点“✅ 已召开”后，可为未答复的 2 人逐一代签、登记请假或记为缺席，再确认召开。")


def buttons(message: dict) -> list[str]:
    return [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


async def test_schedule_and_cancel_cards_say_what_each_button_does(session_factory, world):
    async with running_bot(session_factory, world, T - timedelta(days=1)) as chat:
        card = await chat.step("secretary", "/schedule 专题党课 下周三下午3点 三楼会议室", ("🗓 新活动\n"
                                                                             "活动：专题党课（第一党支部）\n"
                                                                             "时间：3月19日（周三）15:00\n"
                                                                             "（时间理解为：下周三（2025年3月19日 星期三）下午3点（15:00））\n"
                                                                             "地点：三楼会议室\n"
                                                                             "请确认："))
        assert buttons(card.params) == ["✅ 确认", "✏️ 修改", "🚫 放弃，不做改动"]
        await chat.step("secretary", press("🚫 放弃，不做改动"), ("🗓 新活动\n"
                                                          "活动：专题党课（第一党支部）\n"
                                                          "时间：3月19日（周三）15:00\n"
                                                          "（时间理解为：下周三（2025年3月19日 星期三）下午3点（15:00））\n"
                                                          "地点：三楼会议室\n"
                                                          "请确认：\n"
                                                          "\n"
                                                          "已放弃，没有做任何改动。"))
        card = await chat.step("secretary", "/cancel 支委会", ("✖️ 取消活动\n"
                                                            "活动：支委会（第一党支部）\n"
                                                            "时间：3月20日（周四）09:00\n"
                                                            "请确认："))
        assert buttons(card.params) == ["✅ 确认取消活动", "↩️ 不取消，保留活动"]


async def test_invite_usage_shows_a_member_number_of_the_roster_kind(session_factory, world):
    async with running_bot(session_factory, world, T - timedelta(days=1)) as chat:
        await chat.step("secretary", "/invite", "用法：/invite 党员编号（名册中的编号），例如 /invite 1009")


async def test_group_announcement_starts_with_one_mark(session_factory, world):
    async with running_bot(session_factory, world, T, started=("alice", "bob", "secretary")) as chat:
        announcement = await chat.announce("party_day")
        assert announcement["text"] == party_day_card(signed=0, leave=0, unanswered=6)


async def test_a_checklist_is_listed_once_and_a_tick_can_be_undone(session_factory):
    from tests.chat.world import add_activity

    with transaction(session_factory) as session:
        world = build_world(session)
        add_activity(session, world, "birthday", "B01", "政治生日", T + timedelta(days=5), kind="task",
                     obligation="political_birthday", member_id=world.members["alice"])
    five = ["建立政治生日台账", "赠送政治生日贺卡", "开展一次谈心谈话", "重温一次入党誓词", "进行一次走访慰问"]
    async with running_bot(session_factory, world, T) as chat:
        card = await chat.step("secretary", "/tasks", ("📝 政治生日（张三）\n"
                                                       "日期：3月20日（周四）09:00\n"
                                                       "清单：已完成 0/5 项；点按下方一项勾选，再点一次取消勾选"))
        assert buttons(card.params) == [f"☐ {label}" for label in five]
        ticked = await chat.step("secretary", press("☐ 赠送政治生日贺卡"), ("📝 政治生日（张三）\n"
                                                                    "日期：3月20日（周四）09:00\n"
                                                                    "清单：已完成 1/5 项；点按下方一项勾选，再点一次取消勾选"))
        assert buttons(ticked.params) == [f"{'☑' if label == '赠送政治生日贺卡' else '☐'} {label}" for label in five]
        answer = await chat.step("secretary", press("☑ 赠送政治生日贺卡"), "已取消勾选")
        assert answer.method == "answerCallbackQuery"
        unticked = await chat.expect(("📝 政治生日（张三）\n"
                                      "日期：3月20日（周四）09:00\n"
                                      "清单：已完成 0/5 项；点按下方一项勾选，再点一次取消勾选"))
        assert buttons(unticked.params) == [f"☐ {label}" for label in five]
