"""`branchbot plan` as a user runs it: table, JSON and iCalendar output, filters, and refusals with exit code 2."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy.orm import Session

from bot.cli import main
from tests.calendar_cut import packages_through_2026  # noqa: F401 - a fixture
from tests.cli_runner import cli_env, runner  # noqa: F401  (cli_env is a fixture)
from storage import models

ROOT = Path(__file__).resolve().parents[1]


def _seed(engine) -> None:  # noqa: ANN001
    with Session(engine) as session, session.begin():
        committee = models.Organization(code="D01", name="机关党委", type="党委")
        session.add(committee)
        session.flush()
        branch = models.Organization(code="B01", name="第一党支部", type="党支部", parent_id=committee.id,
                                     elected_on=date(2023, 3, 14), term_years=3)
        other = models.Organization(code="B02", name="第二党支部", type="党支部", parent_id=committee.id,
                                    timezone="Europe/Berlin")
        session.add_all([branch, other])
        session.flush()
        group = models.Organization(code="G01", name="第一党小组", type="党小组", parent_id=branch.id)
        session.add(group)
        session.flush()
        secretary = models.Member(member_no="M001", name="王书记", org_id=branch.id, group_id=group.id,
                                  category="正式党员", joined_on=date(2016, 2, 29), full_member_on=date(2017, 3, 1))
        session.add_all([
            secretary,
            models.Member(member_no="M002", name="李四", org_id=branch.id, category="预备党员", joined_on=date(2024, 6, 30)),
            models.Member(member_no="M003", name="赵老", org_id=other.id, category="正式党员",
                          joined_on=date(1974, 5, 1), full_member_on=date(1975, 5, 1)),
        ])
        session.flush()
        session.add(models.MemberRole(member_id=secretary.id, org_id=branch.id, role="书记", upper=False))


@pytest.fixture
def cli(engine, cli_env, capsys):  # noqa: ANN001, ANN201
    """Runs `branchbot ARGS…` against a seeded test database; returns (exit code, stdout, stderr)."""
    _seed(engine)
    return runner(capsys)


def test_json_lists_the_year_with_the_contract_keys(cli):
    code, out, err = cli("plan", "--year", "2025", "--format", "json")
    assert code == 0, err
    items = json.loads(out)
    keys = {"obligation", "title", "org", "starts_at", "ends_at", "member", "audience", "moved_from"}
    assert all(keys <= set(item) for item in items)
    by_key = {item["key"]: item for item in items}
    february = by_key["theme_party_day:B01:2025-02"]
    assert (february["starts_at"], february["moved_from"], february["member"]) == (
        "2025-02-17T09:00:00+08:00", "2025-02-15", None)
    assert by_key["theme_party_day:B02:2025-07"]["starts_at"] == "2025-07-15T09:00:00+02:00"
    birthday = by_key["political_birthday:B01:M001:2025"]
    assert (birthday["member"], birthday["starts_at"][:10]) == ("M001", "2025-02-28")
    assert by_key["fifty_years_honor:B02:M003:2025"]["member"] == "M003"
    assert by_key["probation_conversion:B01:M002:2025-06-30"]["audience"] == "branch_committee"
    assert {item["org"] for item in items if item["obligation"] == "monthly_reminder"} == {"D01"}


@pytest.mark.parametrize(("args", "orgs"), [
    pytest.param(["--org", "B01"], {"B01", "G01"}, id="branch-and-its-group"),
    pytest.param(["--org", "D01"], {"D01", "B01", "B02", "G01"}, id="committee-and-everything-below"),
    pytest.param(["--org", "G01"], {"G01"}, id="group-only"),
])
def test_org_filter_takes_the_subtree(cli, args, orgs):
    code, out, _ = cli("plan", "--year", "2025", "--format", "json", *args)
    assert code == 0 and {item["org"] for item in json.loads(out)} == orgs


def test_member_filter_shows_what_concerns_that_member(cli):
    code, out, _ = cli("plan", "--year", "2025", "--format", "json", "--member", "M002")
    items = json.loads(out)
    assert code == 0
    obligations = {item["obligation"] for item in items}
    assert {"theme_party_day", "political_birthday", "probation_conversion"} <= obligations
    assert "committee_meeting" not in obligations and "group_meeting" not in obligations
    assert {item["member"] for item in items} <= {None, "M002"}


def test_table_is_grouped_by_month_with_chinese_headers(cli):
    code, out, _ = cli("plan", "--year", "2025", "--org", "B01")
    assert code == 0
    assert "2025 年工作安排（B01）" in out
    months = [f"2025年{m}月" for m in range(1, 13)]
    positions = [out.index(month) for month in months]
    assert positions == sorted(positions)
    for header in ("时间", "组织", "事项", "对象"):
        assert header in out
    assert "原定 2月15日，遇节假日调整" in out
    assert re.search(r"1月26日（周日）09:00（调休上班） +第一党支部（B01） +节假日廉政提醒（春节）", out)


def test_ics_imports_as_a_valid_calendar(cli, tmp_path):
    target = tmp_path / "plan.ics"
    code, _, err = cli("plan", "--year", "2025", "--org", "B01", "--format", "ics", "--output", str(target))
    assert code == 0 and "已写入" in err
    raw = target.read_bytes()
    assert b"\r\n" in raw and raw.startswith(b"BEGIN:VCALENDAR")
    calendar = Calendar.from_ical(raw)
    assert str(calendar["VERSION"]) == "2.0" and "branchbot" in str(calendar["PRODID"])
    assert "X-WR-CALNAME" in calendar
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    party_day = events["theme_party_day:B01:2025-02@branchbot"]
    assert party_day.decoded("DTSTART") == datetime(2025, 2, 17, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert party_day["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert "DTSTAMP" in party_day and str(party_day["SUMMARY"]) == "主题党日"
    assert "2025-02-15" in str(party_day["DESCRIPTION"]) and "调整" in str(party_day["DESCRIPTION"])
    birthday = events["political_birthday:B01:M001:2025@branchbot"]
    assert birthday.decoded("DTSTART") == date(2025, 2, 28) and birthday.decoded("DTEND") == date(2025, 3, 1)


def test_unknown_year_is_refused_with_exit_2(cli):
    code, out, err = cli("plan", "--year", "2099")  # not 2027: the packages will learn it once it is announced
    assert code == 2 and out == ""
    assert "2099 年" in err and "config/holidays/2099.yaml" in err


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["--org", "X99"], "没有编码为 X99 的组织", id="unknown-org"),
    pytest.param(["--member", "Z999"], "没有编号为 Z999 的党员", id="unknown-member"),
])
def test_unknown_names_are_refused(cli, args, message):
    code, _, err = cli("plan", "--year", "2025", *args)
    assert code == 2 and message in err


def test_malformed_override_is_refused_at_start(cli, tmp_path, monkeypatch):
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "overrides" / "B01.yaml").write_text("theme_party_day:\n  when: {day: 32}\n", encoding="utf-8")
    monkeypatch.setenv("BRANCHBOT_CONFIG_DIR", str(config))
    code, out, err = cli("plan", "--year", "2025")
    assert code == 2 and out == ""
    assert "B01.yaml" in err and "theme_party_day" in err and "day 应在 1 到 31 之间" in err


def test_override_file_moves_the_branch_theme_party_day(cli, tmp_path, monkeypatch):
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "overrides" / "B01.yaml").write_text("theme_party_day:\n  when: {day: 10}\n", encoding="utf-8")
    monkeypatch.setenv("BRANCHBOT_CONFIG_DIR", str(config))
    code, out, _ = cli("plan", "--year", "2025", "--format", "json", "--org", "B01")
    days = [item["starts_at"][:10] for item in json.loads(out) if item["obligation"] == "theme_party_day"]
    assert code == 0 and days[:3] == ["2025-01-10", "2025-02-10", "2025-03-10"]


def test_ics_goes_to_stdout_without_output(cli):
    code, out, _ = cli("plan", "--year", "2025", "--org", "G01", "--format", "ics")
    assert code == 0
    events = Calendar.from_ical(out.replace("\n", "\r\n").replace("\r\r", "\r")).walk("VEVENT")
    assert len(events) == 12 and {str(e["SUMMARY"]) for e in events} == {"党小组会"}


def test_override_for_an_organisation_not_in_the_roster_is_refused(cli, tmp_path, monkeypatch):
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "overrides" / "X99.yaml").write_text("theme_party_day:\n  when: {day: 10}\n", encoding="utf-8")
    monkeypatch.setenv("BRANCHBOT_CONFIG_DIR", str(config))
    code, out, err = cli("plan", "--year", "2025", "--format", "json")
    assert (code, out, err) == (2, "", f"错误：配置有误：{config / 'overrides' / 'X99.yaml'}：名册中没有组织 X99，"
                                        "这些覆盖不会生效（请改正文件名或先导入该组织）\n")


def test_a_database_without_schema_is_refused_with_a_hint(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("BRANCHBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    code = main(["plan", "--year", "2025"])
    assert code == 2 and "请先运行 branchbot init" in capsys.readouterr().err


@pytest.mark.usefixtures("packages_through_2026")
def test_the_year_after_the_last_notice_is_planned_provisionally(cli):
    code, out, err = cli("plan", "--year", "2027", "--format", "json", "--org", "B01")
    assert code == 0
    assert err.startswith("提示：2027 年的节假日安排通知尚未发布，本安排按法定节假日和周末暂定")
    items = json.loads(out)
    assert items and {item["calendar"] for item in items} == {"provisional"}
    integrity = next(i for i in items if i["key"] == "holiday_integrity_reminder:B01:2027-spring_festival")
    assert (integrity["starts_at"], integrity["tentative"]) == ("2027-02-03T09:00:00+08:00", True)
    code, out, _ = cli("plan", "--year", "2026", "--format", "json", "--org", "B01")
    by_calendar = {item["key"]: item["calendar"] for item in json.loads(out)}
    assert by_calendar.pop("holiday_integrity_reminder:B01:2027-new_years_day") == "provisional"
    assert set(by_calendar.values()) == {"official"}


@pytest.mark.usefixtures("packages_through_2026")
def test_tables_and_ics_mark_provisional_items(cli, tmp_path):
    code, out, _ = cli("plan", "--year", "2027", "--org", "B01")
    assert code == 0
    assert re.search(r"2月3日（周三）09:00（暂定） +第一党支部（B01） +节假日廉政提醒（春节）", out)
    assert re.search(r"3月15日（周一）09:00–11:00 +第一党支部（B01） +主题党日", out)  # far from any holiday: unmarked
    target = tmp_path / "plan.ics"
    cli("plan", "--year", "2027", "--org", "B01", "--format", "ics", "--output", str(target))
    events = {str(e["UID"]): e for e in Calendar.from_ical(target.read_bytes()).walk("VEVENT")}
    description = str(events["theme_party_day:B01:2027-03@branchbot"]["DESCRIPTION"])
    assert description.endswith("暂定：当年国务院节假日安排通知尚未发布，按法定节假日和周末排定，通知发布后可能调整")
