"""Deployment settings read from the environment at the edge, validated once."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    telegram_token: str | None = None
    telegram_api_base_url: str | None = None
    config_dir: Path = PROJECT_CONFIG_DIR
    timezone: ZoneInfo = ZoneInfo("Asia/Shanghai")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        zone_name = env.get("BRANCHBOT_TIMEZONE") or "Asia/Shanghai"
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(f"BRANCHBOT_TIMEZONE 无效：{zone_name!r} 不是已知的时区名（例如 Asia/Shanghai）") from exc
        config_dir = Path(env.get("BRANCHBOT_CONFIG_DIR") or PROJECT_CONFIG_DIR)
        return cls(
            database_url=env.get("BRANCHBOT_DATABASE_URL") or DEFAULT_DATABASE_URL,
            telegram_token=env.get("TELEGRAM_BOT_TOKEN") or None,
            telegram_api_base_url=env.get("TELEGRAM_API_BASE_URL") or None,
            config_dir=config_dir,
            timezone=zone,
        )
