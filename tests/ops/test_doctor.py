"""`branchbot doctor`: one Chinese line per check, and a non-zero exit when something needs attention."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.commands.doctor import ATTENTION, FAILED, OK, Finding, diagnose
from bot.settings import PROJECT_CONFIG_DIR, Settings

from loopback import BotApiServer
from storage.db import make_engine, make_session_factory, shown_url, transaction
from storage.migrate import head, upgrade
from tests.runtime.factories import make_branch

NOW = datetime(2025, 6, 1, 2, 0, tzinfo=timezone.utc)


def settings_for(url: str, server: BotApiServer | None = None, **environ: str) -> Settings:
    """The settings `branchbot doctor` reads (leniently) from an environment naming `url` and `server`."""
    base = {"BRANCHBOT_DATABASE_URL": url, "BRANCHBOT_CONFIG_DIR": str(PROJECT_CONFIG_DIR)}
    if server is not None:
        base |= {"TELEGRAM_BOT_TOKEN": server.token, "TELEGRAM_API_BASE_URL": server.base_url}
    return Settings.from_env(base | environ, lenient=True)


def test_a_healthy_polling_deployment_passes_every_check(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    with transaction(make_session_factory(engine)) as session:
        make_branch(session, "B01", members=2)
    engine.dispose()
    with BotApiServer() as server:
        findings = diagnose(settings_for(db_url, server), offline=False, now=NOW)
        bot_name = server.bot_user["first_name"]
        username = server.bot_username
    shown = shown_url(db_url)
    assert findings[0] == Finding(OK, "数据库", f"{shown} 可连接，结构版本 {head()}")
    assert findings[1:] == [
        Finding(OK, "工作事项目录", f"{PROJECT_CONFIG_DIR}：28 项工作事项"),
        Finding(OK, "节假日日历", "2025 年  正式（程序包 chinesecalendar）"),
        Finding(OK, "节假日日历", "2026 年  正式（程序包 chinesecalendar）"),
        Finding(OK, "时区", "Asia/Shanghai（本地时间 2025-06-01 10:00）"),
        Finding(OK, "免打扰时段", "22:00–08:00（其间的提醒顺延）"),
        Finding(OK, "令牌", f"@{username}（{bot_name}）"),
        Finding(OK, "Webhook", "未设置（轮询模式）"),
    ]


def test_problems_are_named_and_the_exit_is_non_zero(db_url, monkeypatch, capsys):
    with BotApiServer(allow_http_webhooks=True) as server:
        server.world.webhook = {"url": "https://bot.example.org/hook"}
        findings = diagnose(settings_for(db_url, server, BRANCHBOT_QUIET_HOURS="25:00-08:00"), offline=False,
                            now=datetime(2026, 12, 1, tzinfo=timezone.utc))
    levels = {(f.topic, f.level) for f in findings}
    assert ("数据库", FAILED) in levels
    assert ("节假日日历", ATTENTION) in levels  # 2027 is provisional: the notice is not in yet
    assert ("免打扰时段", FAILED) in levels
    assert Finding(FAILED, "Webhook", "已设置 Webhook https://bot.example.org/hook，但本机配置为轮询：轮询会得到 409 冲突") in findings

    from bot.cli import main

    monkeypatch.setenv("BRANCHBOT_DATABASE_URL", db_url)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["doctor", "--offline"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("[错误] 数据库") and "需要处理" in out.splitlines()[-1]


def test_the_day_checked_and_the_local_time_shown_are_one_reading_of_the_clock(db_url):
    """Half past midnight on New Year's Day in Shanghai (still 31 December in UTC): the calendar is checked for
    the local year and its next, and the time line shows that same moment."""
    findings = diagnose(settings_for(db_url), offline=True, now=datetime(2025, 12, 31, 16, 30, tzinfo=timezone.utc))
    assert [f.text.split("  ")[0] for f in findings if f.topic == "节假日日历"] == ["2026 年", "2027 年"]
    assert Finding(OK, "时区", "Asia/Shanghai（本地时间 2026-01-01 00:30）") in findings
