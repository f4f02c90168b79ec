"""Dialogs of issue #12 points 1, 2, 3 and 13 (the schedule cards, a move, a cancellation): whole replies."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from schedules.plan import Occurrence
from storage import models
from storage.db import transaction
from storage.repositories.activities import upsert_occurrences
from tests.chat.dialog import press, running_bot
from tests.chat.replies import party_day_card
from tests.chat.world import SHANGHAI, add_activity


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def button_data(params: dict, label: str) -> str:
    return next(b["callback_data"] for row in params["reply_markup"]["inline_keyboard"] for b in row if b["text"] == label)


_presses = iter(range(1, 1000))


async def press_again(chat, who: str, card, label: str, expected: str) -> str:
    """Presses `label` as it was on `card` when it was sent: a client still showing the buttons the card had
    before it was answered (or a replay)."""
    user = {"id": chat.user(who), "is_bot": False, "first_name": chat.names.get(who, who)}
    chat.server.inject_update({"callback_query": {
        "id": f"again-{next(_presses)}", "from": user, "chat_instance": "1",
        "data": button_data(card.params, label), "message": card.result,
    }})
    return (await chat.expect(expected)).params["text"]


async def says(chat, who: str, action, expected: str) -> dict:
    """`who` does `action` and the bot answers exactly `expected` (the harness waits for that whole text)."""
    return (await chat.step(who, action, expected)).params


def activities_titled(session_factory, *titles: str) -> list[tuple[str, datetime, str | None, str]]:
    with transaction(session_factory) as session:
        rows = session.scalars(select(models.Activity).where(models.Activity.title.in_(titles))
                               .order_by(models.Activity.id)).all()
        return [(row.title, row.starts_at.astimezone(SHANGHAI), row.place, row.status) for row in rows]


# --- #12.1: each card applies its own draft --------------------------------------------------------------

CARD_A = ("🗓 新活动\n活动：核对甲会议（第一党支部）\n时间：3月18日（周二）15:00\n"
          "（时间理解为：下周二（2025年3月18日 星期二）下午3点（15:00））\n请确认：")
CARD_B = ("🗓 新活动\n活动：核对乙会议（第一党支部）\n时间：3月19日（周三）10:00\n"
          "（时间理解为：下周三（2025年3月19日 星期三）上午10点（10:00））\n请确认：")
SPENT = "这张确认卡已经确认过了，不会重复执行。"


async def test_an_older_card_applies_its_own_draft_and_a_spent_card_says_why(session_factory, world):
    async with running_bot(session_factory, world, at("2025-03-14 09:00")) as chat:
        first = await chat.step("secretary", "/schedule 核对甲会议 下周二下午3点", CARD_A)
        await says(chat, "secretary", "/schedule 核对乙会议 下周三上午10点", CARD_B)
        await says(chat, "secretary", press("✅ 确认", on=first.result["message_id"]),
                   CARD_A + "\n\n✅ 已安排「核对甲会议」：3月18日（周二）15:00。届时会提醒参加的党员。")
        assert activities_titled(session_factory, "核对甲会议", "核对乙会议") == [
            ("核对甲会议", at("2025-03-18 15:00"), None, "scheduled")]
        await press_again(chat, "secretary", first, "✅ 确认", SPENT)
        await says(chat, "secretary", press("✅ 确认"),
                   CARD_B + "\n\n✅ 已安排「核对乙会议」：3月19日（周三）10:00。届时会提醒参加的党员。")
    assert [title for title, *_ in activities_titled(session_factory, "核对甲会议", "核对乙会议")] == [
        "核对甲会议", "核对乙会议"]


MOVE_CARD = ("🔁 调整活动时间\n活动：主题党日（第一党支部）\n原定：3月15日（周六）09:00\n时间：3月{day}日（周{weekday}）09:00\n"
             "（时间理解为：下周{weekday}（2025年3月{day}日 星期{weekday}）上午9点（09:00））\n地点：三楼会议室\n请确认：")


async def test_a_card_for_an_activity_changed_since_and_an_expired_card_change_nothing(session_factory, world):
    async with running_bot(session_factory, world, at("2025-03-14 09:00")) as chat:
        older = await chat.step("secretary", "/reschedule 主题党日 下周三上午9点", MOVE_CARD.format(day=19, weekday="三"))
        newer = MOVE_CARD.format(day=21, weekday="五")
        await chat.step("secretary", "/reschedule 主题党日 下周五上午9点", newer)
        await says(chat, "secretary", press("✅ 确认"), newer + "\n\n✅ 已将「主题党日」改到 3月21日（周五）09:00。")
        await press_again(chat, "secretary", older, "✅ 确认",
                          "「主题党日」在这张确认卡之后已经改过（现为 3月21日 09:00），这张确认卡不再适用。请重新发送命令。")
        await says(chat, "secretary", "/schedule 专题党课 下周三下午3点",
                   "🗓 新活动\n活动：专题党课（第一党支部）\n时间：3月19日（周三）15:00\n"
                   "（时间理解为：下周三（2025年3月19日 星期三）下午3点（15:00））\n请确认：")
        chat.set_now(at("2025-03-14 11:01"))
        await says(chat, "secretary", press("✅ 确认"), "这张确认卡已过期（2 小时内有效），没有做任何改动。请重新发送命令。")
    assert activities_titled(session_factory, "主题党日", "专题党课") == [
        ("主题党日", at("2025-03-21 09:00"), "三楼会议室", "scheduled")]


# --- #12.13: ✏️ 修改 asks for the corrected sentence and replaces the card's draft -----------------------

LECTURE_CARD = ("🗓 新活动\n活动：专题党课（第一党支部）\n时间：3月{day}日（周{weekday}）15:00\n"
                "（时间理解为：下周{weekday}（2025年3月{day}日 星期{weekday}）下午3点（15:00））\n地点：{place}\n请确认：")


async def test_edit_asks_at_the_bottom_and_the_corrected_sentence_replaces_the_draft(session_factory, world):
    corrected = LECTURE_CARD.format(day=20, weekday="四", place="二楼会议室")
    async with running_bot(session_factory, world, at("2025-03-14 09:00")) as chat:
        card = await chat.step("secretary", "/schedule 专题党课 下周三下午3点 三楼会议室",
                               LECTURE_CARD.format(day=19, weekday="三", place="三楼会议室"))
        asked = await says(chat, "secretary", press("✏️ 修改"),
                           "✏️ 请直接发送改正后的一句话（活动名称 时间 地点），例如：专题党课 下周三下午3点 三楼会议室\n"
                           "当前：「专题党课」。发送后会给出新的确认卡。")
        assert asked["chat_id"] == chat.user("secretary")  # a new message at the bottom, not an edit of the card
        await says(chat, "secretary", "专题党课 某一天",
                   "没有找到时间：请按“活动名称 时间 地点”的顺序写\n"
                   "例如：专题党课 下周三下午3点 三楼会议室、支委会 明天上午9点 党员活动室、主题党日 3月5日 14:30\n"
                   "用法：/schedule 活动名称 时间 地点，例如 /schedule 专题党课 下周三下午3点 三楼会议室")
        await says(chat, "secretary", "专题党课 下周四下午3点 二楼会议室", corrected)
        await press_again(chat, "secretary", card, "✅ 确认", "这张确认卡已经修改过，请使用下方新的确认卡。")
        await says(chat, "secretary", press("✅ 确认"),
                   corrected + "\n\n✅ 已安排「专题党课」：3月20日（周四）15:00。届时会提醒参加的党员。")
    assert activities_titled(session_factory, "专题党课") == [
        ("专题党课", at("2025-03-20 15:00"), "二楼会议室", "scheduled")]


# --- #12.2: a move takes the check-in window, the roll and the nags with it -----------------------------

def plan_meeting(session_factory, world) -> int:
    """A 组织生活会 as the plan makes it: its check-in window (30 minutes before to 2 hours after) stored."""
    occurrence = Occurrence(
        key="org_life_meeting:B01:2025", obligation="org_life_meeting", title="组织生活会", org_code="B01",
        starts_at=at("2025-03-12 14:00"), ends_at=None, member_no=None, audience="party_members",
        moved_from=None, kind="meeting", requires_confirmation=True,
        checkin=(timedelta(minutes=-30), timedelta(hours=2)), reminder_leads=(timedelta(days=1),),
    )
    with transaction(session_factory) as session:
        upsert_occurrences(session, [occurrence])
        return session.scalars(select(models.Activity.id).where(models.Activity.title == "组织生活会")).one()


def queued_for(session_factory, activity_id: int) -> list[str]:
    with transaction(session_factory) as session:
        return sorted(session.scalars(select(models.OutboxMessage.kind).where(
            models.OutboxMessage.activity_id == activity_id, models.OutboxMessage.state == "pending",
            models.OutboxMessage.kind != "reminder")))


async def test_a_moved_meeting_opens_check_in_and_calls_the_roll_at_its_new_time(session_factory, world):
    meeting = plan_meeting(session_factory, world)
    card = ("🔁 调整活动时间\n活动：组织生活会（第一党支部）\n原定：3月12日（周三）14:00\n时间：3月20日（周四）14:30\n"
            "（时间理解为：下周四（2025年3月20日 星期四）下午2点半（14:30））\n地点：党员活动室\n请确认：")
    async with running_bot(session_factory, world, at("2025-03-10 09:00")) as chat:
        await chat.step("secretary", "/reschedule 组织生活会 下周四下午2点半 党员活动室", card)
        await says(chat, "secretary", press("✅ 确认"), card + "\n\n✅ 已将「组织生活会」改到 3月20日（周四）14:30。")
        chat.set_now(at("2025-03-12 14:00"))  # the old time
        await says(chat, "alice", "/checkin", "现在没有正在签到的活动。发送 /upcoming 查看接下来的活动。")
        chat.set_now(at("2025-03-19 15:00"))  # the day before the new time: the group hears of it
        chat.sweep()
        assert queued_for(session_factory, meeting) == ["group_announcement"]  # no roll, no nag, no escalation
        announcement = next(m for m in await chat.dispatch_group() if "组织生活会" in m["text"])
        assert announcement["text"] == (
            "📣 组织生活会\n时间：3月20日（周四）14:30\n地点：党员活动室\n组织：第一党支部\n\n"
            "签到时间：3月20日（周四）14:00 至 16:30\n已签到 0 人 · 请假 0 人 · 未答复 6 人")
        button = press("✅ 签到", chat="group", on=announcement["message_id"])
        await says(chat, "alice", button, "「组织生活会」的签到还没开始，开放时间为活动开始前 30 分钟。")
        chat.set_now(at("2025-03-20 14:10"))
        await says(chat, "alice", button, "✅ 签到成功：「组织生活会」，14:10。")
        chat.set_now(at("2025-03-20 16:31"))  # the new window has closed: now the secretary gets the roll
        chat.sweep()
        assert queued_for(session_factory, meeting) == ["roll_summary", "roll_summary"]


# --- #12.3: the group hears of a move or a cancellation, and old buttons say what changed ----------------

@pytest.mark.parametrize(("presser", "label"), [
    pytest.param("alice", "✅ 签到", id="a-member-checks-in"),
    pytest.param("alice", "📝 请假", id="a-member-asks-leave"),
    # Whoever presses an old button hears what changed, bound or not (a stranger's ✅ 签到 used to be told to bind
    # first, while their 📝 请假 said what changed).
    pytest.param("7007", "✅ 签到", id="a-stranger-checks-in"),
    pytest.param("7007", "📝 请假", id="a-stranger-asks-leave"),
])
async def test_the_group_is_told_of_a_cancellation_and_old_buttons_say_so(session_factory, world, presser, label):
    card = "✖️ 取消活动\n活动：主题党日（第一党支部）\n时间：3月15日（周六）09:00\n地点：三楼会议室\n请确认："
    announced = party_day_card(signed=0, leave=0, unanswered=6)
    stale = "⚠️ 此通知已过时：「主题党日」已取消。"
    async with running_bot(session_factory, world, at("2025-03-14 09:00")) as chat:
        chat.sweep()
        assert [m["text"] for m in await chat.dispatch_group()] == [announced]  # a day ahead
        await chat.step("secretary", "/cancel 主题党日", card)
        await says(chat, "secretary", press("✅ 确认取消活动"), card + "\n\n✅ 已取消「主题党日」。")
        assert [m["text"] for m in await chat.dispatch_group()] == [
            "📢 取消通知：原定 3月15日（周六）09:00 的「主题党日」已取消，原通知作废。"]
        if presser == "7007":
            chat.server.add_user(7007, "路人")
            chat.server.add_member(chat.group_chat(), 7007)
        await says(chat, presser, press(label, chat="group"), stale)
        edited = (await chat.expect(announced + "\n\n" + stale)).params
        assert edited.get("reply_markup") is None  # the old post offers no buttons any more


async def test_the_group_is_told_of_a_move_and_the_moved_meeting_is_posted(session_factory, world):
    with transaction(session_factory) as session:
        add_activity(session, world, "lesson", "B01", "专题党课", at("2025-03-18 15:00"), place="三楼会议室")
    card = ("🔁 调整活动时间\n活动：专题党课（第一党支部）\n原定：3月18日（周二）15:00\n时间：3月26日（周三）15:00\n"
            "（时间理解为：下周三（2025年3月26日 星期三）下午3点（15:00））\n地点：三楼会议室\n请确认：")
    async with running_bot(session_factory, world, at("2025-03-17 16:00")) as chat:
        chat.sweep()
        await chat.dispatch_group()
        await chat.step("secretary", "/reschedule 专题党课 下周三下午3点", card)
        await says(chat, "secretary", press("✅ 确认"), card + "\n\n✅ 已将「专题党课」改到 3月26日（周三）15:00。")
        assert [m["text"] for m in await chat.dispatch_group()] == [
            "📢 改期通知：「专题党课」由 3月18日（周二）15:00 改为 3月26日（周三）15:00，地点：三楼会议室。"
            "原通知作废，签到以新通知为准。"]
        await says(chat, "alice", press("✅ 签到", chat="group"),
                   "⚠️ 此通知已过时：「专题党课」已改到 3月26日（周三）15:00，地点：三楼会议室。"
                   "签到时间：3月26日（周三）14:30 至 17:00。")
        chat.set_now(at("2025-03-25 15:00"))
        chat.sweep()
        assert [m["text"] for m in await chat.dispatch_group()] == [
            "📣 专题党课\n时间：3月26日（周三）15:00\n地点：三楼会议室\n组织：第一党支部\n\n"
            "签到时间：3月26日（周三）14:30 至 17:00\n已签到 0 人 · 请假 0 人 · 未答复 6 人"]
        chat.set_now(at("2025-03-26 14:40"))
        await says(chat, "alice", press("✅ 签到", chat="group"), "✅ 签到成功：「专题党课」，14:40。")
