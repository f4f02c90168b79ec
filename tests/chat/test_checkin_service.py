"""Check-in rules: only oneself, only one's own audience, only inside the window; presses are idempotent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage import models
from storage.errors import InvalidInput, NotBound, OutsideWindow, PermissionDenied
from storage.services import attendance as svc
from storage.services.actors import actor_for_telegram
from tests.chat.world import MEETING_START, build_world

T = MEETING_START


@pytest.mark.parametrize(("who", "activity", "now"), [
    pytest.param("alice", "party_day", T - timedelta(minutes=30), id="window-opens-30-min-before"),
    pytest.param("alice", "party_day", T + timedelta(hours=1, minutes=59), id="still-open-before-2h-after"),
    pytest.param("bob", "group_meeting", T + timedelta(days=3), id="group-member-at-group-meeting"),
    pytest.param("bob", "assembly", T + timedelta(days=10), id="probationary-at-general-assembly"),
    pytest.param("deputy", "committee_meeting", T + timedelta(days=5), id="deputy-at-committee-meeting"),
])
def test_member_checks_in_inside_window(session, who, activity, now):
    world = build_world(session)
    actor = actor_for_telegram(session, world.telegram[who])
    result = svc.check_in(session, actor, world.activities[activity], now)
    assert (result.status, result.already) == ("present", False)
    row = session.scalars(select(models.Attendance).where(
        models.Attendance.activity_id == world.activities[activity])).one()
    assert (row.member_id, row.status, row.recorded_at) == (world.members[who], "present", now)


@pytest.mark.parametrize(("who", "activity", "now", "error", "message"), [
    pytest.param("alice", "party_day", T - timedelta(minutes=31), OutsideWindow, "「主题党日」的签到还没开始，开放时间为活动开始前 30 分钟。", id="too-early"),
    pytest.param("alice", "party_day", T + timedelta(hours=2), OutsideWindow, "「主题党日」的签到已经结束。如需补签，请联系支部书记。", id="too-late"),
    pytest.param("other_member", "party_day", T, PermissionDenied, "「主题党日」不是您需要参加的活动，无法为它签到或请假。", id="other-branch"),
    pytest.param("alice", "committee_meeting", T + timedelta(days=5), PermissionDenied, "「支委会」不是您需要参加的活动，无法为它签到或请假。",
                 id="not-on-committee"),
    pytest.param("secretary", "group_meeting", T + timedelta(days=3), PermissionDenied, "「党小组会」不是您需要参加的活动，无法为它签到或请假。",
                 id="not-in-that-group"),
    pytest.param("activist", "party_day", T, PermissionDenied, "「主题党日」不是您需要参加的活动，无法为它签到或请假。",
                 id="activist-not-at-party-meetings"),
    pytest.param("alice", "cancelled", T, InvalidInput, "「取消的党课」已取消。", id="cancelled"),
    pytest.param("alice", "task", T, InvalidInput, "这项工作不需要签到。", id="task-has-no-checkin"),
])
def test_check_in_is_refused(session, who, activity, now, error, message):
    world = build_world(session)
    actor = actor_for_telegram(session, world.telegram[who])
    with pytest.raises(error) as refused:
        svc.check_in(session, actor, world.activities[activity], now)
    assert refused.value.message == message
    assert session.scalars(select(models.Attendance)).all() == []


def test_second_press_is_idempotent(session):
    world = build_world(session)
    actor = actor_for_telegram(session, world.telegram["alice"])
    first = svc.check_in(session, actor, world.activities["party_day"], T)
    second = svc.check_in(session, actor, world.activities["party_day"], T + timedelta(minutes=5))
    assert (first.already, second.already) == (False, True)
    rows = session.scalars(select(models.Attendance)).all()
    assert [(r.status, r.recorded_at) for r in rows] == [("present", T)]


def test_group_press_reports_the_tally(session):
    world = build_world(session)
    for who in ("alice", "bob"):
        result = svc.check_in(session, actor_for_telegram(session, world.telegram[who]),
                              world.activities["party_day"], T, via="group", with_tally=True)
    # B01 expects its 6 party members: secretary, deputy, alice, bob, offline and unbound (not the activist).
    assert (result.tally.expected, result.tally.present, result.tally.leave) == (6, 2, 0)


def test_stranger_is_told_to_bind(session):
    build_world(session)
    with pytest.raises(NotBound) as refused:
        actor_for_telegram(session, 999)
    assert refused.value.message == "您还没有绑定党员身份。请向支部书记索取绑定码，然后发送 /start 绑定码。"


def test_transferred_member_is_refused(session):
    world = build_world(session)
    session.get(models.Member, world.members["alice"]).status = "transferred_out"
    session.flush()
    with pytest.raises(PermissionDenied):
        actor_for_telegram(session, world.telegram["alice"])


def test_two_racing_presses_record_one_check_in(session_factory):
    """The second press waits for the first one's transaction and then finds the member already present."""
    import threading

    from storage.db import transaction

    with transaction(session_factory) as session:
        world = build_world(session)
    activity_id, user = world.activities["party_day"], world.telegram["alice"]
    first_inserted, results = threading.Event(), {}

    def first() -> None:
        with transaction(session_factory) as session:
            results["first"] = svc.check_in(session, actor_for_telegram(session, user), activity_id, T).already
            first_inserted.set()
            second_started.wait(timeout=10)

    def second() -> None:
        first_inserted.wait(timeout=10)
        with transaction(session_factory) as session:
            actor = actor_for_telegram(session, user)
            second_started.set()
            results["second"] = svc.check_in(session, actor, activity_id, T + timedelta(seconds=1)).already

    second_started = threading.Event()
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == {"first": False, "second": True}
    with transaction(session_factory) as session:
        assert len(session.scalars(select(models.Attendance)).all()) == 1
