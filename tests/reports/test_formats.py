"""Table and JSON forms of the attendance report: the same figures, members never ranked."""

from __future__ import annotations

import json

import pytest

from bot.reports.summary import branch_comparison, org_summaries
from bot.reports.text import report_json, report_table
from schedules.completion import quarter_period, year_period
from storage.services import reports
from tests.reports.conftest import SHANGHAI, local

NOW = local("2025-04-02T10:00")


@pytest.fixture
def report(session, world):
    return reports.load_report(session, "D01", quarter_period(2025, 1), SHANGHAI, NOW)


def test_json_lists_activities_with_each_members_number_and_status(report):
    data = json.loads(json.dumps(report_json(report), ensure_ascii=False))
    theme_day = next(a for a in data["activities"] if a["occurrence_key"] == "theme_party_day:B01:2025-01")
    assert theme_day["attendance"] == [
        {"member_no": "M001", "name": "王书记", "status": "present"},
        {"member_no": "M002", "name": "李明", "status": "leave", "leave_reason": "出差北京"},
        {"member_no": "M003", "name": "张华", "status": "proxy"},
        {"member_no": "M004", "name": "赵强", "status": "absent"},
    ]
    assert (theme_day["expected"], theme_day["present"], theme_day["leave"], theme_day["absent"]) == (4, 2, 1, 1)
    assert theme_day["starts_at"] == "2025-01-15T09:00:00+08:00"
    assert (data["org"], data["from"], data["to"]) == ("D01", "2025-01-01", "2025-03-31")
    assert "branch_comparison" not in data


def test_json_completion_answers_which_branches_held_no_general_assembly(report):
    data = report_json(report)
    lacking = sorted(c["org"] for c in data["completion"]
                     if c["obligation"] == "general_assembly" and c["period"] == "2025Q1" and c["state"] == "missed")
    assert lacking == ["B01"]
    b01 = next(o for o in data["organizations"] if o["org"] == "B01")
    assert "党员大会 2025Q1" in b01["gaps"]


def test_summaries_are_in_code_order_and_comparison_is_refused_unless_enabled(report):
    assert [s.org.code for s in org_summaries(report)] == ["B01", "B02", "D01"]
    with pytest.raises(PermissionError):
        branch_comparison(report)


def test_branch_comparison_ranks_branches_when_the_organisation_enabled_it(session, world):
    report = reports.load_report(session, "D01", quarter_period(2025, 1), SHANGHAI, NOW, branch_comparison=True)
    # B01 met 支委会 Jan and 党小组会 Feb (2 of 8 due); B02 met 党员大会 Q1 (1 of 5 due).
    assert [s.org.code for s in branch_comparison(report)] == ["B01", "B02"]
    assert report_json(report)["branch_comparison"] == ["B01", "B02"]
    assert "支部对比" in report_table(report)


def test_table_shows_the_same_figures(report):
    table = report_table(report)
    assert "机关党委（D01）出勤与完成情况  2025年第一季度" in table
    assert "一月主题党日" in table and "已取消" in table
    assert "支部对比" not in table
    assert "不对党员个人排名" in table


def test_year_report_counts_a_meeting_just_after_midnight_new_year(session, world):
    data = report_json(reports.load_report(session, "B02", year_period(2025), SHANGHAI, NOW))
    assert [a["occurrence_key"] for a in data["activities"]] == ["general_assembly:B02:2025Q1"]


def test_json_lists_dual_organisational_life_of_a_branch(session, world):
    data = report_json(reports.load_report(session, "B02", quarter_period(2025, 1), SHANGHAI, NOW))
    assert [(d["member_no"], d["title"], d["status"]) for d in data["dual_organisational_life"]] == [
        ("M020", "党委书记讲党课", "present"),
    ]
