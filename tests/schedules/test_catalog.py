"""The catalog file: every reference obligation present, defaults as the reference says, overrides, Chinese errors."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path

import pytest
import yaml

from bot.deployment import load_catalog
from schedules.catalog import CatalogError, parse_catalog, parse_duration, parse_override
from tests.reference import reference_file

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = reference_file("obligations.md")
SHIPPED = (ROOT / "config" / "catalog.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(ROOT / "config")


def _reference_keys() -> list[str]:
    text = REFERENCE.read_text(encoding="utf-8")
    return re.findall(r"^\| `([a-z_0-9]+)` \|", text, flags=re.MULTILINE)


def test_every_reference_obligation_is_in_the_catalog(catalog):
    keys = _reference_keys()
    assert len(keys) == 28
    assert sorted(keys) == sorted(catalog.keys)


@pytest.mark.parametrize(("key", "enabled"), [
    pytest.param("weekly_study", False, id="weekly-study-off"),
    pytest.param("semiannual_scoring", False, id="scoring-off-light-burden"),
    pytest.param("dues", False, id="dues-off"),
    pytest.param("theme_party_day", True, id="theme-party-day-on"),
    pytest.param("political_birthday", True, id="political-birthday-on"),
    pytest.param("monthly_reminder", True, id="monthly-reminder-on"),
])
def test_enabled_by_default_as_the_reference_says(catalog, key, enabled):
    assert catalog[key].enabled is enabled


@pytest.mark.parametrize(("key", "cadence", "clock", "audience", "applies_to"), [
    pytest.param("committee_meeting", "monthly", time(15), "branch_committee", ["党支部"], id="committee-meeting"),
    pytest.param("group_meeting", "monthly", time(15), "group_members", ["党小组"], id="group-meeting"),
    pytest.param("theme_party_day", "monthly", time(9), "all_members", ["党支部"], id="theme-party-day"),
    pytest.param("general_assembly", "quarterly", time(14, 30), "party_members", ["党支部"], id="general-assembly"),
    pytest.param("weekly_study", "weekly", time(16), "all_members", ["党支部"], id="weekly-study"),
    pytest.param("monthly_reminder", "monthly", time(9), "branch_secretaries", ["党委", "党总支"], id="monthly-reminder"),
    pytest.param("term_expiry", "org_term", time(9), "secretary_and_upper_committee", ["党委", "党总支", "党支部"],
                 id="term-expiry"),
])
def test_shipped_timing_and_audience(catalog, key, cadence, clock, audience, applies_to):
    entry = catalog[key]
    assert (entry.cadence, entry.time, entry.audience, entry.applies_to) == (cadence, clock, audience, applies_to)


def test_defaults_fill_reminders_and_check_in(catalog):
    party_day = catalog["theme_party_day"]
    assert party_day.reminders == [timedelta(days=3), timedelta(days=1), timedelta(hours=1)]
    assert (party_day.checkin.opens, party_day.checkin.closes) == (timedelta(minutes=-30), timedelta(hours=2))
    assert party_day.requires_confirmation and party_day.holiday_policy == "next_workday"
    assert catalog["political_birthday"].checklist == [
        "建立政治生日台账", "赠送政治生日贺卡", "开展一次谈心谈话", "重温一次入党誓词", "进行一次走访慰问",
    ]


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("3d", timedelta(days=3), id="days"),
    pytest.param("1h", timedelta(hours=1), id="hours"),
    pytest.param("30m", timedelta(minutes=30), id="minutes"),
    pytest.param("2h30m", timedelta(hours=2, minutes=30), id="combined"),
    pytest.param("-30m", timedelta(minutes=-30), id="negative"),
])
def test_durations(text, expected):
    assert parse_duration(text) == expected


def _entry(**fields) -> str:
    base = {
        "name": "主题党日", "kind": "meeting", "enabled": True, "cadence": "monthly", "when": {"day": 15},
        "time": "09:00", "applies_to": ["党支部"], "audience": "all_members",
    }
    base.update(fields)
    return yaml.safe_dump({"obligations": {"theme_party_day": base}}, allow_unicode=True)


@pytest.mark.parametrize(("text", "fragments"), [
    pytest.param(_entry(when={"day": 40}), ["字段 when", "day 应在 1 到 31 之间"], id="day-out-of-range"),
    pytest.param(_entry(when={"weekday": "tuesday", "nth": "fifth"}), ["nth"], id="fifth-weekday"),
    pytest.param(_entry(when={"day": 15, "workday": 1}), ["只能用一种方式指定日期"], id="two-rules"),
    pytest.param(_entry(cadence="fortnightly"), ["字段 cadence（周期）", "'fortnightly' 无效"], id="unknown-cadence"),
    pytest.param(_entry(time="25:00"), ["字段 time（时刻）", "24 小时制"], id="bad-time"),
    pytest.param(_entry(reminders=[3]), ["字段 reminders.0", "带单位的时长"], id="reminder-without-unit"),
    pytest.param(_entry(holiday_policy="nearest"), ["holiday_policy（节假日规则）", "'nearest' 无效"], id="bad-policy"),
    pytest.param(_entry(audience="everyone"), ["audience（对象）"], id="unknown-audience"),
    pytest.param(_entry(enabled="yes please"), ["enabled（是否启用）", "true 或 false"], id="enabled-not-bool"),
    pytest.param(_entry(colour="red"), ["字段 colour", "不认识的字段"], id="unknown-field"),
    pytest.param(_entry(checkin={"opens": "1h", "closes": "-1h"}), ["closes 必须晚于 opens"], id="window-backwards"),
    pytest.param(_entry(when={"same_day_as": "nothing"}), ["same_day_as", "没有事项 'nothing'"], id="same-day-as-missing"),
    pytest.param(_entry(escalate_after="-1d"), ["escalate_after", "必须是正的时长", "不能为 0 或负数"],
                 id="escalation-before-the-close"),
    pytest.param(_entry(escalate_after="0d"), ["escalate_after", "必须是正的时长", "不能为 0 或负数"],
                 id="escalation-with-the-roll"),
    pytest.param("obligations: [1, 2]\n", ["缺少 obligations"], id="obligations-not-a-mapping"),
    pytest.param("obligations:\n  x: {name: [\n", ["不是有效的 YAML"], id="broken-yaml"),
])
def test_malformed_catalog_is_refused_naming_file_entry_and_problem(text, fragments):
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, "config/catalog.yaml")
    message = str(caught.value)
    assert "config/catalog.yaml" in message
    for fragment in fragments:
        assert fragment in message
    if "obligations:" in text and "theme_party_day" in text:
        assert "条目 theme_party_day" in message


def test_unquoted_clock_times_are_read_as_times_not_sexagesimal_numbers():
    text = re.sub(r"time: .*", "time: 15:00", _entry())
    assert "time: 15:00\n" in text
    catalog = parse_catalog(text, "catalog.yaml")
    assert catalog["theme_party_day"].time == time(15, 0)


def test_override_replaces_fields_and_inherits_down_the_tree():
    catalog = parse_catalog(SHIPPED, "catalog.yaml")
    catalog = parse_override(catalog, "D01", "theme_party_day:\n  when: {weekday: friday, nth: last}\n", "D01.yaml")
    catalog = parse_override(catalog, "B02", "theme_party_day:\n  when: {day: 10}\n  time: '14:00'\n", "B02.yaml")
    under_d01 = catalog.for_org(["D01", "B01"])["theme_party_day"]
    own = catalog.for_org(["D01", "B02"])["theme_party_day"]
    untouched = catalog.for_org(["D09", "B09"])["theme_party_day"]
    assert (under_d01.when.weekday, under_d01.when.nth, under_d01.time) == ("friday", -1, time(9))
    assert (own.when.day, own.time) == (10, time(14))
    assert untouched.when.day == 15
    assert catalog.for_org(["D01", "B01"])["study_day"] is catalog["study_day"]


@pytest.mark.parametrize(("text", "fragments"), [
    pytest.param("theme_party_dya:\n  when: {day: 10}\n", ["条目 theme_party_dya", "目录中没有这个事项"], id="misspelt-key"),
    pytest.param("theme_party_day:\n  when: {day: 0}\n", ["条目 theme_party_day", "day 应在 1 到 31 之间"], id="bad-day"),
    pytest.param("theme_party_day:\n  enabled: maybe\n", ["enabled（是否启用）"], id="bad-enabled"),
    pytest.param("theme_party_day: 10\n", ["应为要修改的字段"], id="not-a-mapping"),
    pytest.param("- theme_party_day\n", ["应为 事项键"], id="a-list"),
    pytest.param("theme_party_day:\n  escalate_after: 0m\n", ["条目 theme_party_day", "escalate_after", "不能为 0 或负数"],
                 id="escalation-with-the-roll"),
])
def test_malformed_override_is_refused_naming_its_file(text, fragments):
    catalog = parse_catalog(SHIPPED, "catalog.yaml")
    with pytest.raises(CatalogError) as caught:
        parse_override(catalog, "B01", text, "config/overrides/B01.yaml")
    message = str(caught.value)
    assert "config/overrides/B01.yaml" in message
    for fragment in fragments:
        assert fragment in message


OWN_MEETING = ("own_meeting:\n  name: 自定会议\n  kind: meeting\n  cadence: monthly\n  when: {day: 3}\n"
               "  applies_to: [党支部]\n  audience: all_members\n  escalate_after: 30d\n")


@pytest.mark.parametrize(("overrides", "longest"), [
    pytest.param({}, timedelta(days=7), id="shipped-catalog-the-rectification-week"),
    pytest.param({"B01": "theme_party_day:\n  escalate_after: 21d\n"}, timedelta(days=21),
                 id="an-override-lengthens-a-meeting-s-escalation"),
    pytest.param({"B01": "theme_party_day:\n  escalate_after: 12h\n"}, timedelta(days=7),
                 id="a-shorter-override-leaves-the-longest"),
    pytest.param({"D01": "theme_party_day:\n  time: '14:00'\n", "B01": OWN_MEETING}, timedelta(days=30),
                 id="an-organisation-s-own-entry-counts"),
])
def test_longest_escalate_after_over_entries_and_overrides(overrides, longest):
    catalog = parse_catalog(SHIPPED, "catalog.yaml")
    for code, text in overrides.items():
        catalog = parse_override(catalog, code, text, f"{code}.yaml")
    assert catalog.longest_escalate_after() == longest


def test_load_catalog_reads_override_files(tmp_path):
    (tmp_path / "catalog.yaml").write_text(SHIPPED, encoding="utf-8")
    (tmp_path / "overrides").mkdir()
    (tmp_path / "overrides" / "B01.yaml").write_text("weekly_study:\n  enabled: true\n", encoding="utf-8")
    catalog = load_catalog(tmp_path)
    assert catalog.for_org(["B01"])["weekly_study"].enabled is True
    assert catalog["weekly_study"].enabled is False


def test_missing_catalog_file_is_refused(tmp_path):
    with pytest.raises(CatalogError, match="找不到工作事项目录文件"):
        load_catalog(tmp_path)


def test_overrides_may_also_live_inline_in_the_catalog():
    text = SHIPPED + "\noverrides:\n  B01:\n    theme_party_day:\n      when: {day: 10}\n"
    catalog = parse_catalog(text, "catalog.yaml")
    assert catalog.for_org(["D01", "B01"])["theme_party_day"].when.day == 10
    assert catalog["theme_party_day"].when.day == 15
    with pytest.raises(CatalogError, match="catalog.yaml overrides.B01，条目 theme_party_day"):
        parse_catalog(text.replace("{day: 10}", "{day: 99}"), "catalog.yaml")
