"""One audience, three readers: the reminders queued, the audience the plan names and the ledger's 应到 agree."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.runtime.materialise import ReminderPolicy, enqueue_reminders
from schedules.calendar import load_official_calendar
from schedules.catalog import load_catalog
from schedules.completion import year_period
from schedules.plan import audience_of, build_plan
from schedules.roles import Role
from schedules.roster import Category, Member, Organization, OrgType, Roster, UpperRole
from storage import models
from storage.repositories import activities as activity_repo
from storage.repositories import reports
from storage.roster_io.apply import import_roster

CONFIG = Path(__file__).resolve().parents[2] / "config"
SHANGHAI = ZoneInfo("Asia/Shanghai")
BEFORE_THE_YEAR = datetime(2024, 12, 1, 8, tzinfo=SHANGHAI)
BRANCH_ROLES = [Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER, Role.COMMITTEE_MEMBER,
                Role.GROUP_LEADER]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(CONFIG)


@pytest.fixture(scope="module")
def calendar():
    return load_official_calendar(CONFIG / "holidays")


@st.composite
def rosters(draw) -> Roster:
    """A 党委 over one to three branches with up to two 党小组 each; members of every category, with
    branch roles, seats on the 党委 and the dates that make per-member items fall in 2025."""
    organizations = [Organization("D01", "机关党委", OrgType.COMMITTEE, elected_on=date(2022, 5, 10), term_years=3)]
    members: list[Member] = []
    for b in range(1, draw(st.integers(1, 3)) + 1):
        code = f"B{b}"
        organizations.append(Organization(code, f"第{b}党支部", OrgType.BRANCH, "D01",
                                          elected_on=date(2022, draw(st.integers(1, 12)), 1), term_years=3))
        groups = [f"{code}G{g}" for g in range(1, draw(st.integers(0, 2)) + 1)]
        organizations += [Organization(g, f"{code}第{g[-1]}党小组", OrgType.GROUP, code) for g in groups]
        for i in range(draw(st.integers(1, 6))):
            category = draw(st.sampled_from(list(Category)))
            group = draw(st.sampled_from([None, *groups]))
            roles = set(draw(st.sets(st.sampled_from(BRANCH_ROLES), max_size=2)))
            if group is None:
                roles.discard(Role.GROUP_LEADER)
            upper = draw(st.sets(st.sampled_from([Role.SECRETARY, Role.COMMITTEE_MEMBER]), max_size=1))
            joined = draw(st.dates(date(2024, 1, 1), date(2024, 12, 31))) if category is Category.PROBATIONARY \
                else draw(st.dates(date(1970, 1, 1), date(2023, 12, 31)))
            members.append(Member(
                member_no=f"{b}{i:02d}", name=f"党员{b}{i:02d}", org_code=code, category=category, group_code=group,
                joined_on=joined if category.is_party_member else None,
                full_member_on=date(joined.year + 1, 1, 1) if category is Category.FULL else None,
                activist_on=draw(st.dates(date(2022, 1, 1), date(2024, 12, 31))) if not category.is_party_member else None,
                roles=frozenset(roles) if category.is_party_member else frozenset(),
                upper_roles=frozenset(UpperRole("D01", r) for r in upper) if category.is_party_member else frozenset(),
                leading_cadre=draw(st.booleans()),
            ))
    return Roster.of(organizations, members)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(roster=rosters())
def test_reminders_plan_and_ledger_name_the_same_people(session, catalog, calendar, roster):
    savepoint = session.begin_nested()
    try:
        import_roster(session, roster, now=BEFORE_THE_YEAR)
        occurrences = build_plan(catalog, roster, calendar, 2025, SHANGHAI)
        activity_repo.upsert_occurrences(session, occurrences)
        ids = dict(session.execute(select(models.Member.member_no, models.Member.id)).all())
        numbers = {member_id: no for no, member_id in ids.items()}
        for offset, member_id in enumerate(sorted(ids.values())):
            session.add(models.TelegramBinding(member_id=member_id, telegram_user_id=900000 + offset,
                                               private_chat_id=900000 + offset))
        session.flush()
        activities = {a.occurrence_key: a for a in session.scalars(select(models.Activity))}
        enqueue_reminders(session, list(activities.values()), now=BEFORE_THE_YEAR, policy=ReminderPolicy(zone=SHANGHAI))
        queued: dict[int, set[str]] = {}
        for activity_id, member_id in session.execute(select(models.OutboxMessage.activity_id, models.OutboxMessage.member_id)):
            queued.setdefault(activity_id, set()).add(numbers[member_id])
        ledger = reports.load_ledger(session, "D01", year_period(2025), SHANGHAI)
        records = {record.occurrence_key: record for record in ledger.activities}
        for occurrence in occurrences:
            planned = {member.member_no for member, _ in audience_of(occurrence, roster)}
            expected = {ledger.members[mid].member_no for mid in ledger.expected_ids(records[occurrence.key])}
            assert planned == expected, occurrence.key
            if occurrence.reminder_leads:
                assert queued.get(activities[occurrence.key].id, set()) == planned, occurrence.key
    finally:
        savepoint.rollback()
