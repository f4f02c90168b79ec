"""The matcher's rules one by one, each on the smallest sentence that shows it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.deployment import load_catalog, load_lexicon
from schedules.catalog import CatalogError, Override
from schedules.proposal.lexicon import build_lexicon, compile_term, name_terms
from schedules.proposal.match import offered_to, propose
from schedules.roster import OrgType
from schedules.proposal.segment import split_sentences

CONFIG = Path(__file__).resolve().parents[2] / "config"
CATALOG = load_catalog(CONFIG)
LEXICON = load_lexicon(CONFIG, CATALOG)


def keys_in(text: str) -> dict[str, list[str]]:
    proposal = propose(text, CATALOG.obligations, LEXICON)
    return {o.key: o.sections for o in proposal.obligations}


@pytest.mark.parametrize("text, keys", [
    pytest.param("1.认真落实“三会一课”制度。", ["committee_meeting", "group_meeting", "general_assembly", "party_lecture"],
                 id="三会一课 means the four meetings"),
    pytest.param("1.认真落实三会一课制度。", ["committee_meeting", "group_meeting", "general_assembly", "party_lecture"],
                 id="quotes are optional"),
    pytest.param("1.举行“七一”主题党日。", ["july_first"], id="七一主题党日 is not the monthly 主题党日"),
    pytest.param("1.开展“四有”主题党日活动。", ["theme_party_day"], id="四有 主题党日"),
    pytest.param("1.推行“3+X”政治生日。", ["political_birthday"], id="3+X 政治生日"),
    pytest.param("1.做好换届选举工作。", ["term_expiry"], id="换届选举"),
    pytest.param("1.落实谈心谈话制度，做到“六个必谈”。", ["heart_to_heart"], id="六个必谈"),
    pytest.param("1.逐项整改销号。", ["rectification"], id="整改 and 销号"),
    pytest.param("1.实行每月一提醒、每季一督导、半年一研究、全年一考核。",
                 ["monthly_reminder", "quarterly_supervision", "semiannual_review", "annual_assessment"],
                 id="the supervision cycle"),
    pytest.param("1.开展政治生日“五个一”：建立政治生日台账、开展一次谈心谈话、重温一次入党誓词。",
                 ["political_birthday"], id="a talk in the birthday checklist belongs to the birthday"),
    pytest.param("1.开展一次谈心谈话。", ["heart_to_heart"], id="the same words alone are a talk"),
    pytest.param("1.提高民主生活会质量。", [], id="民主生活会 is not 组织生活会"),
    pytest.param("1.选优配强党支部委员会。", [], id="the committee as a body is not its meeting"),
    pytest.param("1.扭转正风肃纪不力的局面。", [], id="扭转正 is no 转正"),
    pytest.param("1.每年从留存党费中划拨经费。", [], id="留存党费 is not paying dues"),
    pytest.param("1.对督导检查中发现的问题建立台账。", [], id="the findings of an inspection are not an inspection"),
    pytest.param("1.坚持集中学习和自主学习相结合。", [], id="集中学习 alone is not the study day"),
    pytest.param("1.对新任职干部进行廉政谈话。", [], id="廉政谈话 on appointment is no holiday reminder"),
    pytest.param("1.重要节日前开展廉政提醒。", ["holiday_integrity_reminder"], id="重要节日 reminders"),
    pytest.param("1.落实意识形态工作责任制。", [], id="the responsibility system alone is not the report"),
    pytest.param("1.年终向党总支报告意识形态工作。", ["ideology_report"], id="the report is"),
    pytest.param("1.每半年向党委报告一次意识形态工作情况。", ["ideology_report"], id="a report in other words"),
    pytest.param("1.加强讲座、报告会等意识形态工作阵地建设。", [], id="报告会 is a lecture"),
    pytest.param("1.在元旦、春节等重要节日和敏感节点开展廉政谈话。", ["holiday_integrity_reminder"],
                 id="holiday talks with words in between"),
    pytest.param("1.每季度开展一次党建工作督查。", ["quarterly_supervision"], id="督查 each quarter"),
    pytest.param("1.每半年召开一次党建工作专题会议。", ["semiannual_review"], id="the half-year meeting"),
])
def test_which_keys_a_sentence_asks_for(text: str, keys: list[str]) -> None:
    assert sorted(keys_in(text)) == sorted(keys)


@pytest.mark.parametrize("text, key, said, agrees", [
    pytest.param("1.每季度对“学习强国”进行一次通报。", "xuexi_qiangguo_report", "每季度", True,
                 id="a time before the term"),
    pytest.param("1.“学习强国”情况每季度通报。", "xuexi_qiangguo_report", None, None,
                 id="the term needs its verb: 通报 after the time is not the term"),
    pytest.param("1.支部党员大会每月召开一次。", "general_assembly", "每月", False, id="disagrees with quarterly"),
    pytest.param("1.每年6月开展廉政警示教育周活动。", "integrity_education_week", "每年6月", True, id="year and month"),
    pytest.param("1.10月召开组织生活会。", "org_life_meeting", "10月", False, id="a month against December"),
    pytest.param("1.十二月召开组织生活会。", "org_life_meeting", "十二月", True, id="a month in Chinese numerals"),
    pytest.param("1.坚持每月开展一天集中学习、“三会一课”和主题党日活动。", "theme_party_day", None, None,
                 id="a time does not jump over another term"),
])
def test_what_timing_belongs_to_which_term(text: str, key: str, said: str | None, agrees: bool | None) -> None:
    proposal = propose(text, CATALOG.obligations, LEXICON)
    entry = next((o for o in proposal.obligations if o.key == key), None)
    if said is None and entry is None:
        return
    assert entry is not None
    assert ((entry.timing.said if entry.timing else None), entry.agrees) == (said, agrees)


@pytest.mark.parametrize("text, activities", [
    pytest.param("1.7月开展党史知识竞赛。", [("7月", "开展党史知识竞赛")], id="a month"),
    pytest.param("1.7月1日前完成党员信息采集。", [("7月1日前", "完成党员信息采集")], id="a day of a month"),
    pytest.param("1.年底前完成支部换届。", [("年底前", "完成支部换届")], id="by year end, next to a dated key"),
    pytest.param("1.7月开展“七一”主题党日。", [], id="a date next to a recurring entry is its timing"),
    pytest.param("1.每月开展主题党日。", [], id="recurring is not one-off"),
    pytest.param("1.第三季度举办党务干部培训班。", [("第三季度", "举办党务干部培训班")], id="a quarter"),
    pytest.param("1.7月的情况另行通知。", [], id="a date without an action"),
])
def test_one_off_dated_tasks(text: str, activities: list[tuple[str, str]]) -> None:
    proposal = propose(text, CATALOG.obligations, LEXICON)
    assert [(a.when, a.title) for a in proposal.activities] == activities


@pytest.mark.parametrize("text, names", [
    pytest.param("1.每月召开一次党建工作例会。", [("党建工作例会", "monthly")], id="a recurring meeting the catalog lacks"),
    pytest.param("1.各党支部每半年分析研判一次意识形态形势。", [("分析研判意识形态形势", "semiannual")], id="every half year"),
    pytest.param("1.依托理论学习中心组开展学习。", [("理论学习中心组学习", "monthly")], id="a lexicon new item"),
    pytest.param("1.定期开展专题研究。", [], id="定期 is too vague to propose"),
    pytest.param("1.每月开展主题党日。", [], id="a catalog entry is not new"),
])
def test_recurring_items_the_catalog_lacks(text: str, names: list[tuple[str, str]]) -> None:
    proposal = propose(text, CATALOG.obligations, LEXICON)
    assert [(n.name, n.cadence) for n in proposal.new] == names


def test_a_key_the_organisation_does_not_have_is_not_proposed() -> None:
    entries = {k: v for k, v in CATALOG.obligations.items() if k != "dues"}
    proposal = propose("1.党员按月交纳党费。", entries, LEXICON)
    assert proposal.obligations == []


def test_enabled_now_is_the_organisations_state() -> None:
    catalog = CATALOG.with_override(Override("B01", {"dues": {"enabled": True}}, "B01.yaml"))
    text = "1.党员按月交纳党费。"
    assert [o.enabled for o in propose(text, CATALOG.obligations, LEXICON).obligations] == [False]
    assert [o.enabled for o in propose(text, catalog.for_org(["B01"]), LEXICON).obligations] == [True]


@pytest.mark.parametrize("text, sections", [
    pytest.param("计划\n一、总体\n1.甲。\n2.乙。", ["", "一、", "1.", "2."], id="numbered items after the title"),
    pytest.param("一、甲\n（一）子\n二、乙\n（一）子", ["一、", "一、（一）", "二、", "二、（一）"], id="repeated labels get their chapter"),
    pytest.param("一、甲\n一是学。二是做。", ["一、", "一、一是", "一、二是"], id="inline markers"),
    pytest.param("一、甲\n一是学。二是做好管理。一是优化。二是激活。", ["一、", "一、一是", "一、二是", "一、二是·一是", "一、二是·二是"],
                 id="a nested list under a heading-only marker"),
    pytest.param("一、甲\n1.统一要求。", ["一、", "1."], id="统一要求 is no marker"),
    pytest.param("一、甲\n3.7月开展竞赛。", ["一、", "3."], id="a date after the number"),
    pytest.param("第一部分 总结\n一、甲", ["第一部分", "一、"], id="parts"),
    pytest.param("1.总体\n1.1 学习。\n1.2 做。\n2.乙。", ["1.", "1.1", "1.2", "2."], id="decimal sub-items"),
    pytest.param("第一章 总则\n第一条 甲。\n第二条 乙。", ["第一章", "第一条", "第二条"], id="articles"),
    pytest.param("一、甲\n（1）学。\n（2）做。", ["一、", "（1）", "（2）"], id="numbers in brackets"),
    pytest.param("一、甲\n1.学。\n（1）读。\n2.做。\n（1）写。", ["一、", "1.", "1.（1）", "2.", "2.（1）"],
                 id="the nearest outer label that makes it one item"),
    pytest.param("一、甲\n1.学。一是读。二是写。", ["一、", "1.", "1.一是", "1.二是"], id="inline markers under an item"),
])
def test_segmentation_follows_the_plans_numbering(text: str, sections: list[str]) -> None:
    assert list(dict.fromkeys(s.section for s in split_sentences(text))) == sections


def test_a_pdf_wrap_inside_a_sentence_is_joined() -> None:
    text = "1.严格落实民主集中制，各级党组织书记带头落实制度，党组会议研究重大事项前先学习相关\n重要讲话精神。\n2.乙。"
    assert [s.text for s in split_sentences(text)] == [
        "严格落实民主集中制，各级党组织书记带头落实制度，党组会议研究重大事项前先学习相关重要讲话精神。", "乙。"]


@pytest.mark.parametrize("name, terms", [
    ("支部委员会会议（支委会）", ["支部委员会会议", "支委会"]),
    ("问题整改（销号管理）", ["问题整改", "销号管理"]),
    ("党课", ["党课"]),
])
def test_catalog_names_are_terms(name: str, terms: list[str]) -> None:
    assert name_terms(name) == terms


def test_quotes_in_a_term_match_any_quote_or_none() -> None:
    pattern = compile_term('"三会一课"')
    assert [bool(pattern.search(t)) for t in ("“三会一课”", "「三会一课」", "三会一课", "三会 一课")] == [True, True, True, False]


@pytest.mark.parametrize("change, problem", [
    pytest.param({"obligations": {"no_such_key": ["甲"]}}, "条目 no_such_key：目录中没有这个事项", id="unknown key"),
    pytest.param({"obligations": {"dues": ["re:(unclosed"]}}, "不是有效的正则表达式", id="bad pattern"),
    pytest.param({"new": [{"key": "dues", "name": "党费", "terms": ["党费"], "cadence": "monthly",
                           "audience": "all_members", "applies_to": ["党支部"]}]},
                 "目录中已有这个事项", id="a new item that is not new"),
    pytest.param({"cadences": [{"say": "每周", "cadence": "daily"}]}, "cadence", id="unknown cadence"),
])
def test_a_bad_lexicon_is_refused_with_the_entry_and_the_problem(change: dict, problem: str) -> None:
    import yaml

    data = yaml.safe_load((CONFIG / "proposal_lexicon.yaml").read_text(encoding="utf-8"))
    data.update(change)
    with pytest.raises(CatalogError) as refused:
        build_lexicon(CATALOG, data, "proposal_lexicon.yaml")
    assert problem in str(refused.value)


def test_a_new_synonym_needs_no_code() -> None:
    import yaml

    data = yaml.safe_load((CONFIG / "proposal_lexicon.yaml").read_text(encoding="utf-8"))
    data["obligations"]["theme_party_day"].append("支部活动日")
    lexicon = build_lexicon(CATALOG, data, "proposal_lexicon.yaml")
    assert [o.key for o in propose("1.每月开展支部活动日。", CATALOG.obligations, lexicon).obligations] == ["theme_party_day"]


@pytest.mark.parametrize("org_type, keys", [
    pytest.param(OrgType.COMMITTEE, ["group_meeting", "theme_party_day", "quarterly_supervision", "central_group_study"],
                 id="a 党委 is offered everything: its override applies below it"),
    pytest.param(OrgType.BRANCH, ["group_meeting", "theme_party_day"], id="a branch is not offered the 党委's own work"),
    pytest.param(OrgType.GROUP, ["group_meeting"], id="a 党小组 only its own"),
])
def test_what_is_offered_depends_on_where_the_organisation_sits(org_type: OrgType, keys: list[str]) -> None:
    text = "1.每月开展主题党日，开好党小组会。\n2.实行每季一督导。\n3.发挥理论学习中心组作用。"
    offered = offered_to(propose(text, CATALOG.obligations, LEXICON), org_type)
    assert [o.key for o in offered.obligations] + [n.key for n in offered.new] == keys
