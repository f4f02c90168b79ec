"""Both edges, one use case: `branchbot activity add|move|cancel` and chat /schedule, /reschedule, /cancel
leave the same rows, the same audit entries and the same notices (issue #11, "tests that cross the seams")."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import select

from bot.cli import main
from storage import models
from storage.services.views import checkin_window
from storage.db import transaction
from storage.models import Base
from tests.chat.dialog import press, running_bot
from tests.chat.world import SHANGHAI, add_sent_reminder, build_world
from tests.cli_runner import cli_env  # noqa: F401  (a fixture)

NOW = datetime(2025, 3, 14, 9, 0, tzinfo=SHANGHAI)  # the day before B01's 主题党日 (15 March, 09:00)
ANNOUNCEMENT_ID = 77  # the group's announcement of the 主题党日, as Telegram numbered it


@dataclass(frozen=True)
class Case:
    cli: list[str]
    chat: str
    card: str  # the chat's card, whole
    confirm: str  # the card's ✅
    done: str  # what the card says once confirmed, after its text


CASES = {
    "add": Case(["add", "--org", "B01", "--title", "专题党课", "--at", "下周三下午3点", "--place", "三楼会议室"],
                "/schedule 专题党课 下周三下午3点 三楼会议室",
                "🗓 新活动\n活动：专题党课（第一党支部）\n时间：3月19日（周三）15:00\n"
                "（时间理解为：下周三（2025年3月19日 星期三）下午3点（15:00））\n地点：三楼会议室\n请确认：",
                "✅ 确认", "✅ 已安排「专题党课」：3月19日（周三）15:00。届时会提醒参加的党员。"),
    "move": Case(["move", "--org", "B01", "--title", "主题党日", "--at", "下周五上午9点", "--place", "二楼会议室"],
                 "/reschedule 主题党日 下周五上午9点 二楼会议室",
                 "🔁 调整活动时间\n活动：主题党日（第一党支部）\n原定：3月15日（周六）09:00\n时间：3月21日（周五）09:00\n"
                 "（时间理解为：下周五（2025年3月21日 星期五）上午9点（09:00））\n地点：二楼会议室\n请确认：",
                 "✅ 确认", "✅ 已将「主题党日」改到 3月21日（周五）09:00。已通知之前收到提醒的 1 位党员。"),
    "cancel": Case(["cancel", "--org", "B01", "--title", "主题党日"], "/cancel 主题党日",
                   "✖️ 取消活动\n活动：主题党日（第一党支部）\n时间：3月15日（周六）09:00\n地点：三楼会议室\n请确认：",
                   "✅ 确认取消活动", "✅ 已取消「主题党日」。已通知之前收到提醒的 1 位党员。"),
}
REFUSED = "只有支部书记、副书记或组织委员可以安排活动。"
# What each leaves behind besides the reminders of a new time: (kind, recipient, payload keys) of the notices.
NOTICES = {
    "add": [],
    "move": [("announcement_changed", "chat:group", ["before", "operation", "replaces_message_id", "revision"]),
             ("change_notice", "member:bob", ["after", "before", "by", "operation", "place", "why"])],
    "cancel": [("announcement_changed", "chat:group", ["before", "operation", "replaces_message_id", "revision"]),
               ("change_notice", "member:bob", ["after", "before", "by", "operation", "place", "why"])],
}


def seed(session_factory) -> dict:
    """The roster, its activities, a reminder of the 主题党日 already sent to 李四 (bob) and its group post."""
    with transaction(session_factory) as session:
        world = build_world(session)
        group = session.get(models.Organization, world.orgs["B01"]).group_chat_id
        add_sent_reminder(session, world, "bob", NOW, dedup_key="seed:reminder")
        session.add(models.OutboxMessage(dedup_key="seed:announcement", activity_id=world.activities["party_day"],
                                         kind="group_announcement", recipient=f"chat:{group}", chat_id=group,
                                         due_at=NOW, state="sent", telegram_message_id=ANNOUNCEMENT_ID))
    return {"world": world, "group": group}


def observe(session_factory, seeded: dict) -> dict:
    """Everything a change can touch, in words that do not depend on the edge (no Telegram ids)."""
    world, group = seeded["world"], seeded["group"]
    names = {f"member:{member_id}": f"member:{key}" for key, member_id in world.members.items()} | {f"chat:{group}": "chat:group"}
    with transaction(session_factory) as session:
        activities = sorted(
            (a.title, a.starts_at.isoformat(), a.ends_at and a.ends_at.isoformat(), a.place, a.status, a.revision,
             a.source, checkin_window(a)[0].isoformat())
            for a in session.scalars(select(models.Activity)))
        audit = [(e.action, e.entity, e.entity_id, e.actor_member_id, e.actor_label, e.details)
                 for e in session.scalars(select(models.AuditEntry).order_by(models.AuditEntry.id))]
        outbox = sorted(
            (row.kind, names.get(row.recipient, row.recipient), row.lead_minutes, row.due_at.isoformat(), row.state,
             row.payload)
            for row in session.scalars(select(models.OutboxMessage).where(models.OutboxMessage.dedup_key.not_like("seed:%"))))
    return {"activities": activities, "audit": audit, "outbox": outbox}


def reseed(engine, session_factory) -> dict:
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    return seed(session_factory)


async def through_chat(session_factory, seeded: dict, case: Case, who: str) -> None:
    """`who` sends the command and presses the card's ✅; a plain member is refused before any card."""
    async with running_bot(session_factory, seeded["world"], NOW) as chat:
        if who != "secretary":
            await chat.step(who, case.chat, REFUSED)
            return
        await chat.step(who, case.chat, case.card)
        await chat.step(who, press(case.confirm), f"{case.card}\n\n{case.done}")


@pytest.mark.parametrize("operation", list(CASES))
async def test_cli_and_chat_leave_the_same_rows_audit_and_notices(cli_env, engine, session_factory, operation, capsys):
    case = CASES[operation]
    seeded = seed(session_factory)
    assert main(["activity", *case.cli, "--as", "P001", "--now", NOW.isoformat()]) == 0
    by_cli = observe(session_factory, seeded)

    seeded = reseed(engine, session_factory)
    await through_chat(session_factory, seeded, case, "secretary")
    by_chat = observe(session_factory, seeded)

    assert by_chat == by_cli
    secretary = seeded["world"].members["secretary"]
    assert [(action, actor, label) for action, _, _, actor, label, _ in by_chat["audit"]] == [
        (f"activity.{'new' if operation == 'add' else operation}", secretary, None)]
    notices = [(kind, recipient, sorted(payload)) for kind, recipient, _, _, _, payload in by_chat["outbox"]
               if kind != "reminder"]
    assert notices == NOTICES[operation]
    reminded = {recipient for kind, recipient, *_ in by_chat["outbox"] if kind == "reminder"}
    # A new activity gets the default leads; the 主题党日 of the roster has none of its own to re-plan.
    assert reminded == ({"member:secretary", "member:deputy", "member:alice", "member:bob"} if operation == "add"
                        else set())


@pytest.mark.parametrize("operation", list(CASES))
async def test_a_plain_member_is_refused_alike_and_nothing_changes(cli_env, session_factory, operation, capsys):
    case = CASES[operation]
    seeded = seed(session_factory)
    before = observe(session_factory, seeded)
    assert main(["activity", *case.cli, "--as", "P003", "--now", NOW.isoformat()]) == 2
    refused = capsys.readouterr().err
    assert observe(session_factory, seeded) == before
    assert refused == f"错误：{REFUSED}\n"
    await through_chat(session_factory, seeded, case, "alice")
    assert observe(session_factory, seeded) == before


def test_without_as_the_audit_names_the_system_operator(cli_env, session_factory, capsys):
    seeded = seed(session_factory)
    assert main(["activity", "cancel", "--org", "B01", "--title", "主题党日", "--now", NOW.isoformat()]) == 0
    assert capsys.readouterr().out == (
        "已取消活动：主题党日（编号 1），原定 3月15日（周六）09:00\n已通知之前收到提醒的 1 位党员\n已向 1 个支部群发送更正\n")
    audit = observe(session_factory, seeded)["audit"]
    assert [(action, actor, label) for action, _, _, actor, label, _ in audit] == [
        ("activity.cancel", None, f"cli:{getpass.getuser()}")]
