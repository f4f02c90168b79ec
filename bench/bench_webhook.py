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

from sqlalchemy import func, select, text
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


def spawn(url: str, world: Members, webhook_url: str, port: int, log: Path, concurrency: int,
          bare: bool = False) -> subprocess.Popen:
    if bare:
        return subprocess.Popen([sys.executable, "-m", "bench.bench_webhook", "--serve-bare", str(port), world.token,
                                 world.base_url, webhook_url, str(concurrency)], cwd=PROJECT,
                                stdout=log.open("w"), stderr=subprocess.STDOUT)
    env = {**os.environ, "BRANCHBOT_DATABASE_URL": url, "TELEGRAM_BOT_TOKEN": world.token,
           "TELEGRAM_API_BASE_URL": world.base_url, "BRANCHBOT_CLOCK_START": START.isoformat(),
           "BRANCHBOT_HORIZON_DAYS": "0.0001", "BRANCHBOT_RATE_LIMIT": "off",
           "BRANCHBOT_CHAT_CONCURRENCY": str(concurrency),
           "BRANCHBOT_WEBHOOK_URL": webhook_url, "BRANCHBOT_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
           "BRANCHBOT_WEBHOOK_SECRET": SECRET, "BRANCHBOT_WEBHOOK_DELETE_ON_STOP": "off"}
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=PROJECT, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


TICKS = os.sysconf("SC_CLK_TCK")
IDLE_SECONDS = 2.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process (all its threads) has used so far, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:  # gone, or not Linux: counted as nothing
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def postgres_backends(url: str) -> list[int]:
    """The server processes serving this database's connections (on this machine)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")))
    finally:
        engine.dispose()


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


def serve_bare(port: int, token: str, base_url: str, webhook_url: str, concurrency: int) -> None:
    """The baseline process: a bare python-telegram-bot handler (the same two Telegram calls, no database) in
    PTB's own webhook server, what any PTB bot pays per press on this machine."""
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler  # noqa: PLC0415

    from bench.bench_checkin import bare_handler  # noqa: PLC0415

    app = ApplicationBuilder().token(token).base_url(base_url).concurrent_updates(concurrency).build()
    app.add_handler(CallbackQueryHandler(bare_handler))
    app.run_webhook(listen="127.0.0.1", port=port, url_path="telegram", secret_token=SECRET,
                    webhook_url=webhook_url, close_loop=False)


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def measure(url: str, members: int, processes: int, concurrency: int, spread: float, bare: bool = False) -> dict:
    warm_up_id, activity_id, _tomorrow = seed(url, members)
    world = Members(members)
    world.server.world.allow_http_webhooks = True
    ports = [free_port() for _ in range(processes)]
    proxy = TcpProxy([("127.0.0.1", port) for port in ports]).start()
    webhook_url = f"http://127.0.0.1:{proxy.port}/telegram"
    logs = Path(tempfile.mkdtemp(prefix="bench_webhook_"))
    running = [spawn(url, world, webhook_url, port, logs / f"bot{i}.log", concurrency, bare)
               for i, port in enumerate(ports)]
    try:
        for i, process in enumerate(running):
            wait_for(lambda: (listening(ports[i]) if bare else "webhook: listening" in (logs / f"bot{i}.log").read_text())
                     or process.poll() is not None, "a webhook process to listen")
            if process.poll() is not None:
                raise RuntimeError((logs / f"bot{i}.log").read_text()[-2000:])
        signer = CallbackSigner.from_token(world.token)
        users = [FIRST_USER + n for n in range(members)]
        warm = asyncio.run(send_reminders(world, users[:30], keyboards.reminder(signer, warm_up_id)))
        world.press(warm, 0.0, len(warm))
        presses = asyncio.run(send_reminders(world, users, keyboards.reminder(signer, activity_id)))
        # What the processes burn doing nothing (lease renewals, the dispatcher's and scheduler's polls).
        idle_before = [cpu_seconds(p.pid) for p in running]
        time.sleep(IDLE_SECONDS)
        idle = [(cpu_seconds(p.pid) - b) * 1000 / IDLE_SECONDS for p, b in zip(running, idle_before)]
        # CPU is the primary figure (the machine is shared): the bots, PostgreSQL's backends serving them, and
        # this process (the loopback Bot API server and the proxy), while the presses are answered and edited.
        backends = {pid: cpu_seconds(pid) for pid in postgres_backends(url)}
        before = [cpu_seconds(p.pid) for p in running], time.process_time()
        timings = world.press(presses, spread, len(presses))
        bots = [cpu_seconds(p.pid) - b for p, b in zip(running, before[0])]
        harness = time.process_time() - before[1]
        # Backends opened during the burst count from zero; one that closed meanwhile is not counted.
        database = sum(cpu_seconds(pid) - backends.get(pid, 0.0) for pid in postgres_backends(url))
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
    assert recorded == (0 if bare else members), f"{recorded} check-ins recorded for {members} presses"
    per_press = 1000 / members
    total = sum(bots) + database + harness
    return {**timings, "recorded": recorded, "per_process_connections": proxy.per_upstream,
            "bot_cpu_ms_per_update": sum(bots) * per_press,
            "per_process_cpu_ms_per_update": [round(b * per_press, 3) for b in bots],
            "per_process_idle_cpu_ms_per_s": [round(i, 2) for i in idle],
            "postgres_cpu_ms_per_update": database * per_press,
            "server_cpu_ms_per_update": harness * per_press,
            # What the machine's cores allow when the bots, PostgreSQL and Telegram's side (here: the loopback
            # server) share them: the ceiling of updates/s, whatever the wall clock measured this time.
            "cores": os.cpu_count(),
            "cpu_bound_updates_per_s": (os.cpu_count() or 1) * 1000 / (total * per_press) if total else None,
            "bots_only_cpu_bound_updates_per_s": (
                min(processes, os.cpu_count() or 1) * 1000 / (sum(bots) * per_press) if sum(bots) else None)}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--processes", default="1,2", help="process counts to measure, e.g. 1,2")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="each process's concurrent updates (BRANCHBOT_CHAT_CONCURRENCY; the bot's default: 16)")
    parser.add_argument("--spread", type=float, default=0.0, help="seconds over which the presses are spread")
    parser.add_argument("--bare", action="store_true",
                        help="also measure bare python-telegram-bot webhook processes (no database): the machine's "
                             "ceiling for any PTB bot")
    parser.add_argument("--serve-bare", nargs=5, metavar=("PORT", "TOKEN", "BASE_URL", "WEBHOOK_URL", "CONCURRENCY"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        port, token, base_url, webhook_url, concurrency = args.serve_bare
        serve_bare(int(port), token, base_url, webhook_url, int(concurrency))
        return
    for count in [int(c) for c in args.processes.split(",")]:
        for bare in (False, True) if args.bare else (False,):
            with scratch_postgres("branchbot_bench_webhook") as url:
                figures = measure(url, args.members, count, args.concurrency, args.spread, bare)
            report("webhook_checkin", database="postgresql", processes=count, members=args.members,
                   concurrency=args.concurrency, spread_s=args.spread, side="bare PTB" if bare else "branchbot",
                   **figures)


if __name__ == "__main__":
    run_main(main)
