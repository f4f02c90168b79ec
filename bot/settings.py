"""Deployment settings: every environment variable read once, at the edge, into typed values, validated once."""

from __future__ import annotations

import importlib.util
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import texts
from bot.clock import CLOCK_START_ENV, parse_clock_start
from bot.runtime.quiet_hours import DEFAULT_QUIET_HOURS, NO_QUIET_HOURS, QUIET_HOURS_ENV, QuietHours
from storage.db import DEFAULT_DATABASE_URL, is_sqlite


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

# Runtime tuning held typed by `Settings` (the one reader of these variables; `bot.runtime.app.service_options`
# builds the runtime's options from the fields): checked here so a bad value is refused at start in Chinese,
# naming the variable.
@dataclass(frozen=True)
class NumberVariable:
    field: str  # the Settings field that holds it
    zero_ok: bool
    whole: bool = False  # counts something (a number of tasks at once)
    unit: Callable[[float], object] = float


def _days(value: float) -> timedelta:
    return timedelta(days=value)


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


NUMBER_VARIABLES = MappingProxyType({
    "BRANCHBOT_HORIZON_DAYS": NumberVariable("horizon", zero_ok=True, unit=_days),
    "BRANCHBOT_CONCURRENCY": NumberVariable("concurrency", zero_ok=False, whole=True, unit=int),
    "BRANCHBOT_CHAT_CONCURRENCY": NumberVariable("chat_concurrency", zero_ok=False, whole=True, unit=int),
    "BRANCHBOT_POLL_SECONDS": NumberVariable("poll_seconds", zero_ok=True),
    "BRANCHBOT_RECLAIM_AFTER_SECONDS": NumberVariable("reclaim_after", zero_ok=True, unit=_seconds),
    "BRANCHBOT_LEADER_RETRY_SECONDS": NumberVariable("leader_retry_seconds", zero_ok=True),
    "BRANCHBOT_LEADER_LEASE_SECONDS": NumberVariable("leader_lease", zero_ok=False, unit=_seconds),
    "BRANCHBOT_CHAT_DB_TIMEOUT_SECONDS": NumberVariable("chat_db_timeout", zero_ok=False),
    "BRANCHBOT_SEND_READ_TIMEOUT_SECONDS": NumberVariable("send_read_timeout", zero_ok=False),
    "BRANCHBOT_AMBIGUOUS_RETRY_SECONDS": NumberVariable("ambiguous_retry", zero_ok=True, unit=_seconds),
})
# The words every on/off variable takes (case and spaces aside), as (on, off) pairs; anything else is refused.
SWITCH_WORDS = (("on", "off"), ("1", "0"), ("true", "false"), ("yes", "no"))
ON_WORDS = frozenset(on for on, _ in SWITCH_WORDS)
OFF_WORDS = frozenset(off for _, off in SWITCH_WORDS)
# The on/off variables `Settings` holds: the field each fills (unset or blank: the field's default).
SWITCH_VARIABLES = MappingProxyType({
    "BRANCHBOT_RATE_LIMIT": "rate_limit",
    "BRANCHBOT_WEBHOOK_DELETE_ON_STOP": "webhook_delete_on_stop",
})
# BRANCHBOT_QUIET_HOURS is a window, not a switch, but its "off" is the same words (and "none", which it always took).
QUIET_HOURS_OFF_WORDS = OFF_WORDS | {"none"}


def read_switch(name: str, raw: str) -> bool:
    """An on/off variable's value: True for an ON_WORDS word, False for an OFF_WORDS one; ValueError naming the
    variable and the words otherwise."""
    word = raw.strip().lower()
    if word in ON_WORDS or word in OFF_WORDS:
        return word in ON_WORDS
    raise ValueError(texts.switch_variable_refusal(name, raw, SWITCH_WORDS))


def read_quiet_hours(raw: str) -> QuietHours:
    """BRANCHBOT_QUIET_HOURS: blank is the default window, an off word none, else a window ('22:00-08:00')."""
    text = raw.strip()
    if not text:
        return DEFAULT_QUIET_HOURS
    if text.lower() in QUIET_HOURS_OFF_WORDS:
        return NO_QUIET_HOURS
    return QuietHours.parse(text)


# Variables a typed field holds: left out of `Settings.environ`, so nothing can read them a second time.
TYPED_VARIABLES = frozenset({
    "BRANCHBOT_DATABASE_URL", "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "BRANCHBOT_CONFIG_DIR",
    "BRANCHBOT_TIMEZONE", QUIET_HOURS_ENV, CLOCK_START_ENV, "BRANCHBOT_ERROR_LOG", *NUMBER_VARIABLES,
    *SWITCH_VARIABLES,
})


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
    # The runtime's tuning (NUMBER_VARIABLES, SWITCH_VARIABLES); these defaults are the contract's.
    chat_db_timeout: float = 10.0
    horizon: timedelta = timedelta(days=60)
    concurrency: int = 8
    chat_concurrency: int | None = None  # None: by the database (`chat_updates_at_once`)
    poll_seconds: float = 30.0
    reclaim_after: timedelta = timedelta(seconds=120)
    leader_retry_seconds: float = 5.0
    leader_lease: timedelta = timedelta(seconds=20)
    send_read_timeout: float = 45.0
    ambiguous_retry: timedelta = timedelta(seconds=60)
    rate_limit: bool | None = None  # None: unset (on for `branchbot run`, off in the sandbox)
    webhook_delete_on_stop: bool = True  # off when several processes share the webhook
    # The rest of the environment as read once at start (webhook, health), parsed by the module that owns it,
    # never from os.environ; the variables a field above holds are not in it.
    environ: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    # (variable, Chinese message) for values that could not be used; only `lenient` readings keep them
    problems: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def chat_updates_at_once(self) -> int:
        """Chat updates handled at once (PTB's concurrent_updates, the reply transport's pool): BRANCHBOT_CHAT_CONCURRENCY,
        else by the database. On PostgreSQL 16, so more check-ins queue together and share a transaction
        (bench/bench_checkin.py: 0.27 commits per press against 0.44 at 8, CPU per press against the bare handler 0.44×
        against 0.42×, p99 no worse); SQLite has no group commit and runs its work on the event loop, where more
        updates at once only cost CPU."""
        if self.chat_concurrency is not None:
            return self.chat_concurrency
        return 8 if is_sqlite(self.database_url) else 16

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
            problems.append(("BRANCHBOT_TIMEZONE", texts.zone_variable_refusal("BRANCHBOT_TIMEZONE", zone_name)))
        try:
            quiet = read_quiet_hours(env.get(QUIET_HOURS_ENV) or "")
        except ValueError as exc:
            quiet = DEFAULT_QUIET_HOURS
            problems.append((QUIET_HOURS_ENV, str(exc)))
        try:
            clock_start = parse_clock_start(env.get(CLOCK_START_ENV))
        except ValueError as exc:
            clock_start = None
            problems.append((CLOCK_START_ENV, str(exc)))
        tuning: dict[str, object] = {}
        for name, variable in NUMBER_VARIABLES.items():
            raw = (env.get(name) or "").strip()
            if not raw:
                continue  # blank is unset, not a number to parse
            try:
                value = float(raw)
            except ValueError:
                value = None
            whole = not variable.whole or (value is not None and value.is_integer())
            if (value is None or not math.isfinite(value) or not whole or value < 0
                    or (value == 0 and not variable.zero_ok)):
                problems.append((name, texts.number_variable_refusal(name, raw, zero_ok=variable.zero_ok,
                                                                     whole=variable.whole)))
            else:
                tuning[variable.field] = variable.unit(value)
        for name, field_name in SWITCH_VARIABLES.items():
            raw = env.get(name) or ""
            if not raw.strip():
                continue  # blank is unset: the field's default
            try:
                tuning[field_name] = read_switch(name, raw)
            except ValueError as exc:
                problems.append((name, str(exc)))
        if problems and not lenient:
            raise SettingsError(texts.variable_refusals(message for _, message in problems))
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
            environ={name: value for name, value in env.items() if name not in TYPED_VARIABLES},
            **tuning,  # type: ignore[arg-type]
            problems=tuple(problems),
        )
