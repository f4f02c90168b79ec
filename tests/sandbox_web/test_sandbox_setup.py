"""Which database the sandbox uses (never production) and where its clock starts."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.sandbox.app import (
    SANDBOX_DATABASE_URL,
    SandboxOptions,
    SavedClock,
    choose_start,
    sandbox_database_url,
)
from bot.settings import Settings

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        pytest.param(None, SANDBOX_DATABASE_URL, id="unset-uses-its-own-file-not-branchbot-db"),
        pytest.param("sqlite:////tmp/try.db", "sqlite:////tmp/try.db", id="explicit-sqlite-is-used"),
        pytest.param("postgresql+psycopg://bot@db/prod", SANDBOX_DATABASE_URL, id="postgresql-is-never-touched"),
        pytest.param("postgresql://bot@db/prod", SANDBOX_DATABASE_URL, id="plain-postgresql-url-too"),
    ],
)
def test_sandbox_database_is_sqlite_and_never_production(configured: str | None, expected: str) -> None:
    env = {"BRANCHBOT_DATABASE_URL": configured} if configured else {}
    assert sandbox_database_url(Settings.from_env(env)) == expected


SAVED = datetime(2027, 1, 31, 15, 59, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("option", "env", "saved", "expected"),
    [
        pytest.param(None, {}, None, NOW, id="fresh-sandbox-starts-now"),
        pytest.param(None, {}, SAVED, SAVED, id="restart-continues-where-the-clock-was-moved-to"),
        pytest.param(None, {}, datetime(2020, 1, 1, tzinfo=timezone.utc), NOW, id="stale-saved-time-never-rewinds"),
        pytest.param(None, {"BRANCHBOT_CLOCK_START": "2025-03-14T09:00:00+08:00"}, SAVED,
                     datetime(2025, 3, 14, 1, 0, tzinfo=timezone.utc), id="environment-start-wins"),
        pytest.param(datetime(2025, 1, 1, tzinfo=timezone.utc), {"BRANCHBOT_CLOCK_START": "2025-03-14T09:00:00+08:00"},
                     SAVED, datetime(2025, 1, 1, tzinfo=timezone.utc), id="explicit-option-wins-over-all"),
    ],
)
def test_clock_start(option: datetime | None, env: dict, saved: datetime | None, expected: datetime) -> None:
    """The environment's start as `Settings` read it (a bad one is refused there, before the sandbox starts)."""
    configured = Settings.from_env(env).clock_start
    assert choose_start(SandboxOptions(clock_start=option), saved, configured, NOW) == expected


def test_saved_clock_round_trips_beside_the_database(tmp_path: Path) -> None:
    saved = SavedClock(tmp_path / "sandbox.db")
    assert saved.load() is None
    saved.save(SAVED)
    assert SavedClock(tmp_path / "sandbox.db").load() == SAVED
    assert (tmp_path / "sandbox.db.clock.json").exists()
