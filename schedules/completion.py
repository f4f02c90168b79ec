"""Pure completion rules: which required meetings each branch held in a period (met, late, missed, pending)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from schedules.recurrence import add_months
from schedules.roster import OrgType

if TYPE_CHECKING:
    from schedules.catalog import Catalog

# --------------------------------------------------------------------------------------------------
# Periods


class Cadence(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    YEARLY = "yearly"


@dataclass(frozen=True, order=True, slots=True)
class Period:
    """A span of calendar days in the organisation's zone: `start` inclusive, `end` exclusive."""

    start: date
    end: date
    label: str

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"empty period {self.start}..{self.end}")

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as aware instants: local midnight of `start` and of `end`."""
        return _local_midnight(self.start, zone), _local_midnight(self.end, zone)

    def is_over(self, now: datetime, zone: ZoneInfo) -> bool:
        return now >= _local_midnight(self.end, zone)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _next_month(day: date) -> date:
    return add_months(day.replace(day=1), 1)


def month_period(year: int, month: int) -> Period:
    start = date(year, month, 1)
    return Period(start, _next_month(start), f"{year}-{month:02d}")


def quarter_period(year: int, quarter: int) -> Period:
    if not 1 <= quarter <= 4:
        raise ValueError(f"quarter must be 1..4, not {quarter}")
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return Period(start, end, f"{year}Q{quarter}")


def half_year_period(year: int, half: int) -> Period:
    if half == 1:
        return Period(date(year, 1, 1), date(year, 7, 1), f"{year}H1")
    return Period(date(year, 7, 1), date(year + 1, 1, 1), f"{year}H2")


def year_period(year: int) -> Period:
    return Period(date(year, 1, 1), date(year + 1, 1, 1), str(year))


@lru_cache(maxsize=8192)  # pure; a ledger asks about the same few hundred days thousands of times
def period_containing(cadence: Cadence, day: date) -> Period:
    if cadence is Cadence.MONTHLY:
        return month_period(day.year, day.month)
    if cadence is Cadence.QUARTERLY:
        return quarter_period(day.year, (day.month - 1) // 3 + 1)
    if cadence is Cadence.SEMIANNUAL:
        return half_year_period(day.year, 1 if day.month <= 6 else 2)
    return year_period(day.year)


def periods_overlapping(cadence: Cadence, window: Period) -> list[Period]:
    """Every cadence period that shares at least one day with `window`, in order."""
    periods = []
    current = period_containing(cadence, window.start)
    while current.start < window.end:
        periods.append(current)
        current = period_containing(cadence, current.end)
    return periods


_CHINESE_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}
_MONTH_WORDS = {"十二": 12, "十一": 11, "十": 10, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
                "八": 8, "九": 9}
_YEAR = r"(19[5-9]\d|20\d\d)"  # a plausible year, so a member number such as 1007 is not one
_PERIOD_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"^{_YEAR}\s*[-/年]?\s*[Qq第]\s*([1-4一二三四])\s*季?度?$"), "quarter"),
    (re.compile(rf"^{_YEAR}\s*[-/年]?\s*(上半年|下半年|[Hh][12])$"), "half"),
    (re.compile(rf"^{_YEAR}\s*[-/年]\s*(\d{{1,2}})\s*月?$"), "month"),
    (re.compile(rf"^{_YEAR}\s*年?$"), "year"),
    # Without a year: the latest such period that has begun (一季度 in May is this year's; 12月 in May is last year's).
    (re.compile(r"^()(?:[Qq]|第)?\s*([1-4一二三四])\s*季度$|^()[Qq]([1-4])$"), "quarter"),
    (re.compile(r"^()(上半年|下半年)$"), "half"),
    (re.compile(r"^()(\d{1,2}|十[一二]?|[一二三四五六七八九])\s*月(?:份)?$"), "month"),
]


# Periods relative to today, and the other words for them.
_RELATIVE: dict[str, Callable[[date], Period]] = {
    "本月": lambda today: month_period(today.year, today.month),
    "上月": lambda today: period_containing(Cadence.MONTHLY, date(today.year, today.month, 1) - timedelta(days=1)),
    "本季度": lambda today: period_containing(Cadence.QUARTERLY, today),
    "上季度": lambda today: period_containing(
        Cadence.QUARTERLY, period_containing(Cadence.QUARTERLY, today).start - timedelta(days=1)
    ),
    "今年": lambda today: year_period(today.year),
    "去年": lambda today: year_period(today.year - 1),
}
_RELATIVE_ALIASES = {"本年": "今年"}
# What a person may type for a period, one example of each form `parse_period` reads: every usage text and the
# refusal list these (tests/reports/test_completion.py checks each parses and each rule has one).
PERIOD_FORMS = (
    "本月", "上月", "本季度", "上季度", "今年", "去年", "一季度", "12月", "上半年", "下半年",
    "2025", "2025年", "2025-03", "2025年3月", "2025Q1", "2025年第一季度", "2025H1", "2025年上半年",
)
PERIOD_FORMS_TEXT = "、".join(PERIOD_FORMS)


class PeriodError(ValueError):
    """A period the user typed that we cannot read; the message is Chinese and says what works."""


def _latest_begun(make: Callable[[int], Period], today: date) -> Period:
    period = make(today.year)
    return period if period.start <= today else make(today.year - 1)


def parse_period(text: str, *, today: date) -> Period:
    """Reads the forms of PERIOD_FORMS (and their variants: 本年, 2025/03, 第一季度, Q1, 十二月 …). A period without
    its year is the latest one that has begun by `today`."""
    cleaned = _RELATIVE_ALIASES.get(text.strip(), text.strip())
    if cleaned in _RELATIVE:
        return _RELATIVE[cleaned](today)
    for pattern, kind in _PERIOD_PATTERNS:
        match = pattern.match(cleaned)
        if not match:
            continue
        groups = [g for g in match.groups() if g is not None]
        year_text, raw = (groups + [""])[:2] if kind != "year" else (groups[0], "")
        if kind == "year":
            return year_period(int(year_text))
        if kind == "quarter":
            number = _CHINESE_DIGITS.get(raw) or int(raw)
            make: Callable[[int], Period] = lambda year: quarter_period(year, number)  # noqa: E731
        elif kind == "half":
            half = 1 if raw in ("上半年", "H1", "h1") else 2
            make = lambda year: half_year_period(year, half)  # noqa: E731
        else:
            month = _MONTH_WORDS.get(raw) or (int(raw) if raw.isdigit() else 0)
            if not 1 <= month <= 12:
                continue
            make = lambda year: month_period(year, month)  # noqa: E731
        return make(int(year_text)) if year_text else _latest_begun(make, today)
    raise PeriodError(f"无法识别的时间段：“{text}”。可以写：{PERIOD_FORMS_TEXT}")


def year_to_date(today: date) -> Period:
    """The default report period: 1 January to today, inclusive."""
    return Period(date(today.year, 1, 1), today + timedelta(days=1), f"{today.year}年初至{today:%m月%d日}")


# --------------------------------------------------------------------------------------------------
# What is required


class UnitKind(StrEnum):
    BRANCH = "branch"  # 党支部
    GROUP = "group"  # 党小组


@dataclass(frozen=True, slots=True)
class Requirement:
    """An obligation a unit must hold at least once per cadence period."""

    obligation: str
    cadence: Cadence
    unit: UnitKind
    label: str
    three_meetings_one_lecture: bool = False  # part of 三会一课


# The defaults of shared/reference/obligations.md (条例: 支委会、党小组会每月, 党员大会、党课每季度).
# Required slots come from this cadence table, NOT from which activities happen to be materialised:
# a month in which the runtime never created a committee meeting is still a missed committee meeting.
DEFAULT_REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("committee_meeting", Cadence.MONTHLY, UnitKind.BRANCH, "支委会", True),
    Requirement("group_meeting", Cadence.MONTHLY, UnitKind.GROUP, "党小组会", True),
    Requirement("general_assembly", Cadence.QUARTERLY, UnitKind.BRANCH, "党员大会", True),
    Requirement("party_lecture", Cadence.QUARTERLY, UnitKind.BRANCH, "党课", True),
    Requirement("theme_party_day", Cadence.MONTHLY, UnitKind.BRANCH, "主题党日"),
    Requirement("org_life_meeting", Cadence.YEARLY, UnitKind.BRANCH, "组织生活会"),
)

THREE_MEETINGS_ONE_LECTURE = tuple(r.obligation for r in DEFAULT_REQUIREMENTS if r.three_meetings_one_lecture)
_DEFAULTS_BY_KEY = {r.obligation: r for r in DEFAULT_REQUIREMENTS}
_UNIT_OF_ORG_TYPE = {OrgType.BRANCH.value: UnitKind.BRANCH, OrgType.GROUP.value: UnitKind.GROUP}


def requirements_from_catalog(entries: Mapping[str, Any]) -> tuple[Requirement, ...]:
    """The requirements one organisation owes according to its resolved catalog entries
    (`Catalog.for_org(lineage)`): the tracked obligations (those of DEFAULT_REQUIREMENTS) that are enabled
    there, with the catalog's cadence and organisation type. An organisation whose override disables the
    theme party day, or moves the committee meeting to quarterly, is judged by that."""
    result = []
    for key, default in _DEFAULTS_BY_KEY.items():
        entry = entries.get(key)
        if entry is None or not getattr(entry, "enabled", True):
            continue
        try:
            cadence = Cadence(getattr(entry, "cadence", default.cadence.value))
        except ValueError:
            continue  # weekly or date-driven entries are not judged per period
        for org_type in getattr(entry, "applies_to", ()):
            unit = _UNIT_OF_ORG_TYPE.get(org_type)
            if unit is not None:
                result.append(Requirement(key, cadence, unit, default.label, default.three_meetings_one_lecture))
    return tuple(result)


def catalog_requirements(catalog: Catalog, lineages: Mapping[str, tuple[str, ...]]) -> Callable[[Unit], Sequence[Requirement]]:
    """`requirements_for(unit)` for `evaluate_completion`: each unit judged by the catalog resolved along
    its lineage (top-down organisation codes), memoised per override chain (thousands of branches
    usually share one or two chains)."""
    cache: dict[tuple[str, ...], tuple[Requirement, ...]] = {}

    def requirements_for(unit: Unit) -> Sequence[Requirement]:
        chain = catalog.override_chain(lineages.get(unit.code, (unit.code,)))
        if chain not in cache:
            cache[chain] = requirements_from_catalog(catalog.resolved(chain))
        return cache[chain]

    return requirements_for


# --------------------------------------------------------------------------------------------------
# Facts and verdicts


@dataclass(frozen=True, slots=True)
class Unit:
    """A branch, or one of its 党小组, that owes meetings."""

    code: str
    name: str
    kind: UnitKind
    branch_code: str  # the branch itself, or the group's branch


@dataclass(frozen=True, slots=True)
class ActivityFact:
    """What the ledger says about one activity, as far as completion cares."""

    activity_id: int
    unit_code: str
    obligation: str | None
    starts_at: datetime
    status: str  # storage.models.ActivityStatus value

    def __post_init__(self) -> None:
        if self.starts_at.tzinfo is None:
            raise ValueError("ActivityFact.starts_at must be aware")


class CompletionState(StrEnum):
    MET = "met"  # held within its period
    LATE = "late"  # not held in its period, made up by an extra meeting afterwards
    MISSED = "missed"  # the period is over and nothing was held
    PENDING = "pending"  # not held yet, but the period is not over
    NO_RECORD = "no_record"  # over before the branch has any record in the ledger (e.g. before deployment)

    @property
    def label(self) -> str:
        return {"met": "已完成", "late": "补开", "missed": "未开展", "pending": "进行中", "no_record": "无记录"}[self.value]


@dataclass(frozen=True, slots=True)
class CompletionCell:
    unit: Unit
    requirement: Requirement
    period: Period
    state: CompletionState
    held_on: date | None = None
    activity_id: int | None = None
    # A scheduled activity exists in the period but the secretary has not confirmed it was held.
    awaiting_confirmation: bool = False

    @property
    def branch_code(self) -> str:
        return self.unit.branch_code


def evaluate_completion(
    units: Iterable[Unit],
    facts: Iterable[ActivityFact],
    *,
    window: Period,
    now: datetime,
    zone: ZoneInfo,
    requirements: Sequence[Requirement] = DEFAULT_REQUIREMENTS,
    requirements_for: Callable[[Unit], Sequence[Requirement]] | None = None,
    records_from: Mapping[str, date] | None = None,
) -> list[CompletionCell]:
    """One verdict per unit, requirement and cadence period overlapping `window`.

    `requirements_for(unit)`, when given, replaces `requirements` per unit (catalog overrides per
    organisation, see `requirements_from_catalog`).

    Rules, in order, per unit and obligation:
    1. A held activity (status `held`) counts for the cadence period containing its start → `met`.
    2. A held activity in a period that an earlier held activity already met is a make-up: it turns
       the earliest earlier missed period in the window into `late` (held_on = the make-up's date).
    3. Otherwise a period that is over is `missed`; one that is not over is `pending`.
    4. When `records_from` is given (branch code → the first day the ledger has anything for the branch or
       its groups), a period over before that day is `no_record`, not `missed`: the ledger cannot know;
       a branch absent from it has no record at all.
    Activities that are scheduled, not held or cancelled never count; a scheduled one only marks the
    verdict as awaiting confirmation. Periods starting after `now` are not listed.
    """
    if now.tzinfo is None:
        raise ValueError("now must be aware")
    today = now.astimezone(zone).date()
    held: dict[tuple[str, str], list[tuple[date, int]]] = defaultdict(list)
    unconfirmed: dict[tuple[str, str], list[date]] = defaultdict(list)
    for fact in facts:
        if fact.obligation is None:
            continue
        day = fact.starts_at.astimezone(zone).date()
        if fact.status == "held":
            held[(fact.unit_code, fact.obligation)].append((day, fact.activity_id))
        elif fact.status == "scheduled":
            unconfirmed[(fact.unit_code, fact.obligation)].append(day)

    # Periods, and whether each is over, are the same for every unit: computed once per cadence.
    schedule: dict[Cadence, _Periods] = {}
    cells: list[CompletionCell] = []
    for unit in units:
        for requirement in requirements if requirements_for is None else requirements_for(unit):
            if requirement.unit is not unit.kind:
                continue
            periods = schedule.get(requirement.cadence)
            if periods is None:
                periods = schedule[requirement.cadence] = _Periods.of(requirement.cadence, window, today, now, zone)
            key = (unit.code, requirement.obligation)
            begins = None if records_from is None else records_from.get(unit.branch_code, date.max)
            cells.extend(_judge_periods(unit, requirement, periods, sorted(held.get(key, ())), unconfirmed.get(key, ()),
                                        begins))
    return cells


@dataclass(frozen=True)
class _Periods:
    """The cadence periods judged in a window (those begun by today), in order, and which of them are over."""

    cadence: Cadence
    ordered: tuple[Period, ...]
    listed: frozenset[Period]
    over: frozenset[Period]

    @classmethod
    def of(cls, cadence: Cadence, window: Period, today: date, now: datetime, zone: ZoneInfo) -> "_Periods":
        ordered = tuple(p for p in periods_overlapping(cadence, window) if p.start <= today)
        return cls(cadence, ordered, frozenset(ordered), frozenset(p for p in ordered if p.is_over(now, zone)))

    def containing(self, day: date) -> Period | None:
        """The judged period containing `day`, or None when the day falls outside them."""
        period = period_containing(self.cadence, day)
        return period if period in self.listed else None


def _judge_periods(
    unit: Unit,
    requirement: Requirement,
    periods: _Periods,
    held: list[tuple[date, int]],
    unconfirmed: Sequence[date],
    records_begin: date | None = None,
) -> list[CompletionCell]:
    met: dict[Period, tuple[date, int]] = {}
    makeups: list[tuple[date, int]] = []
    for day, activity_id in held:
        period = periods.containing(day)
        if period is None:
            continue
        if period in met:
            makeups.append((day, activity_id))
        else:
            met[period] = (day, activity_id)

    late: dict[Period, tuple[date, int]] = {}
    for day, activity_id in makeups:
        owed = next((p for p in periods.ordered if p not in met and p not in late and p.end <= day), None)
        if owed is not None:
            late[owed] = (day, activity_id)

    waiting = {periods.containing(day) for day in unconfirmed}
    cells = []
    for period in periods.ordered:
        if period in met:
            day, activity_id = met[period]
            cells.append(CompletionCell(unit, requirement, period, CompletionState.MET, day, activity_id))
        elif period in late:
            day, activity_id = late[period]
            cells.append(CompletionCell(unit, requirement, period, CompletionState.LATE, day, activity_id))
        else:
            if period not in periods.over:
                state = CompletionState.PENDING
            elif records_begin is not None and period.end <= records_begin:
                state = CompletionState.NO_RECORD
            else:
                state = CompletionState.MISSED
            cells.append(CompletionCell(unit, requirement, period, state, awaiting_confirmation=period in waiting))
    return cells


# --------------------------------------------------------------------------------------------------
# Summaries the committee asks for


@dataclass(frozen=True, slots=True)
class BranchCompletion:
    """Counts of verdicts for one branch (its groups included)."""

    branch_code: str
    met: int = 0
    late: int = 0
    missed: int = 0
    pending: int = 0
    no_record: int = 0  # periods over before the ledger has anything for the branch: not counted as due

    @property
    def due(self) -> int:
        """Verdicts whose period is over or already satisfied: the denominator of the completion rate."""
        return self.met + self.late + self.missed

    @property
    def rate(self) -> float | None:
        return None if self.due == 0 else (self.met + self.late) / self.due


def summarise_by_branch(cells: Iterable[CompletionCell], obligations: Iterable[str] | None = None) -> list[BranchCompletion]:
    """Per-branch counts, in branch-code order (never ranked), optionally for some obligations only."""
    wanted = None if obligations is None else set(obligations)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {state.value: 0 for state in CompletionState})
    for cell in cells:
        if wanted is not None and cell.requirement.obligation not in wanted:
            continue
        counts[cell.branch_code][cell.state.value] += 1
    return [BranchCompletion(code, **counts[code]) for code in sorted(counts)]


def branches_without(cells: Iterable[CompletionCell], obligation: str, period_label: str) -> list[str]:
    """Branch codes that have not held `obligation` in the period labelled `period_label` (missed or pending)."""
    lacking = {
        cell.branch_code
        for cell in cells
        if cell.requirement.obligation == obligation
        and cell.period.label == period_label
        and cell.state in (CompletionState.MISSED, CompletionState.PENDING)
    }
    return sorted(lacking)
