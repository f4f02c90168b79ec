"""`branchbot activity confirm|record|proxy|roll` and `leave approve|refuse`: what they print, who the audit log
names (the member of `--as`, else the system operator), and refusals that exit 2 with one line and change nothing."""

from __future__ import annotations

import getpass
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.cli import main
from storage import models
from storage.db import transaction
from storage.services import attendance as svc
from tests.chat.world import MEETING_START, actor
from tests.cli_runner import cli_world  # noqa: F401  (a fixture)

T = MEETING_START
AFTER = (T + timedelta(hours=3)).isoformat()


@pytest.fixture
def world(cli_world, session_factory):  # noqa: ANN001, ANN201
    """The CLI's world with 张三 checked in to the 主题党日 and 李四's leave (生病) waiting for an answer."""
    world = cli_world
    with transaction(session_factory) as session:
        svc.check_in(session, actor(session, world, "alice"), world.activities["party_day"], T)
        bob = actor(session, world, "bob")
        svc.begin_leave(session, bob, world.activities["party_day"], T - timedelta(days=1))
        svc.submit_pending_text(session, bob, "生病", T - timedelta(days=1))
    return world


def run(world, *argv: str) -> int:  # noqa: ANN001
    return main([str(world.activities["party_day"]) if word == "ID" else word for word in argv])


def test_the_record_of_a_meeting_at_the_command_line(world, session_factory, capsys):
    assert run(world, "activity", "roll", "ID", "--as", "P001", "--now", AFTER) == 0
    assert capsys.readouterr().out == (
        "📋 「主题党日」（3月15日（周六）09:00）签到情况\n已签到（1）：张三\n请假（1）：\n  李四：生病\n"
        "未签到（4）：王书记、李副书记、赵老、郑新\n其中无法联系（未绑定或已屏蔽，2）：赵老、郑新\n")
    assert run(world, "leave", "refuse", "ID", "P004", "--as", "P002", "--now", AFTER) == 0
    assert capsys.readouterr().out == "已不同意 李四（P004）「主题党日」（编号 1）的请假。\n"
    assert run(world, "activity", "proxy", "ID", "P005", "--as", "P001", "--now", AFTER) == 0
    assert capsys.readouterr().out == "已为 赵老（P005）代签：「主题党日」（编号 1）。\n"
    assert run(world, "activity", "proxy", "ID", "P007", "--leave", "在外地出差", "--as", "P001", "--now", AFTER) == 0
    assert capsys.readouterr().out == "已为 郑新（P007）登记请假（已准假），原因：在外地出差：「主题党日」（编号 1）。\n"
    assert run(world, "activity", "confirm", "ID", "--held", "--topic", "学习贯彻党章", "--lecturer", "王书记",
               "--now", AFTER) == 0
    assert capsys.readouterr().out == (
        "已确认「主题党日」（编号 1，3月15日（周六）09:00）召开。2 人未答复，已记为缺席：王书记、李副书记。\n"
        "已记录议题：学习贯彻党章\n已记录主讲人：王书记\n")
    with transaction(session_factory) as session:
        no = dict(session.execute(select(models.Member.id, models.Member.member_no)).all())
        rows = sorted((no[r.member_id], r.status, r.leave_decision, no.get(r.recorded_by_member_id))
                      for r in session.scalars(select(models.Attendance)))
        audit = [(e.action, no.get(e.actor_member_id), e.actor_label)
                 for e in session.scalars(select(models.AuditEntry).order_by(models.AuditEntry.id))]
    assert rows == [
        ("P001", "absent", None, None), ("P002", "absent", None, None), ("P003", "present", None, "P003"),
        ("P004", "leave", "rejected", "P004"), ("P005", "proxy", None, "P001"), ("P007", "leave", "approved", "P001"),
    ]
    system = f"cli:{getpass.getuser()}"
    assert audit == [
        ("leave.request", "P004", None), ("leave.reject", "P002", None), ("attendance.proxy", "P001", None),
        ("attendance.leave", "P001", None), ("activity.held", None, system), ("activity.topic", None, system),
        ("activity.lecturer", None, system),
    ]


@pytest.mark.parametrize(("argv", "message"), [
    pytest.param(("activity", "confirm", "ID", "--held", "--as", "P003", "--now", AFTER),
                 "只有本支部书记或副书记可以进行此操作。", id="a-member-does-not-confirm"),
    pytest.param(("activity", "confirm", "ID", "--held", "--as", "P101", "--now", AFTER),
                 "只有本支部书记或副书记可以进行此操作。", id="another-branch-secretary"),
    pytest.param(("activity", "confirm", "ID", "--held", "--as", "P001", "--now", (T - timedelta(hours=1)).isoformat()),
                 "「主题党日」还没开始，开始后才能确认。", id="before-it-starts"),
    pytest.param(("activity", "confirm", "999", "--not-held", "--now", AFTER), "没有编号为 999 的活动。",
                 id="unknown-activity"),
    pytest.param(("activity", "proxy", "ID", "P999", "--as", "P001", "--now", AFTER), "名册中没有党员编号 P999。",
                 id="unknown-member"),
    pytest.param(("activity", "proxy", "ID", "P102", "--as", "P001", "--now", AFTER),
                 "此人不是该活动的参加对象，不能代签。", id="not-expected-there"),
    pytest.param(("activity", "proxy", "ID", "P003", "--absent", "--as", "P001", "--now", AFTER),
                 "张三 已经签到了。", id="never-over-a-check-in"),
    pytest.param(("activity", "proxy", "ID", "P007", "--leave", "  ", "--as", "P001", "--now", AFTER),
                 "请用一句话说明请假原因。", id="leave-without-a-reason"),
    pytest.param(("leave", "approve", "ID", "P004", "--as", "P004", "--now", AFTER),
                 "不能审批自己的请假，已转给副书记或上级党组织。", id="own-leave"),
    pytest.param(("leave", "approve", "ID", "P003", "--as", "P001", "--now", AFTER),
                 "这条请假已不存在（可能对方已签到）。", id="no-such-request"),
    pytest.param(("activity", "record", "ID", "--as", "P001", "--now", AFTER),
                 "请至少给出 --topic、--lecturer 或 --minutes 之一", id="nothing-to-record"),
])
def test_refusals_exit_2_with_one_line_and_change_nothing(world, session_factory, capsys, argv, message):
    def state():
        with transaction(session_factory) as session:
            return (sorted((r.member_id, r.status, r.leave_decision) for r in session.scalars(select(models.Attendance))),
                    session.scalars(select(models.Activity.status).order_by(models.Activity.id)).all(),
                    len(session.scalars(select(models.AuditEntry)).all()))

    before = state()
    assert run(world, *argv) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"错误：{message}\n")
    assert state() == before
