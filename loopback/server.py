"""BotApiServer: the aiohttp loopback Bot API (validation, faults, rate limits, long polling, files, observation)."""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector, web

from loopback.faults import SENDING_METHODS, Faults, RateLimiter, RateLimits, TelegramError
from loopback.world import METHODS, ChatSnapshot, SandboxError, World, bad_request
from loopback.spec import ApiSpec, UploadedFile, ValidationError, load_spec

log = logging.getLogger(__name__)

DEFAULT_TOKEN = "7000000001:SANDBOX-branchbot-loopback-token-0000"
DEFAULT_BOT_USERNAME = "branchbot_sandbox_bot"
DEFAULT_BOT_NAME = "支部助手（沙盒）"
MAX_UPLOAD_BYTES = 50 * 2**20  # Telegram's limit for bots uploading files
_CONFLICT_SUPERSEDED = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
_CONFLICT_WEBHOOK = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
T = TypeVar("T")
# What a reverse proxy or a captive portal answers instead of the Bot API (faults.answer_html).
HTML_PAGE = ("<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center>"
             "<hr><center>nginx</center></body></html>")


@dataclass
class RequestRecord:
    """One Bot API call as the server saw it: typed params, and "ok" or the error description."""

    index: int
    method: str
    params: dict[str, Any]
    outcome: str
    status: int
    result: Any = None
    at: float = 0.0
    unknown: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == 200

    def __iter__(self) -> Iterator[Any]:  # `method, params, outcome = record`
        return iter((self.method, self.params, self.outcome))


@dataclass
class _Seen:
    """What one call carried, as far as it was understood: raw params until validated, typed after."""

    params: dict[str, Any] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)


def _clock_callable(clock: Any) -> Callable[[], float]:
    """Accept a `() -> float` epoch-seconds callable or a bot.clock.Clock (aware `now()`)."""
    if clock is None:
        return time.time
    now = getattr(clock, "now", None)
    if callable(now):
        return lambda: now().timestamp()
    if callable(clock):
        return clock
    raise TypeError("clock must be a callable returning epoch seconds or an object with now() -> datetime")


class BotApiServer:
    """The loopback Bot API server; see loopback for the public API and how tests use it."""

    def __init__(self, *, token: str = DEFAULT_TOKEN, host: str = "127.0.0.1", port: int = 0, strict: bool = True,
                 spec: ApiSpec | None = None, clock: Any = None, rate_limits: RateLimits | None = None,
                 bot_username: str = DEFAULT_BOT_USERNAME, bot_name: str = DEFAULT_BOT_NAME,
                 privacy_mode: bool = True, callback_query_ttl: float = 15 * 60, latency: float = 0.0,
                 log_limit: int | None = None, allow_http_webhooks: bool = False) -> None:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("token must look like Telegram's: '<bot id digits>:<secret>'")
        self.token = token
        self.host = host
        self.port = port
        self.strict = strict
        self.latency = latency
        self.spec = spec or load_spec()
        self.clock = _clock_callable(clock)
        self.rate_limits = rate_limits or RateLimits()
        self._limiter = RateLimiter(self.rate_limits, self.clock)
        self.bot_user: dict[str, Any] = {
            "id": int(bot_id), "is_bot": True, "first_name": bot_name, "username": bot_username,
            "can_join_groups": True, "can_read_all_group_messages": not privacy_mode,
            "supports_inline_queries": False, "can_connect_to_business": False, "has_main_web_app": False,
        }
        self.world = World(self.bot_user, self.clock, self._emit, self._on_update,
                           privacy_mode=privacy_mode, callback_query_ttl=callback_query_ttl)
        self.world.allow_http_webhooks = allow_http_webhooks
        self.faults = Faults(on_block=self.user_blocks_bot, on_unblock=self.user_unblocks_bot)
        # Webhook delivery: what each POST of an update answered, and a secret to send instead of the right one.
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status; 0 = no connection)
        self.webhook_secret_override: str | None = None
        self._webhook_signal: asyncio.Event | None = None
        self._webhook_task: asyncio.Task | None = None
        self.app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner: web.AppRunner | None = None
        # The request log; with `log_limit` only about the last log_limit records are kept (long sandbox
        # sessions, benchmarks). Record indexes and the cursor count from the very first request.
        self._log: list[RequestRecord] = []
        self._log_dropped = 0
        self._log_limit = log_limit
        self._cursor = 0
        self._subscribers: list[Callable[[dict[str, Any]], Any]] = []
        self._event_seq = 0
        self._in_flight = 0
        self.max_in_flight = 0  # peak of concurrent calls (getUpdates aside): observes dispatch concurrency
        self._activity = 0
        self._poll_generation = 0
        self._polls_waiting = 0
        self._updates_signal: asyncio.Event | None = None
        self._activity_signal: asyncio.Event | None = None
        self._stopping: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._thread_id: int | None = None

    # ----- lifecycle -----------------------------------------------------------------------------------

    @property
    def bot_id(self) -> int:
        return self.bot_user["id"]

    @property
    def bot_username(self) -> str:
        return self.bot_user["username"]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """PTB's `base_url` (it appends the token): http://127.0.0.1:PORT/bot"""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's `base_file_url` (it appends the token): http://127.0.0.1:PORT/file/bot"""
        return f"{self.url}/file/bot"

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self) -> BotApiServer:
        """Listen on host:port (0 = an ephemeral port, readable as `.port` afterwards)."""
        if self._runner is not None:
            raise RuntimeError("BotApiServer already started")
        self._loop = asyncio.get_running_loop()
        self._updates_signal = asyncio.Event()
        self._activity_signal = asyncio.Event()
        self._stopping = asyncio.Event()
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        self._webhook_signal = asyncio.Event()
        self._webhook_task = asyncio.create_task(self._deliver_webhooks(), name="loopback-webhook")
        sockets = site._server.sockets if site._server is not None else ()  # noqa: SLF001 - aiohttp exposes no public port
        if sockets:
            self.port = sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Release waiting long polls and delayed answers, then close the listener."""
        if self._runner is None:
            return
        assert self._stopping is not None
        self._stopping.set()
        self._wake_pollers()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            await asyncio.gather(self._webhook_task, return_exceptions=True)
            self._webhook_task = None
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> BotApiServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def start_in_thread(self, timeout: float = 10.0) -> BotApiServer:
        """Run the server on its own event loop in a daemon thread; returns once it is listening.

        For a bot in another process (`branchbot run` pointed at TELEGRAM_API_BASE_URL=server.base_url) or
        in another loop. The world and observation API may then be called from any thread.
        """
        if self._thread is not None:
            raise RuntimeError("BotApiServer already runs in a thread")
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            self._thread_id = threading.get_ident()
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop())
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=serve, name=f"botapi-{id(self):x}", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("BotApiServer did not start in time")
        if failure:
            self._thread = None
            raise failure[0]
        return self

    def stop_thread(self, timeout: float = 10.0) -> None:
        """Stop a server started with start_in_thread (idempotent)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if loop.is_running():
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None
        self._thread_id = None

    def __enter__(self) -> BotApiServer:
        return self.start_in_thread()

    def __exit__(self, *exc_info: object) -> None:
        self.stop_thread()

    # ----- calling into the server's loop from other threads ------------------------------------------

    def _foreign_thread(self) -> bool:
        return self._thread_id is not None and threading.get_ident() != self._thread_id

    def _run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if not self._foreign_thread():
            return function(*args, **kwargs)
        assert self._loop is not None

        async def call() -> T:
            return function(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(30)

    async def _await_on_server(self, coroutine: Awaitable[T]) -> T:
        """Await a coroutine that must run on the server's loop, from whichever loop the caller is on."""
        if not self._foreign_thread():
            return await coroutine
        assert self._loop is not None
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self._loop))  # type: ignore[arg-type]

    def _await_blocking(self, coroutine: Awaitable[T], timeout: float) -> T:
        if not self._foreign_thread():
            raise RuntimeError("the *_sync waits are for threads other than the server's; await the async form")
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout + 5)  # type: ignore[arg-type]

    # ----- driving the world ----------------------------------------------------------------------------

    def _as_user(self, action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a world action a user takes: the bot's next reaction is what comes after this point."""
        def act() -> T:
            self._cursor = self._log_dropped + len(self._log)
            return action(*args, **kwargs)
        return self._run(act)

    def add_user(self, user_id: int | None = None, first_name: str = "测试用户", *, username: str | None = None,
                 last_name: str | None = None, language_code: str | None = "zh-hans",
                 started: bool = False) -> dict[str, Any]:
        """A Telegram user; `started=True` opens their private chat as if they had pressed Start."""
        return self._run(self.world.add_user, user_id, first_name, username=username, last_name=last_name,
                         language_code=language_code, started=started)

    def add_group(self, chat_id: int | None, title: str, member_ids: list[int] | tuple[int, ...] = (), *,
                  supergroup: bool = False, username: str | None = None) -> dict[str, Any]:
        """A group (negative id) with the bot and these members in it; returns the Chat dict."""
        return self._run(self.world.add_group, chat_id, title, tuple(member_ids), supergroup=supergroup,
                         username=username)

    def add_member(self, chat_id: int, user_id: int) -> None:
        self._run(self.world.add_member, chat_id, user_id)

    def remove_member(self, chat_id: int, user_id: int) -> None:
        self._run(self.world.remove_member, chat_id, user_id)

    def remove_bot_from_group(self, chat_id: int, by_user_id: int | None = None) -> None:
        """Kick the bot: sends to the group answer 403 "bot was kicked", and a my_chat_member update is queued."""
        self._as_user(self.world.remove_bot_from_group, chat_id, by_user_id)

    def migrate_group(self, chat_id: int) -> dict[str, Any]:
        """Upgrade a basic group to a supergroup; the old id then answers 400 with migrate_to_chat_id."""
        return self._run(self.world.migrate_group, chat_id)

    def user_sends(self, user_id: int, text: str, chat_id: int | None = None, *,
                   reply_to_message_id: int | None = None) -> dict[str, Any]:
        """The user types `text` (private chat unless chat_id); commands get bot_command entities."""
        return self._as_user(self.world.user_sends, user_id, text, chat_id,
                             reply_to_message_id=reply_to_message_id)

    def user_sends_photo(self, user_id: int, data: bytes, chat_id: int | None = None, *,
                         caption: str | None = None, filename: str = "photo.jpg") -> dict[str, Any]:
        return self._as_user(self.world.user_sends_photo, user_id, data, chat_id, caption=caption,
                             filename=filename)

    def user_sends_document(self, user_id: int, data: bytes, filename: str, chat_id: int | None = None, *,
                            caption: str | None = None, mime_type: str | None = None) -> dict[str, Any]:
        return self._as_user(self.world.user_sends_document, user_id, data, filename, chat_id, caption=caption,
                             mime_type=mime_type)

    def user_edits(self, user_id: int, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        """The user edits one of their text messages; the bot gets an edited_message update."""
        return self._as_user(self.world.user_edits, user_id, chat_id, message_id, text)

    def user_presses(self, user_id: int, chat_id: int, message_id: int, callback_data: str) -> str:
        """The user presses an inline button that exists on that message; returns the callback query id."""
        return self._as_user(self.world.user_presses, user_id, chat_id, message_id, callback_data)

    def user_blocks_bot(self, user_id: int) -> None:
        self._run(self.world.user_blocks_bot, user_id)

    def user_unblocks_bot(self, user_id: int) -> None:
        self._run(self.world.user_unblocks_bot, user_id)

    def inject_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update exactly as given (e.g. a callback_query with forged data)."""
        try:
            self.spec.validate_type("Update", {"update_id": 1, **update}, "update")
        except ValidationError as exc:
            raise SandboxError(f"Telegram never sends such an update: {exc.description}") from None
        return self._as_user(self.world.inject_update, update)

    # ----- observation ---------------------------------------------------------------------------------

    def chat(self, chat_id: int) -> ChatSnapshot:
        """The chat now: `.messages` with edits applied (inline keyboards included), `.edits`, `.deleted_ids`."""
        return self._run(self.world.snapshot, chat_id)

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in a chat, current versions, oldest first (deleted ones left out)."""
        return self._run(self.world.sent_to, chat_id)

    @property
    def requests(self) -> list[RequestRecord]:
        """Every Bot API call so far, in order of completion (getUpdates included)."""
        return self._run(lambda: list(self._log))

    def calls(self, method: str) -> list[RequestRecord]:
        """The logged calls of one method."""
        return [record for record in self.requests if record.method == method]

    @property
    def callback_answers(self) -> dict[str, dict[str, Any]]:
        """answerCallbackQuery per query id: text, show_alert, url, chat_id, message_id, user_id."""
        return self._run(lambda: {k: dict(v) for k, v in self.world.callback_answers.items()})

    @property
    def users(self) -> dict[int, dict[str, Any]]:
        return self._run(lambda: {k: dict(v) for k, v in self.world.users.items()})

    def my_commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, Any]]:
        """What setMyCommands stored for a scope (default scope when None) and language."""
        params = {"scope": scope, "language_code": language_code}
        return self._run(self.world.get_my_commands, params)

    def file_bytes(self, file_id: str) -> bytes:
        stored = self._run(self.world.files.get, file_id)
        if stored is None:
            raise SandboxError(f"no file {file_id}")
        return stored.data

    def pending_updates(self) -> int:
        """Updates queued and not yet confirmed by the bot (via getUpdates offset)."""
        return self._run(lambda: len(self.world.updates))

    def clear_requests(self) -> None:
        def clear() -> None:
            self._log_dropped += len(self._log)
            self._log.clear()
            self._cursor = self._log_dropped
        self._run(clear)

    def subscribe(self, callback: Callable[[dict[str, Any]], Any]) -> Callable[[], None]:
        """Call `callback(event)` on every world change, on the server's loop; returns an unsubscribe function.

        Events: {"type": "message"|"edit"|"delete"|"callback_answer"|"chat_action"|"user_blocked", "seq", ...}
        with chat_id/message (and "previous" for edits). Coroutine callbacks are scheduled as tasks.
        """
        self._run(self._subscribers.append, callback)

        def unsubscribe() -> None:
            def remove() -> None:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)
            self._run(remove)
        return unsubscribe

    def _emit(self, event: dict[str, Any]) -> None:
        self._event_seq += 1
        if not self._subscribers:
            return
        # Subscribers may keep or change what they get; the world's own dicts stay untouched.
        event = copy.deepcopy({"seq": self._event_seq, "at": self.clock(), **event})
        for callback in list(self._subscribers):
            try:
                outcome = callback(event)
                if inspect.isawaitable(outcome):
                    asyncio.ensure_future(outcome)
            except Exception:  # noqa: BLE001 - a broken subscriber must not break the Bot API
                log.exception("sandbox subscriber failed on %s", event.get("type"))

    # ----- awaiting the bot ----------------------------------------------------------------------------

    async def next_bot_request(self, predicate: Callable[[RequestRecord], bool] | None = None, *,
                               method: str | None = None, timeout: float = 5.0) -> RequestRecord:
        """The bot's next call after the last user action (or the last call returned here) that matches.

        getUpdates is skipped unless `method="getUpdates"`. Wakes on the call itself; `timeout` is only a
        safety net (raises TimeoutError).
        """
        return await self._await_on_server(self._next_bot_request(predicate, method, timeout))

    def next_bot_request_sync(self, predicate: Callable[[RequestRecord], bool] | None = None, *,
                              method: str | None = None, timeout: float = 5.0) -> RequestRecord:
        """next_bot_request for a test thread while the server runs via start_in_thread."""
        return self._await_blocking(self._next_bot_request(predicate, method, timeout), timeout)

    async def _next_bot_request(self, predicate: Callable[[RequestRecord], bool] | None, method: str | None,
                                timeout: float) -> RequestRecord:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for position in range(max(self._cursor - self._log_dropped, 0), len(self._log)):
                record = self._log[position]
                index = record.index
                if method is not None and record.method != method:
                    continue
                if method is None and record.method == "getUpdates":
                    continue
                if predicate is None or predicate(record):
                    self._cursor = index + 1
                    return record
            await self._wait_activity(deadline, "no matching bot request")

    async def _wait_activity(self, deadline: float, what: str) -> None:
        assert self._activity_signal is not None, "start the server first"
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise TimeoutError(f"{what} within the timeout")
        signal = self._activity_signal
        try:
            await asyncio.wait_for(signal.wait(), remaining)
        except asyncio.TimeoutError:
            raise TimeoutError(f"{what} within the timeout") from None

    async def wait_idle(self, timeout: float = 5.0, settle: float = 0.02) -> None:
        """Until every queued update was fetched and confirmed, no call is in flight, and nothing happened for
        `settle` seconds. Prefer next_bot_request: idleness of a client is only observable this way."""
        await self._await_on_server(self._wait_idle(timeout, settle))

    def wait_idle_sync(self, timeout: float = 5.0, settle: float = 0.02) -> None:
        self._await_blocking(self._wait_idle(timeout, settle), timeout)

    async def _wait_idle(self, timeout: float, settle: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if not self.world.updates and self._in_flight == 0:
                marker = self._activity
                await asyncio.sleep(settle)
                if marker == self._activity and not self.world.updates and self._in_flight == 0:
                    return
                continue
            await self._wait_activity(deadline, "the bot did not become idle")

    async def wait_for_polling(self, timeout: float = 5.0) -> None:
        """Until a getUpdates long poll is waiting on the server (the bot is up and listening)."""
        await self._await_on_server(self._wait_for_polling(timeout))

    def wait_for_polling_sync(self, timeout: float = 5.0) -> None:
        self._await_blocking(self._wait_for_polling(timeout), timeout)

    async def _wait_for_polling(self, timeout: float) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while self._polls_waiting == 0:
            await self._wait_activity(deadline, "no getUpdates long poll arrived")

    @property
    def in_flight(self) -> int:
        """Calls being handled right now (getUpdates aside)."""
        return self._in_flight

    @property
    def polls_waiting(self) -> int:
        """How many getUpdates long polls are parked on the server right now."""
        return self._polls_waiting

    def _touch(self) -> None:
        self._activity += 1
        if self._activity_signal is not None:
            self._activity_signal.set()
            self._activity_signal = asyncio.Event()

    def _on_update(self) -> None:
        self._touch()
        self._wake_pollers()
        if self._webhook_signal is not None:
            self._webhook_signal.set()

    async def _deliver_webhooks(self) -> None:
        """While a webhook is set, POST each pending update to it (up to max_connections at once), with the
        X-Telegram-Bot-Api-Secret-Token header; an update leaves the queue only when answered 200, else it is
        offered again shortly, as Telegram retries."""
        assert self._webhook_signal is not None
        posting: set[int] = set()
        tasks: set[asyncio.Task] = set()
        session: ClientSession | None = None
        try:
            while True:
                hook = self.world.webhook
                pending = [u for u in self.world.updates if u["update_id"] not in posting] if hook else []
                room = int((hook or {}).get("max_connections") or 40) - len(posting)
                if not pending or room <= 0:
                    self._webhook_signal.clear()
                    try:
                        await asyncio.wait_for(self._webhook_signal.wait(), 0.2)
                    except asyncio.TimeoutError:
                        pass
                    continue
                if session is None:
                    session = ClientSession(connector=TCPConnector(limit=0), timeout=ClientTimeout(total=30))
                for update in pending[:room]:
                    posting.add(update["update_id"])
                    task = asyncio.create_task(self._post_update(session, hook["url"], update, posting))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if session is not None:
                await session.close()

    async def _post_update(self, session: ClientSession, url: str, update: dict[str, Any], posting: set[int]) -> None:
        secret = self.webhook_secret_override or self.world.webhook_secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        try:
            async with session.post(url, json=update, headers=headers) as answer:
                status = answer.status
                await answer.read()
        except (ClientError, OSError, asyncio.TimeoutError):
            status = 0
        self.webhook_deliveries.append((update["update_id"], status))
        if status == 200:
            self.world.updates = [u for u in self.world.updates if u["update_id"] != update["update_id"]]
            self._touch()
        else:
            await asyncio.sleep(0.1)
        posting.discard(update["update_id"])
        if self._webhook_signal is not None:
            self._webhook_signal.set()

    def _wake_pollers(self) -> None:
        if self._updates_signal is not None:
            self._updates_signal.set()
            self._updates_signal = asyncio.Event()

    # ----- HTTP ----------------------------------------------------------------------------------------

    @staticmethod
    def _json(body: dict[str, Any], status: int = 200) -> web.Response:
        return web.Response(body=json.dumps(body, ensure_ascii=False).encode("utf-8"), status=status,
                            content_type="application/json")

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], bool]:
        if request.method == "GET" or not request.can_read_body:
            return dict(request.query), True
        if request.content_type == "application/json":
            try:
                body = json.loads(await request.read() or b"{}")
            except ValueError:
                raise bad_request("can't parse JSON request body") from None
            if not isinstance(body, dict):
                raise bad_request("the JSON request body must be an object")
            return {**request.query, **body}, False
        form = await request.post()
        params: dict[str, Any] = dict(request.query)
        for name, value in form.items():
            if isinstance(value, web.FileField):
                params[name] = UploadedFile(value.filename or name, value.content_type or "", value.file.read())
            else:
                params[name] = value
        return params, True

    async def _handle_method(self, request: web.Request) -> web.Response:
        html = self.faults.html_status(request.match_info["method"])
        if html is not None:
            return web.Response(text=HTML_PAGE.format(status=html), status=html, content_type="text/html")
        if request.match_info["token"] != self.token:
            return self._json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        method = self.spec.canonical_method(request.match_info["method"])
        if method is None:
            return self._json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        counted = method != "getUpdates"
        if counted:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            self._touch()
        seen = _Seen()
        try:
            raw, form_encoded = await self._read_params(request)
            seen.params = raw
            result = await self._call(method, raw, form_encoded, seen)
            status, body = 200, {"ok": True, "result": result}
        except TelegramError as error:
            status, body, result = error.status, error.body(), None
        except Exception:  # noqa: BLE001 - a sandbox bug must surface, not hang the client
            log.exception("sandbox Bot API failed on %s", method)
            status, body, result = 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}, None
        finally:
            if counted:
                self._in_flight -= 1
        record = RequestRecord(index=self._log_dropped + len(self._log), method=method, params=seen.params,
                               outcome="ok" if status == 200 else body["description"], status=status,
                               result=result, at=self.clock(), unknown=seen.unknown)
        self._log.append(record)
        if self._log_limit is not None and len(self._log) > 2 * self._log_limit:
            dropped = len(self._log) - self._log_limit
            del self._log[:dropped]
            self._log_dropped += dropped
        self._touch()
        if status != 200 and status != 429 and method != "getUpdates":
            log.debug("sandbox Bot API %s -> %s %s", method, status, body["description"])
        return self._json(body, status)

    async def _call(self, method: str, raw: dict[str, Any], form_encoded: bool, seen: _Seen) -> Any:
        try:
            checked = self.spec.validate(method, raw, form_encoded=form_encoded)
        except ValidationError as exc:
            raise bad_request(exc.description) from None
        params = seen.params = checked.params  # from here on the log shows typed values, failures included
        seen.unknown = checked.unknown
        if checked.unknown and self.strict:
            raise bad_request(
                f"unknown parameter(s) {', '.join(checked.unknown)} for {method} "
                f"(the sandbox is strict: {self.spec.version} has no such field)"
            )
        decision = self.faults.decide(method)
        if decision is not None:
            if decision.delay:
                await self._pause(decision.delay)
            if decision.error is not None:
                raise decision.error
        if self.latency > 0 and method != "getUpdates":
            await self._pause(self.latency)
        if method == "getUpdates":
            # Updates are checked where they enter the world (inject_update), not on the way out.
            return await self._get_updates(params)
        handler = METHODS.get(method)
        if handler is None:
            raise bad_request(f"method not supported by the sandbox ({method})")
        outage = self.faults.outage_error(method)
        if outage is not None:
            raise outage
        if method in SENDING_METHODS and self.rate_limits.enabled:
            state = self.world.writable_chat(params["chat_id"])
            refusal = self._limiter.check(state.chat["id"], state.is_group)
            if refusal is not None:
                raise refusal
        result = handler(self.world, params)
        if method == "setWebhook" and self._webhook_signal is not None:
            self._webhook_signal.set()
        if self.strict:
            self._check_result(method, result)
        return result

    def _check_result(self, method: str, result: Any) -> None:
        """Strict mode also holds the sandbox to the spec: an answer PTB could misread is a sandbox bug."""
        try:
            unknown = self.spec.check_result(method, result)
        except ValidationError as exc:
            raise RuntimeError(f"sandbox answered {method} with an invalid result: {exc.description}") from None
        if unknown:
            raise RuntimeError(f"sandbox answered {method} with fields the spec lacks: {', '.join(unknown)}")

    async def _pause(self, seconds: float) -> None:
        """Sleep, but end early when the server stops (no request outlives the server)."""
        assert self._stopping is not None
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except asyncio.TimeoutError:
            return

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.world.webhook:
            raise TelegramError(409, _CONFLICT_WEBHOOK)
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = max(int(params.get("timeout", 0)), 0)
        offset = params.get("offset")
        if "allowed_updates" in params:
            self.world.allowed_updates = set(params["allowed_updates"]) or None
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()  # an older long poll learns it was superseded
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        assert self._stopping is not None
        while True:
            if generation != self._poll_generation:
                raise TelegramError(409, _CONFLICT_SUPERSEDED)
            updates = self.world.take_updates(offset, limit, self.world.allowed_updates)
            remaining = deadline - loop.time()
            if updates or remaining <= 0 or self._stopping.is_set():
                return updates
            signal = self._updates_signal
            assert signal is not None
            self._polls_waiting += 1
            self._touch()
            try:
                await asyncio.wait_for(signal.wait(), remaining)
            except asyncio.TimeoutError:
                pass
            finally:
                self._polls_waiting -= 1

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        stored = self.world.file_by_path(request.match_info["path"])
        if stored is None:
            return self._json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return web.Response(body=stored.data, content_type=stored.mime_type)
