"""China's official working-day calendar (statutory holidays and 调休 make-up workdays), refusing unknown years."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from schedules.config_errors import zh_problem
from schedules.recurrence import last_day_of_month

# The seven statutory holidays in the order of the year; the codes go into occurrence keys.
STATUTORY_HOLIDAYS: dict[str, str] = {
    "new_years_day": "元旦",
    "spring_festival": "春节",
    "tomb_sweeping_day": "清明",
    "labour_day": "劳动节",
    "dragon_boat_festival": "端午",
    "mid_autumn_festival": "中秋",
    "national_day": "国庆",
}

# How the packages spell the holidays (English names from chinesecalendar and holidays' en_US locale),
# and the Chinese spellings people write in override files.
_NAME_PATTERNS: tuple[tuple[str, str], ...] = (
    ("new_years_day", r"new year'?s day|元旦"),
    ("spring_festival", r"spring festival|chinese new year|春节|除夕"),
    ("tomb_sweeping_day", r"tomb.sweeping|清明"),
    ("labour_day", r"labou?r day|劳动节|五一"),
    ("dragon_boat_festival", r"dragon boat|端午"),
    ("mid_autumn_festival", r"mid.autumn|中秋"),
    ("national_day", r"national day|国庆"),
)

HOLIDAY_FILE_HELP = (
    "国务院办公厅发布《关于{year}年部分节假日安排的通知》后，把通知全文存为文本文件（或 .docx），"
    "运行 branchbot calendar import 通知文件 --write 生成 config/holidays/{year}.yaml；"
    "也可以按 config/holidays/TEMPLATE.yaml 的格式手工填写。然后重新运行。"
)

# Which calendar an occurrence stands on (the `calendar` key of `plan --format json`).
OFFICIAL = "official"
PROVISIONAL = "provisional"
PROVISIONAL_SOURCE = "《全国年节及纪念日放假办法》（暂定：调休未公布）"
# Bridging days off and weekend make-up workdays of a notice lie within two weeks of their holiday
# (2026: 国庆 from 1 October, make-up workday 20 September); a provisional date that close may still move.
TENTATIVE_MARGIN = timedelta(days=14)
# What a person reads beside a provisional item (tables, chat, ICS descriptions).
TENTATIVE_MARK = "（暂定）"
PROVISIONAL_NOTE = "暂定：当年国务院节假日安排通知尚未发布，按法定节假日和周末排定，通知发布后可能调整"


class CalendarUnknownYear(LookupError):
    """The holiday arrangement of a year is not known, not even provisionally; we never plan such a year."""

    def __init__(self, year: int, known: Iterable[int] = (), provisional: Iterable[int] = ()) -> None:
        self.year = year
        known = sorted(known)
        provisional = set(provisional)
        official = [y for y in known if y not in provisional]
        span = f"（目前已知：{official[0]}–{official[-1]} 年" if official else "（目前没有任何年份的数据"
        extra = "，以及 config/holidays/ 中的文件）" if official else "）"
        ahead = ""
        if official and year > official[-1] + 1:
            ahead = (f"{year} 年距最近公布的 {official[-1]} 年安排两年以上，连暂定日历也不作；"
                     f"暂定日历只排到 {official[-1] + 1} 年。")
        super().__init__(
            f"不知道 {year} 年的官方节假日和调休安排{span}{extra}，不能凭猜测排期。{ahead}"
            + HOLIDAY_FILE_HELP.format(year=year)
        )


class CalendarFileError(ValueError):
    """A holiday override file in config/holidays/ is malformed (message in Chinese, naming file and entry)."""


def holiday_code(name: str) -> str | None:
    """The statutory-holiday code a package or a person used `name` for, or None for other days off."""
    lowered = name.lower()
    if "substituted" in lowered or "调休" in name:
        return None
    for code, pattern in _NAME_PATTERNS:
        if re.search(pattern, lowered):
            return code
    return None


@dataclass(frozen=True, slots=True)
class HolidayPeriod:
    """A run of consecutive days off around one or more statutory holidays (e.g. 国庆、中秋 2025-10-01..08)."""

    codes: tuple[str, ...]
    first_day: date
    last_day: date

    @property
    def name(self) -> str:
        return "、".join(STATUTORY_HOLIDAYS.get(code, code) for code in self.codes)

    @property
    def code(self) -> str:
        return self.codes[0]

    @property
    def year(self) -> int:
        """The year the holiday belongs to: 元旦 2024 may start on 2023-12-30."""
        return self.last_day.year

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


@dataclass(frozen=True, slots=True)
class YearArrangement:
    """One year's official arrangement: named days off (besides plain weekends) and make-up workdays."""

    year: int
    days_off: Mapping[date, str]  # date -> holiday code, or "" for an unnamed day off (调休)
    makeup_workdays: frozenset[date]
    source: str
    # True for the statutory days alone, before the State Council's notice (no bridging days, no 调休).
    provisional: bool = False

    @property
    def calendar(self) -> str:
        return PROVISIONAL if self.provisional else OFFICIAL


@dataclass
class OfficialCalendar:
    """Working days by the official calendar: weekdays minus holidays plus weekend make-up workdays (调休).

    Built once at the edge from chinesecalendar, the `holidays` package and override files, then passed in.
    Any question about a year it does not know raises `CalendarUnknownYear`.

    The queries other parts rely on (the planner, the time parser, the chat layer):
      is_workday(day)           the one answer to "is this a working day"
      holidays_in(year)         the statutory holiday periods with names and first/last days
      calendar_of(year)         OFFICIAL or PROVISIONAL (a year planned before its notice)
      is_tentative(day)         a provisional day close enough to a holiday that the notice may change it
      known_years, knows(year), require(year), source_of(year), last_official_year
    """

    arrangements: Mapping[int, YearArrangement]
    _days_off: dict[date, str] = field(init=False, repr=False)
    _makeup: frozenset[date] = field(init=False, repr=False)
    _periods: dict[int, list[HolidayPeriod]] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._days_off = {}
        makeup: set[date] = set()
        for arrangement in self.arrangements.values():
            self._days_off.update(arrangement.days_off)
            makeup.update(arrangement.makeup_workdays)
        self._makeup = frozenset(makeup)

    @property
    def known_years(self) -> list[int]:
        return sorted(self.arrangements)

    def knows(self, year: int) -> bool:
        return year in self.arrangements

    def require(self, year: int) -> None:
        if year not in self.arrangements:
            raise self._unknown(year)

    def _unknown(self, year: int) -> CalendarUnknownYear:
        return CalendarUnknownYear(year, self.arrangements, self.provisional_years)

    @property
    def provisional_years(self) -> list[int]:
        return sorted(year for year, arrangement in self.arrangements.items() if arrangement.provisional)

    @property
    def last_official_year(self) -> int | None:
        official = [year for year, arrangement in self.arrangements.items() if not arrangement.provisional]
        return max(official) if official else None

    def source_of(self, year: int) -> str:
        self.require(year)
        return self.arrangements[year].source

    def calendar_of(self, year: int) -> str:
        """OFFICIAL when the year's notice is in (package or file), PROVISIONAL when planned on the law alone."""
        self.require(year)
        return self.arrangements[year].calendar

    def is_provisional(self, year: int) -> bool:
        return year in self.arrangements and self.arrangements[year].provisional

    def is_tentative(self, day: date) -> bool:
        """A day of a provisional year within TENTATIVE_MARGIN of one of its holidays: the notice may move it."""
        if not self.is_provisional(day.year):
            return False
        years = [year for year in (day.year - 1, day.year, day.year + 1) if year in self.arrangements]
        return any(
            period.first_day - TENTATIVE_MARGIN <= day <= period.last_day + TENTATIVE_MARGIN
            for year in years for period in self.holidays_in(year)
        )

    def is_workday(self, day: date) -> bool:
        if day.year not in self.arrangements:
            raise self._unknown(day.year)
        if day in self._makeup:
            return True
        return day.weekday() < 5 and day not in self._days_off

    def is_makeup_workday(self, day: date) -> bool:
        self.require(day.year)
        return day in self._makeup

    def next_workday(self, day: date) -> date:
        """`day` itself when it is a workday, else the first workday after it."""
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def previous_workday(self, day: date) -> date:
        """`day` itself when it is a workday, else the last workday before it."""
        while not self.is_workday(day):
            day -= timedelta(days=1)
        return day

    def workdays_before(self, day: date, count: int) -> date:
        """The `count`-th workday strictly before `day` (count=1: the last workday before it)."""
        for _ in range(count):
            day = self.previous_workday(day - timedelta(days=1))
        return day

    def nth_workday_of_month(self, year: int, month: int, nth: int) -> date | None:
        """The nth workday of a month (1-based; negative counts from the end); None if there are fewer."""
        day = date(year, month, 1) if nth > 0 else last_day_of_month(year, month)
        step = timedelta(days=1 if nth > 0 else -1)
        remaining = abs(nth)
        while day.month == month:
            if self.is_workday(day):
                remaining -= 1
                if remaining == 0:
                    return day
            day += step
        return None

    def holidays_in(self, year: int) -> list[HolidayPeriod]:
        """The statutory holiday periods of `year` with their names, in date order (weekends they span included)."""
        self.require(year)
        if year not in self._periods:
            self._periods[year] = self._compute_periods(year)
        return list(self._periods[year])

    def _compute_periods(self, year: int) -> list[HolidayPeriod]:
        # A period is a run of consecutive non-working days containing at least one named statutory day;
        # runs are followed across New Year (元旦 2024 began on 2023-12-30) where the next year is known.
        named = sorted(d for d, code in self._days_off.items() if code and d.year in (year - 1, year, year + 1))
        periods: list[HolidayPeriod] = []
        seen: set[date] = set()
        for start in named:
            if start in seen:
                continue
            first = start
            while self._off_if_known(first - timedelta(days=1)):
                first -= timedelta(days=1)
            last = start
            while self._off_if_known(last + timedelta(days=1)):
                last += timedelta(days=1)
            codes: list[str] = []
            day = first
            while day <= last:
                seen.add(day)
                code = self._days_off.get(day)
                if code and code not in codes:
                    codes.append(code)
                day += timedelta(days=1)
            period = HolidayPeriod(tuple(codes), first, last)
            if period.year == year:
                periods.append(period)
        return periods

    def _off_if_known(self, day: date) -> bool:
        return day.year in self.arrangements and not self.is_workday(day)


# --- sources -------------------------------------------------------------------------------------------


def arrangements_from_chinesecalendar() -> dict[int, YearArrangement]:
    """Every year chinesecalendar covers (it publishes a year once the State Council's notice is out)."""
    from chinese_calendar.constants import holidays as cc_holidays
    from chinese_calendar.constants import workdays as cc_workdays

    first, last = min(cc_holidays).year, max(cc_holidays).year
    years: dict[int, tuple[dict[date, str], set[date]]] = {year: ({}, set()) for year in range(first, last + 1)}
    for day, name in cc_holidays.items():
        years[day.year][0][day] = holiday_code(name) or ""
    for day in cc_workdays:
        if day.year in years:  # the workday table may run past the last year with published holidays
            years[day.year][1].add(day)
    return {
        year: YearArrangement(year, days, frozenset(makeup), "chinesecalendar") for year, (days, makeup) in years.items()
    }


def arrangements_from_holidays_package() -> dict[int, YearArrangement]:
    """Years for which the `holidays` package carries the official 调休 table; its later years are estimates."""
    import holidays
    from holidays.countries.china import ChinaStaticHolidays

    official_years = sorted(ChinaStaticHolidays.special_public_holidays)
    result: dict[int, YearArrangement] = {}
    for year in official_years:
        days_off: dict[date, str] = {}
        for day, name in holidays.China(years=year, language="en_US").items():
            if "estimated" in name.lower():
                break  # an estimated year is never an official arrangement
            days_off[day] = holiday_code(name) or ""
        else:
            makeup = {
                _substitution_workday(entry, year)
                for entry in _as_entries(ChinaStaticHolidays.special_public_holidays[year])
                if len(entry) >= 4
            }
            result[year] = YearArrangement(year, days_off, frozenset(makeup), "holidays")
    return result


def provisional_arrangement(year: int) -> YearArrangement:
    """A year before its notice: only the statutory days off of 《全国年节及纪念日放假办法》 (as amended in 2024).

    元旦 1 day, 春节 4 days from 除夕, 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3; the lunar dates and the 清明
    solar term come from the `holidays` package's lunisolar calendar (`observed=False`: no estimated
    days in lieu). Weekends stay non-working and no weekend is a make-up workday, so nothing planned on
    this calendar falls on a day the notice could take away, except bridging days it may add.
    """
    import holidays

    days_off: dict[date, str] = {}
    for day, name in holidays.China(years=year, language="en_US", observed=False).items():
        code = holiday_code(name)
        if code is not None:  # a day off in lieu of a moved weekend belongs to a notice, not to the law
            days_off[day] = code
    return YearArrangement(year, days_off, frozenset(), PROVISIONAL_SOURCE, provisional=True)


def _as_entries(value: Any) -> list[tuple]:
    return [value] if value and not isinstance(value[0], tuple) else list(value)


def _substitution_workday(entry: tuple, year: int) -> date:
    # (day-off month, day-off day, workday month, workday day[, workday year])
    return date(entry[4] if len(entry) == 5 else year, entry[2], entry[3])


# --- override files -------------------------------------------------------------------------------------


class _HolidayEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    start: date
    end: date

    @field_validator("name")
    @classmethod
    def _statutory(cls, value: str) -> str:
        if holiday_code(value) is None:
            raise ValueError(f"不是法定节假日名称：{value!r}（应为 {'、'.join(STATUTORY_HOLIDAYS.values())} 之一）")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> "_HolidayEntry":
        if self.end < self.start:
            raise ValueError(f"结束日期 {self.end} 早于开始日期 {self.start}")
        if (self.end - self.start).days > 14:
            raise ValueError(f"{self.start} 至 {self.end} 超过 15 天，请检查日期")
        return self


class _HolidayFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int
    source: str
    holidays: list[_HolidayEntry]
    makeup_workdays: list[date] = []


def parse_holiday_file(data: Any, source_name: str) -> YearArrangement:
    """A validated year arrangement from the parsed YAML of config/holidays/YYYY.yaml."""
    if not isinstance(data, dict):
        raise CalendarFileError(f"{source_name}：文件内容应为键值对（year、source、holidays、makeup_workdays）")
    try:
        parsed = _HolidayFile.model_validate(data)
    except ValidationError as exc:
        problems = "；".join(
            f"{'.'.join(str(p) for p in err['loc']) or '文件'}：{zh_problem(err)}" for err in exc.errors()
        )
        raise CalendarFileError(f"{source_name}：{problems}") from None
    expected = Path(source_name).stem
    if expected.isdigit() and int(expected) != parsed.year:
        raise CalendarFileError(f"{source_name}：year 是 {parsed.year}，与文件名 {expected} 不一致")
    days_off: dict[date, str] = {}
    for entry in parsed.holidays:
        code = holiday_code(entry.name) or ""
        day = entry.start
        while day <= entry.end:
            days_off[day] = code
            day += timedelta(days=1)
    makeup = frozenset(parsed.makeup_workdays)
    clash = sorted(makeup & days_off.keys())
    if clash:
        raise CalendarFileError(f"{source_name}：{clash[0]} 既是放假日又是调休上班日")
    return YearArrangement(parsed.year, days_off, makeup, source_name)


def build_official_calendar(
    holiday_files: Iterable[YearArrangement] = (), *, provisional: bool = True
) -> OfficialCalendar:
    """The calendar from the packages plus the parsed override files (files win for their year).

    With `provisional`, the year after the last published arrangement is added on the law alone
    (`provisional_arrangement`), so plans and reminders go on until its notice arrives; later years stay unknown.
    The files are read at the edge (`bot.deployment.load_official_calendar`); this stays pure.
    """
    arrangements: dict[int, YearArrangement] = {}
    arrangements.update(arrangements_from_holidays_package())
    arrangements.update(arrangements_from_chinesecalendar())  # chinesecalendar is the primary source
    for arrangement in holiday_files:
        arrangements[arrangement.year] = arrangement
    if provisional and arrangements:
        following = max(arrangements) + 1
        arrangements[following] = provisional_arrangement(following)
    return OfficialCalendar(arrangements)
