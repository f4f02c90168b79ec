"""Hostile configuration files × every command that reads the configuration: one Chinese line, exit 2.

Each case writes one bad file into a copy of the shipped config/; every command then refuses with the one
message of `bot.deployment` (the file, the entry or line, the problem), before doing anything, and never with a
traceback. `doctor` lists the same line among its findings (its own contract: exit 1).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import PROJECT_CONFIG_DIR
from tests.cli_runner import migrated_with_branch, point_cli_at

NOW = "2026-03-02T10:00:00+08:00"
TOKEN = "123456:HOSTILE-CONFIG-TEST"
RANDOM_BYTES = bytes(range(256))[::-1] * 4  # starts 0xFF 0xFE …: no text at all

# (id, write the bad file into config/, the problem line as the loader words it for that config/)
Case = tuple[str, Callable[[Path], None], Callable[[Path], str]]


def _write(relative: str, data: bytes | str) -> Callable[[Path], None]:
    def write(config: Path) -> None:
        path = config / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return write


LEXICON = (PROJECT_CONFIG_DIR / "proposal_lexicon.yaml").read_text(encoding="utf-8")
HOLIDAY_2026 = (PROJECT_CONFIG_DIR / "holidays" / "TEMPLATE.yaml").read_text(encoding="utf-8")

CASES: list[Case] = [
    ("catalog-not-utf8", _write("catalog.yaml", "obligations:\n  x: {name: 党课}\n".encode("gb18030")),
     lambda c: f"{c / 'catalog.yaml'}：不是 UTF-8 编码的文本（第 26 个字节 0xB5 无法解码），请另存为 UTF-8"),
    ("catalog-random-bytes", _write("catalog.yaml", RANDOM_BYTES),
     lambda c: f"{c / 'catalog.yaml'}：不是 UTF-8 编码的文本（第 1 个字节 0xFF 无法解码），请另存为 UTF-8"),
    ("catalog-control-characters", _write("catalog.yaml", "obligations:\n  x\x00: 1\n"),
     lambda c: f"{c / 'catalog.yaml'}：含有不允许的字符（第 17 个字符，U+0000），不是文本格式的 YAML"),
    ("catalog-broken-yaml", _write("catalog.yaml", "obligations:\n  x: {name: [\n"),
     lambda c: f"{c / 'catalog.yaml'}，第 3 行：不是有效的 YAML（expected the node content, but found '<stream end>'）"),
    ("override-not-utf8", _write("overrides/B01.yaml", b"weekly_study:\n  enabled: \xff\n"),
     lambda c: f"{c / 'overrides' / 'B01.yaml'}：不是 UTF-8 编码的文本（第 26 个字节 0xFF 无法解码），请另存为 UTF-8"),
    ("override-unknown-entry-field", _write("overrides/B01.yaml", "weekly_study:\n  when: {weekday: someday}\n"),
     lambda c: f"{c / 'overrides' / 'B01.yaml'}，条目 weekly_study，字段 when.weekday（星期）：取值 'someday' 无效，"
               "应为 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'"),
    ("holiday-month-13", _write("holidays/2026.yaml", HOLIDAY_2026.replace("2026-01-01", "2026-13-01", 1)),
     lambda c: f"{c / 'holidays' / '2026.yaml'}，第 {_line_of(HOLIDAY_2026, '2026-01-01')} 行：2026-13-01 不是有效的日期"),
    ("holiday-not-utf8", _write("holidays/2026.yaml", RANDOM_BYTES),
     lambda c: f"{c / 'holidays' / '2026.yaml'}：不是 UTF-8 编码的文本（第 1 个字节 0xFF 无法解码），请另存为 UTF-8"),
    ("reports-broken-yaml", _write("reports.yaml", "branch_comparison: [D01\n"),
     lambda c: f"{c / 'reports.yaml'}，第 2 行：不是有效的 YAML（expected ',' or ']', but got '<stream end>'）"),
    ("reports-wrong-shape", _write("reports.yaml", "branch_comparison: yes-please\n"),
     lambda c: f"{c / 'reports.yaml'}：branch_comparison 应为组织编码列表，例如 [D01, D02]"),
    ("lexicon-unknown-key", _write("proposal_lexicon.yaml", LEXICON.replace("obligations:\n", "obligations:\n  no_such_key: [某会]\n", 1)),
     lambda c: f"{c / 'proposal_lexicon.yaml'}，条目 no_such_key：目录中没有这个事项（可用：{_catalog_keys()}）"),
]


def _line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


def _catalog_keys() -> str:
    from bot.deployment import load_catalog

    return "、".join(load_catalog(PROJECT_CONFIG_DIR).keys)


def _plan_file(tmp: Path) -> str:
    path = tmp / "plan.txt"
    path.write_text("2026年党建工作计划\n1.每月召开支委会。\n", encoding="utf-8")
    return str(path)


COMMANDS: list[tuple[str, Callable[[Path], list[str]]]] = [
    ("plan", lambda tmp: ["plan", "--year", "2026"]),
    ("run", lambda tmp: ["run"]),
    ("sandbox", lambda tmp: ["sandbox", "--port", "0", "--no-demo"]),
    ("report", lambda tmp: ["report", "attendance", "--org", "B01", "--now", NOW]),
    ("activity", lambda tmp: ["activity", "add", "--org", "B01", "--title", "学习", "--at", "2026-03-05T15:00+08:00",
                              "--now", NOW]),
    ("parse-time", lambda tmp: ["parse-time", "明天上午9点", "--now", NOW]),
    ("calendar-status", lambda tmp: ["calendar", "status"]),
    ("catalog-propose", lambda tmp: ["catalog", "propose", _plan_file(tmp)]),
    ("catalog-accept", lambda tmp: ["catalog", "accept", _plan_file(tmp), "--org", "B01", "--dry-run"]),
]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    # The configuration is read before any database work: the file × command table needs one database only.
    return f"sqlite:///{tmp_path / 'branchbot.db'}"


def _deployment(db_url: str, tmp_path: Path, monkeypatch):  # noqa: ANN001, ANN202
    """A database with one branch (B01), a copy of config/, and the environment pointing at both."""
    migrated_with_branch(db_url, members=2)
    config = tmp_path / "config"
    shutil.copytree(PROJECT_CONFIG_DIR, config)
    point_cli_at(monkeypatch, db_url, config_dir=config)
    monkeypatch.setenv("BRANCHBOT_ERROR_LOG", str(tmp_path / "errors.log"))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # the sandbox's own database file lands here
    return config


@pytest.fixture(autouse=True)
def _keep_logging():  # noqa: ANN202
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level  # `run` and `sandbox` install their own log handlers
    yield
    root.handlers[:], root.level = handlers, level


@pytest.fixture
def deployment(sqlite_url, tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    return _deployment(sqlite_url, tmp_path, monkeypatch)


@pytest.fixture
def deployment_on_both_databases(db_url, tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    return _deployment(db_url, tmp_path, monkeypatch)


def _run(argv: list[str], monkeypatch, capsys) -> tuple[int, str, str]:  # noqa: ANN001
    if argv[0] == "run":
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9/bot")  # never reached
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("command", "argv"), [pytest.param(name, argv, id=name) for name, argv in COMMANDS])
@pytest.mark.parametrize(("case", "write", "problem"), [pytest.param(*case, id=case[0]) for case in CASES])
def test_a_hostile_file_is_refused_by_every_command_with_one_line(
    deployment, tmp_path, monkeypatch, capsys, case, write, problem, command, argv,  # noqa: ANN001
):
    write(deployment)
    code, out, err = _run(argv(tmp_path), monkeypatch, capsys)
    assert (code, out, err) == (2, "", f"错误：配置有误：{problem(deployment)}\n")
    assert not (tmp_path / "errors.log").exists()  # nothing unexpected happened: no traceback anywhere


@pytest.mark.parametrize(("case", "write", "problem"), [pytest.param(*case, id=case[0]) for case in CASES])
def test_doctor_lists_the_same_line(deployment, tmp_path, monkeypatch, capsys, case, write, problem):  # noqa: ANN001
    write(deployment)
    code, out, err = _run(["doctor", "--offline"], monkeypatch, capsys)
    findings = [line for line in out.splitlines() if line.startswith("[错误] 配置")]
    assert (code, err, [line.split("  ", 1)[1] for line in findings]) == (1, "", [problem(deployment)])


UNKNOWN_ORG = "X99"


def _unknown_org_line(config: Path) -> str:
    return f"{config / 'overrides' / 'X99.yaml'}：名册中没有组织 X99，这些覆盖不会生效（请改正文件名或先导入该组织）"


@pytest.mark.parametrize(("argv", "expected"), [
    pytest.param(["plan", "--year", "2026"], "refused", id="plan"),
    pytest.param(["run"], "refused", id="run"),
    pytest.param(["doctor", "--offline"], "listed", id="doctor"),
    pytest.param(["parse-time", "明天上午9点", "--now", NOW], "accepted", id="parse-time-has-no-roster"),
])
def test_an_override_for_an_organisation_the_roster_lacks(deployment_on_both_databases, monkeypatch, capsys,  # noqa: ANN001
                                                          argv, expected):
    deployment = deployment_on_both_databases
    _write("overrides/X99.yaml", "theme_party_day:\n  when: {day: 10}\n")(deployment)
    code, out, err = _run(argv, monkeypatch, capsys)
    if expected == "refused":
        assert (code, out, err) == (2, "", f"错误：配置有误：{_unknown_org_line(deployment)}\n")
    elif expected == "listed":
        findings = [line.split("  ", 1)[1] for line in out.splitlines() if line.startswith("[错误] 单位配置")]
        assert (code, err, findings) == (1, "", [_unknown_org_line(deployment)])
    else:
        assert (code, err) == (0, "")
