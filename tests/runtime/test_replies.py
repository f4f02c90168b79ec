"""Handler replies share the outbox's limiter, and a flood gets one answer and silence (#18.5).

The limiter runs on an injected clock (its sleeps move it), so pacing costs no real time; the loopback Bot API
counts what reached each chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from prometheus_client import generate_latest
from telegram import Chat, Message, Update, User
from telegram.error import RetryAfter

from bot.clock import ManualClock
from bot.runtime.app import build_application, shared_limiter
from bot.runtime.health import ServiceMetrics, ServiceState
from bot.runtime.limiter import RateLimiter
from bot.runtime import replies as reply_module
from bot.runtime.replies import ReplyDropped, ReplyLimiter, answering
from bot.settings import Settings
from loopback import BotApiServer
from tests.runtime.factories import SHANGHAI
from tests.runtime.fake_time import FakeTime
from tests.runtime.waiting import until

USER = 4242
WRONG_CODE = "绑定码不正确，请核对后重新发送，或向支部书记重新索取。"
THROTTLED = "错误次数过多，请 15 分钟后再试。"


async def test_a_thousand_wrong_codes_get_one_answer_then_one_a_second(session_factory, db_url):
    fake = FakeTime()
    async with BotApiServer() as server:
        server.add_user(USER, "洪水", started=True)
        settings = Settings(database_url=db_url, telegram_token=server.token, telegram_api_base_url=server.base_url,
                            timezone=SHANGHAI)
        limiter = RateLimiter(monotonic=fake.monotonic, sleep=fake.sleep)
        app = build_application(settings, ManualClock(datetime(2025, 3, 12, 1, tzinfo=timezone.utc)),
                                session_factory=session_factory, limiter=limiter, schedule_chat_jobs=False)
        replies = app.bot.rate_limiter
        assert isinstance(replies, ReplyLimiter) and shared_limiter(app) is limiter
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0)
            try:
                for _ in range(1000):
                    server.user_sends(USER, "/start WRONG")
                await until(lambda: replies.dropped + len(server.sent_to(USER)) == 1000, "every update handled")
                assert [m["text"] for m in server.sent_to(USER)] == [WRONG_CODE]
                assert replies.dropped == 999
                fake.now += 1.0  # a second later the same person is answered again
                server.user_sends(USER, "/start WRONG")
                await server.next_bot_request(method="sendMessage")
                assert [m["text"] for m in server.sent_to(USER)] == [WRONG_CODE, THROTTLED]
            finally:
                await app.updater.stop()
                await app.stop()
    state = ServiceState(mode="polling", holder="h", replies=replies)
    lines = set(generate_latest(ServiceMetrics(state, None, ManualClock(datetime.now(timezone.utc))).registry)  # type: ignore[arg-type]
                .decode().splitlines())
    assert "branchbot_replies_dropped_total 999.0" in lines


def update(update_id: int, chat_id: int, user_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE if chat_id > 0 else Chat.GROUP)
    message = Message(update_id, datetime(2025, 3, 12, tzinfo=timezone.utc), chat, from_user=User(user_id, "甲", False),
                      text="/x")
    return Update(update_id, message=message)


@dataclass(frozen=True)
class Send:
    at: float  # fake seconds when the update is handled
    update: tuple[int, int, int]  # (update id, its chat, its sender)
    to: int  # the chat the handler sends to


CASES = [
    pytest.param([Send(0, (1, 7, 7), 7), Send(0, (1, 7, 7), 7), Send(0, (1, 7, 7), 7)],
                 [("sent", 7, 0.0), ("sent", 7, 1.0), ("sent", 7, 2.0)], id="one-answer-of-three-messages-is-paced"),
    pytest.param([Send(0, (1, 7, 7), 7), Send(0.2, (2, 7, 7), 7), Send(1.5, (3, 7, 7), 7)],
                 [("sent", 7, 0.0), ("dropped", 7, None), ("sent", 7, 1.5)], id="a-second-update-within-a-second"),
    pytest.param([Send(0, (1, 7, 7), 7), Send(0.2, (2, 7, 7), 9)],
                 [("sent", 7, 0.0), ("sent", 9, 0.2)], id="a-notice-to-another-chat-is-never-dropped"),
    pytest.param([Send(0, (1, -5, 7), -5), Send(0.2, (2, -5, 8), -5)],
                 [("sent", -5, 0.0), ("sent", -5, 1.0)], id="two-people-in-a-group-both-answered"),
]


@pytest.mark.parametrize(("sends", "expected"), CASES)
async def test_replies_are_paced_on_the_shared_limiter_and_floods_dropped(sends: list[Send], expected):
    fake = FakeTime()
    replies = ReplyLimiter(RateLimiter(monotonic=fake.monotonic, sleep=fake.sleep))
    outcome = []

    async def callback(endpoint: str, data: dict) -> dict:  # noqa: ARG001
        return {"at": fake.now}

    for send in sends:
        fake.now = max(fake.now, send.at)
        with answering(update(*send.update)):
            try:
                result = await replies.process_request(callback, ("sendMessage", {"chat_id": send.to}), {},
                                                       "sendMessage", {"chat_id": send.to}, None)
                outcome.append(("sent", send.to, result["at"]))
            except ReplyDropped:
                outcome.append(("dropped", send.to, None))
    assert outcome == expected
    assert replies.dropped == sum(1 for o in expected if o[0] == "dropped")


async def test_with_the_limiter_off_nothing_is_dropped_or_delayed():
    fake = FakeTime()
    replies = ReplyLimiter(RateLimiter(enabled=False, monotonic=fake.monotonic, sleep=fake.sleep))

    async def callback(endpoint: str, data: dict) -> bool:  # noqa: ARG001
        return True

    for update_id in range(1, 4):
        with answering(update(update_id, 7, 7)):
            assert await replies.process_request(callback, ("sendMessage", {"chat_id": 7}), {}, "sendMessage",
                                                 {"chat_id": 7}, None) is True
    assert (replies.dropped, fake.now) == (0, 0.0)


@pytest.mark.parametrize(("floods", "sent", "waits"), [
    pytest.param(0, True, [], id="no-flood"),
    pytest.param(2, True, [7.0, 7.0], id="waits-out-two-429s"),
    pytest.param(4, False, [7.0, 7.0, 7.0], id="gives-up-after-three-waits"),
])
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter built with seconds
async def test_a_burst_reply_waits_out_429s_then_gives_up(monkeypatch, floods: int, sent: bool, waits: list[float]):
    waited: list[float] = []

    async def pause(seconds: float) -> None:  # nothing waits on wall-clock time: record the wait instead
        waited.append(seconds)

    monkeypatch.setattr(reply_module, "_pause", pause)
    left = [floods]

    async def send() -> str:
        if left[0]:
            left[0] -= 1
            raise RetryAfter(7)
        return "sent"

    if sent:
        assert await reply_module.waiting_out_floods(send) == "sent"
    else:
        with pytest.raises(RetryAfter):
            await reply_module.waiting_out_floods(send)
    assert waited == waits
