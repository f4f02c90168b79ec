"""Callback data: short, HMAC-signed button payloads; a bad signature means a forged button."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

MAX_CALLBACK_BYTES = 64  # Telegram's limit on callback_data
SIGNATURE_BYTES = 9  # 72 bits, 12 base64url characters: forging by guessing is hopeless


class Action(StrEnum):
    CHECKIN = "ci"
    LEAVE = "lv"
    APPROVE_LEAVE = "la"  # arg: member id
    REJECT_LEAVE = "lr"  # arg: member id
    HELD = "ah"
    NOT_HELD = "an"
    PROXY_MENU = "pm"  # shows who can be signed for
    PROXY = "px"  # arg: member id
    MARK_LEAVE = "pl"  # arg: member id; the secretary types the reason next
    MARK_ABSENT = "pb"  # arg: member id
    HELD_REST = "hr"  # confirm held; whoever has still not answered is recorded absent
    TOPIC = "tp"
    LECTURER = "lc"
    MINUTES = "mn"
    REMIND_UNANSWERED = "ru"
    SCHEDULE_CONFIRM = "sc"  # activity id 0; arg: the pending draft's id
    SCHEDULE_CANCEL = "sx"
    SCHEDULE_EDIT = "se"
    TICK_ITEM = "tk"  # arg: checklist item id
    TASK_DONE = "td"
    RECTIFY_SOURCE = "rs"  # arg: index of the source
    RECTIFY_OWNER = "ro"  # arg: member id (toggles)
    RECTIFY_OWNERS_DONE = "rd"
    RECTIFY_NOTE = "rn"  # activity id slot: the item's id
    RECTIFY_CLOSE = "rc"  # activity id slot: the item's id
    RECTIFY_REOPEN = "rr"  # activity id slot: the item's id
    TALK_HELD_TODAY = "tt"  # arg: the other member's id
    PROPOSAL_ACCEPT = "pa"  # activity id: the pending proposal's id; arg: the entry's index
    PROPOSAL_REJECT = "pr"


class ForgedCallback(ValueError):
    """The button's data was not made by this deployment (or was tampered with)."""


@dataclass(frozen=True, slots=True)
class Callback:
    action: Action
    activity_id: int
    arg: int = 0


class CallbackSigner:
    """Encodes and verifies callback data with a per-deployment secret.

    The signature only proves the button came from us; every press is still checked against the
    database (who pressed, their audience, the window, the activity's state).
    """

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the callback secret must be at least 16 bytes")
        self._secret = secret

    @classmethod
    def from_token(cls, token: str) -> "CallbackSigner":
        """Derives the secret from the bot token, so each deployment (and each bot) has its own."""
        return cls(hmac.new(token.encode(), b"branchbot callback data v1", hashlib.sha256).digest())

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._secret, body.encode(), hashlib.sha256).digest()[:SIGNATURE_BYTES]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def encode(self, callback: Callback) -> str:
        body = f"{callback.action.value}:{callback.activity_id}:{callback.arg}"
        data = f"{body}.{self._sign(body)}"
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data too long: {data!r}")
        return data

    def decode(self, data: object) -> Callback:
        """The callback we signed, or ForgedCallback for anything else (whatever its type or content)."""
        # Only ASCII within Telegram's limit can be ours: compare_digest refuses non-ASCII text with a
        # TypeError and encode() refuses lone surrogates, so neither may reach them.
        if not isinstance(data, str) or not data.isascii() or len(data) > MAX_CALLBACK_BYTES or "." not in data:
            raise ForgedCallback(f"malformed callback data {_shown(data)}")
        body, signature = data.rsplit(".", 1)
        if not hmac.compare_digest(signature, self._sign(body)):
            raise ForgedCallback(f"bad signature on {body!r}")
        try:
            action, activity_id, arg = body.split(":")
            return Callback(Action(action), int(activity_id), int(arg))
        except ValueError as exc:  # signed by us but unknown to this version: treat as stale
            raise ForgedCallback(f"unknown callback {body!r}") from exc

    def button(self, action: Action, activity_id: int, arg: int = 0) -> str:
        return self.encode(Callback(action, activity_id, arg))


def _shown(data: object) -> str:
    """What a refusal says about the data: its repr, cut (it is logged and audited)."""
    text = repr(data)
    return text if len(text) <= 2 * MAX_CALLBACK_BYTES else text[: 2 * MAX_CALLBACK_BYTES] + "…"
