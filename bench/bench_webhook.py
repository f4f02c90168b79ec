"""Benchmark: 300 members press ✅ 签到 at once, delivered by webhook to `branchbot run` processes on PostgreSQL.

The loopback Bot API posts each press to a round-robin TCP proxy in front of one or more real `branchbot run`
processes in webhook mode (the same as behind a reverse proxy); one JSON line per process count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select
from telegram import Bot

from bench.bench_checkin import FIRST_USER, START, Members, seed
from bench.harness import report, run_main, scratch_postgres
from bot import keyboards
from bot.callbacks import CallbackSigner
from loopback.tcpproxy import TcpProxy
from storage import models
from storage.db import make_engine, make_session_factory, transaction

PROJECT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def spawn(url: str, world: Members, webhook_url: str, port: int, log: Path, concurrency: int) -> subprocess.Popen:
    env = {**os.environ, "BRANCHBOT_DATABASE_URL": url, "TELEGRAM_BOT_TOKEN": world.token,
           "TELEGRAM_API_BASE_URL": world.base_url, "BRANCHBOT_CLOCK_START": START.isoformat(),
           "BRANCHBOT_HORIZON_DAYS": "0.0001", "BRANCHBOT_RATE_LIMIT": "off", "BRANCHBOT_CONCURRENCY": str(concurrency),
           "BRANCHBOT_WEBHOOK_URL": webhook_url, "BRANCHBOT_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
           "BRANCHBOT_WEBHOOK_SECRET": SECRET, "BRANCHBOT_WEBHOOK_DELETE_ON_STOP": "off"}
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=PROJECT, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def wait_for(condition, what: str, timeout: float = 120.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


async def send_reminders(world: Members, users: list[int], markup) -> list[tuple[int, int, str]]:  # noqa: ANN001
    data = markup.inline_keyboard[0][0].callback_data
    async with Bot(world.token, base_url=world.base_url, base_file_url=world.base_file_url) as bot:
        sent = [await bot.send_message(user, "⏰ 活动提醒：主题党日", reply_markup=markup) for user in users]
    return [(user, message.message_id, data) for user, message in zip(users, sent)]


def measure(url: str, members: int, processes: int, concurrency: int, spread: float) -> dict:
    warm_up_id, activity_id = seed(url, members)
    world = Members(members)
    world.server.world.allow_http_webhooks = True
    ports = [free_port() for _ in range(processes)]
    proxy = TcpProxy([("127.0.0.1", port) for port in ports]).start()
    webhook_url = f"http://127.0.0.1:{proxy.port}/telegram"
    logs = Path(tempfile.mkdtemp(prefix="bench_webhook_"))
    running = [spawn(url, world, webhook_url, port, logs / f"bot{i}.log", concurrency) for i, port in enumerate(ports)]
    try:
        for i, process in enumerate(running):
            wait_for(lambda: "webhook: listening" in (logs / f"bot{i}.log").read_text() or process.poll() is not None,
                     "a webhook process to listen")
            if process.poll() is not None:
                raise RuntimeError((logs / f"bot{i}.log").read_text()[-2000:])
        signer = CallbackSigner.from_token(world.token)
        users = [FIRST_USER + n for n in range(members)]
        warm = asyncio.run(send_reminders(world, users[:30], keyboards.reminder(signer, warm_up_id)))
        world.press(warm, 0.0)
        presses = asyncio.run(send_reminders(world, users, keyboards.reminder(signer, activity_id)))
        timings = world.press(presses, spread)
    finally:
        for process in running:
            process.terminate()
        for process in running:
            process.wait(60)
        world.stop()
        proxy.stop()
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        recorded = session.scalar(select(func.count()).select_from(models.Attendance).where(
            models.Attendance.activity_id == activity_id))
    engine.dispose()
    assert recorded == members, f"{recorded} check-ins recorded for {members} presses"
    return {**timings, "recorded": recorded, "per_process_connections": proxy.per_upstream}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--processes", default="1,2", help="process counts to measure, e.g. 1,2")
    parser.add_argument("--concurrency", type=int, default=8, help="each process's concurrent updates")
    parser.add_argument("--spread", type=float, default=0.0, help="seconds over which the presses are spread")
    args = parser.parse_args(argv)
    for count in [int(c) for c in args.processes.split(",")]:
        with scratch_postgres("branchbot_bench_webhook") as url:
            figures = measure(url, args.members, count, args.concurrency, args.spread)
        report("webhook_checkin", database="postgresql", processes=count, members=args.members,
               concurrency=args.concurrency, spread_s=args.spread, **figures)


if __name__ == "__main__":
    run_main(main)
