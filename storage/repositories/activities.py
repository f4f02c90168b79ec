"""Activities for the runtime: upsert planned occurrences by key, ad-hoc and moved activities (no commits)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from schedules.recurrence import add_months
from storage import models
from storage.models import ActivityStatus
from storage.repositories.organizations import ids_by_code

PLAN_SOURCE = "plan"
ADHOC_SOURCE = "adhoc"
# A planned activity a secretary moved by hand; the plan no longer overwrites its time.
MOVED_SOURCE = "moved"


def lead_minutes_of(leads: Iterable[Any]) -> tuple[int, ...]:
    """Lead times as whole minutes, longest first: accepts timedeltas or minute counts."""
    minutes = set()
    for lead in leads or ():
        value = int(lead.total_seconds() // 60) if isinstance(lead, timedelta) else int(lead)
        if value >= 0:
            minutes.add(value)
    return tuple(sorted(minutes, reverse=True))


def encode_leads(minutes: Iterable[int]) -> str:
    return ",".join(str(m) for m in sorted(set(minutes), reverse=True))


def decode_leads(text: str | None) -> tuple[int, ...]:
    return tuple(sorted({int(part) for part in (text or "").split(",") if part.strip()}, reverse=True))


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _checkin_window(occurrence: Any) -> tuple[int | None, int | None]:
    """The occurrence's check-in window in minutes from its start (`schedules.plan.Occurrence.checkin`)."""
    checkin = getattr(occurrence, "checkin", None)
    if checkin is not None:
        return _minutes(checkin[0]), _minutes(checkin[1])
    opens, closes = getattr(occurrence, "checkin_opens_at", None), getattr(occurrence, "checkin_closes_at", None)
    start = occurrence.starts_at
    return (None if opens is None else _minutes(opens - start)), (None if closes is None else _minutes(closes - start))


@dataclass
class UpsertResult:
    created: list[int] = field(default_factory=list)
    moved: list[int] = field(default_factory=list)  # planned time changed: unsent reminders must be re-planned
    # id -> (start before, calendar before) of activities whose start changed: who was reminded must be told.
    rescheduled: dict[int, tuple[datetime, str]] = field(default_factory=dict)
    unchanged: int = 0
    skipped_unknown_org: int = 0


def upsert_occurrences(session: Session, occurrences: Iterable[Any]) -> UpsertResult:
    """Insert new occurrences and update planned ones by `occurrence_key`.

    Activities a person changed (moved by hand, ad hoc, held, cancelled) keep what the person said.
    """
    occurrences = list(occurrences)
    result = UpsertResult()
    if not occurrences:
        return result
    org_ids = ids_by_code(session)
    member_nos = {getattr(o, "member_no", None) for o in occurrences} - {None}
    member_ids = dict(session.execute(
        select(models.Member.member_no, models.Member.id).where(models.Member.member_no.in_(member_nos))
    ).all()) if member_nos else {}
    keys = [o.key for o in occurrences]
    existing: dict[str, models.Activity] = {}
    for start in range(0, len(keys), 500):
        for row in session.scalars(select(models.Activity).where(models.Activity.occurrence_key.in_(keys[start:start + 500]))):
            existing[row.occurrence_key] = row
    new_rows: list[models.Activity] = []
    checklists: list[tuple[models.Activity, tuple[str, ...]]] = []
    for occurrence in occurrences:
        org_id = org_ids.get(occurrence.org_code)
        if org_id is None:
            result.skipped_unknown_org += 1
            continue
        opens, closes = _checkin_window(occurrence)
        values = {
            "org_id": org_id,
            "obligation": occurrence.obligation,
            "kind": str(getattr(occurrence, "kind", None) or models.ActivityKind.MEETING),
            "title": occurrence.title,
            "starts_at": occurrence.starts_at,
            "ends_at": getattr(occurrence, "ends_at", None),
            "moved_from": getattr(occurrence, "moved_from", None),
            "audience": str(getattr(occurrence, "audience", None) or "all_members"),
            "member_id": member_ids.get(getattr(occurrence, "member_no", None)),
            "requires_confirmation": bool(getattr(occurrence, "requires_confirmation", True)),
            "checkin_opens_minutes": opens,
            "checkin_closes_minutes": closes,
            "reminder_leads": encode_leads(lead_minutes_of(getattr(occurrence, "reminder_leads", ()))),
            "calendar": str(getattr(occurrence, "calendar", None) or "official"),
            "tentative": bool(getattr(occurrence, "tentative", False)),
        }
        row = existing.get(occurrence.key)
        if row is None:
            row = models.Activity(occurrence_key=occurrence.key, source=PLAN_SOURCE,
                                  status=ActivityStatus.SCHEDULED.value, **values)
            session.add(row)
            existing[occurrence.key] = row
            new_rows.append(row)
            if getattr(occurrence, "checklist", ()):
                checklists.append((row, tuple(occurrence.checklist)))
            continue
        if row.source != PLAN_SOURCE or row.status != ActivityStatus.SCHEDULED.value:
            result.unchanged += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        if not changed:
            result.unchanged += 1
            continue
        moved = "starts_at" in changed or "reminder_leads" in changed
        if "starts_at" in changed:
            result.rescheduled[row.id] = (row.starts_at, row.calendar)
        for name, value in changed.items():
            if name != "starts_at":
                setattr(row, name, value)
        if "starts_at" in changed:
            reschedule(row, values["starts_at"], ends_at=values["ends_at"])
        if moved:
            result.moved.append(row.id)
        else:
            result.unchanged += 1
    session.flush()
    # The catalog's checklist (the 政治生日 "五个一") is the activity's from the start, so the secretary's notice
    # can list it and /tasks ticks the same items.
    session.add_all(models.ChecklistItem(activity_id=row.id, label=label, position=position)
                    for row, labels in checklists for position, label in enumerate(labels))
    if checklists:
        session.flush()
    result.created = [row.id for row in new_rows]
    return result


def add_activity(
    session: Session,
    *,
    org_id: int,
    title: str,
    starts_at: datetime,
    lead_minutes: Sequence[int],
    obligation: str | None = None,
    place: str | None = None,
    ends_at: datetime | None = None,
    kind: str = models.ActivityKind.MEETING.value,
    audience: str = "all_members",
) -> models.Activity:
    """A new ad-hoc activity (its own key, never touched by the plan)."""
    row = models.Activity(
        occurrence_key=f"adhoc:{uuid.uuid4().hex}",
        org_id=org_id, obligation=obligation, kind=kind, title=title, starts_at=starts_at, ends_at=ends_at,
        place=place, audience=audience, source=ADHOC_SOURCE, status=ActivityStatus.SCHEDULED.value,
        reminder_leads=encode_leads(lead_minutes),
    )
    session.add(row)
    session.flush()
    return row


def planned_in_same_month(
    session: Session, *, org_id: int, obligation: str, moment: datetime, zone: ZoneInfo
) -> models.Activity | None:
    """The still-scheduled planned activity of this obligation in the (local) month of `moment`."""
    local = moment.astimezone(zone)
    month_start = datetime(local.year, local.month, 1, tzinfo=zone)
    next_month = datetime.combine(add_months(month_start.date(), 1), time(0), tzinfo=zone)
    return session.scalars(
        select(models.Activity).where(
            models.Activity.org_id == org_id, models.Activity.obligation == obligation,
            models.Activity.status == ActivityStatus.SCHEDULED.value,
            models.Activity.source.in_([PLAN_SOURCE, MOVED_SOURCE]),
            models.Activity.member_id.is_(None),
            models.Activity.starts_at >= month_start, models.Activity.starts_at < next_month,
        ).order_by(models.Activity.starts_at).limit(1)
    ).first()


_KEEP = object()


def reschedule(activity: models.Activity, starts_at: datetime, *, ends_at: Any = _KEEP) -> None:
    """The one way an activity's time changes (by hand, or by the plan): everything that hangs on the time
    moves with it. The check-in window is stored relative to the start; the end keeps its duration unless
    `ends_at` is given; the follow-up state (the roll) starts afresh; the revision grows, so buttons and
    group posts made for the old time can tell."""
    if ends_at is _KEEP:
        ends_at = None if activity.ends_at is None else starts_at + (activity.ends_at - activity.starts_at)
    activity.ends_at = ends_at
    activity.starts_at = starts_at
    activity.summary_sent_at = None
    activity.revision = (activity.revision or 0) + 1


def move_activity(
    session: Session, activity: models.Activity, *, starts_at: datetime, lead_minutes: Sequence[int] | None,
    title: str | None = None, place: str | None = None, zone: ZoneInfo | None = None, ends_at: Any = _KEEP,
) -> models.Activity:
    """Reschedule a planned activity by hand; remembers the original date and stops the plan overriding it."""
    if activity.moved_from is None:
        original = activity.starts_at.astimezone(zone) if zone else activity.starts_at
        activity.moved_from = original.date()
    reschedule(activity, starts_at, ends_at=ends_at)
    activity.source = MOVED_SOURCE
    if lead_minutes is not None:
        activity.reminder_leads = encode_leads(lead_minutes)
    if title:
        activity.title = title
    if place:
        activity.place = place
    session.flush()
    return activity


def scheduled_between(
    session: Session, start: datetime, end: datetime, *, org_ids: Iterable[int] | None = None,
    obligation: str | None = None, activity_ids: Iterable[int] | None = None,
) -> list[models.Activity]:
    """Scheduled activities starting in [start, end), soonest first."""
    query = select(models.Activity).where(
        models.Activity.status == ActivityStatus.SCHEDULED.value,
        models.Activity.starts_at >= start, models.Activity.starts_at < end,
    )
    if org_ids is not None:
        query = query.where(models.Activity.org_id.in_(list(org_ids)))
    if obligation is not None:
        query = query.where(models.Activity.obligation == obligation)
    if activity_ids is not None:
        query = query.where(models.Activity.id.in_(list(activity_ids)))
    return list(session.scalars(query.order_by(models.Activity.starts_at, models.Activity.id)))


def org_zone(org: models.Organization, default: ZoneInfo) -> ZoneInfo:
    return ZoneInfo(org.timezone) if org.timezone else default

