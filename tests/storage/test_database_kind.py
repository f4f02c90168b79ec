"""Which database this is: one rule (storage.db.is_sqlite) for a URL, a dialect, an engine, a connection, a session."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url

from storage.db import is_sqlite


@pytest.mark.parametrize(("url", "sqlite"), [
    pytest.param("sqlite:///branchbot.db", True, id="sqlite-file"),
    pytest.param("sqlite://", True, id="sqlite-memory"),
    pytest.param("sqlite+pysqlite:///b.db", True, id="sqlite-with-driver"),
    pytest.param("postgresql+psycopg://u@db/bot", False, id="postgresql-psycopg"),
    pytest.param("postgresql://u@db/bot", False, id="postgresql-bare"),
    pytest.param("sqlitex://host/db", False, id="only-the-backend-name-counts"),
])
def test_a_url_as_written_or_parsed(url, sqlite):
    assert (is_sqlite(url), is_sqlite(make_url(url))) == (sqlite, sqlite)


def test_everything_that_reaches_the_database_agrees(request, db_url, engine, session_factory):
    expected = request.node.callspec.params["db_url"] == "sqlite"  # the backend the fixture made
    with engine.connect() as connection, session_factory() as session:
        answers = [is_sqlite(target) for target in
                   (db_url, engine.url, engine.dialect, engine, connection, session_factory, session)]
    assert answers == [expected] * 7
