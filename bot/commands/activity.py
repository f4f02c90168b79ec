"""`branchbot activity add`: an ad-hoc or rescheduled activity whose reminders enter the same outbox."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.runtime.materialise import DEFAULT_LEAD_MINUTES, ReminderPolicy, enqueue_reminders
from bot.runtime.quiet_hours import QuietHours, quiet_hours_from_env
from bot.runtime.render import format_duration, format_moment
from bot.settings import Settings
from schedules.calendar import CalendarFileError, OfficialCalendar, load_official_calendar
from schedules.catalog import CatalogError, load_catalog, parse_duration
from schedules.timeparse import ParsedTime, TimeParseError, WorkCalendar, parse_time
from storage import models
from storage.db import make_engine, make_session_factory, transaction
from storage.repositories import activities as activity_repo
from storage.repositories import outbox

EXIT_INVALID = 2
# Chinese units accepted in --remind, spelled the catalog's way before parsing ("分钟" before "分").
_CHINESE_UNITS = (("分钟", "m"), ("小时", "h"), ("天", "d"), ("分", "m"))
AT_EXAMPLES = ("2025-03-20T15:00+08:00", "2025-03-20 15:00", "下周三下午3点", "明天上午9点")


class InputError(ValueError):
    """A bad argument; the message is Chinese and is printed as is."""


def parse_leads(text: str) -> tuple[int, ...]:
    """'3d,1d,1h,30m' (or 3天、1小时、30分钟) → (4320, 1440, 60, 30) minutes, longest first."""
    leads = []
    for part in re.split(r"[,，、\s]+", text.strip()):
        if not part:
            continue
        spelled = part.lower()
        for chinese, unit in _CHINESE_UNITS:
            spelled = spelled.replace(chinese, unit)
        try:
            lead = parse_duration(spelled)  # the catalog's own reading of 3d / 1h / 30m
        except ValueError:
            lead = None
        if lead is None or lead < timedelta(0):
            raise InputError(f"--remind 中的“{part}”无法识别：请用天（d）、小时（h）、分钟（m），例如 3d,1d,1h,30m")
        leads.append(lead)
    if not leads:
        raise InputError("--remind 为空：例如 3d,1d,1h,30m")
    return activity_repo.lead_minutes_of(leads)


def parse_now(text: str | None, zone: ZoneInfo) -> datetime:
    if not text:
        return datetime.now(zone)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--now “{text}”不是 ISO 8601 时间，例如 2025-03-03T10:00:00+08:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def parse_at(text: str, now: datetime, zone: ZoneInfo, calendar: WorkCalendar | None = None) -> ParsedTime:
    """ISO 8601 or natural language, through the one parser: a past or non-existent time is refused either way;
    a range ("下周三下午3点到5点") gives the activity's end too."""
    try:
        return parse_time(text, now, zone, calendar)
    except TimeParseError as exc:
        examples = "、".join(exc.examples or AT_EXAMPLES)
        raise InputError(f"无法确定时间“{text}”：{exc.message}\n可以这样写：{examples}") from None


def _calendar(settings: Settings) -> OfficialCalendar:
    try:
        return load_official_calendar(settings.config_dir / "holidays")
    except CalendarFileError as exc:
        raise InputError(str(exc)) from None


def _catalog_leads(settings: Settings, obligation: str) -> tuple[int, ...]:
    """The catalog's reminder leads for `obligation`; InputError when the key is unknown or the catalog is bad."""
    try:
        catalog = load_catalog(settings.config_dir)
    except CatalogError as exc:
        raise InputError(str(exc)) from None
    if obligation not in catalog:
        raise InputError(f"--obligation “{obligation}”不是目录中的事项；可用：{'、'.join(catalog.keys)}")
    return activity_repo.lead_minutes_of(catalog[obligation].reminders)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action != "add":  # pragma: no cover - argparse only offers "add"
        return EXIT_INVALID
    try:
        return add(args, settings)
    except InputError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_INVALID


def add(args: argparse.Namespace, settings: Settings) -> int:
    title = (args.title or "").strip()
    if not title:
        raise InputError("--title 不能为空")
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            org = session.scalars(select(models.Organization).where(models.Organization.code == args.org)).one_or_none()
            if org is None:
                raise InputError(f"没有编码为 {args.org} 的组织；请先导入名册（branchbot roster import）")
            zone = activity_repo.org_zone(org, settings.timezone)
            now = parse_now(args.now, zone)
            parsed = parse_at(args.at, now, zone, _calendar(settings))
            starts_at, ends_at, reading = parsed.at, parsed.end, parsed.reading
            catalog_leads = _catalog_leads(settings, args.obligation) if args.obligation else DEFAULT_LEAD_MINUTES
            leads = parse_leads(args.remind) if args.remind else catalog_leads
            moved = None
            if args.obligation:
                moved = activity_repo.planned_in_same_month(
                    session, org_id=org.id, obligation=args.obligation, moment=starts_at, zone=zone)
            if moved is not None:
                before = moved.starts_at
                activity = activity_repo.move_activity(session, moved, starts_at=starts_at, lead_minutes=leads,
                                                       title=title, place=args.place, zone=zone)
                if ends_at is not None:
                    activity.ends_at = ends_at
                outbox.replan_pending(session, activity.id)
            else:
                before = None
                activity = activity_repo.add_activity(session, org_id=org.id, title=title, starts_at=starts_at,
                                                      lead_minutes=leads, obligation=args.obligation, place=args.place,
                                                      ends_at=ends_at)
            policy = ReminderPolicy(zone=settings.timezone, quiet=quiet_hours())
            created = enqueue_reminders(session, [activity], now=now, policy=policy)
            activity_id = activity.id
    finally:
        engine.dispose()
    when = format_moment(starts_at, zone)
    if ends_at is not None:
        same_day = ends_at.astimezone(zone).date() == starts_at.astimezone(zone).date()
        when += f"至{ends_at.astimezone(zone):%H:%M}" if same_day else f" 至 {format_moment(ends_at, zone)}"
    if before is not None:
        print(f"已调整活动：{title}（编号 {activity_id}），由 {format_moment(before, zone)} 改为 {when}")
    else:
        print(f"已新增活动：{title}（编号 {activity_id}），时间 {when}")
    print(f"时间理解为：{reading}")
    if leads:
        print(f"已安排提醒 {created} 条（提前 {'、'.join(format_duration(m) for m in leads)}）")
    else:
        print("该事项按目录不发提醒")
    return 0


def quiet_hours() -> QuietHours:
    """The same quiet hours `branchbot run` keeps (BRANCHBOT_QUIET_HOURS)."""
    try:
        return quiet_hours_from_env()
    except ValueError as exc:
        raise InputError(str(exc)) from None
