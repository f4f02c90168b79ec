"""Issue #11's example: on the 2025 Q1 reports fixture chat /attendance finds the gaps the ledger finds."""

from __future__ import annotations

from bot import texts
from schedules.completion import quarter_period
from storage.services import reports
from storage.services import queries
from storage.services.actors import actor_for_member_no
from tests.reports.conftest import SHANGHAI, local, world  # noqa: F401 - the fixture

NOW = local("2025-04-02T10:00")


def test_chat_and_ledger_agree_that_b01_missed_committee_and_group_meetings(session, world):  # noqa: F811
    committee = actor_for_member_no(session, "M020")  # 周书记, 书记 of the 党委 D01
    answer = queries.attendance(session, committee, ["B01", "2025Q1"], NOW, SHANGHAI)
    assert texts.attendance_answer(answer) == (
        "📊 第一支部（B01）2025年第一季度\n"
        "合计：已召开会议 3 次，出勤率 75%；三会一课 完成 2、补开 0、未开展 6、进行中 0\n"
        "  ⚠️ 未开展：支委会 2025-02、2025-03；党员大会 2025Q1；党课 2025Q1；党小组会（第一党小组） 2025-01、2025-03"
    )
    ledger = reports.load_report(session, "B01", quarter_period(2025, 1), SHANGHAI, NOW)
    missed = sorted((c.requirement.obligation, c.period.label) for c in ledger.completion if c.state.value == "missed")
    assert missed == [("committee_meeting", "2025-02"), ("committee_meeting", "2025-03"),
                      ("general_assembly", "2025Q1"), ("group_meeting", "2025-01"), ("group_meeting", "2025-03"),
                      ("party_lecture", "2025Q1"), ("theme_party_day", "2025-02"), ("theme_party_day", "2025-03")]
