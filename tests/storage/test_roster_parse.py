"""Reading and validating roster files: every bad cell is reported as `file:row: column: message`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from schedules.roster import Category, Member, Role, UpperRole
from storage.roster_io import RosterError, export_roster, parse_date, read_roster
from tests.storage.roster_files import BASIC, Rows, basic_rows, member, org, write_roster

TODAY = date(2026, 6, 1)
Edit = Callable[[Rows, Rows], None]


def member_cells(which: str, /, **cells: str) -> Edit:
    return lambda orgs, members: member(members, which).update(cells)


def org_cells(which: str, /, **cells: str) -> Edit:
    return lambda orgs, members: org(orgs, which).update(cells)


def add_member(**cells: str) -> Edit:
    base = {"member_no": "M100", "name": "新党员", "org_code": "B01", "category": "正式党员", "joined_on": "2020-01-01"}
    return lambda orgs, members: members.append({**dict.fromkeys(members[0], ""), **base, **cells})


def add_org(**cells: str) -> Edit:
    return lambda orgs, members: orgs.append({**dict.fromkeys(orgs[0], ""), **cells})


def drop_column(key: str) -> Edit:
    def edit(orgs: Rows, members: Rows) -> None:
        for row in (*orgs, *members):
            row.pop(key, None)
    return edit


def problems_of(tmp_path: Path, *edits: Edit) -> list[str]:
    orgs, members = basic_rows()
    for edit in edits:
        edit(orgs, members)
    folder = write_roster(tmp_path / "roster", orgs, members)
    with pytest.raises(RosterError) as info:
        read_roster(folder, today=TODAY)
    return [str(problem) for problem in info.value.problems]


# Rows as a user sees them in Excel: the header is row 1, so M001 is row 2 and M004 is row 5.
BAD_ROSTERS = [
    pytest.param(member_cells("M001", org_code="B99"), "members.csv:2: org_code: 组织不存在：B99", id="unknown-organisation"),
    pytest.param(member_cells("M004", joined_on="2015-02-29"), "members.csv:5: joined_on: 日期不存在：2015-02-29",
                 id="impossible-date"),
    pytest.param(member_cells("M004", joined_on="2015年2月30日"), "members.csv:5: joined_on: 日期不存在：2015年2月30日",
                 id="impossible-date-chinese-form"),
    pytest.param(member_cells("M004", joined_on="5.3.2025"),
                 "members.csv:5: joined_on: 无法识别的日期：5.3.2025（应写作 2025-03-05、2025/3/5 或 2025年3月5日）",
                 id="unreadable-date"),
    pytest.param(member_cells("M002", member_no="M001"), "members.csv:3: member_no: 党员编号重复：M001（第 2 行已有）",
                 id="duplicate-member-number"),
    pytest.param(member_cells("M003", category="党员"),
                 "members.csv:4: category: 未知的人员类别：党员（应为 正式党员、预备党员、发展对象、入党积极分子）",
                 id="unknown-category"),
    pytest.param(member_cells("M003", roles="组织委员;支书"),
                 "members.csv:4: roles: 未知的职务：支书（应为 书记、副书记、组织委员、宣传委员、纪检委员、委员、党小组长）",
                 id="unknown-role"),
    pytest.param(member_cells("M004", joined_on=""), "members.csv:5: joined_on: 预备党员必须填写入党日期",
                 id="probationary-without-admission-date"),
    pytest.param(member_cells("M001", full_member_on="1997-06-20"),
                 "members.csv:2: full_member_on: 转正日期 1997-06-20 早于入党日期 1998-06-15",
                 id="full-member-date-before-admission"),
    pytest.param(org_cells("D01", parent_code="D02"), "organizations.csv:2: parent_code: 上级组织不存在：D02",
                 id="unknown-parent"),
    pytest.param(lambda o, m: (add_org(code="D02", name="另一党委", type="党委", parent_code="D01")(o, m),
                               org_cells("D01", parent_code="D02")(o, m)),
                 "organizations.csv:2: parent_code: 组织层级存在循环：D01 → D02 → D01", id="cycle-in-tree"),
    pytest.param(add_org(code="B01", name="重复", type="党支部", parent_code="D01"),
                 "organizations.csv:9: code: 组织编码重复：B01（第 4 行已有）", id="duplicate-org-code"),
    pytest.param(org_cells("B01G2", type="小组"),
                 "organizations.csv:6: type: 未知的组织类型：小组（应为 党委、党总支、党支部、党小组）", id="unknown-org-type"),
    pytest.param(org_cells("B02G1", parent_code="Z01"),
                 "organizations.csv:8: parent_code: 党小组的上级组织应为党支部：Z01 是党总支", id="group-not-under-branch"),
    pytest.param(org_cells("B01G1", parent_code=""), "organizations.csv:5: parent_code: 党小组必须填写上级党支部",
                 id="group-without-parent"),
    pytest.param(org_cells("B01", term_years="0"), "organizations.csv:4: term_years: 任期应为正整数（年）：0",
                 id="term-not-positive"),
    pytest.param(org_cells("B01", term_years="三年"), "organizations.csv:4: term_years: 任期应为正整数（年）：三年",
                 id="term-not-a-number"),
    pytest.param(org_cells("B01", group_chat_id="群1"),
                 "organizations.csv:4: group_chat_id: 群聊ID应为整数（Telegram 群的 chat id，如 -1001234567890）：群1",
                 id="chat-id-not-integer"),
    pytest.param(member_cells("M001", org_code="D01"),
                 "members.csv:2: org_code: 所在支部必须是党支部：D01 是党委；上级组织的委员请写在 upper_roles（上级职务）中",
                 id="member-placed-in-committee"),
    pytest.param(member_cells("M003", group_code="B02G1"), "members.csv:4: group_code: 党小组 B02G1 不属于支部 B01",
                 id="group-of-another-branch"),
    pytest.param(add_member(group_code="G99"), "members.csv:10: group_code: 党小组不存在：G99", id="unknown-group"),
    pytest.param(member_cells("M003", group_code=""), "members.csv:4: roles: 党小组长必须填写所在党小组（group_code）",
                 id="group-leader-without-group"),
    pytest.param(member_cells("M001", upper_roles="Z01:委员"), "members.csv:2: upper_roles: Z01 不是支部 B01 的上级组织",
                 id="upper-seat-not-above-branch"),
    pytest.param(member_cells("M001", upper_roles="D01委员"),
                 "members.csv:2: upper_roles: 应写作 组织编码:职务（如 D01:委员）：D01委员", id="upper-seat-malformed"),
    pytest.param(member_cells("M002", roles="书记"), "members.csv:3: roles: 支部 B01 已有书记（第 2 行）",
                 id="two-secretaries"),
    pytest.param(member_cells("M008", roles="委员"), "members.csv:9: roles: 入党积极分子不能担任党内职务",
                 id="activist-with-role"),
    pytest.param(member_cells("M005", joined_on="2024-01-01"), "members.csv:6: joined_on: 发展对象尚未入党，不应填写入党日期",
                 id="candidate-with-admission-date"),
    pytest.param(member_cells("M004", full_member_on="2026-03-05"),
                 "members.csv:5: full_member_on: 预备党员尚未转正，不应填写转正日期", id="probationary-with-full-date"),
    pytest.param(member_cells("M004", joined_on="2026-07-01"), "members.csv:5: joined_on: 日期晚于今天：2026-07-01",
                 id="admission-in-the-future"),
    pytest.param(member_cells("M001", leading_cadre="也许"), "members.csv:2: leading_cadre: 应为 是 或 否：也许",
                 id="leading-cadre-not-yes-no"),
    pytest.param(member_cells("M001", telegram_username="王 建国"),
                 "members.csv:2: telegram_username: Telegram 用户名无效：王 建国（5–32 位字母、数字或下划线）",
                 id="bad-telegram-username"),
    pytest.param(member_cells("M002", telegram_username="@WangJianGuo"),
                 "members.csv:3: telegram_username: Telegram 用户名重复：WangJianGuo（第 2 行已有）",
                 id="duplicate-telegram-username"),
    pytest.param(member_cells("M002", name=""), "members.csv:3: name: 不能为空", id="empty-name"),
    pytest.param(drop_column("category"), "members.csv:1: 缺少必需的列：category（人员类别）", id="missing-column"),
]


@pytest.mark.parametrize("edit, expected", BAD_ROSTERS)
def test_a_bad_cell_is_reported_where_the_user_can_find_it(tmp_path, edit, expected):
    assert expected in problems_of(tmp_path, edit)


def test_extra_columns_are_ignored(tmp_path):
    orgs, members = basic_rows()
    for row in members:
        row.update({"性别": "女", "备注": "挂职"})
    folder = write_roster(tmp_path, orgs, members)
    assert "备注" in (folder / "members.csv").read_text(encoding="utf-8")
    assert len(read_roster(folder, today=TODAY).members) == len(members)


def test_every_problem_is_listed_in_file_and_row_order(tmp_path):
    problems = problems_of(
        tmp_path,
        member_cells("M008", category="群众"),
        member_cells("M001", org_code="B99"),
        member_cells("M004", joined_on="2015-02-29"),
        org_cells("B01", term_years="-1"),
    )
    assert problems == [
        "organizations.csv:4: term_years: 任期应为正整数（年）：-1",
        "members.csv:2: org_code: 组织不存在：B99",
        "members.csv:5: joined_on: 日期不存在：2015-02-29",
        "members.csv:9: category: 未知的人员类别：群众（应为 正式党员、预备党员、发展对象、入党积极分子）",
    ]


def test_a_bad_organisation_row_is_not_repeated_for_each_of_its_members(tmp_path):
    assert problems_of(tmp_path, org_cells("B02", term_years="x")) == [
        "organizations.csv:7: term_years: 任期应为正整数（年）：x",
    ]


def test_missing_files_are_named(tmp_path):
    (tmp_path / "roster").mkdir()
    (tmp_path / "roster" / "organizations.csv").write_bytes((BASIC / "organizations.csv").read_bytes())
    with pytest.raises(RosterError) as info:
        read_roster(tmp_path / "roster", today=TODAY)
    assert [str(p) for p in info.value.problems] == [f"members.csv: 文件夹 {tmp_path / 'roster'} 中缺少此文件"]


@pytest.mark.parametrize("text, expected", [
    pytest.param("2025-03-05", date(2025, 3, 5), id="iso"),
    pytest.param("2025/3/5", date(2025, 3, 5), id="slashes"),
    pytest.param("2025年3月5日", date(2025, 3, 5), id="chinese"),
    pytest.param("2024-02-29", date(2024, 2, 29), id="leap-day"),
])
def test_dates_in_the_three_forms_users_write(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("form", ["2025-03-05", "2025/3/5", "2025年3月5日"])
def test_each_date_form_reaches_the_member(tmp_path, form):
    orgs, members = basic_rows()
    member(members, "M004")["joined_on"] = form
    roster = read_roster(write_roster(tmp_path, orgs, members), today=TODAY)
    assert next(m for m in roster.members if m.member_no == "M004").joined_on == date(2025, 3, 5)


def test_the_basic_roster_becomes_typed_values():
    roster = read_roster(BASIC, today=TODAY)
    by_no = {m.member_no: m for m in roster.members}
    assert by_no["M002"].roles == {Role.DEPUTY_SECRETARY, Role.GROUP_LEADER}
    assert by_no["M003"].roles == {Role.ORGANIZATION_MEMBER, Role.GROUP_LEADER}
    assert by_no["M007"].upper_roles == {UpperRole("Z01", Role.SECRETARY), UpperRole("D01", Role.COMMITTEE_MEMBER)}
    assert by_no["M006"].leading_cadre and not by_no["M001"].leading_cadre
    assert by_no["M004"] == Member(
        member_no="M004", name="赵敏", org_code="B01", group_code="B01G2", category=Category.PROBATIONARY,
        joined_on=date(2025, 3, 5), activist_on=date(2023, 3, 10), telegram_username="zhaomin",
    )
    assert [o.code for o in roster.ancestors("B02")] == ["Z01", "D01"]
    assert roster.org("B01").group_chat_id == -1001000000101
    assert [m.member_no for m in roster.secretaries_of("D01")] == ["M006"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
@pytest.mark.parametrize("chinese_headers", [False, True], ids=["english-headers", "chinese-headers"])
def test_encodings_excel_writes_and_both_header_languages_read_the_same(tmp_path, encoding, chinese_headers):
    orgs, members = basic_rows()
    folder = write_roster(tmp_path / "roster", orgs, members, encoding=encoding, chinese_headers=chinese_headers)
    if encoding == "gb18030":
        assert (folder / "members.csv").read_bytes() != (BASIC / "members.csv").read_bytes()
    roster = read_roster(folder, today=TODAY)
    expected = read_roster(BASIC, today=TODAY)
    assert set(roster.members) == set(expected.members)
    assert set(roster.organizations) == set(expected.organizations)


def test_problems_name_the_column_as_the_user_wrote_it(tmp_path):
    orgs, members = basic_rows()
    member(members, "M004")["joined_on"] = "2015-02-29"
    folder = write_roster(tmp_path / "roster", orgs, members, encoding="gb18030", chinese_headers=True)
    with pytest.raises(RosterError) as info:
        read_roster(folder, today=TODAY)
    assert [str(p) for p in info.value.problems] == ["members.csv:5: 入党日期: 日期不存在：2015-02-29"]


def test_telegram_username_loses_its_at_sign(tmp_path):
    orgs, members = basic_rows()
    member(members, "M003")["telegram_username"] = "@zhang_wei"
    roster = read_roster(write_roster(tmp_path, orgs, members), today=TODAY)
    assert next(m for m in roster.members if m.member_no == "M003").telegram_username == "zhang_wei"


@pytest.mark.parametrize("target", ["folder", "book.xlsx"])
def test_export_then_read_gives_the_same_roster(tmp_path, target):
    roster = read_roster(BASIC, today=TODAY)
    export_roster(roster, tmp_path / target)
    again = read_roster(tmp_path / target, today=TODAY)
    assert set(again.members) == set(roster.members)
    assert set(again.organizations) == set(roster.organizations)


def test_workbook_sheets_may_have_chinese_names_and_date_cells(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    orgs_sheet = workbook.create_sheet("组织")
    orgs_sheet.append(["组织编码", "组织名称", "组织类型", "上级组织编码", "群聊ID"])
    orgs_sheet.append(["B01", "第一党支部", "党支部", None, -1001000000101])
    members_sheet = workbook.create_sheet("党员")
    members_sheet.append(["党员编号", "姓名", "所在支部", "人员类别", "入党日期", "转正日期"])
    members_sheet.append([2019001, "王建国", "B01", "正式党员", date(2019, 7, 1), "2020年7月2日"])
    members_sheet.append([2019002, "李秀英", "B01", "预备党员", None, None])
    workbook.save(tmp_path / "book.xlsx")

    with pytest.raises(RosterError) as info:
        read_roster(tmp_path / "book.xlsx", today=TODAY)
    assert [str(p) for p in info.value.problems] == ["book.xlsx[党员]:3: 入党日期: 预备党员必须填写入党日期"]

    members_sheet["E3"] = "2025/12/1"
    workbook.save(tmp_path / "book.xlsx")
    roster = read_roster(tmp_path / "book.xlsx", today=TODAY)
    assert {m.member_no: m.joined_on for m in roster.members} == {"2019001": date(2019, 7, 1), "2019002": date(2025, 12, 1)}
    assert roster.org("B01").group_chat_id == -1001000000101


def test_pointing_at_one_csv_reads_the_pair_beside_it():
    assert set(read_roster(BASIC / "members.csv", today=TODAY).members) == set(read_roster(BASIC, today=TODAY).members)


def test_the_demo_roster_is_valid_and_its_workbook_matches_the_csv_files():
    demo = BASIC.parents[3] / "config" / "demo"
    roster = read_roster(demo, today=TODAY)
    assert set(read_roster(demo / "roster.xlsx", today=TODAY).members) == set(roster.members)
    branches = roster.branches()
    assert len(branches) == 3 and all(len(roster.children(b.code)) == 2 for b in branches)
    assert all(roster.secretaries_of(code) for code in ("D01", "Z01", *(b.code for b in branches)))
    categories = {m.category for m in roster.members}
    assert categories == set(Category) and any(m.leading_cadre for m in roster.members)
