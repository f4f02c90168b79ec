"""Completion rules: required periods come from the cadence table; held activities meet, make up or miss them."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from schedules import completion
from schedules.completion import (
    PERIOD_FORMS,
    ActivityFact,
    Cadence,
    CompletionState,
    PeriodError,
    Requirement,
    Unit,
    UnitKind,
    branches_without,
    evaluate_completion,
    parse_period,
    periods_overlapping,
    quarter_period,
    summarise_by_branch,
    year_period,
    year_to_date,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BRANCH = Unit("B01", "第一支部", UnitKind.BRANCH, "B01")
GROUP = Unit("B01G1", "第一党小组", UnitKind.GROUP, "B01")
COMMITTEE_MONTHLY = Requirement("committee_meeting", Cadence.MONTHLY, UnitKind.BRANCH, "支委会", True)
ASSEMBLY_QUARTERLY = Requirement("general_assembly", Cadence.QUARTERLY, UnitKind.BRANCH, "党员大会", True)
GROUP_MONTHLY = Requirement("group_meeting", Cadence.MONTHLY, UnitKind.GROUP, "党小组会", True)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def fact(when: str, status: str = "held", obligation: str = "committee_meeting", unit: str = "B01", id: int = 1) -> ActivityFact:
    return ActivityFact(id, unit, obligation, at(when), status)


def states(cells) -> dict[str, str]:
    return {cell.period.label: cell.state.value for cell in cells}


@pytest.mark.parametrize(
    ("facts", "now", "expected"),
    [
        pytest.param(
            [fact("2025-01-07T15:00"), fact("2025-02-04T15:00", id=2), fact("2025-03-04T15:00", id=3)],
            "2025-04-10T00:00",
            {"2025-01": "met", "2025-02": "met", "2025-03": "met"},
            id="one-held-meeting-a-month-meets-every-month",
        ),
        pytest.param(
            [fact("2025-01-07T15:00"), fact("2025-03-04T15:00", id=3)],
            "2025-04-10T00:00",
            {"2025-01": "met", "2025-02": "missed", "2025-03": "met"},
            id="a-month-without-a-meeting-is-missed-once-over",
        ),
        pytest.param(
            [fact("2025-01-07T15:00"), fact("2025-03-04T15:00", id=3), fact("2025-03-20T15:00", id=4)],
            "2025-04-10T00:00",
            {"2025-01": "met", "2025-02": "late", "2025-03": "met"},
            id="an-extra-meeting-later-makes-up-the-missed-month-as-late",
        ),
        pytest.param(
            [fact("2025-01-07T15:00"), fact("2025-01-20T15:00", id=2)],
            "2025-04-10T00:00",
            {"2025-01": "met", "2025-02": "missed", "2025-03": "missed"},
            id="an-extra-meeting-cannot-make-up-a-later-month-in-advance",
        ),
        pytest.param(
            [fact("2025-01-07T15:00"), fact("2025-02-04T15:00", status="not_held", id=2),
             fact("2025-03-04T15:00", status="cancelled", id=3)],
            "2025-04-10T00:00",
            {"2025-01": "met", "2025-02": "missed", "2025-03": "missed"},
            id="not-held-and-cancelled-activities-do-not-count",
        ),
        pytest.param(
            [fact("2025-01-07T15:00"), fact("2025-02-04T15:00", id=2)],
            "2025-03-02T12:00",
            {"2025-01": "met", "2025-02": "met", "2025-03": "pending"},
            id="the-current-month-is-pending-and-later-months-are-not-listed",
        ),
        pytest.param(
            [fact("2025-01-07T15:00", obligation="theme_party_day")],
            "2025-04-10T00:00",
            {"2025-01": "missed", "2025-02": "missed", "2025-03": "missed"},
            id="another-obligation-does-not-satisfy-the-requirement",
        ),
        pytest.param(
            [fact("2025-02-01T07:00")],  # still 31 January in UTC
            "2025-04-10T00:00",
            {"2025-01": "missed", "2025-02": "met", "2025-03": "missed"},
            id="months-are-judged-in-the-org-zone-not-utc",
        ),
    ],
)
def test_monthly_committee_meeting_verdicts(facts, now, expected):
    cells = evaluate_completion(
        [BRANCH], facts, window=quarter_period(2025, 1), now=at(now), zone=SHANGHAI, requirements=[COMMITTEE_MONTHLY]
    )
    assert states(cells) == expected


def test_required_periods_come_from_the_cadence_not_from_materialised_activities():
    # No activity at all in the database: every quarter of the year is still owed.
    cells = evaluate_completion(
        [BRANCH], [], window=year_period(2025), now=at("2026-01-05T00:00"), zone=SHANGHAI,
        requirements=[ASSEMBLY_QUARTERLY],
    )
    assert states(cells) == {"2025Q1": "missed", "2025Q2": "missed", "2025Q3": "missed", "2025Q4": "missed"}


def test_group_meetings_are_owed_by_each_group_and_branch_rules_skip_groups():
    cells = evaluate_completion(
        [BRANCH, GROUP],
        [fact("2025-05-13T15:00", obligation="group_meeting", unit="B01G1")],
        window=quarter_period(2025, 2), now=at("2025-07-01T10:00"), zone=SHANGHAI,
        requirements=[GROUP_MONTHLY, ASSEMBLY_QUARTERLY],
    )
    by_unit = {(c.unit.code, c.requirement.obligation, c.period.label): c.state.value for c in cells}
    assert by_unit == {
        ("B01", "general_assembly", "2025Q2"): "missed",
        ("B01G1", "group_meeting", "2025-04"): "missed",
        ("B01G1", "group_meeting", "2025-05"): "met",
        ("B01G1", "group_meeting", "2025-06"): "missed",
    }
    assert {c.branch_code for c in cells} == {"B01"}


def test_an_unconfirmed_meeting_is_flagged_but_not_counted():
    cells = evaluate_completion(
        [BRANCH], [fact("2025-02-04T15:00", status="scheduled")], window=quarter_period(2025, 1),
        now=at("2025-04-10T00:00"), zone=SHANGHAI, requirements=[COMMITTEE_MONTHLY],
    )
    february = next(c for c in cells if c.period.label == "2025-02")
    assert february.state is CompletionState.MISSED and february.awaiting_confirmation


def test_summary_and_which_branches_have_held_no_general_assembly():
    other = Unit("B02", "第二支部", UnitKind.BRANCH, "B02")
    cells = evaluate_completion(
        [other, BRANCH], [fact("2025-03-15T09:00", obligation="general_assembly")],
        window=quarter_period(2025, 1), now=at("2025-04-01T00:00"), zone=SHANGHAI,
        requirements=[ASSEMBLY_QUARTERLY, COMMITTEE_MONTHLY],
    )
    assert branches_without(cells, "general_assembly", "2025Q1") == ["B02"]
    summary = {s.branch_code: (s.met, s.late, s.missed, s.pending, s.rate) for s in summarise_by_branch(cells)}
    assert summary == {"B01": (1, 0, 3, 0, 0.25), "B02": (0, 0, 4, 0, 0.0)}
    assert [s.branch_code for s in summarise_by_branch(cells)] == ["B01", "B02"]  # code order, never ranked


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        evaluate_completion([BRANCH], [], window=year_period(2025), now=datetime(2025, 5, 1), zone=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2025", ("2025-01-01", "2026-01-01", "2025"), id="year"),
        pytest.param("2025-03", ("2025-03-01", "2025-04-01", "2025-03"), id="iso-month"),
        pytest.param("2025年12月", ("2025-12-01", "2026-01-01", "2025-12"), id="chinese-month"),
        pytest.param("2025Q2", ("2025-04-01", "2025-07-01", "2025Q2"), id="quarter"),
        pytest.param("2025年第四季度", ("2025-10-01", "2026-01-01", "2025Q4"), id="chinese-quarter"),
        pytest.param("本季度", ("2025-04-01", "2025-07-01", "2025Q2"), id="this-quarter"),
        pytest.param("上季度", ("2025-01-01", "2025-04-01", "2025Q1"), id="last-quarter"),
        pytest.param("上月", ("2025-04-01", "2025-05-01", "2025-04"), id="last-month"),
        pytest.param("去年", ("2024-01-01", "2025-01-01", "2024"), id="last-year"),
    ],
)
def test_parse_period(text, expected):
    period = parse_period(text, today=date(2025, 5, 20))
    assert (period.start.isoformat(), period.end.isoformat(), period.label) == expected


@pytest.mark.parametrize("text", ["2025-13", "下辈子", "25Q1"])
def test_unreadable_periods_are_refused_in_chinese(text):
    with pytest.raises(PeriodError) as refused:
        parse_period(text, today=date(2025, 5, 20))
    assert str(refused.value) == (f"无法识别的时间段：“{text}”。可以写：本月、上月、本季度、上季度、今年、去年、一季度、12月、"
                                  "上半年、下半年、2025、2025年、2025-03、2025年3月、2025Q1、2025年第一季度、2025H1、2025年上半年")


# What each listed form means on 20 May 2025 (a period without its year: the latest begun).
FORM_LABELS = {
    "本月": "2025-05", "上月": "2025-04", "本季度": "2025Q2", "上季度": "2025Q1", "今年": "2025", "去年": "2024",
    "一季度": "2025Q1", "12月": "2024-12", "上半年": "2025H1", "下半年": "2024H2", "2025": "2025", "2025年": "2025",
    "2025-03": "2025-03", "2025年3月": "2025-03", "2025Q1": "2025Q1", "2025年第一季度": "2025Q1", "2025H1": "2025H1",
    "2025年上半年": "2025H1",
}


def test_every_period_form_the_usage_lists_is_read():
    assert {form: parse_period(form, today=date(2025, 5, 20)).label for form in PERIOD_FORMS} == FORM_LABELS


def test_every_rule_the_parser_has_is_listed_in_the_usage():
    """Each relative word and each pattern has its example in PERIOD_FORMS, so no usage text lists fewer forms."""
    unlisted_words = set(completion._RELATIVE) - set(PERIOD_FORMS)
    unlisted_patterns = [pattern.pattern for pattern, _ in completion._PERIOD_PATTERNS
                         if not any(pattern.match(form) for form in PERIOD_FORMS)]
    assert (unlisted_words, unlisted_patterns) == (set(), [])


def test_year_to_date_and_overlapping_periods():
    window = year_to_date(date(2025, 5, 20))
    assert (window.start, window.last_day) == (date(2025, 1, 1), date(2025, 5, 20))
    assert [p.label for p in periods_overlapping(Cadence.QUARTERLY, window)] == ["2025Q1", "2025Q2"]


def entry(cadence: str, applies_to: list[str], enabled: bool = True):
    from types import SimpleNamespace

    return SimpleNamespace(cadence=cadence, applies_to=applies_to, enabled=enabled)


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        pytest.param(
            {"committee_meeting": entry("monthly", ["党支部"]), "group_meeting": entry("monthly", ["党小组"])},
            {("committee_meeting", "monthly", "branch"), ("group_meeting", "monthly", "group")},
            id="catalog-defaults",
        ),
        pytest.param(
            {"committee_meeting": entry("quarterly", ["党支部"]), "theme_party_day": entry("monthly", ["党支部"], False)},
            {("committee_meeting", "quarterly", "branch")},
            id="override-changes-cadence-and-disables",
        ),
        pytest.param(
            {"study_day": entry("monthly", ["党支部"]), "party_lecture": entry("weekly", ["党支部"])},
            set(),
            id="untracked-keys-and-unjudgeable-cadences-are-skipped",
        ),
    ],
)
def test_requirements_from_catalog(entries, expected):
    from schedules.completion import requirements_from_catalog

    got = {(r.obligation, r.cadence.value, r.unit.value) for r in requirements_from_catalog(entries)}
    assert got == expected


def test_requirements_per_unit_replace_the_default_table():
    cells = evaluate_completion(
        [BRANCH, Unit("B02", "第二支部", UnitKind.BRANCH, "B02")], [], window=quarter_period(2025, 1),
        now=at("2025-04-10T00:00"), zone=SHANGHAI,
        requirements_for=lambda unit: [COMMITTEE_MONTHLY] if unit.code == "B01" else [ASSEMBLY_QUARTERLY],
    )
    assert {(c.unit.code, c.period.label) for c in cells} == {
        ("B01", "2025-01"), ("B01", "2025-02"), ("B01", "2025-03"), ("B02", "2025Q1"),
    }
