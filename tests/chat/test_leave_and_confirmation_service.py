"""Leave requests, the secretary's decisions, 代签, confirmation and rolls, with their permission checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage import models
from storage.errors import AlreadyHandled, InvalidInput, OutsideWindow, PermissionDenied
from storage.services import attendance as svc
from storage.services.actors import actor_for_telegram
from storage.services.runner import run_in_transaction
from tests.chat.world import MEETING_START, actor, build_world

T = MEETING_START


def ask_leave(session, world, who="alice", reason="出差在外", now=T - timedelta(days=1)):
    member = actor(session, world, who)
    svc.begin_leave(session, member, world.activities["party_day"], now)
    return svc.submit_pending_text(session, member, reason, now)


def test_leave_reason_arrives_in_the_next_message_and_reaches_the_secretaries(session):
    world = build_world(session)
    request = ask_leave(session, world)
    assert (request.member_name, request.reason) == ("张三", "出差在外")
    assert [(a.name, a.chat_id) for a in request.approvers] == [("王书记", 1001), ("李副书记", 1002)]
    row = session.scalars(select(models.Attendance)).one()
    assert (row.status, row.leave_reason, row.leave_decision) == ("leave", "出差在外", "pending")
    # Nothing is pending any more: the next message is an ordinary message.
    assert svc.submit_pending_text(session, actor(session, world, "alice"), "你好", T) is None


def test_pending_leave_expires_after_a_day(session):
    world = build_world(session)
    member = actor(session, world, "alice")
    svc.begin_leave(session, member, world.activities["party_day"], T - timedelta(days=3))
    assert svc.submit_pending_text(session, member, "出差", T - timedelta(days=1)) is None


@pytest.mark.parametrize(("reason", "message"), [
    pytest.param("   ", "请用一句话说明请假原因。", id="empty"),
    pytest.param("很" * 301, "请假原因太长了：301 个字，最多 300 个字。", id="too-long"),
])
def test_bad_leave_reason_asks_again(session, reason, message):
    world = build_world(session)
    with pytest.raises(InvalidInput) as refused:
        ask_leave(session, world, reason=reason)
    assert refused.value.message == message


@pytest.mark.parametrize(("decider", "approve", "expected"), [
    pytest.param("secretary", True, "approved", id="secretary-approves"),
    pytest.param("deputy", False, "rejected", id="deputy-rejects"),
])
def test_secretary_decides_leave_and_member_is_told(session, decider, approve, expected):
    world = build_world(session)
    ask_leave(session, world)
    result = svc.decide_leave(session, actor(session, world, decider), world.activities["party_day"],
                              world.members["alice"], approve, T)
    assert (result.member.name, result.member.chat_id, result.approved) == ("张三", 1003, approve)
    assert session.scalars(select(models.Attendance.leave_decision)).one() == expected
    audit = session.scalars(select(models.AuditEntry.action).where(models.AuditEntry.action.like("leave.%"))).all()
    assert audit == ["leave.request", f"leave.{'approve' if approve else 'reject'}"]


@pytest.mark.parametrize("decider", [
    pytest.param("alice", id="the-member-themself"),
    pytest.param("other_secretary", id="another-branch-secretary"),
    pytest.param("committee", id="upper-committee-member"),
])
def test_only_the_branch_secretary_decides_leave(session, decider):
    world = build_world(session)
    ask_leave(session, world)
    with pytest.raises(PermissionDenied):
        svc.decide_leave(session, actor(session, world, decider), world.activities["party_day"],
                         world.members["alice"], True, T)


def test_replayed_decision_is_refused(session):
    world = build_world(session)
    ask_leave(session, world)
    args = (world.activities["party_day"], world.members["alice"])
    svc.decide_leave(session, actor(session, world, "secretary"), *args, True, T)
    with pytest.raises(AlreadyHandled):
        svc.decide_leave(session, actor(session, world, "deputy"), *args, False, T)
    assert session.scalars(select(models.Attendance.leave_decision)).one() == "approved"


def test_member_on_leave_who_comes_after_all_checks_in(session):
    world = build_world(session)
    ask_leave(session, world)
    svc.check_in(session, actor(session, world, "alice"), world.activities["party_day"], T)
    row = session.scalars(select(models.Attendance)).one()
    assert (row.status, row.leave_reason) == ("present", "出差在外")


def test_leave_after_checking_in_is_refused(session):
    world = build_world(session)
    svc.check_in(session, actor(session, world, "alice"), world.activities["party_day"], T)
    with pytest.raises(AlreadyHandled):
        svc.begin_leave(session, actor(session, world, "alice"), world.activities["party_day"], T)


def test_leave_after_the_window_is_refused(session):
    world = build_world(session)
    with pytest.raises(OutsideWindow):
        svc.begin_leave(session, actor(session, world, "alice"), world.activities["party_day"], T + timedelta(hours=3))


@pytest.mark.parametrize(("checked_in", "at", "refusal"), [
    pytest.param(False, T + timedelta(hours=3), OutsideWindow, id="window-closed-meanwhile"),
    pytest.param(True, T, AlreadyHandled, id="checked-in-meanwhile"),
])
def test_a_reason_that_can_no_longer_count_ends_the_wait(session_factory, checked_in, at, refusal):
    with session_factory.begin() as session:
        world = build_world(session)
        svc.begin_leave(session, actor(session, world, "alice"), world.activities["party_day"], T - timedelta(hours=1))
        if checked_in:
            svc.check_in(session, actor(session, world, "alice"), world.activities["party_day"], T)
    alice = world.telegram["alice"]
    with pytest.raises(refusal):
        run_in_transaction(session_factory, lambda s: svc.submit_pending_text(
            s, actor_for_telegram(s, alice), "出差在外", at))
    # The refused request rolled back, yet the bot no longer waits: the next message is an ordinary one.
    with session_factory.begin() as session:
        assert svc.submit_pending_text(session, actor_for_telegram(session, alice), "你好", at) is None


def test_roll_sorts_everyone_into_four_lists(session):
    world = build_world(session)
    svc.check_in(session, actor(session, world, "alice"), world.activities["party_day"], T)
    ask_leave(session, world, who="bob", reason="生病")
    svc.proxy_sign(session, actor(session, world, "secretary"), world.activities["party_day"],
                   world.members["offline"], T)
    roll = svc.roll_for(session, actor(session, world, "secretary"), world.activities["party_day"], T)
    assert [e.name for e in roll.present] == ["张三", "赵老"]
    assert [(e.name, e.leave_reason) for e in roll.on_leave] == [("李四", "生病")]
    # 未签到 counts everyone who has not answered; those without Telegram are among them, not apart (#12.5).
    assert [e.name for e in roll.absent] == ["王书记", "李副书记", "郑新"]
    assert [e.name for e in roll.unreachable] == ["郑新"]


def test_proxy_signing_is_audited_as_the_secretary(session):
    world = build_world(session)
    svc.proxy_sign(session, actor(session, world, "secretary"), world.activities["party_day"],
                   world.members["offline"], T)
    row = session.scalars(select(models.Attendance)).one()
    assert (row.status, row.via, row.recorded_by_member_id) == ("proxy", "proxy", world.members["secretary"])
    audit = session.scalars(select(models.AuditEntry).where(models.AuditEntry.action == "attendance.proxy")).one()
    assert (audit.actor_member_id, audit.details["member_id"]) == (world.members["secretary"], world.members["offline"])


@pytest.mark.parametrize(("who", "target", "error"), [
    pytest.param("alice", "offline", PermissionDenied, id="member-cannot-proxy"),
    pytest.param("other_secretary", "offline", PermissionDenied, id="other-branch-secretary"),
    pytest.param("secretary", "other_member", PermissionDenied, id="not-in-the-audience"),
])
def test_proxy_signing_is_refused(session, who, target, error):
    world = build_world(session)
    with pytest.raises(error):
        svc.proxy_sign(session, actor(session, world, who), world.activities["party_day"], world.members[target], T)


def test_confirming_held_marks_the_silent_absent_and_only_once(session):
    world = build_world(session)
    svc.check_in(session, actor(session, world, "alice"), world.activities["party_day"], T)
    secretary = actor(session, world, "secretary")
    result = svc.confirm_activity(session, secretary, world.activities["party_day"], True, T + timedelta(hours=2))
    assert (result.held, result.marked_absent) == (True, 5)
    assert session.get(models.Activity, world.activities["party_day"]).status == "held"
    with pytest.raises(AlreadyHandled):
        svc.confirm_activity(session, secretary, world.activities["party_day"], False, T + timedelta(hours=3))


@pytest.mark.parametrize(("who", "now", "error"), [
    pytest.param("alice", T + timedelta(hours=2), PermissionDenied, id="member-cannot-confirm"),
    pytest.param("committee", T + timedelta(hours=2), PermissionDenied, id="upper-committee-does-not-confirm"),
    pytest.param("secretary", T - timedelta(hours=1), OutsideWindow, id="before-it-starts"),
])
def test_confirmation_is_refused(session, who, now, error):
    world = build_world(session)
    with pytest.raises(error):
        svc.confirm_activity(session, actor(session, world, who), world.activities["party_day"], True, now)
    assert session.get(models.Activity, world.activities["party_day"]).status == "scheduled"


def test_minutes_topic_and_photo_are_recorded_through_pending_input(session):
    world = build_world(session)
    secretary = actor(session, world, "secretary")
    svc.begin_activity_field(session, secretary, world.activities["party_day"], "topic", T)
    svc.submit_pending_text(session, secretary, "学习二十届三中全会精神", T)
    svc.begin_activity_field(session, secretary, world.activities["party_day"], "minutes", T)
    svc.add_minutes_photo(session, secretary, "file-123", "签到表", T)
    activity = session.get(models.Activity, world.activities["party_day"])
    assert activity.topic == "学习二十届三中全会精神"
    photo = session.scalars(select(models.ActivityAttachment)).one()
    assert (photo.telegram_file_id, photo.caption) == ("file-123", "签到表")


def test_absent_list_and_reminders_reach_only_the_unanswered(session):
    world = build_world(session)
    svc.check_in(session, actor(session, world, "alice"), world.activities["party_day"], T)
    ask_leave(session, world, who="bob", reason="生病")
    secretary = actor(session, world, "secretary")
    roll = svc.current_roll(session, secretary, T)
    assert roll.activity.title == "主题党日"
    recipients = svc.remind_unanswered(session, secretary, roll.activity.id, T)
    assert sorted(r.name for r in recipients) == ["李副书记"]  # never the secretary who pressed


def test_absent_list_is_for_secretaries_only(session):
    world = build_world(session)
    with pytest.raises(PermissionDenied):
        svc.current_roll(session, actor(session, world, "alice"), T)
