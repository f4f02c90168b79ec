"""Logging that never lets the bot token out, whoever logs it (PTB, httpx, aiohttp, us), for every command.

`branchbot` installs `install_cli_logging` at its entry (bot/cli.py), so every command's log lines pass the
redacting filter; `branchbot run` then switches to JSON lines (`configure_logging`), still through the filter.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TextIO

REDACTED = "<redacted>"
# A secret half shorter than this is not a real token (tests use such); replacing it would garble any text.
_MIN_SECRET = 8


def secrets_of(token: str | None) -> list[str]:
    """What must never be printed: the token, and its secret half (after the bot id, which is public)."""
    if not token:
        return []
    secrets = [token]
    _, _, secret = token.partition(":")
    if len(secret) >= _MIN_SECRET and secret != token:
        secrets.append(secret)
    return secrets


class RedactingFilter(logging.Filter):
    """Renders each record once and replaces every secret in the text (message, args and traceback)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first: the whole token goes before its secret half is looked for.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        record.exc_info = None  # the redacted text above replaces it
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_text:
            line["exc"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a test's capture, a redirected stream)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def _not_ptb(record: logging.LogRecord) -> bool:
    """PTB's own lines (e.g. "Can not load invalid JSON data" with a JSONDecodeError traceback for an HTML
    answer): a command reports each Bot API failure itself, in one sentence (bot.runtime.sending.failure_text)."""
    return not (record.name == "telegram" or record.name.startswith("telegram.")) or record.levelno >= logging.CRITICAL


def install_cli_logging(secrets: Iterable[str]) -> logging.Handler:
    """Every command's warnings and errors on stderr as plain lines, through the redacting filter.

    Added next to any handler already there (a test runner's), replacing only one this function installed
    before; the lines look like Python's last-resort output, so nothing changes for a user but the redaction.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_branchbot_cli", False)]:
        root.removeHandler(old)
    handler = _CurrentStderr()
    handler._branchbot_cli = True  # type: ignore[attr-defined]
    handler.setLevel(logging.WARNING)
    handler.addFilter(_not_ptb)
    handler.addFilter(RedactingFilter(secrets))
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
    for noisy in ("httpx", "apscheduler", "alembic"):  # httpx logs request URLs, which hold the token
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler


def configure_logging(secrets: Iterable[str], *, level: int = logging.INFO, stream: TextIO | None = None) -> logging.Handler:
    """One JSON-lines handler on the root logger, with the token filter on the handler (so it sees every record)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactingFilter(secrets))
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token: keep it at WARNING.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return handler
