"""Fencing with real processes: a leader frozen (SIGSTOP) past its lease, a standby that takes over, the old
leader resumed: it sends nothing more, and every reminder reaches its member exactly once (#11).

Before the freeze the loopback Bot API starts an outage (sendMessage answers 502 and delivers nothing) and the
test waits until every delivered reminder is recorded: no send is then in flight or unrecorded (the one case no
fence can cover, bounded by the dispatcher's concurrency), so any double counted below can only come from a send
made after the lease was lost, which the fence must prevent. The standby reclaims the old
term's rows at once (BRANCHBOT_RECLAIM_AFTER_SECONDS=0): only the fence stands between them and a double."""

from __future__ import annotations

import signal
import sqlite3
from datetime import timedelta

import pytest

from storage.db import is_sqlite
from tests.runtime.factories import at
from tests.runtime.process import (
    FIRST_CHAT, kill_survivors, log_text, outbox_states, seed, sends_per_chat, spawn, start_server, stop,
)
from tests.runtime.waiting import wait_until

pytestmark = pytest.mark.slow

NOW = at("2025-03-12 10:00")
STARTS = at("2025-03-15 10:00")
MEMBERS = 120
FENCED = {
    "BRANCHBOT_LEADER_LEASE_SECONDS": "3",
    "BRANCHBOT_LEADER_RETRY_SECONDS": "0.2",
    "BRANCHBOT_RECLAIM_AFTER_SECONDS": "0",
    # The loopback's 502 outage delivers nothing, so its sends need not wait out the pause that protects a
    # real Telegram's maybe-delivered 5xx from being doubled (bot.runtime.sending).
    "BRANCHBOT_AMBIGUOUS_RETRY_SECONDS": "0",
}


def freeze_outside_a_write(process, url: str) -> None:
    """SIGSTOP the process at a moment it holds no SQLite write lock: a writer frozen with the lock blocks the
    whole database (SQLite's one-writer design; no lease can help). PostgreSQL needs no such care: the server
    aborts a frozen client's open transaction (idle_in_transaction_session_timeout) and its locks go."""
    for _ in range(50):
        process.send_signal(signal.SIGSTOP)
        if not is_sqlite(url):
            return
        probe = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0.2)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.rollback()
            return
        except sqlite3.OperationalError:
            process.send_signal(signal.SIGCONT)
        finally:
            probe.close()
    raise AssertionError("the leader always held the write lock")


def test_a_leader_frozen_past_its_lease_sends_nothing_after_it_resumes(db_url, tmp_path):
    activity = seed(db_url, members=MEMBERS, starts=STARTS, now=NOW - timedelta(days=1), leads="4320")
    server = start_server(MEMBERS, latency=3.0)  # slow until the standby waits: the leader is mid-delivery then
    processes = []
    try:
        first = spawn(db_url, server, NOW, tmp_path, "first", **FENCED)
        processes.append(first)
        wait_until(lambda: "this process runs the scheduler" in log_text(tmp_path, "first"), "a leader",
                   alive=first)
        second = spawn(db_url, server, NOW, tmp_path, "second", **FENCED)
        processes.append(second)
        wait_until(lambda: "waiting to take over" in log_text(tmp_path, "second"), "the standby", alive=second)
        server.latency = 0.2
        before = sum(sends_per_chat(server).values())
        wait_until(lambda: sum(sends_per_chat(server).values()) >= before + 10, "the leader sending", alive=first)

        # The Bot API stops delivering; once every delivered reminder is recorded, no send of the leader is
        # between Telegram's answer and its record, so nothing it did before the freeze can be doubled.
        server.faults.outage("sendMessage", status=502)
        wait_until(lambda: outbox_states(db_url, activity)["sent"] == sum(sends_per_chat(server).values()),
                   "every delivered reminder recorded", alive=first)
        freeze_outside_a_write(first, db_url)
        standby_log = len(log_text(tmp_path, "second"))
        sent_when_frozen = sum(sends_per_chat(server).values())
        assert sent_when_frozen < MEMBERS, "the freeze should land mid-delivery"
        wait_until(lambda: "this process runs the scheduler" in log_text(tmp_path, "second")[standby_log:],
                   "the standby to take over after the lease ran out", alive=second)
        server.faults.end_outage()
        first.send_signal(signal.SIGCONT)

        wait_until(lambda: outbox_states(db_url, activity)["sent"] == MEMBERS, "every reminder recorded as sent",
                   alive=second)
        wait_until(lambda: "lost the scheduler lease" in log_text(tmp_path, "first"),
                   "the resumed leader to notice", alive=first)
        per_chat = sends_per_chat(server)
        assert set(per_chat) == {FIRST_CHAT + i for i in range(1, MEMBERS + 1)}, "none lost"
        assert sum(count - 1 for count in per_chat.values()) == 0, "none doubled"
        assert first.poll() is None, "losing the lease does not end the process"
        assert stop(first) == 0 and stop(second) == 0
    finally:
        kill_survivors(processes)
        server.stop_thread()
