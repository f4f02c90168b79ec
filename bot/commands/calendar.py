"""`branchbot calendar`: which years' holiday arrangements are known, and importing the State Council's notice."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

import yaml
from rich.cells import cell_len

from bot import texts
from bot.deployment import load_deployment
from bot.runtime.jobs import RECONCILE_EVERY
from bot.settings import Settings
from schedules.calendar import (
    CalendarFileError,
    OfficialCalendar,
    arrangements_from_chinesecalendar,
    arrangements_from_holidays_package,
    parse_holiday_file,
)
from schedules.holiday_notice import HolidayNotice, NoticeError, disagreements, parse_notice



def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "status":
        return status(args, settings)
    return import_notice(args, settings)


# --- status -----------------------------------------------------------------------------------------------


def status(args: argparse.Namespace, settings: Settings) -> int:
    calendar = load_deployment(settings).calendar  # DeploymentError: the CLI prints it, exit 2
    today = datetime.now(settings.timezone).date()  # the command's one read of the clock
    last_known = max(calendar.known_years) if calendar.known_years else today.year
    first = args.year_from if args.year_from is not None else today.year - 1
    last = args.year_to if args.year_to is not None else last_known + 1
    print(texts.CALENDAR_STATUS_HEADING)
    for year in range(first, last + 1):
        print("  " + texts.year_line(calendar, year))
    return 0


# --- import -----------------------------------------------------------------------------------------------


def read_notice_text(path: Path) -> str:
    """The notice's text: a .docx as published (paragraphs and table cells) or a UTF-8 text file."""
    if path.suffix.lower() == ".docx":
        import docx

        document = docx.Document(str(path))
        lines = [paragraph.text for paragraph in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                lines.extend(cell.text for cell in row.cells)
        return "\n".join(lines)
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # saved from a Chinese Windows editor, the text is often GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise NoticeError(texts.notice_not_text(path))


def notice_table(notice: HolidayNotice) -> str:
    """The parsed notice as a table aligned by display width (CJK counts double)."""
    rows = [texts.NOTICE_TABLE_HEADERS]
    for item in notice.items:
        rows.append(texts.notice_row(item.names, item.first_day, item.last_day, item.days, item.makeup_workdays))
    widths = [max(cell_len(row[i]) for row in rows) for i in range(3)]
    lines = [texts.notice_heading(notice.title)]
    for row in rows:
        cells = [cell + " " * (width - cell_len(cell)) for cell, width in zip(row, widths)]
        lines.append("  ".join([*cells, row[3]]))
    return "\n".join(lines)


def _known_elsewhere(year: int) -> tuple[str, OfficialCalendar] | None:
    """A package that already publishes `year`, to check the notice against."""
    for source, arrangements in (("chinesecalendar", arrangements_from_chinesecalendar),
                                 ("holidays", arrangements_from_holidays_package)):
        found = arrangements().get(year)
        if found is not None:
            return texts.PACKAGE_SOURCES[source], OfficialCalendar({year: found})
    return None


def import_notice(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.notice)
    try:
        if not path.is_file():
            raise NoticeError(texts.file_missing_sentence(path))
        notice = parse_notice(read_notice_text(path))
    except NoticeError as exc:
        print(texts.cli_error(texts.notice_refused(exc)), file=sys.stderr)
        return 2
    print(notice_table(notice))
    package = _known_elsewhere(notice.year)
    if package is not None:
        name, known = package
        differing = disagreements(notice, known)
        print(texts.notice_against_package(name, differing))
    target = settings.config_dir / "holidays" / f"{notice.year}.yaml"
    if not args.write:
        print(texts.notice_dry_run(target))
        return 0
    if target.exists():
        print(texts.cli_hint(texts.file_overwritten(target)))
    if not args.yes:
        answer = input(texts.confirm_write(target)) if sys.stdin.isatty() else ""
        if answer.strip().lower() not in texts.YES_WORDS:
            print(texts.NOT_WRITTEN_WITHOUT_YES, file=sys.stderr)
            return 1
    text = notice.to_yaml()
    try:
        parse_holiday_file(yaml.safe_load(text), str(target))  # checked exactly as the bot will load it
    except CalendarFileError as exc:
        print(texts.cli_error(texts.notice_file_invalid(exc)), file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(texts.notice_written(target, RECONCILE_EVERY))
    return 0
