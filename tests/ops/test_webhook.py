"""Webhook mode end to end: the loopback Bot API delivers updates by webhook through a round-robin proxy to two
`branchbot run` processes on one PostgreSQL; both answer, a wrong secret is refused (403) and handled never,
one process leads the scheduler, and when it is killed the other takes over: nothing lost, nothing doubled
beyond the sends in flight at the kill."""

from __future__ import annotations

import signal
from collections import Counter
from datetime import timedelta

import pytest

from loopback import BotApiServer
from loopback.tcpproxy import TcpProxy
from tests.runtime.factories import at
from tests.runtime.process import (
    FIRST_CHAT, free_port, kill_survivors, log_text, outbox_states, seed, spawn, stop,
)
from tests.ops.webhook_checks import wrong_secret_refused_then_handled_once
from tests.runtime.waiting import wait_until

pytestmark = pytest.mark.slow

NOW = at("2025-03-12 10:00")
STARTS = at("2025-03-15 10:00")
MEMBERS = 40
SECRET = "s3cret-Token_1"
CONCURRENCY = 8


def replies(server: BotApiServer, chat: int) -> list[str]:
    return [r.params["text"] for r in server.calls("sendMessage")
            if r.ok and int(r.params["chat_id"]) == chat and "支部党员大会" not in r.params["text"]]


def test_two_webhook_processes_answer_and_one_leads_with_takeover(pg_url, tmp_path):
    activity = seed(pg_url, members=MEMBERS, starts=STARTS, now=NOW - timedelta(days=1), leads="4320")
    server = BotApiServer(allow_http_webhooks=True, latency=0.5).start_in_thread()
    for index in range(1, MEMBERS + 1):
        server.add_user(FIRST_CHAT + index, f"党员{index}", started=True)
    ports = [free_port(), free_port()]
    proxy = TcpProxy([("127.0.0.1", port) for port in ports]).start()
    url = f"http://127.0.0.1:{proxy.port}/telegram"
    processes = []
    try:
        for name, port in zip(("a", "b"), ports):
            processes.append(spawn(pg_url, server, NOW, tmp_path, name, BRANCHBOT_WEBHOOK_URL=url,
                                   BRANCHBOT_WEBHOOK_LISTEN=f"127.0.0.1:{port}", BRANCHBOT_WEBHOOK_SECRET=SECRET,
                                   BRANCHBOT_WEBHOOK_DELETE_ON_STOP="off", BRANCHBOT_LEADER_LEASE_SECONDS="2"))
        for name, process in zip(("a", "b"), processes):
            wait_until(lambda: "webhook: listening" in log_text(tmp_path, name), f"{name} listening", alive=process)
        assert server.world.webhook["url"] == url

        users = [FIRST_CHAT + i for i in range(1, 21)]
        for user in users:
            server.user_sends(user, "/help")
        wait_until(lambda: all(len(replies(server, user)) >= 1 for user in users), "every /help answered")
        assert all(len(replies(server, user)) == 1 for user in users), "each update handled once"
        assert min(proxy.per_upstream) >= 1, f"both processes received updates: {proxy.per_upstream}"

        wrong_secret_refused_then_handled_once(server, FIRST_CHAT + 30, replies)

        leader = next(p for name, p in zip(("a", "b"), processes) if "this process runs the scheduler" in log_text(tmp_path, name))
        other_name = "b" if leader is processes[0] else "a"
        other = processes[1] if leader is processes[0] else processes[0]
        wait_until(lambda: outbox_states(pg_url, activity)["sent"] >= 8, "the leader sending reminders", alive=leader)
        leader.send_signal(signal.SIGKILL)
        leader.wait(30)
        server.latency = 0.05
        wait_until(lambda: "this process runs the scheduler" in log_text(tmp_path, other_name), "the takeover", alive=other)
        wait_until(lambda: outbox_states(pg_url, activity)["sent"] == MEMBERS, "every reminder sent", alive=other)
        per_chat = Counter(int(r.params["chat_id"]) for r in server.calls("sendMessage")
                           if r.ok and "支部党员大会" in r.params["text"])
        assert set(per_chat) == {FIRST_CHAT + i for i in range(1, MEMBERS + 1)}, "no reminder lost"
        assert sum(count - 1 for count in per_chat.values()) <= CONCURRENCY

        late = FIRST_CHAT + 31
        server.user_sends(late, "/help")
        wait_until(lambda: len(replies(server, late)) == 1, "the survivor answering alone", alive=other)
        assert stop(other) == 0
    finally:
        kill_survivors(processes)
        server.stop_thread()
        proxy.stop()

