"""Shared set-up for tests that run `branchbot ARGS…` in-process: the environment, a seeded database, a runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import upgrade
from tests.chat.world import World, build_world
from tests.runtime.factories import make_branch

Run = Callable[..., tuple[int, str, str]]


def point_cli_at(monkeypatch: pytest.MonkeyPatch, db_url: str, *, config_dir: Path | None = None) -> None:
    """The environment `branchbot` reads: this database, Shanghai, the default quiet hours, and the project's
    config (or `config_dir`)."""
    monkeypatch.setenv("BRANCHBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("BRANCHBOT_TIMEZONE", "Asia/Shanghai")
    monkeypatch.delenv("BRANCHBOT_QUIET_HOURS", raising=False)
    if config_dir is None:
        monkeypatch.delenv("BRANCHBOT_CONFIG_DIR", raising=False)
    else:
        monkeypatch.setenv("BRANCHBOT_CONFIG_DIR", str(config_dir))


def runner(capsys: pytest.CaptureFixture[str], *prefix: str) -> Run:
    """Runs `branchbot PREFIX… ARGS…`; returns (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*prefix, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """`branchbot` pointed at the (empty) test database; returns its URL."""
    point_cli_at(monkeypatch, db_url)
    return db_url


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """Runs `branchbot ARGS…` against the (empty) test database; returns (exit code, stdout, stderr)."""
    point_cli_at(monkeypatch, db_url)
    return runner(capsys)


@pytest.fixture
def cli_world(engine, db_url: str, session_factory, monkeypatch: pytest.MonkeyPatch) -> World:  # noqa: ANN001
    """The chat tests' world (tests.chat.world.build_world) in the database `branchbot` is pointed at."""
    point_cli_at(monkeypatch, db_url)
    with transaction(session_factory) as session:
        return build_world(session)


def migrated_with_branch(db_url: str, *, members: int) -> None:
    """The database at `db_url` migrated by Alembic, with one 党支部 B01 whose first member B01-1 is its 书记."""
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            make_branch(session, "B01", members=members)
    finally:
        engine.dispose()


def row_count(db_url: str, table) -> int:  # noqa: ANN001
    """Rows in `table`, read through a fresh engine so nothing the CLI left open is reused."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(table))
    finally:
        engine.dispose()
