"""Calendar feeds, parsed back with icalendar: stable UIDs, zone-aware times, only what the member attends."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from icalendar import Calendar

from bot.reports.ics import CalendarEvent, activities_feed, calendar_feed, event_from_occurrence
from storage.services import reports
from tests.reports.conftest import SHANGHAI, local

STAMP = local("2025-07-01T10:00")
YEAR = (local("2025-01-01T00:00"), local("2026-01-01T00:00"))


def parse(feed: bytes) -> tuple[Calendar, list]:
    calendar = Calendar.from_ical(feed)
    return calendar, list(calendar.walk("VEVENT"))


def test_member_feed_has_their_meetings_with_stable_uids_and_local_times(session, world):
    member, items = reports.member_calendar(session, "M002", *YEAR)
    feed = activities_feed(items, reports.organization_names(session, [a.org_id for a in items]),
                           name=f"{member.name}的党组织活动", zone=SHANGHAI, stamp=STAMP)
    calendar, events = parse(feed)
    assert str(calendar["X-WR-CALNAME"]) == "李明的党组织活动"
    assert [str(e["SUMMARY"]) for e in events] == ["一月主题党日", "春节廉政提醒", "二月党小组会", "李明的政治生日"]
    first = events[0]
    assert str(first["UID"]) == "theme_party_day:B01:2025-01@branchbot"
    assert first.decoded("DTSTART") == datetime(2025, 1, 15, 9, tzinfo=SHANGHAI)
    assert first["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert "主题：学习二十届三中全会精神" in str(first["DESCRIPTION"])
    assert "组织：第一支部" in str(first["DESCRIPTION"])
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]


def test_committee_member_feed_includes_the_upper_committee(session, world):
    _, items = reports.member_calendar(session, "M001", *YEAR)
    _, events = parse(activities_feed(items, {}, name="王书记", zone=SHANGHAI, stamp=STAMP))
    assert "党委书记讲党课" in [str(e["SUMMARY"]) for e in events]
    assert "一月支委会" in [str(e["SUMMARY"]) for e in events]


def test_branch_feed_has_no_personal_items(session, world):
    org, items = reports.org_calendar(session, "B01", *YEAR)
    _, events = parse(activities_feed(items, {org.id: org.name}, name=org.name, zone=SHANGHAI, stamp=STAMP))
    summaries = [str(e["SUMMARY"]) for e in events]
    assert "李明的政治生日" not in summaries and "二月主题党日" not in summaries  # personal; cancelled
    assert summaries == ["一月支委会", "一月主题党日", "春节廉政提醒", "二月党小组会"]


def test_plan_occurrences_use_the_same_formatter():
    occurrence = SimpleNamespace(
        key="general_assembly:B01:2025Q2", obligation="general_assembly", title="第二季度党员大会", org_code="B01",
        starts_at=datetime(2025, 6, 16, 1, 0, tzinfo=timezone.utc), ends_at=datetime(2025, 6, 16, 3, 0, tzinfo=timezone.utc),
        moved_from="2025-06-15",
    )
    _, events = parse(calendar_feed([event_from_occurrence(occurrence)], name="计划", zone=SHANGHAI, stamp=STAMP))
    (event,) = events
    assert event.decoded("DTSTART") == datetime(2025, 6, 16, 9, tzinfo=SHANGHAI)
    assert event.decoded("DTEND") == datetime(2025, 6, 16, 11, tzinfo=SHANGHAI)
    assert "因节假日由 2025-06-15 调整" in str(event["DESCRIPTION"])


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        CalendarEvent(uid="x", title="x", starts_at=datetime(2025, 1, 1))


def test_all_day_occurrences_become_date_events():
    occurrence = SimpleNamespace(key="political_birthday:M002:2025", obligation="political_birthday", title="政治生日",
                                 org_code="B01", starts_at=datetime(2025, 6, 1, 9, tzinfo=SHANGHAI), ends_at=None,
                                 all_day=True, checklist=("赠送政治生日贺卡", "开展一次谈心谈话"))
    _, (event,) = parse(calendar_feed([event_from_occurrence(occurrence, "第一支部")], name="计划", zone=SHANGHAI,
                                      stamp=STAMP))
    assert event.decoded("DTSTART").isoformat() == "2025-06-01"
    assert event.decoded("DTEND").isoformat() == "2025-06-02"
    assert "清单：赠送政治生日贺卡、开展一次谈心谈话" in str(event["DESCRIPTION"])
    assert "组织：第一支部（B01）" in str(event["DESCRIPTION"])


def test_the_plan_engineers_occurrence_type_is_accepted():
    from datetime import date

    from schedules.plan import Occurrence

    occurrence = Occurrence(
        key="theme_party_day:B01:2025-10", obligation="theme_party_day", title="十月主题党日", org_code="B01",
        starts_at=datetime(2025, 10, 9, 9, tzinfo=SHANGHAI), ends_at=datetime(2025, 10, 9, 11, tzinfo=SHANGHAI),
        member_no=None, audience="all_members", moved_from=date(2025, 10, 1), kind="meeting",
        requires_confirmation=True, checkin=None, reminder_leads=(),
    )
    _, (event,) = parse(calendar_feed([event_from_occurrence(occurrence, "第一支部")], name="计划", zone=SHANGHAI,
                                      stamp=STAMP))
    assert str(event["UID"]) == "theme_party_day:B01:2025-10@branchbot"
    assert event.decoded("DTSTART") == datetime(2025, 10, 9, 9, tzinfo=SHANGHAI)
    assert "因节假日由 2025-10-01 调整" in str(event["DESCRIPTION"])
