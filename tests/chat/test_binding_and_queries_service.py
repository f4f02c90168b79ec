"""Binding with one-time codes (expiry, reuse, throttling) and the read-only questions members ask."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from schedules.completion import quarter_period
from storage import models
from storage.errors import InvalidInput, NotFound, PermissionDenied, Throttled
from storage.services import reports
from storage.services import attendance as attendance_svc
from storage.services import binding as svc
from storage.services import queries
from storage.services.actors import actor_for_member_no, actor_for_telegram
from storage.services.permissions import SystemOperator
from storage.services.runner import run_in_transaction
from tests.chat.world import MEETING_START, SHANGHAI, actor, add_activity, build_world

T = MEETING_START
NEW_ACCOUNT = 5005
CLI = SystemOperator("cli:test")  # `branchbot invite` without a member's seat


def redeem(session, code, now=T - timedelta(days=1), account=NEW_ACCOUNT):
    return svc.redeem_invite(session, code, telegram_user_id=account, private_chat_id=account,
                             username="newbie", now=now)


def test_invite_binds_and_greets_with_branch_and_next_activity(session):
    build_world(session)
    invite = svc.create_invite(session, "P007", T - timedelta(days=2), created_by=CLI)
    assert invite.expires_at == T + timedelta(days=5)
    result = redeem(session, invite.code.lower())  # codes are typed by hand: case does not matter
    assert (result.member_name, result.org_name, result.next_activity.title) == ("郑新", "第一党支部", "主题党日")
    assert actor_for_telegram(session, NEW_ACCOUNT).member_no == "P007"


@pytest.mark.parametrize(("setup", "message"), [
    pytest.param("wrong", "绑定码不正确，请核对后重新发送，或向支部书记重新索取。", id="wrong-code"),
    pytest.param("used", "这个绑定码已经被使用过了，请向支部书记重新索取。", id="used-by-someone-else"),
    pytest.param("expired", "这个绑定码已过期，请向支部书记重新索取。", id="expired"),
])
def test_bad_codes_get_a_clear_answer_and_count_as_failures(session_factory, setup, message):
    with session_factory.begin() as session:
        build_world(session)
        code = svc.create_invite(session, "P007", T - timedelta(days=8), created_by=CLI).code
        if setup == "used":
            redeem(session, code, now=T - timedelta(days=7), account=7007)
    attempt = {"wrong": "WRONGCODE1", "used": code, "expired": code}[setup]
    with pytest.raises(Exception) as refused:
        run_in_transaction(session_factory, lambda s: redeem(s, attempt, now=T))
    assert refused.value.message == message
    with session_factory() as session:
        assert session.scalars(select(models.BindingAttempt.telegram_user_id)).all() == [NEW_ACCOUNT]
        assert session.scalars(select(models.TelegramBinding.telegram_user_id).where(
            models.TelegramBinding.telegram_user_id == NEW_ACCOUNT)).all() == []


def test_repeated_wrong_codes_are_throttled_then_allowed_again(session_factory):
    with session_factory.begin() as session:
        build_world(session)
        good = svc.create_invite(session, "P007", T - timedelta(days=1), created_by=CLI).code
    for minute in range(5):
        wrong, at = f"BAD{minute}", T + timedelta(minutes=minute)
        with pytest.raises(NotFound):
            run_in_transaction(session_factory, lambda s, wrong=wrong, at=at: redeem(s, wrong, now=at))
    with pytest.raises(Throttled):
        run_in_transaction(session_factory, lambda s: redeem(s, good, now=T + timedelta(minutes=6)))
    result = run_in_transaction(session_factory, lambda s: redeem(s, good, now=T + timedelta(minutes=20)))
    assert result.member_name == "郑新"


def test_secretary_invites_only_own_branch(session):
    world = build_world(session)
    secretary = actor(session, world, "secretary")
    assert svc.create_invite(session, "P007", T, created_by=secretary).member_name == "郑新"
    with pytest.raises(PermissionDenied):
        svc.create_invite(session, "P102", T, created_by=secretary)
    with pytest.raises(PermissionDenied):
        svc.create_invite(session, "P007", T, created_by=actor(session, world, "alice"))


@pytest.mark.parametrize(("member_no", "days", "error"), [
    pytest.param("NOPE", 7, NotFound, id="unknown-member"),
    pytest.param("P007", 0, InvalidInput, id="zero-days"),
])
def test_invite_input_is_validated(session, member_no, days, error):
    build_world(session)
    with pytest.raises(error):
        svc.create_invite(session, member_no, T, days=days, created_by=CLI)


@pytest.mark.parametrize(("who", "now", "expected"), [
    pytest.param("alice", T - timedelta(days=1), ["主题党日", "党小组会", "支部党员大会"], id="member-in-a-group"),
    pytest.param("deputy", T - timedelta(days=1), ["主题党日", "支委会", "支部党员大会"], id="committee-member"),
    pytest.param("activist", T - timedelta(days=1), [], id="activist-is-not-expected"),
    pytest.param("alice", T + timedelta(hours=3), ["党小组会", "支部党员大会"], id="over-meeting-drops-out"),
])
def test_upcoming_lists_only_own_audience(session, who, now, expected):
    world = build_world(session)
    views = queries.upcoming_for(session, actor(session, world, who), now)
    assert [v.title for v in views] == expected


def test_open_for_checkin_is_the_activity_in_its_window(session):
    world = build_world(session)
    alice = actor(session, world, "alice")
    assert [v.title for v in queries.open_for_checkin(session, alice, T)] == ["主题党日"]
    assert queries.open_for_checkin(session, alice, T - timedelta(hours=1)) == []


@pytest.mark.parametrize(("ask", "expected"), [
    pytest.param(queries.upcoming_for, 5, id="upcoming-lists-the-next-five"),
    pytest.param(queries.answerable_for, 5, id="leave-offers-as-many-buttons"),
    pytest.param(queries.open_for_checkin, 0, id="checkin-only-what-is-open-now"),
])
def test_a_long_year_ahead_is_listed_a_few_at_a_time(session, ask, expected):
    world = build_world(session)
    for week in range(1, 9):
        add_activity(session, world, f"weekly-{week}", "B01", f"学习会{week}", T + timedelta(weeks=week))
    alice = actor(session, world, "alice")
    assert len(ask(session, alice, T + timedelta(days=1))) == expected


def test_my_year_counts_and_owed_make_up_study(session):
    world = build_world(session)
    secretary = actor(session, world, "secretary")
    attendance_svc.check_in(session, actor(session, world, "bob"),
                            world.activities["party_day"], T)
    attendance_svc.confirm_activity(session, secretary, world.activities["party_day"], True, T + timedelta(hours=2))
    year = queries.my_year(session, actor(session, world, "alice"), T + timedelta(days=1), SHANGHAI)
    assert (year.expected, year.present, year.absent, year.political_birthday) == (1, 0, 1, "03-20")
    assert year.owed == ("主题党日",)
    assert year.party_age_years == 4


def test_attendance_for_committee_is_the_ledgers_report(session):
    world = build_world(session)
    secretary = actor(session, world, "secretary")
    attendance_svc.check_in(session, actor(session, world, "alice"),
                            world.activities["party_day"], T)
    attendance_svc.confirm_activity(session, secretary, world.activities["party_day"], True, T + timedelta(hours=2))
    committee = actor(session, world, "committee")
    now = T + timedelta(days=20)
    answer = queries.attendance(session, committee, ["D01", "2025Q1"], now, SHANGHAI)
    assert answer.report is not None and answer.report.root.code == "D01"
    assert answer.report == reports.load_report(session, "D01", quarter_period(2025, 1), SHANGHAI, now)
    member = queries.attendance(session, committee, ["2025Q1", "P004"], now, SHANGHAI)
    assert member.member is not None and member.member.counts()["absent"] == 1


@pytest.mark.parametrize(("who", "words"), [
    pytest.param("alice", ["B01"], id="plain-member-sees-no-branch"),
    pytest.param("committee", ["X01B"], id="other-organisation-tree"),
    pytest.param("other_secretary", ["P003"], id="secretary-of-another-branch"),
])
def test_attendance_stays_inside_own_tree(session, who, words):
    world = build_world(session)
    with pytest.raises(PermissionDenied):
        queries.attendance(session, actor(session, world, who), words, T, SHANGHAI)


def test_actor_for_member_no_is_found_or_refused(session):
    build_world(session)
    assert actor_for_member_no(session, "P001").name == "王书记"
    with pytest.raises(NotFound):
        actor_for_member_no(session, "P999")
