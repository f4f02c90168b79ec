"""The plan: every occurrence of every enabled obligation for every organisation and member in a period (pure)."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from schedules.audience import Audience, Part, RosterAudience, Target
from schedules.calendar import OFFICIAL, PROVISIONAL, OfficialCalendar
from schedules.catalog import CALENDAR_CADENCES, Catalog, Obligation
from schedules.recurrence import (
    Period,
    add_months,
    anniversary,
    clamp_day,
    last_day_of_month,
    nth_weekday,
    periods_of_year,
    weeks_with_weekday,
)
from schedules.roster import Category, Member, Organization, Roster

_MIDNIGHT = time(0, 0)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One planned occurrence of an obligation; `key` is its stable identity (unchanged by holiday moves).

    Keys, by cadence (the runtime stores them as the activity's unique `occurrence_key`):
      calendar cadences   obligation:ORG:PERIOD      theme_party_day:B01:2025-03, general_assembly:B01:2025-Q1,
                                                     semiannual_review:D01:2025-H2, july_first:B01:2025,
                                                     weekly_study:B01:2025-W07 (ISO week)
      holidays            obligation:ORG:YEAR-CODE   holiday_integrity_reminder:B01:2026-new_years_day
      member dates        obligation:BRANCH:MEMBER:WHEN   political_birthday:B01:M001:2025,
                                                     probation_conversion:B01:M002:2025-06-30 (the due date)
      term                term_expiry:ORG:EXPIRY:STAGE    term_expiry:B01:2026-03-14:-6m | due | overdue-3
    A member admitted on 29 February has the political birthday on 28 February in common years; month
    steps (probation, reviews, terms) that land on a missing day take the month's last day.
    """

    key: str
    obligation: str
    title: str
    org_code: str
    starts_at: datetime  # aware, in the organisation's zone
    ends_at: datetime | None
    member_no: str | None
    audience: str
    moved_from: date | None  # the rule's date when the official calendar moved it
    kind: str  # meeting | task | notice
    requires_confirmation: bool
    checkin: tuple[timedelta, timedelta] | None  # (opens, closes) relative to starts_at
    reminder_leads: tuple[timedelta, ...]
    all_day: bool = False
    checklist: tuple[str, ...] = ()
    detail: str | None = None
    # OFFICIAL, or PROVISIONAL when a date it stands on belongs to a year whose notice is not in yet;
    # `tentative`: provisional and close to a holiday, so the notice may still move it (shown "（暂定）").
    calendar: str = OFFICIAL
    tentative: bool = False

    @property
    def day(self) -> date:
        return self.starts_at.date()

    @property
    def checkin_opens_at(self) -> datetime | None:
        return None if self.checkin is None else self.starts_at + self.checkin[0]

    @property
    def checkin_closes_at(self) -> datetime | None:
        return None if self.checkin is None else self.starts_at + self.checkin[1]

    def to_json(self) -> dict[str, Any]:
        """The contract's keys (obligation, title, org, starts_at, ends_at, member, audience, moved_from) and more."""
        return {
            "obligation": self.obligation,
            "title": self.title,
            "org": self.org_code,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "member": self.member_no,
            "audience": self.audience,
            "moved_from": self.moved_from.isoformat() if self.moved_from else None,
            "key": self.key,
            "kind": self.kind,
            "all_day": self.all_day,
            "requires_confirmation": self.requires_confirmation,
            "checkin_opens_at": self.checkin_opens_at.isoformat() if self.checkin else None,
            "checkin_closes_at": self.checkin_closes_at.isoformat() if self.checkin else None,
            "reminder_leads_minutes": [int(lead.total_seconds() // 60) for lead in self.reminder_leads],
            "checklist": list(self.checklist),
            "detail": self.detail,
            "calendar": self.calendar,
            "tentative": self.tentative,
        }


@dataclass(frozen=True, slots=True)
class _Slot:
    """A resolved date of an org-level obligation in one period, shared by every org with the same entry."""

    label: str
    day: date
    moved_from: date | None
    period: Period


@dataclass(frozen=True, slots=True)
class _Template:
    """What an entry contributes to every occurrence, built once per (resolved) entry."""

    title: str
    reminder_leads: tuple[timedelta, ...]
    checkin: tuple[timedelta, timedelta] | None
    checklist: tuple[str, ...]


class _Planner:
    """Holds the caches of one planning run; every method is pure given its inputs."""

    def __init__(self, catalog: Catalog, roster: Roster, calendar: OfficialCalendar, zone: ZoneInfo,
                 window: tuple[datetime, datetime] | None = None) -> None:
        self.catalog = catalog
        self.window = window  # only build occurrences starting in [start, end)
        self.roster = roster
        self.calendar = calendar
        self.default_zone = zone
        self._zones: dict[str | None, ZoneInfo] = {None: zone}
        self._chains: dict[str, tuple[str, ...]] = {}
        self._slots: dict[tuple[tuple[str, ...], str, int], list[_Slot]] = {}
        self._templates: dict[int, _Template] = {}
        self._starts: dict[tuple[int, date, ZoneInfo], tuple[datetime, datetime | None]] = {}
        self._member_entries: dict[tuple[str, ...], list[Obligation]] = {}
        self._org_entries: dict[tuple[tuple[str, ...], str], list[Obligation]] = {}
        self._year_periods: dict[int, Period] = {}
        self._standing: dict[date, tuple[str, bool]] = {}

    # -- per organisation ------------------------------------------------------------------------------

    def zone_of(self, org: Organization) -> ZoneInfo:
        zone = self._zones.get(org.timezone)
        if zone is None:
            zone = self._zones[org.timezone] = ZoneInfo(org.timezone)  # type: ignore[arg-type]
        return zone

    def chain_of(self, org_code: str) -> tuple[str, ...]:
        chain = self._chains.get(org_code)
        if chain is None:
            if self.catalog.overrides:
                lineage = [org.code for org in self.roster.ancestors(org_code)][::-1] + [org_code]
                chain = self.catalog.override_chain(lineage)
            else:
                chain = ()
            self._chains[org_code] = chain
        return chain

    def org_entries(self, chain: tuple[str, ...], org_type: str) -> list[Obligation]:
        """The enabled organisation-level entries that apply to this type of organisation."""
        found = self._org_entries.get((chain, org_type))
        if found is None:
            found = [
                e for e in self.catalog.resolved(chain).values()
                if e.enabled and org_type in e.applies_to and e.cadence != "member_dates"
            ]
            self._org_entries[(chain, org_type)] = found
        return found

    def member_entries(self, chain: tuple[str, ...]) -> list[Obligation]:
        """The enabled member-date entries for organisations with this override chain."""
        found = self._member_entries.get(chain)
        if found is None:
            found = [e for e in self.catalog.resolved(chain).values() if e.enabled and e.cadence == "member_dates"]
            self._member_entries[chain] = found
        return found

    def year_period(self, year: int) -> Period:
        found = self._year_periods.get(year)
        if found is None:
            found = self._year_periods[year] = Period(str(year), date(year, 1, 1), date(year, 12, 31))
        return found

    def outside_window(self, starts: datetime) -> bool:
        """Whether an occurrence starting at `starts` falls outside the requested window (if any)."""
        return self.window is not None and not self.window[0] <= starts < self.window[1]

    def template(self, entry: Obligation) -> _Template:
        found = self._templates.get(id(entry))
        if found is None:
            checkin = (entry.checkin.opens, entry.checkin.closes) if entry.checkin else None
            found = _Template(entry.name, tuple(entry.reminders), checkin, tuple(entry.checklist))
            self._templates[id(entry)] = found
        return found

    # -- dates -----------------------------------------------------------------------------------------

    def standing(self, *days: date | None) -> tuple[str, bool]:
        """(calendar, tentative) of an occurrence placed by looking at `days` (its date, the rule's date …)."""
        calendar, tentative = OFFICIAL, False
        for day in days:
            if day is None:
                continue
            found = self._standing.get(day)
            if found is None:
                provisional = self.calendar.is_provisional(day.year)
                found = (PROVISIONAL if provisional else OFFICIAL, provisional and self.calendar.is_tentative(day))
                self._standing[day] = found
            if found[0] == PROVISIONAL:
                calendar = PROVISIONAL
            tentative = tentative or found[1]
        return calendar, tentative

    def apply_policy(self, entry: Obligation, day: date, period: Period) -> date | None:
        """Where the official calendar puts a meeting whose rule says `day`; None when it is skipped."""
        if entry.holiday_policy == "keep" or self.calendar.is_workday(day):
            return day
        if entry.holiday_policy == "skip":
            return None
        forward = entry.holiday_policy == "next_workday"
        # Moving never leaves the period (a monthly meeting stays in its month): try the other way instead.
        return self._walk(day, forward, period) or self._walk(day, not forward, period)

    def placed(self, entry: Obligation, nominal: date, period: Period,
               zone: ZoneInfo) -> tuple[date, datetime, datetime | None] | None:
        """(day, start, end) of a dated occurrence after the holiday policy; None when skipped or outside the window."""
        actual = self.apply_policy(entry, nominal, period)
        if actual is None:
            return None
        starts, ends = self.times(entry, actual, zone)
        return None if self.outside_window(starts) else (actual, starts, ends)

    def _walk(self, day: date, forward: bool, period: Period) -> date | None:
        step = timedelta(days=1 if forward else -1)
        day += step
        while day in period:
            if self.calendar.is_workday(day):
                return day
            day += step
        return None

    def nominal_in_month(self, entry: Obligation, year: int, month: int, entries: dict[str, Obligation]) -> date | None:
        when = entry.when
        if when.same_day_as is not None:
            return self.nominal_in_month(entries[when.same_day_as], year, month, entries)
        if when.day is not None:
            return last_day_of_month(year, month) if when.day == "last" else clamp_day(year, month, when.day)
        if when.weekday is not None:
            return nth_weekday(year, month, entry.weekday_number or 0, when.nth or 1)
        if when.workday is not None:
            return self.calendar.nth_workday_of_month(year, month, when.workday)
        return None

    def slots(self, chain: tuple[str, ...], entry: Obligation, year: int) -> list[_Slot]:
        """The dates of a calendar-cadence entry in `year` (cached: most organisations share them)."""
        cache_key = (chain, entry.key, year)
        found = self._slots.get(cache_key)
        if found is not None:
            return found
        entries = self.catalog.resolved(chain)
        result: list[_Slot] = []
        if entry.cadence == "weekly":
            candidates = weeks_with_weekday(year, entry.weekday_number or 0)
        else:
            candidates = []
            for period in periods_of_year(entry.cadence, year):
                y, m = period.month(entry.when.month_index)  # a month is its own first month
                day = self.nominal_in_month(entry, y, m, entries)
                if day is not None:
                    candidates.append((period, day))
        for period, nominal in candidates:
            actual = self.apply_policy(entry, nominal, period)
            if actual is not None:
                result.append(_Slot(period.label, actual, None if actual == nominal else nominal, period))
        self._slots[cache_key] = result
        return result

    def times(self, entry: Obligation, day: date, zone: ZoneInfo, period_end: date | None = None) -> tuple[datetime, datetime | None]:
        cache_key = (id(entry), day, zone)
        found = self._starts.get(cache_key)
        if found is not None and entry.duration != "period":
            return found
        starts = datetime.combine(day, entry.time, tzinfo=zone)
        ends: datetime | None
        if entry.duration is None:
            ends = None
        elif entry.duration == "period":
            ends = datetime.combine((period_end or day) + timedelta(days=1), _MIDNIGHT, tzinfo=zone)
        elif entry.all_day:
            ends = datetime.combine(day + timedelta(days=max(1, entry.duration.days)), _MIDNIGHT, tzinfo=zone)
        else:
            ends = starts + entry.duration
        self._starts[cache_key] = (starts, ends)
        return starts, ends

    # -- generators ------------------------------------------------------------------------------------

    def org_occurrences(self, org: Organization, year: int) -> Iterator[Occurrence]:
        """Occurrences of `org`'s own obligations (not its members') whose local date falls in `year`."""
        zone = self.zone_of(org)
        chain = self.chain_of(org.code)
        for entry in self.org_entries(chain, org.type.value):
            key = entry.key
            cadence = entry.cadence
            if cadence in CALENDAR_CADENCES:
                template = self.template(entry)
                prefix = f"{key}:{org.code}:"
                for slot in self.slots(chain, entry, year):
                    starts, ends = self.times(entry, slot.day, zone, slot.period.last_day)
                    if self.outside_window(starts):
                        continue
                    yield Occurrence(
                        prefix + slot.label, key, template.title, org.code, starts, ends, None, entry.audience,
                        slot.moved_from, entry.kind, entry.requires_confirmation, template.checkin,
                        template.reminder_leads, entry.all_day, template.checklist, None,
                        *self.standing(slot.day, slot.moved_from),
                    )
            elif cadence == "holidays":
                yield from self.holiday_occurrences(org, entry, zone, year)
            elif cadence == "org_term":
                yield from self.term_occurrences(org, entry, zone, year)

    def holiday_occurrences(self, org: Organization, entry: Obligation, zone: ZoneInfo, year: int) -> Iterator[Occurrence]:
        template = self.template(entry)
        periods = self.calendar.holidays_in(year)
        if self.calendar.knows(year + 1):
            periods += self.calendar.holidays_in(year + 1)  # 元旦 of next year is announced in late December
        seen: set[str] = set()
        for holiday in periods:
            label = f"{holiday.year}-{holiday.code}"
            while label in seen:
                label += "+"
            seen.add(label)
            day = self.calendar.workdays_before(holiday.first_day, entry.when.workdays_before or 0)
            if day.year != year:
                continue
            starts, ends = self.times(entry, day, zone)
            if self.outside_window(starts):
                continue
            yield Occurrence(
                f"{entry.key}:{org.code}:{label}", entry.key, f"{template.title}（{holiday.name}）", org.code,
                starts, ends, None, entry.audience, None, entry.kind, entry.requires_confirmation,
                template.checkin, template.reminder_leads, entry.all_day, template.checklist,
                f"{holiday.name}：{holiday.first_day.isoformat()} 至 {holiday.last_day.isoformat()} 放假，共 {holiday.days} 天",
                *self.standing(day, holiday.first_day),
            )

    def term_occurrences(self, org: Organization, entry: Obligation, zone: ZoneInfo, year: int) -> Iterator[Occurrence]:
        if org.elected_on is None or not org.term_years:
            return
        expiry = add_months(org.elected_on, 12 * org.term_years)
        stages: list[tuple[str, date, str]] = [
            (f"-{months}m", add_months(expiry, -months), f"任期将于 {expiry.isoformat()} 届满（还有 {months} 个月）")
            for months in sorted(set(entry.notices_months_before), reverse=True)
        ]
        stages.append(("due", expiry, f"任期于 {expiry.isoformat()} 届满"))
        if entry.overdue_every is not None:
            step_days = max(1, entry.overdue_every.days)
            first_k = max(1, (date(year, 1, 1) - expiry).days // step_days)
            k = first_k
            while True:
                day = expiry + timedelta(days=k * step_days)
                if day.year > year:
                    break
                stages.append((f"overdue-{k}", day, f"任期已于 {expiry.isoformat()} 届满，逾期未换届（第 {k} 次提醒）"))
                k += 1
        template = self.template(entry)
        year_period = self.year_period(year)
        for label, nominal, detail in stages:
            if nominal.year != year:
                continue
            placed = self.placed(entry, nominal, year_period, zone)
            if placed is None:
                continue
            actual, starts, ends = placed
            yield Occurrence(
                f"{entry.key}:{org.code}:{expiry.isoformat()}:{label}", entry.key, f"{template.title}：{org.name}",
                org.code, starts, ends, None, entry.audience, None if actual == nominal else nominal, entry.kind,
                entry.requires_confirmation, template.checkin, template.reminder_leads, entry.all_day,
                template.checklist, detail, *self.standing(actual, nominal),
            )

    def member_occurrences(self, member: Member, year: int) -> Iterator[Occurrence]:
        org = self.roster.by_code.get(member.org_code)
        if org is None:
            return
        zone = self.zone_of(org)
        year_period = self.year_period(year)
        for entry in self.member_entries(self.chain_of(org.code)):
            key = entry.key
            template = self.template(entry)
            for label, nominal, detail in self.member_dates(entry, member, year):
                placed = self.placed(entry, nominal, year_period, zone)
                if placed is None:
                    continue
                actual, starts, ends = placed
                leads = template.reminder_leads
                if entry.secretary_notice_at_month_start:
                    # The secretary hears on the 1st (a lead of 0 when the day is the 1st); the member is greeted
                    # on the day itself (schedules.audience.reminder_leads).
                    month_start = datetime.combine(actual.replace(day=1), entry.time, tzinfo=zone)
                    leads = tuple(sorted({*leads, starts - month_start}, reverse=True))
                yield Occurrence(
                    f"{key}:{org.code}:{member.member_no}:{label}", key, subject_title(template.title, member.name), org.code,
                    starts, ends, member.member_no, entry.audience, None if actual == nominal else nominal,
                    entry.kind, entry.requires_confirmation, template.checkin, leads, entry.all_day,
                    template.checklist, detail, *self.standing(actual, nominal),
                )

    def member_dates(self, entry: Obligation, member: Member, year: int) -> Iterator[tuple[str, date, str]]:
        rule = entry.rule
        if rule == "political_birthday":
            if member.category.is_party_member and member.joined_on and year > member.joined_on.year:
                day = anniversary(member.joined_on, year)
                yield str(year), day, f"入党日期 {member.joined_on.isoformat()}，入党 {year - member.joined_on.year} 周年"
        elif rule == "probation_end":
            if member.category is Category.PROBATIONARY and member.joined_on and member.joined_on.year + 1 == year:
                due = anniversary(member.joined_on, year)
                yield due.isoformat(), due, f"{member.joined_on.isoformat()} 接收为预备党员，预备期满 {due.isoformat()}"
        elif rule == "party_age":
            full = member.full_member_on
            if member.category is Category.FULL and full and entry.years and full.year + entry.years == year:
                if entry.when.month is not None and (entry.when.day or entry.when.weekday or entry.when.workday):
                    month = 12 if entry.when.month == "last" else entry.when.month
                    day = self.nominal_in_month(entry, year, month, {}) or anniversary(full, year)
                else:
                    day = anniversary(full, year)
                yield str(year), day, f"{full.isoformat()} 转正，党龄满 {entry.years} 年"
        elif rule == "activist_review":
            start = member.activist_on
            every = entry.every_months or 6
            if member.category in (Category.ACTIVIST, Category.CANDIDATE) and start:
                months_to_year = (year - start.year) * 12 - start.month + 1
                k = max(1, months_to_year // every)
                while True:
                    day = add_months(start, k * every)
                    if day.year > year:
                        break
                    if day.year == year:
                        yield day.isoformat(), day, f"{start.isoformat()} 确定为入党积极分子，第 {k} 次考察（每 {every} 个月）"
                    k += 1


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building (and restore it after).

    A year for a thousand branches allocates 100,000+ acyclic objects; the collector's repeated passes
    over them are pure overhead and make the cost grow faster than the number of organisations.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_plan(
    catalog: Catalog, roster: Roster, calendar: OfficialCalendar, year: int, zone: ZoneInfo
) -> list[Occurrence]:
    """Every occurrence whose local date (in its organisation's zone) falls in `year`, sorted by time.

    Organisations without a timezone use `zone`. Raises `CalendarUnknownYear` for a year the calendar lacks.
    """
    calendar.require(year)
    return _occurrences(_Planner(catalog, roster, calendar, zone), roster, range(year, year + 1))


def plan_between(
    catalog: Catalog, roster: Roster, calendar: OfficialCalendar, start: datetime, end: datetime, zone: ZoneInfo
) -> list[Occurrence]:
    """Occurrences with `start <= starts_at < end` (aware instants), e.g. the runtime's rolling horizon."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("plan_between needs aware datetimes")
    if end <= start:
        return []
    zones = {zone} | {ZoneInfo(org.timezone) for org in roster.organizations if org.timezone}
    first = min(start.astimezone(z).year for z in zones)
    last = max((end - timedelta(microseconds=1)).astimezone(z).year for z in zones)
    for year in range(first, last + 1):
        calendar.require(year)
    return _occurrences(_Planner(catalog, roster, calendar, zone, window=(start, end)), roster, range(first, last + 1))


def _occurrences(planner: _Planner, roster: Roster, years: range) -> list[Occurrence]:
    """Every organisation's and active member's occurrences in `years`, sorted by time."""
    occurrences: list[Occurrence] = []
    with _collector_paused():
        for year in years:
            for org in roster.organizations:
                occurrences.extend(planner.org_occurrences(org, year))
            for member in roster.members:
                if member.is_active:
                    occurrences.extend(planner.member_occurrences(member, year))
        _sort(occurrences)
    return occurrences


def _sort(occurrences: list[Occurrence]) -> None:
    """By start, ties by key; two stable passes are cheaper than building a tuple key per occurrence."""
    occurrences.sort(key=attrgetter("key"))
    occurrences.sort(key=attrgetter("starts_at"))


# --- filters the CLI and the bot use ----------------------------------------------------------------------


def within_orgs(occurrences: Iterable[Occurrence], roster: Roster, org_code: str) -> list[Occurrence]:
    """The occurrences of `org_code` and every organisation below it."""
    codes = roster.subtree_codes(org_code)
    return [o for o in occurrences if o.org_code in codes]


def subject_title(title: str, name: str) -> str:
    """A per-member occurrence's title names its subject: "政治生日：李四"."""
    return f"{title}：{name}"


def names_subject(title: str, name: str) -> bool:
    """Whether a stored title is one `subject_title` made for `name` (a hand-made or older one may not be)."""
    return title.endswith(subject_title("", name))


def target_of(occurrence: Occurrence) -> Target[str, str]:
    """The occurrence as the audience rule sees it (its organisation, audience key and subject)."""
    return Target(Audience.of(occurrence.audience), occurrence.org_code, occurrence.member_no)


def audience_of(occurrence: Occurrence, roster: Roster | RosterAudience) -> list[tuple[Member, Part]]:
    """Everyone the occurrence is for, with their part (schedules.audience), in member-number order."""
    rule = roster if isinstance(roster, RosterAudience) else RosterAudience(roster)
    return rule.recipients(target_of(occurrence))


def concerns_member(occurrence: Occurrence, member: Member, roster: Roster | RosterAudience) -> bool:
    """Whether the occurrence is about `member` (its subject) or for them (attends, is greeted, must act).

    A member's plan lists their own 转正 although its reminders go to the branch committee."""
    if occurrence.member_no == member.member_no:
        return True
    rule = roster if isinstance(roster, RosterAudience) else RosterAudience(roster)
    return rule.part(target_of(occurrence), member) is not None


def occurrences_for_member(occurrences: Iterable[Occurrence], roster: Roster, member_no: str) -> list[Occurrence]:
    member = next((m for m in roster.members if m.member_no == member_no), None)
    if member is None:
        raise KeyError(member_no)
    rule = RosterAudience(roster)
    return [o for o in occurrences if concerns_member(o, member, rule)]


def count_by_obligation(occurrences: Iterable[Occurrence]) -> dict[tuple[str, str], int]:
    """How many occurrences each (organisation, obligation) owes: the reports' denominator."""
    counts: dict[tuple[str, str], int] = {}
    for occurrence in occurrences:
        pair = (occurrence.org_code, occurrence.obligation)
        counts[pair] = counts.get(pair, 0) + 1
    return counts


__all__ = [
    "Occurrence", "build_plan", "plan_between", "within_orgs", "concerns_member", "occurrences_for_member",
    "audience_of", "target_of",
    "count_by_obligation",
]
