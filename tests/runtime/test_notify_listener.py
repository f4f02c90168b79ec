"""The leader's LISTEN connection: hears other processes' notices, not its own; a reset link is survived and,
listening again, it wakes once for what it may have missed; on a frozen link it stops at once and notices the
freeze by its own check, sending nothing more through the link."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from bot.runtime.notify import OutboxListener
from loopback.tcpproxy import TcpProxy
from storage import changes
from storage.db import make_engine
from tests.ops.test_outages import through
from tests.runtime.waiting import until

def notify(url: str, notice: changes.Notice) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_notify(:c, :p)"), {"c": changes.CHANNEL, "p": notice.payload()})
    finally:
        engine.dispose()


OWN = changes.Notice("leader-1", 1, frozenset())
FOLLOWER = changes.Notice("follower-2", 0, frozenset({7}))
CLI = changes.Notice(None, 2, None)


async def test_hears_others_not_itself_and_listens_again_after_a_reset(pg_server_url: str) -> None:
    proxy = TcpProxy([(urlsplit(pg_server_url).hostname, urlsplit(pg_server_url).port or 5432)]).start()
    heard: list[changes.Notice | None] = []
    listener = OutboxListener(through(pg_server_url, proxy), heard.append, own_origin="leader-1",
                              retry_seconds=0.1, max_retry_seconds=0.5)
    task = listener.start()
    try:
        await until(lambda: listener.listening, "the first LISTEN")
        for notice in (OWN, FOLLOWER, CLI):
            await asyncio.to_thread(notify, pg_server_url, notice)
        await until(lambda: len(heard) >= 2, "two notices")
        assert heard == [FOLLOWER, CLI]

        proxy.reset()
        await until(lambda: not listener.listening, "the lost connection noticed")
        await asyncio.to_thread(notify, pg_server_url, FOLLOWER)  # committed while the leader was deaf
        proxy.heal()
        await until(lambda: listener.connects == 2, "LISTEN again")
        await asyncio.to_thread(notify, pg_server_url, CLI)
        await until(lambda: len(heard) >= 4, "the catch-up wake and the next notice")
        assert heard[2:] == [None, CLI]
        assert not task.done(), "a lost connection never ends the listener"
    finally:
        await listener.stop()
        proxy.stop()


@pytest.mark.parametrize(("check_seconds", "frozen_while"), [
    pytest.param(60.0, "waiting", id="frozen-while-waiting-for-notices"),
    pytest.param(0.05, "checking", id="frozen-while-its-liveness-check-is-in-flight"),
])
async def test_stops_at_once_on_a_frozen_link(pg_server_url: str, check_seconds: float, frozen_while: str) -> None:
    proxy = TcpProxy([(urlsplit(pg_server_url).hostname, urlsplit(pg_server_url).port or 5432)]).start()
    listener = OutboxListener(through(pg_server_url, proxy), lambda _notice: None, own_origin="leader-1",
                              check_seconds=check_seconds, check_timeout_seconds=60.0)
    task = listener.start()
    try:
        await until(lambda: listener.listening, "the first LISTEN")
        proxy.stall()
        if frozen_while == "checking":
            sent = listener.checks
            await until(lambda: listener.checks > sent, "a check sent on the frozen link")  # held by the proxy
        await listener.stop()
        assert task.done(), "the listener ended within its bounded stop, it was not left behind"
        assert not listener.listening
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        proxy.stop()


async def test_a_frozen_link_is_noticed_by_its_check_and_nothing_is_sent_through_it(pg_server_url: str) -> None:
    """The unanswered check ends the connection by closing it. psycopg's own cancel of the query would first ask
    the server to cancel it over a new connection through the same frozen path (5 s, then 5 s more): the proxy
    would see that connection."""
    proxy = TcpProxy([(urlsplit(pg_server_url).hostname, urlsplit(pg_server_url).port or 5432)]).start()
    listener = OutboxListener(through(pg_server_url, proxy), lambda _notice: None, own_origin="leader-1",
                              check_seconds=0.05, check_timeout_seconds=0.3, retry_seconds=60.0)
    task = listener.start()
    try:
        await until(lambda: listener.listening, "the first LISTEN")
        proxy.stall()
        await until(lambda: not listener.listening, "the frozen link noticed")
        assert proxy.connections == 1, "only the listener's own connection: no cancel request sent through the link"
    finally:
        await listener.stop()
        proxy.stop()
    assert task.done()


@pytest.mark.parametrize(("payload", "expected"), [
    ("not json", changes.Notice(None, 0, None, None)),
    ('{"from": "a", "outbox": 3, "activities": [2, 1]}', changes.Notice("a", 3, frozenset({1, 2}))),
    ('{"from": "a", "activities": null}', changes.Notice("a", 0, None)),
    ('{"from": null, "outbox": 0, "activities": [], "tallies": [4]}',
     changes.Notice(None, 0, frozenset(), frozenset({4}))),
    ('{"from": null, "activities": [], "tallies": null}', changes.Notice(None, 0, frozenset(), None)),
], ids=["unreadable-means-everything-and-names-no-tally", "ids-without-tallies-name-none", "null-means-everything",
        "tallies", "null-tallies-are-unnamed"])
def test_payloads_read_back(payload: str, expected: changes.Notice) -> None:
    assert changes.Notice.parse(payload) == expected
