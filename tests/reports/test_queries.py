"""Ledger queries on SQLite and PostgreSQL: who was expected, who came, which activities a report covers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from schedules.completion import evaluate_completion, quarter_period, year_period
from storage import models
from storage.services import reports
from tests.reports.conftest import SHANGHAI, local

YEAR = year_period(2025)


def names(ledger, ids):
    return [ledger.members[i].name for i in ids]


def by_key(ledger):
    return {a.occurrence_key: a for a in ledger.activities}


def test_branch_ledger_covers_the_branch_and_its_group_only(session, world):
    ledger = reports.load_ledger(session, "B01", YEAR, SHANGHAI)
    assert sorted(by_key(ledger)) == [
        "committee_meeting:B01:2025-01",
        "group_meeting:B01G1:2025-02",
        "holiday_integrity_reminder:B01:2025-01",
        "political_birthday:M002:2025",
        "theme_party_day:B01:2025-01",
        "theme_party_day:B01:2025-02",
    ]
    assert [a.title for a in ledger.meetings(ledger.by_code["B01"])] == ["一月支委会", "一月主题党日", "二月党小组会", "二月主题党日"]


def test_organisation_ledger_includes_every_branch_below_it(session, world):
    ledger = reports.load_ledger(session, "D01", YEAR, SHANGHAI)
    orgs = {ledger.orgs[a.org_id].code for a in ledger.activities}
    assert orgs == {"D01", "B01", "B01G1", "B02"}
    assert [o.code for o in ledger.report_orgs] == ["B01", "B02", "D01"]


def test_period_bounds_are_in_the_org_zone(session, world):
    ledger = reports.load_ledger(session, "B02", YEAR, SHANGHAI)
    assert [a.occurrence_key for a in ledger.activities] == ["general_assembly:B02:2025Q1"]
    utc_ledger = reports.load_ledger(session, "B02", YEAR, timezone.utc)
    assert utc_ledger.activities == ()


@pytest.mark.parametrize(
    ("key", "expected", "tally"),
    [
        pytest.param("theme_party_day:B01:2025-01", ["王书记", "李明", "张华", "赵强"], (4, 2, 1, 1, 1),
                     id="theme-day-present-proxy-leave-and-one-silent-absent"),
        pytest.param("committee_meeting:B01:2025-01", ["王书记"], (1, 1, 0, 0, 0),
                     id="committee-meeting-expects-the-committee-only"),
        pytest.param("group_meeting:B01G1:2025-02", ["王书记", "李明", "张华"], (3, 3, 0, 0, 0),
                     id="group-meeting-expects-the-group"),
    ],
)
def test_expected_and_tally_of_branch_meetings(session, world, key, expected, tally):
    ledger = reports.load_ledger(session, "B01", YEAR, SHANGHAI)
    activity = by_key(ledger)[key]
    assert names(ledger, ledger.expected_ids(activity)) == expected
    t = ledger.tally(activity)
    assert (t.expected, t.present, t.proxy, t.leave, t.absent) == tally


def test_leading_cadre_appears_in_branch_and_committee_ledgers(session, world):
    ledger = reports.load_ledger(session, "D01", YEAR, SHANGHAI)
    lecture = by_key(ledger)["party_lecture:D01:2025Q1"]
    assert "王书记" in names(ledger, ledger.expected_ids(lecture))
    wang = world.members["M001"]
    assert ledger.status_of(lecture, wang) == "present"
    assert ledger.status_of(by_key(ledger)["theme_party_day:B01:2025-01"], wang) == "present"
    assert wang in ledger.matrix_member_ids(ledger.by_code["D01"])
    assert wang in ledger.matrix_member_ids(ledger.by_code["B01"])


def test_status_in_matrix_marks_silence_at_a_held_meeting_as_absent(session, world):
    ledger = reports.load_ledger(session, "B01", YEAR, SHANGHAI)
    theme_day = by_key(ledger)["theme_party_day:B01:2025-01"]
    statuses = {ledger.members[mid].name: ledger.status_of(theme_day, mid) for mid in ledger.expected_ids(theme_day)}
    assert statuses == {"王书记": "present", "李明": "leave", "张华": "proxy", "赵强": "absent"}
    cancelled = by_key(ledger)["theme_party_day:B01:2025-02"]
    assert ledger.status_of(cancelled, world.members["M004"]) is None


def test_monthly_rates_count_held_meetings_only(session, world):
    ledger = reports.load_ledger(session, "B01", YEAR, SHANGHAI)
    rates = ledger.monthly_rates(ledger.by_code["B01"])
    assert len(rates) == 12
    # January: theme day 2 of 4 (present + 代签) and committee 1 of 1; February: group meeting 3 of 3.
    assert rates["2025-01"] == pytest.approx(3 / 5)
    assert rates["2025-02"] == pytest.approx(1.0)
    assert rates["2025-03"] is None
    assert ledger.host_of(by_key(ledger)["theme_party_day:B01:2025-01"]) == "王书记"
    assert ledger.host_of(by_key(ledger)["group_meeting:B01G1:2025-02"]) == "张华"


def test_completion_inputs_feed_the_rules(session, world):
    inputs = reports.load_completion_inputs(session, "D01", quarter_period(2025, 1), SHANGHAI)
    assert [(u.code, u.kind.value, u.branch_code) for u in inputs.units] == [
        ("B01", "branch", "B01"), ("B01G1", "group", "B01"), ("B02", "branch", "B02"),
    ]
    cells = evaluate_completion(inputs.units, inputs.facts, window=quarter_period(2025, 1),
                                now=local("2025-04-02T09:00"), zone=SHANGHAI)
    verdicts = {(c.unit.code, c.requirement.obligation, c.period.label): c.state.value for c in cells}
    assert verdicts[("B02", "general_assembly", "2025Q1")] == "met"
    assert verdicts[("B01", "general_assembly", "2025Q1")] == "missed"
    assert verdicts[("B01", "committee_meeting", "2025-01")] == "met"
    assert verdicts[("B01G1", "group_meeting", "2025-02")] == "met"
    assert verdicts[("B01", "theme_party_day", "2025-02")] == "missed"  # cancelled does not count


def test_member_calendar_follows_the_audience_rule(session, world):
    start, end = local("2025-01-01T00:00"), local("2026-01-01T00:00")
    _, li_items = reports.member_calendar(session, "M002", start, end)
    assert [a.title for a in li_items] == ["一月主题党日", "春节廉政提醒", "二月党小组会", "李明的政治生日"]
    _, wang_items = reports.member_calendar(session, "M001", start, end)
    assert [a.title for a in wang_items] == [
        "一月支委会", "一月主题党日", "春节廉政提醒", "二月党小组会", "党委书记讲党课", "机关党委组织生活会",
    ]


def test_branch_calendar_leaves_out_personal_and_cancelled_items(session, world):
    start, end = local("2025-01-01T00:00"), local("2027-01-01T00:00")
    org, items = reports.org_calendar(session, "B01", start, end)
    assert org.name == "第一支部"
    assert [a.title for a in items] == ["一月支委会", "一月主题党日", "春节廉政提醒", "二月党小组会", "2026年一月主题党日"]


def test_unknown_codes_raise_clear_errors(session, world):
    with pytest.raises(reports.UnknownOrganizationError, match="X99"):
        reports.load_ledger(session, "X99", YEAR, SHANGHAI)
    with pytest.raises(reports.UnknownMemberError, match="M999"):
        reports.member_calendar(session, "M999", datetime(2025, 1, 1, tzinfo=SHANGHAI), datetime(2026, 1, 1, tzinfo=SHANGHAI))


def test_branch_ledger_shows_its_leading_cadre_at_the_committee_above(session, world):
    ledger = reports.load_ledger(session, "B01", YEAR, SHANGHAI)
    assert [(ledger.members[e.member_id].name, e.org_name, e.activity.title, e.status) for e in ledger.dual_life] == [
        ("王书记", "机关党委", "党委书记讲党课", "present"),
        ("王书记", "机关党委", "机关党委组织生活会", None),  # not yet held
    ]


def test_subtree_ledgers_have_no_dual_life_section_for_meetings_already_inside(session, world):
    assert reports.load_ledger(session, "D01", YEAR, SHANGHAI).dual_life == ()


def test_member_rate_counts_held_meetings_only(session, world):
    from tests.reports.conftest import add_activity, mark

    b01 = session.get(models.Organization, world.orgs["B01"])
    li = session.get(models.Member, world.members["M002"])
    march = add_activity(session, "theme_party_day:B01:2025-03", b01, "theme_party_day", "2025-03-15T09:00",
                         status="scheduled", title="三月主题党日")
    mark(session, march, li, "leave", "出差")
    session.flush()
    record = reports.load_member_record(session, "M002", quarter_period(2025, 1), SHANGHAI)
    assert [(m.activity.title, m.status) for m in record.meetings] == [
        ("一月主题党日", "leave"), ("二月党小组会", "present"), ("三月主题党日", "leave"),
    ]
    assert (record.counts()["present"], record.counts()["leave"], record.rate) == (1, 1, 0.5)
