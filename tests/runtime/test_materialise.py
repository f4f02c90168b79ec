"""Materialisation: occurrences become activities by key, reminders become outbox rows, idempotently."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.runtime.materialise import ReminderPolicy, materialise, reminder_due_times
from bot.runtime.plan_source import CatalogPlan
from bot.settings import PROJECT_CONFIG_DIR
from schedules.plan import Occurrence
from storage import models
from storage.services.views import checkin_window
from tests.runtime.factories import SHANGHAI, at, make_branch

POLICY = ReminderPolicy(zone=SHANGHAI)


def occurrence(key="theme_party_day:B01:2025-03", starts="2025-03-15 09:00", **changes) -> Occurrence:
    base = Occurrence(
        key=key, obligation="theme_party_day", title="主题党日", org_code="B01", starts_at=at(starts),
        ends_at=None, member_no=None, audience="all_members", moved_from=None, kind="meeting",
        requires_confirmation=True, checkin=(timedelta(minutes=-30), timedelta(hours=2)),
        reminder_leads=(timedelta(days=3), timedelta(days=1), timedelta(hours=1)),
    )
    return replace(base, **changes)


class TablePlan:
    """A plan source that answers from a list (the pure planner is tested on its own)."""

    def __init__(self, occurrences):
        self.items = list(occurrences)

    def occurrences(self, roster, start, end):
        return [o for o in self.items if start <= o.starts_at < end]

    def obligations_by_org(self, roster):
        return {}


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param("2025-03-01 09:00", {4320: "2025-03-12 09:00", 1440: "2025-03-14 09:00", 60: "2025-03-15 08:00"},
                     id="all-ahead"),
        pytest.param("2025-03-13 12:00", {1440: "2025-03-14 09:00", 60: "2025-03-15 08:00", 4320: "2025-03-13 12:00"},
                     id="3d-passed-goes-now"),
        pytest.param("2025-03-15 08:30", {60: "2025-03-15 08:30"}, id="only-the-shortest-passed-lead"),
        pytest.param("2025-03-15 09:00", {}, id="started-nothing"),
    ],
)
def test_reminder_due_times(now, expected):
    due = reminder_due_times(at("2025-03-15 09:00"), (4320, 1440, 60), now=at(now), zone=SHANGHAI, quiet=POLICY.quiet)
    assert due == {lead: at(moment) for lead, moment in expected.items()}


@pytest.mark.parametrize(
    ("starts", "leads", "expected"),
    [
        pytest.param("2025-03-15 08:30", (120, 30), {30: "2025-03-15 08:00"},
                     id="two-leads-moved-to-one-morning-remind-once"),
        pytest.param("2025-03-15 10:00", (180, 120, 30), {120: "2025-03-15 08:00", 30: "2025-03-15 09:30"},
                     id="the-shorter-of-the-moved-leads-stays"),
    ],
)
def test_leads_that_land_on_one_moment_send_one_reminder(starts, leads, expected):
    due = reminder_due_times(at(starts), leads, now=at("2025-03-10 09:00"), zone=SHANGHAI, quiet=POLICY.quiet)
    assert due == {lead: at(moment) for lead, moment in expected.items()}


def test_materialise_is_idempotent_and_only_reminds_bound_members(session):
    org = make_branch(session, members=3)
    session.add(models.Member(member_no="B01-9", name="未绑定", org_id=org.id, category="正式党员"))
    plan = TablePlan([occurrence(), occurrence(key="theme_party_day:B01:2025-06", starts="2025-06-15 09:00")])
    first = materialise(session, now=at("2025-03-01 09:00"), policy=POLICY, plan=plan)
    assert (first.created, first.activities, first.reminders_enqueued) == (1, 1, 9)  # June is beyond 60 days
    again = materialise(session, now=at("2025-03-01 09:00"), policy=POLICY, plan=plan)
    assert (again.created, again.reminders_enqueued) == (0, 0)
    activity = session.scalars(select(models.Activity)).one()
    assert checkin_window(activity)[0] == at("2025-03-15 08:30")
    assert activity.reminder_leads == "4320,1440,60"


def test_a_plan_change_moves_the_activity_and_replans_unsent_reminders(session):
    make_branch(session, members=1)
    materialise(session, now=at("2025-03-01 09:00"), policy=POLICY, plan=TablePlan([occurrence()]))
    moved = TablePlan([occurrence(starts="2025-03-17 09:00", moved_from=at("2025-03-15 09:00").date())])
    report = materialise(session, now=at("2025-03-01 09:00"), policy=POLICY, plan=moved)
    assert report.moved == 1
    dues = sorted(session.scalars(select(models.OutboxMessage.due_at)))
    assert dues == [at("2025-03-14 09:00"), at("2025-03-16 09:00"), at("2025-03-17 08:00")]


def test_an_obligation_without_reminders_gets_none(session):
    make_branch(session, members=2)
    report = materialise(session, now=at("2025-03-01 09:00"), policy=POLICY,
                         plan=TablePlan([occurrence(reminder_leads=())]))  # the catalog's `reminders: []`
    assert (report.created, report.reminders_enqueued) == (1, 0)
    assert count(session, models.OutboxMessage) == 0


def test_members_who_answered_get_no_new_reminders(session):
    org = make_branch(session, members=2)
    materialise(session, now=at("2025-03-01 09:00"), policy=POLICY, plan=TablePlan([occurrence()]))
    activity = session.scalars(select(models.Activity)).one()
    first = session.scalars(select(models.Member).where(models.Member.org_id == org.id).order_by(models.Member.id)).first()
    session.execute(models.OutboxMessage.__table__.delete())
    session.add(models.Attendance(activity_id=activity.id, member_id=first.id, status="leave"))
    session.flush()
    report = materialise(session, now=at("2025-03-01 09:00"), policy=POLICY, plan=TablePlan([occurrence()]))
    assert report.reminders_enqueued == 3
    assert count(session, models.OutboxMessage, models.OutboxMessage.member_id == first.id) == 0


def test_the_real_catalog_plans_a_branch_and_names_its_obligation_jobs(session):
    make_branch(session, members=2)
    plan = CatalogPlan.for_dir(PROJECT_CONFIG_DIR, SHANGHAI)
    from storage.repositories.roster import load_roster

    by_org = plan.obligations_by_org(load_roster(session))
    assert {"theme_party_day", "committee_meeting"} <= by_org["B01"]
    report = materialise(session, now=at("2025-03-01 09:00"), policy=POLICY, plan=plan)
    assert report.created >= 2
    keys = set(session.scalars(select(models.Activity.occurrence_key)))
    assert "theme_party_day:B01:2025-03" in keys
    assert report.reminders_enqueued > 0


def test_an_obligation_job_materialises_only_its_own_organisation(session):
    make_branch(session, "B01", members=1)
    make_branch(session, "B02", members=1, first_chat_id=2000)
    plan = TablePlan([occurrence(), occurrence(key="theme_party_day:B02:2025-03", org_code="B02"),
                      occurrence(key="committee_meeting:B01:2025-03", obligation="committee_meeting")])
    report = materialise(session, now=at("2025-03-01 09:00"), policy=POLICY, plan=plan,
                         org_codes=["B01"], obligation="theme_party_day")
    assert report.created == 1
    assert list(session.scalars(select(models.Activity.occurrence_key))) == ["theme_party_day:B01:2025-03"]


def test_roster_around_keeps_ancestors_and_own_members_only():
    from bot.runtime.materialise import roster_around
    from schedules.roster import Category, Member, Organization, OrgType, Roster

    roster = Roster.of(
        [Organization("D01", "党委", OrgType.COMMITTEE), Organization("B01", "一支部", OrgType.BRANCH, "D01"),
         Organization("B02", "二支部", OrgType.BRANCH, "D01")],
        [Member("1", "甲", "B01", Category.FULL), Member("2", "乙", "B02", Category.FULL)],
    )
    narrowed = roster_around(roster, {"B01"})
    assert [o.code for o in narrowed.organizations] == ["D01", "B01"]
    assert [m.member_no for m in narrowed.members] == ["1"]
