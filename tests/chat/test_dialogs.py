"""Dialogs through the real bot: binding, check-in, leave, the group announcement, secretaries, committees."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage import models
from storage.db import transaction
from storage.services import binding as binding_svc
from tests.chat.dialog import press, running_bot
from tests.chat.world import MEETING_START, build_world

T = MEETING_START


@pytest.fixture
def world(session_factory):
    with transaction(session_factory) as session:
        return build_world(session)


def new_code(factory, member_no="P007", now=T - timedelta(days=1)):
    with transaction(factory) as session:
        return binding_svc.create_invite(session, member_no, now).code


async def test_binding_dialog(session_factory, world):
    code = new_code(session_factory)
    async with running_bot(session_factory, world, T - timedelta(hours=1)) as chat:
        await chat.run([
            ("5005", "/start", "请向支部书记索取绑定码"),
            ("5005", "/start WRONG12345", "绑定码不正确"),
            ("5005", f"/start {code}", "欢迎您，郑新同志！您已绑定到第一党支部"),
            ("5005", "/upcoming", "主题党日"),
            ("5005", f"/start {code}", "无需重复操作"),
            ("secretary", "/start", "您好，王书记同志"),
        ])
        welcome = [t for t in chat.private_texts("5005") if t.startswith("欢迎您")][0]
        assert "3月15日（周六）09:00" in welcome and "三楼会议室" in welcome


async def test_secretary_invites_in_chat(session_factory, world):
    async with running_bot(session_factory, world, T - timedelta(hours=1)) as chat:
        await chat.run([
            ("alice", "/invite P007", "只有本支部书记或副书记可以进行此操作"),
            ("secretary", "/invite P102", "只有本支部书记或副书记可以进行此操作"),
            ("secretary", "/invite", "用法：/invite 党员编号"),
        ])
        record = await chat.step("secretary", "/invite P007", "https://t.me/branchbot_sandbox_bot?start=")
        code = record.params["text"].split("?start=")[1].split()[0]
        await chat.run([("5005", f"/start {code}", "欢迎您，郑新同志")])


async def test_unexpected_errors_get_a_friendly_sentence(session_factory, world, monkeypatch, caplog):
    from storage.services import queries

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(queries, "upcoming_for", broken)
    async with running_bot(session_factory, world, T) as chat:
        await chat.run([("alice", "/upcoming", "抱歉，处理您的请求时出了点问题")])
    assert "database on fire" in caplog.text


async def test_wrong_codes_are_throttled(session_factory, world):
    async with running_bot(session_factory, world, T) as chat:
        await chat.run([("5005", f"/start BAD{i}", "绑定码不正确") for i in range(5)]
                       + [("5005", "/start BAD9", "错误次数过多")])


async def test_private_reminder_checkin_updates_in_place(session_factory, world):
    async with running_bot(session_factory, world, T - timedelta(minutes=40)) as chat:
        reminder = await chat.remind("alice", "party_day")
        assert "议程：学习党章" in reminder["text"]
        await chat.run([("alice", press("✅ 签到"), "签到还没开始")])
        chat.set_now(T - timedelta(minutes=5))
        await chat.run([
            ("alice", press("✅ 签到"), "签到成功：「主题党日」，08:55"),
            ("alice", "/checkin", "您已经签过到了"),
        ])
        shown = chat.server.chat(chat.user("alice")).message(reminder["message_id"])
        assert shown["text"].endswith("✅ 已签到（08:55）") and "reply_markup" not in shown


async def test_leave_dialog_with_secretary_decision(session_factory, world):
    async with running_bot(session_factory, world, T - timedelta(days=1)) as chat:
        reminder = await chat.remind("bob", "party_day")
        await chat.run([
            ("bob", press("📝 请假"), "请直接回复一句话说明原因"),
            ("bob", "单位值班", "已提交请假：「主题党日」，原因：单位值班"),
        ])
        await chat.expect("📝 已请假（原因：单位值班），等待书记审批")
        shown = chat.server.chat(chat.user("bob")).message(reminder["message_id"])
        assert shown["text"].startswith("⏰ 活动提醒：主题党日") and "请直接回复" not in shown["text"]
        assert [b["text"] for row in shown["reply_markup"]["inline_keyboard"] for b in row] == ["✅ 签到"]
        # The request reaches both approvers through the outbox (quiet hours and rate limits apply there).
        [request] = await chat.dispatch("leave_request", to="secretary")
        assert request["text"].startswith("📝 请假申请\n李四 申请不参加「主题党日」") and "原因：单位值班" in request["text"]
        await chat.dispatch("leave_request", to="deputy")
        await chat.run([
            ("secretary", press("同意"), "已同意（王书记）"),
        ])
        [decision] = await chat.dispatch("leave_decision", to="bob")
        assert decision["text"] == "您为「主题党日」的请假，王书记已同意。"
        # The deputy got the same request; pressing it now is a replay of a one-shot decision.
        await chat.run([("deputy", press("不同意"), "这条请假已经处理过了")])
    with transaction(session_factory) as session:
        row = session.scalars(select(models.Attendance)).one()
        assert (row.status, row.leave_decision) == ("leave", "approved")
        refused = session.scalars(select(models.AuditEntry.action).where(
            models.AuditEntry.action.like("callback.refused%"))).all()
        assert refused == ["callback.refused.already_handled"]


async def test_group_announcement_serves_everyone(session_factory, world):
    async with running_bot(session_factory, world, T, started=("alice", "bob", "secretary")) as chat:
        announcement = await chat.announce("party_day")
        assert "未答复 6 人" in announcement["text"]
        await chat.run([
            ("alice", press("✅ 签到", chat="group"), "签到成功"),
        ])
        await chat.expect("已签到 1 人 · 请假 0 人 · 未答复 5 人")
        await chat.run([
            ("bob", press("✅ 签到", chat="group"), "签到成功"),
        ])
        await chat.expect("已签到 2 人")
        # Someone in the group who never bound gets a link to start a chat with the bot.
        chat.server.add_user(7007, "路人")
        chat.server.add_member(chat.group_chat(), 7007)
        record = await chat.step("7007", press("✅ 签到", chat="group"), "还没有和我绑定")
        assert record.params["url"].startswith("https://t.me/branchbot_sandbox_bot?start=")
        # 📝 请假 in the group asks for the reason in private, not in the group.
        await chat.run([("secretary", press("📝 请假", chat="group"), "请直接回复一句话说明原因")])
    group_messages = chat.server.chat(chat.group_chat()).messages
    assert len(group_messages) == 1, "no per-member messages in the group"


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
        await chat.expect("这个按钮无效或已过期")
        # A correctly signed button for another branch's activity is refused by the server-side check.
        await chat.remind("other_member", "party_day")
        await chat.run([("other_member", press("✅ 签到"), "不是您需要参加的活动")])
    with transaction(session_factory) as session:
        actions = session.scalars(select(models.AuditEntry.action).where(
            models.AuditEntry.action.like("callback.%")).order_by(models.AuditEntry.id)).all()
        assert actions == ["callback.forged", "callback.refused.permission_denied"]
        assert session.scalars(select(models.Attendance)).all() == []


async def test_secretary_closing_roll_confirmation_and_proxy(session_factory, world):
    async with running_bot(session_factory, world, T) as chat:
        await chat.remind("alice", "party_day")
        await chat.run([("alice", press("✅ 签到"), "签到成功")])
        chat.set_now(T + timedelta(hours=2))
        summary = await chat.deliver("roll_summary", "party_day", to="secretary")
        assert "已签到（1）：张三" in summary["text"] and "无法联系（未绑定或已屏蔽，2）：赵老、郑新" in summary["text"]
        await chat.run([
            ("secretary", press("代签"), "「主题党日」未答复（5）"),
            ("secretary", press("代签 赵老"), "已为 赵老 代签"),
            ("alice", "/absent", "只有支部书记、副书记或组织委员"),
            ("secretary", press("✅ 已召开"), "还有 4 人未答复"),
            ("secretary", press("✅ 确认召开（其余 4 人记为缺席）"), "已确认「主题党日」召开。4 人未答复，已记为缺席"),
            ("secretary", press("记录议题"), "请发送「主题党日」的议题"),
            ("secretary", "学习贯彻党章", "已记录到「主题党日」"),
            ("deputy", "/me", "应参加 1 次，出席 0 次，请假 0 次，缺席 1 次"),
        ])
    with transaction(session_factory) as session:
        activity = session.get(models.Activity, world.activities["party_day"])
        assert (activity.status, activity.topic) == ("held", "学习贯彻党章")


async def test_absent_list_reminds_only_the_unanswered(session_factory, world):
    async with running_bot(session_factory, world, T - timedelta(minutes=10)) as chat:
        await chat.run([
            ("alice", "/checkin", "签到成功"),
            ("secretary", "/absent", "未签到（5）：王书记、李副书记、李四、赵老、郑新"),
        ])
        # The secretary pressing the button is never nudged about the meeting himself (#12 point 11).
        toast = await chat.step("secretary", press("🔔 提醒未答复的人"), "已安排提醒")
        assert toast.params["text"] == "已安排提醒 2 位尚未答复的党员。"
        with transaction(session_factory) as session:
            nudged = session.scalars(select(models.OutboxMessage.member_id).where(
                models.OutboxMessage.kind == "nudge")).all()
        assert sorted(nudged) == sorted(world.members[k] for k in ("deputy", "bob"))
        # The dispatcher sends it like any outbox row; the member can answer right from it.
        await chat.deliver("nudge", "party_day", to="bob")
        await chat.run([("bob", press("✅ 签到"), "签到成功")])


async def test_committee_attendance_and_member_commands(session_factory, world):
    async with running_bot(session_factory, world, T - timedelta(days=1)) as chat:
        await chat.run([
            ("committee", "/attendance D01 本季度", "• 第二党支部（B02）：已召开会议 0 次，出勤率 —；三会一课 完成 0、补开 0、未开展 0、进行中 3、无记录 2"),
            ("committee", "/attendance X01B", "您只能查看本组织及下级组织的情况"),
            ("alice", "/attendance B01", "您只能查看本组织及下级组织的情况"),
            ("committee", "/attendance D01 明年", "用法：/attendance"),
            ("committee", "/attendance P004 2025Q1", "👤 李四（P004，第一党支部）2025年第一季度：应参加 0 次"),
            ("alice", "/help", "/checkin"),
            ("secretary", "/plan", "支委会"),
            ("alice", "/me", "政治生日：3月20日"),
            ("alice", "你好", "我没有听懂"),
            ("5005", "/upcoming", "您还没有绑定党员身份"),
        ])


async def test_command_menus_default_and_per_role(session_factory, world):
    code = new_code(session_factory, member_no="P002")  # the deputy secretary, on a new account
    async with running_bot(session_factory, world, T - timedelta(hours=1), schedule_jobs=True) as chat:
        await chat.server.next_bot_request(method="setMyCommands")
        default = [c["command"] for c in chat.server.my_commands()]
        assert default == ["upcoming", "checkin", "leave", "me", "calendar", "talk", "rectifications", "help"]
        assert all(c["description"] for c in chat.server.my_commands())
        await chat.run([("5005", f"/start {code}", "欢迎您，李副书记同志")])
        await chat.server.next_bot_request(method="setMyCommands")
        scoped = [c["command"] for c in chat.server.my_commands({"type": "chat", "chat_id": 5005})]
        assert scoped[:8] == default and {"plan", "absent", "invite", "schedule", "tasks", "report", "rectify",
                                          "talks"} <= set(scoped)
        assert len(scoped) == len(set(scoped))
        assert "attendance" not in scoped
        # A committee member who was bound before the menus existed gets theirs on their next /start.
        await chat.run([("committee", "/start", "您好，吴委员同志")])
        await chat.server.next_bot_request(method="setMyCommands")
        committee_menu = [c["command"] for c in chat.server.my_commands({"type": "chat", "chat_id": 1201})]
        assert "attendance" in committee_menu and "absent" not in committee_menu


async def test_leave_command_and_minutes_photo(session_factory, world):
    async with running_bot(session_factory, world, T + timedelta(days=2)) as chat:
        # Alice's next meetings: the 党小组会 and the general assembly, so she is asked which one.
        await chat.run([
            ("alice", "/leave", "请选择要请假的活动"),
            ("alice", press("党小组会"), "您要为「党小组会（第一党小组）」请假"),
            ("alice", "很" * 301, "请假原因请控制在 300 字以内"),
            ("alice", "去外地培训", "已提交请假：「党小组会（第一党小组）」"),
            ("alice", "/checkin", "现在没有正在签到的活动"),
        ])
        chat.set_now(T + timedelta(days=3, hours=2))
        summary = await chat.deliver("roll_summary", "group_meeting", to="secretary")
        assert "张三：去外地培训" in summary["text"]
        await chat.run([("secretary", press("记录会议记录/照片"), "直接发送照片")])
        chat.server.user_sends_photo(chat.user("secretary"), b"\xff\xd8\xff\xe0fake-jpeg", caption="签到表")
        await chat.expect("照片已保存到会议记录")
    with transaction(session_factory) as session:
        photo = session.scalars(select(models.ActivityAttachment)).one()
        assert (photo.activity_id, photo.caption) == (world.activities["group_meeting"], "签到表")


async def test_group_leave_from_a_member_who_never_started_the_bot(session_factory, world):
    async with running_bot(session_factory, world, T, started=("secretary",)) as chat:
        await chat.announce("party_day")
        record = await chat.step("bob", press("📝 请假", chat="group"), "请先点击下方按钮和我开始对话")
        assert record.params["show_alert"] is True
        assert record.params["url"] == "https://t.me/branchbot_sandbox_bot?start=join"
        # Following the link opens the chat: a greeting, not a wrong-code refusal.
        await chat.run([("bob", "/start join", "您好，李四同志！您已完成绑定")])


async def test_personal_commands_in_the_group_point_to_the_private_chat(session_factory, world):
    async with running_bot(session_factory, world, T) as chat:
        group = chat.group_chat()
        chat.server.user_sends(chat.user("alice"), "/me", group)
        record = await chat.expect("请在与我的私聊中使用这个命令")
        assert record.params["chat_id"] == group
        chat.server.user_sends(chat.user("alice"), "/help", group)
        await chat.expect("📖 使用说明")
