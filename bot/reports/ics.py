"""The one iCalendar formatter: activities (DB) or occurrences (plan) as an .ics feed for members' phones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from bot.reports.labels import obligation_label
from schedules.calendar import PROVISIONAL, PROVISIONAL_NOTE
from storage.services.reports import ActivityRecord

PRODID = "-//branchbot//党组织活动日历//ZH"
UID_DOMAIN = "branchbot"


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One calendar entry; `uid` must be stable so re-imported feeds update events instead of duplicating them."""

    uid: str
    title: str
    starts_at: datetime
    ends_at: datetime | None = None
    location: str | None = None
    description: str | None = None
    cancelled: bool = False
    all_day: bool = False  # a date (政治生日 …) rather than a meeting: DTSTART/DTEND become dates
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for moment in (self.starts_at, self.ends_at):
            if moment is not None and moment.tzinfo is None:
                raise ValueError(f"calendar event {self.uid} has a naive time {moment!r}")


def event_from_activity(activity: ActivityRecord, org_name: str = "") -> CalendarEvent:
    """A materialised activity; its occurrence key is the stable identity."""
    details = [f"类型：{obligation_label(activity.obligation)}"]
    if org_name:
        details.append(f"组织：{org_name}")
    if activity.topic:
        details.append(f"主题：{activity.topic}")
    return CalendarEvent(
        uid=f"{activity.occurrence_key}@{UID_DOMAIN}",
        title=activity.title,
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        location=activity.place,
        description="\n".join(details),
        cancelled=activity.status == "cancelled",
        categories=(activity.obligation,) if activity.obligation else (),
    )


def event_from_occurrence(occurrence: Any, org_name: str | None = None) -> CalendarEvent:
    """A planned occurrence from `schedules.plan` (duck-typed: key, obligation, title, org_code, starts_at,
    ends_at, and optionally moved_from, all_day, detail, checklist, calendar), so `plan --format ics` and the bot's
    feeds can share this formatter."""
    key = getattr(occurrence, "key", None) or getattr(occurrence, "occurrence_key")
    org = getattr(occurrence, "org_code", None) or getattr(occurrence, "org", "")
    obligation = getattr(occurrence, "obligation", None)
    details = [f"类型：{obligation_label(obligation)}"]
    if org:
        details.append(f"组织：{org_name}（{org}）" if org_name else f"组织：{org}")
    moved_from = getattr(occurrence, "moved_from", None)
    if moved_from:
        details.append(f"因节假日由 {moved_from} 调整")
    if getattr(occurrence, "detail", None):
        details.append(str(occurrence.detail))
    if getattr(occurrence, "checklist", None):
        details.append("清单：" + "、".join(occurrence.checklist))
    if getattr(occurrence, "calendar", None) == PROVISIONAL:
        details.append(PROVISIONAL_NOTE)
    return CalendarEvent(
        uid=f"{key}@{UID_DOMAIN}",
        title=occurrence.title,
        starts_at=occurrence.starts_at,
        ends_at=getattr(occurrence, "ends_at", None),
        location=getattr(occurrence, "place", None),
        description="\n".join(details),
        all_day=bool(getattr(occurrence, "all_day", False)),
        categories=(obligation,) if obligation else (),
    )


def calendar_feed(events: Iterable[CalendarEvent], *, name: str, zone: ZoneInfo, stamp: datetime) -> bytes:
    """An RFC 5545 calendar named `name`; times in `zone` with its VTIMEZONE; `stamp` is the DTSTAMP."""
    if stamp.tzinfo is None:
        raise ValueError("stamp must be aware")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", zone.key)
    years: set[int] = set()
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp.astimezone(ZoneInfo("UTC")).replace(microsecond=0))
        event.add("summary", item.title)
        start = item.starts_at.astimezone(zone)
        years.add(start.year)
        if item.all_day:
            first = start.date()
            end = item.ends_at.astimezone(zone).date() if item.ends_at else first
            event.add("dtstart", first)
            event.add("dtend", max(end, first + timedelta(days=1)))  # DTEND of a date is exclusive
        else:
            event.add("dtstart", start)
            if item.ends_at is not None:
                event.add("dtend", item.ends_at.astimezone(zone))
        if item.location:
            event.add("location", item.location)
        if item.description:
            event.add("description", item.description)
        if item.categories:
            event.add("categories", list(item.categories))
        event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        calendar.add_component(event)
    if years:
        # VTIMEZONE for every TZID used, covering the years of the feed.
        calendar.add_missing_timezones(date(min(years) - 1, 1, 1), date(max(years) + 1, 12, 31))
    return calendar.to_ical()


def activities_feed(activities: Iterable[ActivityRecord], org_names: dict[int, str], *, name: str, zone: ZoneInfo,
                    stamp: datetime) -> bytes:
    """Convenience: a feed straight from activity records (org names by org id for the descriptions)."""
    return calendar_feed(
        (event_from_activity(a, org_names.get(a.org_id, "")) for a in activities), name=name, zone=zone, stamp=stamp
    )
