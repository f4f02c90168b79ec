"""The token is never printed (#18.2): every command, against a Bot API that rejects the token, answers HTML, or
is not there, says what is wrong in one Chinese sentence; stdout, stderr and the error log never hold the token
or its secret half."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from bot import texts
from bot.cli import main
from loopback import BotApiServer
from tests.cli_runner import point_cli_at
from tests.runtime.process import free_port

TOKEN = "7000000002:AAHostileSecretHalf-0123456789abcdef"
SECRET = TOKEN.partition(":")[2]
PLAN = "2026年党建工作要点\n一、每月召开一次支委会。\n"


@dataclass(frozen=True)
class Command:
    argv: list[str]
    exit_code: int | None = None  # None: whatever it is (only the output is checked)
    telegram: bool = False  # it calls the Bot API


# In order: later ones use what earlier ones made (schema, roster). "{dir}" is the test's directory. `sandbox`
# is left out: it serves until stopped, and never uses TELEGRAM_BOT_TOKEN (its Bot API is its own).
COMMANDS = {
    "init": Command(["init"], 0),
    "roster-import": Command(["roster", "import", "config/demo"], 0),
    "roster-export": Command(["roster", "export", "{dir}/export"], 0),
    "plan": Command(["plan", "--year", "2026", "--org", "B01", "--format", "json"], 0),
    "activity-add": Command(["activity", "add", "--org", "B01", "--title", "党课", "--at", "2026-03-20T15:00+08:00",
                                  "--now", "2026-03-10T09:00+08:00"], 0),
    "parse-time": Command(["parse-time", "下周三下午3点", "--now", "2026-03-10T09:00+08:00"], 0),
    "report": Command(["report", "attendance", "--org", "B01", "--format", "json"], 0),
    "roster-import-dry-run": Command(["roster", "import", "config/demo", "--dry-run"], 0),
    "rectification-add": Command(["rectification", "add", "--org", "B01", "--problem", "学习记录不全", "--source",
                                  "组织生活会", "--measures", "补齐记录", "--owner", "1003", "--deadline", "2026-12-31",
                                  "--by", "1002", "--now", "2026-03-10T09:00+08:00"], 0),
    "rectification-list": Command(["rectification", "list", "--org", "B01"], 0),
    "rectification-export": Command(["rectification", "export", "--org", "B01", "--output", "{dir}/整改.xlsx"], 0),
    "catalog-propose": Command(["catalog", "propose", "{dir}/plan.txt"], 0),
    "catalog-accept-dry-run": Command(["catalog", "accept", "{dir}/plan.txt", "--org", "B01", "--dry-run"], 0),
    "calendar-status": Command(["calendar", "status", "--from", "2025", "--to", "2026"], 0),
    "calendar-import": Command(["calendar", "import", "tests/fixtures/holiday_notices/2026.txt"], 0),
    "invite": Command(["invite", "1002"], 0, telegram=True),
    "doctor": Command(["doctor"], 1, telegram=True),
    "run": Command(["run"], 2, telegram=True),
}


@dataclass(frozen=True)
class Answer:
    """How the Bot API misbehaves, and the sentence every command that calls it must say."""

    fault: str  # "rejected" (another token), "html-200", "html-502", "unreachable"

    def sentence(self, address: str) -> str:
        if self.fault == "rejected":
            return texts.TELEGRAM_TOKEN_REJECTED
        if self.fault == "unreachable":
            return texts.telegram_unreachable(address)
        return texts.telegram_unexpected_answer(address)


ANSWERS = [pytest.param(Answer(fault), id=fault) for fault in ("rejected", "html-200", "html-502", "unreachable")]


@pytest.fixture
def root_logging():
    """`branchbot run` takes over the root logger, as a process does; give the test runner its handlers back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize("answer", ANSWERS)
def test_no_command_prints_the_token(answer: Answer, db_url, tmp_path, monkeypatch, capsys, root_logging):
    error_log = tmp_path / "errors.log"
    (tmp_path / "plan.txt").write_text(PLAN, encoding="utf-8")
    server = BotApiServer().start_in_thread()  # its own token: ours is rejected
    try:
        port = free_port() if answer.fault == "unreachable" else server.port
        if answer.fault.startswith("html"):
            server.faults.answer_html(status=int(answer.fault.removeprefix("html-")))
        point_cli_at(monkeypatch, db_url)
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", f"http://127.0.0.1:{port}/bot")
        monkeypatch.setenv("BRANCHBOT_ERROR_LOG", str(error_log))
        monkeypatch.setenv("BRANCHBOT_HEALTH_LISTEN", "")
        monkeypatch.delenv("BRANCHBOT_WEBHOOK_URL", raising=False)
        sentence = answer.sentence(f"http://127.0.0.1:{port}")
        outcomes, said, codes = {}, {}, {}
        for name, command in COMMANDS.items():
            code = main([part.replace("{dir}", str(tmp_path)) for part in command.argv])
            captured = capsys.readouterr()
            output = captured.out + captured.err
            outcomes[name] = (command.exit_code in (None, code), TOKEN in output, SECRET in output)
            said[name] = captured.err
            codes[name] = code
        wrong = {name: (codes[name], said[name]) for name, outcome in outcomes.items() if outcome != (True, False, False)}
        assert wrong == {}, "exit code as expected, neither the token nor its secret printed"
        logged = error_log.read_text(encoding="utf-8") if error_log.exists() else ""
        assert TOKEN not in logged and SECRET not in logged
        assert said["invite"] == f"注意：{sentence}\n"
        assert said["run"].splitlines()[-1] == f"错误：{sentence}"
        assert "Unclosed" not in said["run"]
    finally:
        server.stop_thread()


@pytest.mark.parametrize("answer", ANSWERS[:2])
def test_doctor_names_what_is_wrong_with_the_bot_api(answer: Answer, tmp_path, monkeypatch, capsys):
    server = BotApiServer().start_in_thread()
    try:
        if answer.fault.startswith("html"):
            server.faults.answer_html(status=200)
        monkeypatch.setenv("BRANCHBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'b.db'}")
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", server.base_url)
        monkeypatch.delenv("BRANCHBOT_WEBHOOK_URL", raising=False)
        main(["init"])
        capsys.readouterr()
        assert main(["doctor"]) == 1
        lines = capsys.readouterr().out.splitlines()
        token = [line.split(None, 2) for line in lines if line.startswith("[错误] 令牌")]
        assert token == [["[错误]", "令牌", answer.sentence(f"http://127.0.0.1:{server.port}")]]
    finally:
        server.stop_thread()


def test_an_unexpected_error_naming_the_secret_is_logged_redacted(tmp_path, monkeypatch, capsys):
    import bot.commands.parse_time as parse_time

    def broken(args, settings):  # noqa: ANN001, ANN202, ARG001 - stands in for any command's bug
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/getMe; secret {SECRET}")

    monkeypatch.setattr(parse_time, "run", broken)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("BRANCHBOT_ERROR_LOG", str(tmp_path / "errors.log"))
    assert main(["parse-time", "明天"]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"错误：意外错误（RuntimeError），未完成操作；详情已写入 {tmp_path / 'errors.log'}\n"
    logged = (tmp_path / "errors.log").read_text(encoding="utf-8")
    assert "RuntimeError: POST https://api.telegram.org/bot<redacted>/getMe; secret <redacted>" in logged
    assert SECRET not in logged
