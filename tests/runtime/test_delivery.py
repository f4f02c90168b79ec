"""Delivery rules the dispatcher asks before sending: a change notice still worth telling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.runtime.quiet_hours import NO_QUIET_HOURS, deliverable_at
from storage import models
from storage.repositories import outbox
from storage.services import delivery, scheduling
from tests.runtime.factories import SHANGHAI, add_reminder, at, make_activity, make_branch, members_of, rendered

NOW = at("2025-03-12 10:00")


def deliver_at(due, starts, zone):  # noqa: ANN001, ANN201
    return deliverable_at(due, starts, zone, NO_QUIET_HOURS)


@pytest.mark.parametrize(("moves", "delivered", "reason"), [
    pytest.param(["2025-03-16 09:00"], ["📢 通知：「主题党日」由 3月15日 09:00 改为 3月16日 09:00。"], None,
                 id="moved-once-is-told"),
    pytest.param(["2025-03-16 09:00", "2025-03-17 09:00"],
                 ["📢 通知：「主题党日」由 3月15日 09:00 改为 3月17日 09:00。"], None,
                 id="moved-twice-one-notice-from-what-was-heard"),
    pytest.param(["2025-03-16 09:00", "2025-03-15 09:00"], [], "moved back to what the member last heard",
                 id="moved-and-back-again-nothing-to-tell"),
])
def test_a_change_notice_tells_what_changed_since_the_member_last_heard(session, moves, delivered, reason):
    org = make_branch(session, members=1)
    activity = make_activity(session, org, at("2025-03-15 09:00"))
    member = members_of(session, org)[0]
    add_reminder(session, activity.id, member.id, 4320, NOW - timedelta(days=1), state="sent")
    for moment in moves:
        before = activity.starts_at
        activity.starts_at = at(moment)
        scheduling.tell_reminded(session, activity, scheduling.MOVE, before, NOW, SHANGHAI)
    claimed = outbox.claim_due(session, now=NOW, worker="w", limit=10)
    checked = delivery.check_claimed(session, claimed, NOW, zone=SHANGHAI, deliver_at=deliver_at, worker="w",
                                     watch=delivery.Watch(since=NOW))
    rows = {row.id: row for row in session.scalars(select(models.OutboxMessage))}
    assert [rendered(session, rows[item.message.id]) for item in checked.deliver] == delivered
    skipped = [row.last_error for row in rows.values() if row.state == "skipped" and row.kind == "change_notice"
               and row.last_error != "superseded by a later change"]
    assert skipped == ([reason] if reason else [])
