"""Dialogs through the real bot: binding, check-in, leave, the group announcement, secretaries, committees."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage import models
from storage.db import transaction
from storage.services import binding as binding_svc
from storage.services.permissions import SystemOperator
from tests.chat.dialog import press, running_bot
from tests.chat.replies import (MEMBER_HELP, PARTY_DAY_ABSENT_ONLY_ALICE, PARTY_DAY_REMINDER_LEAVE_PENDING,
                                PARTY_DAY_ROLL_ONLY_ALICE, party_day_card)
from tests.chat.world import MEETING_START

T = MEETING_START


def welcome(name: str, progress: str = "") -> str:
    """The answer to a first /start with a valid code: who they are, where, and their next activity (marked
    `progress`, （进行中）, when it has begun)."""
    return (f"欢迎您，{name}同志！您已绑定到第一党支部。\n\n您接下来的活动：\n📌 主题党日\n时间：3月15日（周六）09:00{progress}\n"
            "地点：三楼会议室\n议程：学习党章\n组织：第一党支部\n\n发送 /help 查看可用的命令。")


def new_code(factory, member_no="P007", now=T - timedelta(days=1)):
    with transaction(factory) as session:
        return binding_svc.create_invite(session, member_no, now, created_by=SystemOperator("cli:test")).code


async def test_binding_dialog(session_factory, world):
    code = new_code(session_factory)
    async with running_bot(session_factory, world, T - timedelta(hours=1)) as chat:
        await chat.run([
            ("5005", "/start", ("您好！我是党支部工作助手。\n"
                                "请向支部书记索取绑定码，然后发送：/start 绑定码")),
            ("5005", "/start WRONG12345", "绑定码不正确，请核对后重新发送，或向支部书记重新索取。"),
            ("5005", f"/start {code}", welcome("郑新")),
            ("5005", "/upcoming", ("🗓 您接下来的活动：\n"
                                   "• 3月15日（周六）09:00 主题党日，三楼会议室\n"
                                   "• 3月25日（周二）09:00 支部党员大会")),
            ("5005", f"/start {code}", "您已经用这个绑定码完成了绑定，无需重复操作。发送 /help 查看可用命令。"),
            ("secretary", "/start", ("您好，王书记同志！您已完成绑定。\n"
                                     "\n"
                                     "🗓 您接下来的活动：\n"
                                     "• 3月15日（周六）09:00 主题党日，三楼会议室\n"
                                     "\n"
                                     "发送 /help 查看可用的命令。")),
        ])


@pytest.mark.parametrize(("at", "progress"), [
    pytest.param(T - timedelta(minutes=1), "", id="before-it-begins"),
    pytest.param(T + timedelta(minutes=30), "（进行中）", id="while-it-is-under-way"),
])
async def test_the_welcome_says_when_the_next_meeting_is_under_way(session_factory, world, at, progress):
    code = new_code(session_factory)
    async with running_bot(session_factory, world, at) as chat:
        await chat.run([("5005", f"/start {code}", welcome("郑新", progress))])


async def test_secretary_invites_in_chat(session_factory, world, monkeypatch):
    monkeypatch.setattr(binding_svc, "new_code", lambda: "INVITE2025")  # the reply quotes the code
    async with running_bot(session_factory, world, T - timedelta(hours=1)) as chat:
        await chat.run([
            ("alice", "/invite P007", "只有本支部书记或副书记可以进行此操作。"),
            ("secretary", "/invite P102", "只有本支部书记或副书记可以进行此操作。"),
            ("secretary", "/invite", "用法：/invite 党员编号（名册中的编号），例如 /invite 1009"),
        ])
        await chat.step("secretary", "/invite P007", ("已为 郑新（P007）生成绑定码：INVITE2025\n"
                                                      "有效期至 3月22日（周六）08:00，只能使用一次。\n"
                                                      "请把这个链接发给本人：https://t.me/branchbot_sandbox_bot?start=INVITE2025"))
        await chat.run([("5005", "/start INVITE2025", welcome("郑新"))])


async def test_unexpected_errors_get_a_friendly_sentence(session_factory, world, monkeypatch, caplog):
    from storage.services import queries

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(queries, "upcoming_for", broken)
    async with running_bot(session_factory, world, T) as chat:
        await chat.run([("alice", "/upcoming", "抱歉，处理您的请求时出了点问题，我们已记录下来。请稍后再试。")])
    assert "database on fire" in caplog.text


async def test_wrong_codes_are_throttled(session_factory, world):
    async with running_bot(session_factory, world, T) as chat:
        await chat.run([("5005", f"/start BAD{i}", "绑定码不正确，请核对后重新发送，或向支部书记重新索取。") for i in range(5)]
                       + [("5005", "/start BAD9", "错误次数过多，请 15 分钟后再试。")])


async def test_private_reminder_checkin_updates_in_place(session_factory, world):
    async with running_bot(session_factory, world, T - timedelta(minutes=40)) as chat:
        reminder = await chat.remind("alice", "party_day")
        assert reminder["text"] == ("⏰ 活动提醒：主题党日\n"
                                    "时间：3月15日（周六）09:00（40分钟后）\n"
                                    "组织：第一党支部\n"
                                    "地点：三楼会议室\n"
                                    "议程：学习党章\n"
                                    "请按时参加；如不能参加，请提前请假。")
        await chat.run([("alice", press("✅ 签到"), "「主题党日」的签到还没开始，开放时间为活动开始前 30 分钟。")])
        chat.set_now(T - timedelta(minutes=5))
        await chat.run([
            ("alice", press("✅ 签到"), "✅ 签到成功：「主题党日」，08:55。"),
            ("alice", "/checkin", "您已经签过到了：「主题党日」。"),
        ])
        shown = chat.server.chat(chat.user("alice")).message(reminder["message_id"])
        assert shown["text"] == ("⏰ 活动提醒：主题党日\n"
                                 "时间：3月15日（周六）09:00（40分钟后）\n"
                                 "组织：第一党支部\n"
                                 "地点：三楼会议室\n"
                                 "议程：学习党章\n"
                                 "请按时参加；如不能参加，请提前请假。\n"
                                 "\n"
                                 "✅ 已签到（08:55）")


async def test_leave_dialog_with_secretary_decision(session_factory, world):
    async with running_bot(session_factory, world, T - timedelta(days=1)) as chat:
        reminder = await chat.remind("bob", "party_day")
        await chat.run([
            ("bob", press("📝 请假"), "📝 您要为「主题党日」请假。请直接回复一句话说明原因："),
            ("bob", "单位值班", "已提交请假：「主题党日」，原因：单位值班。王书记、李副书记审批后会通知您。"),
        ])
        await chat.expect(PARTY_DAY_REMINDER_LEAVE_PENDING)
        shown = chat.server.chat(chat.user("bob")).message(reminder["message_id"])
        assert shown["text"] == PARTY_DAY_REMINDER_LEAVE_PENDING
        assert [b["text"] for row in shown["reply_markup"]["inline_keyboard"] for b in row] == ["✅ 签到"]
        # The request reaches both approvers through the outbox (quiet hours and rate limits apply there).
        [request] = await chat.dispatch("leave_request", to="secretary")
        assert request["text"] == ("📝 请假申请\n"
                                   "李四 申请不参加「主题党日」（3月15日（周六）09:00）\n"
                                   "原因：单位值班")
        await chat.dispatch("leave_request", to="deputy")
        await chat.run([
            ("secretary", press("同意"), "✅ 已同意（王书记）"),
        ])
        [decision] = await chat.dispatch("leave_decision", to="bob")
        assert decision["text"] == "您为「主题党日」的请假，王书记已同意。"
        # The deputy got the same request; pressing it now is a replay of a one-shot decision.
        await chat.run([("deputy", press("不同意"), "这条请假已经处理过了。")])
    with transaction(session_factory) as session:
        row = session.scalars(select(models.Attendance)).one()
        assert (row.status, row.leave_decision) == ("leave", "approved")
        refused = session.scalars(select(models.AuditEntry.action).where(
            models.AuditEntry.action.like("callback.refused%"))).all()
        assert refused == ["callback.refused.already_handled"]


async def test_group_announcement_serves_everyone(session_factory, world):
    async with running_bot(session_factory, world, T, started=("alice", "bob", "secretary")) as chat:
        announcement = await chat.announce("party_day")
        assert announcement["text"] == party_day_card(signed=0, leave=0, unanswered=6)
        await chat.run([
            ("alice", press("✅ 签到", chat="group"), "✅ 签到成功：「主题党日」，09:00。"),
        ])
        await chat.expect(party_day_card(signed=1, leave=0, unanswered=5))
        await chat.run([
            ("bob", press("✅ 签到", chat="group"), "✅ 签到成功：「主题党日」，09:00。"),
        ])
        await chat.expect(party_day_card(signed=2, leave=0, unanswered=4))
        # Someone in the group who never bound gets a link to start a chat with the bot.
        chat.server.add_user(7007, "路人")
        chat.server.add_member(chat.group_chat(), 7007)
        record = await chat.step("7007", press("✅ 签到", chat="group"), "您还没有和我绑定。请先和我开始对话，按提示用绑定码绑定后再签到或请假。")
        assert record.params["url"] == "https://t.me/branchbot_sandbox_bot?start=join"
        # 📝 请假 in the group asks for the reason in private, not in the group.
        await chat.run([("secretary", press("📝 请假", chat="group"), "📝 您要为「主题党日」请假。请直接回复一句话说明原因：")])
    group_messages = chat.server.chat(chat.group_chat()).messages
    assert len(group_messages) == 1, "no per-member messages in the group"


async def test_private_answers_update_the_groups_announcement(session_factory, world):
    """Most members answer the private reminder, not the group's card: its tally follows check-ins and leave
    requests made anywhere."""
    async with running_bot(session_factory, world, T - timedelta(days=1), started=("alice", "bob")) as chat:
        assert chat.sweep() >= 1
        [card] = [m for m in await chat.dispatch_group() if m["text"].startswith("📣 主题党日")]
        assert card["text"] == party_day_card(signed=0, leave=0, unanswered=6)
        chat.set_now(T)
        await chat.remind("alice", "party_day")
        await chat.run([("alice", press("✅ 签到"), "✅ 签到成功：「主题党日」，09:00。")])
        edited = await chat.expect(party_day_card(signed=1, leave=0, unanswered=5))
        assert (edited.params["chat_id"], edited.params["message_id"]) == (chat.group_chat(), card["message_id"])
        await chat.remind("bob", "party_day")
        await chat.run([("bob", press("📝 请假"), "📝 您要为「主题党日」请假。请直接回复一句话说明原因：")])
        chat.act("bob", "出差在外")
        await chat.expect(party_day_card(signed=1, leave=1, unanswered=4))


async def test_forged_and_foreign_buttons_are_refused_and_logged(session_factory, world):
    async with running_bot(session_factory, world, T) as chat:
        await chat.remind("alice", "party_day")
        message_id, data = chat.find_button(chat.user("alice"), "✅ 签到")
        body, signature = data.rsplit(".", 1)
        forged = body.replace(f":{world.activities['party_day']}:", f":{world.activities['other_branch']}:")
        chat.server.inject_update({"callback_query": {
            "id": "forged-1", "from": chat.server.users[chat.user("alice")],
            "message": chat.server.chat(chat.user("alice")).message(message_id),
            "chat_instance": "1", "data": f"{forged}.{signature}",
        }})
        await chat.expect("这个按钮无效或已过期，请使用最新的消息。")
        # A correctly signed button for another branch's activity is refused by the server-side check.
        await chat.remind("other_member", "party_day")
        await chat.run([("other_member", press("✅ 签到"), "「主题党日」不是您需要参加的活动，无法为它签到或请假。")])
    with transaction(session_factory) as session:
        actions = session.scalars(select(models.AuditEntry.action).where(
            models.AuditEntry.action.like("callback.%")).order_by(models.AuditEntry.id)).all()
        assert actions == ["callback.forged", "callback.refused.permission_denied"]
        assert session.scalars(select(models.Attendance)).all() == []


async def test_secretary_closing_roll_confirmation_and_proxy(session_factory, world):
    async with running_bot(session_factory, world, T) as chat:
        await chat.remind("alice", "party_day")
        await chat.run([("alice", press("✅ 签到"), "✅ 签到成功：「主题党日」，09:00。")])
        chat.set_now(T + timedelta(hours=2))
        summary = await chat.deliver("roll_summary", "party_day", to="secretary")
        assert summary["text"] == PARTY_DAY_ROLL_ONLY_ALICE
        await chat.run([
            ("secretary", press("代签"), ("👥 「主题党日」未答复（5）：王书记、李副书记、李四、赵老（无法联系）、郑新（无法联系）\n"
                                        "下列党员可由您代签或登记（记为由您登记，并留痕）。\n"
                                        "确认召开时，仍未答复的记为缺席。")),
            ("secretary", press("代签 赵老"), "已为 赵老 代签。"),
            ("alice", "/absent", "只有支部书记、副书记或组织委员可以查看未答复名单。"),
            ("secretary", press("✅ 已召开"), "还有 4 人未答复：请先代签、登记请假或记为缺席，再确认召开。"),
            ("secretary", press("✅ 确认召开（其余 4 人记为缺席）"), "已确认「主题党日」召开。4 人未答复，已记为缺席：王书记、李副书记、李四、郑新。如有人到场，可点“代签”改为出席。"),
            ("secretary", press("记录议题"), "请发送「主题党日」的议题："),
            ("secretary", "学习贯彻党章", "已记录到「主题党日」。"),
            ("deputy", "/me", ("👤 李副书记（第一党支部）\n"
                               "2025年出勤：应参加 1 次，出席 0 次，请假 0 次，缺席 1 次\n"
                               "🎂 政治生日：3月20日\n"
                               "党龄：4 年\n"
                               "需要补学：「主题党日」")),
        ])
    with transaction(session_factory) as session:
        activity = session.get(models.Activity, world.activities["party_day"])
        assert (activity.status, activity.topic) == ("held", "学习贯彻党章")


async def test_absent_list_reminds_only_the_unanswered(session_factory, world):
    async with running_bot(session_factory, world, T - timedelta(minutes=10)) as chat:
        await chat.run([
            ("alice", "/checkin", "✅ 签到成功：「主题党日」，08:50。"),
            ("secretary", "/absent", PARTY_DAY_ABSENT_ONLY_ALICE),
        ])
        # The secretary pressing the button is never nudged about the meeting himself (#12 point 11).
        await chat.step("secretary", press("🔔 提醒未答复的人"), "已安排提醒 2 位尚未答复的党员。")
        with transaction(session_factory) as session:
            nudged = session.scalars(select(models.OutboxMessage.member_id).where(
                models.OutboxMessage.kind == "nudge")).all()
        assert sorted(nudged) == sorted(world.members[k] for k in ("deputy", "bob"))
        # The dispatcher sends it like any outbox row; the member can answer right from it.
        await chat.deliver("nudge", "party_day", to="bob")
        await chat.run([("bob", press("✅ 签到"), "✅ 签到成功：「主题党日」，08:50。")])


async def test_committee_attendance_and_member_commands(session_factory, world):
    async with running_bot(session_factory, world, T - timedelta(days=1)) as chat:
        await chat.run([
            ("committee", "/attendance D01 本季度", ("📊 机关党委（D01）2025年第一季度\n"
                                                  "合计：已召开会议 0 次，出勤率 —；三会一课 完成 0、补开 0、未开展 0、进行中 7、无记录 6\n"
                                                  "• 第一党支部（B01）：已召开会议 0 次，出勤率 —；三会一课 完成 0、补开 0、未开展 0、进行中 4、无记录 4\n"
                                                  "• 第二党支部（B02）：已召开会议 0 次，出勤率 —；三会一课 完成 0、补开 0、未开展 0、进行中 3、无记录 2")),
            ("committee", "/attendance X01B", "您只能查看本组织及下级组织的情况。"),
            ("alice", "/attendance B01", "您只能查看本组织及下级组织的情况。"),
            ("committee", "/attendance D01 明年", ("无法识别“明年”：不是组织、党员或时间段。\n"
                                                 "用法：/attendance [组织编码或名称|党员编号或姓名] [时间段]，顺序不限，例如 /attendance B01 一季度\n"
                                                 "时间段可写：本月、上月、本季度、上季度、今年、去年、一季度、12月、上半年、下半年、2025、2025年、2025-03、2025年3月、"
                                                 "2025Q1、2025年第一季度、2025H1、2025年上半年；不写为本季度。")),
            ("committee", "/attendance P004 2025Q1", "👤 李四（P004，第一党支部）2025年第一季度：应参加 0 次，出席 0 次（含代签 0 次），请假 0 次，缺席 0 次，出勤率 —"),
            ("alice", "/help", MEMBER_HELP),
            ("secretary", "/plan", ("🗓 本支部近四周的安排：\n"
                                    "• 3月15日（周六）09:00 主题党日，三楼会议室\n"
                                    "• 3月15日（周六）09:00 转正提醒\n"
                                    "• 3月18日（周二）09:00 党小组会（第一党小组）\n"
                                    "• 3月20日（周四）09:00 支委会\n"
                                    "• 3月25日（周二）09:00 支部党员大会")),
            ("alice", "/me", ("👤 张三（第一党支部）\n"
                              "2025年出勤：应参加 0 次，出席 0 次，请假 0 次，缺席 0 次\n"
                              "🎂 政治生日：3月20日\n"
                              "党龄：4 年\n"
                              "没有待补学的内容。")),
            ("alice", "你好", "我没有听懂。发送 /help 查看可用的命令。"),
            ("5005", "/upcoming", "您还没有绑定党员身份。请向支部书记索取绑定码，然后发送 /start 绑定码。"),
        ])


async def test_command_menus_default_and_per_role(session_factory, world):
    code = new_code(session_factory, member_no="P002")  # the deputy secretary, on a new account
    async with running_bot(session_factory, world, T - timedelta(hours=1), schedule_jobs=True) as chat:
        await chat.server.next_bot_request(method="setMyCommands")
        default = [c["command"] for c in chat.server.my_commands()]
        assert default == ["upcoming", "checkin", "leave", "me", "calendar", "talk", "rectifications", "help"]
        assert all(c["description"] for c in chat.server.my_commands())
        await chat.run([("5005", f"/start {code}", welcome("李副书记"))])
        await chat.server.next_bot_request(method="setMyCommands")
        scoped = [c["command"] for c in chat.server.my_commands({"type": "chat", "chat_id": 5005})]
        assert scoped[:8] == default and {"plan", "absent", "invite", "schedule", "tasks", "report", "rectify",
                                          "talks"} <= set(scoped)
        assert len(scoped) == len(set(scoped))
        assert "attendance" not in scoped
        # A committee member who was bound before the menus existed gets theirs on their next /start.
        await chat.run([("committee", "/start", ("您好，吴委员同志！您已完成绑定。\n"
                                                 "\n"
                                                 "🗓 您接下来的活动：\n"
                                                 "• 3月15日（周六）09:00 第二支部主题党日\n"
                                                 "\n"
                                                 "发送 /help 查看可用的命令。"))])
        await chat.server.next_bot_request(method="setMyCommands")
        committee_menu = [c["command"] for c in chat.server.my_commands({"type": "chat", "chat_id": 1201})]
        assert "attendance" in committee_menu and "absent" not in committee_menu


async def test_leave_command_and_minutes_photo(session_factory, world):
    async with running_bot(session_factory, world, T + timedelta(days=2)) as chat:
        # Alice's next meetings: the 党小组会 and the general assembly, so she is asked which one.
        await chat.run([
            ("alice", "/leave", "请选择要请假的活动："),
            ("alice", press("党小组会"), "📝 您要为「党小组会（第一党小组）」请假。请直接回复一句话说明原因："),
            ("alice", "很" * 301, "请假原因太长了：301 个字，最多 300 个字。"),
            ("alice", "去外地培训", "已提交请假：「党小组会（第一党小组）」，原因：去外地培训。王书记、李副书记审批后会通知您。"),
            ("alice", "/checkin", "现在没有正在签到的活动。发送 /upcoming 查看接下来的活动。"),
        ])
        chat.set_now(T + timedelta(days=3, hours=2))
        summary = await chat.deliver("roll_summary", "group_meeting", to="secretary")
        assert summary["text"] == ("📋 「党小组会（第一党小组）」（3月18日（周二）09:00）签到情况\n"
                                   "已签到（0）：无\n"
                                   "请假（1）：\n"
                                   "  张三：去外地培训\n"
                                   "未签到（1）：李四\n"
                                   "\n"
                                   "签到已结束。请确认活动是否召开，并可记录议题、主讲人和会议记录。\n"
                                   "点“✅ 已召开”后，可为未答复的 1 人逐一代签、登记请假或记为缺席，再确认召开。")
        await chat.run([("secretary", press("记录会议记录/照片"), "请发送「党小组会（第一党小组）」的会议记录（文字，或直接发送照片）：")])
        chat.server.user_sends_photo(chat.user("secretary"), b"\xff\xd8\xff\xe0fake-jpeg", caption="签到表")
        await chat.expect("照片已保存到会议记录。可以继续发送，或发送文字记录。")
    with transaction(session_factory) as session:
        photo = session.scalars(select(models.ActivityAttachment)).one()
        assert (photo.activity_id, photo.caption) == (world.activities["group_meeting"], "签到表")


async def test_group_leave_from_a_member_who_never_started_the_bot(session_factory, world):
    async with running_bot(session_factory, world, T, started=("secretary",)) as chat:
        await chat.announce("party_day")
        record = await chat.step("bob", press("📝 请假", chat="group"), "请先点击下方按钮和我开始对话，然后再请假。")
        assert record.params["show_alert"] is True
        assert record.params["url"] == "https://t.me/branchbot_sandbox_bot?start=join"
        # Following the link opens the chat: a greeting, not a wrong-code refusal (at 09:00 the meeting has begun).
        await chat.run([("bob", "/start join", ("您好，李四同志！您已完成绑定。\n"
                                                "\n"
                                                "🗓 您接下来的活动：\n"
                                                "• 3月15日（周六）09:00（进行中） 主题党日，三楼会议室\n"
                                                "\n"
                                                "发送 /help 查看可用的命令。"))])


async def test_personal_commands_in_the_group_point_to_the_private_chat(session_factory, world):
    async with running_bot(session_factory, world, T) as chat:
        group = chat.group_chat()
        chat.server.user_sends(chat.user("alice"), "/me", group)
        record = await chat.expect("请在与我的私聊中使用这个命令。")
        assert record.params["chat_id"] == group
        chat.server.user_sends(chat.user("alice"), "/help", group)
        await chat.expect(MEMBER_HELP)


def party_day_reminder(until: str, stamp: str | None = None) -> str:
    """alice's private reminder of the 主题党日 as sent `until` before it, with the answer's stamp under it."""
    text = ("⏰ 活动提醒：主题党日\n"
            f"时间：3月15日（周六）09:00（{until}）\n"
            "组织：第一党支部\n"
            "地点：三楼会议室\n"
            "议程：学习党章\n"
            "请按时参加；如不能参加，请提前请假。")
    return text if stamp is None else f"{text}\n\n{stamp}"


def labels(message: dict) -> list[str]:
    return [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


@pytest.mark.parametrize(("answer", "reply", "pressed_first"), [
    pytest.param(press("✅ 签到"), "✅ 签到成功：「主题党日」，08:55。", True, id="the-later-reminder"),
    pytest.param(press("✅ 签到", chat="group"), "✅ 签到成功：「主题党日」，08:55。", False, id="the-groups-card"),
    pytest.param("/checkin", "✅ 签到成功：「主题党日」，08:55。", False, id="the-checkin-command"),
])
async def test_a_check_in_stamps_every_reminder_of_the_member(session_factory, world, answer, reply, pressed_first):
    """Checked in from one place, every private reminder of that meeting says so and offers no buttons (the
    earlier one kept ✅ 签到 / 📝 请假 when only the pressed message was stamped)."""
    stamp = "✅ 已签到（08:55）"
    async with running_bot(session_factory, world, T - timedelta(days=1)) as chat:
        earlier = await chat.send_reminder("alice", "party_day", lead=24 * 60)
        chat.set_now(T - timedelta(hours=1))
        later = await chat.send_reminder("alice", "party_day", lead=60)
        await chat.announce("party_day")
        chat.set_now(T - timedelta(minutes=5))
        await chat.step("alice", answer, reply)
        stamped = [(later, "1小时后"), (earlier, "1天后")] if pressed_first else [(earlier, "1天后"), (later, "1小时后")]
        for message, until in stamped:
            edit = await chat.expect(party_day_reminder(until, stamp))
            assert (edit.params["chat_id"], edit.params["message_id"]) == (chat.user("alice"), message["message_id"])
        shown = chat.server.chat(chat.user("alice"))
        assert [(shown.message(m["message_id"])["text"], labels(shown.message(m["message_id"])))
                for m in (earlier, later)] == [(party_day_reminder("1天后", stamp), []),
                                               (party_day_reminder("1小时后", stamp), [])]


async def test_a_leave_request_stamps_every_reminder_of_the_member(session_factory, world):
    """Asked from the later reminder, the earlier one shows the request too and keeps only ✅ 签到."""
    stamp = "📝 已请假（原因：单位值班），等待书记审批"
    async with running_bot(session_factory, world, T - timedelta(days=1)) as chat:
        earlier = await chat.send_reminder("alice", "party_day", lead=24 * 60)
        chat.set_now(T - timedelta(hours=1))
        later = await chat.send_reminder("alice", "party_day", lead=60)
        await chat.run([
            ("alice", press("📝 请假"), "📝 您要为「主题党日」请假。请直接回复一句话说明原因："),
            ("alice", "单位值班", "已提交请假：「主题党日」，原因：单位值班。王书记、李副书记审批后会通知您。"),
        ])
        for message, until in [(later, "1小时后"), (earlier, "1天后")]:
            edit = await chat.expect(party_day_reminder(until, stamp))
            assert (edit.params["chat_id"], edit.params["message_id"]) == (chat.user("alice"), message["message_id"])
        shown = chat.server.chat(chat.user("alice"))
        assert [(shown.message(m["message_id"])["text"], labels(shown.message(m["message_id"])))
                for m in (earlier, later)] == [(party_day_reminder("1天后", stamp), ["✅ 签到"]),
                                               (party_day_reminder("1小时后", stamp), ["✅ 签到"])]


async def test_checking_in_by_command_updates_the_groups_announcement(session_factory, world):
    """/checkin is a check-in like a press: the group's card counts it (it kept the old tally before)."""
    async with running_bot(session_factory, world, T - timedelta(days=1), started=("alice", "bob")) as chat:
        chat.sweep()
        [card] = [m for m in await chat.dispatch_group() if m["text"].startswith("📣 主题党日")]
        chat.set_now(T)
        await chat.run([("alice", "/checkin", "✅ 签到成功：「主题党日」，09:00。")])
        edited = await chat.expect(party_day_card(signed=1, leave=0, unanswered=5))
        assert (edited.params["chat_id"], edited.params["message_id"]) == (chat.group_chat(), card["message_id"])
        await chat.run([("alice", "/checkin", "您已经签过到了：「主题党日」。")])


PARTY_DAY_LINE = "• 3月15日（周六）09:00{mark} 主题党日，三楼会议室"
ALICE_LATER = "• 3月18日（周二）09:00 党小组会（第一党小组）\n• 3月25日（周二）09:00 支部党员大会"
ALICE_LATER_TITLES = ["党小组会", "支部党员大会"]
NO_OPEN_ACTIVITY = "现在没有正在签到的活动。发送 /upcoming 查看接下来的活动。"
UNDER_WAY = PARTY_DAY_LINE.format(mark="（进行中）")
AT_TEN = "✅ 签到成功：「主题党日」，10:00。"


# The 主题党日 from 09:00, its window from 08:30 to 11:00. "listed": its line in /upcoming (None: not listed);
# "leave": whether /leave offers it; "checkin": the answer to /checkin.
@pytest.mark.parametrize(("now", "ends_at", "listed", "leave", "checkin"), [
    pytest.param(T - timedelta(minutes=15), T + timedelta(hours=3), PARTY_DAY_LINE.format(mark=""), True,
                 "✅ 签到成功：「主题党日」，08:45。", id="before-it-begins"),
    pytest.param(T + timedelta(hours=1), T + timedelta(hours=3), UNDER_WAY, True, AT_TEN,
                 id="begun-inside-its-window"),
    pytest.param(T + timedelta(hours=2, minutes=30), T + timedelta(hours=3), UNDER_WAY, False, NO_OPEN_ACTIVITY,
                 id="begun-after-its-window-closed-before-its-end"),
    pytest.param(T + timedelta(hours=1), T + timedelta(minutes=45), None, True, AT_TEN,
                 id="over-while-its-window-is-open"),
    pytest.param(T + timedelta(hours=1), None, UNDER_WAY, True, AT_TEN, id="no-end-inside-its-window"),
    pytest.param(T + timedelta(hours=2, minutes=30), None, None, False, NO_OPEN_ACTIVITY,
                 id="no-end-over-as-its-window-closes"),
])
async def test_upcoming_lists_a_meeting_until_it_is_over_and_checkin_until_its_window_closes(
        session_factory, world, now, ends_at, listed, leave, checkin):
    """/upcoming lists what is coming or under way (until the meeting's end, or without one its window's close);
    /checkin and /leave offer what can still be answered (until the window closes), over or not."""
    with transaction(session_factory) as session:
        session.get(models.Activity, world.activities["party_day"]).ends_at = ends_at
    async with running_bot(session_factory, world, now) as chat:
        await chat.run([("alice", "/upcoming", "🗓 您接下来的活动：\n" + "\n".join(
            ([listed] if listed else []) + [ALICE_LATER]))])
        choice = await chat.step("alice", "/leave", "请选择要请假的活动：")
        assert labels(choice.params) == (["主题党日"] if leave else []) + ALICE_LATER_TITLES
        await chat.run([("alice", "/checkin", checkin)])


LATER_THAN_THE_GROUP_MEETING = "• 3月25日（周二）09:00 支部党员大会"
FIVE_DAYS, FOUR_DAYS = timedelta(days=5), timedelta(days=4)


# The 主题党日 made a training of several days (集中轮训): from 3月15日 09:00 for five days (or without an end),
# its window open for four. No fixed lookback drops it while it is under way or still answerable.
@pytest.mark.parametrize("ends_at", [pytest.param(T + FIVE_DAYS, id="five-days"),
                                     pytest.param(None, id="no-end-a-four-day-window")])
async def test_a_meeting_of_several_days_stays_listed_while_it_is_under_way_and_answerable(
        session_factory, world, ends_at):
    with transaction(session_factory) as session:
        activity = session.get(models.Activity, world.activities["party_day"])
        activity.ends_at, activity.checkin_closes_minutes = ends_at, int(FOUR_DAYS.total_seconds() // 60)
    async with running_bot(session_factory, world, T + timedelta(days=2, hours=12)) as chat:
        await chat.run([("alice", "/upcoming", "🗓 您接下来的活动：\n" + UNDER_WAY + "\n" + ALICE_LATER)])
        choice = await chat.step("alice", "/leave", "请选择要请假的活动：")
        assert labels(choice.params) == ["主题党日", *ALICE_LATER_TITLES]
        await chat.run([
            ("alice", "/checkin", "✅ 签到成功：「主题党日」，21:00。"),
            ("secretary", "/absent", PARTY_DAY_ABSENT_ONLY_ALICE),
        ])


async def test_a_meeting_of_several_days_is_listed_under_way_after_its_window_closed_until_its_end(
        session_factory, world):
    with transaction(session_factory) as session:
        activity = session.get(models.Activity, world.activities["party_day"])
        activity.ends_at, activity.checkin_closes_minutes = T + FIVE_DAYS, int(FOUR_DAYS.total_seconds() // 60)
    async with running_bot(session_factory, world, T + timedelta(days=4, hours=12)) as chat:
        await chat.run([("alice", "/upcoming", "🗓 您接下来的活动：\n" + UNDER_WAY + "\n" + LATER_THAN_THE_GROUP_MEETING)])
        await chat.run([("alice", "/checkin", NO_OPEN_ACTIVITY),
                         ("alice", "/leave", "📝 您要为「支部党员大会」请假。请直接回复一句话说明原因：")])
        chat.set_now(T + FIVE_DAYS)
        await chat.run([("alice", "/upcoming", "🗓 您接下来的活动：\n" + LATER_THAN_THE_GROUP_MEETING)])


SECRETARY_NEXT = ("• 3月18日（周二）09:00 党小组会（第一党小组）\n• 3月20日（周四）09:00 支委会\n"
                  "• 3月25日（周二）09:00 支部党员大会")
PROMOTION_TASK = "• 3月15日（周六）09:00 转正提醒"


# /plan as /upcoming: the 主题党日 until it is over; the 转正提醒 due at 09:00 (a task, never under way) for two
# hours after.
@pytest.mark.parametrize(("now", "ends_at", "listed"), [
    pytest.param(T + timedelta(hours=1), None, [UNDER_WAY, PROMOTION_TASK], id="begun-without-an-end"),
    pytest.param(T + timedelta(hours=2, minutes=30), T + timedelta(hours=3), [UNDER_WAY],
                 id="begun-more-than-two-hours-ago-before-its-end"),
    pytest.param(T + timedelta(hours=1), T + timedelta(minutes=45), [PROMOTION_TASK], id="over-by-its-end"),
    pytest.param(T + timedelta(days=2, hours=12), T + FIVE_DAYS, [UNDER_WAY], id="a-training-of-five-days"),
])
async def test_plan_lists_a_meeting_until_it_is_over_and_a_task_a_while_after_it_was_due(
        session_factory, world, now, ends_at, listed):
    with transaction(session_factory) as session:
        session.get(models.Activity, world.activities["party_day"]).ends_at = ends_at
    async with running_bot(session_factory, world, now) as chat:
        await chat.run([("secretary", "/plan", "🗓 本支部近四周的安排：\n" + "\n".join(listed + [SECRETARY_NEXT]))])
