"""The audience rule, one row per catalog key, and the roles it rests on (pure: a roster in, people out)."""

from __future__ import annotations

from pathlib import Path

import pytest

from schedules import roles
from schedules.audience import Audience, Part, RosterAudience, Target, UnknownAudience
from bot.deployment import load_catalog
from schedules.roles import Role, seats_of_member
from schedules.roster import Category, Member, Organization, OrgType, Roster, UpperRole

CONFIG = Path(__file__).resolve().parents[2] / "config"
F, P, A = Category.FULL, Category.PROBATIONARY, Category.ACTIVIST

ROSTER = Roster.of(
    [
        Organization("D01", "机关党委", OrgType.COMMITTEE),
        Organization("B01", "第一党支部", OrgType.BRANCH, "D01"),
        Organization("G1", "第一党小组", OrgType.GROUP, "B01"),
        Organization("B02", "第二党支部", OrgType.BRANCH, "D01"),
    ],
    [
        Member("sec", "书记甲", "B01", F, roles=frozenset({Role.SECRETARY})),
        Member("dep", "副书记乙", "B01", F, roles=frozenset({Role.DEPUTY_SECRETARY})),
        Member("com", "委员丙", "B01", F, roles=frozenset({Role.COMMITTEE_MEMBER})),
        Member("lead", "组长丁", "B01", F, "G1", roles=frozenset({Role.GROUP_LEADER})),
        Member("full", "党员戊", "B01", F, "G1"),
        Member("prob", "预备己", "B01", P, "G1"),
        Member("act", "积极庚", "B01", A),
        Member("cadre", "干部辛", "B01", F, leading_cadre=True),
        Member("dsec", "党委书记壬", "B02", F, upper_roles=frozenset({UpperRole("D01", Role.SECRETARY)})),
        Member("dcom", "党委委员癸", "B02", F, upper_roles=frozenset({UpperRole("D01", Role.COMMITTEE_MEMBER)})),
        Member("org2", "组织委员子", "B02", F, roles=frozenset({Role.ORGANIZATION_MEMBER})),
    ],
)
S, T, C, U = Part.SUBJECT, Part.ATTENDEE, Part.COMMITTEE, Part.SECRETARY
B01_MEMBERS = {"sec": T, "dep": T, "com": T, "lead": T, "full": T, "prob": T, "cadre": T}
D01_MEETING = {"dsec": T, "dcom": T, "cadre": T}

# (audience, organisation, subject) -> {member: part}; every catalog key has at least one row.
CASES = [
    ("all_members", "B01", None, B01_MEMBERS),
    ("all_members", "G1", None, {"lead": T, "full": T, "prob": T}),
    ("all_members", "D01", None, D01_MEETING),
    ("party_members", "B01", None, B01_MEMBERS),
    ("party_members", "B02", None, {"dsec": T, "dcom": T, "org2": T}),
    ("group_members", "G1", None, {"lead": T, "full": T, "prob": T}),
    ("committee_and_members", "B01", None, B01_MEMBERS),
    ("branch_committee", "B01", None, {"sec": C, "dep": C, "com": C}),
    ("branch_committee", "B01", "prob", {"sec": C, "dep": C, "com": C}),  # 转正: about 预备己, for the committee
    ("upper_committee", "D01", None, {"dsec": C, "dcom": C}),
    ("secretary", "B01", None, {"sec": U}),
    ("secretary", "B02", None, {"org2": U}),  # no 书记 or 副书记: the 组织委员 runs it
    ("secretary", "D01", None, {"dsec": U}),
    ("member", "B01", "full", {"full": S}),
    ("member_and_secretary", "B01", "full", {"full": S, "sec": U}),  # 政治生日: greeting and checklist
    ("member_and_secretary", "B01", "sec", {"sec": S}),
    ("secretary_and_contacts", "B01", "act", {"sec": U}),  # 积极分子考察: the activist is not told
    ("secretary_and_upper_committee", "B01", None, {"sec": U, "dsec": C, "dcom": C}),
    ("secretary_and_upper_committee", "D01", None, {"dsec": U}),
    ("branch_secretaries", "D01", None, {"sec": U, "org2": U, "dsec": C, "dcom": C}),
    ("branches", "D01", None, {"sec": U, "org2": U, "dsec": C, "dcom": C}),
]


@pytest.mark.parametrize(("audience", "org", "subject", "expected"), [
    pytest.param(*case, id=f"{case[0]}-{case[1]}" + (f"-about-{case[2]}" if case[2] else "")) for case in CASES
])
def test_who_an_item_is_for_and_as_what(audience, org, subject, expected):
    found = RosterAudience(ROSTER).recipients(Target(Audience(audience), org, subject))
    assert {member.member_no: part for member, part in found} == expected


def test_every_catalog_audience_key_has_a_rule_and_a_case():
    catalog = load_catalog(CONFIG)
    used = {entry.audience for entry in catalog.obligations.values()}
    assert used <= {a.value for a in Audience}
    assert {case[0] for case in CASES} == {a.value for a in Audience}


@pytest.mark.parametrize(("key", "expected"), [
    pytest.param(None, Audience.ALL_MEMBERS, id="none-is-the-party-members"),
    pytest.param(" secretary ", Audience.SECRETARY, id="spaces"),
])
def test_stored_keys_are_read(key, expected):
    assert Audience.of(key) is expected


@pytest.mark.parametrize("key", ["committee", "everyone", "all"])
def test_a_key_the_catalog_lacks_is_refused_never_read_as_everyone(key):
    with pytest.raises(UnknownAudience, match="未知的参加对象"):
        Audience.of(key)


def holders(*numbers: str):
    by_no = {m.member_no: m for m in ROSTER.members}
    return [(no, seats_of_member(by_no[no])) for no in numbers]


@pytest.mark.parametrize(("org", "people", "expected"), [
    pytest.param("B01", ("sec", "dep", "com"), ["sec"], id="the-secretary-first"),
    pytest.param("B01", ("dep", "com"), ["dep"], id="then-the-deputy"),
    pytest.param("B02", ("org2", "dsec"), ["org2"], id="then-the-organisation-member"),
    pytest.param("B01", ("com", "lead"), [], id="committee-members-and-group-leaders-do-not-run-it"),
    pytest.param("D01", ("dsec", "dcom"), ["dsec"], id="an-upper-seat"),
])
def test_the_secretary_of_an_organisation(org, people, expected):
    assert roles.secretaries(holders(*people), org) == expected


@pytest.mark.parametrize(("org", "asking", "expected"), [
    pytest.param("B01", "full", ["dep", "sec"], id="a-member-asks-the-branch-runners"),
    pytest.param("B01", "sec", ["dep"], id="the-secretary-asks-his-deputy"),
    pytest.param("G1", "full", ["dep", "lead", "sec"], id="a-group-asks-its-leader-and-the-branch"),
])
def test_who_decides_a_leave_request(org, asking, expected):
    people = holders("sec", "dep", "com", "lead", "full", "dsec", "dcom")
    branch = "B01" if org == "G1" else None
    assert roles.deciders(people, org, branch=branch, upper="D01", excluding=asking) == expected


def test_a_secretary_without_a_deputy_asks_the_organisation_above():
    assert roles.deciders(holders("sec", "com", "dsec", "dcom"), "B01", upper="D01", excluding="sec") == ["dsec"]
