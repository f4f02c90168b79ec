"""The year whose holiday notice is not in yet: planned provisionally, people told once, and re-planned when it comes."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.runtime.materialise import ReminderPolicy, materialise
from bot.runtime.plan_source import CatalogPlan
from bot.settings import PROJECT_CONFIG_DIR
from schedules.calendar import provisional_arrangement
from schedules.holiday_notice import parse_notice
from storage import models
from storage.models import OutboxState
from storage.outbox_kinds import OutboxKind
from storage.services.views import checkin_window
from tests.runtime.factories import rendered
from tests.calendar_cut import packages_through_2026  # noqa: F401 - a fixture
from tests.runtime.factories import SHANGHAI, at, make_branch, members_of

POLICY = ReminderPolicy(zone=SHANGHAI)
# Far enough to reach through February 2027 from 1 December 2026.
HORIZON = timedelta(days=92)

# A hypothetical 2027 notice (the real one is not out on 2026-12-01): 春节 from 除夕 for eight days.
NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月5日（农历除夕、周五）至12日（农历正月初五、周五）放假调休，共8天。2月20日（周六）上班。
三、清明节：4月3日（周六）至5日（周一）放假，共3天。
四、劳动节：5月1日（周六）至5日（周三）放假调休，共5天。4月25日（周日）上班。
五、端午节：6月9日（周三）放假1天，不调休。
六、中秋节：9月15日（周三）放假1天，不调休。
七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。
"""


pytestmark = pytest.mark.usefixtures("packages_through_2026")


@pytest.fixture
def config_dir(tmp_path):
    """The project's config with B01's 主题党日 on the 9th (9 February 2027: a Tuesday the notice takes off)."""
    target = tmp_path / "config"
    shutil.copytree(PROJECT_CONFIG_DIR, target, ignore=shutil.ignore_patterns("[0-9][0-9][0-9][0-9].yaml"))
    (target / "overrides" / "B01.yaml").write_text("theme_party_day:\n  when: {day: 9}\n", encoding="utf-8")
    return target


def local_day(moment) -> date:  # noqa: ANN001
    return moment.astimezone(SHANGHAI).date()


def activities(session, *where) -> list[models.Activity]:  # noqa: ANN001
    return list(session.scalars(select(models.Activity).where(*where).order_by(models.Activity.starts_at)))


def outbox_rows(session, kind: str) -> list[models.OutboxMessage]:  # noqa: ANN001
    return list(session.scalars(select(models.OutboxMessage).where(models.OutboxMessage.kind == kind)
                                .order_by(models.OutboxMessage.id)))


def test_the_year_after_the_last_notice_is_planned_provisionally_and_people_are_told_once(session, config_dir):
    branch = make_branch(session, members=3)
    plan = CatalogPlan.for_dir(config_dir, SHANGHAI)
    now = at("2026-12-01 09:00")
    materialise(session, now=now, policy=POLICY, plan=plan, horizon=HORIZON)

    in_2027 = activities(session, models.Activity.starts_at >= at("2027-01-01 00:00"))
    months = {(local_day(a.starts_at).month) for a in in_2027}
    assert {1, 2} <= months
    assert {a.calendar for a in in_2027} == {"provisional"}
    assert {a.calendar for a in activities(session, models.Activity.starts_at < at("2026-12-30 00:00"))} == {"official"}

    integrity = activities(session, models.Activity.occurrence_key == "holiday_integrity_reminder:B01:2027-spring_festival")
    assert [(a.title, a.starts_at, a.tentative) for a in integrity] == [
        ("节假日廉政提醒（春节）", at("2027-02-03 09:00"), True)]  # two workdays before 除夕 (5 February)

    statutory = provisional_arrangement(2027).days_off
    meetings = [a for a in in_2027 if a.kind == models.ActivityKind.MEETING.value]
    assert meetings
    assert [a.title for a in meetings if local_day(a.starts_at).weekday() >= 5 or local_day(a.starts_at) in statutory] == []

    secretary = members_of(session, branch)[0]
    told = outbox_rows(session, OutboxKind.CALENDAR_PROVISIONAL)
    assert [(row.member_id, row.payload["year"]) for row in told] == [(secretary.id, 2027)]
    assert rendered(session, told[0]).startswith("📅 2027 年节假日安排尚未公布\n")
    materialise(session, now=now + timedelta(hours=6), policy=POLICY, plan=plan, horizon=HORIZON)
    assert len(outbox_rows(session, OutboxKind.CALENDAR_PROVISIONAL)) == 1


def test_the_official_arrangement_moves_an_affected_meeting_once_with_its_notice(session, config_dir):
    branch = make_branch(session, members=3)
    secretary = members_of(session, branch)[0]
    plan = CatalogPlan.for_dir(config_dir, SHANGHAI)
    materialise(session, now=at("2026-12-01 09:00"), policy=POLICY, plan=plan, horizon=HORIZON)
    [meeting] = activities(session, models.Activity.occurrence_key == "theme_party_day:B01:2027-02")
    assert (meeting.starts_at, meeting.calendar) == (at("2027-02-09 09:00"), "provisional")
    # The three-day reminder went out to every member (as the dispatcher would have sent it on 6 February).
    for row in session.scalars(select(models.OutboxMessage).where(
            models.OutboxMessage.activity_id == meeting.id, models.OutboxMessage.lead_minutes == 3 * 24 * 60)):
        row.state = OutboxState.SENT.value
    session.flush()

    (config_dir / "holidays" / "2027.yaml").write_text(parse_notice(NOTICE_2027).to_yaml(), encoding="utf-8")
    assert plan.changed_on_disk()
    plan.reload()
    now = at("2027-02-07 10:00")
    report = materialise(session, now=now, policy=POLICY, plan=plan, horizon=HORIZON)

    assert report.replanned == 2  # 党课 is held the same day as 主题党日 and moves with it
    assert activities(session, models.Activity.obligation == "theme_party_day",
                      models.Activity.starts_at >= at("2027-02-01 00:00"),
                      models.Activity.starts_at < at("2027-03-01 00:00")) == [meeting]
    assert (meeting.starts_at, meeting.moved_from, meeting.calendar, meeting.tentative) == (
        at("2027-02-15 09:00"), date(2027, 2, 9), "official", False)
    assert checkin_window(meeting)[0] == at("2027-02-15 08:30")
    notices = outbox_rows(session, "change_notice")
    assert sorted(row.member_id for row in notices) == sorted(m.id for m in members_of(session, branch))
    assert {rendered(session, row) for row in notices} == {"📢 通知：「主题党日」由 2月9日 09:00 改为 2月15日 09:00。"}
    pending = session.scalars(select(models.OutboxMessage.due_at).where(
        models.OutboxMessage.activity_id == meeting.id, models.OutboxMessage.kind == OutboxKind.REMINDER,
        models.OutboxMessage.state == OutboxState.PENDING.value))
    assert min(pending) >= at("2027-02-12 09:00")  # reminders follow the new time
    [summary] = outbox_rows(session, OutboxKind.CALENDAR_REPLANNED)
    assert summary.member_id == secretary.id
    assert rendered(session, summary) == (
        "📅 2027 年节假日安排已公布，以下原按暂定日历排定的活动已调整：\n"
        "• 第B01党支部「主题党日」2月9日（周二）09:00 → 2月15日（周一）09:00\n"
        "• 第B01党支部「党课」2月9日（周二）14:30 → 2月15日（周一）14:30\n"
        "已收到提醒的党员已收到改期通知；其余提醒按新时间发送。"
    )

    again = materialise(session, now=now + timedelta(hours=1), policy=POLICY, plan=plan, horizon=HORIZON)
    assert again.replanned == 0
    assert len(outbox_rows(session, "change_notice")) == 3
    assert len(outbox_rows(session, OutboxKind.CALENDAR_REPLANNED)) == 1


def test_a_provisional_occurrence_the_notice_no_longer_has_is_cancelled_and_told(session, config_dir):
    make_branch(session, members=2)
    (config_dir / "overrides" / "B01.yaml").unlink()  # nothing else moves
    plan = CatalogPlan.for_dir(config_dir, SHANGHAI)
    materialise(session, now=at("2026-12-01 09:00"), policy=POLICY, plan=plan, horizon=HORIZON)
    # An occurrence only the provisional calendar had (as when the notice merges 中秋 into 国庆).
    [integrity] = activities(session, models.Activity.occurrence_key == "holiday_integrity_reminder:B01:2027-spring_festival")
    integrity.occurrence_key = "holiday_integrity_reminder:B01:2027-spring_festival+"
    session.flush()
    (config_dir / "holidays" / "2027.yaml").write_text(parse_notice(NOTICE_2027).to_yaml(), encoding="utf-8")
    plan.reload()
    report = materialise(session, now=at("2026-12-02 09:00"), policy=POLICY, plan=plan, horizon=HORIZON)
    assert report.replanned == 1
    assert integrity.status == models.ActivityStatus.CANCELLED.value
    [summary] = outbox_rows(session, OutboxKind.CALENDAR_REPLANNED)
    assert rendered(session, summary) == (
        "📅 2027 年节假日安排已公布，以下原按暂定日历排定的活动已调整：\n"
        "• 第B01党支部「节假日廉政提醒（春节）」原定 2月3日（周三）09:00，已取消\n"
        "已收到提醒的党员已收到改期通知；其余提醒按新时间发送。"
    )
