"""One activity's 应到 (the roll, the card's tally, 代签: `attendance.expected_ids` over the one-activity ledger)
is whom its reminders go to (`StoredAudience.members`) and the committee's ledger expects, for every audience at
every organisation of the chat world, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from schedules.audience import Audience
from storage import models
from storage.services import attendance
from storage.services.actors import OrgTree
from storage.services.audience import StoredAudience
from tests.chat.world import MEETING_START, add_activity, build_world

ORGS = ["D01", "B01", "B01G1", "B02"]
AUDIENCES = list(Audience)
# A per-member item names its subject, a member of the organisation.
SUBJECT = {"D01": "committee", "B01": "alice", "B01G1": "alice", "B02": "other_member"}


@pytest.mark.parametrize("org", ORGS)
@pytest.mark.parametrize("audience", AUDIENCES, ids=[a.value for a in AUDIENCES])
def test_one_activitys_expected_are_its_reminders_audience(session, org, audience):
    world = build_world(session)
    key = f"{audience.value}@{org}"
    fields = ({"member_id": world.members[SUBJECT[org]]}
              if audience in (Audience.MEMBER, Audience.MEMBER_AND_SECRETARY) else {})
    activity_id = add_activity(session, world, key, org, "测试活动", MEETING_START + timedelta(days=20),
                               audience=audience.value, **fields)
    activity = session.get(models.Activity, activity_id)
    reminded = sorted(member.id for member, _ in StoredAudience(session, OrgTree.load(session)).members(activity))
    assert sorted(attendance.expected_ids(session, activity)) == reminded
