"""The deployment's configuration: one snapshot, read in one place, swapped whole when a file changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands.run import roster_codes
from bot.deployment import DeploymentError, DeploymentSource, deployment_at, require_roster_match
from bot.runtime.plan_source import CatalogPlan
from bot.settings import PROJECT_CONFIG_DIR, Settings
from storage.db import command_transaction
from storage.migrate import upgrade
from tests.runtime.factories import make_branch


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(PROJECT_CONFIG_DIR, config)
    return config


def write_override(config_dir: Path, text: str) -> None:
    (config_dir / "overrides" / "B01.yaml").write_text(text, encoding="utf-8")


def test_the_shipped_configuration_is_one_snapshot_of_every_part():
    deployment = deployment_at(PROJECT_CONFIG_DIR)
    assert (len(deployment.catalog.obligations), deployment.lexicon is not None, deployment.reports.branch_comparison,
            deployment.calendar.knows(2025)) == (28, True, frozenset(), True)


def test_an_edit_is_seen_by_every_reader_of_the_source_at_once(config_dir):
    ticks = Ticks()
    source = DeploymentSource(Settings(config_dir=config_dir), monotonic=ticks)
    plan = CatalogPlan(source)
    before = source.current()
    assert before.catalog.for_org(["B01"])["weekly_study"].enabled is False

    write_override(config_dir, "weekly_study:\n  enabled: true\n")
    assert source.current() is before  # looked at most every 2 s
    ticks.now = 2.0
    after = source.current()
    assert after is not before and after.catalog.for_org(["B01"])["weekly_study"].enabled is True
    # The runtime still notices: it planned with the old snapshot, and re-plans with the new one.
    assert plan.changed_on_disk() is True
    plan.reload()
    assert (plan.catalog is after.catalog, plan.changed_on_disk()) == (True, False)


def test_an_invalid_edit_keeps_the_previous_snapshot(config_dir, caplog):
    source = DeploymentSource.for_dir(config_dir, check_every=0)
    before = source.current()
    write_override(config_dir, "weekly_study:\n  when: {weekday: someday}\n")
    assert source.current() is before and source.refresh() is False
    assert [r.getMessage() for r in caplog.records if r.name == "bot.deployment"] == [
        "configuration changed but is invalid; keeping the previous one: 配置有误："
        f"{config_dir / 'overrides' / 'B01.yaml'}，条目 weekly_study，字段 when.weekday（星期）：取值 'someday' 无效，"
        "应为 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'",
    ]  # logged once, not at every look
    write_override(config_dir, "weekly_study:\n  enabled: true\n")
    assert source.refresh() is True and source.current().catalog.for_org(["B01"])["weekly_study"].enabled is True


def test_a_lazy_source_reads_nothing_until_asked(tmp_path):
    source = DeploymentSource.for_dir(tmp_path, lazy=True)  # no catalog here: only asking fails
    with pytest.raises(DeploymentError, match="找不到工作事项目录文件"):
        source.current()


def test_every_problem_is_listed_at_once(config_dir):
    (config_dir / "reports.yaml").write_text("branch_comparison: yes-please\n", encoding="utf-8")
    write_override(config_dir, "no_such_item:\n  enabled: true\n")
    with pytest.raises(DeploymentError) as refused:
        deployment_at(config_dir)
    assert len(refused.value.problems) == 2 and str(refused.value).startswith("配置有误：\n  - ")


SHIPPED_CATALOG = (PROJECT_CONFIG_DIR / "catalog.yaml").read_bytes()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(
    st.binary(max_size=400),
    st.builds(lambda cut, noise: SHIPPED_CATALOG[:cut] + noise + SHIPPED_CATALOG[cut:],
              st.integers(0, len(SHIPPED_CATALOG)), st.binary(min_size=1, max_size=12)),
    st.text(max_size=200).map(lambda t: t.encode("utf-8")),
), where=st.sampled_from(["catalog.yaml", "overrides/B01.yaml", "holidays/2026.yaml", "reports.yaml"]))
def test_any_bytes_in_any_file_are_read_or_refused_in_chinese(config_dir, data, where):
    target = config_dir / where
    before = target.read_bytes() if target.exists() else None
    target.write_bytes(data)
    try:
        deployment_at(config_dir)
    except DeploymentError as refused:  # anything else (a traceback) fails the test
        assert refused.problems and all(problem.startswith(str(target)) for problem in refused.problems)
    finally:
        if before is None:
            target.unlink()
        else:
            target.write_bytes(before)


@pytest.mark.parametrize(("codes", "problems"), [
    pytest.param(set(), [], id="before-the-first-import-nothing-is-refused"),
    pytest.param({"B01", "X98"}, ["overrides/X99.yaml：名册中没有组织 X99，这些覆盖不会生效（请改正文件名或先导入该组织）"],
                 id="an-override-for-an-organisation-the-roster-lacks"),
    pytest.param({"B01", "X99"}, ["reports.yaml，branch_comparison：名册中没有组织 X98"],
                 id="a-branch-comparison-for-an-organisation-the-roster-lacks"),
    pytest.param({"B01"}, ["overrides/X99.yaml：名册中没有组织 X99，这些覆盖不会生效（请改正文件名或先导入该组织）",
                           "reports.yaml，branch_comparison：名册中没有组织 X98"], id="both"),
    pytest.param({"B01", "X98", "X99"}, [], id="every-named-organisation-is-in-the-roster"),
])
def test_configuration_is_checked_against_the_roster_once_there_is_one(config_dir, codes, problems):
    (config_dir / "overrides" / "X99.yaml").write_text("theme_party_day:\n  when: {day: 10}\n", encoding="utf-8")
    (config_dir / "reports.yaml").write_text("branch_comparison: [B01, X98]\n", encoding="utf-8")
    deployment = deployment_at(config_dir)
    shown = [line.removeprefix(f"{config_dir}/") for line in deployment.roster_problems(codes)]
    assert shown == problems
    if problems:
        with pytest.raises(DeploymentError):
            require_roster_match(deployment, codes)
    else:
        require_roster_match(deployment, codes)


@pytest.mark.parametrize(("schema", "branches", "codes"), [
    pytest.param(False, (), None, id="not-initialised-cannot-say"),
    pytest.param(True, (), set(), id="initialised-empty-roster"),
    pytest.param(True, ("B01", "B02"), {"B01", "B02"}, id="the-roster-s-codes"),
])
def test_the_codes_run_and_doctor_check_the_configuration_against(db_url, schema, branches, codes):
    if schema:
        upgrade(db_url)
        with command_transaction(db_url) as session:
            for code in branches:
                make_branch(session, code, members=1, bound=False)
    assert roster_codes(db_url) == codes
