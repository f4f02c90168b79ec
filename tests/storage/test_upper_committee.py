"""Who holds a seat on an upper committee, one look-up (`members.upper_committee_ids`) for the calendar's notice,
the escalation of an unconfirmed meeting or an overdue 整改 item (`followup.committee_above`), and the 整改
notices to the committee that raised an item; on both databases."""

from __future__ import annotations

import pytest

from storage import models
from storage.repositories import members as member_repo
from storage.services.actors import OrgTree
from storage.services.calendar_changes import notice_recipients
from storage.services.followup import committee_above
from tests.chat.world import build_world


@pytest.fixture
def world(session):
    world = build_world(session)
    # P201 sits on D01's committee (the shared world); P005 on X01's; P006 held a D01 seat and was transferred out;
    # P002 holds a seat in D01 not marked upper (a branch seat never counts as the upper committee).
    session.add_all([
        models.MemberRole(member_id=world.members["offline"], org_id=world.orgs["X01"], role="委员", upper=True),
        models.MemberRole(member_id=world.members["activist"], org_id=world.orgs["D01"], role="书记", upper=True),
        models.MemberRole(member_id=world.members["deputy"], org_id=world.orgs["D01"], role="委员", upper=False),
    ])
    session.get(models.Member, world.members["activist"]).status = "transferred_out"
    session.flush()
    return world


def numbers(session, ids) -> list[str]:  # noqa: ANN001
    return sorted(session.get(models.Member, i).member_no for i in ids)


@pytest.mark.parametrize(("org", "committee", "above", "escalates_to"), [
    pytest.param("D01", ["P201"], [], None, id="party-committee"),
    pytest.param("B01", [], ["P201"], "D01", id="branch-escalates-to-its-committee"),
    pytest.param("B01G1", [], ["P201"], "D01", id="group-skips-its-branch"),
    pytest.param("B02", [], ["P201"], "D01", id="another-branch-same-committee"),
    pytest.param("X01", ["P005"], [], None, id="other-party-committee"),
    pytest.param("X01B", [], ["P005"], "X01", id="other-branch"),
])
def test_upper_committee_of_each_organisation(session, world, org, committee, above, escalates_to):
    tree = OrgTree.load(session)
    org_id = world.orgs[org]
    assert numbers(session, member_repo.upper_committee_ids(session, [org_id])) == committee
    assert numbers(session, committee_above(session, org_id, tree)) == above
    # The escalation asks the calendar notice's look-up, of the organisation the table names (the same ids).
    assert committee_above(session, org_id, tree) == (
        member_repo.upper_committee_ids(session, [world.orgs[escalates_to]]) if escalates_to else [])


def test_the_calendar_notice_goes_to_secretaries_and_every_upper_committee(session, world):
    recipients = notice_recipients(session)
    everywhere = member_repo.upper_committee_ids(session, world.orgs.values())
    assert numbers(session, everywhere) == ["P005", "P201"]
    assert set(everywhere) <= set(recipients)
    assert numbers(session, recipients) == ["P001", "P005", "P101", "P201"]
