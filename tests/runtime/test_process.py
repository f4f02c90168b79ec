"""Guarantees proven with real processes: SIGKILL, SIGTERM, downtime and two schedulers on one database."""

from __future__ import annotations

import signal
from datetime import timedelta

import pytest

from tests.runtime.factories import at
from tests.runtime.process import (
    FIRST_CHAT, kill_survivors, log_text, outbox_states, seed, sends_per_chat, spawn, start_server, stop,
)
from tests.runtime.waiting import wait_until

pytestmark = pytest.mark.slow

CONCURRENCY = 8
NOW = at("2025-03-12 10:00")
STARTS = at("2025-03-15 10:00")


@pytest.fixture
def server_factory():
    servers = []

    def make(members: int, **kwargs):
        server = start_server(members, **kwargs)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop_thread()


@pytest.fixture
def processes():
    started = []
    yield started
    kill_survivors(started)


def test_sigkill_mid_delivery_loses_nothing_and_duplicates_at_most_the_concurrency(db_url, tmp_path, server_factory, processes):
    members = 80
    activity = seed(db_url, members=members, starts=STARTS, now=NOW - timedelta(days=1), leads="4320")
    server = server_factory(members, latency=0.05)  # sends are in flight when the kill lands
    first = spawn(db_url, server, NOW, tmp_path, "first")
    processes.append(first)
    wait_until(lambda: sum(sends_per_chat(server).values()) >= 20, "the first sends", alive=first)
    first.kill()
    first.wait(30)
    assert 0 < sum(sends_per_chat(server).values()) < members, "the kill should land mid-delivery"
    second = spawn(db_url, server, NOW, tmp_path, "second")
    processes.append(second)
    wait_until(lambda: outbox_states(db_url, activity)["sent"] == members, "every reminder recorded as sent", alive=second)
    assert stop(second) == 0
    per_chat = sends_per_chat(server)
    assert set(per_chat) == {FIRST_CHAT + i for i in range(1, members + 1)}, "no reminder lost"
    duplicates = sum(count - 1 for count in per_chat.values())
    assert duplicates <= CONCURRENCY
    assert server.token not in log_text(tmp_path, "first") + log_text(tmp_path, "second")


def test_sigterm_exits_cleanly_leaving_nothing_claimed_and_a_restart_sends_each_once(db_url, tmp_path, server_factory, processes):
    members = 60
    activity = seed(db_url, members=members, starts=STARTS, now=NOW - timedelta(days=1), leads="4320")
    server = server_factory(members, latency=0.05)
    first = spawn(db_url, server, NOW, tmp_path, "first")
    processes.append(first)
    wait_until(lambda: sum(sends_per_chat(server).values()) >= 10, "the first sends", alive=first)
    assert stop(first, signal.SIGTERM) == 0
    states = outbox_states(db_url, activity)
    assert states["claimed"] == 0
    assert states["sent"] == sum(sends_per_chat(server).values()) < members
    second = spawn(db_url, server, NOW, tmp_path, "second")
    processes.append(second)
    wait_until(lambda: outbox_states(db_url, activity)["sent"] == members, "every reminder sent", alive=second)
    assert stop(second, signal.SIGINT) == 0
    assert set(sends_per_chat(server).values()) == {1}, "exactly once after a clean stop"


def test_after_downtime_only_the_latest_lead_goes_out_and_the_secretary_gets_one_summary(db_url, tmp_path, server_factory, processes):
    members = 5
    seed(db_url, members=members, starts=STARTS, now=NOW - timedelta(days=3), leads="4320,1440,60")
    server = server_factory(members)
    # The service was down from before the 3-day reminders until 09:20 on the day.
    process = spawn(db_url, server, STARTS - timedelta(minutes=40), tmp_path, "after-downtime")
    processes.append(process)
    wait_until(lambda: outbox_states(db_url)["sent"] == members + 1, "reminders and the summary", alive=process)
    assert stop(process) == 0
    texts = {chat: [m["text"] for m in server.sent_to(chat)] for chat in sends_per_chat(server)}
    reminders = [t for chat_texts in texts.values() for t in chat_texts if "活动提醒" in t]
    # Sent 40 minutes before the start: the text counts from the real send, not from the 1-hour lead.
    assert len(reminders) == members and all("40分钟后" in t for t in reminders)
    secretary = FIRST_CHAT + 1
    assert sum("停机" in t for t in texts[secretary]) == 1
    assert outbox_states(db_url)["missed"] == 2 * members


def test_two_schedulers_on_one_database_only_one_sends_and_the_standby_takes_over(db_url, tmp_path, server_factory, processes):
    members = 400  # 100 s of slow sends: the leader is still busy however long the standby takes to start
    activity = seed(db_url, members=members, starts=STARTS, now=NOW - timedelta(days=1), leads="4320")
    server = server_factory(members, latency=2.0)  # slow until the standby waits: the leader is busy when killed
    first = spawn(db_url, server, NOW, tmp_path, "first")
    processes.append(first)
    wait_until(lambda: sum(sends_per_chat(server).values()) >= 1, "the leader's first send", alive=first)
    second = spawn(db_url, server, NOW, tmp_path, "second")
    processes.append(second)
    wait_until(lambda: "waiting to take over" in log_text(tmp_path, "second"), "the standby to wait", alive=second)
    sent_before_kill = sum(sends_per_chat(server).values())
    first.kill()
    first.wait(30)
    server.latency = 0.05
    assert sent_before_kill < members, "the leader should still have had work when killed"
    wait_until(lambda: "this process runs the scheduler" in log_text(tmp_path, "second"), "the take-over", alive=second)
    wait_until(lambda: outbox_states(db_url, activity)["sent"] == members, "the standby to finish the work", alive=second)
    assert stop(second) == 0
    per_chat = sends_per_chat(server)
    assert len(per_chat) == members
    assert sum(count - 1 for count in per_chat.values()) <= CONCURRENCY
