"""Shared helpers for tests that run `branchbot ARGS…` in-process against the test database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.cli import main
from storage.db import make_engine


@pytest.fixture
def cli(db_url, monkeypatch, capsys):  # noqa: ANN001, ANN201
    """Runs `branchbot ARGS…` against the test database; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("BRANCHBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("BRANCHBOT_TIMEZONE", "Asia/Shanghai")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def row_count(db_url: str, table) -> int:  # noqa: ANN001
    """Rows in `table`, read through a fresh engine so nothing the CLI left open is reused."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(table))
    finally:
        engine.dispose()
