"""The runtime's `build_application` carries the chat layer: menus published, commands and buttons answered."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.runtime.app import build_application
from loopback import BotApiServer
from bot.settings import Settings
from storage.db import transaction
from tests.chat.world import MEETING_START, SHANGHAI, build_world


async def test_build_application_serves_the_chat(db_url, session_factory):
    with transaction(session_factory) as session:
        world = build_world(session)
    async with BotApiServer(strict=True) as server:
        server.add_user(world.telegram["alice"], "张三", started=True)
        settings = Settings(database_url=db_url, telegram_token=server.token,
                            telegram_api_base_url=server.base_url, timezone=SHANGHAI)
        app = build_application(settings, ManualClock(MEETING_START - timedelta(minutes=5)),
                                session_factory=session_factory)
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0)
            try:
                await server.next_bot_request(method="setMyCommands")
                server.user_sends(world.telegram["alice"], "/checkin")
                reply = await server.next_bot_request(method="sendMessage")
                assert reply.params["text"] == "✅ 签到成功：「主题党日」，08:55。"
            finally:
                await app.updater.stop()
                await app.stop()
        assert [c["command"] for c in server.my_commands()][:2] == ["upcoming", "checkin"]


def test_register_adds_every_command_once(session_factory):
    from telegram.ext import ApplicationBuilder, CommandHandler

    from bot.callbacks import CallbackSigner
    from bot.handlers import ChatContext, register

    app = ApplicationBuilder().token("1:TEST").build()
    register(app, ChatContext(session_factory=session_factory, clock=ManualClock(MEETING_START), zone=SHANGHAI,
                              signer=CallbackSigner.from_token("1:TEST")), schedule_jobs=False)
    commands = [c for h in app.handlers[0] if isinstance(h, CommandHandler) for c in h.commands]
    assert sorted(commands) == sorted(set(commands))
    assert {"start", "help", "upcoming", "checkin", "leave", "me", "plan", "absent", "invite", "attendance",
            "schedule", "reschedule", "cancel", "tasks", "report", "calendar", "rectify", "rectifications", "talk",
            "talks"} == set(commands)
