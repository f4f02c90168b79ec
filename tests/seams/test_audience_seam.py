"""One audience, four readers: the reminders queued, the audience the plan names, the ledger's 应到 and chat agree.

Generated rosters (hypothesis) over the shipped catalog's 2025 plan. A per-member item (政治生日, 预备党员转正,
积极分子考察) is checked for its subject apart from its audience, against a small oracle written from the
catalog's words rather than from `schedules.audience`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.runtime.materialise import ReminderPolicy, enqueue_reminders
from bot.deployment import load_catalog, load_official_calendar
from schedules.audience import Part, reminder_leads
from schedules.completion import year_period
from schedules.plan import audience_of, build_plan, target_of
from schedules.roles import Role
from schedules.roster import Category, Member, MemberStatus, Organization, OrgType, Roster, UpperRole
from storage import models
from storage.repositories import activities as activity_repo
from storage.services import reports
from storage.repositories.roster import load_roster
from storage.roster_io.apply import import_roster
from storage.services.actors import OrgTree, actor_from_member
from storage.services.audience import StoredAudience

CONFIG = Path(__file__).resolve().parents[2] / "config"
SHANGHAI = ZoneInfo("Asia/Shanghai")
BEFORE_THE_YEAR = datetime(2024, 12, 1, 8, tzinfo=SHANGHAI)
BRANCH_ROLES = [Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER, Role.COMMITTEE_MEMBER,
                Role.GROUP_LEADER]
# How a member can be reached: bound to Telegram, bound but blocked the bot (unreachable), never bound, or
# bound and since transferred out (still in the database, no longer in the roster the plan reads).
REACH = ["bound", "bound", "bound", "unreachable", "unbound", "transferred"]
PER_MEMBER = {"political_birthday", "probation_conversion", "activist_review"}


CATALOG = load_catalog(CONFIG)
CALENDAR = load_official_calendar(CONFIG / "holidays")


@st.composite
def rosters(draw) -> tuple[Roster, dict[str, str]]:
    """A 党委 over one to three branches with up to two 党小组 each; members of every category, with
    branch roles, seats on the 党委 and the dates that make per-member items fall in 2025; and how each
    member can be reached."""
    organizations = [Organization("D01", "机关党委", OrgType.COMMITTEE, elected_on=date(2022, 5, 10), term_years=3)]
    members: list[Member] = []
    reach: dict[str, str] = {}
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
            number = f"{b}{i:02d}"
            members.append(Member(
                member_no=number, name=f"党员{number}", org_code=code, category=category, group_code=group,
                joined_on=joined if category.is_party_member else None,
                full_member_on=date(joined.year + 1, 1, 1) if category is Category.FULL else None,
                activist_on=draw(st.dates(date(2022, 1, 1), date(2024, 12, 31))) if not category.is_party_member else None,
                roles=frozenset(roles) if category.is_party_member else frozenset(),
                upper_roles=frozenset(UpperRole("D01", r) for r in upper) if category.is_party_member else frozenset(),
                leading_cadre=draw(st.booleans()),
            ))
            reach[number] = draw(st.sampled_from(REACH))
    return Roster.of(organizations, members), reach


# --- the oracle: per-member items as the catalog describes them -------------------------------------------


def branch_secretaries(roster: Roster, branch: str) -> set[str]:
    """"The secretary": the branch's 书记; without one its 副书记; without one its 组织委员."""
    active = [m for m in roster.members if m.org_code == branch and m.is_active]
    for role in (Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER):
        found = {m.member_no for m in active if role in m.roles}
        if found:
            return found
    return set()


def branch_committee(roster: Roster, branch: str) -> set[str]:
    """Everyone with a committee role (not 党小组长) in the branch."""
    return {m.member_no for m in roster.members if m.org_code == branch and m.is_active
            and m.roles - {Role.GROUP_LEADER}}


def told_of_per_member_item(roster: Roster, obligation: str, branch: str, subject: str) -> dict[str, Part]:
    """Who hears of a per-member item and as what (shared/reference/obligations.md)."""
    if obligation == "political_birthday":  # the member is greeted; the secretary runs the 五个一
        told = {no: Part.SECRETARY for no in branch_secretaries(roster, branch)}
        return told | {subject: Part.SUBJECT}
    if obligation == "probation_conversion":  # the branch committee acts; the member is only its subject
        return {no: Part.COMMITTEE for no in branch_committee(roster, branch)}
    assert obligation == "activist_review"  # the secretary (and contacts, not in the roster); never the activist
    return {no: Part.SECRETARY for no in branch_secretaries(roster, branch)}


def month_start_lead(starts_at: datetime) -> int:
    """The 政治生日 notice goes to the secretary at 09:00 on the 1st of the month."""
    local = starts_at.astimezone(SHANGHAI)
    first = datetime.combine(local.date().replace(day=1), time(9), tzinfo=SHANGHAI)
    return int((local - first) / timedelta(minutes=1))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(generated=rosters())
def test_reminders_plan_ledger_and_chat_name_the_same_people(session_factory, generated):
    roster, reach = generated
    # A session of its own per example, rolled back: nothing of one roster is left for the next.
    with session_factory() as session:
        session.begin()
        try:
            check_one_roster(session, roster, reach)
        finally:
            session.rollback()


def check_one_roster(session, imported: Roster, reach: dict[str, str]) -> None:
    import_roster(session, imported, now=BEFORE_THE_YEAR)
    stored = {m.member_no: m for m in session.scalars(select(models.Member))}
    numbers = {m.id: no for no, m in stored.items()}
    for offset, (no, how) in enumerate(sorted(reach.items())):
        if how != "unbound":
            session.add(models.TelegramBinding(member_id=stored[no].id, telegram_user_id=900000 + offset,
                                               private_chat_id=900000 + offset))
        if how == "unreachable":
            stored[no].unreachable_since = BEFORE_THE_YEAR
        if how == "transferred":
            stored[no].status = MemberStatus.TRANSFERRED_OUT.value
    session.flush()
    roster = load_roster(session)  # what the runtime plans from
    occurrences = build_plan(CATALOG, roster, CALENDAR, 2025, SHANGHAI)
    activity_repo.upsert_occurrences(session, occurrences)
    reachable = {no for no, how in reach.items() if how == "bound"}
    activities = {a.occurrence_key: a for a in session.scalars(select(models.Activity))}
    enqueue_reminders(session, list(activities.values()), now=BEFORE_THE_YEAR, policy=ReminderPolicy(zone=SHANGHAI))
    queued: dict[tuple[int, str], set[int]] = {}
    for activity_id, member_id, lead in session.execute(select(
            models.OutboxMessage.activity_id, models.OutboxMessage.member_id, models.OutboxMessage.lead_minutes)):
        queued.setdefault((activity_id, numbers[member_id]), set()).add(lead)
    ledger = reports.load_ledger(session, "D01", year_period(2025), SHANGHAI)
    records = {record.occurrence_key: record for record in ledger.activities}
    tree = OrgTree.load(session)
    chat = StoredAudience(session, tree)
    actors = {no: actor_from_member(m) for no, m in stored.items() if m.status == MemberStatus.ACTIVE.value}
    per_member_seen = 0
    for occurrence in occurrences:
        activity = activities[occurrence.key]
        parts = {member.member_no: part for member, part in audience_of(occurrence, roster)}
        planned = set(parts)
        # The ledger's 应到.
        expected = {ledger.members[mid].member_no for mid in ledger.expected_ids(records[occurrence.key])}
        assert planned == expected, occurrence.key
        # Chat's answer to "is this for me" (check-in, /upcoming, buttons) for every active member.
        assert {no for no, actor in actors.items() if chat.includes(actor, activity)} == planned, occurrence.key
        # The reminders: each reachable member of the audience, at the leads of their part.
        target = target_of(occurrence)
        leads = tuple(int(lead / timedelta(minutes=1)) for lead in occurrence.reminder_leads)
        wanted = {no: set(reminder_leads(target, part, leads)) for no, part in parts.items()}
        assert {no for (aid, no) in queued if aid == activity.id} == {
            no for no in planned & reachable if wanted[no]}, occurrence.key
        for no in planned & reachable:
            got = queued.get((activity.id, no), set())
            # Quiet hours may fold two leads into one moment; the shortest lead is always the one kept.
            assert got <= wanted[no] and (not wanted[no] or min(wanted[no]) in got), (occurrence.key, no)
        if occurrence.obligation in PER_MEMBER:
            per_member_seen += 1
            subject = occurrence.member_no
            assert subject is not None and activity.member_id == stored[subject].id, occurrence.key
            assert parts == told_of_per_member_item(roster, occurrence.obligation, occurrence.org_code, subject), (
                occurrence.key)
            if occurrence.obligation == "political_birthday":
                if subject in reachable:
                    assert queued[(activity.id, subject)] == {0}, occurrence.key  # greeted on the day
                for no in planned & reachable - {subject}:
                    assert queued[(activity.id, no)] == {month_start_lead(occurrence.starts_at)}, occurrence.key
    if any(m.category is not Category.ACTIVIST and m.is_active for m in roster.members):
        assert per_member_seen, "a roster with an active party member has a 政治生日 in 2025"
