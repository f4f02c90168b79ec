"""Run the loopback Bot API server on its own: `python -m loopback --port 8081`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from loopback.faults import RateLimits
from loopback.server import DEFAULT_TOKEN, BotApiServer

FIRST_USER_ID = 100_001


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m loopback",
                                     description="本机 Telegram Bot API 模拟服务器（测试与沙盒用）")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 = any free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--lenient", action="store_true", help="ignore unknown parameters like Telegram does")
    parser.add_argument("--rate-limits", action="store_true", help="enforce Telegram's sending limits (429)")
    parser.add_argument("--users", type=int, default=0, metavar="N",
                        help=f"create N users who started the bot, ids {FIRST_USER_ID}, {FIRST_USER_ID + 1}, ...")
    parser.add_argument("--log-limit", type=int, default=10_000, help="keep about this many logged requests")
    return parser


async def serve(args: argparse.Namespace) -> None:
    server = BotApiServer(token=args.token, host=args.host, port=args.port, strict=not args.lenient,
                          rate_limits=RateLimits(enabled=args.rate_limits), log_limit=args.log_limit)
    for n in range(args.users):
        server.add_user(FIRST_USER_ID + n, f"用户{n + 1}", started=True)
    async with server:
        print(f"Bot API: {server.base_url}  token: {server.token}", flush=True)
        print(f"TELEGRAM_API_BASE_URL={server.base_url} TELEGRAM_BOT_TOKEN={server.token}", flush=True)
        await asyncio.Event().wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
