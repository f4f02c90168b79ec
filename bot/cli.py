"""The `branchbot` command line: parses arguments, reads settings, hands each command to its module."""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot import texts
from bot.clock import NowOptionError, parse_now_option
from bot.deployment import DeploymentError
from bot.settings import Settings
from storage.db import shown_url
from storage.models import RectificationSource

# Each command lives in bot/commands/<module>.py and exposes `run(args, settings) -> int`.
COMMAND_MODULES = {
    "init": "init",
    "roster": "roster",
    "plan": "plan",
    "run": "run",
    "sandbox": "sandbox",
    "invite": "invite",
    "activity": "activity",
    "leave": "leave",
    "parse-time": "parse_time",
    "report": "report",
    "rectification": "rectification",
    "catalog": "catalog",
    "doctor": "doctor",
    "calendar": "calendar",
}

# Commands that read or write the application's tables and so need the schema `branchbot init` creates.
# (`roster import` creates it itself, `roster export` says so itself; `run` and `sandbox` migrate on start.)
NEEDS_SCHEMA = frozenset({"plan", "invite", "activity", "leave", "report"})
# Words in a database error that mean "this table or column is not there": an uninitialised or old schema.
_MISSING_SCHEMA_MARKERS = ("no such table", "no such column", "undefinedtable", "undefinedcolumn",
                           "does not exist")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="branchbot",
        description=texts.CLI_DESCRIPTION,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("init", help=texts.CLI_HELP["init"])

    roster = commands.add_parser("roster", help=texts.CLI_HELP["roster"])
    roster_actions = roster.add_subparsers(dest="action", required=True, metavar="ACTION")
    roster_import = roster_actions.add_parser("import", help=texts.CLI_HELP["roster import"])
    roster_import.add_argument("path")
    roster_import.add_argument("--dry-run", action="store_true", help=texts.CLI_HELP["roster import --dry-run"])
    roster_export = roster_actions.add_parser("export", help=texts.CLI_HELP["roster export"])
    roster_export.add_argument("path")

    plan = commands.add_parser("plan", help=texts.CLI_HELP["plan"])
    plan.add_argument("--year", type=int, required=True)
    plan.add_argument("--org", help=texts.CLI_HELP["plan --org"])
    plan.add_argument("--member", help=texts.CLI_HELP["plan --member"])
    plan.add_argument("--format", choices=["table", "json", "ics"], default="table")
    plan.add_argument("--output", help=texts.CLI_OUTPUT_HELP)

    commands.add_parser("run", help=texts.CLI_HELP["run"])
    sandbox = commands.add_parser("sandbox", help=texts.CLI_HELP["sandbox"])
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--no-demo", action="store_true", help=texts.CLI_HELP["sandbox --no-demo"])

    invite = commands.add_parser("invite", help=texts.CLI_HELP["invite"])
    invite.add_argument("member_no")
    invite.add_argument("--days", type=int, default=7, help=texts.CLI_HELP["invite --days"])

    activity = commands.add_parser("activity", help=texts.CLI_HELP["activity"])
    activity_actions = activity.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = activity_actions.add_parser("add", help=texts.CLI_HELP["activity add"])
    add.add_argument("--org", required=True)
    add.add_argument("--title", required=True)
    add.add_argument("--at", required=True, help=texts.CLI_HELP["activity add --at"])
    add.add_argument("--obligation", help=texts.CLI_HELP["activity add --obligation"])
    add.add_argument("--remind", help=texts.CLI_HELP["activity add --remind"])
    add.add_argument("--place")
    add.add_argument("--now", help=argparse.SUPPRESS)
    move = activity_actions.add_parser("move", help=texts.CLI_HELP["activity move"])
    _activity_target(move)
    move.add_argument("--at", required=True, help=texts.CLI_HELP["activity move --at"])
    move.add_argument("--remind", help=texts.CLI_HELP["activity move --remind"])
    move.add_argument("--place")
    move.add_argument("--now", help=argparse.SUPPRESS)
    cancel = activity_actions.add_parser("cancel", help=texts.CLI_HELP["activity cancel"])
    _activity_target(cancel)
    cancel.add_argument("--now", help=argparse.SUPPRESS)
    for sub in (add, move, cancel):
        sub.add_argument("--as", dest="as_member", metavar="MEMBER_NO", help=texts.CLI_AS_HELP)
    add_record_parsers(activity_actions, commands)

    doctor = commands.add_parser("doctor", help=texts.CLI_HELP["doctor"])
    doctor.add_argument("--offline", action="store_true", help=texts.CLI_HELP["doctor --offline"])

    parse_time = commands.add_parser("parse-time", help=texts.CLI_HELP["parse-time"])
    parse_time.add_argument("text")
    parse_time.add_argument("--now", help=texts.CLI_HELP["parse-time --now"])
    parse_time.add_argument("--deadline", action="store_true", help=texts.CLI_HELP["parse-time --deadline"])

    calendar = commands.add_parser("calendar", help=texts.CLI_HELP["calendar"])
    calendar_actions = calendar.add_subparsers(dest="action", required=True, metavar="ACTION")
    calendar_status = calendar_actions.add_parser("status", help=texts.CLI_HELP["calendar status"])
    calendar_status.add_argument("--from", dest="year_from", type=int, help=texts.CLI_HELP["calendar status --from"])
    calendar_status.add_argument("--to", dest="year_to", type=int, help=texts.CLI_HELP["calendar status --to"])
    calendar_import = calendar_actions.add_parser(
        "import", help=texts.CLI_HELP["calendar import"])
    calendar_import.add_argument("notice", help=texts.CLI_HELP["calendar import NOTICE"])
    calendar_import.add_argument("--write", action="store_true", help=texts.CLI_HELP["calendar import --write"])
    calendar_import.add_argument("--yes", action="store_true", help=texts.CLI_HELP["calendar import --yes"])

    report = commands.add_parser("report", help=texts.CLI_HELP["report"])
    report_kinds = report.add_subparsers(dest="kind", required=True, metavar="KIND")
    attendance = report_kinds.add_parser("attendance", help=texts.CLI_HELP["report attendance"])
    attendance.add_argument("--org", required=True, help=texts.CLI_HELP["report attendance --org"])
    attendance.add_argument("--from", dest="date_from", help=texts.CLI_HELP["report attendance --from"])
    attendance.add_argument("--to", dest="date_to", help=texts.CLI_HELP["report attendance --to"])
    attendance.add_argument("--format", choices=["table", "json", "xlsx"], default="table")
    attendance.add_argument("--output", help=texts.CLI_HELP["report attendance --output"])
    attendance.add_argument("--chart", help=texts.CLI_HELP["report attendance --chart"])
    attendance.add_argument("--completion-chart", help=texts.CLI_HELP["report attendance --completion-chart"])
    attendance.add_argument("--member", help=texts.CLI_HELP["report attendance --member"])
    attendance.add_argument("--now", help=argparse.SUPPRESS)

    rectification = commands.add_parser("rectification", help=texts.CLI_HELP["rectification"])
    rect_actions = rectification.add_subparsers(dest="action", required=True, metavar="ACTION")
    rect_add = rect_actions.add_parser("add", help=texts.CLI_HELP["rectification add"])
    rect_add.add_argument("--org", required=True, help=texts.CLI_HELP["rectification add --org"])
    rect_add.add_argument("--problem", required=True, help=texts.CLI_HELP["rectification add --problem"])
    rect_add.add_argument("--source", required=True, help=texts.cli_source_help(RectificationSource))
    rect_add.add_argument("--measures", required=True, help=texts.CLI_HELP["rectification add --measures"])
    rect_add.add_argument("--owner", action="append", required=True, help=texts.CLI_HELP["rectification add --owner"])
    rect_add.add_argument("--deadline", required=True, help=texts.CLI_HELP["rectification add --deadline"])
    rect_add.add_argument("--by", required=True, help=texts.CLI_HELP["rectification add --by"])
    rect_list = rect_actions.add_parser("list", help=texts.CLI_HELP["rectification list"])
    rect_list.add_argument("--org", required=True, help=texts.CLI_HELP["rectification list --org"])
    rect_list.add_argument("--all", action="store_true", help=texts.CLI_HELP["rectification list --all"])
    rect_list.add_argument("--format", choices=["table", "json"], default="table")
    rect_close = rect_actions.add_parser("close", help=texts.CLI_HELP["rectification close"])
    rect_close.add_argument("item", type=int, help=texts.CLI_HELP["rectification close ITEM"])
    rect_close.add_argument("--evidence", required=True, help=texts.CLI_HELP["rectification close --evidence"])
    rect_close.add_argument("--by", required=True, help=texts.CLI_HELP["rectification close --by"])
    rect_export = rect_actions.add_parser("export", help=texts.CLI_HELP["rectification export"])
    rect_export.add_argument("--org", required=True)
    rect_export.add_argument("--output", required=True, help=texts.CLI_HELP["rectification export --output"])
    for sub in (rect_add, rect_list, rect_close, rect_export):
        sub.add_argument("--now", help=argparse.SUPPRESS)

    catalog = commands.add_parser("catalog", help=texts.CLI_HELP["catalog"])
    catalog_actions = catalog.add_subparsers(dest="action", required=True, metavar="ACTION")
    propose = catalog_actions.add_parser("propose", help=texts.CLI_HELP["catalog propose"])
    propose.add_argument("path")
    propose.add_argument("--org", help=texts.CLI_HELP["catalog propose --org"])
    propose.add_argument("--format", choices=["table", "json", "yaml"], default="table")
    propose.add_argument("--output", help=texts.CLI_OUTPUT_HELP)
    accept = catalog_actions.add_parser("accept", help=texts.CLI_HELP["catalog accept"])
    accept.add_argument("proposal", help=texts.CLI_HELP["catalog accept PROPOSAL"])
    accept.add_argument("--org", required=True, help=texts.CLI_HELP["catalog accept --org"])
    accept.add_argument("--only", help=texts.CLI_HELP["catalog accept --only"])
    accept.add_argument("--dry-run", action="store_true", help=texts.CLI_HELP["catalog accept --dry-run"])
    return parser


def add_record_parsers(activity_actions, commands) -> None:  # noqa: ANN001
    """`activity confirm|record|proxy|roll` and `leave approve|refuse`: the record of a held activity."""
    confirm = activity_actions.add_parser("confirm", help=texts.CLI_HELP["activity confirm"])
    confirm.add_argument("activity_id", type=int, metavar="ACTIVITY_ID")
    held = confirm.add_mutually_exclusive_group(required=True)
    held.add_argument("--held", dest="held", action="store_true", help=texts.CLI_HELP["activity confirm --held"])
    held.add_argument("--not-held", dest="held", action="store_false",
                      help=texts.CLI_HELP["activity confirm --not-held"])
    record = activity_actions.add_parser("record", help=texts.CLI_HELP["activity record"])
    record.add_argument("activity_id", type=int, metavar="ACTIVITY_ID")
    for sub in (confirm, record):
        sub.add_argument("--topic", help=texts.ACTIVITY_FIELD_NAMES["topic"])
        sub.add_argument("--lecturer", help=texts.ACTIVITY_FIELD_NAMES["lecturer"])
        sub.add_argument("--minutes", help=texts.CLI_HELP["activity record --minutes"])
    proxy = activity_actions.add_parser("proxy", help=texts.CLI_HELP["activity proxy"])
    proxy.add_argument("activity_id", type=int, metavar="ACTIVITY_ID")
    proxy.add_argument("member_no", metavar="MEMBER_NO")
    mark = proxy.add_mutually_exclusive_group()
    mark.add_argument("--leave", metavar="REASON", help=texts.CLI_HELP["activity proxy --leave"])
    mark.add_argument("--absent", action="store_true", help=texts.CLI_HELP["activity proxy --absent"])
    roll = activity_actions.add_parser("roll", help=texts.CLI_HELP["activity roll"])
    roll.add_argument("activity_id", type=int, metavar="ACTIVITY_ID")
    leave = commands.add_parser("leave", help=texts.CLI_HELP["leave"])
    leave_actions = leave.add_subparsers(dest="action", required=True, metavar="ACTION")
    decisions = []
    for action, approved in (("approve", True), ("refuse", False)):
        decision = leave_actions.add_parser(action, help=texts.cli_leave_decision_help(approved))
        decision.add_argument("activity_id", type=int, metavar="ACTIVITY_ID")
        decision.add_argument("member_no", metavar="MEMBER_NO", help=texts.CLI_HELP["leave approve MEMBER_NO"])
        decisions.append(decision)
    for sub in (confirm, record, proxy, roll, *decisions):
        sub.add_argument("--as", dest="as_member", metavar="MEMBER_NO", help=texts.CLI_AS_HELP)
        sub.add_argument("--now", help=argparse.SUPPRESS)


def _activity_target(sub: argparse.ArgumentParser) -> None:
    """How `move` and `cancel` name their activity: its number, or --org and --title (bot.commands.activity._target)."""
    sub.add_argument("activity_id", type=int, nargs="?", metavar="ACTIVITY_ID",
                     help=texts.CLI_HELP["activity move ACTIVITY_ID"])
    sub.add_argument("--org")
    sub.add_argument("--title", help=texts.CLI_HELP["activity move --title"])


def main(argv: Sequence[str] | None = None) -> int:
    from bot.terminal import safe_output

    # Whatever a command prints (tables, lines, log lines, errors) reaches the terminal with controls escaped.
    with safe_output():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    from bot.runtime.logs import install_cli_logging, secrets_of

    # The environment is read here, once, for every command (bot.settings); `doctor` lists bad values itself.
    settings = Settings.from_env(lenient=True)
    # Before anything can log: every command's lines (PTB's, httpx's, ours) pass the token filter.
    install_cli_logging(secrets_of(settings.telegram_token))
    args = build_parser().parse_args(argv)

    if settings.problems and args.command != "doctor":
        print(texts.cli_error(texts.variable_refusals(message for _, message in settings.problems)), file=sys.stderr)
        return 2
    try:
        if getattr(args, "now", None) is not None:
            parse_now_option(args.now, settings.timezone)  # a bad --now is refused before anything is opened
        if _needs_schema(args):
            refusal = schema_refusal(settings.database_url)
            if refusal is not None:
                print(texts.cli_error(refusal), file=sys.stderr)
                return 2
        module = importlib.import_module(f"bot.commands.{COMMAND_MODULES[args.command]}")
        return int(module.run(args, settings) or 0)
    except KeyboardInterrupt:
        return 130
    except (DeploymentError, NowOptionError) as exc:  # any command: one Chinese line, exit 2
        print(texts.cli_error(exc), file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        if _is_missing_schema(exc):
            print(texts.cli_error(schema_refusal(settings.database_url)
                                  or texts.database_uninitialised(shown_url(settings.database_url))), file=sys.stderr)
            return 2
        where = _log_unexpected(exc, settings)
        print(texts.cli_error(texts.database_failed(shown_url(settings.database_url), exc, where)), file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the one place a user would otherwise see a traceback
        where = _log_unexpected(exc, settings)
        print(texts.cli_error(texts.unexpected_failure(exc, where)), file=sys.stderr)
        return 1


def _needs_schema(args: argparse.Namespace) -> bool:
    return args.command in NEEDS_SCHEMA


def schema_refusal(url: str) -> str | None:
    """One Chinese sentence when the database cannot serve this code yet (None: it can)."""
    from storage.migrate import schema_status

    try:
        status = schema_status(url)
    except SQLAlchemyError as exc:
        return texts.database_unreachable(shown_url(url), exc)
    if status.uninitialised:
        return texts.database_uninitialised(shown_url(url))
    if status.older:
        return texts.schema_older(status.current, status.head)
    if not status.known:
        return texts.schema_newer(status.current)
    return None


def _is_missing_schema(error: SQLAlchemyError) -> bool:
    text = f"{type(getattr(error, 'orig', None)).__name__} {error}".lower()
    return any(marker in text for marker in _MISSING_SCHEMA_MARKERS)


def error_log_path(settings: Settings) -> Path:
    """Where unexpected errors' details go: BRANCHBOT_ERROR_LOG, else branchbot-errors.log in the temp dir."""
    return settings.error_log or Path(tempfile.gettempdir()) / "branchbot-errors.log"


def _log_unexpected(error: BaseException, settings: Settings) -> Path:
    path = error_log_path(settings)
    from bot.runtime.logs import RedactingFilter, secrets_of

    details = RedactingFilter(secrets_of(settings.telegram_token)).redact(
        "".join(traceback.format_exception(error)))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {datetime.now(timezone.utc).isoformat()} branchbot {' '.join(sys.argv[1:2])}\n{details}\n")
    except OSError:
        return Path(texts.error_log_unwritable(path))
    return path


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
