"""What every webhook deployment test checks the same way: Telegram's secret_token, refused and then accepted."""

from __future__ import annotations

from collections.abc import Callable

from loopback import BotApiServer
from tests.runtime.waiting import wait_until


def wrong_secret_refused_then_handled_once(server: BotApiServer, chat: int,
                                           replies: Callable[[BotApiServer, int], list[str]]) -> None:
    """`chat` sends /help with the wrong secret on the delivery: refused (403) and never handled; delivered again
    with the right one, it is handled once. `replies` are the bot's answers to `chat` that the test counts."""
    server.webhook_secret_override = "not-the-secret"
    server.user_sends(chat, "/help")
    refused = server.world.next_update_id - 1
    wait_until(lambda: (refused, 403) in server.webhook_deliveries, "a refused delivery")
    assert replies(server, chat) == [], "an update with the wrong secret is never handled"
    server.webhook_secret_override = None
    wait_until(lambda: len(replies(server, chat)) == 1, "the same update, with the right secret, handled once")
    assert (refused, 200) in server.webhook_deliveries
