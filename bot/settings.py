"""Deployment settings: every environment variable read once, at the edge, into typed values, validated once."""

from __future__ import annotations

import importlib.util
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.clock import CLOCK_START_ENV, parse_clock_start
from bot.runtime.quiet_hours import DEFAULT_QUIET_HOURS, QUIET_HOURS_ENV, QuietHours, quiet_hours_from_env
from storage.db import DEFAULT_DATABASE_URL


def default_config_dir() -> Path:
    """The configuration shipped with the code: config/ beside a checkout, else the installed package data."""
    checkout = Path(__file__).resolve().parent.parent / "config"
    if (checkout / "catalog.yaml").is_file():
        return checkout
    spec = importlib.util.find_spec("branchbot_config")  # config/ installed by the wheel (setup.py)
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return checkout


PROJECT_CONFIG_DIR = default_config_dir()
# BRANCHBOT_TIMEZONE when unset or unusable (the contract's default); the runtime's own defaults use it too.
DEFAULT_TIMEZONE = ZoneInfo("Asia/Shanghai")

# Runtime tuning read by `branchbot run` (bot.runtime.app.options_from_env) from the snapshot below; checked
# here so a bad value is refused at start in Chinese, naming the variable. Name → allows zero.
NUMBER_VARIABLES = {
    "BRANCHBOT_HORIZON_DAYS": True,
    "BRANCHBOT_CONCURRENCY": False,
    "BRANCHBOT_CHAT_CONCURRENCY": False,
    "BRANCHBOT_POLL_SECONDS": True,
    "BRANCHBOT_RECLAIM_AFTER_SECONDS": True,
    "BRANCHBOT_LEADER_RETRY_SECONDS": True,
    "BRANCHBOT_LEADER_LEASE_SECONDS": False,
    "BRANCHBOT_CHAT_DB_TIMEOUT_SECONDS": False,
    "BRANCHBOT_SEND_READ_TIMEOUT_SECONDS": False,
    "BRANCHBOT_AMBIGUOUS_RETRY_SECONDS": True,
}

# Of those, the ones that count something (a number of tasks at once).
WHOLE_NUMBER_VARIABLES = frozenset({"BRANCHBOT_CONCURRENCY", "BRANCHBOT_CHAT_CONCURRENCY"})


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    telegram_token: str | None = None
    telegram_api_base_url: str | None = None
    config_dir: Path = PROJECT_CONFIG_DIR
    timezone: ZoneInfo = DEFAULT_TIMEZONE
    quiet_hours: QuietHours = DEFAULT_QUIET_HOURS
    clock_start: datetime | None = None  # testing/sandbox aid: `branchbot run`'s clock starts here
    error_log: Path | None = None  # None: branchbot-errors.log in the temp dir
    chat_db_timeout: float = 10.0
    # The environment as read once at start: the runtime's tuning (webhook, limits, leases, sending) is parsed
    # from this snapshot by the module that owns it, never from os.environ.
    environ: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    # (variable, Chinese message) for values that could not be used; only `lenient` readings keep them
    problems: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, lenient: bool = False) -> "Settings":
        """Reads every variable; a bad one raises SettingsError (all listed), or with `lenient` (doctor) keeps
        the default and records the problem."""
        env = dict(os.environ if environ is None else environ)
        problems: list[tuple[str, str]] = []

        zone_name = env.get("BRANCHBOT_TIMEZONE") or DEFAULT_TIMEZONE.key
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            zone = DEFAULT_TIMEZONE
            problems.append(("BRANCHBOT_TIMEZONE",
                             f"BRANCHBOT_TIMEZONE 无效：{zone_name!r} 不是已知的时区名（例如 Asia/Shanghai）"))
        try:
            quiet = quiet_hours_from_env(env)
        except ValueError as exc:
            quiet = DEFAULT_QUIET_HOURS
            problems.append((QUIET_HOURS_ENV, str(exc)))
        try:
            clock_start = parse_clock_start(env.get(CLOCK_START_ENV))
        except ValueError as exc:
            clock_start = None
            problems.append((CLOCK_START_ENV, str(exc)))
        for name, zero_ok in NUMBER_VARIABLES.items():
            raw = (env.get(name) or "").strip()
            if not raw:
                env.pop(name, None)  # blank is unset for every reader of the snapshot, not a number to parse
                continue
            try:
                value = float(raw)
            except ValueError:
                value = None
            whole = name not in WHOLE_NUMBER_VARIABLES or (value is not None and value.is_integer())
            if value is None or not math.isfinite(value) or not whole or value < 0 or (value == 0 and not zero_ok):
                bound = "不小于 0 " if zero_ok else "大于 0 "
                problems.append((name, f"{name} 应为{bound}的数，而不是 {raw!r}"))
                env.pop(name)
        if problems and not lenient:
            raise SettingsError("；".join(message for _, message in problems))
        error_log = env.get("BRANCHBOT_ERROR_LOG")
        return cls(
            database_url=env.get("BRANCHBOT_DATABASE_URL") or DEFAULT_DATABASE_URL,
            telegram_token=env.get("TELEGRAM_BOT_TOKEN") or None,
            telegram_api_base_url=env.get("TELEGRAM_API_BASE_URL") or None,
            config_dir=Path(env.get("BRANCHBOT_CONFIG_DIR") or PROJECT_CONFIG_DIR),
            timezone=zone,
            quiet_hours=quiet,
            clock_start=clock_start,
            error_log=Path(error_log) if error_log else None,
            chat_db_timeout=float(env.get("BRANCHBOT_CHAT_DB_TIMEOUT_SECONDS") or 10),
            environ=env,
            problems=tuple(problems),
        )
