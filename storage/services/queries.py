"""Read-only questions members and committees ask: upcoming activities, my year, attendance and completion."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import models
from storage.models import ActivityKind, ActivityStatus, AttendanceStatus
from storage.repositories import attendance as attendance_repo
from storage.services.actors import Actor, OrgTree, actor_from_member, require_visible, visible_org_ids
from storage.services.audience import audience_members, in_audience
from storage.services.errors import InvalidInput, NotFound
from storage.services.views import (
    ActivityView,
    AttendanceReport,
    BranchCompletion,
    MemberAttendance,
    MemberYear,
    checkin_window,
)

# 三会一课: the meetings every branch owes; a quarter without one of them is a gap to report.
THREE_MEETINGS_ONE_LECTURE = ("general_assembly", "committee_meeting", "group_meeting", "party_lecture")
# Meetings whose absence calls for a make-up study (补学).
MAKE_UP_OBLIGATIONS = {"general_assembly", "party_lecture", "theme_party_day", "study_day", "group_meeting"}
LOOKAHEAD = timedelta(days=400)


def candidate_org_ids(actor: Actor, tree: OrgTree) -> set[int]:
    """Organisations whose activities might expect the actor (refined by `in_audience`)."""
    orgs = {actor.org_id}
    if actor.group_id is not None:
        orgs.add(actor.group_id)
    orgs |= {seat.org for seat in actor.seats if seat.upper}
    if actor.leading_cadre:
        orgs |= set(tree.ancestors(actor.org_id))
    return orgs


def upcoming_for(session: Session, actor: Actor, now: datetime, *, limit: int = 5) -> list[ActivityView]:
    """The actor's next meetings whose check-in window has not closed yet, earliest first."""
    tree = OrgTree.load(session)
    rows = attendance_repo.activities_between(
        session, candidate_org_ids(actor, tree), now - timedelta(days=2), now + LOOKAHEAD,
        kinds=[ActivityKind.MEETING.value], statuses=[ActivityStatus.SCHEDULED.value], member_id=actor.member_id,
    )
    result = []
    for row in rows:
        if checkin_window(row)[1] > now and in_audience(session, actor, row, tree):
            result.append(ActivityView.of(row, tree.name.get(row.org_id, "")))
            if len(result) >= limit:
                break
    return result


def open_for_checkin(session: Session, actor: Actor, now: datetime) -> list[ActivityView]:
    """Meetings for the actor whose check-in window is open right now."""
    return [view for view in upcoming_for(session, actor, now, limit=20) if view.window_open(now)]


def branch_plan(session: Session, actor: Actor, now: datetime, *, weeks: int = 4) -> list[ActivityView]:
    """/plan: everything the actor's branch (and its groups) has scheduled in the next weeks."""
    tree = OrgTree.load(session)
    org_ids = tree.with_groups([actor.org_id]) | actor.managed_org_ids
    rows = attendance_repo.activities_between(
        session, org_ids, now - timedelta(hours=2), now + timedelta(weeks=weeks),
        statuses=[ActivityStatus.SCHEDULED.value],
    )
    return [ActivityView.of(row, tree.name.get(row.org_id, "")) for row in rows]


def _expected_meetings(
    session: Session, actor: Actor, tree: OrgTree, start: datetime, end: datetime
) -> list[models.Activity]:
    """Meetings in [start, end) that expected the actor and actually took place (or wait to be confirmed)."""
    rows = attendance_repo.activities_between(
        session, candidate_org_ids(actor, tree), start, end, kinds=[ActivityKind.MEETING.value],
        statuses=[ActivityStatus.HELD.value, ActivityStatus.SCHEDULED.value], member_id=actor.member_id,
    )
    return [row for row in rows if in_audience(session, actor, row, tree)]


def my_year(session: Session, actor: Actor, now: datetime, zone: tzinfo) -> MemberYear:
    """/me: this year's attendance so far, the political birthday, and the make-up studies still owed."""
    tree = OrgTree.load(session)
    local_now = now.astimezone(zone)
    start = datetime(local_now.year, 1, 1, tzinfo=zone)
    # Only meetings whose window has closed count; a meeting still to come is owed nothing yet.
    meetings = [m for m in _expected_meetings(session, actor, tree, start, now) if checkin_window(m)[1] <= now]
    records = attendance_repo.records_for_member(session, actor.member_id, [m.id for m in meetings])
    counts: Counter[str] = Counter()
    owed = []
    for meeting in meetings:
        record = records.get(meeting.id)
        status = record.status if record else AttendanceStatus.ABSENT.value
        bucket = "present" if status in (AttendanceStatus.PRESENT, AttendanceStatus.PROXY) else status
        counts[bucket] += 1
        if bucket != "present" and meeting.obligation in MAKE_UP_OBLIGATIONS and meeting.status == ActivityStatus.HELD:
            owed.append(ActivityView.of(meeting, tree.name.get(meeting.org_id, "")))
    member = session.get(models.Member, actor.member_id)
    joined: date | None = member.joined_on if member else None
    full_on: date | None = member.full_member_on if member else None
    party_age = None
    if full_on is not None:
        today = local_now.date()
        party_age = today.year - full_on.year - ((today.month, today.day) < (full_on.month, full_on.day))
    return MemberYear(
        name=actor.name, org_name=tree.name.get(actor.org_id, ""), year=local_now.year,
        expected=len(meetings), present=counts["present"], leave=counts["leave"], absent=counts["absent"],
        political_birthday=joined.strftime("%m-%d") if joined else None, party_age_years=party_age,
        owed=tuple(owed),
    )


def _member_attendance(
    session: Session, member: models.Member, tree: OrgTree, start: datetime, end: datetime
) -> MemberAttendance:
    actor = actor_from_member(member)
    meetings = [m for m in _expected_meetings(session, actor, tree, start, end) if m.status == ActivityStatus.HELD]
    records = attendance_repo.records_for_member(session, member.id, [m.id for m in meetings])
    present = sum(1 for m in meetings if m.id in records and records[m.id].status in ("present", "proxy"))
    leave = sum(1 for m in meetings if m.id in records and records[m.id].status == "leave")
    return MemberAttendance(
        member_no=member.member_no, name=member.name, org_name=tree.name.get(member.org_id, ""),
        expected=len(meetings), present=present, leave=leave, absent=len(meetings) - present - leave,
    )


def attendance_report(
    session: Session, actor: Actor, *, start: datetime, end: datetime,
    org_code: str | None = None, member_no: str | None = None,
) -> AttendanceReport:
    """/attendance: a member's record, or per branch: 三会一课 completion and attendance rate.

    Only organisations the actor sits over (their own and below) are answered.
    """
    if end <= start:
        raise InvalidInput("结束日期应晚于开始日期。")
    tree = OrgTree.load(session)
    if member_no:
        member = session.scalars(select(models.Member).where(models.Member.member_no == member_no)).one_or_none()
        if member is None:
            raise NotFound(f"名册中没有党员编号 {member_no}。")
        require_visible(actor, tree, member.org_id)
        return AttendanceReport(scope=member.name, start=start, end=end,
                                members=(_member_attendance(session, member, tree, start, end),))
    if org_code:
        org_id = tree.id_by_code.get(org_code)
        if org_id is None:
            raise NotFound(f"没有组织编码 {org_code}。")
        require_visible(actor, tree, org_id)
        scope_ids = tree.subtree(org_id)
        scope_name = tree.name[org_id]
    else:
        scope_ids = visible_org_ids(actor, tree)
        if not scope_ids:
            require_visible(actor, tree, actor.org_id)  # raises: plain members see no organisation
        scope_name = "、".join(sorted({tree.name[o] for o in scope_ids if tree.parent.get(o) not in scope_ids}))
    branches = []
    for branch_id in [b for b in tree.branches() if b in scope_ids]:
        org_ids = tree.with_groups([branch_id])
        held = attendance_repo.activities_between(
            session, org_ids, start, end, kinds=[ActivityKind.MEETING.value], statuses=[ActivityStatus.HELD.value]
        )
        counts = Counter(a.obligation for a in held if a.obligation)
        expected = present = 0
        records = attendance_repo.records_for_activities(session, [a.id for a in held])
        by_activity: dict[int, list[models.Attendance]] = {}
        for record in records:
            by_activity.setdefault(record.activity_id, []).append(record)
        for activity in held:
            expected += len(audience_members(session, activity, tree))
            present += sum(1 for r in by_activity.get(activity.id, []) if r.status in ("present", "proxy"))
        has_groups = any(tree.is_group(o) for o in org_ids)
        missing = tuple(
            key for key in THREE_MEETINGS_ONE_LECTURE
            if counts.get(key, 0) == 0 and (key != "group_meeting" or has_groups)
        )
        branches.append(BranchCompletion(
            org_code=tree.code[branch_id], org_name=tree.name[branch_id], held=dict(counts), missing=missing,
            expected_seats=expected, present_seats=present,
        ))
    return AttendanceReport(scope=scope_name, start=start, end=end, branches=tuple(branches))

