"""storage.services.permissions over seats: which organisation /schedule and a sent plan are for, one rule
read two ways (a branch's runner gets the same branch from both)."""

from __future__ import annotations

import pytest

from schedules.roles import Role, Seat
from storage.errors import PermissionDenied
from storage.services.actors import Actor, OrgTree
from storage.services.permissions import proposal_org, schedulable_org

TREE = OrgTree([
    (1, None, "党委", "D01", "机关党委"),
    (2, 1, "党支部", "B01", "第一党支部"),
    (3, 2, "党小组", "B01G1", "第一党小组"),
    (4, 1, "党支部", "B02", "第二党支部"),
    (5, None, "党总支", "Z01", "党总支"),
])
REFUSED = None


def actor(*seats: Seat[int]) -> Actor:
    return Actor(member_id=1, member_no="P001", name="王书记", org_id=2, group_id=3, category="正式党员",
                 leading_cadre=False, seats=frozenset(seats))


def outcome(rule, who: Actor) -> str | None:  # noqa: ANN001
    try:
        return TREE.code[rule(who, TREE)]
    except PermissionDenied:
        return REFUSED


@pytest.mark.parametrize(("seats", "schedules_for", "plan_for"), [
    pytest.param([Seat(2, Role.SECRETARY)], "B01", "B01", id="branch-secretary"),
    pytest.param([Seat(4, Role.DEPUTY_SECRETARY), Seat(2, Role.ORGANIZATION_MEMBER)], "B01", "B01",
                 id="runs-two-branches-the-first"),
    pytest.param([Seat(3, Role.GROUP_LEADER), Seat(4, Role.SECRETARY)], "B02", "B02", id="a-branch-before-a-group"),
    pytest.param([Seat(3, Role.GROUP_LEADER)], "B01G1", REFUSED, id="group-leader-schedules-no-plan"),
    pytest.param([Seat(1, Role.COMMITTEE_MEMBER, True)], REFUSED, "D01", id="upper-committee-member"),
    pytest.param([Seat(5, Role.SECRETARY, True), Seat(1, Role.COMMITTEE_MEMBER, True)], REFUSED, "D01",
                 id="two-upper-seats-the-first"),
    pytest.param([Seat(2, Role.SECRETARY), Seat(1, Role.COMMITTEE_MEMBER, True)], "B01", "B01",
                 id="secretary-and-upper-seat-the-branch"),
    pytest.param([Seat(3, Role.GROUP_LEADER), Seat(1, Role.COMMITTEE_MEMBER, True)], "B01G1", "D01",
                 id="group-leader-and-upper-seat"),
    pytest.param([Seat(2, Role.PROPAGANDA_MEMBER)], REFUSED, REFUSED, id="branch-committee-member"),
    pytest.param([], REFUSED, REFUSED, id="plain-member"),
])
def test_which_organisation_schedule_and_a_plan_are_for(seats, schedules_for, plan_for):
    who = actor(*seats)
    assert (outcome(schedulable_org, who), outcome(proposal_org, who)) == (schedules_for, plan_for)
    if schedules_for is not None and TREE.is_branch(TREE.id_by_code[schedules_for]):
        assert plan_for == schedules_for  # whoever runs a branch plans for the branch they schedule for
