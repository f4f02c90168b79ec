"""One `--now` rule for every command that has it (bot.clock.parse_now_option).

ISO 8601 with an offset is that instant; without one it is wall-clock time in the organisation's zone; anything
else is refused with one Chinese line and exit 2, before the command does anything.
"""

from __future__ import annotations

import argparse
import json

import pytest

from bot.cli import main
from tests.cli_runner import cli_env, migrated_with_branch  # noqa: F401  (cli_env is a fixture)

# Every command with --now, with the rest of a valid command line.
COMMANDS = {
    "parse-time": ["parse-time", "明天上午9点"],
    "activity add": ["activity", "add", "--org", "B01", "--title", "学习", "--at", "明天上午9点"],
    "report attendance": ["report", "attendance", "--org", "B01", "--format", "json"],
    "rectification add": ["rectification", "add", "--org", "B01", "--problem", "记录不全", "--source", "组织生活会",
                          "--measures", "补齐记录", "--owner", "B01-1", "--deadline", "本月底前", "--by", "B01-1"],
    "rectification list": ["rectification", "list", "--org", "B01"],
    "rectification close": ["rectification", "close", "1", "--evidence", "已补齐", "--by", "B01-1"],
    "rectification export": ["rectification", "export", "--org", "B01", "--output", "整改清单.xlsx"],
    "activity move": ["activity", "move", "1", "--at", "明天上午9点"],
    "activity cancel": ["activity", "cancel", "1"],
    "activity confirm": ["activity", "confirm", "1", "--held"],
    "activity record": ["activity", "record", "1", "--topic", "学习党章"],
    "activity proxy": ["activity", "proxy", "1", "B01-2"],
    "activity roll": ["activity", "roll", "1"],
    "leave approve": ["leave", "approve", "1", "B01-2"],
    "leave refuse": ["leave", "refuse", "1", "B01-2"],
}


def test_every_command_with_now_is_in_the_table():
    from bot.cli import build_parser

    def paths(parser, prefix=()):  # noqa: ANN001, ANN202
        for action in parser._actions:  # noqa: SLF001 - argparse keeps its tree here
            if action.option_strings == ["--now"]:
                yield " ".join(prefix)
            if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
                for name, sub in action.choices.items():
                    yield from paths(sub, (*prefix, name))

    assert sorted(paths(build_parser())) == sorted(COMMANDS)


@pytest.mark.parametrize("value", [
    pytest.param("上周一", id="words"),
    pytest.param("2025-13-01T10:00", id="month-13"),
    pytest.param("2025-03-03 25:00", id="hour-25"),
    pytest.param("", id="empty"),
    pytest.param("1741000000", id="a-unix-timestamp"),
])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_bad_now_is_one_chinese_line_and_exit_2(command, value, monkeypatch, capsys, tmp_path):  # noqa: ANN001
    monkeypatch.setenv("BRANCHBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")  # never opened
    assert main([*COMMANDS[command], "--now", value]) == 2
    assert capsys.readouterr() == ("", f"错误：--now “{value}”不是 ISO 8601 时间，例如 2025-03-03T10:00:00+08:00"
                                       "（不带时区偏移时按组织所在时区理解）\n")
    assert not (tmp_path / "none.db").exists()


@pytest.fixture
def roster(cli_env, monkeypatch, tmp_path):  # noqa: ANN001, ANN201
    migrated_with_branch(cli_env, members=2)  # B01-1 is its 书记
    monkeypatch.chdir(tmp_path)


# 23:30 on 3 March in Shanghai is 15:30 UTC: read as UTC it would be 4 March 07:30 local, and "tomorrow" the 5th.
NAIVE = "2025-03-03T23:30"


@pytest.mark.parametrize(("command", "check"), [
    pytest.param("parse-time", lambda out, err: out.splitlines()[0] == "2025-03-04T09:00:00+08:00", id="parse-time"),
    pytest.param("activity add",
                 lambda out, err: "时间理解为：明天（2025年3月4日 星期二）上午9点（09:00）" in out.splitlines(),
                 id="activity-add"),
    pytest.param("report attendance", lambda out, err: json.loads(out)["to"] == "2025-03-03", id="report-attendance"),
    pytest.param("rectification add", lambda out, err: out.startswith("已登记整改事项 #1：记录不全"), id="rectification-add"),
    pytest.param("rectification list", lambda out, err: out == "没有整改事项。\n", id="rectification-list"),
    pytest.param("rectification export", lambda out, err: err == "已写入整改清单 整改清单.xlsx（0 项）\n",
                 id="rectification-export"),
])
def test_a_naive_now_is_wall_clock_time_in_the_organisations_zone(roster, capsys, command, check):  # noqa: ANN001
    code = main([*COMMANDS[command], "--now", NAIVE])
    out, err = capsys.readouterr()
    assert code == 0 and check(out, err), (out, err)
