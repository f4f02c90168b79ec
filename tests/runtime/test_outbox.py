"""The outbox on SQLite and PostgreSQL: enqueue once, claim once, mark, release, reclaim, downtime rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage import models
from storage.repositories import outbox
from storage.services.delivery import on_time_grace
from tests.runtime.factories import at, make_activity, make_branch, members_of


def reminder(activity, member, lead, due):
    return outbox.NewMessage.reminder(activity.id, member.id, lead, due, chat_id=1000 + member.id)


def states(session):
    session.expire_all()
    rows = session.scalars(select(models.OutboxMessage).order_by(models.OutboxMessage.id))
    return {(row.member_id, row.lead_minutes): row.state for row in rows}


def test_enqueue_is_idempotent(session):
    org = make_branch(session)
    activity = make_activity(session, org, at("2025-03-15 09:00"))
    member = members_of(session, org)[0]
    rows = [reminder(activity, member, lead, at("2025-03-14 09:00")) for lead in (1440, 60)]
    assert outbox.enqueue(session, rows) == 2
    assert outbox.enqueue(session, rows) == 0
    assert len(states(session)) == 2


def test_claim_takes_due_rows_most_urgent_first_and_only_once(session):
    org = make_branch(session)
    activity = make_activity(session, org, at("2025-03-15 09:00"))
    first, second, third = members_of(session, org)
    outbox.enqueue(session, [
        reminder(activity, first, 1440, at("2025-03-14 09:00")),
        reminder(activity, second, 60, at("2025-03-14 09:30")),
        reminder(activity, third, 60, at("2025-03-15 08:00")),  # not due yet
    ])
    claimed = outbox.claim_due(session, now=at("2025-03-14 10:00"), worker="w1", limit=10)
    assert [(m.member_id, m.lead_minutes) for m in claimed] == [(second.id, 60), (first.id, 1440)]
    assert outbox.claim_due(session, now=at("2025-03-14 10:00"), worker="w2", limit=10) == []


def test_mark_sent_records_message_ids_only_for_the_claiming_worker(session):
    org = make_branch(session, members=2)
    activity = make_activity(session, org, at("2025-03-15 09:00"))
    first, second = members_of(session, org)
    outbox.enqueue(session, [reminder(activity, m, 60, at("2025-03-14 09:00")) for m in (first, second)])
    claimed = outbox.claim_due(session, now=at("2025-03-14 10:00"), worker="w1", limit=10)
    assert outbox.mark_sent(session, [(claimed[0].id, 77)], now=at("2025-03-14 10:00"), worker="other") == 0
    assert outbox.mark_sent(session, [(m.id, 70 + i) for i, m in enumerate(claimed)],
                            now=at("2025-03-14 10:00"), worker="w1") == 2
    session.expire_all()
    ids = session.scalars(select(models.OutboxMessage.telegram_message_id).order_by(models.OutboxMessage.id)).all()
    assert sorted(ids) == [70, 71]


def test_release_and_retry_after(session):
    org = make_branch(session, members=1)
    activity = make_activity(session, org, at("2025-03-15 09:00"))
    outbox.enqueue(session, [reminder(activity, members_of(session, org)[0], 60, at("2025-03-14 09:00"))])
    [claimed] = outbox.claim_due(session, now=at("2025-03-14 10:00"), worker="w1", limit=10)
    outbox.release(session, [claimed.id], worker="w1", next_attempt_at=at("2025-03-14 10:05"), error="502",
                   count_attempt=True)
    assert outbox.claim_due(session, now=at("2025-03-14 10:04"), worker="w1", limit=10) == []
    [again] = outbox.claim_due(session, now=at("2025-03-14 10:05"), worker="w1", limit=10)
    assert again.attempts == 1


def test_reclaim_abandoned_returns_other_workers_rows_but_never_our_own(session):
    org = make_branch(session, members=2)
    activity = make_activity(session, org, at("2025-03-15 09:00"))
    first, second = members_of(session, org)
    outbox.enqueue(session, [reminder(activity, first, 60, at("2025-03-14 09:00"))])
    outbox.claim_due(session, now=at("2025-03-14 10:00"), worker="dead", limit=10)
    outbox.enqueue(session, [reminder(activity, second, 60, at("2025-03-14 09:00"))])
    outbox.claim_due(session, now=at("2025-03-14 10:00"), worker="me", limit=10)
    lease = timedelta(minutes=5)
    assert outbox.reclaim_abandoned(session, worker="me", now=at("2025-03-14 10:01"), lease=lease) == 0
    assert outbox.reclaim_abandoned(session, worker="me", now=at("2025-03-14 10:06"), lease=lease) == 1
    assert states(session) == {(first.id, 60): "pending", (second.id, 60): "claimed"}


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param("2025-03-13 09:00", {4320: "pending", 1440: "pending", 60: "pending"},
                     id="only-3d-due-nothing-missed"),
        pytest.param("2025-03-14 12:00", {4320: "missed", 1440: "pending", 60: "pending"},
                     id="3d-and-1d-due-send-1d-only"),
        pytest.param("2025-03-15 08:30", {4320: "missed", 1440: "missed", 60: "pending"},
                     id="all-due-before-start-send-1h-only"),
        pytest.param("2025-03-15 09:30", {4320: "missed", 1440: "missed", 60: "missed"},
                     id="activity-started-all-missed"),
    ],
)
def test_downtime_rule(session, now, expected):
    org = make_branch(session, members=1)
    activity = make_activity(session, org, at("2025-03-15 09:00"))
    member = members_of(session, org)[0]
    starts = activity.starts_at
    outbox.enqueue(session, [reminder(activity, member, lead, starts - timedelta(minutes=lead)) for lead in (4320, 1440, 60)])
    missed = outbox.resolve_overdue(session, now=at(now), grace=on_time_grace)
    assert {lead: state for (_, lead), state in states(session).items()} == expected
    assert sorted(m.lead_minutes for m in missed) == sorted(lead for lead, s in expected.items() if s == "missed")


def test_downtime_rule_skips_reminders_of_cancelled_activities_without_reporting_them(session):
    org = make_branch(session, members=1)
    activity = make_activity(session, org, at("2025-03-15 09:00"), status="cancelled")
    member = members_of(session, org)[0]
    outbox.enqueue(session, [reminder(activity, member, 60, at("2025-03-15 08:00"))])
    assert outbox.resolve_overdue(session, now=at("2025-03-15 08:10"), grace=on_time_grace) == []
    assert states(session) == {(member.id, 60): "skipped"}
