"""The report service over the repository's rows says who an activity is for as chat does (`StoredAudience`):
a member's calendar, the ledger's 应到 and the committee meetings of 双重组织生活."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from schedules.completion import year_period
from storage import models
from storage.services import reports
from storage.services.actors import OrgTree, actor_for_member_no
from storage.services.audience import StoredAudience
from tests.reports.conftest import SHANGHAI, world  # noqa: F401 - the fixture

YEAR = year_period(2025)
MEMBERS = ["M001", "M002", "M003", "M004", "M010", "M011", "M020"]


def _chat(session):
    return StoredAudience(session, OrgTree.load(session))


def _live_activities(session):
    start, end = YEAR.bounds(SHANGHAI)
    a = models.Activity
    return session.scalars(select(a).where(a.starts_at >= start, a.starts_at < end,
                                           a.status != models.ActivityStatus.CANCELLED.value)
                           .order_by(a.starts_at, a.id)).all()


@pytest.mark.parametrize("member_no", MEMBERS)
def test_member_calendar_is_what_chat_says_is_for_them(session, world, member_no):
    actor = actor_for_member_no(session, member_no)
    chat = _chat(session)
    _, items = reports.member_calendar(session, member_no, *YEAR.bounds(SHANGHAI))
    # Another member's own item (their 政治生日) is told to their secretary but is not on the secretary's calendar.
    assert [r.occurrence_key for r in items] == [
        a.occurrence_key for a in _live_activities(session)
        if chat.includes(actor, a) and a.member_id in (None, actor.member_id)]


@pytest.mark.parametrize("member_no", MEMBERS)
def test_ledger_expects_whom_chat_says_it_is_for(session, world, member_no):
    actor = actor_for_member_no(session, member_no)
    chat = _chat(session)
    ledger = reports.load_ledger(session, "D01", YEAR, SHANGHAI)
    rows = {a.id: a for a in _live_activities(session)}
    for record in ledger.meetings():
        if record.id not in rows or actor.member_id in {m.member_id for m in record.marks}:
            continue  # whoever answered is counted anyway
        assert (actor.member_id in ledger.expected_ids(record)) == chat.includes(actor, rows[record.id]), (
            record.occurrence_key)


@pytest.mark.parametrize("member_no", ["M001", "M002", "M003", "M004"])
def test_dual_life_lists_the_committee_meetings_chat_says_are_for_them(session, world, member_no):
    actor = actor_for_member_no(session, member_no)
    chat = _chat(session)
    ledger = reports.load_ledger(session, "B01", YEAR, SHANGHAI)
    above = [a for a in _live_activities(session)
             if a.org_id == world.orgs["D01"] and a.kind == models.ActivityKind.MEETING.value and a.member_id is None]
    answered = set(session.scalars(select(models.Attendance.activity_id).where(
        models.Attendance.member_id == actor.member_id)))
    assert [e.activity.occurrence_key for e in ledger.dual_life if e.member_id == actor.member_id] == [
        a.occurrence_key for a in above if chat.includes(actor, a) or a.id in answered]
