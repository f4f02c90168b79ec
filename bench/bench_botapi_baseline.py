"""Benchmark: requests per second through the loopback Bot API server (raw HTTP and python-telegram-bot clients)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import aiohttp
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.request import HTTPXRequest

from bench.harness import measure, report, run_main
from loopback import DEFAULT_TOKEN, BotApiServer
from loopback.__main__ import FIRST_USER_ID

KEYBOARD = {"inline_keyboard": [[{"text": "✅ 签到", "callback_data": "checkin:1"},
                                 {"text": "📝 请假", "callback_data": "leave:1"}]]}


async def raw_http(server: BotApiServer, user_ids: list[int], total: int, concurrency: int) -> float:
    """JSON POSTs from aiohttp: the server's own ceiling (validation + world + logging)."""
    url = f"{server.base_url}{server.token}/sendMessage"
    queue = iter(range(total))

    async def worker(session: aiohttp.ClientSession) -> None:
        for n in queue:
            payload = {"chat_id": user_ids[n % len(user_ids)], "text": f"<b>提醒</b> 第{n}条", "parse_mode": "HTML",
                       "reply_markup": KEYBOARD}
            async with session.post(url, json=payload) as response:
                assert response.status == 200, await response.text()
                await response.read()

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return total / (time.perf_counter() - started)


async def ptb_bot(server: BotApiServer, user_ids: list[int], total: int, concurrency: int) -> float:
    """python-telegram-bot's Bot.send_message, as the dispatcher would call it."""
    request = HTTPXRequest(connection_pool_size=concurrency)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("✅ 签到", callback_data="checkin:1"),
                                      InlineKeyboardButton("📝 请假", callback_data="leave:1")]])
    queue = iter(range(total))
    async with Bot(server.token, base_url=server.base_url, request=request) as bot:
        async def worker() -> None:
            for n in queue:
                await bot.send_message(user_ids[n % len(user_ids)], f"<b>提醒</b> 第{n}条", parse_mode="HTML",
                                       reply_markup=keyboard)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - started)


async def separate_process(args: argparse.Namespace) -> float:
    """The server alone in its own process (python -m loopback): its throughput without our client."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "loopback", "--port", "0", "--users", str(args.users),
        stdout=asyncio.subprocess.PIPE, cwd=str(Path(__file__).resolve().parents[1]),
    )
    try:
        assert process.stdout is not None
        base_url = (await process.stdout.readline()).decode().split()[2]
        server = argparse.Namespace(base_url=base_url, token=DEFAULT_TOKEN)
        user_ids = [FIRST_USER_ID + n for n in range(args.users)]
        return await raw_http(server, user_ids, args.requests, args.concurrency)  # type: ignore[arg-type]
    finally:
        process.terminate()
        await process.wait()


async def run(args: argparse.Namespace) -> None:
    async with BotApiServer() as server:
        user_ids = [server.add_user(10_000 + n, f"成员{n}", started=True)["id"] for n in range(args.users)]
        with measure(trace_memory=False) as raw:
            raw_rps = await raw_http(server, user_ids, args.requests, args.concurrency)
        with measure(trace_memory=False) as ptb:
            ptb_rps = await ptb_bot(server, user_ids, args.ptb_requests, args.concurrency)
        assert len(server.requests) == args.requests + args.ptb_requests + 1  # + PTB's getMe
    separate_rps = await separate_process(args)
    report(
        "botapi_baseline",
        raw_requests=args.requests,
        raw_requests_per_s=raw_rps,
        raw_seconds=raw.seconds,
        server_process_requests_per_s=separate_rps,
        ptb_requests=args.ptb_requests,
        ptb_requests_per_s=ptb_rps,
        ptb_seconds=ptb.seconds,
        concurrency=args.concurrency,
        users=args.users,
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--ptb-requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--users", type=int, default=200)
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    run_main(main)
