"""`branchbot plan`: the year's schedule for every organisation and member, as a table, JSON or iCalendar."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from itertools import groupby
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.cells import cell_len
from sqlalchemy.exc import SQLAlchemyError

from bot import texts
from bot.reports.ics import calendar_feed, event_from_occurrence
from bot.settings import Settings
from schedules.audience import Audience
from bot.deployment import load_deployment, require_roster_match
from schedules.calendar import TENTATIVE_MARK, CalendarUnknownYear, OfficialCalendar
from schedules.plan import Occurrence, build_plan, occurrences_for_member, within_orgs
from schedules.roster import Roster
from storage.db import command_transaction
from storage.services.reports import UnknownMemberError, UnknownOrganizationError
from storage.repositories.roster import load_roster

class PlanInputError(ValueError):
    """A command-line value that names nothing in the roster, or a roster that cannot be read."""


def run(args: argparse.Namespace, settings: Settings) -> int:
    deployment = load_deployment(settings)  # DeploymentError: the CLI prints it, exit 2
    catalog, calendar = deployment.catalog, deployment.calendar
    try:
        roster = _read_roster(settings.database_url)
        if args.org and args.org not in roster.by_code:
            raise PlanInputError(str(UnknownOrganizationError(args.org)))
        require_roster_match(deployment, roster.by_code)
        if not roster.organizations:
            print(texts.cli_hint(texts.ROSTER_EMPTY), file=sys.stderr)
        occurrences = build_plan(catalog, roster, calendar, args.year, settings.timezone)
        occurrences = select(occurrences, roster, org_code=args.org, member_no=args.member)
    except (CalendarUnknownYear, PlanInputError) as exc:
        print(texts.cli_error(exc), file=sys.stderr)
        return 2
    if calendar.is_provisional(args.year):
        print(texts.cli_hint(texts.plan_provisional(args.year)), file=sys.stderr)
    if not calendar.knows(args.year + 1):
        print(texts.cli_hint(texts.plan_next_year_unknown(args.year + 1)), file=sys.stderr)
    title = texts.plan_title(args.year, args.org)
    if args.format == "json":
        text = render_json(occurrences)
    elif args.format == "ics":
        text = render_ics(occurrences, roster, calendar_name=f"branchbot {title}", zone=settings.timezone,
                          stamp=datetime.now(timezone.utc))  # the command's one read of the clock
    else:
        text = render_table(occurrences, roster, title, calendar)
    if args.output:
        output = Path(args.output)
        if isinstance(text, bytes):
            output.write_bytes(text)
        else:
            output.write_text(text, encoding="utf-8")
        print(texts.written(output, count=len(occurrences)), file=sys.stderr)
    elif isinstance(text, bytes):
        sys.stdout.buffer.write(text)
        sys.stdout.flush()
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0


def _read_roster(database_url: str) -> Roster:
    try:
        with command_transaction(database_url) as session:
            return load_roster(session)
    except SQLAlchemyError as exc:
        raise PlanInputError(texts.roster_unreadable(exc)) from None


def select(occurrences: list[Occurrence], roster: Roster, *, org_code: str | None, member_no: str | None) -> list[Occurrence]:
    """Narrows the plan to an organisation's subtree (a code `run` has checked) and/or what concerns one member."""
    if org_code:
        occurrences = within_orgs(occurrences, roster, org_code)
    if member_no:
        try:
            occurrences = occurrences_for_member(occurrences, roster, member_no)
        except KeyError:
            raise PlanInputError(str(UnknownMemberError(member_no))) from None
    return occurrences


def render_json(occurrences: Sequence[Occurrence]) -> str:
    return json.dumps([o.to_json() for o in occurrences], ensure_ascii=False, indent=2) + "\n"


def _when(occurrence: Occurrence, calendar: OfficialCalendar) -> str:
    """A moment as chat writes it (`texts.moment`, then the end's clock time); a makeup workday and a tentative
    date are marked after."""
    start = occurrence.starts_at  # aware, in the organisation's zone
    when = texts.day_with_weekday(start) if occurrence.all_day else texts.moment(start, start.tzinfo)
    if not occurrence.all_day and occurrence.ends_at and occurrence.ends_at.date() == start.date():
        when += "–" + texts.clock_time(occurrence.ends_at, start.tzinfo)
    if start.weekday() >= 5 and calendar.knows(start.year) and calendar.is_makeup_workday(start.date()):
        when += texts.MAKEUP_WORKDAY_MARK
    if occurrence.tentative:
        when += TENTATIVE_MARK
    return when


def _row(o: Occurrence, roster: Roster, calendar: OfficialCalendar) -> tuple[str, ...]:
    org = roster.by_code.get(o.org_code)
    return (
        _when(o, calendar), texts.plan_org(org.name if org else o.org_code, o.org_code), o.title,
        texts.PLAN_KINDS.get(o.kind, o.kind), Audience.of(o.audience).label,
        texts.plan_notes(o.moved_from, o.detail, o.checklist),
    )


def _pad(text: str, width: int) -> str:
    return text + " " * (width - cell_len(text))


def render_table(occurrences: Sequence[Occurrence], roster: Roster, title: str, calendar: OfficialCalendar) -> str:
    """Readable Chinese table, one section per month, columns aligned by display width (CJK counts double).

    Hand-aligned rather than a rich Table: a year for a thousand branches has 100,000+ rows, which rich
    lays out at about a millisecond a row.
    """
    lines = [texts.plan_heading(title, len(occurrences))]
    if not occurrences:
        lines.append(texts.PLAN_EMPTY)
    for (year, month), items in groupby(occurrences, key=lambda o: (o.starts_at.year, o.starts_at.month)):
        rows = [_row(o, roster, calendar) for o in items]
        headers = texts.PLAN_TABLE_HEADERS
        widths = [max(cell_len(header), *(cell_len(row[i]) for row in rows)) for i, header in enumerate(headers)]
        lines.append("")
        lines.append(texts.plan_month_heading(year, month, len(rows)))
        lines.append("  ".join(_pad(h, w) for h, w in zip(headers, widths)).rstrip())
        lines.append("  ".join("─" * w for w in widths))
        for row in rows:
            lines.append("  ".join(_pad(cell, w) for cell, w in zip(row, widths)).rstrip())
    return "\n".join(lines) + "\n"


def render_ics(occurrences: Sequence[Occurrence], roster: Roster, *, calendar_name: str, zone: ZoneInfo,
               stamp: datetime) -> bytes:
    """An iCalendar file through the project's one formatter (bot.reports.ics): VTIMEZONE, stable UIDs, all-day dates."""
    events = (
        event_from_occurrence(o, roster.by_code[o.org_code].name if o.org_code in roster.by_code else None)
        for o in occurrences
    )
    return calendar_feed(events, name=calendar_name, zone=zone, stamp=stamp)
