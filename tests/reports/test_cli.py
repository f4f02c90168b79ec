"""`branchbot report attendance` end to end against SQLite and PostgreSQL: JSON, table, xlsx, charts, errors."""

from __future__ import annotations

import io
import json
from datetime import date

import shutil

import pytest
from openpyxl import load_workbook
from PIL import Image

from bot.commands.report import ReportInputError, resolve_window
from bot.settings import PROJECT_CONFIG_DIR
from storage.db import transaction
from tests.cli_runner import point_cli_at, runner
from tests.reports.conftest import build_world

NOW = ["--now", "2025-04-02T10:00:00+08:00"]


@pytest.fixture
def cli(db_url, engine, session_factory, monkeypatch, tmp_path, capsys):
    with transaction(session_factory) as session:
        build_world(session)
    config = tmp_path / "config"
    config.mkdir()
    shutil.copy(PROJECT_CONFIG_DIR / "catalog.yaml", config / "catalog.yaml")
    point_cli_at(monkeypatch, db_url, config_dir=config)
    run = runner(capsys, "report", "attendance")
    run.config = config
    run.tmp = tmp_path
    return run


def test_json_for_a_quarter_lists_members_and_statuses(cli):
    code, out, _ = cli("--org", "B01", "--from", "2025-01-01", "--to", "2025-03-31", "--format", "json", *NOW)
    assert code == 0
    data = json.loads(out)
    assert (data["org"], data["from"], data["to"]) == ("B01", "2025-01-01", "2025-03-31")
    theme_day = next(a for a in data["activities"] if a["obligation"] == "theme_party_day" and a["status"] == "held")
    assert {m["member_no"]: m["status"] for m in theme_day["attendance"]} == {
        "M001": "present", "M002": "leave", "M003": "proxy", "M004": "absent",
    }
    assert {a["org"] for a in data["activities"]} == {"B01", "B01G1"}


def test_default_period_is_the_current_year_to_date_in_the_org_zone(cli):
    code, out, _ = cli("--org", "D01", "--format", "json", *NOW)
    data = json.loads(out)
    assert (code, data["from"], data["to"]) == (0, "2025-01-01", "2025-04-02")
    assert "org_life_meeting:D01:2025" not in [a["occurrence_key"] for a in data["activities"]]  # December


def test_table_is_the_default_format(cli):
    code, out, _ = cli("--org", "D01", "--from", "2025Q1", *NOW)
    assert code == 0
    assert "机关党委（D01）出勤与完成情况  2025年第一季度" in out
    assert "第二支部" in out


def test_xlsx_workbook_and_both_charts_are_written(cli):
    book_path, rate_path, done_path = (cli.tmp / n for n in ("台账.xlsx", "rate.png", "done.png"))
    code, _, err = cli("--org", "D01", "--from", "2025Q1", "--format", "xlsx", "--output", str(book_path),
                       "--chart", str(rate_path), "--completion-chart", str(done_path), *NOW)
    assert code == 0, err
    book = load_workbook(book_path)
    assert "出勤-第一支部" in book.sheetnames and "支部对比" not in book.sheetnames
    for path in (rate_path, done_path):
        assert Image.open(io.BytesIO(path.read_bytes())).format == "PNG"
    assert err.splitlines() == [f"已写入台账 {book_path}", f"已写入出勤率图表 {rate_path}",
                                f"已写入三会一课完成情况图表 {done_path}"]


def test_branch_comparison_comes_from_config_reports_yaml_and_inherits_downwards(cli):
    (cli.config / "reports.yaml").write_text("branch_comparison: [D01]\n", encoding="utf-8")
    _, out, _ = cli("--org", "D01", "--from", "2025Q1", "--format", "json", *NOW)
    assert json.loads(out)["branch_comparison"] == ["B01", "B02"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--org", "X99"], "没有编码为 X99 的组织", id="unknown-org"),
        pytest.param(["--org", "B01", "--from", "昨天"], "--from 应为日期", id="bad-date"),
        pytest.param(["--org", "B01", "--from", "2025-03-01", "--to", "2025-02-01"], "早于", id="reversed-range"),
        pytest.param(["--org", "B01", "--format", "xlsx"], "需要 --output", id="xlsx-without-output"),
    ],
)
def test_bad_input_exits_2_with_a_chinese_message(cli, argv, message):
    code, out, err = cli(*argv, *NOW)
    assert code == 2 and out == "" and message in err


def test_completion_follows_each_organisations_catalog_overrides(cli):
    overrides = cli.config / "overrides"
    overrides.mkdir()
    (overrides / "B02.yaml").write_text(
        "theme_party_day:\n  enabled: false\ncommittee_meeting:\n  cadence: quarterly\n  when: {month: 1, weekday: tuesday, nth: first}\n",
        encoding="utf-8",
    )
    _, out, err = cli("--org", "D01", "--from", "2025Q1", "--format", "json", *NOW)
    owed = {(c["org"], c["obligation"], c["period"]) for c in json.loads(out)["completion"]}
    assert ("B02", "committee_meeting", "2025Q1") in owed and ("B02", "committee_meeting", "2025-01") not in owed
    assert not any(org == "B02" and what == "theme_party_day" for org, what, _ in owed)
    assert ("B01", "committee_meeting", "2025-01") in owed and ("B01", "theme_party_day", "2025-03") in owed


def test_a_broken_catalog_is_refused(cli):
    (cli.config / "catalog.yaml").write_text("obligations: nope\n", encoding="utf-8")
    code, _, err = cli("--org", "D01", *NOW)
    assert (code, err) == (2, f"错误：配置有误：{cli.config / 'catalog.yaml'}：缺少 obligations（事项列表）\n")


def test_bad_reports_yaml_is_reported(cli):
    (cli.config / "reports.yaml").write_text("branch_comparison: yes-please\n", encoding="utf-8")
    code, _, err = cli("--org", "D01", *NOW)
    assert code == 2 and "branch_comparison 应为组织编码列表" in err


@pytest.mark.parametrize(
    ("date_from", "date_to", "expected"),
    [
        pytest.param(None, None, ("2025-01-01", "2025-05-20"), id="year-to-date"),
        pytest.param("2025-03", None, ("2025-03-01", "2025-03-31"), id="a-month"),
        pytest.param("2024", None, ("2024-01-01", "2024-12-31"), id="a-year"),
        pytest.param("2025-02-10", None, ("2025-02-10", "2025-05-20"), id="from-a-day-until-today"),
        pytest.param(None, "2025/3/5", ("2025-01-01", "2025-03-05"), id="until-a-day"),
        pytest.param("2025年1月2日", "2025年1月3日", ("2025-01-02", "2025-01-03"), id="chinese-dates"),
    ],
)
def test_resolve_window(date_from, date_to, expected):
    window = resolve_window(date_from, date_to, date(2025, 5, 20))
    assert (window.start.isoformat(), window.last_day.isoformat()) == expected


def test_resolve_window_refuses_nonsense():
    with pytest.raises(ReportInputError):
        resolve_window("2025-13-01", None, date(2025, 5, 20))


def test_one_members_attendance_includes_dual_organisational_life(cli):
    code, out, err = cli("--org", "D01", "--member", "M001", "--from", "2025Q1", "--format", "json", *NOW)
    assert code == 0, err
    data = json.loads(out)
    assert [(a["title"], a["status"]) for a in data["activities"]] == [
        ("一月支委会", "present"), ("一月主题党日", "present"), ("二月党小组会", "present"), ("党委书记讲党课", "present"),
    ]
    assert (data["attendance_rate"], data["counts"]["present"]) == (1.0, 4)


def test_one_members_table_shows_leave_and_absence(cli):
    code, out, _ = cli("--org", "B01", "--member", "M004", "--from", "2025Q1", *NOW)
    assert code == 0
    assert "赵强（M004，第一支部）2025年第一季度：出勤率 0.0%" in out and "缺席" in out


def test_a_member_outside_the_organisation_is_refused(cli):
    code, _, err = cli("--org", "B01", "--member", "M010", *NOW)
    assert code == 2 and "不属于 B01" in err
