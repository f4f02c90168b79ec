"""`branchbot rectification add|list|close|export`: rectification items from the command line, through the chat's services."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

from bot import texts
from bot.clock import parse_now_option
from bot.commands.activity import InputError
from bot.reports.ledger_sheets import LedgerExtras
from bot.reports.workbook import _register_styles
from bot.settings import Settings
from schedules.completion import year_to_date
from storage.db import command_transaction
from storage.errors import ServiceError
from storage.repositories import activities as activity_repo
from storage.services import reports
from storage.services import rectification as rect_svc
from storage.services.actors import OrgTree, actor_for_member_no, operator_for_member_no

EXIT_INVALID = 2


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with command_transaction(settings.database_url) as session:
            return {"add": _add, "list": _list, "close": _close, "export": _export}[args.action](session, args, settings)
    except (InputError, ServiceError, reports.UnknownOrganizationError) as exc:
        print(texts.cli_error(getattr(exc, "message", None) or str(exc)), file=sys.stderr)
        return EXIT_INVALID


def _add(session, args: argparse.Namespace, settings: Settings) -> int:  # noqa: ANN001
    org = reports.find_organization(session, args.org)
    zone = activity_repo.org_zone(org, settings.timezone)
    now = parse_now_option(args.now, zone)
    actor = operator_for_member_no(session, args.by)
    owners = [actor_for_member_no(session, number).member_id for number in args.owner]
    deadline = rect_svc.read_deadline(args.deadline, now.astimezone(zone).date())
    item = rect_svc.add_item(session, actor, org_id=org.id, problem=args.problem, source=rect_svc.source_of(args.source),
                             measures=args.measures, owner_ids=owners, deadline=deadline, now=now)
    print(texts.cli_rectification_added(item, deadline.reading))
    return 0


def _item_json(item: rect_svc.ItemView, today) -> dict:  # noqa: ANN001
    return {
        "id": item.id, "org": item.org_code, "raised_by": item.raised_by_code, "problem": item.problem,
        "source": item.source, "measures": item.measures, "owners": [name for _, name in item.owners],
        "due_on": item.due_on.isoformat(), "deadline_text": item.deadline_text,
        "overdue_days": item.overdue_days(today), "progress": [n.text or n.kind for n in item.progress],
        "closed_at": item.closed_at.isoformat() if item.closed_at else None, "evidence": item.evidence,
    }


def _list(session, args: argparse.Namespace, settings: Settings) -> int:  # noqa: ANN001
    org = reports.find_organization(session, args.org)
    zone = activity_repo.org_zone(org, settings.timezone)
    today = parse_now_option(args.now, zone).astimezone(zone).date()
    items = rect_svc.items_for_orgs(session, OrgTree.load(session).subtree(org.id), include_closed=args.all)
    if args.format == "json":
        print(json.dumps([_item_json(i, today) for i in items], ensure_ascii=False, indent=2))
        return 0
    if not items:
        print(texts.CLI_NO_RECTIFICATIONS)
    for item in items:
        print(texts.cli_rectification_row(item, today))
    return 0


def _close(session, args: argparse.Namespace, settings: Settings) -> int:  # noqa: ANN001
    now = parse_now_option(args.now, settings.timezone)
    item = rect_svc.close(session, operator_for_member_no(session, args.by), args.item, args.evidence, now)
    print(texts.cli_rectification_closed(item))
    return 0


def _export(session, args: argparse.Namespace, settings: Settings) -> int:  # noqa: ANN001
    org = reports.find_organization(session, args.org)
    zone = activity_repo.org_zone(org, settings.timezone)
    now: datetime = parse_now_option(args.now, zone)
    today = now.astimezone(zone).date()
    items = tuple(rect_svc.items_for_orgs(session, OrgTree.load(session).subtree(org.id)))
    extras = LedgerExtras(org.name, year_to_date(today), today, zone, items, (), ())
    book = Workbook()
    _register_styles(book)
    book.remove(book.active)
    extras.rectification_sheet(book)
    book.save(Path(args.output))
    print(texts.written(args.output, texts.WRITTEN_RECTIFICATIONS, len(items)), file=sys.stderr)
    return 0
