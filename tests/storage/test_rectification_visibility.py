"""Which 整改 items a member sees (/rectifications): the organisations `actors.visible_org_ids` lets them see,
and the items they own; on both databases."""

from __future__ import annotations

from datetime import datetime

import pytest

from storage import models
from storage.services import rectification as rect_svc
from storage.services.actors import actor_for_member_no
from tests.chat.world import SHANGHAI, add_rectification, build_world

NOW = datetime(2025, 3, 15, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def world(session):
    world = build_world(session)
    # A branch committee member who runs nothing, and a 党小组长.
    session.add(models.MemberRole(member_id=world.members["offline"], org_id=world.orgs["B01"], role="宣传委员", upper=False))
    session.add(models.MemberRole(member_id=world.members["bob"], org_id=world.orgs["B01G1"], role="党小组长", upper=False))
    session.flush()
    session.expire_all()
    add_rectification(session, world, by="secretary", org="B01", owners=["alice"], problem="B01的问题", now=NOW)
    add_rectification(session, world, by="secretary", org="B01", owners=["deputy"], problem="B01的另一问题", now=NOW)
    add_rectification(session, world, by="other_secretary", org="B02", owners=["other_member"], problem="B02的问题",
                      now=NOW)
    return world


B01_ITEMS = {"B01的问题", "B01的另一问题"}


@pytest.mark.parametrize(("member_no", "sees", "items"), [
    pytest.param("P001", {"B01"}, B01_ITEMS, id="branch-secretary-own-branch"),
    pytest.param("P002", {"B01"}, B01_ITEMS, id="deputy-own-branch"),
    pytest.param("P005", {"B01"}, B01_ITEMS, id="branch-committee-member-own-branch"),
    pytest.param("P003", {"B01"}, {"B01的问题"}, id="owner-their-item"),
    pytest.param("P004", set(), set(), id="group-leader-no-branch-items"),
    pytest.param("P101", {"B02"}, {"B02的问题"}, id="other-branch-secretary"),
    pytest.param("P102", {"B02"}, {"B02的问题"}, id="owner-in-another-branch"),
    pytest.param("P201", {"B01", "B02"}, B01_ITEMS | {"B02的问题"}, id="upper-committee-its-subtree"),
    pytest.param("P007", set(), set(), id="plain-member"),
])
def test_items_a_member_sees(session, world, member_no, sees, items):
    actor = actor_for_member_no(session, member_no)
    seen = rect_svc.visible_items(session, actor, include_closed=True)
    assert {item.org_code for item in seen} == sees
    # Item by item, as the table says: an owner sees the item they own, not the rest of their branch's.
    assert {item.problem for item in seen} == items
