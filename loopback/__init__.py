"""loopback: a generic loopback Telegram Bot API server that checks every request against api.json (tests, benchmarks, the sandbox).

How tests use it
----------------
Start a server, point python-telegram-bot at it, drive the world as users would, observe what the bot did::

    async with BotApiServer() as server:                      # 127.0.0.1, ephemeral port, strict
        app = (ApplicationBuilder().token(server.token)
               .base_url(server.base_url).base_file_url(server.base_file_url).build())
        alice = server.add_user(first_name="张三", username="zhangsan")
        ...start the app (app.initialize(); app.start(); app.updater.start_polling(poll_interval=0))...
        server.user_sends(alice["id"], "/start CODE")          # private chat; /commands get bot_command entities
        reply = await server.next_bot_request(method="sendMessage")   # no sleeping: wakes on the call
        assert reply.params["text"].startswith("欢迎")
        query_id = server.user_presses(alice["id"], alice["id"], reply.result["message_id"], "checkin:42")
        await server.next_bot_request(method="answerCallbackQuery")
        assert server.callback_answers[query_id]["text"] == "已签到"
        assert server.chat(alice["id"]).last["text"] == ...  # edits applied

Every request is validated: unknown method -> 404 "Not Found"; wrong token -> 401; missing required field,
wrong type (recursively through nested objects such as InlineKeyboardMarkup, unions such as Integer or
String) -> 400 "Bad Request: ..."; with `strict=True` (the default) parameters the spec lacks are refused too
(Telegram would ignore them; we want to know). Telegram's semantic rules follow: text 1-4096 characters after
entity parsing (HTML, MarkdownV2, Markdown parsed for real), callback_data 1-64 bytes, exactly one action per
inline button, "chat not found", "message to edit not found", "message is not modified", "query is too old...",
403 "bot was blocked by the user" / "bot can't initiate conversation with a user". Spec methods the sandbox does
not implement are validated and then refused with 400 "Bad Request: method not supported by the sandbox".
Responses are real Telegram objects, so PTB deserialises them; in strict mode the server checks its own answers
against the spec's return types too, and inject_update() refuses an update whose shape Telegram never sends.

Public API (stable)
-------------------
BotApiServer(*, token=DEFAULT_TOKEN, host="127.0.0.1", port=0, strict=True, spec=None, clock=None,
             rate_limits=None, bot_username="branchbot_sandbox_bot", bot_name=..., privacy_mode=True,
             callback_query_ttl=900.0, latency=0.0, log_limit=None)
  lifecycle:   await start() / await stop() / `async with`; start_in_thread() -> self / stop_thread() (also
               `with server:`), for a bot in a subprocess (TELEGRAM_API_BASE_URL=server.base_url) or another
               loop; then every method below is safe to call from any thread.
  identity:    token, bot_id, bot_username, bot_user (dict), port, url, base_url (".../bot"),
               base_file_url (".../file/bot"), app (the aiohttp Application: add routes before start()).
  settings:    strict, latency (seconds added to every call but getUpdates), rate_limits (RateLimits:
               .enabled, per_chat_per_second=1, per_group_per_minute=20, global_per_second=30 -> 429 with
               parameters.retry_after), clock (`() -> epoch seconds` or a bot.clock.Clock; used for message
               dates and rate limits; callback queries expire after callback_query_ttl seconds of real time).
  webhooks:    with allow_http_webhooks=True setWebhook takes http:// URLs (like a local Bot API server); while a
               webhook is set, every queued update is POSTed to it (up to max_connections at once) with the
               X-Telegram-Bot-Api-Secret-Token header, and leaves the queue only when answered 200 (else it is
               offered again); webhook_deliveries lists (update_id, status); webhook_secret_override sends a
               wrong secret instead; getUpdates answers 409 meanwhile.
  faults:      server.faults.fail_next(method, status=429, retry_after=3, times=2) (method "*" = any but
               getUpdates; 5xx, 403, 400 alike), .delay_next(method, seconds, times=1) (answered late, then
               executed: a client timeout), .random(rate_429=0.01, rate_5xx=0.01, rate_403=0, seed=1),
               .block(user_id) / .unblock(user_id), .outage(method="*", status=502) / .end_outage(method=None)
               (every call fails right before it would execute, even one already waiting out `latency`:
               an outage that delivers nothing), .answer_html(method="*", status=200) (an HTML page instead of
               the Bot API, like a proxy's error page; ended by .end_outage), .clear(), .pending, .injected.
  world:       add_user(user_id=None, first_name="测试用户", *, username, last_name, language_code="zh-hans",
               started=False) -> User dict; add_group(chat_id, title, member_ids, *, supergroup=False,
               username=None) -> Chat dict; add_member / remove_member(chat_id, user_id);
               user_sends(user_id, text, chat_id=None, *, reply_to_message_id=None) -> Message dict (private
               chat by default, which also "starts" the bot; groups deliver only what privacy mode lets
               through: commands, replies to the bot, mentions); user_sends_photo(user_id, data, chat_id=None,
               *, caption, filename); user_sends_document(user_id, data, filename, chat_id=None, *, caption,
               mime_type); user_edits(user_id, chat_id, message_id, text) -> Message dict (edited_message
               update); user_presses(user_id, chat_id, message_id, callback_data) -> callback query id
               (SandboxError when no such button is on that message); inject_update(dict) -> update (raw,
               e.g. forged callback data; its callback query can be answered); user_blocks_bot(user_id);
               user_unblocks_bot(user_id); remove_bot_from_group(chat_id, by_user_id=None) (403 "bot was
               kicked" + a my_chat_member update); migrate_group(chat_id) -> supergroup Chat dict (the old id
               answers 400 with parameters.migrate_to_chat_id, PTB's ChatMigrated).
  observation: chat(chat_id) -> ChatSnapshot(.chat, .messages (edits applied, reply_markup included),
               .edits, .deleted_ids, .reply_keyboard, .texts, .last, .message(id), ChatSnapshot.buttons(msg));
               sent_to(chat_id) -> the bot's messages; requests -> [RequestRecord(index, method, params,
               outcome ("ok" or the error description), status, result, at, unknown)]; calls(method);
               callback_answers -> {query id: {text, show_alert, url, chat_id, message_id, user_id}};
               my_commands(scope=None, language_code=""); file_bytes(file_id); pending_updates(); users;
               clear_requests(); subscribe(callback) -> unsubscribe (events: message, edit, delete,
               callback_answer, chat_action, user_blocked; each a deep copy with "seq" and "at"; called on
               the server's loop); in_flight, max_in_flight (peak concurrent calls: dispatch concurrency),
               polls_waiting. `log_limit=N` keeps only about the last N..2N records (long sandbox sessions).
  waiting:     await next_bot_request(predicate=None, *, method=None, timeout=5.0) -> RequestRecord: the first
               call after the latest user action (or after the record it last returned) that matches;
               getUpdates skipped unless asked for. await wait_for_polling(timeout=5.0): until the bot's
               getUpdates long poll is parked here (the bot is up). await wait_idle(timeout=5.0, settle=0.02).
               From a thread while the server runs in its own: next_bot_request_sync(...),
               wait_for_polling_sync(...), wait_idle_sync(...).
               Timeouts are safety nets that raise TimeoutError, never the way a test waits.

getUpdates long-polls on asyncio events (an injected update wakes the poll at once), honours offset,
limit, timeout and allowed_updates, answers 409 while a webhook is set, and a newer poll terminates an older
one with 409 Conflict, like Telegram when two bot instances run. Files: sendPhoto/sendDocument store the
upload; getFile gives a file_path downloadable under base_file_url + token.

A bot in a subprocess: TELEGRAM_BOT_TOKEN=server.token, TELEGRAM_API_BASE_URL=server.base_url (PTB's
base_url; downloads need base_file_url, which is base_url with "/bot" replaced by "/file/bot").

Standalone: `python -m loopback --port 8081 [--token T] [--lenient] [--rate-limits] [--users N]`
(--users N: N users who started the bot, ids 100001...; the first line printed names the base URL).
"""

from __future__ import annotations

from loopback.faults import Faults, RateLimits, TelegramError
from loopback.server import (
    DEFAULT_BOT_USERNAME,
    DEFAULT_TOKEN,
    BotApiServer,
    RequestRecord,
)
from loopback.world import ChatSnapshot, SandboxError

__all__ = [
    "DEFAULT_BOT_USERNAME",
    "DEFAULT_TOKEN",
    "BotApiServer",
    "ChatSnapshot",
    "Faults",
    "RateLimits",
    "RequestRecord",
    "SandboxError",
    "TelegramError",
]
