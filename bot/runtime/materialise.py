"""Materialiser: upsert the plan's occurrences for a rolling horizon and enqueue their reminders."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.runtime.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours, deliverable_at
from bot.settings import DEFAULT_TIMEZONE, Settings
from schedules.audience import Part, reminder_leads
from schedules.roster import Roster
from storage import models
from storage.repositories import activities as activity_repo
from storage.repositories import outbox
from storage.repositories.roster import load_roster
from storage.services.actors import OrgTree
from storage.services.audience import StoredAudience, target_of

log = logging.getLogger(__name__)

DEFAULT_HORIZON = Settings.horizon  # the contract's default lives with the other settings
# Lead times for activities created outside the plan (ad hoc, by chat) when none are given: the catalog's
# defaults, 3 days, 1 day and 1 hour before. Planned activities carry their own (possibly none).
DEFAULT_LEAD_MINUTES = (3 * 24 * 60, 24 * 60, 60)
# How far outside the horizon a provisional occurrence may have been moved by the official arrangement
# (holiday moves are days, never a month): a key absent from this wider window is really gone.
_REPLAN_MARGIN = timedelta(days=31)


class PlanSource(Protocol):
    """Where occurrences come from (the pure plan in production, a table in tests)."""

    def occurrences(self, roster: Roster, start: datetime, end: datetime) -> Iterable[Any]:
        """Occurrences starting in [start, end), shaped like `schedules.plan.Occurrence`."""
        ...

    def obligations_by_org(self, roster: Roster) -> dict[str, set[str]]:
        """For each organisation code, the catalog keys enabled for it (one scheduled job each)."""
        ...


@dataclass(frozen=True)
class ReminderPolicy:
    zone: ZoneInfo = DEFAULT_TIMEZONE
    quiet: QuietHours = DEFAULT_QUIET_HOURS


def reminder_due_times(
    starts_at: datetime, leads: Sequence[int], *, now: datetime, zone: ZoneInfo, quiet: QuietHours
) -> dict[int, datetime]:
    """For each lead (minutes) still worth a row, when its reminder may go out.

    Leads whose moment is still ahead keep it (moved out of quiet hours). Of the leads already passed
    when the row is first created, only the shortest is kept, due now: a member added late, or an
    activity added at short notice, gets one timely reminder rather than a burst of stale ones. Leads that
    end up at the same moment likewise keep only the shortest.
    """
    if starts_at <= now:
        return {}
    ahead: dict[int, datetime] = {}
    passed: list[int] = []
    for lead in sorted(set(leads), reverse=True):
        moment = deliverable_at(starts_at - timedelta(minutes=lead), starts_at, zone, quiet)
        if moment >= now:
            ahead[lead] = moment
        else:
            passed.append(lead)
    if passed:
        shortest = min(passed)
        ahead[shortest] = now
    # Quiet hours can move several leads onto one moment (2h and 30m before an 08:30 start both become 08:00):
    # the member gets one reminder then, the shortest lead's, not a burst.
    by_moment: dict[datetime, int] = {}
    for lead, moment in ahead.items():
        by_moment[moment] = min(lead, by_moment.get(moment, lead))
    return {lead: moment for moment, lead in by_moment.items()}


@dataclass
class MaterialiseReport:
    occurrences: int = 0
    created: int = 0
    moved: int = 0
    replanned: int = 0  # provisional activities the official arrangement moved or removed
    activities: int = 0
    reminders_enqueued: int = 0
    warnings: list[str] = field(default_factory=list)


def _audience(rule: StoredAudience, activity: models.Activity, cache: dict) -> list[tuple[int, bool, Part]]:
    """(member id, unreachable, part) of the activity's audience; shared by activities with the same audience."""
    key = (activity.org_id, activity.audience, activity.member_id)
    found = cache.get(key)
    if found is None:
        found = [(m.id, m.unreachable_since is not None, part) for m, part in rule.members(activity)]
        cache[key] = found
    return found


def _answered(session: Session, activity_ids: list[int]) -> set[tuple[int, int]]:
    answered: set[tuple[int, int]] = set()
    for start in range(0, len(activity_ids), 500):
        answered.update(session.execute(select(models.Attendance.activity_id, models.Attendance.member_id).where(
            models.Attendance.activity_id.in_(activity_ids[start:start + 500]))).all())
    return answered


def _bindings(session: Session) -> dict[int, int]:
    rows = session.execute(select(
        models.TelegramBinding.member_id, models.TelegramBinding.private_chat_id,
        models.TelegramBinding.telegram_user_id,
    )).all()
    return {member_id: private or user for member_id, private, user in rows}


def enqueue_reminders(
    session: Session, activities: Iterable[models.Activity], *, now: datetime, policy: ReminderPolicy,
    tree: Any | None = None, bindings: dict[int, int] | None = None,
) -> int:
    """Outbox rows for each (activity, recipient, lead); existing rows are left as they are."""
    tree = tree or OrgTree.load(session)
    bindings = _bindings(session) if bindings is None else bindings
    activities = [a for a in activities if a.status == models.ActivityStatus.SCHEDULED.value]
    if not bindings:
        return 0  # nobody can be reached yet
    answered = _answered(session, [a.id for a in activities])
    rule = StoredAudience(session, tree)
    audiences: dict[tuple, list[tuple[int, bool, Part]]] = {}
    zones: dict[int, ZoneInfo] = {}
    messages: list[outbox.NewMessage] = []
    for activity in activities:
        # An activity's own leads, as stored: empty means none (the catalog's `reminders: []`).
        leads = activity_repo.decode_leads(activity.reminder_leads)
        if activity.org_id not in zones:
            org = session.get(models.Organization, activity.org_id)
            zones[activity.org_id] = activity_repo.org_zone(org, policy.zone) if org else policy.zone
        target = target_of(activity)
        due_by_part: dict[Part, dict[int, datetime]] = {}
        for member_id, unreachable, part in _audience(rule, activity, audiences):
            # Only members who can be reached and have not answered (nobody is nagged after answering).
            chat_id = bindings.get(member_id)
            if chat_id is None or unreachable or (activity.id, member_id) in answered:
                continue
            if part not in due_by_part:
                # Each part hears at its own leads (a political birthday greets its member on the day).
                due_by_part[part] = reminder_due_times(
                    activity.starts_at, reminder_leads(target, part, leads), now=now, zone=zones[activity.org_id],
                    quiet=policy.quiet)
            messages += [outbox.NewMessage.reminder(activity.id, member_id, lead, due_at, chat_id=chat_id)
                         for lead, due_at in due_by_part[part].items()]
    return outbox.enqueue(session, messages)


def reminders_for(policy: ReminderPolicy):  # noqa: ANN201 - storage.services.activity_changes.Reminders
    """The materialiser as the change use cases' reminder port: chat and CLI pass the same one."""

    def queue(session: Session, activities: Sequence[models.Activity], now: datetime) -> int:
        return enqueue_reminders(session, activities, now=now, policy=policy)

    return queue


def roster_around(roster: Roster, org_codes: set[str]) -> Roster:
    """Just what planning `org_codes` needs: those organisations, their ancestors (whose overrides they
    inherit) and their members — so one obligation job does not plan every organisation."""
    keep = set(org_codes)
    for code in org_codes:
        if code in roster.by_code:
            keep.update(org.code for org in roster.ancestors(code))
    organizations = [org for org in roster.organizations if org.code in keep]
    members = [m for m in roster.members if m.org_code in org_codes or m.group_code in org_codes]
    return Roster.of(organizations, members)


def materialise(
    session: Session,
    *,
    now: datetime,
    policy: ReminderPolicy,
    plan: PlanSource | None,
    horizon: timedelta = DEFAULT_HORIZON,
    org_codes: Iterable[str] | None = None,
    obligation: str | None = None,
    roster: Roster | None = None,
) -> MaterialiseReport:
    """Bring activities and reminders up to date for [now, now + horizon); idempotent.

    `org_codes`/`obligation` narrow the work to one obligation job's share; `roster` may be passed when
    the caller knows it is current (the runtime caches it between jobs).
    """
    report = MaterialiseReport()
    end = now + horizon
    wanted_orgs = set(org_codes) if org_codes is not None else None
    if plan is not None:
        roster = roster if roster is not None else load_roster(session)
        if wanted_orgs is not None:
            roster = roster_around(roster, wanted_orgs)
        occurrences = [
            o for o in plan.occurrences(roster, now, end)
            if (wanted_orgs is None or o.org_code in wanted_orgs)
            and (obligation is None or o.obligation == obligation)
        ]
        report.occurrences = len(occurrences)
        upserted = activity_repo.upsert_occurrences(session, occurrences)
        report.created, report.moved = len(upserted.created), len(upserted.moved)
        for activity_id in upserted.moved:
            outbox.replan_pending(session, activity_id)
    org_ids = None
    if wanted_orgs is not None:
        org_ids = list(session.scalars(select(models.Organization.id).where(models.Organization.code.in_(wanted_orgs))))
    if plan is not None:
        report.replanned = _follow_calendar(session, plan, roster, upserted, occurrences, now=now, end=end,
                                            policy=policy, org_ids=org_ids, wanted_orgs=wanted_orgs,
                                            obligation=obligation)
    scheduled = activity_repo.scheduled_between(session, now, end, org_ids=org_ids, obligation=obligation)
    report.activities = len(scheduled)
    report.reminders_enqueued = enqueue_reminders(session, scheduled, now=now, policy=policy)
    return report


def _follow_calendar(
    session: Session, plan: PlanSource, roster: Roster, upserted: activity_repo.UpsertResult, occurrences: list[Any],
    *, now: datetime, end: datetime, policy: ReminderPolicy, org_ids: list[int] | None, wanted_orgs: set[str] | None,
    obligation: str | None,
) -> int:
    """Provisional years: tell people once; when the official arrangement arrived, follow it (see calendar_changes)."""
    from storage.services import calendar_changes

    calendar = getattr(plan, "calendar", None)
    # Told on the full runs (start, clock changes, config reloads), not on every obligation job's share.
    if calendar is not None and wanted_orgs is None and obligation is None:
        local_start, local_end = now.astimezone(policy.zone).date(), end.astimezone(policy.zone).date()
        years = [y for y in range(local_start.year, local_end.year + 1) if calendar.is_provisional(y)]
        if years:
            calendar_changes.tell_provisional_years(session, years, now=now, reachable=_bindings(session).keys())
    planned = {o.key for o in occurrences}
    orphans = calendar_changes.provisional_orphans(session, start=now, end=end, planned_keys=planned,
                                                   org_ids=org_ids, obligation=obligation)
    if orphans:
        # Not planned inside the horizon any more: moved just outside it (follow it there) or really gone.
        candidates = {row.occurrence_key for row in orphans}
        moved_out = [o for o in plan.occurrences(roster, now - _REPLAN_MARGIN, end + _REPLAN_MARGIN)
                     if o.key in candidates]
        followed = activity_repo.upsert_occurrences(session, moved_out)
        for activity_id in followed.moved:
            outbox.replan_pending(session, activity_id)
        upserted.rescheduled.update(followed.rescheduled)
        orphans = [row for row in orphans if row.occurrence_key not in {o.key for o in moved_out}]
    changes = calendar_changes.follow_official_arrangement(session, upserted, orphans, now=now, zone=policy.zone)
    return len(changes)
