"""Injected failures and Telegram's rate limits, as python-telegram-bot sees them."""

from __future__ import annotations

import asyncio
import datetime as dtm
import warnings

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBDeprecationWarning

from loopback import BotApiServer, RateLimits

from tests.loopback.conftest import make_bot


def seconds(error: RetryAfter) -> float:
    """retry_after in seconds, whichever type this PTB version hands out (int now, timedelta later)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        pytest.param(500, NetworkError, "Internal Server Error", id="500-network-error"),
        pytest.param(502, NetworkError, "Bad Gateway", id="502-network-error"),
        pytest.param(503, NetworkError, "Service Unavailable", id="503-network-error"),
        pytest.param(403, Forbidden, "blocked by the user", id="403-forbidden"),
        pytest.param(400, BadRequest, "Injected failure", id="400-bad-request"),
    ],
)
async def test_fail_next_maps_to_ptb_errors(server, bot, alice, status, error, message) -> None:
    server.faults.fail_next("sendMessage", status=status)
    with pytest.raises(error, match=message):
        await bot.send_message(alice["id"], "提醒")
    assert server.chat(alice["id"]).messages == [], "a failed call is not executed"
    await bot.send_message(alice["id"], "提醒")  # one-shot: the next call goes through
    assert [m["text"] for m in server.chat(alice["id"]).messages] == ["提醒"]


async def test_429_carries_retry_after_for_the_given_number_of_calls(server, bot, alice) -> None:
    server.faults.fail_next("sendMessage", status=429, retry_after=3, times=2)

    for _ in range(2):
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(alice["id"], "提醒")
        assert seconds(caught.value) == 3
    await bot.send_message(alice["id"], "提醒")

    assert [r.outcome for r in server.calls("sendMessage")] == [
        "Too Many Requests: retry after 3", "Too Many Requests: retry after 3", "ok"]
    assert server.faults.pending == 0 and server.faults.injected == 2


async def test_faults_for_one_method_leave_others_alone(server, bot, alice) -> None:
    server.faults.fail_next("editMessageText", status=502)
    await bot.send_message(alice["id"], "提醒")
    assert server.faults.pending == 1


async def test_wildcard_fault_hits_any_method_but_get_updates(server, bot) -> None:
    server.faults.fail_next("*", status=502)
    assert await bot.get_updates(timeout=0) == ()
    with pytest.raises(NetworkError):
        await bot.get_me()


async def test_delay_next_makes_the_client_time_out_but_the_message_still_arrives(server, alice) -> None:
    server.faults.delay_next("sendMessage", 0.3)
    async with make_bot(server, read_timeout=0.05) as impatient:
        with pytest.raises(TimedOut):
            await impatient.send_message(alice["id"], "慢")
    await server.next_bot_request(method="sendMessage")
    assert [m["text"] for m in server.chat(alice["id"]).messages] == ["慢"]


def outcomes_with_random_faults(seed: int) -> list[str]:
    server = BotApiServer()
    server.faults.random(rate_429=0.2, rate_5xx=0.2, seed=seed)
    return [
        "429" if d and d.error and d.error.status == 429 else "5xx" if d and d.error else "ok"
        for d in (server.faults.decide("sendMessage") for _ in range(200))
    ]


def test_random_faults_are_reproducible_and_near_their_rates() -> None:
    first, again, other = outcomes_with_random_faults(1), outcomes_with_random_faults(1), outcomes_with_random_faults(2)
    assert first == again and first != other
    assert 20 <= first.count("429") <= 60 and 20 <= first.count("5xx") <= 60


def test_random_faults_spare_methods_that_do_not_send() -> None:
    server = BotApiServer()
    server.faults.random(rate_5xx=1.0, seed=1)
    assert server.faults.decide("getMe") is None and server.faults.decide("sendMessage") is not None


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def limited(clock: FakeClock):
    async with BotApiServer(clock=clock, rate_limits=RateLimits(enabled=True)) as running:
        yield running


async def test_one_message_per_second_per_private_chat(limited: BotApiServer, clock: FakeClock) -> None:
    user = limited.add_user(2001, "张三", started=True)
    async with make_bot(limited) as bot:
        await bot.send_message(user["id"], "一")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(user["id"], "二")
        assert seconds(caught.value) == 1
        clock.now += 1.0
        await bot.send_message(user["id"], "二")
    assert [m["text"] for m in limited.chat(user["id"]).messages] == ["一", "二"]


async def test_twenty_messages_per_minute_per_group(limited: BotApiServer, clock: FakeClock) -> None:
    group = limited.add_group(-5001, "第一党支部")
    async with make_bot(limited) as bot:
        for _ in range(20):
            await bot.send_message(group["id"], "通知")
            clock.now += 1.0  # stay within the per-chat limit
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(group["id"], "第21条")
        assert seconds(caught.value) == 40  # sent at t=0..19, now t=20: the first leaves at t=60
        clock.now += 40
        await bot.send_message(group["id"], "第21条")


async def test_thirty_messages_per_second_overall(limited: BotApiServer, clock: FakeClock) -> None:
    users = [limited.add_user(3000 + n, f"成员{n}", started=True) for n in range(31)]
    async with make_bot(limited) as bot:
        for user in users[:30]:
            await bot.send_message(user["id"], "提醒")
        with pytest.raises(RetryAfter):
            await bot.send_message(users[30]["id"], "提醒")
        clock.now += 1.0
        await bot.send_message(users[30]["id"], "提醒")


async def test_rate_limits_are_off_by_default(server: BotApiServer, bot, alice) -> None:
    for n in range(5):
        await bot.send_message(alice["id"], f"第{n}条")
    assert len(server.sent_to(alice["id"])) == 5


@pytest.mark.parametrize(
    ("latency", "expected_peak"),
    [pytest.param(0.05, 5, id="latency-lets-calls-overlap"), pytest.param(0.0, 1, id="sequential-calls-never-overlap")],
)
async def test_latency_makes_dispatch_concurrency_observable(server, bot, latency, expected_peak) -> None:
    users = [server.add_user(3000 + n, f"成员{n}", started=True) for n in range(5)]
    server.latency = latency
    if latency:
        await asyncio.gather(*(bot.send_message(u["id"], "提醒") for u in users))
    else:
        for user in users:
            await bot.send_message(user["id"], "提醒")
    assert server.max_in_flight == expected_peak
    assert all(len(server.sent_to(u["id"])) == 1 for u in users)


async def test_failed_calls_are_logged_with_typed_params(server, bot, alice) -> None:
    server.faults.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError):
        await bot.send_message(alice["id"], "提醒")
    assert server.calls("sendMessage")[0].params == {"chat_id": alice["id"], "text": "提醒"}


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        pytest.param(200, TelegramError, "Invalid server response", id="html-200-is-no-bot-api-answer"),
        pytest.param(502, NetworkError, "Bad Gateway", id="html-502-a-proxy-error-page"),
    ],
)
async def test_answer_html_stands_in_for_a_proxy_page_until_the_outage_ends(server, bot, alice, status, error,
                                                                             message) -> None:
    server.faults.answer_html(status=status)
    with pytest.raises(error, match=message):
        await bot.send_message(alice["id"], "提醒")
    assert server.chat(alice["id"]).messages == [], "nothing is done"
    server.faults.end_outage()
    await bot.send_message(alice["id"], "提醒")
    assert [m["text"] for m in server.chat(alice["id"]).messages] == ["提醒"]
