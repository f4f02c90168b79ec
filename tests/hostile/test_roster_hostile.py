"""#18.1 and #18.3: hostile rosters get the same listed answer on SQLite and PostgreSQL, exit 2, nothing written."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from storage import models
from storage.db import make_engine
from storage.roster_io.columns import MEMBERS, ORGANIZATIONS
from tests.cli_runner import cli, row_count  # noqa: F401  (cli is a fixture)
from tests.storage.roster_files import basic_rows, member, org, write_roster

LONG = "王" * 140_000  # over the csv module's field limit of 131,072 characters


def _members(**cells: dict[str, str]):  # noqa: ANN202
    def change(orgs, members):  # noqa: ANN001, ANN202
        for member_no, values in cells.items():
            member(members, member_no).update(values)
    return change


def _orgs(**cells: dict[str, str]):  # noqa: ANN202
    def change(orgs, members):  # noqa: ANN001, ANN202
        for code, values in cells.items():
            org(orgs, code).update(values)
    return change


# (change to the basic roster, every line the user reads on stderr before the count)
HOSTILE = [
    pytest.param(_members(M002={"name": LONG}), [
        "members.csv:3: 单元格过长（超过 131072 个字符），无法读取；此行及以后的行未检查",
    ], id="field-over-the-csv-limit"),
    pytest.param(_members(M002={"name": "王" * 100_000}), [
        "members.csv:3: name: 过长：100000 个字符，最多 100 个：" + "王" * 40 + "…（共 100000 个字符）",
    ], id="a-100000-character-name"),
    pytest.param(_members(M002={"name": "李" * 101}), [
        "members.csv:3: name: 过长：101 个字符，最多 100 个：" + "李" * 40 + "…（共 101 个字符）",
    ], id="a-name-one-over-the-column"),
    pytest.param(_members(M001={"member_no": "M" * 65}), [
        "members.csv:2: member_no: 过长：65 个字符，最多 64 个：" + "M" * 40 + "…（共 65 个字符）",
    ], id="a-member-number-over-the-column"),
    pytest.param(_members(M002={"name": "李\x00秀英"}), [
        "members.csv:3: name: 含有不可见的控制字符 U+0000，请删除后再导入：李\\x00秀英",
    ], id="nul-byte"),
    pytest.param(_members(M002={"name": "\x1b[31m李秀英\x1b[0m"}), [
        "members.csv:3: name: 含有不可见的控制字符 U+001B，请删除后再导入：\\x1b[31m李秀英\\x1b[0m",
    ], id="ansi-escape"),
    pytest.param(_members(M003={"name": "张\u202e伟"}), [
        "members.csv:4: name: 含有不可见的控制字符 U+202E，请删除后再导入：张\\u202e伟",
    ], id="right-to-left-override"),
    pytest.param(_members(M003={"telegram_username": "\u2066zhangwei\u2069"}), [
        "members.csv:4: telegram_username: 含有不可见的控制字符 U+2066、U+2069，请删除后再导入：\\u2066zhangwei\\u2069",
    ], id="bidi-isolates"),
    pytest.param(_members(M001={"member_no": "M0\x8501"}), [
        "members.csv:2: member_no: 含有不可见的控制字符 U+0085，请删除后再导入：M0\\x8501",
    ], id="c1-control"),
    pytest.param(_members(M002={"name": "李\t秀英"}), [
        "members.csv:3: name: 含有不可见的控制字符 U+0009，请删除后再导入：李\\x09秀英",
    ], id="tab-inside-a-name"),
    pytest.param(_members(M002={"name": "李\n秀英"}), [
        "members.csv:3: name: 含有不可见的控制字符 U+000A，请删除后再导入：李\\x0a秀英",
    ], id="newline-inside-a-quoted-field"),
    pytest.param(_orgs(B01={"name": "第一\u202e党支部"}), [
        "organizations.csv:4: name: 含有不可见的控制字符 U+202E，请删除后再导入：第一\\u202e党支部",
    ], id="override-in-an-organisation-name"),
    pytest.param(_members(M001={"joined_on": "0001-01-01", "full_member_on": "1921-06-30"}), [
        "members.csv:2: joined_on: 日期早于 1921年7月1日（中国共产党成立）：0001-01-01",
        "members.csv:2: full_member_on: 日期早于 1921年7月1日（中国共产党成立）：1921-06-30",
    ], id="dates-before-the-founding"),
    pytest.param(_members(M001={"joined_on": "9999-12-31"}), [
        "members.csv:2: joined_on: 日期晚于今天：9999-12-31",
    ], id="a-date-in-the-future"),
    pytest.param(_orgs(D01={"elected_on": "9999-01-01"}, Z01={"elected_on": "1900-01-01"}), [
        "organizations.csv:2: elected_on: 日期晚于今天：9999-01-01",
        "organizations.csv:3: elected_on: 日期早于 1921年7月1日（中国共产党成立）：1900-01-01",
    ], id="election-dates"),
    pytest.param(_orgs(D01={"term_years": "2147483648"}, Z01={"term_years": "11"}), [
        "organizations.csv:2: term_years: 任期过长：2147483648 年（最多 10 年）",
        "organizations.csv:3: term_years: 任期过长：11 年（最多 10 年）",
    ], id="term-years-out-of-range"),
    pytest.param(_orgs(B01={"group_chat_id": "-9223372036854775809"}), [
        "organizations.csv:4: group_chat_id: 群聊ID超出范围：-9223372036854775809",
    ], id="chat-id-beyond-bigint"),
    pytest.param(_orgs(B01={"timezone": "America"}), [
        "organizations.csv:4: timezone: 未知的时区：America（应为 IANA 时区名，如 Asia/Shanghai）",
    ], id="a-timezone-folder"),
    pytest.param(_members(M002={"category": "\x1b[2J正式党员"}), [
        "members.csv:3: category: 含有不可见的控制字符 U+001B，请删除后再导入：\\x1b[2J正式党员",
    ], id="one-line-per-bad-cell"),
]


def _with_timezone_column(orgs):  # noqa: ANN001, ANN202
    for row in orgs:
        row.setdefault("timezone", "")
    return orgs


@pytest.mark.parametrize(("change", "lines"), HOSTILE)
def test_a_hostile_roster_is_listed_and_imports_nothing(cli, db_url, tmp_path, change, lines):
    orgs, members = basic_rows()
    change(_with_timezone_column(orgs), members)
    folder = write_roster(tmp_path / "hostile", orgs, members)
    cli("init")

    code, out, err = cli("roster", "import", str(folder))

    assert (code, err.splitlines()) == (2, [*lines, f"名册有 {len(lines)} 处问题，未导入任何数据。"])
    assert "\x1b" not in err and "\u202e" not in err and "\x00" not in err
    assert row_count(db_url, models.Member.__table__) == 0


def _workbook(path: Path, orgs, members) -> Path:  # noqa: ANN001
    book = Workbook()
    book.remove(book.active)
    for spec, rows in ((ORGANIZATIONS, orgs), (MEMBERS, members)):
        sheet = book.create_sheet(spec.name)
        keys = list(rows[0])
        sheet.append(keys)
        for row in rows:
            sheet.append([row[key] for key in keys])
    book.save(path)
    return path


@pytest.mark.parametrize(("change", "lines"), [
    pytest.param(_members(M002={"name": "李" * 101}), [
        "roster.xlsx[members]:3: name: 过长：101 个字符，最多 100 个：" + "李" * 40 + "…（共 101 个字符）",
    ], id="a-name-over-the-column"),
    pytest.param(_members(M003={"name": "张\u202e伟"}, M001={"joined_on": "1900-01-01"}), [
        "roster.xlsx[members]:2: joined_on: 日期早于 1921年7月1日（中国共产党成立）：1900-01-01",
        "roster.xlsx[members]:4: name: 含有不可见的控制字符 U+202E，请删除后再导入：张\\u202e伟",
    ], id="override-and-an-old-date"),
])
def test_the_xlsx_roster_gets_the_same_rules(cli, db_url, tmp_path, change, lines):
    orgs, members = basic_rows()
    change(orgs, members)
    cli("init")

    code, _, err = cli("roster", "import", str(_workbook(tmp_path / "roster.xlsx", orgs, members)))

    assert (code, err.splitlines()) == (2, [*lines, f"名册有 {len(lines)} 处问题，未导入任何数据。"])
    assert row_count(db_url, models.Member.__table__) == 0


def test_a_name_as_long_as_the_column_is_stored_on_both_databases(cli, db_url, tmp_path):
    orgs, members = basic_rows()
    member(members, "M002")["name"] = "李" * 100
    org(orgs, "B01")["name"] = "支" * 200

    code, _, err = cli("roster", "import", str(write_roster(tmp_path / "edge", orgs, members)))

    assert code == 0, err
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(select(models.Member.name).where(models.Member.member_no == "M002")) == "李" * 100
    finally:
        engine.dispose()


def test_formulas_in_the_roster_are_exported_as_text_and_read_back_the_same(cli, db_url, tmp_path):
    orgs, members = basic_rows()
    member(members, "M002")["name"] = "=1+1"
    member(members, "M003")["name"] = '=HYPERLINK("http://evil.example/x","点我")'
    org(orgs, "B01")["name"] = "@第一党支部"
    assert cli("roster", "import", str(write_roster(tmp_path / "in", orgs, members)))[0] == 0

    code, _, err = cli("roster", "export", str(tmp_path / "out"))
    assert code == 0, err
    with (tmp_path / "out" / "members.csv").open(encoding="utf-8-sig", newline="") as handle:
        names = [row[1] for row in csv.reader(handle)][1:]
    assert "'=1+1" in names and '\'=HYPERLINK("http://evil.example/x","点我")' in names
    assert not [name for name in names if name[:1] in "=+-@"]

    code, out, err = cli("roster", "import", str(tmp_path / "out"))
    assert code == 0 and "名册与数据库一致，没有改动。" in out, err
