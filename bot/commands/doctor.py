"""`branchbot doctor`: checks a deployment (database, token, webhook, catalog, calendar, zone, quiet hours) in Chinese."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone

from bot import texts
from bot.deployment import Deployment, DeploymentError, load_deployment
from bot.runtime.quiet_hours import QUIET_HOURS_ENV
from bot.settings import Settings
from schedules.calendar import OfficialCalendar
from storage.db import shown_url

OK, ATTENTION, FAILED = texts.DOCTOR_OK, texts.DOCTOR_ATTENTION, texts.DOCTOR_FAILED


@dataclass(frozen=True)
class Finding:
    level: str  # OK, ATTENTION or FAILED
    topic: str
    text: str


def run(args: argparse.Namespace, settings: Settings) -> int:
    findings = diagnose(settings, offline=args.offline, now=datetime.now(timezone.utc))
    width = max(len(f.topic) for f in findings)
    for finding in findings:
        print(texts.doctor_line(finding.level, finding.topic, width, finding.text))
    problems = [f for f in findings if f.level != OK]
    if problems:
        print(texts.doctor_problems(len(problems)))
        return 1
    print(texts.DOCTOR_ALL_PASSED)
    return 0


def diagnose(settings: Settings, *, offline: bool, now: datetime) -> list[Finding]:
    """The checks of the deployment `settings` read (once, at start), as of `now` (one reading of the clock)."""
    local_now = now.astimezone(settings.timezone)
    findings = [_database(settings)]
    # Values the settings could not use (read leniently for doctor); quiet hours get their own line below.
    findings += [Finding(FAILED, texts.DOCTOR_ENVIRONMENT, message) for name, message in settings.problems
                 if name != QUIET_HOURS_ENV]
    from bot.commands.run import roster_codes  # what `run` checks the configuration against at start

    codes = roster_codes(settings.database_url)
    try:
        deployment = load_deployment(settings)
    except DeploymentError as error:  # the loader's own lines (file, entry, problem) are the findings
        findings += [Finding(FAILED, texts.DOCTOR_CONFIG, problem) for problem in error.problems]
    else:
        findings += _catalog(deployment, codes)
        findings += _calendar(deployment.calendar, local_now.date())
    findings.append(Finding(OK, texts.DOCTOR_ZONE, texts.doctor_zone(settings.timezone.key, local_now)))
    findings.append(_quiet_hours(settings))
    if offline:
        findings.append(Finding(OK, texts.DOCTOR_TOKEN, texts.DOCTOR_OFFLINE))
    else:
        findings += asyncio.run(_telegram(settings))
    return findings


def _database(settings: Settings) -> Finding:
    from bot.cli import schema_refusal
    from storage.migrate import schema_status

    shown = shown_url(settings.database_url)
    refusal = schema_refusal(settings.database_url)
    if refusal is not None:
        return Finding(FAILED, texts.DOCTOR_DATABASE, refusal)
    status = schema_status(settings.database_url)
    return Finding(OK, texts.DOCTOR_DATABASE, texts.doctor_database(shown, status.current))


def _catalog(deployment: Deployment, roster_codes: set[str] | None) -> list[Finding]:
    findings = [Finding(OK, texts.DOCTOR_CATALOG,
                        texts.doctor_catalog(deployment.config_dir, len(deployment.catalog.obligations)))]
    if roster_codes is not None:
        # The same lines `run` and `plan` refuse with: configuration naming organisations the roster lacks.
        for problem in deployment.roster_problems(roster_codes):
            findings.append(Finding(FAILED, texts.DOCTOR_ORG_CONFIG, problem))
        if not roster_codes:
            findings.append(Finding(ATTENTION, texts.DOCTOR_ROSTER, texts.DOCTOR_ROSTER_EMPTY))
    return findings


def _calendar(calendar: OfficialCalendar, today) -> list[Finding]:  # noqa: ANN001
    findings = []
    for year in (today.year, today.year + 1):
        if not calendar.knows(year):
            level = FAILED if year == today.year else ATTENTION
        else:
            level = ATTENTION if calendar.is_provisional(year) else OK
        findings.append(Finding(level, texts.DOCTOR_CALENDAR, texts.year_line(calendar, year)))
    return findings


def _quiet_hours(settings: Settings) -> Finding:
    """As the settings parsed them; a value they could not use is named with their message."""
    refused = [message for name, message in settings.problems if name == QUIET_HOURS_ENV]
    if refused:
        return Finding(FAILED, texts.DOCTOR_QUIET_HOURS, refused[0])
    quiet = settings.quiet_hours
    if quiet.start == quiet.end:
        return Finding(OK, texts.DOCTOR_QUIET_HOURS, texts.DOCTOR_QUIET_OFF)
    return Finding(OK, texts.DOCTOR_QUIET_HOURS, texts.doctor_quiet_hours(quiet.start, quiet.end))


async def _telegram(settings: Settings) -> list[Finding]:
    from telegram import Bot
    from telegram.error import TelegramError

    from bot.runtime.app import file_base_url
    from bot.runtime.sending import failure_text
    from bot.runtime.intake import webhook_options

    if not settings.telegram_token:
        return [Finding(ATTENTION, texts.DOCTOR_TOKEN, texts.DOCTOR_NO_TOKEN)]
    kwargs = {}
    if settings.telegram_api_base_url:
        kwargs = {"base_url": settings.telegram_api_base_url,
                  "base_file_url": file_base_url(settings.telegram_api_base_url)}
    try:
        webhook = webhook_options(settings)
    except ValueError as error:
        return [Finding(FAILED, texts.DOCTOR_WEBHOOK, str(error))]
    bot = Bot(settings.telegram_token, **kwargs)
    try:
        async with bot:
            me = await bot.get_me()
            info = await bot.get_webhook_info()
    except TelegramError as error:  # never error.message: PTB's names the token
        return [Finding(FAILED, texts.DOCTOR_TOKEN, failure_text(error, settings.telegram_api_base_url))]
    findings = [Finding(OK, texts.DOCTOR_TOKEN, texts.doctor_bot(me.username, me.first_name))]
    hook = texts.DOCTOR_WEBHOOK
    if webhook is None:
        if info.url:
            findings.append(Finding(FAILED, hook, texts.doctor_webhook_while_polling(info.url)))
        else:
            findings.append(Finding(OK, hook, texts.DOCTOR_POLLING))
    elif info.url != webhook.url:
        findings.append(Finding(ATTENTION, hook, texts.doctor_webhook_elsewhere(info.url, webhook.url)))
    elif info.last_error_message:
        findings.append(Finding(ATTENTION, hook, texts.doctor_webhook_failing(info.url, info.last_error_message)))
    else:
        findings.append(Finding(OK, hook, texts.doctor_webhook(info.url, info.pending_update_count)))
    return findings
