"""China's official working-day calendar (statutory holidays and 调休 make-up workdays), refusing unknown years."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from schedules.config_errors import zh_problem

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
    "请按国务院办公厅当年发布的《关于{year}年部分节假日安排的通知》填写 config/holidays/{year}.yaml"
    "（法定节假日的名称、起止日期和调休上班日，格式见 config/holidays/TEMPLATE.yaml），然后重新运行。"
)


class CalendarUnknownYear(LookupError):
    """The official holiday arrangement of a year is not known; we never plan such a year on a guess."""

    def __init__(self, year: int, known: Iterable[int] = ()) -> None:
        self.year = year
        known = sorted(known)
        span = f"（目前已知：{known[0]}–{known[-1]} 年" if known else "（目前没有任何年份的数据"
        extra = "，以及 config/holidays/ 中的文件）" if known else "）"
        super().__init__(
            f"不知道 {year} 年的官方节假日和调休安排{span}{extra}，不能凭猜测排期。"
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


@dataclass
class OfficialCalendar:
    """Working days by the official calendar: weekdays minus holidays plus weekend make-up workdays (调休).

    Built once at the edge from chinesecalendar, the `holidays` package and override files, then passed in.
    Any question about a year it does not know raises `CalendarUnknownYear`.
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
            raise CalendarUnknownYear(year, self.arrangements)

    def source_of(self, year: int) -> str:
        self.require(year)
        return self.arrangements[year].source

    def is_workday(self, day: date) -> bool:
        if day.year not in self.arrangements:
            raise CalendarUnknownYear(day.year, self.arrangements)
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
        day = date(year, month, 1) if nth > 0 else (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1))
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


def load_official_calendar(holidays_dir: Path | None) -> OfficialCalendar:
    """The calendar from the packages plus override files `holidays_dir/YYYY.yaml` (files win for their year)."""
    arrangements: dict[int, YearArrangement] = {}
    arrangements.update(arrangements_from_holidays_package())
    arrangements.update(arrangements_from_chinesecalendar())  # chinesecalendar is the primary source
    if holidays_dir is not None and holidays_dir.is_dir():
        for path in sorted(holidays_dir.glob("[0-9][0-9][0-9][0-9].yaml")):
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                raise CalendarFileError(f"{path}：不是有效的 YAML：{exc}") from None
            arrangement = parse_holiday_file(data, str(path))
            arrangements[arrangement.year] = arrangement
    return OfficialCalendar(arrangements)
