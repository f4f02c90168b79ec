"""`branchbot init` and `branchbot roster import|export` as a user runs them: output, files and exit codes."""

from __future__ import annotations

import re

import pytest

from bot.cli import main
from storage import models
from storage.db import shown_url
from tests.cli_runner import cli, row_count  # noqa: F401  (cli is a fixture)
from tests.storage.roster_files import BASIC, basic_rows, member, org, write_roster


def test_init_creates_the_schema_once_and_then_has_nothing_to_do(cli):
    from storage import migrate

    head = migrate.head()  # the newest revision shipped, whatever migrations were added since
    code, out, _ = cli("init")
    assert code == 0 and f"已创建数据库结构（版本 {head}）" in out
    code, out, _ = cli("init")
    assert code == 0 and f"数据库结构已是最新（版本 {head}），无需改动" in out


def test_import_prints_a_summary_and_reimport_changes_nothing(cli, db_url):
    code, out, err = cli("roster", "import", str(BASIC))
    assert code == 0, err
    assert re.search(r"新增党员\s*│\s*8\s*│", out) and re.search(r"新增组织\s*│\s*7\s*│", out)
    assert row_count(db_url, models.Member.__table__) == 8
    code, out, _ = cli("roster", "import", str(BASIC))
    assert code == 0 and "名册与数据库一致，没有改动。" in out


def test_a_bad_roster_imports_nothing_and_lists_every_problem(cli, db_url, tmp_path):
    orgs, members = basic_rows()
    member(members, "M002")["org_code"] = "B99"
    member(members, "M004")["joined_on"] = "2015-02-29"
    folder = write_roster(tmp_path / "bad", orgs, members, encoding="gb18030")
    cli("init")

    code, out, err = cli("roster", "import", str(folder))

    assert code == 2
    assert err.splitlines() == [
        "members.csv:3: org_code: 组织不存在：B99",
        "members.csv:5: joined_on: 日期不存在：2015-02-29",
        "名册有 2 处问题，未导入任何数据。",
    ]
    assert row_count(db_url, models.Member.__table__) == 0


def test_a_members_file_with_no_rows_does_not_empty_the_roster(cli, db_url, tmp_path):
    cli("roster", "import", str(BASIC))
    orgs, _ = basic_rows()

    code, _, err = cli("roster", "import", str(write_roster(tmp_path / "empty", orgs, [])))

    assert code == 2
    assert "全部标为转出" in err and "未导入任何数据" in err
    assert row_count(db_url, models.Member.__table__) == 8


def test_dry_run_reports_and_writes_nothing(cli, db_url):
    cli("init")
    code, out, _ = cli("roster", "import", str(BASIC), "--dry-run")
    assert code == 0 and "试运行" in out and "新增党员" in out
    assert row_count(db_url, models.Member.__table__) == 0


def test_reimport_lists_who_changed_and_who_left(cli, tmp_path):
    cli("roster", "import", str(BASIC))
    orgs, members = basic_rows()
    member(members, "M004").update(category="正式党员", full_member_on="2026-03-06")
    org(orgs, "B01").update(name="第一党支部（新）")
    folder = write_roster(tmp_path / "next", orgs, [m for m in members if m["member_no"] != "M008"])

    code, out, _ = cli("roster", "import", str(folder))

    assert code == 0
    assert "变更 M004 赵敏：人员类别、转正日期" in out
    assert "转出 M008" in out
    assert "变更组织 B01 第一党支部（新）：组织名称" in out


@pytest.mark.parametrize("target", ["out", "out.xlsx"])
def test_export_then_import_is_a_no_op(cli, tmp_path, target):
    cli("roster", "import", str(BASIC))
    code, out, _ = cli("roster", "export", str(tmp_path / target))
    assert code == 0 and "已导出 7 个组织、8 名党员" in out
    if target == "out":
        assert (tmp_path / "out" / "members.csv").read_bytes().startswith("\ufeff党员编号".encode("utf-8"))
    code, out, _ = cli("roster", "import", str(tmp_path / target))
    assert code == 0 and "名册与数据库一致，没有改动。" in out


@pytest.mark.parametrize("args, message", [
    pytest.param(("roster", "import", "/nonexistent/roster"), "/nonexistent/roster: 找不到名册：路径不存在",
                 id="import-missing-path"),
])
def test_user_errors_exit_2_with_a_chinese_reason(cli, args, message):
    code, _, err = cli(*args)
    assert code == 2
    assert message in err


def test_an_export_before_init_names_the_database_and_what_to_do_first(cli, db_url):
    shown = shown_url(db_url)
    assert cli("roster", "export", "out") == (2, "", f"错误：数据库 {shown} 尚未初始化，请先运行 branchbot init 并导入名册。\n")


def test_a_long_import_shows_progress_on_stderr(cli, db_url, tmp_path):
    from bench.bench_import import generate

    members = generate(tmp_path / "big", branches=70, members_per_branch=30)
    assert members == 2100

    code, out, err = cli("roster", "import", str(tmp_path / "big"))

    assert code == 0
    assert "校验党员" in err and "写入党员" in err and "2100/2100" in err
    assert re.search(r"新增党员\s*│\s*2100\s*│", out)
    assert row_count(db_url, models.Member.__table__) == 2100


def test_a_short_import_shows_no_progress_bar(cli):
    code, _, err = cli("roster", "import", str(BASIC))
    assert code == 0 and err == ""


@pytest.mark.parametrize("args", [("init",), ("roster", "import", str(BASIC))], ids=["init", "import"])
def test_an_unreachable_database_exits_1_with_a_reason(monkeypatch, capsys, args):
    monkeypatch.setenv("BRANCHBOT_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert main(list(args)) == 1
    assert "错误：" in capsys.readouterr().err
