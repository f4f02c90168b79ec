"""Read-only questions members and committees ask: upcoming activities, my year, attendance and completion."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from schedules import roles
from schedules.completion import (
    Cadence,
    Period,
    PERIOD_FORMS_TEXT,
    PeriodError,
    Requirement,
    Unit,
    parse_period,
    period_containing,
)
from schedules.period_text import period_text_exclusive
from schedules.roster import MemberStatus
from storage import models
from storage.errors import InvalidInput, PermissionDenied
from storage.models import ActivityKind, ActivityStatus
from storage.repositories import attendance as attendance_repo
from storage.services import reports
from storage.services.actors import Actor, OrgTree, actor_from_member, require_visible, visible_org_ids
from storage.services.audience import StoredAudience
from storage.services.views import ActivityView, MemberYear, latest_closing_delay

# Meetings whose absence calls for a make-up study (补学).
MAKE_UP_OBLIGATIONS = {"general_assembly", "party_lecture", "theme_party_day", "study_day", "group_meeting"}
LOOKAHEAD = timedelta(days=400)
# A task or a notice is due at its moment; /plan keeps it a while after, as something that came just now.
RECENTLY_DUE = timedelta(hours=2)


def listed_since(session: Session, now: datetime, org_ids: Iterable[int], *, member_id: int | None = None) -> datetime:
    """The earliest start a meeting of these organisations (or for this member) that a list may still show at
    `now` can have: the lower bound of /upcoming, /start, /plan, /checkin, /leave and /absent's look-ups, each of
    which then asks its own rule of each meeting (`ActivityView.over_at`, `views.still_answerable`). A meeting is still on
    until its own end: the earliest start among the scheduled meetings whose end is still to come (a training of
    several days); still answerable until its window closes, at most `views.latest_closing_delay` after its start over
    the stored windows. No fixed lookback: a meeting that lasts longer, or whose window stays open longer, stays
    listed."""
    latest_closes, earliest_unended = attendance_repo.meeting_reach(session, now, org_ids, member_id=member_id)
    since = now - latest_closing_delay(latest_closes)
    return since if earliest_unended is None else min(since, earliest_unended)


def candidate_org_ids(actor: Actor, tree: OrgTree) -> set[int]:
    """Organisations whose activities might be for the actor (the audience rule then decides): their branch,
    their 党小组, where they hold seats, and everything above (双重组织生活, notices to branch secretaries)."""
    orgs = {actor.org_id, *(seat.org for seat in actor.seats), *tree.ancestors(actor.org_id)}
    if actor.group_id is not None:
        orgs.add(actor.group_id)
    return orgs


def _meetings_for(session: Session, actor: Actor, now: datetime, keep: Callable[[ActivityView], bool],
                  limit: int) -> list[ActivityView]:
    """The actor's scheduled meetings that `keep` accepts, earliest first, at most `limit` of them: among those
    begun since `listed_since` (however long a meeting or its window lasts) or still to come."""
    tree = OrgTree.load(session)
    org_ids = candidate_org_ids(actor, tree)
    rows = attendance_repo.activities_between(
        session, org_ids, listed_since(session, now, org_ids, member_id=actor.member_id), now + LOOKAHEAD,
        kinds=[ActivityKind.MEETING.value], statuses=[ActivityStatus.SCHEDULED.value], member_id=actor.member_id,
    )
    audience = StoredAudience(session, tree)
    result = []
    for row in rows:
        view = ActivityView.of(row, tree.name.get(row.org_id, ""))
        if keep(view) and audience.includes(actor, row):
            result.append(view)
            if len(result) >= limit:
                break
    return result


def upcoming_for(session: Session, actor: Actor, now: datetime, *, limit: int = 5) -> list[ActivityView]:
    """/upcoming, /start: the actor's next meetings and those under way, earliest first; a meeting is listed
    until it is over (`ActivityView.over_at`), whether or not its check-in window is still open."""
    return _meetings_for(session, actor, now, lambda view: now < view.over_at, limit)


def answerable_for(session: Session, actor: Actor, now: datetime, *, limit: int = 5) -> list[ActivityView]:
    """/leave: the actor's next `limit` meetings they may still answer (`ActivityView.answerable`), earliest
    first, over or not (as many as /upcoming lists: one button each)."""
    return _meetings_for(session, actor, now, lambda view: view.answerable(now), limit)


def open_for_checkin(session: Session, actor: Actor, now: datetime) -> list[ActivityView]:
    """/checkin: the actor's meetings they may check in to right now (`ActivityView.checkin_open`, among the next
    20 answerable)."""
    return [view for view in answerable_for(session, actor, now, limit=20) if view.checkin_open(now)]


def branch_plan(session: Session, actor: Actor, now: datetime, *, weeks: int = 4) -> list[ActivityView]:
    """/plan: what the actor's branch (and its groups) has scheduled in the next weeks, a meeting until it is
    over (`ActivityView.over_at`, as /upcoming), a task or notice until `RECENTLY_DUE` after its moment; an item
    about one member (政治生日, 转正 …) only for that member and the people it is for (schedules.audience)."""
    tree = OrgTree.load(session)
    org_ids = tree.with_groups([actor.org_id]) | actor.managed_org_ids
    rows = attendance_repo.activities_between(
        session, org_ids, min(listed_since(session, now, org_ids), now - RECENTLY_DUE), now + timedelta(weeks=weeks),
        statuses=[ActivityStatus.SCHEDULED.value],
    )
    audience = StoredAudience(session, tree)
    views = [(row, ActivityView.of(row, tree.name.get(row.org_id, ""))) for row in rows]
    return [view for row, view in views if _still_planned(view, now)
            and (row.member_id in (None, actor.member_id) or audience.includes(actor, row))]


def _still_planned(view: ActivityView, now: datetime) -> bool:
    if view.kind == ActivityKind.MEETING.value:
        return now < view.over_at
    return view.starts_at >= now - RECENTLY_DUE


def my_year(session: Session, actor: Actor, now: datetime, zone: ZoneInfo) -> MemberYear:
    """/me: this year's attendance so far, as the ledger counts it (held meetings only: a meeting the
    secretary has not confirmed yet is waiting, not missed), the political birthday, make-up studies owed."""
    tree = OrgTree.load(session)
    local_now = now.astimezone(zone)
    today = local_now.date()
    window = Period(date(today.year, 1, 1), today + timedelta(days=1), str(today.year))
    record = reports.load_member_record(session, actor.member_no, window, _zone_of(session, actor.org_id, zone))
    counts = record.counts()
    owed = tuple(
        m.activity.title for m in record.meetings
        if m.activity.is_held and m.activity.obligation in MAKE_UP_OBLIGATIONS and m.status in ("leave", "absent")
    )
    waiting = record.awaiting_confirmation(now)
    member = session.get(models.Member, actor.member_id)
    joined: date | None = member.joined_on if member else None
    full_on: date | None = member.full_member_on if member else None
    party_age = None
    if full_on is not None:
        party_age = today.year - full_on.year - ((today.month, today.day) < (full_on.month, full_on.day))
    return MemberYear(
        name=actor.name, org_name=tree.name.get(actor.org_id, ""), year=local_now.year,
        expected=sum(counts.values()), present=sum(counts[status] for status in models.SIGNED_IN),
        leave=counts["leave"], absent=counts["absent"], awaiting_confirmation=waiting,
        political_birthday=joined.strftime("%m-%d") if joined else None, party_age_years=party_age, owed=owed,
    )


# --- /attendance ------------------------------------------------------------------------------------------

RequirementsOf = Callable[[Session, str], Callable[[Unit], Sequence[Requirement]]]
DEFAULT_PERIOD = "本季度"
ATTENDANCE_USAGE = (
    "用法：/attendance [组织编码或名称|党员编号或姓名] [时间段]，顺序不限，例如 /attendance B01 一季度\n"
    f"时间段可写：{PERIOD_FORMS_TEXT}；不写为本季度。"
)


@dataclass(frozen=True, slots=True)
class Choice:
    """One thing a word may mean: the unambiguous word to ask with (a code or member number) and its name."""

    word: str
    label: str


@dataclass(frozen=True)
class AttendanceAnswer:
    """/attendance: the same report `report attendance` and /report format (storage.services.reports),
    or one member's record, or the choices an ambiguous word leaves; `menu` lists the organisations in
    scope to look into next."""

    period: Period
    report: reports.AttendanceReport | None = None
    member: reports.MemberRecord | None = None
    member_waiting: int = 0  # the member's past meetings not yet confirmed held (counted neither way)
    ambiguous: str | None = None  # the word that matched several things
    other_words: tuple[str, ...] = ()  # the rest of the question, to ask again with a choice
    choices: tuple[Choice, ...] = ()
    menu: tuple[Choice, ...] = ()


def _org_matches(tree: OrgTree, word: str) -> list[int]:
    """Organisations a word names: by code or full name, else by part of the name."""
    lowered = word.lower()
    exact = [o for o, code in tree.code.items() if code.lower() == lowered or tree.name[o] == word]
    if exact:
        return exact
    return sorted((o for o, name in tree.name.items() if word in name), key=lambda o: tree.code[o])


def _member_matches(session: Session, word: str) -> list[models.Member]:
    m = models.Member
    return list(session.scalars(select(m).where(
        (m.member_no == word) | (m.name == word), m.status == MemberStatus.ACTIVE.value,
    ).order_by(m.member_no)))


def _read_words(session: Session, actor: Actor, tree: OrgTree, scope: set[int], words: Sequence[str],
                today: date) -> tuple[Period | None, int | None, models.Member | None, AttendanceAnswer | None]:
    """Each word is a period, an organisation (code or name) or a member (number or name), in any order."""
    period: Period | None = None
    org_id: int | None = None
    member: models.Member | None = None
    for word in words:
        try:
            as_period: Period | None = parse_period(word, today=today)
        except PeriodError:
            as_period = None
        all_orgs = _org_matches(tree, word)
        all_members = _member_matches(session, word)
        orgs = [o for o in all_orgs if o in scope]
        members = [m for m in all_members if m.id == actor.member_id or m.org_id in scope or m.group_id in scope]
        meanings = (1 if as_period else 0) + len(orgs) + len(members)
        if meanings == 0:
            if all_orgs or all_members:
                raise PermissionDenied("您只能查看本组织及下级组织的情况。", actor=actor.member_no, word=word)
            raise InvalidInput(f"无法识别“{word}”：不是组织、党员或时间段。\n{ATTENDANCE_USAGE}")
        if meanings > 1:
            choices = [Choice(tree.code[o], f"{tree.name[o]}（{tree.code[o]}）") for o in orgs]
            choices += [Choice(m.member_no, f"{m.name}（{m.member_no}，{tree.name.get(m.org_id, '')}）") for m in members]
            if as_period is not None:
                choices.append(Choice(as_period.label, period_text_exclusive(as_period.start, as_period.end)))
            rest = tuple(w for w in words if w != word)
            return None, None, None, AttendanceAnswer(period or parse_period(DEFAULT_PERIOD, today=today),
                                                      ambiguous=word, choices=tuple(choices), other_words=rest)
        if as_period is not None:
            if period is not None:
                raise InvalidInput(f"只能写一个时间段。\n{ATTENDANCE_USAGE}")
            period = as_period
        elif orgs or members:
            if org_id is not None or member is not None:
                raise InvalidInput(f"一次只能查一个组织或一名党员。\n{ATTENDANCE_USAGE}")
            if orgs:
                org_id = orgs[0]
            else:
                member = members[0]
    return period, org_id, member, None




def attendance(session: Session, actor: Actor, words: Sequence[str], now: datetime, zone: ZoneInfo, *,
               requirements_of: RequirementsOf | None = None) -> AttendanceAnswer:
    """/attendance: an organisation's report (the one /report and `report attendance` give), a member's
    record, or, with no organisation named, the actor's whole scope with a menu of what is in it."""
    tree = OrgTree.load(session)
    scope = visible_org_ids(actor, tree)
    today = now.astimezone(zone).date()
    period, org_id, member, ambiguous = _read_words(session, actor, tree, scope, words, today)
    if ambiguous is not None:
        return ambiguous
    period = period or parse_period(DEFAULT_PERIOD, today=today)
    if member is not None:
        if member.id != actor.member_id:
            require_visible(actor, tree, member.org_id)
        record = reports.load_member_record(session, member.member_no, period, _zone_of(session, member.org_id, zone))
        return AttendanceAnswer(period, member=record, member_waiting=record.awaiting_confirmation(now))
    if org_id is None:
        roots = sorted((o for o in scope if tree.parent.get(o) not in scope), key=lambda o: tree.code[o])
        if not roots:
            # A plain member sees their own record.
            record = reports.load_member_record(session, actor.member_no, period, _zone_of(session, actor.org_id, zone))
            return AttendanceAnswer(period, member=record, member_waiting=record.awaiting_confirmation(now))
        if len(roots) > 1:
            return AttendanceAnswer(period, menu=tuple(Choice(tree.code[o], f"{tree.name[o]}（{tree.code[o]}）") for o in roots))
        org_id, show_menu = roots[0], True
    else:
        require_visible(actor, tree, org_id)
        show_menu = False
    code = tree.code[org_id]
    org_zone = _zone_of(session, org_id, zone)
    report = reports.load_report(session, code, period, org_zone, now,
                                 requirements_for=requirements_of(session, code) if requirements_of else None)
    menu = ()
    if show_menu:
        menu = tuple(Choice(org.code, f"{org.name}（{org.code}）") for org in report.ledger.report_orgs if org.id != org_id)
    return AttendanceAnswer(period, report=report, menu=menu)


def _zone_of(session: Session, org_id: int, default: ZoneInfo) -> ZoneInfo:
    org = session.get(models.Organization, org_id)
    return ZoneInfo(org.timezone) if org is not None and org.timezone else default


# --- the supervision cycle (每月一提醒、每季一督导、半年一研究、全年一考核) ---------------------------------


def _supervised_period(obligation: str, day: date) -> Period | None:
    """What each step of the cycle looks at: last month, this quarter, this half-year, this year."""
    if obligation == "monthly_reminder":
        return period_containing(Cadence.MONTHLY, date(day.year, day.month, 1) - timedelta(days=1))
    cadence = {"quarterly_supervision": Cadence.QUARTERLY, "semiannual_review": Cadence.SEMIANNUAL,
               "annual_assessment": Cadence.YEARLY}.get(obligation)
    return None if cadence is None else period_containing(cadence, day)


@dataclass(frozen=True)
class SupervisionDigest:
    """The completion figures a supervision step brings along: the one report /report and /attendance use."""

    period: Period
    report: reports.AttendanceReport
    branch_code: str | None  # a branch secretary sees their own branch; the committee sees every branch


def supervision_digest(session: Session, activity: models.Activity, recipient_id: int | None, zone: ZoneInfo, *,
                       requirements_of: RequirementsOf | None = None) -> SupervisionDigest | None:
    """For a 每月一提醒/每季一督导/半年一研究/全年一考核 item: the completion of the organisation below it."""
    if activity.obligation is None:
        return None
    org = session.get(models.Organization, activity.org_id)
    if org is None:
        return None
    org_zone = _zone_of(session, org.id, zone)
    period = _supervised_period(activity.obligation, activity.starts_at.astimezone(org_zone).date())
    if period is None:
        return None
    now = activity.starts_at
    report = reports.load_report(session, org.code, period, org_zone, now,
                                 requirements_for=requirements_of(session, org.code) if requirements_of else None)
    branch_code = None
    recipient = session.get(models.Member, recipient_id) if recipient_id is not None else None
    if recipient is not None and recipient.org_id != org.id:
        tree = OrgTree.load(session)
        seats = actor_from_member(recipient).seats
        if not roles.sits_on_committee(seats, org.id):
            branch_code = tree.code.get(recipient.org_id)
    return SupervisionDigest(period, report, branch_code)
