"""The sandbox's Telegram world: users, chats, messages with edit history, files, updates, and the Bot API methods on it."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from loopback.faults import TelegramError
from loopback.formatting import (
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    PARSE_MODES,
    command_entities,
    parse_formatted,
    strip_text,
    utf16_length,
)
from loopback.spec import UploadedFile, ValidationError

# Every optional field of InlineKeyboardButton except these names the button's action; exactly one must be set.
_BUTTON_DECORATIONS = {"text", "icon_custom_emoji_id", "style"}
_CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice", "upload_document",
    "choose_sticker", "find_location", "record_video_note", "upload_video_note",
}
_COMMAND_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")
# Telegram's own answer for unknown, answered or expired callback queries.
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
UPDATE_TYPES = (
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages", "message_reaction",
    "message_reaction_count", "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
    "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer", "my_chat_member", "chat_member",
    "chat_join_request", "chat_boost", "removed_chat_boost",
)
# Telegram leaves these out unless a bot asks for them explicitly in allowed_updates.
_OPT_IN_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}


class SandboxError(ValueError):
    """A driving call that no real Telegram client could make (unknown user, a button that is not there)."""


def bad_request(description: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {description}")


def forbidden(description: str) -> TelegramError:
    return TelegramError(403, f"Forbidden: {description}")


@dataclass
class StoredMessage:
    # Message dicts are never changed once stored (an edit stores a new dict), so the hot path shares them
    # with responses and events; everything handed to test code is a deep copy.
    message: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier versions, oldest first
    deleted: bool = False


@dataclass
class ChatState:
    chat: dict[str, Any]
    member_ids: set[int]
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    reply_keyboard: dict[str, Any] | None = None  # the custom keyboard the user currently sees
    menu_button: dict[str, Any] | None = None
    bot_removed: bool = False
    migrated_to: int | None = None  # a group upgraded to this supergroup

    @property
    def is_group(self) -> bool:
        return self.chat["type"] in ("group", "supergroup")


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str
    mime_type: str


@dataclass(frozen=True)
class ChatSnapshot:
    """A chat as its members see it now: messages in order with edits applied (deleted ones left out)."""

    chat: dict[str, Any]
    messages: list[dict[str, Any]]
    edits: dict[int, list[dict[str, Any]]]  # message_id -> earlier versions, oldest first
    deleted_ids: list[int]
    reply_keyboard: dict[str, Any] | None
    member_ids: frozenset[int]

    @property
    def texts(self) -> list[str]:
        """Each message's text (or caption), in order: the chat as one reads it."""
        return [m.get("text", m.get("caption", "")) for m in self.messages]

    @property
    def last(self) -> dict[str, Any] | None:
        return self.messages[-1] if self.messages else None

    def message(self, message_id: int) -> dict[str, Any]:
        for message in self.messages:
            if message["message_id"] == message_id:
                return message
        raise KeyError(message_id)

    @staticmethod
    def buttons(message: dict[str, Any]) -> list[list[dict[str, Any]]]:
        """The inline keyboard rows of a message ([] when it has none)."""
        return (message.get("reply_markup") or {}).get("inline_keyboard", [])


def _button_action_fields(button: dict[str, Any]) -> list[str]:
    return [name for name in button if name not in _BUTTON_DECORATIONS]


def check_reply_markup(markup: dict[str, Any] | None) -> None:
    """Telegram's rules beyond types: one action per inline button, callback_data of 1-64 bytes."""
    if not markup:
        return
    rows = markup.get("inline_keyboard")
    if rows is None:
        for row in markup.get("keyboard") or ():
            for button in row:
                if not button.get("text"):
                    raise bad_request("keyboard button text is empty")
        return
    for row in rows:
        for button in row:
            actions = _button_action_fields(button)
            if not button.get("text"):
                raise bad_request("inline keyboard button text is empty")
            if not actions:
                raise bad_request("text buttons are unallowed in the inline keyboard")
            if len(actions) > 1:
                raise bad_request(f"inline keyboard button must have exactly one action, got {', '.join(actions)}")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not url.startswith(("http://", "https://", "tg://")):
                raise bad_request("BUTTON_URL_INVALID")


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG or JPEG header; (1, 1) when the bytes are neither."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:2] == b"\xff\xd8":
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                break
            marker = data[index + 1]
            length = int.from_bytes(data[index + 2:index + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2):
                return int.from_bytes(data[index + 7:index + 9], "big"), int.from_bytes(data[index + 5:index + 7], "big")
            index += 2 + length
    return 1, 1


class World:
    """All state of the fake Telegram plus the Bot API methods that act on it (called on the server's loop)."""

    def __init__(self, bot_user: dict[str, Any], clock: Callable[[], float],
                 emit: Callable[[dict[str, Any]], None], on_update: Callable[[], None],
                 privacy_mode: bool = True, callback_query_ttl: float = 15 * 60) -> None:
        self.bot_user = bot_user
        # Messages carry the bot as a plain User; the can_* flags only come with getMe.
        self.bot_sender = {k: bot_user[k] for k in ("id", "is_bot", "first_name", "username")}
        self.clock = clock
        self.emit = emit
        self.on_update = on_update
        self.privacy_mode = privacy_mode
        self.callback_query_ttl = callback_query_ttl
        # Query expiry follows real elapsed time, not the business clock: a sandbox clock jump between a press
        # and the bot's answer must not expire the query.
        self.elapsed = time.monotonic
        self.users: dict[int, dict[str, Any]] = {}
        self.chats: dict[int, ChatState] = {}
        self.started: set[int] = set()
        self.blocked: set[int] = set()
        self.files: dict[str, StoredFile] = {}
        self.updates: list[dict[str, Any]] = []
        self.next_update_id = 1
        self.callback_queries: dict[str, tuple[float, dict[str, Any]]] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.default_menu_button: dict[str, Any] = {"type": "default"}
        self.webhook: dict[str, Any] | None = None
        self.webhook_secret: str | None = None  # setWebhook's secret_token (getWebhookInfo never shows it)
        self.allow_http_webhooks = False
        self.allowed_updates: set[str] | None = None
        self._user_ids = itertools.count(1_000_001)
        self._group_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._file_numbers = itertools.count(1)

    # ----- the world, driven by tests and the web page -------------------------------------------------

    def now(self) -> int:
        return int(self.clock())

    def add_user(self, user_id: int | None = None, first_name: str = "测试用户", *, username: str | None = None,
                 last_name: str | None = None, language_code: str | None = "zh-hans",
                 started: bool = False) -> dict[str, Any]:
        if user_id is None:
            user_id = next(self._user_ids)
            while user_id in self.users:
                user_id = next(self._user_ids)
        if user_id <= 0:
            raise SandboxError("user ids are positive")
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        if user_id in self.chats:  # re-adding refreshes the name shown in the private chat
            self.chats[user_id].chat.update(self._private_chat(user))
        if started:
            self._start(user_id)
        return copy.deepcopy(user)

    def _private_chat(self, user: dict[str, Any]) -> dict[str, Any]:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        return chat

    def _start(self, user_id: int) -> ChatState:
        self.started.add(user_id)
        self.blocked.discard(user_id)
        state = self.chats.get(user_id)
        if state is None:
            state = ChatState(chat=self._private_chat(self.users[user_id]), member_ids={user_id})
            self.chats[user_id] = state
        return state

    def add_group(self, chat_id: int | None, title: str, member_ids: list[int] | tuple[int, ...] = (), *,
                  supergroup: bool = False, username: str | None = None) -> dict[str, Any]:
        if chat_id is None:
            chat_id = -(1_000_000_000_000 + next(self._group_ids)) if supergroup else -next(self._group_ids) - 4_000_000
        if chat_id >= 0:
            raise SandboxError("group chat ids are negative")
        for member in member_ids:
            self._user(member)
        chat: dict[str, Any] = {"id": chat_id, "type": "supergroup" if supergroup else "group", "title": title}
        if username:
            chat["username"] = username
        self.chats[chat_id] = ChatState(chat=chat, member_ids=set(member_ids))
        return copy.deepcopy(chat)

    def add_member(self, chat_id: int, user_id: int) -> None:
        self._user(user_id)
        self._group(chat_id).member_ids.add(user_id)

    def remove_member(self, chat_id: int, user_id: int) -> None:
        self._group(chat_id).member_ids.discard(user_id)

    def remove_bot_from_group(self, chat_id: int, by_user_id: int | None = None) -> None:
        """The bot is kicked: sends answer 403, and the bot gets a my_chat_member update."""
        state = self._group(chat_id)
        state.bot_removed = True
        actor = self.users.get(by_user_id) if by_user_id is not None else None
        self._enqueue("my_chat_member", {
            "chat": dict(state.chat), "from": dict(actor or self.bot_sender), "date": self.now(),
            "old_chat_member": {"status": "member", "user": dict(self.bot_sender)},
            "new_chat_member": {"status": "kicked", "user": dict(self.bot_sender), "until_date": 0},
        })

    def migrate_group(self, chat_id: int) -> dict[str, Any]:
        """Upgrade a group to a supergroup: the old id answers 400 with migrate_to_chat_id, like Telegram."""
        old = self._group(chat_id)
        if old.chat["type"] != "group":
            raise SandboxError(f"chat {chat_id} is not a basic group")
        new_id = -1_000_000_000_000 + chat_id  # Telegram's supergroup ids are -100xxxxxxxxxx
        new_chat = {**old.chat, "id": new_id, "type": "supergroup"}
        self.chats[new_id] = ChatState(chat=new_chat, member_ids=set(old.member_ids))
        old.migrated_to = new_id
        return copy.deepcopy(new_chat)

    def _user(self, user_id: int) -> dict[str, Any]:
        user = self.users.get(user_id)
        if user is None:
            raise SandboxError(f"no sandbox user {user_id}; add_user() first")
        return user

    def _group(self, chat_id: int) -> ChatState:
        state = self.chats.get(chat_id)
        if state is None or not state.is_group:
            raise SandboxError(f"no sandbox group {chat_id}; add_group() first")
        return state

    def _chat_for_user(self, user_id: int, chat_id: int | None) -> ChatState:
        user = self._user(user_id)
        if chat_id is None or chat_id == user_id:
            return self._start(user["id"])
        state = self._group(chat_id)
        if user_id not in state.member_ids:
            raise SandboxError(f"user {user_id} is not a member of chat {chat_id}")
        return state

    def _store(self, state: ChatState, message: dict[str, Any]) -> dict[str, Any]:
        state.messages[message["message_id"]] = StoredMessage(message=message)
        self.emit({"type": "message", "chat_id": state.chat["id"], "message": message})
        return message

    def _new_message(self, state: ChatState, sender: dict[str, Any], **content: Any) -> dict[str, Any]:
        message_id = state.next_message_id
        state.next_message_id += 1
        return {"message_id": message_id, "from": dict(sender), "chat": dict(state.chat), "date": self.now(),
                **content}

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self.next_update_id, kind: payload}
        self.next_update_id += 1
        self.updates.append(update)
        self.on_update()
        return update

    def _reply_target(self, state: ChatState, reply_to_message_id: int | None) -> dict[str, Any] | None:
        if reply_to_message_id is None:
            return None
        stored = state.messages.get(reply_to_message_id)
        if stored is None or stored.deleted:
            raise SandboxError(f"no message {reply_to_message_id} in chat {state.chat['id']} to reply to")
        return stored.message

    def _bot_should_see(self, state: ChatState, message: dict[str, Any]) -> bool:
        """Bots in privacy mode see only commands, replies to them and mentions in groups."""
        if not state.is_group or not self.privacy_mode:
            return True
        text = message.get("text") or message.get("caption") or ""
        if any(e["type"] == "bot_command" for e in message.get("entities", ())):
            return True
        reply = message.get("reply_to_message")
        if reply and reply.get("from", {}).get("id") == self.bot_user["id"]:
            return True
        return f"@{self.bot_user['username']}".lower() in text.lower()

    def _user_message(self, state: ChatState, user_id: int, content: dict[str, Any]) -> dict[str, Any]:
        """Store what the user sent and queue it for the bot when privacy mode lets it through."""
        message = self._store(state, self._new_message(state, self.users[user_id], **content))
        if self._bot_should_see(state, message):
            self._enqueue("message", copy.deepcopy(message))
        return copy.deepcopy(message)

    def user_sends(self, user_id: int, text: str, chat_id: int | None = None, *,
                   reply_to_message_id: int | None = None) -> dict[str, Any]:
        if not text.strip():
            raise SandboxError("Telegram clients do not send empty messages")
        state = self._chat_for_user(user_id, chat_id)
        content: dict[str, Any] = {"text": text}
        entities = command_entities(text)
        if entities:
            content["entities"] = entities
        reply = self._reply_target(state, reply_to_message_id)
        if reply is not None:
            content["reply_to_message"] = copy.deepcopy(reply)
        return self._user_message(state, user_id, content)

    def user_sends_photo(self, user_id: int, data: bytes, chat_id: int | None = None, *,
                         caption: str | None = None, filename: str = "photo.jpg") -> dict[str, Any]:
        state = self._chat_for_user(user_id, chat_id)
        stored = self.store_file(data, filename, "photos", mimetypes.guess_type(filename)[0] or "image/jpeg")
        content: dict[str, Any] = {"photo": [self._photo_size(stored)]}
        if caption:
            content["caption"] = caption
            entities = command_entities(caption)
            if entities:
                content["caption_entities"] = entities
        return self._user_message(state, user_id, content)

    def user_sends_document(self, user_id: int, data: bytes, filename: str, chat_id: int | None = None, *,
                            caption: str | None = None, mime_type: str | None = None) -> dict[str, Any]:
        state = self._chat_for_user(user_id, chat_id)
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stored = self.store_file(data, filename, "documents", mime)
        content: dict[str, Any] = {"document": self._document(stored)}
        if caption:
            content["caption"] = caption
        return self._user_message(state, user_id, content)

    def user_edits(self, user_id: int, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        """The user edits their own text message; the bot gets an edited_message update."""
        state = self._chat_for_user(user_id, chat_id)
        stored = state.messages.get(message_id)
        if stored is None or stored.deleted or stored.message["from"]["id"] != user_id or "text" not in stored.message:
            raise SandboxError(f"user {user_id} has no text message {message_id} in chat {chat_id} to edit")
        if not text.strip():
            raise SandboxError("Telegram clients do not send empty messages")
        new = {k: v for k, v in stored.message.items() if k not in ("text", "entities", "edit_date")}
        new["text"] = text
        entities = command_entities(text)
        if entities:
            new["entities"] = entities
        if new == self._comparable(stored.message):
            raise SandboxError("the text did not change")
        edited = self._apply_edit(state, stored, new)
        if self._bot_should_see(state, edited):
            self._enqueue("edited_message", copy.deepcopy(edited))
        return copy.deepcopy(edited)

    def user_presses(self, user_id: int, chat_id: int, message_id: int, callback_data: str) -> str:
        state = self._chat_for_user(user_id, chat_id)
        stored = state.messages.get(message_id)
        if stored is None or stored.deleted:
            raise SandboxError(f"no message {message_id} in chat {chat_id}")
        message = stored.message
        datas = [b.get("callback_data") for row in ChatSnapshot.buttons(message) for b in row]
        if callback_data not in datas:
            raise SandboxError(
                f"message {message_id} in chat {chat_id} has no button with callback_data {callback_data!r} "
                f"(it has {[d for d in datas if d is not None]}); use inject_update() to forge one"
            )
        query_id = f"{next(self._query_ids)}{user_id % 100000:05d}"
        query = {
            "id": query_id, "from": dict(self.users[user_id]), "message": copy.deepcopy(message),
            "chat_instance": self._chat_instance(chat_id), "data": callback_data,
        }
        self.callback_queries[query_id] = (self.elapsed(), {"chat_id": chat_id, "message_id": message_id,
                                                          "user_id": user_id})
        self._enqueue("callback_query", query)
        return query_id

    def _chat_instance(self, chat_id: int) -> str:
        return str(int(hashlib.sha256(f"{self.bot_user['id']}:{chat_id}".encode()).hexdigest()[:15], 16))

    def user_blocks_bot(self, user_id: int) -> None:
        self._user(user_id)
        self.blocked.add(user_id)
        self.emit({"type": "user_blocked", "user_id": user_id})

    def user_unblocks_bot(self, user_id: int) -> None:
        self.blocked.discard(user_id)

    def inject_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (e.g. forged callback data); update_id is assigned when missing."""
        update = copy.deepcopy(update)
        kinds = [key for key in update if key != "update_id"]
        if len(kinds) != 1 or kinds[0] not in UPDATE_TYPES:
            raise SandboxError(f"an update carries exactly one of {', '.join(UPDATE_TYPES)}; got {kinds}")
        if "update_id" in update:
            self.next_update_id = max(self.next_update_id, int(update["update_id"]))
            update["update_id"] = int(update["update_id"])
        else:
            update["update_id"] = self.next_update_id
        self.next_update_id = update["update_id"] + 1
        query = update.get("callback_query")
        if isinstance(query, dict) and "id" in query:  # the bot may answer forged queries like real ones
            origin = query.get("message") or {}
            self.callback_queries[str(query["id"])] = (self.elapsed(), {
                "chat_id": (origin.get("chat") or {}).get("id"), "message_id": origin.get("message_id"),
                "user_id": (query.get("from") or {}).get("id")})
        self.updates.append(update)
        self.on_update()
        return copy.deepcopy(update)

    # ----- observation ---------------------------------------------------------------------------------

    def snapshot(self, chat_id: int) -> ChatSnapshot:
        state = self.chats.get(chat_id)
        if state is None:
            raise SandboxError(f"no chat {chat_id}")
        return ChatSnapshot(
            chat=copy.deepcopy(state.chat),
            messages=[copy.deepcopy(s.message) for s in state.messages.values() if not s.deleted],
            edits={mid: copy.deepcopy(s.history) for mid, s in state.messages.items() if s.history},
            deleted_ids=[mid for mid, s in state.messages.items() if s.deleted],
            reply_keyboard=copy.deepcopy(state.reply_keyboard),
            member_ids=frozenset(state.member_ids),
        )

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        state = self.chats.get(chat_id)
        if state is None:
            return []
        return [copy.deepcopy(s.message) for s in state.messages.values()
                if not s.deleted and s.message["from"]["id"] == self.bot_user["id"]]

    # ----- Bot API helpers -----------------------------------------------------------------------------

    def resolve_chat(self, chat_id: int | str) -> ChatState:
        if isinstance(chat_id, str):
            if chat_id.lstrip("-").isdigit():
                chat_id = int(chat_id)
            else:
                wanted = chat_id.lstrip("@").lower()
                for state in self.chats.values():
                    if state.chat.get("username", "").lower() == wanted and state.is_group:
                        return state
                raise bad_request("chat not found")
        state = self.chats.get(chat_id)
        if state is None:
            if chat_id in self.users:
                if chat_id in self.blocked:
                    raise forbidden("bot was blocked by the user")
                raise forbidden("bot can't initiate conversation with a user")
            raise bad_request("chat not found")
        return state

    def writable_chat(self, chat_id: int | str) -> ChatState:
        state = self.resolve_chat(chat_id)
        if state.migrated_to is not None:
            raise TelegramError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                                {"migrate_to_chat_id": state.migrated_to})
        if state.bot_removed:
            raise forbidden(f"bot was kicked from the {'supergroup' if state.chat['type'] == 'supergroup' else 'group'} chat")
        if not state.is_group:
            user_id = state.chat["id"]
            if user_id in self.blocked:
                raise forbidden("bot was blocked by the user")
            if user_id not in self.started:
                raise forbidden("bot can't initiate conversation with a user")
        return state

    def _formatted(self, text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None,
                   limit: int, what: str) -> tuple[str, list[dict[str, Any]]]:
        if parse_mode is not None and parse_mode not in PARSE_MODES:
            raise bad_request(f"unsupported parse_mode \"{parse_mode}\"; use HTML, MarkdownV2 or Markdown")
        try:
            plain, parsed = parse_formatted(text, parse_mode, self.users)
        except ValidationError as exc:
            raise bad_request(exc.description) from None
        if entities:
            parsed = entities
        plain, parsed = strip_text(plain, parsed)
        size = utf16_length(plain)
        if what == "text" and size == 0:
            raise bad_request("message text is empty")
        if size > limit:
            raise bad_request("message is too long" if what == "text" else "message caption is too long")
        return plain, parsed

    def _message_content(self, params: dict[str, Any]) -> dict[str, Any]:
        text, entities = self._formatted(params["text"], params.get("parse_mode"), params.get("entities"),
                                         MAX_TEXT_LENGTH, "text")
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return content

    def _caption_content(self, params: dict[str, Any]) -> dict[str, Any]:
        caption = params.get("caption")
        if not caption:
            return {}
        text, entities = self._formatted(caption, params.get("parse_mode"), params.get("caption_entities"),
                                         MAX_CAPTION_LENGTH, "caption")
        content: dict[str, Any] = {"caption": text} if text else {}
        if entities:
            content["caption_entities"] = entities
        return content

    def _attach_markup(self, state: ChatState, content: dict[str, Any], params: dict[str, Any]) -> None:
        markup = params.get("reply_markup")
        check_reply_markup(markup)
        if not markup:
            return
        if "inline_keyboard" in markup:
            if markup["inline_keyboard"]:
                content["reply_markup"] = markup
        elif "keyboard" in markup:
            state.reply_keyboard = markup
        elif markup.get("remove_keyboard"):
            state.reply_keyboard = None

    def _attach_reply(self, state: ChatState, content: dict[str, Any], params: dict[str, Any]) -> None:
        reply = params.get("reply_parameters")
        if not reply:
            return
        target_state = self.resolve_chat(reply["chat_id"]) if "chat_id" in reply else state
        stored = target_state.messages.get(reply["message_id"])
        if stored is None or stored.deleted:
            if reply.get("allow_sending_without_reply"):
                return
            raise bad_request("message to be replied not found")
        content["reply_to_message"] = copy.deepcopy(stored.message)

    def send(self, state: ChatState, params: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        self._attach_markup(state, content, params)
        self._attach_reply(state, content, params)
        if params.get("message_thread_id") is not None and state.chat["type"] != "supergroup":
            raise bad_request("message thread not found")
        message = self._new_message(state, self.bot_sender, **content)
        return self._store(state, message)

    def upload(self, value: UploadedFile | str, folder: str, default_name: str,
               default_mime: str) -> StoredFile:
        if isinstance(value, UploadedFile):
            name = value.filename or default_name
            mime = value.content_type if value.content_type not in ("", "application/octet-stream") else (
                mimetypes.guess_type(name)[0] or default_mime)
            return self.store_file(value.data, name, folder, mime)
        if value.startswith("attach://"):
            raise bad_request(f"file {value} not found in the request")
        if value.startswith(("http://", "https://")):
            raise bad_request("wrong file identifier/HTTP URL specified (the sandbox does not fetch URLs; upload the file)")
        stored = self.files.get(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return stored

    def store_file(self, data: bytes, file_name: str, folder: str, mime_type: str) -> StoredFile:
        number = next(self._file_numbers)
        digest = hashlib.sha256(data).hexdigest()
        extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        stored = StoredFile(
            file_id=f"SBX{folder[:3].upper()}{number:06d}{digest[:24]}",
            file_unique_id=f"U{digest[:15]}",
            file_path=f"{folder}/file_{number}.{extension}",
            data=data, file_name=file_name, mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    def _photo_size(self, stored: StoredFile) -> dict[str, Any]:
        width, height = _image_size(stored.data)
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "width": width,
                "height": height, "file_size": len(stored.data)}

    def _document(self, stored: StoredFile) -> dict[str, Any]:
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_name": stored.file_name, "mime_type": stored.mime_type, "file_size": len(stored.data)}

    def _editable(self, params: dict[str, Any]) -> tuple[ChatState, StoredMessage]:
        if params.get("inline_message_id") is not None:
            raise bad_request("inline messages are not supported by the sandbox")
        if params.get("chat_id") is None or params.get("message_id") is None:
            raise bad_request("message identifier is not specified")
        state = self.resolve_chat(params["chat_id"])
        stored = state.messages.get(params["message_id"])
        if stored is None or stored.deleted:
            raise bad_request("message to edit not found")
        if stored.message["from"]["id"] != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        return state, stored

    def _apply_edit(self, state: ChatState, stored: StoredMessage, new: dict[str, Any]) -> dict[str, Any]:
        if self._comparable(new) == self._comparable(stored.message):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same "
                "as a current content and reply markup of the message"
            )
        previous = stored.message
        new["edit_date"] = self.now()
        stored.history.append(previous)
        stored.message = new
        self.emit({"type": "edit", "chat_id": state.chat["id"], "message": new, "previous": previous})
        return new

    @staticmethod
    def _comparable(message: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in message.items() if k != "edit_date"}

    # ----- Bot API methods (params already validated against the spec) --------------------------------

    def get_me(self, params: dict[str, Any]) -> Any:
        return dict(self.bot_user)

    def log_out(self, params: dict[str, Any]) -> Any:
        return True

    def set_webhook(self, params: dict[str, Any]) -> Any:
        url = params["url"]
        # Telegram's own servers take HTTPS only; a local Bot API server (and this one when told so) takes http.
        if url and not url.startswith("https://") and not (self.allow_http_webhooks and url.startswith("http://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_secret = params.get("secret_token") or None
        if params.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = {"url": url, **{k: v for k, v in params.items() if k in ("max_connections", "allowed_updates")}} if url else None
        return True

    def delete_webhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self.updates.clear()
        return True

    def get_webhook_info(self, params: dict[str, Any]) -> Any:
        info: dict[str, Any] = {"url": "", "has_custom_certificate": False, "pending_update_count": len(self.updates)}
        if self.webhook:
            info.update(self.webhook)
        return info

    def send_message(self, params: dict[str, Any]) -> Any:
        state = self.writable_chat(params["chat_id"])
        return self.send(state, params, self._message_content(params))

    def send_photo(self, params: dict[str, Any]) -> Any:
        state = self.writable_chat(params["chat_id"])
        stored = self.upload(params["photo"], "photos", "photo.jpg", "image/jpeg")
        content = {"photo": [self._photo_size(stored)], **self._caption_content(params)}
        return self.send(state, params, content)

    def send_document(self, params: dict[str, Any]) -> Any:
        state = self.writable_chat(params["chat_id"])
        stored = self.upload(params["document"], "documents", "document", "application/octet-stream")
        content = {"document": self._document(stored), **self._caption_content(params)}
        return self.send(state, params, content)

    def get_file(self, params: dict[str, Any]) -> Any:
        stored = self.files.get(params["file_id"])
        if stored is None:
            raise bad_request("invalid file_id")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data), "file_path": stored.file_path}

    def file_by_path(self, path: str) -> StoredFile | None:
        for stored in self.files.values():
            if stored.file_path == path:
                return stored
        return None

    def edit_message_text(self, params: dict[str, Any]) -> Any:
        if params.get("text") is None:
            raise bad_request("message text is empty")
        state, stored = self._editable(params)
        if "text" not in stored.message:
            raise bad_request("there is no text in the message to edit")
        new = {k: v for k, v in stored.message.items() if k not in ("text", "entities", "reply_markup", "edit_date")}
        new.update(self._message_content(params))
        self._attach_markup(state, new, params)
        return self._apply_edit(state, stored, new)

    def edit_message_caption(self, params: dict[str, Any]) -> Any:
        state, stored = self._editable(params)
        if not ({"photo", "document"} & stored.message.keys()):
            raise bad_request("there is no caption in the message to edit")
        new = {k: v for k, v in stored.message.items()
               if k not in ("caption", "caption_entities", "reply_markup", "edit_date")}
        new.update(self._caption_content(params))
        self._attach_markup(state, new, params)
        return self._apply_edit(state, stored, new)

    def edit_message_reply_markup(self, params: dict[str, Any]) -> Any:
        state, stored = self._editable(params)
        new = {k: v for k, v in stored.message.items() if k not in ("reply_markup", "edit_date")}
        self._attach_markup(state, new, params)
        return self._apply_edit(state, stored, new)

    def delete_message(self, params: dict[str, Any]) -> Any:
        state = self.resolve_chat(params["chat_id"])
        stored = state.messages.get(params["message_id"])
        if stored is None or stored.deleted:
            raise bad_request("message to delete not found")
        if state.is_group and stored.message["from"]["id"] != self.bot_user["id"]:
            raise bad_request("message can't be deleted")
        stored.deleted = True
        self.emit({"type": "delete", "chat_id": state.chat["id"], "message_id": params["message_id"]})
        return True

    def answer_callback_query(self, params: dict[str, Any]) -> Any:
        query_id = params["callback_query_id"]
        entry = self.callback_queries.pop(query_id, None)
        if entry is None or self.elapsed() - entry[0] >= self.callback_query_ttl:
            raise bad_request(QUERY_TOO_OLD)
        text = params.get("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        answer = {"text": text, "show_alert": bool(params.get("show_alert")), "url": params.get("url"),
                  **entry[1]}
        self.callback_answers[query_id] = answer
        self.emit({"type": "callback_answer", "callback_query_id": query_id, **answer})
        return True

    def send_chat_action(self, params: dict[str, Any]) -> Any:
        state = self.writable_chat(params["chat_id"])
        if params["action"] not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.emit({"type": "chat_action", "chat_id": state.chat["id"], "action": params["action"]})
        return True

    @staticmethod
    def _scope_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code") or ""

    def set_my_commands(self, params: dict[str, Any]) -> Any:
        commands = params["commands"]
        if len(commands) > 100:
            raise bad_request("too many commands (at most 100)")
        for command in commands:
            name = command["command"]
            if not 1 <= len(name) <= 32 or not set(name) <= _COMMAND_NAME_CHARS:
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._check_scope(params)
        self.commands[self._scope_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands]
        return True

    def _check_scope(self, params: dict[str, Any]) -> None:
        scope = params.get("scope")
        if scope and "chat_id" in scope:
            self.resolve_chat(scope["chat_id"])

    def get_my_commands(self, params: dict[str, Any]) -> Any:
        return copy.deepcopy(self.commands.get(self._scope_key(params), []))

    def delete_my_commands(self, params: dict[str, Any]) -> Any:
        self.commands.pop(self._scope_key(params), None)
        return True

    def set_chat_menu_button(self, params: dict[str, Any]) -> Any:
        button = params.get("menu_button") or {"type": "default"}
        if params.get("chat_id") is None:
            self.default_menu_button = button
        else:
            state = self.resolve_chat(params["chat_id"])
            if state.is_group:
                raise bad_request("menu buttons can be set only in private chats")
            state.menu_button = button
        return True

    def get_chat_menu_button(self, params: dict[str, Any]) -> Any:
        if params.get("chat_id") is None:
            return dict(self.default_menu_button)
        state = self.resolve_chat(params["chat_id"])
        return dict(state.menu_button or self.default_menu_button)

    def get_chat(self, params: dict[str, Any]) -> Any:
        state = self.resolve_chat(params["chat_id"])
        # ChatFullInfo's required fields besides the chat's own.
        return {**state.chat, "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                        "unique_gifts": False, "premium_subscription": False,
                                        "gifts_from_channels": False}}

    def get_chat_member(self, params: dict[str, Any]) -> Any:
        state = self.resolve_chat(params["chat_id"])
        user_id = params["user_id"]
        if user_id == self.bot_user["id"]:
            return {"status": "member", "user": dict(self.bot_sender)}
        user = self.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        status = "member" if user_id in state.member_ids else "left"
        return {"status": status, "user": dict(user)}

    def get_chat_member_count(self, params: dict[str, Any]) -> Any:
        state = self.resolve_chat(params["chat_id"])
        return len(state.member_ids) + (1 if state.is_group else 0)

    def take_updates(self, offset: int | None, limit: int, allowed: set[str] | None) -> list[dict[str, Any]]:
        """getUpdates without the waiting: confirm below `offset`, then the next `limit` allowed updates."""
        if offset is not None:
            if offset < 0:
                self.updates = self.updates[offset:]
            else:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
        wanted = allowed if allowed is not None else set(UPDATE_TYPES) - _OPT_IN_UPDATES
        # Telegram drops what the bot did not subscribe to rather than keeping it forever.
        self.updates = [u for u in self.updates if next(k for k in u if k != "update_id") in wanted]
        return self.updates[:limit]


# Bot API method name -> World method; everything else in the spec is validated and then refused explicitly.
METHODS: dict[str, Callable[[World, dict[str, Any]], Any]] = {
    "getMe": World.get_me,
    "logOut": World.log_out,
    "close": World.log_out,
    "setWebhook": World.set_webhook,
    "deleteWebhook": World.delete_webhook,
    "getWebhookInfo": World.get_webhook_info,
    "sendMessage": World.send_message,
    "sendPhoto": World.send_photo,
    "sendDocument": World.send_document,
    "getFile": World.get_file,
    "editMessageText": World.edit_message_text,
    "editMessageCaption": World.edit_message_caption,
    "editMessageReplyMarkup": World.edit_message_reply_markup,
    "deleteMessage": World.delete_message,
    "answerCallbackQuery": World.answer_callback_query,
    "sendChatAction": World.send_chat_action,
    "setMyCommands": World.set_my_commands,
    "getMyCommands": World.get_my_commands,
    "deleteMyCommands": World.delete_my_commands,
    "setChatMenuButton": World.set_chat_menu_button,
    "getChatMenuButton": World.get_chat_menu_button,
    "getChat": World.get_chat,
    "getChatMember": World.get_chat_member,
    "getChatMemberCount": World.get_chat_member_count,
}
