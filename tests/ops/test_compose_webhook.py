"""deploy/compose.yaml as its header promises, brought up for real: webhook mode with `--scale bot=2` on the
compose file's own PostgreSQL, behind a reverse proxy, against the loopback Bot API server on the host.

The proxy is `loopback.tcpproxy.TcpProxy` on the host (round-robin per connection, as a TCP load balancer) in
front of both replicas' published webhook ports; the loopback server's webhook points at it. Checked: exactly one
replica leads (/healthz on each), a burst of ✅ 签到 presses on the reminders the leader sent reaches both replicas
and every press is answered once and recorded once, an update with a wrong secret is refused (403) and handled
never, killing the leader's container (`docker kill`) makes the other replica lead and reminders queued after it
go out once (those sent before are not sent again), the killed replica started again follows, the new leader frozen
past its lease (`docker pause`) hands over the same way and follows once thawed, and `docker compose down` stops
both with exit 0 and leaves the webhook set (the compose file sets BRANCHBOT_WEBHOOK_DELETE_ON_STOP off). Skips,
with the reason, where no daemon, compose tool or base image is here (tests/ops/containers.py); images as for
tests/ops/test_compose.py. tests/ops/compose.webhook.yaml publishes the ports and sets the clock.
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.runtime.materialise import ReminderPolicy, enqueue_reminders
from loopback import BotApiServer
from loopback.tcpproxy import TcpProxy
from storage import models
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import ensure_schema
from tests.ops.containers import ComposeProject, docker, get_json, published
from tests.runtime.factories import SHANGHAI, at, make_activity, make_branch
from tests.runtime.process import FIRST_CHAT
from tests.ops.webhook_checks import wrong_secret_refused_then_handled_once
from tests.runtime.waiting import wait_until

pytestmark = pytest.mark.slow

NOW = at("2025-03-12 10:00")
STARTS = NOW + timedelta(minutes=20)  # check-in is open from 30 minutes before the start
LEAD = "20"  # the reminder is due at NOW
MEMBERS = 60
SECRET = "s3cret-Token_1"
FIRST, SECOND, THIRD = "主题党日", "支部党员大会", "专题组织生活会"
MEMBER_CHATS = [FIRST_CHAT + index for index in range(1, MEMBERS + 1)]


def add_activity(url: str, title: str) -> int:
    """Branch E01 (made with its bound members on the first call), an activity starting at STARTS, and its
    reminders queued, as `branchbot plan` queues them from another process (the leader hears the NOTIFY)."""
    ensure_schema(url)
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as session:
            org = session.scalars(select(models.Organization).where(models.Organization.code == "E01")).first()
            if org is None:
                org = make_branch(session, "E01", members=MEMBERS, first_chat_id=FIRST_CHAT)
            activity = make_activity(session, org, STARTS, key=f"test:{title}", leads=LEAD, title=title)
            enqueue_reminders(session, [activity], now=NOW - timedelta(days=1), policy=ReminderPolicy(zone=SHANGHAI))
            return activity.id
    finally:
        engine.dispose()


def attendance(url: str, activity_id: int) -> int:
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as session:
            return session.scalar(select(func.count()).select_from(models.Attendance)
                                  .where(models.Attendance.activity_id == activity_id))
    finally:
        engine.dispose()


def reminders(server: BotApiServer, title: str) -> Counter[int]:
    """Reminders of one activity sent, per member's chat."""
    return Counter(int(r.params["chat_id"]) for r in server.calls("sendMessage")
                   if r.ok and title in r.params["text"] and "reply_markup" in r.params)


def replies(server: BotApiServer, chat: int) -> list[str]:
    return [r.params["text"] for r in server.calls("sendMessage") if r.ok and int(r.params["chat_id"]) == chat
            and not any(title in r.params["text"] for title in (FIRST, SECOND, THIRD))]


def handled_updates(metrics_port: int) -> float:
    """The replica's own count of updates it handled (its /metrics histogram)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=4) as answer:  # noqa: S310
        text = answer.read().decode()
    found = re.search(r"^branchbot_update_handling_seconds_count (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


class Replica:
    """One bot container: its id and the host addresses of its webhook and health ports."""

    def __init__(self, container: str) -> None:
        self.container = container
        self.locate()

    def locate(self) -> None:
        self.webhook = published(self.container, 8443)
        self.health_port = published(self.container, 9108)[1]

    def health(self) -> dict | None:
        return get_json(f"http://127.0.0.1:{self.health_port}/healthz")

    def role(self) -> str | None:
        answer = self.health()
        return answer["role"] if answer and answer["status"] == "ok" else None


def test_two_webhook_replicas_behind_a_proxy_answer_once_and_one_leads_with_takeover():
    project = ComposeProject(["compose.loopback.yaml", "compose.webhook.yaml"])
    server = BotApiServer(host="0.0.0.0", allow_http_webhooks=True).start_in_thread()
    for chat in MEMBER_CHATS:
        server.add_user(chat, f"党员{chat - FIRST_CHAT}", started=True)
    proxy = TcpProxy([]).start()  # routed once the replicas' addresses are known
    url = f"http://127.0.0.1:{proxy.port}/telegram"
    project.env.update(TELEGRAM_BOT_TOKEN=server.token, BRANCHBOT_WEBHOOK_URL=url, BRANCHBOT_WEBHOOK_SECRET=SECRET,
                       BRANCHBOT_TEST_API_BASE_URL=f"http://host.docker.internal:{server.port}/bot",
                       BRANCHBOT_TEST_CLOCK_START=NOW.isoformat())
    measured: dict[str, object] = {}
    try:
        began = time.monotonic()
        up = project.run("up", "-d", "--build", "--scale", "bot=2", timeout=1200)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        measured["up_s"] = round(time.monotonic() - began, 1)
        replicas = [Replica(container) for container in project.containers("bot")]
        assert len(replicas) == 2
        proxy.route([replica.webhook for replica in replicas])
        wait_until(lambda: sorted(str(r.role()) for r in replicas) == ["follower", "leader"],
                   "one replica leading, the other following", timeout=180)
        measured["healthy_s"] = round(time.monotonic() - began, 1)
        assert all(r.health()["mode"] == "webhook" for r in replicas)
        assert server.world.webhook["url"] == url
        leader = next(r for r in replicas if r.role() == "leader")
        follower = next(r for r in replicas if r is not leader)
        database_url = "postgresql+psycopg://branchbot:branchbot@{}:{}/branchbot".format(
            *published(project.containers("db")[0], 5432))

        # The leader sends each member the first activity's reminder; every member presses its ✅ 签到.
        first = add_activity(database_url, FIRST)
        wait_until(lambda: len(reminders(server, FIRST)) == MEMBERS, "every member's reminder")
        presses = []
        for chat in MEMBER_CHATS:
            [message] = [m for m in server.sent_to(chat) if FIRST in m.get("text", "")]
            checkin = message["reply_markup"]["inline_keyboard"][0][0]
            assert "签到" in checkin["text"]
            presses.append((chat, message["message_id"], checkin["callback_data"]))
        before = [handled_updates(r.health_port) for r in replicas]
        began = time.monotonic()
        queries = [server.user_presses(chat, chat, message_id, data) for chat, message_id, data in presses]
        wait_until(lambda: all(q in server.callback_answers for q in queries), "every press answered")
        measured["burst_s"] = round(time.monotonic() - began, 2)
        wait_until(lambda: attendance(database_url, first) == MEMBERS, "every check-in recorded")
        per_replica: list[float] = []

        def counted() -> bool:  # a replica counts an update once its handling ended, after the answer
            per_replica[:] = [handled_updates(r.health_port) - b for r, b in zip(replicas, before)]
            return sum(per_replica) >= MEMBERS

        wait_until(counted, "every press counted by the replica that handled it")
        measured["presses_per_replica"] = per_replica
        assert min(per_replica) >= 1, f"both replicas answered presses: {per_replica}"
        assert sum(per_replica) == MEMBERS, f"each press handled once: {per_replica}"
        answers = Counter(r.params["callback_query_id"] for r in server.calls("answerCallbackQuery") if r.ok)
        assert {answers[q] for q in queries} == {1}, "each press answered once"

        # A wrong secret is refused and the update is not handled; the right one delivers it once.
        stranger = MEMBER_CHATS[5]  # not the secretary (member 1)
        wrong_secret_refused_then_handled_once(server, stranger, replies)

        # The leader's container killed: the other replica leads and sends what is queued next, once.
        docker("kill", leader.container)
        began = time.monotonic()
        wait_until(lambda: follower.role() == "leader", "the other replica leading", timeout=60)
        measured["takeover_s"] = round(time.monotonic() - began, 2)
        state = docker("inspect", "--format", "{{.State.Status}} {{.RestartCount}}", leader.container).stdout.split()
        measured["killed_state"] = state
        second = add_activity(database_url, SECOND)
        wait_until(lambda: len(reminders(server, SECOND)) == MEMBERS, "every member's second reminder")

        # Started again (an operator, or `docker compose up -d --scale bot=2`), the killed replica follows.
        docker("start", leader.container)
        leader.locate()
        proxy.route([r.webhook for r in replicas])
        wait_until(lambda: leader.role() == "follower", "the restarted replica following", timeout=120)
        late = MEMBER_CHATS[6]
        server.user_sends(late, "/help")
        wait_until(lambda: len(replies(server, late)) == 1, "an update after the restart answered")

        # The new leader frozen past its lease (`docker pause`): the restarted replica leads and reminds once; thawed,
        # the frozen one finds its lease gone and follows, sending nothing more.
        docker("pause", follower.container)
        began = time.monotonic()
        wait_until(lambda: leader.role() == "leader", "the restarted replica leading", timeout=60)
        measured["takeover_from_frozen_s"] = round(time.monotonic() - began, 2)
        third = add_activity(database_url, THIRD)
        wait_until(lambda: len(reminders(server, THIRD)) == MEMBERS, "every member's third reminder")
        docker("unpause", follower.container)
        wait_until(lambda: follower.role() == "follower", "the thawed replica following", timeout=60)

        # `docker compose down`: both stop with exit 0; the webhook stays set for the next deployment.
        waiting = subprocess.Popen(["docker", "wait", *[r.container for r in replicas]], stdout=subprocess.PIPE,
                                   text=True)
        logs = {r.container: docker("logs", r.container, check=False) for r in replicas}
        began = time.monotonic()
        down = project.down()
        measured["down_s"] = round(time.monotonic() - began, 1)
        assert down.returncode == 0, down.stderr[-3000:]
        exit_codes = waiting.communicate(timeout=60)[0].split()
        assert exit_codes == ["0", "0"], {c: (p.stdout[-2000:], p.stderr[-2000:]) for c, p in logs.items()}
        assert server.world.webhook is not None and server.world.webhook["url"] == url
        assert server.calls("deleteWebhook") == []

        # Nothing lost, nothing doubled, checked again once everything has stopped.
        assert reminders(server, FIRST) == Counter({chat: 1 for chat in MEMBER_CHATS})
        assert reminders(server, SECOND) == Counter({chat: 1 for chat in MEMBER_CHATS})
        assert reminders(server, THIRD) == Counter({chat: 1 for chat in MEMBER_CHATS})
        answers = Counter(r.params["callback_query_id"] for r in server.calls("answerCallbackQuery") if r.ok)
        assert {answers[q] for q in queries} == {1}
        assert len(replies(server, stranger)) == 1 and len(replies(server, late)) == 1
        print(f"\ncompose webhook measured: {measured}")
    finally:
        project.down()
        proxy.stop()
        server.stop_thread()
