"""`branchbot report attendance`: attendance and completion of an organisation subtree as table, JSON or xlsx."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import texts
from bot.reports.charts import attendance_rate_chart, completion_chart
from bot.reports.requirements import requirements_for_org
from bot.reports.text import member_json, member_table, report_json, report_table
from bot.reports.ledger_sheets import load_extras
from bot.reports.workbook import workbook_bytes
from bot.clock import parse_now_option
from bot.deployment import load_deployment
from bot.settings import Settings
from schedules.completion import Period, PeriodError, parse_period, year_to_date
from storage.db import command_transaction
from storage.roster_io.parse import parse_date
from storage.services import reports


class ReportInputError(ValueError):
    """A command-line value we cannot use; the message is Chinese."""


def _parse_day(text: str, option: str) -> date:
    """A day written as the roster writes dates (2025-03-05, 2025/3/5, 2025年3月5日)."""
    try:
        return parse_date(text.strip())
    except ValueError:
        raise ReportInputError(texts.cli_day_unreadable(option, text)) from None


def resolve_window(date_from: str | None, date_to: str | None, today: date) -> Period:
    """--from/--to as an inclusive day range; a lone --from may also be a period such as 2025Q1 or 2025-03.
    Without either: the current year to date."""
    if date_from is None and date_to is None:
        return year_to_date(today)
    if date_from is not None and date_to is None:
        try:
            return parse_period(date_from, today=today)
        except PeriodError:
            pass
    start = _parse_day(date_from, "--from") if date_from else date(today.year, 1, 1)
    last = _parse_day(date_to, "--to") if date_to else today
    if last < start:
        raise ReportInputError(texts.cli_window_reversed(start, last))
    return Period(start, last + timedelta(days=1), f"{start:%Y-%m-%d}~{last:%Y-%m-%d}")


def _emit(text: str, output: str | None) -> None:
    """Text output to --output when given, else to stdout."""
    if output:
        Path(output).write_text(text, encoding="utf-8")
        print(texts.written(output), file=sys.stderr)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def _org_window(session: Session, args: argparse.Namespace, settings: Settings) -> tuple[ZoneInfo, datetime, Period]:
    """--org's zone, the moment the report is made and the days it covers (--from/--to, else the year to date)."""
    root = reports.find_organization(session, args.org)
    zone = reports.org_zone(root, settings.timezone)
    now = parse_now_option(args.now, zone)  # the clock is read here, at the edge, unless --now pins it
    return zone, now, resolve_window(args.date_from, args.date_to, now.astimezone(zone).date())


def _run_member(args: argparse.Namespace, settings: Settings) -> int:
    """One member's attendance, within --org's subtree (table or JSON)."""
    if args.format == "xlsx" or args.chart or args.completion_chart:
        print(texts.cli_error(texts.CLI_MEMBER_REPORT_FORMATS), file=sys.stderr)
        return 2
    try:
        with command_transaction(settings.database_url) as session:
            zone, now, window = _org_window(session, args, settings)
            record = reports.load_member_record(session, args.member, window, zone)
            if record.org.code not in reports.lineages(session, args.org):
                raise ReportInputError(texts.cli_member_outside(args.member, args.org))
    except (ReportInputError, reports.UnknownOrganizationError, reports.UnknownMemberError, ValueError) as exc:
        print(texts.cli_error(str(exc)), file=sys.stderr)
        return 2
    _emit(json.dumps(member_json(record), ensure_ascii=False, indent=2) + "\n" if args.format == "json"
          else member_table(record), args.output)
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.kind != "attendance":  # pragma: no cover - argparse only offers attendance
        print(texts.cli_error(texts.cli_report_unknown(args.kind)), file=sys.stderr)
        return 2
    if args.format == "xlsx" and not args.output:
        print(texts.cli_error(texts.CLI_XLSX_NEEDS_OUTPUT), file=sys.stderr)
        return 2
    # Every report validates the whole configuration first (DeploymentError: the CLI prints it, exit 2).
    deployment = load_deployment(settings)
    if args.member:
        return _run_member(args, settings)
    try:
        with command_transaction(settings.database_url) as session:
            zone, now, window = _org_window(session, args, settings)
            comparison = deployment.reports.comparison_enabled(args.org, reports.ancestor_codes(session, args.org))
            requirements_for = requirements_for_org(session, deployment.catalog, args.org)
            report = reports.load_report(session, args.org, window, zone, now, branch_comparison=comparison,
                                         requirements_for=requirements_for)
            extras = load_extras(session, args.org, window, zone, now) if args.format == "xlsx" else None
    except (ReportInputError, reports.UnknownOrganizationError, ValueError) as exc:
        print(texts.cli_error(str(exc)), file=sys.stderr)
        return 2

    if args.format == "xlsx":
        Path(args.output).write_bytes(workbook_bytes(report, extras.writers() if extras else ()))
        print(texts.written(args.output, texts.WRITTEN_LEDGER), file=sys.stderr)
    else:
        _emit(json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n" if args.format == "json"
              else report_table(report), args.output)
    if args.chart:
        Path(args.chart).write_bytes(attendance_rate_chart(report))
        print(texts.written(args.chart, texts.WRITTEN_ATTENDANCE_CHART), file=sys.stderr)
    if args.completion_chart:
        Path(args.completion_chart).write_bytes(completion_chart(report))
        print(texts.written(args.completion_chart, texts.WRITTEN_COMPLETION_CHART), file=sys.stderr)
    return 0
