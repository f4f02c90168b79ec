"""`branchbot doctor`: checks a deployment (database, token, webhook, catalog, calendar, zone, quiet hours) in Chinese."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.deployment import Deployment, DeploymentError, load_deployment
from bot.runtime.quiet_hours import QUIET_HOURS_ENV
from bot.settings import Settings
from schedules.calendar import OfficialCalendar

OK, ATTENTION, FAILED = "正常", "注意", "错误"


@dataclass(frozen=True)
class Finding:
    level: str  # OK, ATTENTION or FAILED
    topic: str
    text: str


def run(args: argparse.Namespace, settings: Settings) -> int:
    findings = diagnose(settings, offline=args.offline, now=datetime.now(timezone.utc))
    width = max(len(f.topic) for f in findings)
    for finding in findings:
        print(f"[{finding.level}] {finding.topic.ljust(width, '　')}  {finding.text}")
    problems = [f for f in findings if f.level != OK]
    if problems:
        print(f"共 {len(problems)} 项需要处理。")
        return 1
    print("全部检查通过。")
    return 0


def diagnose(settings: Settings, *, offline: bool, now: datetime) -> list[Finding]:
    """The checks of the deployment `settings` read (once, at start), as of `now` (one reading of the clock)."""
    local_now = now.astimezone(settings.timezone)
    findings = [_database(settings)]
    # Values the settings could not use (read leniently for doctor); quiet hours get their own line below.
    findings += [Finding(FAILED, "环境变量", message) for name, message in settings.problems
                 if name != QUIET_HOURS_ENV]
    roster_codes = _roster_codes(settings)
    try:
        deployment = load_deployment(settings)
    except DeploymentError as error:  # the loader's own lines (file, entry, problem) are the findings
        findings += [Finding(FAILED, "配置", problem) for problem in error.problems]
    else:
        findings += _catalog(deployment, roster_codes)
        findings += _calendar(deployment.calendar, local_now.date())
    findings.append(Finding(OK, "时区", f"{settings.timezone.key}（本地时间 {local_now:%Y-%m-%d %H:%M}）"))
    findings.append(_quiet_hours(settings))
    if offline:
        findings.append(Finding(OK, "令牌", "已跳过（--offline）：未检查令牌与 Webhook"))
    else:
        findings += asyncio.run(_telegram(settings))
    return findings


def _database(settings: Settings) -> Finding:
    from bot.cli import schema_refusal
    from storage.migrate import schema_status

    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    refusal = schema_refusal(settings.database_url)
    if refusal is not None:
        return Finding(FAILED, "数据库", refusal)
    status = schema_status(settings.database_url)
    return Finding(OK, "数据库", f"{shown} 可连接，结构版本 {status.current or '（未记录版本，表结构已存在）'}")


def _roster_codes(settings: Settings) -> set[str] | None:
    from storage.db import make_engine, make_session_factory, transaction
    from storage.repositories.roster import load_roster

    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            return {org.code for org in load_roster(session).organizations}
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def _catalog(deployment: Deployment, roster_codes: set[str] | None) -> list[Finding]:
    findings = [Finding(OK, "工作事项目录", f"{deployment.config_dir}：{len(deployment.catalog.obligations)} 项工作事项")]
    if roster_codes is not None:
        # The same lines `run` and `plan` refuse with: configuration naming organisations the roster lacks.
        for problem in deployment.roster_problems(roster_codes) if roster_codes else []:
            findings.append(Finding(FAILED, "单位配置", problem))
        if not roster_codes:
            findings.append(Finding(ATTENTION, "名册", "名册中还没有组织：请运行 branchbot roster import"))
    return findings


def _calendar(calendar: OfficialCalendar, today) -> list[Finding]:  # noqa: ANN001
    findings = []
    for year in (today.year, today.year + 1):
        if not calendar.knows(year):
            level = FAILED if year == today.year else ATTENTION
            findings.append(Finding(level, "节假日日历", f"{year} 年：未知。请按 config/holidays/README.md 提供 {year}.yaml"))
            continue
        source = calendar.source_of(year)
        if calendar.is_provisional(year):
            findings.append(Finding(ATTENTION, "节假日日历",
                                    f"{year} 年：暂定（仅按法定假日排期，调休未公布；请用 branchbot calendar import 导入国务院通知）"))
        elif source == "holidays":
            findings.append(Finding(ATTENTION, "节假日日历",
                                    f"{year} 年：暂定（holidays 软件包推算，国务院通知发布后请核对或提供 {year}.yaml）"))
        else:
            findings.append(Finding(OK, "节假日日历", f"{year} 年：正式（来源 {source}）"))
    return findings


def _quiet_hours(settings: Settings) -> Finding:
    """As the settings parsed them; a value they could not use is named with their message."""
    refused = [message for name, message in settings.problems if name == QUIET_HOURS_ENV]
    if refused:
        return Finding(FAILED, "免打扰时段", refused[0])
    quiet = settings.quiet_hours
    if quiet.start == quiet.end:
        return Finding(OK, "免打扰时段", "已关闭")
    return Finding(OK, "免打扰时段", f"{quiet.start:%H:%M}–{quiet.end:%H:%M}（其间的提醒顺延）")


async def _telegram(settings: Settings) -> list[Finding]:
    from telegram import Bot
    from telegram.error import TelegramError

    from bot.runtime.app import file_base_url
    from bot.runtime.sending import failure_text
    from bot.runtime.intake import webhook_options_from_env

    if not settings.telegram_token:
        return [Finding(ATTENTION, "令牌", "未设置 TELEGRAM_BOT_TOKEN：branchbot run 将启动沙盒")]
    kwargs = {}
    if settings.telegram_api_base_url:
        kwargs = {"base_url": settings.telegram_api_base_url,
                  "base_file_url": file_base_url(settings.telegram_api_base_url)}
    try:
        webhook = webhook_options_from_env(settings.environ)
    except ValueError as error:
        return [Finding(FAILED, "Webhook", str(error))]
    bot = Bot(settings.telegram_token, **kwargs)
    try:
        async with bot:
            me = await bot.get_me()
            info = await bot.get_webhook_info()
    except TelegramError as error:  # never error.message: PTB's names the token
        return [Finding(FAILED, "令牌", failure_text(error, settings.telegram_api_base_url))]
    findings = [Finding(OK, "令牌", f"@{me.username}（{me.first_name}）")]
    if webhook is None:
        if info.url:
            findings.append(Finding(FAILED, "Webhook", f"已设置 Webhook {info.url}，但本机配置为轮询：轮询会得到 409 冲突"))
        else:
            findings.append(Finding(OK, "Webhook", "未设置（轮询模式）"))
    elif info.url != webhook.url:
        findings.append(Finding(ATTENTION, "Webhook",
                                f"Telegram 记录的地址为 {info.url or '（无）'}，配置为 {webhook.url}：启动 branchbot run 后会重新设置"))
    elif info.last_error_message:
        findings.append(Finding(ATTENTION, "Webhook", f"{info.url}：最近一次投递失败：{info.last_error_message}"))
    else:
        findings.append(Finding(OK, "Webhook", f"{info.url}（待投递 {info.pending_update_count} 条）"))
    return findings
