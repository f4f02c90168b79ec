"""The server on its own thread (for a bot in another process or loop) and run standalone as a module."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from loopback import BotApiServer

from tests.loopback.conftest import make_bot

PROJECT = Path(__file__).resolve().parents[2]


def call(server: BotApiServer, method: str, **params: object) -> dict:
    """A Bot API call over plain HTTP from this (non-event-loop) thread."""
    request = urllib.request.Request(
        f"{server.base_url}{server.token}/{method}", data=json.dumps(params).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read())


@pytest.fixture
def threaded():
    server = BotApiServer().start_in_thread()
    try:
        yield server
    finally:
        server.stop_thread()


def test_world_and_observation_work_from_the_test_thread(threaded: BotApiServer) -> None:
    user = threaded.add_user(2001, "张三", started=True)

    answer = call(threaded, "sendMessage", chat_id=user["id"], text="提醒")

    assert answer["ok"] and answer["result"]["text"] == "提醒"
    assert [m["text"] for m in threaded.chat(user["id"]).messages] == ["提醒"]
    assert threaded.next_bot_request_sync(method="sendMessage").params["text"] == "提醒"


def test_a_bot_on_another_event_loop_is_observed_without_sleeping(threaded: BotApiServer) -> None:
    user = threaded.add_user(2001, "张三")
    events: list[str] = []
    threaded.subscribe(lambda event: events.append(event["type"]))

    async def bot_side() -> None:
        async with make_bot(threaded) as bot:
            updates = await bot.get_updates(timeout=5)  # woken by the user's message, not by the timeout
            await bot.send_message(updates[0].message.chat_id, f"收到：{updates[0].message.text}")
            await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)

    async def test_side() -> None:
        bot_task = asyncio.create_task(bot_side())
        await threaded.wait_for_polling()
        threaded.user_sends(user["id"], "你好")
        reply = await threaded.next_bot_request(method="sendMessage")
        await bot_task
        assert reply.params["text"] == "收到：你好"

    asyncio.run(test_side())
    threaded.wait_idle_sync()
    assert events == ["message", "message"]
    assert threaded.pending_updates() == 0


def test_stop_thread_releases_a_waiting_long_poll(threaded: BotApiServer) -> None:
    async def poll_then_stop() -> None:
        async with make_bot(threaded, read_timeout=30) as bot:
            waiting = asyncio.create_task(bot.get_updates(timeout=25))
            await threaded.wait_for_polling()
            await asyncio.to_thread(threaded.stop_thread)
            assert await waiting == ()

    asyncio.run(poll_then_stop())
    assert not threaded.running


def test_standalone_module_serves_the_bot_api() -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "loopback", "--port", "0", "--token", "123:abc"],
        cwd=PROJECT, env=env, stdout=subprocess.PIPE, text=True,
    )
    try:
        first_line = process.stdout.readline()
        base_url = first_line.split()[2]
        with urllib.request.urlopen(f"{base_url}123:abc/getMe", timeout=5) as response:
            me = json.loads(response.read())
        assert me["ok"] and me["result"]["id"] == 123
    finally:
        process.terminate()
        process.wait(timeout=5)
