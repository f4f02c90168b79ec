"""`branchbot roster import|export`: the organisation tree and members between files and the database."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from bot import texts
from bot.settings import Settings
from bot.terminal import raw, text_console
from schedules.roster import Roster
from storage.db import command_transaction, shown_url
from storage.migrate import current, ensure_schema
from storage.repositories.roster import load_roster
from storage.roster_io import ImportSummary, RosterError, export_roster, import_roster, read_roster
from storage.roster_io.columns import MEMBERS, ORGANIZATIONS
from storage.roster_io.problems import escaped
from storage.services.permissions import system_operator

# Below this many members an import takes a blink; a progress bar would only flicker.
PROGRESS_FROM_MEMBERS = 2000
DETAIL_LINES = 30

# Per table: "name" is 组织名称 for an organisation but 姓名 for a member.
_ORG_LABELS = {column.key: column.zh for column in ORGANIZATIONS.columns}
_MEMBER_LABELS = {column.key: column.zh for column in MEMBERS.columns} | {"status": texts.ROSTER_STATUS_LABEL}


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.action == "import":
            return _import(Path(args.path), settings, dry_run=args.dry_run)
        return _export(Path(args.path), settings)
    except SQLAlchemyError as exc:
        print(texts.cli_error(texts.roster_database_failed(shown_url(settings.database_url), _database_reason(exc))), file=sys.stderr)
        return 1


def _database_reason(exc: SQLAlchemyError) -> str:
    """The driver's first line only: SQLAlchemy's full text lists the statement's parameters, members' data."""
    cause = getattr(exc, "orig", None) or exc
    first_line = (str(cause).strip().splitlines() or [""])[0]
    return escaped(f"{cause.__class__.__name__}: {first_line}")


def _import(path: Path, settings: Settings, *, dry_run: bool) -> int:
    now = datetime.now(timezone.utc)
    today = now.astimezone(settings.timezone).date()
    stdout, stderr = text_console(sys.stdout, soft_wrap=True), Console(file=raw(sys.stderr))  # the bar alone: ours
    with _progress(stderr) as progress:
        try:
            roster = read_roster(path, today=today, progress=progress)
            summary = _apply(roster, settings, path, now=now, dry_run=dry_run, progress=progress)
        except RosterError as error:
            progress.stop()
            _print_problems(error)
            return 2
    _print_summary(stdout, summary, path)
    return 0


def _print_problems(error: RosterError) -> None:
    for problem in error.problems:
        print(problem, file=sys.stderr)
    print(texts.roster_refused(len(error.problems)), file=sys.stderr)


def _apply(roster: Roster, settings: Settings, path: Path, *, now: datetime, dry_run: bool,
           progress: _progress) -> ImportSummary:
    """Check the roster against the database and, unless a dry run, write it in one transaction."""
    if not dry_run:
        ensure_schema(settings.database_url)
    elif current(settings.database_url) is None:
        progress.stop()
        return _dry_run_on_empty(roster)
    with command_transaction(settings.database_url, dry_run=dry_run) as session:
        return import_roster(session, roster, now=now, dry_run=dry_run, actor_label=system_operator().label,
                             source=str(path), progress=progress)


def _dry_run_on_empty(roster: Roster) -> ImportSummary:
    """A dry run against a database that has no schema yet: everything would be added."""
    return ImportSummary(
        dry_run=True,
        members_added=[m.member_no for m in roster.members],
        orgs_added=[o.code for o in roster.organizations],
    )


def _export(path: Path, settings: Settings) -> int:
    if current(settings.database_url) is None:
        print(texts.cli_error(texts.database_uninitialised(shown_url(settings.database_url), roster_too=True)), file=sys.stderr)
        return 2
    with command_transaction(settings.database_url) as session:
        roster = load_roster(session)
    files = export_roster(roster, path)
    print(texts.roster_exported(len(roster.organizations), len(roster.members)))
    for file in files:
        print(f"  {file}")
    return 0


class _progress:
    """A rich progress bar on stderr that appears only once the import turns out to be long."""

    def __init__(self, console: Console) -> None:
        self._bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, transient=False,
        )
        self._tasks: dict[str, int] = {}
        self._started = False

    def __enter__(self) -> "_progress":
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self._started:
            if total < PROGRESS_FROM_MEMBERS:
                return
            self._bar.start()
            self._started = True
        if stage not in self._tasks:
            self._tasks[stage] = self._bar.add_task(stage, total=total)
        self._bar.update(self._tasks[stage], completed=done, total=total)

    def stop(self) -> None:
        if self._started:
            self._bar.stop()
            self._started = False


def _print_summary(console: Console, summary: ImportSummary, path: Path) -> None:
    table = Table(title=texts.roster_import_title(path, summary.dry_run), show_header=True, header_style="bold")
    item, count_column = texts.ROSTER_SUMMARY_COLUMNS
    table.add_column(item)
    table.add_column(count_column, justify="right")
    for label, count in texts.roster_summary_rows(summary):
        table.add_row(label, str(count))
    console.print(table)

    details = texts.roster_details(summary, _MEMBER_LABELS, _ORG_LABELS)
    for line in details[:DETAIL_LINES]:
        console.print(line, markup=False, highlight=False)
    if len(details) > DETAIL_LINES:
        console.print(texts.more_lines(len(details) - DETAIL_LINES), markup=False, highlight=False)
    if summary.dry_run:
        console.print(texts.ROSTER_DRY_RUN, markup=False, highlight=False)
    elif not summary.changes_anything:
        console.print(texts.ROSTER_UNCHANGED, markup=False, highlight=False)
