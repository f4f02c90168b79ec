"""What the audience rule reads, declared once, against the ledger that applies it.

`models.MEMBER_AUDIENCE_COLUMNS` says which member columns the audience rule reads: storage.changes notices a write
of exactly these (the cards counting that member refresh their 应到) and storage.roster_io.apply the roster fields
they come from. `reports.meeting_orgs_counting` says whose meetings may count a member of an organisation: the
ledger places its candidates with it and `attendance.cards_counting` reverses it. Here both are checked against
the 应到 itself (`AttendanceLedger.expected_ids`, the 党委's ledgers), over a world with an activity of every audience at every organisation:
a write of a listed column moves some 应到 and is noticed, a write of any other column moves none and is not; and
the organisations whose meetings count a member of X are exactly `meeting_orgs_counting(X)`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from schedules.audience import Audience
from schedules.completion import year_period
from storage import changes, models
from storage.db import transaction
from storage.roster_io.apply import AUDIENCE_FIELDS, MEMBER_FIELDS
from storage.services import reports
from storage.services.actors import OrgTree
from tests.chat.world import MEETING_START, World, add_activity, build_world

SHANGHAI = ZoneInfo("Asia/Shanghai")
LATER = datetime(2025, 3, 20, 8, tzinfo=SHANGHAI)
# Beyond build_world: a leading cadre in a 党小组 (counted at the 党委's meetings), and an outside 党委 with a
# committee member who is a leading cadre of its branch, so every organisation has members of every kind.
EXTRA_MEMBERS = {
    "group_cadre": ("P301", "冯干部", "B01", "B01G1", True, []),
    "outside_cadre": ("P401", "陈委员", "X01B", None, True, [("X01", "委员", True)]),
}


def _world(session) -> World:  # noqa: ANN001
    world = build_world(session)
    for key, (no, name, org, group, cadre, seats) in EXTRA_MEMBERS.items():
        member = models.Member(member_no=no, name=name, org_id=world.orgs[org],
                               group_id=world.orgs[group] if group else None, category="正式党员",
                               leading_cadre=cadre, joined_on=date(2019, 3, 20), full_member_on=date(2020, 3, 20))
        member.roles = [models.MemberRole(org_id=world.orgs[o], role=r, upper=u) for o, r, u in seats]
        session.add(member)
        session.flush()
        world.members[key] = member.id
    # Every audience at every organisation; a per-member item names no subject (a subject is counted wherever
    # its item is held, whichever organisation that is).
    for code in world.orgs:
        for n, audience in enumerate(a for a in Audience if a is not Audience.MEMBER):
            add_activity(session, world, f"seam:{code}:{audience.value}", code, f"会议{n}",
                         MEETING_START + timedelta(days=1 + n), audience=audience.value)
    session.flush()
    return world


def _expected(session, world: World) -> dict[str, frozenset[int]]:  # noqa: ANN001
    """应到 of each activity of every audience, from the ledgers of the two 党委 (every member loaded)."""
    key_of = {activity_id: key for key, activity_id in world.activities.items() if key.startswith("seam:")}
    found = {}
    for root in ("D01", "X01"):
        ledger = reports.load_ledger(session, root, year_period(2025), SHANGHAI)
        found.update({key_of[record.id]: frozenset(ledger.expected_ids(record))
                      for record in ledger.activities if record.id in key_of})
    assert set(found) == set(key_of.values())
    return found


# The write of each listed column that moves someone's 应到 (alice: B01, its 党小组 B01G1, a 正式党员).
LISTED = {
    "org_id": lambda world: world.orgs["B02"],
    "group_id": lambda world: None,
    "category": lambda world: "入党积极分子",
    "leading_cadre": lambda world: True,
    "status": lambda world: "transferred_out",
}
# Every other column of a member, written: nobody's 应到 moves.
UNLISTED = {
    "member_no": lambda world: "P999",
    "name": lambda world: "张三丰",
    "joined_on": lambda world: date(2001, 7, 1),
    "full_member_on": lambda world: date(2002, 7, 1),
    "activist_on": lambda world: date(2000, 1, 1),
    "telegram_username": lambda world: "zhangsan",
    "transferred_out_at": lambda world: LATER,
    "unreachable_since": lambda world: LATER,
    "created_at": lambda world: LATER,
    "updated_at": lambda world: LATER,
}


def test_every_member_column_is_either_read_by_the_audience_rule_or_not():
    columns = {column.name for column in models.Member.__table__.columns} - {"id"}
    assert set(LISTED) == set(models.MEMBER_AUDIENCE_COLUMNS)
    assert set(LISTED) | set(UNLISTED) == columns
    assert not set(LISTED) & set(UNLISTED)


def test_the_roster_fields_of_the_audience_are_the_listed_columns_and_the_seats():
    assert AUDIENCE_FIELDS <= set(MEMBER_FIELDS)
    assert AUDIENCE_FIELDS == {"org_code", "group_code", "category", "leading_cadre", "status", "roles",
                               "upper_roles"}


@pytest.mark.parametrize("column", [*LISTED, *UNLISTED])
def test_a_write_of_a_member_column_moves_some_expected_and_is_noticed_exactly_when_it_is_listed(
        session_factory, column):
    listed = column in models.MEMBER_AUDIENCE_COLUMNS
    with transaction(session_factory) as session:
        world = _world(session)
        before = _expected(session, world)
    with transaction(session_factory) as session:
        alice = session.get(models.Member, world.members["alice"])
        setattr(alice, column, (LISTED if listed else UNLISTED)[column](world))
        session.flush()
        noticed = changes.of(session).roster_orgs
        after = _expected(session, world)
    moved = sorted(key for key in before if before[key] != after[key])
    if listed:
        assert moved, f"writing {column} moved nobody's 应到: is it read by the audience rule?"
        assert noticed, f"writing {column} moved 应到 but storage.changes did not notice it"
    else:
        assert moved == [], f"writing {column} moved 应到 of {moved}: add it to MEMBER_AUDIENCE_COLUMNS"
        assert noticed == set()


def test_the_organisations_whose_meetings_count_a_member_are_meeting_orgs_counting_of_their_organisations(
        session_factory):
    """Each member is counted only at meetings of `meeting_orgs_counting` of an organisation they are placed at
    (their own, their group, a seat's: what storage.changes records of a roster change), so `cards_counting`
    misses no card; and each organisation it names for X does count some member of X (it names no spare one)."""
    with transaction(session_factory) as session:
        world = _world(session)
        expected = _expected(session, world)
        tree = OrgTree.load(session)
        org_of = {key: session.get(models.Activity, world.activities[key]).org_id for key in expected}
        placed: dict[int, set[int]] = {}
        for member in session.scalars(select(models.Member).where(models.Member.status == "active")):
            placed[member.id] = {member.org_id, member.group_id, *(seat.org_id for seat in member.roles)} - {None}
    for member_id, orgs in placed.items():
        counting = {org_of[key] for key, ids in expected.items() if member_id in ids}
        reached = {near for org in orgs for near in reports.meeting_orgs_counting(tree, org)}
        assert counting <= reached, member_id
    for code, org in world.orgs.items():
        members_of = {member_id for member_id, orgs in placed.items() if org in orgs}
        named = set(reports.meeting_orgs_counting(tree, org))
        assert {org_of[key] for key, ids in expected.items() if members_of & ids} >= named, code
