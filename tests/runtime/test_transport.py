"""The aiohttp transport speaks the Bot API like PTB's own: results, errors, uploads, base_url."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.runtime.app import outbox_bot, telegram_sender
from bot.runtime.transport import AiohttpRequest, NotSent, WriteRefused
from loopback import BotApiServer
from bot.settings import Settings

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def server():
    async with BotApiServer() as server:
        server.add_user(501, "党员甲", started=True)
        yield server


async def test_sends_and_errors_map_to_ptb_exceptions(server):
    bot = outbox_bot(Settings(telegram_token=server.token, telegram_api_base_url=server.base_url))
    async with bot:
        send = telegram_sender(None, bot)  # type: ignore[arg-type]
        message_id = await send(501, "⏰ 活动提醒", None)
        assert server.chat(501).last["message_id"] == message_id
        server.faults.fail_next("sendMessage", status=429, retry_after=3)
        with pytest.raises(RetryAfter):
            await send(501, "再试", None)
        server.faults.fail_next("sendMessage", status=403)
        with pytest.raises(Forbidden):
            await send(501, "被屏蔽", None)
        server.faults.fail_next("sendMessage", status=502)
        with pytest.raises(NetworkError):
            await send(501, "网关错误", None)
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await send(999, "没有这个人", None)


async def test_uploads_go_as_multipart(server):
    bot = Bot(server.token, base_url=server.base_url, base_file_url=server.base_file_url,
              request=AiohttpRequest())
    async with bot:
        message = await bot.send_document(501, document=b"minutes", filename="minutes.txt", caption="会议记录")
    assert message.document.file_name == "minutes.txt"
    assert server.file_bytes(message.document.file_id) == b"minutes"


@pytest.mark.parametrize("answers, delivered", [
    pytest.param([True, True], True, id="trusted-to-the-end: written"),
    pytest.param([False], False, id="untrusted-when-decided: not even connected"),
    pytest.param([True, False], False, id="trust-lost-before-the-write: not written"),
])
async def test_the_fence_is_asked_again_right_before_the_bytes_are_written(server, answers, delivered):
    """A process frozen between deciding a send and aiohttp's body write (a task of its own) must not write it
    when it resumes after its lease ran out: the transport asks `may_write` in the same step as the write."""
    asked = iter(())

    def may_write() -> bool:
        return next(asked, True)  # getMe at start is written; then the answers under test

    bot = outbox_bot(Settings(telegram_token=server.token, telegram_api_base_url=server.base_url),
                     may_write=may_write)
    async with bot:
        send = telegram_sender(None, bot)  # type: ignore[arg-type]
        asked = iter(answers)
        if delivered:
            await send(501, "⏰ 活动提醒：支部党员大会", None)
        else:
            with pytest.raises(WriteRefused) as refused:
                await send(501, "⏰ 活动提醒：支部党员大会", None)
            assert isinstance(refused.value, NotSent), "the send policy may retry it without a double"
        assert next(asked, "all asked") == "all asked"
    assert [call.params["text"] for call in server.calls("sendMessage")] == (
        ["⏰ 活动提醒：支部党员大会"] if delivered else [])
