"""`branchbot activity add|move|cancel|confirm|record|proxy|roll`: activities and their record at the command
line, through the chat's use cases, as a recorded operator (`--as MEMBER_NO`, else the system operator)."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import texts
from bot.runtime.materialise import DEFAULT_LEAD_MINUTES, ReminderPolicy, reminders_for
from bot.clock import parse_now_option
from bot.deployment import load_deployment
from bot.settings import Settings
from schedules.catalog import Catalog, parse_duration
from schedules.timeparse import ParsedTime, TimeParseError, WorkCalendar, parse_time
from storage import models
from storage.db import command_transaction
from storage.errors import ServiceError
from storage.repositories import activities as activity_repo
from storage.services import activity_changes
from storage.services import attendance as attendance_svc
from storage.services.actors import OrgTree, actor_for_member_no, operator_for_member_no
from storage.services.permissions import Operator, system_operator
from storage.services.views import display_title

EXIT_INVALID = 2
# Chinese units accepted in --remind, spelled the catalog's way before parsing ("分钟" before "分").
_CHINESE_UNITS = (("分钟", "m"), ("小时", "h"), ("天", "d"), ("分", "m"))


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
            raise InputError(texts.remind_unreadable(part))
        leads.append(lead)
    if not leads:
        raise InputError(texts.REMIND_EMPTY)
    return activity_repo.lead_minutes_of(leads)


def parse_at(text: str, now: datetime, zone: ZoneInfo, calendar: WorkCalendar | None = None) -> ParsedTime:
    """ISO 8601 or natural language, through the one parser: a past or non-existent time is refused either way;
    a range ("下周三下午3点到5点") gives the activity's end too."""
    try:
        return parse_time(text, now, zone, calendar)
    except TimeParseError as exc:
        raise InputError(texts.time_unreadable(text, exc.message, exc.examples or texts.AT_EXAMPLES)) from None


def _catalog_leads(catalog: Catalog, obligation: str) -> tuple[int, ...]:
    """The catalog's reminder leads for `obligation`; InputError when the key is unknown."""
    if obligation not in catalog:
        raise InputError(texts.obligation_unknown(obligation, catalog.keys))
    return activity_repo.lead_minutes_of(catalog[obligation].reminders)


def run(args: argparse.Namespace, settings: Settings, actions=None) -> int:  # noqa: ANN001
    """One of `actions` (default: this command's); a bad argument or a refused use case exits 2 with one line."""
    try:
        return (actions or ACTIONS)[args.action](args, settings)
    except InputError as exc:
        print(texts.cli_error(str(exc)), file=sys.stderr)
        return EXIT_INVALID
    except ServiceError as exc:  # refused by the use case (permission, state, time): nothing was changed
        print(texts.cli_error(exc.message), file=sys.stderr)
        return EXIT_INVALID


def operator(session: Session, member_no: str | None) -> Operator:
    """Who the command acts as: the member given with --as (checked like in chat), else `system_operator()`."""
    if member_no:
        return operator_for_member_no(session, member_no)
    return system_operator()


def _org(session: Session, code: str) -> models.Organization:
    org = session.scalars(select(models.Organization).where(models.Organization.code == code)).one_or_none()
    if org is None:
        raise InputError(texts.cli_org_unknown(code))
    return org


def _target(session: Session, args: argparse.Namespace, now: datetime) -> int:
    """The activity ACTIVITY_ID names, or the next scheduled one of --org whose title contains --title."""
    if args.activity_id is not None:
        return args.activity_id
    if not args.org or not args.title:
        raise InputError(texts.CLI_ACTIVITY_UNNAMED)
    org = _org(session, args.org)
    return activity_changes.find_scheduled(session, OrgTree.load(session), org.id, args.title.strip(), now).id


def _when(starts_at: datetime, ends_at: datetime | None, zone: ZoneInfo) -> str:
    return texts.moment_range(starts_at, ends_at, zone)


def _zone(session: Session, org_id: int, settings: Settings) -> ZoneInfo:
    return activity_repo.org_zone(session.get(models.Organization, org_id), settings.timezone)


def add(args: argparse.Namespace, settings: Settings) -> int:
    title = (args.title or "").strip()
    if not title:
        raise InputError(texts.CLI_TITLE_EMPTY)
    deployment = load_deployment(settings)  # DeploymentError: the CLI prints it, exit 2

    def work(session: Session):  # noqa: ANN202
        who = operator(session, args.as_member)
        org = _org(session, args.org)
        zone = activity_repo.org_zone(org, settings.timezone)
        now = parse_now_option(args.now, zone)
        parsed = parse_at(args.at, now, zone, deployment.calendar)
        catalog_leads = _catalog_leads(deployment.catalog, args.obligation) if args.obligation else DEFAULT_LEAD_MINUTES
        leads = parse_leads(args.remind) if args.remind else catalog_leads
        change = activity_changes.add(
            session, who, org_id=org.id, title=title, starts_at=parsed.at, ends_at=parsed.end, place=args.place,
            obligation=args.obligation, lead_minutes=leads, now=now, zone=zone, reminders=_reminders(settings))
        return change, parsed.reading, leads, zone

    change, reading, leads, zone = _in_transaction(settings, work)
    activity = change.activity
    when = _when(activity.starts_at, activity.ends_at, zone)
    if change.before is not None:
        print(texts.cli_activity_moved(activity, texts.moment(change.before, zone), when))
    else:
        print(texts.cli_activity_added(activity, when))
    print(texts.cli_time_reading(reading))
    print(texts.cli_reminders_queued(change.reminders, leads) if leads else texts.CLI_NO_REMINDERS)
    _print_told(change)
    return 0


def move(args: argparse.Namespace, settings: Settings) -> int:
    deployment = load_deployment(settings)  # DeploymentError: the CLI prints it, exit 2

    def work(session: Session):  # noqa: ANN202
        who = operator(session, args.as_member)
        probe_zone = settings.timezone
        now = parse_now_option(args.now, probe_zone)
        activity_id = _target(session, args, now)
        zone = _zone(session, activity_repo_org(session, activity_id), settings)
        parsed = parse_at(args.at, now, zone, deployment.calendar)
        leads = parse_leads(args.remind) if args.remind else None
        change = activity_changes.move(
            session, who, activity_id, starts_at=parsed.at, ends_at=parsed.end, place=args.place, lead_minutes=leads,
            now=now, zone=zone, reminders=_reminders(settings))
        return change, parsed.reading, zone

    change, reading, zone = _in_transaction(settings, work)
    activity = change.activity
    print(texts.cli_activity_moved(activity, texts.moment(change.before, zone),
                                   _when(activity.starts_at, activity.ends_at, zone)))
    print(texts.cli_time_reading(reading))
    print(texts.cli_reminders_queued(change.reminders))
    _print_told(change)
    return 0


def cancel(args: argparse.Namespace, settings: Settings) -> int:
    def work(session: Session):  # noqa: ANN202
        who = operator(session, args.as_member)
        now = parse_now_option(args.now, settings.timezone)
        activity_id = _target(session, args, now)
        zone = _zone(session, activity_repo_org(session, activity_id), settings)
        return activity_changes.cancel(session, who, activity_id, now=now, zone=zone), zone

    change, zone = _in_transaction(settings, work)
    print(texts.cli_activity_cancelled(change.activity, texts.moment(change.before, zone)))
    _print_told(change)
    return 0


def activity_repo_org(session: Session, activity_id: int) -> int:
    activity = session.get(models.Activity, activity_id)
    if activity is None:
        raise activity_changes.no_such_activity(activity_id)
    return activity.org_id


def _print_told(change: activity_changes.Change) -> None:
    for line in texts.cli_told(change.told, change.corrected_groups):
        print(line)


def _reminders(settings: Settings) -> activity_changes.Reminders:
    return reminders_for(ReminderPolicy(zone=settings.timezone, quiet=settings.quiet_hours))



# --- the record of a held activity: confirm, record, proxy check-ins and marks, the roll ---------


def _in_transaction(settings: Settings, work):  # noqa: ANN001, ANN202
    """Runs `work(session)` in one transaction on the configured database: all of it, or nothing."""
    with command_transaction(settings.database_url) as session:
        return work(session)


def _activity(session: Session, activity_id: int) -> models.Activity:
    activity = session.get(models.Activity, activity_id)
    if activity is None:
        raise activity_changes.no_such_activity(activity_id)
    return activity


def _member_id(session: Session, member_no: str) -> int:
    return actor_for_member_no(session, member_no).member_id


FIELD_OPTIONS = ("topic", "lecturer", "minutes")


def _record_fields(session: Session, who: Operator, activity_id: int, args: argparse.Namespace,
                   now: datetime) -> list[str]:
    """--topic, --lecturer, --minutes through the chat's own service; the lines that say what was recorded."""
    lines = []
    for field in FIELD_OPTIONS:
        value = getattr(args, field, None)
        if value is not None:
            attendance_svc.set_activity_field(session, who, activity_id, field, value, now)
            lines.append(texts.cli_field_recorded(field, value))
    return lines


def confirm(args: argparse.Namespace, settings: Settings) -> int:
    """`activity confirm ID --held|--not-held [--topic …] [--lecturer …] [--minutes …]`: held records whoever
    has not answered absent (and tells them), as the chat's confirm-held button does."""
    def work(session: Session) -> list[str]:
        activity = _activity(session, args.activity_id)
        zone = activity_repo.org_zone(activity.org, settings.timezone)
        now = parse_now_option(args.now, zone)
        who = operator(session, args.as_member)
        result = attendance_svc.confirm_activity(session, who, activity.id, args.held, now)
        line = texts.confirmed(result, activity_id=activity.id, when=texts.moment(activity.starts_at, zone))
        return [line, *_record_fields(session, who, activity.id, args, now)]

    print("\n".join(_in_transaction(settings, work)))
    return 0


def record(args: argparse.Namespace, settings: Settings) -> int:
    """`activity record ID [--topic …] [--lecturer …] [--minutes …]`."""
    if all(getattr(args, field, None) is None for field in FIELD_OPTIONS):
        raise InputError(texts.CLI_RECORD_NOTHING)

    def work(session: Session) -> list[str]:
        activity = _activity(session, args.activity_id)
        now = parse_now_option(args.now, activity_repo.org_zone(activity.org, settings.timezone))
        return _record_fields(session, operator(session, args.as_member), activity.id, args, now)

    print("\n".join(_in_transaction(settings, work)))
    return 0


def proxy(args: argparse.Namespace, settings: Settings) -> int:
    """`activity proxy ID MEMBER_NO [--leave REASON | --absent]`: a proxy check-in (present), a leave the
    operator records (approved), or absent: the chat's proxy, leave and absent buttons beside a member's name on
    the roll."""
    status = (models.AttendanceStatus.LEAVE if args.leave is not None
              else models.AttendanceStatus.ABSENT if args.absent else models.AttendanceStatus.PROXY)

    def work(session: Session) -> str:
        activity = _activity(session, args.activity_id)
        now = parse_now_option(args.now, activity_repo.org_zone(activity.org, settings.timezone))
        who = operator(session, args.as_member)
        entry = attendance_svc.mark_attendance(session, who, activity.id, _member_id(session, args.member_no),
                                               status, now, reason=args.leave)
        return texts.cli_marked(status, entry, display_title(activity), activity.id)

    print(_in_transaction(settings, work))
    return 0


def roll(args: argparse.Namespace, settings: Settings) -> int:
    """`activity roll ID`: the secretary's roll, as chat shows it (present, leave, not answered)."""
    def work(session: Session) -> str:
        activity = _activity(session, args.activity_id)
        zone = activity_repo.org_zone(activity.org, settings.timezone)
        now = parse_now_option(args.now, zone)
        return texts.roll(attendance_svc.roll_for(session, operator(session, args.as_member), activity.id, now), zone)

    print(_in_transaction(settings, work))
    return 0


def decide_leave(args: argparse.Namespace, settings: Settings) -> int:
    """`leave approve|refuse ID MEMBER_NO`: the leave card's approve / refuse buttons, checked as `--as`; the member is told."""
    approve = args.action == "approve"

    def work(session: Session) -> str:
        activity = _activity(session, args.activity_id)
        now = parse_now_option(args.now, activity_repo.org_zone(activity.org, settings.timezone))
        result = attendance_svc.decide_leave(session, operator(session, args.as_member), activity.id,
                                             _member_id(session, args.member_no), approve, now)
        return texts.cli_leave_decided(approve, result.member.name, args.member_no, display_title(activity), activity.id)

    print(_in_transaction(settings, work))
    return 0


ACTIONS = {"add": add, "move": move, "cancel": cancel, "confirm": confirm, "record": record, "proxy": proxy,
           "roll": roll}
