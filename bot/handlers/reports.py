"""/report (ledger workbook and charts) and /calendar (.ics feed) in chat: choose, check permission, send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from telegram import InputFile, Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes

from bot import texts
from bot.deployment import Deployment
from bot.handlers.common import ChatContext, edge, is_private
from bot.reports.charts import attendance_rate_chart, completion_chart
from bot.reports.ics import activities_feed
from bot.reports.requirements import requirements_for_org
from bot.reports.text import report_caption
from bot.reports.ledger_sheets import load_extras, rectification_caption
from bot.reports.workbook import workbook_bytes
from schedules.completion import Period, PeriodError, parse_period, year_to_date
from storage.errors import InvalidInput
from storage.services import reports
from storage.services import permissions
from storage.services.actors import Actor, OrgTree

CALENDAR_PAST = timedelta(days=31)
CALENDAR_AHEAD = timedelta(days=366)


@dataclass(frozen=True)
class ReportFiles:
    caption: str
    workbook_name: str
    workbook: bytes
    attendance_chart: bytes
    completion_chart: bytes


@dataclass(frozen=True)
class CalendarFile:
    filename: str
    caption: str
    data: bytes


def _split_args(args: list[str], today: date) -> tuple[str | None, Period | None]:
    """(organisation code, period) from the command's words, in either order; a word that reads as a
    period is the period, anything else the organisation code."""
    code = period = None
    for word in args:
        try:
            period = parse_period(word, today=today)
        except PeriodError:
            if code is not None:
                raise InvalidInput(texts.report_word_unknown(word)) from None
            code = word
    return code, period


def build_report_files(session: Session, actor: Actor, now: datetime, args: list[str], *,
                       deployment: Deployment, default_zone: ZoneInfo) -> ReportFiles:
    """Everything /report sends, computed in one transaction (runs in a worker thread)."""
    tree = OrgTree.load(session)
    code, period = _split_args(args, now.astimezone(default_zone).date())
    code = permissions.report_scope(actor, tree, code, texts.REPORT_USAGE)
    root = reports.find_organization(session, code)
    zone = reports.org_zone(root, default_zone)
    window = period or year_to_date(now.astimezone(zone).date())
    comparison = deployment.reports.comparison_enabled(code, reports.ancestor_codes(session, code))
    report = reports.load_report(session, code, window, zone, now, branch_comparison=comparison,
                                 requirements_for=requirements_for_org(session, deployment.catalog, code))
    extras = load_extras(session, code, window, zone, now)
    return ReportFiles(
        caption=report_caption(report) + rectification_caption(extras),
        workbook_name=texts.ledger_file_name(root.code, window.start, window.last_day),
        workbook=workbook_bytes(report, extras.writers()),
        attendance_chart=attendance_rate_chart(report),
        completion_chart=completion_chart(report),
    )


def build_calendar_file(session: Session, actor: Actor, now: datetime, args: list[str], *,
                        default_zone: ZoneInfo) -> CalendarFile:
    """The member's own feed, or an organisation's feed if it is theirs or one they oversee."""
    start, end = now - CALENDAR_PAST, now + CALENDAR_AHEAD
    if not args:
        member, items = reports.member_calendar(session, actor.member_no, start, end)
        names = reports.organization_names(session, [a.org_id for a in items])
        zone = default_zone
        data = activities_feed(items, names, name=texts.member_feed_name(member.name), zone=zone, stamp=now)
        return CalendarFile(f"calendar_{member.member_no}.ics", texts.calendar_caption(member.name, len(items)), data)
    code = args[0]
    permissions.require_calendar_access(actor, OrgTree.load(session), code)
    org, items = reports.org_calendar(session, code, start, end)
    zone = reports.org_zone(org, default_zone)
    data = activities_feed(items, {org.id: org.name, **reports.organization_names(session, [a.org_id for a in items])},
                           name=texts.org_feed_name(org.name), zone=zone, stamp=now)
    return CalendarFile(f"calendar_{org.code}.ics", texts.calendar_caption(org.name, len(items)), data)


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    args = list(context.args or [])
    if args and args[0] in texts.HELP_WORDS:
        await update.effective_message.reply_text(texts.REPORT_USAGE)  # type: ignore[union-attr]
        return
    if not is_private(update):
        await update.effective_message.reply_text(texts.REPORT_PRIVATE_ONLY)  # type: ignore[union-attr]
        return
    deployment = chat.config.current()
    files = await chat.as_member(
        update, lambda session, actor, now: build_report_files(
            session, actor, now, args, deployment=deployment, default_zone=chat.zone)
    )
    message = update.effective_message
    assert message is not None
    await message.reply_document(InputFile(files.workbook, filename=files.workbook_name), caption=files.caption)
    await message.reply_photo(InputFile(files.attendance_chart, filename="attendance.png"), caption=texts.ATTENDANCE_CHART_CAPTION)
    await message.reply_photo(InputFile(files.completion_chart, filename="completion.png"), caption=texts.COMPLETION_CHART_CAPTION)


async def calendar(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    args = list(context.args or [])
    if args and args[0] in texts.HELP_WORDS:
        await update.effective_message.reply_text(texts.CALENDAR_USAGE)  # type: ignore[union-attr]
        return
    if not args and not is_private(update):
        await update.effective_message.reply_text(texts.CALENDAR_PERSONAL_PRIVATE_ONLY)  # type: ignore[union-attr]
        return
    feed = await chat.as_member(
        update, lambda session, actor, now: build_calendar_file(session, actor, now, args, default_zone=chat.zone)
    )
    message = update.effective_message
    assert message is not None
    await message.reply_document(InputFile(feed.data, filename=feed.filename), caption=feed.caption)


def handlers(chat: ChatContext) -> list[BaseHandler]:
    """/report and /calendar, wrapped by the chat's edge (one transaction, Chinese refusals)."""
    return [
        CommandHandler("report", edge(chat, report, name="/report")),
        CommandHandler("calendar", edge(chat, calendar, name="/calendar")),
    ]
