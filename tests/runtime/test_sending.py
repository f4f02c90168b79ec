"""A send whose answer is slow, lost or a 5xx: waited for, retried only after a pause, logged and counted (#18.6).

The loopback Bot API answers late (and still delivers, like Telegram), or fails; the bot sends through its real
transport with short timeouts, and the dispatcher runs on a manual clock, so the pause costs no real time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
from prometheus_client import generate_latest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.runtime.app import outbox_bot, telegram_sender
from bot.runtime.dispatcher import Dispatcher
from bot.runtime.health import ServiceMetrics, ServiceState
from bot.runtime.limiter import RateLimiter
from bot.runtime.sending import SendPolicy, SendTimeouts
from bot.settings import Settings
from loopback import BotApiServer
from storage import models
from storage.db import transaction
from tests.runtime.factories import SHANGHAI, at, renderers
from tests.runtime.test_dispatcher import Running, seed, settle
from tests.runtime.process import free_port

NOW = at("2025-03-12 09:00")
PAUSE = timedelta(seconds=60)


@dataclass(frozen=True)
class Case:
    fault: str  # "delay" (answered late, then delivered), "502", "refused" (no connection at all)
    delay: float
    read_timeout: float
    copies_now: int  # messages the member has before any retry
    next_try: timedelta | None  # from NOW; None: sent, nothing to retry
    timeouts: int
    ambiguous: int
    log: str | None  # the dispatcher's line about it ({row} is the outbox row's id)
    copies_after_pause: int | None = None


CASES = [
    pytest.param(Case("delay", 0.3, 1.0, 1, None, 0, 0, None), id="slow-answer-inside-the-timeout-is-one-copy"),
    pytest.param(Case("delay", 0.5, 0.2, 1, PAUSE, 1, 1,
                      "send: outbox row {row} to chat 1001 (attempt 1): no answer within 0.2 s; Telegram may have "
                      "delivered it; retrying in 60 s: possibly delivered twice", 2),
                 id="answer-after-the-timeout-retried-after-the-pause-and-counted"),
    pytest.param(Case("502", 0.0, 1.0, 0, PAUSE, 0, 1,
                      "send: outbox row {row} to chat 1001 (attempt 1): failed after the request was written "
                      "(NetworkError: Bad Gateway); Telegram may have delivered it; retrying in 60 s: possibly "
                      "delivered twice", 1),
                 id="5xx-after-writing-is-ambiguous"),
    pytest.param(Case("refused", 0.0, 1.0, 0, timedelta(seconds=0.5), 0, 0,
                      "send: outbox row {row} to chat 1001 (attempt 1): not sent (ConnectFailed: "
                      "aiohttp.ClientConnectorError: Cannot connect to host 127.0.0.1:{port} ssl:default "
                      "[Connect call failed ('127.0.0.1', {port})]); retrying in 0.5 s"),
                 id="no-connection-is-not-sent-and-retried-soon"),
]


def row_state(session_factory):
    with transaction(session_factory) as session:
        row = session.scalars(select(models.OutboxMessage)).one()
        return row.id, row.state, row.next_attempt_at


@pytest.mark.parametrize("case", CASES)
async def test_a_send_that_may_have_been_delivered_waits_for_the_pause(session_factory, case: Case, caplog):
    seed(session_factory, starts="2025-03-15 09:00", members=1, leads="4320", now="2025-03-10 09:00")
    clock = ManualClock(NOW)
    async with BotApiServer() as server:
        server.add_user(1001, "党员甲", started=True)
        port = free_port() if case.fault == "refused" else server.port
        base = f"http://127.0.0.1:{port}/bot"
        policy = SendPolicy(timeouts=SendTimeouts(read=case.read_timeout, connect=1.0), ambiguous_pause=PAUSE)
        bot = outbox_bot(Settings(telegram_token=server.token, telegram_api_base_url=base), timeouts=policy.timeouts)
        if case.fault == "delay":
            server.faults.delay_next("sendMessage", case.delay)
        elif case.fault == "502":
            server.faults.fail_next("sendMessage", status=502)
        # Only the transport is started: getMe would fail already on the closed port.
        await bot.request.initialize()
        try:
            dispatcher = Dispatcher(session_factory, telegram_sender(None, bot), clock, renderers=renderers(),  # type: ignore[arg-type]
                                    worker="test",
                                    limiter=RateLimiter(enabled=False), zone=SHANGHAI, poll_seconds=0.5,
                                    sending=policy)
            with caplog.at_level(logging.WARNING, logger="bot.runtime.sending"):
                async with Running(dispatcher):
                    await settle(dispatcher)
                    if case.fault == "delay":
                        await server.next_bot_request(method="sendMessage")  # the late answer, delivered
                    row, state, next_try = row_state(session_factory)
                    assert len(server.sent_to(1001)) == case.copies_now
                    if case.next_try is None:
                        assert state == "sent"
                    else:
                        assert (state, next_try) == ("pending", NOW + case.next_try)
                    assert (dispatcher.stats.timeouts, dispatcher.stats.ambiguous) == (case.timeouts, case.ambiguous)
                    said = [r.getMessage() for r in caplog.records if r.name == "bot.runtime.sending"]
                    assert said == ([case.log.format(row=row, port=port)] if case.log else [])
                    if case.copies_after_pause is not None:
                        clock.advance(PAUSE - timedelta(seconds=1))
                        await settle(dispatcher)
                        assert len(server.sent_to(1001)) == case.copies_now, "retried before the pause was over"
                        clock.advance(seconds=1)
                        await settle(dispatcher)
                        assert len(server.sent_to(1001)) == case.copies_after_pause
                        assert row_state(session_factory)[1] == "sent"
        finally:
            await bot.request.shutdown()


def test_metrics_show_timeouts_and_possibly_doubled_sends():
    state = ServiceState(mode="polling", holder="h")
    state.runtime = SimpleNamespace(dispatcher=SimpleNamespace(stats=SimpleNamespace(timeouts=2, ambiguous=3, retried=5)))
    metrics = ServiceMetrics(state, None, ManualClock(NOW))  # type: ignore[arg-type]
    lines = set(generate_latest(metrics.registry).decode().splitlines())
    assert {"branchbot_send_timeouts_total 2.0", "branchbot_outbox_ambiguous_total 3.0",
            "branchbot_outbox_retries_total 5.0"} <= lines


def test_sends_wait_longer_than_telegrams_slow_answers():
    # 12 s answers were measured (#18.6); the read timeout leaves room for several times that.
    assert SendPolicy().timeouts.read >= 30 and SendPolicy().ambiguous_pause >= timedelta(seconds=30)
