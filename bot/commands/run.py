"""`branchbot run`: the bot and its scheduler with TELEGRAM_BOT_TOKEN; without one, the sandbox."""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import io
import importlib
import logging
import signal
import sys

from telegram.error import TelegramError

from bot import texts
from bot.runtime.sending import failure_text
from bot.settings import Settings

log = logging.getLogger(__name__)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.telegram_token:
        # Imported only here: the sandbox brings its web server, which `branchbot run` with a token never needs.
        sandbox = importlib.import_module("bot.commands.sandbox")
        return int(sandbox.run(args, settings) or 0)
    return run_bot(settings)


def run_bot(settings: Settings) -> int:
    from bot.clock import clock_starting
    from bot.runtime.app import serve, service_options
    from bot.runtime.logs import configure_logging, secrets_of

    configure_logging(secrets_of(settings.telegram_token))
    try:
        clock = clock_starting(settings.clock_start)
        options = service_options(settings)
    except ValueError as exc:
        print(texts.cli_error(exc), file=sys.stderr)
        return 2
    from bot.deployment import DeploymentSource, require_roster_match
    from bot.runtime.plan_source import CatalogPlan

    config = DeploymentSource(settings)  # DeploymentError: the CLI prints it, exit 2
    org_codes = roster_codes(settings.database_url)
    if org_codes is not None:
        require_roster_match(config.current(), org_codes)
    plan = CatalogPlan(config)

    # An operator's `kill -USR1 <pid>` prints every thread's stack to stderr (a stuck process explains itself).
    try:
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    except (io.UnsupportedOperation, ValueError):  # stderr is no file (embedded, captured): no stack dumps
        pass

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        return await serve(settings, clock, stop, options=options, plan=plan, config=config)

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:  # pragma: no cover - a second Ctrl-C during shutdown
        return 130
    except TelegramError as error:  # getMe or setWebhook at start: say which of the three it is, in one line
        log.error("branchbot run could not start: the Bot API call failed (%s)", type(error).__name__)
        print(texts.cli_error(failure_text(error, settings.telegram_api_base_url)), file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001 - through the redacting log: a raw traceback could show the token
        # (aiohttp names the whole request URL, /bot<token>/..., in some errors).
        log.exception("branchbot run stopped by an error")
        print(texts.cli_error(texts.CLI_BOT_STOPPED), file=sys.stderr)
        return 1


def roster_codes(database_url: str) -> set[str] | None:
    """The roster's organisation codes the configuration is checked against at start (`doctor` checks the same),
    or None while the database cannot say (unreachable, not initialised: `serve` waits for it and migrates)."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import command_transaction
    from storage.repositories.roster import organization_codes

    try:
        with command_transaction(database_url) as session:
            return organization_codes(session)
    except SQLAlchemyError:
        return None
