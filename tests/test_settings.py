"""Every environment variable is read once (bot.settings) into typed values; a bad one is one Chinese line, exit 2."""

from __future__ import annotations

import importlib
import re
from dataclasses import replace

from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from bot.cli import main
from bot.clock import ManualClock
from bot.runtime.app import build_application, service_options
from bot.runtime.intake import webhook_options
from bot.runtime.quiet_hours import DEFAULT_QUIET_HOURS, NO_QUIET_HOURS, QUIET_HOURS_ENV, QuietHours
from bot.settings import NUMBER_VARIABLES, SWITCH_VARIABLES, TYPED_VARIABLES, Settings, SettingsError


def test_every_value_is_typed_once():
    settings = Settings.from_env({
        "BRANCHBOT_QUIET_HOURS": "23:00-07:00", "BRANCHBOT_CLOCK_START": "2025-03-14T09:00:00+08:00",
        "BRANCHBOT_ERROR_LOG": "/tmp/x.log", "BRANCHBOT_CHAT_DB_TIMEOUT_SECONDS": "3.5", "BRANCHBOT_TIMEZONE": "UTC",
    })
    assert (settings.quiet_hours, settings.clock_start, settings.error_log, settings.chat_db_timeout,
            settings.timezone.key, settings.problems) == (
        QuietHours(time(23), time(7)), datetime(2025, 3, 14, 1, tzinfo=timezone.utc), Path("/tmp/x.log"), 3.5, "UTC", ())


BAD = [
    pytest.param("BRANCHBOT_TIMEZONE", "Mars/Olympus",
                 "BRANCHBOT_TIMEZONE 无效：'Mars/Olympus' 不是已知的时区名（例如 Asia/Shanghai）", id="zone"),
    pytest.param("BRANCHBOT_QUIET_HOURS", "25:00-08:00",
                 "免打扰时段“25:00-08:00”无法识别：应写作 22:00-08:00，或 off 表示不设", id="quiet-hours"),
    pytest.param("BRANCHBOT_QUIET_HOURS", "on", "免打扰时段“on”无法识别：应写作 22:00-08:00，或 off 表示不设",
                 id="quiet-hours-on-is-no-window"),
    pytest.param("BRANCHBOT_RATE_LIMIT", "maybe",
                 "BRANCHBOT_RATE_LIMIT 应为 on 或 off（也可写 1/0、true/false、yes/no），而不是 'maybe'",
                 id="rate-limit-unknown-word"),
    pytest.param("BRANCHBOT_WEBHOOK_DELETE_ON_STOP", "keep",
                 "BRANCHBOT_WEBHOOK_DELETE_ON_STOP 应为 on 或 off（也可写 1/0、true/false、yes/no），而不是 'keep'",
                 id="webhook-delete-unknown-word"),
    pytest.param("BRANCHBOT_CLOCK_START", "2025-03-14T09:00",
                 "BRANCHBOT_CLOCK_START 必须带时区偏移，例如 2025-03-14T09:00:00+08:00", id="naive-clock-start"),
    pytest.param("BRANCHBOT_CLOCK_START", "下周三",
                 "BRANCHBOT_CLOCK_START 无效：'下周三' 不是带时区的 ISO 8601 时间", id="clock-start-words"),
    pytest.param("BRANCHBOT_RECLAIM_AFTER_SECONDS", "-1",
                 "BRANCHBOT_RECLAIM_AFTER_SECONDS 应为不小于 0 的数，而不是 '-1'", id="reclaim-negative"),
    pytest.param("BRANCHBOT_CONCURRENCY", "2.5", "BRANCHBOT_CONCURRENCY 应为大于 0 的整数，而不是 '2.5'", id="concurrency"),
    pytest.param("BRANCHBOT_CHAT_CONCURRENCY", "0", "BRANCHBOT_CHAT_CONCURRENCY 应为大于 0 的整数，而不是 '0'",
                 id="chat-concurrency-zero"),
    pytest.param("BRANCHBOT_CHAT_CONCURRENCY", "1.5", "BRANCHBOT_CHAT_CONCURRENCY 应为大于 0 的整数，而不是 '1.5'",
                 id="chat-concurrency-fraction"),
    pytest.param("BRANCHBOT_LEADER_LEASE_SECONDS", "0",
                 "BRANCHBOT_LEADER_LEASE_SECONDS 应为大于 0 的数，而不是 '0'", id="lease-zero"),
    pytest.param("BRANCHBOT_HORIZON_DAYS", "sixty", "BRANCHBOT_HORIZON_DAYS 应为不小于 0 的数，而不是 'sixty'",
                 id="horizon-words"),
    pytest.param("BRANCHBOT_CHAT_DB_TIMEOUT_SECONDS", "nan",
                 "BRANCHBOT_CHAT_DB_TIMEOUT_SECONDS 应为大于 0 的数，而不是 'nan'", id="timeout-nan"),
    pytest.param("BRANCHBOT_POLL_SECONDS", "inf", "BRANCHBOT_POLL_SECONDS 应为不小于 0 的数，而不是 'inf'",
                 id="poll-infinite"),
    pytest.param("BRANCHBOT_SEND_READ_TIMEOUT_SECONDS", "0",
                 "BRANCHBOT_SEND_READ_TIMEOUT_SECONDS 应为大于 0 的数，而不是 '0'", id="send-read-timeout-zero"),
    pytest.param("BRANCHBOT_AMBIGUOUS_RETRY_SECONDS", "-5",
                 "BRANCHBOT_AMBIGUOUS_RETRY_SECONDS 应为不小于 0 的数，而不是 '-5'", id="ambiguous-retry-negative"),
]


@pytest.mark.parametrize(("environ", "sends", "chat"), [
    pytest.param({"BRANCHBOT_DATABASE_URL": "postgresql+psycopg://db/bot"}, 8, 16, id="postgresql-defaults"),
    pytest.param({"BRANCHBOT_DATABASE_URL": "sqlite:///bot.db"}, 8, 8, id="sqlite-defaults"),
    pytest.param({}, 8, 8, id="default-database-is-sqlite"),
    pytest.param({"BRANCHBOT_DATABASE_URL": "sqlite:///bot.db", "BRANCHBOT_CHAT_CONCURRENCY": "16"}, 8, 16,
                 id="sqlite-set"),
    pytest.param({"BRANCHBOT_DATABASE_URL": "postgresql+psycopg://db/bot", "BRANCHBOT_CONCURRENCY": "4",
                  "BRANCHBOT_CHAT_CONCURRENCY": "32"}, 4, 32, id="each-set-on-its-own"),
])
def test_sends_and_chat_updates_at_once_are_set_apart(environ, sends, chat):
    """The Application `branchbot run` and the sandbox build (build_application, as start_bot calls it) handles as
    many updates at once as the database allows unless BRANCHBOT_CHAT_CONCURRENCY says otherwise."""
    settings = Settings.from_env(environ | {"TELEGRAM_BOT_TOKEN": "123:TOKEN"})
    application = build_application(settings, ManualClock(datetime(2025, 3, 1, tzinfo=timezone.utc)))
    assert (service_options(settings).runtime.concurrency, application.update_processor.max_concurrent_updates) == (
        sends, chat)


# Each tuning variable, as the runtime receives it: (variable, value, where in ServiceOptions, what it holds).
TUNING = [
    pytest.param("BRANCHBOT_HORIZON_DAYS", "7", "runtime.horizon", timedelta(days=7), id="horizon"),
    pytest.param("BRANCHBOT_CONCURRENCY", "3", "runtime.concurrency", 3, id="concurrency"),
    pytest.param("BRANCHBOT_POLL_SECONDS", "0.5", "runtime.poll_seconds", 0.5, id="poll"),
    pytest.param("BRANCHBOT_RECLAIM_AFTER_SECONDS", "0", "runtime.reclaim_after", timedelta(0), id="reclaim"),
    pytest.param("BRANCHBOT_LEADER_RETRY_SECONDS", "2", "leader_retry_seconds", 2.0, id="leader-retry"),
    pytest.param("BRANCHBOT_LEADER_LEASE_SECONDS", "9", "lease", timedelta(seconds=9), id="lease"),
    pytest.param("BRANCHBOT_SEND_READ_TIMEOUT_SECONDS", "12", "runtime.sending.timeouts.read", 12.0,
                 id="send-read-timeout"),
    pytest.param("BRANCHBOT_AMBIGUOUS_RETRY_SECONDS", "0", "runtime.sending.ambiguous_pause", timedelta(0),
                 id="ambiguous-retry"),
]


def _at(options, path):
    for name in path.split("."):
        options = getattr(options, name)
    return options


@pytest.mark.parametrize(("name", "value", "path", "expected"), TUNING)
def test_the_runtime_takes_each_tuning_value_from_settings(name, value, path, expected):
    settings = Settings.from_env({name: value})
    assert (_at(service_options(settings), path), name in settings.environ) == (expected, False)


def test_every_tuning_variable_reaches_the_runtime():
    """The chat's two (its transaction timeout, its updates at once) reach the Application instead."""
    assert {param.values[0] for param in TUNING} | {"BRANCHBOT_CHAT_DB_TIMEOUT_SECONDS", "BRANCHBOT_CHAT_CONCURRENCY"} == {
        *NUMBER_VARIABLES}


WEBHOOK = {"BRANCHBOT_WEBHOOK_URL": "https://bot.example.org/hook", "BRANCHBOT_WEBHOOK_SECRET": "s3cret"}

# Each on/off variable as its reader receives it: (variable, what else it needs set, how it is read).
SWITCHES = [
    pytest.param("BRANCHBOT_RATE_LIMIT", {}, lambda settings: service_options(settings).runtime.limiter_enabled,
                 id="rate-limit"),
    pytest.param("BRANCHBOT_WEBHOOK_DELETE_ON_STOP", WEBHOOK, lambda settings: webhook_options(settings).delete_on_stop,
                 id="webhook-delete-on-stop"),
]
WORDS = [
    pytest.param("on", True, id="on"), pytest.param(" ON ", True, id="on-shouted-with-spaces"),
    pytest.param("1", True, id="one"), pytest.param("true", True, id="true"), pytest.param("Yes", True, id="yes"),
    pytest.param("off", False, id="off"), pytest.param("0", False, id="zero"),
    pytest.param("FALSE", False, id="false"), pytest.param("no", False, id="no"),
]


@pytest.mark.parametrize(("word", "value"), WORDS)
@pytest.mark.parametrize(("name", "needs", "read"), SWITCHES)
def test_every_on_off_variable_takes_the_same_words(name, needs, read, word, value):
    assert read(Settings.from_env(needs | {name: word})) is value


def test_every_on_off_variable_is_in_the_table():
    assert {param.values[0] for param in SWITCHES} == set(SWITCH_VARIABLES)


@pytest.mark.parametrize(("name", "needs", "read"), SWITCHES)
def test_an_unset_or_blank_on_off_variable_is_on(name, needs, read):
    """Both default to on: `branchbot run`'s limiter, deleteWebhook at stop."""
    assert (read(Settings.from_env(needs)), read(Settings.from_env(needs | {name: "  "}))) == (True, True)


@pytest.mark.parametrize(("value", "quiet"), [
    pytest.param("23:00-07:00", QuietHours(time(23), time(7)), id="window"),
    pytest.param("23:00–07:00", QuietHours(time(23), time(7)), id="window-with-en-dash"),
    pytest.param("off", NO_QUIET_HOURS, id="off"), pytest.param(" Off ", NO_QUIET_HOURS, id="off-shouted"),
    pytest.param("0", NO_QUIET_HOURS, id="zero"), pytest.param("false", NO_QUIET_HOURS, id="false"),
    pytest.param("no", NO_QUIET_HOURS, id="no"), pytest.param("none", NO_QUIET_HOURS, id="none"),
    pytest.param("", DEFAULT_QUIET_HOURS, id="empty"), pytest.param("  ", DEFAULT_QUIET_HOURS, id="blank"),
])
def test_quiet_hours_are_off_by_the_same_words_as_every_switch(value, quiet):
    assert Settings.from_env({QUIET_HOURS_ENV: value}).quiet_hours == quiet


def test_what_a_field_holds_is_not_left_in_the_environment_to_read_again():
    """Settings.environ keeps only what no field holds (the webhook's and the health server's variables)."""
    environ = {name: "1" for name in TYPED_VARIABLES} | {"BRANCHBOT_TIMEZONE": "UTC", "BRANCHBOT_QUIET_HOURS": "off",
                                                        "BRANCHBOT_CLOCK_START": "2025-03-14T09:00:00+08:00",
                                                        "BRANCHBOT_HEALTH_LISTEN": "127.0.0.1:9000"}
    assert Settings.from_env(environ).environ == {"BRANCHBOT_HEALTH_LISTEN": "127.0.0.1:9000"}


@pytest.mark.parametrize(("environ", "run", "sandbox"), [
    pytest.param({}, True, False, id="unset"),
    pytest.param({"BRANCHBOT_RATE_LIMIT": " OFF "}, False, False, id="off"),
    pytest.param({"BRANCHBOT_RATE_LIMIT": "on"}, True, True, id="on"),
])
def test_the_limiter_is_on_for_run_and_off_in_the_sandbox_unless_set(environ, run, sandbox):
    settings = Settings.from_env(environ)
    assert (service_options(settings).runtime.limiter_enabled,
            service_options(settings, limiter_default=False).runtime.limiter_enabled) == (run, sandbox)


@pytest.mark.parametrize("name", [*sorted(NUMBER_VARIABLES), *sorted(SWITCH_VARIABLES), QUIET_HOURS_ENV])
def test_a_blank_value_is_unset(name):
    """A variable set to spaces (an empty line in an env file) means the default, not a crash at start."""
    settings = Settings.from_env({name: "  "})
    assert settings == Settings.from_env({})
    blank, unset = service_options(settings), service_options(Settings.from_env({}))
    assert replace(blank, runtime=replace(blank.runtime, worker="")) == replace(unset, runtime=replace(unset.runtime, worker=""))


@pytest.mark.parametrize(("name", "value", "message"), BAD)
def test_a_bad_value_is_refused_naming_the_variable(name, value, message):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({name: value})
    assert str(refused.value) == message
    assert Settings.from_env({name: value}, lenient=True).problems == ((name, message),)


# Modules whose every sentence is worded in bot/texts.py; add a module here once its wording has moved there.
WORDED_IN_TEXTS = [
    "bot.settings", "bot.clock", "bot.cli", "bot.deployment", "bot.keyboards", "bot.runtime", "bot.sandbox",
    *(f"bot.sandbox.{name}" for name in ("app", "bot_runtime", "demo", "people", "timecontrol", "web")),
    "bot", "bot.callbacks", "bot.terminal", "bot.reports", "bot.reports.requirements", "bot.reports.settings",
    *(f"bot.runtime.{name}" for name in (
        "app", "dispatcher", "health", "intake", "jobs", "leader", "limiter", "logs", "loops", "materialise",
        "notify", "plan_source", "quiet_hours", "render", "replies", "sending", "service", "transport")),
    "bot.commands.activity", "bot.commands.calendar", "bot.commands.catalog", "bot.commands.doctor",
    "bot.commands.init", "bot.commands.invite", "bot.commands.leave", "bot.commands.parse_time", "bot.commands.plan",
    "bot.commands.rectification", "bot.commands.report", "bot.commands.roster", "bot.commands.run",
    "bot.commands.sandbox", "bot.handlers",
    *(f"bot.handlers.{name}" for name in (
        "buttons", "committee", "common", "group_cards", "group_commit", "members", "outbox_views",
        "proposals", "rectify", "reminders", "reports", "routing", "schedule", "secretary", "tasks",
        "unknown_command")),
]
# Chinese such a module may keep: vocabulary its own rule parses or names (input forms, units, column headers),
# not wording people read. Each entry is the start of the line, stripped.
VOCABULARY_LINES = {
    "bot.commands.activity": (
        "# Chinese units accepted in --remind",  # the units _CHINESE_UNITS reads
        "_CHINESE_UNITS = ",
        "\"\"\"'3d,1d,1h,30m' (or 3天、1小时、30分钟)",  # parse_leads' docstring: the input it reads
        "for part in re.split(r\"[,，、\\s]+\"",  # the separators --remind is split on
        "a range (\"下周三下午3点到5点\")",  # parse_at's docstring: the input it reads
    ),
    "bot.commands.report": ("\"\"\"A day written as the roster writes dates",),  # the date forms it parses
    "bot.commands.roster": ("# Per table: \"name\" is 组织名称",),  # the roster's column headers
    "bot.handlers.rectify": ("who, when, topic = args[0], (args[1] if len(args) > 1 else \"今天\")",),  # /talk's day
}


@pytest.mark.parametrize("name", WORDED_IN_TEXTS)
def test_what_reads_the_environment_holds_no_sentence_of_its_own(name):
    """What a bad variable (or `--now`) is refused with is worded in bot/texts.py (one home for every sentence people
    read): the modules that read them hold no Chinese, nor do the others listed in WORDED_IN_TEXTS (the CLI's help,
    the commands, the chat handlers), vocabulary aside (VOCABULARY_LINES)."""
    source = Path(importlib.import_module(name).__file__).read_text(encoding="utf-8")
    allowed = VOCABULARY_LINES.get(name, ())
    assert [line for line in source.splitlines() if re.search(r"[\u3000-\u9fff\uff00-\uffef]", line)
            and not line.strip().startswith(allowed)] == []


@pytest.mark.parametrize(("name", "value", "message"), BAD)
def test_every_command_refuses_it_before_anything_else(name, value, message, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("BRANCHBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    assert main(["parse-time", "明天上午9点"]) == 2
    assert capsys.readouterr() == ("", f"错误：{message}\n")
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize(("name", "value", "message"), [
    pytest.param("BRANCHBOT_CONCURRENCY", "2.5", "BRANCHBOT_CONCURRENCY 应为大于 0 的整数，而不是 '2.5'", id="number"),
    pytest.param("BRANCHBOT_RATE_LIMIT", "maybe",
                 "BRANCHBOT_RATE_LIMIT 应为 on 或 off（也可写 1/0、true/false、yes/no），而不是 'maybe'", id="on-off"),
])
def test_doctor_lists_a_bad_value_instead_of_refusing(name, value, message, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("BRANCHBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    assert main(["doctor", "--offline"]) == 1
    findings = [line.split("  ", 1)[1] for line in capsys.readouterr().out.splitlines() if line.startswith("[错误] 环境变量")]
    assert findings == [message]
