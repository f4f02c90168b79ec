"""`branchbot calendar`: which years' holiday arrangements are known, and importing the State Council's notice."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path

import yaml
from rich.cells import cell_len

from bot.deployment import load_deployment
from bot.settings import Settings
from schedules.calendar import (
    CalendarFileError,
    OfficialCalendar,
    arrangements_from_chinesecalendar,
    arrangements_from_holidays_package,
    parse_holiday_file,
)
from schedules.holiday_notice import HolidayNotice, NoticeError, disagreements, parse_notice
from schedules.weekdays import weekday_zh

PACKAGE_SOURCES = {"chinesecalendar": "程序包 chinesecalendar", "holidays": "程序包 holidays"}


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "status":
        return status(args, settings)
    return import_notice(args, settings)


# --- status -----------------------------------------------------------------------------------------------


def year_status(calendar: OfficialCalendar, year: int) -> str:
    """正式（来源）, 暂定 or 未知 for one year, in the words `calendar status` prints."""
    if not calendar.knows(year):
        return "未知：不排期（需要该年的节假日安排通知）"
    if calendar.is_provisional(year):
        return "暂定：按法定节假日和周末排期，调休未公布（通知发布后运行 branchbot calendar import 导入）"
    source = calendar.source_of(year)
    return f"正式（{PACKAGE_SOURCES.get(source, f'文件 {source}')}）"


def status(args: argparse.Namespace, settings: Settings) -> int:
    calendar = load_deployment(settings).calendar  # DeploymentError: the CLI prints it, exit 2
    today = datetime.now(settings.timezone).date()  # the command's one read of the clock
    last_known = max(calendar.known_years) if calendar.known_years else today.year
    first = args.year_from if args.year_from is not None else today.year - 1
    last = args.year_to if args.year_to is not None else last_known + 1
    print("节假日安排（各年份）：")
    for year in range(first, last + 1):
        print(f"  {year} 年  {year_status(calendar, year)}")
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
    raise NoticeError(f"{path} 不是 UTF-8 或 GBK 编码的文本文件。")


def _day(value: date) -> str:
    return f"{value.month}月{value.day}日（{weekday_zh(value)}）"


def notice_table(notice: HolidayNotice) -> str:
    """The parsed notice as a table aligned by display width (CJK counts double)."""
    rows = [("节日", "放假", "天数", "调休上班")]
    for item in notice.items:
        off = _day(item.first_day) if item.days == 1 else f"{_day(item.first_day)}至{_day(item.last_day)}"
        workdays = "、".join(_day(d) for d in item.makeup_workdays) or "—"
        rows.append(("、".join(item.names), off, str(item.days), workdays))
    widths = [max(cell_len(row[i]) for row in rows) for i in range(3)]
    lines = [f"《{notice.title}》"]
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
            return PACKAGE_SOURCES[source], OfficialCalendar({year: found})
    return None


def import_notice(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.notice)
    try:
        if not path.is_file():
            raise NoticeError(f"找不到文件 {path}。")
        notice = parse_notice(read_notice_text(path))
    except NoticeError as exc:
        print(f"错误：{exc}\n通知未导入，没有写入任何文件。", file=sys.stderr)
        return 2
    print(notice_table(notice))
    package = _known_elsewhere(notice.year)
    if package is not None:
        name, known = package
        differing = disagreements(notice, known)
        if differing:
            days = "、".join(f"{d.month}月{d.day}日" for d in differing[:10])
            print(f"注意：与{name}的数据有 {len(differing)} 天不一致（{days}），写入的文件将以通知为准。")
        else:
            print(f"与{name}的数据逐日一致。")
    target = settings.config_dir / "holidays" / f"{notice.year}.yaml"
    if not args.write:
        print(f"（试运行：未写入。确认无误后加 --write 写入 {target}。）")
        return 0
    if target.exists():
        print(f"提示：{target} 已存在，将被覆盖。")
    if not args.yes:
        answer = input(f"写入 {target}？请输入 y 确认：") if sys.stdin.isatty() else ""
        if answer.strip().lower() not in ("y", "yes", "是"):
            print("未写入。（非交互运行时请加 --yes 确认。）", file=sys.stderr)
            return 1
    text = notice.to_yaml()
    try:
        parse_holiday_file(yaml.safe_load(text), str(target))  # checked exactly as the bot will load it
    except CalendarFileError as exc:
        print(f"错误：生成的文件未通过检查，未写入：{exc}", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"已写入 {target}。运行中的机器人会在下次检查配置时按正式安排重新排期，并通知各支部书记。")
    return 0
