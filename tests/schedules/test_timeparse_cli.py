"""`branchbot parse-time TEXT [--now ISO]` prints the moment and the reading, or a Chinese reason and exit 2."""

from __future__ import annotations

import pytest
import time_machine

from bot.cli import main


@pytest.fixture(autouse=True)
def _shanghai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRANCHBOT_TIMEZONE", "Asia/Shanghai")


@pytest.mark.parametrize(
    ("argv", "stdout_lines"),
    [
        pytest.param(["parse-time", "下周三下午3点", "--now", "2025-03-03T10:00:00+08:00"],
                     ["2025-03-12T15:00:00+08:00", "理解为：下周三（2025年3月12日 星期三）下午3点（15:00）"], id="with offset"),
        pytest.param(["parse-time", "明天上午9点", "--now", "2025-03-03T10:00"],
                     ["2025-03-04T09:00:00+08:00", "理解为：明天（2025年3月4日 星期二）上午9点（09:00）"],
                     id="naive --now is in the configured zone"),
        pytest.param(["parse-time", "两小时后", "--now", "2025-03-03T02:00:00Z"],
                     ["2025-03-03T12:00:00+08:00", "理解为：两小时后（2025年3月3日 星期一 中午12点（12:00））"],
                     id="--now in UTC"),
        pytest.param(["parse-time", "tomorrow 9am", "--now", "2025-03-03T10:00"],
                     ["2025-03-04T09:00:00+08:00", "理解为：tomorrow 9am（2025年3月4日 星期二）上午9点（09:00）"], id="English"),
    ],
)
def test_prints_the_moment_and_the_reading(argv: list[str], stdout_lines: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == stdout_lines
    assert captured.err == ""


def test_zone_comes_from_settings(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BRANCHBOT_TIMEZONE", "Europe/Berlin")
    assert main(["parse-time", "明天下午3点", "--now", "2025-03-03T10:00"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "2025-03-04T15:00:00+01:00"


@pytest.mark.parametrize(
    ("text", "reason", "example"),
    [
        pytest.param("2月30日", "2025年2月30日不存在", "3月5日", id="impossible date"),
        pytest.param("25点", "25点不存在", "23:00", id="impossible hour"),
        pytest.param("昨天下午3点", "已经过去了", "明天上午9点", id="past"),
        pytest.param("随便什么时候", "看不懂", "下周三下午3点", id="unreadable"),
        pytest.param("3点", "不清楚是下午还是凌晨", "下午3点", id="ambiguous"),
    ],
)
def test_refuses_with_a_chinese_reason(text: str, reason: str, example: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse-time", text, "--now", "2025-03-03T10:00:00+08:00"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    first, second = captured.err.splitlines()
    assert first.startswith("无法确定时间：") and reason in first
    assert second.startswith("可以这样写：") and example in second


def test_bad_now_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse-time", "明天上午9点", "--now", "上周一"]) == 2
    assert "ISO 8601" in capsys.readouterr().err


def test_without_now_the_real_clock_is_used(capsys: pytest.CaptureFixture[str]) -> None:
    with time_machine.travel("2025-03-03T02:00:00Z", tick=False):
        assert main(["parse-time", "明天上午9点"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "2025-03-04T09:00:00+08:00"


@pytest.mark.parametrize(
    ("argv", "stdout_lines"),
    [
        pytest.param(["parse-time", "下周三下午3点到5点", "--now", "2025-03-03T10:00:00+08:00"],
                     ["2025-03-12T15:00:00+08:00", "2025-03-12T17:00:00+08:00",
                      "理解为：下周三（2025年3月12日 星期三）下午3点（15:00） 至 下午5点（17:00）"], id="a range prints its end second"),
        pytest.param(["parse-time", "清明节后第一个工作日上午9点", "--now", "2025-03-03T10:00:00+08:00"],
                     ["2025-04-07T09:00:00+08:00", "理解为：清明节后第一个工作日（2025年4月7日 星期一）上午9点（09:00）"],
                     id="the official calendar is passed in"),
        pytest.param(["parse-time", "本月底前", "--deadline", "--now", "2025-03-03T10:00:00+08:00"],
                     ["2025-03-31T23:59:59+08:00", "理解为：本月底（2025年3月31日 星期一）当天结束前"], id="deadline"),
        pytest.param(["parse-time", "国庆节前", "--deadline", "--now", "2025-03-03T10:00:00+08:00"],
                     ["2025-09-30T23:59:59+08:00", "理解为：国庆节前（2025年9月30日 星期二）当天结束前"], id="holiday deadline"),
    ],
)
def test_ranges_calendar_days_and_deadlines(argv: list[str], stdout_lines: list[str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert (captured.out.splitlines(), captured.err) == (stdout_lines, "")


def test_a_range_whose_end_is_before_its_start_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse-time", "明天下午5点到3点", "--now", "2025-03-03T10:00:00+08:00"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "无法确定时间：“明天下午5点到3点”的结束时间（2025年3月4日 星期二 下午3点（15:00））不晚于开始时间（下午5点（17:00）），请检查",
        "可以这样写：下午3点到5点、14:00-16:00、3月5日至7日",
    ]
