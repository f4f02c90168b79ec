"""The one iCalendar formatter: activities (DB) or occurrences (plan) as an .ics feed for members' phones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from bot.reports.labels import obligation_label
from storage.repositories.reports import ActivityRecord

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
    )


def event_from_occurrence(occurrence: Any) -> CalendarEvent:
    """A planned occurrence from `schedules` (duck-typed: key/occurrence_key, title, org_code/org,
    starts_at, ends_at, obligation), so `plan --format ics` and the bot's feeds share this formatter."""
    key = getattr(occurrence, "key", None) or getattr(occurrence, "occurrence_key")
    org = getattr(occurrence, "org_code", None) or getattr(occurrence, "org", "")
    obligation = getattr(occurrence, "obligation", None)
    details = [f"类型：{obligation_label(obligation)}"] + ([f"组织：{org}"] if org else [])
    moved_from = getattr(occurrence, "moved_from", None)
    if moved_from:
        details.append(f"因节假日由 {moved_from} 调整")
    return CalendarEvent(
        uid=f"{key}@{UID_DOMAIN}",
        title=getattr(occurrence, "title"),
        starts_at=getattr(occurrence, "starts_at"),
        ends_at=getattr(occurrence, "ends_at", None),
        location=getattr(occurrence, "place", None),
        description="\n".join(details),
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
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp.astimezone(ZoneInfo("UTC")))
        event.add("summary", item.title)
        event.add("dtstart", item.starts_at.astimezone(zone))
        if item.ends_at is not None:
            event.add("dtend", item.ends_at.astimezone(zone))
        if item.location:
            event.add("location", item.location)
        if item.description:
            event.add("description", item.description)
        event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
        calendar.add_component(event)
    if hasattr(calendar, "add_missing_timezones"):  # icalendar ≥ 6: VTIMEZONE for every TZID used
        calendar.add_missing_timezones()
    return calendar.to_ical()


def activities_feed(activities: Iterable[ActivityRecord], org_names: dict[int, str], *, name: str, zone: ZoneInfo,
                    stamp: datetime) -> bytes:
    """Convenience: a feed straight from activity records (org names by org id for the descriptions)."""
    return calendar_feed(
        (event_from_activity(a, org_names.get(a.org_id, "")) for a in activities), name=name, zone=zone, stamp=stamp
    )
