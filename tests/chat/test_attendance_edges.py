"""One table over both edges: the chat's buttons and the command line (`activity confirm|proxy|record`, `leave
approve|refuse`) carry out the same attendance use cases, so they leave the same rows, audit entries and notices."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.cli import main
from storage.outbox_kinds import OutboxKind
from storage import models
from storage.db import transaction
from storage.models import Base
from storage.services import attendance as svc
from tests.runtime.factories import rendered
from tests.chat.dialog import Dialog, press, running_bot
from tests.chat.world import MEETING_START, SHANGHAI, actor, build_world
from tests.cli_runner import point_cli_at

T = MEETING_START
AFTER = T + timedelta(hours=3)  # the check-in window (until T + 2h) has closed; nothing is confirmed yet
BEFORE = T - timedelta(hours=12)
NOTICE_KINDS = (OutboxKind.ATTENDANCE_RECORDED.value, OutboxKind.LEAVE_DECISION.value)


def alice_checks_in(session, world) -> None:
    svc.check_in(session, actor(session, world, "alice"), world.activities["party_day"], T)


def alice_asks_leave(session, world) -> None:
    alice = actor(session, world, "alice")
    svc.begin_leave(session, alice, world.activities["party_day"], T - timedelta(days=1))
    svc.submit_pending_text(session, alice, "出差在外", T - timedelta(days=1))


async def roll_then(chat: Dialog, *steps) -> None:  # noqa: ANN002
    await chat.deliver("roll_summary", "party_day", to="secretary")
    await chat.run([("secretary", action, expected) for action, expected in steps])


async def leave_card_then(chat: Dialog, label: str, expected: str) -> None:
    await chat.dispatch("leave_request", to="secretary")
    await chat.run([("secretary", press(label), expected)])


@dataclass(frozen=True)
class Case:
    now: datetime
    chat: Callable[[Dialog], Awaitable[None]]
    cli: list[str]  # after `branchbot`; "ID" stands for the activity's id
    audit: str  # the action the use case writes (the snapshot must hold it: the table cannot pass empty)
    setup: tuple[Callable, ...] = field(default=())


# The card 代签 (or ✅ 已召开 with answers missing) opens: everyone yet to answer, with a button each.
UNANSWERED = ("👥 「主题党日」未答复（6）：王书记、李副书记、张三、李四、赵老（无法联系）、郑新（无法联系）\n"
              "下列党员可由您代签或登记（记为由您登记，并留痕）。\n确认召开时，仍未答复的记为缺席。")
UNANSWERED_BUT_ALICE = ("👥 「主题党日」未答复（5）：王书记、李副书记、李四、赵老（无法联系）、郑新（无法联系）\n"
                        "下列党员可由您代签或登记（记为由您登记，并留痕）。\n确认召开时，仍未答复的记为缺席。")


CASES = {
    "confirm-held-rest-absent": Case(
        AFTER, lambda chat: roll_then(chat, (press("✅ 已召开"), UNANSWERED_BUT_ALICE),
                                      (press("✅ 确认召开（其余 5 人记为缺席）"),
                                       "已确认「主题党日」召开。5 人未答复，已记为缺席：王书记、李副书记、李四、赵老、郑新。"
                                       "如有人到场，可点“代签”改为出席。")),
        ["activity", "confirm", "ID", "--held"], "activity.held", (alice_checks_in,)),
    "confirm-not-held": Case(
        AFTER, lambda chat: roll_then(chat, (press("❌ 未召开"), "已记录「主题党日」未召开。")),
        ["activity", "confirm", "ID", "--not-held"], "activity.not_held", (alice_checks_in,)),
    "proxy": Case(
        AFTER, lambda chat: roll_then(chat, (press("代签"), UNANSWERED), (press("代签 赵老"), "已为 赵老 代签。")),
        ["activity", "proxy", "ID", "P005"], "attendance.proxy"),
    "leave-recorded-by-the-secretary": Case(
        AFTER, lambda chat: roll_then(chat, (press("代签"), UNANSWERED),
                                      (press("请假 郑新"), "请发送 郑新 不能参加「主题党日」的请假原因（记为已准假）："),
                                      ("在外地出差", "已为 郑新 登记请假，原因：在外地出差。")),
        ["activity", "proxy", "ID", "P007", "--leave", "在外地出差"], "attendance.leave"),
    "absent": Case(
        AFTER, lambda chat: roll_then(chat, (press("代签"), UNANSWERED), (press("缺席 李四"), "已将 李四 记为缺席。")),
        ["activity", "proxy", "ID", "P004", "--absent"], "attendance.absent"),
    "record-topic": Case(
        AFTER, lambda chat: roll_then(chat, (press("记录议题"), "请发送「主题党日」的议题："),
                                      ("学习贯彻党章", "已记录到「主题党日」。")),
        ["activity", "record", "ID", "--topic", "学习贯彻党章"], "activity.topic"),
    "leave-approved": Case(
        BEFORE, lambda chat: leave_card_then(chat, "同意", "✅ 已同意（王书记）"),
        ["leave", "approve", "ID", "P003"], "leave.approve", (alice_asks_leave,)),
    "leave-refused": Case(
        BEFORE, lambda chat: leave_card_then(chat, "不同意", "❌ 未同意（王书记）"),
        ["leave", "refuse", "ID", "P003"], "leave.reject", (alice_asks_leave,)),
}


def snapshot(factory) -> dict:  # noqa: ANN001
    """What the use case left, with members named by number: rows, audit entries (who, what; not which edge
    carried it) and the notices as their recipients will read them."""
    with transaction(factory) as session:
        no = dict(session.execute(select(models.Member.id, models.Member.member_no)).all())
        named = lambda value: no.get(value)  # noqa: E731

        def details(values: dict) -> dict:
            return {key: ([named(v) for v in value] if key == "members" else named(value) if key == "member_id"
                          else value) for key, value in values.items()}

        attendance = sorted(
            (no[r.member_id], r.status, r.via, r.leave_reason, r.leave_decision, named(r.recorded_by_member_id),
             named(r.decided_by_member_id), r.recorded_at.astimezone(SHANGHAI).isoformat())
            for r in session.scalars(select(models.Attendance)))
        activity = session.scalars(select(models.Activity).where(models.Activity.title == "主题党日")).one()
        audit = [(e.action, e.entity, e.entity_id, details(e.details), named(e.actor_member_id))
                 for e in session.scalars(select(models.AuditEntry).order_by(models.AuditEntry.id))]
        notices = []
        for row in session.scalars(select(models.OutboxMessage).where(models.OutboxMessage.kind.in_(NOTICE_KINDS))
                                   .order_by(models.OutboxMessage.member_id)):
            notices.append((row.kind, no[row.member_id], rendered(session, row)))
        return {
            "attendance": attendance, "audit": audit, "notices": notices,
            "activity": (activity.status, named(activity.confirmed_by_member_id), activity.topic),
        }


def fresh_world(engine, factory, case: Case):  # noqa: ANN001, ANN201
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with transaction(factory) as session:
        world = build_world(session)
        for step in case.setup:
            step(session, world)
    return world


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_chat_and_the_command_line_record_the_same(case, engine, db_url, session_factory, monkeypatch, capsys):
    world = fresh_world(engine, session_factory, case)
    async with running_bot(session_factory, world, case.now) as chat:
        await case.chat(chat)
    by_chat = snapshot(session_factory)

    world = fresh_world(engine, session_factory, case)
    point_cli_at(monkeypatch, db_url)
    argv = [str(world.activities["party_day"]) if word == "ID" else word for word in case.cli]
    assert main([*argv, "--as", "P001", "--now", case.now.isoformat()]) == 0, capsys.readouterr().err
    by_cli = snapshot(session_factory)

    assert case.audit in [entry[0] for entry in by_chat["audit"]]
    assert by_cli == by_chat
