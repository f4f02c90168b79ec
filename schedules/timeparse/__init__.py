"""Natural-language time parsing: a secretary's "下周三下午3点" becomes one aware moment, or a clear Chinese error.

Pure: every function takes `now` (aware) and the organisation's `zone`; nothing reads the clock.
Order of reading: ISO 8601 → our Chinese grammar (schedules.timeparse.chinese, which documents every
convention) → dateparser for English (schedules.timeparse.english) → validation. Chinese text that our grammar
cannot read completely is an error: dateparser's Chinese support fills missing parts from `now` ("下个月" → the
same day next month) and skips words it does not know, which is exactly the silent wrong date we refuse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from schedules.timeparse import chinese
from schedules.timeparse.deadline import (
    DEADLINE_EXAMPLES,
    PAST_DAY_EXAMPLES,
    ParsedDay,
    parse_deadline,
    parse_past_day,
)
from schedules.timeparse.english import ENGLISH_EXAMPLES, dateparser_settings, parse_english
from schedules.timeparse.model import (
    GENERAL_EXAMPLES,
    ParsedTime,
    TimeParseError,
    describe_clock,
    describe_day,
    local_moment,
)

__all__ = [
    "DEADLINE_EXAMPLES", "PAST_DAY_EXAMPLES", "ParsedDay", "ParsedTime", "ScheduleText", "TimeParseError",
    "parse_deadline", "parse_past_day", "parse_time", "split_schedule_text",
]

SCHEDULE_EXAMPLES = ("专题党课 下周三下午3点 三楼会议室", "支委会 明天上午9点 党员活动室", "主题党日 3月5日 14:30")

_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?", re.IGNORECASE
)
_CJK = re.compile(r"[\u3400-\u9fff]")
_TRAILING_PUNCTUATION = " \t\r\n。！？!?，,；;、"
_EDGE = " \u3000\t\r\n，,。；;：:、（）()【】[]"
_ENGLISH_FILLER = {"on", "at", "in", "the", "by", "around", "from", "for", "a", "an", "of", "and", "to"}
_TRAILING_PREPOSITION = re.compile(r"(?:\s+(?:on|at|by|around|from))+$", re.IGNORECASE)  # "meeting on | Friday"
_BOT_COMMAND = re.compile(r"^/\w+(?:@\w+)?\s*")


@dataclass(frozen=True)
class ScheduleText:
    """'/schedule 专题党课 下周三下午3点 三楼会议室' taken apart: what, when, where."""

    title: str
    parsed: ParsedTime
    place: str | None


def parse_time(text: str, now: datetime, zone: ZoneInfo) -> ParsedTime:
    """The one future moment `text` names, in `zone`; TimeParseError (Chinese message + examples) otherwise."""
    _require_aware(now)
    now = now.astimezone(zone)
    cleaned = chinese.to_half_width(text).strip(_TRAILING_PUNCTUATION)
    if not cleaned:
        raise TimeParseError("请写一个时间")
    if _ISO.fullmatch(cleaned):
        parsed = _parse_iso(cleaned, zone)
    elif (match := chinese.match_whole(cleaned)) is not None:
        parsed = chinese.resolve(match, now, zone)
    elif _CJK.search(cleaned):
        raise _unreadable_chinese(cleaned)
    else:
        parsed = parse_english(cleaned, now, zone)
    if parsed.at <= now:
        raise TimeParseError(f"{parsed.reading}已经过去了，不能安排在过去的时间", ("明天上午9点", "下周三下午3点"))
    return ParsedTime(at=parsed.at, reading=parsed.reading, matched=text.strip(_TRAILING_PUNCTUATION))


def split_schedule_text(text: str, now: datetime, zone: ZoneInfo) -> ScheduleText:
    """Find the time anywhere in `text`: before it is the title, after it the place (None when empty).

    A leading bot command ("/schedule") is dropped. When several stretches read as times, the one standing
    between spaces wins, then the longest, then the first. A missing title or time is a TimeParseError.
    """
    _require_aware(now)
    body = _BOT_COMMAND.sub("", text.strip())
    half_width = chinese.to_half_width(body)
    span = _best_chinese_span(half_width)
    if span is None or (not _standing_alone(half_width, span) and re.search(r"[A-Za-z]", half_width)):
        # "周一例会 tomorrow 9am": a weekday glued into the title must not beat an English time.
        span = _english_span(half_width, now, zone) or span
    if span is None:
        raise TimeParseError("没有找到时间：请按“活动名称 时间 地点”的顺序写", SCHEDULE_EXAMPLES)
    start, end = span
    parsed = parse_time(body[start:end], now, zone)
    title = _TRAILING_PREPOSITION.sub("", body[:start].strip(_EDGE)).strip(_EDGE)
    place = body[end:].strip(_EDGE) or None
    if not title:
        raise TimeParseError("请在时间前写上活动名称", SCHEDULE_EXAMPLES)
    return ScheduleText(title=title, parsed=parsed, place=place)


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
    if re.search(r"(本|这个?|下下?个?)月$", text) or re.fullmatch(r"\d{1,2}月", text):
        return TimeParseError(f"“{text}”没有写几号，请写明日期", ("下个月5号", "本月20日上午10点", "3月5日"))
    if "周末" in text:
        return TimeParseError("“周末”是周六还是周日？请写明", ("周六上午9点", "下周日下午3点"))
    if re.search(r"(本|这个?|下下?个?|上上?个?)(周|星期|礼拜)$", text):
        return TimeParseError(f"“{text}”没有写星期几，请写明", ("下周三下午3点", "本周五上午9点"))
    partial = chinese.find_all(text)
    if partial:
        piece = partial[0].group(0).strip(" 的,，")
        return TimeParseError(f"只看懂了“{piece}”，“{text}”的其余部分看不懂，请只写时间", GENERAL_EXAMPLES)
    return TimeParseError(f"看不懂“{text}”这个时间", GENERAL_EXAMPLES)


def _best_chinese_span(text: str) -> tuple[int, int] | None:
    spans = []
    for match in [*chinese.find_all(text), *_ISO.finditer(text)]:
        start, end = match.span()
        while start < end and text[start] in " 的,，\t":
            start += 1
        while end > start and text[end - 1] in " ,，\t":
            end -= 1
        if start < end:
            spans.append((start, end))
    if not spans:
        return None
    return max(spans, key=lambda span: (_standing_alone(text, span), span[1] - span[0], -span[0]))


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
