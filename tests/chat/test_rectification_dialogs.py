"""整改 in chat: the secretary records an item step by step, the owner reports progress, only the secretary
closes (销号), the upper committee reopens what it raised; reminders at each lead through the moved clock."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from bot import keyboards
from bot.callbacks import Action
from bot.handlers import rectify
from storage.errors import InvalidInput
from storage.outbox_kinds import OutboxKind
from storage import models
from storage.db import transaction
from storage.services import rectification as rect_svc
from tests.chat.dialog import press, running_bot
from tests.chat.world import SHANGHAI, actor, add_rectification

NOW = datetime(2025, 3, 15, 10, 0, tzinfo=SHANGHAI)  # a Saturday; 本月底 is Monday 31 March


def add_item(factory, world, *, who="secretary", **fields) -> int:  # noqa: ANN001, ANN003
    with transaction(factory) as session:
        return add_rectification(session, world, by=who, now=NOW, **fields)


def labels(message: dict) -> list[str]:
    return [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


async def press_close_on_a_card(chat, who: str, item_id: int, action: Action = Action.RECTIFY_CLOSE) -> None:
    markup = keyboards.rectification(chat.chat.signer, item_id, ("reopen" if action is Action.RECTIFY_REOPEN else "close",))
    sent = await chat.app.bot.send_message(chat.user(who), "整改卡片", reply_markup=markup)
    await chat.expect("整改卡片")
    chat.server.user_presses(chat.user(who), chat.user(who), sent.message_id,
                             markup.inline_keyboard[0][0].callback_data)


def sweep(factory, chat, moment: datetime) -> int:
    chat.set_now(moment)
    with transaction(factory) as session:
        return rectify.enqueue_notices(session, moment, chat.chat)


async def test_secretary_records_an_item_step_by_step(session_factory, world):
    async with running_bot(session_factory, world, NOW) as chat:
        await chat.step("secretary", "/rectify", "📋 登记整改事项（第一党支部）\n第1步：请用一句话写出存在的问题。")
        await chat.step("secretary", "三会一课记录不规范", "问题：三会一课记录不规范\n第2步：请选择问题来源。")
        await chat.step("secretary", press("组织生活会"), "来源：组织生活会\n第3步：请写出整改措施。")
        await chat.step("secretary", "会后三日内整理记录",
                        "第4步：请选择责任人（可多选），选好后点“完成”。\n已选：（尚未选择）")
        await chat.step("secretary", press("张三"), "第4步：请选择责任人（可多选），选好后点“完成”。\n已选：张三")
        await chat.step("secretary", press("李四"), "第4步：请选择责任人（可多选），选好后点“完成”。\n已选：张三、李四")
        await chat.step("secretary", press("完成"), "第5步：请写整改时限，例如：本月底前、6月30日前。")
        await chat.step("secretary", "上个月", "看不懂期限“上个月”\n例如：本月底前、周五前、3月15日前、国庆节前、年底前、3个工作日内")
        await chat.step("secretary", "本月底前", (
                 "✅ 已登记。责任人会在时限前 7 天和 1 天收到提醒。\n\n"
                 "📋 整改 #1（第一党支部）\n问题：三会一课记录不规范\n来源：组织生活会\n措施：会后三日内整理记录\n"
                 "责任人：张三、李四\n时限：3月31日（本月底前）"))
    with transaction(session_factory) as session:
        item = session.scalars(select(models.Rectification)).one()
        assert (item.due_on, item.source, item.raised_by_org_id) == (date(2025, 3, 31), "组织生活会", world.orgs["B01"])
        assert [o.member_id for o in item.owners] == [world.members["alice"], world.members["bob"]]
        assert session.scalars(select(models.AuditEntry.action).where(
            models.AuditEntry.entity == "rectification")).all() == ["rectification.add"]


@pytest.mark.parametrize("who, expected", [
    pytest.param("alice", "只有本支部书记、副书记或上级党组织委员可以登记整改事项。", id="plain-member"),
    pytest.param("other_secretary", "只有本支部书记、副书记或上级党组织委员可以登记整改事项。", id="other-branch-secretary"),
])
async def test_only_the_branch_or_its_upper_committee_records(session_factory, world, who, expected):
    async with running_bot(session_factory, world, NOW) as chat:
        await chat.step(who, "/rectify B01", expected)


async def test_owner_hears_seven_days_and_one_day_before_and_reports_progress(session_factory, world):
    add_item(session_factory, world, owners=("alice",))
    async with running_bot(session_factory, world, NOW) as chat:
        assert sweep(session_factory, chat, datetime(2025, 3, 24, 8, 59, tzinfo=SHANGHAI)) == 0
        assert sweep(session_factory, chat, datetime(2025, 3, 24, 9, 0, tzinfo=SHANGHAI)) == 1  # 7 days before
        assert sweep(session_factory, chat, datetime(2025, 3, 24, 9, 5, tzinfo=SHANGHAI)) == 0  # once only
        [week] = await chat.dispatch(OutboxKind.RECTIFICATION_DUE, to="alice")
        assert week["text"] == ("⏰ 整改提醒：「三会一课记录不规范」\n时限：3月31日（本月底前），还有 7 天\n"
                                "措施：会后三日内整理记录\n请点“添加进展”记录进展，书记核实后销号。")
        await chat.step("alice", press("📝 添加进展"),
                        "整改 #1「三会一课记录不规范」\n请发送整改进展：一句话、照片或文件都可以（可连续发送多张照片）。")
        await chat.step("alice", "已整理1-2月记录", "✅ 已记录整改 #1 的进展（共 1 条）。")
        await chat.step("alice", press("📝 添加进展"),
                        "整改 #1「三会一课记录不规范」\n请发送整改进展：一句话、照片或文件都可以（可连续发送多张照片）。")
        chat.server.user_sends_photo(chat.user("alice"), b"\xff\xd8\xff\xe0fake-jpeg", caption="记录本")
        await chat.expect("✅ 已记录整改 #1 的进展（共 2 条）。")
        chat.server.user_sends_document(chat.user("alice"), b"%PDF-1.4", "整改报告.pdf", mime_type="application/pdf")
        await chat.expect("✅ 已记录整改 #1 的进展（共 3 条）。")
        assert sweep(session_factory, chat, datetime(2025, 3, 30, 9, 0, tzinfo=SHANGHAI)) == 1  # 1 day before
        [day] = await chat.dispatch(OutboxKind.RECTIFICATION_DUE, to="alice")
        assert day["text"] == ("⏰ 整改提醒：「三会一课记录不规范」\n"
                               "时限：3月31日（本月底前），还有 1 天\n"
                               "措施：会后三日内整理记录\n"
                               "请点“添加进展”记录进展，书记核实后销号。")
    with transaction(session_factory) as session:
        kinds = session.scalars(select(models.RectificationNote.kind).order_by(models.RectificationNote.id)).all()
        assert kinds == ["progress", "photo", "document"]


@pytest.mark.parametrize(("caption", "refusal"), [
    pytest.param("记" * 1001, "说明太长了：1001 个字，最多 1000 个字。", id="over-long"),
    pytest.param("记录本\u202e", "说明含有不可见的控制字符 U+202E，请删除后重新输入。", id="control"),
])
def test_a_progress_photos_caption_is_typed_text_too(session_factory, world, caption, refusal):
    item_id = add_item(session_factory, world, owners=("alice",))
    with transaction(session_factory) as session:
        alice = actor(session, world, "alice")
        with pytest.raises(InvalidInput) as refused:
            rect_svc.add_note(session, alice, item_id, NOW, text=caption, file_id="photo-1",
                              kind=models.RectificationNoteKind.PHOTO)
    assert refused.value.message == refusal


async def test_overdue_goes_to_the_secretary_then_to_the_upper_committee(session_factory, world):
    add_item(session_factory, world, owners=("alice",))
    async with running_bot(session_factory, world, NOW) as chat:
        assert sweep(session_factory, chat, datetime(2025, 4, 1, 8, 0, tzinfo=SHANGHAI)) == 0  # not overdue before 09:00
        assert sweep(session_factory, chat, datetime(2025, 4, 1, 9, 0, tzinfo=SHANGHAI)) == 2  # 书记 and 副书记
        [overdue] = await chat.dispatch(OutboxKind.RECTIFICATION_OVERDUE, to="secretary")
        assert overdue["text"] == ("⚠️ 整改逾期：第一党支部「三会一课记录不规范」\n时限：3月31日，已逾期 1 天\n"
                                   "责任人：张三\n进展：0 条。核实完成后请点“销号”并写明依据。")
        assert sweep(session_factory, chat, datetime(2025, 4, 6, 9, 0, tzinfo=SHANGHAI)) == 0
        # Seven days past the deadline: the upper committee (D01's 委员); the secretary's weekly repeat comes a day later.
        assert sweep(session_factory, chat, datetime(2025, 4, 7, 9, 0, tzinfo=SHANGHAI)) == 1
        [escalated] = await chat.dispatch(OutboxKind.RECTIFICATION_ESCALATION, to="committee")
        assert escalated["text"] == ("⚠️ 整改逾期已超过一周：第一党支部「三会一课记录不规范」\n时限：3月31日，已逾期 7 天\n"
                                     "责任人：张三；来源：组织生活会\n请督促该支部整改。")
        assert sweep(session_factory, chat, datetime(2025, 4, 8, 9, 0, tzinfo=SHANGHAI)) == 2  # weekly, while overdue
        await chat.step("secretary", press("✔️ 销号"),
                        "整改 #1「三会一课记录不规范」\n请用一句话写明销号依据（如：整改报告已报党委、制度已印发）。")
        await chat.step("secretary", "整改报告已报党委", "✔️ 已销号：整改 #1「三会一课记录不规范」，依据：整改报告已报党委")
        assert sweep(session_factory, chat, datetime(2025, 4, 15, 9, 0, tzinfo=SHANGHAI)) == 0  # closed: silence
    with transaction(session_factory) as session:
        pending = session.scalars(select(models.OutboxMessage.kind).where(
            models.OutboxMessage.state == "pending", models.OutboxMessage.kind.like("rectification%"))).all()
        assert pending == []  # the deputy's unsent overdue notice was dropped at 销号


@pytest.mark.parametrize("who", [
    pytest.param("alice", id="owner"),
    pytest.param("committee", id="upper-committee"),
    pytest.param("other_secretary", id="another-branch-secretary"),
])
async def test_only_the_secretary_closes(session_factory, world, who):
    item_id = add_item(session_factory, world, owners=("alice",))
    async with running_bot(session_factory, world, NOW) as chat:
        # A card with 销号 (never offered to them, say one forwarded) is refused by the service on press.
        await press_close_on_a_card(chat, who, item_id)
        await chat.expect("只有本支部书记或副书记可以进行此操作。")
    with transaction(session_factory) as session:
        assert session.get(models.Rectification, item_id).closed_at is None
        refusals = session.scalars(select(models.AuditEntry.action).where(
            models.AuditEntry.action.like("callback.refused%"))).all()
        assert refusals == ["callback.refused.permission_denied"]


async def test_upper_committee_raises_and_reopens_with_a_reason(session_factory, world):
    item_id = add_item(session_factory, world, owners=("bob",), who="committee", problem="发展党员程序不完整")
    async with running_bot(session_factory, world, NOW) as chat:
        await chat.step("secretary", "/rectifications", "📋 整改清单：共 1 项")
        card = await chat.expect(("📋 整改 #1（第一党支部）\n"
                                  "问题：发展党员程序不完整\n"
                                  "来源：组织生活会\n"
                                  "措施：会后三日内整理记录\n"
                                  "责任人：李四\n"
                                  "时限：3月31日（本月底前）\n"
                                  "提出：上级党组织（D01）"))
        assert [b["text"] for b in card.params["reply_markup"]["inline_keyboard"][0]] == ["📝 添加进展", "✔️ 销号"]
        await chat.step("secretary", press("✔️ 销号"),
                        "整改 #1「发展党员程序不完整」\n请用一句话写明销号依据（如：整改报告已报党委、制度已印发）。")
        await chat.step("secretary", "已补齐材料", "✔️ 已销号：整改 #1「发展党员程序不完整」，依据：已补齐材料")
        # The secretary of the branch cannot reopen; the committee that raised it can.
        await press_close_on_a_card(chat, "secretary", item_id, action=Action.RECTIFY_REOPEN)
        await chat.expect("只有提出该整改事项的上级党组织委员可以重新打开。")
        [closed] = await chat.dispatch(OutboxKind.RECTIFICATION_CHANGED, to="committee")  # the raiser hears of the 销号
        assert closed["text"] == ("✔️ 第一党支部已销号：整改 #1「发展党员程序不完整」\n销号人：王书记；依据：已补齐材料\n"
                                  "如整改不到位，可点“重新打开”并写明理由。")
        await chat.step("committee", "/rectifications", "📋 整改清单：共 1 项")  # the upper committee sees closed ones too
        card = await chat.expect(("📋 整改 #1（第一党支部）\n"
                                  "问题：发展党员程序不完整\n"
                                  "来源：组织生活会\n"
                                  "措施：会后三日内整理记录\n"
                                  "责任人：李四\n"
                                  "时限：3月31日（本月底前）\n"
                                  "提出：上级党组织（D01）\n"
                                  "✔️ 已销号（王书记）：已补齐材料"))
        assert labels(card.params) == ["↩️ 重新打开"]
        await chat.step("committee", press("↩️ 重新打开"), "整改 #1「发展党员程序不完整」\n请写明重新打开的理由。")
        await chat.step("committee", "缺少支委会讨论记录",
                        "↩️ 已重新打开：整改 #1「发展党员程序不完整」，已告知支部书记和责任人。")
        [told] = await chat.dispatch(OutboxKind.RECTIFICATION_CHANGED, to="bob")
        assert told["text"] == ("↩️ 整改 #1「发展党员程序不完整」已被上级党组织（D01）重新打开\n理由：缺少支委会讨论记录\n"
                                "时限：3月31日（本月底前）。请继续整改，完成后由书记重新销号。")
        assert len(await chat.dispatch(OutboxKind.RECTIFICATION_CHANGED, to="secretary")) == 1
    with transaction(session_factory) as session:
        item = session.get(models.Rectification, item_id)
        assert (item.closed_at, item.reopen_count, item.raised_by_org_id) == (None, 1, world.orgs["D01"])
        actions = session.scalars(select(models.AuditEntry.action).where(
            models.AuditEntry.entity == "rectification").order_by(models.AuditEntry.id)).all()
        assert actions == ["rectification.add", "rectification.close", "rectification.reopen"]


async def test_quarterly_supervision_lists_overdue_items_per_branch(session_factory, world):
    add_item(session_factory, world, owners=("alice",))
    add_item(session_factory, world, owners=("other_member",), org="B02", who="other_secretary",
             problem="党费收缴不及时", due=date(2025, 6, 30))
    with transaction(session_factory) as session:
        session.add(models.Activity(occurrence_key="test:supervision", org_id=world.orgs["D01"], title="每季一督导",
                                    obligation="quarterly_supervision", kind="task",
                                    starts_at=datetime(2025, 6, 2, 9, 0, tzinfo=SHANGHAI)))
    async with running_bot(session_factory, world, NOW) as chat:
        assert sweep(session_factory, chat, datetime(2025, 6, 2, 9, 1, tzinfo=SHANGHAI)) >= 1
        [supervision] = await chat.dispatch(OutboxKind.RECTIFICATION_SUPERVISION, to="committee")
        assert supervision["text"] == ("📋 每季一督导（机关党委）：逾期未销号的整改事项\n第一党支部：1 项\n"
                                       "  · 三会一课记录不规范（时限3月31日，逾期 63 天，责任人：张三）")
