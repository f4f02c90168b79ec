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
        description="branchbot：把党组织年度计划中的经常性工作变成定时提醒、签到与台账。",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("init", help="创建或升级数据库结构（可重复执行）")

    roster = commands.add_parser("roster", help="导入或导出组织与党员名册")
    roster_actions = roster.add_subparsers(dest="action", required=True, metavar="ACTION")
    roster_import = roster_actions.add_parser("import", help="导入名册：文件夹（organizations.csv、members.csv）或 .xlsx")
    roster_import.add_argument("path")
    roster_import.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入数据库")
    roster_export = roster_actions.add_parser("export", help="导出名册（格式同导入）")
    roster_export.add_argument("path")

    plan = commands.add_parser("plan", help="显示一年的工作安排")
    plan.add_argument("--year", type=int, required=True)
    plan.add_argument("--org", help="组织编码；默认全部组织")
    plan.add_argument("--member", help="党员编号：只看与该党员有关的安排")
    plan.add_argument("--format", choices=["table", "json", "ics"], default="table")
    plan.add_argument("--output", help=OUTPUT_HELP)

    commands.add_parser("run", help="运行机器人与定时任务（未设置 TELEGRAM_BOT_TOKEN 时运行沙盒）")
    sandbox = commands.add_parser("sandbox", help="在本机浏览器中体验完整的机器人（无需 Telegram）")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--no-demo", action="store_true", help="数据库为空时也不载入演示名册")

    invite = commands.add_parser("invite", help="为党员生成一次性绑定码和链接")
    invite.add_argument("member_no")
    invite.add_argument("--days", type=int, default=7, help="有效天数（默认 7 天）")

    activity = commands.add_parser("activity", help="管理活动")
    activity_actions = activity.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = activity_actions.add_parser("add", help="新增临时活动或调整后的活动")
    add.add_argument("--org", required=True)
    add.add_argument("--title", required=True)
    add.add_argument("--at", required=True, help="时间：自然语言（如 下周三下午3点）或 ISO 8601")
    add.add_argument("--obligation", help="对应的工作事项键，如 party_lecture")
    add.add_argument("--remind", help="提前提醒，如 3d,1d,1h,30m")
    add.add_argument("--place")
    add.add_argument("--now", help=argparse.SUPPRESS)
    move = activity_actions.add_parser("move", help="调整活动时间（已收到提醒的党员和支部群会收到改期通知）")
    _activity_target(move)
    move.add_argument("--at", required=True, help="新时间：自然语言（如 下周四下午2点半）或 ISO 8601；可写时间段")
    move.add_argument("--remind", help="新的提前提醒，如 1d,1h（不写则保留原来的）")
    move.add_argument("--place")
    move.add_argument("--now", help=argparse.SUPPRESS)
    cancel = activity_actions.add_parser("cancel", help="取消活动（已收到提醒的党员和支部群会收到取消通知）")
    _activity_target(cancel)
    cancel.add_argument("--now", help=argparse.SUPPRESS)
    for sub in (add, move, cancel):
        sub.add_argument("--as", dest="as_member", metavar="MEMBER_NO", help=AS_HELP)
    add_record_parsers(activity_actions, commands)

    doctor = commands.add_parser("doctor", help="检查部署：数据库、令牌、Webhook、工作事项目录、日历覆盖、时区与免打扰时段")
    doctor.add_argument("--offline", action="store_true", help="不联系 Telegram（跳过令牌与 Webhook 检查）")

    parse_time = commands.add_parser("parse-time", help="把一句中文时间解析为具体时刻")
    parse_time.add_argument("text")
    parse_time.add_argument("--now", help="以此时刻为“现在”（ISO 8601）")
    parse_time.add_argument("--deadline", action="store_true", help="按期限解读（本月底前、周五前、国庆节前），输出截止时刻")

    calendar = commands.add_parser("calendar", help="节假日安排：各年份的状态，导入国务院办公厅的通知")
    calendar_actions = calendar.add_subparsers(dest="action", required=True, metavar="ACTION")
    calendar_status = calendar_actions.add_parser("status", help="各年份的节假日安排：正式（来源）、暂定或未知")
    calendar_status.add_argument("--from", dest="year_from", type=int, help="从哪一年起（默认去年）")
    calendar_status.add_argument("--to", dest="year_to", type=int, help="到哪一年（默认最后一个已知年份的下一年）")
    calendar_import = calendar_actions.add_parser(
        "import", help="读取《关于YYYY年部分节假日安排的通知》（文本文件或 .docx），显示解析结果；加 --write 写入")
    calendar_import.add_argument("notice", help="通知全文：文本文件或 .docx")
    calendar_import.add_argument("--write", action="store_true", help="写入 config/holidays/YYYY.yaml（默认只试运行）")
    calendar_import.add_argument("--yes", action="store_true", help="写入前不再询问确认")

    report = commands.add_parser("report", help="报表")
    report_kinds = report.add_subparsers(dest="kind", required=True, metavar="KIND")
    attendance = report_kinds.add_parser("attendance", help="出勤与完成情况")
    attendance.add_argument("--org", required=True, help="组织编码；包含其下属全部组织")
    attendance.add_argument("--from", dest="date_from", help="开始日期（如 2025-01-01），或单独给出时间段：2025、2025Q1、2025-03")
    attendance.add_argument("--to", dest="date_to", help="结束日期（含当天）；默认今天")
    attendance.add_argument("--format", choices=["table", "json", "xlsx"], default="table")
    attendance.add_argument("--output", help=OUTPUT_HELP + "（xlsx 必须指定）")
    attendance.add_argument("--chart", help="同时写出出勤率图表（PNG）到此路径")
    attendance.add_argument("--completion-chart", help="同时写出三会一课完成情况图表（PNG）到此路径")
    attendance.add_argument("--member", help="党员编号：只看该党员（须属于 --org 及其下级组织）的出勤")
    attendance.add_argument("--now", help=argparse.SUPPRESS)

    rectification = commands.add_parser("rectification", help="问题整改（销号管理）：登记、查看、销号、导出")
    rect_actions = rectification.add_subparsers(dest="action", required=True, metavar="ACTION")
    rect_add = rect_actions.add_parser("add", help="登记整改事项")
    rect_add.add_argument("--org", required=True, help="整改的党支部编码")
    rect_add.add_argument("--problem", required=True, help="存在的问题")
    rect_add.add_argument("--source", required=True, help="问题来源：" + "、".join(RectificationSource))
    rect_add.add_argument("--measures", required=True, help="整改措施")
    rect_add.add_argument("--owner", action="append", required=True, help="责任人党员编号（可重复）")
    rect_add.add_argument("--deadline", required=True, help="整改时限，如 本月底前、6月30日前、2025-06-30")
    rect_add.add_argument("--by", required=True, help="登记人党员编号（本支部书记或上级党组织委员）")
    rect_list = rect_actions.add_parser("list", help="列出整改事项")
    rect_list.add_argument("--org", required=True, help="组织编码；包含其下属全部支部")
    rect_list.add_argument("--all", action="store_true", help="包括已销号的事项")
    rect_list.add_argument("--format", choices=["table", "json"], default="table")
    rect_close = rect_actions.add_parser("close", help="销号（只有本支部书记、副书记或组织委员）")
    rect_close.add_argument("item", type=int, help="整改事项编号")
    rect_close.add_argument("--evidence", required=True, help="销号依据")
    rect_close.add_argument("--by", required=True, help="销号人党员编号")
    rect_export = rect_actions.add_parser("export", help="导出整改清单（xlsx）")
    rect_export.add_argument("--org", required=True)
    rect_export.add_argument("--output", required=True, help="如 整改清单.xlsx")
    for sub in (rect_add, rect_list, rect_close, rect_export):
        sub.add_argument("--now", help=argparse.SUPPRESS)

    catalog = commands.add_parser("catalog", help="按年度计划文件提议并接受工作事项")
    catalog_actions = catalog.add_subparsers(dest="action", required=True, metavar="ACTION")
    propose = catalog_actions.add_parser("propose", help="读计划文件（.docx、.pdf、.txt、.md），列出对应的事项及依据")
    propose.add_argument("path")
    propose.add_argument("--org", help="组织编码：对照该组织现在的设置（是否启用）")
    propose.add_argument("--format", choices=["table", "json", "yaml"], default="table")
    propose.add_argument("--output", help=OUTPUT_HELP)
    accept = catalog_actions.add_parser("accept", help="把提议写入组织的覆盖文件（显示改动，可重复执行）")
    accept.add_argument("proposal", help="catalog propose 输出的 .json/.yaml，或计划文件本身")
    accept.add_argument("--org", required=True, help="组织编码：写入 config/overrides/<组织编码>.yaml")
    accept.add_argument("--only", help="只接受这些事项键（逗号分隔）；默认全部")
    accept.add_argument("--dry-run", action="store_true", help="只显示改动，不写入")
    return parser


OUTPUT_HELP = "写入文件而不是标准输出"
AS_HELP = "以该党员的身份操作（按其职务检查权限）；不写则以系统操作员 cli:<用户名> 记入审计日志"


def add_record_parsers(activity_actions, commands) -> None:  # noqa: ANN001
    """`activity confirm|record|proxy|roll` and `leave approve|refuse`: the record of a held activity."""
    confirm = activity_actions.add_parser("confirm", help="确认活动是否召开（召开时未答复的党员记为缺席，并通知本人）")
    confirm.add_argument("activity_id", type=int, metavar="ACTIVITY_ID")
    held = confirm.add_mutually_exclusive_group(required=True)
    held.add_argument("--held", dest="held", action="store_true", help="已召开")
    held.add_argument("--not-held", dest="held", action="store_false", help="未召开")
    record = activity_actions.add_parser("record", help="记录活动的议题、主讲人或会议记录")
    record.add_argument("activity_id", type=int, metavar="ACTIVITY_ID")
    for sub in (confirm, record):
        sub.add_argument("--topic", help="议题")
        sub.add_argument("--lecturer", help="主讲人")
        sub.add_argument("--minutes", help="会议记录（文字）")
    proxy = activity_actions.add_parser("proxy", help="为党员代签，或登记请假、缺席（留痕，并通知本人）")
    proxy.add_argument("activity_id", type=int, metavar="ACTIVITY_ID")
    proxy.add_argument("member_no", metavar="MEMBER_NO")
    mark = proxy.add_mutually_exclusive_group()
    mark.add_argument("--leave", metavar="REASON", help="登记请假（记为已准假）及原因")
    mark.add_argument("--absent", action="store_true", help="记为缺席")
    roll = activity_actions.add_parser("roll", help="签到情况：已签到、请假、未签到（含无法联系的党员）")
    roll.add_argument("activity_id", type=int, metavar="ACTIVITY_ID")
    leave = commands.add_parser("leave", help="审批请假")
    leave_actions = leave.add_subparsers(dest="action", required=True, metavar="ACTION")
    decisions = []
    for action, verb in (("approve", "同意"), ("refuse", "不同意")):
        decision = leave_actions.add_parser(action, help=f"{verb}党员的请假（通知本人）")
        decision.add_argument("activity_id", type=int, metavar="ACTIVITY_ID")
        decision.add_argument("member_no", metavar="MEMBER_NO", help="请假党员的编号")
        decisions.append(decision)
    for sub in (confirm, record, proxy, roll, *decisions):
        sub.add_argument("--as", dest="as_member", metavar="MEMBER_NO", help=AS_HELP)
        sub.add_argument("--now", help=argparse.SUPPRESS)


def _activity_target(sub: argparse.ArgumentParser) -> None:
    """How `move` and `cancel` name their activity: its number, or --org and --title (bot.commands.activity._target)."""
    sub.add_argument("activity_id", type=int, nargs="?", metavar="ACTIVITY_ID", help="活动编号（或用 --org 和 --title 指明）")
    sub.add_argument("--org")
    sub.add_argument("--title", help="活动名称（包含即可）：该组织下一次待开展的同名活动")


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
    from bot import texts  # after parsing: `--help` need not load every sentence

    if settings.problems and args.command != "doctor":
        print(texts.cli_error("；".join(message for _, message in settings.problems)), file=sys.stderr)
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
    from bot import texts
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
        from bot import texts

        return Path(texts.error_log_unwritable(path))
    return path


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
