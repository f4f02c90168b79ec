"""The provisional calendar: the year after the last notice, planned on the statutory days of the 2024 law alone."""

from __future__ import annotations

from datetime import date

import pytest

from schedules.calendar import (
    OFFICIAL,
    PROVISIONAL,
    CalendarUnknownYear,
    OfficialCalendar,
    arrangements_from_chinesecalendar,
    provisional_arrangement,
)


@pytest.fixture(scope="module")
def through_2026() -> OfficialCalendar:
    """The packages as of 2026-12-01 (cut at 2026) plus the provisional 2027, as load_official_calendar builds it."""
    arrangements = {year: a for year, a in arrangements_from_chinesecalendar().items() if year <= 2026}
    return OfficialCalendar({**arrangements, 2027: provisional_arrangement(2027)})


def test_the_provisional_year_has_exactly_the_statutory_days_off():
    days_off = provisional_arrangement(2027).days_off
    assert sorted(days_off.items()) == [
        (date(2027, 1, 1), "new_years_day"),
        (date(2027, 2, 5), "spring_festival"), (date(2027, 2, 6), "spring_festival"),  # 除夕 and 初一 …
        (date(2027, 2, 7), "spring_festival"), (date(2027, 2, 8), "spring_festival"),  # … to 初三: four days
        (date(2027, 4, 5), "tomb_sweeping_day"),
        (date(2027, 5, 1), "labour_day"), (date(2027, 5, 2), "labour_day"),
        (date(2027, 6, 9), "dragon_boat_festival"),
        (date(2027, 9, 15), "mid_autumn_festival"),
        (date(2027, 10, 1), "national_day"), (date(2027, 10, 2), "national_day"), (date(2027, 10, 3), "national_day"),
    ]
    assert provisional_arrangement(2027).makeup_workdays == frozenset()


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_statutory_day_the_law_gives_was_a_day_off_in_the_published_years(year):
    published = arrangements_from_chinesecalendar()[year].days_off
    assert set(provisional_arrangement(year).days_off) <= set(published)


@pytest.mark.parametrize(("day", "workday", "tentative"), [
    pytest.param(date(2027, 2, 5), False, True, id="chuxi-off"),
    pytest.param(date(2027, 2, 9), True, True, id="after-spring-festival-a-workday-but-tentative"),
    pytest.param(date(2027, 2, 13), False, True, id="weekend-never-a-makeup-workday"),
    pytest.param(date(2027, 3, 10), True, False, id="far-from-any-holiday"),
    pytest.param(date(2027, 9, 20), True, True, id="two-weeks-before-national-day"),
])
def test_provisional_days(through_2026, day, workday, tentative):
    assert (through_2026.is_workday(day), through_2026.is_tentative(day)) == (workday, tentative)


def test_each_year_says_which_calendar_it_stands_on(through_2026):
    assert (through_2026.calendar_of(2026), through_2026.calendar_of(2027)) == (OFFICIAL, PROVISIONAL)
    assert through_2026.last_official_year == 2026 and through_2026.provisional_years == [2027]
    assert through_2026.is_tentative(date(2026, 12, 28)) is False  # official days are never tentative
    assert [p.name for p in through_2026.holidays_in(2027)] == ["元旦", "春节", "清明", "劳动节", "端午", "中秋", "国庆"]


def test_two_years_past_the_last_notice_is_refused_naming_the_year_and_what_to_do(through_2026):
    with pytest.raises(CalendarUnknownYear) as caught:
        through_2026.is_workday(date(2028, 3, 1))
    assert str(caught.value) == (
        "不知道 2028 年的官方节假日和调休安排（目前已知：2004–2026 年，以及 config/holidays/ 中的文件），不能凭猜测排期。"
        "2028 年距最近公布的 2026 年安排两年以上，连暂定日历也不作；暂定日历只排到 2027 年。"
        "国务院办公厅发布《关于2028年部分节假日安排的通知》后，把通知全文存为文本文件（或 .docx），"
        "运行 branchbot calendar import 通知文件 --write 生成 config/holidays/2028.yaml；"
        "也可以按 config/holidays/TEMPLATE.yaml 的格式手工填写。然后重新运行。"
    )
