"""Benchmark: copies delivered when 3% of Telegram's answers are slow (#18.6), before and after the send policy.

Telegram answered 3% of sends after 12 s and delivered them anyway; with a 10 s read timeout and a prompt retry,
each became a second copy. This replays it at a tenth of the time (answers after 1.2 s) through the dispatcher,
the bot's transport and the loopback Bot API (which executes a slow request after its delay, like Telegram):

- `before`: read timeout 1.0 s (10 s), the retry after the usual back-off;
- `after`: `SendPolicy`'s defaults scaled the same way: read timeout 4.5 s (45 s), ambiguous pause 6 s (60 s).

One JSON line per policy: members, delivered, extra_copies, members_doubled, timeouts, ambiguous, retried.

    .venv/bin/python -m bench.bench_slow_answers [--members 500] [--share 0.03]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.bench_dispatch import FIRST_CHAT, seed
from bench.harness import report, run_main
from bot.callbacks import CallbackSigner
from bot.clock import SystemClock
from bot.runtime.app import outbox_bot, telegram_sender
from bot.handlers.outbox_views import build_outbox_renderers
from bot.runtime.dispatcher import Dispatcher
from bot.runtime.limiter import RateLimiter
from bot.runtime.quiet_hours import NO_QUIET_HOURS
from bot.runtime.sending import SendPolicy, SendTimeouts
from bot.settings import Settings
from loopback import BotApiServer
from loopback.faults import FaultDecision
from storage.db import make_engine, make_session_factory

SCALE = 0.1  # a tenth of real time
SLOW_ANSWER = 12.0 * SCALE
ZONE = ZoneInfo("Asia/Shanghai")
POLICIES = {
    "before": SendPolicy(timeouts=SendTimeouts(read=10.0 * SCALE), ambiguous_pause=timedelta(0)),
    "after": SendPolicy(timeouts=SendTimeouts(read=SendTimeouts.read * SCALE),
                        ambiguous_pause=SendPolicy().ambiguous_pause * SCALE),
}


async def run_policy(name: str, policy: SendPolicy, members: int, share: float, folder: Path) -> None:
    url = f"sqlite:///{folder / f'{name}.db'}"
    seed(url, members)  # one due reminder per member, chats FIRST_CHAT…
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    async with BotApiServer() as server:
        for index in range(members):
            server.add_user(FIRST_CHAT + index, f"党员{index}", started=True)
        rng = random.Random(3)
        planned = server.faults.decide

        def slow_share(method: str) -> FaultDecision | None:
            if method == "sendMessage" and rng.random() < share:
                return FaultDecision(delay=SLOW_ANSWER)
            return planned(method)

        server.faults.decide = slow_share  # type: ignore[method-assign]
        bot = outbox_bot(Settings(telegram_token=server.token, telegram_api_base_url=server.base_url),
                         timeouts=policy.timeouts)
        async with bot:
            dispatcher = Dispatcher(sessions, telegram_sender(None, bot), SystemClock(),  # type: ignore[arg-type]
                                    renderers=build_outbox_renderers(CallbackSigner.from_token(server.token),
                                                                     lambda: None),
                                    worker="bench", limiter=RateLimiter(enabled=False), zone=ZONE, quiet=NO_QUIET_HOURS, poll_seconds=0.2, sending=policy)
            task = asyncio.create_task(dispatcher.run())
            while dispatcher.stats.sent < members:
                await asyncio.sleep(0.05)
            await asyncio.sleep(SLOW_ANSWER + 0.3)  # the last slow answers, delivered after the client gave up
            dispatcher.stop()
            await task
        per_chat = Counter(r.params["chat_id"] for r in server.calls("sendMessage") if r.ok)
    engine.dispose()
    stats = dispatcher.stats
    report(f"slow_answers_{name}", members=members, delivered=sum(per_chat.values()),
           extra_copies=sum(per_chat.values()) - len(per_chat),
           members_doubled=sum(1 for count in per_chat.values() if count > 1),
           timeouts=stats.timeouts, ambiguous=stats.ambiguous, retried=stats.retried)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--share", type=float, default=0.03, help="share of slow answers (default 0.03)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        for name, policy in POLICIES.items():
            asyncio.run(run_policy(name, policy, args.members, args.share, Path(folder)))


if __name__ == "__main__":
    run_main(main)
