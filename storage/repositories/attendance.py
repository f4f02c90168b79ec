"""Activities as the chat sees them, attendance rows and the counts behind rolls and reports (no commits)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from storage import changes, models
from storage.db import is_sqlite
from storage.direct import DirectStatement, KeyedRead
from storage.repositories import audit

# Statements on the check-in path (every press) are built once: building and cache-keying a statement
# costs more CPU than SQLite takes to run it. Values arrive as bound parameters.
_ACTIVITY_WITH_ORG = (select(models.Activity).where(models.Activity.id == bindparam("activity_id"))
                      .options(joinedload(models.Activity.org)))
_attendance = models.Attendance.__table__


@dataclass(frozen=True, slots=True)
class CheckinOrg:
    """The activity's organisation as a check-in reads it."""

    id: int
    parent_id: int | None
    type: str
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class CheckinActivity:
    """The columns of an activity a ✅ 签到 press reads (the rules take it where they take an entity)."""

    id: int
    org_id: int
    member_id: int | None
    title: str
    kind: str
    status: str
    audience: str
    starts_at: datetime
    ends_at: datetime | None
    place: str | None
    agenda: str | None
    obligation: str | None
    requires_confirmation: bool
    tentative: bool
    revision: int
    checkin_opens_minutes: int | None
    checkin_closes_minutes: int | None
    org: CheckinOrg


# A Core select of the table's columns, not ORM entities: no identity map or entity loading, 22 columns instead
# of the 53 of both entities, and psycopg describes only those (measured with bench/bench_checkin.py).
_activities, _orgs = models.Activity.__table__, models.Organization.__table__
_CHECKIN_ACTIVITY_COLUMNS = [_activities.c[name] for name in CheckinActivity.__dataclass_fields__ if name != "org"]
_CHECKIN_ACTIVITY = KeyedRead(
    select(*_CHECKIN_ACTIVITY_COLUMNS, _orgs.c.parent_id, _orgs.c.type, _orgs.c.code, _orgs.c.name)
    .join(_orgs, _orgs.c.id == _activities.c.org_id),
    {"activity_id": _activities.c.id},
)
_ORG_AT = len(_CHECKIN_ACTIVITY_COLUMNS)
_INSERT_ATTENDANCE_IF_ABSENT: dict[bool, DirectStatement] = {  # by is_sqlite
    # A Core INSERT on the table: the ORM's bulk-insert machinery adds nothing for one row.
    name: DirectStatement(dialect.insert(_attendance).on_conflict_do_nothing(index_elements=["activity_id", "member_id"])
                          .returning(_attendance.c.id))
    for name, dialect in ((False, postgresql), (True, sqlite))
}


def activity(session: Session, activity_id: int, *, for_update: bool = False) -> models.Activity | None:
    query = select(models.Activity).where(models.Activity.id == activity_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def activity_with_org(session: Session, activity_id: int) -> models.Activity | None:
    """The activity with its organisation in the same query."""
    return session.scalars(_ACTIVITY_WITH_ORG, {"activity_id": activity_id}).one_or_none()


def activity_for_checkin(session: Session, activity_id: int) -> CheckinActivity | None:
    """The activity with its organisation, as a plain row: what every ✅ 签到 press reads (answered from what
    `read_activities_ahead` read, where it read this one)."""
    row = _CHECKIN_ACTIVITY.first(session, {"activity_id": activity_id})
    if row is None:
        return None
    return CheckinActivity(*row[:_ORG_AT], org=CheckinOrg(row[1], *row[_ORG_AT:]))


def read_activities_ahead(session: Session, activity_ids: Iterable[int]) -> None:
    """`activity_for_checkin` of each id in one statement, answered once per id given (an id given three times,
    three times) later in this session."""
    _CHECKIN_ACTIVITY.read_ahead(session, [(activity_id,) for activity_id in activity_ids])


def attendance_row(session: Session, activity_id: int, member_id: int) -> models.Attendance | None:
    return session.scalars(select(models.Attendance).where(
        models.Attendance.activity_id == activity_id, models.Attendance.member_id == member_id
    )).one_or_none()


def attendance_by_member(session: Session, activity_id: int) -> dict[int, models.Attendance]:
    rows = session.scalars(select(models.Attendance).where(models.Attendance.activity_id == activity_id))
    return {row.member_id: row for row in rows}


def insert_attendance_if_absent(session: Session, **values: object) -> bool:
    """One INSERT that does nothing when the member already has a row for the activity; True if inserted.

    Two presses racing each other both reach this statement; the unique key lets exactly one win,
    without a savepoint or a read first.
    """
    inserted = _INSERT_ATTENDANCE_IF_ABSENT[is_sqlite(session)].first(session, values) is not None
    if inserted:
        changes.tally_changed(session, values["activity_id"])  # type: ignore[arg-type]
    return inserted


def status_counts(session: Session, activity_id: int) -> dict[str, int]:
    rows = session.execute(
        select(models.Attendance.status, func.count())
        .where(models.Attendance.activity_id == activity_id)
        .group_by(models.Attendance.status)
    ).all()
    return {status: count for status, count in rows}


def activities_between(
    session: Session, org_ids: Iterable[int], start: datetime, end: datetime, *,
    kinds: Iterable[str] | None = None, statuses: Iterable[str] | None = None, member_id: int | None = None,
) -> list[models.Activity]:
    """Activities of these organisations (or for this member) starting in [start, end), earliest first."""
    orgs = list(set(org_ids))
    condition = models.Activity.org_id.in_(orgs)
    if member_id is not None:
        condition = condition | (models.Activity.member_id == member_id)
    query = select(models.Activity).where(condition, models.Activity.starts_at >= start, models.Activity.starts_at < end)
    if kinds is not None:
        query = query.where(models.Activity.kind.in_(list(kinds)))
    if statuses is not None:
        query = query.where(models.Activity.status.in_(list(statuses)))
    return list(session.scalars(query.order_by(models.Activity.starts_at, models.Activity.id)))


def meeting_reach(session: Session, now: datetime, org_ids: Iterable[int], *,
                  member_id: int | None = None) -> tuple[int | None, datetime | None]:
    """Over the scheduled meetings of these organisations (or for this member, as `activities_between` reads
    them): the largest stored window close (minutes from the start; None: none has its own), and the earliest start
    among those whose own end is still to come at `now` (None: none). How far back a meeting still on or still
    answerable may have begun follows from them (`queries.listed_since`)."""
    a = models.Activity
    condition = a.org_id.in_(list(set(org_ids)))
    if member_id is not None:
        condition = condition | (a.member_id == member_id)
    # Through the organisations' index, in one pass over their rows: a bare min(starts_at) would walk the index
    # of starts from the oldest activity (SQLite), and the whole table costs 30-40 ms per 100,000 activities.
    row = session.execute(select(func.max(a.checkin_closes_minutes), func.min(case((a.ends_at > now, a.starts_at))))
                          .where(condition, a.kind == models.ActivityKind.MEETING.value,
                                 a.status == models.ActivityStatus.SCHEDULED.value)).one()
    return row[0], row[1]


def add_attachment(
    session: Session, *, activity_id: int, kind: str, telegram_file_id: str, caption: str | None,
    member_id: int, now: datetime,
) -> models.ActivityAttachment:
    row = models.ActivityAttachment(
        activity_id=activity_id, kind=kind, telegram_file_id=telegram_file_id, caption=caption,
        added_by_member_id=member_id, added_at=now,
    )
    session.add(row)
    session.flush()
    return row


def add_audit(
    session: Session, *, now: datetime, action: str, entity: str, entity_id: str | int | None,
    actor_member_id: int | None = None, actor_telegram_id: int | None = None, actor_label: str | None = None,
    details: dict | None = None,
) -> None:
    """One audit row: every write a person caused, every refused forged button (see `audit.record`)."""
    audit.record(
        session, action=action, entity=entity, at=now, entity_id=entity_id, details=details,
        actor_label=actor_label, actor_member_id=actor_member_id, actor_telegram_id=actor_telegram_id,
    )
