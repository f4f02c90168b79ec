"""Reading the State Council's holiday notice as published: the real 2024–2026 notices agree with chinesecalendar."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from schedules.calendar import OfficialCalendar, arrangements_from_chinesecalendar
from schedules.holiday_notice import NoticeError, disagreements, parse_notice

NOTICES = Path(__file__).resolve().parents[1] / "fixtures" / "holiday_notices"


def notice_text(year: int) -> str:
    return (NOTICES / f"{year}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_the_published_notice_agrees_with_chinesecalendar_on_every_day(year):
    notice = parse_notice(notice_text(year))
    published = arrangements_from_chinesecalendar()[year]
    assert notice.year == year
    assert disagreements(notice, OfficialCalendar({year: published})) == []
    assert set(notice.makeup_workdays) == set(published.makeup_workdays)


def test_a_merged_item_gives_mid_autumn_its_own_day():
    entries = parse_notice(notice_text(2025)).holiday_entries()
    assert entries[-3:] == [("国庆", date(2025, 10, 1), date(2025, 10, 5)), ("中秋", date(2025, 10, 6), date(2025, 10, 6)),
                            ("国庆", date(2025, 10, 7), date(2025, 10, 8))]


def test_the_2026_notice_writes_the_template_file():
    template = (NOTICES.parents[2] / "config" / "holidays" / "TEMPLATE.yaml").read_text(encoding="utf-8")
    written = parse_notice(notice_text(2026)).to_yaml()
    body = lambda text: text[text.index("year:"):]  # noqa: E731 - the comments differ, the data must not
    assert body(written) == body(template)


def test_a_notice_on_one_line_reads_like_one_per_line():
    text = notice_text(2026)
    assert parse_notice(text.replace("\n\n", "")) == parse_notice(text)


@pytest.mark.parametrize(("old", "new", "message"), [
    pytest.param("一、元旦：1月1日（周四）", "一、元旦：1月1日（周五）",
                 "第 7 行无法读取：一、元旦：1月1日（周五）至3日（周六）放假调休，共3天。1月4日（周日）上班。\n"
                 "1月1日是周四，通知写的是周五。", id="wrong-weekday"),
    pytest.param("放假调休，共9天", "放假调休，共8天",
                 "第 9 行无法读取：二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共8天。"
                 "2月14日（周六）、2月28日（周六）上班。\n写的是共 8 天，但 2026-02-15 至 2026-02-23 是 9 天。",
                 id="days-do-not-add-up"),
    pytest.param("三、清明节", "三、植树节",
                 "第 11 行无法读取：三、植树节：4月4日（周六）至6日（周一）放假，共3天。\n"
                 "“植树节”不是法定节假日（应为 元旦、春节、清明、劳动节、端午、中秋、国庆 之一）。", id="not-a-holiday"),
    pytest.param("四、劳动节：", "四、劳动节 ",
                 "第 13 行无法读取：四、劳动节 5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。\n"
                 "每项应写成“序号、节日名称：放假日期……”。", id="no-colon"),
    pytest.param("5月9日（周六）上班", "5月9日（周六）照常上班",
                 "第 13 行无法读取：四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）照常上班。\n"
                 "看不懂这一句：“5月9日(周六)照常上班”（应为调休上班日，如“1月26日（周日）上班”）。", id="unreadable-sentence"),
    pytest.param("10月10日（周六）上班", "10月12日（周一）上班",
                 "第 19 行无法读取：七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月12日（周一）上班。\n"
                 "调休上班日 10月12日是周一，不是周末。", id="workday-not-a-weekend"),
    pytest.param("六、中秋节：9月25日（周五）至27日（周日）放假，共3天。", "",
                 "通知中没有中秋的安排（七个法定节假日应逐项列出）。", id="holiday-missing"),
    pytest.param("2月15日（农历腊月二十八、周日）至23日", "2月15日（农历腊月二十八、周日）至2月31日",
                 "第 9 行无法读取：二、春节：2月15日（农历腊月二十八、周日）至2月31日（农历正月初七、周一）放假调休，共9天。"
                 "2月14日（周六）、2月28日（周六）上班。\n2026年2月31日不是有效日期。", id="impossible-date"),
])
def test_a_malformed_notice_is_refused_with_the_line_it_could_not_read(old, new, message):
    text = notice_text(2026)
    assert old in text
    with pytest.raises(NoticeError) as caught:
        parse_notice(text.replace(old, new))
    assert str(caught.value) == message


def test_a_text_without_a_year_is_refused():
    with pytest.raises(NoticeError) as caught:
        parse_notice("一、元旦：1月1日放假。\n")
    assert str(caught.value) == "找不到通知的年份：应有“关于YYYY年部分节假日安排的通知”或“现将YYYY年……安排通知如下”。"
