"""End-to-end helpers: a seeded database, the loopback Bot API server, `branchbot run` as a real subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.runtime.materialise import ReminderPolicy, enqueue_reminders
from loopback import BotApiServer
from storage import models
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import ensure_schema
from tests.runtime.factories import SHANGHAI, make_activity, make_branch
from tests.runtime.waiting import SAFETY_SECONDS

PROJECT = Path(__file__).resolve().parents[2]
FIRST_CHAT = 5_000_000


def free_port() -> int:
    """A loopback port nothing listens on (a server may take it; a client finds it closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seed(url: str, *, members: int, starts: datetime, now: datetime, leads: str) -> int:
    """Schema, one branch of bound members (chats FIRST_CHAT+1…), one activity with reminders; returns its id."""
    ensure_schema(url)
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as session:
            org = make_branch(session, "E01", members=members, first_chat_id=FIRST_CHAT)
            activity = make_activity(session, org, starts, leads=leads, title="支部党员大会")
            enqueue_reminders(session, [activity], now=now, policy=ReminderPolicy(zone=SHANGHAI))
            return activity.id
    finally:
        engine.dispose()


def start_server(members: int, *, latency: float = 0.0) -> BotApiServer:
    server = BotApiServer(latency=latency).start_in_thread()
    for index in range(1, members + 1):
        server.add_user(FIRST_CHAT + index, f"党员{index}", started=True)
    return server


def spawn(url: str, server: BotApiServer, clock_start: datetime, tmp: Path, name: str, **env: str) -> subprocess.Popen:
    environment = {
        **os.environ,
        "BRANCHBOT_DATABASE_URL": url,
        "TELEGRAM_BOT_TOKEN": server.token,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "BRANCHBOT_CLOCK_START": clock_start.isoformat(),
        # Only the seeded activity matters here: keep the catalog's own activities out of the window.
        "BRANCHBOT_HORIZON_DAYS": "0.0001",
        "BRANCHBOT_LEADER_RETRY_SECONDS": "0.3",
        # A killed leader's lease runs out quickly (a standby takes over only then).
        "BRANCHBOT_LEADER_LEASE_SECONDS": "2",
        "BRANCHBOT_RECLAIM_AFTER_SECONDS": "0",
        "BRANCHBOT_POLL_SECONDS": "0.5",
        "BRANCHBOT_RATE_LIMIT": "off",
        **env,
    }
    log = open(tmp / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=PROJECT, env=environment,
                            stdout=log, stderr=subprocess.STDOUT)


def sends_per_chat(server: BotApiServer) -> Counter[int]:
    return Counter(int(r.params["chat_id"]) for r in server.calls("sendMessage") if r.ok)


def outbox_states(url: str, activity_id: int | None = None) -> Counter[str]:
    engine = make_engine(url)
    try:
        with transaction(make_session_factory(engine)) as session:
            query = select(models.OutboxMessage.state, func.count()).group_by(models.OutboxMessage.state)
            if activity_id is not None:
                query = query.where(models.OutboxMessage.activity_id == activity_id)
            return Counter(dict(session.execute(query).all()))
    finally:
        engine.dispose()


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = SAFETY_SECONDS) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    return process.wait(timeout)


def kill_survivors(processes: list[subprocess.Popen]) -> None:
    """Ends whatever a test left running (a passing test stops its processes itself); a frozen one is woken
    first so that it dies at once."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.kill()
            process.wait(30)


def log_text(tmp: Path, name: str) -> str:
    return (tmp / f"{name}.log").read_text()
