"""The 台账 workbook, opened again with openpyxl: sheets, record rows, matrix marks, completion, print setup."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from bot.reports.workbook import workbook_bytes
from schedules.completion import quarter_period
from storage.services import reports
from tests.reports.conftest import SHANGHAI, local

NOW = local("2025-04-02T10:00")


def open_report(session, code="D01", *, comparison=False):
    report = reports.load_report(session, code, quarter_period(2025, 1), SHANGHAI, NOW, branch_comparison=comparison)
    return load_workbook(io.BytesIO(workbook_bytes(report)))


def rows(sheet, first=4):
    return [list(r) for r in sheet.iter_rows(min_row=first, values_only=True) if any(v is not None for v in r)]


def test_sheets_of_an_organisation_workbook(session, world):
    book = open_report(session)
    assert book.sheetnames == [
        "汇总", "支委会记录", "党小组会记录", "党员大会记录", "党课记录", "主题党日记录",
        "出勤-第一支部", "出勤-第二支部", "出勤-机关党委", "完成情况", "完成明细",
    ]
    assert all(len(name) <= 31 for name in book.sheetnames)


def test_record_book_row_has_counts_leave_reasons_absentees_and_minutes(session, world):
    sheet = open_report(session)["主题党日记录"]
    header = [c.value for c in sheet[3]]
    assert header == ["日期", "组织", "类型", "主题", "主持人", "记录人", "应到", "实到", "请假人员及事由", "缺席人员", "会议记录", "状态"]
    assert rows(sheet) == [
        ["2025-01-15", "第一支部", "主题党日", "学习二十届三中全会精神", "王书记", "李明", 4, 2, "李明（出差北京）", "赵强",
         "传达学习，讨论发言。", "已召开"],
    ]


def test_attendance_matrix_marks_present_leave_absent_and_proxy(session, world):
    sheet = open_report(session, "B01")["出勤-第一支部"]
    assert [c.value for c in sheet[3]] == [
        "党员编号", "姓名", "01-07\n支委会", "01-15\n主题党日", "02-11\n党小组会（第一党小组）", "出席", "请假", "缺席", "代签",
    ]
    assert rows(sheet)[:4] == [
        ["M001", "王书记", "出席", "出席", "出席", 3, 0, 0, 0],
        ["M002", "李明", None, "请假", "出席", 1, 1, 0, 0],
        ["M003", "张华", None, "代签", "出席", 1, 0, 0, 1],
        ["M004", "赵强", None, "缺席", None, 0, 0, 1, 0],
    ]


def test_leading_cadre_is_in_the_committee_matrix_too(session, world):
    sheet = open_report(session)["出勤-机关党委"]
    names = [r[1] for r in rows(sheet) if r[0] and str(r[0]).startswith("M")]
    assert names == ["王书记", "周书记"]


def test_completion_sheet_per_branch_against_the_cadence(session, world):
    sheet = open_report(session)["完成情况"]
    table = {(r[0], r[1], r[2]): r[3:] for r in rows(sheet)}
    assert table[("第一支部", "第一支部", "支委会")] == [3, 1, 0, 2, 0, "2025-02、2025-03"]
    assert table[("第一支部", "第一党小组", "党小组会")] == [3, 1, 0, 2, 0, "2025-01、2025-03"]
    assert table[("第二支部", "第二支部", "党员大会")] == [1, 1, 0, 0, 0, None]
    assert table[("第一支部", "第一支部", "主题党日")] == [3, 1, 0, 2, 0, "2025-02、2025-03"]


def test_every_sheet_is_ready_to_print_on_a4_with_chinese_fonts(session, world):
    book = open_report(session)
    for sheet in book.worksheets:
        assert int(sheet.page_setup.paperSize) == 9, sheet.title  # 9 = A4 in SpreadsheetML
        assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.print_title_rows == "$1:$3", sheet.title
        assert sheet.freeze_panes in ("A4", "C4"), sheet.title
        header = sheet.cell(row=3, column=1)
        assert header.font.name == "宋体" and header.font.b, sheet.title
        assert header.border.left.style == "thin", sheet.title
        assert sheet.column_dimensions["A"].width > 5, sheet.title
    assert book["出勤-第一支部"].page_setup.orientation == "landscape"


@pytest.mark.parametrize(("comparison", "present"), [pytest.param(False, False, id="off-by-default"),
                                                       pytest.param(True, True, id="enabled-by-the-organisation")])
def test_branch_comparison_sheet_only_when_enabled(session, world, comparison, present):
    book = open_report(session, comparison=comparison)
    assert ("支部对比" in book.sheetnames) is present
    if present:
        assert [r[2] for r in rows(book["支部对比"])] == ["第一支部", "第二支部"]


def test_branch_workbook_records_dual_organisational_life(session, world):
    book = open_report(session, "B01")
    assert rows(book["双重组织生活"]) == [["M001", "王书记", "2025-03-20", "机关党委", "党课", "党委书记讲党课", "出席"]]
    assert "双重组织生活" not in open_report(session, "D01").sheetnames  # the committee's meetings are in its own matrix


def test_very_large_organisations_get_no_matrix_sheets_but_a_note(session, world, monkeypatch):
    from bot.reports import workbook

    monkeypatch.setattr(workbook, "MAX_MATRIX_SHEETS", 2)
    book = open_report(session)
    assert not any(name.startswith("出勤-") for name in book.sheetnames)
    notes = [r[0] for r in book["汇总"].iter_rows(values_only=True) if r[0] and "出勤登记表" in str(r[0])]
    assert notes and "请按支部导出" in notes[0]
