"""#18.1: text people typed never becomes a formula in the 台账, the 整改清单 or an exported roster, on both databases."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from bot.reports import charts
from bot.reports.ledger_sheets import LedgerExtras
from bot.reports.workbook import _register_styles, workbook_bytes
from schedules.completion import quarter_period
from storage import models
from storage.cells import FORMULA_STARTS, guard, needs_guard, unguard
from storage.services import reports
from storage.roster_io import export_roster, read_roster
from storage.services.rectification import ItemView, Note
from storage.services.talks import CommitteeProgress, Coverage, Person, TalkRecord
from tests.reports.conftest import SHANGHAI, build_world, local
from tests.storage.roster_files import BASIC

LINK = '=HYPERLINK("http://evil.example/x","点我")'
NOW = local("2025-04-02T10:00")


@pytest.mark.parametrize(("text", "written"), [
    pytest.param(LINK, "'" + LINK, id="equals-formula"),
    pytest.param("+1+1", "'+1+1", id="plus"),
    pytest.param("-1+1", "'-1+1", id="minus"),
    pytest.param("@SUM(A1:A9)", "'@SUM(A1:A9)", id="at"),
    pytest.param("\t=1+1", "'\t=1+1", id="leading-tab"),
    pytest.param("\r=1+1", "'\r=1+1", id="leading-carriage-return"),
    pytest.param("'=1+1", "''=1+1", id="a-quote-before-a-formula-is-guarded-too"),
    pytest.param("'t Hooft", "''t Hooft", id="any-leading-quote"),
    pytest.param("-1001234567890", "-1001234567890", id="a-negative-number-is-no-formula"),
    pytest.param("+86", "+86", id="a-signed-number"),
    pytest.param("-2.5", "-2.5", id="a-decimal"),
    pytest.param("王建国", "王建国", id="plain-text"),
    pytest.param("a=b", "a=b", id="equals-inside"),
    pytest.param("", "", id="empty"),
])
def test_guard_writes_formula_starts_as_text_and_unguard_gives_the_text_back(text, written):
    assert guard(text) == written
    assert unguard(written) == text


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_unguard_inverts_guard_for_every_text(text):
    written = guard(text)
    assert unguard(written) == text
    # What is written never starts like a formula, unless it is a plain number.
    assert written[:1] not in FORMULA_STARTS or not needs_guard(written)


def _formula_cells(book) -> list[str]:
    return [f"{sheet.title}!{cell.coordinate}={cell.value!r}"
            for sheet in book.worksheets for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]


def _texts(book) -> list[str]:
    return [cell.value for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
            if isinstance(cell.value, str)]


def _hostile_world(session):
    """The reports world with formulas where people type: a member's name, a group's name, topic, minutes, reason."""
    world = build_world(session)
    session.get(models.Member, world.members["M002"]).name = LINK  # 李明: on leave at the 主题党日, in every matrix
    session.get(models.Organization, world.orgs["B01G1"]).name = "+党小组"
    session.get(models.Organization, world.orgs["D01"]).name = "@机关党委"  # the root: titles and chart captions
    tpd = session.get(models.Activity, world.activities["theme_party_day:B01:2025-01"])
    tpd.topic, tpd.minutes, tpd.recorder = "=1+1", "-2+3 讨论", "@李明"
    session.flush()
    return world


def _extras() -> LedgerExtras:
    at = datetime(2025, 3, 1, 2, tzinfo=timezone.utc)
    item = ItemView(
        id=1, org_id=1, org_code="B01", org_name="=B01", raised_by_code="D01", raised_by_upper=True,
        problem=LINK, source="巡察", measures="+整改措施", owners=((1, "-张三"),), due_on=date(2025, 6, 30),
        deadline_text="@6月底前", closed_at=at, closed_by="x", evidence="=依据",
        notes=(Note("progress", "=进展", "王书记", at, False),), created_at=at,
    )
    person, other = Person(1, "=支委", "M1"), Person(2, "+对象", "M2")
    return LedgerExtras(
        root_name="=机关党委", window=quarter_period(2025, 1), today=date(2025, 4, 2), zone=SHANGHAI, items=(item,),
        talks=(TalkRecord(date(2025, 2, 1), "=第一支部", "=支委", "+对象", LINK, "@记录人"),),
        coverages=(Coverage(1, "=第一支部", 2025, (CommitteeProgress(person, (), (other,)),)),),
    )


def test_the_ledger_workbook_has_no_formula_cell_and_shows_what_was_typed(session):
    _hostile_world(session)
    report = reports.load_report(session, "D01", quarter_period(2025, 1), SHANGHAI, NOW, branch_comparison=True)
    book = load_workbook(io.BytesIO(workbook_bytes(report, _extras().writers())))

    assert _formula_cells(book) == []
    texts = _texts(book)
    for typed in (LINK, "+党小组", "=1+1", "-2+3 讨论", "@李明", "=依据", "=B01", "+整改措施", "-张三"):
        assert "'" + typed in texts, typed
    assert "@机关党委党员出勤登记表" not in texts and "'@机关党委党员出勤登记表" in texts
    matrix = book["出勤-第一支部"]
    assert [c.value for c in matrix[5]][:2] == ["M002", "'" + LINK]


def test_the_rectification_export_sheet_has_no_formula_cell():
    # `branchbot rectification export` writes this same sheet into a book of its own.
    book = Workbook()
    _register_styles(book)
    book.remove(book.active)
    _extras().rectification_sheet(book)
    buffer = io.BytesIO()
    book.save(buffer)
    reread = load_workbook(io.BytesIO(buffer.getvalue()))
    assert _formula_cells(reread) == []
    assert "'" + LINK in _texts(reread)


def test_charts_draw_names_with_dollar_signs_as_written(session):
    world = build_world(session)
    session.get(models.Organization, world.orgs["B01"]).name = "$\\frac{1}$支部"  # bad TeX: an error as math
    session.get(models.Organization, world.orgs["D01"]).name = "$x^2$党委"
    session.flush()
    report = reports.load_report(session, "D01", quarter_period(2025, 1), SHANGHAI, NOW, branch_comparison=True)
    for draw in (charts.attendance_rate_chart, charts.completion_chart):
        assert draw(report).startswith(b"\x89PNG")


def _hostile_roster(tmp_path):
    roster = read_roster(BASIC, today=date(2026, 12, 1))
    names = {"M001": LINK, "M002": "=1+1", "M003": "'=already quoted", "M004": "-5+1"}
    members = tuple(replace(m, name=names.get(m.member_no, m.name)) for m in roster.members)
    orgs = tuple(replace(o, name="@" + o.name) if o.code == "B01" else o for o in roster.organizations)
    return type(roster).of(orgs, members)


def test_roster_export_csv_fields_start_safely_and_import_gives_the_same_roster(tmp_path):
    roster = _hostile_roster(tmp_path)
    export_roster(roster, tmp_path / "out")

    for name in ("organizations.csv", "members.csv"):
        with (tmp_path / "out" / name).open(encoding="utf-8-sig", newline="") as handle:
            fields = [field for row in csv.reader(handle) for field in row]
        unsafe = [f for f in fields if f[:1] in FORMULA_STARTS and needs_guard(f)]
        assert unsafe == [], name
        assert "=1+1" not in fields
    members = (tmp_path / "out" / "members.csv").read_text(encoding="utf-8-sig")
    assert "'=1+1" in members and "''=already quoted" in members
    again = read_roster(tmp_path / "out", today=date(2026, 12, 1))
    assert sorted(again.members, key=lambda m: m.member_no) == sorted(roster.members, key=lambda m: m.member_no)
    assert sorted(again.organizations, key=lambda o: o.code) == sorted(roster.organizations, key=lambda o: o.code)


def test_roster_export_xlsx_has_no_formula_cell_and_import_gives_the_same_roster(tmp_path):
    roster = _hostile_roster(tmp_path)
    export_roster(roster, tmp_path / "out.xlsx")

    book = load_workbook(tmp_path / "out.xlsx")
    assert _formula_cells(book) == []
    assert "'" + LINK in _texts(book)
    again = read_roster(tmp_path / "out.xlsx", today=date(2026, 12, 1))
    assert sorted(again.members, key=lambda m: m.member_no) == sorted(roster.members, key=lambda m: m.member_no)
    assert sorted(again.organizations, key=lambda o: o.code) == sorted(roster.organizations, key=lambda o: o.code)
