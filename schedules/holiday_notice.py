"""Reads the State Council's yearly holiday notice (《国务院办公厅关于YYYY年部分节假日安排的通知》) as published (pure)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from schedules.calendar import (
    STATUTORY_HOLIDAYS,
    OfficialCalendar,
    YearArrangement,
    holiday_code,
    provisional_arrangement,
)
from schedules.weekdays import WEEKDAY_DIGITS, weekday_zh

_NUMERALS = "一二三四五六七八九十"
_ITEM = re.compile(rf"^\s*[{_NUMERALS}]+、")
_ITEM_PARTS = re.compile(rf"^\s*[{_NUMERALS}]+、([^:]+):(.*)$")
_YEAR = re.compile(r"关于(\d{4})年部分节假日安排|现将(\d{4})年")
# A date as the notice writes it: 2022年12月31日, 1月28日, 23日 — with an optional note such as (农历除夕、周二).
_DATE = r"(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日(?:\(([^)]*)\))?"
_DAYS_OFF = re.compile(rf"^{_DATE}(?:至{_DATE})?放假(.*)$")
_DATE_ONLY = re.compile(_DATE)
_WORKDAYS = re.compile(rf"^{_DATE}(?:、{_DATE})*上班$")
_STATED_DAYS = re.compile(r"(?:共|放假)(\d+)天")
_WEEKDAY_NOTE = re.compile(rf"(?:周|星期)([{WEEKDAY_DIGITS}天])")


class NoticeError(ValueError):
    """A notice that cannot be read; names the line (1-based) and the text that could not be read."""

    def __init__(self, problem: str, line_no: int | None = None, line: str | None = None) -> None:
        self.problem, self.line_no, self.line = problem, line_no, line
        where = f"第 {line_no} 行无法读取：{line.strip()}\n" if line_no is not None and line is not None else ""
        super().__init__(f"{where}{problem}")


@dataclass(frozen=True, slots=True)
class NoticeItem:
    """One numbered item: the holidays it names, its days off (first..last) and its weekend make-up workdays."""

    names: tuple[str, ...]  # as written: 国庆节、中秋节
    codes: tuple[str, ...]
    first_day: date
    last_day: date
    makeup_workdays: tuple[date, ...]

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


@dataclass(frozen=True, slots=True)
class HolidayNotice:
    year: int
    title: str
    items: tuple[NoticeItem, ...]

    @property
    def makeup_workdays(self) -> list[date]:
        return sorted(day for item in self.items for day in item.makeup_workdays)

    def day_codes(self) -> dict[date, str]:
        """Every day off with its statutory holiday: a merged item (国庆节、中秋节) gives the law's own day
        (中秋 itself) its code and the rest of the run the first holiday named."""
        statutory = provisional_arrangement(self.year).days_off
        result: dict[date, str] = {}
        for item in self.items:
            day = item.first_day
            while day <= item.last_day:
                law = statutory.get(day)
                result[day] = law if law in item.codes else item.codes[0]
                day += timedelta(days=1)
        return result

    def arrangement(self, source: str) -> YearArrangement:
        return YearArrangement(self.year, self.day_codes(), frozenset(self.makeup_workdays), source)

    def holiday_entries(self) -> list[tuple[str, date, date]]:
        """(name, start, end) runs of one holiday, in the config/holidays/YYYY.yaml vocabulary."""
        entries: list[tuple[str, date, date]] = []
        for day, code in sorted(self.day_codes().items()):
            name = STATUTORY_HOLIDAYS[code]
            if entries and entries[-1][0] == name and entries[-1][2] + timedelta(days=1) == day:
                entries[-1] = (name, entries[-1][1], day)
            else:
                entries.append((name, day, day))
        return entries

    def to_yaml(self) -> str:
        """The holiday file for this year, in the format of config/holidays/TEMPLATE.yaml."""
        lines = [
            f"# {self.year} 年法定节假日安排：由 branchbot calendar import 从《{self.title}》生成。",
            "# 格式见 TEMPLATE.yaml；改动后程序在下次检查配置时（或重启后）按新安排重新排期。",
            "",
            f"year: {self.year}",
            f"source: {self.title}",
            "holidays:",
        ]
        lines += [f"  - {{name: {name}, start: {start.isoformat()}, end: {end.isoformat()}}}"
                  for name, start, end in self.holiday_entries()]
        workdays = self.makeup_workdays
        lines.append("makeup_workdays:" + ("" if workdays else " []"))
        lines += [f"  - {day.isoformat()}" for day in workdays]
        return "\n".join(lines) + "\n"


def _normalise(line: str) -> str:
    # Full-width punctuation and digits as published (：（）１) and as often re-typed (: ( ) 1) read alike.
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", line))


def _split_lines(text: str) -> list[tuple[int, str]]:
    """(line number, fragment): a pasted notice may run several numbered items into one line."""
    result = []
    for number, raw in enumerate(text.splitlines(), start=1):
        for fragment in re.split(rf"(?<=。)(?=\s*[{_NUMERALS}]+、)", raw):
            if fragment.strip():
                result.append((number, fragment))
    return result


def parse_notice(text: str) -> HolidayNotice:
    """The notice's year, items, days off and make-up workdays; NoticeError names the first line it cannot read."""
    lines = _split_lines(text)
    year = None
    title = None
    for _, raw in lines:
        match = _YEAR.search(_normalise(raw))
        if match:
            year = int(match.group(1) or match.group(2))
            break
    if year is None:
        raise NoticeError("找不到通知的年份：应有“关于YYYY年部分节假日安排的通知”或“现将YYYY年……安排通知如下”。")
    title = f"国务院办公厅关于{year}年部分节假日安排的通知"
    items: list[NoticeItem] = []
    for number, raw in lines:
        line = _normalise(raw)
        if not _ITEM.match(line):
            continue  # the heading, the preamble and the closing paragraphs carry no dates we use
        items.append(_parse_item(line, year, number, raw))
    if not items:
        raise NoticeError("通知中没有找到“一、元旦：……”这样的逐项安排。")
    named = {code for item in items for code in item.codes}
    missing = [name for code, name in STATUTORY_HOLIDAYS.items() if code not in named]
    if missing:
        raise NoticeError(f"通知中没有{'、'.join(missing)}的安排（七个法定节假日应逐项列出）。")
    days_off: dict[date, int] = {}
    for index, item in enumerate(items):
        day = item.first_day
        while day <= item.last_day:
            if day in days_off:
                raise NoticeError(f"{day.month}月{day.day}日在两项安排中都放假。")
            days_off[day] = index
            day += timedelta(days=1)
    for item in items:
        for workday in item.makeup_workdays:
            if workday in days_off:
                raise NoticeError(f"{workday.month}月{workday.day}日既放假又上班。")
    return HolidayNotice(year, title, tuple(items))


def _parse_item(line: str, year: int, number: int, raw: str) -> NoticeItem:
    def fail(problem: str) -> NoticeError:
        return NoticeError(problem, number, raw)

    parts = _ITEM_PARTS.match(line)
    if parts is None:
        raise fail("每项应写成“序号、节日名称：放假日期……”。")
    names = tuple(part for part in parts.group(1).split("、") if part)
    codes = []
    for name in names:
        code = holiday_code(name)
        if code is None:
            raise fail(f"“{name}”不是法定节假日（应为 {'、'.join(STATUTORY_HOLIDAYS.values())} 之一）。")
        codes.append(code)
    sentences = [s for s in parts.group(2).split("。") if s]
    if not sentences:
        raise fail("没有写放假日期。")
    off = _DAYS_OFF.match(sentences[0])
    if off is None:
        raise fail("放假日期应写成“1月28日（周二）至2月4日（周二）放假……”。")
    first = _date(off.groups()[0:4], year, None, fail)
    last = _date(off.groups()[4:8], year, first, fail) if off.group(7) else first
    if last < first:
        raise fail(f"放假结束日期 {last} 早于开始日期 {first}。")
    stated = _STATED_DAYS.search(sentences[0])
    if stated and int(stated.group(1)) != (last - first).days + 1:
        raise fail(f"写的是共 {stated.group(1)} 天，但 {first} 至 {last} 是 {(last - first).days + 1} 天。")
    workdays: list[date] = []
    for sentence in sentences[1:]:
        if _WORKDAYS.match(sentence):
            previous = None
            for match in _DATE_ONLY.finditer(sentence):
                day = _date(match.groups(), year, previous, fail)
                if day.weekday() < 5:
                    raise fail(f"调休上班日 {day.month}月{day.day}日是{weekday_zh(day)}，不是周末。")
                workdays.append(day)
                previous = day
        elif sentence.startswith("鼓励"):
            continue  # an encouragement (e.g. to rest on 除夕 using annual leave) changes no day
        elif not _DATE_ONLY.search(sentence) and "上班" not in sentence and "放假" not in sentence:
            break  # the closing paragraph, run into the last item when the notice was pasted as one line
        else:
            raise fail(f"看不懂这一句：“{sentence}”（应为调休上班日，如“1月26日（周日）上班”）。")
    return NoticeItem(names, tuple(codes), first, last, tuple(workdays))


def _date(groups, year: int, previous: date | None, fail) -> date:  # noqa: ANN001
    """A date from (year, month, day, note) groups; year and month default to the notice's year and the
    previous date's month ("2月15日至23日"); a weekday in the note must be that date's."""
    year_text, month_text, day_text, note = groups
    month = int(month_text) if month_text else (previous.month if previous else None)
    if month is None:
        raise fail(f"“{day_text}日”没有写月份。")
    chosen_year = int(year_text) if year_text else (previous.year if previous and not month_text else year)
    try:
        day = date(chosen_year, month, int(day_text))
    except ValueError:
        raise fail(f"{chosen_year}年{month}月{day_text}日不是有效日期。") from None
    for weekday in _WEEKDAY_NOTE.findall(note or ""):
        expected = WEEKDAY_DIGITS.index("日" if weekday == "天" else weekday)
        if day.weekday() != expected:
            raise fail(f"{month}月{day.day}日是{weekday_zh(day)}，通知写的是周{weekday}。")
    return day


def disagreements(notice: HolidayNotice, calendar: OfficialCalendar) -> list[date]:
    """The days of the notice's year on which it and `calendar` (e.g. chinesecalendar's data) differ on working."""
    mine = OfficialCalendar({notice.year: notice.arrangement("notice")})
    day, found = date(notice.year, 1, 1), []
    while day.year == notice.year:
        if mine.is_workday(day) != calendar.is_workday(day):
            found.append(day)
        day += timedelta(days=1)
    return found
