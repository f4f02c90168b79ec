"""Report rows: organisations, members, seats and activities with their marks for an organisation subtree.

Rows and typed records only; who is expected where (the audience rule over the tree) is composed by
`storage.services.reports`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from schedules import roles
from schedules.completion import DEFAULT_REQUIREMENTS, ActivityFact, Period, Requirement, Unit, UnitKind
from schedules.roles import Seat as RoleSeat
from schedules.roster import OrgType
from storage import models

BRANCH_TYPE = OrgType.BRANCH.value
GROUP_TYPE = OrgType.GROUP.value


class UnknownOrganizationError(LookupError):
    def __init__(self, code: str) -> None:
        super().__init__(f"没有编码为 {code} 的组织")
        self.code = code


class UnknownMemberError(LookupError):
    def __init__(self, member_no: str) -> None:
        super().__init__(f"没有编号为 {member_no} 的党员")
        self.member_no = member_no


@dataclass(frozen=True, slots=True)
class OrgRef:
    id: int
    code: str
    name: str
    type: str
    parent_id: int | None
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class MemberRef:
    id: int
    member_no: str
    name: str
    org_id: int
    group_id: int | None
    category: str
    leading_cadre: bool
    status: str


@dataclass(frozen=True, slots=True)
class Mark:
    """One member's recorded answer for one activity."""

    member_id: int
    status: str  # storage.models.AttendanceStatus value
    leave_reason: str | None = None
    via: str | None = None


@dataclass(frozen=True)
class ActivityRecord:
    id: int
    occurrence_key: str
    org_id: int
    obligation: str | None
    kind: str
    title: str
    starts_at: datetime
    ends_at: datetime | None
    place: str | None
    audience: str
    status: str
    member_id: int | None
    confirmed_at: datetime | None
    topic: str | None
    lecturer: str | None
    recorder: str | None
    minutes: str | None
    marks: tuple[Mark, ...] = ()

    @property
    def is_meeting(self) -> bool:
        return self.kind == models.ActivityKind.MEETING.value

    @property
    def is_held(self) -> bool:
        return self.status == models.ActivityStatus.HELD.value


@dataclass(frozen=True)
class CompletionInputs:
    """What `schedules.completion.evaluate_completion` needs for one organisation subtree."""

    root: OrgRef
    units: tuple[Unit, ...]
    facts: tuple[ActivityFact, ...]
    records_from: dict[str, date] = field(default_factory=dict)  # branch code → the first day it has any record


# ------------------------------------------------------------------------------------------------
# Queries


def find_organization(session: Session, code: str) -> OrgRef:
    row = session.execute(_org_columns().where(models.Organization.code == code)).one_or_none()
    if row is None:
        raise UnknownOrganizationError(code)
    return OrgRef(*row)


def _org_columns() -> Select:
    o = models.Organization
    return select(o.id, o.code, o.name, o.type, o.parent_id, o.timezone)


def _subtree_ids(root_id: int):
    """A recursive CTE of the ids of `root_id` and every organisation below it (SQLite and PostgreSQL)."""
    o = models.Organization
    tree = select(o.id).where(o.id == root_id).cte("subtree", recursive=True)
    child = aliased(o)
    return tree.union_all(select(child.id).where(child.parent_id == tree.c.id))


def _subtree_orgs(session: Session, root_id: int) -> list[OrgRef]:
    """`root_id` and every organisation below it."""
    ids = _subtree_ids(root_id)
    return [OrgRef(*row) for row in session.execute(_org_columns().where(models.Organization.id.in_(select(ids.c.id))))]


def org_zone(org: OrgRef, default: ZoneInfo) -> ZoneInfo:
    """The organisation's own zone when it has one, else the deployment's."""
    return ZoneInfo(org.timezone) if org.timezone else default


def _activity_columns() -> Select:
    a = models.Activity
    return select(
        a.id, a.occurrence_key, a.org_id, a.obligation, a.kind, a.title, a.starts_at, a.ends_at, a.place,
        a.audience, a.status, a.member_id, a.confirmed_at, a.topic, a.lecturer, a.recorder, a.minutes,
    )


def _load_marks(session: Session, activity_filter) -> dict[int, list[Mark]]:  # noqa: ANN001
    at = models.Attendance
    a = models.Activity
    marks: dict[int, list[Mark]] = defaultdict(list)
    query = (
        select(at.activity_id, at.member_id, at.status, at.leave_reason, at.via)
        .join(a, a.id == at.activity_id)
        .where(activity_filter)
    )
    for activity_id, member_id, status, reason, via in session.execute(query):
        marks[activity_id].append(Mark(member_id, status, reason, via))
    return marks


def _seats_in(session: Session, org_ids: Sequence[int]) -> dict[int, frozenset[RoleSeat[int]]]:
    """The seats held in `org_ids`, by member id (a member without one is absent)."""
    r = models.MemberRole
    seat_rows: dict[int, list[tuple[int, str, bool]]] = defaultdict(list)
    for member_id, org_id, role, upper in session.execute(
            select(r.member_id, r.org_id, r.role, r.upper).where(r.org_id.in_(org_ids))):
        seat_rows[member_id].append((org_id, role, upper))
    return {member_id: roles.parse_seats(rows) for member_id, rows in seat_rows.items()}


def _load_members(session: Session, org_ids: Sequence[int], extra_ids: Iterable[int], seat_ids: Iterable[int]) -> dict[int, MemberRef]:
    m = models.Member
    columns = select(m.id, m.member_no, m.name, m.org_id, m.group_id, m.category, m.leading_cadre, m.status)
    members = {
        row[0]: MemberRef(*row)
        for row in session.execute(
            columns.where(m.status == "active", or_(m.org_id.in_(org_ids), m.group_id.in_(org_ids)))
        )
    }
    # Members outside the subtree who still appear: upper-committee seats (双重组织生活) and anyone who
    # answered an activity here and has since been transferred.
    missing = sorted(set(extra_ids).union(seat_ids) - members.keys())
    for start in range(0, len(missing), 500):
        for row in session.execute(columns.where(m.id.in_(missing[start : start + 500]))):
            members[row[0]] = MemberRef(*row)
    return members


@dataclass(frozen=True)
class LedgerRows:
    """What a ledger is made of, as stored: the organisations, the members who appear, their seats in
    them and the activities with their marks."""

    root: OrgRef
    orgs: dict[int, OrgRef]
    members: dict[int, MemberRef]
    seats: Mapping[int, frozenset[RoleSeat[int]]]  # member id -> seats held in these organisations
    activities: tuple[ActivityRecord, ...]


def ledger_rows(session: Session, org_code: str, window: Period, zone: ZoneInfo, *,
                include_subtree: bool = True) -> LedgerRows:
    """The rows of `org_code`'s ledger (by default with every organisation below it) for `window`."""
    root = find_organization(session, org_code)
    if include_subtree:
        orgs = _subtree_orgs(session, root.id)
    else:
        # The organisation and its 党小组, which hold meetings on its behalf.
        o = models.Organization
        orgs = [OrgRef(*row) for row in session.execute(
            _org_columns().where(or_(o.id == root.id, and_(o.parent_id == root.id, o.type == GROUP_TYPE)))
        )]
    org_ids = [org.id for org in orgs]
    start, end = window.bounds(zone)
    a = models.Activity
    in_scope = and_(a.org_id.in_(org_ids), a.starts_at >= start, a.starts_at < end)
    marks = _load_marks(session, in_scope)
    activities = tuple(
        ActivityRecord(*row, marks=tuple(marks.get(row[0], ())))
        for row in session.execute(_activity_columns().where(in_scope).order_by(a.starts_at, a.id))
    )
    seats = _seats_in(session, org_ids)
    answered = {mark.member_id for activity in activities for mark in activity.marks}
    members = _load_members(session, org_ids, answered, seats)
    return LedgerRows(root, {org.id: org for org in orgs}, members, seats, activities)


def activity_ledger_rows(session: Session, activity_id: int, zone: ZoneInfo) -> tuple[LedgerRows, ActivityRecord, Period]:
    """The rows of one activity's ledger (its organisation and everything below it, that activity only)
    and the day it falls on in `zone`; LookupError for an unknown activity."""
    a = models.Activity
    row = session.execute(_activity_columns().where(a.id == activity_id)).one_or_none()
    if row is None:
        raise LookupError(activity_id)
    marks = _load_marks(session, a.id == activity_id)
    record = ActivityRecord(*row, marks=tuple(marks.get(activity_id, ())))
    orgs = _subtree_orgs(session, record.org_id)
    org_ids = [org.id for org in orgs]
    root = next(org for org in orgs if org.id == record.org_id)
    # The seats of the organisation above too: its committee is expected at some of this one's activities
    # (secretary_and_upper_committee), wherever its members belong, as their reminders and the committee's own
    # ledger say.
    seats = _seats_in(session, [*org_ids, root.parent_id] if root.parent_id is not None else org_ids)
    extra = {mark.member_id for mark in record.marks} | ({record.member_id} if record.member_id else set())
    members = _load_members(session, org_ids, extra, seats)
    day = _aware(record.starts_at).astimezone(zone).date()
    found = LedgerRows(root, {org.id: org for org in orgs}, members, seats, (record,))
    return found, record, Period(day, day + timedelta(days=1), "")


def seat_rows_of_members(session: Session, member_ids: Iterable[int]) -> dict[int, list[tuple[int, str, bool]]]:
    """Every stored seat (organisation, role, upper) of these members, in one query."""
    r = models.MemberRole
    seats_of: dict[int, list[tuple[int, str, bool]]] = defaultdict(list)
    for member_id, org_id, role, upper in session.execute(
        select(r.member_id, r.org_id, r.role, r.upper).where(r.member_id.in_(list(member_ids) or [-1]))
    ):
        seats_of[member_id].append((org_id, role, upper))
    return seats_of


def shared_meetings(session: Session, org_ids: Iterable[int], start: datetime, end: datetime) -> list[ActivityRecord]:
    """These organisations' meetings (not per-member items, not cancelled) between `start` and `end`, with
    their marks, in time order."""
    a = models.Activity
    scope = and_(a.org_id.in_(sorted(org_ids)), a.member_id.is_(None), a.kind == models.ActivityKind.MEETING.value,
                 a.status != models.ActivityStatus.CANCELLED.value, a.starts_at >= start, a.starts_at < end)
    marks = _load_marks(session, scope)
    return [ActivityRecord(*row, marks=tuple(marks.get(row[0], ())))
            for row in session.execute(_activity_columns().where(scope).order_by(a.starts_at, a.id))]


def code_of_org(session: Session, org_id: int) -> str:
    o = models.Organization
    return session.execute(select(o.code).where(o.id == org_id)).scalar_one()


def load_completion_inputs(
    session: Session,
    org_code: str,
    window: Period,
    zone: ZoneInfo,
    *,
    requirements: Sequence[Requirement] = DEFAULT_REQUIREMENTS,
) -> CompletionInputs:
    """Branches and 党小组 under `org_code` as completion units, and their required activities in `window`."""
    root = find_organization(session, org_code)
    orgs = _subtree_orgs(session, root.id)
    by_id = {org.id: org for org in orgs}
    units = []
    for org in sorted(orgs, key=lambda o: o.code):
        if org.type == BRANCH_TYPE:
            units.append(Unit(org.code, org.name, UnitKind.BRANCH, org.code))
        elif org.type == GROUP_TYPE and org.parent_id in by_id:
            units.append(Unit(org.code, org.name, UnitKind.GROUP, by_id[org.parent_id].code))
    start, end = window.bounds(zone)
    a = models.Activity
    query = select(a.id, a.org_id, a.obligation, a.starts_at, a.status).where(
        a.org_id.in_(select(_subtree_ids(root.id).c.id)),  # the subquery, not thousands of bound ids
        a.starts_at >= start,
        a.starts_at < end,
        a.obligation.in_(sorted({r.obligation for r in (*requirements, *DEFAULT_REQUIREMENTS)})),
    )
    facts = tuple(
        ActivityFact(activity_id, by_id[org_id].code, obligation, starts_at, status)
        for activity_id, org_id, obligation, starts_at, status in session.execute(query)
    )
    # The first record of each branch (its groups' included), at any time: periods before it are 无记录.
    records_from: dict[str, date] = {}
    # One index seek per organisation (ix_activities_org_starts), not a scan of every year's activities.
    earliest = select(func.min(a.starts_at)).where(a.org_id == models.Organization.id).scalar_subquery()
    first = select(models.Organization.id, earliest).where(models.Organization.id.in_(list(by_id)))
    for org_id, starts_at in session.execute(first):
        if starts_at is None:
            continue
        org = by_id[org_id]
        branch = by_id[org.parent_id] if org.type == GROUP_TYPE and org.parent_id in by_id else org
        day = _aware(starts_at).astimezone(zone).date()
        if branch.code not in records_from or day < records_from[branch.code]:
            records_from[branch.code] = day
    return CompletionInputs(root=root, units=tuple(units), facts=facts, records_from=records_from)


def _aware(moment: datetime) -> datetime:
    """SQLite hands aggregates back without the column type's conversion: naive UTC, or ISO text."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


# ------------------------------------------------------------------------------------------------
# Calendars and permissions


def find_member(session: Session, member_no: str) -> MemberRef:
    """The member with this number, active or transferred out; UnknownMemberError otherwise."""
    m = models.Member
    row = session.execute(
        select(m.id, m.member_no, m.name, m.org_id, m.group_id, m.category, m.leading_cadre, m.status).where(
            m.member_no == member_no
        )
    ).one_or_none()
    if row is None:
        raise UnknownMemberError(member_no)
    return MemberRef(*row)


_LIVE = models.Activity.status != models.ActivityStatus.CANCELLED.value


def calendar_candidates(session: Session, org_ids: Iterable[int], member_id: int, start: datetime,
                        end: datetime) -> list[ActivityRecord]:
    """Activities between `start` and `end` of these organisations (not per-member items) and the member's
    own items, cancelled ones left out, in time order: whom each is for is the audience rule's to say."""
    a = models.Activity
    query = _activity_columns().where(
        or_(and_(a.org_id.in_(sorted(org_ids)), a.member_id.is_(None)), a.member_id == member_id),
        _LIVE,
        a.starts_at >= start,
        a.starts_at < end,
    )
    return [ActivityRecord(*row) for row in session.execute(query.order_by(a.starts_at, a.id))]


def org_calendar(session: Session, org_code: str, start: datetime, end: datetime) -> tuple[OrgRef, list[ActivityRecord]]:
    """The shared schedule of one organisation and its 党小组; members' personal items are left out."""
    org = find_organization(session, org_code)
    o = models.Organization
    a = models.Activity
    group_ids = select(o.id).where(o.parent_id == org.id, o.type == GROUP_TYPE)
    query = _activity_columns().where(
        or_(a.org_id == org.id, a.org_id.in_(group_ids)),
        a.member_id.is_(None),
        _LIVE,
        a.starts_at >= start,
        a.starts_at < end,
    )
    return org, [ActivityRecord(*row) for row in session.execute(query.order_by(a.starts_at, a.id))]


__all__ = [
    "ActivityRecord",
    "CompletionInputs",
    "LedgerRows",
    "Mark",
    "MemberRef",
    "OrgRef",
    "UnknownMemberError",
    "UnknownOrganizationError",
    "activity_ledger_rows",
    "calendar_candidates",
    "find_member",
    "find_organization",
    "ledger_rows",
    "load_completion_inputs",
    "org_calendar",
    "code_of_org",
    "org_zone",
    "organization_names",
    "seat_rows_of_members",
    "shared_meetings",
]


def organization_names(session: Session, org_ids: Iterable[int]) -> dict[int, str]:
    """Names by id, for labelling calendar entries."""
    ids = sorted(set(org_ids))
    if not ids:
        return {}
    o = models.Organization
    return {org_id: name for org_id, name in session.execute(select(o.id, o.name).where(o.id.in_(ids)))}
