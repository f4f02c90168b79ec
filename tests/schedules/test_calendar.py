"""The official calendar: 2025's 春节 and 国庆 with their make-up days, holiday periods, unknown years, override files."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from bot.deployment import load_official_calendar
from schedules.calendar import (
    CalendarFileError,
    CalendarUnknownYear,
    OfficialCalendar,
    arrangements_from_chinesecalendar,
    arrangements_from_holidays_package,
    parse_holiday_file,
)

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture(scope="module")
def calendar() -> OfficialCalendar:
    return load_official_calendar(CONFIG / "holidays")


@pytest.mark.parametrize(("day", "workday"), [
    pytest.param(date(2025, 1, 26), True, id="2025-spring-festival-makeup-sunday"),
    pytest.param(date(2025, 1, 28), False, id="2025-new-years-eve-is-off"),
    pytest.param(date(2025, 2, 4), False, id="2025-spring-festival-last-day-tuesday-off"),
    pytest.param(date(2025, 2, 8), True, id="2025-spring-festival-makeup-saturday"),
    pytest.param(date(2025, 2, 5), True, id="2025-first-day-back"),
    pytest.param(date(2025, 9, 28), True, id="2025-national-day-makeup-sunday"),
    pytest.param(date(2025, 10, 6), False, id="2025-mid-autumn-inside-national-day"),
    pytest.param(date(2025, 10, 8), False, id="2025-national-day-wednesday-off"),
    pytest.param(date(2025, 10, 11), True, id="2025-national-day-makeup-saturday"),
    pytest.param(date(2025, 10, 12), False, id="2025-plain-sunday"),
    pytest.param(date(2025, 3, 14), True, id="2025-plain-friday"),
    pytest.param(date(2026, 1, 4), True, id="2026-new-year-makeup-sunday"),
    pytest.param(date(2026, 2, 23), False, id="2026-spring-festival-monday-off"),
])
def test_workdays_follow_the_official_arrangement(calendar, day, workday):
    assert calendar.is_workday(day) is workday


@pytest.mark.parametrize(("day", "expected"), [
    pytest.param(date(2025, 1, 28), date(2025, 2, 5), id="spring-festival-to-first-day-back"),
    pytest.param(date(2025, 10, 1), date(2025, 10, 9), id="national-day-to-thursday"),
    pytest.param(date(2025, 9, 27), date(2025, 9, 28), id="saturday-to-makeup-sunday"),
    pytest.param(date(2025, 3, 17), date(2025, 3, 17), id="workday-stays"),
])
def test_next_workday(calendar, day, expected):
    assert calendar.next_workday(day) == expected


def test_previous_workday_and_workdays_before(calendar):
    assert calendar.previous_workday(date(2025, 10, 5)) == date(2025, 9, 30)
    # Two workdays before 春节 2025 (Jan 28): Monday the 27th, then the make-up Sunday the 26th.
    assert calendar.workdays_before(date(2025, 1, 28), 2) == date(2025, 1, 26)
    assert calendar.nth_workday_of_month(2025, 10, 1) == date(2025, 10, 9)
    assert calendar.nth_workday_of_month(2025, 10, -1) == date(2025, 10, 31)


def test_holiday_periods_of_2025_with_names(calendar):
    periods = [(p.name, p.first_day, p.last_day) for p in calendar.holidays_in(2025)]
    assert periods == [
        ("元旦", date(2025, 1, 1), date(2025, 1, 1)),
        ("春节", date(2025, 1, 28), date(2025, 2, 4)),
        ("清明", date(2025, 4, 4), date(2025, 4, 6)),
        ("劳动节", date(2025, 5, 1), date(2025, 5, 5)),
        ("端午", date(2025, 5, 31), date(2025, 6, 2)),
        ("国庆、中秋", date(2025, 10, 1), date(2025, 10, 8)),
    ]


def test_new_year_holiday_starting_in_december_belongs_to_the_new_year(calendar):
    first_2024 = calendar.holidays_in(2024)[0]
    assert (first_2024.name, first_2024.first_day, first_2024.last_day) == ("元旦", date(2023, 12, 30), date(2024, 1, 1))
    assert all(p.first_day != date(2023, 12, 30) for p in calendar.holidays_in(2023))


@pytest.mark.parametrize("year", [
    pytest.param(2099, id="after-the-packages"),  # not 2027: the packages will learn it when it is announced
    pytest.param(1999, id="before-the-packages"),
])
def test_unknown_year_is_refused_with_how_to_supply_it(calendar, year):
    with pytest.raises(CalendarUnknownYear) as caught:
        calendar.is_workday(date(year, 3, 1))
    message = str(caught.value)
    assert f"{year} 年" in message and f"config/holidays/{year}.yaml" in message and "TEMPLATE.yaml" in message
    with pytest.raises(CalendarUnknownYear):
        calendar.holidays_in(year)


def test_estimated_years_of_the_holidays_package_do_not_count():
    import holidays
    from holidays.countries.china import ChinaStaticHolidays

    # The year after the package's official 调休 table: it still computes the holidays, but only as an estimate.
    estimated = max(ChinaStaticHolidays.special_public_holidays) + 1
    assert holidays.China(years=estimated)
    assert estimated not in arrangements_from_holidays_package()


@pytest.mark.parametrize("year", range(2017, 2027))
def test_both_packages_agree_on_every_workday(year):
    from_holidays = OfficialCalendar({year: arrangements_from_holidays_package()[year]})
    from_chinesecalendar = OfficialCalendar({year: arrangements_from_chinesecalendar()[year]})
    day = date(year, 1, 1)
    disagreements = []
    while day.year == year:
        if from_holidays.is_workday(day) != from_chinesecalendar.is_workday(day):
            disagreements.append(day)
        day += timedelta(days=1)
    assert disagreements == []


def test_year_known_only_to_the_holidays_package_is_planned_from_it(calendar):
    assert calendar.source_of(2002) == "holidays"
    assert calendar.is_workday(date(2002, 9, 28)) is True  # Saturday make-up for National Day 2002
    assert calendar.is_workday(date(2002, 10, 4)) is False


def _template() -> dict:
    return yaml.safe_load((CONFIG / "holidays" / "TEMPLATE.yaml").read_text(encoding="utf-8"))


def test_override_file_supplies_an_unknown_year(tmp_path):
    data = _template()
    text = yaml.safe_dump(data, allow_unicode=True).replace("2026", "2027")
    (tmp_path / "2027.yaml").write_text(text, encoding="utf-8")
    calendar = load_official_calendar(tmp_path)
    assert calendar.knows(2027) and calendar.source_of(2027).endswith("2027.yaml")
    assert calendar.is_workday(date(2027, 1, 4)) is True  # a Monday that the file does not mark
    assert [p.name for p in calendar.holidays_in(2027)] == ["元旦", "春节", "清明", "劳动节", "端午", "中秋", "国庆"]
    assert calendar.is_workday(date(2027, 2, 14)) is True  # listed as a make-up workday (a Sunday)


def test_template_matches_the_published_2026_arrangement():
    arrangement = parse_holiday_file(_template(), "TEMPLATE.yaml")
    published = arrangements_from_chinesecalendar()[2026]
    assert set(arrangement.days_off) == set(published.days_off)
    assert arrangement.makeup_workdays == published.makeup_workdays


def test_override_file_wins_over_the_packages(tmp_path):
    data = _template()
    data["makeup_workdays"].append(date(2026, 3, 1))
    (tmp_path / "2026.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_official_calendar(tmp_path).is_workday(date(2026, 3, 1)) is True


@pytest.mark.parametrize(("change", "fragment"), [
    pytest.param(lambda d: d["holidays"].append({"name": "植树节", "start": "2026-03-12", "end": "2026-03-12"}),
                 "不是法定节假日名称", id="not-a-statutory-holiday"),
    pytest.param(lambda d: d["holidays"][0].update(end=date(2025, 12, 31)), "早于开始日期", id="end-before-start"),
    pytest.param(lambda d: d.update(year=2025), "与文件名 2026 不一致", id="year-differs-from-file-name"),
    pytest.param(lambda d: d["makeup_workdays"].append(date(2026, 10, 2)), "既是放假日又是调休上班日",
                 id="day-both-off-and-on"),
    pytest.param(lambda d: d.pop("source"), "source：缺少此项", id="missing-source"),
    pytest.param(lambda d: d["holidays"][0].update(start="下周一"), "应为日期", id="not-a-date"),
])
def test_malformed_override_file_is_refused_naming_file_and_problem(tmp_path, change, fragment):
    data = _template()
    change(data)
    path = tmp_path / "2026.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CalendarFileError) as caught:
        load_official_calendar(tmp_path)
    assert str(path) in str(caught.value) and fragment in str(caught.value)
