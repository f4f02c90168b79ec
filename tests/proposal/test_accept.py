"""Accepting a proposal: the override file gains exactly the accepted entries, validated, idempotent, comments kept;
the organisation's own entries are planned like catalog entries; the running bot notices the file."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.runtime.plan_source import CatalogPlan
from bot.deployment import DeploymentError, deployment_at, load_catalog, load_official_calendar
from schedules.catalog import CatalogError, parse_catalog, parse_override
from schedules.plan import build_plan
from schedules.roster import Organization, OrgType, Roster
from storage.errors import InvalidInput
from storage.services.proposals import plan_override_edit, propose_document, write_override

CONFIG = Path(__file__).resolve().parents[2] / "config"
PLAN = "支部2025年计划\n1.坚持每周一次常态化政治理论学习制度。\n2.扎实开展廉政家访活动。\n3.每月开展主题党日。\n"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target, ignore=shutil.ignore_patterns("demo"))
    return target


def proposal(config_dir: Path, text: str = PLAN, org: str = "B01"):  # noqa: ANN201
    return propose_document(deployment_at(config_dir), text.encode(), "plan.txt", org_code=org)


def test_accepting_writes_the_accepted_entries_and_shows_the_diff(config_dir: Path) -> None:
    edit = plan_override_edit(deployment_at(config_dir), "B01", proposal(config_dir))
    assert edit.before == ""
    assert edit.after == (
        "# B01 的覆盖：branchbot catalog accept 按年度计划写入，可手工修改（见 config/overrides/README.md）\n"
        "theme_party_day:\n"
        "  source: 支部2025年计划（3.）\n"
        "weekly_study:\n"
        "  enabled: true\n"
        "  source: 支部2025年计划（1.）\n"
        "integrity_home_visit:\n"
        "  name: 廉政家访\n"
        "  kind: task\n"
        "  enabled: true\n"
        "  cadence: yearly\n"
        "  when: {month: 12, day: 15}\n"
        "  time: \"09:00\"\n"
        "  applies_to: [党委, 党总支, 党支部]\n"
        "  audience: secretary\n"
        "  requires_confirmation: true\n"
        "  note: 由年度计划提出并经接受；日期和时刻为默认值，请按实际修改\n"
        "  source: 支部2025年计划（2.）\n"
    )
    assert edit.diff().splitlines()[:3] == [
        f"--- {edit.path}（原）", f"+++ {edit.path}（新）", "@@ -0,0 +1,18 @@"]
    write_override(edit)
    catalog = load_catalog(config_dir)
    entries = catalog.for_org(["D01", "B01"])
    assert entries["weekly_study"].enabled and entries["integrity_home_visit"].enabled
    assert "integrity_home_visit" not in catalog.for_org(["B02"])


def test_accepting_again_changes_nothing(config_dir: Path) -> None:
    write_override(plan_override_edit(deployment_at(config_dir), "B01", proposal(config_dir)))
    again = plan_override_edit(deployment_at(config_dir), "B01", proposal(config_dir))
    assert (again.changed, again.changes, again.diff()) == (False, {}, "")


def test_only_the_chosen_keys_are_written(config_dir: Path) -> None:
    edit = plan_override_edit(deployment_at(config_dir), "B01", proposal(config_dir), keys=["weekly_study"])
    assert edit.changes == {"weekly_study": {"enabled": True, "source": "支部2025年计划（1.）"}}


def test_the_organisations_own_words_and_comments_survive(config_dir: Path) -> None:
    path = config_dir / "overrides" / "B01.yaml"
    path.write_text("# 主题党日改在每月 10 日\ntheme_party_day:\n  when: {day: 10}  # 书记定的\n", encoding="utf-8")
    write_override(plan_override_edit(deployment_at(config_dir), "B01", proposal(config_dir), keys=["theme_party_day"]))
    assert path.read_text(encoding="utf-8") == (
        "# 主题党日改在每月 10 日\ntheme_party_day:\n  when: {day: 10}  # 书记定的\n  source: 支部2025年计划（3.）\n")


def test_a_secretarys_later_edit_of_an_own_entry_is_kept_when_accepting_again(config_dir: Path) -> None:
    write_override(plan_override_edit(deployment_at(config_dir), "B01", proposal(config_dir), keys=["integrity_home_visit"]))
    path = config_dir / "overrides" / "B01.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{month: 12, day: 15}", "{month: 3, day: 1}"),
                    encoding="utf-8")
    again = plan_override_edit(deployment_at(config_dir), "B01", proposal(config_dir), keys=["integrity_home_visit"])
    assert not again.changed
    assert load_catalog(config_dir).for_org(["B01"])["integrity_home_visit"].when.month == 3


def test_an_override_that_would_be_invalid_is_refused_before_writing(config_dir: Path) -> None:
    path = config_dir / "overrides" / "B01.yaml"
    path.write_text("weekly_study:\n  when: {weekday: someday}\n", encoding="utf-8")
    with pytest.raises(DeploymentError) as refused:
        plan_override_edit(deployment_at(config_dir), "B01", proposal(config_dir))
    assert "B01.yaml，条目 weekly_study" in str(refused.value)
    assert path.read_text(encoding="utf-8") == "weekly_study:\n  when: {weekday: someday}\n"


@pytest.mark.parametrize("plan, change", [
    pytest.param("计划\n1.每月10日为党员活动日。", {"theme_party_day": {"when": {"day": 10}, "source": "计划（1.）"}},
                 id="the plan's day of the month"),
    pytest.param("计划\n1.每年10月召开组织生活会。",
                 {"org_life_meeting": {"when": {"month": 10, "weekday": "wednesday", "nth": 2}, "source": "计划（1.）"}},
                 id="the plan's month, the catalog's day in it"),
    pytest.param("计划\n1.年中开展督导检查。", {"quarterly_supervision": {"source": "计划（1.）"}},
                 id="a different cadence is shown, not written"),
])
def test_the_plans_own_day_is_written_where_the_cadence_takes_it(config_dir: Path, plan: str, change: dict) -> None:
    edit = plan_override_edit(deployment_at(config_dir), "B01", proposal(config_dir, plan))
    assert edit.changes == change
    write_override(edit)
    load_catalog(config_dir)  # valid


@pytest.mark.parametrize("code", ["../B01", "B 01", ""])
def test_an_organisation_code_that_is_not_a_file_name_is_refused(config_dir: Path, code: str) -> None:
    with pytest.raises(InvalidInput):
        plan_override_edit(deployment_at(config_dir), code, proposal(config_dir))


def test_an_own_entry_must_say_what_it_is() -> None:
    catalog = parse_catalog((CONFIG / "catalog.yaml").read_text(encoding="utf-8"), "catalog.yaml")
    with pytest.raises(CatalogError) as refused:
        parse_override(catalog, "B01", {"home_visit": {"name": "廉政家访"}}, "B01.yaml")
    assert "组织自己的事项须写全 applies_to、audience、cadence、kind、name" in str(refused.value)
    with pytest.raises(CatalogError) as refused:
        parse_override(catalog, "B01", {"home_visit": {"name": "廉政家访", "kind": "task", "cadence": "monthly",
                                                       "applies_to": ["党支部"], "audience": "secretary"}}, "B01.yaml")
    assert "B01.yaml，条目 home_visit" in str(refused.value)  # monthly needs a day


def test_an_accepted_new_entry_is_planned(config_dir: Path) -> None:
    write_override(plan_override_edit(deployment_at(config_dir), "B01", proposal(config_dir), keys=["integrity_home_visit"]))
    catalog = load_catalog(config_dir)
    roster = Roster(organizations=(Organization("B01", "第一党支部", OrgType.BRANCH),), members=())
    plan = build_plan(catalog, roster, load_official_calendar(config_dir / "holidays"), 2025, ZoneInfo("Asia/Shanghai"))
    visits = [o for o in plan if o.obligation == "integrity_home_visit"]
    assert [(o.title, o.starts_at.date()) for o in visits] == [("廉政家访", date(2025, 12, 15))]


def test_the_running_bot_notices_the_written_override(config_dir: Path) -> None:
    plan = CatalogPlan.for_dir(config_dir, ZoneInfo("Asia/Shanghai"))
    roster = Roster(organizations=(Organization("B01", "第一党支部", OrgType.BRANCH),), members=())
    assert "weekly_study" not in plan.obligations_by_org(roster)["B01"]
    write_override(plan_override_edit(deployment_at(config_dir), "B01", proposal(config_dir)))
    assert plan.changed_on_disk()
    plan.reload()  # what Runtime.reconcile_if_changed does when the files changed
    assert {"weekly_study", "integrity_home_visit"} <= plan.obligations_by_org(roster)["B01"]
