"""Who acted, one home: every use case that writes an audit row names its actor as `permissions.audit_fields`
says, whether a chat account, the command line's `--as`/`--by` member or the command line's system operator
performed it (issue #11, "tests that cross the seams").

A use case is performed through each edge that offers it: chat for all of them; `branchbot activity …` (with
and without `--as`), `rectification … --by` and `invite` for theirs. What only a Telegram account can do (a
leave reason, a minutes photo, a plan document, redeeming a code) has no command-line edge.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.commands.activity import operator
from bot.deployment import deployment_at
from storage import models
from storage.db import make_engine
from storage.models import AttendanceStatus
from storage.services import activity_changes, attendance, binding, proposals, rectification, talks, tasks
from storage.services.actors import actor_from_member
from storage.services.permissions import Operator, audit_fields, system_operator
from tests.chat.world import MEETING_START, SHANGHAI, World, actor, add_activity, build_world
from tests.cli_runner import cli  # noqa: F401  (a fixture)
from tests.storage.roster_files import BASIC

T = MEETING_START  # B01's 主题党日, Saturday 15 March 2025, 09:00
BEFORE, AFTER = T - timedelta(days=1), T + timedelta(hours=2)
CONFIG = Path(__file__).resolve().parents[2] / "config"
NEW_ACCOUNT = 5005  # the Telegram account that redeems 郑新's code
CHECKLIST = ["建立政治生日台账", "赠送政治生日贺卡"]
PLAN = "第一党支部2025年工作计划\n一、组织生活\n1.支部委员会会议每月召开一次。\n2.坚持每周一次常态化政治理论学习制度。\n"

CHAT, CLI_AS, CLI = "chat", "cli --as", "cli"
ALL_EDGES = (CHAT, CLI_AS, CLI)


def checklist_for(obligation: str | None) -> list[str]:
    return CHECKLIST if obligation == "political_birthday" else []


def no_reminders(*_) -> int:
    return 0


def member(session: Session, world: World, key: str) -> models.Member:
    return session.get(models.Member, world.members[key])


def chat_actor(session: Session, world: World, key: str) -> Operator:
    return actor(session, world, key)


# --- the use cases, each as the edges call it -------------------------------------------------------------


def ask_leave(session, world, who):
    attendance.begin_leave(session, who, world.activities["party_day"], BEFORE)
    attendance.submit_pending_text(session, who, "出差在外", BEFORE)


def decide_leave(approve: bool):
    def perform(session, world, who):
        ask_leave(session, world, chat_actor(session, world, "alice"))
        attendance.decide_leave(session, who, world.activities["party_day"], world.members["alice"], approve, T)
    return perform


def mark(status: AttendanceStatus, reason: str | None = None):
    def perform(session, world, who):
        attendance.mark_attendance(session, who, world.activities["party_day"], world.members["offline"], status,
                                   AFTER, reason=reason)
    return perform


def confirm(held: bool):
    def perform(session, world, who):
        attendance.confirm_activity(session, who, world.activities["party_day"], held, AFTER)
    return perform


def minutes_photo(session, world, who):
    attendance.begin_activity_field(session, who, world.activities["party_day"], "minutes", AFTER)
    attendance.add_minutes_photo(session, who, "file-1", "签到表", AFTER)


def add_activity_change(session, world, who):
    activity_changes.add(session, who, org_id=world.orgs["B01"], title="专题党课", starts_at=T + timedelta(days=4),
                         now=T, zone=SHANGHAI, reminders=no_reminders, lead_minutes=[1440])


def move_activity(session, world, who):
    activity_changes.move(session, who, world.activities["party_day"], starts_at=T + timedelta(days=6), now=BEFORE,
                          zone=SHANGHAI, reminders=no_reminders)


def cancel_activity(session, world, who):
    activity_changes.cancel(session, who, world.activities["party_day"], now=BEFORE, zone=SHANGHAI)


def create_invite(session, world, who):
    binding.create_invite(session, "P007", BEFORE, created_by=who)


def redeem_invite(session, world, who):
    code = binding.create_invite(session, "P007", BEFORE, created_by=operator(session, None)).code
    binding.redeem_invite(session, code, telegram_user_id=who.telegram_user_id, private_chat_id=who.telegram_user_id,
                          username="newbie", now=BEFORE)


def the_newcomer(session, world, _key):
    """Who redeems a code: the roster member the code is for, on the account that sends it."""
    return actor_from_member(member(session, world, "unbound"), NEW_ACCOUNT)


def propose(session, world, who):
    proposals.start_proposal(session, who, BEFORE, deployment_at(CONFIG), PLAN.encode(), "工作计划.txt")


def reject_proposal(session, world, who):
    pending = proposals.start_proposal(session, who, BEFORE, deployment_at(CONFIG), PLAN.encode(), "工作计划.txt")
    proposals.decide(session, who, pending.pending_id, 0, False, BEFORE, lambda: deployment_at(CONFIG))


def record_talk(session, world, who):
    talks.record_talk(session, who, world.members["alice"], date(2025, 3, 10), T, topic="思想状况")


def birthday_items(session, world, who):
    add_activity(session, world, "birthday", "B01", "政治生日", T + timedelta(days=5), kind="task",
                 obligation="political_birthday", member_id=world.members["alice"])
    task = next(t for t in tasks.open_tasks(session, who, T, checklist_for) if t.activity.title == "政治生日")
    return task.items


def tick(session, world, who):
    tasks.tick(session, who, birthday_items(session, world, who)[0].id, T, checklist_for)


def untick(session, world, who):
    first = birthday_items(session, world, who)[0].id
    tasks.tick(session, who, first, T, checklist_for)
    tasks.tick(session, who, first, T, checklist_for, done=False)


def complete_task(session, world, who):
    tasks.complete(session, who, world.activities["task"], T, checklist_for)


def raise_item(session, world, who):
    return rectification.add_item(
        session, who, org_id=world.orgs["B01"], problem="三会一课记录不全", source=rectification.source_of("组织生活会"),
        measures="补齐会议记录", owner_ids=[world.members["alice"]],
        deadline=rectification.read_deadline("本月底前", T.date()), now=T)


def progress_note(session, world, who):
    rectification.add_note(session, who, raise_item(session, world, who).id, T, text="已补齐一季度记录")


def close_item(session, world, who):
    rectification.close(session, who, raise_item(session, world, who).id, "会议记录已补齐", T)


def reopen_item(session, world, who):
    """The committee member raised it, the secretary closed it; `who` (the committee member) reopens it."""
    item = raise_item(session, world, who)
    rectification.close(session, chat_actor(session, world, "secretary"), item.id, "会议记录已补齐", T)
    rectification.reopen(session, who, item.id, "记录仍不完整", T + timedelta(days=1))


@dataclass(frozen=True)
class Case:
    action: str  # the audit row's action
    perform: Callable[[Session, World, Operator], object]
    by: str = "secretary"  # who acts: their chat account, or `--as`/`--by` their member number
    edges: tuple[str, ...] = (CHAT,)
    chat_actor: Callable[[Session, World, str], Operator] = chat_actor


CASES = {
    "invite": Case("invite.create", create_invite, edges=(CHAT, CLI)),
    "redeem": Case("binding.create", redeem_invite, by="unbound", chat_actor=the_newcomer),
    "leave-request": Case("leave.request", ask_leave, by="alice"),
    "leave-approve": Case("leave.approve", decide_leave(True), edges=ALL_EDGES),
    "leave-reject": Case("leave.reject", decide_leave(False), edges=ALL_EDGES),
    "proxy-sign": Case("attendance.proxy", mark(AttendanceStatus.PROXY), edges=ALL_EDGES),
    "mark-leave": Case("attendance.leave", mark(AttendanceStatus.LEAVE, "生病"), edges=ALL_EDGES),
    "mark-absent": Case("attendance.absent", mark(AttendanceStatus.ABSENT), edges=ALL_EDGES),
    "confirm-held": Case("activity.held", confirm(True), edges=ALL_EDGES),
    "confirm-not-held": Case("activity.not_held", confirm(False), edges=ALL_EDGES),
    "record-topic": Case("activity.topic", lambda s, w, who: attendance.set_activity_field(
        s, who, w.activities["party_day"], "topic", "学习党章", AFTER), edges=ALL_EDGES),
    "minutes-photo": Case("activity.minutes_photo", minutes_photo),
    "remind-unanswered": Case("activity.remind_unanswered", lambda s, w, who: attendance.remind_unanswered(
        s, who, w.activities["party_day"], T)),
    "activity-add": Case("activity.new", add_activity_change, edges=ALL_EDGES),
    "activity-move": Case("activity.move", move_activity, edges=ALL_EDGES),
    "activity-cancel": Case("activity.cancel", cancel_activity, edges=ALL_EDGES),
    "plan-propose": Case("catalog.propose", propose),
    "plan-reject": Case("catalog.reject", reject_proposal),
    "talk": Case("talk.record", record_talk),
    "task-tick": Case("task.tick", tick),
    "task-untick": Case("task.untick", untick),
    "task-complete": Case("task.complete", complete_task),
    "rectification-add": Case("rectification.add", raise_item, edges=(CHAT, CLI_AS)),
    "rectification-progress": Case("rectification.note.progress", progress_note),
    "rectification-close": Case("rectification.close", close_item, edges=(CHAT, CLI_AS)),
    "rectification-reopen": Case("rectification.reopen", reopen_item, by="committee"),
}


def acting(session: Session, world: World, case: Case, edge: str) -> Operator:
    if edge == CHAT:
        return case.chat_actor(session, world, case.by)
    return operator(session, member(session, world, case.by).member_no if edge == CLI_AS else None)


def named(session: Session, world: World, case: Case, edge: str) -> tuple:
    """The actor columns in words: (member, Telegram account, label)."""
    if edge == CHAT:
        account = NEW_ACCOUNT if case.chat_actor is the_newcomer else world.telegram[case.by]
        return world.members[case.by], account, None
    if edge == CLI_AS:
        return world.members[case.by], None, None
    return None, None, f"cli:{getpass.getuser()}"


@pytest.mark.parametrize(("use_case", "edge"), [
    pytest.param(key, edge, id=f"{key}-by-{edge.replace(' ', '')}") for key, case in CASES.items() for edge in case.edges
])
def test_the_audit_row_names_who_acted_as_audit_fields_says(session, use_case, edge):
    case = CASES[use_case]
    world = build_world(session)
    who = acting(session, world, case, edge)
    case.perform(session, world, who)
    rows = session.scalars(select(models.AuditEntry).where(models.AuditEntry.action == case.action)).all()
    columns = [(row.actor_member_id, row.actor_telegram_id, row.actor_label) for row in rows]
    home = {"actor_member_id": None, "actor_telegram_id": None, "actor_label": None} | audit_fields(who)
    assert columns == [(home["actor_member_id"], home["actor_telegram_id"], home["actor_label"])]
    assert columns == [named(session, world, case, edge)]


# The command line acting without a member's seat: (the command run once the roster is imported, or none for the
# import itself; the audit action it writes).
COMMANDS = {
    "roster-import": ((), "roster.import"),
    "invite": (("invite", "M002"), "invite.create"),
    "activity-add-without-as": (("activity", "add", "--org", "B01", "--title", "专题党课",
                                 "--at", "2030-03-15T09:00:00+08:00"), "activity.new"),
}


@pytest.mark.parametrize(("command", "action"), [pytest.param(*spec, id=key) for key, spec in COMMANDS.items()])
def test_the_command_line_without_a_member_is_named_as_audit_fields_says(cli, db_url, monkeypatch, command, action):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)  # invite: no getMe, the code alone
    for args in (("roster", "import", str(BASIC)), command):
        if args:
            code, _, err = cli(*args)
            assert code == 0, err
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(models.AuditEntry.actor_member_id, models.AuditEntry.actor_telegram_id,
                                             models.AuditEntry.actor_label)
                                      .where(models.AuditEntry.action == action)).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [(None, None, audit_fields(system_operator())["actor_label"])]
    assert rows[0].actor_label == f"cli:{getpass.getuser()}"
