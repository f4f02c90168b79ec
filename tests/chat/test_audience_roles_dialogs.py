"""Dialogs for who is told, who decides and what is counted (issue #12 points 5, 7, 11, 12): whole replies."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.runtime.materialise import ReminderPolicy, enqueue_reminders
from bot.deployment import load_catalog, load_official_calendar
from bot.settings import PROJECT_CONFIG_DIR
from schedules.plan import build_plan
from storage import models
from storage.db import transaction
from storage.repositories import activities as activity_repo
from storage.repositories.roster import load_roster
from tests.chat.dialog import press, running_bot
from tests.chat.world import MEETING_START, SHANGHAI, add_activity

T = MEETING_START


async def reply(chat, who: str, action, whole: str) -> dict:
    """The bot's answer to `who` doing `action`, whose whole text is `whole` (with its keyboard)."""
    return (await chat.step(who, action, whole)).params


def keyboard(params: dict) -> list[str]:
    return [button["text"] for row in params["reply_markup"]["keyboard"] for button in row]


def add_personal_items(session_factory, world) -> None:
    """李四 (probationary, joined 2019-03-20) has his political birthday and his probation conversion in B01."""
    with transaction(session_factory) as session:
        add_activity(session, world, "birthday", "B01", "政治生日：李四", datetime(2025, 3, 20, 9, tzinfo=SHANGHAI),
                     kind="task", obligation="political_birthday", audience="member_and_secretary",
                     member_id=world.members["bob"], reminder_leads=str(19 * 24 * 60))
        add_activity(session, world, "conversion", "B01", "预备党员转正：李四", T + timedelta(days=6), kind="task",
                     obligation="probation_conversion", audience="branch_committee", member_id=world.members["bob"])


# The ledger begins on 15 March (the first activity): January and February are 无记录, not missed.
B01_Q1 = "• 第一党支部（B01）：已召开会议 0 次，出勤率 —；三会一课 完成 0、补开 0、未开展 0、进行中 4、无记录 4\n"
B02_Q1 = "已召开会议 0 次，出勤率 —；三会一课 完成 0、补开 0、未开展 0、进行中 3、无记录 2"


async def test_attendance_reads_a_member_an_organisation_and_a_period_in_any_order(session_factory, world):
    with transaction(session_factory) as session:
        session.add(models.Member(member_no="1007", name="冯七", org_id=world.orgs["B02"], category="正式党员"))
    async with running_bot(session_factory, world, T - timedelta(days=1)) as chat:
        menu = await reply(chat, "committee", "/attendance", ("📊 机关党委（D01）2025年第一季度\n"
                                                              "合计：已召开会议 0 次，出勤率 —；三会一课 完成 0、补开 0、未开展 0、进行中 7、无记录 6\n"
                                                              "• 第一党支部（B01）：已召开会议 0 次，出勤率 —；三会一课 完成 0、补开 0、未开展 0、进行中 4、无记录 4\n"
                                                              "• 第二党支部（B02）：已召开会议 0 次，出勤率 —；三会一课 完成 0、补开 0、未开展 0、进行中 3、无记录 2\n"
                                                              "查看下级组织：第一党支部（B01）、第二党支部（B02）"))
        assert menu["text"] == (
            "📊 机关党委（D01）2025年第一季度\n"
            "合计：已召开会议 0 次，出勤率 —；三会一课 完成 0、补开 0、未开展 0、进行中 7、无记录 6\n" + B01_Q1
            + "• 第二党支部（B02）：" + B02_Q1 + "\n查看下级组织：第一党支部（B01）、第二党支部（B02）"
        )
        assert keyboard(menu) == ["/attendance B01 2025Q1", "/attendance B02 2025Q1"]
        by_name = await reply(chat, "committee", "/attendance 一季度 第二党支部", ("📊 第二党支部（B02）2025年第一季度\n"
                                                                           "合计：已召开会议 0 次，出勤率 —；三会一课 完成 0、补开 0、未开展 0、进行中 3、无记录 2"))
        assert by_name["text"] == (
            "📊 第二党支部（B02）2025年第一季度\n合计：" + B02_Q1
        )
        await reply(chat, "committee", "/attendance 1007", "👤 冯七（1007，第二党支部）2025年第一季度：应参加 0 次，出席 0 次（含代签 0 次），请假 0 次，缺席 0 次，出勤率 —")
        await reply(chat, "committee", "/attendance 12月 李四", "👤 李四（P004，第一党支部）2024年12月：应参加 0 次，出席 0 次（含代签 0 次），请假 0 次，缺席 0 次，出勤率 —")
        ambiguous = await reply(chat, "committee", "/attendance 党支部 上半年", ("“党支部”可能指以下几项，请点选：\n"
                                                                           "• 第一党支部（B01）\n"
                                                                           "• 第二党支部（B02）"))
        assert keyboard(ambiguous) == ["/attendance B01 上半年", "/attendance B02 上半年"]
        await reply(chat, "committee", "/attendance B01 上半年", ("📊 第一党支部（B01）2025年上半年\n"
                                                               "合计：已召开会议 0 次，出勤率 —；三会一课 完成 0、补开 0、未开展 0、进行中 4、无记录 4"))
        await reply(chat, "committee", "/attendance X01B", "您只能查看本组织及下级组织的情况。")


def buttons(params: dict) -> list[list[str]]:
    return [[button["text"] for button in row] for row in (params.get("reply_markup") or {}).get("inline_keyboard", [])]


async def test_me_and_the_confirmation_count_only_what_the_secretary_confirmed(session_factory, world):
    """#12.5: everyone with Telegram answered; 赵老 and 郑新 have none. The roll names them among 未签到 (it said
    未签到（0） while ✅ 已召开 then recorded "2 人未答复"), and ✅ 已召开 lets the secretary 代签 or mark each one
    before anyone is counted absent; /me counts the meeting only once it is confirmed."""
    async with running_bot(session_factory, world, T) as chat:
        for who in ("secretary", "deputy", "alice"):
            await reply(chat, who, "/checkin", "✅ 签到成功：「主题党日」，09:00。")
        chat.set_now(T + timedelta(hours=3))
        await reply(chat, "alice", "/me", ("👤 张三（第一党支部）\n"
                                           "2025年出勤：应参加 0 次，出席 0 次，请假 0 次，缺席 0 次\n"
                                           "🎂 政治生日：3月20日\n"
                                           "党龄：4 年\n"
                                           "另有 1 次活动待书记确认是否召开，确认后计入。\n"
                                           "没有待补学的内容。"))
        roll = await chat.deliver("roll_summary", "party_day", to="secretary")
        assert roll["text"] == (
            "📋 「主题党日」（3月15日（周六）09:00）签到情况\n已签到（3）：王书记、李副书记、张三\n请假（0）：无\n"
            "未签到（3）：李四、赵老、郑新\n其中无法联系（未绑定或已屏蔽，2）：赵老、郑新\n\n"
            "签到已结束。请确认活动是否召开，并可记录议题、主讲人和会议记录。\n"
            "点“✅ 已召开”后，可为未答复的 3 人逐一代签、登记请假或记为缺席，再确认召开。"
        )
        await reply(chat, "secretary", press("✅ 已召开"), "还有 3 人未答复：请先代签、登记请假或记为缺席，再确认召开。")
        card = await chat.expect(("👥 「主题党日」未答复（3）：李四、赵老（无法联系）、郑新（无法联系）\n"
                                  "下列党员可由您代签或登记（记为由您登记，并留痕）。\n"
                                  "确认召开时，仍未答复的记为缺席。"))
        assert buttons(card.params) == [
            ["代签 李四", "请假 李四", "缺席 李四"], ["代签 赵老", "请假 赵老", "缺席 赵老"],
            ["代签 郑新", "请假 郑新", "缺席 郑新"], ["✅ 确认召开（其余 3 人记为缺席）"],
        ]
        await reply(chat, "secretary", press("代签 赵老"), "已为 赵老 代签。")
        redrawn = await chat.expect(("👥 「主题党日」未答复（2）：李四、郑新（无法联系）\n"
                                     "下列党员可由您代签或登记（记为由您登记，并留痕）。\n"
                                     "确认召开时，仍未答复的记为缺席。"))
        await reply(chat, "secretary", press("请假 郑新"), "请发送 郑新 不能参加「主题党日」的请假原因（记为已准假）：")
        await reply(chat, "secretary", "在外地出差", "已为 郑新 登记请假，原因：在外地出差。")
        redrawn = await chat.expect(("👥 「主题党日」未答复（1）：李四\n"
                                     "下列党员可由您代签或登记（记为由您登记，并留痕）。\n"
                                     "确认召开时，仍未答复的记为缺席。"))
        assert buttons(redrawn.params) == [
            ["代签 李四", "请假 李四", "缺席 李四"], ["代签 郑新"], ["✅ 确认召开（其余 1 人记为缺席）"]]
        await reply(chat, "secretary", press("✅ 确认召开（其余 1 人记为缺席）"), "已确认「主题党日」召开。1 人未答复，已记为缺席：李四。如有人到场，可点“代签”改为出席。")
        await reply(chat, "alice", "/me", ("👤 张三（第一党支部）\n"
                                           "2025年出勤：应参加 1 次，出席 1 次，请假 0 次，缺席 0 次\n"
                                           "🎂 政治生日：3月20日\n"
                                           "党龄：4 年\n"
                                           "没有待补学的内容。"))
        await reply(chat, "bob", "/me", ("👤 李四（第一党支部）\n"
                                         "2025年出勤：应参加 1 次，出席 0 次，请假 0 次，缺席 1 次\n"
                                         "🎂 政治生日：3月20日\n"
                                         "党龄：4 年\n"
                                         "需要补学：「主题党日」"))
        [told] = await chat.dispatch("attendance_recorded", to="bob")
        assert told["text"] == "「主题党日」（3月15日（周六）09:00）已确认召开，您的出勤记为缺席。如有误，请联系王书记。"


async def test_the_secretary_is_not_his_own_approver_nor_nudged_nor_told_to_ask_himself(session_factory, world):
    async with running_bot(session_factory, world, T - timedelta(days=1)) as chat:
        await chat.remind("secretary", "party_day")
        await reply(chat, "secretary", press("📝 请假"), "📝 您要为「主题党日」请假。请直接回复一句话说明原因：")
        await reply(chat, "secretary", "外出开会", "已提交请假：「主题党日」，原因：外出开会。李副书记审批后会通知您。")
        with transaction(session_factory) as session:
            approvers = session.scalars(select(models.OutboxMessage.member_id).where(
                models.OutboxMessage.kind == "leave_request")).all()
        assert approvers == [world.members["deputy"]]
        chat.set_now(T + timedelta(hours=3))
        await chat.remind("alice", "party_day")
        await reply(chat, "alice", press("✅ 签到"), "「主题党日」的签到已经结束。如需补签，请联系支部书记。")
        await chat.remind("deputy", "party_day")
        await reply(chat, "deputy", press("✅ 签到"), "「主题党日」的签到已经结束。如需补签，可在 /absent 名单中代签。")


async def test_a_plain_member_does_not_see_other_members_personal_items(session_factory, world):
    add_personal_items(session_factory, world)
    common = ("🗓 本支部近四周的安排：\n• 3月15日（周六）09:00 主题党日，三楼会议室\n• 3月15日（周六）09:00 转正提醒\n"
              "• 3月18日（周二）09:00 党小组会（第一党小组）\n• 3月20日（周四）09:00 支委会\n")
    personal = "• 3月20日（周四）09:00 政治生日：李四\n• 3月21日（周五）09:00 预备党员转正：李四\n"
    async with running_bot(session_factory, world, T - timedelta(days=1)) as chat:
        assert (await reply(chat, "alice", "/plan", ("🗓 本支部近四周的安排：\n"
                                                     "• 3月15日（周六）09:00 主题党日，三楼会议室\n"
                                                     "• 3月15日（周六）09:00 转正提醒\n"
                                                     "• 3月18日（周二）09:00 党小组会（第一党小组）\n"
                                                     "• 3月20日（周四）09:00 支委会\n"
                                                     "• 3月25日（周二）09:00 支部党员大会")))["text"] == common + "• 3月25日（周二）09:00 支部党员大会"
        for who in ("bob", "secretary"):
            assert (await reply(chat, who, "/plan", ("🗓 本支部近四周的安排：\n"
                                                     "• 3月15日（周六）09:00 主题党日，三楼会议室\n"
                                                     "• 3月15日（周六）09:00 转正提醒\n"
                                                     "• 3月18日（周二）09:00 党小组会（第一党小组）\n"
                                                     "• 3月20日（周四）09:00 支委会\n"
                                                     "• 3月20日（周四）09:00 政治生日：李四\n"
                                                     "• 3月21日（周五）09:00 预备党员转正：李四\n"
                                                     "• 3月25日（周二）09:00 支部党员大会")))["text"] == common + personal + "• 3月25日（周二）09:00 支部党员大会"


async def test_political_birthday_greets_the_member_on_the_day_and_tells_the_secretary_on_the_first(
        session_factory, world):
    add_personal_items(session_factory, world)
    first = datetime(2025, 3, 1, 8, tzinfo=SHANGHAI)
    with transaction(session_factory) as session:
        activity = session.get(models.Activity, world.activities["birthday"])
        enqueue_reminders(session, [activity], now=first, policy=ReminderPolicy(zone=SHANGHAI))
        queued = sorted((row.member_id, row.lead_minutes, row.due_at.astimezone(SHANGHAI).isoformat())
                        for row in session.scalars(select(models.OutboxMessage)))
    assert queued == [
        (world.members["secretary"], 19 * 24 * 60, "2025-03-01T09:00:00+08:00"),
        (world.members["bob"], 0, "2025-03-20T09:00:00+08:00"),
    ]
    async with running_bot(session_factory, world, first) as chat:
        [notice] = await chat.dispatch("reminder", to="secretary")
        assert notice["text"] == "📝 本月政治生日：李四（3月20日，入党 6 周年）\n请按“五个一”清单落实，发送 /tasks 逐项勾选。"
        [greeting] = await chat.dispatch("reminder", to="bob")
        assert greeting["text"] == ("🎂 李四同志，今天是您的政治生日！\n2019年3月20日，您光荣地加入中国共产党，至今已 6 年。"
                                    "第一党支部祝您政治生日快乐：不忘初心，牢记使命。")


async def test_the_secretary_s_notice_lists_the_five_items_of_the_catalog_and_tasks_ticks_them(session_factory, world):
    """The planned 政治生日 carries the catalog's "五个一" from the start: the secretary's notice on the 1st
    lists them, and /tasks offers the same items."""
    first = datetime(2025, 3, 1, 8, tzinfo=SHANGHAI)
    catalog = load_catalog(PROJECT_CONFIG_DIR)
    with transaction(session_factory) as session:
        roster = load_roster(session)
        planned = [o for o in build_plan(catalog, roster, load_official_calendar(PROJECT_CONFIG_DIR / "holidays"),
                                         2025, SHANGHAI)
                   if o.obligation == "political_birthday" and o.member_no == "P004"]
        activity_repo.upsert_occurrences(session, planned)
        activity = session.scalars(select(models.Activity).where(models.Activity.obligation == "political_birthday")).one()
        enqueue_reminders(session, [activity], now=first, policy=ReminderPolicy(zone=SHANGHAI))
    async with running_bot(session_factory, world, first) as chat:
        [notice] = await chat.dispatch("reminder", to="secretary")
        assert catalog["political_birthday"].checklist == [
            "建立政治生日台账", "赠送政治生日贺卡", "开展一次谈心谈话", "重温一次入党誓词", "进行一次走访慰问"]
        assert notice["text"] == ("📝 本月政治生日：李四（3月20日，入党 6 周年）\n"
                                  "请按“五个一”清单落实：\n"
                                  "1. 建立政治生日台账\n"
                                  "2. 赠送政治生日贺卡\n"
                                  "3. 开展一次谈心谈话\n"
                                  "4. 重温一次入党誓词\n"
                                  "5. 进行一次走访慰问\n"
                                  "发送 /tasks 逐项勾选。")
        card = await chat.step("secretary", "/tasks", ("📝 政治生日：李四\n"
                                                        "日期：3月20日（周四）09:00\n"
                                                        "清单：已完成 0/5 项；点按下方一项勾选，再点一次取消勾选"))
        assert buttons(card.params)[:5] == [[f"☐ {item}"] for item in catalog["political_birthday"].checklist]
