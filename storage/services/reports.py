"""Reports over the repository's rows: the ledger's 应到 by the audience rule, a member's record and calendar.

`storage.repositories.reports` reads the rows (organisations, members, seats, activities with their marks);
this module composes them with the organisation tree and the audience rule (`schedules.audience` through
`storage.services.audience.target_of` and `storage.services.actors.person_of`, the ones chat uses).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from schedules import roles
from schedules.audience import Audience, Person, part_of
from schedules.completion import (
    DEFAULT_REQUIREMENTS,
    Cadence,
    CompletionCell,
    Period,
    Requirement,
    Unit,
    evaluate_completion,
    period_containing,
    periods_overlapping,
)
from schedules.roles import Seat as RoleSeat
from schedules.roster import MemberStatus
from storage import models
from storage.repositories import reports as rows
from storage.repositories.reports import (
    GROUP_TYPE,
    ActivityRecord,
    CompletionInputs,
    LedgerRows,
    Mark,
    MemberRef,
    OrgRef,
    UnknownMemberError,
    UnknownOrganizationError,
    find_member,
    find_organization,
    load_completion_inputs,
    org_calendar,
    org_zone,
    organization_names,
)
from storage.services.actors import OrgTree, person_of
from storage.services.audience import StoredAudience, target_of


@dataclass(frozen=True, slots=True)
class Tally:
    """Counts for one held meeting: 应到 expected, 实到 present (including 代签), 请假 leave, 缺席 absent."""

    expected: int
    present: int
    proxy: int
    leave: int
    absent: int

    @property
    def rate(self) -> float | None:
        return None if self.expected == 0 else self.present / self.expected


@dataclass(frozen=True, slots=True)
class DualLifeEntry:
    """双重组织生活: a leading cadre or upper-committee member of this subtree at a meeting of a committee
    above it, so the branch ledger shows their attendance in both places."""

    member_id: int
    org_name: str
    activity: ActivityRecord
    status: str | None  # present / leave / absent / proxy; None while the meeting is not confirmed held


def meeting_orgs_counting(tree: OrgTree, org_id: int, *, above: bool = True, below: bool = True) -> list[int]:
    """The organisations whose meetings' candidates (the ledger's, `AttendanceLedger._candidates_by_org` and
    `expected_ids`, before the audience rule) may include a member placed at `org_id` (their organisation, their
    group or a seat's): its own; with `above`, those over it (a leading cadre's 双重组织生活, a branch secretary told
    from above: the ledger asks it only for them); with `below`, those right under it (secretary_and_upper_committee:
    the committee above sits in the meeting's parent; the ledger adds the parent's candidates for that audience).
    Reversed, `storage.services.attendance.cards_counting` asks it with both for the organisations a roster change
    touched, so the cards it refreshes are those whose 应到 may have moved (tests/seams/test_audience_columns_seam.py
    checks both directions agree)."""
    found = [org_id]
    if above:
        found.extend(tree.ancestors(org_id))
    if below:
        found.extend(tree.children.get(org_id, ()))
    return found


@dataclass(frozen=True)
class AttendanceLedger:
    """Everything a 台账 needs for one organisation subtree and one period, already loaded."""

    root: OrgRef
    window: Period
    zone: ZoneInfo
    orgs: dict[int, OrgRef]
    members: dict[int, MemberRef]
    seats: Mapping[int, frozenset[RoleSeat[int]]]  # member id -> seats held in the subtree
    activities: tuple[ActivityRecord, ...]
    dual_life: tuple[DualLifeEntry, ...] = ()
    _expected_cache: dict[int, list[int]] = field(default_factory=dict, repr=False, compare=False)
    _answers_cache: dict[int, dict[int, str]] = field(default_factory=dict, repr=False, compare=False)
    _secretaries_cache: dict[int, list[int]] = field(default_factory=dict, repr=False, compare=False)

    # --- organisation tree -------------------------------------------------------------------
    @cached_property
    def by_code(self) -> dict[str, OrgRef]:
        return {org.code: org for org in self.orgs.values()}

    def branch_of(self, org: OrgRef) -> OrgRef:
        """The 党支部 an organisation belongs to (a group's parent), or the organisation itself."""
        if org.type == GROUP_TYPE and org.parent_id in self.orgs:
            return self.orgs[org.parent_id]
        return org

    @cached_property
    def report_orgs(self) -> list[OrgRef]:
        """Organisations that get their own record-book section: everything but 党小组, in code order."""
        return sorted((o for o in self.orgs.values() if o.type != GROUP_TYPE), key=lambda o: o.code)

    # --- people ------------------------------------------------------------------------------
    @cached_property
    def _holders_by_org(self) -> dict[int, list[tuple[int, frozenset[RoleSeat[int]]]]]:
        grouped: dict[int, list[tuple[int, frozenset[RoleSeat[int]]]]] = defaultdict(list)
        for mid, seats in self.seats.items():
            if mid in self.members and self.members[mid].status == MemberStatus.ACTIVE:
                for org_id in {seat.org for seat in seats}:
                    grouped[org_id].append((mid, seats))
        return grouped

    def _holders(self, org_id: int) -> list[tuple[int, frozenset[RoleSeat[int]]]]:
        """Active members holding a seat in `org_id`, with all their seats."""
        return self._holders_by_org.get(org_id, [])

    def secretaries_of(self, org_id: int) -> list[int]:
        """"The secretary" of an organisation (schedules.roles.secretaries), among the ledger's members."""
        found = self._secretaries_cache.get(org_id)
        if found is None:
            found = self._secretaries_cache[org_id] = roles.secretaries(self._holders(org_id), org_id)
        return found

    def host_of(self, activity: ActivityRecord) -> str | None:
        """主持人: the lecturer of a 党课, otherwise whoever runs the organisation holding it (a 党小组: its
        leader, else its branch's secretary)."""
        if activity.lecturer:
            return activity.lecturer
        org = self.orgs[activity.org_id]
        hosts: list[int] = []
        if org.type == GROUP_TYPE:
            hosts = [mid for mid, seats in self._holders(org.id) if roles.leads_group(seats, org.id)]
            hosts = hosts or (self.secretaries_of(org.parent_id) if org.parent_id is not None else [])
        else:
            hosts = self.secretaries_of(org.id)
        names = sorted(self.members[mid].name for mid in hosts if mid in self.members)
        return "、".join(names) or None

    @cached_property
    def _tree(self) -> OrgTree:
        return OrgTree((o.id, o.parent_id, o.type, o.code, o.name) for o in self.orgs.values())

    @cached_property
    def _people(self) -> dict[int, Person[int, int]]:
        return {m.id: person_of(m.id, m.org_id, m.group_id, m.category, m.leading_cadre,
                                self.seats.get(m.id, frozenset()))
                for m in self.members.values()}

    @cached_property
    def _candidates_by_org(self) -> dict[int, set[int]]:
        """Active members who might be expected at each organisation's meetings, before the audience rule."""
        grouped: dict[int, set[int]] = defaultdict(set)
        for member in self.members.values():
            if member.status != MemberStatus.ACTIVE:
                continue
            # 双重组织生活, and branch secretaries told from above: their organisation's ancestors.
            above = bool(member.leading_cadre) or member.id in self.secretaries_of(member.org_id)
            for org in meeting_orgs_counting(self._tree, member.org_id, above=above, below=False):
                grouped[org].add(member.id)
            if member.group_id is not None:
                for org in meeting_orgs_counting(self._tree, member.group_id, above=False, below=False):
                    grouped[org].add(member.id)
        for member_id, seats in self.seats.items():
            if member_id in self.members and self.members[member_id].status == MemberStatus.ACTIVE:
                for seat in seats:
                    for org in meeting_orgs_counting(self._tree, seat.org, above=False, below=False):
                        grouped[org].add(member_id)
        return grouped

    def expected_ids(self, activity: ActivityRecord) -> list[int]:
        """应到: whom the audience rule (schedules.audience, the one plan, reminders and chat use) names,
        plus anyone who answered anyway. Leading cadres with 双重组织生活 are expected both in their
        branch and in the committee above, so they appear in both ledgers."""
        cached = self._expected_cache.get(activity.id)
        if cached is not None:
            return cached
        target = target_of(activity)
        candidates = set(self._candidates_by_org.get(activity.org_id, ()))
        if activity.member_id is not None and activity.member_id in self.members:
            candidates.add(activity.member_id)
        parent = self._tree.parent_of(activity.org_id)
        if target.audience is Audience.SECRETARY_AND_UPPER_COMMITTEE and parent is not None:
            # `meeting_orgs_counting`'s `below`: the committee above sits in the parent.
            candidates |= self._candidates_by_org.get(parent, set())
        people = self._people
        expected = {mid for mid in candidates
                    if part_of(target, people[mid], self._tree, self.secretaries_of) is not None}
        expected.update(mark.member_id for mark in activity.marks if mark.member_id in self.members)
        result = sorted(expected, key=lambda mid: self.members[mid].member_no)
        self._expected_cache[activity.id] = result
        return result

    def tally(self, activity: ActivityRecord) -> Tally:
        marks = self._answers(activity)
        expected = self.expected_ids(activity)
        signed_in = sum(1 for mid in expected if marks.get(mid) in models.SIGNED_IN)
        proxy = sum(1 for mid in expected if marks.get(mid) == models.AttendanceStatus.PROXY.value)
        leave = sum(1 for mid in expected if marks.get(mid) == models.AttendanceStatus.LEAVE.value)
        # A held meeting with no answer from someone who was expected counts them absent.
        return Tally(len(expected), signed_in, proxy, leave, len(expected) - signed_in - leave)

    def _answers(self, activity: ActivityRecord) -> dict[int, str]:
        answers = self._answers_cache.get(activity.id)
        if answers is None:
            answers = self._answers_cache[activity.id] = {mark.member_id: mark.status for mark in activity.marks}
        return answers

    def status_of(self, activity: ActivityRecord, member_id: int) -> str | None:
        """present / leave / absent / proxy for a held meeting (no answer → absent), else the answer or None."""
        answer = self._answers(activity).get(member_id)
        if answer is not None:
            return answer
        if activity.is_held and member_id in self.expected_ids(activity):
            return models.AttendanceStatus.ABSENT.value
        return None

    # --- selections --------------------------------------------------------------------------
    def meetings(self, org: OrgRef | None = None, *, held_only: bool = False) -> list[ActivityRecord]:
        """Meetings (not tasks or notices) of the subtree, or of one organisation and its 党小组."""
        pool = self._all_meetings if org is None else self._meetings_by_branch.get(org.id, [])
        return [a for a in pool if a.is_held] if held_only else list(pool)

    @cached_property
    def _all_meetings(self) -> list[ActivityRecord]:
        return [a for a in self.activities if a.is_meeting]

    @cached_property
    def _meetings_by_branch(self) -> dict[int, list[ActivityRecord]]:
        grouped: dict[int, list[ActivityRecord]] = defaultdict(list)
        for activity in self._all_meetings:
            grouped[self.branch_of(self.orgs[activity.org_id]).id].append(activity)
        return grouped

    def matrix_member_ids(self, org: OrgRef) -> list[int]:
        """Rows of an organisation's attendance matrix, in member-number order (never ranked)."""
        ids: set[int] = set()
        for activity in self.meetings(org):
            ids.update(self.expected_ids(activity))
        return sorted(ids, key=lambda mid: self.members[mid].member_no)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def monthly_rates(self, org: OrgRef | None = None) -> dict[str, float | None]:
        """Attendance rate (实到/应到 over held meetings) by month label, for one branch or the whole subtree."""
        totals = {month.label: [0, 0] for month in periods_overlapping(Cadence.MONTHLY, self.window)}
        for activity in self.meetings(org, held_only=True):
            label = period_containing(Cadence.MONTHLY, self.local_date(activity.starts_at)).label
            tally = self.tally(activity)
            bucket = totals.setdefault(label, [0, 0])
            bucket[0] += tally.present
            bucket[1] += tally.expected
        return {label: (None if expected == 0 else present / expected) for label, (present, expected) in totals.items()}

    def overall_rate(self, org: OrgRef | None = None) -> float | None:
        present = expected = 0
        for activity in self.meetings(org, held_only=True):
            tally = self.tally(activity)
            present += tally.present
            expected += tally.expected
        return None if expected == 0 else present / expected



def _ledger(found: LedgerRows, window: Period, zone: ZoneInfo, dual_life: tuple[DualLifeEntry, ...] = ()) -> AttendanceLedger:
    return AttendanceLedger(root=found.root, window=window, zone=zone, orgs=found.orgs, members=found.members,
                            seats=found.seats, activities=found.activities, dual_life=dual_life)


def load_ledger(
    session: Session,
    org_code: str,
    window: Period,
    zone: ZoneInfo,
    *,
    include_subtree: bool = True,
) -> AttendanceLedger:
    """The attendance ledger of `org_code` (and, by default, every organisation below it) for `window`."""
    found = rows.ledger_rows(session, org_code, window, zone, include_subtree=include_subtree)
    start, end = window.bounds(zone)
    return _ledger(found, window, zone, _dual_life(session, list(found.orgs), found.members, start, end))


def load_activity_ledger(session: Session, activity_id: int, zone: ZoneInfo) -> tuple[AttendanceLedger, ActivityRecord]:
    """The ledger of one activity (its organisation and everything below it, that activity only): the roll,
    the confirmation and 代签 ask it who is expected (`expected_ids`), as every report does."""
    found, record, window = rows.activity_ledger_rows(session, activity_id, zone)
    return _ledger(found, window, zone), record


def _dual_life(
    session: Session, org_ids: Sequence[int], members: dict[int, MemberRef], start: datetime, end: datetime
) -> tuple[DualLifeEntry, ...]:
    """Meetings of committees above the subtree that expect its leading cadres or upper-seat holders."""
    inside = set(org_ids)
    own = [m for m in members.values() if m.org_id in inside and m.status == MemberStatus.ACTIVE]
    # Every seat of the subtree's members: the upper ones outside the subtree say which committees to look
    # at, and all of them feed the audience rule.
    seats_of = rows.seat_rows_of_members(session, [m.id for m in own])
    outside = {org_id for seats in seats_of.values() for org_id, _, upper in seats if upper and org_id not in inside}
    cadres = [m for m in own if m.leading_cadre]
    if not outside and not cadres:
        return ()
    tree = OrgTree.load(session)
    for cadre in cadres:
        outside.update(a for a in tree.ancestors(cadre.org_id) if a not in inside)
    if not outside:
        return ()
    people = {m.id: person_of(m.id, m.org_id, m.group_id, m.category, m.leading_cadre,
                            roles.parse_seats(seats_of.get(m.id, ()))) for m in own}
    audience = StoredAudience(session, tree)
    entries = []
    for record in rows.shared_meetings(session, outside, start, end):
        answers = {mark.member_id: mark.status for mark in record.marks}
        target = target_of(record)
        for member_id, person in people.items():
            if member_id not in answers and part_of(target, person, tree, audience.secretaries_of) is None:
                continue
            status = answers.get(member_id) or (models.AttendanceStatus.ABSENT.value if record.is_held else None)
            entries.append(DualLifeEntry(member_id, tree.name.get(record.org_id, ""), record, status))
    return tuple(sorted(entries, key=lambda e: (members[e.member_id].member_no, e.activity.starts_at)))


@dataclass(frozen=True)
class AttendanceReport:
    """The attendance ledger of a subtree and period with its completion verdicts: what every format shows."""

    ledger: AttendanceLedger
    completion: tuple[CompletionCell, ...]
    generated_at: datetime
    branch_comparison: bool = False  # a branch-level comparison was enabled for this organisation's committee

    @property
    def root(self) -> OrgRef:
        return self.ledger.root

    @property
    def window(self) -> Period:
        return self.ledger.window


def load_report(
    session: Session,
    org_code: str,
    window: Period,
    zone: ZoneInfo,
    now: datetime,
    *,
    branch_comparison: bool = False,
    requirements: Sequence[Requirement] = DEFAULT_REQUIREMENTS,
    requirements_for: Callable[[Unit], Sequence[Requirement]] | None = None,
) -> AttendanceReport:
    """The ledger of `org_code` and everything below it, judged as of `now` against `requirements`, or
    per unit against `requirements_for(unit)` (the catalog with each organisation's overrides)."""
    ledger = load_ledger(session, org_code, window, zone)
    inputs = load_completion_inputs(session, org_code, window, zone, requirements=requirements)
    cells = evaluate_completion(inputs.units, inputs.facts, window=window, now=now, zone=zone,
                                requirements=requirements, requirements_for=requirements_for,
                                records_from=inputs.records_from)
    return AttendanceReport(ledger, tuple(cells), now, branch_comparison)


@dataclass(frozen=True, slots=True)
class MemberMeeting:
    org_name: str
    activity: ActivityRecord
    status: str | None  # the member's answer; absent when silent at a held meeting; None otherwise


@dataclass(frozen=True)
class MemberRecord:
    """One member's meetings in a period: their branch's and 党小组's, and the committees' above (双重组织生活)."""

    member: MemberRef
    org: OrgRef
    window: Period
    zone: ZoneInfo
    meetings: tuple[MemberMeeting, ...]

    def counts(self) -> dict[str, int]:
        """Answers at held meetings only, like the ledger's tally: a leave request for a meeting that is
        not yet confirmed (or was not held) is listed but not counted."""
        result = {status.value: 0 for status in models.AttendanceStatus}
        for meeting in self.meetings:
            if meeting.activity.is_held and meeting.status in result:
                result[meeting.status] += 1
        return result

    def awaiting_confirmation(self, now: datetime) -> int:
        """Meetings that have started but that the secretary has not yet confirmed held: counted neither way."""
        return sum(1 for m in self.meetings
                   if m.activity.status == models.ActivityStatus.SCHEDULED.value and m.activity.starts_at <= now)

    @property
    def rate(self) -> float | None:
        """实到（含代签）÷ 应到 over held meetings."""
        counts = self.counts()
        held = sum(counts.values())
        return None if held == 0 else sum(counts[status] for status in models.SIGNED_IN) / held


def load_member_record(session: Session, member_no: str, window: Period, zone: ZoneInfo) -> MemberRecord:
    """One member's meetings in `window`: their branch's and 党小组's that expect them (cancelled ones left
    out), and the committees' above them (双重组织生活), in time order."""
    member = find_member(session, member_no)
    branch_code = rows.code_of_org(session, member.org_id)
    ledger = load_ledger(session, branch_code, window, zone, include_subtree=False)
    meetings = [
        MemberMeeting(ledger.orgs[a.org_id].name, a, ledger.status_of(a, member.id))
        for a in ledger.meetings()
        if a.status != models.ActivityStatus.CANCELLED.value and member.id in ledger.expected_ids(a)
    ]
    meetings += [MemberMeeting(e.org_name, e.activity, e.status) for e in ledger.dual_life if e.member_id == member.id]
    meetings.sort(key=lambda m: (m.activity.starts_at, m.activity.id))
    return MemberRecord(member, ledger.root, window, zone, tuple(meetings))


def member_calendar(session: Session, member_no: str, start: datetime, end: datetime) -> tuple[MemberRef, list[ActivityRecord]]:
    """Activities between `start` and `end` that expect the member, by the chat's audience rule: their
    branch's and 党小组's meetings, committee meetings where they hold a seat, the upper committee's for
    leading cadres (双重组织生活), and their own items (political birthday …). Cancelled ones are left out."""
    member = find_member(session, member_no)
    seats = roles.parse_seats(rows.seat_rows_of_members(session, [member.id]).get(member.id, ()))
    person = person_of(member.id, member.org_id, member.group_id, member.category, member.leading_cadre, seats)
    tree = OrgTree.load(session)
    org_ids = {member.org_id, *(seat.org for seat in person.seats), *tree.ancestors(member.org_id)}
    if member.group_id is not None:
        org_ids.add(member.group_id)
    records = rows.calendar_candidates(session, org_ids, member.id, start, end)
    audience = StoredAudience(session, tree)

    def is_for(record: ActivityRecord) -> bool:
        return part_of(target_of(record), person, tree, audience.secretaries_of) is not None

    return member, [record for record in records if is_for(record)]


def ancestor_codes(session: Session, org_code: str) -> list[str]:
    """Codes of the organisations above `org_code`, nearest first (for settings that inherit downwards)."""
    tree = OrgTree.load(session)
    org_id = tree.id_by_code.get(org_code)
    if org_id is None:
        raise UnknownOrganizationError(org_code)
    return [tree.code[a] for a in tree.ancestors(org_id)]


def lineages(session: Session, org_code: str) -> dict[str, tuple[str, ...]]:
    """For `org_code` and every organisation below it: the codes from the top of the tree down to it,
    which is how the catalog resolves per-organisation overrides (`Catalog.for_org(lineage)`)."""
    tree = OrgTree.load(session)
    root_id = tree.id_by_code.get(org_code)
    if root_id is None:
        raise UnknownOrganizationError(org_code)
    return {
        tree.code[org_id]: tree.lineage_codes(org_id) for org_id in tree.subtree(root_id)
    }


__all__ = [
    "ActivityRecord",
    "AttendanceLedger",
    "AttendanceReport",
    "CompletionInputs",
    "DualLifeEntry",
    "Mark",
    "MemberMeeting",
    "MemberRecord",
    "MemberRef",
    "OrgRef",
    "Tally",
    "UnknownMemberError",
    "UnknownOrganizationError",
    "ancestor_codes",
    "find_member",
    "find_organization",
    "load_activity_ledger",
    "load_completion_inputs",
    "load_ledger",
    "load_member_record",
    "load_report",
    "lineages",
    "member_calendar",
    "org_calendar",
    "org_zone",
    "organization_names",
]
