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

from bot.reports.ics import calendar_feed, event_from_occurrence
from bot.settings import Settings
from schedules.audience import Audience
from bot.deployment import load_deployment, require_roster_match
from schedules.calendar import TENTATIVE_MARK, CalendarUnknownYear, OfficialCalendar
from schedules.plan import Occurrence, build_plan, occurrences_for_member, within_orgs
from schedules.weekdays import weekday_zh
from schedules.roster import Roster
from storage.db import make_engine, make_session_factory, transaction
from storage.repositories.roster import load_roster

KIND_ZH = {"meeting": "会议", "task": "任务", "notice": "通知"}


class PlanInputError(ValueError):
    """A command-line value that names nothing in the roster, or a roster that cannot be read."""


def run(args: argparse.Namespace, settings: Settings) -> int:
    deployment = load_deployment(settings)  # DeploymentError: the CLI prints it, exit 2
    catalog, calendar = deployment.catalog, deployment.calendar
    try:
        roster = _read_roster(settings.database_url)
        if args.org and args.org not in roster.by_code:
            raise PlanInputError(f"没有编码为 {args.org} 的组织")
        require_roster_match(deployment, roster.by_code)
        if not roster.organizations:
            print("提示：名册中还没有组织，请先运行 branchbot roster import 导入名册。", file=sys.stderr)
        occurrences = build_plan(catalog, roster, calendar, args.year, settings.timezone)
        occurrences = select(occurrences, roster, org_code=args.org, member_no=args.member)
    except (CalendarUnknownYear, PlanInputError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    if calendar.is_provisional(args.year):
        print(
            f"提示：{args.year} 年的节假日安排通知尚未发布，本安排按法定节假日和周末暂定（标“{TENTATIVE_MARK}”的"
            f"临近节假日，通知发布后可能调整）。通知发布后运行 branchbot calendar import 导入。",
            file=sys.stderr,
        )
    if not calendar.knows(args.year + 1):
        print(
            f"提示：尚不知道 {args.year + 1} 年的节假日安排，{args.year + 1} 年元旦前的节假日廉政提醒未列入。",
            file=sys.stderr,
        )
    title = f"{args.year} 年工作安排" + (f"（{args.org}）" if args.org else "")
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
        print(f"已写入 {output}（{len(occurrences)} 项）", file=sys.stderr)
    elif isinstance(text, bytes):
        sys.stdout.buffer.write(text)
        sys.stdout.flush()
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0


def _read_roster(database_url: str) -> Roster:
    engine = make_engine(database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            return load_roster(session)
    except SQLAlchemyError as exc:
        raise PlanInputError(
            f"无法从数据库读取名册（{type(exc).__name__}）。请先运行 branchbot init 并导入名册。"
        ) from None
    finally:
        engine.dispose()


def select(occurrences: list[Occurrence], roster: Roster, *, org_code: str | None, member_no: str | None) -> list[Occurrence]:
    """Narrows the plan to an organisation's subtree (a code `run` has checked) and/or what concerns one member."""
    if org_code:
        occurrences = within_orgs(occurrences, roster, org_code)
    if member_no:
        try:
            occurrences = occurrences_for_member(occurrences, roster, member_no)
        except KeyError:
            raise PlanInputError(f"没有编号为 {member_no} 的党员") from None
    return occurrences


def render_json(occurrences: Sequence[Occurrence]) -> str:
    return json.dumps([o.to_json() for o in occurrences], ensure_ascii=False, indent=2) + "\n"


def _when(occurrence: Occurrence, calendar: OfficialCalendar) -> str:
    start = occurrence.starts_at
    day = f"{start.month}月{start.day}日 {weekday_zh(start)}"
    if start.weekday() >= 5 and calendar.knows(start.year) and calendar.is_makeup_workday(start.date()):
        day += "（调休上班）"
    if occurrence.tentative:
        day += TENTATIVE_MARK
    if occurrence.all_day:
        return day
    clock = start.strftime("%H:%M")
    if occurrence.ends_at and occurrence.ends_at.date() == start.date():
        clock += "–" + occurrence.ends_at.strftime("%H:%M")
    return f"{day} {clock}"


TABLE_HEADERS = ("时间", "组织", "事项", "类型", "对象", "说明")


def _row(o: Occurrence, roster: Roster, calendar: OfficialCalendar) -> tuple[str, ...]:
    org = roster.by_code.get(o.org_code)
    notes = []
    if o.moved_from:
        notes.append(f"原定 {o.moved_from.month}月{o.moved_from.day}日，遇节假日调整")
    if o.detail:
        notes.append(o.detail)
    if o.checklist:
        notes.append("清单：" + "、".join(o.checklist))
    return (
        _when(o, calendar), f"{org.name if org else o.org_code}（{o.org_code}）", o.title, KIND_ZH.get(o.kind, o.kind),
        Audience.of(o.audience).label, "；".join(notes),
    )


def _pad(text: str, width: int) -> str:
    return text + " " * (width - cell_len(text))


def render_table(occurrences: Sequence[Occurrence], roster: Roster, title: str, calendar: OfficialCalendar) -> str:
    """Readable Chinese table, one section per month, columns aligned by display width (CJK counts double).

    Hand-aligned rather than a rich Table: a year for a thousand branches has 100,000+ rows, which rich
    lays out at about a millisecond a row.
    """
    lines = [f"{title}（共 {len(occurrences)} 项）"]
    if not occurrences:
        lines.append("没有安排。")
    for (year, month), items in groupby(occurrences, key=lambda o: (o.starts_at.year, o.starts_at.month)):
        rows = [_row(o, roster, calendar) for o in items]
        widths = [max(cell_len(header), *(cell_len(row[i]) for row in rows)) for i, header in enumerate(TABLE_HEADERS)]
        lines.append("")
        lines.append(f"{year}年{month}月（{len(rows)} 项）")
        lines.append("  ".join(_pad(h, w) for h, w in zip(TABLE_HEADERS, widths)).rstrip())
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
