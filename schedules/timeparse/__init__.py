"""Natural-language time parsing: a secretary's "下周三下午3点" becomes one aware moment, or a clear Chinese error.

Pure: every function takes `now` (aware) and the organisation's `zone`; nothing reads the clock.
Order of reading: ISO 8601 → our Chinese grammar (schedules.timeparse.chinese, which documents every
convention) → dateparser for English (schedules.timeparse.english) → validation. Days that depend on the official
calendar (清明节后第一个工作日, 3个工作日后) are read from the calendar passed in (schedules.timeparse.holidays);
deadlines (本月底前, 周五前) have their own reading (schedules.timeparse.deadline). Chinese text that our grammar
cannot read completely is an error: dateparser's Chinese support fills missing parts from `now` ("下个月" → the
same day next month) and skips words it does not know, which is exactly the silent wrong date we refuse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from schedules.timeparse import chinese
from schedules.timeparse.deadline import Deadline, parse_deadline
from schedules.timeparse.holidays import WorkCalendar
from schedules.timeparse.past_day import PAST_DAY_EXAMPLES, ParsedDay, parse_past_day
from schedules.timeparse.english import ENGLISH_EXAMPLES, dateparser_settings, parse_english
from schedules.timeparse.model import (
    GENERAL_EXAMPLES,
    ParsedTime,
    TimeParseError,
    describe_clock,
    describe_day,
    local_moment,
)
from schedules.weekdays import WEEK, WEEKDAY_CHARACTER

__all__ = [
    "PAST_DAY_EXAMPLES", "Deadline", "ParsedDay", "ParsedTime", "ScheduleText", "TimeParseError", "WorkCalendar",
    "parse_deadline", "parse_past_day", "parse_time", "split_schedule_text",
]

SCHEDULE_EXAMPLES = ("专题党课 下周三下午3点 三楼会议室", "支委会 明天上午9点 党员活动室", "主题党日 3月5日 14:30")

_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?", re.IGNORECASE
)
_CJK = re.compile(r"[\u3400-\u9fff]")
_TRAILING_PUNCTUATION = " \t\r\n。！？!?，,；;、"
_SEPARATORS = " \u3000\t\r\n，,。；;：:、"  # what separates a title, a time and a place
_BRACKETS = {"）": "（", ")": "(", "】": "【", "]": "["}  # closing -> opening
_EDGE = _SEPARATORS + "".join(_BRACKETS) + "".join(_BRACKETS.values())  # what may stand beside a time
_ENGLISH_FILLER = {"on", "at", "in", "the", "by", "around", "from", "for", "a", "an", "of", "and", "to"}
_TRAILING_PREPOSITION = re.compile(r"(?:\s+(?:on|at|by|around|from))+$", re.IGNORECASE)  # "meeting on | Friday"
_BOT_COMMAND = re.compile(r"^/\w+(?:@\w+)?\s*")
_LEADING_PLACE_WORD = re.compile(r"^(?:在|到|于)(?![\d一二三四五六七八九十两]+\s*[点时:])")  # "3点到党员活动室"
_DEADLINE_WORDS = re.compile(r"(?:月|年)(?:底|末|初|中)|(?:之|以)?前$|为止$|截止|以内$|之内$|内$")
# Words that only appear in times; left over at the end of a title or the start of a place they mean a time
# the grammar did not read.
_TIMEISH = (r"(?:本|这个?|下下?个?|上上?个?)(?:月|周|星期|礼拜)[初底末中旬]?|第\s*[0-9一二三四五六七八九十]+\s*个|最后一个|倒数第"
            r"|工作日|节[前后]|月[底末初]|年[底末]|[0-9一二三四五六七八九十两]+\s*(?:点钟?|时|分钟|小时|个半)"
            rf"|上午|下午|中午|晚上|早上|凌晨|傍晚|今晚|明早|明晚|大?后天|明天|今天|{WEEK}{WEEKDAY_CHARACTER}"
            r"|(?:到|至|~|-|—)\s*[0-9一二三四五六七八九十两]+\s*(?:点|时|:|日|号)")
_TRAILING_TIMEISH = re.compile(rf"(?:(?:{_TIMEISH})[的\s]*)+$")
# A place never starts with words that qualify a time ("左右 党员活动室").
_LEADING_TIMEISH = re.compile(rf"^(?:[的\s]*(?:{_TIMEISH}|左右|前后|以前|之前|以后|之后|结束))+")


@dataclass(frozen=True)
class ScheduleText:
    """'/schedule 专题党课 下周三下午3点 三楼会议室' taken apart: what, when, where."""

    title: str
    parsed: ParsedTime
    place: str | None


def parse_time(text: str, now: datetime, zone: ZoneInfo, calendar: WorkCalendar | None = None) -> ParsedTime:
    """The one future moment (or range: `.end`) `text` names, in `zone`; TimeParseError (Chinese message + examples)
    otherwise. `calendar` is the official (or provisional) calendar, needed only for days it defines."""
    _require_aware(now)
    now = now.astimezone(zone)
    cleaned = chinese.to_half_width(text).strip(_TRAILING_PUNCTUATION)
    if not cleaned:
        raise TimeParseError("请写一个时间")
    if _ISO.fullmatch(cleaned):
        parsed = _parse_iso(cleaned, zone)
    elif (match := chinese.match_whole(cleaned)) is not None:
        parsed = chinese.resolve(match, now, zone, calendar)
    elif _CJK.search(cleaned):
        raise _unreadable_chinese(cleaned)
    else:
        parsed = parse_english(cleaned, now, zone)
    if parsed.at <= now:
        raise TimeParseError(f"{parsed.reading}已经过去了，不能安排在过去的时间", ("明天上午9点", "下周三下午3点"))
    return ParsedTime(at=parsed.at, reading=parsed.reading, matched=text.strip(_TRAILING_PUNCTUATION), end=parsed.end)


def split_schedule_text(text: str, now: datetime, zone: ZoneInfo, calendar: WorkCalendar | None = None) -> ScheduleText:
    """Find the time anywhere in `text`: before it is the title, after it the place (None when empty).

    A leading bot command ("/schedule") is dropped. When several stretches read as times, the one standing
    between spaces wins, then the longest, then the first. A missing title or time is a TimeParseError, and so
    is time-like text left over beside the time ("集中学习 下个月第一个"), which is never folded into the title or
    the place. A passed yearless date comes back as an error whose `.suggestion` is the whole text with the year.
    """
    _require_aware(now)
    body = _BOT_COMMAND.sub("", text.strip())
    half_width = chinese.to_half_width(body)
    span = _best_chinese_span(half_width)
    if span is None or (not _standing_alone(half_width, span) and re.search(r"[A-Za-z]", half_width)):
        # "周一例会 tomorrow 9am": a weekday glued into the title must not beat an English time.
        span = _english_span(half_width, now, zone) or span
    if span is None:
        if (timeish := re.search(rf"(?:(?:{_TIMEISH})\S*)+", half_width)) is not None:
            raise TimeParseError(f"“{body[timeish.start():timeish.end()]}”看起来是时间，但看不懂", SCHEDULE_EXAMPLES)
        raise TimeParseError("没有找到时间：请按“活动名称 时间 地点”的顺序写", SCHEDULE_EXAMPLES)
    start, end = span
    try:
        parsed = parse_time(body[start:end], now, zone, calendar)
    except TimeParseError as exc:
        if exc.suggestion is not None:
            exc.suggestion = f"{body[:start]}{exc.suggestion}{body[end:]}"
        raise
    title = _trimmed(_TRAILING_PREPOSITION.sub("", _trimmed(body[:start])))
    place = _trimmed(_LEADING_PLACE_WORD.sub("", _trimmed(body[end:]))) or None
    if not title:
        raise TimeParseError("请在时间前写上活动名称", SCHEDULE_EXAMPLES)
    _refuse_leftover_time(title, place, parsed.matched)
    return ScheduleText(title=title, parsed=parsed, place=place)


def _trimmed(piece: str) -> str:
    """The title or place without the separators around it and without a bracket at its edge that pairs with
    nothing inside it (one that wrapped the time: "党课（明天下午3点）三楼"). A bracket the secretary closed or
    opened within the piece is theirs: "[支部] 党课", "学习[bold]党章[/bold]" are kept as typed."""
    unmatched: set[int] = set()
    open_at: dict[str, list[int]] = {opening: [] for opening in _BRACKETS.values()}
    for index, char in enumerate(piece):
        if char in open_at:
            open_at[char].append(index)
        elif char in _BRACKETS:
            stack = open_at[_BRACKETS[char]]
            if stack:
                stack.pop()
            else:
                unmatched.add(index)
    unmatched.update(index for stack in open_at.values() for index in stack)
    first, last = 0, len(piece)
    while first < last and (piece[first] in _SEPARATORS or first in unmatched):
        first += 1
    while last > first and (piece[last - 1] in _SEPARATORS or last - 1 in unmatched):
        last -= 1
    return piece[first:last]


def _refuse_leftover_time(title: str, place: str | None, matched: str) -> None:
    """Time words beside the time that the grammar did not read would silently become part of the title or the
    place ("到4点 党员活动室"): say what was read and what was not."""
    leftover = None
    if (tail := _TRAILING_TIMEISH.search(title)) is not None:
        leftover = tail.group(0).strip(_EDGE)
    elif place and (head := _LEADING_TIMEISH.match(place)) is not None:
        leftover = head.group(0).strip(_EDGE)
    if leftover:
        raise TimeParseError(
            f"只看懂了时间“{matched}”，旁边的“{leftover}”看起来也是时间，但看不懂；请把时间写在一处",
            SCHEDULE_EXAMPLES + ("党员大会 12月20日下午2点到4点 党员活动室", "集中学习 下个月第一个周五上午9点"),
        )


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def _parse_iso(text: str, zone: ZoneInfo) -> ParsedTime:
    try:
        value = datetime.fromisoformat(text.upper().replace(" ", "T"))
    except ValueError:
        raise TimeParseError(f"“{text}”这个日期或时刻不存在", ("2025-03-12 15:00", "2025-03-12T15:00+08:00")) from None
    if value.tzinfo is None:
        at = local_moment(value.date(), value.hour, value.minute, zone).replace(
            second=value.second, microsecond=value.microsecond
        )
    else:
        at = value.astimezone(zone)
    reading = f"{describe_day(at.date())} {describe_clock(at.hour, at.minute)}"
    if value.tzinfo is not None and value.utcoffset() != at.utcoffset():
        reading += f"（原文时区 {value.isoformat()}）"
    return ParsedTime(at=at, reading=reading, matched=text)


def _unreadable_chinese(text: str) -> TimeParseError:
    if _DEADLINE_WORDS.search(text):
        return TimeParseError(f"“{text}”是一个期限，不是具体时间；活动请写明哪天几点（期限请用 --deadline 或整改事项的期限栏）",
                              ("3月31日上午9点", "本月最后一个工作日上午9点", "周五下午3点"))
    if re.search(r"节(?:假日?)?[前后]", text) and not re.search(chinese.HOLIDAY_PATTERN, text):
        return TimeParseError(f"“{text}”是哪个节日？请写明", ("国庆节后第一个工作日上午9点", "清明节前最后一个工作日"))
    if re.search(r"第\s*[0-9一二三四五]\s*个\s*(周|星期|礼拜|工作日)", text) and not re.search(r"月", text):
        return TimeParseError(f"“{text}”是哪个月的？请写明月份", ("下个月第一个周一上午9点", "本月第三个周五"))
    if re.search(chinese.HOLIDAY_PATTERN + r"\s*(前|后|之前|之后)$", text):
        return TimeParseError(f"“{text}”没有说是哪一天，请写明", ("国庆节后第一个工作日上午9点", "国庆节前最后一个工作日"))
    if re.search(r"(本|这个?|下下?个?)月$", text) or re.fullmatch(r"\d{1,2}月", text):
        return TimeParseError(f"“{text}”没有写几号，请写明日期", ("下个月5号", "本月20日上午10点", "3月5日"))
    if "周末" in text:
        return TimeParseError("“周末”是周六还是周日？请写明", ("周六上午9点", "下周日下午3点"))
    if re.search(rf"(本|这个?|下下?个?|上上?个?){WEEK}$", text):
        return TimeParseError(f"“{text}”没有写星期几，请写明", ("下周三下午3点", "本周五上午9点"))
    partial = chinese.find_all(text)
    if partial:
        best = max(partial, key=lambda match: len(match.group(0).strip(" 的,，")))
        start, end = chinese.span_of(best)
        piece = text[start:end].strip(" 的,，")
        unread = (text[:start] + " " + text[end:]).strip(" 的,，")
        return TimeParseError(f"只看懂了“{piece}”，看不懂“{unread}”，请只写时间", GENERAL_EXAMPLES)
    return TimeParseError(f"看不懂“{text}”这个时间", GENERAL_EXAMPLES)


def _best_chinese_span(text: str) -> tuple[int, int] | None:
    spans = []
    for match in chinese.find_all(text):
        spans.append(chinese.span_of(match))
    for match in _ISO.finditer(text):
        spans.append(match.span())
    trimmed = []
    for start, end in spans:
        while start < end and text[start] in " 的,，\t":
            start += 1
        while end > start and text[end - 1] in " ,，\t":
            end -= 1
        if start < end:
            trimmed.append((start, end))
    if not trimmed:
        return None
    return max(trimmed, key=lambda span: (_standing_alone(text, span), span[1] - span[0], -span[0]))


def _standing_alone(text: str, span: tuple[int, int]) -> bool:
    """True when the span is bounded by spaces, punctuation or the ends of the text."""
    start, end = span
    return (start == 0 or text[start - 1] in _EDGE) and (end == len(text) or text[end] in _EDGE)


def _english_span(text: str, now: datetime, zone: ZoneInfo) -> tuple[int, int] | None:
    """dateparser's search finds a date in English text; we shrink its span to the words that carry it."""
    if not re.search(r"[A-Za-z]", text):
        return None
    from dateparser.search import search_dates  # lazy: only English schedules need it

    settings = dateparser_settings(now, zone)
    settings.pop("RETURN_TIME_AS_PERIOD")
    found: list[tuple[int, str]] = []
    # search_dates gives up on text that mixes in Chinese, so each run of non-Chinese text is searched alone.
    for run in re.finditer(r"[^\u3400-\u9fff]+", text):
        for piece, _ in search_dates(run.group(0), languages=["en"], settings=settings) or []:
            found.append((run.start() + run.group(0).find(piece), piece))
    if not found:
        return None
    start, substring = max(found, key=lambda item: len(item[1]))
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", substring)]

    def reading(first: int, last: int) -> datetime | None:
        try:
            return parse_time(text[words[first][0]:words[last][1]], now, zone).at
        except TimeParseError:
            return None

    # search_dates over-reaches ("tomorrow 9am 2" of "tomorrow 9am 2号楼"): take the longest run of its words
    # that reads as a time; when none does, the whole of it goes to parse_time, which says why.
    windows = [(first, first + size - 1) for size in range(len(words), 0, -1) for first in range(len(words) - size + 1)]
    readable = next(((window, at) for window in windows if (at := reading(*window)) is not None), None)
    if readable is None:
        return start, start + len(substring)
    (first, last), target = readable
    # Drop filler words ("on", "in the") at either end as long as the reading stays the same.
    for step in ("front", "back"):
        while first < last:
            edge = words[first] if step == "front" else words[last]
            if text[edge[0]:edge[1]].lower() not in _ENGLISH_FILLER:
                break
            trial = (first + 1, last) if step == "front" else (first, last - 1)
            if reading(*trial) != target:
                break
            first, last = trial
    return words[first][0], words[last][1]


__all__ += ["ENGLISH_EXAMPLES", "GENERAL_EXAMPLES", "SCHEDULE_EXAMPLES"]
