"""`branchbot invite MEMBER_NO`: a one-time binding code and the t.me link that carries it."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import datetime, timezone

from telegram import Bot
from telegram.error import TelegramError

from bot import texts
from bot.keyboards import start_link
from bot.runtime.sending import failure_text
from bot.settings import Settings
from storage.db import command_transaction
from storage.errors import ServiceError
from storage.services import binding as binding_svc
from storage.services.permissions import system_operator

log = logging.getLogger(__name__)


def bot_username(settings: Settings) -> str | None:
    """The bot's @name from Telegram (getMe); None when there is no token or Telegram cannot be reached
    (then stderr says why, in one sentence without the token)."""
    if not settings.telegram_token:
        return None

    async def ask() -> str | None:
        kwargs = {"base_url": settings.telegram_api_base_url} if settings.telegram_api_base_url else {}
        async with Bot(settings.telegram_token, **kwargs) as bot:
            return bot.username

    try:
        return asyncio.run(ask())
    except (TelegramError, OSError) as error:
        log.info("getMe failed (%s)", type(error).__name__)
        print(texts.cli_note(failure_text(error, settings.telegram_api_base_url)), file=sys.stderr)
        return None


def run(args: argparse.Namespace, settings: Settings, *, now: datetime | None = None) -> int:
    try:
        with command_transaction(settings.database_url) as session:
            invite = binding_svc.create_invite(session, args.member_no, now or datetime.now(timezone.utc),
                                               days=args.days, created_by=system_operator())
    except ServiceError as refused:
        print(texts.cli_error(refused.message), file=sys.stderr)
        return 2
    username = bot_username(settings)
    link = start_link(username, invite.code) if username else None
    print(texts.invite_created(invite, link, settings.timezone))
    if link is None:
        print(texts.cli_invite_without_link(invite.code))
    return 0
