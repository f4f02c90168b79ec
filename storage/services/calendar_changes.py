"""The holiday calendar meets the stored plan: say once that a year is provisional; follow its notice when it arrives."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from schedules.calendar import PROVISIONAL
from storage import models
from storage.outbox_kinds import OutboxKind
from storage.repositories import activities as activity_repo
from storage.repositories import members as member_repo
from storage.repositories import outbox
from storage.repositories.activities import UpsertResult
from storage.services import activity_changes

def notice_recipients(session: Session) -> list[int]:
    """Who hears about the calendar: every organisation's secretary (书记, failing that 副书记, 组织委员)
    and every member with a seat on an upper committee (党委、党总支委员)."""
    org_ids = list(session.scalars(select(models.Organization.id)))
    recipients = set(member_repo.upper_committee_ids(session, org_ids))
    for secretaries in member_repo.secretary_ids(session, org_ids).values():
        recipients.update(secretaries)
    return sorted(recipients)


def tell_provisional_years(session: Session, years: Iterable[int], *, now: datetime, reachable: Collection[int]) -> int:
    """One message per provisional year to each reachable secretary and committee member (idempotent:
    someone bound later is told on a later run; nobody twice)."""
    messages = []
    recipients = notice_recipients(session)
    for year in sorted(set(years)):
        for member_id in recipients:
            if member_id not in reachable:
                continue
            recipient = outbox.member_recipient(member_id)
            messages.append(outbox.NewMessage(
                dedup_key=f"{OutboxKind.CALENDAR_PROVISIONAL}:{year}:{recipient}", recipient=recipient, due_at=now,
                kind=OutboxKind.CALENDAR_PROVISIONAL, member_id=member_id, priority=60, payload={"year": year},
            ))
    return outbox.enqueue(session, messages)


@dataclass(frozen=True)
class Replanned:
    """A provisional activity the official arrangement moved (or removed, `after` None)."""

    activity_id: int
    org_id: int
    title: str
    before: datetime
    after: datetime | None


def move_with_notices(session: Session, activity: models.Activity, before: datetime, now: datetime,
                      zone: ZoneInfo) -> int:
    """The one call into the move use case: the plan already set the new time, unsent reminders are
    re-planned by the materialiser; the rest of a move (follow-ups, the group, the reminded) is the use case's."""
    return activity_changes.follow_plan_move(session, activity, before, now, zone)


def cancel_with_notices(session: Session, activity: models.Activity, now: datetime, zone: ZoneInfo) -> int:
    """A provisional occurrence the official arrangement no longer has (e.g. two holidays merged): cancelled
    by the shared use case, as the scheduler."""
    return activity_changes.cancel(session, activity_changes.PLAN_OPERATOR, activity.id, now=now, zone=zone,
                                  why="calendar").told


def follow_official_arrangement(
    session: Session, upserted: UpsertResult, orphans: Iterable[models.Activity], *, now: datetime, zone: ZoneInfo,
) -> list[Replanned]:
    """Provisional activities whose date the official arrangement changed: told like a reschedule; provisional
    ones it no longer plans: cancelled and told. Each secretary then gets one summary of what moved."""
    changes: list[Replanned] = []
    for activity_id, (before, calendar_before) in sorted(upserted.rescheduled.items()):
        if calendar_before != PROVISIONAL:
            continue
        activity = session.get(models.Activity, activity_id)
        if activity is None:
            continue
        move_with_notices(session, activity, before, now, zone)
        changes.append(Replanned(activity.id, activity.org_id, activity.title, before, activity.starts_at))
    for activity in orphans:
        before = activity.starts_at
        cancel_with_notices(session, activity, now, zone)
        changes.append(Replanned(activity.id, activity.org_id, activity.title, before, None))
    if changes:
        _summarise(session, changes, now, zone)
    return changes


def _summarise(session: Session, changes: list[Replanned], now: datetime, zone: ZoneInfo) -> int:
    by_recipient: dict[int, list[Replanned]] = defaultdict(list)
    secretaries = member_repo.secretary_ids(session, {change.org_id for change in changes})
    for change in changes:
        for secretary in secretaries.get(change.org_id, []):
            by_recipient[secretary].append(change)
    stamp = now.strftime("%Y%m%d%H%M%S")
    messages = []
    for member_id, items in sorted(by_recipient.items()):
        recipient = outbox.member_recipient(member_id)
        messages.append(outbox.NewMessage(
            dedup_key=f"{OutboxKind.CALENDAR_REPLANNED}:{stamp}:{recipient}", recipient=recipient, due_at=now,
            kind=OutboxKind.CALENDAR_REPLANNED, member_id=member_id, priority=20,
            # Facts only: titles, organisations and the activities' state now are read when it is sent.
            payload={"changes": [
                {"activity_id": c.activity_id, "before": c.before.isoformat(),
                 "after": c.after.isoformat() if c.after is not None else None}
                for c in sorted(items, key=lambda c: (c.before, c.activity_id))]},
        ))
    return outbox.enqueue(session, messages)


def provisional_orphans(session: Session, *, start: datetime, end: datetime, planned_keys: Collection[str],
                        org_ids: Collection[int] | None = None, obligation: str | None = None) -> list[models.Activity]:
    """Scheduled provisional plan activities in [start, end) whose key the plan no longer produces."""
    rows = activity_repo.scheduled_between(session, start, end, org_ids=org_ids, obligation=obligation)
    return [
        row for row in rows
        if row.source == activity_repo.PLAN_SOURCE and row.calendar == PROVISIONAL and row.occurrence_key not in planned_keys
    ]

