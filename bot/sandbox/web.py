"""The sandbox page's HTTP endpoints and its Server-Sent Events stream (aiohttp, loopback only)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import resources
from typing import Any, Protocol
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp import web

from bot import texts
from bot.runtime.loops import call_on_loop
from loopback.formatting import MAX_CAPTION_LENGTH, MAX_TEXT_LENGTH
from loopback.world import StoredFile
from bot.sandbox.people import Directory, Person
from bot.sandbox.timecontrol import Target, TimeControl

log = logging.getLogger(__name__)

STATIC_FILES = {"index.html": "text/html", "app.css": "text/css", "app.js": "text/javascript"}
# Comment lines keep proxies and the browser from timing the stream out while nothing happens.
SSE_KEEPALIVE_SECONDS = 15.0
MAX_QUEUED_EVENTS = 1000  # per open page; beyond this the page is told to reload instead
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # what a bot may download from Telegram
# Sent as a photo (shown inline); anything else goes as a document, as Telegram clients do.
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}


class PageError(Exception):
    """A request from the page that cannot be carried out; the message is shown to the person."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class SandboxBackend(Protocol):
    """What the page needs from the running sandbox (bot/sandbox/app.py provides it)."""

    zone: ZoneInfo
    time: TimeControl

    def directory(self) -> Directory: ...

    def bot_name(self) -> str: ...

    def chat_messages(self, chat_id: int) -> list[dict[str, Any]]: ...

    async def user_sends(self, person: Person, chat_id: int, text: str) -> dict[str, Any]: ...

    async def user_presses(self, person: Person, chat_id: int, message_id: int, data: str) -> None: ...

    async def user_sends_file(self, person: Person, chat_id: int, *, data: bytes, filename: str,
                              content_type: str, caption: str | None, as_photo: bool) -> dict[str, Any]: ...

    async def bind(self, person: Person) -> str: ...

    def file(self, file_id: str) -> StoredFile | None: ...

    def subscribe(self, callback: Callable[[dict[str, Any]], None]) -> None:
        """World events as the Bot API server emits them: message, edit, delete, callback_answer, people."""
        ...


# ---- views: what the page renders ------------------------------------------------------------

def _display_name(user: dict[str, Any] | None) -> str:
    if not user:
        return ""
    name = " ".join(part for part in (user.get("first_name"), user.get("last_name")) if part)
    return name or user.get("username") or str(user.get("id", ""))


def message_view(message: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """A Telegram Message as the page draws it: sender, text with entities, keyboard, media links, edited flag."""
    sender = message.get("from") or {}
    moment = datetime.fromtimestamp(int(message.get("edit_date") or message.get("date") or 0), timezone.utc)
    view: dict[str, Any] = {
        "message_id": message["message_id"],
        "chat_id": message["chat"]["id"],
        "from": {"id": sender.get("id"), "name": _display_name(sender), "is_bot": bool(sender.get("is_bot"))},
        "date": moment.isoformat(),
        "time_label": texts.short_moment(moment, zone),
        "text": message.get("text"),
        "entities": message.get("entities") or [],
        "caption": message.get("caption"),
        "caption_entities": message.get("caption_entities") or [],
        "reply_markup": _keyboard_view(message.get("reply_markup")),
        "edited": "edit_date" in message,
        "photo_url": None,
        "document": None,
    }
    photos = message.get("photo") or []
    if photos:
        largest = max(photos, key=lambda p: (p.get("width", 0) * p.get("height", 0), p.get("file_size", 0)))
        view["photo_url"] = f"files/{largest['file_id']}"
    document = message.get("document")
    if document:
        view["document"] = {"name": document.get("file_name") or texts.PAGE_FILE, "url": f"files/{document['file_id']}"}
    return view


def _keyboard_view(markup: Any) -> dict[str, Any] | None:
    # The Bot API server stores reply_markup decoded (spec validation turns JSON text into objects).
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    rows = [
        [{k: key[k] for k in ("text", "callback_data", "url") if k in key} for key in row]
        for row in markup["inline_keyboard"]
    ]
    return {"inline_keyboard": rows}


def chats_for(person: Person, directory: Directory) -> list[dict[str, Any]]:
    """The private chat with the bot first, then every group the person belongs to."""
    chats = [{"id": person.user_id, "type": "private", "title": texts.PAGE_PRIVATE_CHAT}]
    for chat_id in person.group_chat_ids:
        group = directory.group(chat_id)
        if group is not None:
            chats.append({"id": group.chat_id, "type": "group", "title": group.title})
    return chats


# ---- the event hub ----------------------------------------------------------------------------

class EventHub:
    """Fans world events out to every open page, each seeing only its own person's chats."""

    def __init__(self) -> None:
        self._queues: dict[asyncio.Queue[dict[str, Any]], Callable[[dict[str, Any]], bool]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def open(self, wants: Callable[[dict[str, Any]], bool]) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=MAX_QUEUED_EVENTS)
        self._queues[queue] = wants
        return queue

    def close(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._queues.pop(queue, None)

    def publish(self, event: dict[str, Any]) -> None:
        """Safe to call from any thread (the clock may jump from a worker)."""
        call_on_loop(self._loop, self._deliver, event)

    def _deliver(self, event: dict[str, Any]) -> None:
        for queue, wants in list(self._queues.items()):
            if not wants(event):
                continue
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A stalled tab: drop its backlog and have it reload its chats rather than grow without bound.
                log.warning("sandbox page too slow; asking it to reload its chats")
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait({"type": "chats", "chat_id": None})


# ---- the HTTP application -----------------------------------------------------------------------

BACKEND_KEY = web.AppKey("sandbox_backend", object)
HUB_KEY = web.AppKey("sandbox_hub", EventHub)


def _backend(request: web.Request) -> SandboxBackend:
    return request.app[BACKEND_KEY]  # type: ignore[return-value]


def _person(backend: SandboxBackend, raw: Any) -> Person:
    try:
        user_id = int(raw)
    except (TypeError, ValueError):
        raise PageError(texts.PAGE_NO_USER) from None
    person = backend.directory().person(user_id)
    if person is None:
        raise PageError(texts.PAGE_UNKNOWN_PERSON, status=404)
    return person


def _int_field(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise PageError(texts.page_field_missing(name))
    try:
        return int(value)
    except ValueError:
        raise PageError(texts.page_field_not_integer(name)) from None


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise PageError(texts.PAGE_NOT_JSON) from None
    if not isinstance(body, dict):
        raise PageError(texts.PAGE_NOT_JSON_OBJECT)
    return body


def _may_use_chat(person: Person, chat_id: int) -> bool:
    return chat_id == person.user_id or chat_id in person.group_chat_ids


def _require_chat(person: Person, chat_id: int) -> None:
    """The page acts only as a person in their own chats: the private one and their groups'."""
    if not _may_use_chat(person, chat_id):
        raise PageError(texts.PAGE_NOT_IN_CHAT, status=403)


@web.middleware
async def _errors(request: web.Request, handler):  # noqa: ANN001, ANN202 - aiohttp's middleware signature
    try:
        return await handler(request)
    except PageError as exc:
        return web.json_response({"ok": False, "error": exc.message}, status=exc.status)


async def index(request: web.Request) -> web.Response:
    return _static_response("index.html")


async def static_file(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound()
    return _static_response(name)


def _static_response(name: str) -> web.Response:
    data = resources.files("bot.sandbox").joinpath("static", name).read_bytes()
    return web.Response(body=data, content_type=STATIC_FILES[name], charset="utf-8", headers={"Cache-Control": "no-cache"})


async def people(request: web.Request) -> web.Response:
    backend = _backend(request)
    return web.json_response({"ok": True, "bot": backend.bot_name(), "people": [p.as_json() for p in backend.directory().people]})


async def chats(request: web.Request) -> web.Response:
    backend = _backend(request)
    person = _person(backend, request.query.get("user"))
    result = []
    for chat in chats_for(person, backend.directory()):
        messages = [message_view(m, backend.zone) for m in backend.chat_messages(chat["id"])]
        result.append({**chat, "messages": messages})
    return web.json_response({"ok": True, "person": person.as_json(), "chats": result})


async def send(request: web.Request) -> web.Response:
    backend = _backend(request)
    body = await _json_body(request)
    person = _person(backend, body.get("user_id"))
    chat_id = _int_field(body, "chat_id")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise PageError(texts.PAGE_EMPTY_MESSAGE)
    if len(text) > MAX_TEXT_LENGTH:
        raise PageError(texts.page_message_too_long(MAX_TEXT_LENGTH))
    _require_chat(person, chat_id)
    message = await backend.user_sends(person, chat_id, text)
    return web.json_response({"ok": True, "message": message_view(message, backend.zone)})


async def upload(request: web.Request) -> web.Response:
    """A photo or document from the person's computer, as a Telegram client would send it."""
    backend = _backend(request)
    if not request.content_type.startswith("multipart/"):
        raise PageError(texts.PAGE_NOT_MULTIPART)
    form = await request.post()
    person = _person(backend, form.get("user_id"))
    chat_id = _int_field(dict(form), "chat_id")
    _require_chat(person, chat_id)
    part = form.get("file")
    if not isinstance(part, web.FileField):
        raise PageError(texts.PAGE_NO_FILE)
    data = part.file.read()
    if not data:
        raise PageError(texts.PAGE_EMPTY_FILE)
    caption = form.get("caption")
    caption = caption.strip() if isinstance(caption, str) and caption.strip() else None
    if caption and len(caption) > MAX_CAPTION_LENGTH:
        raise PageError(texts.page_caption_too_long(MAX_CAPTION_LENGTH))
    content_type = part.content_type or "application/octet-stream"
    message = await backend.user_sends_file(
        person, chat_id, data=data, filename=part.filename or "file", content_type=content_type,
        caption=caption, as_photo=content_type in PHOTO_TYPES,
    )
    return web.json_response({"ok": True, "message": message_view(message, backend.zone)})


async def press(request: web.Request) -> web.Response:
    backend = _backend(request)
    body = await _json_body(request)
    person = _person(backend, body.get("user_id"))
    chat_id = _int_field(body, "chat_id")
    message_id = _int_field(body, "message_id")
    data = body.get("data")
    if not isinstance(data, str) or not data:
        raise PageError(texts.PAGE_NO_BUTTON_DATA)
    _require_chat(person, chat_id)
    await backend.user_presses(person, chat_id, message_id, data)
    return web.json_response({"ok": True})


async def bind(request: web.Request) -> web.Response:
    backend = _backend(request)
    body = await _json_body(request)
    person = _person(backend, body.get("user_id"))
    if person.bound:
        raise PageError(texts.page_already_bound(person.name))
    code = await backend.bind(person)
    return web.json_response({"ok": True, "code": code})


def _clock_json(backend: SandboxBackend, moment: datetime | None = None) -> dict[str, Any]:
    moment = moment or backend.time.now()
    return {"ok": True, "now": moment.isoformat(), "label": backend.time.label(moment), "timezone": backend.zone.key}


async def clock(request: web.Request) -> web.Response:
    return web.json_response(_clock_json(_backend(request)))


async def advance(request: web.Request) -> web.Response:
    backend = _backend(request)
    body = await _json_body(request)
    try:
        target = Target(body.get("to"))
    except ValueError:
        raise PageError(texts.PAGE_BAD_TARGET) from None
    result = await backend.time.advance(target)
    return web.json_response({**_clock_json(backend, result.now), "stops": result.stops, "description": result.description})


async def file(request: web.Request) -> web.Response:
    stored = _backend(request).file(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound()
    disposition = "inline" if stored.mime_type.startswith("image/") else "attachment"
    return web.Response(
        body=stored.data, content_type=stored.mime_type,
        headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(stored.file_name, safe='')}"},
    )


async def events(request: web.Request) -> web.StreamResponse:
    """One person's live stream: their chats' new and edited messages, the clock, the people list."""
    backend = _backend(request)
    person = _person(backend, request.query.get("user"))
    hub = request.app[HUB_KEY]
    chat_ids = {chat["id"] for chat in chats_for(person, backend.directory())}

    def wants(event: dict[str, Any]) -> bool:
        return event.get("chat_id") is None or event["chat_id"] in chat_ids

    queue = hub.open(wants)
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", "X-Accel-Buffering": "no",
    })
    await response.prepare(request)
    try:
        await response.write(b": connected\n\n")
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), SSE_KEEPALIVE_SECONDS)
            except asyncio.TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            payload = json.dumps(event, ensure_ascii=False)
            await response.write(f"data: {payload}\n\n".encode())
    except ConnectionResetError:  # the tab was closed
        pass
    finally:  # also on cancellation, when the sandbox shuts down
        hub.close(queue)
    return response


def event_json(event: dict[str, Any], zone: ZoneInfo) -> dict[str, Any] | None:
    """A world event as the page's stream carries it (messages in view form); None for what the page ignores."""
    kind = event.get("type")
    if kind in ("message", "edit"):
        return {"type": kind, "chat_id": event["chat_id"], "message": message_view(event["message"], zone)}
    if kind == "delete":
        return {"type": "delete", "chat_id": event["chat_id"], "message_id": event["message_id"]}
    if kind == "callback_answer":  # the little notice a client shows after a button press
        return {"type": "notice", "chat_id": event.get("chat_id"), "user_id": event.get("user_id"),
                "text": event.get("text") or "", "show_alert": bool(event.get("show_alert"))}
    if kind == "people":
        return {"type": "people", "chat_id": None}
    return None


def build_web_app(backend: SandboxBackend) -> web.Application:
    """The page's aiohttp application; events from the backend and clock jumps reach every open page."""
    app = web.Application(middlewares=[_errors], client_max_size=MAX_UPLOAD_BYTES + 64 * 1024)
    hub = EventHub()
    app[BACKEND_KEY] = backend
    app[HUB_KEY] = hub

    async def on_startup(_app: web.Application) -> None:
        hub.bind_loop(asyncio.get_running_loop())

    app.on_startup.append(on_startup)
    def forward(event: dict[str, Any]) -> None:
        page_event = event_json(event, backend.zone)
        if page_event is not None:
            hub.publish(page_event)

    backend.subscribe(forward)
    backend.time.clock.on_change(lambda moment: hub.publish({"type": "clock", "chat_id": None, **_clock_json(backend, moment)}))

    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static_file)
    app.router.add_get("/api/people", people)
    app.router.add_get("/api/chats", chats)
    app.router.add_post("/api/send", send)
    app.router.add_post("/api/press", press)
    app.router.add_post("/api/upload", upload)
    app.router.add_post("/api/bind", bind)
    app.router.add_get("/api/clock", clock)
    app.router.add_post("/api/clock/advance", advance)
    app.router.add_get("/api/events", events)
    app.router.add_get("/files/{file_id}", file)
    return app
