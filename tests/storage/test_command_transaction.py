"""A command line run's one transaction (storage.db.command_transaction): all or nothing (a dry run: nothing), and no
engine left open."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

import storage.db
from storage.db import command_transaction, make_engine


class Refused(Exception):
    pass


@pytest.fixture
def scratch(db_url):
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE scratch (n INTEGER)"))
    yield engine
    engine.dispose()


@pytest.fixture
def disposed(monkeypatch) -> list[str]:
    """The engines command_transaction made and disposed of ('disposed' once each)."""
    seen: list[str] = []
    made = storage.db.make_engine

    def spying(url, **kwargs):  # noqa: ANN001, ANN003, ANN202
        engine = made(url, **kwargs)
        event.listen(engine, "engine_disposed", lambda _engine: seen.append("disposed"))
        return engine

    monkeypatch.setattr(storage.db, "make_engine", spying)
    return seen


def _insert_then(db_url: str, fail: bool, dry_run: bool) -> list[int]:
    """Inserts a row and returns what the transaction itself then sees, unless it fails first."""
    with command_transaction(db_url, dry_run=dry_run) as session:
        session.execute(text("INSERT INTO scratch (n) VALUES (1)"))
        if fail:
            raise Refused
        return list(session.scalars(text("SELECT n FROM scratch")))


@pytest.mark.parametrize(("fail", "dry_run", "rows"), [
    pytest.param(False, False, [1], id="finished-work-is-committed"),
    pytest.param(True, False, [], id="an-error-rolls-all-of-it-back"),
    pytest.param(False, True, [], id="a-dry-run-sees-its-work-and-keeps-none-of-it"),
    pytest.param(True, True, [], id="a-failed-dry-run-keeps-nothing-either"),
])
def test_all_or_nothing_and_the_engine_is_disposed(db_url, scratch, disposed, fail, dry_run, rows):
    if fail:
        with pytest.raises(Refused):
            _insert_then(db_url, fail, dry_run)
    else:
        assert _insert_then(db_url, fail, dry_run) == [1]
    with scratch.connect() as connection:
        assert list(connection.scalars(text("SELECT n FROM scratch"))) == rows
    assert disposed == ["disposed"]
