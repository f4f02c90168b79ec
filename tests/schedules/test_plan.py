"""The plan: every obligation's dates in real years, holiday moves, overrides, people's dates, zones, invariants."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.deployment import load_catalog, load_official_calendar
from schedules.calendar import CalendarUnknownYear, OfficialCalendar
from schedules.catalog import Catalog, parse_override
from schedules.plan import (
    Occurrence,
    build_plan,
    count_by_obligation,
    names_subject,
    occurrences_for_member,
    plan_between,
    within_orgs,
)
from schedules.roster import Category, Member, Organization, OrgType, Role, Roster, UpperRole

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(ROOT / "config")


@pytest.fixture(scope="module")
def calendar() -> OfficialCalendar:
    return load_official_calendar(ROOT / "config" / "holidays")


@pytest.fixture(scope="module")
def calendar_through_2026(calendar: OfficialCalendar) -> OfficialCalendar:
    """The real calendar cut after 2026, so 2027 stays unknown whatever the packages learn once it is announced."""
    return OfficialCalendar({year: arrangement for year, arrangement in calendar.arrangements.items() if year <= 2026})


def org(code: str, type_: OrgType, parent: str | None = None, **extra) -> Organization:
    return Organization(code=code, name=f"组织{code}", type=type_, parent_code=parent, **extra)


def member(no: str, branch: str, category: Category = Category.FULL, **extra) -> Member:
    return Member(member_no=no, name=f"党员{no}", org_code=branch, category=category, **extra)


TREE = [
    org("D01", OrgType.COMMITTEE),
    org("Z01", OrgType.GENERAL_BRANCH, "D01"),
    org("B01", OrgType.BRANCH, "Z01"),
    org("G01", OrgType.GROUP, "B01"),
    org("G02", OrgType.GROUP, "B01"),
    org("B02", OrgType.BRANCH, "D01"),
]
ROSTER = Roster.of(TREE, [
    member("S01", "B01", group_code="G01", roles=frozenset({Role.SECRETARY}), joined_on=date(2010, 3, 5)),
    member("M01", "B01", group_code="G02", joined_on=date(2016, 2, 29), full_member_on=date(2017, 3, 1)),
    member("C01", "B02", upper_roles=frozenset({UpperRole("D01", Role.COMMITTEE_MEMBER)})),
])


def plan(catalog, calendar, year=2025, roster=ROSTER, zone=SHANGHAI) -> list[Occurrence]:
    return build_plan(catalog, roster, calendar, year, zone)


def of(occurrences, obligation, org_code=None, member_no=None) -> list[Occurrence]:
    return [o for o in occurrences if o.obligation == obligation and (org_code is None or o.org_code == org_code)
            and (member_no is None or o.member_no == member_no)]


def on(day: date, clock: time = time(9)) -> datetime:
    return datetime.combine(day, clock, tzinfo=SHANGHAI)


# Each obligation's default dates in 2025: (obligation, org, how many, some (date, moved from) pairs).
D = date
ORG_LEVEL_2025 = [
    pytest.param("committee_meeting", "B01", 12, [(D(2025, 1, 7), None), (D(2025, 2, 5), D(2025, 2, 4)),
                                                   (D(2025, 10, 9), D(2025, 10, 7))], id="committee-meeting-first-tuesday"),
    pytest.param("group_meeting", "G01", 12, [(D(2025, 1, 14), None), (D(2025, 10, 14), None)], id="group-meeting-g01"),
    pytest.param("group_meeting", "G02", 12, [(D(2025, 2, 11), None)], id="group-meeting-each-group"),
    pytest.param("theme_party_day", "B01", 12, [(D(2025, 1, 15), None), (D(2025, 2, 17), D(2025, 2, 15)),
                                                 (D(2025, 3, 17), D(2025, 3, 15))], id="theme-party-day-15th"),
    pytest.param("general_assembly", "B01", 4, [(D(2025, 3, 17), D(2025, 3, 15)), (D(2025, 12, 15), None)],
                 id="general-assembly-on-quarter-end-party-day"),
    pytest.param("party_lecture", "B01", 4, [(D(2025, 2, 17), D(2025, 2, 15)), (D(2025, 5, 15), None)],
                 id="party-lecture-quarterly"),
    pytest.param("study_day", "B01", 12, [(D(2025, 1, 27), D(2025, 1, 31)), (D(2025, 2, 28), None)],
                 id="study-day-stays-in-january"),
    pytest.param("weekly_study", "B01", 0, [], id="weekly-study-off-by-default"),
    pytest.param("july_first", "B01", 1, [(D(2025, 7, 1), None)], id="july-first"),
    pytest.param("org_life_meeting", "B01", 1, [(D(2025, 12, 10), None)], id="org-life-second-week-december"),
    pytest.param("member_appraisal", "B01", 1, [(D(2025, 12, 10), None)], id="appraisal-with-org-life"),
    pytest.param("heart_to_heart", "B01", 1, [(D(2025, 1, 8), None)], id="heart-to-heart-yearly"),
    pytest.param("integrity_education_week", "B01", 1, [(D(2025, 6, 3), D(2025, 6, 2))], id="integrity-week-after-duanwu"),
    pytest.param("monthly_reminder", "D01", 12, [(D(2025, 1, 2), None), (D(2025, 10, 9), None)],
                 id="monthly-reminder-first-workday"),
    pytest.param("monthly_reminder", "Z01", 12, [(D(2025, 2, 5), None)], id="monthly-reminder-general-branch"),
    pytest.param("quarterly_supervision", "D01", 4, [(D(2025, 3, 3), None), (D(2025, 6, 3), D(2025, 6, 2))],
                 id="quarterly-supervision"),
    pytest.param("semiannual_review", "D01", 2, [(D(2025, 6, 26), None), (D(2025, 12, 25), None)],
                 id="semiannual-review"),
    pytest.param("annual_assessment", "D01", 1, [(D(2025, 12, 22), D(2025, 12, 20))], id="annual-assessment"),
    pytest.param("annual_deployment", "D01", 1, [(D(2025, 1, 10), None)], id="annual-deployment"),
    pytest.param("holiday_integrity_reminder", "B01", 6, [(D(2025, 1, 26), None), (D(2025, 9, 29), None),
                                                            (D(2025, 12, 30), None)], id="holiday-integrity-reminder"),
    pytest.param("xuexi_qiangguo_report", "B01", 4, [(D(2025, 10, 14), None)], id="xuexi-report"),
    pytest.param("semiannual_scoring", "B01", 0, [], id="scoring-off-by-default"),
    pytest.param("dues", "B01", 0, [], id="dues-off-by-default"),
    pytest.param("ideology_report", "B01", 1, [(D(2025, 12, 10), None)], id="ideology-report"),
    pytest.param("rectification", "B01", 0, [], id="rectification-has-own-deadlines"),
]


@pytest.mark.parametrize(("obligation", "org_code", "count", "samples"), ORG_LEVEL_2025)
def test_default_dates_in_2025(catalog, calendar, obligation, org_code, count, samples):
    found = of(plan(catalog, calendar), obligation, org_code)
    assert len(found) == count
    by_day = {o.day: o.moved_from for o in found}
    for day, moved_from in samples:
        assert day in by_day, f"{obligation} not on {day}: {sorted(by_day)}"
        assert by_day[day] == moved_from


@pytest.mark.parametrize(("obligation", "types"), [
    pytest.param("theme_party_day", {OrgType.BRANCH}, id="branch-meetings-only-in-branches"),
    pytest.param("group_meeting", {OrgType.GROUP}, id="group-meetings-only-in-groups"),
    pytest.param("monthly_reminder", {OrgType.COMMITTEE, OrgType.GENERAL_BRANCH}, id="supervision-only-above-branches"),
    pytest.param("annual_deployment", {OrgType.COMMITTEE, OrgType.GENERAL_BRANCH}, id="deployment-above-branches"),
])
def test_obligations_go_to_the_right_kind_of_organisation(catalog, calendar, obligation, types):
    assert {ROSTER.org(o.org_code).type for o in of(plan(catalog, calendar), obligation)} == types


def test_occurrence_carries_time_window_reminders_and_a_stable_key(catalog, calendar):
    february = next(o for o in of(plan(catalog, calendar), "theme_party_day", "B01") if o.day.month == 2)
    assert february.key == "theme_party_day:B01:2025-02"  # the key ignores the holiday move
    assert (february.starts_at, february.ends_at) == (on(D(2025, 2, 17)), on(D(2025, 2, 17), time(11)))
    assert february.moved_from == D(2025, 2, 15)
    assert february.checkin_opens_at == on(D(2025, 2, 17), time(8, 30))
    assert february.checkin_closes_at == on(D(2025, 2, 17), time(11))
    assert february.reminder_leads == (timedelta(days=3), timedelta(days=1), timedelta(hours=1))
    assert (february.kind, february.requires_confirmation, february.audience) == ("meeting", True, "all_members")


def test_keys_are_unique_and_the_same_on_every_run(catalog, calendar):
    first = [o.key for o in plan(catalog, calendar)]
    assert len(first) == len(set(first))
    assert first == [o.key for o in plan(catalog, calendar)]


def test_json_has_the_contract_keys(catalog, calendar):
    moved = next(o for o in plan(catalog, calendar) if o.moved_from)
    record = moved.to_json()
    for key in ("obligation", "title", "org", "starts_at", "ends_at", "member", "audience", "moved_from"):
        assert key in record
    assert record["starts_at"].endswith("+08:00") and record["moved_from"] == moved.moved_from.isoformat()


# --- overrides ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("overrides", "org_code", "expected_march", "expected_may"), [
    pytest.param({"B01": "theme_party_day:\n  when: {day: 10}\n"}, "B01", D(2025, 3, 10), D(2025, 5, 12),
                 id="branch-on-the-10th"),
    pytest.param({"D01": "theme_party_day:\n  when: {weekday: friday, nth: last}\n"}, "B02", D(2025, 3, 28),
                 D(2025, 5, 30), id="committee-last-friday-reaches-its-branch"),
    pytest.param({"D01": "theme_party_day:\n  when: {weekday: friday, nth: last}\n",
                  "B01": "theme_party_day:\n  when: {day: 10}\n"}, "B01", D(2025, 3, 10), D(2025, 5, 12),
                 id="branch-override-beats-committee"),
    pytest.param({"Z01": "theme_party_day:\n  when: {day: 1}\n  holiday_policy: keep\n"}, "B01", D(2025, 3, 1),
                 D(2025, 5, 1), id="keep-policy-holds-a-holiday-date"),
])
def test_overrides(catalog, calendar, overrides, org_code, expected_march, expected_may):
    for code, text in overrides.items():
        catalog = parse_override(catalog, code, text, f"{code}.yaml")
    days = {o.day.month: o.day for o in of(plan(catalog, calendar), "theme_party_day", org_code)}
    assert (days[3], days[5]) == (expected_march, expected_may)


def test_general_assembly_follows_an_overridden_theme_party_day(catalog, calendar):
    catalog = parse_override(catalog, "B01", "theme_party_day:\n  when: {day: 10}\n", "B01.yaml")
    assemblies = of(plan(catalog, calendar), "general_assembly", "B01")
    assert [o.day for o in assemblies] == [D(2025, 3, 10), D(2025, 6, 10), D(2025, 9, 10), D(2025, 12, 10)]


def test_weekly_study_when_enabled_skips_holiday_fridays(catalog, calendar):
    catalog = parse_override(catalog, "B01", "weekly_study:\n  enabled: true\n", "B01.yaml")
    fridays = of(plan(catalog, calendar), "weekly_study", "B01")
    skipped = {D(2025, 1, 31), D(2025, 4, 4), D(2025, 5, 2), D(2025, 10, 3)}
    assert len(fridays) == 52 - len(skipped)
    assert not skipped & {o.day for o in fridays}
    assert all(o.starts_at.weekday() == 4 for o in fridays)


def test_disabling_for_one_branch_only(catalog, calendar):
    catalog = parse_override(catalog, "B01", "study_day:\n  enabled: false\n", "B01.yaml")
    occurrences = plan(catalog, calendar)
    assert of(occurrences, "study_day", "B01") == [] and len(of(occurrences, "study_day", "B02")) == 12


@pytest.mark.parametrize(("year", "expected", "moved_from"), [
    pytest.param(2025, D(2025, 7, 1), None, id="tuesday-stays"),
    pytest.param(2023, D(2023, 6, 30), D(2023, 7, 1), id="saturday-goes-to-friday-before"),
    pytest.param(2024, D(2024, 7, 1), None, id="monday-stays"),
])
def test_july_first_goes_to_the_workday_before(catalog, calendar, year, expected, moved_from):
    [july_first] = of(plan(catalog, calendar, year), "july_first", "B01")
    assert (july_first.day, july_first.moved_from) == (expected, moved_from)


# --- dates from people and organisations ----------------------------------------------------------------


@pytest.mark.parametrize(("joined", "year", "expected"), [
    pytest.param(D(2010, 3, 5), 2025, D(2025, 3, 5), id="ordinary-day"),
    pytest.param(D(2016, 2, 29), 2025, D(2025, 2, 28), id="leap-day-in-common-year"),
    pytest.param(D(2016, 2, 29), 2024, D(2024, 2, 29), id="leap-day-in-leap-year"),
    pytest.param(D(2020, 10, 1), 2025, D(2025, 10, 1), id="on-a-holiday-the-greeting-still-comes"),
    pytest.param(D(2025, 4, 1), 2025, None, id="not-in-the-joining-year"),
])
def test_political_birthday(catalog, calendar, joined, year, expected):
    roster = Roster.of(TREE, [member("P1", "B01", joined_on=joined, roles=frozenset())])
    found = of(plan(catalog, calendar, year, roster), "political_birthday")
    assert [o.day for o in found] == ([expected] if expected else [])
    if expected:
        [birthday] = found
        assert (birthday.member_no, birthday.org_code, birthday.key) == ("P1", "B01", f"political_birthday:B01:P1:{year}")
        assert len(birthday.checklist) == 5 and birthday.audience == "member_and_secretary"
        assert birthday.all_day


@pytest.mark.parametrize(("title", "name", "named"), [
    pytest.param("政治生日：李四", "李四", True, id="the-plan-names-the-member"),
    pytest.param("政治生日", "张三", False, id="a-hand-made-title"),
    pytest.param("政治生日：张三", "张", False, id="a-name-inside-another-is-not-theirs"),
    pytest.param("政治生日：李四", "李思", False, id="renamed-since-planned"),
])
def test_whether_a_title_names_its_subject(title, name, named):
    assert names_subject(title, name) is named


def test_a_planned_per_member_title_names_its_member(catalog, calendar):
    [birthday] = of(plan(catalog, calendar), "political_birthday", member_no="S01")
    [secretary] = [m for m in ROSTER.members if m.member_no == "S01"]
    assert names_subject(birthday.title, secretary.name)


def test_secretary_hears_of_a_political_birthday_at_the_start_of_the_month(catalog, calendar):
    [birthday] = of(plan(catalog, calendar), "political_birthday", member_no="S01")
    assert birthday.starts_at - max(birthday.reminder_leads) == on(D(2025, 3, 1))


@pytest.mark.parametrize(("category", "joined", "expected"), [
    pytest.param(Category.PROBATIONARY, D(2024, 6, 30), [D(2025, 6, 30)], id="one-year-after-admission"),
    pytest.param(Category.PROBATIONARY, D(2024, 2, 29), [D(2025, 2, 28)], id="leap-day-admission"),
    pytest.param(Category.PROBATIONARY, D(2023, 6, 30), [], id="due-in-another-year"),
    pytest.param(Category.FULL, D(2024, 6, 30), [], id="already-converted"),
])
def test_probation_conversion(catalog, calendar, category, joined, expected):
    roster = Roster.of(TREE, [member("P1", "B01", category, joined_on=joined)])
    found = of(plan(catalog, calendar, 2025, roster), "probation_conversion")
    assert [o.day for o in found] == expected
    for conversion in found:
        assert conversion.reminder_leads == (timedelta(days=30), timedelta(0))
        assert conversion.audience == "branch_committee"


@pytest.mark.parametrize(("full_member_on", "year", "expected"), [
    pytest.param(D(1975, 3, 1), 2025, [D(2025, 5, 6)], id="fiftieth-year-first-workday-of-may"),
    pytest.param(D(1976, 3, 1), 2025, [], id="forty-nine-years"),
    pytest.param(D(1974, 2, 28), 2024, [D(2024, 5, 6)], id="2024"),
])
def test_fifty_years_honor(catalog, calendar, full_member_on, year, expected):
    roster = Roster.of(TREE, [member("P1", "B01", full_member_on=full_member_on, joined_on=full_member_on.replace(year=full_member_on.year - 1))])
    assert [o.day for o in of(plan(catalog, calendar, year, roster), "fifty_years_honor")] == expected


@pytest.mark.parametrize(("activist_on", "category", "expected"), [
    pytest.param(D(2024, 8, 31), Category.ACTIVIST, [(D(2025, 2, 28), None), (D(2025, 9, 1), D(2025, 8, 31))],
                 id="month-end-and-weekend"),
    pytest.param(D(2025, 3, 10), Category.CANDIDATE, [(D(2025, 9, 10), None)], id="candidate-still-reviewed"),
    pytest.param(D(2024, 3, 10), Category.PROBATIONARY, [], id="admitted-no-more-reviews"),
])
def test_activist_review_every_six_months(catalog, calendar, activist_on, category, expected):
    roster = Roster.of(TREE, [member("P1", "B01", category, activist_on=activist_on)])
    found = of(plan(catalog, calendar, 2025, roster), "activist_review")
    assert [(o.day, o.moved_from) for o in found] == expected


@pytest.mark.parametrize(("elected_on", "years", "year", "expected_stages"), [
    pytest.param(D(2023, 3, 14), 3, 2025, {"-6m": D(2025, 9, 15), "-3m": D(2025, 12, 15)}, id="reminders-before"),
    pytest.param(D(2023, 3, 14), 3, 2026, {"-1m": D(2026, 2, 14), "due": D(2026, 3, 16)},
                 id="last-month-on-a-makeup-saturday-and-due"),
    pytest.param(D(2020, 2, 29), 5, 2024, {"-6m": D(2024, 8, 28), "-3m": D(2024, 11, 28)}, id="leap-day-election"),
    pytest.param(D(2020, 2, 29), 5, 2025, {"-1m": D(2025, 2, 5), "due": D(2025, 2, 28)}, id="leap-day-term-ends-feb-28"),
])
def test_term_expiry_reminders(catalog, calendar, elected_on, years, year, expected_stages):
    roster = Roster.of([org("B01", OrgType.BRANCH, elected_on=elected_on, term_years=years)])
    found = [o for o in of(plan(catalog, calendar, year, roster), "term_expiry") if "overdue" not in o.key]
    assert {o.key.rsplit(":", 1)[1]: o.day for o in found} == expected_stages


def test_overdue_term_is_reminded_every_week(catalog, calendar):
    roster = Roster.of([org("B01", OrgType.BRANCH, elected_on=D(2021, 6, 30), term_years=3)])
    overdue = [o for o in of(plan(catalog, calendar, 2025, roster), "term_expiry") if "overdue" in o.key]
    assert 50 <= len(overdue) <= 53
    assert all(calendar.is_workday(o.day) for o in overdue)
    assert overdue[0].audience == "secretary_and_upper_committee"


# --- zones, periods, unknown years --------------------------------------------------------------------


def test_an_organisation_in_another_time_zone(catalog, calendar):
    berlin = ZoneInfo("Europe/Berlin")
    roster = Roster.of([org("B09", OrgType.BRANCH, timezone="Europe/Berlin")])
    days = {o.day.month: o for o in of(plan(catalog, calendar, 2025, roster), "theme_party_day")}
    assert days[1].starts_at == datetime(2025, 1, 15, 9, tzinfo=berlin)
    assert days[1].starts_at.utcoffset() == timedelta(hours=1)
    assert days[7].starts_at.utcoffset() == timedelta(hours=2)
    assert days[7].to_json()["starts_at"] == "2025-07-15T09:00:00+02:00"


def test_default_zone_applies_to_organisations_without_one(catalog, calendar):
    zone = ZoneInfo("Asia/Urumqi")
    roster = Roster.of([org("B09", OrgType.BRANCH)])
    occurrences = plan(catalog, calendar, 2025, roster, zone)
    assert {o.starts_at.tzinfo for o in occurrences} == {zone}


def test_unknown_year_is_refused(catalog, calendar_through_2026):
    with pytest.raises(CalendarUnknownYear, match="2027"):
        plan(catalog, calendar_through_2026, 2027)


def test_plan_between_matches_the_yearly_plans(catalog, calendar):
    start, end = on(D(2025, 12, 20), time(0)), on(D(2026, 1, 20), time(0))
    window = plan_between(catalog, ROSTER, calendar, start, end, SHANGHAI)
    expected = [o for year in (2025, 2026) for o in plan(catalog, calendar, year) if start <= o.starts_at < end]
    assert sorted(o.key for o in window) == sorted(o.key for o in expected)
    assert "holiday_integrity_reminder:B01:2026-new_years_day" in {o.key for o in window}


def test_plan_between_refuses_a_window_reaching_an_unknown_year(catalog, calendar_through_2026):
    with pytest.raises(CalendarUnknownYear):
        plan_between(catalog, ROSTER, calendar_through_2026, on(D(2026, 12, 1)), on(D(2027, 1, 31)), SHANGHAI)


def test_filters_by_organisation_subtree_and_member(catalog, calendar):
    occurrences = plan(catalog, calendar)
    assert {o.org_code for o in within_orgs(occurrences, ROSTER, "Z01")} == {"Z01", "B01", "G01", "G02"}
    for_m01 = occurrences_for_member(occurrences, ROSTER, "M01")
    assert {o.obligation for o in for_m01} >= {"theme_party_day", "group_meeting", "political_birthday"}
    assert {o.org_code for o in for_m01 if o.obligation == "group_meeting"} == {"G02"}
    assert not any(o.obligation == "committee_meeting" for o in for_m01)
    for_committee_member = occurrences_for_member(occurrences, ROSTER, "C01")
    assert {o.org_code for o in for_committee_member if o.obligation == "annual_deployment"} == {"D01"}


def test_counts_per_obligation(catalog, calendar):
    counts = count_by_obligation(plan(catalog, calendar))
    assert counts[("B01", "theme_party_day")] == 12 and counts[("B01", "general_assembly")] == 4
    assert ("B01", "monthly_reminder") not in counts


# --- invariants (hypothesis) --------------------------------------------------------------------------

KNOWN_YEARS = st.integers(min_value=2005, max_value=2026)
TIMING = st.one_of(
    st.integers(min_value=1, max_value=31).map(lambda d: f"{{day: {d}}}"),
    st.just("{day: last}"),
    st.tuples(st.sampled_from(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]),
              st.sampled_from(["first", "second", "third", "fourth", "last"])).map(
        lambda t: f"{{weekday: {t[0]}, nth: {t[1]}}}"),
)
HYPOTHESIS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@HYPOTHESIS
@given(year=KNOWN_YEARS, timing=TIMING, policy=st.sampled_from(["next_workday", "previous_workday"]))
def test_exactly_one_theme_party_day_per_branch_per_month_on_a_workday(catalog, calendar, year, timing, policy):
    catalog = parse_override(catalog, "D01", f"theme_party_day:\n  when: {timing}\n  holiday_policy: {policy}\n", "D01.yaml")
    days = [o for o in plan(catalog, calendar, year) if o.obligation == "theme_party_day"]
    per_branch_month = Counter((o.org_code, o.day.month) for o in days)
    assert set(per_branch_month.values()) == {1} and len(per_branch_month) == 2 * 12
    assert all(calendar.is_workday(o.day) and o.day.year == year for o in days)
    # A move never leaves the month: each occurrence's key names the month it is held in.
    assert all(o.key == f"theme_party_day:{o.org_code}:{year}-{o.day.month:02d}" for o in days)


@HYPOTHESIS
@given(year=KNOWN_YEARS, timing=TIMING)
def test_keep_policy_holds_the_rule_date_and_skip_drops_non_workdays(catalog, calendar, year, timing):
    kept = parse_override(catalog, "D01", f"theme_party_day:\n  when: {timing}\n  holiday_policy: keep\n", "D01.yaml")
    skipped = parse_override(catalog, "D01", f"theme_party_day:\n  when: {timing}\n  holiday_policy: skip\n", "D01.yaml")
    kept_days = [o for o in plan(kept, calendar, year) if o.obligation == "theme_party_day" and o.org_code == "B01"]
    skipped_days = [o for o in plan(skipped, calendar, year) if o.obligation == "theme_party_day" and o.org_code == "B01"]
    assert len(kept_days) == 12 and all(o.moved_from is None for o in kept_days)
    assert [o.day for o in skipped_days] == [o.day for o in kept_days if calendar.is_workday(o.day)]


@HYPOTHESIS
@given(joined=st.dates(min_value=D(1950, 1, 1), max_value=D(2024, 12, 31)), year=KNOWN_YEARS)
def test_political_birthday_is_in_the_joining_month_once_a_year(catalog, calendar, joined, year):
    roster = Roster.of(TREE, [member("P1", "B01", joined_on=joined)])
    found = of(plan(catalog, calendar, year, roster), "political_birthday")
    if year <= joined.year:
        assert found == []
    else:
        [birthday] = found
        assert birthday.day.month == joined.month and birthday.day.year == year
        assert birthday.day.day == joined.day or (joined.month, joined.day, birthday.day.day) == (2, 29, 28)


@HYPOTHESIS
@given(year=KNOWN_YEARS)
def test_every_occurrence_is_aware_in_its_year_and_ends_after_it_starts(catalog, calendar, year):
    for occurrence in plan(catalog, calendar, year):
        assert occurrence.starts_at.tzinfo is not None and occurrence.starts_at.year == year
        assert occurrence.ends_at is None or occurrence.ends_at > occurrence.starts_at
        if occurrence.moved_from is not None:
            assert occurrence.moved_from != occurrence.day and not calendar.is_workday(occurrence.moved_from)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 10, 1)),
       length=st.integers(min_value=1, max_value=90))
def test_any_window_is_the_slice_of_the_yearly_plans(catalog, calendar, start, length):
    start = start.replace(tzinfo=SHANGHAI)
    end = start + timedelta(days=length)
    window = plan_between(catalog, ROSTER, calendar, start, end, SHANGHAI)
    expected = [o for year in (2025, 2026) for o in plan(catalog, calendar, year) if start <= o.starts_at < end]
    assert [o.key for o in window] == [o.key for o in sorted(expected, key=lambda o: (o.starts_at, o.key))]


def test_weekly_move_never_leaves_the_year(catalog, calendar):
    # 2021-01-01 is a Friday and a holiday (ISO week 2020-W53); moving back would land in 2020. The week is cut
    # at New Year and its 2021 part (1–3 January) is all holiday, so that week's study is dropped, not moved.
    catalog = parse_override(catalog, "B01", "weekly_study:\n  enabled: true\n  holiday_policy: previous_workday\n",
                             "B01.yaml")
    fridays = of(plan(catalog, calendar, 2021), "weekly_study", "B01")
    assert all(o.day.year == 2021 for o in fridays)
    assert fridays[0].key == "weekly_study:B01:2021-W01" and fridays[0].day == D(2021, 1, 8)
    assert "weekly_study:B01:2020-W53" not in {o.key for o in fridays}


@pytest.mark.parametrize("enabled", [pytest.param(True, id="collector-on"), pytest.param(False, id="collector-off")])
def test_planning_leaves_the_garbage_collector_as_it_found_it(catalog, calendar_through_2026, enabled):
    import gc

    (gc.enable if enabled else gc.disable)()
    try:
        plan(catalog, calendar_through_2026)
        with pytest.raises(CalendarUnknownYear):
            plan_between(catalog, ROSTER, calendar_through_2026, on(D(2026, 12, 1)), on(D(2027, 2, 1)), SHANGHAI)
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
