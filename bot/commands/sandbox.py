"""`branchbot sandbox` (and `branchbot run` without a token): the whole bot on this machine, in a browser."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot import texts
from bot.settings import Settings


class OncePerMessage(logging.Filter):
    """Lets each distinct warning through once: a jump to the month's end must not repeat one line 50 times."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[tuple[str, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.getMessage())
        if key in self._seen:
            return False
        self._seen.add(key)
        return True


def configure_console_logging(secrets: list[str] | None = None) -> None:
    """Warnings and errors, readable, on stderr, through the token filter; the page is where the person looks."""
    from bot.runtime.logs import RedactingFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(secrets or []))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    handler.addFilter(OncePerMessage())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.sandbox.app import DEFAULT_PORT, SandboxOptions, SandboxStartError, serve_until_stopped

    from bot.runtime.logs import secrets_of

    configure_console_logging(secrets_of(settings.telegram_token))
    port = getattr(args, "port", None)
    options = SandboxOptions(
        port=DEFAULT_PORT if port is None else port,
        load_demo=not getattr(args, "no_demo", False),
    )
    try:
        return asyncio.run(serve_until_stopped(settings, options))
    except SandboxStartError as exc:
        print(texts.cli_error(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a second Ctrl-C while shutting down
        return 130
