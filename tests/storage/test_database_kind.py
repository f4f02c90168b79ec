"""Which database this is and how it is named: one rule (storage.db.is_sqlite) for a URL, a dialect, an engine, a
connection, a session; one way (storage.db.shown_url) a URL is shown to people."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url

from storage.db import is_sqlite, shown_url


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


@pytest.mark.parametrize(("url", "shown"), [
    pytest.param("sqlite:///branchbot.db", "sqlite:///branchbot.db", id="sqlite-relative-path"),
    pytest.param("sqlite:////srv/branchbot/bot.db", "sqlite:////srv/branchbot/bot.db", id="sqlite-absolute-path"),
    pytest.param("sqlite://", "sqlite://", id="sqlite-memory"),
    pytest.param("postgresql+psycopg://bot@localhost/branchbot", "postgresql+psycopg://bot@localhost/branchbot",
                 id="postgresql-without-password"),
    pytest.param("postgresql+psycopg://bot:s3cret@db.example:6543/branchbot?sslmode=require",
                 "postgresql+psycopg://bot:***@db.example:6543/branchbot?sslmode=require",
                 id="postgresql-with-password-host-port-query"),
    pytest.param("postgresql://bot:p%40ss@127.0.0.1/branchbot", "postgresql://bot:***@127.0.0.1/branchbot",
                 id="password-with-an-escaped-at-sign"),
    pytest.param("postgresql://bot:s3cret@db:port/branchbot", "postgresql://bot:***@db:port/branchbot",
                 id="unparseable-port-still-hides-the-password"),
    pytest.param("postgresql//bot:s3cret@db/branchbot", "postgresql//bot:***@db/branchbot",
                 id="unparseable-still-hides-the-password"),
    pytest.param("bot:p@ss/w:rd@db/branchbot", "bot:***@db/branchbot", id="unparseable-without-scheme"),
    pytest.param("postgresql//bot@db/branchbot", "postgresql//bot@db/branchbot", id="unparseable-without-password"),
    pytest.param("not a url", "not a url", id="unparseable-shown-as-written"),
])
def test_a_url_is_shown_with_its_password_hidden(url, shown):
    assert shown_url(url) == shown


def test_a_parsed_url_is_shown_like_the_same_url_as_written():
    url = "postgresql+psycopg://bot:s3cret@db.example:6543/branchbot"
    assert shown_url(make_url(url)) == shown_url(url) == "postgresql+psycopg://bot:***@db.example:6543/branchbot"
