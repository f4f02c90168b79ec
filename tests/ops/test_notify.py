"""#12.14 across processes: what a follower (webhook) or the command line commits reaches the leader by
PostgreSQL's NOTIFY, and the leader sends it within seconds although its outbox poll is ten minutes."""

from __future__ import annotations

import json
import urllib.request

import pytest

from bot.cli import main
from loopback import BotApiServer
from tests.ops.test_webhook import SECRET
from tests.runtime.factories import at
from tests.runtime.process import FIRST_CHAT, free_port, log_text, seed, spawn, stop
from tests.runtime.waiting import wait_until

pytestmark = pytest.mark.slow

NOW = at("2025-03-12 10:00")
STARTS = at("2025-03-15 10:00")
SECRETARY, MEMBER, OTHER = FIRST_CHAT + 1, FIRST_CHAT + 2, FIRST_CHAT + 3
# The notice must arrive well before the leader's next look at the outbox (BRANCHBOT_POLL_SECONDS=600);
# this bounds the wait for the event, it is not a pause.
WITHIN_SECONDS = 15.0


def texts_to(server: BotApiServer, chat: int) -> list[str]:
    return [r.params["text"] for r in server.calls("sendMessage") if r.ok and int(r.params["chat_id"]) == chat]


def notify_listening(port: int) -> bool | None:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
        return json.load(answer)["notify_listening"]


def test_the_leader_sends_at_once_what_a_follower_or_the_cli_committed(pg_url, tmp_path, monkeypatch):
    # The seeded meeting's only reminder is due a day before it: nothing is due while this runs.
    activity = seed(pg_url, members=3, starts=STARTS, now=NOW, leads="1440")
    server = BotApiServer(allow_http_webhooks=True).start_in_thread()
    for chat in (SECRETARY, MEMBER, OTHER):
        server.add_user(chat, f"党员{chat - FIRST_CHAT}", started=True)
    leader_port, follower_port, leader_health, follower_health = free_port(), free_port(), free_port(), free_port()
    # Telegram delivers to the follower only: both processes register its URL (the later one wins anyway).
    url = f"http://127.0.0.1:{follower_port}/telegram"
    common = dict(BRANCHBOT_WEBHOOK_URL=url, BRANCHBOT_WEBHOOK_SECRET=SECRET, BRANCHBOT_WEBHOOK_DELETE_ON_STOP="off",
                  BRANCHBOT_POLL_SECONDS="600")
    processes = []
    try:
        leader = spawn(pg_url, server, NOW, tmp_path, "leader", BRANCHBOT_WEBHOOK_LISTEN=f"127.0.0.1:{leader_port}",
                       BRANCHBOT_HEALTH_LISTEN=f"127.0.0.1:{leader_health}", **common)
        processes.append(leader)
        wait_until(lambda: "outbox notifications: listening" in log_text(tmp_path, "leader"), "the leader listening",
                   alive=leader)
        follower = spawn(pg_url, server, NOW, tmp_path, "follower",
                         BRANCHBOT_WEBHOOK_LISTEN=f"127.0.0.1:{follower_port}",
                         BRANCHBOT_HEALTH_LISTEN=f"127.0.0.1:{follower_health}", **common)
        processes.append(follower)
        wait_until(lambda: "webhook: listening" in log_text(tmp_path, "follower")
                   and "another branchbot scheduler is running" in log_text(tmp_path, "follower"),
                   "the follower answering webhooks", alive=follower)
        # /healthz: the leader hears NOTIFY; the follower has no listener at all.
        assert (notify_listening(leader_health), notify_listening(follower_health)) == (True, None)

        # A member asks for leave through the follower; the leader tells the secretary.
        server.user_sends(MEMBER, "/leave")
        wait_until(lambda: texts_to(server, MEMBER), "the follower asking for the reason", alive=follower)
        server.user_sends(MEMBER, "单位出差")
        wait_until(lambda: any("请假" in text and "单位出差" in text for text in texts_to(server, SECRETARY)),
                   "the leave request reaching the secretary", alive=leader, timeout=WITHIN_SECONDS)

        # The command line records a leave for another member; the leader tells that member.
        monkeypatch.setenv("BRANCHBOT_DATABASE_URL", pg_url)
        monkeypatch.delenv("BRANCHBOT_CONFIG_DIR", raising=False)
        assert main(["activity", "proxy", str(activity), "E01-3", "--leave", "家中有事",
                     "--now", NOW.isoformat()]) == 0  # due at once: the leader's clock started there
        wait_until(lambda: texts_to(server, OTHER), "the CLI's notice reaching the member", alive=leader,
                   timeout=WITHIN_SECONDS)
        assert "Traceback" not in log_text(tmp_path, "leader") + log_text(tmp_path, "follower")
    finally:
        for process in processes:
            stop(process)
        server.stop_thread()
