"""A secretary sends the year's plan (.docx) to the bot: one card per entry, ✅ writes the override, audited, re-planned."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.deployment import load_catalog
from storage import models
from storage.db import transaction
from tests.chat.dialog import Dialog, press, running_bot
from tests.chat.world import MEETING_START
from tests.proposal.plans import docx_bytes

T = MEETING_START - timedelta(days=3)
CONFIG = Path(__file__).resolve().parents[2] / "config"

PLAN = """第一党支部2025年工作计划
一、组织生活
1.严格落实“三会一课”制度，支部委员会会议每月召开一次。
2.坚持每周一次常态化政治理论学习制度。
3.7月开展党史知识竞赛。
二、廉洁建设
4.扎实开展廉政家访活动。
5.配合党委做好每季一督导。
"""


class RecordingRuntime:
    """Stands in for the leader's runtime: records that the bot asked it to re-plan."""

    def __init__(self) -> None:
        self.reconciles = 0

    async def reconcile_if_changed(self) -> None:
        self.reconciles += 1


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target, ignore=shutil.ignore_patterns("demo"))
    return target


async def send_plan(dialog: Dialog, who: str, text: str, filename: str = "2025年工作计划.docx") -> None:
    dialog.server.user_sends_document(dialog.user(who), docx_bytes(text), filename)


CARDS = [
    "1. 支部委员会会议（支委会）（committee_meeting）\n条目：1.\n"
    "计划中的时间：“每月”（每月）；目录默认：每月（一致）\n本组织现在：已启用\n"
    "依据〔1.〕严格落实“三会一课”制度，支部委员会会议每月召开一次。",
    "2. 党小组会（group_meeting）\n条目：1.\n计划中的时间：未写明；目录默认：每月\n本组织现在：已启用\n"
    "依据〔1.〕严格落实“三会一课”制度，支部委员会会议每月召开一次。",
    "3. 支部党员大会（general_assembly）\n条目：1.\n计划中的时间：未写明；目录默认：每季度\n本组织现在：已启用\n"
    "依据〔1.〕严格落实“三会一课”制度，支部委员会会议每月召开一次。",
    "4. 党课（party_lecture）\n条目：1.\n计划中的时间：未写明；目录默认：每季度\n本组织现在：已启用\n"
    "依据〔1.〕严格落实“三会一课”制度，支部委员会会议每月召开一次。",
    "5. 每周政治理论学习（weekly_study）\n条目：2.\n计划中的时间：“每周”（每周）；目录默认：每周（一致）\n"
    "本组织现在：未启用\n依据〔2.〕坚持每周一次常态化政治理论学习制度。",
    "6. 新增：廉政家访\n条目：4.\n建议周期：每年（计划未写明，按常规）\n对象：书记；适用：党委、党总支、党支部\n"
    "目录中没有这一项；接受后新增并启用，未接受前不启用\n依据〔4.〕扎实开展廉政家访活动。",
]


async def test_a_secretary_turns_the_plan_into_cards_and_accepts_one(session_factory, world, config_dir):
    runtime = RecordingRuntime()
    async with running_bot(session_factory, world, T, config_dir=config_dir) as dialog:
        dialog.app.bot_data["runtime"] = runtime
        await send_plan(dialog, "secretary", PLAN)
        await dialog.expect("📄 《第一党支部2025年工作计划》（第一党支部）：对应目录事项 5 项，目录中没有的经常性工作 1 项，"
                            "一次性任务 1 项。\n请逐项点 ✅ 接受 或 ❌ 不要；接受的事项写入本组织的设置，提醒随即按新设置安排。")
        for card in CARDS:
            await dialog.expect(card)
        await dialog.expect(("一次性任务（可用 /schedule 逐项安排）：\n"
                             "· 7月：开展党史知识竞赛（〔3.〕）"))

        # The newest card with the button is the last one: 廉政家访.
        await dialog.step("secretary", press("✅ 接受"), "✅ 已接受：廉政家访，已写入 B01 的设置（B01.yaml），提醒将按新设置安排。")
        assert runtime.reconciles == 1

    catalog = load_catalog(config_dir)
    assert catalog.for_org(["D01", "B01"])["integrity_home_visit"].enabled
    assert "weekly_study" not in catalog.overrides["B01"].entries  # only the accepted card was written
    with transaction(session_factory) as session:
        actions = session.scalars(select(models.AuditEntry.action).where(
            models.AuditEntry.action.like("catalog.%")).order_by(models.AuditEntry.id)).all()
    assert actions == ["catalog.propose", "catalog.accept"]


async def test_rejecting_changes_nothing_and_a_card_is_handled_once(session_factory, world, config_dir):
    async with running_bot(session_factory, world, T, config_dir=config_dir) as dialog:
        await send_plan(dialog, "secretary", PLAN)
        await dialog.expect(("一次性任务（可用 /schedule 逐项安排）：\n"
                             "· 7月：开展党史知识竞赛（〔3.〕）"))
        await dialog.step("secretary", press("❌ 不要"), "❌ 未采纳。")
        await dialog.step("secretary", press("✅ 接受"), "这一项已经处理过了。")
    assert not (config_dir / "overrides" / "B01.yaml").exists()


async def test_a_plain_member_cannot_change_the_catalog(session_factory, world, config_dir):
    async with running_bot(session_factory, world, T, config_dir=config_dir) as dialog:
        await send_plan(dialog, "alice", PLAN)
        await dialog.expect("只有支部书记、副书记、组织委员或党委（党总支）委员可以按年度计划调整工作事项。")


async def test_a_committee_member_proposes_for_the_committee(session_factory, world, config_dir):
    async with running_bot(session_factory, world, T, config_dir=config_dir) as dialog:
        await send_plan(dialog, "committee", "机关党委2025年工作要点\n1.实行每月一提醒、每季一督导。\n")
        await dialog.expect("📄 《机关党委2025年工作要点》（机关党委）：对应目录事项 2 项，目录中没有的经常性工作 0 项，"
                            "一次性任务 0 项。\n请逐项点 ✅ 接受 或 ❌ 不要；接受的事项写入本组织的设置，提醒随即按新设置安排。")
        await dialog.expect(("2. 每季一督导（quarterly_supervision）\n"
                             "条目：1.\n"
                             "计划中的时间：“每季”（每季度）；目录默认：每季度（一致）\n"
                             "本组织现在：已启用\n"
                             "依据〔1.〕实行每月一提醒、每季一督导。"))
        await dialog.step("committee", press("✅ 接受"), "✅ 已接受：每季一督导，已写入 D01 的设置（D01.yaml），提醒将按新设置安排。")
    assert "quarterly_supervision" in load_catalog(config_dir).overrides["D01"].entries


async def test_other_files_get_a_pointer(session_factory, world, config_dir):
    async with running_bot(session_factory, world, T, config_dir=config_dir) as dialog:
        dialog.server.user_sends_document(dialog.user("secretary"), b"PK", "名单.xlsx")
        await dialog.expect("请发送年度计划文件（.docx、.pdf、.txt 或 .md），我会逐项列出对应的工作事项。")


async def test_a_flood_limit_in_the_middle_of_the_cards_is_waited_out(session_factory, world, config_dir, monkeypatch):
    from bot.runtime import replies

    waited: list[float] = []

    async def pause(seconds: float) -> None:  # the clock does not move in tests: record the wait instead
        waited.append(seconds)

    monkeypatch.setattr(replies, "_pause", pause)
    async with running_bot(session_factory, world, T, config_dir=config_dir) as dialog:
        dialog.server.faults.fail_next("sendMessage", status=429, retry_after=7, times=2)
        await send_plan(dialog, "secretary", PLAN)
        await dialog.expect(("一次性任务（可用 /schedule 逐项安排）：\n"
                             "· 7月：开展党史知识竞赛（〔3.〕）"))
        sent = [m.get("text", "") for m in dialog.server.sent_to(dialog.user("secretary"))]
        cards = [t for t in sent if t[:2] in {f"{n}." for n in range(1, 7)}]
        assert cards == CARDS
    assert waited == [7.0, 7.0]
