"""The database cut off through a TCP proxy (reset connections, stalled ones), with and without a standby:
the bot never exits, chat answers 系统繁忙 meanwhile, it recovers by itself, and nothing is lost or doubled.

Real time must pass for a lease to run out, so the lease is scaled down (1 s); the outage lasts until the
database shows the cut-off leader's lease gone (run out, or taken over by the standby) instead of a fixed
time, and every other wait is on an observable condition with a safety timeout too."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot import texts
from storage.db import make_engine, make_session_factory, transaction
from bot.runtime.materialise import ReminderPolicy, enqueue_reminders
from loopback.tcpproxy import TcpProxy
from tests.runtime.factories import SHANGHAI, at, make_activity
from tests.runtime.process import (
    FIRST_CHAT, kill_survivors, log_text, outbox_states, seed, spawn, start_server, stop,
)
from tests.runtime.waiting import wait_until
from storage import models
from sqlalchemy import select, text

pytestmark = pytest.mark.slow

NOW = at("2025-03-12 10:00")
STARTS = at("2025-03-15 10:00")
MEMBERS = 30
FAST = {
    "BRANCHBOT_LEADER_LEASE_SECONDS": "1",
    "BRANCHBOT_LEADER_RETRY_SECONDS": "0.2",
    # Longer than the outage: a leader cut off records its sends when back instead of having them doubled.
    "BRANCHBOT_RECLAIM_AFTER_SECONDS": "30",
    "BRANCHBOT_CHAT_DB_TIMEOUT_SECONDS": "1",
}


def through(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{proxy.port}" if user else f"127.0.0.1:{proxy.port}"))


def scheduler_lease(url: str) -> tuple[int, str | None, bool]:
    """The scheduler's lease as the database has it (read past the proxy): term, holder, run out."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(text("SELECT term, holder, lease_until < now() FROM leadership "
                                          "WHERE role = 'scheduler'")).one()
            return row[0], row[1], bool(row[2])
    finally:
        engine.dispose()


def add_reminders_due_now(url: str, title: str) -> int:
    """A second activity whose reminders fall due while the bot is cut off (written past the proxy)."""
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as session:
            org = session.scalar(select(models.Organization).where(models.Organization.code == "E01"))
            activity = make_activity(session, org, STARTS, leads="4320", title=title, key=f"lecture:E01:{title}")
            enqueue_reminders(session, [activity], now=NOW - timedelta(days=1), policy=ReminderPolicy(zone=SHANGHAI))
            return activity.id
    finally:
        engine.dispose()


def reminders_per_chat(server, title: str) -> Counter[int]:
    return Counter(int(r.params["chat_id"]) for r in server.calls("sendMessage") if r.ok and title in r.params["text"])


def busy_replies(server, chat: int) -> int:
    return sum(1 for r in server.calls("sendMessage")
               if r.ok and int(r.params["chat_id"]) == chat and r.params["text"] == texts.DATABASE_BUSY)


@pytest.mark.parametrize("cut", ["reset", "stall"])
@pytest.mark.parametrize("standby", [False, True], ids=["alone", "with-standby"])
def test_a_database_outage_is_survived_without_exit_loss_or_doubles(pg_url, tmp_path, cut, standby):
    first_activity = seed(pg_url, members=MEMBERS, starts=STARTS, now=NOW - timedelta(days=1), leads="4320")
    proxy = TcpProxy([(urlsplit(pg_url).hostname, urlsplit(pg_url).port or 5432)]).start()
    server = start_server(MEMBERS, latency=0.4)  # the leader is mid-delivery when the link goes
    processes = []
    try:
        leader = spawn(through(pg_url, proxy), server, NOW, tmp_path, "leader", **FAST)
        processes.append(leader)
        wait_until(lambda: "this process runs the scheduler" in log_text(tmp_path, "leader"), "the leader", alive=leader)
        if standby:
            second = spawn(pg_url, server, NOW, tmp_path, "standby", **FAST)
            processes.append(second)
            wait_until(lambda: "waiting to take over" in log_text(tmp_path, "standby"), "the standby", alive=second)
        wait_until(lambda: sum(reminders_per_chat(server, "支部党员大会").values()) >= 4, "the first sends", alive=leader)

        term_at_cut = scheduler_lease(pg_url)[0]
        getattr(proxy, cut)()
        second_activity = add_reminders_due_now(pg_url, "专题党课")
        wait_until(lambda: "lost the scheduler lease" in log_text(tmp_path, "leader")
                   or "no longer held" in log_text(tmp_path, "leader"), "the leader to stop sending", alive=leader)
        if not standby:
            asker = FIRST_CHAT + 1
            server.user_sends(asker, "/me")
            wait_until(lambda: busy_replies(server, asker) == 1, "系统繁忙 while the database is away", alive=leader)
        # The outage lasts until the cut-off leader's lease is gone: taken by the standby, else run out unrenewed.
        if standby:
            wait_until(lambda: scheduler_lease(pg_url)[0] > term_at_cut, "the standby to take over", alive=second)
        else:
            wait_until(lambda: scheduler_lease(pg_url)[2], "the leader's lease to run out", alive=leader)
        proxy.heal()

        def all_sent() -> bool:
            states = outbox_states(pg_url)
            return outbox_states(pg_url, first_activity)["sent"] == MEMBERS and \
                outbox_states(pg_url, second_activity)["sent"] == MEMBERS and states["claimed"] == 0

        try:
            wait_until(all_sent, "every reminder recorded as sent after the outage", alive=leader)
        except TimeoutError:  # say where it stands: which rows, which sessions
            engine = make_engine(pg_url)
            with engine.connect() as connection:
                print(connection.execute(text("SELECT state, claimed_by, activity_id, count(*) FROM outbox "
                                              "GROUP BY 1, 2, 3")).all())
                print(connection.execute(text("SELECT pid, state, wait_event, left(query, 60) FROM pg_stat_activity "
                                              "WHERE state <> 'idle'")).all())
            engine.dispose()
            raise
        assert leader.poll() is None, "the leader never exits over an outage"
        for title in ("支部党员大会", "专题党课"):
            per_chat = reminders_per_chat(server, title)
            assert set(per_chat) == {FIRST_CHAT + i for i in range(1, MEMBERS + 1)}, f"{title}: none lost"
            assert max(per_chat.values()) == 1, f"{title}: none doubled"
        if not standby:
            asker = FIRST_CHAT + 2
            server.user_sends(asker, "/me")
            wait_until(lambda: any(int(r.params["chat_id"]) == asker and r.params["text"] != texts.DATABASE_BUSY
                                   for r in server.calls("sendMessage") if r.ok and "专题党课" not in r.params["text"]
                                   and "支部党员大会" not in r.params["text"]),
                       "chat answering again without a restart", alive=leader)
        for process in processes:
            assert stop(process) == 0
    finally:
        kill_survivors(processes)
        server.stop_thread()
        proxy.stop()
