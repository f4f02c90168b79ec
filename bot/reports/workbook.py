"""The 台账 workbook (openpyxl): record-book sheets per meeting type, attendance matrices, completion, A4-ready."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Callable, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from schedules.period_text import period_text
from bot.reports.labels import (
    ACTIVITY_STATUS_LABELS,
    ATTENDANCE_MARKS,
    obligation_label,
    obligation_sort_key,
    percent,
)
from bot.reports.summary import branch_comparison, completion_rows, org_summaries
from schedules.completion import CompletionState
from schedules.roster import OrgType
from storage.cells import cell_value
from storage.services.reports import ActivityRecord, AttendanceLedger, AttendanceReport, OrgRef

FONT_NAME = "宋体"  # SimSun: what printed Chinese ledgers use; Excel and WPS have it on every Chinese desktop
BODY = Font(name=FONT_NAME, size=10)
HEADER = Font(name=FONT_NAME, size=10, bold=True)
TITLE = Font(name=FONT_NAME, size=14, bold=True)
THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
MARK_FILLS = {
    "leave": PatternFill("solid", fgColor="FFF2CC"),
    "absent": PatternFill("solid", fgColor="F8CBAD"),
    "proxy": PatternFill("solid", fgColor="DDEBF7"),
}
STATE_FILLS = {
    CompletionState.LATE: PatternFill("solid", fgColor="FFF2CC"),
    CompletionState.MISSED: PatternFill("solid", fgColor="F8CBAD"),
}
# Named styles: assigning one to a cell copies a small index tuple, while assigning Font/Border/Alignment
# objects one by one makes openpyxl hash each of them per cell (seconds for a 100-branch workbook).
STYLE_TEXT, STYLE_CENTER, STYLE_HEADER = "台账正文", "台账居中", "台账表头"
MARK_STYLES = {"leave": "台账请假", "absent": "台账缺席", "proxy": "台账代签"}
STATE_STYLES = {CompletionState.LATE: "台账补开", CompletionState.MISSED: "台账未开展"}
SHEET_NAME_LIMIT = 31
# A 党委 over hundreds of branches would get hundreds of matrix sheets nobody prints; beyond this the
# summary says to export each branch on its own.
MAX_MATRIX_SHEETS = 60
_FORBIDDEN_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")

RECORD_COLUMNS: Sequence[tuple[str, int]] = (
    ("日期", 11), ("组织", 14), ("类型", 9), ("主题", 24), ("主持人", 9), ("记录人", 9), ("应到", 6),
    ("实到", 6), ("请假人员及事由", 22), ("缺席人员", 16), ("会议记录", 36), ("状态", 8),
)


def _register_styles(book: Workbook) -> None:
    def style(name: str, font: Font, alignment: Alignment, fill: PatternFill | None = None) -> NamedStyle:
        named = NamedStyle(name=name, font=font, border=BOX, alignment=alignment)
        if fill is not None:
            named.fill = fill
        return named

    book.add_named_style(style(STYLE_TEXT, BODY, WRAP))
    book.add_named_style(style(STYLE_CENTER, BODY, CENTER))
    book.add_named_style(style(STYLE_HEADER, HEADER, CENTER, HEADER_FILL))
    for status, name in MARK_STYLES.items():
        book.add_named_style(style(name, BODY, CENTER, MARK_FILLS[status]))
    for state, name in STATE_STYLES.items():
        book.add_named_style(style(name, BODY, CENTER, STATE_FILLS[state]))


def _sheet_name(book: Workbook, wanted: str) -> str:
    """A legal, unique sheet name: forbidden characters removed, at most 31 characters."""
    base = _FORBIDDEN_IN_SHEET_NAMES.sub("", wanted)[:SHEET_NAME_LIMIT] or "Sheet"
    name, n = base, 2
    while name in book.sheetnames:
        suffix = f"({n})"
        name = base[: SHEET_NAME_LIMIT - len(suffix)] + suffix
        n += 1
    return name


def _prepare_for_print(sheet: Worksheet, *, landscape: bool, header_rows: int) -> None:
    """A4, fit to one page wide, header rows repeated on every page, frozen below the header."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE if landscape else sheet.ORIENTATION_PORTRAIT
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages tall as needed
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"1:{header_rows}"
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
    sheet.freeze_panes = sheet.cell(row=header_rows + 1, column=1)


def _put(sheet: Worksheet, row: int, column: int, value: object) -> Cell:
    """Every value this workbook writes goes in here: text from people is guarded against formula injection."""
    return sheet.cell(row=row, column=column, value=cell_value(value))


def _title(sheet: Worksheet, text: str, subtitle: str, columns: int) -> None:
    _put(sheet, 1, 1, text).font = TITLE
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    sheet.cell(row=1, column=1).alignment = CENTER
    sheet.row_dimensions[1].height = 24
    _put(sheet, 2, 1, subtitle).font = BODY
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=columns)


def _header(sheet: Worksheet, row: int, names: Sequence[str], widths: Sequence[float] | None = None) -> None:
    for column, name in enumerate(names, start=1):
        cell = _put(sheet, row, column, name)
        cell.style = STYLE_HEADER
        if widths:
            sheet.column_dimensions[get_column_letter(column)].width = widths[column - 1]


def _body_row(sheet: Worksheet, row: int, values: Sequence[object], *, center_from: int | None = None) -> None:
    for column, value in enumerate(values, start=1):
        cell = _put(sheet, row, column, value)
        cell.style = STYLE_CENTER if center_from is not None and column >= center_from else STYLE_TEXT


def _period_text(report: AttendanceReport) -> str:
    return f"{report.root.name}  {period_text(report.window.start, report.window.last_day)}"


# --- sheets -------------------------------------------------------------------------------------


def _summary_sheet(book: Workbook, report: AttendanceReport) -> None:
    sheet = book.active
    sheet.title = "汇总"
    names = ("组织编码", "组织名称", "类型", "已开会议", "出勤率", "三会一课完成", "补开", "未开展", "进行中", "缺项")
    _title(sheet, "党组织活动台账汇总", _period_text(report) + f"    生成于 {report.generated_at.astimezone(report.ledger.zone):%Y-%m-%d %H:%M}", len(names))
    _header(sheet, 3, names, (11, 22, 8, 9, 9, 12, 7, 8, 8, 48))
    row = 4
    for s in org_summaries(report):
        _body_row(sheet, row, (s.org.code, s.org.name, s.org.type, s.meetings_held, percent(s.attendance_rate),
                               s.met, s.late, s.missed, s.pending, "；".join(s.gaps) or "—"), center_from=3)
        row += 1
    note = _put(sheet, row + 1, 1, "说明：出勤率 = 实到（含代签）÷ 应到，只计已召开的会议；本台账不对党员个人排名。")
    note.font = BODY
    _prepare_for_print(sheet, landscape=True, header_rows=3)


def _people(ledger: AttendanceLedger, activity: ActivityRecord, status: str) -> list[str]:
    return [
        ledger.members[mid].name
        for mid in ledger.expected_ids(activity)
        if ledger.status_of(activity, mid) == status
    ]


def _record_sheets(book: Workbook, report: AttendanceReport) -> None:
    """三会一课记录本: one sheet per meeting type, one row per meeting, cancelled ones left out."""
    ledger = report.ledger
    by_type: dict[str | None, list[ActivityRecord]] = defaultdict(list)
    for activity in ledger.meetings():
        if activity.status != "cancelled":
            by_type[activity.obligation].append(activity)
    for obligation in sorted(by_type, key=obligation_sort_key):
        label = obligation_label(obligation)
        sheet = book.create_sheet(_sheet_name(book, f"{label}记录"))
        names = [name for name, _ in RECORD_COLUMNS]
        _title(sheet, f"{label}记录", _period_text(report), len(names))
        _header(sheet, 3, names, [width for _, width in RECORD_COLUMNS])
        for row, activity in enumerate(by_type[obligation], start=4):
            reasons = {mark.member_id: mark.leave_reason for mark in activity.marks}
            if activity.is_held:
                tally = ledger.tally(activity)
                expected, present = tally.expected, tally.present
                leave = "、".join(
                    f"{ledger.members[mid].name}（{reasons.get(mid) or '未填事由'}）"
                    for mid in ledger.expected_ids(activity) if ledger.status_of(activity, mid) == "leave"
                )
                absent = "、".join(_people(ledger, activity, "absent"))
            else:
                expected = present = None
                leave = absent = ""
            _body_row(sheet, row, (
                ledger.local_date(activity.starts_at).isoformat(),
                ledger.orgs[activity.org_id].name,
                label,
                activity.topic or activity.title,
                ledger.host_of(activity) or "",
                activity.recorder or "",
                expected,
                present,
                leave or "",
                absent or "",
                activity.minutes or "",
                ACTIVITY_STATUS_LABELS.get(activity.status, activity.status),
            ))
            for column in (7, 8, 12):
                sheet.cell(row=row, column=column).style = STYLE_CENTER
        _prepare_for_print(sheet, landscape=True, header_rows=3)


def meeting_label(ledger: AttendanceLedger, activity: ActivityRecord) -> str:
    """The meeting type, with the 党小组 named when a group held it: two groups' meetings on one day differ."""
    org = ledger.orgs[activity.org_id]
    label = obligation_label(activity.obligation)
    return f"{label}（{org.name}）" if org.type == OrgType.GROUP.value else label


def _matrix_sheet(book: Workbook, report: AttendanceReport, org: OrgRef) -> None:
    """Members × meetings of one organisation (its 党小组 included); marks 出席/请假/缺席/代签."""
    ledger = report.ledger
    meetings = [a for a in ledger.meetings(org) if a.status != "cancelled"]
    member_ids = ledger.matrix_member_ids(org)
    if not meetings or not member_ids:
        return
    sheet = book.create_sheet(_sheet_name(book, f"出勤-{org.name}"))
    columns = 2 + len(meetings) + 4
    _title(sheet, f"{org.name}党员出勤登记表", _period_text(report), columns)
    names = ["党员编号", "姓名"] + [
        f"{ledger.local_date(a.starts_at):%m-%d}\n{meeting_label(ledger, a)}" for a in meetings
    ] + list(ATTENDANCE_MARKS.values())  # the totals, one column per mark
    _header(sheet, 3, names, [11, 9] + [7] * len(meetings) + [6, 6, 6, 6])
    sheet.row_dimensions[3].height = 30
    for row, member_id in enumerate(member_ids, start=4):
        member = ledger.members[member_id]
        statuses = [ledger.status_of(a, member_id) for a in meetings]
        totals = [sum(1 for s in statuses if s == key) for key in ATTENDANCE_MARKS]
        _body_row(sheet, row, [member.member_no, member.name] + [ATTENDANCE_MARKS.get(s or "", "") for s in statuses] + totals,
                  center_from=3)
        for offset, status in enumerate(statuses):
            if status in MARK_STYLES:
                sheet.cell(row=row, column=3 + offset).style = MARK_STYLES[status]
    legend_row = 4 + len(member_ids) + 1
    _put(sheet, legend_row, 1, "说明：空白 = 不在该次会议应到范围或会议未召开；党员按编号排列。").font = BODY
    _prepare_for_print(sheet, landscape=True, header_rows=3)
    sheet.freeze_panes = "C4"


def _dual_life_sheet(book: Workbook, report: AttendanceReport) -> None:
    """双重组织生活: this subtree's leading cadres at the meetings of the committees above it."""
    ledger = report.ledger
    if not ledger.dual_life:
        return
    sheet = book.create_sheet("双重组织生活")
    names = ("党员编号", "姓名", "日期", "组织", "类型", "会议", "出勤")
    _title(sheet, "领导干部双重组织生活登记", _period_text(report), len(names))
    _header(sheet, 3, names, (11, 9, 11, 16, 10, 26, 8))
    for row, entry in enumerate(ledger.dual_life, start=4):
        member = ledger.members[entry.member_id]
        _body_row(sheet, row, (
            member.member_no, member.name, ledger.local_date(entry.activity.starts_at).isoformat(), entry.org_name,
            obligation_label(entry.activity.obligation), entry.activity.title,
            ATTENDANCE_MARKS.get(entry.status or "", ACTIVITY_STATUS_LABELS.get(entry.activity.status, "")),
        ), center_from=7)
    _prepare_for_print(sheet, landscape=False, header_rows=3)


def _completion_sheets(book: Workbook, report: AttendanceReport) -> None:
    sheet = book.create_sheet("完成情况")
    names = ("支部", "单位", "事项", "应开展（期）", "按期完成", "补开", "未开展", "进行中", "未开展的期间")
    _title(sheet, "三会一课及主题党日完成情况", _period_text(report) + "（按目录规定的周期逐期核对）", len(names))
    _header(sheet, 3, names, (10, 18, 10, 11, 9, 7, 8, 8, 40))
    branch_names = {o.code: o.name for o in report.ledger.orgs.values()}
    for row, values in enumerate(completion_rows(list(report.completion)), start=4):
        branch, *rest = values
        _body_row(sheet, row, (branch_names.get(branch, branch), *rest), center_from=4)
        sheet.cell(row=row, column=9).style = STYLE_TEXT
        if values[6]:
            sheet.cell(row=row, column=7).style = STATE_STYLES[CompletionState.MISSED]
    _prepare_for_print(sheet, landscape=False, header_rows=3)

    detail = book.create_sheet("完成明细")
    names = ("支部", "单位", "事项", "期间", "结果", "开展日期", "备注")
    _title(detail, "完成情况明细", _period_text(report), len(names))
    _header(detail, 3, names, (16, 18, 10, 10, 8, 11, 18))
    for row, cell in enumerate(report.completion, start=4):
        _body_row(detail, row, (
            branch_names.get(cell.branch_code, cell.branch_code), cell.unit.name, cell.requirement.label,
            cell.period.label, cell.state.label, cell.held_on.isoformat() if cell.held_on else "",
            "已安排，书记尚未确认" if cell.awaiting_confirmation else "",
        ), center_from=4)
        if cell.state in STATE_STYLES:
            detail.cell(row=row, column=5).style = STATE_STYLES[cell.state]
    _prepare_for_print(detail, landscape=False, header_rows=3)


def _comparison_sheet(book: Workbook, report: AttendanceReport) -> None:
    sheet = book.create_sheet("支部对比")
    names = ("序号", "支部编码", "支部名称", "三会一课完成率", "出勤率", "未开展")
    _title(sheet, "支部对比（本组织党委已开启）", _period_text(report), len(names))
    _header(sheet, 3, names, (6, 11, 22, 14, 10, 8))
    for row, (place, s) in enumerate(enumerate(branch_comparison(report), start=1), start=4):
        _body_row(sheet, row, (place, s.org.code, s.org.name, percent(s.completion_rate), percent(s.attendance_rate),
                               s.missed), center_from=4)
    _prepare_for_print(sheet, landscape=False, header_rows=3)


def build_workbook(report: AttendanceReport, extra_sheets: Sequence[Callable[[Workbook], None]] = ()) -> Workbook:
    """汇总, one record sheet per meeting type, an attendance matrix per organisation, completion sheets,
    a branch comparison only when the organisation turned it on, then `extra_sheets` (整改清单, 谈心谈话记录)."""
    book = Workbook()
    _register_styles(book)
    _summary_sheet(book, report)
    _record_sheets(book, report)
    orgs = report.ledger.report_orgs
    if len(orgs) <= MAX_MATRIX_SHEETS:
        for org in orgs:
            _matrix_sheet(book, report, org)
    else:
        summary = book["汇总"]
        note = _put(summary, summary.max_row + 1, 1, (
            f"本报表包含 {len(orgs)} 个组织，出勤登记表（党员×会议）未逐一列出；"
            f"请按支部导出，例如 branchbot report attendance --org {orgs[0].code} --format xlsx --output 台账.xlsx。"
        ))
        note.font = BODY
    _dual_life_sheet(book, report)
    _completion_sheets(book, report)
    if report.branch_comparison:
        _comparison_sheet(book, report)
    for write in extra_sheets:
        write(book)
    return book


def workbook_bytes(report: AttendanceReport, extra_sheets: Sequence[Callable[[Workbook], None]] = ()) -> bytes:
    buffer = io.BytesIO()
    build_workbook(report, extra_sheets).save(buffer)
    return buffer.getvalue()
