"""`branchbot catalog propose|accept` as a user runs them: the JSON contract, the table, the diff, exit codes."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot import texts
from storage import models
from tests.cli_runner import runner
from tests.proposal.plans import docx_bytes

CONFIG = Path(__file__).resolve().parents[2] / "config"
PLAN = "支部2025年计划\n一、学习\n1.坚持每周一次常态化政治理论学习制度。\n2.党员按月交纳党费。\n"


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target, ignore=shutil.ignore_patterns("demo"))
    monkeypatch.setenv("BRANCHBOT_CONFIG_DIR", str(target))
    monkeypatch.setenv("BRANCHBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'absent' / 'none.db'}")
    return target


@pytest.fixture
def run(capsys):  # noqa: ANN001, ANN201
    return runner(capsys)


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "计划.docx"
    path.write_bytes(docx_bytes(PLAN))
    return path


def test_propose_json_is_the_contract(run, config_dir, plan_file) -> None:  # noqa: ANN001
    code, out, _ = run("catalog", "propose", str(plan_file), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"title", "source", "org", "obligations", "new", "activities"}
    assert [(o["key"], o["name"], o["evidence"]) for o in data["obligations"]] == [
        ("weekly_study", "每周政治理论学习", [{"section": "1.", "quote": "坚持每周一次常态化政治理论学习制度。"}]),
        ("dues", "党费交纳", [{"section": "2.", "quote": "党员按月交纳党费。"}]),
    ]
    weekly = data["obligations"][0]
    assert (weekly["timing"], weekly["default_cadence"], weekly["agrees"], weekly["enabled"]) == (
        {"said": "每周", "cadence": "weekly", "month": None, "day": None}, "weekly", True, False)


def test_propose_table_reads_like_the_plan(run, config_dir, plan_file) -> None:  # noqa: ANN001
    code, out, _ = run("catalog", "propose", str(plan_file))
    assert (code, out) == (0, (
        "《支部2025年计划》：对应目录事项 2 项，目录中没有的经常性工作 0 项，一次性任务 0 项。\n"
        "\n"
        "一、对应目录事项\n"
        "  weekly_study  每周政治理论学习  条目：1.\n"
        "    计划中的时间：“每周”（每周）；目录默认：每周（一致）\n"
        "    本组织现在：未启用\n"
        "    依据〔1.〕坚持每周一次常态化政治理论学习制度。\n"
        "  dues  党费交纳  条目：2.\n"
        "    计划中的时间：“按月”（每月）；目录默认：每月（一致）\n"
        "    本组织现在：未启用\n"
        "    依据〔2.〕党员按月交纳党费。\n"
    ))


def test_propose_yaml_can_be_accepted(run, config_dir, plan_file, tmp_path) -> None:  # noqa: ANN001
    proposal = tmp_path / "proposal.yaml"
    assert run("catalog", "propose", str(plan_file), "--format", "yaml", "--output", str(proposal))[0] == 0
    code, out, _ = run("catalog", "accept", str(proposal), "--org", "B01", "--dry-run")
    assert code == 0
    assert out.endswith("（试运行，未写入 " + str(config_dir / "overrides" / "B01.yaml") + "：2 项）\n")
    assert "+weekly_study:\n+  enabled: true\n+  source: 支部2025年计划（1.）\n" in out
    assert not (config_dir / "overrides" / "B01.yaml").exists()


@pytest.mark.parametrize(("every", "said"), [
    pytest.param(timedelta(minutes=1), "1分钟", id="one-minute"),
    pytest.param(timedelta(seconds=90), "2分钟", id="part-minutes-round-up"),
    pytest.param(timedelta(seconds=20), "1分钟", id="under-a-minute"),
    pytest.param(timedelta(hours=1), "1小时", id="an-hour"),
])
def test_accept_and_calendar_import_say_how_soon_the_running_bot_follows(every, said) -> None:
    assert texts.override_written("B01.yaml", 2, every) == f"已写入 B01.yaml（2 项）；运行中的机器人会在{said}内按新的设置重新安排。"
    assert texts.notice_written("2026.yaml", every) == (
        f"已写入 2026.yaml；运行中的机器人会在{said}内按正式安排重新排期，并通知各支部书记。")


def test_accept_writes_once_and_then_has_nothing_to_do(run, config_dir, plan_file) -> None:  # noqa: ANN001
    code, out, err = run("catalog", "accept", str(plan_file), "--org", "B01", "--only", "dues")
    path = config_dir / "overrides" / "B01.yaml"
    assert code == 0
    assert out.splitlines()[-1] == f"已写入 {path}（1 项）；运行中的机器人会在1分钟内按新的设置重新安排。"
    assert "提示：无法读取名册" in err
    assert path.read_text(encoding="utf-8").endswith("dues:\n  enabled: true\n  source: 支部2025年计划（2.）\n")
    assert run("catalog", "accept", str(plan_file), "--org", "B01", "--only", "dues")[1] == f"无变化：{path} 已包含这份提议。\n"


@pytest.mark.parametrize("args, message", [
    pytest.param(["propose", "missing.docx"], "错误：找不到文件 missing.docx", id="no file"),
    pytest.param(["propose", "plan.xlsx"], "错误：不支持 .xlsx 文件", id="unsupported"),
    pytest.param(["accept", "plan.docx", "--org", "B01", "--only", "no_such"], "错误：提议中没有这些事项：no_such", id="unknown key"),
    pytest.param(["accept", "bad.json", "--org", "B01"], "不是 branchbot catalog propose 输出的提议文件", id="not a proposal"),
])
def test_bad_input_exits_2_with_the_reason(run, config_dir, plan_file, tmp_path, monkeypatch, args, message) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plan.xlsx").write_bytes(b"x")
    (tmp_path / "plan.docx").write_bytes(plan_file.read_bytes())
    (tmp_path / "bad.json").write_text('{"title": 1}', encoding="utf-8")
    code, _, err = run("catalog", *args)
    assert code == 2 and message in err


def test_propose_for_an_organisation_shows_what_it_has_enabled_now(run, config_dir, plan_file, engine, db_url,  # noqa: ANN001
                                                                  monkeypatch) -> None:
    with Session(engine) as session, session.begin():
        committee = models.Organization(code="D01", name="机关党委", type="党委")
        session.add(committee)
        session.flush()
        session.add(models.Organization(code="B01", name="第一党支部", type="党支部", parent_id=committee.id))
    monkeypatch.setenv("BRANCHBOT_DATABASE_URL", db_url)
    (config_dir / "overrides" / "D01.yaml").write_text("dues:\n  enabled: true\n", encoding="utf-8")
    code, out, _ = run("catalog", "propose", str(plan_file), "--org", "B01", "--format", "json")
    assert code == 0
    assert {o["key"]: o["enabled"] for o in json.loads(out)["obligations"]} == {"weekly_study": False, "dues": True}
    assert json.loads(out)["org"] == "B01"
    code, _, err = run("catalog", "propose", str(plan_file), "--org", "B99")
    assert (code, err) == (2, "错误：没有编码为 B99 的组织\n")
